// SPDX-License-Identifier: GPL-2.0

//! The SSIF protocol, BMC side, as a pure state machine.
//!
//! Nothing here knows about the kernel: I2C target events come in, replies and effects go out,
//! and user space hands requests out and responses in through plain methods. The module compiles
//! this file as `mod protocol`, and the host crate in `protocol-tests/` compiles the very same
//! file for `cargo test`.
//!
//! Two enums carry all state, each variant with the data it needs:
//! - [`Session`]: where the current IPMI message stands (idle, being received in parts, waiting
//!   for user space, response available);
//! - [`Transaction`]: what the current SMBus transaction (address match to STOP) is doing.

/// Largest IPMI message, netfn and command included (`IPMI_SSIF_PAYLOAD_MAX`).
pub const PAYLOAD_MAX: usize = 254;
/// SMBus limits one block transfer to 32 data bytes.
pub const PART_MAX: usize = 32;
/// Data bytes in the first part of a multi-part read (after the `00 01` marker).
const FIRST_READ_DATA: usize = 30;
/// Data bytes in a middle part of a multi-part read (after the block number).
const MIDDLE_READ_DATA: usize = 31;
/// Size of `struct ipmi_ssif_msg` as seen by user space: `unsigned int len` + 254 bytes + padding.
pub const USER_MSG_SIZE: usize = 260;
/// Size of the `len` field that prefixes every message exchanged with user space.
pub const USER_LEN_SIZE: usize = 4;
/// IPMI completion code "timeout while processing command; response unavailable".
pub const CC_TIMEOUT: u8 = 0xc3;
/// In the first byte (`netfn << 2 | lun`), the bit that turns a request netfn into its
/// response netfn (request netfns are even, responses odd).
const RESPONSE_NETFN_BIT: u8 = 1 << 2;

/// SMBus command byte (the first byte after the address).
pub mod cmd {
    /// Single-part write.
    pub const SINGLE_WRITE: u8 = 0x02;
    /// Single-part read, or start of a multi-part read.
    pub const READ_START: u8 = 0x03;
    /// Multi-part write start.
    pub const MULTI_WRITE_START: u8 = 0x06;
    /// Multi-part write middle (a short one ends the message).
    pub const MULTI_WRITE_MIDDLE: u8 = 0x07;
    /// Multi-part write end.
    pub const MULTI_WRITE_END: u8 = 0x08;
    /// Multi-part read middle or end.
    pub const READ_MIDDLE: u8 = 0x09;
    /// Multi-part read retry: a one-byte block write naming the block to read again.
    pub const READ_RETRY: u8 = 0x0a;
}

/// An I2C target event, as the bus driver reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusEvent {
    /// Our address matched with the write bit.
    WriteRequested,
    /// A byte written by the host.
    WriteReceived(u8),
    /// Our address matched with the read bit: the first byte to send is wanted.
    ReadRequested,
    /// The previous byte was taken: the next byte to send is wanted.
    ReadProcessed,
    /// STOP (or the end of the transaction as the controller saw it).
    Stop,
}

/// What the target answers to one [`BusEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Accept (write events) or nothing to say (STOP).
    Ack,
    /// Refuse: the bus driver NAKs (on Aspeed only when answering `WriteRequested`).
    Nak,
    /// The byte to send (read events).
    Byte(u8),
}

/// What the glue must do besides answering the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// A complete request waits for user space: wake readers, arm the response deadline.
    RequestReady,
}

/// The result of one bus event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The answer to the bus driver.
    pub reply: Reply,
    /// The side effect for the glue.
    pub effect: Effect,
}

impl Step {
    const ACK: Step = Step {
        reply: Reply::Ack,
        effect: Effect::None,
    };
    const NAK: Step = Step {
        reply: Reply::Nak,
        effect: Effect::None,
    };

    fn byte(b: u8) -> Step {
        Step {
            reply: Reply::Byte(b),
            effect: Effect::None,
        }
    }
}

/// An IPMI message of 1..=254 bytes (netfn/lun, command, data).
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    len: u8,
    data: [u8; PAYLOAD_MAX],
}

impl Message {
    const EMPTY: Message = Message {
        len: 0,
        data: [0; PAYLOAD_MAX],
    };

    /// A message holding `bytes`, or `None` if it is empty or longer than 254 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Message> {
        if bytes.is_empty() || bytes.len() > PAYLOAD_MAX {
            return None;
        }
        let mut msg = Message::EMPTY;
        msg.data[..bytes.len()].copy_from_slice(bytes);
        msg.len = bytes.len() as u8;
        Some(msg)
    }

    /// The message bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }

    /// Appends a part; `false` (message unchanged) if it would exceed 254 bytes.
    fn append(&mut self, part: &[u8]) -> bool {
        let start = usize::from(self.len);
        let Some(end) = start.checked_add(part.len()).filter(|&e| e <= PAYLOAD_MAX) else {
            return false;
        };
        self.data[start..end].copy_from_slice(part);
        self.len = end as u8;
        true
    }

    /// Encodes the message as `struct ipmi_ssif_msg` (`len` in native byte order, then the
    /// payload) into `out`; returns the number of bytes used (`4 + len`), or `None` if `out` is
    /// too small.
    #[inline]
    pub fn encode_user(&self, out: &mut [u8]) -> Option<usize> {
        let total = USER_LEN_SIZE + usize::from(self.len);
        let out = out.get_mut(..total)?;
        out[..USER_LEN_SIZE].copy_from_slice(&u32::from(self.len).to_ne_bytes());
        out[USER_LEN_SIZE..].copy_from_slice(self.as_bytes());
        Some(total)
    }

    /// Number of bytes `encode_user` needs.
    pub fn user_size(&self) -> usize {
        USER_LEN_SIZE + usize::from(self.len)
    }

    /// Parses what user space `write()`s: `count` in `[4, 260]`, `1 <= len <= 254` and
    /// `count >= 4 + len`, exactly as upstream's ABI checks.
    #[inline]
    pub fn decode_user(buf: &[u8]) -> Option<Message> {
        if buf.len() < USER_LEN_SIZE || buf.len() > USER_MSG_SIZE {
            return None;
        }
        let mut len = [0u8; USER_LEN_SIZE];
        len.copy_from_slice(&buf[..USER_LEN_SIZE]);
        let len = usize::try_from(u32::from_ne_bytes(len)).ok()?;
        let payload = buf.get(USER_LEN_SIZE..USER_LEN_SIZE.checked_add(len)?)?;
        Message::from_slice(payload)
    }

    /// What names this request's answer: its netfn and command.
    fn header(&self) -> Header {
        Header {
            netfn: self.data[0] >> 2,
            command: if self.len > 1 { self.data[1] } else { 0 },
        }
    }

    /// Whether this response can be the answer to a request with `header`: its netfn is the
    /// request's with the response bit set and its command is the request's. This is the check
    /// the host's `ipmi_msghandler` applies to a response; it does not compare the LUN, so
    /// neither does this.
    fn answers(&self, header: Header) -> bool {
        self.len >= 2
            && self.data[0] >> 2 == (header.netfn | (RESPONSE_NETFN_BIT >> 2))
            && self.data[1] == header.command
    }

    /// The answer to this request when it timed out: the response netfn (request netfn + 1),
    /// the same LUN and command, completion code 0xC3. A request too short to name its command
    /// is answered for command 0.
    fn timeout_response(&self) -> Message {
        let netfn_lun = self.data[0] | RESPONSE_NETFN_BIT;
        let command = if self.len > 1 { self.data[1] } else { 0 };
        let mut msg = Message::EMPTY;
        msg.data[..3].copy_from_slice(&[netfn_lun, command, CC_TIMEOUT]);
        msg.len = 3;
        msg
    }

    /// Number of SMBus read parts needed to send this message.
    fn read_parts(&self) -> u8 {
        let len = usize::from(self.len);
        if len <= PART_MAX {
            1
        } else {
            (1 + (len - FIRST_READ_DATA).div_ceil(MIDDLE_READ_DATA)) as u8
        }
    }

    /// Builds read part `index` (length byte, then its data) into `out`; returns its size.
    fn read_part(&self, index: u8, out: &mut [u8; PART_MAX + 2]) -> usize {
        let data = self.as_bytes();
        let parts = self.read_parts();
        let mut size = 1;
        let mut put = |bytes: &[u8]| {
            out[size..size + bytes.len()].copy_from_slice(bytes);
            size += bytes.len();
        };
        if parts == 1 {
            put(data);
        } else if index == 0 {
            put(&[0x00, 0x01]);
            put(&data[..FIRST_READ_DATA]);
        } else {
            let start = FIRST_READ_DATA + MIDDLE_READ_DATA * usize::from(index - 1);
            let end = data.len().min(start + MIDDLE_READ_DATA);
            put(&[if index + 1 == parts { 0xff } else { index - 1 }]);
            put(&data[start..end]);
        }
        out[0] = (size - 1) as u8;
        size
    }
}

impl core::fmt::Debug for Message {
    // Inline: a crate emits its non-inline trait methods whether used or not, and the driver
    // never formats a message.
    #[inline]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Message({:02x?})", self.as_bytes())
    }
}

/// A request's netfn (without the LUN) and command: all that ties an answer to it, since
/// the ABI carries no message id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    netfn: u8,
    command: u8,
}

/// The request user space read most recently, dropped by the response deadline before it was
/// answered. Kept until user space reads a newer request: an answer to it is late.
#[derive(Clone, Copy, Debug)]
struct Dropped {
    seq: u32,
    header: Header,
}

/// Where the current IPMI message stands.
#[derive(Clone, Debug)]
enum Session {
    /// Nothing pending.
    Idle,
    /// A multi-part write has started; more parts are expected.
    Receiving { request: Message },
    /// A complete request waits for user space; the host's transactions are NAKed.
    Pending {
        request: Message,
        seq: u32,
        taken: bool,
    },
    /// A response is available and stays replayable until the next request starts.
    Responding { response: Message, next_part: u8 },
}

/// What the current SMBus transaction is doing.
#[derive(Clone, Debug)]
enum Transaction {
    /// No transaction since the last STOP.
    None,
    /// Refused at the address: every byte is NAKed until STOP.
    Refused,
    /// Address matched for write; the command byte comes next.
    Command,
    /// A block write part is being received.
    Write(WritePart),
    /// A read command was written; the repeated start for the read comes next.
    ReadCommand { command: u8, crc: u8 },
    /// A read part is being sent.
    Read(ReadPart),
    /// A transaction we do not take part in (unknown command, stray read): ignored until STOP.
    Ignored,
}

/// A block write part under reception.
#[derive(Clone, Debug)]
struct WritePart {
    command: u8,
    /// The length byte, once received.
    declared: Option<u8>,
    data: [u8; PART_MAX],
    received: u8,
    /// The byte after the data, taken as PEC.
    pec: Option<u8>,
    /// CRC-8 over address, command, length and data so far.
    crc: u8,
    /// Set once the part can no longer be valid; later bytes are NAKed.
    fault: Option<Abort>,
}

/// A read part being sent.
#[derive(Clone, Debug)]
struct ReadPart {
    bytes: [u8; PART_MAX + 2],
    size: u8,
    sent: u8,
    /// Which part of the response this is; `None` for an empty or filler reply.
    index: Option<u8>,
}

impl ReadPart {
    /// The index of this part if the host took its length byte and all its data (the PEC is
    /// the host's choice), else `None`.
    fn delivered(&self) -> Option<u8> {
        self.index
            .filter(|_| usize::from(self.sent) > usize::from(self.bytes[0]))
    }
}

/// Why a part or a message was thrown away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A new transaction started without STOP in the middle of a write part.
    Restart,
    /// STOP before the announced length was received.
    Truncated,
    /// A part announced more than 32 bytes.
    Overlong,
    /// More bytes than length + PEC.
    Excess,
    /// A multi-part message would exceed 254 bytes.
    TooLong,
    /// A multi-part middle or end without a start.
    NoStart,
    /// A multi-part start that did not carry 32 bytes, or an empty single part.
    BadLength,
    /// A command byte we do not know.
    UnknownCommand,
    /// A read interrupted a multi-part write.
    ReadDuringWrite,
    /// 0x0A naming a block that does not exist, or with no response to replay.
    BadRetry,
    /// A read with no read command before it.
    StrayRead,
}

impl Abort {
    /// Every reason, in counter order.
    pub const ALL: [Abort; 11] = [
        Abort::Restart,
        Abort::Truncated,
        Abort::Overlong,
        Abort::Excess,
        Abort::TooLong,
        Abort::NoStart,
        Abort::BadLength,
        Abort::UnknownCommand,
        Abort::ReadDuringWrite,
        Abort::BadRetry,
        Abort::StrayRead,
    ];

    /// The counter name.
    pub fn name(self) -> &'static str {
        Counters::NAMES[Counters::SCALARS + self as usize]
    }
}

/// Event counters, readable from user space through debugfs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Complete requests handed to user space.
    pub requests: u32,
    /// Responses accepted from user space.
    pub responses: u32,
    /// Responses whose last part the host read completely.
    pub responses_delivered: u32,
    /// Write parts dropped for a bad PEC.
    pub pec_errors: u32,
    /// Transactions refused (NAKed) while a request was pending.
    pub naks: u32,
    /// Requests dropped by the response deadline.
    pub timeouts: u32,
    /// Reads answered with an empty block (nothing to send).
    pub empty_reads: u32,
    /// Parts or messages dropped, by reason (indexed like [`Abort::ALL`]).
    pub aborts: [u32; Abort::ALL.len()],
}

impl Counters {
    fn abort(&mut self, why: Abort) {
        let slot = &mut self.aborts[why as usize];
        *slot = slot.wrapping_add(1);
    }

    /// The count for one abort reason.
    pub fn aborted(&self, why: Abort) -> u32 {
        self.aborts[why as usize]
    }

    /// Number of counters that are not abort reasons.
    const SCALARS: usize = 7;
    /// Number of counters.
    pub const COUNT: usize = Self::SCALARS + Abort::ALL.len();

    /// The counter names, in the order of [`Counters::values`].
    pub const NAMES: [&'static str; Self::COUNT] = [
        "requests",
        "responses",
        "responses_delivered",
        "pec_errors",
        "naks",
        "timeouts",
        "empty_reads",
        "abort_restart",
        "abort_truncated",
        "abort_overlong_part",
        "abort_excess_bytes",
        "abort_message_too_long",
        "abort_no_start",
        "abort_bad_length",
        "abort_unknown_command",
        "abort_read_during_write",
        "abort_bad_retry",
        "abort_stray_read",
    ];

    /// Every counter's value, in the order of [`Counters::NAMES`].
    pub fn values(&self) -> [u32; Self::COUNT] {
        // Typed, so a counter added here but not to `SCALARS` (or `NAMES`) does not compile.
        let scalars: [u32; Self::SCALARS] = [
            self.requests,
            self.responses,
            self.responses_delivered,
            self.pec_errors,
            self.naks,
            self.timeouts,
            self.empty_reads,
        ];
        let mut values = [0; Self::COUNT];
        values[..Self::SCALARS].copy_from_slice(&scalars);
        values[Self::SCALARS..].copy_from_slice(&self.aborts);
        values
    }
}

/// Why user space's response was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespondError {
    /// No request has been read that awaits a response.
    NoRequest,
    /// The answer is for the request user space read most recently, which the response
    /// deadline dropped; no newer request has been read.
    Expired,
    /// A request awaits its answer, but this response's netfn or command is not its.
    Mismatch,
}

/// CRC-8, polynomial x^8 + x^2 + x + 1 (SMBus PEC).
const CRC8_TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Feeds one byte into a running PEC.
#[inline]
pub fn crc8(crc: u8, byte: u8) -> u8 {
    CRC8_TABLE[usize::from(crc ^ byte)]
}

/// PEC over a byte string.
pub fn pec(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |crc, &b| crc8(crc, b))
}

/// The SSIF target: one per bound device.
#[derive(Clone, Debug)]
pub struct Ssif {
    /// 8-bit write address (7-bit address << 1), the first byte PEC covers.
    write_address: u8,
    session: Session,
    transaction: Transaction,
    /// The spec's rule: reads carry PEC iff the last accepted write carried a valid one.
    pec_on_reads: bool,
    next_seq: u32,
    /// Set while the request user space read most recently was dropped by the deadline, until
    /// user space reads the next one (see [`Ssif::respond`]).
    dropped: Option<Dropped>,
    counters: Counters,
}

impl Ssif {
    /// A target answering at the 7-bit address `address`.
    pub fn new(address: u8) -> Ssif {
        Ssif {
            write_address: (address & 0x7f) << 1,
            session: Session::Idle,
            transaction: Transaction::None,
            pec_on_reads: false,
            next_seq: 0,
            dropped: None,
            counters: Counters::default(),
        }
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Handles one bus event. Called from the bus driver's interrupt: bounded work, no
    /// allocation, never panics. Inlined into the bus callback (its only caller in the
    /// module), which saves a call on every bus byte.
    #[inline(always)]
    pub fn on_bus(&mut self, event: BusEvent) -> Step {
        match event {
            BusEvent::WriteRequested => self.write_requested(),
            BusEvent::WriteReceived(byte) => self.write_received(byte),
            BusEvent::ReadRequested => self.read_requested(),
            BusEvent::ReadProcessed => self.read_processed(),
            BusEvent::Stop => {
                let effect = self.finish_transaction();
                Step {
                    reply: Reply::Ack,
                    effect,
                }
            }
        }
    }

    fn write_requested(&mut self) -> Step {
        // A start without STOP ends the transaction in progress. Unlike at STOP, an unfinished
        // write part is dropped, never accepted.
        match &self.transaction {
            Transaction::Write(part) => self.drop_part(part.fault.unwrap_or(Abort::Restart)),
            Transaction::Read(part) => self.finish_read(part.delivered()),
            _ => {}
        }
        if matches!(self.session, Session::Pending { .. }) {
            self.counters.naks = self.counters.naks.wrapping_add(1);
            self.transaction = Transaction::Refused;
            return Step::NAK;
        }
        self.transaction = Transaction::Command;
        Step::ACK
    }

    // A request byte: the hot path, inlined into `on_bus`.
    #[inline(always)]
    fn write_received(&mut self, byte: u8) -> Step {
        match &mut self.transaction {
            Transaction::Command => self.command(byte),
            Transaction::Write(part) => {
                if part.fault.is_some() {
                    return Step::NAK;
                }
                match part.declared {
                    None if usize::from(byte) > PART_MAX => {
                        part.fault = Some(Abort::Overlong);
                        return Step::NAK;
                    }
                    None => {
                        part.declared = Some(byte);
                        part.crc = crc8(part.crc, byte);
                    }
                    Some(len) if part.received < len => {
                        part.data[usize::from(part.received)] = byte;
                        part.received += 1;
                        part.crc = crc8(part.crc, byte);
                    }
                    Some(_) if part.pec.is_none() => part.pec = Some(byte),
                    Some(_) => {
                        part.fault = Some(Abort::Excess);
                        return Step::NAK;
                    }
                }
                Step::ACK
            }
            Transaction::ReadCommand { .. } => {
                // A read command followed by data is not a read: treat it as garbage.
                self.transaction = Transaction::Ignored;
                self.counters.abort(Abort::Excess);
                Step::NAK
            }
            Transaction::None
            | Transaction::Refused
            | Transaction::Read(_)
            | Transaction::Ignored => Step::NAK,
        }
    }

    fn command(&mut self, command: u8) -> Step {
        let crc = crc8(crc8(0, self.write_address), command);
        match command {
            cmd::SINGLE_WRITE
            | cmd::MULTI_WRITE_START
            | cmd::MULTI_WRITE_MIDDLE
            | cmd::MULTI_WRITE_END
            | cmd::READ_RETRY => {
                if matches!(command, cmd::SINGLE_WRITE | cmd::MULTI_WRITE_START) {
                    // A new request starts: whatever came before is over.
                    self.end_session();
                }
                self.transaction = Transaction::Write(WritePart {
                    command,
                    declared: None,
                    data: [0; PART_MAX],
                    received: 0,
                    pec: None,
                    crc,
                    fault: None,
                });
                Step::ACK
            }
            cmd::READ_START | cmd::READ_MIDDLE => {
                if let Session::Receiving { .. } = self.session {
                    self.counters.abort(Abort::ReadDuringWrite);
                    self.session = Session::Idle;
                }
                self.transaction = Transaction::ReadCommand { command, crc };
                Step::ACK
            }
            _ => {
                self.counters.abort(Abort::UnknownCommand);
                self.transaction = Transaction::Ignored;
                Step::NAK
            }
        }
    }

    /// Drops a response or a partial request before a new request starts.
    fn end_session(&mut self) {
        match self.session {
            Session::Receiving { .. } => {
                self.counters.abort(Abort::Restart);
                self.session = Session::Idle;
            }
            Session::Responding { .. } => self.session = Session::Idle,
            Session::Idle | Session::Pending { .. } => {}
        }
    }

    fn read_requested(&mut self) -> Step {
        let (command, crc) = match &self.transaction {
            &Transaction::ReadCommand { command, crc } => (command, crc),
            Transaction::Write(part) => {
                if part.fault.is_none() {
                    self.drop_part(Abort::ReadDuringWrite);
                }
                return self.filler_read();
            }
            Transaction::Refused => return Step::byte(0xff),
            _ => {
                self.counters.abort(Abort::StrayRead);
                return self.filler_read();
            }
        };
        let mut part = ReadPart {
            bytes: [0; PART_MAX + 2],
            size: 1,
            sent: 0,
            index: None,
        };
        if let Session::Responding {
            response,
            next_part,
        } = &self.session
        {
            let index = if command == cmd::READ_START {
                0
            } else {
                *next_part
            };
            // A middle read of a single-part response, or past the last part, gets nothing.
            if index < response.read_parts() && (index > 0 || command == cmd::READ_START) {
                part.size = response.read_part(index, &mut part.bytes) as u8;
                part.index = Some(index);
            }
        }
        if part.index.is_none() {
            self.counters.empty_reads = self.counters.empty_reads.wrapping_add(1);
        }
        if self.pec_on_reads {
            let crc = crc8(crc, self.write_address | 1);
            let size = usize::from(part.size);
            part.bytes[size] = part.bytes[..size].iter().fold(crc, |c, &b| crc8(c, b));
            part.size += 1;
        }
        part.sent = 1;
        let first = part.bytes[0];
        self.transaction = Transaction::Read(part);
        Step::byte(first)
    }

    /// A read we cannot serve: 0xff (an idle bus) until STOP.
    fn filler_read(&mut self) -> Step {
        self.transaction = Transaction::Ignored;
        Step::byte(0xff)
    }

    // A response byte: the hot path, inlined into `on_bus`.
    #[inline(always)]
    fn read_processed(&mut self) -> Step {
        match &mut self.transaction {
            Transaction::Read(part) => {
                let byte = part.bytes[..usize::from(part.size)]
                    .get(usize::from(part.sent))
                    .copied()
                    .unwrap_or(0xff);
                part.sent = part.sent.saturating_add(1);
                Step::byte(byte)
            }
            _ => Step::byte(0xff),
        }
    }

    fn drop_part(&mut self, why: Abort) {
        self.counters.abort(why);
        self.poison_message();
    }

    /// A bad part poisons the multi-part message it belongs to: a message with a hole in it
    /// is never delivered.
    fn poison_message(&mut self) {
        if let Session::Receiving { .. } = self.session {
            self.session = Session::Idle;
        }
    }

    fn finish_transaction(&mut self) -> Effect {
        match core::mem::replace(&mut self.transaction, Transaction::None) {
            Transaction::Write(part) => self.finish_write(part),
            Transaction::Read(part) => {
                self.finish_read(part.delivered());
                Effect::None
            }
            Transaction::None
            | Transaction::Refused
            | Transaction::Command
            | Transaction::ReadCommand { .. }
            | Transaction::Ignored => Effect::None,
        }
    }

    /// Advances the response past a read part the host took completely (see
    /// [`ReadPart::delivered`]).
    fn finish_read(&mut self, delivered: Option<u8>) {
        let (
            Some(index),
            Session::Responding {
                response,
                next_part,
            },
        ) = (delivered, &mut self.session)
        else {
            return;
        };
        *next_part = index + 1;
        if *next_part == response.read_parts() {
            self.counters.responses_delivered = self.counters.responses_delivered.wrapping_add(1);
        }
    }

    fn finish_write(&mut self, part: WritePart) -> Effect {
        if let Some(why) = part.fault {
            self.drop_part(why);
            return Effect::None;
        }
        let Some(len) = part.declared.filter(|&len| part.received == len) else {
            self.drop_part(Abort::Truncated);
            return Effect::None;
        };
        if part.pec.is_some_and(|pec| pec != part.crc) {
            self.counters.pec_errors = self.counters.pec_errors.wrapping_add(1);
            self.poison_message();
            return Effect::None;
        }
        self.pec_on_reads = part.pec.is_some();
        let data = &part.data[..usize::from(len)];
        match (part.command, &mut self.session) {
            (cmd::SINGLE_WRITE, _) => match Message::from_slice(data) {
                Some(request) => return self.request_complete(request),
                None => self.drop_part(Abort::BadLength),
            },
            (cmd::MULTI_WRITE_START, _) => match Message::from_slice(data) {
                Some(request) if data.len() == PART_MAX => {
                    self.session = Session::Receiving { request };
                }
                _ => self.drop_part(Abort::BadLength),
            },
            (cmd::MULTI_WRITE_MIDDLE | cmd::MULTI_WRITE_END, Session::Receiving { request }) => {
                if !request.append(data) {
                    self.drop_part(Abort::TooLong);
                } else if part.command == cmd::MULTI_WRITE_END || data.len() < PART_MAX {
                    let request = request.clone();
                    return self.request_complete(request);
                }
            }
            (cmd::MULTI_WRITE_MIDDLE | cmd::MULTI_WRITE_END, _) => {
                self.counters.abort(Abort::NoStart)
            }
            (
                cmd::READ_RETRY,
                Session::Responding {
                    response,
                    next_part,
                },
            ) if data.len() == 1 => {
                let parts = response.read_parts();
                // Middle block `n` is part `n + 1`; the last block is also called 0xff.
                let index = if data[0] == 0xff {
                    parts - 1
                } else {
                    data[0].saturating_add(1)
                };
                if parts > 1 && index < parts {
                    *next_part = index;
                } else {
                    self.counters.abort(Abort::BadRetry);
                }
            }
            (cmd::READ_RETRY, _) => self.counters.abort(Abort::BadRetry),
            _ => {}
        }
        Effect::None
    }

    fn request_complete(&mut self, request: Message) -> Effect {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.counters.requests = self.counters.requests.wrapping_add(1);
        self.session = Session::Pending {
            request,
            seq,
            taken: false,
        };
        Effect::RequestReady
    }

    /// True while a request waits to be read by user space (`EPOLLIN`).
    pub fn request_ready(&self) -> bool {
        matches!(self.session, Session::Pending { taken: false, .. })
    }

    /// True while a response may be written (`EPOLLOUT`): a request has been read and not yet
    /// answered (it may have been dropped since, see [`Ssif::respond`]).
    pub fn response_wanted(&self) -> bool {
        matches!(self.session, Session::Pending { taken: true, .. })
    }

    /// True while a request is outstanding (the response deadline must run).
    pub fn request_pending(&self) -> bool {
        matches!(self.session, Session::Pending { .. })
    }

    /// Hands the waiting request to user space: marks it taken and returns it with its
    /// sequence number. `None` if no request waits. It is now the most recently read request:
    /// an answer to an older, dropped one is no longer told from a wrong one.
    pub fn take_request(&mut self) -> Option<(&Message, u32)> {
        match &mut self.session {
            Session::Pending {
                request,
                seq,
                taken: taken @ false,
            } => {
                *taken = true;
                self.dropped = None;
                Some((request, *seq))
            }
            _ => None,
        }
    }

    /// The request `take_request` returned as `seq` never reached user space (a fault copying
    /// it out): make it readable again if it still waits; if the deadline dropped it meanwhile,
    /// forget that user space had it, so no answer is taken as its late one.
    pub fn untake_request(&mut self, seq: u32) {
        match &mut self.session {
            Session::Pending {
                seq: current,
                taken,
                ..
            } if *current == seq => *taken = false,
            _ => {
                if self.dropped.is_some_and(|d| d.seq == seq) {
                    self.dropped = None;
                }
            }
        }
    }

    /// Size of the waiting request once encoded for user space, if one waits.
    pub fn request_user_size(&self) -> Option<usize> {
        match &self.session {
            Session::Pending {
                request,
                taken: false,
                ..
            } => Some(request.user_size()),
            _ => None,
        }
    }

    /// User space answers the request it read most recently, if that request still awaits its
    /// answer and `response` carries its netfn (with the response bit) and command. Otherwise
    /// nothing is sent and nothing changes: [`RespondError::Expired`] if `response` would have
    /// answered that request but the deadline dropped it, [`RespondError::Mismatch`] if another
    /// request awaits its answer, [`RespondError::NoRequest`] if none does.
    ///
    /// A responder may skip an answer or answer only the newest request (ssifbridged does
    /// both), so nothing here outlives the request it is about. Without a message id one case
    /// cannot be caught: a late answer written after the next request was read, when both have
    /// the same netfn and command, is taken as the newer request's. On success the response
    /// deadline must be cancelled.
    #[inline]
    pub fn respond(&mut self, response: Message) -> Result<(), RespondError> {
        match &self.session {
            Session::Pending {
                request,
                taken: true,
                ..
            } => {
                if !response.answers(request.header()) {
                    return Err(RespondError::Mismatch);
                }
                self.counters.responses = self.counters.responses.wrapping_add(1);
                self.session = Session::Responding {
                    response,
                    next_part: 0,
                };
                Ok(())
            }
            _ if self.dropped.is_some_and(|d| response.answers(d.header)) => {
                Err(RespondError::Expired)
            }
            _ => Err(RespondError::NoRequest),
        }
    }

    /// The response deadline passed: drop the outstanding request so the host is no longer
    /// refused, and answer it with completion code 0xC3 ("timeout while processing command"),
    /// which the host reads like any response. If user space had read the request, an answer
    /// to it is now late (see [`Ssif::respond`]). Returns `true` if a request was dropped.
    pub fn expire(&mut self) -> bool {
        let Session::Pending {
            request,
            seq,
            taken,
        } = &self.session
        else {
            return false;
        };
        self.counters.timeouts = self.counters.timeouts.wrapping_add(1);
        if *taken {
            self.dropped = Some(Dropped {
                seq: *seq,
                header: request.header(),
            });
        }
        let response = request.timeout_response();
        self.session = Session::Responding {
            response,
            next_part: 0,
        };
        true
    }

    /// The file was closed: a request it read but did not answer is offered to the next
    /// reader rather than lost (its deadline still runs), and the next opener starts with no
    /// request read.
    pub fn release(&mut self) {
        self.dropped = None;
        if let Session::Pending { taken, .. } = &mut self.session {
            *taken = false;
        }
    }
}

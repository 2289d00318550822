// SPDX-License-Identifier: GPL-2.0
//! Puts a BMC that speaks OpenIPMI's "VM" serial protocol over TCP (`ipmi_sim` with
//! `serial 15 ADDR PORT codec VM`) behind `/dev/ipmi-ssif-host`, as OpenBMC's ssifbridged
//! puts ipmid behind it.
//!
//! The device side is ssifbridged's: `O_RDWR | O_NONBLOCK`, `poll`, 258-byte reads, one
//! `write()` of `[u32 len][netfn|1 << 2 | lun][cmd][cc][data]` per answer, and the device is
//! read again while requests are with the simulator. Each request goes to the simulator
//! with a sequence byte of its own; a reply is the reply to the request sent with its
//! sequence byte. Get System Interface Capabilities (netfn 0x06, cmd 0x57, SSIF interface
//! type) is answered here with what the SSIF driver supports (the simulator answers it
//! with 0xC1, and the host would then fall back to single-part messages without PEC), as
//! ssifbridged answers it itself (see `ssif_tools::bridged` for its bytes).
//!
//! Which answers are written is the policy (`--policy`):
//! - `ssifbridged` (the default): ssifbridged's, from github openbmc/ssifbridge,
//!   `ssifbridged.cpp` at 9a72d35376b02197000141fb920d93ab7d79dceb, in
//!   `ssif_tools::bridged`: requests not answered are counted and the newest one
//!   remembered; a reply is written only if it is for the newest request, no other is
//!   outstanding and the bridge's own timer (`--deadline-ms`, 14 s as ssifbridged's,
//!   restarted per request) has not fired; the timer writes 0xCE for the newest request;
//!   a failed backend call writes nothing. A backend call fails when the simulator is not
//!   connected, when the connection breaks, and after 60 s without a reply (ssifbridged's
//!   D-Bus timeout). Write errors are only logged.
//! - `sync`: every request is answered exactly once and in the order read: the
//!   simulator's reply, 0xCE when the bridge's own deadline passes first, 0xCE at once for
//!   the requests in flight when the simulator goes away and for those read while it is
//!   away. A `write()` that fails (`ETIMEDOUT`: the driver dropped that request at its
//!   response deadline; `EINVAL`: a newer request has been read since) is logged and the
//!   bridge moves on to the next answer.
//!
//! The bridge reconnects to the simulator every `--retry-ms`.
//!
//! Options: `--device PATH`, `--connect HOST:PORT` (default 127.0.0.1:9002),
//! `--policy ssifbridged|sync`, `--deadline-ms N` (default 14000, ssifbridged's),
//! `--retry-ms N` (default 200), `-v` (log every request and answer). SIGTERM closes the
//! device and exits.

use ssif_tools::{
    bridged::{self, Bridged, OnReply, OnRequest},
    ipmi::{self, NETFN_APP, PAYLOAD_MAX, READ_BUF},
    simlink::{self, Seqs, SimLink},
    vmproto::Frame,
};
use std::{
    collections::VecDeque,
    ffi::CString,
    io,
    os::fd::AsRawFd,
    thread,
    time::{Duration, Instant},
};

/// "Command response could not be provided": ssifbridged's answer when ipmid does not
/// answer in time, ours also when the simulator is not connected (`sync`).
const CC_NO_RESPONSE: u8 = bridged::CC_NO_RESPONSE;
/// "Cannot return number of requested data bytes": an answer longer than the SSIF
/// message limit.
const CC_TOO_LONG: u8 = 0xca;
const CMD_GET_SYSTEM_INTERFACE_CAPS: u8 = 0x57;

/// Longest `poll()`, so that SIGTERM and reconnection are noticed.
const POLL_MS: u64 = 100;

#[derive(Clone, Copy, PartialEq, Eq)]
enum PolicyName {
    Ssifbridged,
    Sync,
}

struct Options {
    device: String,
    connect: String,
    policy: PolicyName,
    deadline: Duration,
    retry: Duration,
    verbose: bool,
}

fn options() -> Options {
    let args = ssif_tools::args::Args::from_env();
    let opt = |name: &str| args.opt(name);
    let ms = |name: &str, default: u64| {
        Duration::from_millis(opt(name).and_then(|v| v.parse().ok()).unwrap_or(default))
    };
    let policy = match opt("--policy").as_deref() {
        None | Some("ssifbridged") => PolicyName::Ssifbridged,
        Some("sync") => PolicyName::Sync,
        Some(other) => {
            eprintln!("ssif-bridge: --policy {other}: not ssifbridged or sync");
            std::process::exit(2);
        }
    };
    Options {
        device: opt("--device").unwrap_or_else(ssif_tools::dev::default_path),
        connect: opt("--connect").unwrap_or_else(|| "127.0.0.1:9002".into()),
        policy,
        deadline: ms("--deadline-ms", bridged::OWN_TIMEOUT.as_millis() as u64),
        retry: ms("--retry-ms", 200),
        verbose: args.flag("-v"),
    }
}

/// `netfn|1 << 2 | lun, cmd, cc` for the request `netfn_lun`, `cmd`.
fn error_answer(netfn_lun: u8, cmd: u8, cc: u8) -> Vec<u8> {
    vec![((netfn_lun >> 2 | 1) << 2) | (netfn_lun & 3), cmd, cc]
}

/// One request read from the device and not answered yet (`sync`).
struct InFlight {
    seq: u8,
    /// `netfn << 2 | lun`, `cmd` of the request.
    netfn_lun: u8,
    cmd: u8,
    read_at: Instant,
    deadline: Instant,
    /// The answer payload (`netfn|1 << 2 | lun, cmd, cc, data`), once known.
    answer: Option<Vec<u8>>,
}

impl InFlight {
    fn error(&self, cc: u8) -> Vec<u8> {
        error_answer(self.netfn_lun, self.cmd, cc)
    }

    fn matches(&self, payload: &[u8]) -> bool {
        payload.len() >= 3 && payload[0] == self.netfn_lun | 4 && payload[1] == self.cmd
    }
}

/// A request with the simulator, its reply awaited (`ssifbridged`: the backend call).
struct Call {
    seq: u8,
    read_at: Instant,
    /// When the call fails for want of a reply.
    gives_up: Instant,
}

/// The policy and what it keeps.
enum Policy {
    /// Requests in the order they were read; answers are written in this order.
    Sync(VecDeque<InFlight>),
    /// ssifbridged's state, the backend calls outstanding, and the answers to write.
    Ssifbridged {
        state: Bridged,
        calls: Vec<Call>,
        out: Vec<Vec<u8>>,
    },
}

impl Policy {
    fn new(opts: &Options) -> Policy {
        match opts.policy {
            PolicyName::Sync => Policy::Sync(VecDeque::new()),
            PolicyName::Ssifbridged => Policy::Ssifbridged {
                state: Bridged::new(opts.deadline),
                calls: Vec::new(),
                out: Vec::new(),
            },
        }
    }

    fn seq_in_use(&self, s: u8) -> bool {
        match self {
            Policy::Sync(q) => q.iter().any(|r| r.seq == s),
            Policy::Ssifbridged { calls, .. } => calls.iter().any(|c| c.seq == s),
        }
    }

    /// The next time something is due.
    fn next_due(&self) -> Option<Instant> {
        match self {
            Policy::Sync(q) => q
                .iter()
                .filter(|r| r.answer.is_none())
                .map(|r| r.deadline)
                .min(),
            Policy::Ssifbridged { state, calls, .. } => {
                calls.iter().map(|c| c.gives_up).chain(state.timer()).min()
            }
        }
    }
}

struct Bridge {
    opts: Options,
    link: Option<SimLink>,
    next_try: Instant,
    policy: Policy,
    seqs: Seqs,
    stats: Stats,
}

#[derive(Default)]
struct Stats {
    forwarded: u64,
    answered: u64,
    local: u64,
    deadline: u64,
    disconnected: u64,
    backend_errors: u64,
    dropped_not_newest: u64,
    dropped_outstanding: u64,
    dropped_timed_out: u64,
    write_etimedout: u64,
    write_einval: u64,
    write_other: u64,
    stray: u64,
    bad_frames: u64,
    reconnects: u64,
    /// The longest the simulator took to answer (read from the device to reply in).
    slowest: Duration,
}

fn open_device(path: &str) -> io::Result<libc::c_int> {
    let c = CString::new(path).unwrap();
    // SAFETY: `c` is a valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

impl Bridge {
    fn log(&self, msg: std::fmt::Arguments) {
        eprintln!("ssif-bridge: {msg}");
    }

    /// (Re)connects to the simulator if it is time to.
    fn ensure_link(&mut self) {
        if self.link.is_some() || Instant::now() < self.next_try {
            return;
        }
        self.next_try = Instant::now() + self.opts.retry;
        match SimLink::connect(&self.opts.connect) {
            Ok(link) => {
                self.stats.reconnects += 1;
                self.log(format_args!("connected to {}", self.opts.connect));
                self.link = Some(link);
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => self.log(format_args!("{e}")),
            Err(_) => {}
        }
    }

    /// The simulator went away: every request it had fails now.
    fn drop_link(&mut self, why: &str) {
        if self.link.take().is_none() {
            return;
        }
        self.next_try = Instant::now() + self.opts.retry;
        let n = match &mut self.policy {
            Policy::Sync(q) => {
                let mut n = 0;
                for r in q.iter_mut().filter(|r| r.answer.is_none()) {
                    r.answer = Some(r.error(CC_NO_RESPONSE));
                    n += 1;
                }
                self.stats.disconnected += n;
                n
            }
            Policy::Ssifbridged { calls, .. } => calls.len() as u64,
        };
        let what = match self.policy {
            Policy::Sync(_) => format!("answered 0x{CC_NO_RESPONSE:02x}"),
            Policy::Ssifbridged { .. } => "failed".into(),
        };
        self.log(format_args!(
            "simulator connection lost ({why}); {n} request(s) in flight {what}"
        ));
        if let Policy::Ssifbridged { calls, .. } = &mut self.policy {
            let seqs: Vec<u8> = calls.drain(..).map(|c| c.seq).collect();
            for seq in seqs {
                self.backend_reply(seq, None);
            }
        }
    }

    /// Sends `req` to the simulator as `seq`; false if it could not be sent (the link is
    /// down, or broke now).
    fn forward(&mut self, seq: u8, req: &[u8]) -> bool {
        let Some(link) = self.link.as_mut() else {
            return false;
        };
        if let Err(e) = link.send(seq, req) {
            self.drop_link(&format!("write: {e}"));
            return false;
        }
        self.stats.forwarded += 1;
        true
    }

    /// A request read from the device.
    fn request(&mut self, req: &[u8]) {
        if req.len() < 2 {
            // The driver never delivers less than netfn and cmd.
            self.log(format_args!("short request {req:02x?}"));
        }
        let netfn_lun = req.first().copied().unwrap_or(0);
        let cmd = req.get(1).copied().unwrap_or(0);
        let policy = &self.policy;
        let Some(seq) = self.seqs.alloc(|s| policy.seq_in_use(s)) else {
            self.log(format_args!(
                "256 requests in flight; {req:02x?} not forwarded"
            ));
            return;
        };
        let now = Instant::now();
        if self.opts.verbose {
            self.log(format_args!(
                "request seq {seq} {:02x?}",
                &req[..req.len().min(8)]
            ));
        }
        match self.policy {
            Policy::Sync(_) => self.request_sync(seq, netfn_lun, cmd, req, now),
            Policy::Ssifbridged { .. } => self.request_bridged(seq, req, now),
        }
    }

    fn request_sync(&mut self, seq: u8, netfn_lun: u8, cmd: u8, req: &[u8], now: Instant) {
        let mut r = InFlight {
            seq,
            netfn_lun,
            cmd,
            read_at: now,
            deadline: now + self.opts.deadline,
            answer: None,
        };
        if netfn_lun >> 2 == NETFN_APP && cmd == CMD_GET_SYSTEM_INTERFACE_CAPS {
            // For the SSIF interface type only; another is an invalid data field here.
            r.answer = Some(ipmi::system_interface_caps(req).unwrap_or_else(|| r.error(0xcc)));
            self.stats.local += 1;
        } else if !self.forward(seq, req) {
            r.answer = Some(r.error(CC_NO_RESPONSE));
            self.stats.disconnected += 1;
        }
        if let Policy::Sync(q) = &mut self.policy {
            q.push_back(r);
        }
    }

    fn request_bridged(&mut self, seq: u8, req: &[u8], now: Instant) {
        let Policy::Ssifbridged { state, out, .. } = &mut self.policy else {
            return;
        };
        match state.request(req, now) {
            OnRequest::Answer(a) => {
                out.push(a);
                self.stats.local += 1;
            }
            OnRequest::Forward => {
                if self.forward(seq, req) {
                    if let Policy::Ssifbridged { calls, .. } = &mut self.policy {
                        calls.push(Call {
                            seq,
                            read_at: now,
                            gives_up: now + bridged::BACKEND_TIMEOUT,
                        });
                    }
                } else {
                    // As a D-Bus call to a service that is not there: it fails.
                    self.backend_reply(seq, None);
                }
            }
        }
    }

    /// `ssifbridged`: the backend call `seq` ended with `reply` (None: it failed).
    fn backend_reply(&mut self, seq: u8, reply: Option<Vec<u8>>) {
        let Policy::Ssifbridged { state, out, .. } = &mut self.policy else {
            return;
        };
        let outcome = state.reply(reply.as_deref());
        let not_answered = state.not_answered();
        let s = &mut self.stats;
        let what = match outcome {
            OnReply::Write(a) => {
                out.push(a);
                s.answered += 1;
                "written"
            }
            OnReply::BackendError => {
                s.backend_errors += 1;
                "failed: nothing written"
            }
            OnReply::TimedOut => {
                s.dropped_timed_out += 1;
                "dropped: the bridge's timer answered"
            }
            OnReply::NotNewest => {
                s.dropped_not_newest += 1;
                "dropped: not for the newest request"
            }
            OnReply::Outstanding => {
                s.dropped_outstanding += 1;
                "dropped: other requests outstanding"
            }
        };
        if self.opts.verbose || !what.starts_with('w') {
            self.log(format_args!(
                "reply seq {seq} {what} (not answered: {not_answered})"
            ));
        }
    }

    /// Bytes from the simulator.
    fn read_sim(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let frames = match link.receive() {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return self.drop_link("closed"),
            Err(e) => return self.drop_link(&format!("read: {e}")),
        };
        for f in frames {
            match f {
                Frame::Message { seq, payload } => self.reply(seq, payload),
                Frame::Control(c) => {
                    if let Some(m) = simlink::describe_control(&c, self.opts.verbose) {
                        self.log(format_args!("{m}"));
                    }
                }
                Frame::Bad(b) => {
                    self.stats.bad_frames += 1;
                    self.log(format_args!("bad frame from the simulator: {b:?}"));
                }
            }
        }
    }

    fn note_slow(&mut self, seq: u8, payload: &[u8], took: Duration) {
        self.stats.slowest = self.stats.slowest.max(took);
        if took >= simlink::SLOW_REPLY {
            self.log(format_args!(
                "seq {seq} {:02x}/{:02x} took {} ms",
                payload.first().map_or(0, |b| b >> 2) & !1,
                payload.get(1).copied().unwrap_or(0),
                took.as_millis()
            ));
        }
    }

    /// The simulator's reply to the request sent as `seq`.
    fn reply(&mut self, seq: u8, payload: Vec<u8>) {
        if self.opts.verbose {
            self.log(format_args!(
                "answer seq {seq} {:02x?} ({} bytes)",
                &payload[..payload.len().min(3)],
                payload.len()
            ));
        }
        let now = Instant::now();
        let payload_head = payload[..payload.len().min(2)].to_vec();
        match &mut self.policy {
            Policy::Sync(q) => {
                let Some(r) = q.iter_mut().find(|r| r.seq == seq && r.answer.is_none()) else {
                    // An answer after our deadline answered 0xCE, or to a request of a
                    // previous connection.
                    self.stats.stray += 1;
                    self.log(format_args!(
                        "answer with seq {seq} matches no request in flight"
                    ));
                    return;
                };
                if !r.matches(&payload) {
                    self.stats.stray += 1;
                    let (n, c) = (r.netfn_lun, r.cmd);
                    self.log(format_args!(
                        "answer seq {seq} {:02x?} is not for request {n:02x} {c:02x}",
                        &payload[..payload.len().min(3)]
                    ));
                    return;
                }
                let a = if payload.len() > PAYLOAD_MAX {
                    r.error(CC_TOO_LONG)
                } else {
                    payload
                };
                let took = now - r.read_at;
                r.answer = Some(a);
                self.stats.answered += 1;
                self.note_slow(seq, &payload_head, took);
            }
            Policy::Ssifbridged { calls, .. } => {
                let Some(i) = calls.iter().position(|c| c.seq == seq) else {
                    self.stats.stray += 1;
                    self.log(format_args!(
                        "answer with seq {seq} matches no request in flight"
                    ));
                    return;
                };
                let call = calls.swap_remove(i);
                self.note_slow(seq, &payload_head, now - call.read_at);
                let a = if payload.len() > PAYLOAD_MAX {
                    vec![payload[0], payload[1], CC_TOO_LONG]
                } else {
                    payload
                };
                self.backend_reply(seq, Some(a));
            }
        }
    }

    /// What is due at `now`: the bridge's deadline or timer, backend calls that gave up.
    fn expire(&mut self, now: Instant) {
        match &mut self.policy {
            Policy::Sync(q) => {
                let mut n = 0;
                for r in q.iter_mut() {
                    if r.answer.is_none() && now >= r.deadline {
                        r.answer = Some(r.error(CC_NO_RESPONSE));
                        n += 1;
                    }
                }
                if n > 0 {
                    self.stats.deadline += n;
                    self.log(format_args!(
                        "{n} request(s) past the deadline answered 0x{CC_NO_RESPONSE:02x}"
                    ));
                }
            }
            Policy::Ssifbridged { state, calls, out } => {
                if let Some(a) = state.expire(now) {
                    self.stats.deadline += 1;
                    eprintln!(
                        "ssif-bridge: timer: 0x{CC_NO_RESPONSE:02x} for the newest request {:02x} {:02x} (not answered: {})",
                        a[0] & !4,
                        a[1],
                        state.not_answered()
                    );
                    out.push(a);
                }
                let gave_up: Vec<u8> = calls
                    .iter()
                    .filter(|c| now >= c.gives_up)
                    .map(|c| c.seq)
                    .collect();
                calls.retain(|c| now < c.gives_up);
                for seq in gave_up {
                    self.log(format_args!("seq {seq}: no reply in time"));
                    self.backend_reply(seq, None);
                }
            }
        }
    }

    /// One `write()` of an answer. Err(errno) if it failed.
    fn write_answer(fd: libc::c_int, a: &[u8]) -> Result<(), i32> {
        let mut out = (a.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(a);
        // SAFETY: `out` is valid for `out.len()` bytes.
        let w = unsafe { libc::write(fd, out.as_ptr().cast(), out.len()) };
        if w >= 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    }

    fn count_write_error(&mut self, e: i32, what: std::fmt::Arguments) {
        match e {
            libc::ETIMEDOUT => self.stats.write_etimedout += 1,
            libc::EINVAL => self.stats.write_einval += 1,
            _ => self.stats.write_other += 1,
        }
        self.log(format_args!(
            "write ({what}): {}",
            io::Error::from_raw_os_error(e)
        ));
    }

    /// Writes the answers that are ready. Err: the device is gone.
    fn flush(&mut self, fd: libc::c_int) -> Result<(), ()> {
        let mut written = Vec::new();
        match &mut self.policy {
            Policy::Sync(q) => {
                while q.front().is_some_and(|r| r.answer.is_some()) {
                    let r = q.pop_front().unwrap();
                    written.push((r.seq, Self::write_answer(fd, &r.answer.unwrap())));
                }
            }
            Policy::Ssifbridged { out, .. } => {
                for a in out.drain(..) {
                    written.push((a[1], Self::write_answer(fd, &a)));
                }
            }
        }
        let sync = matches!(self.policy, Policy::Sync(_));
        for (id, w) in written {
            match w {
                Ok(()) => {}
                Err(libc::ENODEV) => return Err(()),
                Err(e) if sync => self.count_write_error(e, format_args!("seq {id}")),
                Err(e) => self.count_write_error(e, format_args!("cmd {id:02x}")),
            }
        }
        Ok(())
    }

    /// Serves an open device until it goes away or SIGTERM.
    fn serve(&mut self, fd: libc::c_int) {
        let mut buf = [0u8; READ_BUF];
        while !ssif_tools::sigterm::terminated() {
            self.ensure_link();
            let mut fds = vec![libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            }];
            if let Some(l) = &self.link {
                fds.push(libc::pollfd {
                    fd: l.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let now = Instant::now();
            let mut wait = Duration::from_millis(POLL_MS);
            if let Some(d) = self.policy.next_due() {
                wait = wait.min(d.saturating_duration_since(now));
            }
            // SAFETY: `fds` is valid for `fds.len()` entries.
            let ready = unsafe {
                libc::poll(
                    fds.as_mut_ptr(),
                    fds.len() as libc::nfds_t,
                    wait.as_millis() as libc::c_int + 1,
                )
            };
            if ready < 0 {
                continue;
            }
            if fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                self.log(format_args!("device gone"));
                return;
            }
            if fds.len() > 1 && fds[1].revents != 0 {
                self.read_sim();
            }
            if fds[0].revents & libc::POLLIN != 0 {
                // SAFETY: `buf` is valid for `buf.len()` bytes.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    match io::Error::last_os_error().raw_os_error() {
                        Some(libc::EAGAIN) | Some(libc::EINTR) => {}
                        _ => return,
                    }
                } else {
                    let len = u32::from_ne_bytes(buf[..4].try_into().unwrap()) as usize;
                    let req = buf[4..4 + len.min(READ_BUF - 4)].to_vec();
                    self.request(&req);
                }
            }
            self.expire(Instant::now());
            if self.flush(fd).is_err() {
                self.log(format_args!("device gone"));
                return;
            }
        }
    }
}

impl Drop for Stats {
    fn drop(&mut self) {
        eprintln!(
            "ssif-bridge: stats forwarded={} answered={} local={} deadline={} disconnected={} backend_errors={} dropped_not_newest={} dropped_outstanding={} dropped_timed_out={} write_etimedout={} write_einval={} write_other={} stray={} bad_frames={} connects={} slowest_ms={}",
            self.forwarded,
            self.answered,
            self.local,
            self.deadline,
            self.disconnected,
            self.backend_errors,
            self.dropped_not_newest,
            self.dropped_outstanding,
            self.dropped_timed_out,
            self.write_etimedout,
            self.write_einval,
            self.write_other,
            self.stray,
            self.bad_frames,
            self.reconnects,
            self.slowest.as_millis()
        );
    }
}

fn main() {
    let opts = options();
    ssif_tools::sigterm::catch();
    let policy = Policy::new(&opts);
    let mut bridge = Bridge {
        opts,
        link: None,
        next_try: Instant::now(),
        policy,
        seqs: Seqs::default(),
        stats: Stats::default(),
    };
    let name = match bridge.opts.policy {
        PolicyName::Ssifbridged => "ssifbridged",
        PolicyName::Sync => "sync",
    };
    while !ssif_tools::sigterm::terminated() {
        let fd = match open_device(&bridge.opts.device) {
            Ok(fd) => fd,
            Err(e) => {
                eprintln!("ssif-bridge: open {}: {e}; retrying", bridge.opts.device);
                thread::sleep(bridge.opts.retry);
                continue;
            }
        };
        eprintln!(
            "ssif-bridge: serving {} (policy {name})",
            bridge.opts.device
        );
        bridge.serve(fd);
        // Requests of a device that went away have no one to answer to. The simulator's
        // replies to them, if any come, are strays.
        bridge.policy = Policy::new(&bridge.opts);
        // SAFETY: `fd` is ours.
        unsafe { libc::close(fd) };
    }
}

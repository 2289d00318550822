// SPDX-License-Identifier: GPL-2.0
//! The "VM" serial protocol of OpenIPMI's `ipmi_sim` (`serial 15 ADDR PORT codec VM`), the
//! byte stream QEMU's `ipmi-bmc-extern` speaks, as `ssif-bridge` needs it.
//!
//! A frame is a run of bytes ended by [`MSG_END`] (an IPMI message) or [`CMD_END`] (a
//! control command). Inside a frame, the three special bytes are sent as [`ESCAPE`]
//! followed by the byte with bit 4 set (`A0` → `AA B0`, `A1` → `AA B1`, `AA` → `AA BA`).
//! A request is `seq, netfn << 2 | lun, cmd, data…, csum`; the response echoes `seq`:
//! `seq, (netfn | 1) << 2 | lun, cmd, cc, data…, csum`. `csum` is the two's complement of
//! the 8-bit sum of the bytes before it, so a good message sums to zero.

/// Ends an IPMI message.
pub const MSG_END: u8 = 0xa0;
/// Ends a control command.
pub const CMD_END: u8 = 0xa1;
/// The next byte is a special byte with bit 4 set.
pub const ESCAPE: u8 = 0xaa;
/// The longest frame accepted, after unescaping: ipmi_sim's messages are at most 255
/// bytes, this leaves room to spare. A longer one is an error, not a reason to grow a
/// buffer without bound.
pub const MAX_FRAME: usize = 256 + 4;

/// Control command bytes (the first byte of a control frame).
pub mod op {
    pub const NOATTN: u8 = 0x00;
    pub const ATTN: u8 = 0x01;
    pub const ATTN_IRQ: u8 = 0x02;
    pub const POWEROFF: u8 = 0x03;
    pub const RESET: u8 = 0x04;
    pub const ENABLE_IRQ: u8 = 0x05;
    pub const DISABLE_IRQ: u8 = 0x06;
    pub const SEND_NMI: u8 = 0x07;
    pub const CAPABILITIES: u8 = 0x08;
    pub const GRACEFUL_SHUTDOWN: u8 = 0x09;
    pub const VERSION: u8 = 0xff;
}

/// Bits of the capabilities control command the peer of the simulator sends.
pub mod caps {
    pub const POWER: u8 = 0x01;
    pub const RESET: u8 = 0x02;
    pub const IRQ: u8 = 0x04;
    pub const NMI: u8 = 0x08;
    pub const ATTN: u8 = 0x10;
    pub const GRACEFUL_SHUTDOWN: u8 = 0x20;
}

/// The protocol version this module speaks (the simulator sends `FF 01 A1` on connect).
pub const VERSION: u8 = 1;

/// The 8-bit two's complement checksum IPMI uses: the value that makes `bytes` sum to 0.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

fn push_escaped(out: &mut Vec<u8>, b: u8) {
    if matches!(b, MSG_END | CMD_END | ESCAPE) {
        out.push(ESCAPE);
        out.push(b | 0x10);
    } else {
        out.push(b);
    }
}

/// Encodes a request: `seq`, then `payload` (`netfn << 2 | lun, cmd, data…`, the layout of
/// `/dev/ipmi-ssif-host`), checksum, [`MSG_END`].
pub fn encode_request(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * payload.len() + 4);
    let mut sum = seq;
    push_escaped(&mut out, seq);
    for &b in payload {
        sum = sum.wrapping_add(b);
        push_escaped(&mut out, b);
    }
    push_escaped(&mut out, sum.wrapping_neg());
    out.push(MSG_END);
    out
}

/// Encodes a control command (`op` and its arguments, then [`CMD_END`]).
pub fn encode_control(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * bytes.len() + 1);
    for &b in bytes {
        push_escaped(&mut out, b);
    }
    out.push(CMD_END);
    out
}

/// A control command received from the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Version(u8),
    /// Attention cleared / raised (a message waits in the BMC's receive queue or event
    /// buffer); `irq` when the BMC would also raise the interrupt.
    Attention {
        raised: bool,
        irq: bool,
    },
    PowerOff,
    Reset,
    EnableIrq,
    DisableIrq,
    SendNmi,
    GracefulShutdown,
    Capabilities(u8),
    Unknown(Vec<u8>),
}

impl Control {
    fn parse(b: &[u8]) -> Control {
        match (b[0], b.get(1)) {
            (op::VERSION, Some(&v)) => Control::Version(v),
            (op::NOATTN, _) => Control::Attention {
                raised: false,
                irq: false,
            },
            (op::ATTN, _) => Control::Attention {
                raised: true,
                irq: false,
            },
            (op::ATTN_IRQ, _) => Control::Attention {
                raised: true,
                irq: true,
            },
            (op::POWEROFF, _) => Control::PowerOff,
            (op::RESET, _) => Control::Reset,
            (op::ENABLE_IRQ, _) => Control::EnableIrq,
            (op::DISABLE_IRQ, _) => Control::DisableIrq,
            (op::SEND_NMI, _) => Control::SendNmi,
            (op::GRACEFUL_SHUTDOWN, _) => Control::GracefulShutdown,
            (op::CAPABILITIES, Some(&c)) => Control::Capabilities(c),
            _ => Control::Unknown(b.to_vec()),
        }
    }
}

/// Why a frame was thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// The bytes of a message do not sum to zero.
    Checksum,
    /// A message shorter than `seq, netfn, cmd, csum`.
    TooShort,
    /// More than [`MAX_FRAME`] bytes before the end marker.
    TooLong,
    /// An end marker right after [`ESCAPE`].
    EndInEscape,
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A message with a good checksum: `seq` and the payload (`netfn << 2 | lun, cmd,
    /// data…`, for a response `cc` first in data), checksum removed.
    Message {
        seq: u8,
        payload: Vec<u8>,
    },
    Control(Control),
    Bad(Bad),
}

/// Turns a byte stream, read in pieces of any size, into frames.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    in_escape: bool,
    too_long: bool,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`; every frame they complete is appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) {
        for &b in bytes {
            if let Some(f) = self.push_byte(b) {
                out.push(f);
            }
        }
    }

    fn push_byte(&mut self, b: u8) -> Option<Frame> {
        match b {
            MSG_END | CMD_END => {
                let bad = if self.in_escape {
                    Some(Bad::EndInEscape)
                } else if self.too_long {
                    Some(Bad::TooLong)
                } else {
                    None
                };
                let frame = std::mem::take(&mut self.buf);
                self.in_escape = false;
                self.too_long = false;
                if let Some(bad) = bad {
                    return Some(Frame::Bad(bad));
                }
                // An empty frame (two end markers in a row) carries nothing; the
                // simulator ignores them too.
                if frame.is_empty() {
                    return None;
                }
                Some(if b == CMD_END {
                    Frame::Control(Control::parse(&frame))
                } else if frame.len() < 4 {
                    Frame::Bad(Bad::TooShort)
                } else if checksum(&frame) != 0 {
                    Frame::Bad(Bad::Checksum)
                } else {
                    Frame::Message {
                        seq: frame[0],
                        payload: frame[1..frame.len() - 1].to_vec(),
                    }
                })
            }
            ESCAPE => {
                self.in_escape = true;
                None
            }
            _ => {
                let b = if std::mem::take(&mut self.in_escape) {
                    b & !0x10
                } else {
                    b
                };
                if self.buf.len() >= MAX_FRAME {
                    self.too_long = true;
                } else {
                    self.buf.push(b);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Frame> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.push(bytes, &mut out);
        out
    }

    /// A response frame as the simulator builds it (its `vm_send`), written out by hand.
    fn sim_response(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut all = vec![seq];
        all.extend_from_slice(payload);
        all.push(checksum(&all));
        let mut out = Vec::new();
        for b in all {
            match b {
                0xa0 => out.extend([0xaa, 0xb0]),
                0xa1 => out.extend([0xaa, 0xb1]),
                0xaa => out.extend([0xaa, 0xba]),
                _ => out.push(b),
            }
        }
        out.push(0xa0);
        out
    }

    #[test]
    fn checksum_is_twos_complement_of_the_sum() {
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&[0x01]), 0xff);
        // Get Device ID, seq 5: 05 18 01 -> e2 (0x05 + 0x18 + 0x01 + 0xe2 = 0x100).
        assert_eq!(checksum(&[0x05, 0x18, 0x01]), 0xe2);
        assert_eq!(checksum(&[0x80, 0x80]), 0x00);
    }

    #[test]
    fn request_layout_matches_the_protocol() {
        assert_eq!(
            encode_request(0x05, &[0x18, 0x01]),
            [0x05, 0x18, 0x01, 0xe2, MSG_END]
        );
    }

    #[test]
    fn special_bytes_are_escaped_in_data_seq_and_checksum() {
        let enc = encode_request(0xa0, &[0x18, 0xa1, 0xaa, 0x00]);
        // seq a0 -> aa b0; a1 -> aa b1; aa -> aa ba.
        assert_eq!(&enc[..2], &[0xaa, 0xb0]);
        assert_eq!(&enc[3..7], &[0xaa, 0xb1, 0xaa, 0xba]);
        assert_eq!(*enc.last().unwrap(), MSG_END);
        // No unescaped special byte before the end marker.
        let body = &enc[..enc.len() - 1];
        for (i, &b) in body.iter().enumerate() {
            if matches!(b, MSG_END | CMD_END) {
                panic!("unescaped {b:#x} at {i}");
            }
            if b == ESCAPE {
                assert!(matches!(body[i + 1], 0xb0 | 0xb1 | 0xba));
            }
        }
        // A checksum that is itself special: 0x5f + 0x01 -> csum 0xa0.
        assert_eq!(checksum(&[0x5f, 0x01]), 0xa0);
        assert_eq!(
            encode_request(0x5f, &[0x01]),
            [0x5f, 0x01, 0xaa, 0xb0, MSG_END]
        );
    }

    #[test]
    fn every_byte_value_round_trips() {
        let payload: Vec<u8> = (0..=255u8).collect();
        for seq in [0u8, 0xa0, 0xa1, 0xaa, 0xff] {
            let frames = decode(&encode_request(seq, &payload[..250]));
            assert_eq!(
                frames,
                [Frame::Message {
                    seq,
                    payload: payload[..250].to_vec()
                }]
            );
        }
    }

    #[test]
    fn decodes_what_the_simulator_sends() {
        // Get Device ID answer with an escaped data byte (0xaa) and cc 0.
        let payload = [0x1c, 0x01, 0x00, 0x19, 0xaa, 0x02];
        assert_eq!(
            decode(&sim_response(7, &payload)),
            [Frame::Message {
                seq: 7,
                payload: payload.to_vec()
            }]
        );
    }

    #[test]
    fn bad_checksum_is_reported_and_the_next_frame_is_intact() {
        let mut bytes = sim_response(3, &[0x1c, 0x01, 0x00]);
        bytes[1] ^= 0x04; // one bit of netfn flipped in transit
        bytes.extend(sim_response(4, &[0x1c, 0x01, 0x00]));
        assert_eq!(
            decode(&bytes),
            [
                Frame::Bad(Bad::Checksum),
                Frame::Message {
                    seq: 4,
                    payload: vec![0x1c, 0x01, 0x00]
                }
            ]
        );
    }

    /// Any dropped byte that is not zero: a sum cannot see a lost 0x00, and the frame has
    /// no length field (a lost zero byte is caught above it, by the answer's layout).
    #[test]
    fn a_dropped_nonzero_byte_fails_the_checksum() {
        let good = sim_response(9, &[0x2c, 0x23, 0xc9, 0x10, 0x20]);
        for i in 0..good.len() - 1 {
            let mut bytes = good.clone();
            bytes.remove(i);
            let frames = decode(&bytes);
            assert!(
                !matches!(frames.as_slice(), [Frame::Message { .. }]),
                "dropping byte {i} went unnoticed: {frames:?}"
            );
        }
    }

    #[test]
    fn short_long_and_escape_at_end_are_bad_frames() {
        assert_eq!(
            decode(&[0x01, 0x02, 0xfd, MSG_END]),
            [Frame::Bad(Bad::TooShort)]
        );
        let mut long = vec![0x11; MAX_FRAME + 1];
        long.push(MSG_END);
        assert_eq!(decode(&long), [Frame::Bad(Bad::TooLong)]);
        assert_eq!(
            decode(&[0x01, 0x18, ESCAPE, MSG_END]),
            [Frame::Bad(Bad::EndInEscape)]
        );
        // Each error resets the decoder: the next frame decodes.
        let mut bytes = long;
        bytes.extend(sim_response(1, &[0x1c, 0x01, 0x00]));
        assert_eq!(decode(&bytes).len(), 2);
        assert!(matches!(decode(&bytes)[1], Frame::Message { seq: 1, .. }));
    }

    #[test]
    fn split_reads_give_the_same_frames_as_one_read() {
        let mut stream = encode_control(&[op::VERSION, VERSION]);
        stream.extend(encode_control(&[op::NOATTN]));
        stream.extend(sim_response(0xa0, &[0x1c, 0x01, 0x00, 0xa1, 0xaa, 0xa0]));
        stream.extend(sim_response(0x02, &[0x2c, 0x23, 0x00]));
        let whole = decode(&stream);
        assert_eq!(whole.len(), 4);
        // Every split point, then one byte at a time.
        for cut in 0..=stream.len() {
            let mut d = Decoder::new();
            let mut out = Vec::new();
            d.push(&stream[..cut], &mut out);
            d.push(&stream[cut..], &mut out);
            assert_eq!(out, whole, "split at {cut}");
        }
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b), &mut out);
        }
        assert_eq!(out, whole);
    }

    #[test]
    fn control_messages_on_connect_and_later() {
        // What ipmi_sim sends on connect: version 1, then attention cleared.
        assert_eq!(
            decode(&[0xff, 0x01, 0xa1, 0x00, 0xa1]),
            [
                Frame::Control(Control::Version(1)),
                Frame::Control(Control::Attention {
                    raised: false,
                    irq: false
                })
            ]
        );
        let cases = [
            (
                op::ATTN,
                Control::Attention {
                    raised: true,
                    irq: false,
                },
            ),
            (
                op::ATTN_IRQ,
                Control::Attention {
                    raised: true,
                    irq: true,
                },
            ),
            (op::POWEROFF, Control::PowerOff),
            (op::RESET, Control::Reset),
            (op::ENABLE_IRQ, Control::EnableIrq),
            (op::DISABLE_IRQ, Control::DisableIrq),
            (op::SEND_NMI, Control::SendNmi),
            (op::GRACEFUL_SHUTDOWN, Control::GracefulShutdown),
        ];
        for (byte, want) in cases {
            assert_eq!(decode(&[byte, CMD_END]), [Frame::Control(want)]);
        }
        assert_eq!(
            decode(&[0x42, 0x07, CMD_END]),
            [Frame::Control(Control::Unknown(vec![0x42, 0x07]))]
        );
        // Control commands are not checksummed, and escapes apply to them too.
        assert_eq!(
            decode(&encode_control(&[op::CAPABILITIES, 0xaa])),
            [Frame::Control(Control::Capabilities(0xaa))]
        );
        // A control frame between two messages does not disturb them.
        let mut bytes = sim_response(1, &[0x1c, 0x01, 0x00]);
        bytes.extend([op::ATTN, CMD_END]);
        bytes.extend(sim_response(2, &[0x1c, 0x31, 0x00, 0x00]));
        let frames = decode(&bytes);
        assert_eq!(frames.len(), 3);
        assert_eq!(
            frames[1],
            Frame::Control(Control::Attention {
                raised: true,
                irq: false
            })
        );
    }

    #[test]
    fn empty_frames_are_ignored() {
        assert!(decode(&[MSG_END, CMD_END, MSG_END]).is_empty());
    }
}

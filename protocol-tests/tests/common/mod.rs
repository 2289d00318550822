// SPDX-License-Identifier: GPL-2.0
//! A simulated SMBus host: turns block writes and block reads into the target events the Aspeed
//! bus driver delivers, including its NAK behaviour (an errno from `WriteRequested` NAKs the
//! next byte, after which the host stops).
#![allow(dead_code)]

use ssif_protocol::protocol::{pec, BusEvent, Effect, Message, Reply, Ssif};

pub const ADDR: u8 = 0x10;
pub const W: u8 = ADDR << 1;
pub const R: u8 = (ADDR << 1) | 1;

#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The whole write was ACKed; `ready` tells whether a request became available.
    Acked { ready: bool },
    /// The target NAKed (busy or refused).
    Nak,
}

pub struct Host {
    pub ssif: Ssif,
}

impl Host {
    pub fn new() -> Self {
        Host {
            ssif: Ssif::new(ADDR),
        }
    }

    pub fn ev(&mut self, e: BusEvent) -> Reply {
        self.ssif.on_bus(e).reply
    }

    /// `S 20 cmd len data.. [pec] P`; the PEC is computed unless `pec_override` is given.
    pub fn write_block(&mut self, cmd: u8, data: &[u8], pec_on: bool) -> WriteOutcome {
        let mut frame = vec![W, cmd, data.len() as u8];
        frame.extend_from_slice(data);
        let pec_byte = pec(&frame);
        let mut bytes = frame[1..].to_vec();
        if pec_on {
            bytes.push(pec_byte);
        }
        self.write_raw(&bytes, true)
    }

    /// Writes raw bytes after the address; `stop` ends with STOP.
    pub fn write_raw(&mut self, bytes: &[u8], stop: bool) -> WriteOutcome {
        if self.ssif.on_bus(BusEvent::WriteRequested).reply == Reply::Nak {
            // Aspeed NAKs the next byte; the host then gives up with STOP.
            if let Some(&first) = bytes.first() {
                self.ev(BusEvent::WriteReceived(first));
            }
            self.ev(BusEvent::Stop);
            return WriteOutcome::Nak;
        }
        for &b in bytes {
            self.ev(BusEvent::WriteReceived(b));
        }
        let mut ready = false;
        if stop {
            ready = self.ssif.on_bus(BusEvent::Stop).effect == Effect::RequestReady;
        }
        WriteOutcome::Acked { ready }
    }

    /// `S 20 cmd Sr 21 | len data.. [pec] P`. Returns the data (length byte stripped) or `None`
    /// on NAK. With `pec_on`, the PEC is read and checked.
    pub fn read_block(&mut self, cmd: u8, pec_on: bool) -> Option<Vec<u8>> {
        let raw = self.read_raw(cmd, None, pec_on)?;
        Some(raw[1..1 + usize::from(raw[0])].to_vec())
    }

    /// As `read_block`, returning every byte read (length byte first, PEC last). `take`
    /// limits how many bytes the host reads before NAK + STOP.
    pub fn read_raw(&mut self, cmd: u8, take: Option<usize>, pec_on: bool) -> Option<Vec<u8>> {
        if self.ssif.on_bus(BusEvent::WriteRequested).reply == Reply::Nak {
            self.ev(BusEvent::WriteReceived(cmd));
            self.ev(BusEvent::Stop);
            return None;
        }
        self.ev(BusEvent::WriteReceived(cmd));
        let Reply::Byte(len) = self.ev(BusEvent::ReadRequested) else {
            panic!("no byte on read request")
        };
        let mut got = vec![len];
        let want = take.unwrap_or(1 + usize::from(len) + usize::from(pec_on));
        while got.len() < want {
            let Reply::Byte(b) = self.ev(BusEvent::ReadProcessed) else {
                panic!("no byte on read processed")
            };
            got.push(b);
        }
        self.ev(BusEvent::Stop);
        if pec_on && take.is_none() {
            let mut covered = vec![W, cmd, R];
            covered.extend_from_slice(&got[..got.len() - 1]);
            assert_eq!(pec(&covered), *got.last().unwrap(), "read PEC");
        }
        Some(got)
    }

    /// Sends a whole request the way Linux's ipmi_ssif does (single or multi part).
    pub fn send_request(&mut self, msg: &[u8], pec_on: bool) -> bool {
        if msg.len() <= 32 {
            return self.write_block(0x02, msg, pec_on) == WriteOutcome::Acked { ready: true };
        }
        if self.write_block(0x06, &msg[..32], pec_on) != (WriteOutcome::Acked { ready: false }) {
            return false;
        }
        let mut rest = &msg[32..];
        loop {
            if rest.len() > 32 {
                if self.write_block(0x07, &rest[..32], pec_on)
                    != (WriteOutcome::Acked { ready: false })
                {
                    return false;
                }
                rest = &rest[32..];
            } else {
                return self.write_block(0x08, rest, pec_on) == WriteOutcome::Acked { ready: true };
            }
        }
    }

    /// Reads a whole response the way Linux's ipmi_ssif does (0x03 then 0x09 parts).
    pub fn read_response(&mut self, pec_on: bool) -> Option<Vec<u8>> {
        let first = self.read_block(0x03, pec_on)?;
        if first.len() == 32 && first[0] == 0x00 && first[1] == 0x01 {
            let mut out = first[2..].to_vec();
            loop {
                let part = self.read_block(0x09, pec_on)?;
                out.extend_from_slice(&part[1..]);
                if part[0] == 0xff {
                    return Some(out);
                }
            }
        }
        Some(first)
    }

    /// User space: takes the pending request.
    pub fn user_take(&mut self) -> Option<Vec<u8>> {
        self.ssif.take_request().map(|(m, _)| m.as_bytes().to_vec())
    }

    /// User space: answers.
    pub fn user_respond(&mut self, resp: &[u8]) {
        self.ssif
            .respond(Message::from_slice(resp).unwrap())
            .expect("respond");
    }

    /// One full cycle: request, user space echoes `response`, host reads it back.
    pub fn cycle(&mut self, req: &[u8], resp: &[u8], pec_on: bool) {
        assert!(self.send_request(req, pec_on), "request not accepted");
        assert_eq!(self.read_block(0x03, pec_on), None, "busy read must NAK");
        assert_eq!(self.user_take().as_deref(), Some(req), "request mangled");
        self.user_respond(resp);
        assert_eq!(
            self.read_response(pec_on).as_deref(),
            Some(resp),
            "response mangled"
        );
    }
}

pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// A `len`-byte response (`len >= 2`) that answers `req`: the request's netfn with the response
/// bit and its command, then `bytes(len - 2, seed)`.
pub fn answer_to(req: &[u8], len: usize, seed: u8) -> Vec<u8> {
    assert!(len >= 2);
    let mut resp = vec![req[0] | 0x04, req.get(1).copied().unwrap_or(0)];
    resp.extend(bytes(len - 2, seed));
    resp
}

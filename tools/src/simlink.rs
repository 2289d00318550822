// SPDX-License-Identifier: GPL-2.0
//! The TCP connection to OpenIPMI's `ipmi_sim` (`serial 15 ADDR PORT codec VM`), as
//! `ssif-bridge` and `ssif-ipmid` use it: connect and announce our capabilities, send a
//! request under a sequence byte, read the frames that come back.

use crate::vmproto::{self, caps, op, Control, Decoder, Frame};
use std::{
    io::{self, Read, Write},
    net::{TcpStream, ToSocketAddrs},
    os::fd::{AsRawFd, RawFd},
    time::Duration,
};

/// A reply that takes this long or longer is logged: the driver's default response
/// deadline is 500 ms.
pub const SLOW_REPLY: Duration = Duration::from_millis(300);

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// One connection to the simulator.
pub struct SimLink {
    stream: TcpStream,
    decoder: Decoder,
}

impl SimLink {
    /// Connects to `addr` (`HOST:PORT`) and announces what we act on: reset and power
    /// requests come to us as control commands (we log them; a real host would act), and
    /// attention when a message waits.
    pub fn connect(addr: &str) -> io::Result<SimLink> {
        let addr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("bad address {addr}"))
        })?;
        let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        let _ = stream.set_nodelay(true);
        stream.write_all(&vmproto::encode_control(&[
            op::CAPABILITIES,
            caps::ATTN | caps::RESET,
        ]))?;
        Ok(SimLink {
            stream,
            decoder: Decoder::new(),
        })
    }

    /// A second handle on the same connection, to send from another thread.
    pub fn sender(&self) -> io::Result<SimSender> {
        Ok(SimSender(self.stream.try_clone()?))
    }

    /// Sends the request `payload` (`netfn << 2 | lun, cmd, data…`) as `seq`.
    pub fn send(&mut self, seq: u8, payload: &[u8]) -> io::Result<()> {
        self.stream
            .write_all(&vmproto::encode_request(seq, payload))
    }

    /// Makes [`SimLink::receive`] fail with `WouldBlock` after `timeout` without bytes.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    /// One `read()` of the connection: the frames it completed (none if interrupted).
    /// Err: the connection is closed or broken.
    pub fn receive(&mut self) -> io::Result<Vec<Frame>> {
        let mut buf = [0u8; 1024];
        let n = match self.stream.read(&mut buf) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut frames = Vec::new();
        self.decoder.push(&buf[..n], &mut frames);
        Ok(frames)
    }
}

impl AsRawFd for SimLink {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

/// Sends requests on a [`SimLink`]'s connection.
pub struct SimSender(TcpStream);

impl SimSender {
    /// Sends the request `payload` as `seq`.
    pub fn send(&mut self, seq: u8, payload: &[u8]) -> io::Result<()> {
        self.0.write_all(&vmproto::encode_request(seq, payload))
    }

    /// Breaks the connection (both directions), so that its reader sees the end.
    pub fn shutdown(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// What to log about a control command from the simulator, if anything. Attention (a
/// message waits) changes nothing for an SSIF host, which polls Get Message Flags: it is
/// logged only when `verbose`.
pub fn describe_control(c: &Control, verbose: bool) -> Option<String> {
    match c {
        Control::Version(v) if *v == vmproto::VERSION => {
            Some(format!("simulator speaks VM protocol version {v}"))
        }
        Control::Version(v) => Some(format!(
            "simulator speaks VM protocol version {v}, we speak {}",
            vmproto::VERSION
        )),
        Control::Attention { raised, .. } => {
            verbose.then(|| format!("attention {}", if *raised { "raised" } else { "cleared" }))
        }
        other => Some(format!("control from the simulator: {other:?}")),
    }
}

/// Sequence bytes for requests in flight: the next one after the last handed out that
/// `in_use` does not claim. None if all 256 are in use.
#[derive(Default)]
pub struct Seqs {
    next: u8,
}

impl Seqs {
    pub fn alloc(&mut self, in_use: impl Fn(u8) -> bool) -> Option<u8> {
        for _ in 0..=u8::MAX {
            let s = self.next;
            self.next = self.next.wrapping_add(1);
            if !in_use(s) {
                return Some(s);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn seqs_skip_those_in_use_and_run_out() {
        let mut s = Seqs::default();
        assert_eq!(s.alloc(|_| false), Some(0));
        assert_eq!(s.alloc(|n| n == 1 || n == 2), Some(3));
        assert_eq!(s.alloc(|_| true), None);
    }

    #[test]
    fn connect_announces_caps_then_requests_and_answers_pass() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let sim = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut got = vec![0u8; 3 + vmproto::encode_request(5, &[0x18, 0x01]).len()];
            c.read_exact(&mut got).unwrap();
            // The version, then an answer to seq 5 in two pieces.
            c.write_all(&[op::VERSION, 1, vmproto::CMD_END]).unwrap();
            let answer = [5u8, 0x1c, 0x01, 0x00];
            let mut f = answer.to_vec();
            f.push(vmproto::checksum(&answer));
            f.push(vmproto::MSG_END);
            c.write_all(&f[..3]).unwrap();
            c.write_all(&f[3..]).unwrap();
            got
        });
        let mut link = SimLink::connect(&addr).unwrap();
        link.send(5, &[0x18, 0x01]).unwrap();
        let mut frames = Vec::new();
        while frames.len() < 2 {
            frames.extend(link.receive().unwrap());
        }
        let got = sim.join().unwrap();
        assert_eq!(
            &got[..3],
            &[op::CAPABILITIES, caps::ATTN | caps::RESET, 0xa1]
        );
        assert_eq!(&got[3..], &vmproto::encode_request(5, &[0x18, 0x01])[..]);
        assert_eq!(frames[0], Frame::Control(Control::Version(1)));
        assert_eq!(
            frames[1],
            Frame::Message {
                seq: 5,
                payload: vec![0x1c, 0x01, 0x00]
            }
        );
        assert!(link.receive().is_err(), "closed by the peer");
    }
}

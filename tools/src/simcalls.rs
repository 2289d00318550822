// SPDX-License-Identifier: GPL-2.0
//! Calls to `ipmi_sim` from many tasks at once over one [`SimLink`] connection, as
//! `ssif-ipmid` makes them: each call gets a sequence byte of its own, so calls in flight
//! do not wait for each other and their replies may come in any order. A thread reads the
//! connection, hands each reply to its call and (re)connects.

use crate::{
    oneshot,
    simlink::{self, Seqs, SimLink, SimSender},
    vmproto::Frame,
};
use std::{
    collections::HashMap,
    fmt, io,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

/// Why a call got no reply.
#[derive(Debug)]
pub enum CallError {
    /// The simulator is not connected.
    NotConnected,
    /// 256 calls are in flight already.
    Busy,
    /// The request could not be sent.
    Send(io::Error),
    /// The connection broke while the call was in flight.
    Lost,
    /// No reply in time.
    Timeout,
    /// A reply under the call's sequence byte that is not for its netfn and command.
    Mismatch(Vec<u8>),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotConnected => write!(f, "simulator not connected"),
            CallError::Busy => write!(f, "256 requests in flight"),
            CallError::Send(e) => write!(f, "sending to the simulator: {e}"),
            CallError::Lost => write!(f, "simulator connection lost"),
            CallError::Timeout => write!(f, "no reply from the simulator in time"),
            CallError::Mismatch(r) => write!(
                f,
                "reply {:02x?} is not for the request",
                &r[..r.len().min(3)]
            ),
        }
    }
}

type Reply = Result<Vec<u8>, CallError>;

struct Pending {
    /// `netfn << 2 | lun` and `cmd` of the request.
    netfn_lun: u8,
    cmd: u8,
    since: Instant,
    reply: oneshot::Sender<Reply>,
}

impl Pending {
    fn complete(self, payload: Vec<u8>) {
        let ok = payload.len() >= 3 && payload[0] == self.netfn_lun | 4 && payload[1] == self.cmd;
        self.reply.send(if ok {
            Ok(payload)
        } else {
            Err(CallError::Mismatch(payload))
        });
    }
}

#[derive(Default)]
struct Inner {
    sender: Option<SimSender>,
    pending: HashMap<u8, Pending>,
    seqs: Seqs,
}

/// Settings of a [`SimCalls`].
pub struct Config {
    /// `HOST:PORT` of the simulator.
    pub connect: String,
    /// How long a call waits for its reply.
    pub timeout: Duration,
    /// How often to try to (re)connect.
    pub retry: Duration,
    /// Log every control command (attention too).
    pub verbose: bool,
    /// Prefix of log lines.
    pub name: &'static str,
}

/// The calls in flight and the connection they go over.
pub struct SimCalls {
    inner: Mutex<Inner>,
    config: Config,
}

impl SimCalls {
    /// Starts the thread that connects and reads replies.
    pub fn start(config: Config) -> Arc<SimCalls> {
        let calls = Arc::new(SimCalls {
            inner: Mutex::new(Inner::default()),
            config,
        });
        let c = calls.clone();
        thread::spawn(move || c.run());
        calls
    }

    fn log(&self, msg: fmt::Arguments) {
        eprintln!("{}: {msg}", self.config.name);
    }

    /// Sends `req` (`netfn << 2 | lun, cmd, data…`) and waits for the simulator's reply
    /// (`netfn|1 << 2 | lun, cmd, cc, data…`).
    pub async fn call(&self, req: &[u8]) -> Reply {
        let rx = self.submit(req)?;
        rx.await.unwrap_or(Err(CallError::Lost))
    }

    fn submit(&self, req: &[u8]) -> Result<oneshot::Receiver<Reply>, CallError> {
        let mut guard = self.inner.lock().unwrap();
        let inner = &mut *guard;
        let Some(sender) = inner.sender.as_mut() else {
            return Err(CallError::NotConnected);
        };
        let pending = &inner.pending;
        let seq = inner
            .seqs
            .alloc(|s| pending.contains_key(&s))
            .ok_or(CallError::Busy)?;
        if let Err(e) = sender.send(seq, req) {
            // The reader sees the broken connection and fails the calls in flight.
            sender.shutdown();
            return Err(CallError::Send(e));
        }
        let (tx, rx) = oneshot::channel();
        inner.pending.insert(
            seq,
            Pending {
                netfn_lun: req.first().copied().unwrap_or(0),
                cmd: req.get(1).copied().unwrap_or(0),
                since: Instant::now(),
                reply: tx,
            },
        );
        Ok(rx)
    }

    /// The reader thread: connect, read replies until the connection breaks, again.
    fn run(&self) {
        loop {
            let link = match SimLink::connect(&self.config.connect) {
                Ok(l) => l,
                Err(e) => {
                    if e.kind() == io::ErrorKind::InvalidInput {
                        self.log(format_args!("{e}"));
                    }
                    thread::sleep(self.config.retry);
                    continue;
                }
            };
            match link.sender() {
                Ok(s) => self.inner.lock().unwrap().sender = Some(s),
                Err(e) => {
                    self.log(format_args!("connection: {e}"));
                    continue;
                }
            }
            self.log(format_args!("connected to {}", self.config.connect));
            let why = self.read_replies(link);
            let lost: Vec<Pending> = {
                let mut inner = self.inner.lock().unwrap();
                inner.sender = None;
                inner.pending.drain().map(|(_, p)| p).collect()
            };
            self.log(format_args!(
                "simulator connection lost ({why}); {} call(s) in flight failed",
                lost.len()
            ));
            for p in lost {
                p.reply.send(Err(CallError::Lost));
            }
            thread::sleep(self.config.retry);
        }
    }

    /// Reads the connection until it breaks; returns why it broke.
    fn read_replies(&self, mut link: SimLink) -> String {
        // Wake up now and then to time calls out.
        if let Err(e) = link.set_read_timeout(Some(Duration::from_millis(200))) {
            return format!("set_read_timeout: {e}");
        }
        loop {
            match link.receive() {
                Ok(frames) => {
                    for f in frames {
                        self.frame(f);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return e.to_string(),
            }
            self.time_out();
        }
    }

    fn frame(&self, f: Frame) {
        match f {
            Frame::Message { seq, payload } => {
                let p = self.inner.lock().unwrap().pending.remove(&seq);
                match p {
                    Some(p) => {
                        let took = p.since.elapsed();
                        if took >= simlink::SLOW_REPLY {
                            self.log(format_args!(
                                "seq {seq} {:02x}/{:02x} took {} ms",
                                p.netfn_lun >> 2,
                                p.cmd,
                                took.as_millis()
                            ));
                        }
                        p.complete(payload)
                    }
                    None => self.log(format_args!(
                        "reply with seq {seq} matches no call in flight"
                    )),
                }
            }
            Frame::Control(c) => {
                if let Some(m) = simlink::describe_control(&c, self.config.verbose) {
                    self.log(format_args!("{m}"));
                }
            }
            Frame::Bad(b) => self.log(format_args!("bad frame from the simulator: {b:?}")),
        }
    }

    fn time_out(&self) {
        let now = Instant::now();
        let late: Vec<(u8, Pending)> = {
            let mut inner = self.inner.lock().unwrap();
            let seqs: Vec<u8> = inner
                .pending
                .iter()
                .filter(|(_, p)| now - p.since >= self.config.timeout)
                .map(|(s, _)| *s)
                .collect();
            seqs.into_iter()
                .filter_map(|s| inner.pending.remove(&s).map(|p| (s, p)))
                .collect()
        };
        for (seq, p) in late {
            self.log(format_args!("seq {seq}: no reply in time"));
            p.reply.send(Err(CallError::Timeout));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmproto::{self, Decoder};
    use std::{
        io::{Read, Write},
        net::TcpListener,
    };

    fn reply_frame(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut m = vec![seq];
        m.extend_from_slice(payload);
        m.push(vmproto::checksum(&m));
        m.push(vmproto::MSG_END);
        m
    }

    /// A simulator that answers the first two requests in the reverse order, the first
    /// one only after the second, then echoes netfn|1, cmd, cc 0 at once.
    fn fake_sim() -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut dec = Decoder::new();
            let mut held: Option<(u8, Vec<u8>)> = None;
            let mut n = 0;
            let mut buf = [0u8; 256];
            loop {
                let Ok(k) = c.read(&mut buf) else { return };
                if k == 0 {
                    return;
                }
                let mut frames = Vec::new();
                dec.push(&buf[..k], &mut frames);
                for f in frames {
                    let Frame::Message { seq, payload } = f else {
                        continue;
                    };
                    let answer = vec![payload[0] | 4, payload[1], 0x00];
                    n += 1;
                    if n == 1 {
                        held = Some((seq, answer));
                        continue;
                    }
                    c.write_all(&reply_frame(seq, &answer)).unwrap();
                    if let Some((s, a)) = held.take() {
                        c.write_all(&reply_frame(s, &a)).unwrap();
                    }
                }
            }
        });
        addr
    }

    fn config(connect: String, timeout: Duration) -> Config {
        Config {
            connect,
            timeout,
            retry: Duration::from_millis(20),
            verbose: false,
            name: "test",
        }
    }

    fn connected(c: &SimCalls) {
        let t = Instant::now();
        while c.inner.lock().unwrap().sender.is_none() {
            assert!(t.elapsed() < Duration::from_secs(5), "never connected");
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_slow_call_does_not_hold_up_the_next_and_each_gets_its_own_reply() {
        let calls = SimCalls::start(config(fake_sim(), Duration::from_secs(5)));
        connected(&calls);
        let c1 = calls.clone();
        let first = thread::spawn(move || zbus::block_on(c1.call(&[0x00 << 2, 0x01])));
        // The first is held by the simulator until the second comes.
        thread::sleep(Duration::from_millis(50));
        let second = zbus::block_on(calls.call(&[0x06 << 2, 0x01])).unwrap();
        assert_eq!(second, [0x1c, 0x01, 0x00]);
        assert_eq!(first.join().unwrap().unwrap(), [0x04, 0x01, 0x00]);
    }

    #[test]
    fn not_connected_fails_at_once() {
        // Nobody listens on a port we just gave back.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let calls = SimCalls::start(config(format!("127.0.0.1:{port}"), Duration::from_secs(5)));
        assert!(matches!(
            zbus::block_on(calls.call(&[0x18, 0x01])),
            Err(CallError::NotConnected)
        ));
    }

    #[test]
    fn a_call_without_reply_times_out_and_a_lost_connection_fails_the_rest() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let (close_tx, close_rx) = std::sync::mpsc::channel::<()>();
        thread::spawn(move || {
            let (c, _) = l.accept().unwrap();
            close_rx.recv().unwrap();
            drop(c);
        });
        let calls = SimCalls::start(config(addr, Duration::from_millis(300)));
        connected(&calls);
        let t = Instant::now();
        assert!(matches!(
            zbus::block_on(calls.call(&[0x18, 0x01])),
            Err(CallError::Timeout)
        ));
        assert!(t.elapsed() >= Duration::from_millis(300));
        let c1 = calls.clone();
        let in_flight = thread::spawn(move || zbus::block_on(c1.call(&[0x18, 0x01])));
        thread::sleep(Duration::from_millis(50));
        close_tx.send(()).unwrap();
        assert!(matches!(in_flight.join().unwrap(), Err(CallError::Lost)));
    }
}

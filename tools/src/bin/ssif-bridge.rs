// SPDX-License-Identifier: GPL-2.0
//! Puts a BMC that speaks OpenIPMI's "VM" serial protocol over TCP (`ipmi_sim` with
//! `serial 15 ADDR PORT codec VM`) behind `/dev/ipmi-ssif-host`, as OpenBMC's ssifbridged
//! puts ipmid behind it.
//!
//! The device side is ssifbridged's: `O_RDWR | O_NONBLOCK`, `poll`, 258-byte reads, one
//! `write()` of `[u32 len][netfn|1 << 2 | lun][cmd][cc][data]` per request, every request
//! answered exactly once and in the order read, completion code 0xCE when the bridge's
//! own deadline passes. Each request goes to the simulator with a sequence byte of its
//! own, and an answer is taken only for the request with that sequence byte, netfn and
//! command. Get System Interface Capabilities (netfn 0x06, cmd 0x57) is answered here
//! with what the SSIF driver supports (the simulator answers it with 0xC1, and the host
//! would then fall back to single-part messages without PEC).
//!
//! When the simulator goes away, every request in flight is answered with 0xCE at once,
//! and so is every request read while it is away; the bridge reconnects every
//! `--retry-ms`. A `write()` that fails with `ETIMEDOUT` was an answer to a request the
//! driver had already dropped (its response deadline): the bridge moves on to the next.
//!
//! Options: `--device PATH`, `--connect HOST:PORT` (default 127.0.0.1:9002),
//! `--deadline-ms N` (default 14000, ssifbridged's), `--retry-ms N` (default 200), `-v`
//! (log every request and answer). SIGTERM closes the device and exits.

use ssif_tools::{
    ipmi::{CC_OK, NETFN_APP, PAYLOAD_MAX, READ_BUF, SSIF_CAPS},
    vmproto::{self, caps, op, Control, Decoder, Frame},
};
use std::{
    collections::VecDeque,
    ffi::CString,
    io::{self, Read, Write},
    net::{TcpStream, ToSocketAddrs},
    os::fd::AsRawFd,
    thread,
    time::{Duration, Instant},
};

/// "Command response could not be provided": ssifbridged's answer when ipmid does not
/// answer in time, ours also when the simulator is not connected.
const CC_NO_RESPONSE: u8 = 0xce;
/// "Cannot return number of requested data bytes": an answer longer than the SSIF
/// message limit.
const CC_TOO_LONG: u8 = 0xca;
const CMD_GET_SYSTEM_INTERFACE_CAPS: u8 = 0x57;

/// Longest `poll()`, so that SIGTERM and reconnection are noticed.
const POLL_MS: u64 = 100;

struct Options {
    device: String,
    connect: String,
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
    Options {
        device: opt("--device").unwrap_or_else(|| "/dev/ipmi-ssif-host".into()),
        connect: opt("--connect").unwrap_or_else(|| "127.0.0.1:9002".into()),
        deadline: ms("--deadline-ms", 14_000),
        retry: ms("--retry-ms", 200),
        verbose: args.flag("-v"),
    }
}

/// One request read from the device, waiting for its answer.
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
        vec![
            ((self.netfn_lun >> 2 | 1) << 2) | (self.netfn_lun & 3),
            self.cmd,
            cc,
        ]
    }

    fn matches(&self, payload: &[u8]) -> bool {
        payload.len() >= 3 && payload[0] == self.netfn_lun | 4 && payload[1] == self.cmd
    }
}

/// The TCP link to the simulator.
struct Link {
    stream: TcpStream,
    decoder: Decoder,
}

struct Bridge {
    opts: Options,
    link: Option<Link>,
    next_try: Instant,
    /// Requests in the order they were read; answers are written in this order.
    queue: VecDeque<InFlight>,
    next_seq: u8,
    stats: Stats,
}

#[derive(Default)]
struct Stats {
    forwarded: u64,
    answered: u64,
    local: u64,
    deadline: u64,
    disconnected: u64,
    dropped_by_driver: u64,
    stray: u64,
    bad_frames: u64,
    reconnects: u64,
    /// The longest the simulator took to answer (read from the device to answer in).
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

    /// (Re)connects to the simulator if it is time to; announces our capabilities.
    fn ensure_link(&mut self) {
        if self.link.is_some() || Instant::now() < self.next_try {
            return;
        }
        self.next_try = Instant::now() + self.opts.retry;
        let addr = match self.opts.connect.to_socket_addrs().map(|mut a| a.next()) {
            Ok(Some(a)) => a,
            _ => {
                self.log(format_args!("bad address {}", self.opts.connect));
                return;
            }
        };
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        // The simulator acts on reset and power requests by sending them to us; we log
        // them (a real host would act). It raises attention when a message waits.
        let hello = vmproto::encode_control(&[op::CAPABILITIES, caps::ATTN | caps::RESET]);
        if stream.write_all(&hello).is_err() {
            return;
        }
        self.stats.reconnects += 1;
        self.log(format_args!("connected to {}", self.opts.connect));
        self.link = Some(Link {
            stream,
            decoder: Decoder::new(),
        });
    }

    /// The simulator went away: every request it had is answered with an error now.
    fn drop_link(&mut self, why: &str) {
        if self.link.take().is_none() {
            return;
        }
        let mut n = 0;
        for r in self.queue.iter_mut().filter(|r| r.answer.is_none()) {
            r.answer = Some(r.error(CC_NO_RESPONSE));
            n += 1;
        }
        self.stats.disconnected += n;
        self.log(format_args!(
            "simulator connection lost ({why}); {n} request(s) in flight answered 0x{CC_NO_RESPONSE:02x}"
        ));
        self.next_try = Instant::now() + self.opts.retry;
    }

    fn alloc_seq(&mut self) -> u8 {
        loop {
            let s = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            if !self.queue.iter().any(|r| r.seq == s) {
                return s;
            }
        }
    }

    /// A request read from the device.
    fn request(&mut self, req: &[u8]) {
        if req.len() < 2 {
            // The driver never delivers less than netfn and cmd; answer nothing we cannot
            // address, but keep the one-answer-per-read rule.
            self.log(format_args!("short request {req:02x?}"));
        }
        let netfn_lun = req.first().copied().unwrap_or(0);
        let cmd = req.get(1).copied().unwrap_or(0);
        let seq = self.alloc_seq();
        let mut r = InFlight {
            seq,
            netfn_lun,
            cmd,
            read_at: Instant::now(),
            deadline: Instant::now() + self.opts.deadline,
            answer: None,
        };
        if self.opts.verbose {
            self.log(format_args!(
                "request seq {seq} {:02x?}",
                &req[..req.len().min(8)]
            ));
        }
        if netfn_lun >> 2 == NETFN_APP && cmd == CMD_GET_SYSTEM_INTERFACE_CAPS {
            // SSIF capabilities: what our driver does (multi-part reads and writes, PEC,
            // 254-byte messages), for the SSIF interface type only.
            let mut a = r.error(CC_OK);
            if req.get(2) == Some(&0) {
                a.extend_from_slice(&[0x00, SSIF_CAPS, PAYLOAD_MAX as u8, PAYLOAD_MAX as u8]);
            } else {
                a[2] = 0xcc; // invalid data field: not the SSIF interface
            }
            r.answer = Some(a);
            self.stats.local += 1;
        } else if let Some(link) = self.link.as_mut() {
            let frame = vmproto::encode_request(seq, req);
            if let Err(e) = link.stream.write_all(&frame) {
                self.queue.push_back(r);
                self.drop_link(&format!("write: {e}"));
                return;
            }
            self.stats.forwarded += 1;
        } else {
            r.answer = Some(r.error(CC_NO_RESPONSE));
            self.stats.disconnected += 1;
        }
        self.queue.push_back(r);
    }

    /// Bytes from the simulator.
    fn read_sim(&mut self) {
        let mut buf = [0u8; 1024];
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let n = match link.stream.read(&mut buf) {
            Ok(0) => return self.drop_link("closed"),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) => return self.drop_link(&format!("read: {e}")),
        };
        let mut frames = Vec::new();
        link.decoder.push(&buf[..n], &mut frames);
        for f in frames {
            match f {
                Frame::Message { seq, payload } => self.answer(seq, payload),
                Frame::Control(c) => self.control(c),
                Frame::Bad(b) => {
                    self.stats.bad_frames += 1;
                    self.log(format_args!("bad frame from the simulator: {b:?}"));
                }
            }
        }
    }

    fn answer(&mut self, seq: u8, payload: Vec<u8>) {
        let verbose = self.opts.verbose;
        let Some(r) = self
            .queue
            .iter_mut()
            .find(|r| r.seq == seq && r.answer.is_none())
        else {
            // An answer after our deadline answered 0xCE, or to a request of a previous
            // connection.
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
        if verbose {
            eprintln!(
                "ssif-bridge: answer seq {seq} cc {:02x} ({} bytes)",
                a[2],
                a.len()
            );
        }
        let took = r.read_at.elapsed();
        r.answer = Some(a);
        self.stats.answered += 1;
        self.stats.slowest = self.stats.slowest.max(took);
    }

    fn control(&mut self, c: Control) {
        match c {
            Control::Version(v) if v == vmproto::VERSION => {
                self.log(format_args!("simulator speaks VM protocol version {v}"))
            }
            Control::Version(v) => self.log(format_args!(
                "simulator speaks VM protocol version {v}, we speak {}",
                vmproto::VERSION
            )),
            // The host's SSIF driver polls Get Message Flags; attention changes nothing.
            Control::Attention { raised, .. } => {
                if self.opts.verbose {
                    self.log(format_args!(
                        "attention {}",
                        if raised { "raised" } else { "cleared" }
                    ))
                }
            }
            other => self.log(format_args!("control from the simulator: {other:?}")),
        }
    }

    /// Requests past our deadline are answered 0xCE, as ssifbridged does.
    fn expire(&mut self) {
        let now = Instant::now();
        let mut n = 0;
        for r in self.queue.iter_mut() {
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

    /// Writes the answers at the head of the queue, in order. Err: the device is gone.
    fn flush(&mut self, fd: libc::c_int) -> Result<(), ()> {
        while self.queue.front().is_some_and(|r| r.answer.is_some()) {
            let r = self.queue.pop_front().unwrap();
            let a = r.answer.unwrap();
            let mut out = (a.len() as u32).to_ne_bytes().to_vec();
            out.extend_from_slice(&a);
            // SAFETY: `out` is valid for `out.len()` bytes.
            let w = unsafe { libc::write(fd, out.as_ptr().cast(), out.len()) };
            if w >= 0 {
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                // The driver dropped this request at its response deadline; the answer
                // belonged to it. The next answer is for the next request.
                Some(libc::ETIMEDOUT) => {
                    self.stats.dropped_by_driver += 1;
                    self.log(format_args!(
                        "answer seq {} came after the driver dropped its request",
                        r.seq
                    ));
                }
                Some(libc::ENODEV) => return Err(()),
                _ => self.log(format_args!("write (seq {}): {e}", r.seq)),
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
                    fd: l.stream.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
            }
            let now = Instant::now();
            let mut wait = Duration::from_millis(POLL_MS);
            if let Some(d) = self
                .queue
                .iter()
                .filter(|r| r.answer.is_none())
                .map(|r| r.deadline)
                .min()
            {
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
            self.expire();
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
            "ssif-bridge: stats forwarded={} answered={} local={} deadline={} disconnected={} dropped_by_driver={} stray={} bad_frames={} connects={} slowest_ms={}",
            self.forwarded,
            self.answered,
            self.local,
            self.deadline,
            self.disconnected,
            self.dropped_by_driver,
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
    let mut bridge = Bridge {
        opts,
        link: None,
        next_try: Instant::now(),
        queue: VecDeque::new(),
        next_seq: 0,
        stats: Stats::default(),
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
        eprintln!("ssif-bridge: serving {}", bridge.opts.device);
        bridge.serve(fd);
        // Requests of a device that went away have no one to answer to.
        bridge.queue.clear();
        // SAFETY: `fd` is ours.
        unsafe { libc::close(fd) };
    }
}

// SPDX-License-Identifier: GPL-2.0
//! A synchronous responder on `/dev/ipmi-ssif-host`: it reads a request, answers it, then
//! reads the next. The device calls are ssifbridged's (`O_RDWR | O_NONBLOCK`, `poll`, a
//! 258-byte read buffer, one `write()` of `[u32 len][netfn|1][cmd][cc][data]` per reply), its
//! answer policy is not: ssifbridged reads on while ipmid works and answers only the newest
//! request (`ssif-bridge`'s default policy; the real one runs in bmcsim). Answers a few App
//! commands and an OEM echo (see `ipmi::answer`); anything else gets completion code 0xC1.
//!
//! Options: `--device PATH`, `--delay-ms N` (answer late), `--slow-cmd NETFN:CMD` (only
//! that command is answered late), `--retry-ms N` (reopen interval), `-v` (log every
//! request, all its bytes), `--stamps PATH` (share per-request timestamps with `ssif-vmtest bench`, see
//! `ssif_tools::stamps`). SIGTERM closes the device and exits. It always logs `serving`, `device gone` and, per open, the mean time of its `read()` and
//! `write()` calls.
//!
//! `--fifo PRIO` runs it under `SCHED_FIFO` at that priority: on the client's CPU it then
//! answers before a normal-priority client runs again, as the deterministic benchmark needs.

use ssif_tools::{
    ipmi::{answer, READ_BUF},
    stamps::{self, Stamps},
};
use std::{
    ffi::CString,
    io, thread,
    time::{Duration, Instant},
};

/// Longest `poll()`: a SIGTERM that came while the loop was not in `poll()` is noticed after at
/// most this long.
const POLL_MS: libc::c_int = 100;

fn open(path: &str) -> io::Result<libc::c_int> {
    let c = CString::new(path).unwrap();
    // SAFETY: `c` is a valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

fn main() {
    let args = ssif_tools::args::Args::from_env();
    let opt = |name: &str| args.opt(name);
    let device = opt("--device").unwrap_or_else(ssif_tools::dev::default_path);
    let delay = Duration::from_millis(opt("--delay-ms").and_then(|v| v.parse().ok()).unwrap_or(0));
    let verbose = args.flag("-v");
    let retry = Duration::from_millis(
        opt("--retry-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
    );
    let slow: Option<(u8, u8)> = opt("--slow-cmd").and_then(|v| {
        let (n, c) = v.split_once(':')?;
        let p = |x: &str| u8::from_str_radix(x.trim_start_matches("0x"), 16).ok();
        Some((p(n)?, p(c)?))
    });
    let stamps = opt("--stamps").map(|p| Stamps::open(&p).expect("--stamps"));
    if let Some(prio) = opt("--fifo") {
        let param = libc::sched_param {
            sched_priority: prio.parse().expect("--fifo PRIO"),
        };
        // SAFETY: `param` is valid for the call; 0 is this process.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
            eprintln!("ssif-responder: --fifo: {}", io::Error::last_os_error());
            std::process::exit(1);
        }
    }
    let mut global_enables = 0u8;
    ssif_tools::sigterm::catch();

    while !ssif_tools::sigterm::terminated() {
        let fd = match open(&device) {
            Ok(fd) => fd,
            Err(e) => {
                eprintln!("ssif-responder: open {device}: {e}; retrying");
                thread::sleep(retry);
                continue;
            }
        };
        eprintln!("ssif-responder: serving {device}");
        serve(
            fd,
            delay,
            slow,
            verbose,
            stamps.as_ref(),
            &mut global_enables,
        );
        // SAFETY: `fd` is ours.
        unsafe { libc::close(fd) };
    }
}

/// Time spent in the device's file operations, for profiling (printed when the device goes).
#[derive(Default)]
struct Stats {
    requests: u32,
    read: Duration,
    write: Duration,
}

impl Drop for Stats {
    fn drop(&mut self) {
        let n = self.requests.max(1);
        let us = |d: Duration| d.as_nanos() as f64 / 1000.0 / f64::from(n);
        eprintln!(
            "ssif-responder: stats requests={} read_us={:.1} write_us={:.1}",
            self.requests,
            us(self.read),
            us(self.write)
        );
    }
}

/// Serves until the device goes away (unbind: POLLHUP / ENODEV) or SIGTERM.
fn serve(
    fd: libc::c_int,
    delay: Duration,
    slow: Option<(u8, u8)>,
    verbose: bool,
    stamps: Option<&Stamps>,
    global_enables: &mut u8,
) {
    let mut buf = [0u8; READ_BUF];
    let mut stats = Stats::default();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        if ssif_tools::sigterm::terminated() {
            return;
        }
        // SAFETY: `pfd` is valid for the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
        if ssif_tools::sigterm::terminated() {
            return;
        }
        if ready <= 0 {
            continue;
        }
        let woke = stamps.map_or(0, |_| stamps::now_ns());
        if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            eprintln!("ssif-responder: device gone");
            return;
        }
        let t = Instant::now();
        // SAFETY: `buf` is valid for `buf.len()` bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        stats.read += t.elapsed();
        let read_done = stamps.map_or(0, |_| stamps::now_ns());
        if n < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
                _ => return,
            }
        }
        let len = u32::from_ne_bytes(buf[..4].try_into().unwrap()) as usize;
        let request = &buf[4..4 + len.min(READ_BUF - 4)];
        let response = answer(request, global_enables);
        if verbose {
            eprintln!(
                "ssif-responder: request {request:02x?} -> {} bytes",
                response.len()
            );
        }
        let is_slow = match slow {
            Some((netfn, cmd)) => {
                request.len() >= 2 && request[0] >> 2 == netfn && request[1] == cmd
            }
            None => true,
        };
        if is_slow {
            thread::sleep(delay);
        }
        let mut out = (response.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(&response);
        if let Some(s) = stamps {
            s.publish(stamps::Request {
                woke,
                read: read_done,
                write: stamps::now_ns(),
            });
        }
        let t = Instant::now();
        // SAFETY: `out` is valid for `out.len()` bytes.
        let w = unsafe { libc::write(fd, out.as_ptr().cast(), out.len()) };
        stats.write += t.elapsed();
        stats.requests += 1;
        if w < 0 {
            eprintln!("ssif-responder: write: {}", io::Error::last_os_error());
        }
    }
}

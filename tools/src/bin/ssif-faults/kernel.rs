// SPDX-License-Identifier: GPL-2.0
//! What the kernel says went wrong: reports in its log, read from `/dev/kmsg` as they come
//! (so a wrapped log ring loses nothing: a reader that falls behind is told, and that counts
//! too), plus what the kernel records itself: the taint flags and lockdep's `debug_locks`.

use std::{
    fs,
    io::Read,
    ops::Range,
    sync::{Arc, Mutex},
    thread,
};

/// Taint flag O: out-of-tree modules are loaded (ours and the link are), not a problem.
const TAINT_OOT_MODULE: u64 = 1 << 12;

#[derive(Default)]
struct Log {
    /// The report lines seen, in order.
    reports: Vec<String>,
    /// Times the reader fell behind the ring (`EPIPE`): messages it never saw.
    overruns: u64,
}

pub(crate) struct Kernel {
    log: Arc<Mutex<Log>>,
}

/// A snapshot.
pub(crate) struct State {
    /// Report lines so far.
    pub(crate) reports: usize,
    /// Everything that counts as a splat: reports, overruns, taint flags set (but O),
    /// lockdep switched off.
    pub(crate) splats: u64,
    pub(crate) lockdep_on: bool,
}

impl Kernel {
    /// Starts reading the kernel log from its first message.
    pub(crate) fn watch() -> Kernel {
        let patterns: Vec<String> = std::env::var("SPLAT_PATTERN")
            .expect("SPLAT_PATTERN must list the report patterns")
            .split('|')
            .map(String::from)
            .collect();
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = log.clone();
        let mut kmsg = fs::File::open("/dev/kmsg").expect("open /dev/kmsg");
        thread::spawn(move || {
            // One record per read(); 8 KiB is more than a record can be.
            let mut buf = vec![0u8; 8192];
            loop {
                match kmsg.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        let text = String::from_utf8_lossy(&buf[..n]);
                        // "prio,seq,time,flags;message\n" then continuation lines.
                        let message = text.split_once(';').map_or(&*text, |(_, m)| m);
                        let first = message.lines().next().unwrap_or("");
                        if patterns.iter().any(|p| first.contains(p.as_str())) {
                            shared.lock().unwrap().reports.push(first.to_string());
                        }
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                        shared.lock().unwrap().overruns += 1;
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                    Err(e) => panic!("read /dev/kmsg: {e}"),
                }
            }
        });
        Kernel { log }
    }

    pub(crate) fn state(&self) -> State {
        let taint = fs::read_to_string("/proc/sys/kernel/tainted")
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0)
            & !TAINT_OOT_MODULE;
        // Without lockdep in the kernel there is no such file: nothing to switch off.
        let lockdep_on = fs::read_to_string("/proc/lockdep_stats").map_or(true, |s| {
            !s.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["debug_locks:", "0"])
        });
        let log = self.log.lock().unwrap();
        State {
            reports: log.reports.len(),
            splats: log.reports.len() as u64
                + log.overruns
                + u64::from(taint.count_ones())
                + u64::from(!lockdep_on),
            lockdep_on,
        }
    }

    /// The report lines in `range` (of [`State::reports`] counts).
    pub(crate) fn reports(&self, range: Range<usize>) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.reports
            .get(range)
            .unwrap_or(&[])
            .iter()
            .take(5)
            .cloned()
            .collect()
    }
}

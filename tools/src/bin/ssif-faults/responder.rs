// SPDX-License-Identifier: GPL-2.0
//! The `ssif-responder` the campaign runs and restarts, and its log: with `-v` it logs every
//! request it reads, which tells whether a request reached user space.

use std::{
    fs,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

const LOG: &str = "/tmp/responder.log";

pub(crate) struct Responder {
    child: Option<Child>,
    delay: Duration,
}

/// A position in the responder's log.
#[derive(Clone, Copy)]
pub(crate) struct Mark(usize);

fn log() -> String {
    fs::read_to_string(LOG).unwrap_or_default()
}

/// How `ssif-responder -v` logs a request: its bytes as `{:02x?}` prints them.
pub(crate) fn logged(request: &[u8]) -> String {
    format!("request {request:02x?}")
}

impl Responder {
    /// A responder that answers OEM 0x30/0x02 (slow echo) after `delay`, everything else at
    /// once, and reopens the device every 10 ms when it is gone.
    pub(crate) fn new(delay: Duration) -> Responder {
        Responder { child: None, delay }
    }

    /// The log's end now.
    pub(crate) fn mark(&self) -> Mark {
        Mark(log().len())
    }

    /// The log since `mark`.
    pub(crate) fn since(&self, mark: Mark) -> String {
        log().get(mark.0..).unwrap_or("").to_string()
    }

    /// Waits up to `wait` until the log since `mark` contains `text`.
    pub(crate) fn wait_for(&self, mark: Mark, text: &str, wait: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < wait {
            if self.since(mark).contains(text) {
                return true;
            }
            thread::sleep(Duration::from_millis(2));
        }
        false
    }

    /// Starts a new responder and waits (up to 5 s) until it has the device open.
    pub(crate) fn start(&mut self) -> Result<(), String> {
        self.stop();
        let mark = self.mark();
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(LOG)
            .map_err(|e| format!("{LOG}: {e}"))?;
        let child = Command::new("ssif-responder")
            .args([
                "-v",
                "--retry-ms",
                "10",
                "--slow-cmd",
                "30:02",
                "--delay-ms",
            ])
            .arg(self.delay.as_millis().to_string())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn ssif-responder: {e}"))?;
        self.child = Some(child);
        if self.wait_for(mark, "serving", Duration::from_secs(5)) {
            Ok(())
        } else {
            Err("the responder did not open the device within 5 s".into())
        }
    }

    /// Kills the responder (SIGKILL: one that missed a SIGTERM cannot block this) and
    /// reaps it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// The system call `tid` (a task of any process) is blocked in, if any: the first field of
/// `/proc/<tid>/syscall`.
pub(crate) fn syscall_of(tid: u32) -> Option<i64> {
    fs::read_to_string(format!("/proc/{tid}/syscall"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Waits up to `wait` until task `tid` is in one of `calls`.
pub(crate) fn wait_in_syscall(tid: u32, calls: &[i64], wait: Duration) -> Result<(), String> {
    let t = Instant::now();
    loop {
        let now = syscall_of(tid);
        if now.is_some_and(|n| calls.contains(&n)) {
            return Ok(());
        }
        if t.elapsed() > wait {
            return Err(format!(
                "task {tid} in syscall {now:?}, not one of {calls:?}"
            ));
        }
        thread::sleep(Duration::from_millis(2));
    }
}

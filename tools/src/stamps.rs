// SPDX-License-Identifier: GPL-2.0
//! Timestamps the responder shares with the benchmark client through a memory-mapped file, so
//! that the wait phase can be split into the responder's steps on one clock
//! (`CLOCK_MONOTONIC`, the same on every CPU).
//!
//! The responder stores when `poll()` returned, when `read()` returned and when it called
//! `write()`, then bumps a sequence number (release). The client reads them (acquire) after
//! the read that got the response. The responder only writes the next request's stamps once
//! the client has sent that request, after it read these: nothing is read half-written.

use std::{
    ffi::CString,
    io,
    sync::atomic::{AtomicU64, Ordering},
};

/// One request's stamps, in ns of `CLOCK_MONOTONIC`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request {
    /// `poll()` returned: the responder is awake.
    pub woke: u64,
    /// `read()` of the request returned.
    pub read: u64,
    /// `write()` of the answer is about to be called.
    pub write: u64,
}

/// Slots: the sequence number, then [`Request`]'s fields.
const SLOTS: usize = 4;
const LEN: usize = 4096;

/// A shared page of stamps.
pub struct Stamps {
    slots: *const AtomicU64,
}

impl Stamps {
    /// Maps `path` (created and sized if needed).
    pub fn open(path: &str) -> io::Result<Stamps> {
        let c = CString::new(path).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: `c` is a valid C string.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CREAT, 0o600) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is ours. Growing a file keeps its contents; a new one reads as zeroes.
        let sized = unsafe { libc::ftruncate(fd, LEN as libc::off_t) };
        let map = if sized == 0 {
            // SAFETY: a new shared mapping of `LEN` bytes of `fd`, which is that long.
            unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    LEN,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    fd,
                    0,
                )
            }
        } else {
            libc::MAP_FAILED
        };
        let err = io::Error::last_os_error();
        // SAFETY: `fd` is ours; the mapping stays valid after it is closed.
        unsafe { libc::close(fd) };
        if map == libc::MAP_FAILED {
            return Err(err);
        }
        Ok(Stamps {
            slots: map.cast::<AtomicU64>(),
        })
    }

    fn slot(&self, i: usize) -> &AtomicU64 {
        assert!(i < SLOTS);
        // SAFETY: the mapping is page-aligned, `LEN` bytes long and never unmapped, so slot `i`
        // is an aligned `u64` inside it; other processes only access it atomically too.
        unsafe { &*self.slots.add(i) }
    }

    /// Publishes one request's stamps (responder).
    pub fn publish(&self, r: Request) {
        self.slot(1).store(r.woke, Ordering::Relaxed);
        self.slot(2).store(r.read, Ordering::Relaxed);
        self.slot(3).store(r.write, Ordering::Relaxed);
        self.slot(0).fetch_add(1, Ordering::Release);
    }

    /// The sequence number and the last request's stamps (client).
    pub fn latest(&self) -> (u64, Request) {
        let seq = self.slot(0).load(Ordering::Acquire);
        let r = Request {
            woke: self.slot(1).load(Ordering::Relaxed),
            read: self.slot(2).load(Ordering::Relaxed),
            write: self.slot(3).load(Ordering::Relaxed),
        };
        (seq, r)
    }
}

/// `CLOCK_MONOTONIC` in ns.
pub fn now_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is valid for writes.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The responder and the client map the file separately: what one publishes, the other
    /// reads, with the sequence number counting the requests; opening it again keeps it.
    #[test]
    fn a_second_mapping_sees_what_the_first_published() {
        let path = std::env::temp_dir().join(format!("ssif-stamps-test-{}", std::process::id()));
        let path = path.to_str().unwrap();
        let responder = Stamps::open(path).unwrap();
        let client = Stamps::open(path).unwrap();
        assert_eq!(client.latest().0, 0);
        responder.publish(Request {
            woke: 10,
            read: 20,
            write: 30,
        });
        let (seq, r) = client.latest();
        assert_eq!((seq, r.woke, r.read, r.write), (1, 10, 20, 30));
        responder.publish(Request {
            woke: 40,
            read: 50,
            write: 60,
        });
        let again = Stamps::open(path).unwrap();
        let (seq, r) = again.latest();
        assert_eq!((seq, r.woke, r.read, r.write), (2, 40, 50, 60));
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn the_clock_does_not_go_back() {
        let a = now_ns();
        let b = now_ns();
        assert!(a > 0 && b >= a);
    }
}

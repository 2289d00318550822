// SPDX-License-Identifier: GPL-2.0
//! Bus-level tests through the software SMBus link (`/dev/i2c-N` of "ssif-link-host"), for the
//! sequences Linux's ipmi_ssif never sends. Needs the driver bound on "ssif-link-bmc" at 0x10,
//! `ssif-responder` serving it, and no host driver on the link.
//!
//! Usage: `ssif-vmtest BUS COUNTERS_FILE` (bus sequences, with `ssif-responder` running) or
//! `ssif-vmtest abi BUS COUNTERS_FILE` (the file ABI, with nobody else holding the device).
//! Prints `vmtest: NAME ok|FAIL ...` per scenario and `vmtest: N passed, N failed`; exits
//! non-zero on any failure. `ssif-vmtest clean BUS`: one clean Get Device ID; `bench|fileops ...`:
//! the benchmark's two measurements (see those functions); `calibrate`, `icount-ops`, `txn`: the
//! deterministic benchmark's (`-icount`). `ssif-vmtest late-answer DEADLINE_MS`: a late answer
//! through Linux's ipmi_ssif and ipmitool (see [`late_answer`]).

use ssif_tools::{
    dev::{errno, msg, Dev},
    ipmi::answer,
    smbus::Smbus,
    ssif,
    stamps::{self, Stamps},
};
use std::{
    collections::HashMap,
    fs, thread,
    time::{Duration, Instant},
};

const ADDR: u16 = 0x10;
const GET_DEVICE_ID: [u8; 2] = [0x18, 0x01];

struct Ctx {
    bus: Smbus,
    counters: String,
}

type Outcome = Result<(), String>;
/// A named scenario: it passes if it returns `Ok`.
type Scenario = (&'static str, fn(&Ctx) -> Outcome);

impl Ctx {
    /// The target at 0x10 on `/dev/i2c-<bus>`; `counters` is its debugfs counters file.
    fn open(bus: u32, counters: String) -> Ctx {
        Ctx {
            bus: Smbus::open(bus, ADDR).expect("open i2c bus"),
            counters,
        }
    }

    fn counters(&self) -> HashMap<String, u64> {
        fs::read_to_string(&self.counters)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
            .collect()
    }

    /// Runs `f` and checks that counter `name` grew by exactly `by`.
    fn expect_counter(&self, name: &str, by: u64, f: impl FnOnce(&Ctx) -> Outcome) -> Outcome {
        let before = self
            .counters()
            .get(name)
            .copied()
            .ok_or(format!("no counter {name}"))?;
        f(self)?;
        let after = self.counters()[name];
        if after != before + by {
            return Err(format!("{name}: {before} -> {after}, expected +{by}"));
        }
        Ok(())
    }

    fn write_request(&self, msg: &[u8]) -> Outcome {
        ssif::write_request(&self.bus, msg)
    }

    /// Reads 0x03, retrying while the BMC NAKs (it is busy until user space answers).
    fn read_first(&self) -> Result<Vec<u8>, String> {
        ssif::read_first(&self.bus, Duration::from_secs(2))
    }

    fn read_response(&self) -> Result<Vec<u8>, String> {
        ssif::read_response(&self.bus, Duration::from_secs(2))
    }

    /// Given the first part (0x03), reads the middle/end parts (0x09) of a multi-part response.
    fn read_rest(&self, first: Vec<u8>) -> Result<Vec<u8>, String> {
        ssif::read_rest(&self.bus, first)
    }

    /// As `transact`, polling the first read every 50 us (the same for every driver), and
    /// adding the time of each phase to `phases`.
    fn transact_polling(&self, msg: &[u8], phases: &mut Phases) -> Result<Vec<u8>, String> {
        let t0 = Instant::now();
        self.write_request(msg)?;
        let t1 = Instant::now();
        // On the responder's clock, read directly: an `Instant` carried over to it through
        // one calibration pair was off by 130 us in a run (the pair straddled a stall).
        let stamped = phases.responder.is_some();
        let end_ns = if stamped { stamps::now_ns() } else { 0 };
        phases.write += t1 - t0;
        for _ in 0..100_000 {
            let t = Instant::now();
            let t_ns = if stamped { stamps::now_ns() } else { 0 };
            if let Ok(first) = self.bus.block_read(0x03) {
                phases.wait += t - t1;
                if let Some(r) = &mut phases.responder {
                    r.add(end_ns, t_ns);
                }
                let out = self.read_rest(first);
                phases.read += t.elapsed();
                return out;
            }
            phases.naks += 1;
            let slept = Instant::now();
            phases.nak_time += slept - t;
            thread::sleep(Duration::from_micros(50));
            phases.sleep_time += slept.elapsed();
        }
        Err("no response".into())
    }

    fn transact(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        self.write_request(msg)?;
        self.read_response()
    }

    /// The transaction every fault must be followed by: it must succeed.
    fn clean(&self) -> Outcome {
        for pec in [true, false] {
            self.bus.set_pec(pec).map_err(|e| e.to_string())?;
            let got = self.transact(&GET_DEVICE_ID)?;
            let want = answer(&GET_DEVICE_ID, &mut 0);
            if got != want {
                return Err(format!("Get Device ID (pec={pec}): got {got:02x?}"));
            }
        }
        Ok(())
    }
}

fn echo(data: &[u8]) -> Vec<u8> {
    let mut req = vec![0x30 << 2, 0x01];
    req.extend_from_slice(data);
    req
}

fn set_link_fault(name: &str, value: &str) -> Outcome {
    fs::write(format!("/sys/module/ssif_link/parameters/{name}"), value)
        .map_err(|e| format!("{name}: {e}"))
}

fn scenarios() -> Vec<Scenario> {
    vec![
        ("get_device_id_with_and_without_pec", |c| c.clean()),
        ("echo_200_bytes_multipart_both_ways", |c| {
            let data: Vec<u8> = (0..198u32).map(|i| (i * 13 + 5) as u8).collect();
            let got = c.transact(&echo(&data))?;
            (got == answer(&echo(&data), &mut 0))
                .then_some(())
                .ok_or(format!("echo mismatch: {got:02x?}"))
        }),
        ("zero_length_0x07_ends_message", |c| {
            let req = echo(&[0x42; 62]); // 64 bytes: START 32 + MIDDLE 32 + MIDDLE 0
            c.bus
                .block_write(0x06, &req[..32])
                .map_err(|e| e.to_string())?;
            c.bus
                .block_write(0x07, &req[32..])
                .map_err(|e| e.to_string())?;
            // i2c-dev refuses empty SMBus block writes: send the bytes raw.
            c.bus.raw_write(&[0x07, 0x00]).map_err(|e| e.to_string())?;
            let got = c.read_response()?;
            (got == answer(&req, &mut 0))
                .then_some(())
                .ok_or(format!("got {got:02x?}"))
        }),
        ("retry_0x0a_rereads_a_block", |c| {
            c.write_request(&echo(&[7; 98]))?;
            c.read_first()?;
            let b0 = c.bus.block_read(0x09).map_err(|e| e.to_string())?;
            let _b1 = c.bus.block_read(0x09).map_err(|e| e.to_string())?;
            c.bus
                .block_write(0x0a, &[0x00])
                .map_err(|e| e.to_string())?;
            let again = c.bus.block_read(0x09).map_err(|e| e.to_string())?;
            (again == b0)
                .then_some(())
                .ok_or(format!("block 0 {b0:02x?} then {again:02x?}"))
        }),
        ("whole_response_replays_from_0x03", |c| {
            let first = c.transact(&echo(&[9; 100]))?;
            let again = c.read_response()?;
            (first == again)
                .then_some(())
                .ok_or("replay differs".into())
        }),
        ("bad_pec_is_dropped_and_counted", |c| {
            c.expect_counter("pec_errors", 1, |c| {
                c.bus
                    .raw_write(&[0x02, 0x02, 0x18, 0x01, 0x67])
                    .map_err(|e| e.to_string())
            })?;
            let got = c.bus.block_read(0x03).map_err(|e| e.to_string())?;
            got.is_empty()
                .then_some(())
                .ok_or(format!("dropped request answered: {got:02x?}"))
        }),
        ("link_corrupted_byte_fails_pec", |c| {
            c.bus.set_pec(true).map_err(|e| e.to_string())?;
            c.expect_counter("pec_errors", 1, |c| {
                set_link_fault("fault_corrupt", "3")?;
                c.bus
                    .block_write(0x02, &GET_DEVICE_ID)
                    .map_err(|e| e.to_string())
            })
        }),
        ("truncated_part_is_dropped", |c| {
            c.expect_counter("abort_truncated", 1, |c| {
                c.bus
                    .raw_write(&[0x02, 0x05, 0x18, 0x01])
                    .map_err(|e| e.to_string())
            })
        }),
        ("link_cut_transfer_is_dropped", |c| {
            c.expect_counter("abort_truncated", 1, |c| {
                set_link_fault("fault_truncate", "3")?;
                let _ = c.bus.block_write(0x02, &[0x18, 0x01, 0x02, 0x03]);
                Ok(())
            })
        }),
        ("read_with_nothing_pending_is_empty", |c| {
            // The last response stays replayable until a request starts: start one that is
            // dropped (truncated), so that nothing is pending.
            let _ = c.bus.raw_write(&[0x02, 0x05, 0x18]);
            c.expect_counter("empty_reads", 1, |c| {
                let got = c.bus.block_read(0x03).map_err(|e| e.to_string())?;
                got.is_empty()
                    .then_some(())
                    .ok_or(format!("got {got:02x?}"))
            })
        }),
        ("overlong_part_is_dropped", |c| {
            c.expect_counter("abort_overlong_part", 1, |c| {
                let mut raw = vec![0x02, 35];
                raw.extend_from_slice(&[0xee; 36]);
                let _ = c.bus.raw_write(&raw);
                Ok(())
            })
        }),
        ("middle_without_start_is_dropped", |c| {
            c.expect_counter("abort_no_start", 1, |c| {
                c.bus
                    .block_write(0x07, &[0x11; 32])
                    .map_err(|e| e.to_string())
            })
        }),
        ("message_over_254_bytes_is_aborted", |c| {
            c.expect_counter("abort_message_too_long", 1, |c| {
                c.bus
                    .block_write(0x06, &[0x22; 32])
                    .map_err(|e| e.to_string())?;
                for _ in 0..7 {
                    c.bus
                        .block_write(0x07, &[0x22; 32])
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        }),
        ("unknown_command_is_refused", |c| {
            c.expect_counter("abort_unknown_command", 1, |c| {
                let _ = c.bus.raw_write(&[0x55, 0x01, 0x02]);
                Ok(())
            })
        }),
        ("missing_stop_then_restart", |c| {
            set_link_fault("fault_no_stop", "1")?;
            c.bus
                .raw_write(&[0x02, 0x02, 0x18])
                .map_err(|e| e.to_string())?;
            Ok(())
        }),
    ]
}

/// An epoll instance watching one file descriptor.
struct Epoll(libc::c_int);

impl Epoll {
    /// Watches `fd` for `events` (`EPOLL*` bits).
    fn new(fd: libc::c_int, events: u32) -> Result<Epoll, String> {
        // SAFETY: no pointer arguments.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(format!("epoll_create1: errno {}", errno()));
        }
        let ep = Epoll(ep);
        let mut ev = libc::epoll_event { events, u64: 0 };
        // SAFETY: `ev` is valid for the call.
        if unsafe { libc::epoll_ctl(ep.0, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(format!("epoll_ctl: errno {}", errno()));
        }
        Ok(ep)
    }

    /// Waits up to `timeout_ms`; the ready events, 0 on timeout.
    fn wait(&self, timeout_ms: i32) -> u32 {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: room for one event.
        let n = unsafe { libc::epoll_wait(self.0, &mut ev, 1, timeout_ms) };
        if n == 1 {
            ev.events
        } else {
            0
        }
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: our fd.
        unsafe { libc::close(self.0) };
    }
}

fn want<T: PartialEq + std::fmt::Debug>(what: &str, got: T, expected: T) -> Outcome {
    (got == expected)
        .then_some(())
        .ok_or(format!("{what}: got {got:?}, expected {expected:?}"))
}

fn open_dev() -> Result<Dev, String> {
    Dev::open(libc::O_NONBLOCK).map_err(|e| format!("open: errno {e}"))
}

/// The host sends Get Device ID; one thread waits with `wait` (2 s timeout) for the file to
/// become writable while another reads the request 200 ms later. The waiter must wake then
/// with `expected`, not at its timeout. Then the request is answered. (Had the waiter not yet
/// slept, it sees the events at once: the race can only let a broken driver pass, never fail
/// a sound one.)
fn read_wakes_writable_waiter<E>(
    c: &Ctx,
    d: &Dev,
    wait: impl FnOnce() -> E + Send,
    expected: E,
) -> Outcome
where
    E: PartialEq + std::fmt::Debug + Send,
{
    c.write_request(&GET_DEVICE_ID)?;
    let (read, waited) = thread::scope(|s| {
        let waiter = s.spawn(|| {
            let t = Instant::now();
            (wait(), t.elapsed())
        });
        thread::sleep(Duration::from_millis(200));
        (d.read(258), waiter.join())
    });
    want("read", read, Ok(msg(&GET_DEVICE_ID)))?;
    let (events, took) = waited.map_err(|_| "waiter panicked")?;
    want("waiter's events", events, expected)?;
    want(
        "waiter woke before 1 s",
        took < Duration::from_secs(1),
        true,
    )?;
    let resp = answer(&GET_DEVICE_ID, &mut 0);
    want("write", d.write(&msg(&resp)), Ok(4 + resp.len()))?;
    want("host reads the response", c.read_response(), Ok(resp))
}

/// The file ABI of `/dev/ipmi-ssif-host`, checked against the real driver.
fn abi_scenarios() -> Vec<Scenario> {
    vec![
        ("nonblocking_read_with_nothing_is_eagain", |_| {
            let d = open_dev()?;
            want("poll", d.poll(), 0)?;
            want("read", d.read(258).map(|_| ()), Err(libc::EAGAIN))
        }),
        ("second_open_is_ebusy", |_| {
            let _d = open_dev()?;
            want("second open", Dev::open(0).map(|_| ()), Err(libc::EBUSY))
        }),
        ("request_read_poll_write_cycle", |c| {
            let d = open_dev()?;
            c.write_request(&GET_DEVICE_ID)?;
            want("poll with a request", d.poll(), libc::POLLIN)?;
            want(
                "busy host read NAKed",
                c.bus.block_read(0x03).is_err(),
                true,
            )?;
            // Too small a buffer: EINVAL, and the request stays queued.
            want("short read", d.read(5).map(|_| ()), Err(libc::EINVAL))?;
            want("read", d.read(258), Ok(msg(&GET_DEVICE_ID)))?;
            want("poll after read", d.poll(), libc::POLLOUT)?;
            // Bad writes: EINVAL, state untouched.
            let resp = answer(&GET_DEVICE_ID, &mut 0);
            want("count < 4", d.write(&[1, 0]), Err(libc::EINVAL))?;
            want("len 0", d.write(&msg(&[])), Err(libc::EINVAL))?;
            want(
                "count < 4 + len",
                d.write(&msg(&resp)[..6]),
                Err(libc::EINVAL),
            )?;
            want("count > 260", d.write(&[0u8; 261]), Err(libc::EINVAL))?;
            let mut len255 = msg(&[0u8; 254]);
            len255[..4].copy_from_slice(&255u32.to_ne_bytes());
            len255.extend_from_slice(&[0, 0]);
            want("len 255", d.write(&len255), Err(libc::EINVAL))?;
            want("poll still wants a response", d.poll(), libc::POLLOUT)?;
            want("write", d.write(&msg(&resp)), Ok(4 + resp.len()))?;
            want("second write", d.write(&msg(&resp)), Err(libc::EINVAL))?;
            want("host reads the response", c.read_response(), Ok(resp))
        }),
        (
            "read_into_a_bad_buffer_is_efault_and_keeps_the_request",
            |c| {
                let d = open_dev()?;
                c.write_request(&GET_DEVICE_ID)?;
                // Address 8 is in the unmapped first page: the copy out fails, nothing else.
                // SAFETY: the kernel validates the pointer; the call cannot touch our memory.
                let n = unsafe { libc::read(d.fd(), 8usize as *mut libc::c_void, 258) };
                want(
                    "read into an unmapped buffer",
                    (n, errno()),
                    (-1, libc::EFAULT),
                )?;
                // Not delivered, so not taken: it is offered again.
                want("poll after the failed read", d.poll(), libc::POLLIN)?;
                want("read", d.read(258), Ok(msg(&GET_DEVICE_ID)))?;
                let resp = answer(&GET_DEVICE_ID, &mut 0);
                want("write", d.write(&msg(&resp)), Ok(4 + resp.len()))?;
                want("host reads the response", c.read_response(), Ok(resp))
            },
        ),
        ("pollout_waiter_woken_when_the_request_is_read", |c| {
            // A poll() waiter for POLLOUT only must wake when the request is read.
            let d = open_dev()?;
            read_wakes_writable_waiter(c, &d, || d.wait(libc::POLLOUT, 2000), libc::POLLOUT)
        }),
        ("epoll_pollout_waiter_woken_at_every_read", |c| {
            // epoll registers once; its entry stays on the wait queue, and it re-checks the
            // file without registering again. An edge-triggered waiter for EPOLLOUT only
            // must wake each time a request is read, not at its 2 s timeout. From the second
            // request on, only those re-checks can have asked for EPOLLOUT.
            let d = open_dev()?;
            let ep = Epoll::new(d.fd(), (libc::EPOLLOUT | libc::EPOLLET) as u32)?;
            for _ in 0..3 {
                read_wakes_writable_waiter(c, &d, || ep.wait(2000), libc::EPOLLOUT as u32)?;
            }
            Ok(())
        }),
        ("deadline_drops_request_and_late_write_is_etimedout", |c| {
            let d = open_dev()?;
            c.expect_counter("timeouts", 1, |c| {
                c.write_request(&GET_DEVICE_ID)?;
                d.read(258).map_err(|e| format!("read: errno {e}"))?;
                thread::sleep(Duration::from_millis(700));
                Ok(())
            })?;
            // The bus is released: a read is answered, not NAKed, with completion code 0xC3.
            want(
                "host read after expiry",
                c.bus.block_read(0x03).map_err(|e| e.to_string()),
                Ok(vec![0x1c, 0x01, 0xc3]),
            )?;
            let resp = answer(&GET_DEVICE_ID, &mut 0);
            want("late write", d.write(&msg(&resp)), Err(libc::ETIMEDOUT))
        }),
        ("closing_unanswered_request_offers_it_again", |c| {
            c.write_request(&GET_DEVICE_ID)?;
            {
                let d = open_dev()?;
                d.read(258).map_err(|e| format!("read: errno {e}"))?;
            }
            let d = open_dev()?;
            want("read after reopen", d.read(258), Ok(msg(&GET_DEVICE_ID)))?;
            let resp = answer(&GET_DEVICE_ID, &mut 0);
            d.write(&msg(&resp))
                .map_err(|e| format!("write: errno {e}"))?;
            want("host reads the response", c.read_response(), Ok(resp))
        }),
    ]
}

/// Where a bench transaction's time goes, as seen by the host.
#[derive(Default)]
struct Phases {
    /// Writing the request parts (the target's callbacks run inside these transfers).
    write: Duration,
    /// From the end of the request to the start of the read that succeeded: waking the
    /// responder, its `read()`, answering, its `write()`, and the NAKed polls meanwhile.
    wait: Duration,
    /// Reading the response parts, from the first successful read.
    read: Duration,
    /// Reads the target NAKed because no response was ready yet.
    naks: u64,
    /// Of `wait`: the time inside those NAKed reads.
    nak_time: Duration,
    /// Of `wait`: the time in the client's sleeps between them.
    sleep_time: Duration,
    /// The responder's timestamps (`SSIF_STAMPS`), to split `wait` on its side.
    responder: Option<ResponderSteps>,
}

/// The wait phase from the responder's side, summed over the transactions whose stamps were
/// seen (ns; differences of `CLOCK_MONOTONIC` readings on the two CPUs).
struct ResponderSteps {
    stamps: Stamps,
    /// The sequence number of the last stamps used.
    seq: u64,
    /// Transactions counted.
    n: u64,
    /// From the end of the request (the client's last write returned) to `poll()` returning in
    /// the responder. Can be negative: the responder may wake before the client's transfer
    /// has returned.
    wake: i64,
    /// The responder's `read()`, from `poll()` returning.
    read: i64,
    /// From `read()` returning to calling `write()`: building the answer.
    answer: i64,
    /// From calling `write()` to the start of the client's read that got the answer: the
    /// `write()` itself, then the time the answer waited for the client's next poll.
    slack: i64,
}

impl ResponderSteps {
    fn new(stamps: Stamps) -> Self {
        let seq = stamps.latest().0;
        ResponderSteps {
            stamps,
            seq,
            n: 0,
            wake: 0,
            read: 0,
            answer: 0,
            slack: 0,
        }
    }

    /// Counts the responder's last stamps, if they are those of the request just answered:
    /// the client's request ended at `end_ns` and its read that got the answer started at
    /// `ack_ns`.
    fn add(&mut self, end_ns: u64, ack_ns: u64) {
        let (seq, s) = self.stamps.latest();
        if seq == self.seq + 1 {
            let d = |a: u64, b: u64| a as i64 - b as i64;
            self.n += 1;
            self.wake += d(s.woke, end_ns);
            self.read += d(s.read, s.woke);
            self.answer += d(s.write, s.read);
            self.slack += d(ack_ns, s.write);
        }
        self.seq = seq;
    }
}

/// The link's debugfs file: per line a name, a count and nanoseconds (`None` without debugfs).
fn link_time_lines() -> Option<HashMap<String, (u64, u64)>> {
    let text = fs::read_to_string("/sys/kernel/debug/ssif_link/target_time").ok()?;
    text.lines()
        .map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.to_string();
            Some((name, (f.next()?.parse().ok()?, f.next()?.parse().ok()?)))
        })
        .collect()
}

/// The line of the link's file that is not an event type: the cost of its timing alone.
const TIMING_OVERHEAD: &str = "timing_overhead";

/// Per target event type, the events delivered and nanoseconds in the target's callback, from
/// the link's debugfs file (`None` without debugfs).
fn target_time() -> Option<HashMap<String, (u64, u64)>> {
    let mut lines = link_time_lines()?;
    lines.remove(TIMING_OVERHEAD);
    Some(lines)
}

/// Nanoseconds that the link's timing of one event adds to it besides the callback (an empty
/// window timed the same way), measured now; `None` if the link does not report it.
fn link_timing_overhead_ns() -> Option<f64> {
    let (n, ns) = *link_time_lines()?.get(TIMING_OVERHEAD)?;
    Some(ns as f64 / n.max(1) as f64)
}

/// Busy and total jiffies of each CPU, from `/proc/stat`.
fn cpu_ticks() -> Vec<(u64, u64)> {
    let text = fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            let total: u64 = v.iter().take(8).sum();
            (total - idle, total)
        })
        .collect()
}

/// Interrupts taken so far by each CPU: all of them, and the inter-processor ones (`IPI*`
/// lines), from `/proc/interrupts`.
fn interrupts() -> Vec<(u64, u64)> {
    let text = fs::read_to_string("/proc/interrupts").unwrap_or_default();
    let mut lines = text.lines();
    let cpus = lines.next().map_or(0, |l| l.split_whitespace().count());
    let mut out = vec![(0, 0); cpus];
    for line in lines {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let ipi = name.trim_start().starts_with("IPI");
        for (cpu, count) in rest.split_whitespace().take(cpus).enumerate() {
            let Ok(count) = count.parse::<u64>() else {
                break;
            };
            out[cpu].0 += count;
            if ipi {
                out[cpu].1 += count;
            }
        }
    }
    out
}

/// `bench BUS WORKLOAD SECONDS`: transactions back to back against whichever driver is bound,
/// with `ssif-responder` answering. Prints `tps=<x> p99_us=<y> n=<n> errors=<e>`, then the mean
/// time per transaction of each phase and of the target's callback, per event type, and the
/// CPU time per transaction on each CPU (`cpuN_us`).
fn bench(args: &[String]) -> ! {
    let (Some(bus), Some(workload), Some(secs)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest bench BUS get_device_id_pec|multipart_250 SECONDS");
        std::process::exit(2);
    };
    let ctx = Ctx::open(bus, String::new());
    let (request, pec) = match workload.as_str() {
        "get_device_id_pec" => (GET_DEVICE_ID.to_vec(), true),
        "multipart_250" => (echo(&[0xa5; 248]), false),
        _ => {
            eprintln!("unknown workload {workload}");
            std::process::exit(2);
        }
    };
    let expected = answer(&request, &mut 0);
    ctx.bus.set_pec(pec).expect("PEC");
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    let mut phases = Phases::default();
    if let Ok(path) = std::env::var("SSIF_STAMPS") {
        phases.responder = Some(ResponderSteps::new(
            Stamps::open(&path).expect("SSIF_STAMPS"),
        ));
    }
    let cb_before = target_time();
    let cpu_before = cpu_ticks();
    let irq_before = interrupts();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        let t = Instant::now();
        match ctx.transact_polling(&request, &mut phases) {
            Ok(r) if r == expected => latencies.push(t.elapsed().as_micros() as u64),
            _ => errors += 1,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cb_after = target_time();
    let cpu_after = cpu_ticks();
    let irq_after = interrupts();
    latencies.sort_unstable();
    let p99 = latencies
        .get(latencies.len() * 99 / 100)
        .copied()
        .unwrap_or(0);
    let n = latencies.len() as u64 + errors;
    let per = |d: Duration| d.as_nanos() as f64 / 1000.0 / n.max(1) as f64;
    let mut profile = format!(
        " write_us={:.1} wait_us={:.1} read_us={:.1} naks={:.2} nak_us={:.1} sleep_us={:.1}",
        per(phases.write),
        per(phases.wait),
        per(phases.read),
        phases.naks as f64 / n.max(1) as f64,
        per(phases.nak_time),
        per(phases.sleep_time)
    );
    if let Some(r) = &phases.responder {
        let us = |ns: i64| ns as f64 / 1000.0 / r.n.max(1) as f64;
        profile += &format!(
            " resp_n={} resp_wake_us={:.1} resp_read_us={:.1} resp_answer_us={:.1} resp_slack_us={:.1}",
            r.n,
            us(r.wake),
            us(r.read),
            us(r.answer),
            us(r.slack)
        );
    }
    if let (Some(before), Some(after)) = (cb_before, cb_after) {
        let mut total = 0;
        let mut names: Vec<_> = after.keys().collect();
        names.sort();
        for name in names {
            let (calls, ns) = after[name];
            let (calls0, ns0) = before.get(name).copied().unwrap_or((0, 0));
            total += ns - ns0;
            profile += &format!(
                " cb_{name}={:.1}x{:.2}us",
                (calls - calls0) as f64 / n.max(1) as f64,
                (ns - ns0) as f64 / 1000.0 / (calls - calls0).max(1) as f64
            );
        }
        profile += &format!(" cb_us={:.1}", total as f64 / 1000.0 / n.max(1) as f64);
    }
    // CPU time per transaction on each CPU (jiffies are 10 ms at HZ=100: coarse, but a
    // 10-second run has a thousand of them per CPU).
    for (i, (after, before)) in cpu_after.iter().zip(&cpu_before).enumerate() {
        let (busy, total) = (after.0 - before.0, after.1 - before.1);
        let us_per_jiffy = elapsed * 1e6 / total.max(1) as f64;
        profile += &format!(
            " cpu{i}_us={:.1}",
            busy as f64 * us_per_jiffy / n.max(1) as f64
        );
    }
    // Interrupts per transaction on each CPU, and of those the inter-processor ones.
    for (i, (after, before)) in irq_after.iter().zip(&irq_before).enumerate() {
        profile += &format!(
            " irq{i}={:.2} ipi{i}={:.2}",
            (after.0 - before.0) as f64 / n.max(1) as f64,
            (after.1 - before.1) as f64 / n.max(1) as f64
        );
    }
    println!(
        "tps={:.1} p99_us={p99} n={} errors={errors}{profile}",
        latencies.len() as f64 / elapsed,
        latencies.len()
    );
    std::process::exit(if errors == 0 && !latencies.is_empty() {
        0
    } else {
        1
    });
}

/// Time spent in each file operation over a number of calls.
#[derive(Default)]
struct FileOpTimes {
    read: Duration,
    write: Duration,
    poll: Duration,
    eagain: Duration,
}

/// One iteration of `fileops`: `poll()` and a non-blocking `read()` with nothing pending, then
/// `request` over the bus, `read()` of it and `write()` of `response` on the device, then the
/// response read back over the bus. Adds the time of each file call to `times`; `false` if a
/// call did not return what it should.
fn fileops_once(
    ctx: &Ctx,
    dev: &Dev,
    request: &[u8],
    response: &[u8],
    times: &mut FileOpTimes,
) -> bool {
    let mut buf = [0u8; 260];
    let t = Instant::now();
    let _ = dev.poll();
    times.poll += t.elapsed();
    let t = Instant::now();
    let eagain = dev.read_into(&mut buf);
    times.eagain += t.elapsed();
    if ctx.write_request(request).is_err() {
        return false;
    }
    let t = Instant::now();
    let r = dev.read_into(&mut buf);
    times.read += t.elapsed();
    let t = Instant::now();
    let w = dev.write(response);
    times.write += t.elapsed();
    eagain.is_err()
        && r == Ok(4 + request.len())
        && w == Ok(response.len())
        && ctx.read_response().ok().as_deref() == Some(&response[4..])
}

/// `fileops BUS ITERATIONS`: the cost of the file operations alone, with nobody else using the
/// device and nothing running concurrently (this tool writes the requests on the bus and
/// answers them itself). After a second of warm-up per workload, times `ITERATIONS` of
/// [`fileops_once`]; prints one `fileops:` line per workload, in mean microseconds per call.
fn fileops(args: &[String]) -> ! {
    let (Some(bus), Some(n)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest fileops BUS ITERATIONS");
        std::process::exit(2);
    };
    let ctx = Ctx::open(bus, String::new());
    let dev = open_dev().unwrap_or_else(|e| {
        eprintln!("fileops: {e}");
        std::process::exit(1)
    });
    let us = |d: Duration| d.as_nanos() as f64 / 1000.0 / f64::from(n.max(1));
    let mut ok = true;
    for (workload, request, pec) in [
        ("get_device_id_pec", GET_DEVICE_ID.to_vec(), true),
        ("multipart_250", echo(&[0xa5; 248]), false),
    ] {
        ctx.bus.set_pec(pec).expect("PEC");
        let response = msg(&answer(&request, &mut 0));
        // The first second after loading a driver is slower for both drivers: not measured.
        let warm_up = Instant::now();
        while ok && warm_up.elapsed() < Duration::from_secs(1) {
            ok &= fileops_once(&ctx, &dev, &request, &response, &mut FileOpTimes::default());
        }
        let mut times = FileOpTimes::default();
        for _ in 0..n {
            ok &= fileops_once(&ctx, &dev, &request, &response, &mut times);
        }
        println!(
            "fileops: workload={workload} read_us={:.2} write_us={:.2} poll_us={:.2} \
             eagain_us={:.2}",
            us(times.read),
            us(times.write),
            us(times.poll),
            us(times.eagain)
        );
    }
    if !ok {
        eprintln!("fileops: a call did not return what it should");
    }
    std::process::exit(i32::from(!ok));
}

/// The request and whether the bus uses PEC, per bench workload.
fn workload(name: &str) -> Option<(Vec<u8>, bool)> {
    match name {
        "get_device_id_pec" => Some((GET_DEVICE_ID.to_vec(), true)),
        "multipart_250" => Some((echo(&[0xa5; 248]), false)),
        _ => None,
    }
}

/// Runs `n` iterations of a loop of exactly two instructions (`subs`, `bne`).
#[cfg(target_arch = "arm")]
fn two_instruction_loop(n: u32) {
    // SAFETY: only a register and the flags are used, and both are declared.
    unsafe {
        std::arch::asm!(
            "2:",
            "subs {0}, {0}, #1",
            "bne 2b",
            inout(reg) n => _,
            options(nomem, nostack)
        );
    }
}

/// `calibrate`: guest instructions per nanosecond of the guest's clock, for the benchmark
/// under `-icount shift=0`, where QEMU's virtual clock advances one nanosecond per
/// instruction but the guest's clock need not run at that rate (the AST2600's generic timer
/// claims 1.125 GHz and QEMU ticks it once per virtual nanosecond). Times chunks of a
/// two-instruction loop on an otherwise idle guest and keeps the fastest chunk, the one no
/// interrupt fell into. Prints `calibrate: insn_per_ns=<r> loop_insn=<n>`.
fn calibrate() -> ! {
    #[cfg(target_arch = "arm")]
    {
        const ITERATIONS: u32 = 1 << 20;
        let mut fastest = u64::MAX;
        for _ in 0..50 {
            let t = stamps::now_ns();
            two_instruction_loop(ITERATIONS);
            fastest = fastest.min(stamps::now_ns() - t);
        }
        let insn = 2 * u64::from(ITERATIONS);
        println!(
            "calibrate: insn_per_ns={:.6} loop_insn={insn}",
            insn as f64 / fastest.max(1) as f64
        );
        std::process::exit(0);
    }
    #[cfg(not(target_arch = "arm"))]
    {
        eprintln!("calibrate: only on the ARM guest");
        std::process::exit(2);
    }
}

/// The median of `v` (the mean of the two middle values if its length is even; 0 if empty).
fn median(v: &mut [u64]) -> f64 {
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}

/// Nanoseconds that timing a window with two `Instant::now()` adds to it, measured now (the
/// median of 1000 empty windows).
fn user_timing_overhead_ns() -> f64 {
    let mut v: Vec<u64> = (0..1000)
        .map(|_| Instant::now().elapsed().as_nanos() as u64)
        .collect();
    median(&mut v)
}

/// Nanoseconds of each file operation, one entry per `icount-ops` transaction.
#[derive(Default)]
struct OpTimes {
    poll: Vec<u64>,
    read: Vec<u64>,
    write: Vec<u64>,
}

/// `icount-ops BUS WORKLOAD N`: for the deterministic benchmark, the driver's file operations
/// and callbacks per transaction with one process playing both sides and nothing else
/// running: the request over the bus, `poll()` (`POLLIN`, ready), `read()` of it and
/// `write()` of the answer on the device, the response read back over the bus. So each file
/// call is timed alone, and the callbacks are those of a request and its response with no
/// NAKed poll and nobody to wake. After a warm-up, `N` transactions. Prints
/// `ops: n=<n> events=<per transaction> cb_ns=<callbacks per transaction>
/// link_overhead_ns=<per event> poll_ns=.. read_ns=.. write_ns=.. user_overhead_ns=<per window>
/// poll_mean_ns=.. read_mean_ns=.. write_mean_ns=.. cb_<event>=<events per transaction>x<ns per
/// event>`; the `_ns` figures are raw, the overheads are for the caller to subtract. A file
/// call's figure is the median over the transactions (the work is the same in each; a timer
/// tick or other kernel work that lands in one call's window does not move it), its mean
/// follows. Exits non-zero if a transaction went wrong.
fn icount_ops(args: &[String]) -> ! {
    let (Some(bus), Some((request, pec)), Some(n)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1).and_then(|w| workload(w)),
        args.get(2).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest icount-ops BUS get_device_id_pec|multipart_250 N");
        std::process::exit(2);
    };
    let ctx = Ctx::open(bus, String::new());
    let dev = open_dev().unwrap_or_else(|e| {
        eprintln!("icount-ops: {e}");
        std::process::exit(1)
    });
    ctx.bus.set_pec(pec).expect("PEC");
    let response = msg(&answer(&request, &mut 0));
    let mut buf = [0u8; 260];
    let mut once = |times: &mut OpTimes| -> bool {
        if ctx.write_request(&request).is_err() {
            return false;
        }
        let ns = |t: Instant| t.elapsed().as_nanos() as u64;
        let t = Instant::now();
        let ready = dev.wait(libc::POLLIN, 0);
        times.poll.push(ns(t));
        let t = Instant::now();
        let r = dev.read_into(&mut buf);
        times.read.push(ns(t));
        let t = Instant::now();
        let w = dev.write(&response);
        times.write.push(ns(t));
        ready & libc::POLLIN != 0
            && r == Ok(4 + request.len())
            && w == Ok(response.len())
            && ctx.read_response().ok().as_deref() == Some(&response[4..])
    };
    // First calls after a load fault pages in and fill caches: not measured.
    let mut ok = (0..50).all(|_| once(&mut OpTimes::default()));
    let mut times = OpTimes::default();
    let before = target_time();
    for _ in 0..n {
        ok &= once(&mut times);
    }
    let after = target_time();
    let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
    let (Some(before), Some(after), Some(link_overhead)) =
        (before, after, link_timing_overhead_ns())
    else {
        eprintln!("icount-ops: no target_time from the link");
        std::process::exit(1);
    };
    let (mut events, mut cb_ns, mut split) = (0, 0, String::new());
    let mut names: Vec<_> = after.keys().collect();
    names.sort();
    for name in names {
        let (calls, ns) = after[name];
        let (calls0, ns0) = before.get(name).copied().unwrap_or((0, 0));
        events += calls - calls0;
        cb_ns += ns - ns0;
        split += &format!(
            " cb_{name}={:.2}x{:.1}",
            (calls - calls0) as f64 / f64::from(n.max(1)),
            (ns - ns0) as f64 / (calls - calls0).max(1) as f64
        );
    }
    let (poll_mean, read_mean, write_mean) =
        (mean(&times.poll), mean(&times.read), mean(&times.write));
    println!(
        "ops: n={n} events={:.2} cb_ns={:.1} link_overhead_ns={link_overhead:.1} poll_ns={:.1} \
         read_ns={:.1} write_ns={:.1} user_overhead_ns={:.1} poll_mean_ns={poll_mean:.1} \
         read_mean_ns={read_mean:.1} write_mean_ns={write_mean:.1}{split}",
        events as f64 / f64::from(n.max(1)),
        cb_ns as f64 / f64::from(n.max(1)),
        median(&mut times.poll),
        median(&mut times.read),
        median(&mut times.write),
        user_timing_overhead_ns()
    );
    if !ok {
        eprintln!("icount-ops: a call did not return what it should");
    }
    std::process::exit(i32::from(!ok));
}

/// `txn BUS WORKLOAD N`: for the deterministic benchmark, `N` transactions back to back against
/// whichever driver is bound, with `ssif-responder` answering on the other CPU and the client
/// polling every 50 us while NAKed, as `bench` does, after a warm-up. Prints
/// `txn: txn_n=<n> txn_ns=<median guest ns of a transaction> txn_mean_ns=<their mean>
/// naks=<per transaction> txn_events=<per transaction> txn_cb_ns=<callbacks per transaction,
/// raw> txn_cb_<event>=<events per transaction>x<ns per event>`. The median, because the
/// transactions do the same work: kernel work unrelated to them (a timer tick, a periodic
/// worker) that lands in one of them moves the mean, not the median.
fn txn(args: &[String]) -> ! {
    let (Some(bus), Some((request, pec)), Some(n)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1).and_then(|w| workload(w)),
        args.get(2).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest txn BUS get_device_id_pec|multipart_250 N");
        std::process::exit(2);
    };
    let ctx = Ctx::open(bus, String::new());
    ctx.bus.set_pec(pec).expect("PEC");
    let expected = answer(&request, &mut 0);
    let mut ok = true;
    for _ in 0..20 {
        ok &= ctx
            .transact_polling(&request, &mut Phases::default())
            .as_ref()
            == Ok(&expected);
    }
    let mut phases = Phases::default();
    let before = target_time().unwrap_or_default();
    let mut each = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = stamps::now_ns();
        ok &= ctx.transact_polling(&request, &mut phases).as_ref() == Ok(&expected);
        each.push(stamps::now_ns() - t);
    }
    let elapsed: u64 = each.iter().sum();
    // The callbacks' time in this run, per event type. Only a measure of the callbacks alone if
    // no other vCPU ran meanwhile (the deterministic benchmark boots one CPU).
    let per = |x: u64| x as f64 / f64::from(n.max(1));
    let (mut events, mut cb_ns, mut split) = (0, 0, String::new());
    let after = target_time().unwrap_or_default();
    let mut names: Vec<_> = after.keys().collect();
    names.sort();
    for name in names {
        let (calls, ns) = after[name];
        let (calls0, ns0) = before.get(name).copied().unwrap_or((0, 0));
        events += calls - calls0;
        cb_ns += ns - ns0;
        split += &format!(
            " txn_cb_{name}={:.2}x{:.1}",
            per(calls - calls0),
            (ns - ns0) as f64 / (calls - calls0).max(1) as f64
        );
    }
    println!(
        "txn: txn_n={n} txn_ns={:.1} txn_mean_ns={:.1} naks={:.3} txn_events={:.2} \
         txn_cb_ns={:.1}{split}",
        median(&mut each),
        per(elapsed),
        per(phases.naks),
        per(events),
        per(cb_ns)
    );
    if !ok {
        eprintln!("txn: a transaction failed");
    }
    std::process::exit(i32::from(!ok));
}

/// `clean BUS`: one Get Device ID with PEC and one without; prints `clean: ok` (exit 0) or
/// `clean: FAIL <why>` (exit 1).
fn clean(args: &[String]) -> ! {
    let Some(bus) = args.first().and_then(|b| b.parse().ok()) else {
        eprintln!("usage: ssif-vmtest clean BUS");
        std::process::exit(2);
    };
    match Ctx::open(bus, String::new()).clean() {
        Ok(()) => {
            println!("clean: ok");
            std::process::exit(0)
        }
        Err(e) => {
            println!("clean: FAIL {e}");
            std::process::exit(1)
        }
    }
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) {
    // SAFETY: an all-zero `cpu_set_t` is the empty set; `set` is valid for the calls.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// `wakeup IDLE_US...`: how long waking a task on an idle CPU takes, by how long that CPU has
/// been idle, with no driver involved. A thread on CPU 1 sleeps in `read()` of a pipe; one on
/// CPU 0 stays busy for IDLE_US, then writes a byte. The time from the write to the reader
/// running is the wake-up, as when the bus side wakes the responder (the waker busy on CPU 0,
/// the responder's CPU idle since its last answer). Prints
/// `wakeup: idle_us=<n> wake_us=<mean> n=<count>` per IDLE_US.
fn wakeup(args: &[String]) -> ! {
    use std::sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    };
    const N: u64 = 2000;
    let mut fds = [0; 2];
    // SAFETY: `fds` is valid for two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (rd, wr) = (fds[0], fds[1]);
    // When the byte was written (ns), and the wake-ups seen by the reader.
    let sent = Arc::new(AtomicU64::new(0));
    let woken = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let reader = {
        let (sent, woken, total) = (sent.clone(), woken.clone(), total.clone());
        thread::spawn(move || {
            pin_to(1);
            let mut byte = 0u8;
            // SAFETY: `byte` is valid for one byte.
            while unsafe { libc::read(rd, (&raw mut byte).cast(), 1) } == 1 && byte != 0 {
                total.fetch_add(
                    stamps::now_ns() - sent.load(Ordering::Acquire),
                    Ordering::Relaxed,
                );
                woken.fetch_add(1, Ordering::Release);
            }
        })
    };
    pin_to(0);
    let write = |byte: u8| {
        // SAFETY: `byte` is valid for one byte.
        unsafe { libc::write(wr, (&raw const byte).cast(), 1) }
    };
    for idle_us in args.iter().filter_map(|a| a.parse::<u64>().ok()) {
        total.store(0, Ordering::Relaxed);
        let before = woken.load(Ordering::Acquire);
        for i in 1..=N {
            let until = Instant::now() + Duration::from_micros(idle_us);
            while Instant::now() < until {}
            sent.store(stamps::now_ns(), Ordering::Release);
            write(1);
            while woken.load(Ordering::Acquire) < before + i {}
        }
        println!(
            "wakeup: idle_us={idle_us} wake_us={:.1} n={N}",
            total.load(Ordering::Relaxed) as f64 / 1000.0 / N as f64
        );
    }
    write(0);
    let _ = reader.join();
    std::process::exit(0);
}

/// Runs `ipmitool -I open raw` with `args` in the background; its output is read by
/// [`ipmitool_output`].
fn spawn_ipmitool(args: &[&str]) -> std::process::Child {
    std::process::Command::new("ipmitool")
        .args(["-I", "open", "raw"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn ipmitool")
}

/// What an `ipmitool` started by [`spawn_ipmitool`] printed (stdout and stderr, blanks
/// squeezed), once it has exited.
fn ipmitool_output(child: std::process::Child) -> String {
    let out = child.wait_with_output().expect("wait for ipmitool");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Serves the device as a responder that falls behind, with ipmi_ssif and ipmitool on the
/// host side (no other responder running): the host's echo A (`raw 0x30 0x01 0xa1`) is read
/// and left unanswered past the response deadline (`DEADLINE_MS`), so the host gets completion
/// code 0xC3; then the host sends echo B (`0xb2`), and the responder writes A's answer late,
/// then answers what it read after A in order (ipmi_ssif's own requests included). A's late
/// answer must fail with `ETIMEDOUT`, and B's ipmitool must print B's echo, not A's.
fn late_answer(args: &[String]) -> ! {
    let deadline_ms: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let dev = Dev::open(libc::O_NONBLOCK).expect("open /dev/ipmi-ssif-host");
    let mut enables = 0;
    let echo_a = [0xc0, 0x01, 0xa1];
    let echo_b = [0xc0, 0x01, 0xb2];
    let child_a = spawn_ipmitool(&["0x30", "0x01", "0xa1"]);
    serve_until(&dev, &mut enables, |r| r == echo_a);
    // A is pending: let its deadline pass; the host reads the 0xC3 answer and ipmitool exits.
    thread::sleep(Duration::from_millis(deadline_ms * 2));
    let out_a = ipmitool_output(child_a);
    let child_b = spawn_ipmitool(&["0x30", "0x01", "0xb2"]);
    // The responder comes back: the next request it reads may be B or one of ipmi_ssif's own.
    let next = serve_until(&dev, &mut enables, |_| true);
    let late = dev.write(&msg(&answer(&echo_a, &mut enables)));
    // Answer in order until B is answered. A driver that accepted the late answer has sent it
    // for `next` already.
    let mut request = next;
    let mut answered_late = late.is_ok();
    let on_time = loop {
        if request == echo_b {
            break if answered_late {
                Err(0)
            } else {
                dev.write(&msg(&answer(&echo_b, &mut enables)))
            };
        }
        if !answered_late {
            dev.write(&msg(&answer(&request, &mut enables)))
                .expect("answer");
        }
        answered_late = false;
        request = serve_until(&dev, &mut enables, |_| true);
    };
    let out_b = ipmitool_output(child_b);
    let checks = [
        (
            "late_answer_host_got_c3",
            out_a.contains("rsp=0xc3"),
            out_a.clone(),
        ),
        (
            "late_answer_refused_with_etimedout",
            late == Err(libc::ETIMEDOUT),
            format!("{late:?}"),
        ),
        (
            "next_answer_accepted",
            on_time.is_ok(),
            format!("{on_time:?}"),
        ),
        (
            "next_request_got_its_own_answer",
            out_b == "b2",
            out_b.clone(),
        ),
    ];
    let mut failed = 0;
    for (name, ok, detail) in checks {
        println!(
            "vmtest: {name} {} ({detail})",
            if ok { "ok" } else { "FAIL" }
        );
        failed += usize::from(!ok);
    }
    std::process::exit(i32::from(failed > 0));
}

/// Enough for any request (`len` + 254 bytes), as ssifbridged reads.
const READ_LEN: usize = ssif_tools::ipmi::READ_BUF;

/// Reads requests from `dev` for up to 20 s, answering each (with [`answer`]) but the first
/// that `is_it` picks, which it returns unanswered.
fn serve_until(dev: &Dev, enables: &mut u8, is_it: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if dev.wait(libc::POLLIN, 100) & libc::POLLIN == 0 {
            continue;
        }
        let Ok(raw) = dev.read(READ_LEN) else {
            continue;
        };
        let request = raw[4..].to_vec();
        if is_it(&request) {
            return request;
        }
        dev.write(&msg(&answer(&request, enables))).expect("answer");
    }
    panic!("the request never came");
}

/// `ssif-vmtest pending`: whether a request can be read from the misc device now, without
/// waiting. Prints `pending: none` (exit 0) or `pending: <bytes>` (exit 1, the request
/// consumed); exit 2 if the device cannot be opened.
fn pending() -> ! {
    let dev = Dev::open(libc::O_NONBLOCK).unwrap_or_else(|e| {
        println!("pending: open: errno {e}");
        std::process::exit(2)
    });
    match dev.read(260) {
        Err(libc::EAGAIN) => {
            println!("pending: none");
            std::process::exit(0)
        }
        Err(e) => {
            println!("pending: read: errno {e}");
            std::process::exit(2)
        }
        Ok(msg) => {
            println!("pending: {msg:02x?}");
            std::process::exit(1)
        }
    }
}

/// `ssif-vmtest flood BUS ADDR N HEX...`: N raw writes to ADDR on `/dev/i2c-BUS`, back to
/// back, cycling through the messages HEX... (each a string of hex bytes), as fast as this
/// process can send them. Prints `flood: sent=<n> failed=<n> first_error=<e>`; exit 1 if
/// any failed.
fn flood(args: &[String]) -> ! {
    let parse = |s: &String| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    let (Some(bus), Some(addr), Some(n)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1).and_then(parse),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest flood BUS ADDR N HEX...");
        std::process::exit(2)
    };
    let msgs: Vec<Vec<u8>> = args[3..]
        .iter()
        .map(|h| {
            (0..h.len() / 2)
                .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
                .collect()
        })
        .collect();
    if msgs.is_empty() {
        println!("flood: sent=0 failed=0 first_error=none");
        std::process::exit(0)
    }
    let smbus = Smbus::open(bus, addr as u16).expect("open i2c bus");
    let (mut sent, mut failed, mut first) = (0, 0, None);
    for msg in msgs.iter().cycle().take(n) {
        match smbus.raw_write(msg) {
            Ok(()) => sent += 1,
            Err(e) => {
                failed += 1;
                first.get_or_insert(e.to_string());
            }
        }
    }
    let first = first.unwrap_or_else(|| "none".into());
    println!("flood: sent={sent} failed={failed} first_error={first:?}");
    std::process::exit(i32::from(failed > 0))
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("late-answer") {
        late_answer(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("clean") {
        clean(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("bench") {
        bench(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("fileops") {
        fileops(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("wakeup") {
        wakeup(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("pending") {
        pending();
    }
    if args.get(1).map(String::as_str) == Some("flood") {
        flood(&args[2..]);
    }
    match args.get(1).map(String::as_str) {
        Some("calibrate") => calibrate(),
        Some("icount-ops") => icount_ops(&args[2..]),
        Some("txn") => txn(&args[2..]),
        _ => {}
    }
    let abi = args.get(1).map(String::as_str) == Some("abi");
    if abi {
        args.remove(1);
    }
    let (Some(bus), Some(counters)) = (args.get(1).and_then(|b| b.parse().ok()), args.get(2))
    else {
        eprintln!("usage: ssif-vmtest [abi] BUS COUNTERS_FILE");
        std::process::exit(2);
    };
    let ctx = Ctx::open(bus, counters.clone());
    let (mut passed, mut failed) = (0, 0);
    let list = if abi { abi_scenarios() } else { scenarios() };
    for (name, scenario) in list {
        // Every bus scenario is followed by a clean transaction that must succeed.
        let result = scenario(&ctx).and_then(|()| {
            if abi {
                Ok(())
            } else {
                ctx.clean().map_err(|e| format!("not recovered: {e}"))
            }
        });
        let _ = ctx.bus.set_pec(false);
        match result {
            Ok(()) => {
                passed += 1;
                println!("vmtest: {name} ok");
            }
            Err(e) => {
                failed += 1;
                println!("vmtest: {name} FAIL {e}");
            }
        }
    }
    println!("vmtest: {passed} passed, {failed} failed");
    std::process::exit(if failed == 0 && passed > 0 { 0 } else { 1 });
}

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

mod bench;

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

/// Get Device ID is read from `d` and left unanswered until the deadline drops it (the
/// `timeouts` counter moves by one); the bus is released: the host's read is answered, not
/// NAKed, with completion code 0xC3.
fn drop_read_request(c: &Ctx, d: &Dev) -> Outcome {
    c.expect_counter("timeouts", 1, |c| {
        c.write_request(&GET_DEVICE_ID)?;
        d.read(258).map_err(|e| format!("read: errno {e}"))?;
        thread::sleep(Duration::from_millis(700));
        Ok(())
    })?;
    want(
        "host read after expiry",
        c.bus.block_read(0x03).map_err(|e| e.to_string()),
        Ok(vec![0x1c, 0x01, 0xc3]),
    )
}

/// The file ABI of `/dev/ipmi-ssif-host`, checked against the real driver.
fn abi_scenarios() -> Vec<Scenario> {
    vec![
        ("nonblocking_read_with_nothing_is_eagain", |_| {
            let d = open_dev()?;
            want("poll", d.poll(), 0)?;
            want("read", d.read(258).map(|_| ()), Err(libc::EAGAIN))
        }),
        ("lseek_is_espipe", |_| {
            let d = open_dev()?;
            // SAFETY: a plain system call on our own descriptor.
            let r = unsafe { libc::lseek(d.fd(), 0, libc::SEEK_SET) };
            want("lseek", (r, errno()), (-1, libc::ESPIPE))
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
            // Not this request's answer: another command, a request netfn, one byte.
            let mut other_cmd = resp.clone();
            other_cmd[1] ^= 0x7f;
            want(
                "other command",
                d.write(&msg(&other_cmd)),
                Err(libc::EINVAL),
            )?;
            let mut request_netfn = resp.clone();
            request_netfn[0] &= !0x04;
            want(
                "request netfn",
                d.write(&msg(&request_netfn)),
                Err(libc::EINVAL),
            )?;
            want("one byte", d.write(&msg(&resp[..1])), Err(libc::EINVAL))?;
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
            drop_read_request(c, &d)?;
            let resp = answer(&GET_DEVICE_ID, &mut 0);
            want("late write", d.write(&msg(&resp)), Err(libc::ETIMEDOUT))
        }),
        ("skipped_answer_leaves_the_next_request_answerable", |c| {
            // ssifbridged writes nothing for a request whose D-Bus call failed, and drops the
            // reply to one a newer request superseded: the next request's answer must be taken.
            let d = open_dev()?;
            drop_read_request(c, &d)?;
            c.write_request(&GET_DEVICE_ID)?;
            want("read the retry", d.read(258), Ok(msg(&GET_DEVICE_ID)))?;
            let resp = answer(&GET_DEVICE_ID, &mut 0);
            want("write", d.write(&msg(&resp)), Ok(4 + resp.len()))?;
            want("host reads the response", c.read_response(), Ok(resp))
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
/// code 0xC3. A's answer is then written late, before the next request is read: it must fail
/// with `ETIMEDOUT`. The host sends B, a slow echo (`raw 0x30 0x02 0xb2`: another command);
/// once the responder has read the next request, A's answer is written again and must fail
/// with `EINVAL` (it is not the answer to what was read); every request is then answered, and
/// B's ipmitool must print B's echo.
fn late_answer(args: &[String]) -> ! {
    let deadline_ms: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let dev = Dev::open(libc::O_NONBLOCK).expect("open /dev/ipmi-ssif-host");
    let mut enables = 0;
    let echo_a = [0xc0, 0x01, 0xa1];
    let echo_b = [0xc0, 0x02, 0xb2];
    let child_a = spawn_ipmitool(&["0x30", "0x01", "0xa1"]);
    serve_until(&dev, &mut enables, |r| r == echo_a);
    // A is pending: let its deadline pass; the host reads the 0xC3 answer and ipmitool exits.
    thread::sleep(Duration::from_millis(deadline_ms * 2));
    let out_a = ipmitool_output(child_a);
    let late = dev.write(&msg(&answer(&echo_a, &mut enables)));
    let child_b = spawn_ipmitool(&["0x30", "0x02", "0xb2"]);
    // The responder comes back: the next request it reads may be B or one of ipmi_ssif's own.
    let mut request = serve_until(&dev, &mut enables, |_| true);
    let after_next = dev.write(&msg(&answer(&echo_a, &mut enables)));
    let on_time = loop {
        let written = dev.write(&msg(&answer(&request, &mut enables)));
        if request == echo_b {
            break written;
        }
        written.expect("answer");
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
            "late_answer_after_the_next_read_refused_with_einval",
            after_next == Err(libc::EINVAL),
            format!("{after_next:?}"),
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
        bench::bench(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("fileops") {
        bench::fileops(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("wakeup") {
        bench::wakeup(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some("pending") {
        pending();
    }
    if args.get(1).map(String::as_str) == Some("flood") {
        flood(&args[2..]);
    }
    match args.get(1).map(String::as_str) {
        Some("calibrate") => bench::calibrate(),
        Some("icount-ops") => bench::icount_ops(&args[2..]),
        Some("txn") => bench::txn(&args[2..]),
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

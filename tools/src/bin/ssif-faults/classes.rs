// SPDX-License-Identifier: GPL-2.0
//! The fault classes. Each confirms its fault happened: our driver's counter that must move
//! moved; for upstream's, which has no counters, the effect the fault must have is seen (the
//! transfer went through the link and the BMC ACKed or NAKed it, the deadline's answer came,
//! the responder had the request, the blocked calls were in their system calls...). An
//! injection that cannot be confirmed is `not_injected`.

use crate::{
    responder::{logged, wait_in_syscall},
    Campaign, Driver, Outcome,
};
use ssif_tools::{
    checker::CC_TIMEOUT,
    dev::{msg, Dev},
    ipmi::{answer, CMD_ECHO, CMD_SLOW_ECHO},
    ssif,
};
use std::{
    collections::HashMap,
    fs,
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU32, Ordering},
        mpsc, Arc,
    },
    thread,
    time::{Duration, Instant},
};

type Injected = Result<(), String>;
type Inject = fn(&mut Campaign, u32) -> Injected;
type Whole = fn(&mut Campaign, u32) -> (Injected, Outcome, f64);
type Hook = fn(&mut Campaign) -> Result<(), String>;

/// How many iterations a class runs: `--n`, `--nslow` (those that wait out a deadline or
/// restart something) or `--nburst`.
pub(crate) enum Kind {
    Fast,
    Slow,
    Burst,
}

pub(crate) enum Step {
    /// The fault; the clean transaction over the bus follows.
    Inject(Inject),
    /// The fault and its own clean transaction.
    Whole(Whole),
}

pub(crate) struct Class {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) setup: Hook,
    pub(crate) step: Step,
    pub(crate) teardown: Hook,
}

fn start_responder(c: &mut Campaign) -> Result<(), String> {
    c.responder.start()
}

fn nothing(_: &mut Campaign) -> Result<(), String> {
    Ok(())
}

const fn fast(name: &'static str, inject: Inject) -> Class {
    Class {
        name,
        kind: Kind::Fast,
        setup: start_responder,
        step: Step::Inject(inject),
        teardown: nothing,
    }
}

/// The classes, in the order they run (the same for both drivers).
pub(crate) const CLASSES: &[Class] = &[
    fast("bad_pec_write", bad_pec_write),
    fast("truncated_write", truncated_write),
    fast("stop_mid_read", stop_mid_read),
    fast("restart_without_stop", restart_without_stop),
    fast("read_nothing_pending", read_nothing_pending),
    fast("unknown_command", unknown_command),
    fast("overlong_part", overlong_part),
    fast("multipart_over_254", multipart_over_254),
    fast("middle_without_start", middle_without_start),
    fast("retry_0x0a_wrong_block", retry_0x0a_wrong_block),
    fast("second_open", second_open),
    Class {
        kind: Kind::Slow,
        ..fast("responder_too_slow", responder_too_slow)
    },
    Class {
        kind: Kind::Slow,
        ..fast("responder_killed_mid_request", responder_killed_mid_request)
    },
    Class {
        name: "late_answer_after_newer_request",
        kind: Kind::Slow,
        setup: stop_responder,
        step: Step::Whole(late_answer_after_newer_request),
        teardown: nothing,
    },
    fast("unbind_rebind_reader_blocked", unbind_rebind_reader_blocked),
    Class {
        name: "ipmi_ssif_reload_pending",
        kind: Kind::Slow,
        setup: ipmi_ssif_up,
        step: Step::Whole(ipmi_ssif_reload_pending),
        teardown: ipmi_ssif_down,
    },
    Class {
        name: "random_burst",
        kind: Kind::Burst,
        setup: start_responder,
        step: Step::Whole(random_burst),
        teardown: nothing,
    },
    // Last: a driver that leaves a file operation blocked for ever after unbind (upstream's)
    // keeps its module from unloading after this.
    fast("rmmod_insmod", rmmod_insmod),
    Class {
        name: "unbind_racing_blocked_ops",
        kind: Kind::Slow,
        setup: stop_responder,
        step: Step::Whole(unbind_racing_blocked_ops),
        teardown: nothing,
    },
];

fn stop_responder(c: &mut Campaign) -> Result<(), String> {
    c.responder.stop();
    Ok(())
}

/// A transfer that reached the BMC: it ACKed it, or NAKed a byte.
fn on_wire(r: std::io::Result<()>) -> Injected {
    match r {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENXIO | libc::EIO | libc::EREMOTEIO)
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(format!("transfer failed before the bus: {e}")),
    }
}

/// A raw write the driver must drop; our driver counts it in `counter`.
fn dropped(c: &mut Campaign, bytes: &[u8], counter: &str) -> Injected {
    let before = c.counters();
    on_wire(c.bus.raw_write(bytes))?;
    c.moved(&before, &[(counter, 1)])
}

fn bad_pec_write(c: &mut Campaign, _: u32) -> Injected {
    c.checker.sent(&[0x18, 0x01]);
    dropped(c, &[0x02, 0x02, 0x18, 0x01, 0x67], "pec_errors")
}

fn truncated_write(c: &mut Campaign, _: u32) -> Injected {
    dropped(c, &[0x02, 0x05, 0x18, 0x01], "abort_truncated")
}

fn unknown_command(c: &mut Campaign, _: u32) -> Injected {
    dropped(c, &[0x55, 0x01, 0x02], "abort_unknown_command")
}

fn overlong_part(c: &mut Campaign, _: u32) -> Injected {
    let mut raw = vec![0x02, 35];
    raw.extend_from_slice(&[0xee; 36]);
    dropped(c, &raw, "abort_overlong_part")
}

fn middle_without_start(c: &mut Campaign, _: u32) -> Injected {
    let mut raw = vec![0x07, 32];
    raw.extend_from_slice(&[0x11; 32]);
    dropped(c, &raw, "abort_no_start")
}

fn multipart_over_254(c: &mut Campaign, _: u32) -> Injected {
    let before = c.counters();
    for command in [0x06, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07] {
        let mut raw = vec![command, 32];
        raw.extend_from_slice(&[0x22; 32]);
        on_wire(c.bus.raw_write(&raw))?;
    }
    c.moved(&before, &[("abort_message_too_long", 1)])
}

/// The host ends its write without STOP (the link leaves it out) and starts the next
/// transfer with a repeated START: the link must have taken the fault.
fn restart_without_stop(c: &mut Campaign, _: u32) -> Injected {
    let param = "/sys/module/ssif_link/parameters/fault_no_stop";
    let before = c.counters();
    fs::write(param, "1").map_err(|e| format!("{param}: {e}"))?;
    on_wire(c.bus.raw_write(&[0x02, 0x02, 0x18]))?;
    let left = fs::read_to_string(param).unwrap_or_default();
    if left.trim() != "N" {
        return Err(format!(
            "the link did not take the fault: {param} is {left:?}"
        ));
    }
    // The message is dropped when the next transfer starts: the clean one.
    let _ = before;
    Ok(())
}

/// A multi-part response of which the host reads 3 bytes and stops.
fn stop_mid_read(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_ECHO, 60);
    let before = c.counters();
    ssif::write_request(&c.bus, &request)?;
    let t = Instant::now();
    let got = loop {
        if let Ok(b) = c.bus.raw_read(0x03, 3) {
            break b;
        }
        if t.elapsed() > Duration::from_secs(2) {
            return Err("no response to cut within 2 s".into());
        }
        thread::sleep(Duration::from_millis(2));
    };
    // Block length 32, then the multi-part start marker 00 01.
    if got != [0x20, 0x00, 0x01] {
        return Err(format!(
            "the first part began {got:02x?}, not a multi-part start"
        ));
    }
    c.moved(
        &before,
        &[
            ("requests", 1),
            ("responses", 1),
            ("responses_delivered", 0),
        ],
    )
}

/// A write that is dropped, so nothing is pending, then a read.
fn read_nothing_pending(c: &mut Campaign, _: u32) -> Injected {
    let before = c.counters();
    on_wire(c.bus.raw_write(&[0x02, 0x05, 0x18]))?;
    match c.bus.block_read(0x03) {
        Ok(v) if c.driver == Driver::Rust && !v.is_empty() => {
            return Err(format!("read {v:02x?} with nothing pending"))
        }
        Ok(v) => c.checker.received(&v),
        Err(e) => on_wire(Err(e))?,
    }
    c.moved(&before, &[("abort_truncated", 1), ("empty_reads", 1)])
}

/// A multi-part response read to its end, then a retry (0x0a) of a block that does not exist.
fn retry_0x0a_wrong_block(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_ECHO, 98);
    let want = answer(&request, &mut 0);
    let got = c.transact(&request);
    if got.as_ref() != Some(&want) {
        return Err(format!("the response to retry in was {got:02x?}"));
    }
    c.checker.received(&want);
    let before = c.counters();
    on_wire(c.bus.block_write(0x0a, &[0x07]))?;
    c.moved(&before, &[("abort_bad_retry", 1)])
}

/// While the responder holds the device, a second open must fail with `EBUSY`.
fn second_open(c: &mut Campaign, _: u32) -> Injected {
    if c.responder.pid().is_none() {
        return Err("no responder holds the device".into());
    }
    // A responder that has not yet reopened the device after a rebind does not hold it:
    // give it a second, closing at once what this open got.
    let t = Instant::now();
    loop {
        match Dev::open(libc::O_NONBLOCK) {
            Err(libc::EBUSY) => return Ok(()),
            Err(e) => return Err(format!("second open: errno {e}, expected EBUSY")),
            Ok(_) if t.elapsed() > Duration::from_secs(1) => {
                // The responder runs (and answers the clean requests): the driver let a
                // second file in.
                c.misbehaved =
                    Some("a second open succeeded for 1 s with the responder running".into());
                return Ok(());
            }
            Ok(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The slow echo of `i`: answered by the responder after the deadline. Sends it, waits for
/// the answer the BMC gives when the deadline drops it (not the real one, and not before
/// 90 % of the deadline), and returns it.
fn expire_slow_request(c: &mut Campaign, i: u32, request: &[u8]) -> Result<Vec<u8>, String> {
    let before = c.counters();
    let t = Instant::now();
    ssif::write_request(&c.bus, request)?;
    let got = ssif::read_response(&c.bus, c.timeout + Duration::from_millis(800))
        .map_err(|e| format!("no answer once the deadline passed: {e}"))?;
    let took = t.elapsed();
    c.checker.received(&got);
    if got == answer(request, &mut 0) {
        return Err(format!(
            "the real answer came (after {took:?}): no deadline passed"
        ));
    }
    if took < c.timeout.mul_f64(0.9) {
        return Err(format!("answered after {took:?}, before the deadline"));
    }
    if c.driver == Driver::Rust && got != [request[0] | 4, request[1], CC_TIMEOUT] {
        return Err(format!("the deadline's answer was {got:02x?}, not 0xC3"));
    }
    c.moved(&before, &[("timeouts", 1)])?;
    let _ = i;
    Ok(got)
}

/// The responder answers too late: the deadline drops the request and the host gets the
/// deadline's answer; the late answer is written before the clean request.
fn responder_too_slow(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_SLOW_ECHO, 9);
    let mark = c.responder.mark();
    expire_slow_request(c, i, &request)?;
    // The responder writes its late answer once its delay is over.
    if !c
        .responder
        .wait_for(mark, &logged(&request), Duration::from_secs(1))
    {
        return Err("the responder never read the request".into());
    }
    thread::sleep(Duration::from_millis(150));
    Ok(())
}

/// The responder is killed while it holds a request (it must have read it); a new one takes
/// over; the deadline passes.
fn responder_killed_mid_request(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_SLOW_ECHO, 9);
    let mark = c.responder.mark();
    ssif::write_request(&c.bus, &request)?;
    let took = c
        .responder
        .wait_for(mark, &logged(&request), Duration::from_secs(1));
    c.responder.start()?;
    if !took {
        return Err("the killed responder had not read the request".into());
    }
    thread::sleep(c.timeout + Duration::from_millis(100));
    Ok(())
}

/// Reads the next request from `dev` (up to 2 s).
fn read_request(dev: &Dev) -> Result<Vec<u8>, String> {
    if dev.wait(libc::POLLIN, 2000) & libc::POLLIN == 0 {
        return Err("no request to read within 2 s".into());
    }
    let raw = dev
        .read(ssif_tools::ipmi::READ_BUF)
        .map_err(|e| format!("read: errno {e}"))?;
    Ok(raw.get(4..).unwrap_or(&[]).to_vec())
}

/// The campaign serves the device itself: request A (slow echo) is read and left past the
/// deadline, the host gets the deadline's answer and sends the clean request B, which is
/// read; then A's answer is written late, and B's after it. A's late answer must not reach B.
fn late_answer_after_newer_request(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    let dev = match Dev::open(libc::O_NONBLOCK) {
        Ok(d) => d,
        Err(e) => return (Err(format!("open: errno {e}")), Outcome::Wedged, 0.0),
    };
    let a = c.checker.fault_request(i, CMD_SLOW_ECHO, 9);
    let before = c.counters();
    let injected = (|| {
        ssif::write_request(&c.bus, &a)?;
        let got = read_request(&dev)?;
        if got != a {
            return Err(format!("read {got:02x?}, not request A"));
        }
        let t = Instant::now();
        let deadline = ssif::read_response(&c.bus, c.timeout + Duration::from_millis(800))?;
        c.checker.received(&deadline);
        if deadline == answer(&a, &mut 0) || t.elapsed() < c.timeout.mul_f64(0.8) {
            return Err(format!("no deadline passed: the host got {deadline:02x?}"));
        }
        Ok(())
    })();
    if let Err(e) = injected {
        return (Err(e), Outcome::Wedged, 0.0);
    }
    let b = c.checker.clean_request(i);
    let _ = c.bus.set_pec(true);
    let t = Instant::now();
    let result = (|| {
        ssif::write_request(&c.bus, &b)?;
        let got = read_request(&dev)?;
        if got != b {
            return Err(format!("read {got:02x?}, not request B"));
        }
        // Ours refuses it with ETIMEDOUT; whatever a driver does with it, the checker sees
        // where it went.
        let late = dev.write(&msg(&answer(&a, &mut 0)));
        c.moved(&before, &[("timeouts", 1)])?;
        // B's answer; a driver that took the late answer for B refuses it.
        let on_time = dev.write(&msg(&answer(&b, &mut 0)));
        Ok((late, on_time))
    })();
    let result = match result {
        Ok((late, on_time)) => {
            if i - c.base < 3 {
                println!(
                    "faults-detail: driver={} class=late_answer_after_newer_request tag={i} \
                     late write {late:?}, on-time write {on_time:?}",
                    c.driver.name()
                );
            }
            Ok(())
        }
        Err(e) => Err(e),
    };
    let reply = ssif::read_response(&c.bus, Duration::from_secs(2));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let _ = c.bus.set_pec(false);
    let outcome = match reply {
        Ok(r) => Outcome::Answered(c.checker.classify(i, &r)),
        Err(_) => Outcome::Lost,
    };
    (result, outcome, ms)
}

/// ARM EABI numbers of `read` and the polls (`poll`, `ppoll`, `ppoll_time64`).
const SYS_READ: i64 = 3;
const SYS_POLLS: [i64; 3] = [168, 336, 414];

fn driver_dir(c: &Campaign) -> String {
    format!("/sys/bus/i2c/drivers/{}", c.driver.i2c_driver())
}

fn wait_path(path: &str, wait: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < wait {
        if fs::metadata(path).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Unbinds the BMC device from its driver (the misc device must go) and binds it again.
fn unbind_rebind(c: &mut Campaign) -> Injected {
    let dir = driver_dir(c);
    let device = format!("{}-1010", c.bmc_bus);
    fs::write(format!("{dir}/unbind"), &device).map_err(|e| format!("unbind: {e}"))?;
    if fs::metadata("/dev/ipmi-ssif-host").is_ok() {
        return Err("the misc device is still there after unbind".into());
    }
    fs::write(format!("{dir}/bind"), &device).map_err(|e| format!("bind: {e}"))?;
    if !wait_path("/dev/ipmi-ssif-host", Duration::from_secs(5)) {
        return Err("no misc device 5 s after bind".into());
    }
    Ok(())
}

/// Unbind and rebind while the responder sleeps in `poll()` on the open file.
fn unbind_rebind_reader_blocked(c: &mut Campaign, _: u32) -> Injected {
    let pid = c.responder.pid().ok_or("no responder")?;
    wait_in_syscall(pid, &SYS_POLLS, Duration::from_millis(500))?;
    unbind_rebind(c)?;
    thread::sleep(Duration::from_millis(50));
    Ok(())
}

/// Unbind while three threads use the file: one blocked in `read()`, one in `poll()`, one
/// writing an answer (in `write()`, where upstream blocks, or calling it again and again:
/// ours never blocks there, and refuses an answer with no request). Each must return
/// within 2 s. Then the device is bound again and a responder serves the clean request.
fn unbind_racing_blocked_ops(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    let dev = match Dev::open(0) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            c.skip = Some(format!("open: errno {e}"));
            return (Ok(()), Outcome::Wedged, 0.0);
        }
    };
    let (tx, rx) = mpsc::channel::<(&str, String)>();
    let (tids_tx, tids_rx) = mpsc::channel::<(&str, u32)>();
    let writes = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let spawn = |name: &'static str, f: Box<dyn FnOnce(&Dev) -> String + Send>| {
        let (dev, tx, tids_tx) = (dev.clone(), tx.clone(), tids_tx.clone());
        thread::spawn(move || {
            // SAFETY: no arguments; gettid cannot fail.
            let _ = tids_tx.send((name, unsafe { libc::gettid() } as u32));
            let _ = tx.send((name, f(&dev)));
        });
    };
    spawn(
        "read",
        Box::new(|d| format!("{:?}", d.read(ssif_tools::ipmi::READ_BUF))),
    );
    spawn(
        "poll",
        Box::new(|d| format!("revents={:#x}", d.wait(libc::POLLIN, -1))),
    );
    let (w, halt) = (writes.clone(), stop.clone());
    spawn(
        "write",
        Box::new(move |d| loop {
            w.fetch_add(1, Ordering::Relaxed);
            match d.write(&msg(&answer(&[0x18, 0x01], &mut 0))) {
                Err(libc::EINVAL | libc::EAGAIN) if !halt.load(Ordering::Relaxed) => {
                    thread::sleep(Duration::from_millis(1))
                }
                r => break format!("{r:?}"),
            }
        }),
    );
    drop(tx);
    let tids: HashMap<&str, u32> = (0..3).filter_map(|_| tids_rx.recv().ok()).collect();
    let injected = (|| {
        wait_in_syscall(tids["read"], &[SYS_READ], Duration::from_secs(1))?;
        wait_in_syscall(tids["poll"], &SYS_POLLS, Duration::from_secs(1))?;
        let t = Instant::now();
        while writes.load(Ordering::Relaxed) < 2 {
            if t.elapsed() > Duration::from_secs(1) {
                return Err("the writer made no call".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        unbind_rebind(c)
    })();
    // Every blocked call must return now (the device is gone), in at most 2 s.
    let t = Instant::now();
    let mut returned = Vec::new();
    while returned.len() < 3 {
        let left = Duration::from_secs(2).saturating_sub(t.elapsed());
        match rx.recv_timeout(left) {
            Ok(r) => returned.push(r),
            Err(_) => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    drop(dev);
    if returned.len() < 3 || i == c.base {
        println!(
            "faults-detail: driver={} class=unbind_racing_blocked_ops tag={i} \
             returned within 2 s of unbind: {returned:?}",
            c.driver.name()
        );
    }
    if returned.len() < 3 {
        // Left blocked: the threads are abandoned with the old file.
        let _ = c.responder.start();
        c.responder.stop();
        return (injected, Outcome::Wedged, 0.0);
    }
    if let Err(e) = c.responder.start() {
        return (injected.and(Err(e)), Outcome::Wedged, 0.0);
    }
    let (outcome, ms) = c.clean(i);
    c.responder.stop();
    (injected, outcome, ms)
}

fn ipmi_ssif_dir() -> &'static str {
    "/sys/bus/i2c/drivers/ipmi_ssif"
}

/// ipmi_ssif bound to the BMC's address on the host bus, with `/dev/ipmi0`.
fn ipmi_ssif_up(c: &mut Campaign) -> Result<(), String> {
    c.responder.start()?;
    let path = format!("/sys/bus/i2c/devices/i2c-{}/new_device", c.host_bus);
    fs::write(&path, "ipmi_ssif 0x10").map_err(|e| format!("{path}: {e}"))?;
    if !wait_path("/dev/ipmi0", Duration::from_secs(10)) {
        return Err("no /dev/ipmi0 10 s after ipmi_ssif's new_device".into());
    }
    Ok(())
}

fn ipmi_ssif_down(c: &mut Campaign) -> Result<(), String> {
    let path = format!("/sys/bus/i2c/devices/i2c-{}/delete_device", c.host_bus);
    fs::write(&path, "0x10").map_err(|e| format!("{path}: {e}"))
}

/// `ipmitool raw` of `request` (`[netfn << 2 | lun][cmd][data]`).
fn ipmitool(request: &[u8]) -> std::process::Child {
    let mut args = vec!["-I".to_string(), "open".into(), "raw".into()];
    args.push(format!("{:#04x}", request[0] >> 2));
    args.extend(request[1..].iter().map(|b| format!("{b:#04x}")));
    Command::new("ipmitool")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ipmitool")
}

/// The answer ipmitool printed for `request` (`[netfn|1][cmd][cc][data]`), if it got one.
fn ipmitool_answer(request: &[u8], child: std::process::Child) -> Option<Vec<u8>> {
    let out = child.wait_with_output().ok()?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let head = [request[0] | 4, request[1]];
    if out.status.success() {
        let data: Option<Vec<u8>> = stdout
            .split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).ok())
            .collect();
        return Some([&head[..], &[0], &data?].concat());
    }
    // "Unable to send RAW command (... rsp=0xc3): ..."
    let cc = stderr.split("rsp=0x").nth(1)?.get(..2)?;
    Some([&head[..], &[u8::from_str_radix(cc, 16).ok()?]].concat())
}

/// Binds ipmi_ssif to the BMC's address again, retrying for up to `within`: its probe asks
/// the BMC for its device ID and gives up (`ENODEV`) while the BMC still NAKs for a pending
/// request, until the BMC's deadline. Udev or an administrator would retry the same way.
/// Returns the attempts it took.
fn bind_ipmi_ssif(c: &Campaign, within: Duration) -> Result<u32, String> {
    let device = format!("{}-0010", c.host_bus);
    let t = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match fs::write(format!("{}/bind", ipmi_ssif_dir()), &device) {
            Ok(()) => break,
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) && t.elapsed() < within => {
                thread::sleep(Duration::from_millis(100))
            }
            Err(e) => {
                return Err(format!(
                    "ipmi_ssif does not bind ({attempts} attempts in {:.1} s): {e}",
                    t.elapsed().as_secs_f64()
                ))
            }
        }
    }
    if !wait_path("/dev/ipmi0", Duration::from_secs(10)) {
        return Err("no /dev/ipmi0 10 s after bind".into());
    }
    Ok(attempts)
}

/// ipmi_ssif unbound and bound again while its request is pending at the BMC (the responder
/// has read it and answers late); then ipmitool's clean request through the rebound driver.
/// (An ipmitool takes about 2 s to start in the VM.) If the earlier iteration left ipmi_ssif
/// unable to bind, this one is skipped as wedged.
fn ipmi_ssif_reload_pending(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    if fs::metadata("/dev/ipmi0").is_err() {
        if let Err(e) = bind_ipmi_ssif(c, Duration::from_secs(10)) {
            c.skip = Some(e);
            return (Ok(()), Outcome::Wedged, 0.0);
        }
    }
    let request = c.checker.fault_request(i, CMD_SLOW_ECHO, 9);
    let mark = c.responder.mark();
    let mut pending = ipmitool(&request);
    let injected = (|| {
        if !c
            .responder
            .wait_for(mark, &logged(&request), Duration::from_secs(10))
        {
            let log = c.responder.since(mark);
            let tail = &log[log.len().saturating_sub(400)..];
            return Err(format!("the request never reached the responder: {tail:?}"));
        }
        if pending.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Err("ipmitool was not waiting any more".into());
        }
        let device = format!("{}-0010", c.host_bus);
        fs::write(format!("{}/unbind", ipmi_ssif_dir()), &device)
            .map_err(|e| format!("unbind: {e}"))
    })();
    let _ = pending.kill();
    let _ = pending.wait();
    if injected.is_err() {
        return (injected, Outcome::Wedged, 0.0);
    }
    // Recovery: the host driver binds again (within 5 s) and serves the clean request.
    let t = Instant::now();
    match bind_ipmi_ssif(c, Duration::from_secs(5)) {
        Ok(attempts) if attempts > 1 && i - c.base < 3 => println!(
            "faults-detail: driver={} class=ipmi_ssif_reload_pending tag={i} bound at \
             attempt {attempts}, {:.0} ms after unbind",
            c.driver.name(),
            t.elapsed().as_secs_f64() * 1000.0
        ),
        Ok(_) => {}
        Err(e) => {
            if i - c.base < 3 {
                println!(
                    "faults-detail: driver={} class=ipmi_ssif_reload_pending tag={i} {e}",
                    c.driver.name()
                );
            }
            return (injected, Outcome::Wedged, 0.0);
        }
    }
    let clean = c.checker.clean_request(i);
    let t = Instant::now();
    let reply = ipmitool_answer(&clean, ipmitool(&clean));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let outcome = match reply {
        Some(r) => Outcome::Answered(c.checker.classify(i, &r)),
        None => Outcome::Lost,
    };
    (injected, outcome, ms)
}

/// The module unloaded and loaded again (the responder stopped first: the kernel refuses
/// rmmod while the file is open), a new responder serving the new device.
fn rmmod_insmod(c: &mut Campaign, _: u32) -> Injected {
    c.responder.stop();
    let reloaded = reload(c);
    // Whatever happened, a responder serves what is there for the clean transaction.
    reloaded.and(c.responder.start())
}

fn reload(c: &mut Campaign) -> Injected {
    let run = |cmd: &str, args: &[&str]| -> Injected {
        let s = Command::new(cmd)
            .args(args)
            .status()
            .map_err(|e| format!("{cmd}: {e}"))?;
        s.success()
            .then_some(())
            .ok_or(format!("{cmd} {args:?}: {s}"))
    };
    run("rmmod", &["ssif_bmc"])?;
    let module = match c.driver {
        Driver::Rust => "/lib/modules/ssif/ssif_bmc_rs.ko",
        Driver::C => "/lib/modules/ssif/ssif_bmc_c.ko",
    };
    let timeout = format!("response_timeout_ms={}", c.timeout.as_millis());
    let params: &[&str] = match c.driver {
        Driver::Rust => &[&timeout],
        Driver::C => &[],
    };
    run("insmod", &[&[module], params].concat())?;
    if fs::metadata(driver_dir(c)).is_err() {
        return Err(format!("{} is not the driver loaded", c.driver.name()));
    }
    if !wait_path("/dev/ipmi-ssif-host", Duration::from_secs(5)) {
        return Err("no misc device 5 s after insmod".into());
    }
    Ok(())
}

/// One of the fast classes, picked at random, then the clean transaction.
fn random_burst(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    let pool: Vec<&Class> = CLASSES
        .iter()
        .filter(|k| matches!(k.kind, Kind::Fast) && k.name != "rmmod_insmod")
        .collect();
    let class = pool[c.random(pool.len())];
    let Step::Inject(inject) = class.step else {
        unreachable!("fast classes inject")
    };
    let injected = inject(c, i).map_err(|e| format!("{}: {e}", class.name));
    let (outcome, ms) = c.clean(i);
    (injected, outcome, ms)
}

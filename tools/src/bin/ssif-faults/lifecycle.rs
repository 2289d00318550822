// SPDX-License-Identifier: GPL-2.0
//! The fault classes around the device's life: unbind and bind (of our side, with file
//! operations in flight, and of the host's `ipmi_ssif` with a request pending) and module
//! reload.

use crate::{
    classes::Injected,
    responder::{logged, wait_in_syscall},
    Campaign, Driver, Outcome,
};
use ssif_tools::{
    dev::{msg, Dev},
    ipmi::{answer, CMD_ECHO, CMD_SLOW_ECHO},
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

/// ARM EABI numbers of `read` and the polls (`poll`, `ppoll`, `ppoll_time64`).
const SYS_READ: i64 = 3;
const SYS_POLLS: [i64; 3] = [168, 336, 414];

/// Both drivers' directory in sysfs: ours has upstream's name.
const DRIVER_DIR: &str = "/sys/bus/i2c/drivers/ipmi-ssif-host";

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
    let dir = DRIVER_DIR;
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
pub(crate) fn unbind_rebind_reader_blocked(c: &mut Campaign, _: u32) -> Injected {
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
pub(crate) fn unbind_racing_blocked_ops(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
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
pub(crate) fn ipmi_ssif_up(c: &mut Campaign) -> Result<(), String> {
    c.responder.start()?;
    let path = format!("/sys/bus/i2c/devices/i2c-{}/new_device", c.host_bus);
    fs::write(&path, "ipmi_ssif 0x10").map_err(|e| format!("{path}: {e}"))?;
    if !wait_path("/dev/ipmi0", Duration::from_secs(10)) {
        return Err("no /dev/ipmi0 10 s after ipmi_ssif's new_device".into());
    }
    Ok(())
}

pub(crate) fn ipmi_ssif_down(c: &mut Campaign) -> Result<(), String> {
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
pub(crate) fn ipmi_ssif_reload_pending(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
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

/// The module unloaded and loaded again, twice (the responder stopped first: the kernel
/// refuses rmmod while the file is open): first the instance that served the last clean
/// transaction, then a fresh one that has seen no request at all (upstream's sets its
/// response timer up on the first request only); a new responder serving the new device.
/// Before the clean transaction counts, the new responder must have served a request
/// ([`until_served`]), as a host would retry until its BMC answers after a restart.
pub(crate) fn rmmod_insmod(c: &mut Campaign, i: u32) -> Injected {
    c.responder.stop();
    let reloaded = reload(c).and_then(|()| reload(c));
    // Whatever happened, a responder serves what is there for the clean transaction.
    reloaded
        .and(c.responder.start())
        .and_then(|()| until_served(c, i))
}

/// Sends a tagged echo (a fault request: its answer can never pass for a clean one) until
/// the responder's own answer to it comes, up to 5 tries; after the driver's deadline answer
/// (0xC3, the responder too slow) or no answer, it waits out the deadline first, so that the
/// late answer is gone before the next try. Why: the responder this class has just spawned
/// starts on the CPU of ssif-faults, and there the client's NAKed polls (each poll's bus
/// events run in hard IRQ on that CPU, 0.5-7 ms apiece under TCG on the debug kernel)
/// and wake-ups keep interrupting it: it was switched in 3-17 times before it answered. Traced on the AST2600, the request's STOP to its
/// answer took 43-178 ms, 19-119 ms of it on the responder's time slices, against 11-61 ms
/// when the first request came from a separate process after a reload or a restart alone;
/// the responder's own work is small (1 minor fault, 0-4 ticks of user time per request),
/// lockdep adds 0-11 dependency chains per reload, and the next two or three requests get
/// faster. So the first answer times the responder's start on a shared CPU, and the odd one
/// past 500 ms got the driver's deadline answer; the clean transaction times what follows.
fn until_served(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_ECHO, 9);
    let want = answer(&request, &mut 0);
    let mut got = None;
    for _ in 0..5 {
        got = c.transact(&request);
        if got.as_ref() == Some(&want) {
            c.checker.received(&want);
            return Ok(());
        }
        thread::sleep(c.timeout + Duration::from_millis(100));
    }
    Err(format!(
        "the new responder did not answer in 5 tries: last {got:02x?}"
    ))
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
    if !c.driver.is_loaded() {
        return Err(format!("{} is not the driver loaded", c.driver.name()));
    }
    if !wait_path("/dev/ipmi-ssif-host", Duration::from_secs(5)) {
        return Err("no misc device 5 s after insmod".into());
    }
    Ok(())
}

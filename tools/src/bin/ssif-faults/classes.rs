// SPDX-License-Identifier: GPL-2.0
//! The fault classes. Each confirms its fault happened: our driver's counter that must move
//! moved; for upstream's, which has no counters, the effect the fault must have is seen (the
//! transfer went through the link and the BMC ACKed or NAKed it, the deadline's answer came,
//! the responder had the request, the blocked calls were in their system calls...). An
//! injection that cannot be confirmed is `not_injected`. The classes around the device's life
//! (unbind, reload) are in `lifecycle`.

use crate::{
    lifecycle::{
        ipmi_ssif_down, ipmi_ssif_reload_pending, ipmi_ssif_up, rmmod_insmod,
        unbind_racing_blocked_ops, unbind_rebind_reader_blocked,
    },
    responder::logged,
    Campaign, Driver, Outcome,
};
use ssif_tools::{
    checker::deadline_answer,
    dev::{msg, Dev},
    ipmi::{answer, CMD_ECHO, CMD_SLOW_ECHO},
    ssif,
};
use std::{
    fs, thread,
    time::{Duration, Instant},
};

pub(crate) type Injected = Result<(), String>;
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
    Class {
        name: "responder_drops_superseded",
        kind: Kind::Slow,
        setup: stop_responder,
        step: Step::Whole(responder_drops_superseded),
        teardown: nothing,
    },
    Class {
        name: "responder_skips_answer",
        kind: Kind::Slow,
        setup: stop_responder,
        step: Step::Whole(responder_skips_answer),
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
    fs::write(param, "1").map_err(|e| format!("{param}: {e}"))?;
    on_wire(c.bus.raw_write(&[0x02, 0x02, 0x18]))?;
    let left = fs::read_to_string(param).unwrap_or_default();
    if left.trim() != "N" {
        return Err(format!(
            "the link did not take the fault: {param} is {left:?}"
        ));
    }
    // The message is dropped when the next transfer starts: the clean one.
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

/// Sends `request`, a slow echo the responder answers after the deadline, and checks the
/// answer the BMC gives when the deadline drops it: not the real one, not before 90 % of the
/// deadline (and, from ours, 0xC3 with the `timeouts` counter moved).
fn expire_slow_request(c: &mut Campaign, request: &[u8]) -> Injected {
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
    if c.driver == Driver::Rust && got != deadline_answer(request) {
        return Err(format!("the deadline's answer was {got:02x?}, not 0xC3"));
    }
    c.moved(&before, &[("timeouts", 1)])
}

/// The responder answers too late: the deadline drops the request and the host gets the
/// deadline's answer; the late answer is written before the clean request.
fn responder_too_slow(c: &mut Campaign, i: u32) -> Injected {
    let request = c.checker.fault_request(i, CMD_SLOW_ECHO, 9);
    let mark = c.responder.mark();
    expire_slow_request(c, &request)?;
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

/// The campaign serves the device itself: it reads request A (an echo with command `cmd`) and
/// leaves it past the deadline, and the host reads the deadline's answer. Returns the open
/// device and A.
fn drop_request(c: &mut Campaign, i: u32, cmd: u8) -> Result<(Dev, Vec<u8>), String> {
    let dev = Dev::open(libc::O_NONBLOCK).map_err(|e| format!("open: errno {e}"))?;
    let a = c.checker.fault_request(i, cmd, 9);
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
    Ok((dev, a))
}

/// After [`drop_request`] of A with command `a_cmd`: the host sends the clean request B (an
/// echo, command 0x01) on the same open file; the campaign reads it,
/// calls `between(dev, a)` (what the responder does about A once B is read; its result is
/// shown in the first `faults-detail:` lines), then writes B's answer. The host's read of
/// B's answer is the outcome.
fn then_clean(
    c: &mut Campaign,
    i: u32,
    class: &str,
    a_cmd: u8,
    between: fn(&Dev, &[u8]) -> String,
) -> (Injected, Outcome, f64) {
    let before = c.counters();
    let (dev, a) = match drop_request(c, i, a_cmd) {
        Ok(x) => x,
        Err(e) => return (Err(e), Outcome::Wedged, 0.0),
    };
    let b = c.checker.clean_request(i);
    let _ = c.bus.set_pec(true);
    let t = Instant::now();
    let result = (|| {
        ssif::write_request(&c.bus, &b)?;
        let got = read_request(&dev)?;
        if got != b {
            return Err(format!("read {got:02x?}, not request B"));
        }
        let done = between(&dev, &a);
        c.moved(&before, &[("timeouts", 1)])?;
        // B's answer; a driver that took something else for B's answer refuses it.
        let on_time = dev.write(&msg(&answer(&b, &mut 0)));
        if i - c.base < 3 {
            println!(
                "faults-detail: driver={} class={class} tag={i} {done}, B's write {on_time:?}",
                c.driver.name()
            );
        }
        Ok(())
    })();
    let reply = ssif::read_response(&c.bus, Duration::from_secs(2));
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let _ = c.bus.set_pec(false);
    let outcome = match reply {
        Ok(r) => Outcome::Answered(c.checker.classify(i, &r)),
        Err(_) => Outcome::Lost,
    };
    (result, outcome, ms)
}

/// A's answer is written late, after B was read (another command: ours refuses it with
/// `EINVAL`). Whatever a driver does with it, the checker sees where it went.
fn late_answer_after_newer_request(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    then_clean(
        c,
        i,
        "late_answer_after_newer_request",
        CMD_SLOW_ECHO,
        |dev, a| {
            let late = dev.write(&msg(&answer(a, &mut 0)));
            format!("late write {late:?}")
        },
    )
}

/// ssifbridged's policy (github openbmc/ssifbridge, `ssifbridged.cpp` at 9a72d35,
/// `processMessage` and `afterMethodCall`): it reads B while A's D-Bus call is outstanding
/// (`numberOfReqNotRsp` 2); A's reply then comes back and is dropped, as the count is not 0
/// after its decrement. Nothing is written for A; B's answer must reach the host.
fn responder_drops_superseded(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    then_clean(c, i, "responder_drops_superseded", CMD_SLOW_ECHO, |_, _| {
        "A's reply dropped (superseded by B)".into()
    })
}

/// ssifbridged writes nothing when the D-Bus call fails (`afterMethodCall`, `if (ec)`): A is
/// never answered; the host then retries with the same command (B is an echo like A), and
/// B's answer must reach the host.
fn responder_skips_answer(c: &mut Campaign, i: u32) -> (Injected, Outcome, f64) {
    then_clean(c, i, "responder_skips_answer", CMD_ECHO, |_, _| {
        "nothing written for A (D-Bus error)".into()
    })
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

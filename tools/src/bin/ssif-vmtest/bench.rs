// SPDX-License-Identifier: GPL-2.0
//! The benchmark's measurements (`make bench`): `bench` and `fileops` (the wall-clock view),
//! `calibrate`, `icount-ops` and `txn` (the deterministic view under `-icount`), `wakeup`.

use super::*;

impl Ctx {
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
pub(crate) fn bench(args: &[String]) -> ! {
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
pub(crate) fn fileops(args: &[String]) -> ! {
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
pub(crate) fn calibrate() -> ! {
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

/// `BUS WORKLOAD N` of `icount-ops` and `txn`: the bus, the workload's request and PEC, N.
/// Exits with the usage on anything else.
fn workload_args(command: &str, args: &[String]) -> (u32, Vec<u8>, bool, u32) {
    let (Some(bus), Some((request, pec)), Some(n)) = (
        args.first().and_then(|b| b.parse().ok()),
        args.get(1).and_then(|w| workload(w)),
        args.get(2).and_then(|s| s.parse::<u32>().ok()),
    ) else {
        eprintln!("usage: ssif-vmtest {command} BUS get_device_id_pec|multipart_250 N");
        std::process::exit(2);
    };
    (bus, request, pec, n)
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
pub(crate) fn icount_ops(args: &[String]) -> ! {
    let (bus, request, pec, n) = workload_args("icount-ops", args);
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
pub(crate) fn txn(args: &[String]) -> ! {
    let (bus, request, pec, n) = workload_args("txn", args);
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
pub(crate) fn wakeup(args: &[String]) -> ! {
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

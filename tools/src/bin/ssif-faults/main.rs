// SPDX-License-Identifier: GPL-2.0
//! The fault campaign, run inside the VM against one SSIF BMC driver (ours or upstream's C
//! `ssif_bmc`) on the software SMBus link: every class injects its fault `n` times, each
//! followed by a clean transaction whose answer [`Checker`] traces to its request. Prints one
//! line per class:
//!
//! `faults: driver=<d> class=<c> iterations=<n> injected=<n> not_injected=<n> recovered=<n>
//! wedged=<n> splats=<n> lost=<n> stale=<n> duplicated=<n> misdelivered=<n> wrong=<n>
//! p50_ms=<x> p99_ms=<y> max_ms=<z> resent=<n> lockdep=on|off`
//!
//! and `faults-detail:` lines for the first few failures of a class. Each iteration is one of
//! recovered (the clean request got its own answer), lost (no answer, but a fresh request
//! then got one), wedged (no answer to that either, or the fault could not be tried because
//! an earlier iteration left the driver unusable; after 10 wedged in a row the rest of the
//! class is counted wedged, untried), stale, duplicated, misdelivered or wrong (also when the
//! driver itself answers the fault wrongly, e.g. lets a second opener in)
//! (see `ssif_tools::checker`). `resent` counts the clean requests the driver's own response
//! deadline answered (the responder too slow for it, as right after a module load on the
//! debug kernel) and that were sent once more, as a host does (see [`Campaign::clean`]).
//! `injected` counts the faults confirmed: iterations minus `not_injected` minus those
//! skipped as wedged. Exits 1 if a fault could not be confirmed injected (`not_injected`), and, for our driver, if anything but
//! `recovered` was seen or a splat counted.
//!
//! Usage: `ssif-faults --driver rust|c --host-bus N --bmc-bus M [--n N] [--nslow N]
//! [--nburst N] [--classes a,b] [--timeout-ms MS] [--seed S]`, with `ssif-responder` and
//! `ipmitool` on `PATH`, no responder running, and the driver loaded and bound at 0x10 of
//! the BMC bus. The kernel log patterns that count as splats come from `$SPLAT_PATTERN`
//! (`|`-separated literal strings).

mod classes;
mod kernel;
mod lifecycle;
mod responder;

use classes::{Class, Step, CLASSES};
use kernel::Kernel;
use responder::Responder;
use ssif_tools::{
    checker::{deadline_answer, percentile, Checker, Verdict},
    smbus::Smbus,
    ssif,
};
use std::{
    collections::HashMap,
    fs, thread,
    time::{Duration, Instant},
};

const ADDR: u16 = 0x10;
/// After this many wedged iterations in a row, a class stops trying.
const WEDGED_GIVE_UP: u32 = 10;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    Rust,
    C,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Rust => "rust",
            Driver::C => "c",
        }
    }

    /// Whether this driver is the `ssif_bmc` loaded. Both modules have that name and both
    /// I2C drivers upstream's `ipmi-ssif-host`; only ours has a module parameter, and a Rust
    /// module's parameters are not in sysfs (permission 0) but their section is.
    fn is_loaded(self) -> bool {
        if fs::metadata("/sys/module/ssif_bmc").is_err() {
            return false;
        }
        let ours = fs::metadata("/sys/module/ssif_bmc/sections/__param").is_ok();
        ours == (self == Driver::Rust)
    }
}

/// What one clean transaction ended as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Answered(Verdict),
    /// No answer to this request, but the next one was answered.
    Lost,
    /// No answer to this one nor to the next.
    Wedged,
}

/// Counts of one class.
#[derive(Default)]
struct Tally {
    iterations: u32,
    not_injected: u32,
    /// Iterations skipped because the driver was wedged (see [`Campaign::skip`]).
    skipped: u32,
    outcomes: HashMap<&'static str, u32>,
    times_ms: Vec<f64>,
    details: Vec<String>,
    /// Clean requests sent again after the deadline answered them (see [`Campaign::clean`]).
    resent: u32,
}

impl Tally {
    fn count(&mut self, what: &'static str) {
        *self.outcomes.entry(what).or_default() += 1;
    }

    fn get(&self, what: &str) -> u32 {
        self.outcomes.get(what).copied().unwrap_or(0)
    }

    fn detail(&mut self, text: String) {
        if self.details.len() < 3 {
            self.details.push(text);
        }
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Answered(Verdict::Recovered) => "recovered",
        Outcome::Answered(Verdict::Stale) => "stale",
        Outcome::Answered(Verdict::Duplicated) => "duplicated",
        Outcome::Answered(Verdict::Misdelivered) => "misdelivered",
        Outcome::Answered(Verdict::Wrong) => "wrong",
        Outcome::Lost => "lost",
        Outcome::Wedged => "wedged",
    }
}

pub(crate) struct Campaign {
    pub(crate) driver: Driver,
    pub(crate) bus: Smbus,
    pub(crate) host_bus: u32,
    pub(crate) bmc_bus: u32,
    pub(crate) timeout: Duration,
    pub(crate) checker: Checker,
    pub(crate) responder: Responder,
    rng: u64,
    /// Iterations of the classes run before: tags are numbered through the whole run.
    pub(crate) base: u32,
    /// Set by a class whose fault could not even be tried because an earlier iteration left
    /// the driver wedged (e.g. nothing can bind any more): the iteration counts as wedged,
    /// neither injected nor `not_injected`.
    pub(crate) skip: Option<String>,
    /// Set by a class whose fault was injected and answered wrongly by the driver itself
    /// (not through the clean transaction): the iteration counts as wrong.
    pub(crate) misbehaved: Option<String>,
    /// What the last clean transaction saw (each try's error or the answer's bytes), shown
    /// with any outcome but recovered.
    pub(crate) trace: String,
    /// Set by [`Campaign::clean`] when it sent the clean request again after the deadline's
    /// answer to it.
    resent: bool,
}

impl Campaign {
    /// Our driver's debugfs counters (empty for upstream's, which has none).
    pub(crate) fn counters(&self) -> HashMap<String, u64> {
        if self.driver != Driver::Rust {
            return HashMap::new();
        }
        let path = format!("/sys/kernel/debug/ssif_bmc-{}-0010/counters", self.bmc_bus);
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
            .collect()
    }

    /// For our driver: each counter in `moved` grew by exactly its amount since `before`.
    pub(crate) fn moved(
        &self,
        before: &HashMap<String, u64>,
        moved: &[(&str, u64)],
    ) -> Result<(), String> {
        if self.driver != Driver::Rust {
            return Ok(());
        }
        let after = self.counters();
        for &(name, by) in moved {
            let (b, a) = (before.get(name), after.get(name));
            match (b, a) {
                (Some(b), Some(a)) if a - b == by => {}
                _ => return Err(format!("counter {name}: {b:?} -> {a:?}, expected +{by}")),
            }
        }
        Ok(())
    }

    /// A random number below `n` (xorshift; the seed is printed).
    pub(crate) fn random(&mut self, n: usize) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % n as u64) as usize
    }

    /// Sends `request` and reads its answer: `None` if the BMC never answered (no first
    /// part within 2 s, or an error mid-read).
    pub(crate) fn transact(&self, request: &[u8]) -> Option<Vec<u8>> {
        self.try_transact(request).ok()
    }

    fn try_transact(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        ssif::write_request(&self.bus, request)?;
        ssif::read_response(&self.bus, Duration::from_secs(2))
    }

    /// `transact`, its result (an error, or the answer's bytes) added to `trace`.
    fn transact_traced(&mut self, request: &[u8], t: Instant) -> Option<Vec<u8>> {
        let r = self.try_transact(request);
        let at = t.elapsed().as_secs_f64() * 1000.0;
        let seen = match &r {
            Ok(a) => a
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => e.clone(),
        };
        self.trace += &format!("[{at:.1} ms: {seen}]");
        r.ok()
    }

    /// The clean transaction of `iteration` over the bus, with PEC as ipmi_ssif uses it: the
    /// request is sent again once (as a host retries) if no answer came, or if the answer was
    /// the driver's own for a request its responder left unanswered past the deadline
    /// ([`Campaign::deadline_answered`]); the time is from the first write to the answer.
    /// Without an answer, a fresh request tells lost from wedged.
    pub(crate) fn clean(&mut self, iteration: u32) -> (Outcome, f64) {
        let _ = self.bus.set_pec(true);
        let request = self.checker.clean_request(iteration);
        let before = self.counters();
        let t = Instant::now();
        self.trace.clear();
        let mut reply = self.transact_traced(&request, t);
        if reply
            .as_deref()
            .is_some_and(|r| self.deadline_answered(&request, r, t.elapsed(), &before))
        {
            self.resent = true;
            self.trace += "[the deadline's answer to it: sent again]";
            reply = self.transact_traced(&request, t);
        }
        if reply.is_none() {
            thread::sleep(self.timeout + Duration::from_millis(100));
            reply = self.transact_traced(&request, t);
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let outcome = match reply {
            Some(r) => Outcome::Answered(self.checker.classify(iteration, &r)),
            None => {
                thread::sleep(self.timeout + Duration::from_millis(100));
                let probe = self.checker.clean_request(iteration | 0x8000_0000);
                match self.transact(&probe) {
                    Some(_) => Outcome::Lost,
                    None => Outcome::Wedged,
                }
            }
        };
        let _ = self.bus.set_pec(false);
        (outcome, ms)
    }

    /// Whether `reply`, the answer to `request` that came `after` its write began, is what
    /// the driver makes up when its response deadline passes with the request unanswered:
    /// not before 90 % of the deadline, carrying no tag (so no request's real answer), and
    /// from ours exactly 0xC3 for this request with the `timeouts` counter moved by one since
    /// `before` (upstream's, which has no counters, gives an empty read).
    fn deadline_answered(
        &self,
        request: &[u8],
        reply: &[u8],
        after: Duration,
        before: &HashMap<String, u64>,
    ) -> bool {
        if after < self.timeout.mul_f64(0.9) || self.checker.tagged_answer(reply) {
            return false;
        }
        match self.driver {
            Driver::Rust => {
                reply == deadline_answer(request) && self.moved(before, &[("timeouts", 1)]).is_ok()
            }
            Driver::C => reply.is_empty(),
        }
    }
}

struct Options {
    driver: Driver,
    host_bus: u32,
    bmc_bus: u32,
    n: u32,
    nslow: u32,
    nburst: u32,
    classes: Option<Vec<String>>,
    timeout_ms: u64,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let args = ssif_tools::args::Args::from_env();
    let opt = |name: &str| args.opt(name);
    let num = |name: &str, default: Option<u64>| -> Result<u64, String> {
        match opt(name) {
            Some(v) => v.parse().map_err(|_| format!("{name}: not a number: {v}")),
            None => default.ok_or(format!("{name} is required")),
        }
    };
    let driver = match opt("--driver").as_deref() {
        Some("rust") => Driver::Rust,
        Some("c") => Driver::C,
        d => return Err(format!("--driver must be rust or c, not {d:?}")),
    };
    let n = num("--n", Some(1000))? as u32;
    Ok(Options {
        driver,
        host_bus: num("--host-bus", None)? as u32,
        bmc_bus: num("--bmc-bus", None)? as u32,
        n,
        nslow: num("--nslow", Some(u64::from(n)))? as u32,
        nburst: num("--nburst", Some(2000))? as u32,
        classes: opt("--classes")
            .filter(|c| !c.is_empty())
            .map(|c| c.split(',').map(String::from).collect()),
        timeout_ms: num("--timeout-ms", Some(500))?,
        seed: num(
            "--seed",
            Some(u64::from(std::process::id()) * 2_654_435_761 + 1),
        )?,
    })
}

fn main() {
    let o = options().unwrap_or_else(|e| {
        eprintln!("ssif-faults: {e}");
        std::process::exit(2)
    });
    let kernel = Kernel::watch();
    let timeout = Duration::from_millis(o.timeout_ms);
    let mut c = Campaign {
        driver: o.driver,
        bus: Smbus::open(o.host_bus, ADDR).expect("open the host bus"),
        host_bus: o.host_bus,
        bmc_bus: o.bmc_bus,
        timeout,
        checker: Checker::new((o.seed & 0xffff) as u16),
        responder: Responder::new(timeout + Duration::from_millis(50)),
        rng: o.seed | 1,
        base: 0,
        skip: None,
        misbehaved: None,
        trace: String::new(),
        resent: false,
    };
    println!(
        "faults-run: driver={} seed={} timeout_ms={}",
        o.driver.name(),
        o.seed,
        o.timeout_ms
    );
    let mut failed = false;
    for class in CLASSES {
        if o.classes
            .as_ref()
            .is_some_and(|l| !l.iter().any(|n| n == class.name))
        {
            continue;
        }
        let iterations = match class.kind {
            classes::Kind::Fast => o.n,
            classes::Kind::Slow => o.nslow,
            classes::Kind::Burst => o.nburst,
        };
        let before = kernel.state();
        let tally = run_class(&mut c, class, iterations);
        let after = kernel.state();
        let splats = after.splats.saturating_sub(before.splats);
        let bad = tally.iterations - tally.get("recovered");
        println!(
            "faults: driver={} class={} iterations={} injected={} not_injected={} recovered={} \
             wedged={} splats={} lost={} stale={} duplicated={} misdelivered={} wrong={} \
             p50_ms={:.1} p99_ms={:.1} max_ms={:.1} resent={} lockdep={}",
            o.driver.name(),
            class.name,
            tally.iterations,
            tally.iterations - tally.not_injected - tally.skipped,
            tally.not_injected,
            tally.get("recovered"),
            tally.get("wedged"),
            splats,
            tally.get("lost"),
            tally.get("stale"),
            tally.get("duplicated"),
            tally.get("misdelivered"),
            tally.get("wrong"),
            percentile(&tally.times_ms, 50.0),
            percentile(&tally.times_ms, 99.0),
            percentile(&tally.times_ms, 100.0),
            tally.resent,
            if after.lockdep_on { "on" } else { "off" },
        );
        for d in &tally.details {
            println!(
                "faults-detail: driver={} class={} {d}",
                o.driver.name(),
                class.name
            );
        }
        for r in kernel.reports(before.reports..after.reports) {
            println!(
                "faults-splat: driver={} class={} {r}",
                o.driver.name(),
                class.name
            );
        }
        failed |= tally.not_injected > 0 || (o.driver == Driver::Rust && (bad > 0 || splats > 0));
    }
    c.responder.stop();
    std::process::exit(i32::from(failed));
}

/// Runs `class` `iterations` times: the fault, then the clean transaction (unless the class
/// makes its own), tallied.
fn run_class(c: &mut Campaign, class: &Class, iterations: u32) -> Tally {
    let mut tally = Tally {
        iterations,
        ..Tally::default()
    };
    if let Err(e) = (class.setup)(c) {
        tally.not_injected = iterations;
        tally.detail(format!("setup failed: {e}"));
        return tally;
    }
    let mut wedged_in_a_row = 0;
    for i in 0..iterations {
        if wedged_in_a_row == WEDGED_GIVE_UP {
            // The driver answers nothing any more: the rest of the class would only wait.
            let rest = iterations - i;
            // Always shown, past the cap on details.
            tally.details.push(format!(
                "{WEDGED_GIVE_UP} wedged in a row: the other {rest} iterations counted as wedged, \
                 not tried"
            ));
            tally.skipped += rest;
            *tally.outcomes.entry("wedged").or_default() += rest;
            break;
        }
        let tag = c.base + i;
        let (injected, outcome, ms) = match class.step {
            Step::Inject(inject) => {
                let injected = inject(c, tag);
                let (outcome, ms) = c.clean(tag);
                (injected, outcome, ms)
            }
            Step::Whole(whole) => whole(c, tag),
        };
        let outcome = if let Some(why) = c.skip.take() {
            tally.skipped += 1;
            tally.detail(format!("iteration={i} skipped, wedged: {why}"));
            Outcome::Wedged
        } else if let Some(what) = c.misbehaved.take() {
            tally.detail(format!(
                "iteration={i} the driver answered the fault wrongly: {what}"
            ));
            Outcome::Answered(Verdict::Wrong)
        } else {
            outcome
        };
        if let Err(e) = injected {
            tally.not_injected += 1;
            tally.detail(format!("iteration={i} not_injected: {e}"));
        }
        tally.count(outcome_name(outcome));
        wedged_in_a_row = if outcome == Outcome::Wedged {
            wedged_in_a_row + 1
        } else {
            0
        };
        if !matches!(outcome, Outcome::Wedged) {
            tally.times_ms.push(ms);
        }
        if outcome != Outcome::Answered(Verdict::Recovered) {
            tally.detail(format!(
                "iteration={i} {} after {ms:.1} ms {}",
                outcome_name(outcome),
                c.trace
            ));
        }
        if std::mem::take(&mut c.resent) {
            tally.resent += 1;
            tally.detail(format!("iteration={i} resent: {}", c.trace));
        }
        c.trace.clear();
        if (i + 1) % 200 == 0 {
            eprintln!(
                "faults-progress: driver={} class={} done={} recovered={}",
                c.driver.name(),
                class.name,
                i + 1,
                tally.get("recovered")
            );
        }
    }
    c.base += iterations;
    if let Err(e) = (class.teardown)(c) {
        tally.detail(format!("teardown failed: {e}"));
        tally.not_injected += 1;
    }
    tally
}

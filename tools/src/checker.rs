// SPDX-License-Identifier: GPL-2.0
//! The fault campaign's checker: every request the host sends carries a tag unique to the
//! run, its kind and its iteration, so an answer can be traced to the request it belongs to.
//! [`Checker::classify`] tells the answer a clean transaction got apart: its own
//! ([`Verdict::Recovered`]), an earlier clean transaction's ([`Verdict::Stale`]), one the host
//! had received already ([`Verdict::Duplicated`]), another request's ([`Verdict::Misdelivered`])
//! or anything else ([`Verdict::Wrong`]). No answer at all (lost, wedged) is the caller's to
//! see.

use crate::ipmi::{answer, CMD_ECHO, NETFN_OEM};
use std::collections::HashSet;

/// The completion code of an answer the BMC made up because its response deadline passed.
pub const CC_TIMEOUT: u8 = 0xc3;
const MAGIC: [u8; 2] = [0xa5, 0x5a];
/// Tag kinds: the clean transaction that follows a fault, and a request a fault sends.
const CLEAN: u8 = b'C';
const FAULT: u8 = b'F';

/// The answer ours makes up for `request` when its response deadline passes unanswered.
pub fn deadline_answer(request: &[u8]) -> [u8; 3] {
    [request[0] | 4, request[1], CC_TIMEOUT]
}

/// What a clean transaction's answer was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The answer to this very request.
    Recovered,
    /// The answer to an earlier iteration's clean request.
    Stale,
    /// An answer the host had received before.
    Duplicated,
    /// The answer to another request the host sent (a fault's), never received before.
    Misdelivered,
    /// Anything else.
    Wrong,
}

/// A tagged request's parts, as its answer echoes them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tag {
    kind: u8,
    run: u16,
    iteration: u32,
}

impl Tag {
    fn bytes(self) -> [u8; 9] {
        let mut b = [0; 9];
        b[..2].copy_from_slice(&MAGIC);
        b[2] = self.kind;
        b[3..5].copy_from_slice(&self.run.to_le_bytes());
        b[5..].copy_from_slice(&self.iteration.to_le_bytes());
        b
    }

    /// The tag an echo answer (`[netfn|1][cmd][cc][data]`) carries, if any.
    fn of_answer(answer: &[u8]) -> Option<Tag> {
        let d = answer.get(3..12)?;
        (d[..2] == MAGIC).then(|| Tag {
            kind: d[2],
            run: u16::from_le_bytes([d[3], d[4]]),
            iteration: u32::from_le_bytes([d[5], d[6], d[7], d[8]]),
        })
    }
}

/// The history of one run: the requests sent and the answers received.
pub struct Checker {
    run: u16,
    /// Answers the host may get for requests other than clean ones: the faults' requests.
    others: Vec<Vec<u8>>,
    received: HashSet<Vec<u8>>,
}

impl Checker {
    /// A checker for run `run` (a number that tells this run's tags from any other's).
    pub fn new(run: u16) -> Checker {
        Checker {
            run,
            others: Vec::new(),
            received: HashSet::new(),
        }
    }

    /// An OEM `cmd` request whose data is the tag of `kind` and `iteration`.
    fn tagged(&self, kind: u8, cmd: u8, iteration: u32) -> Vec<u8> {
        let tag = Tag {
            kind,
            run: self.run,
            iteration,
        };
        [&[NETFN_OEM << 2, cmd][..], &tag.bytes()].concat()
    }

    /// The clean request of `iteration`: an OEM echo of its tag.
    pub fn clean_request(&self, iteration: u32) -> Vec<u8> {
        self.tagged(CLEAN, CMD_ECHO, iteration)
    }

    /// A fault's request in `iteration`: `cmd` (echo or slow echo) of its tag, padded to
    /// `len` bytes of data; the checker remembers it.
    pub fn fault_request(&mut self, iteration: u32, cmd: u8, len: usize) -> Vec<u8> {
        let mut r = self.tagged(FAULT, cmd, iteration);
        r.resize(2 + len.max(9), 0x3c);
        self.sent(&r);
        r
    }

    /// Remembers a request a fault sent, whose answer must never reach a clean one.
    pub fn sent(&mut self, request: &[u8]) {
        self.others.push(answer(request, &mut 0));
        // The deadline's made-up answer to it (only told apart by command).
        if request.get(1) != Some(&CMD_ECHO) {
            self.others.push(deadline_answer(request).to_vec());
        }
    }

    /// Remembers an answer the host received outside a clean transaction (a fault's).
    pub fn received(&mut self, answer: &[u8]) {
        self.received.insert(answer.to_vec());
    }

    /// Whether `reply` carries a tag of this run: it is the real answer to one of its
    /// requests, not one the driver made up.
    pub fn tagged_answer(&self, reply: &[u8]) -> bool {
        matches!(Tag::of_answer(reply), Some(t) if t.run == self.run)
    }

    /// The verdict on `reply`, the answer clean request `iteration` got.
    pub fn classify(&mut self, iteration: u32, reply: &[u8]) -> Verdict {
        let own = answer(&self.clean_request(iteration), &mut 0);
        let tag = Tag::of_answer(reply);
        let verdict = if reply == own {
            if self.received.contains(reply) {
                Verdict::Duplicated
            } else {
                Verdict::Recovered
            }
        } else if matches!(tag, Some(t) if t.kind == CLEAN && t.run == self.run
            && t.iteration < iteration
            && reply == answer(&self.clean_request(t.iteration), &mut 0))
        {
            Verdict::Stale
        } else if self.received.contains(reply) {
            Verdict::Duplicated
        } else if self.others.iter().any(|o| o == reply)
            || matches!(tag, Some(t) if t.run == self.run)
        {
            Verdict::Misdelivered
        } else {
            Verdict::Wrong
        };
        self.received.insert(reply.to_vec());
        verdict
    }
}

/// `p`-th percentile (nearest rank) of `values`, 0 if empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipmi::CMD_SLOW_ECHO;

    fn answered(c: &Checker, i: u32) -> Vec<u8> {
        answer(&c.clean_request(i), &mut 0)
    }

    #[test]
    fn own_answer_is_recovered_once_and_duplicated_after() {
        let mut c = Checker::new(7);
        assert_eq!(c.classify(0, &answered(&c, 0)), Verdict::Recovered);
        assert_eq!(c.classify(0, &answered(&c, 0)), Verdict::Duplicated);
    }

    #[test]
    fn an_earlier_clean_answer_is_stale_even_if_seen_before() {
        let mut c = Checker::new(7);
        let first = answered(&c, 0);
        assert_eq!(c.classify(0, &first), Verdict::Recovered);
        assert_eq!(c.classify(1, &first), Verdict::Stale);
        // Never seen before (the late answer of a lost one): stale as well.
        assert_eq!(c.classify(5, &answered(&c, 3)), Verdict::Stale);
    }

    #[test]
    fn a_faults_answer_is_misdelivered_then_duplicated() {
        let mut c = Checker::new(7);
        let slow = c.fault_request(4, CMD_SLOW_ECHO, 9);
        let late = answer(&slow, &mut 0);
        assert_eq!(c.classify(4, &late), Verdict::Misdelivered);
        assert_eq!(c.classify(5, &late), Verdict::Duplicated);
        // The deadline's 0xC3 for the slow request, given to a clean one.
        assert_eq!(
            c.classify(6, &[0xc4, CMD_SLOW_ECHO, CC_TIMEOUT]),
            Verdict::Misdelivered
        );
    }

    #[test]
    fn an_answer_the_host_got_for_a_fault_is_duplicated_if_replayed() {
        let mut c = Checker::new(7);
        let echo = c.fault_request(2, CMD_ECHO, 98);
        let got = answer(&echo, &mut 0);
        c.received(&got);
        assert_eq!(c.classify(2, &got), Verdict::Duplicated);
    }

    #[test]
    fn untagged_requests_of_faults_are_recognised() {
        let mut c = Checker::new(7);
        c.sent(&[0x18, 0x01]);
        assert_eq!(
            c.classify(0, &answer(&[0x18, 0x01], &mut 0)),
            Verdict::Misdelivered
        );
    }

    #[test]
    fn garbage_other_runs_and_unattributable_c3_are_wrong() {
        let mut c = Checker::new(7);
        assert_eq!(c.classify(0, &[]), Verdict::Wrong);
        assert_eq!(c.classify(0, &[0xc4, 0x01, 0x00, 1, 2]), Verdict::Wrong);
        // Clean 0 of another run.
        let other = Checker::new(8);
        assert_eq!(c.classify(0, &answered(&other, 0)), Verdict::Wrong);
        // A clean request's own 0xC3: whose it is cannot be told.
        assert_eq!(c.classify(1, &[0xc4, CMD_ECHO, CC_TIMEOUT]), Verdict::Wrong);
    }

    #[test]
    fn only_real_answers_of_this_run_are_tagged() {
        let c = Checker::new(7);
        assert!(c.tagged_answer(&answered(&c, 3)));
        assert!(!c.tagged_answer(&answered(&Checker::new(8), 3)));
        assert!(!c.tagged_answer(&[0xc4, CMD_ECHO, CC_TIMEOUT]));
        assert!(!c.tagged_answer(&[]));
    }

    #[test]
    fn a_later_iterations_answer_is_not_stale() {
        let mut c = Checker::new(7);
        assert_eq!(c.classify(1, &answered(&c, 2)), Verdict::Misdelivered);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}

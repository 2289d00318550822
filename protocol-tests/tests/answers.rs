// SPDX-License-Identifier: GPL-2.0
//! Which `write()` answers which request: the rule of `Ssif::respond`, driven the way OpenBMC's
//! ssifbridged drives it.
//!
//! [`Bridged`] is ssifbridged's answer policy, taken from github openbmc/ssifbridge,
//! `ssifbridged.cpp` at 9a72d35376b02197000141fb920d93ab7d79dceb: `processMessage` re-arms its
//! read before it forwards a request, counts `numberOfReqNotRsp++` and remembers the newest
//! request's netfn/LUN/cmd (`prevReqCmd`, `timedOut = false`); `afterMethodCall` decrements the
//! count, writes nothing on a D-Bus error, and drops a reply after its own timer fired
//! (`timedOut`), one that is not for `prevReqCmd`, or one that comes while the count is not 0;
//! `rspTimerHandler` writes 0xCE for `prevReqCmd` and sets `timedOut`.

mod common;

use common::*;
use proptest::prelude::*;
use ssif_protocol::protocol::{Message, RespondError, CC_TIMEOUT};

/// ssifbridged's state between the device and ipmid (see the module comment).
#[derive(Default)]
struct Bridged {
    /// `numberOfReqNotRsp`.
    not_answered: i32,
    /// `prevReqCmd`: netfn/LUN byte and command of the newest request read.
    newest: Option<(u8, u8)>,
    /// `timedOut`.
    timed_out: bool,
}

impl Bridged {
    /// `processMessage`: a request was read.
    fn read(&mut self, request: &[u8]) {
        self.newest = Some((request[0], request[1]));
        self.not_answered += 1;
        self.timed_out = false;
    }

    /// `afterMethodCall`: ipmid's reply `reply` (`None`: a D-Bus error) comes back. Returns
    /// what ssifbridged writes to the device, if anything.
    fn reply(&mut self, reply: Option<&[u8]>) -> Option<Vec<u8>> {
        self.not_answered -= 1;
        let reply = reply?;
        let newest = self.newest?;
        // netfn - 1, LUN and command equal to prevReqCmd's.
        let for_newest = reply[0] == newest.0 | 0x04 && reply[1] == newest.1;
        if self.timed_out || !for_newest || self.not_answered != 0 {
            return None;
        }
        Some(reply.to_vec())
    }

    /// `rspTimerHandler`: its own 14 s timer fired.
    fn own_timeout(&mut self) -> Option<Vec<u8>> {
        let (netfn_lun, cmd) = self.newest?;
        self.timed_out = true;
        Some(vec![netfn_lun | 0x04, cmd, 0xce])
    }
}

/// Writes `bytes` as ssifbridged would, through the core's `respond`.
fn write(h: &mut Host, bytes: &[u8]) -> Result<(), RespondError> {
    h.ssif.respond(Message::from_slice(bytes).unwrap())
}

/// An OEM echo request with its own command byte, and ipmid's answer to it.
fn echo(cmd: u8, tag: u8) -> (Vec<u8>, Vec<u8>) {
    (vec![0xc0, cmd, tag], vec![0xc4, cmd, 0x00, tag])
}

fn timeout_answer(req: &[u8]) -> Vec<u8> {
    vec![req[0] | 0x04, req[1], CC_TIMEOUT]
}

#[test]
fn reply_to_a_slow_request_dropped_the_next_one_answered() {
    let mut h = Host::new();
    let mut b = Bridged::default();
    let (a, a_reply) = echo(0x01, 0xa1);
    let (nb, nb_reply) = echo(0x02, 0xb2);
    assert!(h.send_request(&a, false));
    b.read(&h.user_take().unwrap());
    // ipmid is slower than the deadline: the host reads 0xC3 and sends the next request.
    assert!(h.ssif.expire());
    assert_eq!(h.read_response(false), Some(timeout_answer(&a)));
    assert!(h.send_request(&nb, false));
    b.read(&h.user_take().unwrap());
    // A's reply comes back while B is outstanding: ssifbridged drops it.
    assert_eq!(b.reply(Some(&a_reply)), None);
    // B's reply is written and must reach the host.
    let w = b
        .reply(Some(&nb_reply))
        .expect("ssifbridged writes B's answer");
    assert_eq!(write(&mut h, &w), Ok(()));
    assert_eq!(h.read_response(false), Some(nb_reply));
}

#[test]
fn nothing_written_for_a_request_and_the_next_one_answered() {
    let mut h = Host::new();
    let mut b = Bridged::default();
    let (a, _) = echo(0x01, 0xa1);
    let (nb, nb_reply) = echo(0x01, 0xb2);
    assert!(h.send_request(&a, true));
    b.read(&h.user_take().unwrap());
    // The D-Bus call fails: nothing is written; the deadline answers the host.
    assert_eq!(b.reply(None), None);
    assert!(h.ssif.expire());
    assert_eq!(h.read_response(true), Some(timeout_answer(&a)));
    // The same command again (a host retry): answered, and the host reads it.
    assert!(h.send_request(&nb, true));
    b.read(&h.user_take().unwrap());
    let w = b.reply(Some(&nb_reply)).unwrap();
    assert_eq!(write(&mut h, &w), Ok(()));
    assert_eq!(h.read_response(true), Some(nb_reply));
}

#[test]
fn every_other_request_slow_never_wedges() {
    // The outage the old rule caused: each slow request left an answer "owed", which then
    // took the next request's answer. Here every request after a slow one is answered.
    let mut h = Host::new();
    let mut b = Bridged::default();
    let mut slow: Option<Vec<u8>> = None;
    for i in 0..20u8 {
        let (req, reply) = echo(0x01 + i % 2, i);
        assert!(h.send_request(&req, false), "request {i} refused");
        b.read(&h.user_take().unwrap());
        if let Some(late) = slow.take() {
            assert_eq!(b.reply(Some(&late)), None, "superseded reply dropped");
        }
        if i % 2 == 0 {
            assert!(h.ssif.expire());
            assert_eq!(h.read_response(false), Some(timeout_answer(&req)));
            slow = Some(reply);
        } else {
            let w = b.reply(Some(&reply)).unwrap();
            assert_eq!(write(&mut h, &w), Ok(()), "request {i}");
            assert_eq!(h.read_response(false), Some(reply), "request {i}");
        }
    }
    assert_eq!(h.ssif.counters().responses, 10);
    assert_eq!(h.ssif.counters().timeouts, 10);
}

#[test]
fn mismatched_answer_is_refused_and_the_request_stays_answerable() {
    let mut h = Host::new();
    let (a, a_reply) = echo(0x01, 0xa1);
    assert!(h.send_request(&a, false));
    h.user_take().unwrap();
    let responses = h.ssif.counters().responses;
    // Another command, another netfn, a request netfn (response bit clear), one byte.
    for wrong in [
        &[0xc4, 0x02, 0x00][..],
        &[0x1c, 0x01, 0x00],
        &[0xc0, 0x01, 0x00],
        &[0xc4],
    ] {
        assert_eq!(
            write(&mut h, wrong),
            Err(RespondError::Mismatch),
            "{wrong:02x?}"
        );
    }
    assert_eq!(h.ssif.counters().responses, responses);
    assert!(h.ssif.response_wanted());
    assert_eq!(h.read_block(0x03, false), None, "still busy");
    // Another LUN is the same answer, as the host's ipmi_msghandler sees it.
    let mut other_lun = a_reply.clone();
    other_lun[0] |= 0x02;
    assert_eq!(write(&mut h, &other_lun), Ok(()));
    assert_eq!(h.read_response(false), Some(other_lun));
}

#[test]
fn late_answer_before_the_next_read_is_refused_and_changes_nothing() {
    let mut h = Host::new();
    let (a, a_reply) = echo(0x01, 0xa1);
    let (nb, nb_reply) = echo(0x02, 0xb2);
    assert!(h.send_request(&a, false));
    h.user_take().unwrap();
    assert!(h.ssif.expire());
    assert!(!h.ssif.response_wanted());
    // Late, twice: refused both times, nothing sent.
    for _ in 0..2 {
        assert_eq!(write(&mut h, &a_reply), Err(RespondError::Expired));
    }
    assert_eq!(h.read_response(false), Some(timeout_answer(&a)));
    // B has arrived but is not read yet: A's answer is still late, not B's.
    assert!(h.send_request(&nb, false));
    assert_eq!(write(&mut h, &a_reply), Err(RespondError::Expired));
    // B read: A's answer is now just wrong for B, and B stays answerable.
    h.user_take().unwrap();
    assert_eq!(write(&mut h, &a_reply), Err(RespondError::Mismatch));
    assert_eq!(write(&mut h, &nb_reply), Ok(()));
    assert_eq!(h.read_response(false), Some(nb_reply));
    // Answered: a second answer finds no request.
    let (_, again) = echo(0x02, 0xb2);
    assert_eq!(write(&mut h, &again), Err(RespondError::NoRequest));
}

#[test]
fn ssifbridged_own_timeout_answer_after_the_deadline_is_refused() {
    let mut h = Host::new();
    let mut b = Bridged::default();
    let (a, _) = echo(0x01, 0xa1);
    assert!(h.send_request(&a, false));
    b.read(&h.user_take().unwrap());
    assert!(h.ssif.expire());
    let ce = b.own_timeout().unwrap();
    assert_eq!(write(&mut h, &ce), Err(RespondError::Expired));
    assert_eq!(h.read_response(false), Some(timeout_answer(&a)));
}

#[test]
fn a_request_never_delivered_to_user_space_has_no_late_answer() {
    // read() took the request, the copy to user space failed, and the deadline dropped it in
    // between: user space never had it, so nothing is late and nothing can be written.
    let mut h = Host::new();
    let (a, a_reply) = echo(0x01, 0xa1);
    assert!(h.send_request(&a, false));
    let (_, seq) = h.ssif.take_request().map(|(m, s)| (m.clone(), s)).unwrap();
    assert!(h.ssif.expire());
    h.ssif.untake_request(seq);
    assert_eq!(write(&mut h, &a_reply), Err(RespondError::NoRequest));
    // Before the deadline, the same failure offers the request again.
    let (nb, nb_reply) = echo(0x02, 0xb2);
    assert_eq!(h.read_response(false), Some(timeout_answer(&a)));
    assert!(h.send_request(&nb, false));
    let seq = h.ssif.take_request().unwrap().1;
    h.ssif.untake_request(seq);
    assert!(h.ssif.request_ready());
    assert!(!h.ssif.response_wanted());
    assert_eq!(write(&mut h, &nb_reply), Err(RespondError::NoRequest));
    h.user_take().unwrap();
    assert_eq!(write(&mut h, &nb_reply), Ok(()));
}

#[test]
fn release_forgets_the_dropped_request() {
    let mut h = Host::new();
    let (a, a_reply) = echo(0x01, 0xa1);
    assert!(h.send_request(&a, false));
    h.user_take().unwrap();
    assert!(h.ssif.expire());
    h.ssif.release();
    assert_eq!(write(&mut h, &a_reply), Err(RespondError::NoRequest));
    let (nb, nb_reply) = echo(0x01, 0xb2);
    h.cycle(&nb, &nb_reply, false);
}

#[test]
fn known_limit_same_command_late_answer_after_the_next_read_is_taken() {
    // The one case no rule without a message id can catch (README, "The file interface"): A
    // dropped, B with the same netfn and command read, then A's late answer written. It is
    // accepted as B's. ssifbridged itself never writes it (the count is not 0), but a
    // responder that answers every request in order would.
    let mut h = Host::new();
    let (a, a_reply) = echo(0x01, 0xa1);
    let (nb, _) = echo(0x01, 0xb2);
    assert!(h.send_request(&a, false));
    h.user_take().unwrap();
    assert!(h.ssif.expire());
    assert_eq!(h.read_response(false), Some(timeout_answer(&a)));
    assert!(h.send_request(&nb, false));
    h.user_take().unwrap();
    assert_eq!(write(&mut h, &a_reply), Ok(()));
    assert_eq!(h.read_response(false), Some(a_reply));
}

/// What ipmid does with one request, in ssifbridged's terms.
#[derive(Clone, Copy, Debug)]
enum Ipmid {
    /// Replies before the deadline.
    OnTime,
    /// Replies after the deadline, once the host's next request has been read.
    AfterNext,
    /// Replies after the deadline, before the next request is read.
    BeforeNext,
    /// The D-Bus call fails: no reply at all.
    Error,
}

fn ipmid() -> impl Strategy<Value = Ipmid> {
    prop_oneof![
        3 => Just(Ipmid::OnTime),
        1 => Just(Ipmid::AfterNext),
        1 => Just(Ipmid::BeforeNext),
        1 => Just(Ipmid::Error),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// ssifbridged in front of an ipmid that is sometimes slow or fails, requests with one of
    /// two commands: the host reads for every request its own answer or the deadline's 0xC3,
    /// never another request's; every request ipmid answers in time is answered on the bus;
    /// and every write ssifbridged makes is either accepted or refused as late or wrong,
    /// without changing what the host reads.
    #[test]
    fn behind_ssifbridged_every_answer_reaches_its_own_request(
        script in prop::collection::vec((ipmid(), any::<bool>()), 1..40),
        pec_on in any::<bool>(),
    ) {
        let mut h = Host::new();
        let mut b = Bridged::default();
        // ipmid's reply to the previous request, if it comes after the next read.
        let mut held: Option<Vec<u8>> = None;
        for (i, &(ipmid, second_command)) in script.iter().enumerate() {
            let (req, reply) = echo(if second_command { 0x02 } else { 0x01 }, i as u8);
            prop_assert!(h.send_request(&req, pec_on), "request {} refused", i);
            b.read(&h.user_take().unwrap());
            if let Some(late) = held.take() {
                if let Some(w) = b.reply(Some(&late)) {
                    // Only when the count is 0, which it is not while this request waits.
                    prop_assert!(false, "ssifbridged wrote a superseded reply {:02x?}", w);
                }
            }
            let on_time = match ipmid {
                Ipmid::OnTime => {
                    let w = b.reply(Some(&reply));
                    prop_assert_eq!(w.as_ref(), Some(&reply));
                    prop_assert_eq!(write(&mut h, &reply), Ok(()));
                    true
                }
                Ipmid::AfterNext => {
                    prop_assert!(h.ssif.expire());
                    held = Some(reply.clone());
                    false
                }
                Ipmid::BeforeNext => {
                    prop_assert!(h.ssif.expire());
                    if let Some(w) = b.reply(Some(&reply)) {
                        prop_assert_eq!(write(&mut h, &w), Err(RespondError::Expired));
                    }
                    false
                }
                Ipmid::Error => {
                    prop_assert_eq!(b.reply(None), None);
                    prop_assert!(h.ssif.expire());
                    false
                }
            };
            let want = if on_time { reply } else { timeout_answer(&req) };
            prop_assert_eq!(h.read_response(pec_on), Some(want), "request {}", i);
        }
    }
}

// SPDX-License-Identifier: GPL-2.0
//! Property tests: whatever a hostile host sends, the core neither panics nor overruns, and a
//! clean request afterwards arrives intact.

mod common;

use common::*;
use proptest::prelude::*;
use ssif_protocol::protocol::{BusEvent, Message, Reply, RespondError, CC_TIMEOUT, PAYLOAD_MAX};

fn event() -> impl Strategy<Value = BusEvent> {
    prop_oneof![
        2 => Just(BusEvent::WriteRequested),
        // Bias the bytes towards the SSIF commands and interesting lengths.
        6 => prop_oneof![
            any::<u8>(),
            prop::sample::select(vec![0x02u8, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0a, 0, 1, 31, 32, 33, 0xff])
        ]
        .prop_map(BusEvent::WriteReceived),
        1 => Just(BusEvent::ReadRequested),
        2 => Just(BusEvent::ReadProcessed),
        2 => Just(BusEvent::Stop),
    ]
}

/// Anything user space may do between bus events.
#[derive(Clone, Debug)]
enum UserOp {
    Take,
    Respond(Vec<u8>),
    Expire,
    Release,
}

fn user_op() -> impl Strategy<Value = UserOp> {
    prop_oneof![
        Just(UserOp::Take),
        prop::collection::vec(any::<u8>(), 1..=PAYLOAD_MAX).prop_map(UserOp::Respond),
        Just(UserOp::Expire),
        Just(UserOp::Release),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn garbage_then_clean_request_arrives_intact(
        events in prop::collection::vec(event(), 0..300),
        ops in prop::collection::vec((0usize..300, user_op()), 0..8),
        req_len in 1usize..=PAYLOAD_MAX,
        resp_len in 2usize..=PAYLOAD_MAX,
        pec_on in any::<bool>(),
    ) {
        let mut h = Host::new();
        for (i, e) in events.iter().enumerate() {
            let step = h.ssif.on_bus(*e);
            // Reads always get a byte, writes never do.
            match e {
                BusEvent::ReadRequested | BusEvent::ReadProcessed =>
                    prop_assert!(matches!(step.reply, Reply::Byte(_))),
                _ => prop_assert!(!matches!(step.reply, Reply::Byte(_))),
            }
            for (_, op) in ops.iter().filter(|(at, _)| *at == i) {
                match op {
                    UserOp::Take => {
                        if let Some((m, _)) = h.ssif.take_request() {
                            prop_assert!(!m.as_bytes().is_empty() && m.as_bytes().len() <= PAYLOAD_MAX);
                        }
                    }
                    UserOp::Respond(r) => { let _ = h.ssif.respond(Message::from_slice(r).unwrap()); }
                    UserOp::Expire => { h.ssif.expire(); }
                    UserOp::Release => h.ssif.release(),
                }
            }
        }
        // The host gives up on whatever it was doing; the deadline releases a pending request.
        h.ssif.on_bus(BusEvent::Stop);
        h.ssif.expire();
        // The responder above may have read requests and never answered them (their answers
        // would now be refused as late: `answers_only_ever_reach_their_own_request`); a new
        // one opens the device.
        h.ssif.release();
        let req = bytes(req_len, 0x5a);
        let resp = answer_to(&req, resp_len, 0xa5);
        h.cycle(&req, &resp, pec_on);
    }

    #[test]
    fn random_bytes_in_a_write_never_produce_an_oversized_request(
        parts in prop::collection::vec((prop::sample::select(vec![0x02u8, 0x06, 0x07, 0x08]),
                                        prop::collection::vec(any::<u8>(), 0..40)), 1..20),
    ) {
        let mut h = Host::new();
        for (cmd, body) in parts {
            let mut raw = vec![cmd];
            raw.extend_from_slice(&body);
            h.write_raw(&raw, true);
            if let Some((m, _)) = h.ssif.take_request() {
                prop_assert!(m.as_bytes().len() <= PAYLOAD_MAX);
                let answer = answer_to(m.as_bytes(), 2, 0);
                h.ssif.respond(Message::from_slice(&answer).unwrap()).unwrap();
            }
        }
    }

    /// A responder that falls behind and then answers every request it read, in order (not
    /// ssifbridged, which answers only the newest: tests/answers.rs): whatever the
    /// interleaving, the host reads for each request its own answer or the 0xC3 timeout answer,
    /// never another request's, and a late answer is refused, never accepted: `Expired` if it
    /// is for the most recently read request, which was dropped; otherwise `Mismatch` while a
    /// read request awaits its answer, `NoRequest` when none does.
    #[test]
    fn answers_only_ever_reach_their_own_request(
        script in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 1..40),
        pec_on in any::<bool>(),
    ) {
        let mut h = Host::new();
        // Requests read and not yet answered, oldest first, with whether each was dropped.
        let mut unanswered: Vec<(u8, bool)> = Vec::new();
        for (i, &(take_before_deadline, deadline_passes, answer_now)) in script.iter().enumerate() {
            let id = i as u8;
            prop_assert!(h.send_request(&[0x18, id, 0x5a], pec_on));
            if take_before_deadline {
                prop_assert!(h.ssif.take_request().is_some());
                unanswered.push((id, false));
            }
            if deadline_passes {
                prop_assert!(h.ssif.expire());
                if let Some(last) = unanswered.last_mut().filter(|(j, _)| *j == id) {
                    last.1 = true;
                }
            } else if !take_before_deadline {
                prop_assert!(h.ssif.take_request().is_some());
                unanswered.push((id, false));
            }
            let mut answered = false;
            if answer_now {
                // The most recently read request, and whether it still awaits its answer.
                let newest = unanswered.last().copied();
                for (j, dropped) in unanswered.drain(..) {
                    let result = h.ssif.respond(Message::from_slice(&[0x1c, j, 0x00, j]).unwrap());
                    if dropped {
                        let want = match newest {
                            Some((n, false)) if n != j => RespondError::Mismatch,
                            Some((n, true)) if n == j => RespondError::Expired,
                            _ => RespondError::NoRequest,
                        };
                        prop_assert_eq!(result, Err(want));
                    } else {
                        prop_assert_eq!(j, id, "only the current request can be answered in time");
                        prop_assert_eq!(result, Ok(()));
                        answered = true;
                    }
                }
            }
            if !answered && !deadline_passes {
                // Still pending: the host is refused until the deadline passes.
                prop_assert_eq!(h.read_block(0x03, pec_on), None);
                prop_assert!(h.ssif.expire());
                if let Some(last) = unanswered.last_mut().filter(|(j, _)| *j == id) {
                    last.1 = true;
                }
            }
            let got = h.read_response(pec_on);
            let want = if answered { vec![0x1c, id, 0x00, id] } else { vec![0x1c, id, CC_TIMEOUT] };
            prop_assert_eq!(got, Some(want));
        }
    }
}

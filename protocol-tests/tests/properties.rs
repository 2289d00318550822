// SPDX-License-Identifier: GPL-2.0
//! Property tests: whatever a hostile host sends, the core neither panics nor overruns, and a
//! clean request afterwards arrives intact.

mod common;

use common::*;
use proptest::prelude::*;
use ssif_protocol::protocol::{BusEvent, Message, Reply, PAYLOAD_MAX};

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
        resp_len in 1usize..=PAYLOAD_MAX,
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
        let req = bytes(req_len, 0x5a);
        let resp = bytes(resp_len, 0xa5);
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
                h.ssif.respond(Message::from_slice(&[1]).unwrap()).unwrap();
            }
        }
    }
}

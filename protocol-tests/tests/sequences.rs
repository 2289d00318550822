// SPDX-License-Identifier: GPL-2.0
//! Byte-level SSIF sequences (see SSIF-NOTES: "Byte sequences") against the protocol core.

mod common;

use common::*;
use ssif_protocol::protocol::{pec, Abort, BusEvent, Message, Reply, RespondError, USER_MSG_SIZE};

#[test]
fn pec_of_get_device_id_matches_the_wire() {
    // S 20 02 02 18 01 66 P
    assert_eq!(pec(&[0x20, 0x02, 0x02, 0x18, 0x01]), 0x66);
}

#[test]
fn singlepart_request_with_pec() {
    let mut h = Host::new();
    let steps: Vec<Reply> = [
        BusEvent::WriteRequested,
        BusEvent::WriteReceived(0x02),
        BusEvent::WriteReceived(0x02),
        BusEvent::WriteReceived(0x18),
        BusEvent::WriteReceived(0x01),
        BusEvent::WriteReceived(0x66),
    ]
    .into_iter()
    .map(|e| h.ev(e))
    .collect();
    assert!(steps.iter().all(|r| *r == Reply::Ack));
    assert!(!h.ssif.request_ready(), "not ready before STOP");
    h.ev(BusEvent::Stop);
    assert!(h.ssif.request_ready());
    assert_eq!(h.user_take().unwrap(), [0x18, 0x01]);
    assert_eq!(h.ssif.counters().requests, 1);
}

#[test]
fn singlepart_read_with_pec_covers_both_addresses() {
    let mut h = Host::new();
    assert!(h.send_request(&[0x18, 0x01], true));
    h.user_take().unwrap();
    let resp = [0x1c, 0x01, 0x00, 0x20, 0x01, 0x00, 0x02];
    h.user_respond(&resp);
    let raw = h.read_raw(0x03, None, true).unwrap();
    let mut covered = vec![0x20, 0x03, 0x21, 0x07];
    covered.extend_from_slice(&resp);
    let mut want = vec![0x07];
    want.extend_from_slice(&resp);
    want.push(pec(&covered));
    assert_eq!(raw, want);
    assert_eq!(h.ssif.counters().responses_delivered, 1);
}

#[test]
fn reads_carry_pec_only_after_a_write_with_pec() {
    let mut h = Host::new();
    assert!(h.send_request(&[0x18, 0x01], false));
    h.user_take().unwrap();
    h.user_respond(&[0x1c, 0x01, 0x00]);
    // Without PEC on the write, the read is length + data, and a further byte is filler.
    let raw = h.read_raw(0x03, Some(5), false).unwrap();
    assert_eq!(raw, [0x03, 0x1c, 0x01, 0x00, 0xff]);

    assert!(h.send_request(&[0x18, 0x01], true));
    h.user_take().unwrap();
    h.user_respond(&[0x1c, 0x01, 0x00]);
    let raw = h.read_raw(0x03, None, true).unwrap();
    assert_eq!(raw.len(), 5, "length, 3 data bytes, PEC");
}

#[test]
fn multipart_write_40_bytes_start_end() {
    let mut h = Host::new();
    let msg = bytes(40, 1);
    assert_eq!(
        h.write_block(0x06, &msg[..32], true),
        WriteOutcome::Acked { ready: false }
    );
    assert_eq!(
        h.write_block(0x08, &msg[32..], true),
        WriteOutcome::Acked { ready: true }
    );
    assert_eq!(h.user_take().unwrap(), msg);
}

#[test]
fn multipart_write_ended_by_short_middle() {
    let mut h = Host::new();
    let msg = bytes(40, 2);
    h.write_block(0x06, &msg[..32], false);
    assert_eq!(
        h.write_block(0x07, &msg[32..], false),
        WriteOutcome::Acked { ready: true }
    );
    assert_eq!(h.user_take().unwrap(), msg);
}

#[test]
fn multipart_write_ended_by_zero_length_middle() {
    let mut h = Host::new();
    let msg = bytes(64, 3);
    h.write_block(0x06, &msg[..32], false);
    h.write_block(0x07, &msg[32..], false);
    assert!(
        !h.ssif.request_ready(),
        "a full middle does not end the message"
    );
    assert_eq!(
        h.write_block(0x07, &[], false),
        WriteOutcome::Acked { ready: true }
    );
    assert_eq!(h.user_take().unwrap(), msg);
}

#[test]
fn multipart_start_must_carry_32_bytes() {
    let mut h = Host::new();
    h.write_block(0x06, &bytes(20, 0), false);
    assert_eq!(h.ssif.counters().aborted(Abort::BadLength), 1);
    h.write_block(0x08, &bytes(8, 0), false);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::NoStart), 1);
}

#[test]
fn multipart_read_100_bytes_has_the_spec_layout() {
    let mut h = Host::new();
    assert!(h.send_request(&[0x18, 0x01], false));
    h.user_take().unwrap();
    let r = answer_to(&[0x18, 0x01], 100, 9);
    h.user_respond(&r);
    let p0 = h.read_raw(0x03, None, false).unwrap();
    assert_eq!(&p0[..3], &[0x20, 0x00, 0x01]);
    assert_eq!(&p0[3..], &r[0..30]);
    let p1 = h.read_raw(0x09, None, false).unwrap();
    assert_eq!(&p1[..2], &[0x20, 0x00]);
    assert_eq!(&p1[2..], &r[30..61]);
    let p2 = h.read_raw(0x09, None, false).unwrap();
    assert_eq!(&p2[..2], &[0x20, 0x01]);
    assert_eq!(&p2[2..], &r[61..92]);
    let p3 = h.read_raw(0x09, None, false).unwrap();
    assert_eq!(&p3[..2], &[0x09, 0xff]);
    assert_eq!(&p3[2..], &r[92..100]);
    assert_eq!(h.ssif.counters().responses_delivered, 1);
}

#[test]
fn response_of_exactly_32_bytes_is_single_part() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    h.user_take();
    let r = answer_to(&[0x18, 0x01], 32, 4);
    h.user_respond(&r);
    assert_eq!(h.read_block(0x03, false).unwrap(), r);
}

#[test]
fn response_lengths_round_trip_2_to_254() {
    // Two bytes at least: an answer names its request's netfn and command.
    for len in 2..=254 {
        for pec_on in [false, true] {
            let mut h = Host::new();
            let req = bytes(len.min(250), 5);
            let resp = answer_to(&req, len, 6);
            h.cycle(&req, &resp, pec_on);
        }
    }
}

#[test]
fn whole_response_replays_from_0x03_until_next_request() {
    let mut h = Host::new();
    let r = answer_to(&[0x18, 0x01], 100, 1);
    h.cycle(&[0x18, 0x01], &r, true);
    // The host failed somewhere and restarts the read: the same response again.
    assert_eq!(h.read_response(true).unwrap(), r);
    assert_eq!(h.read_response(true).unwrap(), r);
    // A new request ends the replay.
    assert!(h.send_request(&[0x18, 0x02], true));
    assert_eq!(h.read_block(0x03, true), None, "busy again");
}

#[test]
fn retry_0x0a_replays_a_middle_block() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    h.user_take();
    let r = answer_to(&[0x18, 0x01], 100, 2);
    h.user_respond(&r);
    h.read_block(0x03, false).unwrap();
    let b0 = h.read_block(0x09, false).unwrap();
    let b1 = h.read_block(0x09, false).unwrap();
    // Ask for block 0 again.
    h.write_block(0x0a, &[0x00], false);
    assert_eq!(h.read_block(0x09, false).unwrap(), b0);
    assert_eq!(h.read_block(0x09, false).unwrap(), b1);
    let last = h.read_block(0x09, false).unwrap();
    assert_eq!(last[0], 0xff);
    // A block that does not exist is refused and counted; the position is kept.
    h.write_block(0x0a, &[0x07], false);
    assert_eq!(h.ssif.counters().aborted(Abort::BadRetry), 1);
}

#[test]
fn busy_target_naks_every_transaction_until_responded() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], true);
    for _ in 0..10 {
        assert_eq!(h.read_block(0x03, true), None);
    }
    assert_eq!(h.write_block(0x02, &[0x18, 0x01], true), WriteOutcome::Nak);
    assert_eq!(h.ssif.counters().naks, 11);
    // The bytes of a refused transaction are not processed.
    assert_eq!(h.user_take().unwrap(), [0x18, 0x01]);
}

#[test]
fn overlong_parts_are_dropped_without_overrun() {
    for len in 33..=35u8 {
        let mut h = Host::new();
        let mut raw = vec![0x02, len];
        raw.extend(std::iter::repeat_n(0xaa, usize::from(len) + 1));
        h.write_raw(&raw, true);
        assert!(!h.ssif.request_ready(), "len {len} accepted");
        assert_eq!(h.ssif.counters().aborted(Abort::Overlong), 1);
        h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], true);
    }
}

#[test]
fn excess_bytes_after_pec_drop_the_part() {
    let mut h = Host::new();
    h.write_raw(&[0x02, 0x02, 0x18, 0x01, 0x66, 0x00, 0x00], true);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::Excess), 1);
}

#[test]
fn truncated_part_is_dropped() {
    let mut h = Host::new();
    h.write_raw(&[0x02, 0x05, 0x18, 0x01], true);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::Truncated), 1);
}

#[test]
fn middle_without_start_is_dropped() {
    let mut h = Host::new();
    h.write_block(0x07, &bytes(32, 0), false);
    h.write_block(0x08, &bytes(5, 0), false);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::NoStart), 2);
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], false);
}

#[test]
fn message_over_254_bytes_is_aborted_and_bus_stays_usable() {
    let mut h = Host::new();
    h.write_block(0x06, &bytes(32, 0), false);
    for _ in 0..6 {
        h.write_block(0x07, &bytes(32, 0), false);
    }
    // 7 * 32 = 224; another 32 makes 256 > 254.
    h.write_block(0x07, &bytes(32, 0), false);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::TooLong), 1);
    // The rest of that message finds no START.
    h.write_block(0x08, &bytes(2, 0), false);
    assert!(!h.ssif.request_ready());
    let req = bytes(254, 3);
    h.cycle(&req, &answer_to(&req, 254, 4), true);
}

#[test]
fn bad_pec_drops_the_part_and_is_counted() {
    let mut h = Host::new();
    h.write_raw(&[0x02, 0x02, 0x18, 0x01, 0x67], true);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().pec_errors, 1);
    // Nothing pending: an empty reply, not someone else's response.
    assert_eq!(h.read_block(0x03, false).unwrap(), Vec::<u8>::new());
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], true);
}

#[test]
fn bad_pec_in_a_middle_part_poisons_the_message() {
    let mut h = Host::new();
    let msg = bytes(70, 1);
    h.write_block(0x06, &msg[..32], true);
    let mut raw = vec![0x07, 32];
    raw.extend_from_slice(&msg[32..64]);
    raw.push(0x00); // wrong PEC (the right one is not 0 for this data)
    let mut frame = vec![W, 0x07, 32];
    frame.extend_from_slice(&msg[32..64]);
    assert_ne!(pec(&frame), 0);
    h.write_raw(&raw, true);
    h.write_block(0x08, &msg[64..], true);
    assert!(
        !h.ssif.request_ready(),
        "a message with a hole was delivered"
    );
    assert_eq!(h.ssif.counters().pec_errors, 1);
}

#[test]
fn restart_without_stop_drops_the_partial_part() {
    let mut h = Host::new();
    // S 20 02 02 18 | Sr 20 02 02 18 01 P
    h.write_raw(&[0x02, 0x02, 0x18], false);
    h.write_raw(&[0x02, 0x02, 0x18, 0x01], true);
    assert_eq!(h.user_take().unwrap(), [0x18, 0x01]);
    assert_eq!(h.ssif.counters().aborted(Abort::Restart), 1);
}

#[test]
fn stop_during_start_discards_partial_request() {
    let mut h = Host::new();
    h.write_raw(&[0x06, 32, 1, 2, 3], true);
    assert!(!h.ssif.request_ready());
    h.write_block(0x08, &[1, 2], false);
    assert!(!h.ssif.request_ready(), "END appended to a discarded START");
}

#[test]
fn unknown_command_is_refused_then_next_request_accepted() {
    let mut h = Host::new();
    h.ev(BusEvent::WriteRequested);
    assert_eq!(h.ev(BusEvent::WriteReceived(0x55)), Reply::Nak);
    assert_eq!(h.ev(BusEvent::WriteReceived(0x01)), Reply::Nak);
    h.ev(BusEvent::Stop);
    assert_eq!(h.ssif.counters().aborted(Abort::UnknownCommand), 1);
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], false);
}

#[test]
fn read_interrupts_partial_write() {
    let mut h = Host::new();
    h.write_raw(&[0x02, 0x02, 0x18], false);
    // Repeated start with the read bit, no read command.
    assert_eq!(h.ev(BusEvent::ReadRequested), Reply::Byte(0xff));
    h.ev(BusEvent::Stop);
    assert!(!h.ssif.request_ready());
    assert_eq!(h.ssif.counters().aborted(Abort::ReadDuringWrite), 1);
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], true);
}

#[test]
fn read_command_interrupts_multipart_write() {
    let mut h = Host::new();
    h.write_block(0x06, &bytes(32, 0), false);
    assert_eq!(h.read_block(0x03, false).unwrap(), Vec::<u8>::new());
    h.write_block(0x08, &bytes(3, 0), false);
    assert!(!h.ssif.request_ready());
}

#[test]
fn write_interrupts_response_before_it_is_sent() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    h.user_take();
    h.user_respond(&[0x1c, 0x01, 0x00]);
    // The host moved on without reading.
    assert!(h.send_request(&[0x18, 0x02], false));
    assert_eq!(h.user_take().unwrap(), [0x18, 0x02]);
}

#[test]
fn write_interrupts_response_while_it_is_sent() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    h.user_take();
    h.user_respond(&answer_to(&[0x18, 0x01], 20, 1));
    h.ev(BusEvent::WriteRequested);
    h.ev(BusEvent::WriteReceived(0x03));
    h.ev(BusEvent::ReadRequested);
    h.ev(BusEvent::ReadProcessed);
    // Restart into a new write in the middle of the read.
    assert!(h.send_request(&[0x18, 0x02], false));
    assert_eq!(h.user_take().unwrap(), [0x18, 0x02]);
    assert_eq!(h.ssif.counters().responses_delivered, 0);
}

#[test]
fn timeout_releases_the_bus_and_late_response_fails() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], true);
    h.user_take();
    assert_eq!(h.read_block(0x03, true), None);
    assert!(h.ssif.expire());
    assert_eq!(h.ssif.counters().timeouts, 1);
    assert_eq!(
        h.ssif
            .respond(Message::from_slice(&[0x1c, 0x01, 0xce]).unwrap()),
        Err(RespondError::Expired)
    );
    // The host's retry is accepted.
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], true);
    assert!(!h.ssif.expire(), "nothing to expire");
}

#[test]
fn respond_without_request_is_refused_and_state_untouched() {
    let mut h = Host::new();
    assert_eq!(
        h.ssif.respond(Message::from_slice(&[1]).unwrap()),
        Err(RespondError::NoRequest)
    );
    h.send_request(&[0x18, 0x01], false);
    // Not read yet: answering is refused and the request stays queued.
    assert_eq!(
        h.ssif.respond(Message::from_slice(&[1]).unwrap()),
        Err(RespondError::NoRequest)
    );
    assert!(h.ssif.request_ready());
}

#[test]
fn release_offers_an_unanswered_request_again() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    h.user_take().unwrap();
    assert!(!h.ssif.request_ready());
    h.ssif.release();
    assert!(h.ssif.request_ready());
    assert_eq!(h.user_take().unwrap(), [0x18, 0x01]);
}

#[test]
fn untake_only_restores_the_same_request() {
    let mut h = Host::new();
    h.send_request(&[0x18, 0x01], false);
    let (_, seq) = h.ssif.take_request().unwrap();
    h.ssif.untake_request(seq.wrapping_add(1));
    assert!(!h.ssif.request_ready());
    h.ssif.untake_request(seq);
    assert!(h.ssif.request_ready());
}

/// Regression for the failure reported on the upstream driver's mailing-list thread: after
/// the host read a response, the driver never ACKed a write again.
#[test]
fn many_request_response_cycles_keep_working() {
    let mut h = Host::new();
    for i in 0..500usize {
        let pec_on = i % 2 == 0;
        let req_len = [2, 3, 32, 33, 40, 100, 254][i % 7];
        let resp_len = [3, 15, 32, 33, 62, 100, 254][(i / 7) % 7];
        let req = bytes(req_len, i as u8);
        h.cycle(&req, &answer_to(&req, resp_len, !(i as u8)), pec_on);
    }
    assert_eq!(h.ssif.counters().requests, 500);
    assert_eq!(h.ssif.counters().responses_delivered, 500);
}

#[test]
fn user_abi_decode_checks_count_and_len() {
    let enc = |len: u32, count: usize| {
        let mut b = vec![0u8; count];
        b[..4].copy_from_slice(&len.to_ne_bytes());
        b
    };
    assert!(Message::decode_user(&enc(1, 5)).is_some());
    assert!(Message::decode_user(&enc(254, 258)).is_some());
    assert!(Message::decode_user(&enc(254, 260)).is_some());
    assert!(Message::decode_user(&enc(0, 4)).is_none(), "len 0");
    assert!(Message::decode_user(&enc(255, 260)).is_none(), "len 255");
    assert!(
        Message::decode_user(&enc(10, 13)).is_none(),
        "count < 4 + len"
    );
    assert!(Message::decode_user(&enc(1, 261)).is_none(), "count > 260");
    assert!(Message::decode_user(&[1, 0, 0]).is_none(), "count < 4");
    assert!(Message::decode_user(&enc(u32::MAX, 260)).is_none());
}

#[test]
fn user_abi_encode_is_len_then_payload() {
    let m = Message::from_slice(&[0x18, 0x01]).unwrap();
    let mut buf = [0u8; USER_MSG_SIZE];
    assert_eq!(m.encode_user(&mut buf), Some(6));
    assert_eq!(&buf[..6], &[2, 0, 0, 0, 0x18, 0x01]);
    assert_eq!(m.encode_user(&mut buf[..5]), None);
}

#[test]
fn constants_match_the_uapi_header() {
    let header = include_str!("../../include/uapi/linux/ipmi_ssif_bmc.h");
    let max: usize = header
        .lines()
        .find_map(|l| l.strip_prefix("#define IPMI_SSIF_PAYLOAD_MAX"))
        .and_then(|v| v.trim().parse().ok())
        .expect("IPMI_SSIF_PAYLOAD_MAX in the header");
    assert_eq!(ssif_protocol::protocol::PAYLOAD_MAX, max);
    // unsigned int len + payload, padded to 4: what sizeof() gives (checked in C too).
    assert_eq!(USER_MSG_SIZE, (4 + max).next_multiple_of(4));
}

/// The debugfs `counters` file prints `Counters::NAMES` beside `Counters::values()`; tools and
/// the VM tests look counters up by those names.
#[test]
fn counter_names_line_up_with_their_values() {
    use ssif_protocol::protocol::Counters;
    let mut h = Host::new();
    h.cycle(&[0x18, 0x01], &[0x1c, 0x01, 0x00], true);
    let mut bad = vec![0x02, 0x02, 0x18, 0x01];
    bad.push(0x00); // wrong PEC
    h.write_raw(&bad, true);
    h.write_block(0x07, &[1, 2, 3], false); // middle without start
    let c = h.ssif.counters();
    let named = |name: &str| {
        let i = Counters::NAMES.iter().position(|n| *n == name).unwrap();
        c.values()[i]
    };
    assert_eq!(named("requests"), 1);
    assert_eq!(named("responses"), 1);
    assert_eq!(named("responses_delivered"), 1);
    assert_eq!(named("pec_errors"), 1);
    assert_eq!(named("abort_no_start"), 1);
    assert_eq!(named("naks"), c.naks);
    assert_eq!(named("timeouts"), c.timeouts);
    assert_eq!(named("empty_reads"), c.empty_reads);
    for why in Abort::ALL {
        assert_eq!(named(why.name()), c.aborted(why));
    }
    let mut names = Counters::NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Counters::COUNT, "names are unique");
}

/// Get Self Test and its answer.
const GET_SELF_TEST: [u8; 2] = [0x18, 0x04];
const SELF_TEST_ANSWER: [u8; 5] = [0x1c, 0x04, 0x00, 0x55, 0x00];

#[test]
fn dropped_request_is_answered_with_completion_code_c3() {
    for pec_on in [false, true] {
        for taken in [false, true] {
            let mut h = Host::new();
            // netfn 0x30 (OEM) LUN 2, command 0x21: the answer is netfn 0x31, same LUN and command.
            assert!(h.send_request(&[0xc2, 0x21, 0x01, 0x02], pec_on));
            if taken {
                h.user_take().unwrap();
            }
            assert!(h.ssif.expire());
            // read_block checks the read PEC when pec_on.
            assert_eq!(
                h.read_response(pec_on).as_deref(),
                Some(&[0xc6, 0x21, 0xc3][..]),
                "pec {pec_on} taken {taken}"
            );
            // Replayable like any response until the next request.
            assert_eq!(
                h.read_response(pec_on).as_deref(),
                Some(&[0xc6, 0x21, 0xc3][..])
            );
            assert_eq!(h.ssif.counters().empty_reads, 0);
            if taken {
                // The responder's late answer is refused and changes nothing.
                assert_eq!(
                    h.ssif
                        .respond(Message::from_slice(&[0xc6, 0x21, 0x00]).unwrap()),
                    Err(RespondError::Expired)
                );
            }
            h.cycle(&GET_SELF_TEST, &SELF_TEST_ANSWER, pec_on);
        }
    }
}

#[test]
fn dropped_multipart_request_is_answered_with_c3() {
    let mut h = Host::new();
    let req = [[0x18u8, 0x30].as_slice(), &bytes(60, 3)].concat();
    assert!(h.send_request(&req, true));
    assert!(h.ssif.expire());
    assert_eq!(
        h.read_response(true).as_deref(),
        Some(&[0x1c, 0x30, 0xc3][..])
    );
}

// SPDX-License-Identifier: GPL-2.0
//! Arbitrary bus events and user-space operations into the protocol core. Invariants: no
//! panic (which includes every slice bound and, in debug builds, arithmetic overflow); reads
//! always get a byte and writes never do; requests are 1..=254 bytes; and after any input,
//! once the host stops, the deadline fires and the responder reopens, a clean
//! request/response cycle works.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssif_protocol::protocol::{pec, BusEvent, Effect, Message, Reply, Ssif, PAYLOAD_MAX};

fn clean_cycle(ssif: &mut Ssif) {
    let frame = [0x20, 0x02, 0x02, 0x18, 0x01];
    let mut step = |e| ssif.on_bus(e);
    assert_eq!(step(BusEvent::WriteRequested).reply, Reply::Ack);
    for &b in &frame[1..] {
        step(BusEvent::WriteReceived(b));
    }
    step(BusEvent::WriteReceived(pec(&frame)));
    assert_eq!(step(BusEvent::Stop).effect, Effect::RequestReady);
    let (req, _) = ssif.take_request().expect("clean request lost");
    assert_eq!(req.as_bytes(), &[0x18, 0x01]);
    ssif.respond(Message::from_slice(&[0x1c, 0x01, 0x00]).unwrap())
        .unwrap();
    assert_eq!(ssif.on_bus(BusEvent::WriteRequested).reply, Reply::Ack);
    ssif.on_bus(BusEvent::WriteReceived(0x03));
    assert_eq!(ssif.on_bus(BusEvent::ReadRequested).reply, Reply::Byte(3));
    for want in [0x1c, 0x01, 0x00] {
        assert_eq!(
            ssif.on_bus(BusEvent::ReadProcessed).reply,
            Reply::Byte(want)
        );
    }
    ssif.on_bus(BusEvent::Stop);
}

fuzz_target!(|data: &[u8]| {
    let mut ssif = Ssif::new(0x10);
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let event = match op % 8 {
            0 => BusEvent::WriteRequested,
            1 | 2 => BusEvent::WriteReceived(bytes.next().unwrap_or(0)),
            3 => BusEvent::ReadRequested,
            4 => BusEvent::ReadProcessed,
            5 => BusEvent::Stop,
            6 => {
                match op / 8 % 4 {
                    0 => {
                        if let Some((m, _)) = ssif.take_request() {
                            assert!((1..=PAYLOAD_MAX).contains(&m.as_bytes().len()));
                        }
                    }
                    1 => {
                        let len = usize::from(bytes.next().unwrap_or(1)).clamp(1, PAYLOAD_MAX);
                        let _ = ssif.respond(Message::from_slice(&vec![op; len]).unwrap());
                    }
                    2 => {
                        ssif.expire();
                    }
                    _ => ssif.release(),
                }
                continue;
            }
            _ => {
                let _ = Message::decode_user(&data[..data.len().min(261)]);
                continue;
            }
        };
        let step = ssif.on_bus(event);
        match event {
            BusEvent::ReadRequested | BusEvent::ReadProcessed => {
                assert!(matches!(step.reply, Reply::Byte(_)))
            }
            _ => assert!(!matches!(step.reply, Reply::Byte(_))),
        }
    }
    ssif.on_bus(BusEvent::Stop);
    ssif.expire();
    // A responder above may have read requests the deadline dropped and never answered them;
    // their answers are owed. The next opener starts afresh.
    ssif.release();
    clean_cycle(&mut ssif);
});

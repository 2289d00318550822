// SPDX-License-Identifier: GPL-2.0

//! KUnit suite: drives the real target callback (`I2C_SLAVE_*` events in, errno and bytes
//! out) into the shared state under its IRQ spinlock, with the real response timer. The first
//! nine cases port upstream's `ssif_bmc` KUnit cases and keep their names.

#[kernel::macros::kunit_tests(ssif_bmc_rust)]
mod tests {
    use crate::{
        chardev::FileHandler,
        protocol::{pec, Abort, Message},
        state::Shared,
        target::FakeTarget,
    };
    use kernel::{
        bindings::{
            i2c_slave_event, i2c_slave_event_I2C_SLAVE_READ_PROCESSED as READ_PROCESSED,
            i2c_slave_event_I2C_SLAVE_READ_REQUESTED as READ_REQUESTED,
            i2c_slave_event_I2C_SLAVE_STOP as STOP,
            i2c_slave_event_I2C_SLAVE_WRITE_RECEIVED as WRITE_RECEIVED,
            i2c_slave_event_I2C_SLAVE_WRITE_REQUESTED as WRITE_REQUESTED,
        },
        prelude::*,
        sync::Arc,
        time::{delay::fsleep, Delta},
    };

    const W: u8 = 0x20;
    const R: u8 = 0x21;

    struct Bus {
        shared: Arc<Shared>,
        target: FakeTarget,
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            // As at unbind: stops the timer and releases the reference it holds.
            self.shared.retire();
        }
    }

    impl Bus {
        fn new(timeout_ms: u32) -> Bus {
            let shared = Shared::new(0x10, timeout_ms).expect("shared state");
            let target = FakeTarget::new(shared.clone()).expect("fake target");
            Bus { shared, target }
        }

        /// One event; `byte` is `*val` for WRITE_RECEIVED. For the other events `*val` holds
        /// garbage, as i2c-aspeed leaves it for STOP and READ_PROCESSED: the driver must not
        /// take it for data.
        fn ev(&self, event: i2c_slave_event, byte: u8) -> (i32, u8) {
            let mut val = if event == WRITE_RECEIVED { byte } else { 0xa5 };
            let ret = self.target.event(event, &mut val);
            (ret, val)
        }

        /// `S 20 bytes.. [P]`; returns the errno of WRITE_REQUESTED.
        fn write(&self, bytes: &[u8], stop: bool) -> i32 {
            let (ret, _) = self.ev(WRITE_REQUESTED, 0);
            for &b in bytes {
                self.ev(WRITE_RECEIVED, b);
            }
            if stop {
                self.ev(STOP, 0);
            }
            ret
        }

        /// A block write of `cmd` with `data`, with or without PEC.
        fn block_write(&self, cmd: u8, data: &[u8], with_pec: bool) -> i32 {
            let mut frame = KVec::new();
            frame
                .extend_from_slice(&[W, cmd, data.len() as u8], GFP_KERNEL)
                .unwrap();
            frame.extend_from_slice(data, GFP_KERNEL).unwrap();
            if with_pec {
                let p = pec(&frame);
                frame.push(p, GFP_KERNEL).unwrap();
            }
            self.write(&frame[1..], true)
        }

        /// `S 20 cmd Sr 21 | n bytes P`; `None` if WRITE_REQUESTED was refused.
        fn read(&self, cmd: u8, n: usize) -> Option<KVec<u8>> {
            if self.ev(WRITE_REQUESTED, 0).0 != 0 {
                self.ev(WRITE_RECEIVED, cmd);
                self.ev(STOP, 0);
                return None;
            }
            self.ev(WRITE_RECEIVED, cmd);
            let mut out = KVec::new();
            out.push(self.ev(READ_REQUESTED, 0).1, GFP_KERNEL).unwrap();
            while out.len() < n {
                out.push(self.ev(READ_PROCESSED, 0).1, GFP_KERNEL).unwrap();
            }
            self.ev(STOP, 0);
            Some(out)
        }

        fn answer(&self, resp: &[u8]) {
            self.shared
                .respond(Message::from_slice(resp).unwrap())
                .expect("respond");
        }
    }

    fn taken(bus: &Bus) -> Option<KVec<u8>> {
        bus.shared.try_take().map(|m| {
            let mut v = KVec::new();
            v.extend_from_slice(m.as_bytes(), GFP_KERNEL).unwrap();
            v
        })
    }

    #[test]
    fn singlepart_req() {
        let bus = Bus::new(500);
        assert_eq!(bus.write(&[0x02, 0x02, 0x18, 0x01], true), 0);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x01][..]));
        assert_eq!(bus.shared.counters().requests, 1);
    }

    #[test]
    fn restart_write_without_stop() {
        let bus = Bus::new(500);
        bus.write(&[0x02, 0x02, 0x18], false);
        bus.write(&[0x02, 0x02, 0x18, 0x01], true);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x01][..]));
        assert_eq!(bus.shared.counters().aborted(Abort::Restart), 1);
    }

    #[test]
    fn restart_after_invalid_command() {
        let bus = Bus::new(500);
        bus.ev(WRITE_REQUESTED, 0);
        // unknown command NAKed
        assert_ne!(bus.ev(WRITE_RECEIVED, 0xff).0, 0);
        bus.write(&[0x02, 0x02, 0x18, 0x01], true);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x01][..]));
        assert_eq!(bus.shared.counters().aborted(Abort::UnknownCommand), 1);
    }

    #[test]
    fn singlepart_read_response_completion() {
        let bus = Bus::new(500);
        bus.block_write(0x02, &[0x18, 0x01], true);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        let got = bus.read(0x03, 5).unwrap();
        let p = pec(&[W, 0x03, R, 0x03, 0x1c, 0x01, 0x00]);
        assert_eq!(&got[..], &[0x03, 0x1c, 0x01, 0x00, p]);
        assert_eq!(bus.shared.counters().responses_delivered, 1);
    }

    #[test]
    fn stop_during_start_discards_partial_request() {
        let bus = Bus::new(500);
        bus.write(&[0x06, 32, 1, 2, 3], true);
        bus.block_write(0x08, &[4, 5], false);
        assert!(taken(&bus).is_none());
    }

    #[test]
    fn read_interrupts_partial_write() {
        let bus = Bus::new(500);
        bus.write(&[0x02, 0x02, 0x18], false);
        assert_eq!(bus.ev(READ_REQUESTED, 0).1, 0xff);
        bus.ev(STOP, 0);
        assert!(taken(&bus).is_none());
        assert_eq!(bus.shared.counters().aborted(Abort::ReadDuringWrite), 1);
    }

    #[test]
    fn write_interrupts_response_send() {
        let bus = Bus::new(500);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        // Not read: a new request replaces it.
        bus.block_write(0x02, &[0x18, 0x02], false);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x02][..]));
    }

    #[test]
    fn write_interrupts_response_sending() {
        let bus = Bus::new(500);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00, 1, 2, 3]);
        bus.ev(WRITE_REQUESTED, 0);
        bus.ev(WRITE_RECEIVED, 0x03);
        bus.ev(READ_REQUESTED, 0);
        bus.ev(READ_PROCESSED, 0);
        // Restart into a write halfway through the read.
        assert_eq!(bus.block_write(0x02, &[0x18, 0x02], false), 0);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x02][..]));
        assert_eq!(bus.shared.counters().responses_delivered, 0);
    }

    #[test]
    fn timeout_interrupt_allows_retry() {
        let bus = Bus::new(20);
        bus.block_write(0x02, &[0x18, 0x01], false);
        // busy until answered
        assert!(bus.read(0x03, 1).is_none());
        fsleep(Delta::from_millis(100));
        assert_eq!(bus.shared.counters().timeouts, 1);
        // bus released
        assert_eq!(bus.block_write(0x02, &[0x18, 0x01], false), 0);
        assert!(taken(&bus).is_some());
    }

    #[test]
    fn multipart_write_and_read() {
        let bus = Bus::new(500);
        let mut req = [0u8; 40];
        for (i, b) in req.iter_mut().enumerate() {
            *b = i as u8;
        }
        bus.block_write(0x06, &req[..32], true);
        bus.block_write(0x08, &req[32..], true);
        assert_eq!(taken(&bus).as_deref(), Some(&req[..]));
        let mut resp = [0u8; 100];
        for (i, b) in resp.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(3);
        }
        // The answer names the request's netfn (with the response bit) and command.
        resp[..2].copy_from_slice(&[req[0] | 0x04, req[1]]);
        bus.answer(&resp);
        let p0 = bus.read(0x03, 33).unwrap();
        assert_eq!(&p0[..3], &[32, 0x00, 0x01]);
        assert_eq!(&p0[3..], &resp[..30]);
        let p1 = bus.read(0x09, 33).unwrap();
        assert_eq!(&p1[..2], &[32, 0x00]);
        assert_eq!(&p1[2..], &resp[30..61]);
        let p2 = bus.read(0x09, 33).unwrap();
        assert_eq!(&p2[2..], &resp[61..92]);
        let p3 = bus.read(0x09, 10).unwrap();
        assert_eq!(&p3[..2], &[9, 0xff]);
        assert_eq!(&p3[2..], &resp[92..]);
        assert_eq!(bus.shared.counters().responses_delivered, 1);
    }

    #[test]
    fn retry_0x0a_rereads_block() {
        let bus = Bus::new(500);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        let mut resp = [0x5a; 100];
        resp[..2].copy_from_slice(&[0x1c, 0x01]);
        bus.answer(&resp);
        bus.read(0x03, 33).unwrap();
        let b0 = bus.read(0x09, 33).unwrap();
        bus.read(0x09, 33).unwrap();
        bus.block_write(0x0a, &[0x00], false);
        assert_eq!(bus.read(0x09, 33).unwrap(), b0);
    }

    #[test]
    fn bad_pec_is_dropped() {
        let bus = Bus::new(500);
        bus.write(&[0x02, 0x02, 0x18, 0x01, 0x67], true);
        assert!(taken(&bus).is_none());
        assert_eq!(bus.shared.counters().pec_errors, 1);
    }

    #[test]
    fn overlong_part_is_dropped() {
        let bus = Bus::new(500);
        let mut raw = [0xeeu8; 38];
        raw[0] = 0x02;
        raw[1] = 35;
        bus.write(&raw, true);
        assert!(taken(&bus).is_none());
        assert_eq!(bus.shared.counters().aborted(Abort::Overlong), 1);
        bus.block_write(0x02, &[0x18, 0x01], false);
        assert!(taken(&bus).is_some());
    }

    #[test]
    fn late_response_after_timeout_fails() {
        let bus = Bus::new(10);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        fsleep(Delta::from_millis(60));
        assert_eq!(
            bus.shared
                .respond(Message::from_slice(&[0x1c, 0x01, 0xce]).unwrap()),
            Err(ETIMEDOUT)
        );
    }

    #[test]
    fn answered_request_does_not_time_out() {
        let bus = Bus::new(20);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        fsleep(Delta::from_millis(60));
        assert_eq!(bus.shared.counters().timeouts, 0);
        assert!(bus.read(0x03, 4).is_some());
    }

    #[test]
    fn next_request_moves_the_pending_deadline() {
        // An answer leaves the timer pending; the next request must move it, not inherit it.
        // Wide margins: a sleep may overshoot by up to 300 ms on a busy host under QEMU.
        let bus = Bus::new(1000);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        fsleep(Delta::from_millis(500));
        bus.read(0x03, 4).unwrap();
        bus.block_write(0x02, &[0x18, 0x02], false);
        // Past the first request's deadline, before the second's.
        fsleep(Delta::from_millis(700));
        assert_eq!(bus.shared.counters().timeouts, 0);
        assert!(bus.read(0x03, 1).is_none());
        // Past the second's: it was dropped and the bus released.
        fsleep(Delta::from_millis(600));
        assert_eq!(bus.shared.counters().timeouts, 1);
        assert!(bus.read(0x03, 1).is_some());
    }

    #[test]
    fn targets_route_by_client() {
        // Each client's events reach its own state, also after a freed slot is taken again.
        let a = Bus::new(500);
        let b = Bus::new(500);
        assert_eq!(b.block_write(0x02, &[0x18, 0x01], false), 0);
        assert!(taken(&a).is_none());
        assert_eq!(taken(&b).as_deref(), Some(&[0x18u8, 0x01][..]));
        drop(b);
        let c = Bus::new(500);
        assert_eq!(c.block_write(0x02, &[0x18, 0x02], false), 0);
        assert_eq!(a.block_write(0x02, &[0x18, 0x03], false), 0);
        assert_eq!(taken(&c).as_deref(), Some(&[0x18u8, 0x02][..]));
        assert_eq!(taken(&a).as_deref(), Some(&[0x18u8, 0x03][..]));
    }

    #[test]
    fn retired_state_refuses_responses() {
        let bus = Bus::new(500);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.shared.retire();
        assert_eq!(
            bus.shared.respond(Message::from_slice(&[1]).unwrap()),
            Err(ENODEV)
        );
    }
    #[test]
    fn skipped_answer_leaves_the_next_request_answerable() {
        // ssifbridged writes nothing for a request whose D-Bus call failed or was superseded:
        // the next request's answer must still be taken.
        let bus = Bus::new(20);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        fsleep(Delta::from_millis(100));
        assert_eq!(bus.shared.counters().timeouts, 1);
        assert!(bus.read(0x03, 4).is_some());
        assert_eq!(bus.block_write(0x02, &[0x18, 0x01], false), 0);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00, 0x20]);
        assert_eq!(
            bus.read(0x03, 5).as_deref(),
            Some(&[4u8, 0x1c, 0x01, 0x00, 0x20][..])
        );
    }

    #[test]
    fn late_answer_is_refused_and_the_next_request_gets_its_own() {
        let bus = Bus::new(20);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        fsleep(Delta::from_millis(100));
        assert_eq!(bus.shared.counters().timeouts, 1);
        // The host reads the timeout answer, then sends Get Self Test.
        assert_eq!(
            bus.read(0x03, 4).as_deref(),
            Some(&[3u8, 0x1c, 0x01, 0xc3][..])
        );
        assert_eq!(bus.block_write(0x02, &[0x18, 0x04], false), 0);
        assert_eq!(taken(&bus).as_deref(), Some(&[0x18u8, 0x04][..]));
        // The late answer to Get Device ID is not Get Self Test's: refused, never sent.
        assert_eq!(
            bus.shared
                .respond(Message::from_slice(&[0x1c, 0x01, 0x00, 0x20]).unwrap()),
            Err(EINVAL)
        );
        // Busy until Get Self Test is answered.
        assert!(bus.read(0x03, 1).is_none());
        bus.answer(&[0x1c, 0x04, 0x00, 0x55, 0x00]);
        assert_eq!(
            bus.read(0x03, 6).as_deref(),
            Some(&[5u8, 0x1c, 0x04, 0x00, 0x55, 0x00][..])
        );
    }

    #[test]
    fn dropped_request_is_answered_c3_with_pec() {
        let bus = Bus::new(20);
        // OEM netfn 0x30, LUN 1, command 0x21, with PEC: the answer is 0xc5 0x21 0xc3 + PEC.
        bus.block_write(0x02, &[0xc1, 0x21, 0x07], true);
        fsleep(Delta::from_millis(100));
        let got = bus.read(0x03, 5).unwrap();
        assert_eq!(&got[..4], &[3u8, 0xc5, 0x21, 0xc3][..]);
        assert_eq!(got[4], pec(&[W, 0x03, R, 3, 0xc5, 0x21, 0xc3]));
        assert_eq!(bus.shared.counters().empty_reads, 0);
    }

    #[test]
    fn timeout_attribute_is_validated_and_applies_to_the_next_request() {
        let bus = Bus::new(1000);
        assert_eq!(bus.shared.attribute(), 1000);
        for bad in [0, 60_001, u32::MAX] {
            assert_eq!(
                Shared::set_attribute(bus.shared.as_arc_borrow(), bad),
                Err(EINVAL)
            );
            assert_eq!(bus.shared.attribute(), 1000);
        }
        assert_eq!(
            Shared::set_attribute(bus.shared.as_arc_borrow(), 20),
            Ok(())
        );
        assert_eq!(bus.shared.attribute(), 20);
        bus.block_write(0x02, &[0x18, 0x01], false);
        fsleep(Delta::from_millis(300));
        // The new 20 ms deadline applied.
        assert_eq!(bus.shared.counters().timeouts, 1);
    }

    #[test]
    fn shorter_timeout_applies_while_the_timer_waits_for_a_longer_one() {
        // An answer leaves the timer queued for the old, long deadline: the next request's
        // shorter one must still be kept. Wide margins, as above.
        let bus = Bus::new(5000);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        bus.read(0x03, 4).unwrap();
        assert_eq!(
            Shared::set_attribute(bus.shared.as_arc_borrow(), 20),
            Ok(())
        );
        bus.block_write(0x02, &[0x18, 0x02], false);
        fsleep(Delta::from_millis(500));
        assert_eq!(bus.shared.counters().timeouts, 1);
        assert!(bus.read(0x03, 4).is_some());
    }

    #[test]
    fn shorter_timeout_holds_after_the_timer_followed_an_older_deadline() {
        // A request pending under the old, long timeout: the timer, restarted early for the new
        // one, must not then move on to the old deadline and stay there for the next request.
        // Wide margins, as above.
        let bus = Bus::new(3000);
        bus.block_write(0x02, &[0x18, 0x01], false);
        taken(&bus).unwrap();
        bus.answer(&[0x1c, 0x01, 0x00]);
        bus.read(0x03, 4).unwrap();
        fsleep(Delta::from_millis(500));
        // Due at about 3500 ms.
        bus.block_write(0x02, &[0x18, 0x02], false);
        taken(&bus).unwrap();
        assert_eq!(
            Shared::set_attribute(bus.shared.as_arc_borrow(), 500),
            Ok(())
        );
        fsleep(Delta::from_millis(700));
        bus.answer(&[0x1c, 0x02, 0x00]);
        bus.read(0x03, 4).unwrap();
        // Due 500 ms later, at about 1700 ms; the old deadline was 3500 ms.
        bus.block_write(0x02, &[0x18, 0x03], false);
        fsleep(Delta::from_millis(1000));
        assert_eq!(bus.shared.counters().timeouts, 1);
        assert!(bus.read(0x03, 4).is_some());
    }
}

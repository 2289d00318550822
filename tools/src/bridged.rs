// SPDX-License-Identifier: GPL-2.0
//! OpenBMC ssifbridged's answer policy, as a state machine with no I/O, so that
//! `ssif-bridge --policy ssifbridged` answers the device as ssifbridged does.
//!
//! Taken from github openbmc/ssifbridge, `ssifbridged.cpp` at
//! 9a72d35376b02197000141fb920d93ab7d79dceb:
//! - `processMessage` re-arms the read (`asyncRead()`) before it forwards a request, so a
//!   request B is read while A's backend (ipmid) call is outstanding. Each request read
//!   counts `numberOfReqNotRsp++`, becomes the newest (`prevReqCmd`: netfn, LUN, cmd),
//!   clears `timedOut` and restarts the one response timer (14 s, `hostReqTimeout`).
//! - `handleGetSysIfCap`: Get System Interface Capabilities (netfn 0x06, cmd 0x57) for the
//!   SSIF interface type (data byte 0 is 0) is answered at once, not forwarded: count back
//!   down, timer cancelled. ssifbridged's reply is `1c 57 00 | 00 80 ff ff 00` (cc 0,
//!   reserved, multi-part start/middle/end without PEC, 255-byte messages both ways, and a
//!   zero byte more than the four data bytes of the spec's answer: its payload length
//!   counts five); we answer with what our driver supports
//!   ([`ipmi::system_interface_caps`]).
//! - `afterMethodCall`: a backend reply counts `numberOfReqNotRsp--` first; on a backend
//!   error nothing is written; a reply is dropped if the timer fired since the newest
//!   request was read (`timedOut`), if its netfn - 1, LUN and command are not the newest
//!   request's, or if the count is not 0 ("Only send response to the last request
//!   command"). Otherwise it is written and the timer cancelled. A dropped reply leaves the
//!   timer running.
//! - `rspTimerHandler`: the timer writes completion code 0xCE for the newest request and
//!   sets `timedOut`.
//! - Write errors are only logged (by the caller here).
//!
//! So at most one answer is written per request, and only for the newest one read.

use crate::ipmi;
use std::time::{Duration, Instant};

/// ssifbridged's own response timer, `hostReqTimeout`.
pub const OWN_TIMEOUT: Duration = Duration::from_millis(14_000);
/// ssifbridged's D-Bus call timeout (`dbusTimeout`): a backend call that takes longer fails.
pub const BACKEND_TIMEOUT: Duration = Duration::from_secs(60);
/// "Command response could not be provided": ssifbridged's answer when its timer fires.
pub const CC_NO_RESPONSE: u8 = 0xce;

/// What to do with a request read from the device.
#[derive(Debug, PartialEq, Eq)]
pub enum OnRequest {
    /// Write this answer now (Get System Interface Capabilities).
    Answer(Vec<u8>),
    /// Forward the request to the backend, and give its reply to [`Bridged::reply`].
    Forward,
}

/// What becomes of a backend reply.
#[derive(Debug, PartialEq, Eq)]
pub enum OnReply {
    /// Write it.
    Write(Vec<u8>),
    /// The backend call failed: nothing is written.
    BackendError,
    /// Dropped: the timer answered the newest request already.
    TimedOut,
    /// Dropped: not for the newest request.
    NotNewest,
    /// Dropped: for the newest request's netfn, LUN and command, but other requests are
    /// still outstanding.
    Outstanding,
}

/// `prevReqCmd`: the newest request read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpmiCmd {
    netfn: u8,
    lun: u8,
    cmd: u8,
}

/// ssifbridged's state between the device and the backend.
pub struct Bridged {
    own_timeout: Duration,
    /// `numberOfReqNotRsp`.
    not_answered: i32,
    /// `prevReqCmd`; ssifbridged starts with all zero.
    newest: IpmiCmd,
    /// `timedOut`.
    timed_out: bool,
    /// When `rspTimer` fires, if it runs.
    timer: Option<Instant>,
}

impl Bridged {
    /// The policy with its own response timer set to `own_timeout` (ssifbridged's is
    /// [`OWN_TIMEOUT`]).
    pub fn new(own_timeout: Duration) -> Bridged {
        Bridged {
            own_timeout,
            not_answered: 0,
            newest: IpmiCmd {
                netfn: 0,
                lun: 0,
                cmd: 0,
            },
            timed_out: false,
            timer: None,
        }
    }

    /// `processMessage`: `req` (`netfn << 2 | lun, cmd, data…`) was read at `now`.
    pub fn request(&mut self, req: &[u8], now: Instant) -> OnRequest {
        let netfn_lun = req.first().copied().unwrap_or(0);
        self.newest = IpmiCmd {
            netfn: netfn_lun >> 2,
            lun: netfn_lun & 3,
            cmd: req.get(1).copied().unwrap_or(0),
        };
        self.not_answered += 1;
        self.timed_out = false;
        self.timer = Some(now + self.own_timeout);
        match ipmi::system_interface_caps(req) {
            Some(answer) => {
                self.not_answered -= 1;
                self.timer = None;
                OnRequest::Answer(answer)
            }
            None => OnRequest::Forward,
        }
    }

    /// `afterMethodCall`: the backend's reply to a forwarded request (`netfn|1 << 2 | lun,
    /// cmd, cc, data…`), or `None` for a failed call.
    pub fn reply(&mut self, reply: Option<&[u8]>) -> OnReply {
        self.not_answered -= 1;
        let Some(reply) = reply else {
            return OnReply::BackendError;
        };
        let n = self.newest;
        let (netfn, lun, cmd) = (
            reply.first().map_or(0, |b| b >> 2),
            reply.first().map_or(0, |b| b & 3),
            reply.get(1).copied().unwrap_or(0),
        );
        // ssifbridged compares prevReqCmd.netfn with netfn - 1 in int arithmetic.
        let for_newest = i32::from(n.netfn) == i32::from(netfn) - 1 && n.lun == lun && n.cmd == cmd;
        if self.timed_out {
            OnReply::TimedOut
        } else if !for_newest {
            OnReply::NotNewest
        } else if self.not_answered != 0 {
            OnReply::Outstanding
        } else {
            self.timer = None;
            OnReply::Write(reply.to_vec())
        }
    }

    /// When the timer fires, if it runs.
    pub fn timer(&self) -> Option<Instant> {
        self.timer
    }

    /// `rspTimerHandler`: if the timer is due at `now`, the 0xCE answer for the newest
    /// request to write.
    pub fn expire(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.timer.is_none_or(|t| now < t) {
            return None;
        }
        self.timer = None;
        self.timed_out = true;
        let n = self.newest;
        Some(vec![
            (n.netfn.wrapping_add(1) << 2) | (n.lun & 3),
            n.cmd,
            CC_NO_RESPONSE,
        ])
    }

    /// `numberOfReqNotRsp`: requests forwarded whose backend call has not ended.
    pub fn not_answered(&self) -> i32 {
        self.not_answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(cmd: u8, tag: u8) -> (Vec<u8>, Vec<u8>) {
        (vec![0xc0, cmd, tag], vec![0xc4, cmd, 0x00, tag])
    }

    #[test]
    fn one_request_answered_and_the_timer_stopped() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, ra) = echo(1, 0xa1);
        assert_eq!(b.request(&a, t), OnRequest::Forward);
        assert_eq!(b.timer(), Some(t + OWN_TIMEOUT));
        assert_eq!(b.reply(Some(&ra)), OnReply::Write(ra));
        assert_eq!(b.timer(), None);
        assert_eq!(b.expire(t + 2 * OWN_TIMEOUT), None);
        assert_eq!(b.not_answered(), 0);
    }

    #[test]
    fn slow_reply_dropped_once_a_newer_request_is_read_and_the_newer_one_answered() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, ra) = echo(1, 0xa1);
        let (nb, rb) = echo(2, 0xb2);
        b.request(&a, t);
        b.request(&nb, t + Duration::from_millis(600));
        assert_eq!(b.reply(Some(&ra)), OnReply::NotNewest);
        assert_eq!(b.reply(Some(&rb)), OnReply::Write(rb));
    }

    #[test]
    fn same_command_again_only_the_last_reply_written() {
        // A host's retry of the command the driver's deadline answered: the first reply
        // is for the newest netfn/cmd, but another call is outstanding.
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, ra) = echo(1, 0xa1);
        let (a2, ra2) = echo(1, 0xa2);
        b.request(&a, t);
        b.request(&a2, t);
        assert_eq!(b.reply(Some(&ra)), OnReply::Outstanding);
        assert_eq!(b.reply(Some(&ra2)), OnReply::Write(ra2));
    }

    #[test]
    fn backend_error_writes_nothing_and_counts_down() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, _) = echo(1, 0xa1);
        let (nb, rb) = echo(2, 0xb2);
        b.request(&a, t);
        assert_eq!(b.reply(None), OnReply::BackendError);
        assert_eq!(b.not_answered(), 0);
        b.request(&nb, t);
        assert_eq!(b.reply(Some(&rb)), OnReply::Write(rb));
    }

    #[test]
    fn own_timer_answers_ce_for_the_newest_and_its_late_reply_is_dropped() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, ra) = echo(1, 0xa1);
        b.request(&a, t);
        assert_eq!(b.expire(t + OWN_TIMEOUT - Duration::from_millis(1)), None);
        assert_eq!(
            b.expire(t + OWN_TIMEOUT),
            Some(vec![0xc4, 1, CC_NO_RESPONSE])
        );
        assert_eq!(b.expire(t + 2 * OWN_TIMEOUT), None, "fires once");
        assert_eq!(b.reply(Some(&ra)), OnReply::TimedOut);
        // The next request clears timedOut.
        let (nb, rb) = echo(2, 0xb2);
        b.request(&nb, t + 2 * OWN_TIMEOUT);
        assert_eq!(b.reply(Some(&rb)), OnReply::Write(rb));
    }

    #[test]
    fn timer_restarted_per_request_and_kept_after_a_dropped_reply() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, ra) = echo(1, 0xa1);
        let (nb, _) = echo(2, 0xb2);
        b.request(&a, t);
        b.request(&nb, t + s);
        assert_eq!(b.reply(Some(&ra)), OnReply::NotNewest);
        assert_eq!(b.timer(), Some(t + s + OWN_TIMEOUT));
        assert_eq!(
            b.expire(t + s + OWN_TIMEOUT),
            Some(vec![0xc4, 2, CC_NO_RESPONSE])
        );
    }

    #[test]
    fn a_call_that_never_ends_keeps_later_replies_out_until_it_fails() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let (a, _) = echo(1, 0xa1);
        let (nb, rb) = echo(2, 0xb2);
        let (c, rc) = echo(3, 0xc3);
        b.request(&a, t);
        b.request(&nb, t);
        assert_eq!(b.reply(Some(&rb)), OnReply::Outstanding);
        assert_eq!(b.reply(None), OnReply::BackendError, "A's call times out");
        b.request(&c, t);
        assert_eq!(b.reply(Some(&rc)), OnReply::Write(rc));
    }

    #[test]
    fn capabilities_answered_at_once_and_nothing_left_outstanding() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        let OnRequest::Answer(caps) = b.request(&[0x18, 0x57, 0x00], t) else {
            panic!("not answered here");
        };
        assert_eq!(&caps[..3], &[0x1c, 0x57, 0x00]);
        assert_eq!((b.not_answered(), b.timer()), (0, None));
        // Another interface type goes to the backend, as in ssifbridged.
        assert_eq!(b.request(&[0x18, 0x57, 0x01], t), OnRequest::Forward);
    }

    #[test]
    fn reply_with_another_lun_or_without_the_response_bit_is_not_for_the_newest() {
        let t = Instant::now();
        let mut b = Bridged::new(OWN_TIMEOUT);
        b.request(&[0xc1, 0x01], t);
        b.request(&[0xc1, 0x01], t);
        b.request(&[0xc1, 0x01], t);
        assert_eq!(b.reply(Some(&[0xc4, 0x01, 0x00])), OnReply::NotNewest);
        assert_eq!(b.reply(Some(&[0xc1, 0x01, 0x00])), OnReply::NotNewest);
        assert_eq!(
            b.reply(Some(&[0xc5, 0x01, 0x00])),
            OnReply::Write(vec![0xc5, 0x01, 0x00])
        );
    }
}

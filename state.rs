// SPDX-License-Identifier: GPL-2.0

//! The state shared by the bus interrupt, the response timer and the open file: the protocol
//! core under an IRQ-safe spinlock, plus the wait queue readers and pollers sleep on.
//!
//! It is reference-counted: the bound device, the target registration and every open file
//! hold a reference, so unbinding while the file is open or a reader sleeps is safe. After
//! [`Shared::retire`] every file operation fails with `ENODEV` and `poll` reports
//! `EPOLLHUP | EPOLLERR`.
//!
//! The response deadline runs on one `hrtimer` (`kernel::time::hrtimer`), started through an
//! `Arc<Shared>`, whose handle is kept in the locked state (see [`Timer`]):
//! - A completing request only stores its deadline. It starts the timer only if the timer is
//!   stopped: the handle of the previous start is then dropped first, which cancels nothing
//!   and waits at most for a callback that has left the lock and is returning.
//! - The callback follows the stored deadline: it drops the request if it is due, restarts
//!   itself (`forward`) at the deadline if a later request moved it, but no later than a
//!   request completing then would be due, and stops otherwise. An answer does not cancel the
//!   timer: the callback then finds no deadline.
//! - The timer is therefore never later than the deadline it serves, nor than the deadline of
//!   any request completing later under the same timeout. Lowering the timeout through sysfs
//!   cancels it, outside the lock, in process context, and restarts it early enough.
//! - [`Shared::retire`] cancels it for good and drops the handle, which releases the
//!   reference the timer holds.

use crate::{
    chardev::{poll_bits, FileHandler},
    protocol::{BusEvent, Counters, Effect, Message, Reply, RespondError, Ssif, USER_MSG_SIZE},
    target::TargetHandler,
};
use kernel::{
    fs::File,
    impl_has_hr_timer, new_poll_condvar,
    prelude::*,
    sync::{
        atomic::{ordering, Atomic},
        new_spinlock_irq,
        poll::{PollCondVar, PollTable},
        Arc, ArcBorrow, SpinLockIrq,
    },
    time::{
        hrtimer::{
            AbsoluteMode, ArcHrTimerHandle, HrTimer, HrTimerCallback, HrTimerCallbackContext,
            HrTimerPointer, HrTimerRestart,
        },
        Delta, Instant, Monotonic,
    },
    uaccess::{UserSliceReader, UserSliceWriter},
};

/// A point in time on the timer's clock.
type Due = Instant<Monotonic>;

/// What the response timer is doing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Not queued, or its callback is returning without a restart: the next request starts it.
    Stopped,
    /// Queued, or its callback runs. It expires no later than the stored deadline, and no later
    /// than the deadline of any request that completes under the current timeout.
    Armed,
    /// Being cancelled outside the lock, by whoever set this, who then restarts it if need be.
    /// Also final, after [`Shared::retire`]. A completing request only stores its deadline.
    Cancelling,
}

struct Inner {
    ssif: Ssif,
    /// When the request that awaits its answer is dropped.
    deadline: Option<Due>,
    timer: Timer,
    /// The handle of the timer's last start. It holds a reference to the [`Shared`] it is part
    /// of, released by [`Shared::retire`]; dropping it cancels the timer and waits for its
    /// callback, so it is dropped only when the timer is [`Timer::Stopped`], or outside the
    /// lock.
    handle: Option<ArcHrTimerHandle<Shared>>,
    /// The device is unbound: no more requests will come.
    retired: bool,
    /// A `poll()` asked for `POLLOUT` and did not get it: the next `read()` that takes a
    /// request wakes the wait queue. Otherwise nobody waits for `POLLOUT`, and `read()` wakes
    /// nobody: a responder written for upstream, which never reports `POLLOUT`, has no reason
    /// to wait for it.
    out_waiter: bool,
}

/// Shared state of one SSIF device.
#[pin_data]
pub(crate) struct Shared {
    #[pin]
    timer: HrTimer<Shared>,
    #[pin]
    inner: SpinLockIrq<Inner>,
    /// Woken whenever something a sleeper waits for may have become true: a request to read
    /// (`read`, `POLLIN`), one to answer (`POLLOUT`, only if a poller asked for it), or the
    /// device gone. Not when it becomes false: nobody waits for that.
    #[pin]
    waiters: PollCondVar,
    /// The response timeout in milliseconds. Changed through sysfs at any time; read when a
    /// request completes, which sets its deadline.
    timeout_ms: Atomic<u32>,
    open: Atomic<bool>,
}

/// Longest response deadline accepted, in milliseconds (the host driver gives up after ~15 s).
pub(crate) const TIMEOUT_MAX_MS: u32 = 60_000;

/// Whether `ms` is an acceptable response deadline.
pub(crate) fn timeout_valid(ms: u32) -> bool {
    (1..=TIMEOUT_MAX_MS).contains(&ms)
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for Shared {
        mode: AbsoluteMode<Monotonic>, field: self.timer
    }
}

impl HrTimerCallback for Shared {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        this.timer_expired(&mut ctx)
    }
}

/// `ms` milliseconds from now.
fn after_ms(ms: u32) -> Due {
    Due::now() + Delta::from_millis(ms.into())
}

/// Whether `a` is before `b`. (`Instant<Monotonic>` has no `PartialOrd`: its clock has none.)
fn before(a: Due, b: Due) -> bool {
    (a - b).is_negative()
}

/// The earlier of `a` and `b`.
fn earliest(a: Due, b: Due) -> Due {
    if before(a, b) {
        a
    } else {
        b
    }
}

impl Shared {
    /// New state for a target at 7-bit `address` with a response deadline of `ms` milliseconds
    /// (`EINVAL` unless [`timeout_valid`]).
    pub(crate) fn new(address: u8, ms: u32) -> Result<Arc<Self>> {
        if !timeout_valid(ms) {
            return Err(EINVAL);
        }
        Arc::pin_init(
            pin_init!(Self {
                timer <- HrTimer::new(),
                inner <- new_spinlock_irq!(Inner {
                    ssif: Ssif::new(address),
                    deadline: None,
                    timer: Timer::Stopped,
                    handle: None,
                    retired: false,
                    out_waiter: false,
                }, "ssif_bmc::Shared::inner"),
                waiters <- new_poll_condvar!("ssif_bmc::Shared::waiters"),
                timeout_ms: Atomic::new(ms),
                open: Atomic::new(false),
            }),
            GFP_KERNEL,
        )
    }

    /// The device is going away. Called after the target is unregistered: stops the timer for
    /// good (waiting for its callback), releases its reference, and wakes every sleeper, which
    /// then sees `ENODEV`. A second call does nothing more.
    ///
    /// Not concurrent with [`FileHandler::set_attribute`]: the attribute is removed with the
    /// misc device, which waits for a running `store`, before the device retires.
    pub(crate) fn retire(&self) {
        let handle = {
            let mut inner = self.inner.lock();
            inner.retired = true;
            inner.timer = Timer::Cancelling;
            inner.handle.take()
        };
        drop(handle);
        self.waiters.notify_all();
    }

    /// A snapshot of the counters.
    pub(crate) fn counters(&self) -> Counters {
        *self.inner.lock().ssif.counters()
    }

    /// Answers the request user space read most recently (see [`Ssif::respond`]): `ETIMEDOUT`
    /// if the deadline dropped it, `EINVAL` if no request awaits an answer or this is not its
    /// answer (state untouched either way), `ENODEV` after unbind.
    #[inline]
    pub(crate) fn respond(&self, response: Message) -> Result {
        let mut inner = self.inner.lock();
        if inner.retired {
            return Err(ENODEV);
        }
        match inner.ssif.respond(response) {
            // The timer stays queued and its callback finds no deadline. Cancelling it here
            // would take the timer base lock of the bus CPU on every answer, and the next
            // request would have to start it again.
            Ok(()) => inner.deadline = None,
            Err(RespondError::Expired) => return Err(ETIMEDOUT),
            Err(RespondError::NoRequest | RespondError::Mismatch) => return Err(EINVAL),
        }
        // Nothing became ready: no wake-up.
        Ok(())
    }

    /// Takes the waiting request, as `read()` does, without a user buffer.
    #[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
    pub(crate) fn try_take(&self) -> Option<Message> {
        self.inner
            .lock()
            .ssif
            .take_request()
            .map(|(m, _)| m.clone())
    }

    /// Sets the deadline of a request that has just completed, and starts the timer if it is
    /// stopped.
    fn set_deadline(this: ArcBorrow<'_, Self>, inner: &mut Inner) {
        let due = after_ms(this.timeout_ms.load(ordering::Relaxed));
        inner.deadline = Some(due);
        if inner.timer == Timer::Stopped {
            Self::start_timer(this, inner, due);
        }
    }

    /// Starts the stopped timer at `due`.
    fn start_timer(this: ArcBorrow<'_, Self>, inner: &mut Inner, due: Due) {
        // The previous start's callback has left the lock for good: this cancels nothing and
        // waits, at most, for that callback to return.
        drop(inner.handle.take());
        inner.handle = Some(Arc::from(this).start(due));
        inner.timer = Timer::Armed;
    }

    /// The timer callback, in hard interrupt context (a softirq on PREEMPT_RT).
    fn timer_expired(&self, ctx: &mut HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        let mut inner = self.inner.lock();
        let now = Due::now();
        let dropped = match inner.deadline {
            // A request completed after the one the timer was started or moved for.
            Some(due) if before(now, due) => {
                if inner.timer == Timer::Armed {
                    // No later than a request completing now would be due (`Timer::Armed`):
                    // `due` may come from a longer timeout than the current one.
                    let limit = after_ms(self.timeout_ms.load(ordering::Relaxed));
                    let next = earliest(due, limit);
                    // `forward` adds whole intervals while the expiry is not after `now`: one
                    // interval, from the expiry to `next`, is the one this needs.
                    let expires = self.timer.expires();
                    ctx.forward(now, next - expires);
                    return HrTimerRestart::Restart;
                }
                false
            }
            Some(_) => {
                inner.deadline = None;
                inner.ssif.expire()
            }
            // Answered in time.
            None => false,
        };
        if inner.timer == Timer::Armed {
            inner.timer = Timer::Stopped;
        }
        drop(inner);
        if dropped {
            self.waiters.notify_all();
        }
        HrTimerRestart::NoRestart
    }
}

impl TargetHandler for Shared {
    // Inlined into the bus callback, its only caller: one call fewer on every bus byte.
    #[inline(always)]
    fn on_event(this: ArcBorrow<'_, Self>, event: BusEvent) -> Reply {
        let mut inner = this.inner.lock();
        let step = inner.ssif.on_bus(event);
        if step.effect == Effect::RequestReady {
            Self::set_deadline(this, &mut inner);
            drop(inner);
            this.waiters.notify_all();
        }
        step.reply
    }
}

// Each method has one caller, its `extern "C"` entry point in `chardev`, and is inlined there:
// one function per file operation, and no copy of its own.
impl FileHandler for Shared {
    #[inline]
    fn open(&self) -> Result {
        if self.inner.lock().retired {
            return Err(ENODEV);
        }
        self.open
            .cmpxchg(false, true, ordering::Full)
            .map(|_| ())
            .map_err(|_| EBUSY)
    }

    #[inline]
    fn release(&self) {
        self.inner.lock().ssif.release();
        self.open.store(false, ordering::Release);
        self.waiters.notify_all();
    }

    #[inline]
    fn read(&self, mut out: UserSliceWriter, nonblocking: bool) -> Result<usize> {
        let mut buf = [0u8; USER_MSG_SIZE];
        let mut inner = self.inner.lock();
        let (size, seq, wake) = loop {
            if inner.retired {
                return Err(ENODEV);
            }
            if let Some(size) = inner.ssif.request_user_size() {
                // Too small a buffer leaves the request queued.
                if out.len() < size {
                    return Err(EINVAL);
                }
                if let Some((request, seq)) = inner.ssif.take_request() {
                    // Encoded in place, under the lock: the request is copied once.
                    let size = request.encode_user(&mut buf).ok_or(EINVAL)?;
                    break (size, seq, core::mem::take(&mut inner.out_waiter));
                }
            }
            if nonblocking {
                return Err(EAGAIN);
            }
            if self.waiters.wait_interruptible(&mut inner) {
                return Err(ERESTARTSYS);
            }
        };
        drop(inner);
        if wake {
            // The request now awaits its answer: wake the poller waiting for `POLLOUT`.
            self.waiters.notify_all();
        }
        if let Err(e) = out.write_slice(&buf[..size]) {
            // Not delivered: offer it again.
            self.inner.lock().ssif.untake_request(seq);
            self.waiters.notify_all();
            return Err(e);
        }
        Ok(size)
    }

    #[inline]
    fn write(&self, mut input: UserSliceReader) -> Result<usize> {
        let count = input.len();
        let mut buf = [0u8; USER_MSG_SIZE];
        let bytes = buf.get_mut(..count).ok_or(EINVAL)?;
        input.read_slice(bytes)?;
        let response = Message::decode_user(bytes).ok_or(EINVAL)?;
        self.respond(response)?;
        Ok(count)
    }

    #[inline]
    fn poll(&self, file: &File, table: PollTable<'_>, requested: u32) -> u32 {
        // Registered before the state is checked under the lock: a `read()` that takes the
        // request after that check sees `out_waiter` and wakes this poller.
        table.register_wait(file, &self.waiters);
        let mut inner = self.inner.lock();
        if inner.retired {
            return poll_bits::HUP | poll_bits::ERR;
        }
        let mut mask = 0;
        if inner.ssif.request_ready() {
            mask |= poll_bits::IN | poll_bits::RDNORM;
        }
        if inner.ssif.response_wanted() {
            mask |= poll_bits::OUT | poll_bits::WRNORM;
        } else if requested & (poll_bits::OUT | poll_bits::WRNORM) != 0 {
            // Set whether or not the caller registered: epoll re-checks without registering,
            // and its entry stays on the queue.
            inner.out_waiter = true;
        }
        mask
    }

    const ATTRIBUTE: &'static CStr = c"response_timeout_ms";

    fn attribute(&self) -> u32 {
        self.timeout_ms.load(ordering::Relaxed)
    }

    /// A new response timeout, for the requests that complete from now on.
    fn set_attribute(this: ArcBorrow<'_, Self>, ms: u32) -> Result {
        if !timeout_valid(ms) {
            return Err(EINVAL);
        }
        this.timeout_ms.store(ms, ordering::Relaxed);
        // A shorter timeout may give the next request a deadline before the timer's expiry,
        // where a request cannot move it (see `Timer::Armed`): cancel it, and restart it no
        // later than any deadline from now on.
        let limit = after_ms(ms);
        let handle = {
            let mut inner = this.inner.lock();
            if inner.timer != Timer::Armed || !before(limit, this.timer.expires()) {
                return Ok(());
            }
            inner.timer = Timer::Cancelling;
            inner.handle.take()
        };
        // Without the lock: the callback may be waiting for it.
        drop(handle);
        let mut inner = this.inner.lock();
        if inner.retired {
            return Ok(());
        }
        inner.timer = Timer::Stopped;
        if let Some(due) = inner.deadline {
            // The timeout as it is now: another store may have come meanwhile and, finding the
            // timer `Cancelling`, left the restart to this one. The callback moves the timer on
            // to the deadline if that is later.
            let limit = after_ms(this.timeout_ms.load(ordering::Relaxed));
            Self::start_timer(this, &mut inner, earliest(due, limit));
        }
        Ok(())
    }
}

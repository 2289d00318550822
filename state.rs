// SPDX-License-Identifier: GPL-2.0

//! The state shared by the bus interrupt, the response deadline and the open file: the
//! protocol core under an IRQ-safe spinlock, plus the wait queue readers and pollers sleep on.
//!
//! It is reference-counted: the bound device, the target registration and every open file
//! hold a reference, so unbinding while the file is open or a reader sleeps is safe. After
//! [`Shared::retire`] every file operation fails with `ENODEV` and `poll` reports
//! `EPOLLHUP | EPOLLERR`.

use crate::{
    chardev::{poll_bits, FileHandler},
    deadline::{ms_to_jiffies, Deadline, Expiry},
    impl_has_deadline,
    protocol::{BusEvent, Counters, Effect, Message, Reply, RespondError, Ssif, USER_MSG_SIZE},
    target::TargetHandler,
};
use kernel::{
    ffi::c_ulong,
    fs::File,
    new_poll_condvar,
    prelude::*,
    sync::{
        atomic::{ordering, Atomic},
        new_spinlock_irq,
        poll::{PollCondVar, PollTable},
        Arc, SpinLockIrq,
    },
    uaccess::{UserSliceReader, UserSliceWriter},
};

struct Inner {
    ssif: Ssif,
    /// Expiry of the armed response deadline, to tell a stale timer callback from a real one.
    deadline: Option<Expiry>,
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
    // Declared first: dropped (and shut down) before anything its callback uses.
    #[pin]
    deadline: Deadline<Shared>,
    #[pin]
    inner: SpinLockIrq<Inner>,
    /// Woken whenever something a sleeper waits for may have become true: a request to read
    /// (`read`, `POLLIN`), one to answer (`POLLOUT`, only if a poller asked for it), or the
    /// device gone. Not when it becomes false: nobody waits for that.
    #[pin]
    waiters: PollCondVar,
    /// The response deadline, in milliseconds as set and in jiffies as armed. Changed through
    /// sysfs at any time; read when a request completes, which arms the deadline.
    timeout_ms: Atomic<u32>,
    timeout: Atomic<c_ulong>,
    open: Atomic<bool>,
}

/// Longest response deadline accepted, in milliseconds (the host driver gives up after ~15 s).
pub(crate) const TIMEOUT_MAX_MS: u32 = 60_000;

/// Whether `ms` is an acceptable response deadline.
pub(crate) fn timeout_valid(ms: u32) -> bool {
    (1..=TIMEOUT_MAX_MS).contains(&ms)
}

impl_has_deadline!(Shared, deadline, Shared::deadline_expired);

impl Shared {
    /// New state for a target at 7-bit `address` with a response deadline of `ms` milliseconds
    /// (`EINVAL` unless [`timeout_valid`]).
    pub(crate) fn new(address: u8, ms: u32) -> Result<Arc<Self>> {
        if !timeout_valid(ms) {
            return Err(EINVAL);
        }
        Arc::pin_init(
            pin_init!(Self {
                deadline <- Deadline::new(),
                inner <- new_spinlock_irq!(Inner {
                    ssif: Ssif::new(address),
                    deadline: None,
                    retired: false,
                    out_waiter: false,
                }, "ssif_bmc::Shared::inner"),
                waiters <- new_poll_condvar!("ssif_bmc::Shared::waiters"),
                timeout_ms: Atomic::new(ms),
                timeout: Atomic::new(ms_to_jiffies(ms)),
                open: Atomic::new(false),
            }),
            GFP_KERNEL,
        )
    }

    /// The device is going away. Called after the target is unregistered: stops the deadline
    /// for good and wakes every sleeper, which then sees `ENODEV`.
    pub(crate) fn retire(&self) {
        self.deadline.shutdown();
        self.inner.lock().retired = true;
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
            // The timer stays pending and its expiry finds nothing to do. Deleting it here
            // would take the bus CPU's timer base lock from this CPU on every answer, and the
            // next request would enqueue it again, where re-arming a pending timer is
            // usually free (`mod_timer` with the same expiry or wheel bucket).
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

    fn deadline_expired(&self) {
        let mut inner = self.inner.lock();
        match inner.deadline {
            Some(expiry) if expiry.is_due() => inner.deadline = None,
            // The request was answered (the timer is never deleted), or a new one re-armed
            // the timer while this callback waited for the lock.
            _ => return,
        }
        let dropped = inner.ssif.expire();
        drop(inner);
        if dropped {
            self.waiters.notify_all();
        }
    }
}

impl TargetHandler for Shared {
    // Inlined into the bus callback, its only caller: one call fewer on every bus byte.
    #[inline(always)]
    fn on_event(&self, event: BusEvent) -> Reply {
        let mut inner = self.inner.lock();
        let step = inner.ssif.on_bus(event);
        if step.effect == Effect::RequestReady {
            let timeout = self.timeout.load(ordering::Relaxed);
            inner.deadline = Some(self.deadline.arm(timeout));
            drop(inner);
            self.waiters.notify_all();
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

    /// A new response deadline, for the requests that complete from now on.
    fn set_attribute(&self, ms: u32) -> Result {
        if !timeout_valid(ms) {
            return Err(EINVAL);
        }
        // Two stores, not one: a request completing in between arms the old deadline, as it
        // would have a moment earlier.
        self.timeout.store(ms_to_jiffies(ms), ordering::Relaxed);
        self.timeout_ms.store(ms, ordering::Relaxed);
        Ok(())
    }
}

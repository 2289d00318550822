// SPDX-License-Identifier: GPL-2.0

//! A one-shot deadline on a `timer_list`, shaped for use under an IRQ-safe spinlock.
//!
//! - [`Deadline::arm`] (`mod_timer`) never waits, so it may be called from the bus interrupt and
//!   with the state lock held.
//! - There is no disarm: the owner forgets the [`Expiry`] it no longer wants and ignores the
//!   callback, which then does nothing. Re-arming a pending timer is `mod_timer`'s cheap case (the
//!   same expiry, or the same wheel bucket); deleting it and adding it back is not.
//! - A callback already running when the deadline is re-armed still runs; the owner tells a
//!   stale expiry from a real one with [`Expiry::is_due`].
//! - [`Deadline::shutdown`] (`timer_shutdown_sync`) waits for a running callback and makes later
//!   arming a no-op. It runs at teardown and, at the latest, when the deadline is dropped.
//!
//! The timer is initialised once, when its owner is constructed, never in interrupt context.

use core::marker::PhantomData;
use kernel::{bindings, ffi::c_ulong, prelude::*, types::Opaque};

/// Implemented by the type that embeds a [`Deadline`]; use [`impl_has_deadline!`].
///
/// # Safety
///
/// `OFFSET` must be the byte offset of a field of type `Deadline<Self>` inside `Self`, and that
/// field must be declared before every field that [`HasDeadline::expired`] uses, so that it is
/// dropped (and the timer shut down) first.
pub(crate) unsafe trait HasDeadline: Sized + Sync {
    /// Offset of the `Deadline<Self>` field.
    const OFFSET: usize;

    /// Called in softirq context when an armed deadline passes.
    fn expired(&self);
}

/// Implements [`HasDeadline`] for `$type`, whose field `$field` is its `Deadline<$type>`.
#[macro_export]
macro_rules! impl_has_deadline {
    ($type:ty, $field:ident, $expired:path) => {
        // SAFETY: `OFFSET` is computed by `offset_of!` on the named field, which the closure
        // checks to be a `Deadline<Self>`; the caller declares that field first.
        unsafe impl $crate::deadline::HasDeadline for $type {
            const OFFSET: usize = {
                fn _field_is_a_deadline(s: &$type) -> &$crate::deadline::Deadline<$type> {
                    &s.$field
                }
                ::core::mem::offset_of!($type, $field)
            };

            fn expired(&self) {
                $expired(self)
            }
        }
    };
}

/// When an armed deadline passes, in jiffies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Expiry(c_ulong);

impl Expiry {
    /// Whether this expiry has been reached (`time_after_eq(jiffies, expiry)`).
    pub(crate) fn is_due(self) -> bool {
        (now().wrapping_sub(self.0) as isize) >= 0
    }
}

fn now() -> c_ulong {
    // SAFETY: `jiffies` is always valid to read; a volatile read is how C reads it too.
    unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) }
}

/// Converts milliseconds to jiffies, rounding up, at least one jiffy.
pub(crate) fn ms_to_jiffies(ms: u32) -> c_ulong {
    // SAFETY: `__msecs_to_jiffies` is a pure conversion.
    unsafe { bindings::__msecs_to_jiffies(ms) }.max(1)
}

/// A one-shot timer embedded in `T`, calling [`HasDeadline::expired`] on `T`.
///
/// # Invariants
///
/// `timer` is initialised (`timer_init_key`) for the whole life of `self`, with
/// [`Deadline::<T>::run`] as callback, and embedded in a `T` at `T::OFFSET`.
#[pin_data(PinnedDrop)]
#[repr(transparent)]
pub(crate) struct Deadline<T: HasDeadline> {
    #[pin]
    timer: Opaque<bindings::timer_list>,
    _owner: PhantomData<T>,
}

// SAFETY: The timer API may be used from any thread; `T: Sync` is accessed through `&T` only.
unsafe impl<T: HasDeadline> Send for Deadline<T> {}
// SAFETY: All methods take `&self` and the C timer API synchronises internally.
unsafe impl<T: HasDeadline> Sync for Deadline<T> {}

impl<T: HasDeadline> Deadline<T> {
    /// Initialises the timer. It must be placed at `T::OFFSET` inside a `T`.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `timer_init_key` fully initialises it. The
            // lockdep class key is static, as `timer_setup()` would make it.
            timer <- Opaque::ffi_init(|slot: *mut bindings::timer_list| unsafe {
                bindings::timer_init_key(
                    slot,
                    Some(Self::run),
                    0,
                    c"ssif_bmc deadline".as_char_ptr(),
                    kernel::static_lock_class!().as_ptr(),
                )
            }),
            _owner: PhantomData,
        })
    }

    /// Arms (or re-arms) the deadline `delay` jiffies from now.
    pub(crate) fn arm(&self, delay: c_ulong) -> Expiry {
        let expiry = now().wrapping_add(delay);
        // SAFETY: By the type invariant the timer is initialised.
        unsafe { bindings::mod_timer(self.timer.get(), expiry) };
        Expiry(expiry)
    }

    /// Stops the deadline for good: waits for a running callback; later `arm`s do nothing.
    /// Must not be called with a lock held that the callback takes.
    pub(crate) fn shutdown(&self) {
        // SAFETY: By the type invariant the timer is initialised.
        unsafe { bindings::timer_shutdown_sync(self.timer.get()) };
    }

    /// # Safety
    ///
    /// Called by the timer core only, with the `timer_list` initialised in [`Deadline::new`].
    unsafe extern "C" fn run(timer: *mut bindings::timer_list) {
        // SAFETY: By the type invariant the timer is embedded at `T::OFFSET` in a live `T`:
        // `T` cannot be freed before `shutdown` (in `drop` at the latest) has waited for this
        // callback to return.
        let owner = unsafe { &*timer.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.expired();
    }
}

#[pinned_drop]
impl<T: HasDeadline> PinnedDrop for Deadline<T> {
    fn drop(self: Pin<&mut Self>) {
        self.shutdown();
    }
}

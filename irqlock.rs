// SPDX-License-Identifier: GPL-2.0

//! An IRQ-safe spinlock that locks the way the C driver does: `spin_lock_irqsave()` and
//! `spin_unlock_irqrestore()`, one call each.
//!
//! The kernel crate's `SpinLockIrq` has the same guarantee (interrupts off while the guard
//! lives) but goes through the nesting-aware `spin_lock_irq_disable()`. On a GCC-built kernel
//! (no `CONFIG_RUST_INLINE_HELPERS`) each lock and unlock is a Rust helper calling the lock
//! function, and each guard calls a helper for `lockdep_assert_held()` even without lockdep:
//! five calls per critical section instead of two. The state lock is taken on every bus byte,
//! and the benchmark against the C driver measured the difference (RESULTS.md).
//!
//! It is a [`Backend`] of the kernel crate's [`Lock`], so its guards work with `CondVar`.

use kernel::{
    bindings,
    ffi::c_char,
    sync::lock::{Backend, Lock},
};

// On PREEMPT_RT `spinlock_t` is a sleeping lock with no `raw_spinlock_t` inside.
#[cfg(CONFIG_PREEMPT_RT)]
compile_error!("ssif_bmc: the state lock needs a non-PREEMPT_RT spinlock_t");

/// A spinlock taken with `spin_lock_irqsave()`.
pub(crate) type IrqSaveSpinLock<T> = Lock<T, IrqSaveBackend>;

/// Creates an [`IrqSaveSpinLock`] initialiser with a lockdep class of its own.
#[macro_export]
macro_rules! new_irqsave_spinlock {
    ($inner:expr, $name:literal) => {
        $crate::irqlock::IrqSaveSpinLock::new(
            $inner,
            kernel::optional_name!($name),
            kernel::static_lock_class!(),
        )
    };
}

/// The [`Backend`] of [`IrqSaveSpinLock`].
pub(crate) struct IrqSaveBackend;

/// How the lock was taken, hence how it is released.
pub(crate) enum IrqState {
    /// By `spin_lock_irqsave()`: the saved interrupt flags.
    #[cfg(any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK))]
    Saved(kernel::ffi::c_ulong),
    /// By `spin_trylock_irq_disable()` (there is no exported trylock with irqsave), or by
    /// `spin_lock_irq_disable()` where `spin_lock_irqsave()` has no function to call.
    Counted,
}

/// The `raw_spinlock_t` inside a `spinlock_t`.
///
/// # Safety
///
/// `ptr` points to a `spinlock_t`.
#[cfg(any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK))]
unsafe fn raw(ptr: *mut bindings::spinlock_t) -> *mut bindings::raw_spinlock_t {
    // CAST: Without PREEMPT_RT (see Kconfig), `spinlock_t` is a union whose member `rlock`, the
    // `raw_spinlock_t`, is at offset 0; C's `spinlock_check()` returns `&lock->rlock`. bindgen
    // emits `spinlock_t` as an opaque blob, so the field cannot be named.
    ptr.cast()
}

// SAFETY: `_raw_spin_lock_irqsave()` and `spin_trylock_irq_disable()` give mutual exclusion
// with interrupts disabled on the local CPU until the matching unlock, which `unlock` picks
// from the `IrqState` the lock returned. `relock` (default) takes the lock as `lock` does.
unsafe impl Backend for IrqSaveBackend {
    type State = bindings::spinlock_t;
    type GuardState = IrqState;

    #[inline]
    unsafe fn init(ptr: *mut Self::State, name: *const c_char, key: *mut bindings::lock_class_key) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and `name`, `key` live forever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    // `_raw_spin_lock_irqsave()` is a function only where `spinlock_api_smp.h` is used (SMP or
    // spinlock debugging); elsewhere it is a macro and there is no lock to speak of, only the
    // interrupt state: take the kernel crate's counted path, as `SpinLockIrq` does.
    #[cfg(any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK))]
    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `ptr` is an initialised spinlock; `raw` gives its
        // `raw_spinlock_t`, which is what `spin_lock_irqsave()` passes on.
        IrqState::Saved(unsafe { bindings::_raw_spin_lock_irqsave(raw(ptr)) })
    }

    #[cfg(not(any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK)))]
    #[inline]
    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `ptr` is an initialised spinlock.
        unsafe { bindings::spin_lock_irq_disable(ptr) };
        IrqState::Counted
    }

    #[inline]
    unsafe fn try_lock(ptr: *mut Self::State) -> Option<Self::GuardState> {
        // SAFETY: The caller guarantees `ptr` is an initialised spinlock.
        let locked = unsafe { bindings::spin_trylock_irq_disable(ptr) } != 0;
        locked.then_some(IrqState::Counted)
    }

    #[inline]
    unsafe fn unlock(ptr: *mut Self::State, state: &Self::GuardState) {
        match *state {
            // SAFETY: The caller owns the lock, taken by `lock`, which returned `flags`.
            #[cfg(any(CONFIG_SMP, CONFIG_DEBUG_SPINLOCK))]
            IrqState::Saved(flags) => unsafe {
                bindings::_raw_spin_unlock_irqrestore(raw(ptr), flags)
            },
            // SAFETY: The caller owns the lock, taken by `try_lock`.
            IrqState::Counted => unsafe { bindings::spin_unlock_irq_enable(ptr) },
        }
    }

    #[inline]
    unsafe fn assert_is_held(_ptr: *mut Self::State) {
        // `lockdep_assert_held()` compiles to nothing without lockdep: skip the helper call.
        #[cfg(CONFIG_LOCKDEP)]
        // SAFETY: The caller guarantees `ptr` is an initialised spinlock.
        unsafe {
            bindings::spin_assert_is_held(_ptr)
        }
    }
}

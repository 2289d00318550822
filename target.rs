// SPDX-License-Identifier: GPL-2.0

//! I2C target ("slave") registration: routes the target events of one client to a handler.
//!
//! The C callback receives only the `struct i2c_client *`, and the client's driver data belongs
//! to the Rust driver core, so registrations are kept in a small static table keyed by client.
//! A slot's client is published after its handler is in place and before `i2c_slave_register`,
//! and withdrawn only after `i2c_slave_unregister` has returned (after which the bus driver
//! calls no more callbacks for that client): the callback reads the table without a lock.

use crate::protocol::{BusEvent, Reply};
use core::ptr;
use kernel::{
    bindings,
    device::Core,
    error::to_result,
    ffi::{c_int, c_void},
    i2c::I2cClient,
    prelude::*,
    sync::{
        atomic::{ordering, Atomic},
        Arc,
    },
};

/// Handles the target events of one client. Called in the bus driver's interrupt handler.
pub(crate) trait TargetHandler: Send + Sync {
    /// One bus event; [`Reply::Nak`] makes the bus driver NAK where it can.
    fn on_event(&self, event: BusEvent) -> Reply;
}

/// How many targets can be registered at once (one per bound SSIF device).
const SLOTS: usize = 8;

/// A type-erased `Arc<T: TargetHandler>` and the function that dispatches to it.
struct Entry {
    handler: *const c_void,
    dispatch: unsafe fn(*const c_void, BusEvent) -> Reply,
    release: unsafe fn(*const c_void),
}

struct Slot {
    /// Owned `Entry` (from `KBox::into_raw`), or null if the slot is free.
    entry: Atomic<*mut Entry>,
    /// The client whose events go to `entry`, or null while not published.
    client: Atomic<*mut bindings::i2c_client>,
}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        entry: Atomic::new(ptr::null_mut()),
        client: Atomic::new(ptr::null_mut()),
    }
}; SLOTS];

/// Converts an `I2cClient` reference to the C pointer.
fn raw_client(client: &I2cClient<Core<'_>>) -> *mut bindings::i2c_client {
    // CAST: `I2cClient` is `#[repr(transparent)]` over `Opaque<bindings::i2c_client>`, itself
    // `#[repr(transparent)]` over the C struct.
    ptr::from_ref(client)
        .cast::<bindings::i2c_client>()
        .cast_mut()
}

/// The client's 7-bit address (flags stripped) and its adapter number.
pub(crate) fn client_location(client: &I2cClient<Core<'_>>) -> (u16, i32) {
    let raw = raw_client(client);
    // SAFETY: `raw` is a valid client for the duration of the borrow; a bound client always has
    // an adapter.
    unsafe { ((*raw).addr & 0x7f, (*(*raw).adapter).nr) }
}

/// A registered I2C target; unregisters when dropped.
///
/// # Invariants
///
/// `TABLE[slot]` holds this registration's entry with `client` published, and `client` is
/// registered as target with [`target_callback`].
pub(crate) struct TargetRegistration {
    client: *mut bindings::i2c_client,
    slot: usize,
}

// SAFETY: The registration only holds a client pointer, valid while the device is bound (the
// registration lives in the driver data), and unregistering may happen from any thread.
unsafe impl Send for TargetRegistration {}
// SAFETY: No method takes `&self`.
unsafe impl Sync for TargetRegistration {}

impl TargetRegistration {
    /// Routes `client`'s target events to `handler` and registers the client as target.
    pub(crate) fn new<T: TargetHandler>(
        client: &I2cClient<Core<'_>>,
        handler: Arc<T>,
    ) -> Result<Self> {
        let client = raw_client(client);
        let slot = Self::publish(client, handler)?;
        // SAFETY: `client` is a valid, bound client; the callback finds its entry in the table.
        let ret = unsafe { bindings::i2c_slave_register(client, Some(target_callback)) };
        if let Err(e) = to_result(ret) {
            // Never registered, so no callback can see the entry.
            Self::withdraw(slot);
            return Err(e);
        }
        // INVARIANT: the entry is published and the client registered.
        Ok(Self { client, slot })
    }

    /// Stores `handler` in a free slot and publishes it for `client`; returns the slot.
    fn publish<T: TargetHandler>(
        client: *mut bindings::i2c_client,
        handler: Arc<T>,
    ) -> Result<usize> {
        /// # Safety
        ///
        /// `handler` comes from `Arc::<T>::into_raw` and is still owned by the table.
        unsafe fn dispatch<T: TargetHandler>(handler: *const c_void, event: BusEvent) -> Reply {
            // SAFETY: Per the function's safety requirements.
            unsafe { &*handler.cast::<T>() }.on_event(event)
        }
        /// # Safety
        ///
        /// `handler` comes from `Arc::<T>::into_raw` and is released once.
        unsafe fn release<T: TargetHandler>(handler: *const c_void) {
            // SAFETY: Per the function's safety requirements.
            drop(unsafe { Arc::from_raw(handler.cast::<T>()) });
        }

        let entry = KBox::into_raw(KBox::new(
            Entry {
                handler: Arc::into_raw(handler).cast(),
                dispatch: dispatch::<T>,
                release: release::<T>,
            },
            GFP_KERNEL,
        )?);
        let Some(slot) = TABLE.iter().position(|s| {
            s.entry
                .cmpxchg(ptr::null_mut(), entry, ordering::Full)
                .is_ok()
        }) else {
            // SAFETY: `entry` came from `KBox::into_raw` above and was not published.
            unsafe { Self::free(entry) };
            return Err(ENOSPC);
        };
        TABLE[slot].client.store(client, ordering::Release);
        Ok(slot)
    }

    /// Frees a withdrawn entry and the handler reference it owns.
    ///
    /// # Safety
    ///
    /// `entry` comes from `KBox::into_raw` and no callback can reach it any more.
    unsafe fn free(entry: *mut Entry) {
        // SAFETY: Per the function's safety requirements.
        let entry = unsafe { KBox::from_raw(entry) };
        // SAFETY: `entry.handler` was produced for `entry.release` and is released once here.
        unsafe { (entry.release)(entry.handler) };
    }

    /// Unpublishes `slot` and frees its entry. No callback may be able to run for its client.
    fn withdraw(slot: usize) {
        TABLE[slot].client.store(ptr::null_mut(), ordering::Release);
        let entry = TABLE[slot].entry.xchg(ptr::null_mut(), ordering::Full);
        // SAFETY: The entry was published by `new` from `KBox::into_raw`; the client is no
        // longer registered (or never was), so no callback can reach it.
        unsafe { Self::free(entry) };
    }
}

impl Drop for TargetRegistration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `client` is registered as target. After this returns
        // the bus driver delivers no more events for it.
        unsafe { bindings::i2c_slave_unregister(self.client) };
        Self::withdraw(self.slot);
    }
}

/// The `i2c_slave_cb_t` for every registration.
///
/// # Safety
///
/// Called by the I2C core with a client registered through [`TargetRegistration::new`] and a
/// valid `val`.
unsafe extern "C" fn target_callback(
    client: *mut bindings::i2c_client,
    event: bindings::i2c_slave_event,
    val: *mut u8,
) -> c_int {
    // `Acquire` orders the entry's initialisation before its use. Devices take the first free
    // slot, so with one device the first load matches: two atomic reads per event in all.
    let Some(slot) = TABLE
        .iter()
        .find(|s| s.client.load(ordering::Acquire) == client)
    else {
        return EIO.to_errno();
    };
    let entry = slot.entry.load(ordering::Relaxed);
    // SAFETY: The client is published, so its entry is live until the client is unregistered,
    // which cannot complete while this callback runs; the `Acquire` load that found the client
    // orders the entry's initialisation before this read.
    let entry = unsafe { &*entry };
    // SAFETY: `val` is valid per the function's safety requirements.
    let byte = unsafe { *val };
    let event = match event {
        bindings::i2c_slave_event_I2C_SLAVE_WRITE_REQUESTED => BusEvent::WriteRequested,
        bindings::i2c_slave_event_I2C_SLAVE_WRITE_RECEIVED => BusEvent::WriteReceived(byte),
        bindings::i2c_slave_event_I2C_SLAVE_READ_REQUESTED => BusEvent::ReadRequested,
        bindings::i2c_slave_event_I2C_SLAVE_READ_PROCESSED => BusEvent::ReadProcessed,
        bindings::i2c_slave_event_I2C_SLAVE_STOP => BusEvent::Stop,
        _ => return 0,
    };
    // SAFETY: `entry.handler` is owned by the table and matches `entry.dispatch`.
    match unsafe { (entry.dispatch)(entry.handler, event) } {
        Reply::Ack => 0,
        Reply::Nak => EBUSY.to_errno(),
        Reply::Byte(byte) => {
            // SAFETY: `val` is valid per the function's safety requirements.
            unsafe { *val = byte };
            0
        }
    }
}

/// A registration with no bus behind it, for KUnit: events are injected through the real
/// [`target_callback`], as the bus driver would deliver them.
#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
pub(crate) struct FakeTarget {
    client: KBox<kernel::types::Opaque<bindings::i2c_client>>,
    slot: usize,
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl FakeTarget {
    /// Routes the events of a fake client to `handler`.
    pub(crate) fn new<T: TargetHandler>(handler: Arc<T>) -> Result<Self> {
        // The client is only a key: the callback never dereferences it.
        let client = KBox::new(kernel::types::Opaque::uninit(), GFP_KERNEL)?;
        let slot = TargetRegistration::publish(client.get(), handler)?;
        Ok(Self { client, slot })
    }

    /// Delivers one raw `I2C_SLAVE_*` event through the real callback; returns its result.
    pub(crate) fn event(&self, event: bindings::i2c_slave_event, val: &mut u8) -> c_int {
        // SAFETY: The fake client is published in the table; `val` is a valid byte.
        unsafe { target_callback(self.client.get(), event, val) }
    }
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl Drop for FakeTarget {
    fn drop(&mut self) {
        // Events are only injected through `&self`, so none is running.
        TargetRegistration::withdraw(self.slot);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! I2C target ("slave") registration: routes the target events of one client to a handler.
//!
//! The C callback receives only the `struct i2c_client *`, and the client's driver data belongs
//! to the Rust driver core, so registrations are kept in a small static table keyed by client.
//! A slot's client is published after its handler is in place and before `i2c_slave_register`,
//! and withdrawn only after `i2c_slave_unregister` has returned (after which the bus driver
//! calls no more callbacks for that client): the callback reads the table without a lock.

use crate::protocol::{BusEvent, Reply};
use core::{cell::UnsafeCell, ptr};
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

/// A slot's client while the slot is taken but not published (being set up or torn down).
/// Never the address of a real client.
const CLAIMED: *mut bindings::i2c_client = ptr::dangling_mut();

/// A type-erased `Arc<T: TargetHandler>` and the function that releases it.
#[derive(Clone, Copy)]
struct Entry {
    handler: *const c_void,
    release: unsafe fn(*const c_void),
}

/// A table slot. Its `entry` is written only by the owner that took the slot (the `cmpxchg`
/// from null to [`CLAIMED`]) while it is unpublished, and read by a callback only after an
/// `Acquire` load saw its client, stored with `Release` after the entry. The owner unpublishes
/// only after `i2c_slave_unregister` returned, when no callback for that client runs any more.
struct Slot {
    /// Null if free, [`CLAIMED`] while taken but not published, else the client whose events
    /// go to `entry`.
    client: Atomic<*mut bindings::i2c_client>,
    /// Written only by the registration that took the slot, while it is not published; read
    /// by callbacks only after they found their client published in it.
    entry: UnsafeCell<Option<Entry>>,
}

// SAFETY: `client` is atomic; `entry` is never accessed concurrently (see `Slot`).
unsafe impl Sync for Slot {}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        client: Atomic::new(ptr::null_mut()),
        entry: UnsafeCell::new(None),
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
/// `TABLE[slot]` is published for `client`, with an entry holding an `Arc<T>`, and `client` is
/// registered as target with `target_callback::<T>`.
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
        // SAFETY: `client` is a valid, bound client; the callback finds its `Arc<T>` in the
        // table.
        let ret = unsafe { bindings::i2c_slave_register(client, Some(target_callback::<T>)) };
        if let Err(e) = to_result(ret) {
            // Never registered, so no callback can see the entry.
            Self::withdraw(slot);
            return Err(e);
        }
        // INVARIANT: the entry is published and the client registered with the callback for `T`.
        Ok(Self { client, slot })
    }

    /// Takes a free slot, stores `handler` in it and publishes it for `client`; returns the
    /// slot.
    fn publish<T: TargetHandler>(
        client: *mut bindings::i2c_client,
        handler: Arc<T>,
    ) -> Result<usize> {
        /// # Safety
        ///
        /// `handler` comes from `Arc::<T>::into_raw` and is released once.
        unsafe fn release<T: TargetHandler>(handler: *const c_void) {
            // SAFETY: Per the function's safety requirements.
            drop(unsafe { Arc::from_raw(handler.cast::<T>()) });
        }

        let slot = TABLE
            .iter()
            .position(|s| {
                s.client
                    .cmpxchg(ptr::null_mut(), CLAIMED, ordering::Full)
                    .is_ok()
            })
            .ok_or(ENOSPC)?;
        let entry = Entry {
            handler: Arc::into_raw(handler).cast(),
            release: release::<T>,
        };
        // SAFETY: The slot is taken and not published: nobody else accesses `entry`.
        unsafe { *TABLE[slot].entry.get() = Some(entry) };
        // `Release`: a callback that sees the client also sees the entry.
        TABLE[slot].client.store(client, ordering::Release);
        Ok(slot)
    }

    /// Unpublishes `slot`, releases its handler and frees the slot. No callback may be able to
    /// run for its client. `#[inline]`: its callers inline it, and a copy of its own would be
    /// dead code in the module.
    #[inline]
    fn withdraw(slot: usize) {
        TABLE[slot].client.store(CLAIMED, ordering::Relaxed);
        // SAFETY: The slot is ours and unpublished, and no callback for its former client runs
        // (the client is not, or no longer, registered as target).
        let entry = unsafe { (*TABLE[slot].entry.get()).take() };
        if let Some(entry) = entry {
            // SAFETY: `entry.handler` was produced for `entry.release` and is released once.
            unsafe { (entry.release)(entry.handler) };
        }
        TABLE[slot].client.store(ptr::null_mut(), ordering::Release);
    }
}

impl Drop for TargetRegistration {
    // Inlined into the drop glue, its only caller (no dead copy of its own).
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant `client` is registered as target. After this returns
        // the bus driver delivers no more events for it.
        unsafe { bindings::i2c_slave_unregister(self.client) };
        Self::withdraw(self.slot);
    }
}

/// The `i2c_slave_cb_t` of every registration with a handler of type `T`.
///
/// # Safety
///
/// Called by the I2C core with a client registered through [`TargetRegistration::new::<T>`]
/// and a valid `val`.
unsafe extern "C" fn target_callback<T: TargetHandler>(
    client: *mut bindings::i2c_client,
    event: bindings::i2c_slave_event,
    val: *mut u8,
) -> c_int {
    // Devices take the first free slot, so with one device the first load matches: one atomic
    // read per event.
    let Some(slot) = TABLE
        .iter()
        .find(|s| s.client.load(ordering::Acquire) == client)
    else {
        return EIO.to_errno();
    };
    // SAFETY: The `Acquire` load saw the client published, so the entry is written and stays
    // unchanged until the client is unregistered, which cannot complete while this runs.
    let Some(entry) = (unsafe { *slot.entry.get() }) else {
        return EIO.to_errno();
    };
    // SAFETY: The client was registered with this callback, so its entry holds an `Arc<T>`,
    // alive while the entry is published.
    let handler = unsafe { &*entry.handler.cast::<T>() };
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
    match handler.on_event(event) {
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
    callback: unsafe extern "C" fn(
        *mut bindings::i2c_client,
        bindings::i2c_slave_event,
        *mut u8,
    ) -> c_int,
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl FakeTarget {
    /// Routes the events of a fake client to `handler`.
    pub(crate) fn new<T: TargetHandler>(handler: Arc<T>) -> Result<Self> {
        // The client is only a key: the callback never dereferences it.
        let client = KBox::new(kernel::types::Opaque::uninit(), GFP_KERNEL)?;
        let slot = TargetRegistration::publish(client.get(), handler)?;
        Ok(Self {
            client,
            slot,
            callback: target_callback::<T>,
        })
    }

    /// Delivers one raw `I2C_SLAVE_*` event through the real callback; returns its result.
    pub(crate) fn event(&self, event: bindings::i2c_slave_event, val: &mut u8) -> c_int {
        // SAFETY: The fake client is published in the table with the handler type `callback`
        // was instantiated for; `val` is a valid byte.
        unsafe { (self.callback)(self.client.get(), event, val) }
    }

    /// Delivers a STOP for a client that is not registered through the same callback.
    pub(crate) fn stray_event(&self) -> c_int {
        let stranger = kernel::types::Opaque::<bindings::i2c_client>::uninit();
        let mut val = 0;
        // SAFETY: The callback only compares the client with the published ones (it never
        // dereferences it); `val` is a valid byte.
        unsafe {
            (self.callback)(
                stranger.get(),
                bindings::i2c_slave_event_I2C_SLAVE_STOP,
                &mut val,
            )
        }
    }
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl Drop for FakeTarget {
    fn drop(&mut self) {
        // Events are only injected through `&self`, so none is running.
        TargetRegistration::withdraw(self.slot);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! I2C target ("slave") registration: routes the target events of one client to a handler.
//!
//! The C callback receives only the `struct i2c_client *`, and the client's driver data belongs
//! to the Rust driver core, so handlers are kept in a small static table of slots. Each slot
//! has a callback of its own, which knows its slot at compile time: the callback finds its
//! handler without a lookup. A slot's handler is stored before `i2c_slave_register` and
//! removed only after `i2c_slave_unregister` has returned, the same protocol by which the I2C
//! core stores `client->slave_cb` (see [`Slot`]).

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
        Arc, ArcBorrow,
    },
};

/// Handles the target events of one client. Called in the bus driver's interrupt handler.
pub(crate) trait TargetHandler: Send + Sync {
    /// One bus event; [`Reply::Nak`] makes the bus driver NAK where it can.
    fn on_event(this: ArcBorrow<'_, Self>, event: BusEvent) -> Reply;
}

/// How many targets can be registered at once: a BMC serves one host per SSIF device, and few
/// have more than two or three hosts; KUnit registers up to two more while it runs. Each slot
/// costs a callback (a few dozen bytes). A probe beyond that fails with `ENOSPC`.
const SLOTS: usize = 8;

/// An `i2c_slave_cb_t`.
type Callback =
    unsafe extern "C" fn(*mut bindings::i2c_client, bindings::i2c_slave_event, *mut u8) -> c_int;

/// A type-erased `Arc<T: TargetHandler>` and the function that releases it.
#[derive(Clone, Copy)]
struct Entry {
    handler: *const c_void,
    release: unsafe fn(*const c_void),
}

/// A table slot.
///
/// Its `entry` is written only by the owner that took the slot (`taken` from `false` to
/// `true`), and only while no client is registered with the slot's callback: before
/// `i2c_slave_register`, after `i2c_slave_unregister`. The slot's callback reads it, and only
/// runs in between. `i2c_slave_register` stores `client->slave_cb` itself with a plain store
/// before calling the bus driver, so whatever makes that store visible to the bus driver's
/// interrupt handler (on Aspeed, the bus lock taken by `reg_slave` and by the handler) makes
/// the entry, written before, visible too; and after `i2c_slave_unregister` returns the bus
/// driver runs no callback for the client any more.
struct Slot {
    /// Set while the slot has an owner.
    taken: Atomic<bool>,
    /// The owner's handler; see the type's documentation for who accesses it when.
    entry: UnsafeCell<Option<Entry>>,
}

// SAFETY: `taken` is atomic; `entry` is never accessed concurrently (see `Slot`).
unsafe impl Sync for Slot {}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        taken: Atomic::new(false),
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

/// The client's device name (`<bus>-<address>`, as under `/sys/bus/i2c/devices`).
pub(crate) fn client_name<'a>(client: &'a I2cClient<Core<'_>>) -> &'a CStr {
    let raw = raw_client(client);
    // SAFETY: `raw` is a valid, registered client for the duration of the borrow; the name of
    // a registered device is a NUL-terminated string that lives as long as the device.
    unsafe { CStr::from_char_ptr(bindings::dev_name(&raw const (*raw).dev)) }
}

/// Whether `client`'s device-tree node is the first available node compatible with
/// `compatible` on an available bus, in tree order (a node under a disabled controller is
/// never instantiated): `None` if there is no such node, else `Some(false)` for every other
/// client, one without a node included.
pub(crate) fn client_is_first_of_compatible(
    client: &I2cClient<Core<'_>>,
    compatible: &CStr,
) -> Option<bool> {
    let raw = raw_client(client);
    // SAFETY: `raw` is a valid client for the duration of the borrow.
    let ours = unsafe { (*raw).dev.of_node }.cast_const();
    let mut first: *const bindings::device_node = ptr::null();
    let mut node = ptr::null_mut();
    loop {
        // SAFETY: `node` is null (start at the root) or the node the previous call returned,
        // whose reference this call drops; `compatible` is NUL-terminated.
        node = unsafe {
            bindings::of_find_compatible_node(node, ptr::null(), compatible.as_char_ptr())
        };
        if node.is_null() {
            break;
        }
        // SAFETY: `node` is a valid node, referenced until the next call; its parent (the
        // node of its bus controller) lives at least as long.
        let available = unsafe {
            bindings::of_device_is_available(node)
                && bindings::of_device_is_available((*node).parent)
        };
        if first.is_null() && available {
            first = node.cast_const();
        }
    }
    // Walked to the end, so every reference taken has been dropped; `first` is only compared.
    (!first.is_null()).then(|| ptr::eq(first, ours))
}

/// A registered I2C target; unregisters when dropped.
///
/// # Invariants
///
/// `TABLE[slot]` is taken and its entry holds an `Arc<T>`, and `client` is registered as
/// target with `callback::<T>(slot)`.
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
        let slot = Self::claim(handler)?;
        // SAFETY: `client` is a valid, bound client. Its probe is running, and nothing else
        // writes its flags meanwhile (the C driver sets the flag in its probe too). The I2C core
        // already sets it for clients created with a target address; set it for any other.
        unsafe { (*client).flags |= bindings::I2C_CLIENT_SLAVE as u16 };
        // SAFETY: `client` is a valid, bound client; the callback of `slot` finds its `Arc<T>`
        // in the table.
        let ret = unsafe { bindings::i2c_slave_register(client, Some(callback::<T>(slot))) };
        if let Err(e) = to_result(ret) {
            // Never registered, so no callback can see the entry.
            Self::withdraw(slot);
            return Err(e);
        }
        // INVARIANT: the entry is stored and the client registered with the slot's callback.
        Ok(Self { client, slot })
    }

    /// Takes a free slot and stores `handler` in it; returns the slot.
    fn claim<T: TargetHandler>(handler: Arc<T>) -> Result<usize> {
        /// # Safety
        ///
        /// `handler` comes from `Arc::<T>::into_raw` and is released once.
        unsafe fn release<T: TargetHandler>(handler: *const c_void) {
            // SAFETY: Per the function's safety requirements.
            drop(unsafe { Arc::from_raw(handler.cast::<T>()) });
        }

        // `Acquire`: the previous owner's last use of the entry happened before.
        let slot = TABLE
            .iter()
            .position(|s| s.taken.cmpxchg(false, true, ordering::Acquire).is_ok())
            .ok_or(ENOSPC)?;
        let entry = Entry {
            handler: Arc::into_raw(handler).cast(),
            release: release::<T>,
        };
        // SAFETY: The slot is ours, and no client is registered with its callback.
        unsafe { *TABLE[slot].entry.get() = Some(entry) };
        Ok(slot)
    }

    /// Releases `slot`'s handler and frees the slot. No client may be registered with the slot's
    /// callback. `#[inline]`: its callers inline it, and a copy of its own would be dead code
    /// in the module.
    #[inline]
    fn withdraw(slot: usize) {
        // SAFETY: The slot is ours, and no callback for it runs or will run (no client is, or
        // is any longer, registered with it).
        let entry = unsafe { (*TABLE[slot].entry.get()).take() };
        if let Some(entry) = entry {
            // SAFETY: `entry.handler` was produced for `entry.release` and is released once.
            unsafe { (entry.release)(entry.handler) };
        }
        // `Release`: the next owner's `Acquire` sees the entry cleared.
        TABLE[slot].taken.store(false, ordering::Release);
    }
}

impl Drop for TargetRegistration {
    // Inlined into the drop glue, its only caller (no dead copy of its own).
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant `client` is registered as target. If this succeeds the
        // bus driver delivers no more events for it.
        let ret = unsafe { bindings::i2c_slave_unregister(self.client) };
        if !kernel::warn_on!(ret != 0) {
            Self::withdraw(self.slot);
            return;
        }
        // The bus driver refused (the I2C core has logged its error; i2c-aspeed refuses only a
        // client it does not have). It may still call the slot's callback, which uses the
        // handler and the module's text:
        // - the handler is kept for good: the slot stays taken and its reference is never
        //   released;
        // - the module is pinned. That stops a later `rmmod` after a sysfs unbind. It cannot
        //   help when this runs from `rmmod` itself: the module is past `try_stop_module`, its
        //   text is freed when its exit returns whatever its count, and a callback after that
        //   runs freed code. Nothing a module's exit does can prevent that, hence the WARN.
        pr_err!(
            "ssif_bmc: target not unregistered ({}): its state stays in memory; if the module \
             is being unloaded, its code goes all the same\n",
            ret
        );
        #[cfg(CONFIG_MODULE_UNLOAD)]
        // SAFETY: The module's code is running, so it is loaded; taking a reference to it is
        // valid in any state (it only counts).
        unsafe {
            bindings::__module_get(kernel::module::this_module::<crate::LocalModule>().as_ptr())
        };
    }
}

/// The callback of `slot` for handlers of type `T`.
fn callback<T: TargetHandler>(slot: usize) -> Callback {
    let callbacks: [Callback; SLOTS] = [
        slot_callback::<T, 0>,
        slot_callback::<T, 1>,
        slot_callback::<T, 2>,
        slot_callback::<T, 3>,
        slot_callback::<T, 4>,
        slot_callback::<T, 5>,
        slot_callback::<T, 6>,
        slot_callback::<T, 7>,
    ];
    callbacks[slot]
}

/// The `i2c_slave_cb_t` of slot `S` with a handler of type `T`: a tail call to
/// [`target_callback`] with the slot's entry.
///
/// # Safety
///
/// Called by the I2C core for a client registered with this callback by
/// [`TargetRegistration::new::<T>`], which stored an `Arc<T>` in slot `S`, and a `val` valid for
/// writes (and for reads with `I2C_SLAVE_WRITE_RECEIVED`).
unsafe extern "C" fn slot_callback<T: TargetHandler, const S: usize>(
    _client: *mut bindings::i2c_client,
    event: bindings::i2c_slave_event,
    val: *mut u8,
) -> c_int {
    // SAFETY: A client is registered with this callback, so slot `S`'s entry is written and
    // stays unchanged until it is unregistered, which cannot complete while this runs (see
    // `Slot`).
    let entry = unsafe { *TABLE[S].entry.get() };
    // SAFETY: Per the function's safety requirements.
    unsafe { target_callback::<T>(entry, event, val) }
}

/// Delivers one target event to the handler in `entry`.
///
/// # Safety
///
/// `entry` is the entry of a slot whose callback is running (it holds an `Arc<T>`, alive until
/// the callback returns), and `val` is valid for writes, and for reads with
/// `I2C_SLAVE_WRITE_RECEIVED`.
#[inline(never)]
unsafe fn target_callback<T: TargetHandler>(
    entry: Option<Entry>,
    event: bindings::i2c_slave_event,
    val: *mut u8,
) -> c_int {
    let Some(entry) = entry else {
        return EIO.to_errno();
    };
    // SAFETY: Per the function's safety requirements the entry holds an `Arc<T>` (from
    // `Arc::into_raw`) that outlives this call, and is not released while it runs.
    let handler = unsafe { ArcBorrow::from_raw(entry.handler.cast::<T>()) };
    let event = match event {
        bindings::i2c_slave_event_I2C_SLAVE_WRITE_REQUESTED => BusEvent::WriteRequested,
        // Only WRITE_RECEIVED carries a byte: for the other events the bus driver may leave
        // `*val` uninitialised (i2c-aspeed does for STOP and READ_PROCESSED).
        bindings::i2c_slave_event_I2C_SLAVE_WRITE_RECEIVED => {
            // SAFETY: `val` is valid per the function's safety requirements, and initialised
            // for this event.
            BusEvent::WriteReceived(unsafe { *val })
        }
        bindings::i2c_slave_event_I2C_SLAVE_READ_REQUESTED => BusEvent::ReadRequested,
        bindings::i2c_slave_event_I2C_SLAVE_READ_PROCESSED => BusEvent::ReadProcessed,
        bindings::i2c_slave_event_I2C_SLAVE_STOP => BusEvent::Stop,
        _ => return 0,
    };
    match T::on_event(handler, event) {
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
/// callback of its slot, as the bus driver would deliver them.
#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
pub(crate) struct FakeTarget {
    slot: usize,
    callback: Callback,
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl FakeTarget {
    /// Routes the events of a fake client to `handler`.
    pub(crate) fn new<T: TargetHandler>(handler: Arc<T>) -> Result<Self> {
        let slot = TargetRegistration::claim(handler)?;
        Ok(Self {
            slot,
            callback: callback::<T>(slot),
        })
    }

    /// Delivers one raw `I2C_SLAVE_*` event through the real callback; returns its result.
    pub(crate) fn event(&self, event: bindings::i2c_slave_event, val: &mut u8) -> c_int {
        // SAFETY: The slot's entry holds the handler type `callback` was instantiated for, and
        // stays until `self` is dropped; the callback ignores the client; `val` is a valid byte.
        unsafe { (self.callback)(core::ptr::null_mut(), event, val) }
    }
}

#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
impl Drop for FakeTarget {
    fn drop(&mut self) {
        // Events are only injected through `&self`, so none is running.
        TargetRegistration::withdraw(self.slot);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A misc device whose files support `poll`, with a parent device and one sysfs attribute,
//! none of which `kernel::miscdevice` offers.
//!
//! Each open file holds its own reference to the handler (an `Arc` in `private_data`), so the
//! registration can go away while files are still open: the handler outlives it, and the
//! module cannot be unloaded while a file is open (`owner` is set). The attribute is created
//! with the device (`groups`, so it exists when udev hears of the device) and removed with it.

use core::ptr;
use kernel::{
    bindings,
    device::Device,
    error::{from_result, to_result},
    ffi::{c_char, c_int, c_uint, c_void},
    fs::{File, LocalFile},
    prelude::*,
    str::CString,
    sync::{poll::PollTable, Arc, ArcBorrow},
    types::{ForeignOwnable, Opaque},
    uaccess::{UserPtr, UserSlice, UserSliceReader, UserSliceWriter},
};

/// Poll bits (`include/uapi/linux/eventpoll.h`).
pub(crate) mod poll_bits {
    /// `EPOLLIN`.
    pub(crate) const IN: u32 = 0x0001;
    /// `EPOLLOUT`.
    pub(crate) const OUT: u32 = 0x0004;
    /// `EPOLLERR`.
    pub(crate) const ERR: u32 = 0x0008;
    /// `EPOLLHUP`.
    pub(crate) const HUP: u32 = 0x0010;
    /// `EPOLLRDNORM`.
    pub(crate) const RDNORM: u32 = 0x0040;
    /// `EPOLLWRNORM`.
    pub(crate) const WRNORM: u32 = 0x0100;
}

/// The file operations of a [`PollMiscDevice`].
pub(crate) trait FileHandler: Send + Sync + Sized + 'static {
    /// A file is being opened.
    fn open(&self) -> Result;
    /// A file is being closed.
    fn release(&self);
    /// `read(2)` into `out`.
    fn read(&self, out: UserSliceWriter, nonblocking: bool) -> Result<usize>;
    /// `write(2)` from `input`.
    fn write(&self, input: UserSliceReader) -> Result<usize>;
    /// `poll(2)`: register on `table` and return the ready mask ([`poll_bits`]). `requested`
    /// is what the caller waits for (`poll_requested_events()`: every event if there is no
    /// table).
    fn poll(&self, file: &File, table: PollTable<'_>, requested: u32) -> u32;

    /// Name of the device's sysfs attribute, an unsigned decimal number (mode 0644).
    const ATTRIBUTE: &'static CStr;
    /// The attribute's value.
    fn attribute(&self) -> u32;
    /// Sets the attribute; on error it keeps its value.
    fn set_attribute(this: ArcBorrow<'_, Self>, value: u32) -> Result;
}

/// A registered misc device serving a [`FileHandler`].
///
/// # Invariants
///
/// `misc` is registered with `misc_register`, its `fops` are [`PollMiscDevice::<T>::FOPS`], its
/// `groups` [`PollMiscDevice::<T>::GROUPS`] and its name `name`; `handler` and `name` are
/// initialised before it and outlive the registration.
#[pin_data(PinnedDrop)]
pub(crate) struct PollMiscDevice<T: FileHandler> {
    handler: Arc<T>,
    name: CString,
    #[pin]
    misc: Opaque<bindings::miscdevice>,
}

// SAFETY: The registration can be dropped from any thread; `misc_deregister` does not care.
unsafe impl<T: FileHandler> Send for PollMiscDevice<T> {}
// SAFETY: No method touches `misc` through `&self`; `handler` is `Sync`.
unsafe impl<T: FileHandler> Sync for PollMiscDevice<T> {}

impl<T: FileHandler> PollMiscDevice<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: kernel::module::this_module::<crate::LocalModule>().as_ptr(),
        open: Some(Self::open),
        release: Some(Self::release),
        read: Some(Self::read),
        write: Some(Self::write),
        poll: Some(Self::poll),
        // No `llseek`: the open file gets no `FMODE_LSEEK`, so `lseek()` fails with `ESPIPE`,
        // as on upstream's device (a stream has no position).
        ..pin_init::zeroed()
    };

    /// The attribute: [`FileHandler::ATTRIBUTE`], read and written through the handler.
    const ATTRIBUTE: bindings::device_attribute = bindings::device_attribute {
        attr: bindings::attribute {
            name: kernel::str::as_char_ptr_in_const_context(T::ATTRIBUTE),
            mode: 0o644,
            ..pin_init::zeroed()
        },
        __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 {
            show: Some(Self::show),
        },
        __bindgen_anon_2: bindings::device_attribute__bindgen_ty_2 {
            store: Some(Self::store),
        },
    };
    const ATTRIBUTES: [*const bindings::attribute; 2] = [&Self::ATTRIBUTE.attr, ptr::null()];
    const GROUP: bindings::attribute_group = bindings::attribute_group {
        __bindgen_anon_2: bindings::attribute_group__bindgen_ty_2 {
            attrs_const: ptr::from_ref(&Self::ATTRIBUTES).cast::<*const bindings::attribute>(),
        },
        ..pin_init::zeroed()
    };
    const GROUPS: [*const bindings::attribute_group; 2] = [&Self::GROUP, ptr::null()];

    /// [`Self::GROUPS`], promoted to a static: the type says the compiler did promote it.
    fn groups() -> &'static [*const bindings::attribute_group; 2] {
        &Self::GROUPS
    }

    /// Registers the misc device `name` (dynamic minor, file mode `mode`, child of `parent`)
    /// serving `handler`; a failure is reported on `parent`.
    pub(crate) fn register<'a>(
        parent: &'a Device,
        name: CString,
        mode: u16,
        handler: Arc<T>,
    ) -> impl PinInit<Self, Error> + 'a {
        try_pin_init!(&this in Self {
            handler,
            name,
            // SAFETY: `slot` is valid for writes and fully set before registration; `FOPS`,
            // `GROUPS` are static; `name` is set (field order) and outlives the registration
            // (type invariant); the driver core holds `parent` while the misc device exists.
            misc <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| unsafe {
                let name = &(*this.as_ptr()).name;
                slot.write(pin_init::zeroed());
                (*slot).minor = bindings::MISC_DYNAMIC_MINOR as c_int;
                (*slot).name = name.as_char_ptr();
                (*slot).fops = &Self::FOPS;
                (*slot).groups = Self::groups().as_ptr().cast_mut();
                (*slot).parent = ptr::from_ref(parent).cast::<bindings::device>().cast_mut();
                (*slot).mode = mode;
                to_result(bindings::misc_register(slot)).inspect_err(|e| {
                    dev_err!(parent, "cannot register /dev/{}: {:?}\n", &**name, e)
                })
            }),
        }? Error)
    }

    /// # Safety
    ///
    /// `dev` is the device of a registered [`PollMiscDevice<T>`] (its drvdata is the `misc`
    /// field, as `misc_register` sets it), and the registration is not dropped while the
    /// returned reference is used.
    unsafe fn from_device<'a>(dev: *mut bindings::device) -> &'a Self {
        // SAFETY: Per the function's safety requirements.
        unsafe {
            let misc = bindings::dev_get_drvdata(dev).cast::<Opaque<bindings::miscdevice>>();
            &*kernel::container_of!(misc, Self, misc)
        }
    }

    /// # Safety
    ///
    /// Called by sysfs for [`Self::ATTRIBUTE`] of a registered device, with `buf` a page.
    unsafe extern "C" fn show(
        dev: *mut bindings::device,
        _attr: *mut bindings::device_attribute,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: The attribute exists only while the misc device is registered, and
        // `misc_deregister` removes it, waiting for callbacks that run, before returning.
        let this = unsafe { Self::from_device(dev) };
        // SAFETY: `buf` is a sysfs page; the format takes one `unsigned int`.
        unsafe {
            bindings::sysfs_emit(buf, c"%u\n".as_char_ptr(), this.handler.attribute()) as isize
        }
    }

    /// # Safety
    ///
    /// Called by sysfs for [`Self::ATTRIBUTE`] of a registered device, with `buf` holding
    /// `count` bytes and a terminating NUL.
    unsafe extern "C" fn store(
        dev: *mut bindings::device,
        _attr: *mut bindings::device_attribute,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: As in `show`.
        let this = unsafe { Self::from_device(dev) };
        let mut value = 0;
        // SAFETY: `buf` is NUL-terminated (sysfs guarantees it); `value` is valid for writes.
        // `kstrtouint` accepts one trailing newline and rejects everything else.
        let parsed = to_result(unsafe { bindings::kstrtouint(buf, 10, &mut value) });
        match parsed.and_then(|()| T::set_attribute(this.handler.as_arc_borrow(), value)) {
            Ok(()) => count as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// `file` is being opened through `misc_open`, which set `private_data` to our `miscdevice`
    /// and holds `misc_mtx`, so the registration cannot be dropped concurrently.
    unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: Per the function's safety requirements, `private_data` points at the `misc`
        // field of a live `Self`.
        let this = unsafe {
            &*kernel::container_of!(
                (*file).private_data.cast::<Opaque<bindings::miscdevice>>(),
                Self,
                misc
            )
        };
        from_result(|| {
            this.handler.open()?;
            let handler = this.handler.clone();
            // SAFETY: `file` is valid; from now on `private_data` owns one handler reference,
            // released in `release`.
            unsafe { (*file).private_data = handler.into_foreign().cast() };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `file` was opened by [`Self::open`].
    unsafe fn handler<'a>(file: *mut bindings::file) -> ArcBorrow<'a, T> {
        // SAFETY: Per the function's safety requirements, `private_data` holds a reference from
        // `into_foreign`, kept until `release`, which cannot run concurrently with other
        // file operations.
        unsafe { <Arc<T> as ForeignOwnable>::borrow((*file).private_data.cast()) }
    }

    /// # Safety
    ///
    /// `file` was opened by [`Self::open`] and is being released.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: Per the function's safety requirements, this takes back the reference `open`
        // stored; no other operation can use it any more.
        let handler =
            unsafe { <Arc<T> as ForeignOwnable>::from_foreign((*file).private_data.cast()) };
        handler.release();
        0
    }

    /// # Safety
    ///
    /// `file` was opened by [`Self::open`]; `buf` is a user pointer valid for `len` bytes as far
    /// as the caller is concerned (checked on access).
    unsafe extern "C" fn read(
        file: *mut bindings::file,
        buf: *mut c_char,
        len: usize,
        _pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function's safety requirements.
        let handler = unsafe { Self::handler(file) };
        // SAFETY: `file` is valid for the duration of the call, and a `fdget_pos` of the
        // `read(2)` that called us is on this thread.
        let nonblocking =
            unsafe { LocalFile::from_raw_file(file) }.flags() & bindings::O_NONBLOCK != 0;
        let out = UserSlice::new(UserPtr::from_ptr(buf.cast::<c_void>()), len).writer();
        match handler.read(out, nonblocking) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As for [`Self::read`].
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        buf: *const c_char,
        len: usize,
        _pos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function's safety requirements.
        let handler = unsafe { Self::handler(file) };
        let input =
            UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast::<c_void>()), len).reader();
        match handler.write(input) {
            Ok(n) => n as isize,
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// `file` was opened by [`Self::open`]; `table` is null or a valid poll table for the call.
    unsafe extern "C" fn poll(
        file: *mut bindings::file,
        table: *mut bindings::poll_table,
    ) -> c_uint {
        // SAFETY: Per the function's safety requirements.
        let handler = unsafe { Self::handler(file) };
        // SAFETY: `file` is valid for the duration of the call and no `fdget_pos` region is
        // active on it from here.
        let file_ref = unsafe { File::from_raw_file(file) };
        let requested = if table.is_null() {
            !0
        } else {
            // SAFETY: `table` is not null, so valid for the duration of the call. `_key` is the
            // field `poll_requested_events()` (a C inline, no binding) reads.
            unsafe { (*table)._key }
        };
        // SAFETY: `table` is null or valid for the duration of the call.
        let table = unsafe { PollTable::from_raw(table) };
        handler.poll(file_ref, table, requested)
    }
}

#[pinned_drop]
impl<T: FileHandler> PinnedDrop for PollMiscDevice<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `misc` is registered. Once this returns no `open` can
        // reach it; files already open hold their own handler reference.
        unsafe { bindings::misc_deregister(self.misc.get()) };
    }
}

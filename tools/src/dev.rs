// SPDX-License-Identifier: GPL-2.0
//! The BMC's misc device (`/dev/ipmi-ssif-host`) as a responder opens it.

use std::ffi::CString;

/// The device the tools open unless told otherwise: `$SSIF_DEVICE`, or `/dev/ipmi-ssif-host`,
/// the name of the only device of a one-host BMC (the VM scenarios set `SSIF_DEVICE` to the
/// device they serve).
pub fn default_path() -> String {
    std::env::var("SSIF_DEVICE").unwrap_or_else(|_| "/dev/ipmi-ssif-host".into())
}

/// An open file of the misc device. Errors are `errno` values.
pub struct Dev(libc::c_int);

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `struct ipmi_ssif_msg` as written/read: native-endian `len`, then the payload.
pub fn msg(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

impl Dev {
    /// Opens `path` with `O_RDWR | flags`.
    pub fn open_path(path: &str, flags: libc::c_int) -> Result<Dev, i32> {
        let c = CString::new(path).map_err(|_| libc::EINVAL)?;
        // SAFETY: `c` is a valid C string.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | flags) };
        if fd < 0 {
            Err(errno())
        } else {
            Ok(Dev(fd))
        }
    }

    /// Opens the [`default_path`] with `O_RDWR | flags`.
    pub fn open(flags: libc::c_int) -> Result<Dev, i32> {
        Self::open_path(&default_path(), flags)
    }

    /// One `read()` of up to `len` bytes.
    pub fn read(&self, len: usize) -> Result<Vec<u8>, i32> {
        let mut buf = vec![0u8; len];
        let n = self.read_into(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// `read()` into `buf`, without allocating.
    pub fn read_into(&self, buf: &mut [u8]) -> Result<usize, i32> {
        // SAFETY: `buf` is valid for its length.
        let n = unsafe { libc::read(self.0, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(errno())
        } else {
            Ok(n as usize)
        }
    }

    /// One `write()`.
    pub fn write(&self, bytes: &[u8]) -> Result<usize, i32> {
        // SAFETY: `bytes` is valid for its length.
        let n = unsafe { libc::write(self.0, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            Err(errno())
        } else {
            Ok(n as usize)
        }
    }

    /// The ready events (`POLLIN`, `POLLOUT`, errors), without waiting.
    pub fn poll(&self) -> i16 {
        self.wait(libc::POLLIN | libc::POLLOUT, 0)
    }

    /// Waits up to `timeout_ms` (-1: for ever) for one of `events`; the ready events, 0 on
    /// timeout, -1 if `poll()` failed.
    pub fn wait(&self, events: i16, timeout_ms: i32) -> i16 {
        let mut pfd = libc::pollfd {
            fd: self.0,
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is valid for the call.
        if unsafe { libc::poll(&mut pfd, 1, timeout_ms) } < 0 {
            return -1;
        }
        pfd.revents
    }

    /// The file descriptor.
    pub fn fd(&self) -> libc::c_int {
        self.0
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        // SAFETY: our fd.
        unsafe { libc::close(self.0) };
    }
}

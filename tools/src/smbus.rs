// SPDX-License-Identifier: GPL-2.0
//! SMBus transfers through `/dev/i2c-N` (`I2C_SMBUS`, `I2C_RDWR`, `I2C_PEC`).

use std::{fs::File, io, os::fd::AsRawFd};

const I2C_SLAVE: libc::c_ulong = 0x0703;
const I2C_PEC: libc::c_ulong = 0x0708;
const I2C_RDWR: libc::c_ulong = 0x0707;
const I2C_SMBUS: libc::c_ulong = 0x0720;
const I2C_SMBUS_READ: u8 = 1;
const I2C_SMBUS_WRITE: u8 = 0;
const I2C_SMBUS_BLOCK_DATA: u32 = 5;

#[repr(C)]
struct SmbusIoctl {
    read_write: u8,
    command: u8,
    size: u32,
    data: *mut [u8; 34],
}

#[repr(C)]
struct I2cMsg {
    addr: u16,
    flags: u16,
    len: u16,
    buf: *mut u8,
}

#[repr(C)]
struct RdwrIoctl {
    msgs: *mut I2cMsg,
    nmsgs: u32,
}

/// An SMBus device at `addr` on `/dev/i2c-N`.
pub struct Smbus {
    file: File,
    addr: u16,
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Smbus {
    pub fn open(bus: u32, addr: u16) -> io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .open(format!("/dev/i2c-{bus}"))?;
        // SAFETY: valid fd and an integer argument, as I2C_SLAVE takes.
        check(unsafe { libc::ioctl(file.as_raw_fd(), I2C_SLAVE, libc::c_ulong::from(addr)) })?;
        Ok(Smbus { file, addr })
    }

    pub fn set_pec(&self, on: bool) -> io::Result<()> {
        // SAFETY: valid fd and an integer argument, as I2C_PEC takes.
        check(unsafe { libc::ioctl(self.file.as_raw_fd(), I2C_PEC, libc::c_ulong::from(on)) })
    }

    fn smbus(&self, read_write: u8, command: u8, data: &mut [u8; 34]) -> io::Result<()> {
        let mut args = SmbusIoctl {
            read_write,
            command,
            size: I2C_SMBUS_BLOCK_DATA,
            data,
        };
        // SAFETY: `args` and the block it points to outlive the call.
        check(unsafe { libc::ioctl(self.file.as_raw_fd(), I2C_SMBUS, &mut args) })
    }

    /// SMBus block write (PEC added by the core if enabled).
    pub fn block_write(&self, command: u8, bytes: &[u8]) -> io::Result<()> {
        let mut data = [0u8; 34];
        data[0] = bytes.len() as u8;
        data[1..=bytes.len()].copy_from_slice(bytes);
        self.smbus(I2C_SMBUS_WRITE, command, &mut data)
    }

    /// SMBus block read (PEC checked by the core if enabled).
    pub fn block_read(&self, command: u8) -> io::Result<Vec<u8>> {
        let mut data = [0u8; 34];
        self.smbus(I2C_SMBUS_READ, command, &mut data)?;
        let n = usize::from(data[0]).min(32);
        Ok(data[1..=n].to_vec())
    }

    /// One raw write message: exactly these bytes after the address.
    pub fn raw_write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut buf = bytes.to_vec();
        let mut msg = I2cMsg {
            addr: self.addr,
            flags: 0,
            len: buf.len() as u16,
            buf: buf.as_mut_ptr(),
        };
        let mut args = RdwrIoctl {
            msgs: &mut msg,
            nmsgs: 1,
        };
        // SAFETY: `args`, `msg` and `buf` outlive the call.
        check(unsafe { libc::ioctl(self.file.as_raw_fd(), I2C_RDWR, &mut args) })
    }
}

impl Smbus {
    /// `S addr cmd Sr addr+R` then exactly `n` bytes, then STOP: a read the host cuts short.
    pub fn raw_read(&self, command: u8, n: usize) -> io::Result<Vec<u8>> {
        let mut cmd = [command];
        let mut buf = vec![0u8; n];
        let mut msgs = [
            I2cMsg {
                addr: self.addr,
                flags: 0,
                len: 1,
                buf: cmd.as_mut_ptr(),
            },
            I2cMsg {
                addr: self.addr,
                flags: 1, // I2C_M_RD
                len: n as u16,
                buf: buf.as_mut_ptr(),
            },
        ];
        let mut args = RdwrIoctl {
            msgs: msgs.as_mut_ptr(),
            nmsgs: 2,
        };
        // SAFETY: `args`, `msgs`, `cmd` and `buf` outlive the call.
        check(unsafe { libc::ioctl(self.file.as_raw_fd(), I2C_RDWR, &mut args) })?;
        Ok(buf)
    }
}

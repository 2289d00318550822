// SPDX-License-Identifier: GPL-2.0
//! The host side of SSIF over [`Smbus`]: single- and multi-part writes and reads, as Linux's
//! ipmi_ssif sends them.

use crate::smbus::Smbus;
use std::{thread, time::Duration};

/// Writes `msg` as one part (0x02) or as a multi-part write (0x06, 0x07..., 0x08).
pub fn write_request(bus: &Smbus, msg: &[u8]) -> Result<(), String> {
    let e = |e: std::io::Error| format!("write: {e}");
    if msg.len() <= 32 {
        return bus.block_write(0x02, msg).map_err(e);
    }
    bus.block_write(0x06, &msg[..32]).map_err(e)?;
    let mut rest = &msg[32..];
    while rest.len() > 32 {
        bus.block_write(0x07, &rest[..32]).map_err(e)?;
        rest = &rest[32..];
    }
    bus.block_write(0x08, rest).map_err(e)
}

/// Reads the first part (0x03), retrying every 5 ms while the BMC NAKs (it is busy until
/// user space answers), for up to `wait`.
pub fn read_first(bus: &Smbus, wait: Duration) -> Result<Vec<u8>, String> {
    let tries = (wait.as_millis() / 5).max(1);
    for _ in 0..tries {
        match bus.block_read(0x03) {
            Ok(v) => return Ok(v),
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    Err(format!("no response within {} ms", wait.as_millis()))
}

/// Given the first part (0x03), reads the middle/end parts (0x09) of a multi-part response.
pub fn read_rest(bus: &Smbus, first: Vec<u8>) -> Result<Vec<u8>, String> {
    if first.len() == 32 && first[..2] == [0, 1] {
        let mut out = first[2..].to_vec();
        loop {
            let part = bus
                .block_read(0x09)
                .map_err(|e| format!("read 0x09: {e}"))?;
            let (&block, data) = part.split_first().ok_or("empty middle part")?;
            out.extend_from_slice(data);
            if block == 0xff {
                return Ok(out);
            }
        }
    }
    Ok(first)
}

/// The whole response, waiting up to `wait` for its first part.
pub fn read_response(bus: &Smbus, wait: Duration) -> Result<Vec<u8>, String> {
    let first = read_first(bus, wait)?;
    read_rest(bus, first)
}

// SPDX-License-Identifier: GPL-2.0
//! The driver's protocol core, compiled for the host. The file is the one the kernel module
//! builds; nothing is copied.
#![no_std]

#[path = "../../protocol.rs"]
pub mod protocol;

// SPDX-License-Identifier: GPL-2.0
//! Shared bits of the user-space tools: the `/dev/ipmi-ssif-host` ABI and IPMI answers.

pub mod ipmi;
pub mod smbus;
pub mod stamps;

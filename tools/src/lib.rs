// SPDX-License-Identifier: GPL-2.0
//! Shared bits of the user-space tools: the `/dev/ipmi-ssif-host` ABI, IPMI answers and the
//! VM serial protocol of OpenIPMI's simulator.

pub mod args;
pub mod bridged;
pub mod checker;
pub mod dev;
pub mod ipmi;
pub mod oneshot;
pub mod sigterm;
pub mod simcalls;
pub mod simlink;
pub mod smbus;
pub mod ssif;
pub mod stamps;
pub mod vmproto;

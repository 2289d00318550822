// SPDX-License-Identifier: GPL-2.0
//! SIGTERM for the long-running tools: [`catch`] makes it interrupt a blocking `poll()` (no
//! `SA_RESTART`) and set a flag that [`terminated`] reads. One that arrives outside `poll()`
//! is seen at the next check, so loops poll with a bounded timeout.

use std::sync::atomic::{AtomicBool, Ordering};

static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: libc::c_int) {
    TERMINATED.store(true, Ordering::Relaxed);
}

/// Installs the SIGTERM handler.
pub fn catch() {
    // SAFETY: an all-zero `sigaction` is valid (empty mask, no flags).
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = on_sigterm as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: `act` is valid and the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe { libc::sigaction(libc::SIGTERM, &act, std::ptr::null_mut()) };
}

/// Whether SIGTERM has arrived since [`catch`].
pub fn terminated() -> bool {
    TERMINATED.load(Ordering::Relaxed)
}

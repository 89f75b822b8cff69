// SPDX-License-Identifier: GPL-2.0

//! The panic notifier: on a kernel panic, each bound interface tells its BMC, as the
//! `panic_op` parameter asks (C `panic_event()` in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c)).
//!
//! The kernel crate has no panic notifier API, so the `notifier_block` (priority 200, as C's)
//! is in the thin C object `src/c/panic.c`, which calls [`ripmi_panic_event`] with the panic
//! string. The interfaces it walks are in [`IFACES`], added at the end of probe and removed
//! at the start of unbind. The messages are built in `panic_msg.rs` and sent by
//! `handler/panic.rs`; `Documentation/panic.rst` describes what goes out and the bounds.

use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{ffi::c_char, prelude::*, sync::Arc};

use crate::handler::KcsInterface;
use crate::kapi;
use crate::panic_msg::PanicOp;
use crate::params;

/// The most interfaces the panic path knows about (one is the rule; more are not told).
const MAX_IFACES: usize = 8;

kernel::sync::global_lock! {
    // SAFETY: `Notifier::register` initialises it at module load, before any other use.
    unsafe(uninit) static IFACES: SpinLockIrq<[Option<Arc<KcsInterface>>; MAX_IFACES]> =
        [const { None }; MAX_IFACES];
}

/// Set by the first panic: a second one (a panic in the panic path) sends nothing (C
/// `has_panicked`).
static HAS_PANICKED: AtomicBool = AtomicBool::new(false);

extern "C" {
    /// Adds ripmi's `notifier_block` to `panic_notifier_list` (`c/panic.c`).
    fn ripmi_panic_register();
    /// Removes it again.
    fn ripmi_panic_unregister();
}

/// The registration of the panic notifier, for the module's lifetime.
pub(crate) struct Notifier;

impl Notifier {
    /// Sets up [`IFACES`] and joins the panic notifier list (C joins it with the first
    /// interface; ripmi at load, which sends nothing until an interface is bound). Call once.
    pub(crate) fn register() -> Self {
        // SAFETY: Called once, at module load, before anything else uses `IFACES`.
        unsafe { IFACES.init() };
        // SAFETY: `c/panic.c` defines it with this signature; the block is static and its
        // callback, `ripmi_panic_event`, lives as long as the module, which unregisters it in
        // `drop` before it goes.
        unsafe { ripmi_panic_register() };
        Notifier
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        // SAFETY: Registered in `register`; unregistering waits for a running callback (RCU).
        unsafe { ripmi_panic_unregister() };
    }
}

/// Lets a panic reach `iface` (at the end of probe). Past [`MAX_IFACES`] it is not told.
pub(crate) fn add(iface: &Arc<KcsInterface>) {
    let mut slots = IFACES.lock();
    if let Some(slot) = slots.iter_mut().find(|s| s.is_none()) {
        *slot = Some(iface.clone());
    }
}

/// Forgets `iface` (at the start of unbind).
pub(crate) fn remove(iface: &Arc<KcsInterface>) {
    let mut slots = IFACES.lock();
    for slot in slots.iter_mut() {
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, iface)) {
            *slot = None;
        }
    }
}

/// The panic notifier's callback (called by `c/panic.c`): sends the `panic_op` messages on
/// every interface, once. Runs in panic context: the other CPUs are stopped and the IRQs off,
/// so it only tries locks, never sleeps, and every wait in it is bounded.
///
/// # Safety
///
/// `msg` is null or points at the NUL-terminated panic string, valid for the call.
#[no_mangle]
unsafe extern "C" fn ripmi_panic_event(msg: *const c_char) {
    if HAS_PANICKED.swap(true, Ordering::Relaxed) {
        return;
    }
    let msg = if msg.is_null() {
        None
    } else {
        // SAFETY: A non-null `msg` is a NUL-terminated string valid for the call (caller).
        Some(unsafe { CStr::from_char_ptr(msg) }.to_bytes())
    };
    let op = PanicOp::from_param(params::ripmi_param_panic_op());
    // A CPU stopped with the list locked leaves it to us as it was: nothing is sent then.
    let Some(slots) = IFACES.try_lock() else {
        return;
    };
    // C's order per interface: run-to-completion mode, the kernel users' panic handlers
    // (`ipmi_watchdog` sets a long timeout through `ipmi_panic_request_and_wait()`), the events.
    for iface in slots.iter().flatten() {
        iface.panic_enter();
        kapi::panic_handlers(iface);
        iface.panic_events(op, msg);
    }
}

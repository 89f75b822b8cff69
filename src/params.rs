// SPDX-License-Identifier: GPL-2.0

//! The module parameters: declared in C, in `src/c/params.c`, and read here through that
//! file's getters.
//!
//! # Why in C
//!
//! The 7.3 kernel crate registers the parameters of `module!` with permission 0: they can be
//! given at load, but do not appear in `/sys/module/ripmi/parameters/` and cannot be read or
//! changed afterwards. C's IPMI stack shows its parameters there and lets the administrator
//! change `max_users`, `max_msgs_per_user`, `kipmid_max_busy_us` and its four request timings
//! at run time (mode 0644). So ripmi declares its parameters in a thin C object, with
//! `module_param()`: same names, types and descriptions as before, C's permissions where C has
//! the parameter, 0444 where C's is 0 (C hides `ports`, `irqs` and `regspacings`; ripmi shows
//! them, read-only) and for ripmi's own. `Documentation/parameters.rst` lists them all.
//!
//! # Why getters
//!
//! A sysfs write stores a writable parameter at any moment (the kernel's `param_set_*()`, a
//! plain C store under the module's parameter lock, which C readers do not take either). Reading
//! the variable from Rust as an `extern static` would need `unsafe` at every use, and, to be
//! sound against that concurrent store, a volatile read each time (a plain read racing with a
//! write is undefined behaviour in Rust's memory model): nothing would make every use site get
//! that right. Each getter instead reads its variable in C with `READ_ONCE()`, as C code reading
//! a parameter another CPU may write should, and returns the value. Such a function takes no
//! argument and touches nothing else, so it is declared `safe` below: reading a parameter needs
//! no `unsafe` anywhere in the driver, and the one `SAFETY` argument is made once, here. The
//! cost, one call per read, is a few nanoseconds per request or open.
//!
//! # When each is read
//!
//! - At load (`ripmi_main.rs`): `ports`, `regspacing`, `irq` (they place a BMC that has no ACPI
//!   entry); at probe (`platform.rs`, from that snapshot): `devnum`, `devintf`, `no_direct_complete`,
//!   `smart_prepare`, `rpm_watch_ms`. All are read-only (0444), so the snapshot is the value.
//! - Where they are used, through [`crate::handler::ModuleParams`]: `max_users` at each open,
//!   `max_msgs_per_user` at each message queued for a user (request, response, command, event),
//!   `poll_max_busy_us` at each look at a polled KCS, and the four timings at each request (see
//!   [`crate::seq::Timing`]). That is where C reads its globals too.
//!
//! The declarations below must match `src/c/params.h`.

// SAFETY: Each of these functions is defined in `src/c/params.c` with the C signature that
// matches this one (see `src/c/params.h`: `u64`, `u32` and `bool` are Rust's `u64`, `u32` and
// `bool`). Each takes no argument, only reads one `static` variable of that file with
// `READ_ONCE()` and returns it: it cannot break any invariant, does not sleep and may run in any
// context, so calling it is always sound.
unsafe extern "C" {
    /// `ports`: the KCS data register of a BMC with no ACPI entry, or 0.
    pub(crate) safe fn ripmi_param_ports() -> u64;
    /// `regspacing`: the distance from the KCS data register to the status register.
    pub(crate) safe fn ripmi_param_regspacing() -> u32;
    /// `irq`: the IRQ of the KCS given with `ports`, or 0 to poll it.
    pub(crate) safe fn ripmi_param_irq() -> u32;
    /// `devnum`: the lowest N of `/dev/ipmiN`.
    pub(crate) safe fn ripmi_param_devnum() -> u32;
    /// `devintf`: provide `/dev/ipmiN` (else the kernel's `ipmi_devintf` does, through the
    /// in-kernel API).
    pub(crate) safe fn ripmi_param_devintf() -> bool;
    /// `no_direct_complete`: set `DPM_FLAG_NO_DIRECT_COMPLETE`.
    pub(crate) safe fn ripmi_param_no_direct_complete() -> bool;
    /// `smart_prepare`: set `DPM_FLAG_SMART_PREPARE`.
    pub(crate) safe fn ripmi_param_smart_prepare() -> bool;
    /// `rpm_watch_ms`: the period of the attention watch while runtime-suspended, in ms.
    pub(crate) safe fn ripmi_param_rpm_watch_ms() -> u32;
    /// `max_users`: the most users (open files) per interface.
    pub(crate) safe fn ripmi_param_max_users() -> u32;
    /// `max_msgs_per_user`: the most messages one user may hold.
    pub(crate) safe fn ripmi_param_max_msgs_per_user() -> u32;
    /// `poll_max_busy_us`: past this long of one KCS wait, a polled interface looks slowly.
    pub(crate) safe fn ripmi_param_poll_max_busy_us() -> u32;
    /// `default_retry_ms`: the retry time of a request that gives none, in ms.
    pub(crate) safe fn ripmi_param_default_retry_ms() -> u64;
    /// `default_max_retries`: the retries of a request that gives no number.
    pub(crate) safe fn ripmi_param_default_max_retries() -> u32;
    /// `default_maintenance_retry_ms`: the retry time in IPMB maintenance mode, in ms.
    pub(crate) safe fn ripmi_param_default_maintenance_retry_ms() -> u64;
    /// `maintenance_mode_timeout_ms`: how long a maintenance command keeps maintenance mode on.
    pub(crate) safe fn ripmi_param_maintenance_mode_timeout_ms() -> u64;
    /// `panic_op`: what a panic sends to the BMC: 0 none, 1 event, 2 string.
    pub(crate) safe fn ripmi_param_panic_op() -> u32;
}

// SPDX-License-Identifier: GPL-2.0

//! ripmi: the kernel's IPMI stack for a KCS-attached BMC, in Rust.
//!
//! One module does the work of three C modules:
//! [`ipmi_msghandler`](srctree/drivers/char/ipmi/ipmi_msghandler.c) (users, sequence table,
//! events, command receivers), [`ipmi_si`](srctree/drivers/char/ipmi/ipmi_si_intf.c) (only its
//! KCS system interface) and [`ipmi_devintf`](srctree/drivers/char/ipmi/ipmi_devintf.c)
//! (`/dev/ipmiN` with the same ioctl ABI).
//!
//! # Design
//!
//! Data flows one way per direction:
//!
//! ```text
//! userspace -> devintf -> user -> handler -> si -> kcs (port I/O) -> BMC
//! userspace <- devintf <- user <- handler <- si <- kcs (IRQ/timer) <- BMC
//!                                   |
//!                        rcvr_table (RCU receiver table)
//! ```
//!
//! and the imports run one way, down: `ripmi -> platform (-> discovery -> smbios) -> device ->
//! {devintf, panic} -> handler -> {user, seq, si, rcvr_table, message, addr, timer, kcs, pm,
//! poll, panic_msg} -> {error, defs, uapi, params}`, with no circle (`Documentation/design.rst`
//! draws it).
//!
//! On a kernel panic, `panic` (over the thin C object `src/c/panic.c`) has each interface send
//! what the `panic_op` parameter asks, as C's `ipmi_msghandler` (`Documentation/panic.rst`).
//!
//! The module parameters are declared in a thin C object, `src/c/params.c`, so that they are
//! in `/sys/module/ripmi/parameters/` (`src/params.rs` says why, and reads them).
//!
//! Files marked "pure" call no kernel API: they are compiled both here and in the host test
//! crate (`tests/host`), and their `tests` modules run as KUnit suites in the test build
//! (`make RIPMI_TEST=1`, `cfg(ripmi_test)`) and as `cargo test` there. The shipped module holds
//! no test code. See `Documentation/design.rst` for the layout, the locking rules and their
//! reasons.

use kernel::prelude::*;

mod addr;
// The dispatch benchmark (debugfs `bench_dispatch`), in the test build only.
#[cfg(ripmi_test)]
mod bench;
mod bmc;
mod bmc_id;
mod defs;
mod device;
mod devintf;
mod discovery;
mod error;
mod handler;
mod kapi;
mod kcs;
mod message;
mod panic;
mod panic_msg;
mod params;
mod platform;
mod pm;
mod poll;
mod rcu;
mod rcvr_table;
mod receivers;
mod seq;
mod si;
mod smbios;
mod sysfs;
mod timer;
mod uapi;
mod user;

module! {
    type: Ripmi,
    name: "ripmi",
    authors: ["The ripmi developers"],
    description: "IPMI message handler, KCS system interface and /dev/ipmiN, in Rust",
    license: "GPL",
    // udev loads the module for an ACPI IPMI device, as it does ipmi_si (same aliases), and for
    // the SMBIOS one the kernel's ipmi_dmi.c makes (ripmi then reads SMBIOS itself).
    alias: ["acpi*:IPI0001:*", "platform:dmi-ipmi-si"],
}

/// The parameters that place and set up a BMC, read at load (`src/params.rs`).
fn load_params() -> platform::Params {
    platform::Params {
        ports: params::ripmi_param_ports(),
        regspacing: params::ripmi_param_regspacing(),
        irq: params::ripmi_param_irq(),
        devnum: params::ripmi_param_devnum(),
        devintf: params::ripmi_param_devintf(),
        no_direct_complete: params::ripmi_param_no_direct_complete(),
        smart_prepare: params::ripmi_param_smart_prepare(),
        rpm_watch_ms: params::ripmi_param_rpm_watch_ms(),
    }
}

/// The loaded module: owns the platform driver (and through it every bound BMC).
struct Ripmi {
    _driver: Pin<KBox<platform::Driver>>,
    /// Dropped after the driver, whose unbinds take the interfaces off the panic list.
    _panic: panic::Notifier,
    /// The in-kernel API's state; dropped after the driver (fields drop in order).
    _kapi: kapi::Api,
}

impl kernel::Module for Ripmi {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let api = kapi::Api::init();
        let p = load_params();
        // All of them are in /sys/module/ripmi/parameters/ too; the line records the load.
        pr_info!(
            "loaded (ports={:#x} regspacing={} irq={} devnum={} max_users={} max_msgs_per_user={} poll_max_busy_us={})\n",
            p.ports,
            p.regspacing,
            p.irq,
            p.devnum,
            params::ripmi_param_max_users(),
            params::ripmi_param_max_msgs_per_user(),
            params::ripmi_param_poll_max_busy_us(),
        );
        let panic = panic::Notifier::register();
        Ok(Ripmi {
            _driver: platform::Driver::register(module, p)?,
            _panic: panic,
            _kapi: api,
        })
    }
}

impl Drop for Ripmi {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}

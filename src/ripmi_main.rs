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
//! and the imports run one way, down: `ripmi -> platform -> device -> devintf -> handler ->
//! {user, seq, si, rcvr_table, message, addr, timer, kcs, pm, poll} -> {error, defs, uapi}`,
//! with no circle (`Documentation/design.rst` draws it).
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
mod error;
mod handler;
mod kcs;
mod message;
mod platform;
mod pm;
mod poll;
mod rcu;
mod rcvr_table;
mod receivers;
mod seq;
mod si;
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
    // udev loads the module for an ACPI IPMI device, as it does ipmi_si (same alias).
    alias: ["acpi*:IPI0001:*"],
    params: {
        ports: u64 {
            default: 0,
            description: "KCS data register I/O port for a BMC with no ACPI IPI0001 entry (0: use ACPI only)",
        },
        regspacing: u32 {
            default: 1,
            description: "Distance in bytes between the KCS data and status registers (with ports=)",
        },
        irq: u32 {
            default: 0,
            description: "IRQ of the KCS given with ports= (0: poll)",
        },
        devnum: u32 {
            default: 0,
            description: "N of the first /dev/ipmiN node; pick one the C ipmi_devintf does not use",
        },
        max_users: u32 {
            default: 30,
            description: "Most users (open files) per interface; further opens fail with EBUSY",
        },
        max_msgs_per_user: u32 {
            default: 100,
            description: "Most messages queued for one user before incoming ones are held back",
        },
        no_direct_complete: bool {
            default: false,
            description: "Set DPM_FLAG_NO_DIRECT_COMPLETE: never let the PM core skip suspend/resume",
        },
        smart_prepare: bool {
            default: false,
            description: "Set DPM_FLAG_SMART_PREPARE: the ACPI PM domain keeps prepare's 0 (no direct-complete)",
        },
        rpm_watch_ms: u32 {
            default: 250,
            description: "While runtime-suspended, how often the KCS status is checked for attention, in ms",
        },
        poll_max_busy_us: u32 {
            default: 0,
            description: "Without an IRQ: after this many us of one KCS wait, poll once per 4 ms instead of closely (0: no limit; as kipmid_max_busy_us)",
        },
    },
}

/// Reads the module parameters.
fn params() -> platform::Params {
    platform::Params {
        ports: module_parameters::ports.value(),
        regspacing: module_parameters::regspacing.value(),
        irq: module_parameters::irq.value(),
        devnum: module_parameters::devnum.value(),
        max_users: module_parameters::max_users.value() as usize,
        max_msgs: module_parameters::max_msgs_per_user.value() as usize,
        no_direct_complete: module_parameters::no_direct_complete.value(),
        smart_prepare: module_parameters::smart_prepare.value(),
        rpm_watch_ms: module_parameters::rpm_watch_ms.value(),
        poll_max_busy_us: module_parameters::poll_max_busy_us.value(),
    }
}

/// The loaded module: owns the platform driver (and through it every bound BMC).
struct Ripmi {
    _driver: Pin<KBox<platform::Driver>>,
}

impl kernel::Module for Ripmi {
    fn init(module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "loaded (ports={:#x} regspacing={} irq={} devnum={} max_users={} max_msgs_per_user={} poll_max_busy_us={})\n",
            module_parameters::ports.value(),
            module_parameters::regspacing.value(),
            module_parameters::irq.value(),
            module_parameters::devnum.value(),
            module_parameters::max_users.value(),
            module_parameters::max_msgs_per_user.value(),
            module_parameters::poll_max_busy_us.value(),
        );
        Ok(Ripmi {
            _driver: platform::Driver::register(module, params())?,
        })
    }
}

impl Drop for Ripmi {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}

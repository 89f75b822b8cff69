// SPDX-License-Identifier: GPL-2.0

//! Finding BMCs the firmware describes, and who else holds them.
//!
//! - SMBIOS: [`smbios_kcs`] walks the firmware's SMBIOS table (`dmi_walk()`, through the thin
//!   `c/dmi.c`: the kernel crate has no binding for it) and decodes each type 38 record with
//!   [`crate::smbios`], keeping the KCS I/O interfaces that neither an ACPI `IPI0001` device nor
//!   `ports=` describes (C: "Removing SMBIOS-specified kcs state machine in favor of ACPI", and
//!   hardcoded ports win, `ipmi_si_add_smi()`).
//! - ACPI: [`acpi_ports`] lists the I/O ports of the platform's `IPI0001` devices, and names
//!   those another driver (`ipmi_si`) has bound: ripmi leaves them to it.
//! - Coexistence: [`name_holder`] names the driver holding a KCS whose ports ripmi cannot
//!   reserve, in the one line with which probe declines it.
//!
//! `Documentation/discovery.rst` describes the whole. C counterparts:
//! [`ipmi_dmi.c`](srctree/drivers/char/ipmi/ipmi_dmi.c),
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c) (`ipmi_si_add_smi()`).

use kernel::{bindings, device::Device, ffi::c_void, prelude::*, str::CStr};

use crate::smbios::{self, Interface, Skip, Space};

extern "C" {
    /// `dmi_walk(ripmi_dmi_record, data)` (`c/dmi.c`): calls [`ripmi_dmi_record`] with each
    /// SMBIOS structure, `data` passed on; `-ENXIO` if there is no SMBIOS table.
    fn ripmi_dmi_walk(data: *mut c_void) -> kernel::ffi::c_int;
}

/// The decoded type 38 records, in table order.
type Records = KVec<Result<smbios::Record, Skip>>;

/// Called by `dmi_walk()` for each SMBIOS structure; keeps the decoded type 38 ones.
///
/// # Safety
///
/// `dm` points at a structure whose formatted area (`dm[1]` bytes) lies in the mapped table
/// (`dmi_decode_table()` checks that before it calls back); `data` is the `&mut Records` that
/// [`smbios_kcs`] gave `ripmi_dmi_walk`.
#[no_mangle]
unsafe extern "C" fn ripmi_dmi_record(dm: *const u8, data: *mut c_void) {
    // SAFETY: The header (type, length, handle) is in the table (caller).
    let (kind, len) = unsafe { (*dm, *dm.add(1)) };
    if kind != smbios::SMBIOS_TYPE_IPMI {
        return;
    }
    // SAFETY: The formatted area, `len` bytes, is in the table (caller).
    let rec = unsafe { core::slice::from_raw_parts(dm, len.into()) };
    // SAFETY: `data` is the `Records` of `smbios_kcs`, borrowed by nothing else during the walk.
    let records = unsafe { &mut *data.cast::<Records>() };
    if records.push(smbios::decode(rec), GFP_KERNEL).is_err() {
        pr_err!("SMBIOS: out of memory, an IPMI record is ignored\n");
    }
}

/// A KCS interface that only SMBIOS describes.
#[derive(Clone, Copy)]
pub(crate) struct SmbiosKcs {
    /// The data register's I/O port.
    pub(crate) port: u64,
    /// Register spacing.
    pub(crate) spacing: u32,
    /// IRQ, 0 for none.
    pub(crate) irq: u32,
}

/// The KCS I/O interfaces of the SMBIOS table that ripmi should bind itself: not at `ports=`
/// (`hardcoded`, 0 for none), not described by an ACPI device (at one of `acpi`), not a
/// duplicate of an earlier record. Every record left out is logged, as C logs it.
pub(crate) fn smbios_kcs(hardcoded: u64, acpi: &[u64]) -> KVec<SmbiosKcs> {
    let mut records = Records::new();
    // SAFETY: `ripmi_dmi_record` gets `&mut records` and only uses it during the walk.
    let err = unsafe { ripmi_dmi_walk(core::ptr::from_mut(&mut records).cast()) };
    if err != 0 {
        pr_info!("no SMBIOS table ({}): SMBIOS discovery skipped\n", err);
    }
    let mut out = KVec::new();
    for r in records {
        let r = match r {
            Ok(r) => r,
            Err(Skip::Short) => continue,
            Err(Skip::ZeroBase) => {
                pr_info!("SMBIOS: IPMI base address is zero, assuming no IPMI interface\n");
                continue;
            }
            Err(Skip::InvalidSpacing) => {
                pr_info!("SMBIOS: IPMI register spacing invalid, record ignored\n");
                continue;
            }
            Err(Skip::InvalidType(t)) => {
                pr_info!(
                    "SMBIOS: invalid IPMI interface type {}, record ignored\n",
                    t
                );
                continue;
            }
        };
        let (kind, base) = (r.interface.name(), r.base);
        if r.interface != Interface::Kcs {
            pr_info!(
                "SMBIOS: {} interface at {:#x} left alone (ripmi drives KCS only)\n",
                kind,
                base
            );
        } else if r.space != Space::Io {
            pr_info!(
                "SMBIOS: memory-mapped KCS at {:#x} is not supported by ripmi\n",
                base
            );
        } else if base == hardcoded {
            pr_info!(
                "SMBIOS: KCS at {:#x} is the ports= one; using ports=\n",
                base
            );
        } else if acpi.contains(&base) {
            pr_info!(
                "SMBIOS: KCS at {:#x} is also an ACPI IPI0001 device; using ACPI\n",
                base
            );
        } else if out.iter().any(|k: &SmbiosKcs| k.port == base) {
            pr_info!("SMBIOS: KCS at {:#x}: duplicate record ignored\n", base);
        } else {
            let kcs = SmbiosKcs {
                port: base,
                spacing: r.spacing,
                irq: r.irq,
            };
            if out.push(kcs, GFP_KERNEL).is_err() {
                pr_err!("SMBIOS: out of memory, KCS at {:#x} ignored\n", base);
            }
        }
    }
    out
}

/// Calls `f` with each device of the platform bus, until it returns true.
fn for_each_platform_device<F: FnMut(*mut bindings::platform_device) -> bool>(mut f: F) {
    /// The `bus_for_each_dev()` callback: `data` is the `&mut F`.
    ///
    /// # Safety
    ///
    /// `dev` is a platform device the bus holds a reference to for the call; `data` is the
    /// `&mut F` of `for_each_platform_device`.
    unsafe extern "C" fn visit<F: FnMut(*mut bindings::platform_device) -> bool>(
        dev: *mut bindings::device,
        data: *mut c_void,
    ) -> kernel::ffi::c_int {
        // SAFETY: `dev` is the `dev` of a `platform_device` (it is on the platform bus).
        let pdev = unsafe { kernel::container_of!(dev, bindings::platform_device, dev) };
        // SAFETY: `data` is the `&mut F` (caller), used by nothing else during the walk.
        let f = unsafe { &mut *data.cast::<F>() };
        i32::from(f(pdev))
    }
    // SAFETY: `platform_bus_type` is the kernel's static platform bus; `visit::<F>` gets `&mut f`,
    // which outlives the walk.
    unsafe {
        bindings::bus_for_each_dev(
            &raw const bindings::platform_bus_type,
            core::ptr::null_mut(),
            core::ptr::from_mut(&mut f).cast(),
            Some(visit::<F>),
        )
    };
}

/// The start of the `n`th I/O resource of `pdev`, if it has one.
///
/// # Safety
///
/// `pdev` is a valid platform device.
unsafe fn io_start(pdev: *mut bindings::platform_device, n: u32) -> Option<u64> {
    // SAFETY: `pdev` is valid (caller).
    let res = unsafe { bindings::platform_get_resource(pdev, bindings::IORESOURCE_IO, n) };
    // SAFETY: `res`, when not null, is a resource of `pdev`, valid while it is.
    unsafe { res.as_ref() }.map(|r| r.start)
}

/// The driver bound to `dev` (its name), if any.
///
/// # Safety
///
/// `dev` is a valid device.
unsafe fn bound_driver<'a>(dev: *mut bindings::device) -> Option<&'a CStr> {
    // SAFETY: `dev` is valid (caller); `driver` changes under the device lock, which this does
    // not hold, so it is read once, as `dev_driver_string()` does for log lines.
    let drv = unsafe { core::ptr::read_volatile(&raw const (*dev).driver) };
    if drv.is_null() {
        return None;
    }
    // SAFETY: `dev` is valid; the name is a C string (of the bus, if the driver went away).
    Some(unsafe { CStr::from_char_ptr(bindings::dev_driver_string(dev)) })
}

/// The data-register ports of the ACPI devices that match `ids` (`IPI0001`). Those another
/// driver has bound are logged: ripmi cannot bind them, and leaves them to it.
pub(crate) fn acpi_ports(ids: *const bindings::acpi_device_id) -> KVec<u64> {
    let mut ports = KVec::new();
    for_each_platform_device(|pdev| {
        // SAFETY: `pdev` is valid during the walk; `ids` is a zero-terminated table (caller).
        let dev = unsafe { &raw mut (*pdev).dev };
        // SAFETY: As above.
        if unsafe { bindings::acpi_match_device(ids, dev) }.is_null() {
            return false;
        }
        // SAFETY: As above.
        let Some(port) = (unsafe { io_start(pdev, 0) }) else {
            return false;
        };
        // SAFETY: As above.
        if let Some(drv) = unsafe { bound_driver(dev) } {
            // SAFETY: As above.
            let name = unsafe { CStr::from_char_ptr(bindings::dev_name(dev)) };
            pr_info!(
                "{} (KCS at {:#x}) is bound to {}: ripmi leaves it alone (to switch: rmmod ipmi_devintf ipmi_si, then reload ripmi; see dist/modprobe.d/ripmi.conf)\n",
                name,
                port,
                drv
            );
        }
        if ports.push(port, GFP_KERNEL).is_err() {
            pr_err!("out of memory listing ACPI IPMI devices\n");
        }
        false
    });
    ports
}

/// Logs, as `dev`'s one line, that it declines the KCS at `port` because another driver holds
/// the port, naming that driver and its device when a platform device of it has a resource at
/// `port`, and what to do. An ACPI device (one of `ids`) is named before others: `ipmi_si` keeps
/// `dmi-ipmi-si.0` bound when it drives the KCS through `IPI0001:00`. `me` is `dev`'s platform
/// device, which is skipped.
pub(crate) fn name_holder(
    dev: &Device,
    me: *const bindings::platform_device,
    ids: *const bindings::acpi_device_id,
    port: u64,
) {
    let mut named = false;
    for acpi_only in [true, false] {
        for_each_platform_device(|pdev| {
            if core::ptr::eq(pdev, me) {
                return false;
            }
            // SAFETY: `pdev` is valid during the walk; `ids` is zero-terminated (caller).
            let other = unsafe { &raw mut (*pdev).dev };
            // SAFETY: As above.
            if acpi_only && unsafe { bindings::acpi_match_device(ids, other) }.is_null() {
                return false;
            }
            // SAFETY: As above.
            let at_port = unsafe { io_start(pdev, 0) } == Some(port);
            // SAFETY: As above.
            let Some(drv) = at_port.then(|| unsafe { bound_driver(other) }).flatten() else {
                return false;
            };
            // SAFETY: As above.
            let name = unsafe { CStr::from_char_ptr(bindings::dev_name(other)) };
            // SAFETY: `me` is being probed: the driver core set its `driver` to ours.
            if unsafe { (*other).driver == (*me).dev.driver } {
                // Two descriptions of one KCS (C: "duplicate").
                dev_info!(
                    dev,
                    "KCS at {:#x} is already driven as {}: duplicate\n",
                    port,
                    name
                );
            } else {
                dev_info!(
                    dev,
                    "KCS at {:#x} is held by {} (bound to {}): ripmi leaves it alone (to switch: rmmod ipmi_devintf ipmi_si, then reload ripmi; see dist/modprobe.d/ripmi.conf)\n",
                    port,
                    drv,
                    name
                );
            }
            named = true;
            true
        });
        if named {
            return;
        }
    }
    dev_info!(
        dev,
        "KCS at {:#x} is held by another driver (see /proc/ioports): ripmi leaves it alone\n",
        port
    );
}

// SPDX-License-Identifier: GPL-2.0

//! The platform driver: binds ACPI `IPI0001` devices whose `_IFT` says KCS, and the device that
//! module parameters describe (`ports=`, `irq=`, `regspacing=`).
//!
//! The kernel crate's platform abstraction exposes neither `dev_pm_ops` nor raw IO resources,
//! so the `platform_driver` is registered through bindings here. C counterpart:
//! [`ipmi_si_platform.c`](srctree/drivers/char/ipmi/ipmi_si_platform.c) and
//! [`ipmi_si_hardcode.c`](srctree/drivers/char/ipmi/ipmi_si_hardcode.c).

use kernel::{bindings, prelude::*, types::Opaque};

use crate::device::{KcsConfig, KcsDevice};
use crate::pm::RawDev;

/// The driver's name; the `ports=` device is matched by it.
const DRIVER_NAME: &CStr = c"ripmi";
/// ACPI `_IFT` value of a KCS interface.
const IFT_KCS: u64 = 1;

/// Makes a C table usable as a `static`.
#[repr(transparent)]
struct AssertSync<T>(T);
// SAFETY: Only used for read-only ID tables.
unsafe impl<T> Sync for AssertSync<T> {}

/// `IPI0001`, then the terminating zero entry.
static ACPI_IDS: AssertSync<[bindings::acpi_device_id; 2]> = AssertSync([
    bindings::acpi_device_id {
        id: *b"IPI0001\0\0\0\0\0\0\0\0\0",
        driver_data: 0,
        cls: 0,
        cls_msk: 0,
    },
    bindings::acpi_device_id {
        id: [0; 16],
        driver_data: 0,
        cls: 0,
        cls_msk: 0,
    },
]);

/// The registered driver; unregistered on drop.
///
/// # Invariants
///
/// `drv` is registered with the driver core while this value exists.
#[pin_data(PinnedDrop)]
pub(crate) struct Driver {
    #[pin]
    drv: Opaque<bindings::platform_driver>,
    /// The device made from `ports=`, if any; unregistered before the driver.
    manual: Option<ManualDevice>,
}

// SAFETY: The driver structure is only used by the driver core, which is thread-safe.
unsafe impl Send for Driver {}
// SAFETY: As above.
unsafe impl Sync for Driver {}

impl Driver {
    /// Registers the driver, then the `ports=` device if the parameters name one.
    pub(crate) fn register(module: &'static ThisModule) -> Result<Pin<KBox<Self>>> {
        let params = crate::params();
        let mut this = KBox::try_pin_init(
            try_pin_init!(Driver {
                // SAFETY: `slot` is valid for writes; every pointer stored is static.
                drv <- Opaque::try_ffi_init(move |slot: *mut bindings::platform_driver| unsafe {
                    slot.write(pin_init::zeroed());
                    (*slot).probe = Some(probe_trampoline);
                    (*slot).remove = Some(remove_trampoline);
                    (*slot).driver.name = DRIVER_NAME.as_char_ptr();
                    (*slot).driver.acpi_match_table = ACPI_IDS.0.as_ptr();
                    (*slot).driver.pm = crate::pm::PM_OPS.as_ptr();
                    kernel::error::to_result(bindings::__platform_driver_register(
                        slot,
                        module.as_ptr(),
                        DRIVER_NAME.as_char_ptr(),
                    ))
                }),
                manual: None,
            }),
            GFP_KERNEL,
        )?;
        if params.ports != 0 {
            let dev = ManualDevice::register(params.ports, params.regspacing, params.irq)?;
            // SAFETY: `manual` is not structurally pinned; the value is not moved.
            unsafe { this.as_mut().get_unchecked_mut().manual = Some(dev) };
        }
        Ok(this)
    }
}

#[pinned_drop]
impl PinnedDrop for Driver {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `manual` is not structurally pinned; nothing is moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        this.manual.take();
        // SAFETY: The driver is registered (type invariants).
        unsafe { bindings::platform_driver_unregister(this.drv.get()) };
    }
}

/// Where the `ports=` parameters put the KCS, handed to probe as platform data.
///
/// Not as I/O resources: `platform_device_add()` would insert them into the resource tree, where
/// they nest over the ports a bound ACPI device has reserved, and unregistering the device would
/// then take those reservations with it.
#[repr(C)]
#[derive(Clone, Copy)]
struct ManualPorts {
    port: u64,
    spacing: u32,
    irq: u32,
}

/// A platform device made from `ports=`/`irq=`/`regspacing=`; unregistered on drop.
struct ManualDevice {
    pdev: *mut bindings::platform_device,
}

impl ManualDevice {
    /// Registers a platform device named like the driver, carrying the KCS placement.
    fn register(port: u64, spacing: u32, irq: u32) -> Result<Self> {
        port.checked_add(spacing.into()).ok_or(EINVAL)?;
        let data = ManualPorts { port, spacing, irq };
        let info = bindings::platform_device_info {
            name: DRIVER_NAME.as_char_ptr(),
            id: bindings::PLATFORM_DEVID_NONE,
            data: core::ptr::from_ref(&data).cast(),
            size_data: core::mem::size_of::<ManualPorts>(),
            ..Default::default()
        };
        // SAFETY: `info` and `data` are valid for the call; the core copies the data.
        let pdev = unsafe { bindings::platform_device_register_full(&info) };
        let pdev = kernel::error::from_err_ptr(pdev)?;
        Ok(ManualDevice { pdev })
    }
}

impl Drop for ManualDevice {
    fn drop(&mut self) {
        // SAFETY: `pdev` was registered by `register`.
        unsafe { bindings::platform_device_unregister(self.pdev) };
    }
}

// SAFETY: The pointer is only handed back to the driver core.
unsafe impl Send for ManualDevice {}
// SAFETY: As above.
unsafe impl Sync for ManualDevice {}

/// Reads the ACPI `_IFT` (interface type) of `dev`: `Ok(None)` if it is not an ACPI device,
/// `EINVAL` if it is one without `_IFT` (C `acpi_ipmi_probe()` refuses it too).
///
/// # Safety
///
/// `dev` must be a valid, bound device.
unsafe fn acpi_ift(dev: *mut bindings::device) -> Result<Option<u64>> {
    // SAFETY: `dev` is valid (caller).
    let fwnode = unsafe { (*dev).fwnode };
    // SAFETY: `is_acpi_device_node` accepts any (possibly null) fwnode.
    if fwnode.is_null() || !unsafe { bindings::is_acpi_device_node(fwnode) } {
        return Ok(None);
    }
    // SAFETY: An ACPI device node is the `fwnode` field of a `struct acpi_device`.
    let adev = unsafe { kernel::container_of!(fwnode, bindings::acpi_device, fwnode) };
    let mut val: u64 = 0;
    // SAFETY: `adev` is valid while `dev` is bound; the method name is a static C string.
    let status = unsafe {
        bindings::acpi_evaluate_integer(
            (*adev).handle,
            c"_IFT".as_char_ptr().cast_mut(),
            core::ptr::null_mut(),
            &mut val,
        )
    };
    if status != 0 {
        pr_err!("IPI0001 device has no ACPI interface type (_IFT)\n");
        return Err(EINVAL);
    }
    Ok(Some(val))
}

/// The register spacing of a KCS described by one resource (C `DEFAULT_REGSPACING`).
const DEFAULT_REGSPACING: u32 = 1;

/// The register spacing of a KCS whose first I/O resource starts at `start`, given where its
/// second resource starts, if it has one (C `ipmi_get_info_from_resources()`): one resource
/// means the registers are adjacent (spacing 1, whatever the resource's size); a second one
/// above the first gives the spacing.
fn regspacing(start: u64, second: Option<u64>) -> Result<u32> {
    match second {
        Some(s) if s > start => u32::try_from(s - start).map_err(|_| EINVAL),
        _ => Ok(DEFAULT_REGSPACING),
    }
}

/// Probes one platform device.
///
/// # Safety
///
/// `pdev` is a valid platform device being bound to this driver.
unsafe fn probe(pdev: *mut bindings::platform_device) -> Result<KBox<KcsDevice>> {
    let params = crate::params();
    // SAFETY: `pdev` is valid (caller).
    let dev = unsafe { &raw mut (*pdev).dev };
    // SAFETY: `dev` is valid and being bound (caller).
    if let Some(ift) = unsafe { acpi_ift(dev) }? {
        if ift != IFT_KCS {
            pr_info!(
                "skipping IPI0001 with interface type {} (only KCS is supported)\n",
                ift
            );
            return Err(ENODEV);
        }
    }
    // SAFETY: `dev` is being bound (caller); `KcsDevice` clears its copies in its `Drop`, which
    // `remove_trampoline` runs before the device is unbound.
    let rdev = unsafe { RawDev::new(dev) };
    // SAFETY: `dev` is valid (caller); only the `ports=` device carries platform data, a copy of
    // the `ManualPorts` given to `platform_device_register_full`.
    if let Some(m) = unsafe { (*dev).platform_data.cast::<ManualPorts>().as_ref() } {
        return Ok(KBox::new(
            KcsDevice::probe(&config(&params, rdev, m.port, m.spacing, m.irq))?,
            GFP_KERNEL,
        )?);
    }
    // SAFETY: `pdev` is valid (caller).
    let io = unsafe { bindings::platform_get_resource(pdev, bindings::IORESOURCE_IO, 0) };
    if io.is_null() {
        pr_err!("no I/O port resource (memory-mapped KCS is not supported)\n");
        return Err(ENODEV);
    }
    // SAFETY: `io` is a valid resource of `pdev`.
    let start = unsafe { (*io).start };
    // SAFETY: As above.
    let io2 = unsafe { bindings::platform_get_resource(pdev, bindings::IORESOURCE_IO, 1) };
    // SAFETY: `io2`, when not null, is a valid resource of `pdev`.
    let spacing = regspacing(start, unsafe { io2.as_ref() }.map(|r| r.start))?;
    // SAFETY: `pdev` is valid (caller).
    let irq = unsafe { bindings::platform_get_irq_optional(pdev, 0) };
    let cfg = config(
        &params,
        rdev,
        start,
        spacing,
        u32::try_from(irq).unwrap_or(0),
    );
    Ok(KBox::new(KcsDevice::probe(&cfg)?, GFP_KERNEL)?)
}

/// The probe configuration of a KCS at `port` for the device `dev`.
fn config(params: &crate::Params, dev: RawDev, port: u64, spacing: u32, irq: u32) -> KcsConfig {
    KcsConfig {
        port,
        spacing,
        irq,
        devnum: params.devnum,
        max_users: params.max_users,
        max_msgs: params.max_msgs,
        dev,
        pm_flags: params.pm_flags,
        rpm_watch_ms: params.rpm_watch_ms,
        poll_max_busy_us: params.poll_max_busy_us,
    }
}

/// # Safety
///
/// Called by the driver core with a valid device being bound.
unsafe extern "C" fn probe_trampoline(pdev: *mut bindings::platform_device) -> kernel::ffi::c_int {
    // SAFETY: `pdev` is valid and being bound (caller).
    match unsafe { probe(pdev) } {
        Ok(kdev) => {
            // SAFETY: `pdev` is valid; we own its driver data while bound.
            unsafe { (*pdev).dev.driver_data = KBox::into_raw(kdev).cast() };
            // Only now may runtime-PM callbacks run: they find the `KcsDevice` in driver_data.
            // SAFETY: `pdev` is valid and bound; `remove_trampoline` disables runtime PM again.
            crate::pm::runtime_enable(unsafe { crate::pm::RawDev::new(&raw mut (*pdev).dev) });
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the driver core with a device this driver bound.
unsafe extern "C" fn remove_trampoline(pdev: *mut bindings::platform_device) {
    // First of all: resume the device and stop runtime PM, waiting for running callbacks, so
    // none can find the `KcsDevice` while it is torn down.
    // SAFETY: `pdev` is valid and still bound (caller).
    crate::pm::runtime_disable(unsafe { crate::pm::RawDev::new(&raw mut (*pdev).dev) });
    // SAFETY: `driver_data` was set by `probe_trampoline` from `KBox::into_raw`.
    let kdev = unsafe { KBox::from_raw((*pdev).dev.driver_data.cast::<KcsDevice>()) };
    // SAFETY: `pdev` is valid (caller).
    unsafe { (*pdev).dev.driver_data = core::ptr::null_mut() };
    drop(kdev);
}

#[cfg(ripmi_test)]
#[kernel::prelude::kunit_tests(ripmi_platform)]
mod tests {
    use super::*;

    /// One resource: spacing 1 whatever its size (ripmi used to take `end - start`, so a
    /// 0xca2-0xca5 resource put the status register at 0xca5 instead of 0xca3).
    #[test]
    fn one_resource_means_spacing_1() -> Result {
        assert_eq!(regspacing(0xca2, None)?, 1);
        Ok(())
    }

    /// Two resources: the distance between their starts; one below the first is ignored.
    #[test]
    fn second_resource_gives_the_spacing() -> Result {
        assert_eq!(regspacing(0xca2, Some(0xca6))?, 4);
        assert_eq!(regspacing(0xca2, Some(0xca0))?, 1);
        assert_eq!(regspacing(0, Some(1 << 40)), Err(EINVAL));
        Ok(())
    }
}

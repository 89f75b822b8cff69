// SPDX-License-Identifier: GPL-2.0

//! The platform driver: binds ACPI `IPI0001` devices whose `_IFT` says KCS, the device that
//! module parameters describe (`ports=`, `irq=`, `regspacing=`), and one device per KCS that
//! only SMBIOS describes (`ripmi-smbios.N`, see [`crate::discovery`]).
//!
//! The kernel crate's platform abstraction exposes neither `dev_pm_ops` nor raw IO resources,
//! so the `platform_driver` is registered through bindings here, and every C callback of it is
//! in this file: probe, remove and each `dev_pm_ops` entry, thin trampolines that pass on to
//! safe [`KcsDevice`] methods. This file alone owns `driver_data`: probe stores the bound
//! [`KcsDevice`] there, the PM callbacks borrow it, remove takes it back. C counterpart:
//! [`ipmi_si_platform.c`](srctree/drivers/char/ipmi/ipmi_si_platform.c) and
//! [`ipmi_si_hardcode.c`](srctree/drivers/char/ipmi/ipmi_si_hardcode.c).

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::{
    bindings,
    device::{Core, Device},
    prelude::*,
    types::Opaque,
};

use crate::device::{KcsConfig, KcsDevice};
use crate::discovery;
use crate::handler::Phase;
use crate::kapi::{SmiInfo, SI_ACPI, SI_HARDCODED, SI_SMBIOS};
use crate::pm::{self, DPM_FLAG_NO_DIRECT_COMPLETE, DPM_FLAG_SMART_PREPARE};
use crate::sysfs::{show_into, SysfsNames};

extern "C" {
    /// The SI device's attribute groups (`src/c/sysfs.c`), null-terminated.
    static ripmi_si_groups: [*const bindings::attribute_group; 2];
}

/// The module parameters that place and set up a BMC, read once, at load: they are read-only
/// (mode 0444). Those that may change at run time are read where they are used (see
/// `src/params.rs`).
#[derive(Clone, Copy)]
pub(crate) struct Params {
    /// `ports=`: the KCS data register of a BMC with no ACPI entry, or 0.
    pub(crate) ports: u64,
    /// `regspacing=`.
    pub(crate) regspacing: u32,
    /// `irq=`.
    pub(crate) irq: u32,
    /// `devnum=`.
    pub(crate) devnum: u32,
    /// `devintf=`.
    pub(crate) devintf: bool,
    /// `no_direct_complete=`.
    pub(crate) no_direct_complete: bool,
    /// `smart_prepare=`.
    pub(crate) smart_prepare: bool,
    /// `rpm_watch_ms=`.
    pub(crate) rpm_watch_ms: u32,
}

impl Params {
    /// `power.driver_flags` to set at probe.
    fn pm_flags(&self) -> u32 {
        let flag = |on: bool, flag: u32| if on { flag } else { 0 };
        flag(self.no_direct_complete, DPM_FLAG_NO_DIRECT_COMPLETE)
            | flag(self.smart_prepare, DPM_FLAG_SMART_PREPARE)
    }
}

/// The driver's name, and the `ports=` device's.
const DRIVER_NAME: &CStr = c"ripmi";
/// The name of the devices made from SMBIOS records (`ripmi-smbios.N`).
const SMBIOS_NAME: &CStr = c"ripmi-smbios";
/// ACPI `_IFT` value of a KCS interface.
const IFT_KCS: u64 = 1;

/// Makes a C table usable as a `static`.
#[repr(transparent)]
struct AssertSync<T>(T);
// SAFETY: Only used for the read-only ID and PM ops tables, which the kernel only reads.
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

/// A `platform_device_id` named `name`.
const fn platform_id(name: &CStr) -> bindings::platform_device_id {
    let mut id = bindings::platform_device_id {
        name: [0; 24],
        driver_data: 0,
    };
    let bytes = name.to_bytes();
    let mut i = 0;
    while i < bytes.len() {
        id.name[i] = bytes[i] as kernel::ffi::c_char;
        i += 1;
    }
    id
}

/// The devices ripmi makes itself, matched by name: `ports=`, then SMBIOS, then the end.
static PLATFORM_IDS: AssertSync<[bindings::platform_device_id; 3]> = AssertSync([
    platform_id(DRIVER_NAME),
    platform_id(SMBIOS_NAME),
    platform_id(c""),
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
    /// The devices made from SMBIOS records; unregistered before the driver.
    smbios: KVec<ManualDevice>,
    /// What probe needs of the module parameters.
    params: Params,
    /// The class `ipmi` and the BMC devices' driver; unregistered after the driver (and so
    /// every class and BMC device) is gone.
    _sysfs: SysfsNames,
}

// SAFETY: The driver structure is only used by the driver core, which is thread-safe.
unsafe impl Send for Driver {}
// SAFETY: As above.
unsafe impl Sync for Driver {}

impl Driver {
    /// Registers the `ports=` device if the parameters name one, a device for each KCS that
    /// only SMBIOS describes, then the driver.
    pub(crate) fn register(module: &'static ThisModule, params: Params) -> Result<Pin<KBox<Self>>> {
        // SAFETY: The driver is registered once per module load, before any probe.
        unsafe { crate::bmc::init() };
        // The devices bind when the driver registers, as an ACPI device does.
        let manual = if params.ports != 0 {
            let at = ManualPorts {
                port: params.ports,
                spacing: params.regspacing,
                irq: params.irq,
                addr_src: SI_HARDCODED,
            };
            Some(ManualDevice::register(
                DRIVER_NAME,
                bindings::PLATFORM_DEVID_NONE,
                at,
            )?)
        } else {
            None
        };
        let acpi = discovery::acpi_ports(ACPI_IDS.0.as_ptr());
        let mut smbios = KVec::new();
        for kcs in discovery::smbios_kcs(params.ports, &acpi) {
            let at = ManualPorts {
                port: kcs.port,
                spacing: kcs.spacing,
                irq: kcs.irq,
                addr_src: SI_SMBIOS,
            };
            let id = i32::try_from(smbios.len()).map_err(|_| EINVAL)?;
            let pdev = ManualDevice::register(SMBIOS_NAME, id, at)?;
            pr_info!(
                "SMBIOS: KCS at {:#x} (spacing {}, irq {}) only SMBIOS describes: {}.{}\n",
                at.port,
                at.spacing,
                at.irq,
                SMBIOS_NAME,
                id
            );
            smbios.push(pdev, GFP_KERNEL)?;
        }
        KBox::try_pin_init(
            try_pin_init!(Driver {
                // Before `drv`: probe reads them, and may run as soon as `drv` is registered.
                params,
                manual,
                smbios,
                _sysfs: SysfsNames::register(params.devintf),
                // SAFETY: `slot` is valid for writes; every pointer stored is static.
                drv <- Opaque::try_ffi_init(move |slot: *mut bindings::platform_driver| unsafe {
                    slot.write(pin_init::zeroed());
                    (*slot).probe = Some(probe_trampoline);
                    (*slot).remove = Some(remove_trampoline);
                    (*slot).driver.name = DRIVER_NAME.as_char_ptr();
                    (*slot).driver.acpi_match_table = ACPI_IDS.0.as_ptr();
                    (*slot).id_table = PLATFORM_IDS.0.as_ptr();
                    (*slot).driver.pm = &PM_OPS.0;
                    // The SI device's files: added after probe, removed before remove.
                    (*slot).driver.dev_groups = ripmi_si_groups.as_ptr();
                    kernel::error::to_result(bindings::__platform_driver_register(
                        slot,
                        module.as_ptr(),
                        DRIVER_NAME.as_char_ptr(),
                    ))
                }),
            }),
            GFP_KERNEL,
        )
    }
}

#[pinned_drop]
impl PinnedDrop for Driver {
    fn drop(self: Pin<&mut Self>) {
        if let Some(manual) = &self.manual {
            manual.unregister();
        }
        for pdev in &self.smbios {
            pdev.unregister();
        }
        // SAFETY: The driver is registered (type invariants).
        unsafe { bindings::platform_driver_unregister(self.drv.get()) };
    }
}

/// Where the `ports=` parameters or an SMBIOS record put the KCS, handed to probe as platform
/// data.
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
    /// `enum ipmi_addr_src` for `ipmi_get_smi_info()`: hardcoded or SMBIOS.
    addr_src: u32,
}

/// A platform device made from `ports=`/`irq=`/`regspacing=` or from an SMBIOS record;
/// unregistered on drop, or before.
///
/// # Invariants
///
/// `pdev` is null or a device registered by [`ManualDevice::register`] and not unregistered.
struct ManualDevice {
    pdev: AtomicPtr<bindings::platform_device>,
}

impl ManualDevice {
    /// Registers a platform device `name`.`id` (one of [`PLATFORM_IDS`]), carrying the KCS
    /// placement `data`.
    fn register(name: &'static CStr, id: i32, data: ManualPorts) -> Result<Self> {
        data.port.checked_add(data.spacing.into()).ok_or(EINVAL)?;
        let info = bindings::platform_device_info {
            name: name.as_char_ptr(),
            id,
            data: core::ptr::from_ref(&data).cast(),
            size_data: core::mem::size_of::<ManualPorts>(),
            ..Default::default()
        };
        // SAFETY: `info` and `data` are valid for the call; the core copies the data.
        let pdev = unsafe { bindings::platform_device_register_full(&info) };
        let pdev = kernel::error::from_err_ptr(pdev)?;
        // INVARIANT: just registered.
        Ok(ManualDevice {
            pdev: AtomicPtr::new(pdev),
        })
    }

    /// Unregisters the device (unbinding it first), once.
    fn unregister(&self) {
        let pdev = self.pdev.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !pdev.is_null() {
            // SAFETY: `pdev` is registered (type invariants); the swap makes this the only
            // unregistration.
            unsafe { bindings::platform_device_unregister(pdev) };
        }
    }
}

impl Drop for ManualDevice {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Reads the ACPI `_IFT` (interface type) of `dev`, with the device's ACPI handle: `Ok(None)`
/// if it is not an ACPI device, `EINVAL` if it is one without `_IFT` (C `acpi_ipmi_probe()`
/// refuses it too).
fn acpi_ift(dev: &Device<Core<'_>>) -> Result<Option<(u64, usize)>> {
    let Some(fwnode) = dev.fwnode() else {
        return Ok(None);
    };
    let fwnode = core::ptr::from_ref(fwnode)
        .cast::<bindings::fwnode_handle>()
        .cast_mut();
    // SAFETY: `fwnode` is the device's firmware node (a `FwNode` is a transparent wrapper of
    // it); `is_acpi_device_node` only reads its ops pointer.
    if !unsafe { bindings::is_acpi_device_node(fwnode) } {
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
        dev_err!(dev, "IPI0001 device has no ACPI interface type (_IFT)\n");
        return Err(EINVAL);
    }
    // SAFETY: `adev` is valid while `dev` is bound.
    Ok(Some((val, unsafe { (*adev).handle } as usize)))
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

impl Driver {
    /// Probes one platform device: finds where its KCS is, then brings it up.
    ///
    /// # Safety
    ///
    /// `pdev` is a valid platform device being bound to this driver, and `dev` is its `dev`.
    unsafe fn probe(
        &self,
        pdev: *mut bindings::platform_device,
        dev: &Device<Core<'_>>,
    ) -> Result<KBox<KcsDevice>> {
        let acpi = acpi_ift(dev)?;
        if let Some((ift, _)) = acpi {
            if ift != IFT_KCS {
                dev_info!(
                    dev,
                    "skipping IPI0001 with interface type {} (only KCS is supported)\n",
                    ift
                );
                return Err(ENODEV);
            }
        }
        // SAFETY: `pdev` is valid (caller); only the devices ripmi makes (`ports=`, SMBIOS)
        // carry platform data, a copy of the `ManualPorts` given to
        // `platform_device_register_full`.
        if let Some(m) = unsafe { (*pdev).dev.platform_data.cast::<ManualPorts>().as_ref() } {
            let info = SmiInfo {
                addr_src: m.addr_src,
                acpi_handle: 0,
            };
            let cfg = self.config(m.port, m.spacing, m.irq, info);
            return bring_up(pdev, dev, &cfg);
        }
        // SAFETY: `pdev` is valid (caller).
        let io = unsafe { bindings::platform_get_resource(pdev, bindings::IORESOURCE_IO, 0) };
        if io.is_null() {
            dev_err!(
                dev,
                "no I/O port resource (memory-mapped KCS is not supported)\n"
            );
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
        if start == self.params.ports {
            // C refuses a firmware-described interface at a `ports=` address (`-ENODEV`,
            // `ipmi_si_add_smi()`): the parameter says how to drive it.
            dev_info!(
                dev,
                "KCS at {:#x} is the one given with ports=: the ports= device drives it\n",
                start
            );
            return Err(ENODEV);
        }
        // An I/O resource without platform data: an ACPI device (the driver matches nothing
        // else that has one).
        let info = SmiInfo {
            addr_src: SI_ACPI,
            acpi_handle: acpi.map_or(0, |(_, h)| h),
        };
        let cfg = self.config(start, spacing, u32::try_from(irq).unwrap_or(0), info);
        bring_up(pdev, dev, &cfg)
    }

    /// The probe configuration of a KCS at `port`.
    fn config(&self, port: u64, spacing: u32, irq: u32, info: SmiInfo) -> KcsConfig {
        let p = &self.params;
        KcsConfig {
            port,
            spacing,
            irq,
            devnum: p.devnum,
            devintf: p.devintf,
            info,
            pm_flags: p.pm_flags(),
            rpm_watch_ms: p.rpm_watch_ms,
        }
    }
}

/// Brings up the KCS `cfg` describes for `dev` (the device of `pdev`). If another driver holds
/// its ports (`ipmi_si` bound first), declines with one line naming it (`ENODEV`, which the
/// driver core does not log), rather than a bare `EBUSY`.
fn bring_up(
    pdev: *const bindings::platform_device,
    dev: &Device<Core<'_>>,
    cfg: &KcsConfig,
) -> Result<KBox<KcsDevice>> {
    match KcsDevice::probe(dev, cfg) {
        Ok(kdev) => Ok(KBox::new(kdev, GFP_KERNEL)?),
        Err(e) if e == EBUSY => {
            discovery::name_holder(dev, pdev, ACPI_IDS.0.as_ptr(), cfg.port);
            Err(ENODEV)
        }
        Err(e) => Err(e),
    }
}

/// The bus device of `pdev`, as the driver core hands it to a bus callback.
///
/// # Safety
///
/// `pdev` is valid, and a bus callback (probe or remove) for it is running: the returned
/// reference must not outlive that callback.
unsafe fn core_device<'a>(pdev: *mut bindings::platform_device) -> &'a Device<Core<'a>> {
    // SAFETY: `pdev` is valid (caller), so is its `dev`; the driver core holds a reference to it
    // for the whole callback.
    unsafe { Device::from_raw(&raw mut (*pdev).dev) }
}

/// `->probe`.
///
/// # Safety
///
/// Called by the driver core with a valid device being bound to this driver.
unsafe extern "C" fn probe_trampoline(pdev: *mut bindings::platform_device) -> kernel::ffi::c_int {
    // SAFETY: A probe callback is running for `pdev` (caller).
    let dev = unsafe { core_device(pdev) };
    // SAFETY: The driver core sets `dev.driver` before it calls probe; it is the `driver` field
    // of the `platform_driver` that is the `drv` field of our registered, pinned `Driver`.
    let driver = unsafe {
        let pdrv = kernel::container_of!((*pdev).dev.driver, bindings::platform_driver, driver);
        &*kernel::container_of!(
            pdrv.cast::<Opaque<bindings::platform_driver>>(),
            Driver,
            drv
        )
    };
    // SAFETY: `pdev` is valid and being bound (caller); `dev` is its `dev`.
    match unsafe { driver.probe(pdev, dev) } {
        Ok(kdev) => {
            // INVARIANT: `driver_data` holds a `KBox<KcsDevice>` from here until remove.
            // SAFETY: `pdev` is valid; the driver data is ours while the device is bound.
            unsafe { (*pdev).dev.driver_data = KBox::into_raw(kdev).cast() };
            // Only now may runtime-PM callbacks run: they find the `KcsDevice` in driver_data.
            pm::runtime_enable(dev);
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `->remove`.
///
/// # Safety
///
/// Called by the driver core with a device this driver bound.
unsafe extern "C" fn remove_trampoline(pdev: *mut bindings::platform_device) {
    // SAFETY: A remove callback is running for `pdev` (caller).
    let dev = unsafe { core_device(pdev) };
    // First of all: resume the device and stop runtime PM, waiting for running callbacks, so
    // none can find the `KcsDevice` while it is torn down.
    pm::runtime_disable(dev);
    // SAFETY: `driver_data` was set by `probe_trampoline` from `KBox::into_raw` and is taken
    // back only here.
    let kdev = unsafe { KBox::from_raw((*pdev).dev.driver_data.cast::<KcsDevice>()) };
    // SAFETY: `pdev` is valid (caller).
    unsafe { (*pdev).dev.driver_data = core::ptr::null_mut() };
    drop(kdev);
}

/// The bound [`KcsDevice`] of `dev`.
///
/// # Safety
///
/// `dev` is a device bound to this driver: its `driver_data` was set by probe from
/// `KBox::into_raw` and stays valid until remove, which the PM core never runs concurrently
/// with a PM callback (it holds the device lock, or runtime PM is disabled before remove).
unsafe fn bound<'a>(dev: *mut bindings::device) -> &'a KcsDevice {
    // SAFETY: See the function's safety section.
    unsafe { &*(*dev).driver_data.cast::<KcsDevice>() }
}

/// `show` of the SI device's files (`src/c/sysfs.c`): `idx` is the file's index.
///
/// # Safety
///
/// Called by a file of `ripmi_si_groups`, which exist only while `dev` is bound (the driver
/// core adds them after probe and removes them before remove), with its page.
#[no_mangle]
pub(crate) unsafe extern "C" fn ripmi_si_show(
    dev: *mut bindings::device,
    idx: kernel::ffi::c_uint,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: `dev` is bound (caller); `buf` is the `show` page.
    unsafe { show_into(buf, |w| bound(dev).sysfs_show(idx, w)) }
}

/// `->prepare`.
///
/// # Safety
///
/// Called by the PM core with a device bound to this driver.
unsafe extern "C" fn prepare(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    i32::from(unsafe { bound(dev) }.pm_prepare())
}

/// `->complete`.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn complete(dev: *mut bindings::device) {
    // SAFETY: `dev` is bound (caller).
    unsafe { bound(dev) }.pm_complete();
}

/// Generates a system-sleep trampoline that calls `$method(Phase::$phase)`.
macro_rules! sleep_trampoline {
    ($name:ident, $method:ident, $phase:ident) => {
        /// A system-sleep callback of the ops table.
        ///
        /// # Safety
        ///
        /// Called by the PM core with a device bound to this driver.
        unsafe extern "C" fn $name(dev: *mut bindings::device) -> kernel::ffi::c_int {
            // SAFETY: `dev` is bound (caller).
            match unsafe { bound(dev) }.$method(Phase::$phase) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
    };
}

sleep_trampoline!(suspend, pm_suspend, Suspend);
sleep_trampoline!(freeze, pm_suspend, Freeze);
sleep_trampoline!(poweroff, pm_suspend, Poweroff);
sleep_trampoline!(resume, pm_resume, Resume);
sleep_trampoline!(thaw, pm_resume, Thaw);
sleep_trampoline!(restore, pm_resume, Restore);

/// `->runtime_suspend`: `EBUSY` while work is pending.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn runtime_suspend(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    match unsafe { bound(dev) }.pm_runtime_suspend() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `->runtime_resume`.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn runtime_resume(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    unsafe { bound(dev) }.pm_runtime_resume();
    0
}

/// The driver's `dev_pm_ops`. Hibernation maps onto the same two operations: freeze and
/// poweroff quiesce like suspend; thaw and restore re-initialise like resume.
static PM_OPS: AssertSync<bindings::dev_pm_ops> = AssertSync(bindings::dev_pm_ops {
    prepare: Some(prepare),
    complete: Some(complete),
    suspend: Some(suspend),
    resume: Some(resume),
    freeze: Some(freeze),
    thaw: Some(thaw),
    poweroff: Some(poweroff),
    restore: Some(restore),
    runtime_suspend: Some(runtime_suspend),
    runtime_resume: Some(runtime_resume),
    ..pin_init::zeroed()
});

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

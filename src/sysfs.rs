// SPDX-License-Identifier: GPL-2.0

//! The `ipmi` class (`/sys/class/ipmi/ipmiN`, as `ipmi_devintf` makes it) and the glue every
//! sysfs `show` of ripmi shares. The tables are in `src/c/sysfs.c`; see
//! `Documentation/sysfs.rst` for why the class device has no devt of its own.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{bindings, device::Device, ffi::c_void, prelude::*};

use crate::bmc_id::BufWriter;
use crate::pm::raw;

extern "C" {
    fn ripmi_class_register() -> kernel::ffi::c_int;
    fn ripmi_class_unregister();
    fn ripmi_bmc_driver_register() -> kernel::ffi::c_int;
    fn ripmi_bmc_driver_unregister();
    // `struct device` pointers as `void *`: bindgen's `struct device` is not FFI-safe for rustc.
    fn ripmi_class_device_create(
        parent: *mut c_void,
        misc: *mut c_void,
        num: kernel::ffi::c_uint,
    ) -> *mut c_void;
}

/// Whether ripmi's class `ipmi` is registered (not when `ipmi_devintf` holds the name).
static CLASS_REGISTERED: AtomicBool = AtomicBool::new(false);
/// Whether ripmi's platform driver `ipmi`, which BMC devices are bound to, is registered (not
/// when `ipmi_msghandler` holds the name).
static BMC_DRIVER_REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether BMC devices are to be bound to the platform driver `ipmi` (their `driver` link).
pub(crate) fn bmc_driver_registered() -> bool {
    BMC_DRIVER_REGISTERED.load(Ordering::Acquire)
}

/// The names ripmi takes in sysfs as the C stack does: the class `ipmi` (`ipmi_devintf`) and
/// the platform driver `ipmi` without callbacks that BMC devices are bound to
/// (`ipmi_msghandler`'s `ipmidriver`). Registered with the driver; unregistered on drop.
pub(crate) struct SysfsNames(());

impl SysfsNames {
    /// Registers both; the class only `with_class` (`devintf=1`: with `devintf=0` the class is
    /// left to the kernel's `ipmi_devintf`, which registers it when it loads on ripmi's API). A
    /// name the C stack holds already is left to it, with one log line: the interfaces then have
    /// no `/sys/class/ipmi/ipmiN`, or their BMC device no `driver` link; everything else works.
    pub(crate) fn register(with_class: bool) -> Self {
        let class = if with_class {
            // SAFETY: Called once per driver registration; undone in `drop`.
            unsafe { ripmi_class_register() }
        } else {
            0
        };
        // SAFETY: Called once per driver registration; undone in `drop`.
        let driver = unsafe { ripmi_bmc_driver_register() };
        CLASS_REGISTERED.store(with_class && class == 0, Ordering::Release);
        BMC_DRIVER_REGISTERED.store(driver == 0, Ordering::Release);
        if class != 0 || driver != 0 {
            pr_warn!(
                "C IPMI stack loaded? class \"ipmi\": {}, platform driver \"ipmi\": {}; going on without /sys/class/ipmi/ipmiN and/or the ipmi_bmc.N driver link\n",
                class,
                driver
            );
        }
        SysfsNames(())
    }
}

impl Drop for SysfsNames {
    fn drop(&mut self) {
        // Every class device and BMC device is gone: the driver, which owns them, is
        // unregistered before this value is dropped.
        if CLASS_REGISTERED.swap(false, Ordering::AcqRel) {
            // SAFETY: Registered in `register`.
            unsafe { ripmi_class_unregister() };
        }
        if BMC_DRIVER_REGISTERED.swap(false, Ordering::AcqRel) {
            // SAFETY: Registered in `register`.
            unsafe { ripmi_bmc_driver_unregister() };
        }
    }
}

/// `/sys/class/ipmi/ipmi<N>` of one interface; removed on drop.
///
/// # Invariants
///
/// `dev` is a device made by `ripmi_class_device_create` and not yet unregistered.
pub(crate) struct ClassDevice {
    dev: *mut bindings::device,
}

// SAFETY: The device is only unregistered, from any thread.
unsafe impl Send for ClassDevice {}
// SAFETY: No method takes `&self`.
unsafe impl Sync for ClassDevice {}

impl ClassDevice {
    /// Adds `ipmi<num>` under the SI device `parent`, reporting the devt of the misc device
    /// `misc` (which must outlive the returned value). `None` without the class.
    pub(crate) fn create(
        parent: &Device,
        misc: *mut bindings::device,
        num: u32,
    ) -> Result<Option<Self>> {
        if !CLASS_REGISTERED.load(Ordering::Acquire) {
            return Ok(None);
        }
        // SAFETY: `parent` is a live device; `misc` is live while this value is (caller).
        let dev = unsafe { ripmi_class_device_create(raw(parent).cast(), misc.cast(), num) }
            .cast::<bindings::device>();
        let dev = kernel::error::from_err_ptr(dev)?;
        // INVARIANT: just created.
        Ok(Some(ClassDevice { dev }))
    }
}

impl Drop for ClassDevice {
    fn drop(&mut self) {
        // SAFETY: Created and not unregistered (type invariants); this is the only place.
        unsafe { bindings::device_unregister(self.dev) };
    }
}

/// Runs `f` on the page `buf` of a sysfs `show` and returns what `show` returns: the length
/// written, or `err` if `f` fails.
///
/// # Safety
///
/// `buf` is the `PAGE_SIZE` buffer a sysfs `show` was handed.
pub(crate) unsafe fn show_into(
    buf: *mut kernel::ffi::c_char,
    f: impl FnOnce(&mut BufWriter<'_>) -> core::result::Result<(), Error>,
) -> isize {
    // SAFETY: `buf` is a writable page (caller).
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), bindings::PAGE_SIZE) };
    let mut w = BufWriter::new(page);
    match f(&mut w) {
        Ok(()) => w.len() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// A formatting failure as the errno a `show` returns (only a full page can make it fail).
pub(crate) fn fmt_err(_: fmt::Error) -> Error {
    EINVAL
}

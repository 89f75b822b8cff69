// SPDX-License-Identifier: GPL-2.0

//! The BMC device `ipmi_bmc.N`: its files (the Device ID and GUID, refreshed lazily), the links
//! `<si_dev>/bmc` and `ipmi_bmc.N/ipmi<num>`, and the sharing of one BMC device between
//! interfaces whose BMC is the same.
//!
//! C counterpart: `__ipmi_bmc_register()`, `__ipmi_bmc_unregister()`, `__bmc_get_device_id()`
//! and the BMC device's attributes in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c). The attribute table is in
//! `src/c/sysfs.c`; `Documentation/sysfs.rst` lists the files.

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::{
    bindings,
    device::Device,
    new_mutex,
    prelude::*,
    str::CString,
    sync::{aref::ARef, Arc, Mutex},
    time::{delay::fsleep, Delta, Instant, Monotonic},
};

use crate::addr::Addr;
use crate::bmc_id::{parse_guid, BmcAttr, DeviceId, Guid, IdChange};
use crate::defs::{IPMI_GET_DEVICE_GUID_CMD, IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST};
use crate::handler::{KcsInterface as Interface, Request};
use crate::pm::raw;
use crate::sysfs::{fmt_err, show_into};

extern "C" {
    fn ripmi_bmc_register(
        id: kernel::ffi::c_int,
        bmc: *mut kernel::ffi::c_void,
    ) -> *mut kernel::ffi::c_void;
}

/// How long a fetched Device ID and GUID are used before a file read fetches them again (C
/// `IPMI_DYN_DEV_ID_EXPIRY`, 10 s).
const ID_EXPIRY_MS: i64 = 10_000;
/// How long a refresh waits for each answer; the handler's own timeout (with retries) ends
/// the wait sooner.
const FETCH_TIMEOUT_MS: i64 = 15_000;
/// How often a refresh looks for the answer.
const FETCH_POLL_MS: i64 = 2;

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` when the driver registers, before any BMC is added.
    unsafe(uninit) static BMCS: Mutex<KVec<Arc<Bmc>>> = KVec::new();
}

/// Initialises the BMC list; call once, at module load, before any probe.
///
/// # Safety
///
/// Called exactly once.
pub(crate) unsafe fn init() {
    // SAFETY: Called once (caller).
    unsafe { BMCS.init() };
}

/// An interface on a BMC device.
struct Member {
    /// Its handler, which refreshes the identity.
    iface: Arc<Interface>,
    /// Its SI device (`IPI0001:00`): the target of `ipmi<num>`, the holder of `bmc`.
    si_dev: ARef<Device>,
    /// `ipmi<num>`.
    link: CString,
}

/// What a BMC device knows, behind its mutex (C `dyn_mutex`).
struct BmcState {
    id: DeviceId,
    guid: Option<Guid>,
    /// When `id` and `guid` were fetched; they expire [`ID_EXPIRY_MS`] later.
    fetched: Instant<Monotonic>,
    /// The interfaces on it, first one used for refreshes (C `bmc->intfs`).
    members: KVec<Member>,
}

/// One `ipmi_bmc.N`.
///
/// # Invariants
///
/// Once set, `pdev` is registered with drvdata pointing at this value until it is dropped.
#[pin_data(PinnedDrop)]
pub(crate) struct Bmc {
    /// The N of `ipmi_bmc.N`.
    num: u32,
    /// Set once, right after the registration (null until then, and if it failed).
    pdev: AtomicPtr<bindings::platform_device>,
    #[pin]
    state: Mutex<BmcState>,
}

// SAFETY: `pdev` is only unregistered, once, in drop; everything else is behind the mutex.
unsafe impl Send for Bmc {}
// SAFETY: As above.
unsafe impl Sync for Bmc {}

#[pinned_drop]
impl PinnedDrop for Bmc {
    fn drop(self: Pin<&mut Self>) {
        let pdev = self.pdev.load(Ordering::Acquire);
        if !pdev.is_null() {
            // SAFETY: Registered (type invariants); the files' reads end before this returns.
            unsafe { bindings::platform_device_unregister(pdev) };
        }
    }
}

impl Bmc {
    /// The same BMC as `id`/`guid` (C `__find_bmc_guid()`, `__find_bmc_prod_dev_id()`).
    fn matches(&self, id: &DeviceId, guid: Option<&Guid>) -> bool {
        let s = self.state.lock();
        match (guid, s.guid.as_ref()) {
            (Some(g), Some(mine)) => g == mine,
            (Some(_), None) | (None, Some(_)) => false,
            (None, None) => s.id.product_id == id.product_id && s.id.device_id == id.device_id,
        }
    }

    /// Creates and registers `ipmi_bmc.<num>`.
    fn new(num: u32, id: DeviceId, guid: Option<Guid>) -> Result<Arc<Self>> {
        let bmc = Arc::pin_init(
            try_pin_init!(Bmc {
                num,
                pdev: AtomicPtr::new(core::ptr::null_mut()),
                state <- new_mutex!(BmcState {
                    id,
                    guid,
                    fetched: Instant::<Monotonic>::now(),
                    members: KVec::new(),
                }),
            }),
            GFP_KERNEL,
        )?;
        let this = core::ptr::from_ref::<Bmc>(&bmc).cast_mut();
        // SAFETY: `this` stays valid until the device is unregistered, in drop.
        let pdev = unsafe { ripmi_bmc_register(num as i32, this.cast()) }
            .cast::<bindings::platform_device>();
        // INVARIANT: registered just now, with `this` as drvdata.
        bmc.pdev
            .store(kernel::error::from_err_ptr(pdev)?, Ordering::Release);
        Ok(bmc)
    }

    /// The BMC device's `struct device`.
    fn dev(&self) -> *mut bindings::device {
        let pdev = self.pdev.load(Ordering::Acquire);
        // SAFETY: `pdev` is registered (type invariants, and `new` returned it set).
        unsafe { &raw mut (*pdev).dev }
    }

    /// The identity, fetched again if it expired (C `__bmc_get_device_id()`). An identity that
    /// changed is recorded, and the device registered again from a work item (see
    /// `Documentation/sysfs.rst`).
    fn identity(&self) -> Result<(DeviceId, Option<Guid>)> {
        let mut s = self.state.lock();
        if (Instant::<Monotonic>::now() - s.fetched).as_millis() < ID_EXPIRY_MS {
            return Ok((s.id, s.guid));
        }
        let iface = s.members.first().ok_or(ENOENT)?.iface.clone();
        if iface.maintenance_state() != 0 {
            return Err(EBUSY);
        }
        let guid = fetch(&iface, IPMI_GET_DEVICE_GUID_CMD)
            .ok()
            .and_then(|d| parse_guid(&d));
        let Some(id) = fetch(&iface, IPMI_GET_DEVICE_ID_CMD)
            .ok()
            .and_then(|d| DeviceId::parse(&d))
        else {
            // C keeps older valid data and returns it.
            return Ok((s.id, s.guid));
        };
        // If only the GUID fetch failed, the old GUID stays (C 2751-2761).
        let guid = guid.or(s.guid);
        match s.id.change(s.guid.as_ref(), &id, guid.as_ref()) {
            IdChange::Same => {}
            IdChange::Other => {
                // A failed rescan leaves the channels as they were.
                let _ = iface.rescan_channels();
            }
            IdChange::Identity => {
                pr_info!(
                    "ipmi_bmc.{}: BMC identity changed (dev_id 0x{:02x} -> 0x{:02x})\n",
                    self.num,
                    s.id.device_id,
                    id.device_id
                );
            }
        }
        s.id = id;
        s.guid = guid;
        s.fetched = Instant::<Monotonic>::now();
        Ok((s.id, s.guid))
    }
}

/// Sends `cmd` (netfn App) to the BMC through the handler and waits for the answer; returns its
/// data, completion code first. A user of its own carries it (C sends these as NULL-user
/// requests).
fn fetch(iface: &Arc<Interface>, cmd: u8) -> Result<KVec<u8>> {
    let user = iface.create_user()?;
    let res = (|| {
        iface.send(
            &user,
            &Request {
                addr: Addr::SystemInterface { lun: 0 },
                msgid: 0,
                netfn: IPMI_NETFN_APP_REQUEST,
                cmd,
                data: &[],
                retries: -1,
                retry_ms: 0,
            },
        )?;
        let start = Instant::<Monotonic>::now();
        loop {
            if let Some(m) = user.pop() {
                let mut v = KVec::new();
                v.extend_from_slice(m.data(), GFP_KERNEL)?;
                return Ok(v);
            }
            if (Instant::<Monotonic>::now() - start).as_millis() > FETCH_TIMEOUT_MS {
                return Err(ETIMEDOUT);
            }
            fsleep(Delta::from_millis(FETCH_POLL_MS));
        }
    })();
    iface.destroy_user(&user);
    res
}

/// The BMC of `dev` (an `ipmi_bmc.N`), as its drvdata.
///
/// # Safety
///
/// `dev` is a registered `ipmi_bmc.N` device of ripmi.
unsafe fn bmc_of<'a>(dev: *mut bindings::device) -> &'a Bmc {
    // SAFETY: The drvdata is the `Bmc` that registered `dev`, alive until it unregisters it,
    // which waits for every file read to end (caller; type invariants of `Bmc`).
    unsafe { &*(*dev).driver_data.cast::<Bmc>() }
}

/// `show` of every BMC file: `idx` is the index in `ripmi_bmc_attrs[]`.
///
/// # Safety
///
/// Called by the C `show` of a file of a registered `ipmi_bmc.N`, with its page.
#[no_mangle]
pub(crate) unsafe extern "C" fn ripmi_bmc_show(
    dev: *mut bindings::device,
    idx: kernel::ffi::c_uint,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: `dev` is a registered BMC device (caller).
    let bmc = unsafe { bmc_of(dev) };
    // SAFETY: `buf` is the `show` page (caller).
    unsafe {
        show_into(buf, |w| {
            let attr = BmcAttr::from_index(idx).ok_or(EINVAL)?;
            let (id, guid) = bmc.identity()?;
            if attr == BmcAttr::Guid && guid.is_none() {
                return Err(ENOENT);
            }
            attr.write(w, &id, guid.as_ref()).map_err(fmt_err)
        })
    }
}

/// `is_visible` of the BMC files: `aux_firmware_revision` and `guid` only when known.
///
/// # Safety
///
/// As [`ripmi_bmc_show`].
#[no_mangle]
pub(crate) unsafe extern "C" fn ripmi_bmc_visible(
    dev: *mut bindings::device,
    idx: kernel::ffi::c_uint,
) -> bool {
    // SAFETY: `dev` is a registered BMC device (caller).
    let bmc = unsafe { bmc_of(dev) };
    // The files are made during registration: use what is known, fetch nothing.
    let s = bmc.state.lock();
    BmcAttr::from_index(idx).is_some_and(|a| a.visible(&s.id, s.guid.as_ref()))
}

/// One interface's place on a BMC device, with its two links; left on drop.
pub(crate) struct BmcLink {
    bmc: Arc<Bmc>,
    si_dev: ARef<Device>,
}

impl BmcLink {
    /// Puts the interface `iface` of `si_dev`, number `num`, on the BMC device for `id`/`guid`:
    /// one with the same GUID (or, without a GUID, the same product and device ID), else a new
    /// `ipmi_bmc.N` with the lowest free N. Links `<si_dev>/bmc` and `ipmi_bmc.N/ipmi<num>`.
    pub(crate) fn register(
        si_dev: &Device,
        iface: Arc<Interface>,
        num: u32,
        id: DeviceId,
        guid: Option<Guid>,
    ) -> Result<Self> {
        let mut bmcs = BMCS.lock();
        let bmc = match bmcs.iter().find(|b| b.matches(&id, guid.as_ref())) {
            Some(b) => b.clone(),
            None => {
                let n = (0u32..)
                    .find(|n| !bmcs.iter().any(|b| b.num == *n))
                    .ok_or(ENOSPC)?;
                let b = Bmc::new(n, id, guid)?;
                bmcs.push(b.clone(), GFP_KERNEL)?;
                dev_info!(
                    si_dev,
                    "Found new BMC (man_id: 0x{:06x}, prod_id: 0x{:04x}, dev_id: 0x{:02x})\n",
                    id.manufacturer_id,
                    id.product_id,
                    id.device_id
                );
                b
            }
        };
        let link = CString::try_from_fmt(fmt!("ipmi{num}"))?;
        // SAFETY: Both devices are live; the names are C strings valid for the call.
        kernel::error::to_result(unsafe {
            bindings::sysfs_create_link(
                &raw mut (*raw(si_dev)).kobj,
                &raw mut (*bmc.dev()).kobj,
                c"bmc".as_char_ptr(),
            )
        })?;
        // SAFETY: As above.
        let r = kernel::error::to_result(unsafe {
            bindings::sysfs_create_link(
                &raw mut (*bmc.dev()).kobj,
                &raw mut (*raw(si_dev)).kobj,
                link.as_char_ptr(),
            )
        });
        let member = Member {
            iface,
            si_dev: si_dev.into(),
            link,
        };
        let this = BmcLink {
            bmc: bmc.clone(),
            si_dev: si_dev.into(),
        };
        if let Err(e) = r {
            drop(bmcs);
            drop(this);
            return Err(e);
        }
        bmc.state.lock().members.push(member, GFP_KERNEL)?;
        Ok(this)
    }
}

impl Drop for BmcLink {
    fn drop(&mut self) {
        let mut bmcs = BMCS.lock();
        let si = raw(&self.si_dev);
        let last = {
            let mut s = self.bmc.state.lock();
            if let Some(i) = s.members.iter().position(|m| raw(&m.si_dev) == si) {
                if let Ok(m) = s.members.remove(i) {
                    // SAFETY: The BMC device is registered; the link was made by `register`.
                    unsafe {
                        bindings::sysfs_remove_link(
                            &raw mut (*self.bmc.dev()).kobj,
                            m.link.as_char_ptr(),
                        )
                    };
                }
            }
            s.members.is_empty()
        };
        // SAFETY: The SI device is live (we hold a reference); removing a missing link is a no-op.
        unsafe { bindings::sysfs_remove_link(&raw mut (*si).kobj, c"bmc".as_char_ptr()) };
        if last {
            bmcs.retain(|b| !Arc::ptr_eq(b, &self.bmc));
        }
    }
}

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
use crate::sysfs::{bmc_driver_registered, fmt_err, show_into};

extern "C" {
    fn ripmi_bmc_register(
        id: kernel::ffi::c_int,
        bmc: *mut kernel::ffi::c_void,
        bind: bool,
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
        match guid {
            Some(g) => s.guid.as_ref() == Some(g),
            // Whether or not this device has a GUID, as C.
            None => s.id.product_id == id.product_id && s.id.device_id == id.device_id,
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
        let pdev = unsafe { ripmi_bmc_register(num as i32, this.cast(), bmc_driver_registered()) }
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

    /// The identity, fetched again if it expired (C `__bmc_get_device_id()`). If the device
    /// ID, manufacturer, product or GUID changed, the interface the fetch went through moves to
    /// the BMC device of its new identity (registered if new) and [`Identity::Moved`] is
    /// returned; if other bytes changed, the channels are scanned again.
    fn identity(&self) -> Result<Identity> {
        let mut s = self.state.lock();
        if (Instant::<Monotonic>::now() - s.fetched).as_millis() < ID_EXPIRY_MS {
            return Ok(Identity::Known(s.id, s.guid));
        }
        let first = s.members.first().ok_or(ENOENT)?;
        let (iface, si_dev) = (first.iface.clone(), first.si_dev.clone());
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
            return Ok(Identity::Known(s.id, s.guid));
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
                drop(s);
                move_member(self, &si_dev, id, guid)?;
                return Ok(Identity::Moved);
            }
        }
        s.id = id;
        s.guid = guid;
        s.fetched = Instant::<Monotonic>::now();
        Ok(Identity::Known(s.id, s.guid))
    }

    /// Takes the interface of `si_dev` off this device and removes its links; `None` if it is
    /// not on it.
    fn take_member(&self, si_dev: &Device) -> Option<Member> {
        let mut s = self.state.lock();
        let i = s
            .members
            .iter()
            .position(|m| raw(&m.si_dev) == raw(si_dev))?;
        let m = s.members.remove(i).ok()?;
        // SAFETY: Both devices are live; the links were made by `attach`.
        unsafe {
            bindings::sysfs_remove_link(&raw mut (*self.dev()).kobj, m.link.as_char_ptr());
            bindings::sysfs_remove_link(&raw mut (*raw(si_dev)).kobj, c"bmc".as_char_ptr());
        }
        Some(m)
    }
}

/// What [`Bmc::identity`] found.
enum Identity {
    /// The identity, current or fetched just now.
    Known(DeviceId, Option<Guid>),
    /// It changed: the interface moved to another BMC device (C restarts on the next interface
    /// of the old device, or fails with `ENOENT` if none is left).
    Moved,
}

/// Moves the interface of `si_dev` from `old` to the BMC device for `id`/`guid` (C
/// `__ipmi_bmc_unregister()` then `__ipmi_bmc_register()`). The new device is found or made
/// before `old` goes, so a new one takes the next free number, as in C.
fn move_member(old: &Bmc, si_dev: &Device, id: DeviceId, guid: Option<Guid>) -> Result {
    let mut bmcs = BMCS.lock();
    let Some(m) = old.take_member(si_dev) else {
        // Moved by a concurrent read.
        return Ok(());
    };
    attach(&mut bmcs, m, id, guid)
}

/// Puts `m` on the BMC device for `id`/`guid` in `bmcs`: one with the same GUID (or, without a
/// GUID, the same product and device ID), else a new `ipmi_bmc.N` with the lowest free N. Makes
/// the links `<si_dev>/bmc` and `ipmi_bmc.N/ipmi<num>`.
fn attach(bmcs: &mut KVec<Arc<Bmc>>, m: Member, id: DeviceId, guid: Option<Guid>) -> Result {
    let bmc = match bmcs.iter().find(|b| b.matches(&id, guid.as_ref())) {
        Some(b) => b.clone(),
        None => {
            let n = (0u32..)
                .find(|n| !bmcs.iter().any(|b| b.num == *n))
                .ok_or(ENOSPC)?;
            let b = Bmc::new(n, id, guid)?;
            bmcs.push(b.clone(), GFP_KERNEL)?;
            dev_info!(
                m.si_dev,
                "Found new BMC (man_id: 0x{:06x}, prod_id: 0x{:04x}, dev_id: 0x{:02x})\n",
                id.manufacturer_id,
                id.product_id,
                id.device_id
            );
            b
        }
    };
    let si = raw(&m.si_dev);
    // SAFETY: Both devices are live; the names are C strings valid for the call.
    kernel::error::to_result(unsafe {
        bindings::sysfs_create_link(
            &raw mut (*si).kobj,
            &raw mut (*bmc.dev()).kobj,
            c"bmc".as_char_ptr(),
        )
    })?;
    // SAFETY: As above.
    let r = kernel::error::to_result(unsafe {
        bindings::sysfs_create_link(
            &raw mut (*bmc.dev()).kobj,
            &raw mut (*si).kobj,
            m.link.as_char_ptr(),
        )
    });
    if let Err(e) = r {
        // SAFETY: Made just above.
        unsafe { bindings::sysfs_remove_link(&raw mut (*si).kobj, c"bmc".as_char_ptr()) };
        drop_if_empty(bmcs, &bmc);
        return Err(e);
    }
    bmc.state.lock().members.push(m, GFP_KERNEL)?;
    Ok(())
}

/// Takes `bmc` out of `bmcs` if no interface is on it; the caller drops it (which unregisters
/// the device) once it holds no lock.
fn take_if_empty(bmcs: &mut KVec<Arc<Bmc>>, bmc: &Bmc) -> Option<Arc<Bmc>> {
    if !bmc.state.lock().members.is_empty() {
        return None;
    }
    let i = bmcs.iter().position(|b| core::ptr::eq(&**b, bmc))?;
    let gone = bmcs.remove(i).ok();
    if bmcs.is_empty() {
        // Free the buffer: the list is a static, never dropped, and the module may go next.
        *bmcs = KVec::new();
    }
    gone
}

/// Removes `bmc` from `bmcs`, and so unregisters it, if no interface is on it.
fn drop_if_empty(bmcs: &mut KVec<Arc<Bmc>>, bmc: &Bmc) {
    drop(take_if_empty(bmcs, bmc));
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
                ctx: Default::default(),
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

/// `show` of every BMC file: `idx` is the index in `ripmi_bmc_attrs[]`, `attr` the file.
///
/// # Safety
///
/// Called by the C `show` of a file of a registered `ipmi_bmc.N`, with its page.
#[no_mangle]
pub(crate) unsafe extern "C" fn ripmi_bmc_show(
    dev: *mut bindings::device,
    idx: kernel::ffi::c_uint,
    attr: *const kernel::ffi::c_void,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    let Some(attr_kind) = BmcAttr::from_index(idx) else {
        return EINVAL.to_errno() as isize;
    };
    loop {
        // SAFETY: `dev` is a registered BMC device (caller): its `Bmc` lives until the device
        // is unregistered, which waits for this read (unless broken below, after the last use).
        let bmc = unsafe { bmc_of(dev) };
        let (id, guid) = match bmc.identity() {
            Ok(Identity::Known(id, guid)) => (id, guid),
            Err(e) => return e.to_errno() as isize,
            Ok(Identity::Moved) => {
                // The old device: restart on its next interface, or remove it if none is left.
                let Some(gone) = take_if_empty(&mut BMCS.lock(), bmc) else {
                    continue;
                };
                // SAFETY: `dev` and `attr` are this read's device and file. Breaking the
                // protection lets the device go while this read runs; `gone` is its last
                // reference, and neither `bmc` nor `dev` is used after the drop.
                let kn = unsafe {
                    bindings::sysfs_break_active_protection(&raw mut (*dev).kobj, attr.cast())
                };
                drop(gone);
                if !kn.is_null() {
                    // SAFETY: `kn` came from the break just above.
                    unsafe { bindings::sysfs_unbreak_active_protection(kn) };
                }
                return ENOENT.to_errno() as isize;
            }
        };
        // SAFETY: `buf` is the `show` page (caller).
        return unsafe {
            show_into(buf, |w| {
                if attr_kind == BmcAttr::Guid && guid.is_none() {
                    return Err(ENOENT);
                }
                attr_kind.write(w, &id, guid.as_ref()).map_err(fmt_err)
            })
        };
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

/// One interface's place on a BMC device, with its two links; left on drop. The device it is
/// on may change (a new identity moves it), so it is looked up in the list each time.
pub(crate) struct BmcLink {
    si_dev: ARef<Device>,
}

impl BmcLink {
    /// Puts the interface `iface` of `si_dev`, number `num`, on the BMC device for `id`/`guid`
    /// (see [`attach`]).
    pub(crate) fn register(
        si_dev: &Device,
        iface: Arc<Interface>,
        num: u32,
        id: DeviceId,
        guid: Option<Guid>,
    ) -> Result<Self> {
        let m = Member {
            iface,
            si_dev: si_dev.into(),
            link: CString::try_from_fmt(fmt!("ipmi{num}"))?,
        };
        attach(&mut BMCS.lock(), m, id, guid)?;
        Ok(BmcLink {
            si_dev: si_dev.into(),
        })
    }
}

impl Drop for BmcLink {
    fn drop(&mut self) {
        let gone = {
            let mut bmcs = BMCS.lock();
            let Some(bmc) = bmcs
                .iter()
                .find(|b| b.take_member(&self.si_dev).is_some())
                .cloned()
            else {
                return;
            };
            take_if_empty(&mut bmcs, &bmc)
        };
        // Unregistered here, with no lock held.
        drop(gone);
    }
}

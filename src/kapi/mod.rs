// SPDX-License-Identifier: GPL-2.0

//! The in-kernel IPMI API of [`include/linux/ipmi.h`](srctree/include/linux/ipmi.h), the one
//! `ipmi_msghandler` exports, so that the kernel's `ipmi_devintf`, `ipmi_watchdog`,
//! `ipmi_poweroff` and `acpi_ipmi` run on ripmi. `src/c/api.c` exports the symbols and forwards
//! each to a `ripmi_kapi_*` function here. `Documentation/kernel-api.rst` describes it.
//!
//! A kernel user ([`KUser`]) is a handler [`User`] whose deliveries go to a C callback instead
//! of a file's queue: the user's hook queues a work item, which hands each message to
//! `ipmi_recv_hndl` as a `struct ipmi_recv_msg`, in process context, as 7.3's `smi_work()` does.
//! Interfaces are announced to `ipmi_smi_watcher`s as they are bound and unbound.
//!
//! C counterparts: the user-facing half of
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c).

use core::ffi::{c_int, c_uint, c_void};
use core::sync::atomic::{AtomicBool, Ordering};

use kernel::{
    alloc::Flags,
    bindings,
    device::Device,
    new_mutex, new_work,
    prelude::*,
    sync::{aref::ARef, Arc, ArcBorrow, Mutex},
    workqueue::{self, Work, WorkItem},
};

use crate::addr::{addr_length, Addr, IPMI_ADDR_SIZE, SYSTEM_INTERFACE_ADDR_LEN};
use crate::defs::IPMI_MAX_MSG_LENGTH;
use crate::handler::{KcsInterface as Interface, Request};
use crate::message::{ipmb_checksum, Msg};
use crate::pm;
use crate::user::{Hook, MsgCtx, RecvMsg, User};

pub(crate) mod abi;

use abi::{IpmiAddr, IpmiRecvMsg, IpmiSmiInfo, IpmiSmiWatcher, IpmiUserHndl, KernelIpmiMsg};
pub(crate) use abi::{SI_ACPI, SI_HARDCODED, SI_SMBIOS};

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init()` at module load, before any interface is bound or any
    // symbol of `src/c/api.c` can be called.
    unsafe(uninit) static SMIS: Mutex<KVec<Smi>> = KVec::new();
}

kernel::sync::global_lock! {
    // SAFETY: As above. Lock order: `WATCHERS`, then `SMIS`.
    unsafe(uninit) static WATCHERS: Mutex<KVec<WatcherPtr>> = KVec::new();
}

/// The API's module-wide state: initialised at load, emptied at unload (after the driver, so
/// after every interface was withdrawn), so the lists' memory does not outlive the module.
pub(crate) struct Api;

impl Api {
    /// Initialises the API's locks; called once, at module load.
    pub(crate) fn init() -> Self {
        // SAFETY: Called once, at load, before anything uses the locks.
        unsafe {
            SMIS.init();
            WATCHERS.init();
        }
        Api
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        drop(core::mem::take(&mut *SMIS.lock()));
        drop(core::mem::take(&mut *WATCHERS.lock()));
    }
}

/// The queue kernel users' deliveries run on: `system_percpu_wq`, as C's `smi_work`.
fn delivery_queue() -> &'static workqueue::Queue {
    // SAFETY: `system_percpu_wq` is a C global, set up before any module loads and never freed.
    unsafe { workqueue::Queue::from_raw(bindings::system_percpu_wq) }
}

/// A registered `struct ipmi_smi_watcher`.
#[derive(Clone, Copy)]
struct WatcherPtr(*const IpmiSmiWatcher);
// SAFETY: A watcher is a static structure of its module, valid until unregistered; its
// callbacks may be called from any thread.
unsafe impl Send for WatcherPtr {}

impl WatcherPtr {
    fn new_smi(self, num: u32, dev: &Device) {
        // SAFETY: The watcher is registered, so valid (see `WatcherPtr`).
        if let Some(f) = unsafe { (*self.0).new_smi } {
            // SAFETY: As C calls it: the interface number and its device, which stays valid for
            // the call (the watcher takes its own reference if it keeps it).
            unsafe { f(num as i32, pm::raw(dev)) };
        }
    }

    fn smi_gone(self, num: u32) {
        // SAFETY: As above.
        if let Some(f) = unsafe { (*self.0).smi_gone } {
            // SAFETY: As C calls it.
            unsafe { f(num as i32) };
        }
    }
}

/// How an interface was found, for `ipmi_get_smi_info()`.
#[derive(Clone, Copy)]
pub(crate) struct SmiInfo {
    /// `enum ipmi_addr_src`: [`SI_ACPI`], [`SI_SMBIOS`] or [`SI_HARDCODED`].
    pub(crate) addr_src: u32,
    /// The ACPI handle of an ACPI-found interface, else null.
    pub(crate) acpi_handle: usize,
}

/// Calls the `ipmi_panic_handler` of each kernel user of `iface` (C `panic_event()`, between
/// entering run-to-completion mode and sending the panic events; `ipmi_watchdog`'s sets a long
/// timeout). In panic context: the list's lock is only tried (a CPU stopped holding it leaves
/// the handlers uncalled).
pub(crate) fn panic_handlers(iface: &Arc<Interface>) {
    let Some(smis) = SMIS.try_lock() else {
        return;
    };
    for smi in smis.iter().filter(|s| Arc::ptr_eq(&s.iface, iface)) {
        for k in smi.users.iter() {
            if k.destroyed.load(Ordering::Acquire) {
                continue;
            }
            // SAFETY: `hndl` is valid while the user exists (see `KUser`'s `Send`).
            if let Some(f) = unsafe { (*k.hndl).ipmi_panic_handler } {
                // SAFETY: As C calls it, with the user's handler data.
                unsafe { f(k.handler_data) };
            }
        }
    }
}

/// A bound interface, as the API sees it (C `struct ipmi_smi`).
struct Smi {
    num: u32,
    iface: Arc<Interface>,
    dev: ARef<Device>,
    info: SmiInfo,
    /// The IPMI version byte of Get Device ID (major in the low nibble).
    ipmi_version: u8,
    /// Its kernel users, destroyed when it goes.
    users: KVec<Arc<KUser>>,
}

extern "C" {
    /// `request_module_nowait("acpi_ipmi")` (`src/c/api.c`).
    fn ripmi_request_acpi_ipmi();
}

/// An interface offered through the API; withdrawn (watchers told, users destroyed) on drop.
pub(crate) struct Registration {
    num: u32,
}

impl Registration {
    /// Offers interface `num` (the N of `ipmiN`) and tells every watcher (C the second half of
    /// `ipmi_add_smi()`); for an interface ACPI describes, asks for `acpi_ipmi` to be loaded, as
    /// `ipmi_si_platform.c` does.
    pub(crate) fn new(
        num: u32,
        iface: Arc<Interface>,
        dev: &Device,
        info: SmiInfo,
        ipmi_version: u8,
    ) -> Result<Self> {
        let watchers = WATCHERS.lock();
        SMIS.lock().push(
            Smi {
                num,
                iface,
                dev: dev.into(),
                info,
                ipmi_version,
                users: KVec::new(),
            },
            GFP_KERNEL,
        )?;
        for w in watchers.iter() {
            w.new_smi(num, dev);
        }
        drop(watchers);
        if info.addr_src == SI_ACPI {
            // SAFETY: No precondition; the request runs asynchronously.
            unsafe { ripmi_request_acpi_ipmi() };
        }
        Ok(Registration { num })
    }
}

impl Drop for Registration {
    /// C `ipmi_unregister_smi()`: the interface leaves the list (no new user finds it), the
    /// watchers are told, then its remaining kernel users are destroyed (their `shutdown`
    /// called); their handles stay valid and every call on them fails with `ENODEV`.
    fn drop(&mut self) {
        let smi = {
            let watchers = WATCHERS.lock();
            let smi = {
                let mut smis = SMIS.lock();
                let pos = smis.iter().position(|s| s.num == self.num);
                pos.and_then(|p| smis.remove(p).ok())
            };
            for w in watchers.iter() {
                w.smi_gone(self.num);
            }
            smi
        };
        if let Some(smi) = smi {
            for u in smi.users.iter() {
                u.destroy();
            }
        }
    }
}

/// An in-kernel user (C `struct ipmi_user` of a kernel module).
#[pin_data]
pub(crate) struct KUser {
    iface: Arc<Interface>,
    user: Arc<User>,
    num: u32,
    hndl: *const IpmiUserHndl,
    handler_data: *mut c_void,
    /// Set when the user is destroyed.
    destroyed: AtomicBool,
    /// Held while messages are handed to the handler, so that none is handed over once
    /// `ipmi_destroy_user()` returned (C `user_msgs_mutex`).
    #[pin]
    delivering: Mutex<()>,
    #[pin]
    work: Work<KUser>,
}

// SAFETY: `hndl` points to the consumer's handler table, valid and unchanged while the user
// exists, and `handler_data` is only passed back to it; both may be used from any thread, as
// C does.
unsafe impl Send for KUser {}
// SAFETY: As above.
unsafe impl Sync for KUser {}

kernel::impl_has_work! {
    impl HasWork<Self> for KUser { self.work }
}

impl WorkItem for KUser {
    type Pointer = Arc<KUser>;

    fn run(this: Arc<KUser>) {
        this.deliver();
    }
}

/// The hook of a kernel user: queues its delivery work.
fn notify(arg: usize) {
    // SAFETY: `arg` is the address of a `KUser` inside an `Arc` (set by `ripmi_kapi_create_user`);
    // the hook is cleared, under the lock it is called with, before that user's references can
    // go (`KUser::destroy` runs before the last reference is dropped).
    let k = unsafe { ArcBorrow::from_raw(arg as *const KUser) };
    // Already queued: that run will take this message too.
    let _ = delivery_queue().enqueue(Arc::<KUser>::from(k));
}

impl KUser {
    /// Hands the queued messages to the handler (C `smi_work()`'s delivery loop).
    fn deliver(self: &Arc<Self>) {
        let guard = self.delivering.lock();
        self.deliver_locked(guard, GFP_KERNEL);
    }

    /// [`KUser::deliver`] for a caller that may not sleep (`ipmi_poll_interface()` at power-off,
    /// IRQs off): if a delivery runs elsewhere, that one takes the messages.
    fn deliver_now(self: &Arc<Self>) {
        if let Some(guard) = self.delivering.try_lock() {
            self.deliver_locked(guard, GFP_ATOMIC);
        }
    }

    /// The delivery loop, under `delivering` (`guard`); `flags` for the messages it allocates.
    fn deliver_locked(self: &Arc<Self>, guard: kernel::sync::MutexGuard<'_, ()>, flags: Flags) {
        let mut took = false;
        while let Some(m) = self.user.pop() {
            took = true;
            if self.destroyed.load(Ordering::Acquire) {
                self.user.consumed();
                continue;
            }
            let supplied = m.ctx.supplied_recv != 0;
            let Some(msg) = self.to_c(m, flags) else {
                self.user.consumed();
                continue;
            };
            // A caller's own message holds no reference to the user, and its slot is given back
            // now: callers may never free it (`ipmi_poweroff` does not).
            if supplied {
                self.user.consumed();
            }
            // SAFETY: `hndl` is valid while the user exists (see `Send`); a user is created
            // only with a receive handler.
            if let Some(f) = unsafe { (*self.hndl).ipmi_recv_hndl } {
                // SAFETY: `msg` is a complete `struct ipmi_recv_msg` now owned by the handler,
                // which gives it back with `ipmi_free_recv_msg()`.
                unsafe { f(msg, self.handler_data) };
            }
        }
        // Then a watchdog pre-timeout, as C's `smi_work()` does after the messages.
        if self.user.take_pretimeout() && !self.destroyed.load(Ordering::Acquire) {
            // SAFETY: `hndl` is valid while the user exists (see `Send`).
            if let Some(f) = unsafe { (*self.hndl).ipmi_watchdog_pretimeout } {
                // SAFETY: As C calls it, with the user's handler data.
                unsafe { f(self.handler_data) };
            }
        }
        drop(guard);
        if took {
            self.iface.user_took_msg(&self.user);
        }
    }

    /// Builds the `struct ipmi_recv_msg` of `m`: the one the caller supplied with the request,
    /// or a new one. It holds a reference to the user, given back with the message.
    fn to_c(self: &Arc<Self>, m: KBox<RecvMsg>, flags: Flags) -> Option<*mut IpmiRecvMsg> {
        let p = if m.ctx.supplied_recv != 0 {
            m.ctx.supplied_recv as *mut IpmiRecvMsg
        } else {
            let b = KBox::new(
                IpmiRecvMsg {
                    link: [0; 2],
                    recv_type: 0,
                    user: core::ptr::null_mut(),
                    addr: [0; IPMI_ADDR_SIZE],
                    msgid: 0,
                    msg: KernelIpmiMsg {
                        netfn: 0,
                        cmd: 0,
                        data_len: 0,
                        data: core::ptr::null_mut(),
                    },
                    user_msg_data: core::ptr::null_mut(),
                    done: Some(free_own_msg),
                    msg_data: [0; IPMI_MAX_MSG_LENGTH],
                },
                flags,
            )
            .ok()?;
            KBox::into_raw(b)
        };
        // SAFETY: `p` is either ours, just allocated, or the caller's supplied message, which
        // C lets the handler fill in: valid, and not used by anyone else until handed over.
        let r = unsafe { &mut *p };
        r.recv_type = m.recv_type;
        // Ripmi's own message holds a reference to the user until `ipmi_free_recv_msg()`; a
        // supplied one only names it (C takes a reference for both, and `ipmi_poweroff`, which
        // never frees its supplied message, leaks one per request there).
        r.user = if m.ctx.supplied_recv != 0 {
            Arc::as_ptr(self)
        } else {
            Arc::into_raw(self.clone())
        }
        .cast_mut()
        .cast();
        r.addr = m.addr;
        r.msgid = m.msgid as isize;
        r.msg_data[..m.data_len].copy_from_slice(m.data());
        r.msg = KernelIpmiMsg {
            netfn: m.netfn,
            cmd: m.cmd,
            data_len: m.data_len as u16,
            data: r.msg_data.as_mut_ptr(),
        };
        r.user_msg_data = m.ctx.user_msg_data as *mut c_void;
        if m.ctx.supplied_smi != 0 {
            // The supplied SMI message's life ends with its answer handed over.
            let smi = m.ctx.supplied_smi as *mut u8;
            // SAFETY: A supplied `struct ipmi_smi_msg` stays valid until its `done` is called;
            // `done` is at this offset (checked by `src/c/api.c`).
            let done = unsafe {
                *smi.add(abi::SMI_MSG_DONE_OFFSET)
                    .cast::<Option<unsafe extern "C" fn(*mut c_void)>>()
            };
            if let Some(done) = done {
                // SAFETY: As C calls it, once.
                unsafe { done(smi.cast()) };
            }
        }
        Some(p)
    }

    /// Destroys the user (C `_ipmi_destroy_user()`), once: calls its `shutdown`, then drops
    /// its receivers, requests and queued messages. Afterwards nothing is handed to it.
    fn destroy(&self) {
        if self.destroyed.swap(true, Ordering::AcqRel) {
            return;
        }
        // A delivery under way ends before this goes on; later ones hand nothing over.
        drop(self.delivering.lock());
        // SAFETY: As in `deliver`.
        if let Some(f) = unsafe { (*self.hndl).shutdown } {
            // SAFETY: As C calls it.
            unsafe { f(self.handler_data) };
        }
        self.user.set_hook(None);
        // SAFETY: The work is a field of this pinned, live user; a run already started ends
        // (handing nothing over, see `deliver`) before this returns.
        unsafe { bindings::flush_work(Work::raw_get(&self.work)) };
        self.iface.destroy_user(&self.user);
        let mut smis = SMIS.lock();
        if let Some(s) = smis.iter_mut().find(|s| s.num == self.num) {
            s.users
                .retain(|u| !core::ptr::eq(Arc::as_ptr(u), core::ptr::from_ref(self)));
        }
    }
}

/// The `done` of the messages ripmi allocates.
///
/// # Safety
///
/// `msg` was allocated by [`KUser::to_c`] and is not used afterwards.
unsafe extern "C" fn free_own_msg(msg: *mut IpmiRecvMsg) {
    // SAFETY: `msg` was allocated by `KUser::to_c` with `KBox` and is given back once.
    drop(unsafe { KBox::from_raw(msg) });
}

/// Borrows the user behind a `struct ipmi_user *`.
///
/// # Safety
///
/// `user` came from `ripmi_kapi_create_user` and `ipmi_destroy_user` has not returned for it
/// (or a message holding a reference to it has not been freed).
unsafe fn kuser<'a>(user: *mut c_void) -> ArcBorrow<'a, KUser> {
    // SAFETY: The caller's promise: `user` is `Arc::into_raw` of a live `KUser`.
    unsafe { ArcBorrow::from_raw(user.cast::<KUser>()) }
}

/// The errno of `r`, as C returns it.
fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Reads an address a kernel caller passed: as many bytes as its type has (C reads no more;
/// callers pass the smaller address structures cast), at most `len`.
///
/// # Safety
///
/// `addr` is valid for reads of `min(len, the type's size)` bytes, and of 8 if `len` is 8 or
/// more.
unsafe fn read_addr(addr: *const u8, len: usize) -> Result<Addr> {
    if len < SYSTEM_INTERFACE_ADDR_LEN {
        return Err(EINVAL);
    }
    let mut buf: IpmiAddr = [0; IPMI_ADDR_SIZE];
    // SAFETY: 8 bytes are readable (caller).
    unsafe { core::ptr::copy_nonoverlapping(addr, buf.as_mut_ptr(), SYSTEM_INTERFACE_ADDR_LEN) };
    let addr_type = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let n = len
        .min(addr_length(addr_type).max(SYSTEM_INTERFACE_ADDR_LEN))
        .min(IPMI_ADDR_SIZE);
    // SAFETY: `n` bytes are readable (caller).
    unsafe { core::ptr::copy_nonoverlapping(addr, buf.as_mut_ptr(), n) };
    Ok(Addr::from_user(&buf[..n])?)
}

/// # Safety
///
/// `watcher` is a valid watcher that stays valid until it is unregistered.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_smi_watcher_register(watcher: *const IpmiSmiWatcher) -> c_int {
    let mut watchers = WATCHERS.lock();
    if watchers.push(WatcherPtr(watcher), GFP_KERNEL).is_err() {
        return ENOMEM.to_errno();
    }
    let w = WatcherPtr(watcher);
    // C calls `new_smi` with the interface list read-locked only: the watcher may create users
    // (which takes `SMIS`), so the interfaces are collected first.
    let smis = SMIS.lock();
    let known: KVec<(u32, ARef<Device>)> = {
        let mut v = KVec::new();
        for s in smis.iter() {
            if v.push((s.num, s.dev.clone()), GFP_KERNEL).is_err() {
                break;
            }
        }
        v
    };
    drop(smis);
    for (num, dev) in known.iter() {
        w.new_smi(*num, dev);
    }
    0
}

#[no_mangle]
extern "C" fn ripmi_kapi_smi_watcher_unregister(watcher: *const IpmiSmiWatcher) -> c_int {
    WATCHERS.lock().retain(|w| !core::ptr::eq(w.0, watcher));
    0
}

/// # Safety
///
/// `addr` is valid for reads of `len` bytes (or of its type's size, if smaller).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_validate_addr(addr: *const u8, len: c_int) -> c_int {
    let len = usize::try_from(len).unwrap_or(0);
    // SAFETY: The caller's promise.
    match unsafe { read_addr(addr, len) } {
        Ok(_) => 0,
        Err(e) => e.to_errno(),
    }
}

#[no_mangle]
extern "C" fn ripmi_kapi_addr_length(addr_type: c_int) -> c_uint {
    addr_length(addr_type) as c_uint
}

/// # Safety
///
/// `handler` is null or a handler table valid while the user exists; `user` is valid for a
/// write.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_create_user(
    if_num: c_uint,
    handler: *const IpmiUserHndl,
    handler_data: *mut c_void,
    user: *mut *mut c_void,
) -> c_int {
    if handler.is_null() {
        return EINVAL.to_errno();
    }
    let mut smis = SMIS.lock();
    let Some(smi) = smis.iter_mut().find(|s| s.num == if_num) else {
        return EINVAL.to_errno();
    };
    let r = (|| -> Result<Arc<KUser>> {
        smi.users.reserve(1, GFP_KERNEL)?;
        let iface = smi.iface.clone();
        let u = iface.create_user()?;
        let (i2, u2) = (iface.clone(), u.clone());
        let k = Arc::pin_init(
            pin_init!(KUser {
                iface: i2,
                user: u2,
                num: if_num,
                hndl: handler,
                handler_data,
                destroyed: AtomicBool::new(false),
                delivering <- new_mutex!((), "KUser::delivering"),
                work <- new_work!("KUser::work"),
            }),
            GFP_KERNEL,
        )
        .inspect_err(|_| iface.destroy_user(&u))?;
        u.set_hook(Some(Hook {
            func: notify,
            arg: Arc::as_ptr(&k) as usize,
        }));
        smi.users.push(k.clone(), GFP_KERNEL)?;
        Ok(k)
    })();
    match r {
        Ok(k) => {
            // SAFETY: `user` is valid for a write (caller).
            unsafe { *user = Arc::into_raw(k).cast_mut().cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `data` is valid for a write.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_get_smi_info(if_num: c_int, data: *mut IpmiSmiInfo) -> c_int {
    let smis = SMIS.lock();
    let Some(smi) = smis.iter().find(|s| i64::from(s.num) == i64::from(if_num)) else {
        return EINVAL.to_errno();
    };
    // The caller puts the device: take a reference for it.
    let dev: ARef<Device> = smi.dev.clone();
    // SAFETY: `data` is valid for a write (caller); the reference taken is handed over.
    unsafe {
        (*data).addr_src = smi.info.addr_src;
        (*data).dev = ARef::into_raw(dev).as_ptr().cast();
        (*data).acpi_handle = smi.info.acpi_handle as *mut c_void;
    }
    0
}

/// # Safety
///
/// `user` came from `ripmi_kapi_create_user` and is destroyed once.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_destroy_user(user: *mut c_void) {
    // SAFETY: This takes back the creator's reference (caller).
    let k = unsafe { Arc::<KUser>::from_raw(user.cast::<KUser>()) };
    k.destroy();
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]); `major` and `minor` are valid for writes.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_get_version(
    user: *mut c_void,
    major: *mut u8,
    minor: *mut u8,
) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    if k.user.is_gone() {
        return ENODEV.to_errno();
    }
    let smis = SMIS.lock();
    let Some(smi) = smis.iter().find(|s| s.num == k.num) else {
        return ENODEV.to_errno();
    };
    // SAFETY: Valid for writes (caller).
    unsafe {
        *major = smi.ipmi_version & 0xf;
        *minor = smi.ipmi_version >> 4;
    }
    0
}

/// The interface of a live user, or `ENODEV` once it is gone (C `acquire_ipmi_user()`).
fn live(k: &KUser) -> Result<&Interface> {
    if k.user.is_gone() || k.destroyed.load(Ordering::Acquire) {
        return Err(ENODEV);
    }
    Ok(&k.iface)
}

/// The message `msg` points at (`struct kernel_ipmi_msg`); `EMSGSIZE` past
/// `IPMI_MAX_MSG_LENGTH` data bytes.
///
/// # Safety
///
/// `msg` is valid for reads, and its `data` for `data_len` bytes unless null.
unsafe fn read_msg<'a>(msg: *const KernelIpmiMsg) -> Result<Msg<'a>> {
    // SAFETY: `msg` is valid for reads (caller).
    let (netfn, cmd, len, data) =
        unsafe { ((*msg).netfn, (*msg).cmd, (*msg).data_len, (*msg).data) };
    let len = usize::from(len);
    if len > IPMI_MAX_MSG_LENGTH {
        return Err(EMSGSIZE);
    }
    let data: &[u8] = if data.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: `data` is valid for `len` bytes (caller).
        unsafe { core::slice::from_raw_parts(data, len) }
    };
    Ok(Msg { netfn, cmd, data })
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_set_my_address(user: *mut c_void, chan: c_uint, v: u8) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).and_then(|i| i.set_my_addrinfo(chan, |a| a.address = v)))
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]); `v` is valid for a write.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_get_my_address(
    user: *mut c_void,
    chan: c_uint,
    v: *mut u8,
) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    match live(&k).and_then(|i| i.my_addrinfo(chan)) {
        Ok(a) => {
            // SAFETY: Valid for a write (caller).
            unsafe { *v = a.address };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_set_my_lun(user: *mut c_void, chan: c_uint, v: u8) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).and_then(|i| i.set_my_addrinfo(chan, |a| a.set_lun(v))))
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]); `v` is valid for a write.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_get_my_lun(user: *mut c_void, chan: c_uint, v: *mut u8) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    match live(&k).and_then(|i| i.my_addrinfo(chan)) {
        Ok(a) => {
            // SAFETY: Valid for a write (caller).
            unsafe { *v = a.lun() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_get_maintenance_mode(user: *mut c_void) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    match live(&k) {
        Ok(i) => i.maintenance_mode(),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_set_maintenance_mode(user: *mut c_void, mode: c_int) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).and_then(|i| i.set_maintenance_mode(mode)))
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_set_gets_events(user: *mut c_void, val: bool) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).map(|i| i.set_gets_events(&k.user, val)))
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_register_for_cmd(
    user: *mut c_void,
    netfn: u8,
    cmd: u8,
    chans: c_uint,
) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).and_then(|i| i.receivers().register(&k.user, netfn, cmd, chans)))
}

/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_unregister_for_cmd(
    user: *mut c_void,
    netfn: u8,
    cmd: u8,
    chans: c_uint,
) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    errno(live(&k).and_then(|i| i.receivers().unregister(&k.user, netfn, cmd, chans)))
}

/// # Safety
///
/// `data` is valid for reads of `size` bytes.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_ipmb_checksum(data: *const u8, size: c_int) -> u8 {
    let n = usize::try_from(size).unwrap_or(0);
    if n == 0 {
        return 0;
    }
    // SAFETY: The caller's promise.
    ipmb_checksum(unsafe { core::slice::from_raw_parts(data, n) })
}

/// `ipmi_request_settime()` and `ipmi_request_supply_msgs()` (C `i_ipmi_request()`).
/// `priority` is not used: ripmi sends in order.
///
/// # Safety
///
/// `user` is a live user (see [`kuser`]); `addr` and `msg` are valid for reads (the address
/// as large as its type), `msg->data` for `msg->data_len` bytes; supplied messages stay valid
/// until their `done` is called.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_request(
    user: *mut c_void,
    addr: *const u8,
    msgid: isize,
    msg: *const KernelIpmiMsg,
    user_msg_data: *mut c_void,
    supplied_smi: *mut c_void,
    supplied_recv: *mut IpmiRecvMsg,
    _priority: c_int,
    max_retries: c_int,
    retry_time_ms: c_uint,
) -> c_int {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    let r = (|| -> Result {
        let iface = live(&k)?;
        // SAFETY: The caller's promise: a full `struct ipmi_addr` or its type's structure.
        let addr = unsafe { read_addr(addr, IPMI_ADDR_SIZE) }?;
        // SAFETY: The caller's promise.
        let Msg { netfn, cmd, data } = unsafe { read_msg(msg) }?;
        iface.send(
            &k.user,
            &Request {
                addr,
                msgid: msgid as i64,
                netfn,
                cmd,
                data,
                retries: max_retries,
                retry_ms: retry_time_ms,
                ctx: MsgCtx {
                    user_msg_data: user_msg_data as usize,
                    supplied_recv: supplied_recv as usize,
                    supplied_smi: supplied_smi as usize,
                },
            },
        )
    })();
    errno(r)
}

/// Runs the interface and hands the user's queued messages over now (C `ipmi_poll()`):
/// `ipmi_poweroff` spins on it at power-off, where the IRQs are off, the other CPUs stopped and
/// no interrupt, timer or work item runs. Never sleeps.
///
/// # Safety
///
/// `user` is a live user (see [`kuser`]).
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_poll_interface(user: *mut c_void) {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    let k: Arc<KUser> = k.into();
    if let Ok(iface) = live(&k) {
        iface.poll();
    }
    k.deliver_now();
}

/// # Safety
///
/// `msg` is a message handed to a receive handler (or supplied by its caller), freed once.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_free_recv_msg(msg: *mut IpmiRecvMsg) {
    // SAFETY: `msg` is valid (caller).
    let (user, done) = unsafe { ((*msg).user, (*msg).done) };
    // Only ripmi's own messages (freed by `free_own_msg`) hold a reference to their user; a
    // supplied one gave its slot back when it was handed over (`KUser::deliver_locked`).
    // (One crate, one codegen unit: `free_own_msg` has one address; a supplied message's `done`
    // is its caller's C function.)
    let own = done.is_some_and(|d| {
        core::ptr::fn_addr_eq(d, free_own_msg as unsafe extern "C" fn(*mut IpmiRecvMsg))
    });
    if own && !user.is_null() {
        // SAFETY: The message holds a reference to its user (`KUser::to_c`); this gives it back.
        let k = unsafe { Arc::<KUser>::from_raw(user.cast::<KUser>()) };
        k.user.consumed();
    }
    // SAFETY: `msg` is valid (caller); `done` frees it, as C does.
    if let Some(done) = unsafe { (*msg).done } {
        // SAFETY: As C calls it.
        unsafe { done(msg) };
    }
}

/// Sends `msg` to `addr` and polls for the answer, in panic context (C
/// `ipmi_panic_request_and_wait()`; `ipmi_watchdog`'s panic handler sets a long timeout with
/// it). ripmi serves it only after its own panic notifier ran (priority 200, before
/// `ipmi_watchdog`'s 150), whose run-to-completion mode stops the interface's normal operation
/// for good: outside a panic it sends nothing.
///
/// # Safety
///
/// `user` is a live user (see [`kuser`]); `addr` and `msg` are valid for reads, as for
/// `ipmi_request_settime()`.
#[no_mangle]
unsafe extern "C" fn ripmi_kapi_panic_request_and_wait(
    user: *mut c_void,
    addr: *const u8,
    msg: *const KernelIpmiMsg,
) {
    // SAFETY: The caller's promise.
    let k = unsafe { kuser(user) };
    let Ok(iface) = live(&k) else {
        return;
    };
    // SAFETY: The caller's promise: a full `struct ipmi_addr` or its type's structure.
    let Ok(addr) = (unsafe { read_addr(addr, IPMI_ADDR_SIZE) }) else {
        return;
    };
    // SAFETY: The caller's promise.
    if let Ok(m) = unsafe { read_msg(msg) } {
        iface.panic_request(&addr, &m);
    }
}

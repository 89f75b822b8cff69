// SPDX-License-Identifier: GPL-2.0

//! `/dev/ipmiN`: the misc device and its file operations, with the ioctl ABI of
//! [`ipmi_devintf.c`](srctree/drivers/char/ipmi/ipmi_devintf.c).
//!
//! The kernel crate's `MiscDevice` has no `poll` or `fasync`, which ipmitool needs, so the
//! `file_operations` table is built here as Rust Binder does: thin `extern "C"` trampolines that
//! call safe [`DevFile`] methods. Each open file is one [`User`]. Every user structure is read
//! from user memory exactly once and validated after the copy; errors map to the same errno as
//! the C driver on every path.

use kernel::{
    bindings,
    fs::File,
    prelude::*,
    str::CString,
    sync::{new_mutex, poll::PollTable, Arc, Mutex},
    types::{ForeignOwnable, Opaque},
    uaccess::{UserPtr, UserSlice},
};

use crate::addr::{check_addr_len, Addr, IPMI_ADDR_SIZE};
use crate::defs::{IPMI_CHAN_ALL, IPMI_MAX_MSG_LENGTH};
use crate::handler::{KcsInterface as Interface, Request};
use crate::uapi::*;
use crate::user::{TimingParms, User};
use kernel::transmute::{AsBytes, FromBytes};

/// Makes a C operations table usable as a `static`.
#[repr(transparent)]
struct AssertSync<T>(T);
// SAFETY: Only used for the read-only `file_operations` table below.
unsafe impl<T> Sync for AssertSync<T> {}

/// The operations of every `/dev/ipmiN`. Static, because open files keep pointing at it after
/// their device is gone; `owner` pins the module while any file is open.
static FOPS: AssertSync<bindings::file_operations> = AssertSync(bindings::file_operations {
    owner: kernel::module::this_module::<crate::LocalModule>().as_ptr(),
    open: Some(ripmi_open),
    release: Some(ripmi_release),
    unlocked_ioctl: Some(ripmi_ioctl),
    compat_ioctl: Some(ripmi_compat_ioctl),
    poll: Some(ripmi_poll),
    fasync: Some(ripmi_fasync),
    llseek: Some(bindings::noop_llseek),
    ..pin_init::zeroed()
});

/// A registered `/dev/ipmiN` for one interface; deregistered on drop.
///
/// # Invariants
///
/// Once `registered` is set, `misc` is registered with `misc_register` until this value is
/// dropped; its `name` points into `name`.
#[pin_data(PinnedDrop)]
pub(crate) struct MiscDev {
    #[pin]
    misc: Opaque<bindings::miscdevice>,
    name: CString,
    iface: Arc<Interface>,
    /// Whether `misc_register` succeeded: a failed registration must not be deregistered.
    registered: bool,
}

// SAFETY: The misc device is only touched by the kernel's misc layer, which is thread-safe.
unsafe impl Send for MiscDev {}
// SAFETY: As above.
unsafe impl Sync for MiscDev {}

impl MiscDev {
    /// Registers `/dev/ipmi<num>` (mode 0600) for `iface`.
    pub(crate) fn register(iface: Arc<Interface>, num: u32) -> Result<Pin<KBox<Self>>> {
        let name = CString::try_from_fmt(fmt!("ipmi{num}"))?;
        KBox::try_pin_init(
            try_pin_init!(MiscDev {
                name,
                iface,
                registered: false,
                // SAFETY: `slot` is valid for writes; the name outlives the registration (it is a
                // field of the same pinned value, dropped after `misc` is deregistered).
                misc <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| unsafe {
                    slot.write(bindings::miscdevice {
                        minor: bindings::MISC_DYNAMIC_MINOR as i32,
                        name: name_ptr_placeholder(),
                        fops: &FOPS.0,
                        mode: 0o600,
                        ..pin_init::zeroed()
                    });
                    Ok::<(), Error>(())
                }),
            })
            .pin_chain(|this| {
                // SAFETY: `this` is pinned; `name` lives as long as `misc`.
                kernel::error::to_result(unsafe {
                    let misc = this.misc.get();
                    (*misc).name = this.name.as_char_ptr();
                    bindings::misc_register(misc)
                })?;
                // SAFETY: Only a plain field is written; nothing is moved out of the pinned value.
                // INVARIANT: `misc` was just registered.
                unsafe { this.get_unchecked_mut() }.registered = true;
                Ok(())
            }),
            GFP_KERNEL,
        )
    }

    /// The device name (`ipmiN`).
    pub(crate) fn name(&self) -> &CStr {
        &self.name
    }

    /// The misc device's `struct device` (its devt is the node's), valid while this value is.
    pub(crate) fn device(&self) -> *mut bindings::device {
        // SAFETY: `misc` is registered (type invariants), so `this_device` is set.
        unsafe { (*self.misc.get()).this_device }
    }
}

/// A null name, replaced by the real one before `misc_register`.
fn name_ptr_placeholder() -> *const kernel::ffi::c_char {
    core::ptr::null()
}

#[pinned_drop]
impl PinnedDrop for MiscDev {
    fn drop(self: Pin<&mut Self>) {
        if !self.registered {
            return;
        }
        // SAFETY: `misc` is registered (type invariants).
        unsafe { bindings::misc_deregister(self.misc.get()) };
    }
}

/// The state of one open file.
#[pin_data]
pub(crate) struct DevFile {
    iface: Arc<Interface>,
    user: Arc<User>,
    /// Serialises receivers, so a message put back after a failed copy keeps its place
    /// (C `recv_mutex`).
    #[pin]
    recv_mutex: Mutex<()>,
}

/// A `SEND_COMMAND` argument, native or compat, widened.
struct SendReq {
    addr: u64,
    addr_len: u32,
    msgid: i64,
    netfn: u8,
    cmd: u8,
    data_len: u16,
    data: u64,
}

/// A `RECEIVE_MSG` argument, native or compat, widened.
struct RecvReq {
    addr: u64,
    addr_len: u32,
    data: u64,
    data_len: u16,
}

/// What `RECEIVE_MSG` writes back.
struct RecvOut {
    recv_type: i32,
    addr_len: u32,
    msgid: i64,
    netfn: u8,
    cmd: u8,
    data_len: u16,
}

/// Reads a `T` from user address `arg`.
fn read_user<T: FromBytes>(arg: usize) -> Result<T> {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .reader()
        .read::<T>()
}

/// Writes `val` to user address `arg`.
fn write_user<T: AsBytes>(arg: usize, val: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), core::mem::size_of::<T>())
        .writer()
        .write(val)
}

impl DevFile {
    /// Opens a file: creates its user (C `ipmi_open()`).
    fn open(iface: &Arc<Interface>) -> Result<Pin<KBox<Self>>> {
        let user = iface.create_user()?;
        KBox::pin_init(
            pin_init!(DevFile {
                iface: iface.clone(),
                user,
                recv_mutex <- new_mutex!((), "DevFile::recv_mutex"),
            }),
            GFP_KERNEL,
        )
    }

    /// Closes a file: destroys its user and everything it registered (C `ipmi_release()`).
    fn release(&self) {
        self.iface.destroy_user(&self.user);
    }

    /// The native ioctls (C `ipmi_ioctl()`).
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<i32> {
        match cmd {
            IPMICTL_SEND_COMMAND => {
                let req: IpmiReq = read_user(arg)?;
                let t = self.user.timing();
                self.send(SendReq::native(&req), t.retries, t.retry_time_ms)
            }
            IPMICTL_SEND_COMMAND_SETTIME => {
                let req: IpmiReqSettime = read_user(arg)?;
                self.send(SendReq::native(&req.req), req.retries, req.retry_time_ms)
            }
            IPMICTL_RECEIVE_MSG | IPMICTL_RECEIVE_MSG_TRUNC => {
                let mut rsp: IpmiRecv = read_user(arg)?;
                let req = RecvReq {
                    addr: rsp.addr,
                    addr_len: rsp.addr_len,
                    data: rsp.msg.data,
                    data_len: rsp.msg.data_len,
                };
                self.recv(cmd == IPMICTL_RECEIVE_MSG_TRUNC, &req, |out| {
                    rsp.recv_type = out.recv_type;
                    rsp.addr_len = out.addr_len;
                    rsp.msgid = out.msgid;
                    rsp.msg.netfn = out.netfn;
                    rsp.msg.cmd = out.cmd;
                    rsp.msg.data_len = out.data_len;
                    write_user(arg, &rsp)
                })
            }
            IPMICTL_REGISTER_FOR_CMD => {
                let v: IpmiCmdspec = read_user(arg)?;
                self.iface
                    .receivers()
                    .register(&self.user, v.netfn, v.cmd, IPMI_CHAN_ALL)?;
                Ok(0)
            }
            IPMICTL_UNREGISTER_FOR_CMD => {
                let v: IpmiCmdspec = read_user(arg)?;
                self.iface
                    .receivers()
                    .unregister(&self.user, v.netfn, v.cmd, IPMI_CHAN_ALL)?;
                Ok(0)
            }
            IPMICTL_REGISTER_FOR_CMD_CHANS => {
                let v: IpmiCmdspecChans = read_user(arg)?;
                // C's ipmi_register_for_cmd() takes unsigned char netfn and cmd.
                self.iface
                    .receivers()
                    .register(&self.user, v.netfn as u8, v.cmd as u8, v.chans)?;
                Ok(0)
            }
            IPMICTL_UNREGISTER_FOR_CMD_CHANS => {
                let v: IpmiCmdspecChans = read_user(arg)?;
                self.iface.receivers().unregister(
                    &self.user,
                    v.netfn as u8,
                    v.cmd as u8,
                    v.chans,
                )?;
                Ok(0)
            }
            IPMICTL_SET_GETS_EVENTS_CMD => {
                let v: i32 = read_user(arg)?;
                self.iface.set_gets_events(&self.user, v != 0);
                Ok(0)
            }
            IPMICTL_SET_MY_ADDRESS_CMD => {
                let v: u32 = read_user(arg)?;
                self.iface.set_my_addrinfo(0, |a| a.address = v as u8)?;
                Ok(0)
            }
            IPMICTL_GET_MY_ADDRESS_CMD => {
                let v = u32::from(self.iface.my_addrinfo(0)?.address);
                write_user(arg, &v)?;
                Ok(0)
            }
            IPMICTL_SET_MY_LUN_CMD => {
                let v: u32 = read_user(arg)?;
                self.iface.set_my_addrinfo(0, |a| a.set_lun(v as u8))?;
                Ok(0)
            }
            IPMICTL_GET_MY_LUN_CMD => {
                let v = u32::from(self.iface.my_addrinfo(0)?.lun());
                write_user(arg, &v)?;
                Ok(0)
            }
            IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD => {
                let v: IpmiChannelLunAddressSet = read_user(arg)?;
                self.iface
                    .set_my_addrinfo(v.channel.into(), |a| a.address = v.value)?;
                Ok(0)
            }
            IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD => {
                let mut v: IpmiChannelLunAddressSet = read_user(arg)?;
                v.value = self.iface.my_addrinfo(v.channel.into())?.address;
                write_user(arg, &v)?;
                Ok(0)
            }
            IPMICTL_SET_MY_CHANNEL_LUN_CMD => {
                let v: IpmiChannelLunAddressSet = read_user(arg)?;
                self.iface
                    .set_my_addrinfo(v.channel.into(), |a| a.set_lun(v.value))?;
                Ok(0)
            }
            IPMICTL_GET_MY_CHANNEL_LUN_CMD => {
                let mut v: IpmiChannelLunAddressSet = read_user(arg)?;
                v.value = self.iface.my_addrinfo(v.channel.into())?.lun();
                write_user(arg, &v)?;
                Ok(0)
            }
            IPMICTL_SET_TIMING_PARMS_CMD => {
                let p: IpmiTimingParms = read_user(arg)?;
                self.user.set_timing(TimingParms {
                    retries: p.retries,
                    retry_time_ms: p.retry_time_ms,
                });
                Ok(0)
            }
            IPMICTL_GET_TIMING_PARMS_CMD => {
                let t = self.user.timing();
                write_user(
                    arg,
                    &IpmiTimingParms {
                        retries: t.retries,
                        retry_time_ms: t.retry_time_ms,
                    },
                )?;
                Ok(0)
            }
            IPMICTL_GET_MAINTENANCE_MODE_CMD => {
                write_user(arg, &self.iface.maintenance_mode())?;
                Ok(0)
            }
            IPMICTL_SET_MAINTENANCE_MODE_CMD => {
                let mode: i32 = read_user(arg)?;
                self.iface.set_maintenance_mode(mode)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }

    /// The 32-bit ioctls (C `compat_ipmi_ioctl()`): four are translated, the rest are the same
    /// as native.
    fn compat_ioctl(&self, cmd: u32, arg: usize) -> Result<i32> {
        match cmd {
            COMPAT_IPMICTL_SEND_COMMAND => {
                let req: CompatIpmiReq = read_user(arg)?;
                let t = self.user.timing();
                self.send(SendReq::compat(&req), t.retries, t.retry_time_ms)
            }
            COMPAT_IPMICTL_SEND_COMMAND_SETTIME => {
                let req: CompatIpmiReqSettime = read_user(arg)?;
                self.send(SendReq::compat(&req.req), req.retries, req.retry_time_ms)
            }
            COMPAT_IPMICTL_RECEIVE_MSG | COMPAT_IPMICTL_RECEIVE_MSG_TRUNC => {
                let mut rsp: CompatIpmiRecv = read_user(arg)?;
                let req = RecvReq {
                    addr: rsp.addr.into(),
                    addr_len: rsp.addr_len,
                    data: rsp.msg.data.into(),
                    data_len: rsp.msg.data_len,
                };
                self.recv(cmd == COMPAT_IPMICTL_RECEIVE_MSG_TRUNC, &req, |out| {
                    rsp.recv_type = out.recv_type;
                    rsp.addr_len = out.addr_len;
                    // compat_long_t: the low 32 bits, as C's assignment does.
                    rsp.msgid = out.msgid as i32;
                    rsp.msg.netfn = out.netfn;
                    rsp.msg.cmd = out.cmd;
                    rsp.msg.data_len = out.data_len;
                    write_user(arg, &rsp)
                })
            }
            _ => self.ioctl(cmd, arg),
        }
    }

    /// `SEND_COMMAND[_SETTIME]` (C `handle_send_req()`).
    fn send(&self, req: SendReq, retries: i32, retry_ms: u32) -> Result<i32> {
        let addr_len = check_addr_len(req.addr_len)?;
        let mut abuf = [0u8; IPMI_ADDR_SIZE];
        UserSlice::new(UserPtr::from_addr(req.addr as usize), addr_len)
            .reader()
            .read_slice(&mut abuf[..addr_len])?;
        let addr = Addr::from_user(&abuf[..addr_len])?;
        let mut data = [0u8; IPMI_MAX_MSG_LENGTH];
        let data_len = if req.data != 0 {
            let len = usize::from(req.data_len);
            if len > IPMI_MAX_MSG_LENGTH {
                return Err(EMSGSIZE);
            }
            UserSlice::new(UserPtr::from_addr(req.data as usize), len)
                .reader()
                .read_slice(&mut data[..len])?;
            len
        } else {
            0
        };
        let request = Request {
            addr,
            msgid: req.msgid,
            netfn: req.netfn,
            cmd: req.cmd,
            data: &data[..data_len],
            retries,
            retry_ms,
            ctx: Default::default(),
        };
        self.iface.send(&self.user, &request)?;
        Ok(0)
    }

    /// `RECEIVE_MSG[_TRUNC]` (C `handle_recv()`): copies out the oldest message; on any error
    /// but truncation the message goes back to the head of the queue.
    fn recv(
        &self,
        trunc: bool,
        req: &RecvReq,
        copyout: impl FnOnce(&RecvOut) -> Result,
    ) -> Result<i32> {
        let _serialised = self.recv_mutex.lock();
        // Messages queued before the interface went away are still delivered; then ENODEV.
        let msg = self
            .user
            .pop()
            .ok_or(if self.user.is_gone() { ENODEV } else { EAGAIN })?;
        let mut truncated = false;
        let result = (|| -> Result {
            if (req.addr_len as usize) < msg.addr_len {
                return Err(EINVAL);
            }
            UserSlice::new(UserPtr::from_addr(req.addr as usize), msg.addr_len)
                .writer()
                .write_slice(&msg.addr[..msg.addr_len])?;
            let mut len = msg.data_len;
            if len > 0 {
                if usize::from(req.data_len) < len {
                    if !trunc {
                        return Err(EMSGSIZE);
                    }
                    truncated = true;
                    len = req.data_len.into();
                }
                UserSlice::new(UserPtr::from_addr(req.data as usize), len)
                    .writer()
                    .write_slice(&msg.data()[..len])?;
            }
            copyout(&RecvOut {
                recv_type: msg.recv_type,
                addr_len: msg.addr_len as u32,
                msgid: msg.msgid,
                netfn: msg.netfn,
                cmd: msg.cmd,
                data_len: len as u16,
            })
        })();
        match result {
            Ok(()) => {
                drop(msg);
                self.user.consumed();
                // Room for one more: commands held back for this user may now move in.
                self.iface.user_took_msg(&self.user);
                if truncated {
                    Err(EMSGSIZE)
                } else {
                    Ok(0)
                }
            }
            Err(e) => {
                self.user.put_back(msg);
                Err(e)
            }
        }
    }

    /// `poll`: readable while a message waits (C `ipmi_poll()`); once the interface is gone
    /// (unbind), also `POLLERR | POLLHUP`, so pollers wake and learn it (C leaves them asleep).
    fn poll(&self, file: &File, table: PollTable<'_>) -> u32 {
        table.register_wait(file, &self.user.wait);
        let mut mask = 0;
        if self.user.has_msgs() {
            mask |= bindings::POLLIN | bindings::POLLRDNORM;
        }
        if self.user.is_gone() {
            mask |= bindings::POLLERR | bindings::POLLHUP;
        }
        mask
    }
}

impl SendReq {
    fn native(r: &IpmiReq) -> Self {
        SendReq {
            addr: r.addr,
            addr_len: r.addr_len,
            msgid: r.msgid,
            netfn: r.msg.netfn,
            cmd: r.msg.cmd,
            data_len: r.msg.data_len,
            data: r.msg.data,
        }
    }

    fn compat(r: &CompatIpmiReq) -> Self {
        SendReq {
            addr: r.addr.into(),
            addr_len: r.addr_len,
            msgid: r.msgid.into(),
            netfn: r.msg.netfn,
            cmd: r.msg.cmd,
            data_len: r.msg.data_len,
            data: r.msg.data.into(),
        }
    }
}

/// Converts a result to the `long` an ioctl returns.
fn to_ret(r: Result<i32>) -> kernel::ffi::c_long {
    match r {
        Ok(v) => v as kernel::ffi::c_long,
        Err(e) => e.to_errno() as kernel::ffi::c_long,
    }
}

/// # Safety
///
/// Called by the VFS through `misc_open()`, which set `private_data` to our `miscdevice`.
unsafe extern "C" fn ripmi_open(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> kernel::ffi::c_int {
    // SAFETY: `misc_open()` stored the `miscdevice` in `private_data`; it is the `misc` field of
    // a registered `MiscDev`, alive while it is registered (and `open` runs under the misc lock).
    let misc = unsafe { (*file).private_data }.cast::<Opaque<bindings::miscdevice>>();
    // SAFETY: As above.
    let dev = unsafe { &*kernel::container_of!(misc, MiscDev, misc) };
    match DevFile::open(&dev.iface) {
        Ok(f) => {
            // SAFETY: We own `private_data` from here on.
            unsafe { (*file).private_data = f.into_foreign().cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called by the VFS on the last close of a file opened by `ripmi_open`.
unsafe extern "C" fn ripmi_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> kernel::ffi::c_int {
    // SAFETY: `private_data` holds the `DevFile` set by `ripmi_open`; this is its last use.
    let f = unsafe { Pin::<KBox<DevFile>>::from_foreign((*file).private_data.cast()) };
    f.release();
    0
}

/// Borrows the `DevFile` of an open file.
///
/// # Safety
///
/// `file` is a file opened by `ripmi_open` and not yet released.
unsafe fn dev_file<'a>(file: *mut bindings::file) -> Pin<&'a DevFile> {
    // SAFETY: `private_data` holds the `DevFile` until `ripmi_release` (caller).
    unsafe { Pin::<KBox<DevFile>>::borrow((*file).private_data.cast()) }
}

/// # Safety
///
/// Called by the VFS for an open file.
unsafe extern "C" fn ripmi_ioctl(
    file: *mut bindings::file,
    cmd: kernel::ffi::c_uint,
    arg: kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    // SAFETY: The file is open (caller).
    to_ret(unsafe { dev_file(file) }.ioctl(cmd, arg))
}

/// # Safety
///
/// Called by the VFS for an open file, from a 32-bit process.
unsafe extern "C" fn ripmi_compat_ioctl(
    file: *mut bindings::file,
    cmd: kernel::ffi::c_uint,
    arg: kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    // SAFETY: The file is open (caller).
    to_ret(unsafe { dev_file(file) }.compat_ioctl(cmd, arg))
}

/// # Safety
///
/// Called by the VFS for an open file with a valid (possibly null) poll table.
unsafe extern "C" fn ripmi_poll(
    file: *mut bindings::file,
    wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: The file is open (caller).
    let f = unsafe { dev_file(file) };
    // SAFETY: The file pointer is valid for the duration of the call (caller).
    let fref = unsafe { File::from_raw_file(file) };
    // SAFETY: The poll table is valid for the duration of the call (caller).
    f.poll(fref, unsafe { PollTable::from_raw(wait) })
}

/// # Safety
///
/// Called by the VFS for an open file.
unsafe extern "C" fn ripmi_fasync(
    fd: kernel::ffi::c_int,
    file: *mut bindings::file,
    on: kernel::ffi::c_int,
) -> kernel::ffi::c_int {
    // SAFETY: The file is open (caller).
    let f = unsafe { dev_file(file) };
    // SAFETY: `file` is the file this user belongs to.
    unsafe { f.user.fasync(fd, file, on) }
}

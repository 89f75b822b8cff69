// SPDX-License-Identifier: GPL-2.0

//! The structures of [`include/linux/ipmi.h`](srctree/include/linux/ipmi.h) that the in-kernel
//! API passes, mirrored with `#[repr(C)]`: bindgen for an out-of-tree module does not include
//! that header. `src/c/api.c` checks the same sizes and offsets against the C definitions.

use core::ffi::c_void;

use kernel::bindings;

use crate::addr::IPMI_ADDR_SIZE;
use crate::defs::IPMI_MAX_MSG_LENGTH;

/// `struct ipmi_addr`, as bytes (the layout the handler already uses for userspace).
pub(crate) type IpmiAddr = [u8; IPMI_ADDR_SIZE];

/// `struct kernel_ipmi_msg`.
#[repr(C)]
pub(crate) struct KernelIpmiMsg {
    pub(crate) netfn: u8,
    pub(crate) cmd: u8,
    pub(crate) data_len: u16,
    pub(crate) data: *mut u8,
}

/// `struct ipmi_recv_msg`.
#[repr(C)]
pub(crate) struct IpmiRecvMsg {
    /// `struct list_head link`: the consumer's.
    pub(crate) link: [usize; 2],
    pub(crate) recv_type: i32,
    /// `struct ipmi_user *`: a reference to the user, given back by `ipmi_free_recv_msg()`.
    pub(crate) user: *mut c_void,
    pub(crate) addr: IpmiAddr,
    pub(crate) msgid: isize,
    pub(crate) msg: KernelIpmiMsg,
    pub(crate) user_msg_data: *mut c_void,
    pub(crate) done: Option<unsafe extern "C" fn(*mut IpmiRecvMsg)>,
    pub(crate) msg_data: [u8; IPMI_MAX_MSG_LENGTH],
}

/// `struct ipmi_user_hndl`.
#[repr(C)]
pub(crate) struct IpmiUserHndl {
    pub(crate) ipmi_recv_hndl: Option<unsafe extern "C" fn(*mut IpmiRecvMsg, *mut c_void)>,
    pub(crate) ipmi_watchdog_pretimeout: Option<unsafe extern "C" fn(*mut c_void)>,
    pub(crate) ipmi_panic_handler: Option<unsafe extern "C" fn(*mut c_void)>,
    pub(crate) shutdown: Option<unsafe extern "C" fn(*mut c_void)>,
}

/// `struct ipmi_smi_watcher`.
#[repr(C)]
pub(crate) struct IpmiSmiWatcher {
    /// `struct list_head link`: unused by ripmi, which keeps its own list.
    pub(crate) link: [usize; 2],
    pub(crate) owner: *mut bindings::module,
    pub(crate) new_smi: Option<unsafe extern "C" fn(i32, *mut bindings::device)>,
    pub(crate) smi_gone: Option<unsafe extern "C" fn(i32)>,
}

/// `struct ipmi_smi_info` (with `CONFIG_ACPI`: the union holds the ACPI handle).
#[repr(C)]
pub(crate) struct IpmiSmiInfo {
    /// `enum ipmi_addr_src`.
    pub(crate) addr_src: u32,
    /// A reference the caller puts.
    pub(crate) dev: *mut bindings::device,
    /// `addr_info.acpi_info.acpi_handle`.
    pub(crate) acpi_handle: *mut c_void,
}

/// Where `done` is in `struct ipmi_smi_msg` (of `include/linux/ipmi_smi.h`), the one field of
/// a message given to `ipmi_request_supply_msgs()` that ripmi uses.
pub(crate) const SMI_MSG_DONE_OFFSET: usize = 592;

/// `enum ipmi_addr_src` values ripmi gives.
pub(crate) const SI_HARDCODED: u32 = 2;
/// An interface ACPI describes.
pub(crate) const SI_ACPI: u32 = 4;
/// An interface only SMBIOS describes.
pub(crate) const SI_SMBIOS: u32 = 5;

const _: () = {
    assert!(core::mem::size_of::<KernelIpmiMsg>() == 16);
    assert!(core::mem::size_of::<IpmiRecvMsg>() == 384);
    assert!(core::mem::offset_of!(IpmiRecvMsg, recv_type) == 16);
    assert!(core::mem::offset_of!(IpmiRecvMsg, user) == 24);
    assert!(core::mem::offset_of!(IpmiRecvMsg, addr) == 32);
    assert!(core::mem::offset_of!(IpmiRecvMsg, msgid) == 72);
    assert!(core::mem::offset_of!(IpmiRecvMsg, msg) == 80);
    assert!(core::mem::offset_of!(IpmiRecvMsg, user_msg_data) == 96);
    assert!(core::mem::offset_of!(IpmiRecvMsg, done) == 104);
    assert!(core::mem::offset_of!(IpmiRecvMsg, msg_data) == 112);
    assert!(core::mem::size_of::<IpmiUserHndl>() == 32);
    assert!(core::mem::offset_of!(IpmiSmiWatcher, new_smi) == 24);
    assert!(core::mem::offset_of!(IpmiSmiWatcher, smi_gone) == 32);
    assert!(core::mem::offset_of!(IpmiSmiInfo, dev) == 8);
    assert!(core::mem::offset_of!(IpmiSmiInfo, acpi_handle) == 16);
};

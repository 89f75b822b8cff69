// SPDX-License-Identifier: GPL-2.0

//! The `/dev/ipmiN` userspace ABI: ioctl numbers and `#[repr(C)]` mirrors of
//! [`include/uapi/linux/ipmi.h`](srctree/include/uapi/linux/ipmi.h), native and 32-bit compat.
//!
//! Pointer fields are `u64` (native) or `u32` (compat); every padding byte is an explicit field,
//! so the structs can be read from and written to user memory as plain bytes. The sizes are
//! asserted at compile time against the values the C header gives on x86_64.

use kernel::ioctl::{_IOR, _IOWR};
use kernel::transmute::{AsBytes, FromBytes};

/// `IPMI_IOC_MAGIC`.
const MAGIC: u32 = b'i' as u32;

/// `struct ipmi_msg`: a message as userspace passes it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiMsg {
    pub(crate) netfn: u8,
    pub(crate) cmd: u8,
    pub(crate) data_len: u16,
    pub(crate) _pad: u32,
    pub(crate) data: u64,
}

/// `struct ipmi_req`: the argument of `IPMICTL_SEND_COMMAND`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiReq {
    pub(crate) addr: u64,
    pub(crate) addr_len: u32,
    pub(crate) _pad: u32,
    pub(crate) msgid: i64,
    pub(crate) msg: IpmiMsg,
}

/// `struct ipmi_req_settime`: the argument of `IPMICTL_SEND_COMMAND_SETTIME`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiReqSettime {
    pub(crate) req: IpmiReq,
    pub(crate) retries: i32,
    pub(crate) retry_time_ms: u32,
}

/// `struct ipmi_recv`: the argument of `IPMICTL_RECEIVE_MSG[_TRUNC]`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiRecv {
    pub(crate) recv_type: i32,
    pub(crate) _pad0: u32,
    pub(crate) addr: u64,
    pub(crate) addr_len: u32,
    pub(crate) _pad1: u32,
    pub(crate) msgid: i64,
    pub(crate) msg: IpmiMsg,
}

/// `struct ipmi_cmdspec`: the argument of the legacy (all-channel) command registration.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiCmdspec {
    pub(crate) netfn: u8,
    pub(crate) cmd: u8,
}

/// `struct ipmi_cmdspec_chans`: the argument of the per-channel command registration.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiCmdspecChans {
    pub(crate) netfn: u32,
    pub(crate) cmd: u32,
    pub(crate) chans: u32,
}

/// `struct ipmi_channel_lun_address_set`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiChannelLunAddressSet {
    pub(crate) channel: u16,
    pub(crate) value: u8,
    pub(crate) _pad: u8,
}

/// `struct ipmi_timing_parms`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct IpmiTimingParms {
    pub(crate) retries: i32,
    pub(crate) retry_time_ms: u32,
}

/// `struct compat_ipmi_msg` (32-bit callers).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CompatIpmiMsg {
    pub(crate) netfn: u8,
    pub(crate) cmd: u8,
    pub(crate) data_len: u16,
    pub(crate) data: u32,
}

/// `struct compat_ipmi_req` (32-bit callers).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CompatIpmiReq {
    pub(crate) addr: u32,
    pub(crate) addr_len: u32,
    pub(crate) msgid: i32,
    pub(crate) msg: CompatIpmiMsg,
}

/// `struct compat_ipmi_req_settime` (32-bit callers).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CompatIpmiReqSettime {
    pub(crate) req: CompatIpmiReq,
    pub(crate) retries: i32,
    pub(crate) retry_time_ms: u32,
}

/// `struct compat_ipmi_recv` (32-bit callers).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct CompatIpmiRecv {
    pub(crate) recv_type: i32,
    pub(crate) addr: u32,
    pub(crate) addr_len: u32,
    pub(crate) msgid: i32,
    pub(crate) msg: CompatIpmiMsg,
}

macro_rules! plain_bytes {
    ($($t:ty = $size:expr),* $(,)?) => {
        $(
            // SAFETY: `$t` is `repr(C)` of integer fields with every padding byte spelled out as a
            // field (the size assertion below proves there is no implicit padding), so every bit
            // pattern is valid and no byte is uninitialised.
            unsafe impl FromBytes for $t {}
            // SAFETY: As above.
            unsafe impl AsBytes for $t {}
            const _: () = assert!(core::mem::size_of::<$t>() == $size);
        )*
    };
}

plain_bytes! {
    IpmiMsg = 16,
    IpmiReq = 40,
    IpmiReqSettime = 48,
    IpmiRecv = 48,
    IpmiCmdspec = 2,
    IpmiCmdspecChans = 12,
    IpmiChannelLunAddressSet = 4,
    IpmiTimingParms = 8,
    CompatIpmiMsg = 8,
    CompatIpmiReq = 20,
    CompatIpmiReqSettime = 28,
    CompatIpmiRecv = 24,
}

pub(crate) const IPMICTL_RECEIVE_MSG_TRUNC: u32 = _IOWR::<IpmiRecv>(MAGIC, 11);
pub(crate) const IPMICTL_RECEIVE_MSG: u32 = _IOWR::<IpmiRecv>(MAGIC, 12);
pub(crate) const IPMICTL_SEND_COMMAND: u32 = _IOR::<IpmiReq>(MAGIC, 13);
pub(crate) const IPMICTL_REGISTER_FOR_CMD: u32 = _IOR::<IpmiCmdspec>(MAGIC, 14);
pub(crate) const IPMICTL_UNREGISTER_FOR_CMD: u32 = _IOR::<IpmiCmdspec>(MAGIC, 15);
pub(crate) const IPMICTL_SET_GETS_EVENTS_CMD: u32 = _IOR::<i32>(MAGIC, 16);
pub(crate) const IPMICTL_SET_MY_ADDRESS_CMD: u32 = _IOR::<u32>(MAGIC, 17);
pub(crate) const IPMICTL_GET_MY_ADDRESS_CMD: u32 = _IOR::<u32>(MAGIC, 18);
pub(crate) const IPMICTL_SET_MY_LUN_CMD: u32 = _IOR::<u32>(MAGIC, 19);
pub(crate) const IPMICTL_GET_MY_LUN_CMD: u32 = _IOR::<u32>(MAGIC, 20);
pub(crate) const IPMICTL_SEND_COMMAND_SETTIME: u32 = _IOR::<IpmiReqSettime>(MAGIC, 21);
pub(crate) const IPMICTL_SET_TIMING_PARMS_CMD: u32 = _IOR::<IpmiTimingParms>(MAGIC, 22);
pub(crate) const IPMICTL_GET_TIMING_PARMS_CMD: u32 = _IOR::<IpmiTimingParms>(MAGIC, 23);
pub(crate) const IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD: u32 =
    _IOR::<IpmiChannelLunAddressSet>(MAGIC, 24);
pub(crate) const IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD: u32 =
    _IOR::<IpmiChannelLunAddressSet>(MAGIC, 25);
pub(crate) const IPMICTL_SET_MY_CHANNEL_LUN_CMD: u32 = _IOR::<IpmiChannelLunAddressSet>(MAGIC, 26);
pub(crate) const IPMICTL_GET_MY_CHANNEL_LUN_CMD: u32 = _IOR::<IpmiChannelLunAddressSet>(MAGIC, 27);
pub(crate) const IPMICTL_REGISTER_FOR_CMD_CHANS: u32 = _IOR::<IpmiCmdspecChans>(MAGIC, 28);
pub(crate) const IPMICTL_UNREGISTER_FOR_CMD_CHANS: u32 = _IOR::<IpmiCmdspecChans>(MAGIC, 29);
pub(crate) const IPMICTL_GET_MAINTENANCE_MODE_CMD: u32 = _IOR::<i32>(MAGIC, 30);
pub(crate) const IPMICTL_SET_MAINTENANCE_MODE_CMD: u32 = kernel::ioctl::_IOW::<i32>(MAGIC, 31);

pub(crate) const COMPAT_IPMICTL_SEND_COMMAND: u32 = _IOR::<CompatIpmiReq>(MAGIC, 13);
pub(crate) const COMPAT_IPMICTL_SEND_COMMAND_SETTIME: u32 = _IOR::<CompatIpmiReqSettime>(MAGIC, 21);
pub(crate) const COMPAT_IPMICTL_RECEIVE_MSG: u32 = _IOWR::<CompatIpmiRecv>(MAGIC, 12);
pub(crate) const COMPAT_IPMICTL_RECEIVE_MSG_TRUNC: u32 = _IOWR::<CompatIpmiRecv>(MAGIC, 11);

// The values userspace compiled against (IPMI-REFERENCE.md, x86_64).
const _: () = {
    assert!(IPMICTL_RECEIVE_MSG_TRUNC == 0xc030690b);
    assert!(IPMICTL_RECEIVE_MSG == 0xc030690c);
    assert!(IPMICTL_SEND_COMMAND == 0x8028690d);
    assert!(IPMICTL_REGISTER_FOR_CMD == 0x8002690e);
    assert!(IPMICTL_UNREGISTER_FOR_CMD == 0x8002690f);
    assert!(IPMICTL_SET_GETS_EVENTS_CMD == 0x80046910);
    assert!(IPMICTL_SEND_COMMAND_SETTIME == 0x80306915);
    assert!(IPMICTL_SET_TIMING_PARMS_CMD == 0x80086916);
    assert!(IPMICTL_REGISTER_FOR_CMD_CHANS == 0x800c691c);
    assert!(IPMICTL_UNREGISTER_FOR_CMD_CHANS == 0x800c691d);
    assert!(IPMICTL_GET_MAINTENANCE_MODE_CMD == 0x8004691e);
    assert!(IPMICTL_SET_MAINTENANCE_MODE_CMD == 0x4004691f);
    assert!(COMPAT_IPMICTL_SEND_COMMAND == 0x8014690d);
    assert!(COMPAT_IPMICTL_SEND_COMMAND_SETTIME == 0x801c6915);
    assert!(COMPAT_IPMICTL_RECEIVE_MSG == 0xc018690c);
    assert!(COMPAT_IPMICTL_RECEIVE_MSG_TRUNC == 0xc018690b);
};

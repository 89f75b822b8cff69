// SPDX-License-Identifier: GPL-2.0

//! IPMI addresses: `struct ipmi_addr` and its variants, decoded from and encoded to the bytes
//! userspace exchanges with `/dev/ipmiN` (pure).
//!
//! C counterpart: `ipmi_validate_addr()`, `ipmi_addr_length()`, `ipmi_addr_equal()` and
//! `check_addr()` in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c), the
//! `addr_len` check of `handle_send_req()` in
//! [`ipmi_devintf.c`](srctree/drivers/char/ipmi/ipmi_devintf.c), and the structs of
//! [`ipmi.h`](srctree/include/uapi/linux/ipmi.h).
//!
//! The user layout is native-endian, as C's: `addr_type` is an `int` at offset 0, `channel` a
//! `short` at offset 4, and the per-type bytes start at offset 6.

use crate::defs::{IPMI_BMC_CHANNEL, IPMI_MAX_CHANNELS};
use crate::error::Errno;

/// `IPMI_SYSTEM_INTERFACE_ADDR_TYPE`: the local BMC, through the system interface.
pub(crate) const IPMI_SYSTEM_INTERFACE_ADDR_TYPE: i32 = 0x0c;
/// `IPMI_IPMB_ADDR_TYPE`: a controller on an IPMB channel.
pub(crate) const IPMI_IPMB_ADDR_TYPE: i32 = 0x01;
/// `IPMI_IPMB_BROADCAST_ADDR_TYPE`: an IPMB broadcast (a leading zero byte on the bus).
pub(crate) const IPMI_IPMB_BROADCAST_ADDR_TYPE: i32 = 0x41;
/// `IPMI_IPMB_DIRECT_ADDR_TYPE`: IPMB without the BMC in between (unsupported by KCS).
pub(crate) const IPMI_IPMB_DIRECT_ADDR_TYPE: i32 = 0x81;
/// `IPMI_LAN_ADDR_TYPE`: a session on an 802.3 LAN or serial/modem channel.
pub(crate) const IPMI_LAN_ADDR_TYPE: i32 = 0x04;

/// `IPMI_MAX_ADDR_SIZE`: the size of the `data` array of `struct ipmi_addr` (not its size).
#[cfg(any(test, ripmi_test))]
pub(crate) const IPMI_MAX_ADDR_SIZE: usize = 32;
/// `sizeof(struct ipmi_addr)`: the largest `addr_len` a send ioctl accepts.
pub(crate) const IPMI_ADDR_SIZE: usize = 40;

/// `sizeof(struct ipmi_system_interface_addr)`, also the shortest valid address.
pub(crate) const SYSTEM_INTERFACE_ADDR_LEN: usize = 8;
/// `sizeof(struct ipmi_ipmb_addr)`.
pub(crate) const IPMB_ADDR_LEN: usize = 8;
/// `sizeof(struct ipmi_ipmb_direct_addr)`.
pub(crate) const IPMB_DIRECT_ADDR_LEN: usize = 12;
/// `sizeof(struct ipmi_lan_addr)`.
pub(crate) const LAN_ADDR_LEN: usize = 12;

/// An IPMB address: a controller on an IPMB channel (`struct ipmi_ipmb_addr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpmbAddr {
    /// The channel, 0 to 14.
    pub(crate) channel: u8,
    /// The 8-bit slave address of the controller (the responder's address in a request).
    pub(crate) slave_addr: u8,
    /// The responder's LUN (checked to be at most 3 when a request is built, as C does).
    pub(crate) lun: u8,
}

/// An IPMB direct address (`struct ipmi_ipmb_direct_addr`); the channel is always 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpmbDirectAddr {
    /// The even slave address of the controller.
    pub(crate) slave_addr: u8,
    /// The responder's LUN, 0 to 3.
    pub(crate) rs_lun: u8,
    /// The requester's LUN, 0 to 3.
    pub(crate) rq_lun: u8,
}

/// A LAN address: a session on a LAN or serial channel (`struct ipmi_lan_addr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LanAddr {
    /// The channel, 0 to 14.
    pub(crate) channel: u8,
    /// The session's privilege level (ignored when addresses are compared, as in C).
    pub(crate) privilege: u8,
    /// The BMC's handle for the session.
    pub(crate) session_handle: u8,
    /// The software ID at the remote end.
    pub(crate) remote_swid: u8,
    /// The software ID at this end.
    pub(crate) local_swid: u8,
    /// The LUN (checked to be at most 3 when a request is built, as C does).
    pub(crate) lun: u8,
}

/// A validated IPMI address, one variant per `addr_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Addr {
    /// The BMC itself; the channel is always `IPMI_BMC_CHANNEL`.
    SystemInterface {
        /// The BMC LUN (checked to be at most 3 when a request is built, as C does).
        lun: u8,
    },
    /// A controller on IPMB.
    Ipmb(IpmbAddr),
    /// An IPMB broadcast.
    IpmbBroadcast(IpmbAddr),
    /// IPMB direct (validated as C does, then refused with `EAFNOSUPPORT` on KCS).
    IpmbDirect(IpmbDirectAddr),
    /// A LAN session.
    Lan(LanAddr),
}

/// Checks a send ioctl's `addr_len` before the address is copied in, as `handle_send_req()`.
///
/// Returns the length to copy from userspace.
pub(crate) fn check_addr_len(addr_len: u32) -> Result<usize, Errno> {
    match usize::try_from(addr_len) {
        Ok(len) if len <= IPMI_ADDR_SIZE => Ok(len),
        _ => Err(Errno::Inval),
    }
}

/// The length of the user form of an address of type `addr_type`, or 0 if the type is unknown.
///
/// Mirrors `ipmi_addr_length()`: receive copies this many address bytes to userspace.
pub(crate) const fn addr_length(addr_type: i32) -> usize {
    match addr_type {
        IPMI_SYSTEM_INTERFACE_ADDR_TYPE => SYSTEM_INTERFACE_ADDR_LEN,
        IPMI_IPMB_ADDR_TYPE | IPMI_IPMB_BROADCAST_ADDR_TYPE => IPMB_ADDR_LEN,
        IPMI_IPMB_DIRECT_ADDR_TYPE => IPMB_DIRECT_ADDR_LEN,
        IPMI_LAN_ADDR_TYPE => LAN_ADDR_LEN,
        _ => 0,
    }
}

/// Reads byte `i` of `bytes`, or 0 past its end (only reached for bytes C does not look at).
fn byte(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

impl Addr {
    /// Decodes and validates the `addr_len` bytes userspace passed, as `ipmi_validate_addr()`.
    ///
    /// `bytes.len()` is `addr_len`. Every failure is `EINVAL`, checked in C's order: a length
    /// under 8; a system-interface address whose channel is not 15; any other address whose
    /// channel is 15, 16 or more, or negative; a length under the type's struct size; for IPMB
    /// direct, a channel other than 0, an odd slave address or a LUN over 3; an unknown type.
    pub(crate) fn from_user(bytes: &[u8]) -> Result<Self, Errno> {
        if bytes.len() < SYSTEM_INTERFACE_ADDR_LEN {
            return Err(Errno::Inval);
        }
        let addr_type = i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let channel = i16::from_ne_bytes([bytes[4], bytes[5]]);

        if addr_type == IPMI_SYSTEM_INTERFACE_ADDR_TYPE {
            if channel != i16::from(IPMI_BMC_CHANNEL) {
                return Err(Errno::Inval);
            }
            return Ok(Addr::SystemInterface { lun: bytes[6] });
        }

        let channel = match u8::try_from(channel) {
            Ok(c) if c != IPMI_BMC_CHANNEL && usize::from(c) < IPMI_MAX_CHANNELS => c,
            _ => return Err(Errno::Inval),
        };

        match addr_type {
            IPMI_IPMB_ADDR_TYPE | IPMI_IPMB_BROADCAST_ADDR_TYPE => {
                if bytes.len() < IPMB_ADDR_LEN {
                    return Err(Errno::Inval);
                }
                let ipmb = IpmbAddr {
                    channel,
                    slave_addr: bytes[6],
                    lun: bytes[7],
                };
                if addr_type == IPMI_IPMB_ADDR_TYPE {
                    Ok(Addr::Ipmb(ipmb))
                } else {
                    Ok(Addr::IpmbBroadcast(ipmb))
                }
            }
            IPMI_IPMB_DIRECT_ADDR_TYPE => {
                if channel != 0 || bytes.len() < IPMB_DIRECT_ADDR_LEN {
                    return Err(Errno::Inval);
                }
                let direct = IpmbDirectAddr {
                    slave_addr: byte(bytes, 6),
                    rs_lun: byte(bytes, 7),
                    rq_lun: byte(bytes, 8),
                };
                if direct.slave_addr & 1 != 0 || direct.rq_lun >= 4 || direct.rs_lun >= 4 {
                    return Err(Errno::Inval);
                }
                Ok(Addr::IpmbDirect(direct))
            }
            IPMI_LAN_ADDR_TYPE => {
                if bytes.len() < LAN_ADDR_LEN {
                    return Err(Errno::Inval);
                }
                Ok(Addr::Lan(LanAddr {
                    channel,
                    privilege: byte(bytes, 6),
                    session_handle: byte(bytes, 7),
                    remote_swid: byte(bytes, 8),
                    local_swid: byte(bytes, 9),
                    lun: byte(bytes, 10),
                }))
            }
            _ => Err(Errno::Inval),
        }
    }

    /// The `addr_type` value of this address.
    pub(crate) const fn addr_type(&self) -> i32 {
        match self {
            Addr::SystemInterface { .. } => IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
            Addr::Ipmb(_) => IPMI_IPMB_ADDR_TYPE,
            Addr::IpmbBroadcast(_) => IPMI_IPMB_BROADCAST_ADDR_TYPE,
            Addr::IpmbDirect(_) => IPMI_IPMB_DIRECT_ADDR_TYPE,
            Addr::Lan(_) => IPMI_LAN_ADDR_TYPE,
        }
    }

    /// The channel of this address (`IPMI_BMC_CHANNEL` for the system interface).
    pub(crate) const fn channel(&self) -> u8 {
        match self {
            Addr::SystemInterface { .. } => IPMI_BMC_CHANNEL,
            Addr::Ipmb(a) | Addr::IpmbBroadcast(a) => a.channel,
            Addr::IpmbDirect(_) => 0,
            Addr::Lan(a) => a.channel,
        }
    }

    /// The address C records for a request, which a response or a timeout is delivered with.
    ///
    /// `i_ipmi_req_ipmb()` rewrites a broadcast address to a plain IPMB one before it copies it
    /// into the receive message; every other address is kept as it is.
    pub(crate) const fn recorded(&self) -> Self {
        match self {
            Addr::IpmbBroadcast(a) => Addr::Ipmb(*a),
            other => *other,
        }
    }

    /// Whether a response from `other` answers a request sent to `self`, as `ipmi_addr_equal()`.
    ///
    /// The types and channels must be equal, then: the LUN for the system interface; slave
    /// address and LUN for IPMB; slave address and both LUNs for IPMB direct; both software IDs,
    /// session handle and LUN for LAN (the privilege is ignored).
    pub(crate) fn matches(&self, other: &Addr) -> bool {
        if self.addr_type() != other.addr_type() || self.channel() != other.channel() {
            return false;
        }
        match (self, other) {
            (Addr::SystemInterface { lun: a }, Addr::SystemInterface { lun: b }) => a == b,
            (Addr::Ipmb(a), Addr::Ipmb(b)) | (Addr::IpmbBroadcast(a), Addr::IpmbBroadcast(b)) => {
                a.slave_addr == b.slave_addr && a.lun == b.lun
            }
            (Addr::IpmbDirect(a), Addr::IpmbDirect(b)) => a == b,
            (Addr::Lan(a), Addr::Lan(b)) => {
                a.remote_swid == b.remote_swid
                    && a.local_swid == b.local_swid
                    && a.session_handle == b.session_handle
                    && a.lun == b.lun
            }
            _ => false,
        }
    }

    /// Writes the user form of this address into `out` and returns how many bytes to copy out.
    ///
    /// The layout is C's struct for the type and the length is `ipmi_addr_length()`. Bytes C
    /// would leave uninitialised (struct padding, the rest of `struct ipmi_addr`) are zero.
    pub(crate) fn encode(&self, out: &mut [u8; IPMI_ADDR_SIZE]) -> usize {
        *out = [0; IPMI_ADDR_SIZE];
        out[0..4].copy_from_slice(&self.addr_type().to_ne_bytes());
        out[4..6].copy_from_slice(&i16::from(self.channel()).to_ne_bytes());
        match self {
            Addr::SystemInterface { lun } => out[6] = *lun,
            Addr::Ipmb(a) | Addr::IpmbBroadcast(a) => {
                out[6] = a.slave_addr;
                out[7] = a.lun;
            }
            Addr::IpmbDirect(a) => {
                out[6] = a.slave_addr;
                out[7] = a.rs_lun;
                out[8] = a.rq_lun;
            }
            Addr::Lan(a) => {
                out[6] = a.privilege;
                out[7] = a.session_handle;
                out[8] = a.remote_swid;
                out[9] = a.local_swid;
                out[10] = a.lun;
            }
        }
        addr_length(self.addr_type())
    }
}

/// A LAN address the tests of several files use: channel 2, privilege 4, session 0x11, remote
/// SWID 0x81, local SWID 0x41, LUN 1.
#[cfg(any(test, ripmi_test))]
pub(crate) const TEST_LAN: LanAddr = LanAddr {
    channel: 2,
    privilege: 4,
    session_handle: 0x11,
    remote_swid: 0x81,
    local_swid: 0x41,
    lun: 1,
};

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_addr))]
mod tests {
    use super::*;

    /// Builds the first `len` bytes of a user `struct ipmi_addr` with the given header and data.
    fn user(
        addr_type: i32,
        channel: i16,
        data: &[u8],
        len: usize,
    ) -> ([u8; IPMI_ADDR_SIZE], usize) {
        let mut b = [0u8; IPMI_ADDR_SIZE];
        b[0..4].copy_from_slice(&addr_type.to_ne_bytes());
        b[4..6].copy_from_slice(&channel.to_ne_bytes());
        let mut i = 0;
        while i < data.len() && 6 + i < IPMI_ADDR_SIZE {
            b[6 + i] = data[i];
            i += 1;
        }
        (b, len)
    }

    /// Decodes the first `len` bytes of `b`.
    fn decode(input: ([u8; IPMI_ADDR_SIZE], usize)) -> Result<Addr, Errno> {
        let (b, len) = input;
        match b.get(..len) {
            Some(s) => Addr::from_user(s),
            None => Err(Errno::Inval),
        }
    }

    #[test]
    fn sizes_match_c_structs() {
        assert_eq!(IPMI_ADDR_SIZE, 4 + 2 + IPMI_MAX_ADDR_SIZE + 2);
        assert_eq!(addr_length(IPMI_SYSTEM_INTERFACE_ADDR_TYPE), 8);
        assert_eq!(addr_length(IPMI_IPMB_ADDR_TYPE), 8);
        assert_eq!(addr_length(IPMI_IPMB_BROADCAST_ADDR_TYPE), 8);
        assert_eq!(addr_length(IPMI_IPMB_DIRECT_ADDR_TYPE), 12);
        assert_eq!(addr_length(IPMI_LAN_ADDR_TYPE), 12);
        assert_eq!(addr_length(0x02), 0);
    }

    #[test]
    fn addr_len_limit() {
        assert_eq!(check_addr_len(0), Ok(0));
        assert_eq!(check_addr_len(40), Ok(40));
        assert_eq!(check_addr_len(41), Err(Errno::Inval));
        assert_eq!(check_addr_len(u32::MAX), Err(Errno::Inval));
    }

    #[test]
    fn system_interface_addr() {
        let a = decode(user(0x0c, 0xf, &[2], 8));
        assert_eq!(a, Ok(Addr::SystemInterface { lun: 2 }));
        // Any length from 8 to 40 is accepted; the LUN is checked only when a request is built.
        assert_eq!(
            decode(user(0x0c, 0xf, &[7], 40)),
            Ok(Addr::SystemInterface { lun: 7 })
        );
        // Too short, whatever the type.
        assert_eq!(decode(user(0x0c, 0xf, &[0], 7)), Err(Errno::Inval));
        assert_eq!(decode(user(0x0c, 0xf, &[0], 0)), Err(Errno::Inval));
        // The system interface must use channel 15.
        assert_eq!(decode(user(0x0c, 0, &[0], 8)), Err(Errno::Inval));
        assert_eq!(decode(user(0x0c, 0x10f, &[0], 8)), Err(Errno::Inval));
    }

    #[test]
    fn ipmb_addr() {
        let ipmb = IpmbAddr {
            channel: 3,
            slave_addr: 0x40,
            lun: 2,
        };
        assert_eq!(decode(user(1, 3, &[0x40, 2], 8)), Ok(Addr::Ipmb(ipmb)));
        assert_eq!(
            decode(user(0x41, 3, &[0x40, 2], 8)),
            Ok(Addr::IpmbBroadcast(ipmb))
        );
        assert_eq!(decode(user(1, 3, &[0x40, 2], 7)), Err(Errno::Inval));
        // The highest valid channel is 14.
        assert!(decode(user(1, 14, &[0x40, 0], 8)).is_ok());
    }

    #[test]
    fn bad_channels() {
        // Channel 15 is the BMC, 16 and up do not exist, and a negative short is refused too.
        assert_eq!(decode(user(1, 0xf, &[0x40, 0], 8)), Err(Errno::Inval));
        assert_eq!(decode(user(1, 16, &[0x40, 0], 8)), Err(Errno::Inval));
        assert_eq!(decode(user(1, 0x100, &[0x40, 0], 8)), Err(Errno::Inval));
        assert_eq!(decode(user(1, -1, &[0x40, 0], 8)), Err(Errno::Inval));
        assert_eq!(decode(user(4, -32768, &[0; 5], 12)), Err(Errno::Inval));
        // The channel is checked before the type, so an unknown type gives EINVAL either way.
        assert_eq!(decode(user(0x02, 0, &[], 40)), Err(Errno::Inval));
    }

    #[test]
    fn lan_addr() {
        let lan = TEST_LAN;
        let bytes = [4, 0x11, 0x81, 0x41, 1];
        assert_eq!(decode(user(4, 2, &bytes, 12)), Ok(Addr::Lan(lan)));
        // The C struct is 11 bytes of fields plus padding: 11 is still too short.
        assert_eq!(decode(user(4, 2, &bytes, 11)), Err(Errno::Inval));
        assert_eq!(decode(user(4, 2, &bytes, 8)), Err(Errno::Inval));
    }

    #[test]
    fn ipmb_direct_addr() {
        let ok = IpmbDirectAddr {
            slave_addr: 0x40,
            rs_lun: 3,
            rq_lun: 1,
        };
        assert_eq!(
            decode(user(0x81, 0, &[0x40, 3, 1], 12)),
            Ok(Addr::IpmbDirect(ok))
        );
        assert_eq!(decode(user(0x81, 1, &[0x40, 0, 0], 12)), Err(Errno::Inval));
        assert_eq!(decode(user(0x81, 0, &[0x40, 0, 0], 9)), Err(Errno::Inval));
        assert_eq!(decode(user(0x81, 0, &[0x41, 0, 0], 12)), Err(Errno::Inval));
        assert_eq!(decode(user(0x81, 0, &[0x40, 4, 0], 12)), Err(Errno::Inval));
        assert_eq!(decode(user(0x81, 0, &[0x40, 0, 4], 12)), Err(Errno::Inval));
    }

    #[test]
    fn encode_round_trip() {
        let mut out = [0xffu8; IPMI_ADDR_SIZE];
        let lan = Addr::Lan(LanAddr {
            channel: 6,
            privilege: 2,
            session_handle: 0x33,
            remote_swid: 0x81,
            local_swid: 0x20,
            lun: 3,
        });
        assert_eq!(lan.encode(&mut out), 12);
        let mut want = [0u8; 12];
        want[0..4].copy_from_slice(&4i32.to_ne_bytes());
        want[4..6].copy_from_slice(&6i16.to_ne_bytes());
        want[6..11].copy_from_slice(&[2, 0x33, 0x81, 0x20, 3]);
        assert_eq!(out[..12], want);
        // Padding and the unused tail are zero, not stale.
        assert!(out[12..].iter().all(|b| *b == 0));
        assert_eq!(Addr::from_user(&out[..12]), Ok(lan));

        let smi = Addr::SystemInterface { lun: 0 };
        assert_eq!(smi.encode(&mut out), 8);
        assert_eq!(out[4..8], [0xf, 0, 0, 0][..]);
        assert_eq!(Addr::from_user(&out[..8]), Ok(smi));

        let direct = Addr::IpmbDirect(IpmbDirectAddr {
            slave_addr: 0x52,
            rs_lun: 1,
            rq_lun: 2,
        });
        assert_eq!(direct.encode(&mut out), 12);
        assert_eq!(out[6..12], [0x52, 1, 2, 0, 0, 0][..]);
        assert_eq!(Addr::from_user(&out[..12]), Ok(direct));

        let bcast = Addr::IpmbBroadcast(IpmbAddr {
            channel: 0,
            slave_addr: 0x40,
            lun: 0,
        });
        assert_eq!(bcast.encode(&mut out), 8);
        assert_eq!(out[0..4], 0x41i32.to_ne_bytes()[..]);
        assert_eq!(Addr::from_user(&out[..8]), Ok(bcast));
    }

    #[test]
    fn recorded_addr_drops_broadcast() {
        let ipmb = IpmbAddr {
            channel: 0,
            slave_addr: 0x40,
            lun: 0,
        };
        assert_eq!(Addr::IpmbBroadcast(ipmb).recorded(), Addr::Ipmb(ipmb));
        assert_eq!(Addr::Ipmb(ipmb).recorded(), Addr::Ipmb(ipmb));
        assert_eq!(Addr::IpmbBroadcast(ipmb).channel(), 0);
        assert_eq!(Addr::SystemInterface { lun: 1 }.channel(), IPMI_BMC_CHANNEL);
    }

    #[test]
    fn addr_equal_like_c() {
        let ipmb = IpmbAddr {
            channel: 1,
            slave_addr: 0x40,
            lun: 2,
        };
        let a = Addr::Ipmb(ipmb);
        assert!(a.matches(&a));
        assert!(!a.matches(&Addr::Ipmb(IpmbAddr { lun: 0, ..ipmb })));
        assert!(!a.matches(&Addr::Ipmb(IpmbAddr { channel: 2, ..ipmb })));
        assert!(!a.matches(&Addr::Ipmb(IpmbAddr {
            slave_addr: 0x42,
            ..ipmb
        })));
        // Types must match exactly: broadcast and plain IPMB differ.
        assert!(!a.matches(&Addr::IpmbBroadcast(ipmb)));

        let lan = TEST_LAN;
        let l = Addr::Lan(lan);
        // The privilege level is not compared.
        assert!(l.matches(&Addr::Lan(LanAddr {
            privilege: 0,
            ..lan
        })));
        assert!(!l.matches(&Addr::Lan(LanAddr {
            session_handle: 0x12,
            ..lan
        })));
        assert!(!l.matches(&Addr::Lan(LanAddr {
            remote_swid: 0x83,
            ..lan
        })));
        assert!(!l.matches(&Addr::Lan(LanAddr {
            local_swid: 0x43,
            ..lan
        })));
        assert!(!l.matches(&Addr::Lan(LanAddr { lun: 0, ..lan })));

        let s = Addr::SystemInterface { lun: 0 };
        assert!(s.matches(&Addr::SystemInterface { lun: 0 }));
        assert!(!s.matches(&Addr::SystemInterface { lun: 1 }));
        let d = Addr::IpmbDirect(IpmbDirectAddr {
            slave_addr: 0x40,
            rs_lun: 0,
            rq_lun: 1,
        });
        assert!(d.matches(&d));
        assert!(!d.matches(&Addr::IpmbDirect(IpmbDirectAddr {
            slave_addr: 0x40,
            rs_lun: 1,
            rq_lun: 1,
        })));
    }
}

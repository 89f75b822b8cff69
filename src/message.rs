// SPDX-License-Identifier: GPL-2.0

//! IPMI message encoding and decoding (pure): checksums, network functions, the requests the
//! message handler sends through the system interface, and the Get Message responses it
//! receives.
//!
//! C counterpart: `ipmb_checksum()`, `is_maintenance_mode_cmd()`, `i_ipmi_req_sysintf()`,
//! `i_ipmi_req_ipmb()`, `i_ipmi_req_lan()`, `format_ipmb_msg()`, `format_lan_msg()`,
//! `handle_one_recv_msg()`, `handle_ipmb_get_msg_rsp()`, `handle_ipmb_get_msg_cmd()`,
//! `handle_lan_get_msg_rsp()`, `handle_lan_get_msg_cmd()` and `handle_oem_get_msg_cmd()` in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c); the constants come from
//! [`ipmi_msgdefs.h`](srctree/include/uapi/linux/ipmi_msgdefs.h).
//!
//! Byte positions below are those of the C code. In a Get Message response, `rsp[0]` is the
//! response netfn/LUN byte, `rsp[1]` the command (0x33), `rsp[2]` the completion code and
//! `rsp[3]` the privilege and channel byte; the message from the channel follows.

use crate::addr::{Addr, IpmbAddr, LanAddr};
use crate::defs::{
    is_response_netfn, lun_of, netfn_lun, netfn_of, Cc, IPMI_CHANNEL_MEDIUM_8023LAN,
    IPMI_CHANNEL_MEDIUM_ASYNC, IPMI_CHANNEL_MEDIUM_IPMB, IPMI_CHANNEL_MEDIUM_OEM_MAX,
    IPMI_CHANNEL_MEDIUM_OEM_MIN, IPMI_CMD_RECV_TYPE, IPMI_COLD_RESET_CMD, IPMI_GET_MSG_CMD,
    IPMI_MAX_CHANNELS, IPMI_MAX_LUN, IPMI_MAX_MSG_LENGTH, IPMI_NETFN_APP_REQUEST,
    IPMI_NETFN_FIRMWARE_REQUEST, IPMI_OEM_RECV_TYPE, IPMI_READ_EVENT_MSG_BUFFER_CMD,
    IPMI_SEND_MSG_CMD, IPMI_WARM_RESET_CMD,
};
use crate::error::Errno;

/// The netfn/LUN byte of a Send Message request (App, LUN 0).
const SEND_MSG: u8 = netfn_lun(IPMI_NETFN_APP_REQUEST, 0);

/// The IPMB two's-complement checksum: the byte that makes `data` plus it sum to zero.
pub(crate) fn ipmb_checksum(data: &[u8]) -> u8 {
    data.iter()
        .fold(0u8, |sum, b| sum.wrapping_add(*b))
        .wrapping_neg()
}

/// Whether `netfn`/`cmd` switches C into maintenance mode, as `is_maintenance_mode_cmd()`.
///
/// Those are Cold Reset and Warm Reset (App 0x02/0x03) and anything in the firmware netfn.
pub(crate) const fn is_maintenance_mode_cmd(netfn: u8, cmd: u8) -> bool {
    (netfn == IPMI_NETFN_APP_REQUEST && (cmd == IPMI_COLD_RESET_CMD || cmd == IPMI_WARM_RESET_CMD))
        || netfn == IPMI_NETFN_FIRMWARE_REQUEST
}

/// The low byte of a user's `msgid`, which C uses as the IPMB/LAN sequence of a sent response.
///
/// `format_ipmb_msg()` and `format_lan_msg()` take it as an `unsigned char`, so only the low
/// eight bits survive (and only six of them fit beside the LUN).
pub(crate) const fn seq_of_user_msgid(msgid: i64) -> u8 {
    msgid.to_le_bytes()[0]
}

/// A message from a user (`struct kernel_ipmi_msg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Msg<'a> {
    /// The network function (even for a request, odd for a response).
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The data bytes, at most `IPMI_MAX_MSG_LENGTH` of them.
    pub(crate) data: &'a [u8],
}

/// A message formatted for the system interface (`smi_msg->data`, `data_size`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SmiMsg {
    /// The bytes; only the first `len` are meaningful.
    data: [u8; IPMI_MAX_MSG_LENGTH],
    /// How many bytes of `data` are used.
    len: usize,
}

impl SmiMsg {
    /// Builds a message from `head` followed by `tail`, or fails with `EMSGSIZE` if it is too long.
    fn new(head: &[u8], tail: &[u8]) -> Result<Self, Errno> {
        let len = head
            .len()
            .checked_add(tail.len())
            .filter(|len| *len <= IPMI_MAX_MSG_LENGTH)
            .ok_or(Errno::MsgSize)?;
        let mut data = [0u8; IPMI_MAX_MSG_LENGTH];
        data[..head.len()].copy_from_slice(head);
        data[head.len()..len].copy_from_slice(tail);
        Ok(Self { data, len })
    }

    /// Appends `byte`, or fails with `EMSGSIZE` if the message is full.
    fn push(&mut self, byte: u8) -> Result<(), Errno> {
        let slot = self.data.get_mut(self.len).ok_or(Errno::MsgSize)?;
        *slot = byte;
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The IPMB checksum of the bytes from `start` to the current end.
    fn checksum_from(&self, start: usize) -> u8 {
        ipmb_checksum(self.as_bytes().get(start..).unwrap_or(&[]))
    }

    /// The bytes to hand to the system interface.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Checks a request the way `i_ipmi_request()` and its per-type helpers do before they format it.
///
/// `medium` is the channel medium (from Get Channel Info) of the address's channel; it is not
/// looked at for the system interface. The checks, and so the errno when several fail, come in
/// C's order:
/// - system interface (`i_ipmi_req_sysintf()`): a response netfn, a LUN over 3, or Send
///   Message, Get Message or Read Event Message Buffer give `EINVAL`. Its length check
///   (`EMSGSIZE`) is in [`format_sysintf_req`], because C updates maintenance mode in between;
/// - IPMB and broadcast (`i_ipmi_req_ipmb()`): a channel that is not IPMB gives `EINVAL`, data
///   over 262 bytes (261 for a broadcast) `EMSGSIZE`, then a LUN over 3 `EINVAL`;
/// - LAN (`i_ipmi_req_lan()`): a channel that is neither 802.3 LAN nor async gives `EINVAL`,
///   data over 260 bytes `EMSGSIZE`, then a LUN over 3 `EINVAL`;
/// - IPMB direct: `EAFNOSUPPORT`, as in C for an interface without
///   `IPMI_SMI_CAN_HANDLE_IPMB_DIRECT` (KCS).
pub(crate) fn check_request(addr: &Addr, medium: u8, msg: &Msg<'_>) -> Result<(), Errno> {
    match addr {
        Addr::SystemInterface { lun } => {
            if is_response_netfn(msg.netfn) || *lun > IPMI_MAX_LUN {
                return Err(Errno::Inval);
            }
            if msg.netfn == IPMI_NETFN_APP_REQUEST
                && matches!(
                    msg.cmd,
                    IPMI_SEND_MSG_CMD | IPMI_GET_MSG_CMD | IPMI_READ_EVENT_MSG_BUFFER_CMD
                )
            {
                return Err(Errno::Inval);
            }
            Ok(())
        }
        Addr::Ipmb(a) | Addr::IpmbBroadcast(a) => {
            if usize::from(a.channel) >= IPMI_MAX_CHANNELS || medium != IPMI_CHANNEL_MEDIUM_IPMB {
                return Err(Errno::Inval);
            }
            let overhead = if matches!(addr, Addr::IpmbBroadcast(_)) {
                11
            } else {
                10
            };
            check_len(msg.data.len(), overhead)?;
            if a.lun > IPMI_MAX_LUN {
                return Err(Errno::Inval);
            }
            Ok(())
        }
        Addr::Lan(a) => {
            if usize::from(a.channel) >= IPMI_MAX_CHANNELS
                || (medium != IPMI_CHANNEL_MEDIUM_8023LAN && medium != IPMI_CHANNEL_MEDIUM_ASYNC)
            {
                return Err(Errno::Inval);
            }
            check_len(msg.data.len(), 12)?;
            if a.lun > IPMI_MAX_LUN {
                return Err(Errno::Inval);
            }
            Ok(())
        }
        Addr::IpmbDirect(_) => Err(Errno::AfNoSupport),
    }
}

/// Fails with `EMSGSIZE` if `data_len` plus `overhead` exceeds `IPMI_MAX_MSG_LENGTH`.
fn check_len(data_len: usize, overhead: usize) -> Result<(), Errno> {
    match data_len.checked_add(overhead) {
        Some(len) if len <= IPMI_MAX_MSG_LENGTH => Ok(()),
        _ => Err(Errno::MsgSize),
    }
}

/// Formats a request to the BMC itself, as the end of `i_ipmi_req_sysintf()`.
///
/// The bytes are `netfn << 2 | lun, cmd, data...`; data over 270 bytes gives `EMSGSIZE`.
pub(crate) fn format_sysintf_req(lun: u8, msg: &Msg<'_>) -> Result<SmiMsg, Errno> {
    check_len(msg.data.len(), 2)?;
    SmiMsg::new(&[netfn_lun(msg.netfn, lun), msg.cmd], msg.data)
}

/// Wraps a message for IPMB in a Send Message request, as `format_ipmb_msg()`.
///
/// The bytes are `0x18, 0x34, channel, [0 if broadcast], rsSA, netfn << 2 | rsLUN, checksum,
/// source_address, seq << 2 | source_lun, cmd, data..., checksum`. `seq` is the sequence-table
/// slot for a request, or [`seq_of_user_msgid`] for a response. Data over 262 bytes (261 for a
/// broadcast) gives `EMSGSIZE`.
pub(crate) fn format_ipmb_msg(
    msg: &Msg<'_>,
    addr: &IpmbAddr,
    broadcast: bool,
    seq: u8,
    source_address: u8,
    source_lun: u8,
) -> Result<SmiMsg, Errno> {
    check_len(msg.data.len(), if broadcast { 11 } else { 10 })?;
    let mut m = SmiMsg::new(&[SEND_MSG, IPMI_SEND_MSG_CMD, addr.channel], &[])?;
    if broadcast {
        m.push(0)?;
    }
    let header = m.len;
    m.push(addr.slave_addr)?;
    m.push(netfn_lun(msg.netfn, addr.lun))?;
    m.push(m.checksum_from(header))?;
    let body = m.len;
    m.push(source_address)?;
    m.push(netfn_lun(seq, source_lun))?;
    m.push(msg.cmd)?;
    for b in msg.data {
        m.push(*b)?;
    }
    m.push(m.checksum_from(body))?;
    Ok(m)
}

/// Wraps a message for a LAN session in a Send Message request, as `format_lan_msg()`.
///
/// The bytes are `0x18, 0x34, channel, session handle, remote SWID, netfn << 2 | lun,
/// checksum, local SWID, seq << 2 | source_lun, cmd, data..., checksum`. Data over 260 bytes
/// gives `EMSGSIZE`: C reserves 12 bytes though the wrapping takes 11.
pub(crate) fn format_lan_msg(
    msg: &Msg<'_>,
    addr: &LanAddr,
    seq: u8,
    source_lun: u8,
) -> Result<SmiMsg, Errno> {
    check_len(msg.data.len(), 12)?;
    let mut m = SmiMsg::new(
        &[
            SEND_MSG,
            IPMI_SEND_MSG_CMD,
            addr.channel,
            addr.session_handle,
        ],
        &[],
    )?;
    let header = m.len;
    m.push(addr.remote_swid)?;
    m.push(netfn_lun(msg.netfn, addr.lun))?;
    m.push(m.checksum_from(header))?;
    let body = m.len;
    m.push(addr.local_swid)?;
    m.push(netfn_lun(seq, source_lun))?;
    m.push(msg.cmd)?;
    for b in msg.data {
        m.push(*b)?;
    }
    m.push(m.checksum_from(body))?;
    Ok(m)
}

/// The completion code to report at once for the BMC's answer to one of our Send Messages.
///
/// As `handle_one_recv_msg()`: a non-zero code other than 0xC0, 0x81, 0x82 or 0x83 ends the
/// request now (`intf_err_seq()` with that code); otherwise (`None`) the message went out, or
/// will be retried, and the entry's timer starts (`intf_start_seq_timer()`).
pub(crate) fn send_msg_error(rsp: &[u8]) -> Option<Cc> {
    let cc = Cc(*rsp.get(2)?);
    let retried = [
        Cc::OK,
        Cc::NODE_BUSY,
        Cc::LOST_ARBITRATION,
        Cc::BUS_ERR,
        Cc::NAK_ON_WRITE,
    ];
    (!retried.contains(&cc)).then_some(cc)
}

/// The kind of a channel medium, as far as the message handler cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Medium {
    /// IPMB.
    Ipmb,
    /// 802.3 LAN or asynchronous serial/modem: both carry LAN-format messages.
    Lan,
    /// An OEM medium, 0x60 to 0x7f.
    Oem,
    /// Anything else: C drops Get Message responses from such a channel.
    Other,
}

impl Medium {
    /// Classifies a channel medium number from Get Channel Info.
    pub(crate) const fn from_channel_medium(medium: u8) -> Self {
        match medium {
            IPMI_CHANNEL_MEDIUM_IPMB => Medium::Ipmb,
            IPMI_CHANNEL_MEDIUM_8023LAN | IPMI_CHANNEL_MEDIUM_ASYNC => Medium::Lan,
            IPMI_CHANNEL_MEDIUM_OEM_MIN..=IPMI_CHANNEL_MEDIUM_OEM_MAX => Medium::Oem,
            _ => Medium::Other,
        }
    }
}

/// The channel a Get Message response came from: `rsp[3] & 0xf` (0 if the byte is missing).
pub(crate) fn get_msg_channel(rsp: &[u8]) -> u8 {
    rsp.get(3).map_or(0, |b| b & 0xf)
}

/// A response from another channel to one of our requests, to look up in the sequence table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IncomingRsp<'a> {
    /// The responder's address, as `intf_find_seq()` compares it.
    pub(crate) addr: Addr,
    /// The sequence number (the table slot).
    pub(crate) seq: u8,
    /// The response netfn, which the user is given.
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The data (completion code first), without the trailing checksum.
    pub(crate) data: &'a [u8],
}

impl IncomingRsp<'_> {
    /// The request netfn to look the response up with: `netfn & ~1`.
    pub(crate) const fn request_netfn(&self) -> u8 {
        self.netfn & !1
    }
}

/// A command from another channel, for a registered receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IncomingCmd<'a> {
    /// The medium it came over.
    pub(crate) medium: Medium,
    /// The channel, `rsp[3] & 0xf`; receivers are looked up by (netfn, cmd, channel).
    pub(crate) chan: u8,
    /// The requester's address, given to the receiver.
    pub(crate) addr: Addr,
    /// The `msgid` given to the receiver: the requester's sequence number (0 for OEM).
    pub(crate) msgid: u8,
    /// The netfn.
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The data given to the receiver (without the trailing checksum for IPMB and LAN).
    pub(crate) data: &'a [u8],
    /// The whole Get Message response, for the "no receiver" answer.
    rsp: &'a [u8],
}

impl IncomingCmd<'_> {
    /// The `recv_type` the receiver gets: `IPMI_OEM_RECV_TYPE` for OEM, else `IPMI_CMD_RECV_TYPE`.
    pub(crate) const fn recv_type(&self) -> i32 {
        match self.medium {
            Medium::Oem => IPMI_OEM_RECV_TYPE,
            _ => IPMI_CMD_RECV_TYPE,
        }
    }

    /// The Send Message that answers 0xC1 when nobody registered for the command.
    ///
    /// `our_addr` is the interface's slave address on the command's channel (used for IPMB). As
    /// in `handle_ipmb_get_msg_cmd()` the IPMB answer is 11 bytes: `0x18, 0x34, rsp[3], rqSA,
    /// (netfn + 1) << 2 | rqLUN, checksum, our_addr, rqSeq << 2 | rsLUN, cmd, 0xC1, checksum`.
    /// As in `handle_lan_get_msg_cmd()` the LAN answer is 12 bytes: `0x18, 0x34, chan, session
    /// handle, rsp[8], (netfn + 1) << 2 | rqLUN, checksum of the previous three bytes, rsp[5],
    /// rqSeq << 2 | rsLUN, cmd, 0xC1, checksum`. OEM channels get no answer (`None`).
    pub(crate) fn no_receiver_answer(&self, our_addr: u8) -> Option<SmiMsg> {
        let r = |i: usize| self.rsp.get(i).copied().unwrap_or(0);
        let rsp_netfn = self.netfn.wrapping_add(1);
        let mut m = match self.medium {
            Medium::Ipmb => {
                let mut m = SmiMsg::new(&[SEND_MSG, IPMI_SEND_MSG_CMD, r(3)], &[]).ok()?;
                m.push(r(6)).ok()?;
                m.push(netfn_lun(rsp_netfn, r(7))).ok()?;
                m.push(m.checksum_from(3)).ok()?;
                m.push(our_addr).ok()?;
                m.push(netfn_lun(netfn_of(r(7)), r(4))).ok()?;
                m.push(r(8)).ok()?;
                m
            }
            Medium::Lan => {
                let mut m = SmiMsg::new(&[SEND_MSG, IPMI_SEND_MSG_CMD, self.chan], &[]).ok()?;
                m.push(r(4)).ok()?;
                m.push(r(8)).ok()?;
                m.push(netfn_lun(rsp_netfn, r(9))).ok()?;
                m.push(m.checksum_from(3)).ok()?;
                m.push(r(5)).ok()?;
                m.push(netfn_lun(netfn_of(r(9)), r(6))).ok()?;
                m.push(self.cmd).ok()?;
                m
            }
            Medium::Oem | Medium::Other => return None,
        };
        let body = m.len.checked_sub(3)?;
        m.push(Cc::INVALID_CMD.0).ok()?;
        m.push(m.checksum_from(body)).ok()?;
        Some(m)
    }
}

/// A Get Message response, decoded for its channel's medium.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetMsg<'a> {
    /// A response to one of our requests (IPMB or LAN).
    Response(IncomingRsp<'a>),
    /// A command for a receiver (IPMB, LAN or OEM).
    Command(IncomingCmd<'a>),
}

/// Why a Get Message response is dropped without further action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetMsgDrop {
    /// Shorter than C's minimum for the medium (C counts it as invalid).
    TooShort,
    /// The Get Message completion code `rsp[2]` is not 0.
    Failed,
    /// The channel's medium is none C handles.
    UnknownMedium,
}

/// Decodes a Get Message response (`rsp`, completion code included) from a channel of `medium`.
///
/// As the Get Message branch of `handle_one_recv_msg()` and its handlers:
/// - IPMB: `rsp[4] & 4` marks a response, which needs 11 bytes (`handle_ipmb_get_msg_rsp()`);
///   a command needs 10 (`handle_ipmb_get_msg_cmd()`). Address from `rsp[6]` and `rsp[7] & 3`,
///   sequence `rsp[7] >> 2`, netfn `rsp[4] >> 2`, command `rsp[8]`, data from `rsp[9]`.
/// - LAN or async: `rsp[6] & 4` marks a response, which needs 13 bytes
///   (`handle_lan_get_msg_rsp()`); a command needs 12 (`handle_lan_get_msg_cmd()`). Session
///   handle `rsp[4]`, local SWID `rsp[5]`, remote SWID `rsp[8]`, privilege `rsp[3] >> 4`, LUN
///   `rsp[9] & 3`, sequence `rsp[9] >> 2`, netfn `rsp[6] >> 2`, command `rsp[10]`, data from
///   `rsp[11]`.
/// - OEM (`handle_oem_get_msg_cmd()`): needs 4 bytes; netfn `rsp[0] >> 2`, command `rsp[1]`,
///   system-interface address with LUN `rsp[0] & 3`, data `rsp[4..]`, all as C does.
///
/// The size is checked before the completion code. C reads `rsp[4]` (or `rsp[6]`) even when the
/// message is shorter; here a missing byte reads as 0, and the message is too short either way.
pub(crate) fn decode_get_msg(rsp: &[u8], medium: u8) -> Result<GetMsg<'_>, GetMsgDrop> {
    let r = |i: usize| rsp.get(i).copied().unwrap_or(0);
    let len = rsp.len();
    let chan = get_msg_channel(rsp);
    let medium = Medium::from_channel_medium(medium);
    let (is_rsp, min) = match medium {
        Medium::Ipmb if r(4) & 4 != 0 => (true, 11),
        Medium::Ipmb => (false, 10),
        Medium::Lan if r(6) & 4 != 0 => (true, 13),
        Medium::Lan => (false, 12),
        Medium::Oem => (false, 4),
        Medium::Other => return Err(GetMsgDrop::UnknownMedium),
    };
    if len < min {
        return Err(GetMsgDrop::TooShort);
    }
    if r(2) != 0 {
        return Err(GetMsgDrop::Failed);
    }
    // The bytes before the data and, for IPMB and LAN, the trailing checksum is dropped.
    let (addr, seq, netfn, cmd, start, end) = match medium {
        Medium::Ipmb => (
            Addr::Ipmb(IpmbAddr {
                channel: chan,
                slave_addr: r(6),
                lun: lun_of(r(7)),
            }),
            netfn_of(r(7)),
            netfn_of(r(4)),
            r(8),
            9,
            len.saturating_sub(1),
        ),
        Medium::Lan => (
            Addr::Lan(LanAddr {
                channel: chan,
                privilege: r(3) >> 4,
                session_handle: r(4),
                remote_swid: r(8),
                local_swid: r(5),
                lun: lun_of(r(9)),
            }),
            netfn_of(r(9)),
            netfn_of(r(6)),
            r(10),
            11,
            len.saturating_sub(1),
        ),
        _ => (
            Addr::SystemInterface { lun: lun_of(r(0)) },
            0,
            netfn_of(r(0)),
            r(1),
            4,
            len,
        ),
    };
    let data = rsp.get(start..end).unwrap_or(&[]);
    if is_rsp {
        Ok(GetMsg::Response(IncomingRsp {
            addr,
            seq,
            netfn,
            cmd,
            data,
        }))
    } else {
        Ok(GetMsg::Command(IncomingCmd {
            medium,
            chan,
            addr,
            msgid: seq,
            netfn,
            cmd,
            data,
            rsp,
        }))
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_message))]
mod tests {
    use super::*;
    use crate::addr::{IpmbDirectAddr, TEST_LAN};

    #[test]
    fn checksum_of_empty_is_zero() {
        assert_eq!(ipmb_checksum(&[]), 0);
    }

    #[test]
    fn checksum_makes_sum_zero() {
        // The header of the 0xC1 answer the C stack sent for an unregistered IPMB command.
        let header = [0x40u8, 0xc4];
        assert_eq!(ipmb_checksum(&header), 0xfc);
        let body = [0x20u8, 0x22, 0x06, 0xc1];
        assert_eq!(ipmb_checksum(&body), 0xf7);
    }

    /// The command in a decoded Get Message, if it is one.
    fn as_cmd(got: Result<GetMsg<'_>, GetMsgDrop>) -> Option<IncomingCmd<'_>> {
        match got {
            Ok(GetMsg::Command(c)) => Some(c),
            _ => None,
        }
    }

    /// The response in a decoded Get Message, if it is one.
    fn as_rsp(got: Result<GetMsg<'_>, GetMsgDrop>) -> Option<IncomingRsp<'_>> {
        match got {
            Ok(GetMsg::Response(r)) => Some(r),
            _ => None,
        }
    }

    /// The IPMB address of the loopback MC in QEMU's simulated BMC.
    const MC: IpmbAddr = IpmbAddr {
        channel: 0,
        slave_addr: 0x40,
        lun: 2,
    };

    /// A LAN address used by several tests.
    const LAN: LanAddr = TEST_LAN;

    /// A buffer of `IPMI_MAX_MSG_LENGTH` bytes counting up, for length tests.
    const BIG: [u8; IPMI_MAX_MSG_LENGTH] = {
        let mut b = [0u8; IPMI_MAX_MSG_LENGTH];
        let mut i = 0;
        while i < IPMI_MAX_MSG_LENGTH {
            b[i] = (i % 256) as u8;
            i += 1;
        }
        b
    };

    /// Get Device ID (App 0x01) without data.
    const GET_DEVICE_ID: Msg<'static> = Msg {
        netfn: 0x06,
        cmd: 0x01,
        data: &[],
    };

    #[test]
    fn maintenance_mode_cmds() {
        assert!(is_maintenance_mode_cmd(0x06, 0x02));
        assert!(is_maintenance_mode_cmd(0x06, 0x03));
        assert!(is_maintenance_mode_cmd(0x08, 0x00));
        assert!(is_maintenance_mode_cmd(0x08, 0xff));
        assert!(!is_maintenance_mode_cmd(0x06, 0x01));
        assert!(!is_maintenance_mode_cmd(0x07, 0x02));
        assert!(!is_maintenance_mode_cmd(0x09, 0x02));
        assert!(!is_maintenance_mode_cmd(0x0a, 0x03));
    }

    #[test]
    fn sysintf_request_bytes() {
        let m = format_sysintf_req(0, &GET_DEVICE_ID);
        assert_eq!(m.map(|m| m.as_bytes() == [0x18, 0x01]), Ok(true));
        let msg = Msg {
            netfn: 0x0a,
            cmd: 0x10,
            data: &[1, 2],
        };
        let m = format_sysintf_req(2, &msg);
        assert_eq!(m.map(|m| m.as_bytes() == [0x2a, 0x10, 1, 2]), Ok(true));
        // 270 data bytes fill the 272-byte message; one more is EMSGSIZE.
        let full = Msg {
            data: &BIG[..270],
            ..msg
        };
        assert_eq!(
            format_sysintf_req(0, &full).map(|m| m.as_bytes().len()),
            Ok(272)
        );
        let over = Msg {
            data: &BIG[..271],
            ..msg
        };
        assert_eq!(format_sysintf_req(0, &over), Err(Errno::MsgSize));
    }

    #[test]
    fn sysintf_request_checks() {
        let smi = Addr::SystemInterface { lun: 0 };
        let msg = |netfn, cmd| Msg {
            netfn,
            cmd,
            data: &[],
        };
        assert_eq!(check_request(&smi, 0, &GET_DEVICE_ID), Ok(()));
        // Responses may not go to the BMC.
        assert_eq!(check_request(&smi, 0, &msg(0x07, 0x01)), Err(Errno::Inval));
        assert_eq!(
            check_request(&Addr::SystemInterface { lun: 3 }, 0, &GET_DEVICE_ID),
            Ok(())
        );
        assert_eq!(
            check_request(&Addr::SystemInterface { lun: 4 }, 0, &GET_DEVICE_ID),
            Err(Errno::Inval)
        );
        // The handler owns Send Message, Get Message and Read Event Message Buffer.
        assert_eq!(check_request(&smi, 0, &msg(0x06, 0x34)), Err(Errno::Inval));
        assert_eq!(check_request(&smi, 0, &msg(0x06, 0x33)), Err(Errno::Inval));
        assert_eq!(check_request(&smi, 0, &msg(0x06, 0x35)), Err(Errno::Inval));
        assert_eq!(check_request(&smi, 0, &msg(0x06, 0x36)), Ok(()));
        assert_eq!(check_request(&smi, 0, &msg(0x0a, 0x34)), Ok(()));
        // The length is checked when formatting, after maintenance mode was updated.
        let long = Msg {
            netfn: 0x06,
            cmd: 0x02,
            data: &BIG[..271],
        };
        assert_eq!(check_request(&smi, 0, &long), Ok(()));
    }

    #[test]
    fn ipmb_request_bytes() {
        // Checked against the C format_ipmb_msg(): Get Device ID to 0x40 LUN 2, seq 5.
        let m = format_ipmb_msg(&GET_DEVICE_ID, &MC, false, 5, 0x20, 0);
        let want = [0x18, 0x34, 0x00, 0x40, 0x1a, 0xa6, 0x20, 0x14, 0x01, 0xcb];
        assert_eq!(m.map(|m| m.as_bytes() == want), Ok(true));
    }

    #[test]
    fn ipmb_broadcast_bytes() {
        // A broadcast adds a zero after the channel; seq 63, our LUN 2.
        let msg = Msg {
            data: &[0xaa],
            ..GET_DEVICE_ID
        };
        let addr = IpmbAddr { lun: 0, ..MC };
        let m = format_ipmb_msg(&msg, &addr, true, 63, 0x20, 2);
        let want = [
            0x18, 0x34, 0x00, 0x00, 0x40, 0x18, 0xa8, 0x20, 0xfe, 0x01, 0xaa, 0x37,
        ];
        assert_eq!(m.map(|m| m.as_bytes() == want), Ok(true));
    }

    #[test]
    fn ipmb_response_uses_user_msgid() {
        // A response carries the low byte of the user's msgid as its sequence, shifted as C does.
        assert_eq!(seq_of_user_msgid(0x1234567), 0x67);
        assert_eq!(seq_of_user_msgid(-1), 0xff);
        let msg = Msg {
            netfn: 0x07,
            cmd: 0x22,
            data: &[0x00, 0x99],
        };
        let addr = IpmbAddr {
            channel: 3,
            slave_addr: 0x52,
            lun: 1,
        };
        let m = format_ipmb_msg(&msg, &addr, false, seq_of_user_msgid(0x1234567), 0x20, 1);
        let want = [
            0x18, 0x34, 0x03, 0x52, 0x1d, 0x91, 0x20, 0x9d, 0x22, 0x00, 0x99, 0x88,
        ];
        assert_eq!(m.map(|m| m.as_bytes() == want), Ok(true));
    }

    #[test]
    fn lan_request_bytes() {
        // Checked against the C format_lan_msg(): netfn 0x0a cmd 0x10, seq 3, our LUN 2.
        let msg = Msg {
            netfn: 0x0a,
            cmd: 0x10,
            data: &[1, 2],
        };
        let m = format_lan_msg(&msg, &LAN, 3, 2);
        let want = [
            0x18, 0x34, 0x02, 0x11, 0x81, 0x29, 0x56, 0x41, 0x0e, 0x10, 0x01, 0x02, 0x9e,
        ];
        assert_eq!(m.map(|m| m.as_bytes() == want), Ok(true));
    }

    #[test]
    fn wrapped_length_limits() {
        let msg = |n: usize| Msg {
            data: &BIG[..n],
            ..GET_DEVICE_ID
        };
        let len = |r: Result<SmiMsg, Errno>| r.map(|m| m.as_bytes().len());
        assert_eq!(
            len(format_ipmb_msg(&msg(262), &MC, false, 0, 0x20, 0)),
            Ok(272)
        );
        assert_eq!(
            len(format_ipmb_msg(&msg(263), &MC, false, 0, 0x20, 0)),
            Err(Errno::MsgSize)
        );
        assert_eq!(
            len(format_ipmb_msg(&msg(261), &MC, true, 0, 0x20, 0)),
            Ok(272)
        );
        assert_eq!(
            len(format_ipmb_msg(&msg(262), &MC, true, 0, 0x20, 0)),
            Err(Errno::MsgSize)
        );
        assert_eq!(len(format_lan_msg(&msg(260), &LAN, 0, 0)), Ok(271));
        assert_eq!(
            len(format_lan_msg(&msg(261), &LAN, 0, 0)),
            Err(Errno::MsgSize)
        );
    }

    /// Checks `check_request()` of a request with `n` data bytes to `addr`, on a channel of
    /// `medium`, for each `(addr, medium, n, result)`.
    fn check_requests(cases: &[(Addr, u8, usize, Result<(), Errno>)]) {
        for &(addr, medium, n, want) in cases {
            let msg = Msg {
                data: &BIG[..n],
                ..GET_DEVICE_ID
            };
            assert_eq!(check_request(&addr, medium, &msg), want);
        }
    }

    #[test]
    fn ipmb_request_checks() {
        let ipmb = Addr::Ipmb(MC);
        let bcast = Addr::IpmbBroadcast(MC);
        let bad_lun = Addr::Ipmb(IpmbAddr { lun: 4, ..MC });
        check_requests(&[
            (ipmb, IPMI_CHANNEL_MEDIUM_IPMB, 0, Ok(())),
            (ipmb, IPMI_CHANNEL_MEDIUM_8023LAN, 0, Err(Errno::Inval)),
            (ipmb, IPMI_CHANNEL_MEDIUM_IPMB, 262, Ok(())),
            (ipmb, IPMI_CHANNEL_MEDIUM_IPMB, 263, Err(Errno::MsgSize)),
            (bcast, IPMI_CHANNEL_MEDIUM_IPMB, 261, Ok(())),
            (bcast, IPMI_CHANNEL_MEDIUM_IPMB, 262, Err(Errno::MsgSize)),
            (bad_lun, IPMI_CHANNEL_MEDIUM_IPMB, 0, Err(Errno::Inval)),
            // C checks the length before the LUN...
            (bad_lun, IPMI_CHANNEL_MEDIUM_IPMB, 263, Err(Errno::MsgSize)),
            // ... but the medium before the length.
            (bad_lun, 0, 263, Err(Errno::Inval)),
        ]);
    }

    #[test]
    fn lan_and_direct_request_checks() {
        let lan = Addr::Lan(LAN);
        let bad_lun = Addr::Lan(LanAddr { lun: 4, ..LAN });
        let direct = Addr::IpmbDirect(IpmbDirectAddr {
            slave_addr: 0x40,
            rs_lun: 0,
            rq_lun: 0,
        });
        check_requests(&[
            (lan, IPMI_CHANNEL_MEDIUM_8023LAN, 0, Ok(())),
            (lan, IPMI_CHANNEL_MEDIUM_ASYNC, 260, Ok(())),
            (lan, IPMI_CHANNEL_MEDIUM_ASYNC, 261, Err(Errno::MsgSize)),
            (lan, IPMI_CHANNEL_MEDIUM_IPMB, 0, Err(Errno::Inval)),
            (bad_lun, IPMI_CHANNEL_MEDIUM_8023LAN, 0, Err(Errno::Inval)),
            (
                bad_lun,
                IPMI_CHANNEL_MEDIUM_8023LAN,
                261,
                Err(Errno::MsgSize),
            ),
            (direct, 0, 0, Err(Errno::AfNoSupport)),
        ]);
    }

    #[test]
    fn send_msg_completion_codes() {
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0x00]), None);
        // Busy, lost arbitration, bus error and NAK are retried on the timer.
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0xc0]), None);
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0x81]), None);
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0x82]), None);
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0x83]), None);
        assert_eq!(send_msg_error(&[0x1c, 0x34, 0x80]), Some(Cc(0x80)));
        assert_eq!(
            send_msg_error(&[0x1c, 0x34, 0xc1, 0x00]),
            Some(Cc::INVALID_CMD)
        );
        assert_eq!(
            send_msg_error(&[0x1c, 0x34, 0xd5]),
            Some(Cc::NOT_IN_MY_STATE)
        );
        // Without a completion code the timer starts too.
        assert_eq!(send_msg_error(&[0x1c, 0x34]), None);
    }

    #[test]
    fn channel_media() {
        assert_eq!(Medium::from_channel_medium(1), Medium::Ipmb);
        assert_eq!(Medium::from_channel_medium(4), Medium::Lan);
        assert_eq!(Medium::from_channel_medium(5), Medium::Lan);
        assert_eq!(Medium::from_channel_medium(0x60), Medium::Oem);
        assert_eq!(Medium::from_channel_medium(0x7f), Medium::Oem);
        assert_eq!(Medium::from_channel_medium(0x80), Medium::Other);
        assert_eq!(Medium::from_channel_medium(6), Medium::Other);
        assert_eq!(Medium::from_channel_medium(0), Medium::Other);
        assert_eq!(get_msg_channel(&[0x1c, 0x33, 0x00, 0x5a]), 0xa);
        assert_eq!(get_msg_channel(&[0x1c, 0x33, 0x00]), 0);
    }

    #[test]
    fn ipmb_command_decoded() {
        // The Get Message of IPMI-REFERENCE.md: 0x40 sends netfn 0x30 cmd 5 data 01 02, seq 7.
        let rsp = [
            0x1c, 0x33, 0x00, 0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c,
        ];
        let c = as_cmd(decode_get_msg(&rsp, IPMI_CHANNEL_MEDIUM_IPMB));
        assert!(c.is_some());
        let Some(c) = c else { return };
        assert_eq!(c.medium, Medium::Ipmb);
        assert_eq!(c.chan, 0);
        let addr = IpmbAddr {
            channel: 0,
            slave_addr: 0x40,
            lun: 0,
        };
        assert_eq!(c.addr, Addr::Ipmb(addr));
        assert_eq!((c.msgid, c.netfn, c.cmd), (7, 0x30, 0x05));
        assert_eq!(c.data, [0x01, 0x02]);
        assert_eq!(c.recv_type(), IPMI_CMD_RECV_TYPE);
    }

    #[test]
    fn ipmb_command_sizes() {
        let mut rsp = [0x1c, 0x33, 0x00, 0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x9c];
        // Ten bytes is a command with no data; nine is too short.
        let got = decode_get_msg(&rsp, 1);
        assert!(matches!(got, Ok(GetMsg::Command(c)) if c.data.is_empty()));
        assert_eq!(decode_get_msg(&rsp[..9], 1), Err(GetMsgDrop::TooShort));
        assert_eq!(decode_get_msg(&rsp[..2], 1), Err(GetMsgDrop::TooShort));
        // A failed Get Message is ignored, once it is long enough.
        rsp[2] = 0x80;
        assert_eq!(decode_get_msg(&rsp, 1), Err(GetMsgDrop::Failed));
        assert_eq!(decode_get_msg(&rsp[..9], 1), Err(GetMsgDrop::TooShort));
    }

    #[test]
    fn ipmb_no_receiver_answer_matches_c() {
        // The C kernel answered this unregistered command with Send Message
        // 00 40 c4 fc 20 22 06 c1 f7 (IPMI-REFERENCE.md).
        let rsp = [0x1c, 0x33, 0x00, 0x00, 0xc2, 0x1e, 0x40, 0x20, 0x06, 0x00];
        let c = as_cmd(decode_get_msg(&rsp, 1));
        assert!(c.is_some());
        let Some(c) = c else { return };
        let want = [
            0x18, 0x34, 0x00, 0x40, 0xc4, 0xfc, 0x20, 0x22, 0x06, 0xc1, 0xf7,
        ];
        assert_eq!(
            c.no_receiver_answer(0x20).map(|m| m.as_bytes() == want),
            Some(true)
        );
    }

    #[test]
    fn ipmb_no_receiver_answer_edges() {
        // rsp[3] is copied whole (privilege bits too), the highest request netfn 0x3e becomes
        // 0x3f, and our address is the caller's. Checked against the C code.
        let rsp = [0x1c, 0x33, 0x00, 0x53, 0xfb, 0x1e, 0x40, 0xff, 0x06, 0x00];
        let c = as_cmd(decode_get_msg(&rsp, 1));
        assert!(c.is_some());
        let Some(c) = c else { return };
        assert_eq!((c.chan, c.netfn, c.msgid), (3, 0x3e, 0x3f));
        let want = [
            0x18, 0x34, 0x53, 0x40, 0xff, 0xc1, 0x22, 0xff, 0x06, 0xc1, 0x18,
        ];
        assert_eq!(
            c.no_receiver_answer(0x22).map(|m| m.as_bytes() == want),
            Some(true)
        );
        // An odd netfn in rsp[4] sets bit 2, so it is decoded as a response, never answered:
        // ten bytes are then too short, eleven are a response.
        let mut odd = [0u8; 11];
        odd[..10].copy_from_slice(&rsp);
        odd[4] = 0xfc;
        assert_eq!(decode_get_msg(&odd[..10], 1), Err(GetMsgDrop::TooShort));
        assert!(matches!(decode_get_msg(&odd, 1), Ok(GetMsg::Response(_))));
    }

    /// Checks that `rsp`, from a channel of `medium`, decodes as a response from `addr` with
    /// `(seq, netfn, request netfn, cmd)` as `head` and `data`, needs `min` bytes, and is
    /// dropped with a non-zero Get Message completion code.
    fn check_response(
        rsp: &[u8],
        medium: u8,
        addr: Addr,
        head: (u8, u8, u8, u8),
        data: &[u8],
        min: usize,
    ) {
        let r = as_rsp(decode_get_msg(rsp, medium));
        assert!(r.is_some());
        let Some(r) = r else { return };
        assert_eq!(r.addr, addr);
        assert_eq!((r.seq, r.netfn, r.request_netfn(), r.cmd), head);
        assert_eq!(r.data, data);
        // A response must hold at least its completion code.
        assert!(
            matches!(decode_get_msg(&rsp[..min], medium), Ok(GetMsg::Response(r)) if r.data.len() == 1)
        );
        assert_eq!(
            decode_get_msg(&rsp[..min - 1], medium),
            Err(GetMsgDrop::TooShort)
        );
        let mut failed = [0u8; 16];
        failed[..rsp.len()].copy_from_slice(rsp);
        failed[2] = 0x80;
        assert_eq!(
            decode_get_msg(&failed[..rsp.len()], medium),
            Err(GetMsgDrop::Failed)
        );
    }

    #[test]
    fn ipmb_response_decoded() {
        // 0x40 LUN 2 answers Get Device ID (seq 5) on channel 1 with cc 0 and one data byte.
        let rsp = [
            0x1c, 0x33, 0x00, 0x01, 0x1c, 0xc4, 0x40, 0x16, 0x01, 0x00, 0x20, 0x89,
        ];
        let addr = IpmbAddr {
            channel: 1,
            slave_addr: 0x40,
            lun: 2,
        };
        check_response(
            &rsp,
            1,
            Addr::Ipmb(addr),
            (5, 0x07, 0x06, 0x01),
            &[0x00, 0x20],
            11,
        );
    }

    #[test]
    fn lan_command_and_no_receiver_answer() {
        // Channel 2 (privilege 4), session 0x11, netfn 0x0a LUN 2, rqSeq 3 LUN 1, cmd 0x10.
        let rsp = [
            0x1c, 0x33, 0x00, 0x42, 0x11, 0x81, 0x2a, 0x00, 0x41, 0x0d, 0x10, 0x01, 0x00,
        ];
        let c = as_cmd(decode_get_msg(&rsp, IPMI_CHANNEL_MEDIUM_8023LAN));
        assert!(c.is_some());
        let Some(c) = c else { return };
        let addr = LanAddr {
            remote_swid: 0x41,
            local_swid: 0x81,
            ..TEST_LAN
        };
        assert_eq!(c.addr, Addr::Lan(addr));
        assert_eq!((c.chan, c.msgid, c.netfn, c.cmd), (2, 3, 0x0a, 0x10));
        assert_eq!(c.data, [0x01]);
        assert_eq!(c.recv_type(), IPMI_CMD_RECV_TYPE);
        // Checked against the C handle_lan_get_msg_cmd(); note its header checksum covers three
        // bytes. Our address does not appear in a LAN answer.
        let want = [
            0x18, 0x34, 0x02, 0x11, 0x41, 0x2d, 0x81, 0x81, 0x0e, 0x10, 0xc1, 0xa0,
        ];
        assert_eq!(
            c.no_receiver_answer(0x20).map(|m| m.as_bytes() == want),
            Some(true)
        );
        // Async (serial) channels carry the same format; 11 bytes are too short.
        assert!(decode_get_msg(&rsp, IPMI_CHANNEL_MEDIUM_ASYNC).is_ok());
        assert_eq!(decode_get_msg(&rsp[..11], 4), Err(GetMsgDrop::TooShort));
    }

    #[test]
    fn lan_response_decoded() {
        // netfn 0x0b LUN 0 (a response), seq 9 LUN 1, cmd 0x10, cc 0, data 0x55, checksum.
        let rsp = [
            0x1c, 0x33, 0x00, 0x22, 0x11, 0x81, 0x2c, 0x00, 0x41, 0x25, 0x10, 0x00, 0x55, 0x00,
        ];
        let addr = LanAddr {
            privilege: 2,
            remote_swid: 0x41,
            local_swid: 0x81,
            ..TEST_LAN
        };
        let head = (9, 0x0b, 0x0a, 0x10);
        check_response(
            &rsp,
            IPMI_CHANNEL_MEDIUM_ASYNC,
            Addr::Lan(addr),
            head,
            &[0x00, 0x55],
            13,
        );
        check_response(
            &rsp,
            IPMI_CHANNEL_MEDIUM_8023LAN,
            Addr::Lan(addr),
            head,
            &[0x00, 0x55],
            13,
        );
    }

    #[test]
    fn oem_command_decoded() {
        let rsp = [0x1d, 0x33, 0x00, 0x03, 0xaa, 0xbb];
        let c = as_cmd(decode_get_msg(&rsp, IPMI_CHANNEL_MEDIUM_OEM_MIN));
        assert!(c.is_some());
        let Some(c) = c else { return };
        // C takes netfn, command and LUN from the Get Message response header itself.
        assert_eq!(c.addr, Addr::SystemInterface { lun: 1 });
        assert_eq!((c.chan, c.msgid, c.netfn, c.cmd), (3, 0, 0x07, 0x33));
        assert_eq!(c.data, [0xaa, 0xbb]);
        assert_eq!(c.recv_type(), IPMI_OEM_RECV_TYPE);
        assert!(c.no_receiver_answer(0x20).is_none());
        // Four bytes are enough (no data); three are not.
        let got = decode_get_msg(&rsp[..4], IPMI_CHANNEL_MEDIUM_OEM_MAX);
        assert!(matches!(got, Ok(GetMsg::Command(c)) if c.data.is_empty()));
        assert_eq!(decode_get_msg(&rsp[..3], 0x7f), Err(GetMsgDrop::TooShort));
        let failed = [0x1d, 0x33, 0xc1, 0x03];
        assert_eq!(decode_get_msg(&failed, 0x60), Err(GetMsgDrop::Failed));
    }

    #[test]
    fn unknown_medium_dropped() {
        let rsp = [
            0x1c, 0x33, 0x00, 0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c,
        ];
        assert_eq!(decode_get_msg(&rsp, 0), Err(GetMsgDrop::UnknownMedium));
        assert_eq!(decode_get_msg(&rsp, 0x0c), Err(GetMsgDrop::UnknownMedium));
        assert_eq!(decode_get_msg(&rsp, 0x80), Err(GetMsgDrop::UnknownMedium));
    }
}

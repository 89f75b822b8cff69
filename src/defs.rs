// SPDX-License-Identifier: GPL-2.0

//! The IPMI numbers ripmi uses, each defined once (pure): network functions, commands, message
//! flags, global enables, completion codes, channel media, receive types, limits, and the
//! netfn/LUN byte that starts every message.
//!
//! C counterparts: [`ipmi_msgdefs.h`](srctree/include/uapi/linux/ipmi_msgdefs.h),
//! [`ipmi.h`](srctree/include/uapi/linux/ipmi.h) and the flag and enable bits of
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c). KCS register codes are in
//! `kcs/sm.rs`, address types in `addr.rs`, ioctl numbers in `uapi.rs`.

// Network functions.

/// `IPMI_NETFN_APP_REQUEST`: the application network function.
pub(crate) const IPMI_NETFN_APP_REQUEST: u8 = 0x06;
/// `IPMI_NETFN_FIRMWARE_REQUEST`: the firmware network function (puts C in maintenance mode).
pub(crate) const IPMI_NETFN_FIRMWARE_REQUEST: u8 = 0x08;

// Application commands.

/// `IPMI_GET_DEVICE_ID_CMD`.
pub(crate) const IPMI_GET_DEVICE_ID_CMD: u8 = 0x01;
/// `IPMI_GET_DEVICE_GUID_CMD`.
pub(crate) const IPMI_GET_DEVICE_GUID_CMD: u8 = 0x08;
/// `IPMI_COLD_RESET_CMD`.
pub(crate) const IPMI_COLD_RESET_CMD: u8 = 0x02;
/// `IPMI_WARM_RESET_CMD`.
pub(crate) const IPMI_WARM_RESET_CMD: u8 = 0x03;
/// `IPMI_SET_BMC_GLOBAL_ENABLES_CMD`.
pub(crate) const IPMI_SET_BMC_GLOBAL_ENABLES_CMD: u8 = 0x2e;
/// `IPMI_GET_BMC_GLOBAL_ENABLES_CMD`.
pub(crate) const IPMI_GET_BMC_GLOBAL_ENABLES_CMD: u8 = 0x2f;
/// `IPMI_CLEAR_MSG_FLAGS_CMD`.
pub(crate) const IPMI_CLEAR_MSG_FLAGS_CMD: u8 = 0x30;
/// `IPMI_GET_MSG_FLAGS_CMD`.
pub(crate) const IPMI_GET_MSG_FLAGS_CMD: u8 = 0x31;
/// `IPMI_GET_MSG_CMD`: fetch a message from the BMC's receive queue.
pub(crate) const IPMI_GET_MSG_CMD: u8 = 0x33;
/// `IPMI_SEND_MSG_CMD`: send a message to another channel.
pub(crate) const IPMI_SEND_MSG_CMD: u8 = 0x34;
/// `IPMI_READ_EVENT_MSG_BUFFER_CMD`.
pub(crate) const IPMI_READ_EVENT_MSG_BUFFER_CMD: u8 = 0x35;
/// `IPMI_GET_CHANNEL_INFO_CMD`.
pub(crate) const IPMI_GET_CHANNEL_INFO_CMD: u8 = 0x42;

// Message flags (Get Message Flags) and global enables (Get/Set BMC Global Enables).

/// Message flag: the receive message queue is not empty (`RECEIVE_MSG_AVAIL`).
pub(crate) const RECEIVE_MSG_AVAIL: u8 = 0x01;
/// Message flag: the event message buffer is full (`EVENT_MSG_BUFFER_FULL`).
pub(crate) const EVENT_MSG_BUFFER_FULL: u8 = 0x02;
/// Message flag: the watchdog pre-timeout interrupt fired (`WDT_PRE_TIMEOUT_INT`).
pub(crate) const WDT_PRE_TIMEOUT_INT: u8 = 0x08;
/// Global enable: receive message queue interrupt (`IPMI_BMC_RCV_MSG_INTR`).
pub(crate) const IPMI_BMC_RCV_MSG_INTR: u8 = 0x01;
/// Global enable: event message buffer full interrupt (`IPMI_BMC_EVT_MSG_INTR`).
pub(crate) const IPMI_BMC_EVT_MSG_INTR: u8 = 0x02;
/// Global enable: event message buffer (`IPMI_BMC_EVT_MSG_BUFF`).
pub(crate) const IPMI_BMC_EVT_MSG_BUFF: u8 = 0x04;

/// An IPMI completion code, the third byte of every response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cc(pub(crate) u8);

impl Cc {
    /// Success.
    pub(crate) const OK: Cc = Cc(0x00);
    /// Lost arbitration on the bus: a Send Message failure C retries (`IPMI_LOST_ARBITRATION_ERR`).
    pub(crate) const LOST_ARBITRATION: Cc = Cc(0x81);
    /// The interface failed: the reply to every request while it is hosed, and a Send Message
    /// failure C retries (`IPMI_BUS_ERR`).
    pub(crate) const BUS_ERR: Cc = Cc(0x82);
    /// NAK on write: a Send Message failure C retries (`IPMI_NAK_ON_WRITE_ERR`).
    pub(crate) const NAK_ON_WRITE: Cc = Cc(0x83);
    /// The node is busy (`IPMI_NODE_BUSY_ERR`).
    pub(crate) const NODE_BUSY: Cc = Cc(0xc0);
    /// Invalid command: the answer to a command nobody registered for
    /// (`IPMI_INVALID_CMD_COMPLETION_CODE`).
    pub(crate) const INVALID_CMD: Cc = Cc(0xc1);
    /// Timeout: a request used up its retries, or was abandoned (`IPMI_TIMEOUT_COMPLETION_CODE`).
    pub(crate) const TIMEOUT: Cc = Cc(0xc3);
    /// The response did not fit and was cut short (`IPMI_ERR_MSG_TRUNCATED`).
    pub(crate) const MSG_TRUNCATED: Cc = Cc(0xc6);
    /// The request is too short (`IPMI_REQ_LEN_INVALID_ERR`).
    pub(crate) const REQ_LEN_INVALID: Cc = Cc(0xc7);
    /// The request is too long (`IPMI_REQ_LEN_EXCEEDED_ERR`).
    pub(crate) const REQ_LEN_EXCEEDED: Cc = Cc(0xc8);
    /// The interface is not in a state to take the request (`IPMI_NOT_IN_MY_STATE_ERR`).
    pub(crate) const NOT_IN_MY_STATE: Cc = Cc(0xd5);
    /// An error with no better code (`IPMI_ERR_UNSPECIFIED`): also how requests still open at
    /// teardown, and answers that do not match their request, are answered.
    pub(crate) const UNSPECIFIED: Cc = Cc(0xff);
}

// Channel media (Get Channel Info).

/// `IPMI_CHANNEL_MEDIUM_IPMB`: the IPMB channel medium.
pub(crate) const IPMI_CHANNEL_MEDIUM_IPMB: u8 = 1;
/// `IPMI_CHANNEL_MEDIUM_8023LAN`: the 802.3 LAN channel medium.
pub(crate) const IPMI_CHANNEL_MEDIUM_8023LAN: u8 = 4;
/// `IPMI_CHANNEL_MEDIUM_ASYNC`: the asynchronous serial/modem channel medium.
pub(crate) const IPMI_CHANNEL_MEDIUM_ASYNC: u8 = 5;
/// `IPMI_CHANNEL_MEDIUM_OEM_MIN`: the first OEM channel medium.
pub(crate) const IPMI_CHANNEL_MEDIUM_OEM_MIN: u8 = 0x60;
/// `IPMI_CHANNEL_MEDIUM_OEM_MAX`: the last OEM channel medium.
pub(crate) const IPMI_CHANNEL_MEDIUM_OEM_MAX: u8 = 0x7f;
/// The bits of Get Channel Info's medium byte that hold the medium (bits 6:0).
pub(crate) const IPMI_CHANNEL_MEDIUM_MASK: u8 = 0x7f;

// Receive types (`recv_type` of `struct ipmi_recv`).

/// `IPMI_RESPONSE_RECV_TYPE`: a response to the user's own request.
pub(crate) const IPMI_RESPONSE_RECV_TYPE: i32 = 1;
/// `IPMI_ASYNC_EVENT_RECV_TYPE`: an event from the event message buffer.
pub(crate) const IPMI_ASYNC_EVENT_RECV_TYPE: i32 = 2;
/// `IPMI_CMD_RECV_TYPE`: a command delivered to a registered receiver.
pub(crate) const IPMI_CMD_RECV_TYPE: i32 = 3;
/// `IPMI_RESPONSE_RESPONSE_TYPE`: the outcome of sending a response the user made.
pub(crate) const IPMI_RESPONSE_RESPONSE_TYPE: i32 = 4;
/// `IPMI_OEM_RECV_TYPE`: a command from an OEM channel.
pub(crate) const IPMI_OEM_RECV_TYPE: i32 = 5;

// Limits and fixed addresses.

/// `IPMI_MAX_MSG_LENGTH`: the largest message, in bytes, either way through the interface.
pub(crate) const IPMI_MAX_MSG_LENGTH: usize = 272;
/// `IPMI_MAX_CHANNELS`: channels are numbered 0 to 15.
pub(crate) const IPMI_MAX_CHANNELS: usize = 16;
/// `IPMI_BMC_CHANNEL`: the channel number of the system interface itself.
pub(crate) const IPMI_BMC_CHANNEL: u8 = 0xf;
/// `IPMI_CHAN_ALL`: every channel, as the legacy (un)registration ioctls pass it.
pub(crate) const IPMI_CHAN_ALL: u32 = !0;
/// `IPMI_BMC_SLAVE_ADDR`: our default IPMB address on every channel.
pub(crate) const IPMI_BMC_SLAVE_ADDR: u8 = 0x20;
/// `IPMI_BMC_SMS_LUN`: the LUN system software uses (C sets it on every channel).
pub(crate) const IPMI_BMC_SMS_LUN: u8 = 2;
/// The largest LUN: a LUN is two bits.
pub(crate) const IPMI_MAX_LUN: u8 = 3;

// The first byte of every message: the network function in bits 7:2, the LUN in bits 1:0 (the
// same layout carries a sequence number and a LUN in IPMB and LAN messages).

/// The netfn/LUN byte of `netfn` and `lun`.
pub(crate) const fn netfn_lun(netfn: u8, lun: u8) -> u8 {
    (netfn << 2) | (lun & IPMI_MAX_LUN)
}

/// The network function (or sequence number) of a netfn/LUN byte.
pub(crate) const fn netfn_of(b: u8) -> u8 {
    b >> 2
}

/// The LUN of a netfn/LUN byte.
pub(crate) const fn lun_of(b: u8) -> u8 {
    b & IPMI_MAX_LUN
}

/// Whether `netfn` is a response network function (odd values are responses).
pub(crate) const fn is_response_netfn(netfn: u8) -> bool {
    netfn & 1 != 0
}

/// The response network function that answers a request with `netfn`.
pub(crate) const fn response_netfn(netfn: u8) -> u8 {
    netfn | 1
}

/// The netfn/LUN byte of the response to a request that started with `b`.
pub(crate) const fn response_header(b: u8) -> u8 {
    netfn_lun(response_netfn(netfn_of(b)), lun_of(b))
}

/// The three-byte answer `[response netfn/LUN, cmd, cc]` to the request `req`, for a request
/// the interface answers itself (refused, abandoned, or answered by something else).
pub(crate) fn error_response(req: &[u8], cc: Cc) -> [u8; 3] {
    let b = |i: usize| req.get(i).copied().unwrap_or(0);
    [response_header(b(0)), b(1), cc.0]
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_defs))]
mod tests {
    use super::*;

    #[test]
    fn netfn_parity() {
        assert!(!is_response_netfn(0x06));
        assert!(is_response_netfn(0x07));
        assert_eq!(response_netfn(0x30), 0x31);
        assert_eq!(response_netfn(0x31), 0x31);
    }

    /// The values of `ipmi_msgdefs.h` and `ipmi.h` that userspace sees.
    #[test]
    fn uapi_values() {
        assert_eq!(Cc::INVALID_CMD.0, 0xc1);
        assert_eq!(Cc::TIMEOUT.0, 0xc3);
        assert_eq!(IPMI_RESPONSE_RECV_TYPE, 1);
        assert_eq!(IPMI_MAX_MSG_LENGTH, 272);
    }

    /// The netfn/LUN byte as C builds it: Get Device ID is 0x18, its response 0x1c.
    #[test]
    fn netfn_lun_byte() {
        assert_eq!(netfn_lun(IPMI_NETFN_APP_REQUEST, 0), 0x18);
        assert_eq!(netfn_lun(IPMI_NETFN_APP_REQUEST, 6), 0x1a);
        assert_eq!(response_header(0x1a), 0x1e);
        assert_eq!(response_header(0x1c), 0x1c);
        assert_eq!((netfn_of(0x1e), lun_of(0x1e)), (0x07, 2));
        assert_eq!(
            error_response(&[0x18, IPMI_GET_DEVICE_ID_CMD], Cc::UNSPECIFIED),
            [0x1c, 0x01, 0xff]
        );
        assert_eq!(error_response(&[], Cc::TIMEOUT), [0x04, 0x00, 0xc3]);
    }
}

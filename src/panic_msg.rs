// SPDX-License-Identifier: GPL-2.0

//! What a kernel panic sends to the BMC (`panic_op`), byte for byte as C `send_panic_events()`
//! builds it (pure).
//!
//! C counterpart: `send_panic_events()`, `device_id_fetcher()` and `event_receiver_fetcher()`
//! in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c). `handler/panic.rs`
//! sends these messages in run-to-completion mode; `Documentation/panic.rst` describes it all.

use crate::bmc_id::DeviceId;
use crate::defs::{netfn_lun, IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST};

/// `IPMI_NETFN_SENSOR_EVENT_REQUEST`.
pub(crate) const IPMI_NETFN_SENSOR_EVENT_REQUEST: u8 = 0x04;
/// `IPMI_NETFN_STORAGE_REQUEST`.
pub(crate) const IPMI_NETFN_STORAGE_REQUEST: u8 = 0x0a;

/// `IPMI_GET_EVENT_RECEIVER_CMD` (Sensor/Event netfn).
pub(crate) const IPMI_GET_EVENT_RECEIVER_CMD: u8 = 0x01;
/// The Platform Event Message command (Sensor/Event netfn).
pub(crate) const IPMI_PLATFORM_EVENT_CMD: u8 = 0x02;
/// `IPMI_ADD_SEL_ENTRY_CMD` (Storage netfn).
pub(crate) const IPMI_ADD_SEL_ENTRY_CMD: u8 = 0x44;
/// Characters of the panic string in one OEM SEL record.
pub(crate) const CHARS_PER_RECORD: usize = 11;
/// Data bytes of an Add SEL Entry request.
pub(crate) const RECORD_LEN: usize = 16;

/// The `panic_op` parameter (C `enum ipmi_panic_event_op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PanicOp {
    /// Send nothing.
    None,
    /// The Platform Event Message only.
    Event,
    /// The event, then the panic string as OEM SEL records.
    String,
}

impl PanicOp {
    /// The parameter's value (0, 1, 2 as C's enum; anything else is `None`).
    pub(crate) const fn from_param(v: u32) -> Self {
        match v {
            1 => PanicOp::Event,
            2 => PanicOp::String,
            _ => PanicOp::None,
        }
    }
}

/// The Platform Event Message for the system interface, `[netfn << 2 | lun, cmd, 8 data]`:
/// generator 0x41 (kernel), EvMRev 0x03, sensor type 0x20 (OS Critical Stop), the first
/// character of `msg` as the sensor number, 0x6F (sensor-specific, assertion), 0xA1 (offset 1,
/// run-time stop, OEM data in bytes 2 and 3), then its second and third characters.
///
/// `msg` is the panic string without its NUL; C reads `str[1]` and `str[2]` as they are, so a
/// shorter string gives its NUL there, and ripmi 0 for anything past it (C reads whatever
/// follows). Without a string C leaves those three bytes uninitialised; ripmi sends 0.
pub(crate) fn platform_event(msg: Option<&[u8]>) -> [u8; 10] {
    let c = |i: usize| msg.and_then(|m| m.get(i).copied()).unwrap_or(0);
    [
        netfn_lun(IPMI_NETFN_SENSOR_EVENT_REQUEST, 0),
        IPMI_PLATFORM_EVENT_CMD,
        0x41,
        0x03,
        0x20,
        c(0),
        0x6f,
        0xa1,
        c(1),
        c(2),
    ]
}

/// Get Device ID for the system interface.
pub(crate) const GET_DEVICE_ID: [u8; 2] =
    [netfn_lun(IPMI_NETFN_APP_REQUEST, 0), IPMI_GET_DEVICE_ID_CMD];

/// Get Event Receiver for the system interface.
pub(crate) const GET_EVENT_RECEIVER: [u8; 2] = [
    netfn_lun(IPMI_NETFN_SENSOR_EVENT_REQUEST, 0),
    IPMI_GET_EVENT_RECEIVER_CMD,
];

/// Whether `rsp` (`[netfn << 2 | lun, cmd, cc, data...]`) is a successful response to `req`.
fn answers(rsp: &[u8], req: &[u8; 2]) -> bool {
    matches!(rsp, [nl, cmd, 0, ..] if nl >> 2 == (req[0] >> 2) | 1 && *cmd == req[1])
}

/// From a Get Device ID response: whether the BMC is a SEL device (bit 2 of Additional Device
/// Support) and an event generator (bit 5), as `device_id_fetcher()`; both false for anything
/// else (C also reads a short response's byte; ripmi takes it as 0).
pub(crate) fn device_caps(rsp: &[u8]) -> (bool, bool) {
    let id = rsp
        .get(2..)
        .filter(|_| answers(rsp, &GET_DEVICE_ID))
        .and_then(DeviceId::parse);
    match id.map(|id| id.additional_device_support) {
        Some(support) => (support & (1 << 2) != 0, support & (1 << 5) != 0),
        None => (false, false),
    }
}

/// From a Get Event Receiver response: the receiver's slave address and LUN, as
/// `event_receiver_fetcher()`; `None` for anything else (C then keeps address 0).
pub(crate) fn event_receiver(rsp: &[u8]) -> Option<(u8, u8)> {
    match rsp.get(3..5) {
        Some(&[addr, lun]) if answers(rsp, &GET_EVENT_RECEIVER) => Some((addr, lun & 3)),
        _ => None,
    }
}

/// Where the OEM records go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SelDest {
    /// The event receiver on IPMB channel 0: slave address and LUN.
    Ipmb(u8, u8),
    /// Our BMC's own SEL, through the system interface.
    Local,
    /// Nowhere: no string is sent.
    Nowhere,
}

/// The destination choice of `send_panic_events()`: the event receiver if its address is a
/// valid IPMB one (even, not 0) other than ours, else our own SEL if the BMC is a SEL device.
pub(crate) fn sel_destination(
    receiver: Option<(u8, u8)>,
    our_addr: u8,
    local_sel: bool,
) -> SelDest {
    match receiver {
        Some((addr, lun)) if addr & 1 == 0 && addr != 0 && addr != our_addr => {
            SelDest::Ipmb(addr, lun)
        }
        _ if local_sel => SelDest::Local,
        _ => SelDest::Nowhere,
    }
}

/// The data of the OEM SEL records holding `msg` (without its NUL), 11 characters each:
/// record ID 0, type 0xF0 (OEM, no timestamp), our address, the sequence number (0, 1, ...,
/// wrapping at 256 as C's `unsigned char`), then the characters padded with NUL.
pub(crate) fn sel_records(msg: &[u8], our_addr: u8) -> impl Iterator<Item = [u8; RECORD_LEN]> + '_ {
    msg.chunks(CHARS_PER_RECORD)
        .enumerate()
        .map(move |(j, chunk)| {
            let mut d = [0u8; RECORD_LEN];
            d[2] = 0xf0;
            d[3] = our_addr;
            d[4] = j as u8;
            d[5..5 + chunk.len()].copy_from_slice(chunk);
            d
        })
}

/// An Add SEL Entry request for the system interface, `[netfn << 2 | lun, cmd, 16 data]`.
pub(crate) fn add_sel_local(record: &[u8; RECORD_LEN]) -> [u8; RECORD_LEN + 2] {
    let mut r = [0u8; RECORD_LEN + 2];
    r[0] = netfn_lun(IPMI_NETFN_STORAGE_REQUEST, 0);
    r[1] = IPMI_ADD_SEL_ENTRY_CMD;
    r[2..].copy_from_slice(record);
    r
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_panic_msg))]
mod tests {
    use super::*;

    #[test]
    fn event_bytes_are_cs() {
        assert_eq!(
            platform_event(Some(b"sysrq triggered crash\n")),
            [0x10, 0x02, 0x41, 0x03, 0x20, b's', 0x6f, 0xa1, b'y', b's']
        );
        assert_eq!(
            platform_event(Some(b"a")),
            [0x10, 0x02, 0x41, 0x03, 0x20, b'a', 0x6f, 0xa1, 0, 0]
        );
        assert_eq!(platform_event(None)[5..], [0, 0x6f, 0xa1, 0, 0]);
    }

    #[test]
    fn records_chunk_the_string() {
        let mut r = [[0u8; RECORD_LEN]; 2];
        assert_eq!(sel_records(b"sysrq triggered crash\n", 0x20).count(), 2);
        for (slot, rec) in r
            .iter_mut()
            .zip(sel_records(b"sysrq triggered crash\n", 0x20))
        {
            *slot = rec;
        }
        let mut first = [0, 0, 0xf0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        first[5..].copy_from_slice(b"sysrq trigg");
        assert_eq!(r[0], first);
        let mut second = [0, 0, 0xf0, 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        second[5..].copy_from_slice(b"ered crash\n");
        assert_eq!(r[1], second);
        assert_eq!(sel_records(b"abcdefghijkl", 0x22).count(), 2);
        let last = sel_records(b"abcdefghijkl", 0x22)
            .nth(1)
            .unwrap_or_default();
        assert_eq!(last[3..7], [0x22, 1, b'l', 0]);
        assert_eq!(sel_records(b"", 0x20).count(), 0);
        let wrapped = sel_records(&[b'x'; 11 * 300], 0x20)
            .nth(256)
            .unwrap_or_default();
        assert_eq!(wrapped[4..6], [0, b'x']);
        assert_eq!(add_sel_local(&r[0])[..3], [0x28, 0x44, 0]);
    }

    #[test]
    fn destination_choice() {
        assert_eq!(sel_destination(None, 0x20, true), SelDest::Local);
        assert_eq!(sel_destination(None, 0x20, false), SelDest::Nowhere);
        assert_eq!(sel_destination(Some((0x20, 0)), 0x20, true), SelDest::Local);
        assert_eq!(sel_destination(Some((0x21, 0)), 0x20, true), SelDest::Local);
        assert_eq!(sel_destination(Some((0, 0)), 0x20, false), SelDest::Nowhere);
        assert_eq!(
            sel_destination(Some((0x40, 2)), 0x20, false),
            SelDest::Ipmb(0x40, 2)
        );
    }

    #[test]
    fn response_parsing() {
        let devid = [0x1c, 0x01, 0, 0x20, 0, 0, 0, 0x02, 0x24, 0, 0, 0, 0, 0];
        assert_eq!(device_caps(&devid), (true, true));
        assert_eq!(
            device_caps(&[0x1c, 0x01, 0, 0x20, 0, 0, 0, 0x02, 0x07]),
            (true, false)
        );
        assert_eq!(device_caps(&[0x1c, 0x01, 0xc1]), (false, false));
        assert_eq!(
            device_caps(&[0x1c, 0x02, 0, 0x20, 0, 0, 0, 0x02, 0x24]),
            (false, false)
        );
        assert_eq!(
            event_receiver(&[0x14, 0x01, 0, 0x40, 0x07]),
            Some((0x40, 3))
        );
        assert_eq!(event_receiver(&[0x14, 0x01, 0xc1, 0x40, 0x07]), None);
        assert_eq!(event_receiver(&[0x14, 0x01, 0]), None);
        assert_eq!(PanicOp::from_param(2), PanicOp::String);
        assert_eq!(PanicOp::from_param(7), PanicOp::None);
    }
}

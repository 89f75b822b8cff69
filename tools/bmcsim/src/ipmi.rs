//! IPMI constants, the two's-complement checksum, channel media and the Get Message layouts.
//!
//! The Get Message (App 0x33) response body after the completion code depends on the medium of
//! the channel the message came from (IPMI v2.0 section 22.6):
//! - IPMB: `priv<<4|chan, netFn<<2|rsLUN, chk1, rqSA, rqSeq<<2|rqLUN, cmd, data..., chk2`, where
//!   `chk1` covers the implied responder address (the BMC, 0x20) and the netFn byte, and `chk2`
//!   covers `rqSA` to the end of the data;
//! - 802.3 LAN and asynchronous serial: `priv<<4|chan, session handle, rsSWID, netFn<<2|rsLUN,
//!   chk1, rqSWID, rqSeq<<2|rqLUN, cmd, data..., chk2`, with `chk1` over `rsSWID` and the netFn byte;
//! - anything else (this simulator's "raw" layout): `priv<<4|chan, netFn<<2|rsLUN, cmd, data...`.

/// Two's-complement checksum: the byte that makes `bytes` plus itself sum to zero.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, &b| acc.wrapping_add(b))
        .wrapping_neg()
}

/// Network function codes (requests; the response is `netfn | 1`).
pub mod netfn {
    /// Chassis.
    pub const CHASSIS: u8 = 0x00;
    /// Sensor/Event.
    pub const SENSOR_EVENT: u8 = 0x04;
    /// Application.
    pub const APP: u8 = 0x06;
    /// Firmware.
    pub const FIRMWARE: u8 = 0x08;
    /// Storage.
    pub const STORAGE: u8 = 0x0A;
    /// Transport.
    pub const TRANSPORT: u8 = 0x0C;
}

/// Application netfn command codes.
pub mod app {
    /// Get Device ID.
    pub const GET_DEVICE_ID: u8 = 0x01;
    /// Cold Reset.
    pub const COLD_RESET: u8 = 0x02;
    /// Warm Reset.
    pub const WARM_RESET: u8 = 0x03;
    /// Get Device GUID.
    pub const GET_DEVICE_GUID: u8 = 0x08;
    /// Reset Watchdog Timer.
    pub const RESET_WATCHDOG: u8 = 0x22;
    /// Set Watchdog Timer.
    pub const SET_WATCHDOG: u8 = 0x24;
    /// Get Watchdog Timer.
    pub const GET_WATCHDOG: u8 = 0x25;
    /// Set BMC Global Enables.
    pub const SET_GLOBAL_ENABLES: u8 = 0x2E;
    /// Get BMC Global Enables.
    pub const GET_GLOBAL_ENABLES: u8 = 0x2F;
    /// Clear Message Flags.
    pub const CLEAR_MSG_FLAGS: u8 = 0x30;
    /// Get Message Flags.
    pub const GET_MSG_FLAGS: u8 = 0x31;
    /// Get Message.
    pub const GET_MSG: u8 = 0x33;
    /// Send Message.
    pub const SEND_MSG: u8 = 0x34;
    /// Read Event Message Buffer.
    pub const READ_EVENT_BUF: u8 = 0x35;
    /// Get System GUID.
    pub const GET_SYSTEM_GUID: u8 = 0x37;
    /// Get Channel Info.
    pub const GET_CHANNEL_INFO: u8 = 0x42;
}

/// Chassis netfn command codes.
pub mod chassis {
    /// Get Chassis Capabilities.
    pub const GET_CAPABILITIES: u8 = 0x00;
    /// Get Chassis Status.
    pub const GET_STATUS: u8 = 0x01;
    /// Chassis Control (data\[0\] bits 3:0, one of the `CTL_*` values).
    pub const CONTROL: u8 = 0x02;
    /// Chassis Control: power down.
    pub const CTL_POWER_DOWN: u8 = 0x00;
    /// Chassis Control: power up.
    pub const CTL_POWER_UP: u8 = 0x01;
    /// Chassis Control: power cycle.
    pub const CTL_POWER_CYCLE: u8 = 0x02;
    /// Chassis Control: hard reset.
    pub const CTL_HARD_RESET: u8 = 0x03;
    /// Chassis Control: pulse the diagnostic interrupt (an NMI).
    pub const CTL_DIAG_INTERRUPT: u8 = 0x04;
    /// Chassis Control: soft shutdown (emulated over-temperature ACPI shutdown).
    pub const CTL_SOFT_SHUTDOWN: u8 = 0x05;
}

/// Storage netfn command codes.
pub mod storage {
    /// Get SDR Repository Info.
    pub const GET_SDR_REPO_INFO: u8 = 0x20;
    /// Get SDR Repository Allocation Info.
    pub const GET_SDR_REPO_ALLOC_INFO: u8 = 0x21;
    /// Reserve SDR Repository.
    pub const RESERVE_SDR_REPO: u8 = 0x22;
    /// Get SDR.
    pub const GET_SDR: u8 = 0x23;
    /// Get SEL Info.
    pub const GET_SEL_INFO: u8 = 0x40;
    /// Get SEL Allocation Info.
    pub const GET_SEL_ALLOC_INFO: u8 = 0x41;
    /// Reserve SEL.
    pub const RESERVE_SEL: u8 = 0x42;
    /// Get SEL Entry.
    pub const GET_SEL_ENTRY: u8 = 0x43;
    /// Clear SEL.
    pub const CLEAR_SEL: u8 = 0x47;
    /// Get SEL Time.
    pub const GET_SEL_TIME: u8 = 0x48;
}

/// Sensor/Event netfn command codes.
pub mod sensor {
    /// Get Device SDR Info (not implemented: 0xC1, so tools use the SDR repository).
    pub const GET_DEVICE_SDR_INFO: u8 = 0x20;
    /// Get Device SDR (not implemented).
    pub const GET_DEVICE_SDR: u8 = 0x21;
    /// Reserve Device SDR Repository (not implemented).
    pub const RESERVE_DEVICE_SDR_REPO: u8 = 0x22;
    /// Get Sensor Hysteresis.
    pub const GET_SENSOR_HYSTERESIS: u8 = 0x25;
    /// Get Sensor Thresholds.
    pub const GET_SENSOR_THRESHOLDS: u8 = 0x27;
    /// Get Sensor Event Enable.
    pub const GET_SENSOR_EVENT_ENABLE: u8 = 0x29;
    /// Get Sensor Event Status.
    pub const GET_SENSOR_EVENT_STATUS: u8 = 0x2B;
    /// Get Sensor Reading.
    pub const GET_SENSOR_READING: u8 = 0x2D;
    /// Get Sensor Type.
    pub const GET_SENSOR_TYPE: u8 = 0x2F;
}

/// Completion codes.
pub mod cc {
    /// Success.
    pub const OK: u8 = 0x00;
    /// Get Message / Read Event Message Buffer: nothing queued; Reset Watchdog: not initialised.
    pub const EMPTY: u8 = 0x80;
    /// Send Message: NAK on write.
    pub const NAK_ON_WRITE: u8 = 0x83;
    /// Invalid command.
    pub const INVALID_CMD: u8 = 0xC1;
    /// Command invalid for this LUN.
    pub const INVALID_FOR_LUN: u8 = 0xC2;
    /// Timeout (what QEMU answers itself after 4 s of silence).
    pub const TIMEOUT: u8 = 0xC3;
    /// Reservation cancelled or invalid reservation ID.
    pub const RESERVATION_CANCELLED: u8 = 0xC5;
    /// Request data length invalid.
    pub const REQ_LEN_INVALID: u8 = 0xC7;
    /// Parameter out of range.
    pub const PARAM_OUT_OF_RANGE: u8 = 0xC9;
    /// Cannot return number of requested data bytes.
    pub const CANNOT_RETURN_BYTES: u8 = 0xCA;
    /// Requested sensor, data or record not present.
    pub const NOT_PRESENT: u8 = 0xCB;
    /// Invalid data field in request.
    pub const INVALID_DATA: u8 = 0xCC;
    /// Command illegal for the specified sensor or record type.
    pub const ILLEGAL_FOR_SENSOR: u8 = 0xCD;
}

/// Channel medium type numbers (IPMI v2.0 table 6-3).
pub mod medium {
    /// IPMB (I2C).
    pub const IPMB: u8 = 0x01;
    /// ICMB v1.0.
    pub const ICMB10: u8 = 0x02;
    /// ICMB v0.9.
    pub const ICMB09: u8 = 0x03;
    /// 802.3 LAN.
    pub const LAN8023: u8 = 0x04;
    /// Asynchronous serial/modem (RS-232).
    pub const ASYNC: u8 = 0x05;
    /// Other LAN.
    pub const OTHER_LAN: u8 = 0x06;
    /// PCI SMBus.
    pub const PCI_SMBUS: u8 = 0x07;
    /// SMBus v1.0/1.1.
    pub const SMBUS1: u8 = 0x08;
    /// SMBus v2.0.
    pub const SMBUS2: u8 = 0x09;
    /// USB 1.x.
    pub const USB1: u8 = 0x0A;
    /// USB 2.x.
    pub const USB2: u8 = 0x0B;
    /// System interface (KCS, SMIC, BT, SSIF).
    pub const SYSTEM: u8 = 0x0C;
    /// First OEM medium number (0x60-0x7F).
    pub const OEM_FIRST: u8 = 0x60;

    /// Names accepted by [`parse`] and printed by [`name`].
    const NAMES: &[(&str, u8)] = &[
        ("ipmb", IPMB),
        ("icmb10", ICMB10),
        ("icmb09", ICMB09),
        ("lan", LAN8023),
        ("async", ASYNC),
        ("otherlan", OTHER_LAN),
        ("pcismbus", PCI_SMBUS),
        ("smbus1", SMBUS1),
        ("smbus2", SMBUS2),
        ("usb1", USB1),
        ("usb2", USB2),
        ("system", SYSTEM),
        ("oem", OEM_FIRST),
    ];

    /// Parses a medium name (`ipmb`, `lan`, ...; also `serial` and `8023lan`) or a hex number.
    pub fn parse(s: &str) -> Option<u8> {
        let lower = s.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "serial" => "async",
            "8023lan" | "802.3" => "lan",
            other => other,
        };
        NAMES
            .iter()
            .find(|(n, _)| *n == alias)
            .map(|&(_, v)| v)
            .or_else(|| super::parse_hex_u8(s).filter(|v| *v < 0x80))
    }

    /// A short name for a medium number (`"0x0d"` style for unnamed ones).
    pub fn name(m: u8) -> String {
        match NAMES.iter().find(|&&(_, v)| v == m) {
            Some((n, _)) => (*n).to_string(),
            None => format!("0x{m:02x}"),
        }
    }
}

/// Channel protocol type numbers (IPMI v2.0 table 6-2).
pub mod protocol {
    /// IPMB-1.0 (also used by LAN and serial channels).
    pub const IPMB: u8 = 0x01;
    /// ICMB-1.0.
    pub const ICMB: u8 = 0x02;
    /// IPMI-SMBus.
    pub const SMBUS: u8 = 0x04;
    /// KCS.
    pub const KCS: u8 = 0x05;

    /// The protocol a channel of medium `m` usually reports.
    pub fn default_for(m: u8) -> u8 {
        match m {
            super::medium::ICMB10 | super::medium::ICMB09 => ICMB,
            super::medium::PCI_SMBUS | super::medium::SMBUS1 | super::medium::SMBUS2 => SMBUS,
            super::medium::SYSTEM => KCS,
            _ => IPMB,
        }
    }
}

/// How an incoming request is laid out in a Get Message response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// IPMB layout (IPMI v2.0 section 22.6).
    Ipmb,
    /// LAN/serial layout, with a session handle and software IDs.
    Lan,
    /// No addressing: `netFn<<2|LUN, cmd, data...` after the channel byte.
    Raw,
}

impl Layout {
    /// The layout the Linux message handler expects for a channel of medium `m`.
    pub fn for_medium(m: u8) -> Layout {
        match m {
            medium::IPMB => Layout::Ipmb,
            medium::LAN8023 | medium::ASYNC => Layout::Lan,
            _ => Layout::Raw,
        }
    }

    /// Parses `ipmb`, `lan` or `raw`.
    pub fn parse(s: &str) -> Option<Layout> {
        match s.to_ascii_lowercase().as_str() {
            "ipmb" => Some(Layout::Ipmb),
            "lan" => Some(Layout::Lan),
            "raw" => Some(Layout::Raw),
            _ => None,
        }
    }
}

/// A message arriving at the BMC from another channel, to be handed to the host by Get Message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Channel number (0-15).
    pub chan: u8,
    /// Privilege level nibble put above the channel number.
    pub privilege: u8,
    /// Network function (6 bits; odd for a response).
    pub netfn: u8,
    /// LUN in the netFn byte (the host's LUN; 2 = SMS).
    pub rs_lun: u8,
    /// Address of the BMC as responder (IPMB: covered by chk1 only; LAN: rsSWID, sent).
    pub rs_addr: u8,
    /// Requester: IPMB slave address or LAN software ID.
    pub rq_addr: u8,
    /// Requester sequence number (6 bits).
    pub rq_seq: u8,
    /// Requester LUN.
    pub rq_lun: u8,
    /// Command code.
    pub cmd: u8,
    /// Request data (for a response, starting with its completion code).
    pub data: Vec<u8>,
    /// LAN session handle.
    pub session_handle: u8,
}

impl Incoming {
    /// Builds the Get Message response body (everything after the completion code).
    pub fn get_msg_body(&self, layout: Layout) -> Vec<u8> {
        let mut out = vec![(self.privilege << 4) | (self.chan & 0x0F)];
        let nf = (self.netfn << 2) | (self.rs_lun & 3);
        let tail_start = match layout {
            Layout::Ipmb => {
                out.extend([nf, checksum(&[self.rs_addr, nf])]);
                out.len()
            }
            Layout::Lan => {
                out.extend([self.session_handle, self.rs_addr, nf]);
                out.push(checksum(&[self.rs_addr, nf]));
                out.len()
            }
            Layout::Raw => {
                out.extend([nf, self.cmd]);
                out.extend(&self.data);
                return out;
            }
        };
        out.extend([
            self.rq_addr,
            ((self.rq_seq & 0x3F) << 2) | (self.rq_lun & 3),
            self.cmd,
        ]);
        out.extend(&self.data);
        out.push(checksum(&out[tail_start..]));
        out
    }
}

/// Parses a hex byte, with or without a `0x` prefix.
pub fn parse_hex_u8(s: &str) -> Option<u8> {
    let t = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if t.is_empty() || t.len() > 2 {
        return None;
    }
    u8::from_str_radix(t, 16).ok()
}

/// Parses a hex number of up to 32 bits, with or without a `0x` prefix.
pub fn parse_hex_u32(s: &str) -> Option<u32> {
    let t = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if t.is_empty() || t.len() > 8 {
        return None;
    }
    u32::from_str_radix(t, 16).ok()
}

/// Parses hex data given as tokens: each token is one or two hex digits, or an even-length run
/// of hex digits (`"01 02"`, `"0102"` and `"1 2"` are all `[1, 2]`).
pub fn parse_hex_bytes<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for tok in tokens {
        let t = tok.strip_prefix("0x").unwrap_or(tok);
        if t.len() <= 2 {
            out.push(parse_hex_u8(t).ok_or_else(|| format!("bad hex byte '{tok}'"))?);
        } else if t.len() % 2 == 0 {
            for i in (0..t.len()).step_by(2) {
                let pair = t.get(i..i + 2).ok_or_else(|| format!("bad hex '{tok}'"))?;
                out.push(parse_hex_u8(pair).ok_or_else(|| format!("bad hex '{tok}'"))?);
            }
        } else {
            return Err(format!("odd-length hex '{tok}'"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Incoming {
        Incoming {
            chan: 0,
            privilege: 0,
            netfn: 0x30,
            rs_lun: 2,
            rs_addr: 0x20,
            rq_addr: 0x40,
            rq_seq: 7,
            rq_lun: 0,
            cmd: 0x05,
            data: vec![0x01, 0x02],
            session_handle: 0,
        }
    }

    #[test]
    fn checksum_makes_the_sum_zero() {
        assert_eq!(checksum(&[]), 0);
        assert_eq!(checksum(&[0x20, 0xc2]), 0x1e);
        assert_eq!(checksum(&[0x40, 0x1c, 0x05, 0x01, 0x02]), 0x9c);
        let bytes = [0x12, 0xff, 0x80, 0x7f];
        let c = checksum(&bytes);
        let total = bytes.iter().fold(c, |a, &b| a.wrapping_add(b));
        assert_eq!(total, 0);
    }

    #[test]
    fn ipmb_layout_matches_the_reference_example() {
        // IPMB request from 0x40, netfn 0x30, cmd 5, data 01 02 on channel 0, rqSeq 7, LUN 2.
        assert_eq!(
            example().get_msg_body(Layout::Ipmb),
            [0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c]
        );
    }

    #[test]
    fn ipmb_layout_offsets_match_the_kernel_parser() {
        // The kernel reads the Get Message response as rsp[0]=netfn, rsp[1]=cmd, rsp[2]=cc,
        // then this body from rsp[3].
        let mut rsp = vec![0x1c, 0x33, 0x00];
        let mut inc = example();
        inc.chan = 2;
        inc.privilege = 3;
        rsp.extend(inc.get_msg_body(Layout::Ipmb));
        assert!(rsp.len() >= 10);
        assert_eq!(rsp[3] & 0x0F, 2);
        assert_eq!(rsp[3] >> 4, 3);
        assert_eq!(rsp[4] >> 2, 0x30);
        assert_eq!(rsp[4] & 4, 0, "a request");
        assert_eq!(rsp[6], 0x40);
        assert_eq!(rsp[7] >> 2, 7);
        assert_eq!(rsp[8], 0x05);
        assert_eq!(&rsp[9..rsp.len() - 1], &[0x01, 0x02]);
        assert_eq!(checksum(&rsp[6..]), 0);
    }

    #[test]
    fn lan_layout_has_handle_swids_and_checksums() {
        let inc = Incoming {
            chan: 1,
            privilege: 4,
            netfn: 0x30,
            rs_lun: 2,
            rs_addr: 0x20,
            rq_addr: 0x81,
            rq_seq: 0x05,
            rq_lun: 1,
            cmd: 0x07,
            data: vec![0xAA],
            session_handle: 0x11,
        };
        let body = inc.get_msg_body(Layout::Lan);
        // chk1 = -(0x20 + 0xc2) = 0x1e; chk2 = -(0x81 + 0x15 + 0x07 + 0xaa) = 0xb9.
        assert_eq!(
            body,
            [0x41, 0x11, 0x20, 0xc2, 0x1e, 0x81, 0x15, 0x07, 0xaa, 0xb9]
        );
        let mut rsp = vec![0x1c, 0x33, 0x00];
        rsp.extend(&body);
        assert!(rsp.len() >= 12);
        assert_eq!(rsp[4], 0x11, "session handle");
        assert_eq!(rsp[5], 0x20, "rsSWID");
        assert_eq!(rsp[6] >> 2, 0x30, "netfn");
        assert_eq!(rsp[8], 0x81, "rqSWID");
        assert_eq!(rsp[9] & 3, 1, "rqLUN");
        assert_eq!(rsp[10], 0x07, "cmd");
        assert_eq!(checksum(&rsp[5..8]), 0);
        assert_eq!(checksum(&rsp[8..]), 0);
    }

    #[test]
    fn raw_layout_is_netfn_cmd_data() {
        let mut inc = example();
        inc.chan = 5;
        assert_eq!(
            inc.get_msg_body(Layout::Raw),
            [0x05, 0xc2, 0x05, 0x01, 0x02]
        );
    }

    #[test]
    fn layouts_follow_the_medium() {
        assert_eq!(Layout::for_medium(medium::IPMB), Layout::Ipmb);
        assert_eq!(Layout::for_medium(medium::LAN8023), Layout::Lan);
        assert_eq!(Layout::for_medium(medium::ASYNC), Layout::Lan);
        assert_eq!(Layout::for_medium(medium::SYSTEM), Layout::Raw);
        assert_eq!(Layout::for_medium(0x60), Layout::Raw);
    }

    #[test]
    fn parses_media_and_hex() {
        assert_eq!(medium::parse("ipmb"), Some(1));
        assert_eq!(medium::parse("LAN"), Some(4));
        assert_eq!(medium::parse("serial"), Some(5));
        assert_eq!(medium::parse("0x60"), Some(0x60));
        assert_eq!(medium::parse("c"), Some(0x0c));
        assert_eq!(medium::parse("80"), None);
        assert_eq!(medium::parse("bogus"), None);
        assert_eq!(medium::name(4), "lan");
        assert_eq!(medium::name(0x0d), "0x0d");
        assert_eq!(parse_hex_u8("0x2e"), Some(0x2e));
        assert_eq!(parse_hex_u8("c1"), Some(0xc1));
        assert_eq!(parse_hex_u8("100"), None);
        assert_eq!(
            parse_hex_bytes(["01", "2", "0a0b"]),
            Ok(vec![1, 2, 0x0a, 0x0b])
        );
        assert!(parse_hex_bytes(["abc"]).is_err());
        assert!(parse_hex_bytes(["zz"]).is_err());
        assert_eq!(parse_hex_u32("1bf2"), Some(0x1bf2));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! IPMI message encoding: checksums and network-function helpers (pure).
//!
//! C counterpart: `ipmb_checksum()` and the netfn handling in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c).

/// The IPMB two's-complement checksum: the byte that makes `data` plus it sum to zero.
pub(crate) fn ipmb_checksum(data: &[u8]) -> u8 {
    data.iter()
        .fold(0u8, |sum, b| sum.wrapping_add(*b))
        .wrapping_neg()
}

/// Whether `netfn` is a response network function (odd values are responses).
pub(crate) const fn is_response_netfn(netfn: u8) -> bool {
    netfn & 1 != 0
}

/// The response network function that answers a request with `netfn`.
pub(crate) const fn response_netfn(netfn: u8) -> u8 {
    netfn | 1
}

#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_message))]
#[cfg_attr(not(MODULE), cfg(test))]
mod tests {
    use super::*;

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

    #[test]
    fn netfn_parity() {
        assert!(!is_response_netfn(0x06));
        assert!(is_response_netfn(0x07));
        assert_eq!(response_netfn(0x30), 0x31);
        assert_eq!(response_netfn(0x31), 0x31);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Command receivers: which user gets an incoming command, by (netfn, cmd, channel) (pure).
//!
//! These are the rules of `ipmi_register_for_cmd()`, `ipmi_unregister_for_cmd()` and
//! `find_cmd_rcvr()` in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c),
//! as merged with "IPMI: Support registering for a command per-channel", written as functions
//! over a slice of entries so the storage can change without changing the semantics:
//! - registering fails with `EBUSY` when any entry (the caller's own included) has the same
//!   netfn/cmd and shares a channel bit; the bits are stored as given, high 16 included;
//! - unregistering clears, for every channel 0..15 named, the caller's entry that matches that
//!   channel, and removes entries left with no bits; `ENOENT` when nothing of the caller's matched;
//! - so a legacy all-channel (`~0`) entry unregistered with `0xffff` leaves `0xffff0000`: it
//!   matches no channel, yet still makes a later legacy registration fail with `EBUSY`.
//!
//! The rules over C's list ([`CmdRcvr`] and its functions) are the reference the `slot_*` rules
//! are tested against; they are in the test build and the host tests only.

use crate::defs::IPMI_MAX_CHANNELS;
use crate::error::Errno;

/// The channels a receiver can be found on ([`IPMI_MAX_CHANNELS`]), as the `u32` bit numbers of
/// a channel mask.
pub(crate) const IPMI_NUM_CHANNELS: u32 = IPMI_MAX_CHANNELS as u32;

/// One registration (C `struct cmd_rcvr`), owned by the user with id `owner`.
#[cfg(any(test, ripmi_test))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CmdRcvr {
    /// The owning user.
    pub(crate) owner: u64,
    /// The request network function.
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The channel bitmask, as given.
    pub(crate) chans: u32,
}

/// Finds the owner of (`netfn`, `cmd`) on channel `chan` (C `find_cmd_rcvr()`).
#[cfg(any(test, ripmi_test))]
pub(crate) fn find(rcvrs: &[CmdRcvr], netfn: u8, cmd: u8, chan: u32) -> Option<u64> {
    let bit = 1u32.checked_shl(chan)?;
    rcvrs
        .iter()
        .find(|r| r.netfn == netfn && r.cmd == cmd && r.chans & bit != 0)
        .map(|r| r.owner)
}

/// Checks that a new registration overlaps no existing one (C `is_cmd_rcvr_exclusive()`).
#[cfg(any(test, ripmi_test))]
pub(crate) fn check_exclusive(
    rcvrs: &[CmdRcvr],
    netfn: u8,
    cmd: u8,
    chans: u32,
) -> Result<(), Errno> {
    if rcvrs
        .iter()
        .any(|r| r.netfn == netfn && r.cmd == cmd && r.chans & chans != 0)
    {
        return Err(Errno::Busy);
    }
    Ok(())
}

/// What an unregistration did to the entries.
#[cfg(any(test, ripmi_test))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unregistered {
    /// How many entries now have no channel bits left and must be removed.
    pub(crate) emptied: usize,
}

/// Clears `chans` from `owner`'s entries for (`netfn`, `cmd`), channel by channel, as C
/// `ipmi_unregister_for_cmd()`; entries whose bits reach 0 are reported, to be removed with
/// [`is_emptied`]. Fails with `ENOENT` when nothing of `owner`'s matched.
#[cfg(any(test, ripmi_test))]
pub(crate) fn unregister(
    rcvrs: &mut [CmdRcvr],
    owner: u64,
    netfn: u8,
    cmd: u8,
    chans: u32,
) -> Result<Unregistered, Errno> {
    let mut found = false;
    let mut emptied = 0;
    for chan in 0..IPMI_NUM_CHANNELS {
        let bit = 1u32 << chan;
        if chans & bit == 0 {
            continue;
        }
        // An entry emptied by an earlier channel of this call has no bit left to match.
        let Some(r) = rcvrs
            .iter_mut()
            .find(|r| r.netfn == netfn && r.cmd == cmd && r.chans & bit != 0)
        else {
            continue;
        };
        if r.owner == owner {
            found = true;
            r.chans &= !chans;
            if r.chans == 0 {
                emptied += 1;
            }
        }
    }
    if found {
        Ok(Unregistered { emptied })
    } else {
        Err(Errno::NoEnt)
    }
}

/// Whether an entry was emptied by [`unregister`] and must now be removed.
///
/// A registration made with `chans == 0` is never removed by unregistering (C keeps it until the
/// user goes away), so only entries that [`unregister`] emptied may be passed here: callers
/// remove the entries that satisfy this right after the call that reported them.
#[cfg(any(test, ripmi_test))]
pub(crate) fn is_emptied(r: &CmdRcvr, netfn: u8, cmd: u8) -> bool {
    r.chans == 0 && r.netfn == netfn && r.cmd == cmd
}

/// Most registrations one (netfn, cmd) slot can hold.
///
/// Registrations of one (netfn, cmd) have pairwise disjoint channel masks (registering fails on
/// any shared bit, unregistering only clears bits), and a slot keeps only non-empty masks (see
/// [`slot_register`]), so there are at most 32 of them, one per bit.
pub(crate) const SLOT_MAX: usize = 32;

/// [`slot_index`]'s marker for a channel nobody owns.
pub(crate) const NO_RCVR: u8 = u8::MAX;

/// One registration in a (netfn, cmd) slot: the owner and the channel bits, as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotRcvr<O> {
    /// The owning user (an id in tests, an `Arc<User>` in the kernel).
    pub(crate) owner: O,
    /// The channel bitmask, as given; never 0 inside a slot.
    pub(crate) chans: u32,
}

/// Whether a registration of `chans` may be added to the slot `rcvrs` (C
/// `is_cmd_rcvr_exclusive()`): `Ok(true)` to add it, `Ok(false)` when `chans` is 0.
///
/// C stores a 0 mask too, but such an entry never matches a channel, never overlaps and can
/// never be unregistered, so it has no effect but memory until its user goes away; the table
/// stores nothing for it, which keeps a slot bounded by [`SLOT_MAX`].
pub(crate) fn slot_register<O>(rcvrs: &[SlotRcvr<O>], chans: u32) -> Result<bool, Errno> {
    if rcvrs.iter().any(|r| r.chans & chans != 0) {
        return Err(Errno::Busy);
    }
    Ok(chans != 0)
}

/// Clears `chans` from the caller's registrations of a slot, channel by channel, as C
/// `ipmi_unregister_for_cmd()`: for each channel 0..15 named, the registration that owns it loses
/// every bit of `chans` if `is_caller` says it is the caller's. The caller then removes the
/// registrations left with no bits. `ENOENT` when nothing of the caller's matched.
pub(crate) fn slot_unregister<O>(
    rcvrs: &mut [SlotRcvr<O>],
    is_caller: impl Fn(&O) -> bool,
    chans: u32,
) -> Result<(), Errno> {
    let mut found = false;
    for chan in 0..IPMI_NUM_CHANNELS {
        let bit = 1u32 << chan;
        if chans & bit == 0 {
            continue;
        }
        let Some(r) = rcvrs.iter_mut().find(|r| r.chans & bit != 0) else {
            continue;
        };
        if is_caller(&r.owner) {
            found = true;
            r.chans &= !chans;
        }
    }
    if found {
        Ok(())
    } else {
        Err(Errno::NoEnt)
    }
}

/// The registration owning each channel 0..15 of a slot, as an index into `rcvrs`, or
/// [`NO_RCVR`]: the precomputed answer of C `find_cmd_rcvr()` for that slot.
pub(crate) fn slot_index<O>(rcvrs: &[SlotRcvr<O>]) -> [u8; IPMI_NUM_CHANNELS as usize] {
    let mut by_chan = [NO_RCVR; IPMI_NUM_CHANNELS as usize];
    for (chan, slot) in by_chan.iter_mut().enumerate() {
        let bit = 1u32 << chan;
        if let Some(i) = rcvrs.iter().position(|r| r.chans & bit != 0) {
            *slot = u8::try_from(i).unwrap_or(NO_RCVR);
        }
    }
    by_chan
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_receivers))]
mod tests {
    use super::*;
    use crate::defs::IPMI_CHAN_ALL;

    fn rcvr(owner: u64, netfn: u8, cmd: u8, chans: u32) -> CmdRcvr {
        CmdRcvr {
            owner,
            netfn,
            cmd,
            chans,
        }
    }

    #[test]
    fn find_matches_channel_bit() {
        let t = [rcvr(1, 0x30, 5, 0b0110)];
        assert_eq!(find(&t, 0x30, 5, 1), Some(1));
        assert_eq!(find(&t, 0x30, 5, 2), Some(1));
        assert_eq!(find(&t, 0x30, 5, 0), None);
        assert_eq!(find(&t, 0x30, 6, 1), None);
        assert_eq!(find(&t, 0x30, 5, 40), None);
    }

    #[test]
    fn overlap_is_busy_for_anyone() {
        let t = [rcvr(1, 0x30, 5, 0b0110)];
        assert_eq!(check_exclusive(&t, 0x30, 5, 0b0100), Err(Errno::Busy));
        assert_eq!(check_exclusive(&t, 0x30, 5, 0b1001), Ok(()));
        assert_eq!(check_exclusive(&t, 0x30, 6, 0b0110), Ok(()));
        // High bits count in the overlap test.
        let t = [rcvr(1, 0x30, 5, 0x1_0000)];
        assert_eq!(
            check_exclusive(&t, 0x30, 5, IPMI_CHAN_ALL),
            Err(Errno::Busy)
        );
    }

    #[test]
    fn partial_unregister_keeps_rest() {
        let mut t = [rcvr(1, 0x30, 5, 0b110)];
        assert_eq!(
            unregister(&mut t, 1, 0x30, 5, 0b010),
            Ok(Unregistered { emptied: 0 })
        );
        assert_eq!(t[0].chans, 0b100);
        assert_eq!(
            unregister(&mut t, 1, 0x30, 5, 0b100),
            Ok(Unregistered { emptied: 1 })
        );
        assert!(is_emptied(&t[0], 0x30, 5));
    }

    #[test]
    fn unregister_of_others_is_enoent() {
        let mut t = [rcvr(1, 0x30, 5, 0b1)];
        assert_eq!(unregister(&mut t, 2, 0x30, 5, 0b1), Err(Errno::NoEnt));
        assert_eq!(t[0].chans, 0b1);
        assert_eq!(unregister(&mut t, 1, 0x30, 7, 0b1), Err(Errno::NoEnt));
    }

    #[test]
    fn legacy_zombie_quirk() {
        let mut t = [rcvr(1, 0x30, 5, IPMI_CHAN_ALL)];
        assert_eq!(
            unregister(&mut t, 1, 0x30, 5, 0xffff),
            Ok(Unregistered { emptied: 0 })
        );
        assert_eq!(t[0].chans, 0xffff_0000);
        assert_eq!(find(&t, 0x30, 5, 3), None);
        assert_eq!(
            check_exclusive(&t, 0x30, 5, IPMI_CHAN_ALL),
            Err(Errno::Busy)
        );
        assert_eq!(check_exclusive(&t, 0x30, 5, 0xffff), Ok(()));
        // A legacy unregister clears the high bits too (every requested bit is cleared) but
        // only through a channel that still matches, so the zombie stays.
        assert_eq!(
            unregister(&mut t, 1, 0x30, 5, IPMI_CHAN_ALL),
            Err(Errno::NoEnt)
        );
    }

    #[test]
    fn zero_chans_entry_never_matches() {
        let mut t = [rcvr(1, 0x30, 5, 0)];
        assert_eq!(find(&t, 0x30, 5, 0), None);
        assert_eq!(check_exclusive(&t, 0x30, 5, 1), Ok(()));
        assert_eq!(unregister(&mut t, 1, 0x30, 5, 1), Err(Errno::NoEnt));
    }

    #[test]
    fn slot_rules() {
        let mut s = [
            SlotRcvr {
                owner: 1u64,
                chans: 0b0110,
            },
            SlotRcvr {
                owner: 2,
                chans: 0x1_0000,
            },
        ];
        assert_eq!(slot_register(&s, 0b0100), Err(Errno::Busy));
        assert_eq!(slot_register(&s, IPMI_CHAN_ALL), Err(Errno::Busy));
        assert_eq!(slot_register(&s, 0b1001), Ok(true));
        assert_eq!(slot_register(&s, 0), Ok(false));
        let idx = slot_index(&s);
        assert_eq!(idx[1], 0);
        assert_eq!(idx[2], 0);
        assert_eq!(idx[0], NO_RCVR);
        assert_eq!(
            slot_unregister(&mut s, |o| *o == 2, 0b0110),
            Err(Errno::NoEnt)
        );
        assert_eq!(slot_unregister(&mut s, |o| *o == 1, 0b0010), Ok(()));
        assert_eq!(s[0].chans, 0b0100);
        assert_eq!(slot_index(&s)[1], NO_RCVR);
        // The high-bit-only registration is unreachable through any channel.
        assert_eq!(
            slot_unregister(&mut s, |o| *o == 2, IPMI_CHAN_ALL),
            Err(Errno::NoEnt)
        );
    }

    #[test]
    fn slot_zombie_quirk() {
        let mut s = [SlotRcvr {
            owner: 1u64,
            chans: IPMI_CHAN_ALL,
        }];
        assert_eq!(slot_unregister(&mut s, |o| *o == 1, 0xffff), Ok(()));
        assert_eq!(s[0].chans, 0xffff_0000);
        assert_eq!(slot_index(&s), [NO_RCVR; 16]);
        assert_eq!(slot_register(&s, IPMI_CHAN_ALL), Err(Errno::Busy));
        assert_eq!(slot_register(&s, 0xffff), Ok(true));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The command receiver table of one interface: who gets an incoming (netfn, cmd) on a channel,
//! looked up in O(1) under the RCU read lock only.
//!
//! C keeps `intf->cmd_rcvrs`, a list walked by `find_cmd_rcvr()` under RCU, and serialises
//! writers on `cmd_rcvrs_mutex` (see `ipmi_register_for_cmd()`, `ipmi_unregister_for_cmd()`
//! and `_ipmi_destroy_user()` in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c)). The rules are the pure
//! `slot_*` functions of [`crate::receivers`]; this file only stores their results:
//!
//! ```text
//! netfns[256]: RcuBox<Cmds>           inline; set on the first registration of a netfn, then
//!                                     never replaced (freed with the table)
//!   Cmds = [RcuBox<Slot>; 256]        one per (netfn, cmd) with registrations, else null
//!     Slot { by_chan[16], rcvrs }     immutable once published; replaced as a whole
//! ```
//!
//! A lookup is three loads: `netfns[netfn]`, `cmds[cmd]` and `by_chan[chan]`, which is the
//! owner itself (a second reference to it, not an index into `rcvrs`). The top level is inline
//! and the arrays have 256 entries, so the `u8` indices need no bounds checks; every level is a
//! `core` atomic pointer load, inlined (the kernel's `SetOnce` reads its state through a C
//! helper); and [`RcvrTable::find`] is inlined into its caller. With those three costs back, a
//! lookup took twice as long (see "Benchmark" in `Documentation/receivers.rst`).
//!
//! A registration only ever involves its own (netfn, cmd), so a writer copies that one slot,
//! applies the rule to the copy, and publishes it (read-copy-update). The old slot, and the
//! `Arc<User>`s it holds, are freed after a grace period.
//!
//! # Invariants
//!
//! - An entry of `netfns` goes from null to a command array once, under the writer mutex, and
//!   is never replaced or cleared while the table lives.
//! - A published slot is never modified, and has at least one registration.
//! - In a slot, `rcvrs` holds non-empty, pairwise disjoint channel masks (so at most
//!   [`SLOT_MAX`]), and `by_chan[c]` is the owner of `rcvrs[slot_index(rcvrs)[c]]` (`None` for
//!   [`NO_RCVR`]).
//!
//! # Locking
//!
//! Readers ([`RcvrTable::find`]): `rcu::read_lock()` only. Writers: [`RcvrTable::writer`], a
//! mutex taken in process context, never under `Interface::inner` (which readers may hold).
//! Writers reach a command array under the RCU read lock too (the lock is what lets them follow
//! the pointer), but allocate, and wait for grace periods, outside it.

use core::sync::atomic::Ordering;

use kernel::{
    alloc::Flags,
    new_mutex,
    prelude::*,
    sync::{rcu, Arc, Mutex},
};

use crate::rcu::{Garbage, RcuBox, Retired};
use crate::receivers::{
    slot_index, slot_register, slot_unregister, SlotRcvr, IPMI_NUM_CHANNELS, NO_RCVR, SLOT_MAX,
};
use crate::user::User;

/// Network functions a registration may name (C takes an `unsigned char`; only 0..63 can ever
/// arrive, but the others still count for `EBUSY` and `ENOENT`).
const NUM_NETFNS: usize = 256;
/// Commands per network function.
const NUM_CMDS: usize = 256;
/// Retired slots parked before a writer waits for a grace period.
const GARBAGE_MAX: usize = 64;

/// The registrations of one (netfn, cmd).
struct Slot {
    /// The owner of each channel 0..15, or `None`: C `find_cmd_rcvr()`'s answer for this
    /// (netfn, cmd), precomputed. A second reference to the user of the owning entry of `rcvrs`.
    by_chan: [Option<Arc<User>>; IPMI_NUM_CHANNELS as usize],
    /// The registrations, with their masks as given.
    rcvrs: KVec<SlotRcvr<Arc<User>>>,
}

impl Slot {
    /// The slot of `rcvrs`, with its channel index.
    fn new(rcvrs: KVec<SlotRcvr<Arc<User>>>) -> Self {
        let index = slot_index(&rcvrs);
        // INVARIANT: `by_chan[c]` is the owner of `rcvrs[index[c]]`, or `None` for `NO_RCVR`.
        let by_chan = core::array::from_fn(|c| match index[c] {
            NO_RCVR => None,
            i => rcvrs.get(usize::from(i)).map(|r| r.owner.clone()),
        });
        Slot { by_chan, rcvrs }
    }
}

/// The slots of one network function, indexed by command.
type Cmds = [RcuBox<Slot>; NUM_CMDS];

/// The registrations of one slot, as a writer copies them to apply a rule.
type Rcvrs = KVec<SlotRcvr<Arc<User>>>;

/// What the writer mutex protects.
pub(crate) struct Writer {
    /// Retired slots waiting for a grace period.
    garbage: Garbage<Slot>,
    /// How many registrations the table holds.
    count: usize,
}

/// The receiver table.
#[pin_data]
pub(crate) struct RcvrTable {
    /// The command array of each network function; see the module documentation.
    netfns: [RcuBox<Cmds>; NUM_NETFNS],
    /// Serialises writers; see the module documentation.
    #[pin]
    writer: Mutex<Writer>,
}

impl RcvrTable {
    /// An empty table (2 KiB: the top-level array, initialised in place).
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        Ok(try_pin_init!(RcvrTable {
            netfns <- pin_init::init_array_from_fn(|_| RcuBox::null()),
            writer <- new_mutex!(
                Writer {
                    garbage: Garbage::new(),
                    count: 0
                },
                "RcvrTable::writer"
            ),
        }? Error))
    }

    /// The owner of (`netfn`, `cmd`) on channel `chan` (C `find_cmd_rcvr()`), in O(1).
    ///
    /// Takes only the RCU read lock; callable from any context.
    #[inline]
    pub(crate) fn find(&self, netfn: u8, cmd: u8, chan: u8) -> Option<Arc<User>> {
        // The slot holds its owners until a grace period after it is replaced, so the clone
        // taken under the read lock keeps the user alive after it.
        self.find_with(netfn, cmd, chan, Arc::clone)
    }

    /// Calls `f` on the owner of (`netfn`, `cmd`) on channel `chan`, under the RCU read lock,
    /// without taking a reference on it: [`RcvrTable::find`] without the refcount.
    ///
    /// `f` runs under the RCU read lock, so it must not sleep.
    #[inline]
    pub(crate) fn find_with<R>(
        &self,
        netfn: u8,
        cmd: u8,
        chan: u8,
        f: impl FnOnce(&Arc<User>) -> R,
    ) -> Option<R> {
        let guard = rcu::read_lock();
        // `u8` indices into arrays of 256: no bounds checks.
        let cmds = self.netfns[usize::from(netfn)].read(&guard)?;
        let slot = cmds[usize::from(cmd)].read(&guard)?;
        slot.by_chan.get(usize::from(chan))?.as_ref().map(f)
    }

    /// How many registrations the table holds.
    pub(crate) fn count(&self) -> usize {
        self.writer.lock().count
    }

    /// Gives `netfn` its command array if it has none yet.
    ///
    /// Called with the writer mutex held, which is what makes the check and the set one step.
    fn alloc_netfn(&self, _w: &mut Writer, netfn: u8) -> Result {
        let entry = &self.netfns[usize::from(netfn)];
        if entry.read(&rcu::read_lock()).is_some() {
            return Ok(());
        }
        let cmds = KBox::init(pin_init::init_array_from_fn(|_| RcuBox::null()), GFP_KERNEL)?;
        // INVARIANT: the entry was null and only writers set it, under the writer mutex, so
        // nothing is replaced (a `Retired` here would be freed after a grace period anyway).
        drop(entry.replace(Some(cmds)));
        Ok(())
    }

    /// Whether `netfn` has a command array.
    fn has_netfn(&self, netfn: u8) -> bool {
        self.netfns[usize::from(netfn)]
            .read(&rcu::read_lock())
            .is_some()
    }

    /// A private copy of the registrations of (`netfn`, `cmd`), with room for `extra` more.
    ///
    /// The writer mutex keeps the slot from changing; the copy is made under the RCU read lock
    /// (which is what keeps the slot alive), the allocation before it.
    fn copy(&self, netfn: u8, cmd: u8, extra: usize, flags: Flags) -> Result<Rcvrs> {
        let entry = &self.netfns[usize::from(netfn)];
        loop {
            let len = {
                let guard = rcu::read_lock();
                entry
                    .read(&guard)
                    .and_then(|cmds| cmds[usize::from(cmd)].read(&guard))
                    .map_or(0, |s| s.rcvrs.len())
            };
            let mut v = KVec::with_capacity(len + extra, flags)?;
            let guard = rcu::read_lock();
            let cur = entry
                .read(&guard)
                .and_then(|cmds| cmds[usize::from(cmd)].read(&guard))
                .map_or(&[][..], |s| &s.rcvrs[..]);
            if cur.len() > len {
                // Only possible without the writer mutex; try again with more room.
                continue;
            }
            for r in cur {
                v.push_within_capacity(r.clone()).map_err(|_| ENOMEM)?;
            }
            drop(guard);
            return Ok(v);
        }
    }

    /// Publishes `rcvrs` (or nothing, if empty) as the new contents of (`netfn`, `cmd`) and
    /// parks the old slot until a grace period has passed.
    ///
    /// `netfn` has a command array (callers checked, under the writer mutex).
    fn publish(&self, w: &mut Writer, netfn: u8, cmd: u8, rcvrs: Rcvrs, flags: Flags) -> Result {
        // INVARIANT: callers pass masks the `slot_*` rules keep non-empty and disjoint.
        let new = if rcvrs.is_empty() {
            None
        } else {
            Some(KBox::new(Slot::new(rcvrs), flags)?)
        };
        // Only the swap is under the read lock; what it returns is dropped after it.
        let swapped: core::result::Result<Option<Retired<Slot>>, _> = {
            let guard = rcu::read_lock();
            match self.netfns[usize::from(netfn)].read(&guard) {
                Some(cmds) => Ok(cmds[usize::from(cmd)].replace(new)),
                None => Err(new),
            }
        };
        let Ok(old) = swapped else {
            // Cannot happen (see above); nothing was published.
            return Err(EINVAL);
        };
        if let Some(old) = old {
            w.garbage.defer(old);
        }
        if w.garbage.len() >= GARBAGE_MAX {
            w.garbage.flush();
        } else {
            w.garbage.collect();
        }
        Ok(())
    }

    /// Registers `user` for (`netfn`, `cmd`) on `chans` (C `ipmi_register_for_cmd()`).
    ///
    /// `EBUSY` on any overlap with a registration of anyone, the caller included.
    ///
    /// # Sleeps
    ///
    /// Takes the writer mutex and allocates with `GFP_KERNEL`.
    pub(crate) fn register(&self, user: &Arc<User>, netfn: u8, cmd: u8, chans: u32) -> Result {
        let mut w = self.writer.lock();
        if chans != 0 {
            self.alloc_netfn(&mut w, netfn)?;
        }
        // Empty when `netfn` has no command array (then `chans` is 0, which stores nothing).
        let mut rcvrs = self.copy(netfn, cmd, 1, GFP_KERNEL)?;
        if !slot_register(&rcvrs, chans)? {
            return Ok(());
        }
        if rcvrs.len() >= SLOT_MAX {
            // Cannot happen: disjoint non-empty masks of 32 bits (module invariants).
            return Err(EBUSY);
        }
        rcvrs
            .push_within_capacity(SlotRcvr {
                owner: user.clone(),
                chans,
            })
            .map_err(|_| ENOMEM)?;
        self.publish(&mut w, netfn, cmd, rcvrs, GFP_KERNEL)?;
        w.count += 1;
        user.registrations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Unregisters `user` from (`netfn`, `cmd`) on `chans` (C `ipmi_unregister_for_cmd()`).
    ///
    /// `ENOENT` when nothing of the caller's matched.
    ///
    /// # Sleeps
    ///
    /// Takes the writer mutex and allocates with `GFP_KERNEL`.
    pub(crate) fn unregister(&self, user: &Arc<User>, netfn: u8, cmd: u8, chans: u32) -> Result {
        let mut w = self.writer.lock();
        if !self.has_netfn(netfn) {
            return Err(ENOENT);
        }
        let mut rcvrs = self.copy(netfn, cmd, 0, GFP_KERNEL)?;
        slot_unregister(&mut rcvrs, |o| Arc::ptr_eq(o, user), chans)?;
        let before = rcvrs.len();
        rcvrs.retain(|r| r.chans != 0);
        let removed = before - rcvrs.len();
        self.publish(&mut w, netfn, cmd, rcvrs, GFP_KERNEL)?;
        w.count -= removed;
        // Only the caller's entries can have been emptied and removed.
        user.registrations.fetch_sub(removed, Ordering::Relaxed);
        Ok(())
    }

    /// Removes every registration of `user` and waits until no reader can still find it (the
    /// receiver part of C `_ipmi_destroy_user()`).
    ///
    /// Closing a file cannot fail, so an allocation that fails is retried (the copies are
    /// small, at most [`SLOT_MAX`] registrations, and `GFP_KERNEL` reclaims for them).
    ///
    /// # Sleeps
    ///
    /// Takes the writer mutex, allocates, and waits for a grace period.
    pub(crate) fn remove_user(&self, user: &Arc<User>) {
        let mut w = self.writer.lock();
        // Without registrations there is nothing to scan (the table has 65536 slots).
        let scan = user.registrations.load(Ordering::Relaxed) != 0;
        for netfn in (0..=u8::MAX).filter(|&n| scan && self.has_netfn(n)) {
            for cmd in 0..=u8::MAX {
                let mine = {
                    let guard = rcu::read_lock();
                    self.netfns[usize::from(netfn)]
                        .read(&guard)
                        .and_then(|cmds| cmds[usize::from(cmd)].read(&guard))
                        .is_some_and(|s| s.rcvrs.iter().any(|r| Arc::ptr_eq(&r.owner, user)))
                };
                if !mine {
                    continue;
                }
                loop {
                    let Ok(mut rcvrs) = self.copy(netfn, cmd, 0, GFP_KERNEL) else {
                        continue;
                    };
                    let before = rcvrs.len();
                    rcvrs.retain(|r| !Arc::ptr_eq(&r.owner, user));
                    let removed = before - rcvrs.len();
                    if self.publish(&mut w, netfn, cmd, rcvrs, GFP_KERNEL).is_ok() {
                        w.count -= removed;
                        user.registrations.fetch_sub(removed, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }
        // Every slot that named `user` is unpublished; after this grace period no reader holds
        // one, so no dispatch can find `user` any more. The wait happens after the mutex is
        // released (as C waits after `cmd_rcvrs_mutex`), so other writers do not queue behind a
        // closing file.
        let mut retired = core::mem::replace(&mut w.garbage, Garbage::new());
        drop(w);
        retired.flush();
    }
}

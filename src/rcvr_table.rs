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
//! netfns[256]: SetOnce<cmds>          allocated on the first registration of a netfn, kept
//!   cmds[256]: RcuBox<Slot>           one per (netfn, cmd) with registrations, else null
//!     Slot { by_chan[16], rcvrs }     immutable once published; replaced as a whole
//! ```
//!
//! A registration only ever involves its own (netfn, cmd), so a writer copies that one slot,
//! applies the rule to the copy, and publishes it (read-copy-update). The old slot, and the
//! `Arc<User>`s it holds, are freed after a grace period.
//!
//! # Invariants
//!
//! - A published slot is never modified, and has at least one registration.
//! - In a slot, `rcvrs` holds non-empty, pairwise disjoint channel masks (so at most
//!   [`SLOT_MAX`]) and `by_chan == slot_index(rcvrs)`.
//!
//! # Locking
//!
//! Readers ([`RcvrTable::find`]): `rcu::read_lock()` only. Writers: [`RcvrTable::writer`], a
//! mutex taken in process context, never under `Interface::inner` (which readers may hold).

use core::sync::atomic::Ordering;

use kernel::{
    alloc::Flags,
    new_mutex,
    prelude::*,
    sync::{rcu, Arc, Mutex, SetOnce},
};

use crate::rcu::{Garbage, RcuBox};
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
    /// The index in `rcvrs` of the owner of each channel 0..15, or [`NO_RCVR`].
    by_chan: [u8; IPMI_NUM_CHANNELS as usize],
    /// The registrations, with their masks as given.
    rcvrs: KVec<SlotRcvr<Arc<User>>>,
}

/// The slots of one network function, indexed by command.
type Cmds = KVec<RcuBox<Slot>>;

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
    /// One entry per network function; see the module documentation.
    netfns: KVec<SetOnce<Cmds>>,
    /// Serialises writers; see the module documentation.
    #[pin]
    writer: Mutex<Writer>,
}

impl RcvrTable {
    /// An empty table (4 KiB: the top-level array).
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let mut netfns = KVec::with_capacity(NUM_NETFNS, GFP_KERNEL)?;
        for _ in 0..NUM_NETFNS {
            netfns
                .push_within_capacity(SetOnce::new())
                .map_err(|_| ENOMEM)?;
        }
        Ok(try_pin_init!(RcvrTable {
            netfns,
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
    pub(crate) fn find(&self, netfn: u8, cmd: u8, chan: u8) -> Option<Arc<User>> {
        let guard = rcu::read_lock();
        let cmds = self.netfns.get(usize::from(netfn))?.as_ref()?;
        let slot = cmds.get(usize::from(cmd))?.read(&guard)?;
        let i = *slot.by_chan.get(usize::from(chan))?;
        if i == NO_RCVR {
            return None;
        }
        // The slot holds its owners until a grace period after it is replaced, so the clone
        // taken under the guard keeps the user alive after it.
        slot.rcvrs.get(usize::from(i)).map(|r| r.owner.clone())
    }

    /// How many registrations the table holds.
    pub(crate) fn count(&self) -> usize {
        self.writer.lock().count
    }

    /// The slot of (`netfn`, `cmd`), allocating its network function's array if `alloc`.
    fn slot(&self, netfn: u8, cmd: u8, alloc: bool) -> Result<Option<&RcuBox<Slot>>> {
        let Some(entry) = self.netfns.get(usize::from(netfn)) else {
            return Ok(None);
        };
        if entry.as_ref().is_none() {
            if !alloc {
                return Ok(None);
            }
            let mut cmds = KVec::with_capacity(NUM_CMDS, GFP_KERNEL)?;
            for _ in 0..NUM_CMDS {
                cmds.push_within_capacity(RcuBox::null())
                    .map_err(|_| ENOMEM)?;
            }
            // Only writers populate, under the writer mutex, so this cannot lose a race; if it
            // did, the other array is as good and ours is dropped.
            let _ = entry.populate(cmds);
        }
        Ok(entry.as_ref().and_then(|cmds| cmds.get(usize::from(cmd))))
    }

    /// A private copy of the registrations of `slot`, with room for `extra` more.
    ///
    /// The writer mutex keeps the slot from changing; the copy is made under the RCU read lock
    /// (which is what keeps the slot alive), the allocation before it.
    fn copy(slot: &RcuBox<Slot>, extra: usize, flags: Flags) -> Result<KVec<SlotRcvr<Arc<User>>>> {
        loop {
            let len = {
                let guard = rcu::read_lock();
                slot.read(&guard).map_or(0, |s| s.rcvrs.len())
            };
            let mut v = KVec::with_capacity(len + extra, flags)?;
            let guard = rcu::read_lock();
            let cur = slot.read(&guard).map_or(&[][..], |s| &s.rcvrs[..]);
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

    /// Publishes `rcvrs` (or nothing, if empty) as the new contents of `slot` and parks the old
    /// slot until a grace period has passed.
    fn publish(
        w: &mut Writer,
        slot: &RcuBox<Slot>,
        rcvrs: KVec<SlotRcvr<Arc<User>>>,
        flags: Flags,
    ) -> Result {
        let new = if rcvrs.is_empty() {
            None
        } else {
            // INVARIANT: callers pass masks the `slot_*` rules keep non-empty and disjoint.
            Some(KBox::new(
                Slot {
                    by_chan: slot_index(&rcvrs),
                    rcvrs,
                },
                flags,
            )?)
        };
        if let Some(old) = slot.replace(new) {
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
        let slot = self.slot(netfn, cmd, chans != 0)?;
        let Some(slot) = slot else {
            // Nothing registered for this netfn, and a 0 mask stores nothing.
            return Ok(());
        };
        let mut rcvrs = Self::copy(slot, 1, GFP_KERNEL)?;
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
        Self::publish(&mut w, slot, rcvrs, GFP_KERNEL)?;
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
        let Some(slot) = self.slot(netfn, cmd, false)? else {
            return Err(ENOENT);
        };
        let mut rcvrs = Self::copy(slot, 0, GFP_KERNEL)?;
        slot_unregister(&mut rcvrs, |o| Arc::ptr_eq(o, user), chans)?;
        let before = rcvrs.len();
        rcvrs.retain(|r| r.chans != 0);
        let removed = before - rcvrs.len();
        Self::publish(&mut w, slot, rcvrs, GFP_KERNEL)?;
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
        let netfns = if user.registrations.load(Ordering::Relaxed) == 0 {
            &self.netfns[..0]
        } else {
            &self.netfns[..]
        };
        for cmds in netfns.iter().filter_map(|e| e.as_ref()) {
            for slot in cmds.iter() {
                let mine = {
                    let guard = rcu::read_lock();
                    slot.read(&guard)
                        .is_some_and(|s| s.rcvrs.iter().any(|r| Arc::ptr_eq(&r.owner, user)))
                };
                if !mine {
                    continue;
                }
                loop {
                    let Ok(mut rcvrs) = Self::copy(slot, 0, GFP_KERNEL) else {
                        continue;
                    };
                    let before = rcvrs.len();
                    rcvrs.retain(|r| !Arc::ptr_eq(&r.owner, user));
                    let removed = before - rcvrs.len();
                    if Self::publish(&mut w, slot, rcvrs, GFP_KERNEL).is_ok() {
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

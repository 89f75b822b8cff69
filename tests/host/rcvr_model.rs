//! Property test: random operation sequences against the slot table (the `slot_*` rules over a
//! map of (netfn, cmd) slots, as `src/rcvr_table.rs` stores them) and against a straightforward
//! model of C's linear list (`intf->cmd_rcvrs`: new entries at the head, `find_cmd_rcvr()`'s
//! first match, entries with a 0 mask kept until their user goes) give identical results for
//! every register, unregister, close and lookup; and the same for the kernel's `RcvrTable`
//! itself (`src/rcvr_table.rs` over `kshim`), with real `User`s.

use std::collections::HashMap;

use kernel::error::code::{EBUSY, ENOENT};
use kernel::sync::Arc;

use crate::defs::IPMI_CHAN_ALL;
use crate::error::Errno;
use crate::rcvr_table::RcvrTable;
use crate::receivers::{slot_index, slot_register, slot_unregister, SlotRcvr, NO_RCVR};

/// C's list, written from ipmi_msghandler.c directly.
#[derive(Default)]
struct CList {
    list: Vec<(u64, u8, u8, u32)>, // (user, netfn, cmd, chans), head first
}

impl CList {
    fn find(&self, netfn: u8, cmd: u8, chan: u32) -> Option<usize> {
        self.list
            .iter()
            .position(|r| r.1 == netfn && r.2 == cmd && r.3 & (1 << chan) != 0)
    }
    fn register(&mut self, user: u64, netfn: u8, cmd: u8, chans: u32) -> Result<(), Errno> {
        if self
            .list
            .iter()
            .any(|r| r.1 == netfn && r.2 == cmd && r.3 & chans != 0)
        {
            return Err(Errno::Busy);
        }
        self.list.insert(0, (user, netfn, cmd, chans));
        Ok(())
    }
    fn unregister(&mut self, user: u64, netfn: u8, cmd: u8, chans: u32) -> Result<(), Errno> {
        let mut rv = Err(Errno::NoEnt);
        for i in 0..16 {
            if chans & (1 << i) == 0 {
                continue;
            }
            let Some(k) = self.find(netfn, cmd, i) else {
                continue;
            };
            if self.list[k].0 == user {
                rv = Ok(());
                self.list[k].3 &= !chans;
                if self.list[k].3 == 0 {
                    self.list.remove(k);
                }
            }
        }
        rv
    }
    fn close(&mut self, user: u64) {
        self.list.retain(|r| r.0 != user);
    }
    fn lookup(&self, netfn: u8, cmd: u8, chan: u32) -> Option<u64> {
        self.find(netfn, cmd, chan).map(|k| self.list[k].0)
    }
}

/// The table: one slot per (netfn, cmd), updated copy-on-write as the kernel does.
#[derive(Default)]
struct Table {
    slots: HashMap<(u8, u8), (Vec<SlotRcvr<u64>>, [u8; 16])>,
}

impl Table {
    fn register(&mut self, user: u64, netfn: u8, cmd: u8, chans: u32) -> Result<(), Errno> {
        let mut v = self
            .slots
            .get(&(netfn, cmd))
            .map(|s| s.0.clone())
            .unwrap_or_default();
        if !slot_register(&v, chans)? {
            return Ok(());
        }
        v.push(SlotRcvr { owner: user, chans });
        assert!(v.len() <= 32);
        self.publish(netfn, cmd, v);
        Ok(())
    }
    fn unregister(&mut self, user: u64, netfn: u8, cmd: u8, chans: u32) -> Result<(), Errno> {
        let mut v = self
            .slots
            .get(&(netfn, cmd))
            .map(|s| s.0.clone())
            .unwrap_or_default();
        slot_unregister(&mut v, |o| *o == user, chans)?;
        v.retain(|r| r.chans != 0);
        self.publish(netfn, cmd, v);
        Ok(())
    }
    fn close(&mut self, user: u64) {
        let keys: Vec<_> = self.slots.keys().copied().collect();
        for k in keys {
            let mut v = self.slots[&k].0.clone();
            v.retain(|r| r.owner != user);
            self.publish(k.0, k.1, v);
        }
    }
    fn publish(&mut self, netfn: u8, cmd: u8, v: Vec<SlotRcvr<u64>>) {
        if v.is_empty() {
            self.slots.remove(&(netfn, cmd));
        } else {
            let idx = slot_index(&v);
            self.slots.insert((netfn, cmd), (v, idx));
        }
    }
    fn lookup(&self, netfn: u8, cmd: u8, chan: u32) -> Option<u64> {
        let (v, idx) = self.slots.get(&(netfn, cmd))?;
        let i = idx[chan as usize];
        (i != NO_RCVR).then(|| v[i as usize].owner)
    }
}

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn mask(&mut self) -> u32 {
        match self.below(8) {
            0 => IPMI_CHAN_ALL,
            1 => 0xffff,
            2 => 0,
            3 => (self.next() as u32) & 0xffff_0000,
            4 => 1 << self.below(32),
            5 => self.next() as u32,
            _ => (self.next() as u32 & self.next() as u32) & 0xffff,
        }
    }
}

fn run(seed: u64, ops: usize) -> (usize, usize) {
    let mut rng = Rng(seed | 1);
    let (mut c, mut t) = (CList::default(), Table::default());
    let (mut ok, mut err) = (0, 0);
    for step in 0..ops {
        let user = rng.below(4);
        // Few keys, so operations collide; netfn above 63 too (C takes an unsigned char).
        let netfn = [0x30u8, 0x2e, 0xc0][rng.below(3) as usize];
        let cmd = rng.below(3) as u8;
        match rng.below(10) {
            0..=3 => {
                let m = rng.mask();
                let (a, b) = (
                    c.register(user, netfn, cmd, m),
                    t.register(user, netfn, cmd, m),
                );
                assert_eq!(
                    a, b,
                    "seed {seed} step {step}: register {user} {netfn:x}/{cmd} {m:#x}"
                );
                if a.is_ok() {
                    ok += 1
                } else {
                    err += 1
                }
            }
            4..=7 => {
                let m = rng.mask();
                let (a, b) = (
                    c.unregister(user, netfn, cmd, m),
                    t.unregister(user, netfn, cmd, m),
                );
                assert_eq!(
                    a, b,
                    "seed {seed} step {step}: unregister {user} {netfn:x}/{cmd} {m:#x}"
                );
                if a.is_ok() {
                    ok += 1
                } else {
                    err += 1
                }
            }
            8 if rng.below(8) == 0 => {
                c.close(user);
                t.close(user);
            }
            _ => {}
        }
        for netfn in [0x30u8, 0x2e, 0xc0] {
            for cmd in 0..3 {
                for chan in 0..16 {
                    assert_eq!(
                        c.lookup(netfn, cmd, chan),
                        t.lookup(netfn, cmd, chan),
                        "seed {seed} step {step}: lookup {netfn:x}/{cmd} ch {chan}"
                    );
                }
            }
        }
    }
    (ok, err)
}

#[test]
fn table_matches_c_list_model() {
    let (mut ok, mut err) = (0, 0);
    for seed in 0..400u64 {
        let (a, b) = run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 400);
        ok += a;
        err += b;
    }
    // Both outcomes must be exercised in volume for the comparison to mean anything.
    assert!(ok > 10_000 && err > 10_000, "ok {ok} err {err}");
}

/// The comparison can fail: a table that ignores the high 16 bits disagrees with C.
#[test]
fn model_detects_a_wrong_rule() {
    let mut c = CList::default();
    c.register(1, 0x30, 1, 0xffff_0000).unwrap();
    let mut t = Table::default();
    t.register(1, 0x30, 1, 0xffff_0000).unwrap();
    let wrong = slot_register(
        &[SlotRcvr {
            owner: 1u64,
            chans: 0xffff_0000 & 0xffff,
        }],
        0x1_0000,
    );
    assert_ne!(c.register(2, 0x30, 1, 0x1_0000), wrong.map(|_| ()));
    assert_eq!(t.register(2, 0x30, 1, 0x1_0000), Err(Errno::Busy));
}

/// `RcvrTable`'s errors as the model's.
fn errno(r: kernel::error::Result) -> Result<(), Errno> {
    r.map_err(|e| match e {
        e if e == EBUSY => Errno::Busy,
        e if e == ENOENT => Errno::NoEnt,
        e => panic!("unexpected error {e:?}"),
    })
}

/// Random operations on the kernel's `RcvrTable` and on the model of C's list; every result and
/// every lookup must agree, and the table's count must be the list's length without 0 masks.
fn run_table(seed: u64, ops: usize) -> (usize, usize) {
    let mut rng = Rng(seed | 1);
    let mut c = CList::default();
    // Pinned, as in the interface.
    let t = Arc::pin_init(RcvrTable::new().unwrap(), kernel::alloc::flags::GFP_KERNEL).unwrap();
    let users: Vec<Arc<crate::user::User>> = (0..4)
        .map(|id| crate::user::User::new(id, 8).unwrap())
        .collect();
    let (mut ok, mut err) = (0, 0);
    for step in 0..ops {
        let u = rng.below(4);
        let user = &users[u as usize];
        let netfn = [0x30u8, 0x2e, 0xc0, 0x00][rng.below(4) as usize];
        let cmd = [0u8, 1, 2, 0xff][rng.below(4) as usize];
        match rng.below(10) {
            0..=3 => {
                let m = rng.mask();
                let (a, b) = (
                    c.register(u, netfn, cmd, m),
                    errno(t.register(user, netfn, cmd, m)),
                );
                assert_eq!(
                    a, b,
                    "seed {seed} step {step}: register {u} {netfn:x}/{cmd} {m:#x}"
                );
                if a.is_ok() {
                    ok += 1
                } else {
                    err += 1
                }
            }
            4..=7 => {
                let m = rng.mask();
                let (a, b) = (
                    c.unregister(u, netfn, cmd, m),
                    errno(t.unregister(user, netfn, cmd, m)),
                );
                assert_eq!(
                    a, b,
                    "seed {seed} step {step}: unregister {u} {netfn:x}/{cmd} {m:#x}"
                );
                if a.is_ok() {
                    ok += 1
                } else {
                    err += 1
                }
            }
            8 if rng.below(8) == 0 => {
                c.close(u);
                t.remove_user(user);
                assert_eq!(
                    user.registrations
                        .load(std::sync::atomic::Ordering::Relaxed),
                    0
                );
            }
            _ => {}
        }
        assert_eq!(
            t.count(),
            c.list.iter().filter(|r| r.3 != 0).count(),
            "seed {seed} step {step}: count"
        );
        for netfn in [0x30u8, 0x2e, 0xc0, 0x00, 0x01] {
            for cmd in [0u8, 1, 2, 0xff] {
                for chan in 0..=16u8 {
                    let found = t
                        .find(netfn, cmd, chan)
                        .map(|o| users.iter().position(|u| Arc::ptr_eq(u, &o)).unwrap() as u64);
                    let want = if chan < 16 {
                        c.lookup(netfn, cmd, chan.into())
                    } else {
                        None
                    };
                    assert_eq!(
                        found, want,
                        "seed {seed} step {step}: find {netfn:x}/{cmd} ch {chan}"
                    );
                }
            }
        }
    }
    for u in &users {
        t.remove_user(u);
    }
    assert_eq!(t.count(), 0);
    (ok, err)
}

#[test]
fn rcvr_table_matches_c_list_model() {
    let (mut ok, mut err) = (0, 0);
    for seed in 0..60u64 {
        let (a, b) = run_table(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 300);
        ok += a;
        err += b;
    }
    assert!(ok > 1_000 && err > 1_000, "ok {ok} err {err}");
}

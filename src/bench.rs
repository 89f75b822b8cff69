// SPDX-License-Identifier: GPL-2.0

//! The dispatch benchmark: the cost of finding the receiver of one incoming command, in
//! [`RcvrTable`] and in a list built the way C's `intf->cmd_rcvrs` is, with 1 to 4096
//! registrations. A measurement, not a test: `scripts/bench-dispatch` triggers it by writing to
//! `/sys/kernel/debug/ripmi-ipmiN/bench_dispatch` and reads the lines it logs.
//!
//! The list is C's: one allocated node per registration, new nodes at the head, and
//! `find_cmd_rcvr()`'s walk (first node with equal netfn and cmd and the channel bit), under
//! `rcu_read_lock()`, taking a reference on the owner as C's `kref_get()` does.
//!
//! Both sides do the same work per lookup, in two modes, each reported on its own:
//! - `ref`: what dispatch does: take the RCU read lock, find the owner, take a reference on it
//!   (`Arc` clone, C's `kref_get()`), drop the lock, then drop the reference again;
//! - `noref`: the same without the reference: the lookup itself, and the owner's address.
//!
//! Each size is timed in [`ROUNDS`] rounds that alternate which side goes first, after one
//! untimed round each, and the median round of each side is reported, so that a burst of load
//! from outside the VM spoils one round rather than one side. A round of one side is the fastest
//! of [`COPIES`] copies of its timing loop (see [`fastest`]).

use kernel::{
    prelude::*,
    sync::{rcu, Arc},
    time::{Instant, Monotonic},
};

use crate::rcvr_table::RcvrTable;
use crate::user::User;

/// The registration counts measured.
const SIZES: [usize; 5] = [1, 16, 256, 1024, 4096];
/// Lookups timed per round, size, mode and structure.
const LOOKUPS: usize = 100_000;
/// Rounds per size and mode; the median is reported.
const ROUNDS: usize = 7;
/// Copies of each timing loop; the fastest counts (see [`fastest`]).
const COPIES: usize = 4;
/// The stride through the registrations (a prime, so every lookup goes elsewhere).
const STRIDE: usize = 7919;

/// A node of the C-style list (C `struct cmd_rcvr`).
struct Node {
    owner: Arc<User>,
    netfn: u8,
    cmd: u8,
    chans: u32,
    next: Option<KBox<Node>>,
}

/// The (netfn, cmd) of registration `i`: request netfns 0, 2, ..., every command of each.
fn key(i: usize) -> (u8, u8) {
    (((i / 256) * 2 % 64) as u8, (i % 256) as u8)
}

/// C `find_cmd_rcvr()` over the list, calling `f` on the owner under the RCU read lock.
fn list_find_with<R>(
    head: &Option<KBox<Node>>,
    netfn: u8,
    cmd: u8,
    chan: u8,
    f: impl FnOnce(&Arc<User>) -> R,
) -> Option<R> {
    let _guard = rcu::read_lock();
    let bit = 1u32 << chan;
    let mut cur = head.as_deref();
    while let Some(n) = cur {
        if n.netfn == netfn && n.cmd == cmd && n.chans & bit != 0 {
            return Some(f(&n.owner));
        }
        cur = n.next.as_deref();
    }
    None
}

/// Lookups timed per copy and round for `n` registrations: [`LOOKUPS`], fewer for long lists,
/// so that a round of the 4096-node list does not take seconds.
fn lookups(n: usize) -> usize {
    (LOOKUPS * 16 / n.max(1)).clamp(LOOKUPS / 10, LOOKUPS)
}

/// Times [`lookups`] lookups spread over all `n` registrations and channels; ns per lookup.
///
/// Every lookup must hit, so neither structure gets away with less work; what `find` returns
/// (a reference, or an address) is dropped at once. The `k`-th lookup is of registration
/// `(C + k * STRIDE) % n`, stepped without a division so that the loop adds as little as
/// possible to both. `C` makes each instantiation its own copy of the loop and of the `find`
/// inlined into it, at its own address (see [`fastest`]).
fn time<const C: usize, R>(n: usize, find: &impl Fn(u8, u8, u8) -> Option<R>) -> Result<u64> {
    let count = lookups(n);
    let step = STRIDE % n;
    let mut i = C % n;
    let start = Instant::<Monotonic>::now();
    for k in 0..count {
        let (netfn, cmd) = key(i);
        if find(netfn, cmd, (k % 16) as u8).is_none() {
            return Err(EINVAL);
        }
        // `i` and `step` are below `n`, so one subtraction keeps `i` below `n`.
        i += step;
        if i >= n {
            i -= n;
        }
    }
    let ns = start.elapsed().as_nanos();
    Ok(u64::try_from(ns).unwrap_or(0) / count as u64)
}

/// The fastest of [`COPIES`] copies of the timing loop of `find`, run back to back, in ns per
/// lookup.
///
/// Under QEMU TCG, where the benchmark runs, how long a short loop takes depends on more than
/// what it does: the same source of the list's loop measured 40 ns per lookup in one build and
/// 97 ns in another (where its code lay), and back-to-back runs of one loop vary with the load
/// of the host. Both only ever add time, so the fastest copy is the best estimate, and each side
/// gets the same chances.
fn fastest<R>(n: usize, find: impl Fn(u8, u8, u8) -> Option<R>) -> Result<u64> {
    const _: () = assert!(COPIES == 4);
    let t = [
        time::<0, R>(n, &find)?,
        time::<1, R>(n, &find)?,
        time::<2, R>(n, &find)?,
        time::<3, R>(n, &find)?,
    ];
    Ok(t.into_iter().min().unwrap_or(0))
}

/// The median of `v` (sorts it).
fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// The median ns per lookup of `table` and of `list` over [`ROUNDS`] alternating rounds.
fn compare(
    mut table: impl FnMut() -> Result<u64>,
    mut list: impl FnMut() -> Result<u64>,
) -> Result<(u64, u64)> {
    table()?;
    list()?;
    let (mut t, mut l) = ([0u64; ROUNDS], [0u64; ROUNDS]);
    for r in 0..ROUNDS {
        if r % 2 == 0 {
            t[r] = table()?;
            l[r] = list()?;
        } else {
            l[r] = list()?;
            t[r] = table()?;
        }
    }
    Ok((median(&mut t), median(&mut l)))
}

/// `list / table` in hundredths.
fn ratio(t: u64, l: u64) -> u64 {
    l.saturating_mul(100) / t.max(1)
}

/// Runs the benchmark and logs one line per size.
pub(crate) fn dispatch() -> Result {
    let user = User::new(0, 1)?;
    pr_info!(
        "bench_dispatch: both sides do the same work per lookup; ref: rcu_read_lock, find, take \
         a reference (Arc clone), unlock, drop it; noref: rcu_read_lock, find, unlock; median \
         of {} rounds, each the fastest of {} copies of the loop, of {} lookups ({} from 256 \
         registrations)\n",
        ROUNDS,
        COPIES,
        LOOKUPS,
        lookups(256)
    );
    pr_info!(
        "bench_dispatch: registrations ref_table_ns ref_list_ns ref_ratio_x100 noref_table_ns \
         noref_list_ns noref_ratio_x100\n"
    );
    for &n in SIZES.iter() {
        let table = KBox::pin_init(RcvrTable::new()?, GFP_KERNEL)?;
        let mut head: Option<KBox<Node>> = None;
        for i in 0..n {
            let (netfn, cmd) = key(i);
            table.register(&user, netfn, cmd, 0xffff)?;
            head = Some(KBox::new(
                Node {
                    owner: user.clone(),
                    netfn,
                    cmd,
                    chans: 0xffff,
                    next: head.take(),
                },
                GFP_KERNEL,
            )?);
        }
        let (rt, rl) = compare(
            || fastest(n, |netfn, cmd, chan| table.find(netfn, cmd, chan)),
            || {
                fastest(n, |netfn, cmd, chan| {
                    list_find_with(&head, netfn, cmd, chan, Arc::clone)
                })
            },
        )?;
        let (nt, nl) = compare(
            || {
                fastest(n, |netfn, cmd, chan| {
                    table.find_with(netfn, cmd, chan, Arc::as_ptr)
                })
            },
            || {
                fastest(n, |netfn, cmd, chan| {
                    list_find_with(&head, netfn, cmd, chan, Arc::as_ptr)
                })
            },
        )?;
        pr_info!(
            "bench_dispatch: {} {} {} {} {} {} {}\n",
            n,
            rt,
            rl,
            ratio(rt, rl),
            nt,
            nl,
            ratio(nt, nl)
        );
        // Free the list iteratively: a recursive drop of 4096 nodes could overflow the stack.
        let mut cur = head.take();
        while let Some(mut node) = cur {
            cur = node.next.take();
        }
    }
    Ok(())
}

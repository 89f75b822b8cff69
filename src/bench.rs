// SPDX-License-Identifier: GPL-2.0

//! The dispatch benchmark: the cost of finding the receiver of one incoming command, in
//! [`RcvrTable`] and in a list built the way C's `intf->cmd_rcvrs` is, with 1 to 4096
//! registrations. A measurement, not a test: `scripts/bench-dispatch` triggers it by writing to
//! `/sys/kernel/debug/ripmi-ipmiN/bench_dispatch` and reads the lines it logs.
//!
//! The list is C's: one allocated node per registration, new nodes at the head, and
//! `find_cmd_rcvr()`'s walk (first node with equal netfn and cmd and the channel bit), under
//! `rcu_read_lock()`, taking a reference on the owner as C's `kref_get()` does.

use kernel::{
    prelude::*,
    sync::{rcu, Arc},
    time::{Instant, Monotonic},
};

use crate::rcvr_table::RcvrTable;
use crate::user::User;

/// The registration counts measured.
const SIZES: [usize; 5] = [1, 16, 256, 1024, 4096];
/// Lookups timed per size and structure.
const LOOKUPS: usize = 100_000;

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

/// C `find_cmd_rcvr()` over the list.
fn list_find(head: &Option<KBox<Node>>, netfn: u8, cmd: u8, chan: u8) -> Option<Arc<User>> {
    let _guard = rcu::read_lock();
    let bit = 1u32 << chan;
    let mut cur = head.as_deref();
    while let Some(n) = cur {
        if n.netfn == netfn && n.cmd == cmd && n.chans & bit != 0 {
            return Some(n.owner.clone());
        }
        cur = n.next.as_deref();
    }
    None
}

/// Times `LOOKUPS` lookups spread over all `n` registrations and channels; ns per lookup.
fn time(n: usize, mut find: impl FnMut(u8, u8, u8) -> Option<Arc<User>>) -> Result<u64> {
    // Check every lookup hits, so neither structure gets away with less work.
    let start = Instant::<Monotonic>::now();
    for k in 0..LOOKUPS {
        let i = k.wrapping_mul(7919) % n;
        let (netfn, cmd) = key(i);
        if find(netfn, cmd, (k % 16) as u8).is_none() {
            return Err(EINVAL);
        }
    }
    let ns = start.elapsed().as_nanos();
    Ok(u64::try_from(ns).unwrap_or(0) / LOOKUPS as u64)
}

/// Runs the benchmark and logs one line per size.
pub(crate) fn dispatch() -> Result {
    let user = User::new(0, 1)?;
    pr_info!("bench_dispatch: registrations table_ns list_ns ratio_x100\n");
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
        let t = time(n, |netfn, cmd, chan| table.find(netfn, cmd, chan))?;
        let l = time(n, |netfn, cmd, chan| list_find(&head, netfn, cmd, chan))?;
        pr_info!(
            "bench_dispatch: {} {} {} {}\n",
            n,
            t,
            l,
            l.saturating_mul(100) / t.max(1)
        );
        // Free the list iteratively: a recursive drop of 4096 nodes could overflow the stack.
        let mut cur = head.take();
        while let Some(mut node) = cur {
            cur = node.next.take();
        }
    }
    Ok(())
}

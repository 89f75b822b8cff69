//! Host build of ripmi's pure files, and of the handler glue over host doubles.
//!
//! Each module below is a file of `src/` that calls no kernel API, or (the handler and the
//! files it needs) one whose kernel API is provided by the `kernel` stand-in in `kshim/`. Its
//! `tests` module is a KUnit suite in the kernel build and a set of `#[test]`s here, so the same
//! assertions run in both. The kernel edges the handler reaches (timers, power management, port
//! I/O) are replaced by the doubles in `doubles/`.
// What only the kernel's devintf, device and platform use (functions, the re-export
// `handler::Request`) is unused here.
#![allow(dead_code, unused_imports)]
// The crates.io `pinned-init` munches initialiser fields recursively (the kernel's copy is a
// proc macro); `HandlerState` has more fields than the default limit allows.
#![recursion_limit = "256"]

// The kernel names the pin-init crate `pin_init`; crates.io publishes it as `pinned-init`.
extern crate pinned_init as pin_init;

#[path = "../../src/addr.rs"]
pub mod addr;
#[path = "../../src/bmc_id.rs"]
pub mod bmc_id;
#[path = "../../src/defs.rs"]
pub mod defs;
#[path = "../../src/error.rs"]
pub mod error;
#[path = "../../src/handler/mod.rs"]
pub mod handler;
#[path = "../../src/message.rs"]
pub mod message;
#[path = "../../src/panic_msg.rs"]
pub mod panic_msg;
#[path = "../../src/poll.rs"]
pub mod poll;
#[path = "../../src/rcu.rs"]
pub mod rcu;
#[path = "../../src/rcvr_table.rs"]
pub mod rcvr_table;
#[path = "../../src/receivers.rs"]
pub mod receivers;
#[path = "../../src/seq.rs"]
pub mod seq;
#[path = "../../src/si.rs"]
pub mod si;
#[path = "../../src/smbios.rs"]
pub mod smbios;
#[path = "../../src/user.rs"]
pub mod user;

/// `src/kcs.rs`, with the host double of its `cfg(MODULE)` child `io`.
#[path = "."]
pub mod kcs {
    #[path = "doubles/kcs_io.rs"]
    pub(crate) mod io;
    #[path = "../../src/kcs/model.rs"]
    #[cfg(test)]
    pub(crate) mod model;
    #[path = "../../src/kcs/sm.rs"]
    pub(crate) mod sm;
}

/// Host double of `src/params.rs`.
#[path = "doubles/params.rs"]
pub mod params;
/// Host double of `src/pm.rs`.
#[path = "doubles/pm.rs"]
pub mod pm;
/// Host double of `src/timer.rs`.
#[path = "doubles/timer.rs"]
pub mod timer;

/// Property test of the receiver table against a model of C's list.
#[cfg(test)]
mod rcvr_model;

// SPDX-License-Identifier: GPL-2.0

//! The KCS (Keyboard Controller Style) system interface, IPMI v2.0 section 9.
//!
//! - [`sm`]: the byte-level KCS state machine (pure), a port of `ipmi_kcs_sm.c`.
//! - [`io`]: port I/O, port reservation and IRQ wiring (the kernel's edge).
//! - [`model`]: a simulated KCS register block that can misbehave (pure), for tests only: it is
//!   in the test build (`make RIPMI_TEST=1`) and the host tests, never in the shipped module.

// Explicit paths: the host test crate includes this file with `#[path]`, which would otherwise
// look for the children beside it rather than in `kcs/`.
#[path = "kcs/io.rs"]
#[cfg(MODULE)]
pub(crate) mod io;
#[path = "kcs/model.rs"]
#[cfg(any(test, ripmi_test))]
pub(crate) mod model;
#[path = "kcs/sm.rs"]
pub(crate) mod sm;

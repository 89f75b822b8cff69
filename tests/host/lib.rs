//! Host build of ripmi's pure files.
//!
//! Each module below is a file of `src/` that calls no kernel API. Its `tests` module is a KUnit
//! suite in the kernel build and a set of `#[test]`s here, so the same assertions run in both.
#![allow(dead_code)]

#[path = "../../src/addr.rs"]
pub mod addr;
#[path = "../../src/kcs.rs"]
pub mod kcs;
#[path = "../../src/message.rs"]
pub mod message;
#[path = "../../src/receivers.rs"]
pub mod receivers;
#[path = "../../src/seq.rs"]
pub mod seq;
#[path = "../../src/si.rs"]
pub mod si;

/// Property test of the receiver table against a model of C's list.
#[cfg(test)]
mod rcvr_model;

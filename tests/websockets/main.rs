//! The facade's integration tests: layering, the README, real peers, and the
//! async echo example.
#![allow(clippy::unwrap_used)]

mod architecture;
mod async_echo;
mod cluster;
mod hostile;
mod interop;

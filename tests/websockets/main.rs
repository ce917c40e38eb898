//! The facade's integration tests: layering, the README, and real peers.
#![allow(clippy::unwrap_used)]

mod architecture;
mod hostile;
mod interop;

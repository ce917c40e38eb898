//! The facade's integration tests: layering, the README, real peers, and the
//! async echo and axum examples.
#![allow(clippy::unwrap_used)]

mod architecture;
mod async_echo;
mod async_server;
mod axum_echo;
mod cluster;
mod hostile;
mod interop;

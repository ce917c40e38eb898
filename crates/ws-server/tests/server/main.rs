//! Integration tests for ws-server against real peers (tungstenite and hand-written
//! bytes over loopback TCP), in one binary to keep link time down.
#![allow(clippy::unwrap_used)]

mod accept;
#[cfg(feature = "tokio")]
mod async_server;
#[cfg(feature = "tokio")]
mod async_topics;
#[cfg(feature = "tokio")]
mod asynchronous;
mod broadcast;
mod concurrency;
mod failures;
#[cfg(feature = "hyper")]
mod hyper_upgrade;
mod keepalive;
mod limits;
mod own_http;
mod pipelining;
mod refusals;
mod seed;
mod shutdown;
mod support;
mod topics;
mod upgrade;

//! ws-tls integration tests, in one binary: our wss client against our wss server,
//! Python `websockets` on either end, certificate errors, TLS against plain ports,
//! handshake timeouts, keep-alive and split streams over TLS, abrupt ends, the server's
//! routing and shutdown, mutual TLS, and the explicit crypto provider. Certificates are
//! made at test time (`pki`); the Python peer needs `tests/peers/install.sh`.
#![allow(clippy::unwrap_used)]

// wss on tokio needs the `tokio` feature (`cargo test -p ws-tls --all-features`).
#[cfg(feature = "tokio")]
mod asynchronous;
mod echo;
mod ending;
mod interop;
mod keepalive;
mod keyupdate;
mod messages;
mod mismatch;
mod mtls;
mod pki;
mod provider;
mod proxy;
mod recipe;
mod routing;
mod split;
mod support;
mod timeouts;
mod verify;

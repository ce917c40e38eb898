//! ws-tls integration tests, in one binary: our wss client against our wss server,
//! Python `websockets` on either end, certificate errors, TLS against plain ports,
//! handshake timeouts, keep-alive and split streams over TLS, the server's routing and
//! shutdown, mutual TLS, and the explicit crypto provider.
#![allow(clippy::unwrap_used)]

mod echo;
mod ending;
mod mismatch;
mod mtls;
mod pki;
mod proxy;
mod split;
mod support;
mod timeouts;
mod verify;

//! Secure WebSockets (`wss://`) with rustls: a TLS stream for ws-client and ws-server,
//! trust in the Mozilla roots by default, and typed certificate errors.
//!
//! ```
//! use ws_tls::{Connector, TlsAcceptor};
//!
//! // A certificate for "localhost", as a private CA would issue it.
//! let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
//! let (cert_pem, key_pem) = (certified.cert.pem(), certified.signing_key.serialize_pem());
//!
//! let mut server = ws_tls::server("127.0.0.1:0", TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?);
//! server.on_connect("/echo", |stream, _path| {
//!     while let Ok(message) = stream.read_message() {
//!         stream.send(&message)?;
//!     }
//!     Ok(())
//! })?;
//! let handle = server.spawn()?;
//!
//! let connector = Connector::builder().root_certificates_pem(cert_pem.as_bytes())?.build()?;
//! let url = format!("wss://localhost:{}/echo", handle.local_addr().port());
//! let mut client = ws_tls::connect_with(&url, &Default::default(), &connector)?;
//! client.send_text("over tls")?;
//! assert_eq!(client.read_message()?.as_text(), Some("over tls"));
//! client.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`connect`] and [`connect_with`] open `wss://` (and `ws://`) URLs in one call:
//!   DNS, TCP, TLS with SNI and ALPN `http/1.1`, the WebSocket handshake. Through an
//!   HTTP proxy (CONNECT) when [`ws_client::ClientConfig::proxy`] says so, and
//!   following redirects across `ws` and `wss` (never down from `wss`) when
//!   [`ws_client::ClientConfig::max_redirects`] allows.
//! - [`Connector`] opens TLS connections ([`Connector::connect`] is estd-tls' call);
//!   [`ConnectorBuilder`] adds a private CA or a client certificate.
//! - [`TlsAcceptor`] serves TLS from a PEM certificate chain and key, for
//!   [`ws_server::Server`] through [`server`].
//! - [`TlsStream`] is the session, splittable for a reading and a writing thread;
//!   [`MaybeTlsStream`] is TLS or plain TCP, as the URL says.
//! - With the `tokio` feature: `connect_async` and `connect_async_with` for the async
//!   client (the same proxy and redirects, over ws-client's `connect_async_via`),
//!   `AsyncTlsAcceptor` for ws-server's `AsyncServer` through `async_server`, and
//!   `AsyncTlsStream`, `AsyncMaybeTlsStream` as their streams.
//! - [`Error`] names the failures people meet: unknown issuer, name mismatch,
//!   expired certificate, handshake refused, a peer that does not speak TLS, a
//!   handshake that timed out, connection reset.
//!
//! Certificate and host name verification cannot be turned off through this crate;
//! [`Connector::from_config`] takes a rustls configuration for any special case.
//!
//! # Features
//!
//! - `client` (default): [`connect`], [`Connector`] and [`MaybeTlsStream`], on
//!   ws-client.
//! - `server` (default): [`TlsAcceptor`] and [`server()`], on ws-server.
//!
//! - `tokio` (off by default): wss on tokio for the async client and server of
//!   whichever of `client` and `server` are on, enabling their `tokio` features; it
//!   adds tokio and tokio-rustls.
//!
//! A client-only build leaves ws-server out:
//! `ws-tls = { ..., default-features = false, features = ["client"] }`.
//!
//! ## Why tokio-rustls
//!
//! The async side runs on tokio-rustls, rustls' own team's adapter, rather than on an
//! async twin of [`TlsStream`]: it is the one poll-based driver of a rustls session
//! that the rustls project maintains and that the tokio ecosystem (hyper-rustls,
//! reqwest, tonic) already runs, and it adds only itself, on the same rustls and
//! `ring` provider. Our blocking stream's design (a session shared by a reading and a
//! writing thread, never locked while waiting) answers a problem async code does not
//! have, since tokio's own `split` gives the halves; writing a second driver would
//! copy the wake-up and flush rules tokio-rustls already gets right. Its type stays
//! inside `AsyncTlsStream`, so that its version is not part of this crate's API.
//!
//! # Unsafe
//!
//! None.
#![forbid(unsafe_code)]
// With neither feature only the stream type is left, and nothing that builds one.
#![cfg_attr(not(any(feature = "client", feature = "server")), allow(dead_code))]

#[cfg(all(feature = "client", feature = "tokio"))]
mod async_client;
#[cfg(all(feature = "server", feature = "tokio"))]
mod async_server;
#[cfg(feature = "tokio")]
mod async_tls;
#[cfg(feature = "client")]
mod client;
mod error;
#[cfg(feature = "client")]
mod maybe;
mod pem;
#[cfg(feature = "server")]
mod server;
mod stream;

use std::sync::Arc;

#[cfg(all(feature = "client", feature = "tokio"))]
pub use async_client::{AsyncMaybeTlsStream, connect_async, connect_async_with};
#[cfg(all(feature = "server", feature = "tokio"))]
pub use async_server::{AsyncTlsAcceptor, async_server};
#[cfg(feature = "tokio")]
pub use async_tls::AsyncTlsStream;
#[cfg(feature = "client")]
pub use client::{Connector, ConnectorBuilder, connect, connect_with};
pub use error::Error;
#[cfg(feature = "client")]
pub use maybe::MaybeTlsStream;
#[cfg(feature = "server")]
pub use server::{TlsAcceptor, server};
pub use stream::TlsStream;

/// The crypto provider every configuration here uses: rustls' `ring`, chosen
/// explicitly so that no process-wide default is needed.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

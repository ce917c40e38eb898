//! WebSockets for Rust (RFC 6455): a sans-IO frame codec, the HTTP upgrade, connections
//! over any byte stream, a server, a client and TLS, as layered crates re-exported here.
//!
//! ```
//! use websockets::{Message, Server};
//!
//! let mut server = Server::new("127.0.0.1:0");
//! server.on_connect("/ws", |stream, _path| {
//!     while let Ok(message) = stream.read_message() {
//!         stream.send(&message)?;
//!     }
//!     Ok(())
//! })?;
//! let handle = server.spawn()?;
//!
//! let mut client = websockets::connect(&format!("ws://{}/ws", handle.local_addr()))?;
//! client.send_text("Hello, WebSocket!")?;
//! assert_eq!(client.read_message()?, Message::text("Hello, WebSocket!"));
//! client.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! ```text
//!                  websockets          this facade
//!                      |
//!                   ws-tls             rustls, webpki-roots
//!                  /      \
//!          ws-server      ws-client
//!              |    \    /    |
//!              |     \  /     |
//!              |      \/      |
//!              |      /\      |
//!              |     /  \     |
//!         ws-stream      ws-handshake  connections: messages, close, keep-alive |
//!              |                       the HTTP/1.1 upgrade, sans-IO
//!          ws-frame                    RFC 6455 frames, sans-IO, no_std
//! ```
//!
//! Each layer depends only on those drawn below it: ws-stream on ws-frame alone,
//! ws-handshake on no other layer. Depend on a layer directly when you need only that
//! much: `ws-frame` alone to embed the codec (it is `no_std`), `ws-handshake` and
//! `ws-stream` to drive connections from your own HTTP server or event loop. The
//! paved path is this crate: [`Server`], [`connect`] (for `ws://` and `wss://`) and
//! [`Client`], [`Stream`], [`Message`].
//!
//! # Other crates
//!
//! - [`frame`] is `ws-frame`: [`Frame`], [`OpCode`], [`CloseCode`], the decoder.
//! - [`handshake`] is `ws-handshake`: [`Handshake`], request and response parsers.
//! - [`stream`] is `ws-stream`: [`Stream`], [`Message`], the sans-IO core.
//! - [`server`] is `ws-server`: [`Server`], [`server::Broadcast`].
//! - [`client`] is `ws-client`: [`Client`], [`client::Url`], plain-TCP `connect`.
//! - [`tls`] is `ws-tls`: [`connect`] and [`tls::connect_with`] for `wss://` and
//!   `ws://` URLs, [`tls::Connector`], [`tls::TlsAcceptor`] for servers.
//!
//! # Errors
//!
//! Each layer has its error type, and each message names its cause on one line
//! (`could not connect to 127.0.0.1:9: Connection refused (os error 111)`). The
//! functions here return the highest layer's: [`connect`] a [`tls::Error`], whose
//! `Client` variant holds the [`client::Error`] of everything but TLS, and shows its
//! message unchanged; a [`Client`]'s methods return a [`client::Error`], whose
//! `Connection` variant likewise shows the [`stream::Error`] of the connection. There
//! is no error type of the facade's own: it would copy the layers' variants, and every
//! type would still be reachable only through the layer that fails.
//!
//! # Features
//!
//! - `tokio` (off by default): the async layers on tokio, ws-stream's `AsyncStream`
//!   (cancel-safe `recv`, `send` with backpressure, `Stream` and `Sink`, split halves),
//!   ws-client's `connect_async`, ws-server's `AsyncServer` (routes with async
//!   handlers, pages, checks, limits, graceful shutdown, `AsyncBroadcast`; re-exported
//!   here as `AsyncServer`) and `accept_async`, and ws-tls' `connect_async` and
//!   `AsyncTlsAcceptor` for `wss://` on tokio. The example
//!   `async-echo` (`cargo build --release --example async-echo`) uses them; the
//!   facade's dev-dependencies enable the feature for its examples and tests, so the
//!   command needs no flag, and the default build of the library never compiles tokio.
//! - `hyper` (off by default, implies `tokio`): `server::upgrade_hyper`, WebSocket
//!   upgrades inside a hyper 1 server, or an axum one: the example `axum-echo` (`cargo
//!   run --example axum-echo`) serves `/echo` from an axum router that way. hyper and
//!   axum never enter the default build.
#![forbid(unsafe_code)]

// Inlined, so that each layer's items have pages in this crate's docs: links to them
// from here then never depend on whether the layer's own docs were rendered first
// (`cargo doc` renders the crates of a workspace in parallel, and a link to a crate
// whose docs are not there yet is left as plain text, without a warning).
#[doc(inline)]
pub use ws_client as client;
#[doc(inline)]
pub use ws_frame as frame;
#[doc(inline)]
pub use ws_handshake as handshake;
#[doc(inline)]
pub use ws_server as server;
#[doc(inline)]
pub use ws_stream as stream;
#[doc(inline)]
pub use ws_tls as tls;

pub use ws_client::Client;
pub use ws_frame::{CloseCode, Frame, OpCode};
pub use ws_handshake::Handshake;
#[cfg(feature = "tokio")]
pub use ws_server::AsyncServer;
pub use ws_server::Server;
pub use ws_stream::{Message, Stream};
pub use ws_tls::connect;

// The README's examples are compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
struct ReadmeDoctests;

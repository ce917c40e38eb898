//! A WebSocket server: routes by path, a thread per connection, limits against abuse,
//! broadcast, and graceful shutdown.
//!
//! ```
//! use ws_server::Server;
//!
//! let mut server = Server::new("127.0.0.1:0");
//! server.on_connect("/echo", |stream, _path| {
//!     while let Ok(message) = stream.read_message() {
//!         stream.send(&message)?;
//!     }
//!     Ok(())
//! })?;
//! let handle = server.spawn()?;
//!
//! // Any client will do; here, the sans-IO handshake and stream crates by hand.
//! let mut tcp = std::net::TcpStream::connect(handle.local_addr())?;
//! let (request, pending) = ws_handshake::ClientRequest::new("localhost", "/echo").build()?;
//! std::io::Write::write_all(&mut tcp, &request)?;
//! let mut buf = vec![0; 1024];
//! let n = std::io::Read::read(&mut tcp, &mut buf)?;
//! let ws_handshake::Parsed::Complete(response, used) =
//!     ws_handshake::ResponseParser::default().parse(&buf[..n])?
//! else {
//!     panic!("the 101 arrives in one read on loopback")
//! };
//! pending.validate(response)?;
//! let mut client = ws_stream::Stream::from_upgrade(tcp, ws_stream::Role::Client, Default::default(), &buf[used..n]);
//! client.send_text("hello")?;
//! assert_eq!(client.read_message()?.as_text(), Some("hello"));
//! client.close()?;
//! handle.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`Server`]: `Server::new(addr)`, routes with [`Server::on_connect`] (the
//!   estd-websockets form) or [`Server::on_connect_split`], pages with
//!   [`Server::on_http`], an admission check with [`Server::on_upgrade`], then
//!   [`Server::run`] or [`Server::spawn`] (which gives a [`ServerHandle`] with the bound
//!   address and [`ServerHandle::shutdown`]).
//! - [`ServerConfig`]: connection limit, handshake, idle and write timeouts, origin
//!   allowlist, subprotocols; each default documented.
//! - [`Broadcast`]: send one message, encoded once, to many connections.
//! - [`Topics`]: named topics that connections subscribe to (with a subscribe hook and
//!   limits); a publish is encoded once and queued on every subscriber without waiting,
//!   and a subscriber too slow to take it is dropped from the topic. ws-cluster shares
//!   topics across nodes through a broker.
//! - [`accept`] and [`accept_with`]: the handshake on a stream you already hold;
//!   [`Server::handle_upgrade`] for servers with their own HTTP stack.
//! - [`Acceptor`]: how a TCP connection becomes the stream (ws-tls plugs TLS in here).
//! - With the `tokio` feature, the same on tokio: `AsyncServer` (a task per
//!   connection, async handlers, `AsyncServerHandle::shutdown`), `AsyncBroadcast`,
//!   `AsyncAcceptor`, `accept_async`.
//!
//! # Defences
//!
//! A client that sends its head slowly is cut off at the handshake timeout; a full
//! server answers 503 without starting a thread; requests that are not upgrades, go
//! to unknown paths or come from foreign origins get 426, 404 or 403 with a short body;
//! a handler that fails or panics closes its own connection with 1011 and nothing else.
//!
//! # Features
//!
//! - `tokio` (off by default): `AsyncServer`, the same routes, pages, checks, limits,
//!   graceful shutdown and broadcast (`AsyncBroadcast`) with a tokio task per
//!   connection and async handlers; `accept_async` and `accept_async_with`, the
//!   handshake over a tokio stream you already hold; `AsyncAcceptor`, for TLS. Each
//!   answers ws-stream's `AsyncStream`. It enables ws-stream's `tokio` feature.
//! - `hyper` (off by default, implies `tokio`): `upgrade_hyper`, the same handshake
//!   rules for a request that a hyper 1 server (or axum) received, answering the `101`
//!   and a future of the connection over hyper's upgraded I/O.
//!
//! # Unsafe
//!
//! None.
#![forbid(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_accept;
#[cfg(feature = "tokio")]
mod async_broadcast;
#[cfg(feature = "tokio")]
mod async_server;
#[cfg(feature = "tokio")]
mod async_topics;
mod broadcast;
mod config;
mod error;
mod handshake;
#[cfg(feature = "hyper")]
mod hyper_upgrade;
mod request;
mod routes;
mod server;
mod sync;
mod topics;

#[cfg(feature = "tokio")]
pub use async_accept::{accept_async, accept_async_with};
#[cfg(feature = "tokio")]
pub use async_broadcast::AsyncBroadcast;
#[cfg(feature = "tokio")]
pub use async_server::{ASYNC_MAX_CONNECTIONS, AsyncAcceptor, AsyncServer, AsyncServerHandle};
pub use broadcast::{Broadcast, Member};
pub use config::ServerConfig;
pub use error::{Error, HandlerResult};
pub use handshake::{accept, accept_with};
#[cfg(feature = "hyper")]
pub use hyper_upgrade::{HyperRefusal, HyperStream, HyperUpgrade, upgrade_hyper};
pub use request::{Accept, HttpResponse, Request};
pub use server::{Acceptor, Plain, Server, ServerHandle};
pub use topics::{QueuedWriter, Subscriber, TopicLimits, TopicStats, TopicWriter, Topics};
pub use ws_handshake::Rejection;

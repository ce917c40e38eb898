//! A blocking RFC 6455 WebSocket client: parses `ws://` URLs, connects over TCP with
//! timeouts (through an HTTP proxy if asked), runs the opening handshake (following
//! redirects if asked), and hands over a connection for messages.
//!
//! ```
//! # use std::net::TcpListener;
//! # // An echo server to talk to, in a thread.
//! # let listener = TcpListener::bind("127.0.0.1:0")?;
//! # let addr = listener.local_addr()?;
//! # let server = std::thread::spawn(move || {
//! #     let callback = |_: &tungstenite::handshake::server::Request,
//! #                     mut response: tungstenite::handshake::server::Response| {
//! #         response.headers_mut().insert("Sec-WebSocket-Protocol", "chat".parse().unwrap());
//! #         Ok(response)
//! #     };
//! #     let mut ws = tungstenite::accept_hdr(listener.accept().unwrap().0, callback).unwrap();
//! #     while let Ok(message) = ws.read() {
//! #         if message.is_text() || message.is_binary() {
//! #             ws.send(message).unwrap();
//! #         }
//! #     }
//! # });
//! use ws_client::{ClientConfig, Url};
//! use ws_stream::Message;
//!
//! let url = Url::parse(&format!("ws://{addr}/chat?room=7"))?;
//! assert_eq!((url.host(), url.target()), ("127.0.0.1", "/chat?room=7"));
//!
//! let config = ClientConfig::default()
//!     .protocols(["chat"])
//!     .header("Authorization", "Bearer abc");
//! let mut client = ws_client::connect_with(&url, &config)?;
//! assert_eq!(client.protocol(), Some("chat"));
//!
//! client.send_text("Hello")?;
//! assert_eq!(client.read_message()?, Message::text("Hello"));
//! client.send_binary([1, 2, 3])?;
//! assert_eq!(client.read_message()?.as_binary(), Some(&[1, 2, 3][..]));
//! client.close()?;
//! # server.join().unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`connect`] and [`connect_with`] open a connection from a URL in one call:
//!   name resolution, TCP with a connect timeout and `TCP_NODELAY`, the handshake within
//!   a handshake timeout, and socket control for keep-alive and the close timeout.
//! - [`Client`] is the connection: `send_text`, `send_binary`, `read_message`,
//!   `read_event`, `ping`, `close`, the server's [`response`](Client::response) and
//!   chosen [`protocol`](Client::protocol), and the [`ws_stream::Stream`] underneath.
//!   [`Client::handshake`] runs the handshake over a stream you opened (TLS, say);
//!   [`Client::new`], kept from estd-websockets, defers it to the first operation.
//! - [`ClientConfig`] holds extra headers, `Origin`, subprotocols, timeouts, the
//!   connection's [`ws_stream::Config`], the response's [`ws_handshake::Limits`], the
//!   proxy and the redirect limit, each default documented.
//! - [`Proxy`] is an HTTP proxy reached with `CONNECT`, for `ws://` and `wss://`
//!   alike, with Basic credentials and a `NO_PROXY` list; [`Proxy::from_env`] reads
//!   `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, only when called. Its
//!   refusals are typed: [`Error::ProxyAuthRequired`], [`Error::ProxyRefused`].
//! - Redirects (301, 302, 303, 307, 308) are followed up to
//!   [`ClientConfig::max_redirects`], by default none; [`Url::join`] resolves a
//!   `Location`. A redirect from `wss` to `ws` is refused, and credentials in headers
//!   are not sent on to another host.
//! - [`Url`] parses `ws://` and `wss://` URLs strictly; [`UrlError`] says which part is
//!   wrong.
//! - [`Error`] is the one error type, with a variant per step of opening a connection
//!   and the lower layers' errors as sources.
//!
//! # Building on it
//!
//! A TLS layer reuses [`connect_with`] through [`connect_via`]: its [`Connector`]
//! (the client's side of ws-server's `Acceptor`) supplies only the step that turns a
//! TCP connection (direct, or tunnelled through the proxy) into its own stream, a
//! [`Transport`], and gets the proxy, the redirects across `ws` and `wss`, the
//! timeouts and the handshake from here. The steps are public too:
//! [`connect_tcp`] for the TCP connection or tunnel, then
//! [`Client::handshake_with_timeouts`]. Messages, keep-alive and the close handshake
//! are the work of [`ws_stream`]; the HTTP upgrade's rules are [`ws_handshake`]'s, whose
//! parser also reads the proxy's answer. The server side is a separate crate that this
//! one never depends on.
//!
//! # Features
//!
//! - `tokio` (off by default): `connect_async`, `connect_async_with` and
//!   `handshake_async`, the same URLs, config, proxy and redirects on tokio, answering
//!   ws-stream's `AsyncStream`; `connect_async_via` with an `AsyncConnector` for a
//!   layer such as TLS. It enables ws-stream's `tokio` feature.
//!
//! The crate depends on `ws-handshake` and `ws-stream`, and on `base64` for proxy
//! credentials (already compiled in through `ws-handshake`).
//!
//! # Unsafe
//!
//! None: `#![forbid(unsafe_code)]`.
#![forbid(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_connect;
// The connect path, bottom up, each module importing only those before it: `tcp` and
// `exchange`, `proxy`, `dial`, `redirect`, then the public functions of `connect`.
mod client;
mod config;
mod connect;
mod dial;
mod error;
mod exchange;
mod handshake;
mod proxy;
mod redirect;
mod tcp;
mod url;

#[cfg(feature = "tokio")]
pub use async_connect::{
    AsyncConnector, connect_async, connect_async_via, connect_async_with, handshake_async,
};
pub use client::Client;
pub use config::ClientConfig;
pub use connect::{connect, connect_via, connect_with};
pub use dial::{Connector, Plain, Transport, connect_tcp};
pub use error::Error;
pub use proxy::Proxy;
pub use url::{IntoUrl, Url, UrlError};

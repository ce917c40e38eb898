//! The HTTP/1.1 upgrade that opens an RFC 6455 WebSocket connection, for both ends,
//! without I/O: byte slices in, byte vectors out.
//!
//! ```
//! use ws_handshake::{
//!     AcceptResponse, ClientRequest, Parsed, RequestParser, ResponseParser, UpgradeRequest,
//! };
//!
//! // The client builds its request with a fresh random key.
//! let (request_bytes, pending) = ClientRequest::new("example.com", "/chat?room=7")
//!     .protocols(["chat"])
//!     .build()?;
//!
//! // The server parses what has arrived so far; a first frame may follow the head.
//! let mut received = request_bytes.clone();
//! received.extend_from_slice(b"\x81\x80");
//! let mut parser = RequestParser::default();
//! let Parsed::Complete(request, used) = parser.parse(&received)? else { unreachable!() };
//! assert_eq!(&received[used..], b"\x81\x80"); // for the frame layer
//!
//! // It checks the handshake, then accepts with a subprotocol the client offered
//! // (or, on error, sends `err.rejection()`).
//! let upgrade = UpgradeRequest::from_request(&request)?;
//! assert_eq!((upgrade.path(), upgrade.query()), ("/chat", Some("room=7")));
//! let protocol = upgrade.choose_protocol(&["chat"]).expect("offered");
//! let response_bytes = AcceptResponse::new(&upgrade).protocol(protocol).to_bytes()?;
//!
//! // The client checks the answer against the key and protocols it sent.
//! let Parsed::Complete(response, _) = ResponseParser::default().parse(&response_bytes)? else {
//!     unreachable!()
//! };
//! let accepted = pending.validate(response)?;
//! assert_eq!(accepted.protocol(), Some("chat"));
//! assert_eq!(accepted.response().status(), 101);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`RequestParser`] and [`ResponseParser`] read a [`Request`] or [`Response`] head
//!   from the bytes received so far, answering [`Parsed::Partial`] until it ends and
//!   then how many bytes it used. They never look at a byte twice across calls, and
//!   enforce [`Limits`] on size and header count. [`Headers`] holds the fields, with
//!   case-insensitive lookup and comma-list helpers.
//! - Server: [`UpgradeRequest::from_request`] checks a request and summarises it (key,
//!   host, path, query, origin, subprotocols); [`AcceptResponse`] writes the `101`, and
//!   [`Rejection`] any refusal.
//! - Client: [`ClientRequest`] writes the request; the [`PendingHandshake`] it returns
//!   checks the response and gives an [`Accepted`].
//! - Extensions: [`parse_extensions`] reads `Sec-WebSocket-Extensions` whole (quoted
//!   strings, repeated fields). permessage-deflate (RFC 7692) is negotiated with a
//!   [`DeflateServerConfig`] on the server ([`UpgradeRequest::negotiate_deflate`], then
//!   [`AcceptResponse::deflate`]) and a [`DeflateOffer`] on the client
//!   ([`ClientRequest::deflate`], then [`Accepted::deflate`]); both ends get the agreed
//!   [`DeflateParams`]. Compressing is the connection's job, in ws-stream.
//! - [`Error`] is the one error type. It tells the peer's faults from the caller's
//!   ([`Misuse`]), and a server which status to answer with ([`Error::http_status`],
//!   [`Error::rejection`]).
//! - [`accept_key`] computes `Sec-WebSocket-Accept`; [`Handshake`] keeps an earlier
//!   library's map-based API for its users.
//!
//! Frames, sockets and TLS belong to the crates above; this one sees only heads.
//!
//! # Features
//!
//! None. The crate needs `std`, and depends only on `base64`, `getrandom` (for the
//! client's key) and `sha1_smol` (for the accept key).
//!
//! # Unsafe
//!
//! None: `#![forbid(unsafe_code)]`. The line search reads eight bytes at a time through
//! safe integer conversions.
#![forbid(unsafe_code)]

mod accept;
mod client;
mod collect;
mod error;
mod extensions;
mod head;
mod headers;
mod parse;
mod server;

pub use accept::{Handshake, accept_key};
pub use client::{Accepted, ClientRequest, PendingHandshake};
pub use collect::collect_head;
pub use error::{Error, Misuse};
pub use extensions::{
    DeflateOffer, DeflateParams, DeflateServerConfig, Extension, ExtensionParam,
    PERMESSAGE_DEFLATE, parse_extensions,
};
pub use head::{Request, Response};
pub use headers::Headers;
pub use parse::{Limits, Parsed, RequestParser, ResponseParser};
pub use server::{AcceptResponse, Rejection, UpgradeRequest, reason_phrase};

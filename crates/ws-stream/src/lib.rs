//! RFC 6455 WebSocket connections over any byte stream: messages, fragmentation, the
//! close handshake and keep-alive, as a sans-IO state machine with a blocking driver.
//!
//! ```
//! use std::net::{TcpListener, TcpStream};
//! use ws_stream::{Message, Role, Stream};
//!
//! // Two ends of a connection whose HTTP upgrade is already done (ws-server and
//! // ws-client do that part).
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let mut client = Stream::with_role(TcpStream::connect(listener.local_addr()?)?, Role::Client);
//! let mut server = Stream::with_role(listener.accept()?.0, Role::Server);
//!
//! client.send_text("Hello")?;
//! assert_eq!(server.read_message()?, Message::text("Hello"));
//! server.send_binary([1, 2, 3])?;
//! assert_eq!(client.read_message()?.as_binary(), Some(&[1, 2, 3][..]));
//!
//! // The close handshake: the server answers the client's Close for us.
//! let closer = std::thread::spawn(move || server.read_message());
//! client.close()?;
//! assert!(closer.join().unwrap().unwrap_err().is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`Stream`] turns a `Read + Write` stream into a connection: [`Stream::read_message`],
//!   [`Stream::read_event`] (pings, pongs and the peer's Close too), `send_text`,
//!   `send_binary`, `ping`, `close`. [`MessageWriter`] and [`MessageReader`] send and
//!   receive one message in pieces without holding it whole.
//! - [`Stream::split`] cuts a connection over a `TcpStream` (or ws-tls' stream) into a
//!   [`Reader`] and a [`Writer`] for two threads.
//! - [`PreparedMessage`] encodes a message once to send to many connections.
//! - [`Config`] holds the limits and timers, each default documented; [`Role`] says
//!   which end masks.
//! - [`proto`] is the sans-IO core every rule lives in, for other drivers (async ones).
//! - `AsyncStream` (feature `tokio`) is the same connection over a tokio
//!   `AsyncRead + AsyncWrite` stream: cancel-safe `recv`, `send` with backpressure,
//!   `futures` `Stream` and `Sink`, and `AsyncStream::split` into an `AsyncReader`
//!   and a cloneable `AsyncWriter`.
//! - [`Error`] is the one error type; [`Error::close_code`] says which close code a
//!   peer's violation earned.
//!
//! # Compression
//!
//! permessage-deflate (RFC 7692) is a stage of the core: set [`Config::deflate`] to
//! what the handshake agreed ([`Deflate::agreed`]; ws-server and ws-client do it) and
//! messages are compressed and inflated on the way, the message-size limit counted on
//! inflated bytes. The backend is the pure-Rust zlib-rs, the crate flate2's `zlib-rs`
//! feature compresses with, used directly for its memory level (flate2 fixes it at 8,
//! which costs about 98 KiB more per compressor); it is the crate's one runtime
//! dependency besides getrandom (mask keys) and simdutf8 (UTF-8 checks).
//!
//! # Features
//!
//! - `tokio` (off by default): `AsyncStream` and its halves, on tokio's `time`
//!   feature and the `futures-core` and `futures-sink` traits.
//!
//! # What the connection does for you
//!
//! Fragmented messages are reassembled (control frames may come between fragments);
//! text is checked as UTF-8 as it arrives; every ping is answered; the peer's Close is
//! echoed; a violation is answered with the matching close code (1002, 1007, 1009)
//! before the connection ends, and an abrupt end is reported as 1006.
//!
//! # Buffers and copies
//!
//! The read buffer starts at 4 KiB and grows only while reads fill it; idle
//! connections give their buffers back. A frame's payload of 4 KiB or more that is
//! still to come is read straight into its message, in reads as large as it is (up to
//! [`Config::max_read_buffer`]), rather than through the read buffer. A message given
//! back with [`Stream::recycle`] (or `AsyncStream::recycle`) is the buffer the next
//! one is received into, so a loop that receives, answers and recycles allocates
//! nothing per message. A message sent with [`Stream::send_owned`] (or
//! `AsyncStream::send_owned` / `feed_owned`) is given away: a payload of 16 KiB or
//! more is written from its own buffer, after its header (vectored), instead of being
//! copied into the write buffer, and is recycled once written.
//!
//! # Unsafe
//!
//! Two blocks, in the private `utf8` module: text already validated (piece by piece,
//! or whole by simdutf8) becomes a `String` without std validating it again (std's
//! validator is an order of magnitude slower than simdutf8 on multi-byte text). Its tests compare it with std
//! at every split of valid and invalid samples, and pass under Miri
//! (`cargo +nightly miri test -p ws-stream --lib utf8`). Everything else is safe code.
#![deny(unsafe_code)]

#[cfg(feature = "tokio")]
mod async_stream;
mod config;
mod deflate;
mod driver;
mod error;
mod message;
pub mod proto;
mod split;
mod stream;
mod utf8;

#[cfg(feature = "tokio")]
pub use async_stream::{AsyncReader, AsyncStream, AsyncWriter};
pub use config::{Config, Deflate, Role};
pub use driver::Socket;
pub use error::{CloseFrame, Error, Result};
pub use message::{Message, MessageKind};
pub use proto::{CloseRequest, Event, PreparedMessage};
pub use split::{Reader, Split, Writer};
pub use stream::{MessageReader, MessageWriter, Stream};
pub use ws_frame::CloseCode;

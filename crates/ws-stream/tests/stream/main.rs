//! Integration tests for ws-stream, in one binary: receiving and reassembly, UTF-8,
//! pings, the close handshake and close codes, limits, sending, message readers and
//! writers, keep-alive, split halves, non-blocking streams, the sans-IO core on a fake
//! clock, tungstenite interop, and (feature `tokio`) the async stream.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "tokio")]
mod async_stream;
mod close;
mod control;
mod in_place;
mod interop;
mod keepalive;
mod limits;
mod nonblocking;
mod props;
mod receive;
mod sans_io;
mod send;
mod split;
mod support;
mod utf8;

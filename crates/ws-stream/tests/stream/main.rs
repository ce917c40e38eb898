//! Integration tests for ws-stream, in one binary: receiving and reassembly, UTF-8,
//! pings, the close handshake and close codes, limits, sending, message readers and
//! writers, keep-alive, split halves, non-blocking streams, the sans-IO core on a fake
//! clock, and tungstenite interop.
#![allow(clippy::unwrap_used)]

mod close;
mod control;
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

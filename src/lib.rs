//! WebSockets for Rust (RFC 6455).
#![forbid(unsafe_code)]

pub use ws_frame as frame;
pub use ws_handshake as handshake;

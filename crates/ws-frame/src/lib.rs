//! A sans-IO codec for RFC 6455 WebSocket frames: no I/O, no dependencies, `no_std`.
//!
//! ```
//! use ws_frame::{Decoded, Decoder, DecoderConfig, Frame, Masking, OpCode};
//!
//! // A client masks what it sends...
//! let mut wire = Vec::new();
//! Frame::text("Hello").with_mask([0x37, 0xfa, 0x21, 0x3d]).encode(&mut wire);
//! assert_eq!(wire, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//!
//! // ...and a server insists on it while decoding, whatever bytes have arrived so far.
//! let decoder = Decoder::new(DecoderConfig::default().masking(Masking::Required));
//! assert_eq!(decoder.decode(&wire[..4])?, Decoded::Incomplete(2));
//! let Decoded::Complete(frame, used) = decoder.decode(&wire)? else { unreachable!() };
//! assert_eq!((frame.opcode(), frame.payload(), used), (OpCode::Text, &b"Hello"[..], 11));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Overview
//!
//! - [`FrameHeader`] encodes into a fixed 14-byte buffer and decodes from a prefix of
//!   the input, checking every rule the header alone can break against a
//!   [`DecoderConfig`] (payload limit, masking, RSV bits) before any allocation.
//!   Connections use it directly to read payloads into buffers they own.
//! - [`Frame`] is a header with its payload, with a constructor per kind; [`Decoder`]
//!   turns buffered bytes into whole frames.
//! - [`OpCode`], [`CloseCode`] and [`CloseBody`] model the protocol's values.
//! - [`apply_mask`] and [`apply_mask_at`] mask payloads whole or in pieces, a word at a time.
//! - [`Error`] is the one error type; each decode error knows the close code it
//!   calls for ([`Error::close_code`]).
//!
//! Rules that span frames (a continuation needs a message in progress, text must be
//! UTF-8 across fragments) and the HTTP handshake belong to the crates above this one.
//!
//! # Features
//!
//! - `std` (default): implements `std::error::Error` for [`Error`]. Without it the crate
//!   needs only `core` and `alloc`.
//!
//! # Unsafe
//!
//! None: `#![forbid(unsafe_code)]`. Masking reaches memory speed through code the
//! compiler vectorises, not through pointer casts.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod close;
mod error;
mod frame;
mod header;
mod mask;
mod opcode;

pub use close::{CloseBody, CloseCode};
pub use error::Error;
pub use frame::{Decoder, Frame};
pub use header::{Decoded, DecoderConfig, FrameHeader, Masking};
pub use mask::{apply_mask, apply_mask_at};
pub use opcode::OpCode;

//! The connection's protocol logic, sans-IO: bytes in, events out; messages in, bytes out.
//!
//! A driver (the blocking [`Stream`](crate::Stream) here, an async one elsewhere) owns
//! the I/O and moves bytes and obligations between three parts:
//!
//! - [`Receiver`] takes the bytes read from the peer (into [`Receiver::buffer_mut`], or
//!   copied in with [`Receiver::receive`]) and answers [`Incoming`] events: whole
//!   messages, or a message in pieces, and control frames. It enforces every rule
//!   on what the peer sends (RFC 6455 sections 5 to 8).
//! - [`Sender`] encodes what we send into bytes for the driver to write
//!   ([`Sender::pending`], [`Sender::advance`]): masking, fragmentation, and the
//!   rule that nothing follows our Close.
//! - [`Keepalive`] decides, from the times the driver reports, when to ping an idle
//!   peer and when to give up on a silent one.
//!
//! The receiver's obligations (answer a ping, echo a Close, send the close code an
//! error calls for) come out of [`Receiver::take_reply`] as a [`Reply`], which the
//! driver hands to [`Sender::reply`]. Nothing else is left to the driver's judgement.
//!
//! ```
//! use ws_stream::proto::{Incoming, Receiver, Sender};
//! use ws_stream::{Config, Role};
//!
//! let mut server = Receiver::new(Role::Server, &Config::default());
//! let mut replies = Sender::new(Role::Server, &Config::default());
//! // A masked ping from a client, "Hi", then the start of a text message.
//! server.receive(&[0x89, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2, 0x81]);
//! assert!(matches!(server.poll()?, Some(Incoming::Ping(b"Hi"))));
//! if let Some(reply) = server.take_reply() {
//!     replies.reply(reply)?;
//! }
//! assert_eq!(replies.pending(), [0x8A, 0x02, b'H', b'i']);
//! assert!(server.poll()?.is_none(), "the text frame has not arrived yet");
//! # Ok::<(), ws_stream::Error>(())
//! ```

mod keepalive;
mod recv;
mod send;

pub use keepalive::{Keepalive, Timer};
pub use recv::{Incoming, Receiver};
pub use send::{ControlPayload, PreparedMessage, Reply, Sender};

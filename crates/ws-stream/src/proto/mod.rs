//! The connection's protocol, sans-IO: bytes and [`Instant`](std::time::Instant)s in,
//! events and bytes out.
//!
//! [`Connection`] holds every rule of RFC 6455 after the handshake: framing and
//! masking, fragmentation, UTF-8, limits, pings and pongs, the close handshake and its
//! timeout, keep-alive, who ends the transport, and the close code each failure earns.
//! A driver (the blocking [`Stream`](crate::Stream), an async one, an event loop) only
//! moves bytes between it and the transport, sleeps until its deadline and hands the
//! events on. This is a whole one, an echo server over a blocking socket:
//!
//! ```
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::{Shutdown, TcpStream};
//! use std::time::Instant;
//! use ws_stream::proto::{Connection, Incoming, Transport};
//!
//! fn echo(socket: &mut TcpStream, conn: &mut Connection) -> ws_stream::Result<()> {
//!     loop {
//!         // Events out. Pongs and the answer to the peer's Close are queued already.
//!         let polled = match conn.poll_event() {
//!             Ok(Some(Incoming::Message(message))) => conn.send(&message).map(|()| true),
//!             Ok(event) => Ok(event.is_some()),
//!             Err(end) => Err(end), // how the connection ended, or what the peer broke
//!         };
//!         // Bytes out, then whatever the connection says of the transport.
//!         while !conn.pending().is_empty() {
//!             socket.write_all(conn.pending())?;
//!             conn.advance(conn.pending().len());
//!         }
//!         if conn.transport() == Transport::Shutdown {
//!             socket.shutdown(Shutdown::Both).ok();
//!             conn.transport_shut_down();
//!         }
//!         if polled? {
//!             continue; // more events may be buffered
//!         }
//!         // Time, then bytes in.
//!         let now = Instant::now();
//!         if conn.poll_timeout().is_some_and(|deadline| deadline <= now) {
//!             conn.handle_timeout(now);
//!             continue;
//!         }
//!         socket.set_read_timeout(conn.read_timeout(now))?;
//!         match socket.read(conn.read_buffer()) {
//!             Ok(0) => conn.transport_ended(Instant::now()),
//!             Ok(n) => conn.filled(n, Instant::now()),
//!             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//! }
//! # use ws_stream::{Config, Message, Role, Stream};
//! # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! # let mut client = Stream::with_role(TcpStream::connect(listener.local_addr()?)?, Role::Client);
//! # let server = std::thread::spawn(move || {
//! #     let mut socket = listener.accept()?.0;
//! #     echo(&mut socket, &mut Connection::new(Role::Server, &Config::default(), Instant::now()))
//! # });
//! # client.send_text("Hello")?;
//! # assert_eq!(client.read_message()?, Message::text("Hello"));
//! # client.close()?;
//! # assert!(server.join().unwrap().unwrap_err().is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Connection`] is made of three parts, public for drivers with needs of their own:
//! [`Receiver`] (bytes in, [`Incoming`] events out), [`Sender`] (messages in, bytes
//! out) and [`Keepalive`] (when to ping, when to give up).

mod connection;
mod keepalive;
mod recv;
mod send;

pub use connection::{CloseRequest, Connection, SpareBuffers, Stats, Transport};
pub use keepalive::{Keepalive, Timer};
pub use recv::{Event, Incoming, Receiver};
pub use send::{ControlPayload, MaskKeySource, OWNED_PAYLOAD_MIN, PreparedMessage, Reply, Sender};

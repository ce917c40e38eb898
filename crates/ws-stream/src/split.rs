use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use ws_frame::CloseCode;

use crate::driver::{Socket, SocketControl, after_read, lock, write_all};
use crate::proto::{Connection, Event, Incoming};
use crate::stream::ended_frame;
use crate::{Error, Message, MessageKind, PreparedMessage, Result, Stream};

/// A stream that can be cut into a reading half and a writing half for two threads.
///
/// Implemented for `TcpStream` (and by ws-tls for its TLS stream). The reading half
/// must offer [`Socket`] so that keep-alive keeps working after the split.
pub trait Split: Sized {
    /// The half that reads.
    type Reader: Read + Socket + Send;
    /// The half that writes.
    type Writer: Write + Send;

    /// Cuts the stream in two.
    fn split(self) -> io::Result<(Self::Reader, Self::Writer)>;
}

impl Split for std::net::TcpStream {
    type Reader = std::net::TcpStream;
    type Writer = std::net::TcpStream;

    fn split(self) -> io::Result<(Self::Reader, Self::Writer)> {
        let writer = self.try_clone()?;
        Ok((self, writer))
    }
}

/// What the two halves share: the connection, and the writing half of the stream.
///
/// Nobody writes to the network while holding the connection's lock: a writer takes
/// the pending bytes out and writes them holding only `out`. So the reader never
/// waits behind a writer blocked on a peer that is itself blocked writing to us and
/// waits for us to read; its replies (pongs, Closes) stay queued in the connection,
/// and whoever holds `out` writes them before letting go of it.
#[derive(Debug)]
struct Shared<W> {
    conn: Mutex<Connection>,
    out: Mutex<Out<W>>,
}

/// The writing half of the stream, and the bytes being written to it.
#[derive(Debug)]
struct Out<W> {
    io: W,
    buf: Vec<u8>,
}

impl<W: Write> Shared<W> {
    /// Writes what the connection has pending until nothing is, holding `out` (the
    /// caller's guard) throughout.
    fn write_out(&self, mut out: MutexGuard<'_, Out<W>>) -> Result<()> {
        loop {
            let mut conn = lock(&self.conn);
            let side = &mut *out;
            conn.take_pending(&mut side.buf);
            if side.buf.is_empty() {
                // `out` is let go while `conn` is held: a reply queued after this check
                // finds `out` free.
                drop(out);
                drop(conn);
                return Ok(());
            }
            drop(conn);
            let written = write_all(&mut side.io, &side.buf);
            side.buf.clear();
            written?;
        }
    }

    /// Writes pending replies if no writer is busy; a busy writer writes them itself.
    fn try_write_out(&self) -> Result<()> {
        match self.out.try_lock() {
            Ok(out) => self.write_out(out),
            Err(TryLockError::Poisoned(poisoned)) => self.write_out(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => Ok(()),
        }
    }
}

impl<S: Read + Write + Split> Stream<S> {
    /// Cuts the connection into a [`Reader`] and a [`Writer`] that two threads can use
    /// at once: one blocks reading while the other sends.
    ///
    /// The reader still answers pings and Closes. It never waits behind a writer
    /// that is blocked on the network: its replies then go out with the writer's next
    /// write, so two peers that both write while the other is not reading cannot
    /// deadlock over a pong. The writer can be cloned, so several threads (a
    /// broadcaster, say) may send.
    pub fn split(self) -> Result<(Reader<S>, Writer<S>)> {
        let (io, conn, socket) = self.into_parts();
        let socket = socket.carry_to::<S::Reader>();
        let (reader, writer) = io.split()?;
        let shared = Arc::new(Shared {
            conn: Mutex::new(conn),
            out: Mutex::new(Out {
                io: writer,
                buf: Vec::new(),
            }),
        });
        Ok((
            Reader {
                io: reader,
                buf: vec![0; 4 << 10],
                socket,
                shared: Arc::clone(&shared),
            },
            Writer { shared },
        ))
    }
}

/// The reading half of a split connection; see [`Stream::split`].
pub struct Reader<S: Split> {
    io: S::Reader,
    /// What the reader reads into, outside the connection's lock.
    buf: Vec<u8>,
    socket: SocketControl<S::Reader>,
    shared: Arc<Shared<S::Writer>>,
}

/// The largest the split reader's own buffer grows to.
const MAX_READ: usize = 128 << 10;

impl<S: Split> Reader<S> {
    /// Reads the next message; see [`Stream::read_message`].
    pub fn read_message(&mut self) -> Result<Message> {
        self.next(|event| match event {
            Incoming::Message(message) => Some(message),
            _ => None,
        })
    }

    /// Reads the next message or control frame; see [`Stream::read_event`].
    pub fn read_event(&mut self) -> Result<Event> {
        self.next(|event| match event {
            event @ (Incoming::Message(_)
            | Incoming::Ping(_)
            | Incoming::Pong(_)
            | Incoming::Close(_)) => Some(event.into_owned()),
            _ => None,
        })
    }

    /// Generic in `on_event` for the reason `Stream`'s reading loop is.
    fn next<T>(&mut self, mut on_event: impl FnMut(Incoming<'_>) -> Option<T>) -> Result<T> {
        loop {
            let mut conn = lock(&self.shared.conn);
            let mut need_more = false;
            let polled = match conn.poll_event() {
                Ok(Some(event)) => {
                    let close = matches!(event, Incoming::Close(_));
                    match on_event(event) {
                        Some(kept) if close => Err(Ok(kept)),
                        Some(kept) => Ok(Some(kept)),
                        None if close => Err(Err(Error::Closed(ended_frame(&conn)))),
                        None => Ok(None),
                    }
                }
                Ok(None) => {
                    need_more = true;
                    Ok(None)
                }
                Err(error) => Err(Err(error)),
            };
            drop(conn);
            match polled {
                Ok(kept) => {
                    // A reply that cannot be written means a broken stream, which the
                    // next read reports.
                    self.shared.try_write_out().ok();
                    if let Some(kept) = kept {
                        return Ok(kept);
                    }
                    if need_more {
                        self.fill()?;
                    }
                }
                // The end: our Close goes out (waiting for a busy writer, as the end
                // comes once), then the transport is shut down if the connection says so.
                Err(end) => {
                    self.shared.write_out(lock(&self.shared.out)).ok();
                    self.socket
                        .shutdown_if_asked(&self.io, &mut lock(&self.shared.conn));
                    return end;
                }
            }
        }
    }

    /// Reads once, outside the connection's lock, and hands the bytes over.
    fn fill(&mut self) -> Result<()> {
        if self
            .socket
            .before_read(&self.io, &mut lock(&self.shared.conn))?
        {
            return Ok(());
        }
        let result = self.io.read(&mut self.buf);
        let filled = matches!(result, Ok(n) if n == self.buf.len());
        let buf = &self.buf;
        let mut conn = lock(&self.shared.conn);
        let taken = after_read(
            &mut conn,
            result,
            self.socket.is_enabled(),
            |conn, n, now| match now {
                Some(now) => conn.receive(&buf[..n], now),
                None => conn.receive_untimed(&buf[..n]),
            },
        );
        drop(conn);
        if filled && self.buf.len() < MAX_READ {
            // Bulk traffic: read in larger chunks.
            self.buf.resize(self.buf.len() * 2, 0);
        }
        if taken.is_err() {
            self.shared.try_write_out().ok();
        }
        taken
    }
}

impl<S: Split> std::fmt::Debug for Reader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// The writing half of a split connection; see [`Stream::split`]. Clones share it.
pub struct Writer<S: Split> {
    shared: Arc<Shared<S::Writer>>,
}

impl<S: Split> Clone for Writer<S> {
    fn clone(&self) -> Self {
        Writer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: Split> std::fmt::Debug for Writer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl<S: Split> Writer<S> {
    /// Sends a message.
    pub fn send(&self, message: &Message) -> Result<()> {
        self.queue(|conn| conn.send(message))
    }

    /// Sends a text message.
    pub fn send_text(&self, text: impl AsRef<str>) -> Result<()> {
        self.queue(|conn| conn.send_text(text.as_ref()))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|conn| conn.send_message(MessageKind::Binary, data.as_ref()))
    }

    /// Sends a message encoded once for many connections; see [`PreparedMessage`].
    pub fn send_prepared(&self, message: &PreparedMessage) -> Result<()> {
        self.queue(|conn| conn.send_prepared(message))
    }

    /// Queues a message encoded once for many connections without writing it: for a
    /// publisher that must not wait on one slow member. The bytes go out with the
    /// next write of any clone of this writer, or with [`Writer::flush`], which
    /// another thread calls (ws-server's topics keep one such thread per member).
    ///
    /// [`Error::WriteBufferFull`](crate::Error::WriteBufferFull) when the message does
    /// not fit in the write buffer (the peer is not reading fast enough), and nothing
    /// is queued; the rule is the connection's, as for every send.
    pub fn try_send_prepared(&self, message: &PreparedMessage) -> Result<()> {
        lock(&self.shared.conn).send_prepared(message)
    }

    /// Writes everything queued, waiting for the network as a send does.
    pub fn flush(&self) -> Result<()> {
        self.shared.write_out(lock(&self.shared.out))
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&self, payload: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|conn| conn.ping(payload.as_ref()))
    }

    /// Sends an unsolicited pong (at most 125 bytes).
    pub fn pong(&self, payload: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|conn| conn.pong(payload.as_ref()))
    }

    /// Sends our Close (1000). The [`Reader`] reports the peer's answer as the end of
    /// the connection.
    pub fn close(&self) -> Result<()> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// Sends our Close with `code` and `reason`.
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.queue(|conn| conn.close(code, reason, Instant::now()))
    }

    /// Whether our Close is sent or the connection has ended.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.conn).is_send_closed()
    }

    /// Queues with `queue` and writes it, with whatever replies wait before it.
    ///
    /// Holding `out` from before queueing keeps the frames of concurrent writers in
    /// the order they were queued; the connection's write buffer holds at most the
    /// replies queued while a write was under way.
    fn queue(&self, queue: impl FnOnce(&mut Connection) -> Result<()>) -> Result<()> {
        let out = lock(&self.shared.out);
        let queued = queue(&mut lock(&self.shared.conn));
        // Also writes the Close of a close request the connection honoured meanwhile.
        let written = self.shared.write_out(out);
        queued?;
        written
    }
}

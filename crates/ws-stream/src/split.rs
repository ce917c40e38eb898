use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use ws_frame::CloseCode;

use crate::driver::{Outbox, ReadState, Socket, write_pending};
use crate::proto::{Incoming, Sender};
use crate::{Error, Event, Message, MessageKind, PreparedMessage, Result, Stream};

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

/// What the two halves share: the sender and the writing half of the stream.
#[derive(Debug)]
struct WriteSide<W> {
    sender: Sender,
    io: W,
}

type Shared<W> = Arc<Mutex<WriteSide<W>>>;

fn lock<W>(shared: &Mutex<WriteSide<W>>) -> MutexGuard<'_, WriteSide<W>> {
    // A panic while holding the lock leaves at worst a partly queued frame; the
    // connection is as usable (or as broken) as the stream under it.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: Read + Write + Split> Stream<S> {
    /// Cuts the connection into a [`Reader`] and a [`Writer`] that two threads can use
    /// at once: one blocks reading while the other sends.
    ///
    /// The reader still answers pings and Closes, through the writer's lock. The
    /// writer can be cloned, so several threads (a broadcaster, say) may send.
    pub fn split(self) -> Result<(Reader<S>, Writer<S>)> {
        let (io, read, sender) = self.into_parts();
        let (reader, writer) = io.split()?;
        let shared = Arc::new(Mutex::new(WriteSide { sender, io: writer }));
        Ok((
            Reader {
                io: reader,
                read: read.into_reader(),
                shared: Arc::clone(&shared),
            },
            Writer { shared },
        ))
    }
}

/// The reading half of a split connection; see [`Stream::split`].
pub struct Reader<S: Split> {
    io: S::Reader,
    read: ReadState<S::Reader>,
    shared: Shared<S::Writer>,
}

/// Replies from the reader go through the writer's lock.
struct Locked<'a, W>(&'a Mutex<WriteSide<W>>);

impl<R, W: Write> Outbox<R> for Locked<'_, W> {
    fn send(&mut self, _: &mut R, queue: &mut dyn FnMut(&mut Sender) -> Result<()>) -> Result<()> {
        let mut side = lock(self.0);
        let side = &mut *side;
        queue(&mut side.sender)?;
        write_pending(&mut side.io, &mut side.sender)
    }
}

impl<S: Split> Reader<S> {
    /// Reads the next message; see [`Stream::read_message`].
    pub fn read_message(&mut self) -> Result<Message> {
        self.next(&mut |event| match event {
            Incoming::Message(message) => Some(message),
            _ => None,
        })
    }

    /// Reads the next message or control frame; see [`Stream::read_event`].
    pub fn read_event(&mut self) -> Result<Event> {
        let mut close = false;
        let event = self.next(&mut |event| match event {
            Incoming::Message(message) => Some(Event::Message(message)),
            Incoming::Ping(payload) => Some(Event::Ping(payload.to_vec())),
            Incoming::Pong(payload) => Some(Event::Pong(payload.to_vec())),
            Incoming::Close(_) => {
                close = true;
                None
            }
            _ => None,
        });
        match event {
            Err(Error::Closed(frame)) if close => Ok(Event::Close(frame)),
            other => other,
        }
    }

    fn next<T>(&mut self, on_event: &mut dyn FnMut(Incoming<'_>) -> Option<T>) -> Result<T> {
        self.read.next(
            &mut self.io,
            &mut Locked(&self.shared),
            usize::MAX,
            on_event,
        )
    }
}

impl<S: Split> std::fmt::Debug for Reader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("role", &self.read.role)
            .finish_non_exhaustive()
    }
}

/// The writing half of a split connection; see [`Stream::split`]. Clones share it.
pub struct Writer<S: Split> {
    shared: Shared<S::Writer>,
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
        self.queue(|sender| sender.send_message(message.kind(), message.as_bytes()))
    }

    /// Sends a text message.
    pub fn send_text(&self, text: impl AsRef<str>) -> Result<()> {
        self.queue(|sender| sender.send_message(MessageKind::Text, text.as_ref().as_bytes()))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|sender| sender.send_message(MessageKind::Binary, data.as_ref()))
    }

    /// Sends a message encoded once for many connections; see [`PreparedMessage`].
    pub fn send_prepared(&self, message: &PreparedMessage) -> Result<()> {
        self.queue(|sender| sender.send_prepared(message))
    }

    /// Sends a ping (at most 125 bytes).
    pub fn ping(&self, payload: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|sender| sender.ping(payload.as_ref()))
    }

    /// Sends an unsolicited pong (at most 125 bytes).
    pub fn pong(&self, payload: impl AsRef<[u8]>) -> Result<()> {
        self.queue(|sender| sender.pong(payload.as_ref()))
    }

    /// Sends our Close (1000). The [`Reader`] reports the peer's answer as the end of
    /// the connection.
    pub fn close(&self) -> Result<()> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// Sends our Close with `code` and `reason`.
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.queue(|sender| sender.close(code, reason))
    }

    /// Whether our Close is sent or the connection has ended.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).sender.is_closed()
    }

    fn queue(&self, queue: impl FnOnce(&mut Sender) -> Result<()>) -> Result<()> {
        let mut side = lock(&self.shared);
        let side = &mut *side;
        queue(&mut side.sender)?;
        write_pending(&mut side.io, &mut side.sender)
    }
}

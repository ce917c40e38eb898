use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use ws_frame::CloseCode;

use crate::driver::{Outbox, ReadState, Socket, write_pending};
use crate::proto::{Incoming, Reply, Sender};
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

/// What the two halves share: the sender and the writing half of the stream, and the
/// replies the reader could not send because a writer held the lock.
///
/// The reader never waits for the lock: a writer may be blocked on a peer that is
/// itself blocked writing to us and waits for us to read, and a reader queueing behind
/// that writer would stop reading for good. Deferred replies go out with the next
/// frame any writer sends, or when a writer releases the lock, or when the reader next
/// finds the lock free.
#[derive(Debug)]
struct Shared<W> {
    side: Mutex<WriteSide<W>>,
    deferred: Mutex<Vec<Reply>>,
}

#[derive(Debug)]
struct WriteSide<W> {
    sender: Sender,
    io: W,
}

/// The most replies kept while a writer holds the lock.
const MAX_DEFERRED: usize = 64;

/// Locks, shrugging off poisoning: a panic while holding one of these locks leaves at
/// worst a partly queued frame, and the connection is as usable (or as broken) as the
/// stream under it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<W: Write> Shared<W> {
    fn try_lock(&self) -> Option<MutexGuard<'_, WriteSide<W>>> {
        match self.side.try_lock() {
            Ok(side) => Some(side),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Keeps a reply for later, unless [`MAX_DEFERRED`] already wait: then the caller
    /// must wait for the lock after all. A peer that floods us with pings while our
    /// writer is stuck is thus held back by our not reading, as it would be unsplit,
    /// and every ping still gets its pong.
    fn defer(&self, reply: Reply) -> bool {
        let mut deferred = lock(&self.deferred);
        if deferred.len() >= MAX_DEFERRED {
            return false;
        }
        deferred.push(reply);
        true
    }

    /// Queues the deferred replies, then `queue`, and writes them all.
    fn send_locked(
        &self,
        side: &mut WriteSide<W>,
        queue: &mut dyn FnMut(&mut Sender) -> Result<()>,
    ) -> Result<()> {
        let deferred = std::mem::take(&mut *lock(&self.deferred));
        for reply in deferred {
            side.sender.reply(reply)?;
        }
        queue(&mut side.sender)?;
        write_pending(&mut side.io, &mut side.sender)
    }

    /// Sends, waiting for the lock; then hands on replies deferred meanwhile.
    fn send(&self, queue: &mut dyn FnMut(&mut Sender) -> Result<()>) -> Result<()> {
        let sent = self.send_locked(&mut lock(&self.side), queue);
        // A reply deferred while we held the lock would otherwise wait for the next send.
        self.retry().ok();
        sent
    }

    /// Sends the deferred replies, and bytes an earlier `WouldBlock` left, if the lock
    /// is free.
    fn retry(&self) -> Result<()> {
        let Some(mut side) = self.try_lock() else {
            return Ok(());
        };
        if side.sender.pending().is_empty() && lock(&self.deferred).is_empty() {
            return Ok(());
        }
        self.send_locked(&mut side, &mut |_| Ok(()))
    }
}

impl<S: Read + Write + Split> Stream<S> {
    /// Cuts the connection into a [`Reader`] and a [`Writer`] that two threads can use
    /// at once: one blocks reading while the other sends.
    ///
    /// The reader still answers pings and Closes. It never waits behind a writer
    /// that is blocked on the network: its replies then go out with the writer's next
    /// frame, so two peers that both write while the other is not reading cannot
    /// deadlock over a pong. The writer can be cloned, so several threads (a
    /// broadcaster, say) may send.
    pub fn split(self) -> Result<(Reader<S>, Writer<S>)> {
        let (io, read, sender) = self.into_parts();
        let (reader, writer) = io.split()?;
        let shared = Arc::new(Shared {
            side: Mutex::new(WriteSide { sender, io: writer }),
            deferred: Mutex::new(Vec::new()),
        });
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
    shared: Arc<Shared<S::Writer>>,
}

/// Replies from the reader go through the writer's lock, or wait if a writer holds it.
struct Locked<'a, W>(&'a Shared<W>);

impl<R, W: Write> Outbox<R> for Locked<'_, W> {
    fn send(&mut self, _: &mut R, queue: &mut dyn FnMut(&mut Sender) -> Result<()>) -> Result<()> {
        self.0.send(queue)
    }

    fn reply(&mut self, _: &mut R, reply: Reply) -> Result<()> {
        match self.0.try_lock() {
            Some(mut side) => self
                .0
                .send_locked(&mut side, &mut |sender| sender.reply(reply)),
            None if self.0.defer(reply) => {
                // The writer may have let go in between, seeing nothing deferred.
                self.0.retry()
            }
            None => self.0.send(&mut |sender| sender.reply(reply)),
        }
    }

    fn retry(&mut self, _: &mut R) -> Result<()> {
        self.0.retry()
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
        lock(&self.shared.side).sender.is_closed()
    }

    fn queue(&self, queue: impl FnOnce(&mut Sender) -> Result<()>) -> Result<()> {
        let mut queue = Some(queue);
        self.shared.send(&mut |sender| match queue.take() {
            Some(queue) => queue(sender),
            None => Ok(()),
        })
    }
}

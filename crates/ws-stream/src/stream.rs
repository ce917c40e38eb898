use std::io::{self, Read, Write};

use ws_frame::CloseCode;

use crate::driver::{CloseRequest, Direct, ReadState, Socket, SocketOps, write_pending};
use crate::proto::{Incoming, Sender};
use crate::utf8::Utf8Validator;
use crate::{CloseFrame, Config, Error, Message, MessageKind, PreparedMessage, Result, Role};

/// What [`Stream::read_event`] reports: a message or a control frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A whole message.
    Message(Message),
    /// A ping; the pong with its payload has already been sent.
    Ping(Vec<u8>),
    /// A pong: the answer to our ping, or a heartbeat.
    Pong(Vec<u8>),
    /// The peer closed the connection; our answering Close has been sent.
    Close(CloseFrame),
}

/// A WebSocket connection over a blocking byte stream.
///
/// It reads and writes messages, answers pings, runs the close handshake, and sends
/// the right close code when the peer breaks the protocol. It holds a small read
/// buffer (4 KiB, growing with traffic) and adds nothing to each message beyond
/// the message itself.
///
/// ```
/// use std::io::Cursor;
/// use ws_stream::{Message, Stream};
///
/// // A server's view of a client that sent one masked text frame, "Hi".
/// let wire = vec![0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
/// let mut stream = Stream::new(Cursor::new(wire), false);
/// assert_eq!(stream.read_message()?, Message::text("Hi"));
/// # Ok::<(), ws_stream::Error>(())
/// ```
///
/// # Timeouts
///
/// Keep-alive pings, the idle timeout and the close timeout need a way to stop a
/// blocking read; over a TCP or Unix socket, call [`Stream::enable_socket_control`]
/// (ws-server and ws-client do) and the stream sets read timeouts itself. Over other
/// streams, timers are checked whenever a read returns `WouldBlock` or `TimedOut`,
/// which the stream's own timeout or non-blocking mode provides; the error is then
/// handed to the caller, and calling again carries on without loss.
#[derive(Debug)]
pub struct Stream<S> {
    io: S,
    read: ReadState<S>,
    sender: Sender,
    max_piece: usize,
}

impl<S: Read + Write> Stream<S> {
    /// A connection over `socket`; `is_client` says which end this is.
    ///
    /// Kept from estd-websockets. A bare `bool` reads poorly at the call site, so
    /// [`Stream::with_role`] says the same with a [`Role`].
    pub fn new(socket: S, is_client: bool) -> Stream<S> {
        Stream::with_config(socket, Role::from_is_client(is_client), Config::default())
    }

    /// A connection over `socket` for `role`, with default limits.
    pub fn with_role(socket: S, role: Role) -> Stream<S> {
        Stream::with_config(socket, role, Config::default())
    }

    /// A connection over `socket` for `role`, with `config`.
    pub fn with_config(socket: S, role: Role, config: Config) -> Stream<S> {
        Stream {
            io: socket,
            read: ReadState::new(role, &config),
            sender: Sender::new(role, &config),
            max_piece: config.max_send_frame_size.min(64 << 10),
        }
    }

    /// A connection taking over after an HTTP upgrade, given the bytes already read
    /// past the end of the HTTP head (a client may send its first frame at once).
    pub fn from_upgrade(socket: S, role: Role, config: Config, read_ahead: &[u8]) -> Stream<S> {
        let mut stream = Stream::with_config(socket, role, config);
        stream.read.receiver.receive(read_ahead);
        stream
    }

    /// Reads the next message, answering pings and skipping pongs on the way.
    ///
    /// When the peer closes, our Close is sent and the result is
    /// [`Error::Closed`] with the peer's code and reason; see [`Error::is_closed`].
    pub fn read_message(&mut self) -> Result<Message> {
        self.next(usize::MAX, &mut |event| match event {
            Incoming::Message(message) => Some(message),
            _ => None,
        })
    }

    /// Reads the next message or control frame.
    ///
    /// A Close from the peer is an event here, not an error; reads after it fail with
    /// [`Error::AlreadyClosed`].
    pub fn read_event(&mut self) -> Result<Event> {
        let mut close = None;
        let event = self.next(usize::MAX, &mut |event| match event {
            Incoming::Message(message) => Some(Event::Message(message)),
            Incoming::Ping(payload) => Some(Event::Ping(payload.to_vec())),
            Incoming::Pong(payload) => Some(Event::Pong(payload.to_vec())),
            Incoming::Close(_) => {
                close = Some(());
                None
            }
            _ => None,
        });
        match event {
            Err(Error::Closed(frame)) if close.is_some() => Ok(Event::Close(frame)),
            other => other,
        }
    }

    /// Waits for the next message and reads it in pieces, without holding it whole.
    ///
    /// For files and media: the reader yields the payload as it arrives (text is
    /// checked as UTF-8 on the way), and `max_message_size` does not apply. Dropping
    /// the reader early skips the rest of the message.
    pub fn message_reader(&mut self) -> Result<MessageReader<'_, S>> {
        if self.read.ended.is_some() {
            return Err(Error::AlreadyClosed);
        }
        // The rest of a message a dropped reader skips is passed over on the way.
        if self.read.receiver.in_message() && !self.read.receiver.is_skipping() {
            return Err(Error::MessageInProgress);
        }
        self.read.receiver.set_streaming(true);
        let kind = self.next(usize::MAX, &mut |event| match event {
            Incoming::MessageStart(kind) => Some(kind),
            _ => None,
        });
        self.read.receiver.set_streaming(false);
        Ok(MessageReader {
            kind: kind?,
            stream: self,
            done: false,
        })
    }

    /// Sends a message.
    pub fn send(&mut self, message: &Message) -> Result<()> {
        self.send_data(message.kind(), message.as_bytes())
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: impl AsRef<str>) -> Result<()> {
        self.send_data(MessageKind::Text, text.as_ref().as_bytes())
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: impl AsRef<[u8]>) -> Result<()> {
        self.send_data(MessageKind::Binary, data.as_ref())
    }

    /// Sends a message encoded once for many connections; see [`PreparedMessage`].
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        self.queue(|sender| sender.send_prepared(message))
    }

    /// Starts a message sent in pieces: write to the writer, then
    /// [`finish`](MessageWriter::finish) it.
    pub fn message_writer(&mut self, kind: MessageKind) -> Result<MessageWriter<'_, S>> {
        if self.sender.is_closed() {
            return Err(Error::AlreadyClosed);
        }
        if self.sender.in_message() {
            return Err(Error::MessageInProgress);
        }
        Ok(MessageWriter {
            buf: Vec::new(),
            utf8: (kind == MessageKind::Text).then(Utf8Validator::default),
            kind,
            finished: false,
            stream: self,
        })
    }

    /// Sends a ping (at most 125 bytes); the pong comes back through
    /// [`Stream::read_event`].
    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> Result<()> {
        let payload = payload.as_ref();
        self.queue(|sender| sender.ping(payload))
    }

    /// Sends an unsolicited pong (at most 125 bytes), a one-way heartbeat.
    pub fn pong(&mut self, payload: impl AsRef<[u8]>) -> Result<()> {
        let payload = payload.as_ref();
        self.queue(|sender| sender.pong(payload))
    }

    /// Closes normally (1000); see [`Stream::close_with`].
    pub fn close(&mut self) -> Result<()> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// Sends our Close with `code` and `reason`, then finishes the close handshake.
    ///
    /// It reads until the peer's Close arrives (discarding messages), the stream ends,
    /// or the close timeout passes, and returns `Ok` in all three cases: the connection
    /// is over. [`Stream::close_frame`] tells which way it ended. A server then ends
    /// the TCP connection; a client waits (within the timeout) for the server to.
    pub fn close_with(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        if self.read.ended.is_none() && !self.sender.is_closed() {
            self.queue(|sender| sender.close(code, reason))?;
        } else {
            self.flush()?;
        }
        self.read.start_close_timer();
        loop {
            match self.next(usize::MAX, &mut |_| None::<()>) {
                Err(Error::Closed(_) | Error::AlreadyClosed | Error::CloseTimeout) => break,
                Err(error) if error.close_code().is_some() => break,
                Err(error) => return Err(error),
                Ok(()) => {}
            }
        }
        if self.read.role == Role::Client {
            self.read.wait_for_end_of_stream(&mut self.io);
        }
        Ok(())
    }

    /// Lets another thread ask this connection to close; see [`CloseRequest`].
    pub fn set_close_request(&mut self, request: CloseRequest) {
        self.read.set_close_request(request);
    }

    /// How the connection ended, once it has: the peer's Close (1005 if it gave no
    /// code), the code we sent when the peer broke the protocol, or 1006 if the stream
    /// ended or the close timeout passed without a Close.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.read.ended.as_ref()
    }

    /// Whether the connection has ended, or our Close is sent and nothing more can be.
    pub fn is_closed(&self) -> bool {
        self.read.ended.is_some() || self.sender.is_closed()
    }

    /// Writes anything still queued (after a `WouldBlock`, say).
    pub fn flush(&mut self) -> Result<()> {
        write_pending(&mut self.io, &mut self.sender)
    }

    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.read.role
    }

    /// The heap bytes the connection's buffers hold, used or not.
    pub fn buffer_capacity(&self) -> usize {
        self.read.receiver.capacity() + self.sender.capacity()
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The underlying stream. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Gives back the underlying stream.
    pub fn into_inner(self) -> S {
        self.io
    }

    pub(crate) fn into_parts(self) -> (S, ReadState<S>, Sender) {
        (self.io, self.read, self.sender)
    }

    fn next<T>(
        &mut self,
        max: usize,
        on_event: &mut dyn FnMut(Incoming<'_>) -> Option<T>,
    ) -> Result<T> {
        self.read
            .next(&mut self.io, &mut Direct(&mut self.sender), max, on_event)
    }

    fn send_data(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        self.queue(|sender| sender.send_message(kind, payload))
    }

    fn queue(&mut self, queue: impl FnOnce(&mut Sender) -> Result<()>) -> Result<()> {
        if self.read.ended.is_some() {
            return Err(Error::AlreadyClosed);
        }
        if self
            .read
            .honour_close_request(&mut self.io, &mut Direct(&mut self.sender))
            .is_some()
        {
            return Err(Error::AlreadyClosed);
        }
        queue(&mut self.sender)?;
        self.flush()
    }
}

impl<S: Read + Write + Socket> Stream<S> {
    /// Lets the stream set read timeouts on its socket and shut it down, which
    /// keep-alive, the close timeout and the server's end of the close handshake need.
    ///
    /// The stream then owns the socket's read timeout; set the idle timeout in
    /// [`Config`] instead.
    pub fn enable_socket_control(&mut self) {
        self.read.set_socket(SocketOps::new());
    }
}

/// One message, written in pieces; from [`Stream::message_writer`].
///
/// Bytes written are sent in frames of up to 64 KiB (or `max_send_frame_size`, if
/// smaller) as they accumulate; [`MessageWriter::finish`] sends the last frame.
/// A `write` takes at most what completes one frame (`write_all` carries on), so a
/// refused send leaves nothing half queued. On a non-blocking stream a frame whose
/// write would block counts as written, and `flush` (which fails with `WouldBlock`
/// until everything queued is out) sends the rest.
/// Text must be UTF-8 overall: a write that makes it invalid fails with
/// `InvalidData`. Dropping an unfinished writer finishes it, ignoring errors.
#[derive(Debug)]
pub struct MessageWriter<'a, S: Read + Write> {
    stream: &'a mut Stream<S>,
    kind: MessageKind,
    buf: Vec<u8>,
    utf8: Option<Utf8Validator>,
    finished: bool,
}

impl<S: Read + Write> MessageWriter<'_, S> {
    /// Sends what is buffered as the final frame.
    pub fn finish(mut self) -> Result<()> {
        self.finish_message()
    }

    fn finish_message(&mut self) -> Result<()> {
        if let Some(utf8) = &self.utf8
            && utf8.finish().is_err()
        {
            return Err(Error::Io(invalid_text()));
        }
        let buf = std::mem::take(&mut self.buf);
        self.finished = true;
        let kind = self.kind;
        self.stream
            .queue(|sender| sender.send_piece(kind, &buf, true))
    }

    fn send_piece(&mut self, piece: &[u8]) -> io::Result<()> {
        let kind = self.kind;
        match self
            .stream
            .queue(|sender| sender.send_piece(kind, piece, false))
        {
            // The frame is queued: `Stream::flush`, or the next send, writes the rest.
            Err(error) if error.is_would_block() => Ok(()),
            sent => sent.map_err(into_io_error),
        }
    }

    /// Sends the buffer as a non-final frame, keeping it if the send is refused.
    fn send_buffered(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let sent = self.send_piece(&buf);
        self.buf = buf;
        if sent.is_ok() {
            self.buf.clear();
        }
        sent
    }
}

impl<S: Read + Write> Write for MessageWriter<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // At most one frame per call, so that an error means nothing of `data` was
        // taken: neither queued, nor buffered, nor fed to the UTF-8 check.
        let max = self.stream.max_piece;
        let data = &data[..data.len().min(max.saturating_sub(self.buf.len()))];
        let mut utf8 = self.utf8;
        if let Some(utf8) = &mut utf8 {
            utf8.feed(data).map_err(|_| invalid_text())?;
        }
        if self.buf.is_empty() && data.len() == max {
            self.send_piece(data)?;
        } else {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= max
                && let Err(error) = self.send_buffered()
            {
                self.buf.truncate(self.buf.len() - data.len());
                return Err(error);
            }
        }
        self.utf8 = utf8;
        Ok(data.len())
    }

    /// Writes what the connection has queued, then sends what is buffered as a
    /// non-final frame.
    fn flush(&mut self) -> io::Result<()> {
        // While the writer borrows the stream this is the only way to drain a write
        // buffer that refused the last write.
        self.stream.flush().map_err(into_io_error)?;
        if !self.buf.is_empty() {
            self.send_buffered()?;
        }
        Ok(())
    }
}

impl<S: Read + Write> Drop for MessageWriter<'_, S> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish_message().ok();
        }
    }
}

/// One message, read in pieces; from [`Stream::message_reader`].
#[derive(Debug)]
pub struct MessageReader<'a, S: Read + Write> {
    stream: &'a mut Stream<S>,
    kind: MessageKind,
    done: bool,
}

impl<S: Read + Write> MessageReader<'_, S> {
    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }
}

impl<S: Read + Write> Read for MessageReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let read = self.stream.next(buf.len(), &mut |event| match event {
            Incoming::MessageData(data) => {
                buf[..data.len()].copy_from_slice(data);
                Some(data.len())
            }
            Incoming::MessageEnd => Some(0),
            _ => None,
        });
        let n = read.map_err(into_io_error)?;
        self.done = n == 0;
        Ok(n)
    }
}

impl<S: Read + Write> Drop for MessageReader<'_, S> {
    fn drop(&mut self) {
        if !self.done {
            self.stream.read.receiver.skip_message();
        }
    }
}

fn invalid_text() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "text message is not valid utf-8",
    )
}

/// Connection errors through `io::Read`/`io::Write`: I/O errors as they were, the rest
/// wrapped so that `into_inner` gives them back.
fn into_io_error(error: Error) -> io::Error {
    match error {
        Error::Io(error) => error,
        other => io::Error::other(other),
    }
}

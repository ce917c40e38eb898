use std::io::{self, Read, Write};
use std::time::Instant;

use ws_frame::CloseCode;

use crate::driver::{Socket, SocketControl, after_read, write_pending};
use crate::proto::{CloseRequest, Connection, Event, Incoming, Transport};
use crate::{CloseFrame, Config, Error, Message, MessageKind, PreparedMessage, Result, Role};

/// A WebSocket connection over a blocking byte stream.
///
/// It reads and writes messages, answers pings, runs the close handshake, and sends
/// the right close code when the peer breaks the protocol: the
/// [`Connection`](crate::proto::Connection) under it decides all of that, and the
/// stream only moves bytes. It holds a small read buffer (4 KiB, growing with
/// traffic) and adds nothing to each message beyond the message itself.
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
///
/// # Sending on a non-blocking stream
///
/// A send either queues the whole message or nothing. `Ok` means queued: a blocking
/// stream has written it too, a non-blocking one may keep part of it pending, which
/// [`Stream::flush`] (or the next send or read) writes. `WouldBlock` from a send means
/// the write buffer (`max_write_buffer`) is full and could not drain: nothing was
/// queued, and calling again later is safe, it cannot send the message twice. With
/// [`Stream::enable_socket_control`] the socket is taken to block: a `WouldBlock` from
/// a send then means its write timeout passed (the peer stopped reading), and it is
/// the send's error.
#[derive(Debug)]
pub struct Stream<S> {
    io: S,
    conn: Connection,
    socket: SocketControl<S>,
    /// The last write of pending bytes ended with a flush of `io` that succeeded.
    flushed: bool,
}

impl<S: Read + Write> Stream<S> {
    /// A connection over `socket`; `is_client` says which end this is.
    ///
    /// The estd-websockets signature. [`Stream::with_role`] says the same with a
    /// [`Role`] instead of a bare `bool`.
    pub fn new(socket: S, is_client: bool) -> Stream<S> {
        Stream::with_config(socket, Role::from_is_client(is_client), Config::default())
    }

    /// A connection over `socket` for `role`, with default limits.
    pub fn with_role(socket: S, role: Role) -> Stream<S> {
        Stream::with_config(socket, role, Config::default())
    }

    /// A connection over `socket` for `role`, with `config`.
    pub fn with_config(socket: S, role: Role, config: Config) -> Stream<S> {
        Stream::from_connection(socket, Connection::new(role, &config, Instant::now()))
    }

    /// A connection over `socket` driven by `conn`, the sans-IO core (to set a mask
    /// key source on it first, say).
    pub fn from_connection(socket: S, conn: Connection) -> Stream<S> {
        Stream {
            io: socket,
            conn,
            socket: SocketControl::none(),
            flushed: true,
        }
    }

    /// A connection taking over after an HTTP upgrade, given the bytes already read
    /// past the end of the HTTP head (a client may send its first frame at once).
    pub fn from_upgrade(socket: S, role: Role, config: Config, read_ahead: &[u8]) -> Stream<S> {
        let mut stream = Stream::with_config(socket, role, config);
        stream.conn.receive(read_ahead, Instant::now());
        stream
    }

    /// Reads the next message, answering pings and skipping pongs on the way.
    ///
    /// When the peer closes, our Close is sent and the result is
    /// [`Error::Closed`] with the peer's code and reason; see [`Error::is_closed`].
    pub fn read_message(&mut self) -> Result<Message> {
        self.next(usize::MAX, |event| match event {
            Incoming::Message(message) => Some(message),
            _ => None,
        })
    }

    /// Reads the next message or control frame.
    ///
    /// A Close from the peer is an event here, not an error; reads after it fail with
    /// [`Error::AlreadyClosed`].
    pub fn read_event(&mut self) -> Result<Event> {
        self.next(usize::MAX, |event| match event {
            event @ (Incoming::Message(_)
            | Incoming::Ping(_)
            | Incoming::Pong(_)
            | Incoming::Close(_)) => Some(event.into_owned()),
            _ => None,
        })
    }

    /// Waits for the next message and reads it in pieces, without holding it whole.
    ///
    /// For files and media: the reader yields the payload as it arrives (text is
    /// checked as UTF-8 on the way), and `max_message_size` does not apply. Dropping
    /// the reader early skips the rest of the message.
    pub fn message_reader(&mut self) -> Result<MessageReader<'_, S>> {
        if self.conn.is_ended() {
            return Err(Error::AlreadyClosed);
        }
        // The rest of a message a dropped reader skips is passed over on the way.
        if self.conn.in_incoming_message() && !self.conn.is_skipping() {
            return Err(Error::MessageInProgress);
        }
        self.conn.set_streaming(true);
        let kind = self.next(usize::MAX, |event| match event {
            Incoming::MessageStart(kind) => Some(kind),
            _ => None,
        });
        self.conn.set_streaming(false);
        Ok(MessageReader {
            kind: kind?,
            stream: self,
            done: false,
        })
    }

    /// Sends a message.
    pub fn send(&mut self, message: &Message) -> Result<()> {
        self.send_with(message.len(), |conn| conn.send(message))
    }

    /// Sends a message it takes: a large payload is written from the message's own
    /// buffer instead of being copied, and that buffer then takes a message read
    /// next, as [`Stream::recycle`] would (a smaller payload is copied as by
    /// [`Stream::send`], and its buffer is recycled the same way); see
    /// [`Connection::send_owned`](crate::proto::Connection::send_owned).
    pub fn send_owned(&mut self, message: Message) -> Result<()> {
        self.send_with(message.len(), move |conn| conn.send_owned(message))
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: impl AsRef<str>) -> Result<()> {
        let text = text.as_ref();
        self.send_with(text.len(), |conn| conn.send_text(text))
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: impl AsRef<[u8]>) -> Result<()> {
        let data = data.as_ref();
        self.send_with(data.len(), |conn| {
            conn.send_message(MessageKind::Binary, data)
        })
    }

    /// Sends a message encoded once for many connections; see [`PreparedMessage`].
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        let len = message.frames().len();
        self.send_with(len, |conn| conn.send_prepared(message))
    }

    /// Starts a message sent in pieces: write to the writer, then
    /// [`finish`](MessageWriter::finish) it.
    pub fn message_writer(&mut self, kind: MessageKind) -> Result<MessageWriter<'_, S>> {
        self.conn.start_message(kind)?;
        Ok(MessageWriter {
            stream: self,
            finished: false,
        })
    }

    /// Sends a ping (at most 125 bytes); the pong comes back through
    /// [`Stream::read_event`].
    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> Result<()> {
        let payload = payload.as_ref();
        self.send_with(payload.len(), |conn| conn.ping(payload))
    }

    /// Sends an unsolicited pong (at most 125 bytes), a one-way heartbeat.
    pub fn pong(&mut self, payload: impl AsRef<[u8]>) -> Result<()> {
        let payload = payload.as_ref();
        self.send_with(payload.len(), |conn| conn.pong(payload))
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
        if !self.conn.is_send_closed() {
            self.send_with(reason.len() + 2, |conn| {
                conn.close(code, reason, Instant::now())
            })?;
        } else {
            self.flush()?;
        }
        // Every error but the stream's own says the connection has ended.
        loop {
            match self.next(usize::MAX, |_| None::<()>) {
                Ok(()) => {}
                Err(Error::Io(error)) => return Err(Error::Io(error)),
                Err(_) => break,
            }
        }
        self.await_end();
        Ok(())
    }

    /// Lets another thread ask this connection to close; see [`CloseRequest`].
    pub fn set_close_request(&mut self, request: CloseRequest) {
        self.conn.set_close_request(request);
    }

    /// How the connection ended, once it has: the peer's Close (1005 if it gave no
    /// code), the code we sent when the peer broke the protocol, or 1006 if the stream
    /// ended or the close timeout passed without a Close.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.conn.close_frame()
    }

    /// Whether the connection has ended, or our Close is sent and nothing more can be.
    pub fn is_closed(&self) -> bool {
        self.conn.is_send_closed()
    }

    /// Writes anything still queued; on a non-blocking stream, fails with
    /// `WouldBlock` until all of it is out.
    #[inline]
    pub fn flush(&mut self) -> Result<()> {
        if self.flushed
            && self.conn.pending().is_empty()
            && self.conn.transport() == Transport::Open
        {
            // The last write flushed the stream, and nothing came since.
            return Ok(());
        }
        self.write_out()
    }

    /// What [`Stream::flush`] does when there is something to do: kept apart so that
    /// the check above, made around every event, is inlined alone.
    fn write_out(&mut self) -> Result<()> {
        let written = write_pending(&mut self.io, &mut self.conn);
        self.flushed = written.is_ok();
        self.socket.shutdown_if_asked(&self.io, &mut self.conn);
        written.map_err(Error::Io)
    }

    /// What has crossed the connection so far: bytes, messages, compressed messages.
    pub fn stats(&self) -> crate::proto::Stats {
        self.conn.stats()
    }

    /// How many bytes are queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.conn.role()
    }

    /// The heap bytes the connection's buffers hold, used or not.
    pub fn buffer_capacity(&self) -> usize {
        self.conn.buffer_capacity()
    }

    /// Gives back a message's buffer for the next message
    /// [`Stream::read_message`] answers, so that a loop that reads, answers and
    /// recycles allocates nothing per message (buffers over 256 KiB are freed
    /// instead).
    pub fn recycle(&mut self, message: Message) {
        self.conn.recycle(message);
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

    pub(crate) fn into_parts(self) -> (S, Connection, SocketControl<S>) {
        (self.io, self.conn, self.socket)
    }

    /// Polls events until `on_event` keeps one, writing what the connection queues
    /// and reading when it needs more. The peer's Close, unless kept, ends it as
    /// [`Error::Closed`].
    ///
    /// `on_event` is generic, not `dyn`, so that each caller's match compiles into
    /// the loop: one copy of the event less per message, which shows at 16 B.
    fn next<T>(
        &mut self,
        max: usize,
        mut on_event: impl FnMut(Incoming<'_>) -> Option<T>,
    ) -> Result<T> {
        // Each arm returns what it keeps itself rather than through one shared
        // `Result<Option<T>>`: a message moved once less, which shows at 16 B.
        loop {
            match self.conn.poll_event_at_most(max) {
                Ok(Some(event)) => {
                    let close = matches!(event, Incoming::Close(_));
                    let kept = on_event(event);
                    // A reply that cannot be written means a broken stream, which the
                    // next read reports; the event in hand is still the caller's.
                    self.flush().ok();
                    match kept {
                        Some(kept) => return Ok(kept),
                        None if close => return Err(Error::Closed(ended_frame(&self.conn))),
                        None => {}
                    }
                }
                Ok(None) => {
                    // A reply whose write would block goes out before we wait for the peer.
                    self.flush().ok();
                    if let Err(error) = self.fill() {
                        // A ping its timers queued goes out with the caller's `WouldBlock`.
                        self.flush().ok();
                        return Err(error);
                    }
                }
                Err(error) => {
                    self.flush().ok();
                    return Err(error);
                }
            }
        }
    }

    /// Reads once into the connection, or acts on a timer that is due.
    fn fill(&mut self) -> Result<()> {
        if self.socket.before_read(&self.io, &mut self.conn)? {
            return Ok(());
        }
        let result = self.io.read(self.conn.read_buffer());
        after_read(
            &mut self.conn,
            result,
            self.socket.is_enabled(),
            fill_connection,
        )
    }

    /// Queues with `queue` once `len` more bytes fit in the write buffer, then writes.
    fn send_with(
        &mut self,
        len: usize,
        queue: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        if !self.conn.fits(len) {
            // A blocking stream drains; a non-blocking one refuses with nothing queued.
            self.flush()?;
        }
        let queued = queue(&mut self.conn);
        // Also writes the Close of a close request the connection honoured meanwhile.
        let written = self.flush();
        queued?;
        match written {
            Err(error) if self.queued_for_later(&error) => Ok(()),
            written => written,
        }
    }

    /// Whether a write that failed with `error` left its bytes queued for a later
    /// `flush`: on a non-blocking stream `WouldBlock` says so. A socket under the
    /// stream's control blocks, and its `WouldBlock` means that its write timeout
    /// passed: the peer stopped reading, which the caller must hear of.
    fn queued_for_later(&self, error: &Error) -> bool {
        error.is_would_block() && !self.socket.is_enabled()
    }

    /// After the close handshake, a client lets the server end the TCP connection
    /// first (RFC 6455 section 7.1.1), reading until it does or the close timeout
    /// passes. Without control of the socket's timeouts it cannot bound the wait, so
    /// it does not wait.
    fn await_end(&mut self) {
        if !self.socket.is_enabled() {
            return;
        }
        while self.conn.transport() == Transport::AwaitEnd {
            let read = match self.socket.before_read(&self.io, &mut self.conn) {
                Ok(true) => continue,
                Ok(false) => self.io.read(self.conn.read_buffer()),
                Err(_) => break,
            };
            let done = after_read(&mut self.conn, read, true, fill_connection);
            if done.is_err() {
                break;
            }
        }
        self.socket.shutdown_if_asked(&self.io, &mut self.conn);
    }
}

/// Reports bytes read into the connection's buffer, with their time if it matters.
fn fill_connection(conn: &mut Connection, n: usize, now: Option<Instant>) {
    match now {
        Some(now) => conn.filled(n, now),
        None => conn.filled_untimed(n),
    }
}

/// How the connection ended, for an end that must be reported.
pub(crate) fn ended_frame(conn: &Connection) -> CloseFrame {
    conn.close_frame()
        .cloned()
        .unwrap_or_else(|| CloseFrame::new(CloseCode::ABNORMAL, ""))
}

impl<S: Read + Write + Socket> Stream<S> {
    /// Lets the stream set read timeouts on its socket and shut it down, which
    /// keep-alive, the close timeout and the server's end of the close handshake need.
    ///
    /// The stream then owns the socket's read timeout; set the idle timeout in
    /// [`Config`] instead.
    pub fn enable_socket_control(&mut self) {
        self.socket = SocketControl::enabled();
    }
}

/// One message, written in pieces; from [`Stream::message_writer`].
///
/// Bytes written are sent in frames of up to 64 KiB (or `max_send_frame_size`, if
/// smaller) as they accumulate; [`MessageWriter::finish`] sends the last frame.
/// A `write` takes at most what completes one frame (`write_all` carries on), and a
/// refused write takes nothing: text that would become invalid UTF-8 fails with
/// `InvalidData`, and on a non-blocking stream a full write buffer fails with
/// `WouldBlock` (`flush` drains it). A frame queued but not yet written counts as
/// written. Dropping an unfinished writer finishes it, ignoring errors.
#[derive(Debug)]
pub struct MessageWriter<'a, S: Read + Write> {
    stream: &'a mut Stream<S>,
    finished: bool,
}

impl<S: Read + Write> MessageWriter<'_, S> {
    /// Sends what is buffered as the final frame.
    pub fn finish(mut self) -> Result<()> {
        self.finish_message()
    }

    fn finish_message(&mut self) -> Result<()> {
        self.finished = true;
        self.stream.conn.finish_message()?;
        match self.stream.flush() {
            Err(error) if self.stream.queued_for_later(&error) => Ok(()),
            written => written,
        }
    }
}

impl<S: Read + Write> Write for MessageWriter<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = match self.stream.conn.write_message_data(data) {
            Err(Error::WriteBufferFull { .. }) => {
                self.stream.flush().map_err(into_io_error)?;
                self.stream.conn.write_message_data(data)
            }
            taken => taken,
        }
        .map_err(into_io_error)?;
        match self.stream.flush() {
            // The frame is queued: `flush`, or the next send, writes the rest.
            Err(error) if self.stream.queued_for_later(&error) => Ok(taken),
            written => written.map(|()| taken).map_err(into_io_error),
        }
    }

    /// Writes what the connection has queued, then sends what is buffered as a
    /// non-final frame.
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush().map_err(into_io_error)?;
        self.stream
            .conn
            .flush_message_data()
            .map_err(into_io_error)?;
        match self.stream.flush() {
            Err(error) if self.stream.queued_for_later(&error) => Ok(()),
            written => written.map_err(into_io_error),
        }
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
        let read = self.stream.next(buf.len(), |event| match event {
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
            self.stream.conn.skip_message();
        }
    }
}

/// Connection errors through `io::Read`/`io::Write`: I/O errors as they were, text
/// that is not UTF-8 as `InvalidData`, the rest wrapped so that `into_inner` gives
/// them back.
fn into_io_error(error: Error) -> io::Error {
    match error {
        Error::Io(error) => error,
        Error::InvalidText => io::Error::new(io::ErrorKind::InvalidData, error),
        other => io::Error::other(other),
    }
}

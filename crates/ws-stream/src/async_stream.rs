//! The async driver (feature `tokio`): moves bytes between a tokio
//! `AsyncRead + AsyncWrite` stream and the [`Connection`], and sleeps on tokio's timer
//! until its deadline. No protocol decision is made here.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Instant;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::Sleep;
use ws_frame::CloseCode;

use crate::driver::{is_reset, lock};
use crate::proto::{CloseRequest, Connection, Event, SpareBuffers, Transport};
use crate::{CloseFrame, Config, Error, Message, MessageKind, PreparedMessage, Result, Role};

/// How many pings and pongs a send keeps for [`AsyncStream::recv_event`] while the
/// application does not read; older ones are dropped (every ping is answered all the
/// same), so a peer that pings a connection nobody reads cannot grow its memory.
const MAX_HELD_CONTROL: usize = 16;

/// How many queued bytes a receive writes before it reads more: below this, replies
/// wait until no more input is ready, so that pipelined messages share one write.
const FLUSH_AT: usize = 64 << 10;

thread_local! {
    /// The buffers that connections polled on this thread gave back when they went
    /// quiet, for the next one to read and write with: a busy thread allocates no buffer
    /// per message, and idle connections hold none.
    static SPARE: RefCell<SpareBuffers> = const { RefCell::new(SpareBuffers::new()) };
}

/// A WebSocket connection over a tokio `AsyncRead + AsyncWrite` stream (a
/// `TcpStream`, a TLS stream, a `DuplexStream`).
///
/// The [`Connection`] under it decides everything, as under the blocking
/// [`Stream`](crate::Stream): the async stream moves bytes and sleeps on tokio's timer
/// until the connection's next deadline (keep-alive pings, the idle and close
/// timeouts).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_stream::{AsyncStream, Message, Role};
///
/// // Two ends of a connection whose HTTP upgrade is done, over an in-memory pipe.
/// let (a, b) = tokio::io::duplex(4096);
/// let mut client = AsyncStream::new(a, Role::Client);
/// let mut server = AsyncStream::new(b, Role::Server);
///
/// client.send(&Message::text("Hello")).await?;
/// assert_eq!(server.recv().await?, Message::text("Hello"));
///
/// // The server answers the client's Close while it waits for a message.
/// let (closed, received) = tokio::join!(client.close(), server.recv());
/// closed?;
/// assert!(received.unwrap_err().is_closed());
/// # Ok(())
/// # }
/// ```
///
/// # Cancel safety
///
/// [`AsyncStream::recv`] and [`AsyncStream::recv_event`] are cancel-safe: dropping
/// the future (a timer winning a `select!`) loses nothing, because bytes read are in
/// the connection at once and an event leaves it only in the poll that returns it.
/// The sends are cancel-safe in that a dropped send has queued its message whole or
/// not at all.
///
/// # Backpressure
///
/// A send waits, writing, while the message does not fit in the write buffer
/// ([`Config::max_write_buffer`]): memory stays bounded against a peer that
/// does not read. A send returns once the message is queued and as much as the
/// transport takes at once is written; [`AsyncStream::flush`] writes the rest, and so
/// do the next send and receive. As a [`Sink`](futures_sink::Sink), `poll_ready` waits
/// until nothing is pending, so any message fits.
///
/// # Batched replies
///
/// [`AsyncStream::feed`] queues a message without writing it. A receive writes what
/// is queued once no more input is ready (the messages already read are handed out
/// first, and a read finds nothing), or at once when 64 KiB or more are queued, so
/// that the replies to pipelined messages cost one write:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use ws_stream::{AsyncStream, Role};
/// # let (a, _b) = tokio::io::duplex(4096);
/// # let mut ws = AsyncStream::new(a, Role::Server);
/// # let echo = async {
/// while let Ok(message) = ws.recv().await {
///     // Goes out with the next `recv`, along with any other reply queued by then.
///     ws.feed(&message).await?;
/// }
/// # Ok::<(), ws_stream::Error>(())
/// # };
/// # drop(echo);
/// # Ok(())
/// # }
/// ```
///
/// Fed bytes go out with the next receive, send, [`flush`](AsyncStream::flush) or
/// close, or when a feed needs their room; none of them goes out while the
/// application does something else.
///
/// # Pings while only sending
///
/// Every send also takes in what the peer sent, without waiting for it, so pings are
/// answered (and keep-alive sees the peer) while the application only sends. What it
/// takes in waits for the next receive: up to one message, after which the send stops
/// taking in (the peer's bytes then wait in the kernel, as they would in a blocking
/// stream), and the latest 16 pings and pongs.
///
/// # Idle connections
///
/// When a read finds nothing to read and nothing waits to be written, the connection
/// gives its buffers back ([`Connection::release_buffers_to`]), so an idle connection
/// holds none. They go to a spare slot of the thread, one read and one write buffer,
/// for the next connection it polls: a busy thread reuses them instead of allocating
/// buffers for each message.
#[derive(Debug)]
pub struct AsyncStream<S> {
    io: S,
    conn: Connection,
    /// Made the first time the connection has a deadline, then reset in place.
    timer: Option<Pin<Box<Sleep>>>,
    /// Events a send took in, for the next receive.
    held: VecDeque<Event>,
    /// Another task's way to close this connection; it wakes the task waiting here.
    close_request: Option<CloseRequest>,
    /// The end of the connection (the peer's Close, or how it failed), reported once
    /// the bytes it queued (our Close) are written.
    report: Option<Result<Event>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncStream<S> {
    /// A connection over `io` for `role`, with default limits.
    pub fn new(io: S, role: Role) -> AsyncStream<S> {
        AsyncStream::with_config(io, role, Config::default())
    }

    /// A connection over `io` for `role`, with `config`.
    pub fn with_config(io: S, role: Role, config: Config) -> AsyncStream<S> {
        AsyncStream::from_connection(io, Connection::new(role, &config, Instant::now()))
    }

    /// A connection taking over after an HTTP upgrade, given the bytes already read
    /// past the end of the HTTP head (a client may send its first frame at once).
    pub fn from_upgrade(io: S, role: Role, config: Config, read_ahead: &[u8]) -> AsyncStream<S> {
        let mut stream = AsyncStream::with_config(io, role, config);
        stream.conn.receive(read_ahead, Instant::now());
        stream
    }

    /// A connection over `io` driven by `conn`, the sans-IO core.
    pub fn from_connection(io: S, conn: Connection) -> AsyncStream<S> {
        AsyncStream {
            io,
            conn,
            timer: None,
            held: VecDeque::new(),
            close_request: None,
            report: None,
        }
    }

    /// The next message, answering pings and skipping pongs on the way. Cancel-safe.
    ///
    /// When the peer closes, our Close is written and the result is
    /// [`Error::Closed`] with the peer's code and reason; see [`Error::is_closed`].
    pub async fn recv(&mut self) -> Result<Message> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next message or control frame; the peer's Close is an event here, and
    /// calls after it fail with [`Error::AlreadyClosed`]. Cancel-safe.
    pub async fn recv_event(&mut self) -> Result<Event> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Sends a message, waiting while the write buffer has no room for it.
    pub async fn send(&mut self, message: &Message) -> Result<()> {
        self.send_with(message.len(), |conn| conn.send(message))
            .await
    }

    /// Queues a message without writing it, waiting (writing) only while the write
    /// buffer has no room for it; see [Batched replies](AsyncStream#batched-replies)
    /// for when its bytes go out. Cancel-safe: a dropped feed has queued its message
    /// whole or not at all. Unlike a send, it does not take in what the peer sent: the
    /// next receive does.
    pub async fn feed(&mut self, message: &Message) -> Result<()> {
        let mut queue = Some(|conn: &mut Connection| conn.send(message));
        poll_fn(|cx| self.poll_feed_with(cx, message.len(), &mut queue)).await
    }

    /// Sends a message it takes: a large payload is written from the message's own
    /// buffer instead of being copied, and that buffer then takes a message
    /// received next, as [`AsyncStream::recycle`] would (a smaller payload is
    /// copied as by [`AsyncStream::send`], and its buffer is recycled the same way);
    /// see [`Connection::send_owned`].
    pub async fn send_owned(&mut self, message: Message) -> Result<()> {
        self.send_with(message.len(), move |conn| conn.send_owned(message))
            .await
    }

    /// Queues a message it takes, as [`AsyncStream::feed`] does, and as
    /// [`AsyncStream::send_owned`] without copying a large payload: for an echo or
    /// a proxy that has no further use for the message.
    ///
    /// ```no_run
    /// # async fn echo(mut ws: ws_stream::AsyncStream<tokio::net::TcpStream>) -> ws_stream::Result<()> {
    /// loop {
    ///     let message = ws.recv().await?;
    ///     ws.feed_owned(message).await?;
    /// }
    /// # }
    /// ```
    pub async fn feed_owned(&mut self, message: Message) -> Result<()> {
        let len = message.len();
        let mut queue = Some(move |conn: &mut Connection| conn.send_owned(message));
        poll_fn(|cx| self.poll_feed_with(cx, len, &mut queue)).await
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_with(text.len(), |conn| conn.send_text(text))
            .await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_with(data.len(), |conn| {
            conn.send_message(MessageKind::Binary, data)
        })
        .await
    }

    /// Sends a message encoded once for many connections; see [`PreparedMessage`].
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        let len = message.frames().len();
        self.send_with(len, |conn| conn.send_prepared(message))
            .await
    }

    /// Sends a ping (at most 125 bytes); the pong comes back through
    /// [`AsyncStream::recv_event`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.send_with(payload.len(), |conn| conn.ping(payload))
            .await
    }

    /// Sends an unsolicited pong (at most 125 bytes), a one-way heartbeat.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.send_with(payload.len(), |conn| conn.pong(payload))
            .await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_write_pending(cx)).await
    }

    /// Closes normally (1000); see [`AsyncStream::close_with`].
    pub async fn close(&mut self) -> Result<()> {
        self.close_with(CloseCode::NORMAL, "").await
    }

    /// Sends our Close with `code` and `reason`, then finishes the close handshake.
    ///
    /// It reads until the peer's Close arrives (discarding messages), the stream ends,
    /// or the close timeout passes, and returns `Ok` in all three cases;
    /// [`AsyncStream::close_frame`] tells which way it ended. A server then ends the
    /// transport; a client waits, within the close timeout, for the server to end it
    /// first (RFC 6455 section 7.1.1).
    pub async fn close_with(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        poll_fn(|cx| self.poll_close_with(cx, code, reason)).await
    }

    /// Lets another task close this connection, waking it wherever it waits (a
    /// server shutting down with 1001, say); see [`CloseRequest`]. Give each
    /// connection a request of its own.
    pub fn set_close_request(&mut self, request: CloseRequest) {
        self.close_request = Some(request.clone());
        self.conn.set_close_request(request);
    }

    /// How the connection ended, once it has; see [`Connection::close_frame`].
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.conn.close_frame()
    }

    /// Whether the connection has ended, or our Close is queued and nothing more can be.
    pub fn is_closed(&self) -> bool {
        self.conn.is_send_closed()
    }

    /// What has crossed the connection so far.
    pub fn stats(&self) -> crate::proto::Stats {
        self.conn.stats()
    }

    /// How many bytes are queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// The heap bytes the connection's buffers hold, used or not.
    pub fn buffer_capacity(&self) -> usize {
        self.conn.buffer_capacity()
    }

    /// Gives back a message's buffer for the next message [`AsyncStream::recv`]
    /// answers, so that a loop that receives, answers and recycles allocates nothing
    /// per message (buffers over 256 KiB are freed instead):
    ///
    /// ```no_run
    /// # async fn echo(mut ws: ws_stream::AsyncStream<tokio::net::TcpStream>) -> ws_stream::Result<()> {
    /// loop {
    ///     let message = ws.recv().await?;
    ///     ws.feed(&message).await?;
    ///     ws.recycle(message);
    /// }
    /// # }
    /// ```
    pub fn recycle(&mut self, message: Message) {
        self.conn.recycle(message);
    }

    /// Which end of the connection this is.
    pub fn role(&self) -> Role {
        self.conn.role()
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

    /// Cuts the connection into a receiving half and a cloneable sending half, for
    /// separate tasks; see [`AsyncReader`].
    pub fn split(self) -> (AsyncReader<S>, AsyncWriter<S>) {
        let wakers = Arc::new(Wakers::default());
        let shared = Arc::new(Shared {
            stream: Mutex::new(self),
            waker: Waker::from(wakers.clone()),
            wakers,
        });
        (
            AsyncReader {
                shared: shared.clone(),
            },
            AsyncWriter { shared },
        )
    }

    /// Queues with `queue` once `len` more bytes fit, then writes what the transport
    /// takes now.
    async fn send_with(
        &mut self,
        len: usize,
        queue: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        let mut queue = Some(queue);
        poll_fn(|cx| self.poll_send_with(cx, len, &mut queue)).await
    }

    fn poll_send_with(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        queue: &mut Option<impl FnOnce(&mut Connection) -> Result<()>>,
    ) -> Poll<Result<()>> {
        ready!(self.poll_room_for(cx, len))?;
        if let Some(queue) = queue.take() {
            self.reuse_buffers();
            queue(&mut self.conn)?;
            // Taken in after the message is queued, so that a reply to what came
            // before a violation goes out ahead of the Close the violation earns.
            self.take_in(cx)?;
        }
        match self.poll_write_pending(cx) {
            Poll::Pending => Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) => {
                self.rest();
                Poll::Ready(Ok(()))
            }
            failed => failed,
        }
    }

    /// Queues with `queue` once `len` more bytes fit, writing only to make room.
    fn poll_feed_with(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        queue: &mut Option<impl FnOnce(&mut Connection) -> Result<()>>,
    ) -> Poll<Result<()>> {
        while !self.conn.fits(len) {
            ready!(self.poll_write_pending(cx))?;
        }
        if let Some(queue) = queue.take() {
            self.reuse_buffers();
            queue(&mut self.conn)?;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes the thread's spare buffers for those the connection lacks.
    fn reuse_buffers(&mut self) {
        SPARE.with_borrow_mut(|spare| self.conn.reuse_buffers(spare));
    }

    /// The connection has read all there was and written all it had: its buffers go
    /// to the thread's spare slot (or back to the allocator when that is full).
    fn rest(&mut self) {
        if self.conn.pending().is_empty() {
            SPARE.with_borrow_mut(|spare| self.conn.release_buffers_to(spare));
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message>> {
        loop {
            match ready!(self.poll_event(cx))? {
                Event::Message(message) => return Poll::Ready(Ok(message)),
                Event::Close(frame) => return Poll::Ready(Err(Error::Closed(frame))),
                _ => {}
            }
        }
    }

    /// The next whole event: one a send took in, else the connection's, reading when
    /// it needs more. The end is reported once its bytes are written.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event>> {
        if let Some(event) = self.held.pop_front() {
            return Poll::Ready(Ok(event));
        }
        loop {
            if let Some(report) = self.report.take() {
                if self.poll_write_pending(cx).is_pending() {
                    self.report = Some(report);
                    return Poll::Pending;
                }
                // A write error after the end says nothing the end does not.
                return Poll::Ready(report);
            }
            match self.take_event() {
                Some(Ok(event)) => {
                    // A pong goes out now, or with the next call; the event in hand is
                    // the caller's even if the write fails, which the next call reports.
                    // A message leaves fed replies queued: more input may be ready.
                    if !matches!(event, Event::Message(_)) {
                        let _ = self.poll_write_pending(cx);
                    }
                    return Poll::Ready(Ok(event));
                }
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None if self.report.is_some() => {}
                None => {
                    // Replies wait while more input is ready (up to FLUSH_AT bytes), so
                    // that pipelined messages are answered with one write.
                    if self.conn.buffered_amount() >= FLUSH_AT
                        && let Poll::Ready(Err(error)) = self.poll_write_pending(cx)
                    {
                        return Poll::Ready(Err(error));
                    }
                    if let Poll::Ready(filled) = self.poll_fill(cx) {
                        filled?;
                        continue;
                    }
                    return match self.poll_write_pending(cx) {
                        Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                        Poll::Ready(Ok(())) => {
                            self.rest();
                            Poll::Pending
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }

    /// The connection's next event, if it has one buffered. An event that ends the
    /// connection goes to `report` instead, to be written first.
    fn take_event(&mut self) -> Option<Result<Event>> {
        let event = match self.conn.poll_event() {
            Ok(None) => return None,
            Ok(Some(incoming)) => Ok(incoming.into_owned()),
            Err(error) => Err(error),
        };
        if self.conn.is_ended() {
            self.report = Some(event);
            return None;
        }
        Some(event)
    }

    /// Waits until `len` more bytes fit in the write buffer, writing; takes in what
    /// the peer sent, without waiting for it, when it must wait.
    fn poll_room_for(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<Result<()>> {
        if !self.conn.fits(len) {
            self.take_in(cx)?;
        }
        while !self.conn.fits(len) {
            ready!(self.poll_write_pending(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// Reads what is ready and polls events into `held`, so that pings are answered
    /// while the application only sends. Stops at a message, and at the end.
    fn take_in(&mut self, cx: &mut Context<'_>) -> Result<()> {
        while self.report.is_none() && !matches!(self.held.back(), Some(Event::Message(_))) {
            match self.take_event() {
                Some(Ok(event @ Event::Close(_))) => self.report = Some(Ok(event)),
                Some(Ok(event)) => {
                    let control = !matches!(event, Event::Message(_));
                    if control && self.held.len() >= MAX_HELD_CONTROL {
                        self.held.pop_front();
                    }
                    self.held.push_back(event);
                }
                Some(Err(error)) => self.report = Some(Err(error)),
                None if self.report.is_some() => {}
                None => match self.poll_fill(cx) {
                    Poll::Ready(filled) => filled?,
                    Poll::Pending => break,
                },
            }
        }
        Ok(())
    }

    /// Reads once into the connection, or acts on a timer that is due. Pending when
    /// neither has anything.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.poll_timer(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        self.reuse_buffers();
        let mut buf = ReadBuf::new(self.conn.read_buffer());
        let read = Pin::new(&mut self.io).poll_read(cx, &mut buf);
        let n = buf.filled().len();
        if read.is_pending() {
            if let Some(request) = &self.close_request {
                request.register(cx.waker());
                // A request made before the registration woke nobody: act on it.
                if request.requested().is_some() && !self.conn.is_ended() {
                    return Poll::Ready(Ok(()));
                }
            }
            return Poll::Pending;
        }
        match read {
            Poll::Ready(Ok(())) if n == 0 => self.conn.transport_ended(Instant::now()),
            // No timer runs, no clock to read: a system call saved on every read.
            Poll::Ready(Ok(())) if !self.conn.needs_time() => self.conn.filled_untimed(n),
            Poll::Ready(Ok(())) => self.conn.filled(n, Instant::now()),
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(error)) if is_reset(&error) => {
                self.conn.transport_ended(Instant::now());
            }
            Poll::Ready(Err(error)) => {
                self.conn.transport_failed(Instant::now());
                return Poll::Ready(Err(Error::Io(error)));
            }
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(Ok(()))
    }

    /// Acts on the connection's timer if it is due, or arms tokio's timer for it:
    /// `Ready` once a timeout was handled.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.conn.poll_timeout() else {
            return Poll::Pending;
        };
        let now = Instant::now();
        if deadline <= now {
            self.conn.handle_timeout(now);
            return Poll::Ready(());
        }
        let deadline = ::tokio::time::Instant::from_std(deadline);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        ready!(timer.as_mut().poll(cx));
        self.conn.handle_timeout(Instant::now());
        Poll::Ready(())
    }

    /// Writes everything pending, then shuts the transport down if the connection
    /// says so. While the transport refuses bytes the connection's timers still run:
    /// its write timeout gives up on a peer that stopped reading.
    fn poll_write_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        while !self.conn.pending().is_empty() {
            // A payload sent owned waits in its own buffer: both go in one call.
            let written = if self.conn.pending().len() == self.conn.buffered_amount()
                || !self.io.is_write_vectored()
            {
                Pin::new(&mut self.io).poll_write(cx, self.conn.pending())
            } else {
                let [head, tail] = self.conn.pending_parts();
                let parts = [io::IoSlice::new(head), io::IoSlice::new(tail)];
                Pin::new(&mut self.io).poll_write_vectored(cx, &parts)
            };
            match written {
                Poll::Pending => {
                    self.conn.write_blocked(Instant::now());
                    ready!(self.poll_timer(cx));
                }
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => self.conn.advance(n),
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(Error::Io(error))),
            }
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx)).map_err(Error::Io)?;
        if self.conn.transport() == Transport::Shutdown {
            // The transport is over either way; how its shutdown went changes nothing.
            ready!(Pin::new(&mut self.io).poll_shutdown(cx)).ok();
            self.conn.transport_shut_down();
        }
        Poll::Ready(Ok(()))
    }

    /// The close handshake as a poll; each step reads where it is from the connection,
    /// so polling again after `Pending` carries on.
    fn poll_close_with(
        &mut self,
        cx: &mut Context<'_>,
        code: CloseCode,
        reason: &str,
    ) -> Poll<Result<()>> {
        if !self.conn.is_send_closed() {
            ready!(self.poll_room_for(cx, reason.len() + 2))?;
            if !self.conn.is_send_closed() {
                self.conn.close(code, reason, Instant::now())?;
            }
        }
        // Every error but the stream's own says the connection has ended.
        loop {
            match ready!(self.poll_event(cx)) {
                Ok(_) => {}
                Err(Error::Io(error)) => return Poll::Ready(Err(Error::Io(error))),
                Err(_) => break,
            }
        }
        while self.conn.transport() == Transport::AwaitEnd {
            if ready!(self.poll_fill(cx)).is_err() {
                break;
            }
        }
        ready!(self.poll_write_pending(cx)).ok();
        Poll::Ready(Ok(()))
    }
}

/// Messages until the peer closes: a normal end (see [`Error::is_closed`]) ends the
/// stream, any other is its last item.
impl<S: AsyncRead + AsyncWrite + Unpin> futures_core::Stream for AsyncStream<S> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match ready!(this.poll_recv(cx)) {
            Ok(message) => Poll::Ready(Some(Ok(message))),
            Err(Error::AlreadyClosed) => Poll::Ready(None),
            Err(end) if end.is_closed() => Poll::Ready(None),
            Err(error) => Poll::Ready(Some(Err(error))),
        }
    }
}

/// Sends messages; `poll_ready` waits until nothing is pending, `poll_close` runs the
/// close handshake with 1000.
impl<S: AsyncRead + AsyncWrite + Unpin> futures_sink::Sink<Message> for AsyncStream<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        this.take_in(cx)?;
        this.poll_write_pending(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.get_mut().conn.send(&message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_write_pending(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_close_with(cx, CloseCode::NORMAL, "")
    }
}

/// The receiving half of a split [`AsyncStream`].
///
/// The halves share the connection under a lock held only for one poll of it, never
/// across a wait: a poll reads or writes what the transport takes at once, and a half
/// that must wait registers with both its transport's readiness and the timer, which
/// wake every half waiting. Pings are answered by whichever half polls, so a task
/// that only sends keeps the connection alive on its own. Dropping both halves drops
/// the connection.
///
/// A writer that owns the socket in its own task, fed by a bounded channel, is the
/// other design. Measured against it (`cargo bench -p ws-stream --features tokio
/// --bench many_senders`: 8 tasks sending 64-byte messages over loopback on a
/// two-worker runtime), the shared halves sent about 1.2 M messages/s and the channel
/// about 0.16 M: each message through a bounded channel wakes a waiting task, where
/// the halves only take an uncontended lock.
#[derive(Debug)]
pub struct AsyncReader<S> {
    shared: Arc<Shared<S>>,
}

/// The sending half of a split [`AsyncStream`]; clone it to send from many tasks.
/// See [`AsyncReader`].
#[derive(Debug)]
pub struct AsyncWriter<S> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for AsyncWriter<S> {
    fn clone(&self) -> Self {
        AsyncWriter {
            shared: self.shared.clone(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncReader<S> {
    /// The next message; see [`AsyncStream::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Message> {
        poll_fn(|cx| self.shared.poll(cx, AsyncStream::poll_recv)).await
    }

    /// The next message or control frame; see [`AsyncStream::recv_event`]. Cancel-safe.
    pub async fn recv_event(&mut self) -> Result<Event> {
        poll_fn(|cx| self.shared.poll(cx, AsyncStream::poll_event)).await
    }

    /// How the connection ended, once it has.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        lock(&self.shared.stream).close_frame().cloned()
    }

    /// Gives back a message's buffer for the next message; see
    /// [`AsyncStream::recycle`].
    pub fn recycle(&mut self, message: Message) {
        lock(&self.shared.stream).recycle(message);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWriter<S> {
    /// Sends a message; see [`AsyncStream::send`].
    pub async fn send(&self, message: &Message) -> Result<()> {
        self.send_with(message.len(), |conn| conn.send(message))
            .await
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.send_with(text.len(), |conn| conn.send_text(text))
            .await
    }

    /// Sends a binary message.
    pub async fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.send_with(data.len(), |conn| {
            conn.send_message(MessageKind::Binary, data)
        })
        .await
    }

    /// Sends a message encoded once for many connections.
    pub async fn send_prepared(&self, message: &PreparedMessage) -> Result<()> {
        let len = message.frames().len();
        self.send_with(len, |conn| conn.send_prepared(message))
            .await
    }

    /// Queues a message encoded once for many connections without waiting: for a
    /// broadcast that must not stall on one slow member. What the transport takes at
    /// once is written here; the rest by whichever half polls next (a waiting
    /// [`AsyncReader::recv`] is woken for it).
    ///
    /// [`Error::WriteBufferFull`] when the message does not fit in the write buffer
    /// (the peer is not reading fast enough), and nothing is queued.
    pub fn try_send_prepared(&self, message: &PreparedMessage) -> Result<()> {
        let mut stream = lock(&self.shared.stream);
        stream.conn.send_prepared(message)?;
        let mut cx = Context::from_waker(&self.shared.waker);
        match stream.poll_write_pending(&mut cx) {
            Poll::Ready(Err(error)) => Err(error),
            _ => Ok(()),
        }
    }

    /// Sends a ping (at most 125 bytes).
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.send_with(payload.len(), |conn| conn.ping(payload))
            .await
    }

    /// Writes everything queued.
    pub async fn flush(&self) -> Result<()> {
        poll_fn(|cx| self.shared.poll(cx, AsyncStream::poll_write_pending)).await
    }

    /// Closes normally and finishes the close handshake; see [`AsyncStream::close_with`].
    pub async fn close(&self) -> Result<()> {
        self.close_with(CloseCode::NORMAL, "").await
    }

    /// Sends our Close with `code` and `reason` and finishes the close handshake,
    /// discarding what arrives meanwhile; see [`AsyncStream::close_with`].
    pub async fn close_with(&self, code: CloseCode, reason: &str) -> Result<()> {
        poll_fn(|cx| {
            self.shared
                .poll(cx, |stream, cx| stream.poll_close_with(cx, code, reason))
        })
        .await
    }

    /// How many bytes are queued and not yet written.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared.stream).buffered_amount()
    }

    async fn send_with(
        &self,
        len: usize,
        queue: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        let mut queue = Some(queue);
        poll_fn(|cx| {
            self.shared
                .poll(cx, |stream, cx| stream.poll_send_with(cx, len, &mut queue))
        })
        .await
    }
}

/// What the halves share: the stream, and the wakers of the tasks waiting on it.
#[derive(Debug)]
struct Shared<S> {
    stream: Mutex<AsyncStream<S>>,
    wakers: Arc<Wakers>,
    /// Wakes every waiting task; the one the transport and the timer are polled with.
    waker: Waker,
}

impl<S> Shared<S> {
    /// Polls the stream with `f` under the lock, registering the task first.
    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut AsyncStream<S>, &mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.wakers.register(cx.waker());
        let mut shared_cx = Context::from_waker(&self.waker);
        f(&mut lock(&self.stream), &mut shared_cx)
    }
}

/// The tasks waiting on a split stream. A transport keeps one waker per direction, so
/// a half polling it would otherwise take the other's place.
#[derive(Debug, Default)]
struct Wakers(Mutex<Vec<Waker>>);

impl Wakers {
    fn register(&self, waker: &Waker) {
        let mut wakers = lock(&self.0);
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Taken out first: a woken task polls again and registers anew.
        let wakers = std::mem::take(&mut *lock(&self.0));
        for waker in wakers {
            waker.wake();
        }
    }
}

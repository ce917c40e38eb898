//! What the blocking [`Stream`](crate::Stream) and the split halves share: the read loop
//! that moves bytes and obligations between the socket and the sans-IO parts.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use ws_frame::CloseCode;

use crate::proto::{Incoming, Keepalive, Receiver, Reply, Sender, Timer};
use crate::{CloseFrame, Config, Error, Result, Role};

/// Read timeouts and shutdown on the socket under a connection.
///
/// A `Read + Write` stream cannot be told to stop waiting; sockets can. Keep-alive
/// pings, the idle timeout and the close timeout need this, and a server ends the TCP
/// connection first once the close handshake is done (RFC 6455 section 7.1.1). See
/// [`Stream::enable_socket_control`](crate::Stream::enable_socket_control).
pub trait Socket {
    /// Sets how long a read may block; `None` blocks until data arrives.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Ends the connection in both directions.
    fn shutdown(&self) -> io::Result<()>;
}

impl Socket for std::net::TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&self) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, std::net::Shutdown::Both)
    }
}

#[cfg(unix)]
impl Socket for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn shutdown(&self) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, std::net::Shutdown::Both)
    }
}

impl<T: Socket + ?Sized> Socket for Box<T> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn shutdown(&self) -> io::Result<()> {
        (**self).shutdown()
    }
}

/// Asks a connection to close from another thread: a server shutting down, say.
///
/// The connection acts at its next read or send, or as soon as a blocked read returns;
/// to wake a read blocked on a socket, shut the socket's reading side down
/// (`TcpStream::shutdown(Shutdown::Read)`) after the request. It then sends a Close
/// with the code, ends, and reports [`Error::Closed`] with that code.
///
/// ```
/// use std::io::Cursor;
/// use ws_stream::{CloseCode, CloseRequest, Stream};
///
/// let mut stream = Stream::new(Cursor::new(Vec::new()), false);
/// let request = CloseRequest::new();
/// stream.set_close_request(request.clone());
/// request.request(CloseCode::GOING_AWAY);
/// let error = stream.read_message().unwrap_err();
/// assert!(matches!(error, ws_stream::Error::Closed(frame) if frame.code == CloseCode::GOING_AWAY));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CloseRequest(Arc<AtomicU16>);

impl CloseRequest {
    /// A request not yet made.
    pub fn new() -> CloseRequest {
        CloseRequest::default()
    }

    /// Asks every connection holding this request to close with `code`; the first
    /// request made wins.
    pub fn request(&self, code: CloseCode) {
        self.0
            .compare_exchange(0, code.as_u16(), Ordering::AcqRel, Ordering::Acquire)
            .ok();
    }

    /// The code asked for, if a request was made.
    pub fn requested(&self) -> Option<CloseCode> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            code => Some(CloseCode::new(code)),
        }
    }
}

/// [`Socket`]'s operations for a reader type, captured where the bound is known.
pub(crate) struct SocketOps<R> {
    set_read_timeout: fn(&R, Option<Duration>) -> io::Result<()>,
    shutdown: fn(&R) -> io::Result<()>,
}

impl<R: Socket> SocketOps<R> {
    pub(crate) fn new() -> SocketOps<R> {
        SocketOps {
            set_read_timeout: |socket, timeout| socket.set_read_timeout(timeout),
            shutdown: |socket| socket.shutdown(),
        }
    }
}

impl<R> Clone for SocketOps<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for SocketOps<R> {}

impl<R> std::fmt::Debug for SocketOps<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SocketOps")
    }
}

/// The receive side of a blocking connection: everything but the socket and the sender.
#[derive(Debug)]
pub(crate) struct ReadState<R> {
    pub(crate) role: Role,
    pub(crate) receiver: Receiver,
    keepalive: Keepalive,
    close_timeout: Duration,
    close_deadline: Option<Instant>,
    socket: Option<SocketOps<R>>,
    applied_timeout: Option<Duration>,
    close_request: Option<CloseRequest>,
    pub(crate) ended: Option<CloseFrame>,
}

/// What one poll of the receiver came to.
enum Step<T> {
    Kept(T),
    Skipped,
    NeedMore,
    Closed(Option<T>, CloseFrame),
    Failed(Error),
}

/// Where replies go: straight to the sender and socket, or through a lock when split.
///
/// `io` is the stream being read: an unsplit stream writes to it too.
pub(crate) trait Outbox<R> {
    /// Runs `queue` on the sender, then writes what it queued.
    fn send(&mut self, io: &mut R, queue: &mut dyn FnMut(&mut Sender) -> Result<()>) -> Result<()>;

    /// Sends what the receiver said the protocol requires; it may be deferred.
    fn reply(&mut self, io: &mut R, reply: Reply) -> Result<()> {
        self.send(io, &mut |sender| sender.reply(reply))
    }

    /// Writes whatever earlier sends or replies left waiting.
    fn retry(&mut self, io: &mut R) -> Result<()>;
}

/// The sender of an unsplit stream, which writes to the stream it reads.
pub(crate) struct Direct<'a>(pub(crate) &'a mut Sender);

impl<S: Write> Outbox<S> for Direct<'_> {
    fn send(&mut self, io: &mut S, queue: &mut dyn FnMut(&mut Sender) -> Result<()>) -> Result<()> {
        queue(self.0)?;
        write_pending(io, self.0)
    }

    fn retry(&mut self, io: &mut S) -> Result<()> {
        match self.0.pending().is_empty() {
            true => Ok(()),
            false => write_pending(io, self.0),
        }
    }
}

/// Writes everything the sender has queued. On `WouldBlock` the rest stays queued.
pub(crate) fn write_pending(io: &mut impl Write, sender: &mut Sender) -> Result<()> {
    while !sender.pending().is_empty() {
        match io.write(sender.pending()) {
            Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
            Ok(n) => sender.advance(n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(Error::Io(error)),
        }
    }
    io.flush().map_err(Error::Io)
}

/// Whether an I/O error means "no data yet" rather than a broken stream.
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl<R: Read> ReadState<R> {
    pub(crate) fn new(role: Role, config: &Config) -> ReadState<R> {
        ReadState {
            role,
            receiver: Receiver::new(role, config),
            keepalive: Keepalive::new(config, Instant::now()),
            close_timeout: config.close_timeout,
            close_deadline: None,
            socket: None,
            applied_timeout: None,
            close_request: None,
            ended: None,
        }
    }

    pub(crate) fn set_socket(&mut self, ops: SocketOps<R>) {
        self.socket = Some(ops);
    }

    pub(crate) fn set_close_request(&mut self, request: CloseRequest) {
        self.close_request = Some(request);
    }

    /// Closes the connection if another thread asked for it, answering the error to report.
    pub(crate) fn honour_close_request(
        &mut self,
        io: &mut R,
        out: &mut impl Outbox<R>,
    ) -> Option<Error> {
        let code = self.close_request.as_ref()?.requested()?;
        if self.ended.is_none() {
            out.send(io, &mut |sender| match sender.is_closed() {
                true => Ok(()),
                false => sender.close(code, ""),
            })
            .ok();
            self.ended = Some(CloseFrame::new(code, ""));
            self.finish(io, out);
        }
        Some(Error::Closed(CloseFrame::new(code, "")))
    }

    /// Reads events until `on_event` keeps one, answering what the protocol requires.
    ///
    /// `max` bounds the message data handed over at once (for message readers).
    pub(crate) fn next<T>(
        &mut self,
        io: &mut R,
        out: &mut impl Outbox<R>,
        max: usize,
        on_event: &mut dyn FnMut(Incoming<'_>) -> Option<T>,
    ) -> Result<T> {
        if self.ended.is_some() {
            return Err(Error::AlreadyClosed);
        }
        loop {
            let step = match self.receiver.poll_at_most(max) {
                Ok(Some(event)) => {
                    let close = match &event {
                        Incoming::Close(Some(body)) => {
                            Some(CloseFrame::new(body.code, body.reason))
                        }
                        Incoming::Close(None) => {
                            Some(CloseFrame::new(CloseCode::NO_STATUS_RECEIVED, ""))
                        }
                        _ => None,
                    };
                    let kept = on_event(event);
                    match close {
                        Some(frame) => Step::Closed(kept, frame),
                        None => kept.map_or(Step::Skipped, Step::Kept),
                    }
                }
                Ok(None) => Step::NeedMore,
                Err(error) => Step::Failed(error),
            };
            if let Some(reply) = self.receiver.take_reply() {
                // A reply that cannot be written means a broken stream, which the next
                // read reports; the event in hand is still the caller's.
                out.reply(io, reply).ok();
            }
            match step {
                Step::Kept(kept) => return Ok(kept),
                Step::Skipped => {}
                Step::NeedMore => {
                    if let Some(error) = self.honour_close_request(io, out) {
                        return Err(error);
                    }
                    // A reply whose write would block, or that waited for a busy
                    // writer, goes out before we wait for the peer.
                    out.retry(io).ok();
                    self.fill(io, out)?;
                }
                Step::Closed(kept, frame) => {
                    self.ended = Some(frame.clone());
                    self.finish(io, out);
                    return kept.ok_or(Error::Closed(frame));
                }
                Step::Failed(error) => {
                    let code = error.close_code().unwrap_or(CloseCode::ABNORMAL);
                    self.ended = Some(CloseFrame::new(code, ""));
                    self.finish(io, out);
                    return Err(error);
                }
            }
        }
    }

    /// Reads more bytes, minding timers; ends the connection at end of stream.
    fn fill(&mut self, io: &mut R, out: &mut impl Outbox<R>) -> Result<()> {
        let timed = self.keepalive.is_enabled() || self.close_deadline.is_some();
        loop {
            if timed {
                // A peer that never pauses never lets a read time out, so the close
                // deadline is also checked before each read.
                if self
                    .close_deadline
                    .is_some_and(|deadline| Instant::now() >= deadline)
                {
                    return self.on_timer(io, out);
                }
                self.apply_read_timeout(io)?;
            }
            let result = io.read(self.receiver.buffer_mut());
            if !matches!(result, Ok(1..))
                && let Some(error) = self.honour_close_request(io, out)
            {
                return Err(error);
            }
            // A reset is as abrupt an end as a bare close, and is reported the same way.
            let abrupt_end = matches!(&result, Err(error) if matches!(error.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted));
            match result {
                Ok(0) => return Err(self.ended_abruptly(io, out)),
                Err(_) if abrupt_end => return Err(self.ended_abruptly(io, out)),
                Ok(n) => {
                    self.receiver.filled(n);
                    if self.keepalive.is_enabled() {
                        self.keepalive.heard(Instant::now());
                    }
                    return Ok(());
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if timed && is_timeout(&error) => {
                    self.on_timer(io, out)?;
                    // Without control of the socket, the caller chose non-blocking
                    // reads or its own timeout: hand it the error, timers checked.
                    if self.socket.is_none() {
                        return Err(Error::Io(error));
                    }
                }
                Err(error) => {
                    if !is_timeout(&error) {
                        self.ended = Some(CloseFrame::new(CloseCode::ABNORMAL, ""));
                        out.send(io, &mut |sender| {
                            sender.mark_closed();
                            Ok(())
                        })
                        .ok();
                    }
                    return Err(Error::Io(error));
                }
            }
        }
    }

    /// The stream ended, or was reset, without a Close: 1006.
    fn ended_abruptly(&mut self, io: &mut R, out: &mut impl Outbox<R>) -> Error {
        let frame = CloseFrame::new(CloseCode::ABNORMAL, "");
        self.ended = Some(frame.clone());
        self.finish(io, out);
        Error::Closed(frame)
    }

    /// Acts on whatever timer is due after a read timed out.
    fn on_timer(&mut self, io: &mut R, out: &mut impl Outbox<R>) -> Result<()> {
        let now = Instant::now();
        if self.close_deadline.is_some_and(|deadline| now >= deadline) {
            self.ended = Some(CloseFrame::new(CloseCode::ABNORMAL, ""));
            self.finish(io, out);
            return Err(Error::CloseTimeout);
        }
        match self.keepalive.poll(now) {
            // After our Close nothing more may be sent, and a ping refused with
            // `AlreadyClosed` would end the close handshake before the peer answers.
            Some(Timer::Ping) => out.send(io, &mut |sender| match sender.is_closed() {
                true => Ok(()),
                false => sender.ping(b""),
            }),
            Some(Timer::Expired) => {
                out.send(io, &mut |sender| {
                    sender.close(CloseCode::INTERNAL_ERROR, "keepalive timeout")
                })
                .ok();
                self.ended = Some(CloseFrame::new(
                    CloseCode::INTERNAL_ERROR,
                    "keepalive timeout",
                ));
                self.finish(io, out);
                Err(Error::KeepaliveTimeout)
            }
            _ => Ok(()),
        }
    }

    fn apply_read_timeout(&mut self, io: &mut R) -> Result<()> {
        let Some(ops) = self.socket else {
            return Ok(());
        };
        let now = Instant::now();
        let keepalive = self.keepalive.read_timeout(now);
        let close = self.close_deadline.map(|deadline| {
            deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1))
        });
        let wanted = match (keepalive, close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if wanted != self.applied_timeout {
            (ops.set_read_timeout)(io, wanted)?;
            self.applied_timeout = wanted;
        }
        Ok(())
    }

    /// Starts the close timeout: reads from now on give up when it passes.
    pub(crate) fn start_close_timer(&mut self) {
        if self.close_deadline.is_none() {
            self.close_deadline = Some(Instant::now() + self.close_timeout);
        }
    }

    /// After the close handshake a client lets the server end the TCP connection
    /// (RFC 6455 section 7.1.1), waiting at most what is left of the close timeout.
    /// Without control of the socket's timeouts it cannot bound the wait, so it does
    /// not wait.
    pub(crate) fn wait_for_end_of_stream(&mut self, io: &mut R) {
        if self.socket.is_none() || self.apply_read_timeout(io).is_err() {
            return;
        }
        let mut scratch = [0; 256];
        while matches!(io.read(&mut scratch), Ok(n) if n > 0) {
            // A server that keeps sending would otherwise keep us here past the timeout.
            if self
                .close_deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                break;
            }
        }
    }

    /// Rebuilds the state for the reading half of a split stream.
    pub(crate) fn into_reader<R2: Read + Socket>(self) -> ReadState<R2> {
        ReadState {
            role: self.role,
            receiver: self.receiver,
            keepalive: self.keepalive,
            close_timeout: self.close_timeout,
            close_deadline: self.close_deadline,
            socket: self.socket.map(|_| SocketOps::new()),
            applied_timeout: self.applied_timeout,
            close_request: self.close_request,
            ended: self.ended,
        }
    }

    /// The connection is over: nothing more is sent, and a server ends the TCP
    /// connection first (RFC 6455 section 7.1.1).
    pub(crate) fn finish(&mut self, io: &mut R, out: &mut impl Outbox<R>) {
        out.send(io, &mut |sender| {
            sender.mark_closed();
            Ok(())
        })
        .ok();
        if self.role == Role::Server
            && let Some(ops) = self.socket
        {
            (ops.shutdown)(io).ok();
        }
    }
}

//! What the blocking [`Stream`](crate::Stream) and the split halves share: moving
//! bytes between a blocking `Read + Write` stream and the [`Connection`], and waiting
//! for its deadlines with read timeouts. No protocol decision is made here.

use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::proto::Connection;
use crate::{Error, Result};

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

/// [`Socket`]'s operations for a stream type, captured where the bound is known, and
/// the read timeout last set.
pub(crate) struct SocketControl<R> {
    ops: Option<SocketOps<R>>,
    applied_timeout: Option<Duration>,
}

struct SocketOps<R> {
    set_read_timeout: fn(&R, Option<Duration>) -> io::Result<()>,
    shutdown: fn(&R) -> io::Result<()>,
}

impl<R> Clone for SocketOps<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for SocketOps<R> {}

impl<R> std::fmt::Debug for SocketControl<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketControl")
            .field("enabled", &self.ops.is_some())
            .field("applied_timeout", &self.applied_timeout)
            .finish()
    }
}

impl<R> SocketControl<R> {
    /// No control: timers run only when a read returns `WouldBlock` or `TimedOut`.
    pub(crate) fn none() -> SocketControl<R> {
        SocketControl {
            ops: None,
            applied_timeout: None,
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.ops.is_some()
    }

    /// The same control over another stream type (a split stream's reading half).
    pub(crate) fn carry_to<R2: Socket>(&self) -> SocketControl<R2> {
        SocketControl {
            ops: self.ops.map(|_| SocketOps::new()),
            applied_timeout: self.applied_timeout,
        }
    }

    /// Before a read: acts on a timer that is due (answering true: poll events again
    /// before reading), or sets the read timeout the connection wants.
    ///
    /// Checked before every read as well as on timeouts, because a peer that never
    /// pauses never lets a read time out.
    #[inline]
    pub(crate) fn before_read(&mut self, io: &R, conn: &mut Connection) -> Result<bool> {
        // No timer running, no clock to read: a system call saved on every read.
        let deadline = match conn.needs_time() {
            true => conn.poll_timeout(),
            false => None,
        };
        let wanted = match deadline {
            None => None,
            Some(deadline) => {
                let now = Instant::now();
                if deadline <= now {
                    conn.handle_timeout(now);
                    return Ok(true);
                }
                conn.read_timeout(now)
            }
        };
        if let Some(ops) = self.ops
            && wanted != self.applied_timeout
        {
            (ops.set_read_timeout)(io, wanted)?;
            self.applied_timeout = wanted;
        }
        Ok(false)
    }

    /// Shuts the transport down once nothing is left to write, if the connection says so.
    pub(crate) fn shutdown_if_asked(&self, io: &R, conn: &mut Connection) {
        if conn.transport() == crate::proto::Transport::Shutdown && conn.pending().is_empty() {
            if let Some(ops) = self.ops {
                (ops.shutdown)(io).ok();
            }
            conn.transport_shut_down();
        }
    }
}

impl<R: Socket> SocketControl<R> {
    pub(crate) fn enabled() -> SocketControl<R> {
        SocketControl {
            ops: Some(SocketOps::new()),
            applied_timeout: None,
        }
    }
}

impl<R: Socket> SocketOps<R> {
    fn new() -> SocketOps<R> {
        SocketOps {
            set_read_timeout: |socket, timeout| socket.set_read_timeout(timeout),
            shutdown: |socket| socket.shutdown(),
        }
    }
}

/// Hands what a read came to over to the connection: bytes (through `take`, with the
/// time if it matters), the end of the stream, or a timeout that lets its timers run.
/// Errors the caller must see come back: a broken stream, and (without socket control)
/// the caller's own `WouldBlock` or `TimedOut`, after the timers ran.
#[inline]
pub(crate) fn after_read(
    conn: &mut Connection,
    result: io::Result<usize>,
    socket_control: bool,
    take: impl FnOnce(&mut Connection, usize, Option<Instant>),
) -> Result<()> {
    match result {
        Ok(0) => conn.transport_ended(Instant::now()),
        Ok(n) => {
            // Most connections run no timer, and save a clock read per read.
            let now = conn.needs_time().then(Instant::now);
            take(conn, n, now);
        }
        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
        Err(error) if is_reset(&error) => conn.transport_ended(Instant::now()),
        Err(error) if is_timeout(&error) => {
            conn.handle_timeout(Instant::now());
            // Without control of the socket, the caller chose non-blocking reads or
            // its own timeout: hand it the error unless the timers ended the connection.
            if !socket_control && !conn.is_ended() {
                return Err(Error::Io(error));
            }
        }
        Err(error) => {
            conn.transport_failed(Instant::now());
            return Err(Error::Io(error));
        }
    }
    Ok(())
}

/// Writes everything the connection has pending. On `WouldBlock` the rest stays
/// pending, for the next call. Every failure is the transport's, and an
/// `io::Result` comes back in a register where a 32-byte [`Result`] would be
/// stored and reloaded in pieces on every write.
pub(crate) fn write_pending(io: &mut impl Write, conn: &mut Connection) -> io::Result<()> {
    loop {
        let pending = conn.pending();
        if pending.is_empty() {
            break;
        }
        let written = if pending.len() == conn.buffered_amount() {
            io.write(pending)
        } else {
            // A payload sent owned waits in its own buffer: both go in one call.
            let [head, tail] = conn.pending_parts();
            io.write_vectored(&[io::IoSlice::new(head), io::IoSlice::new(tail)])
        };
        match written {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.advance(n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    io.flush()
}

/// Writes all of `bytes`, as `write_all` but keeping `WouldBlock` as an error.
pub(crate) fn write_all(io: &mut impl Write, bytes: &[u8]) -> Result<()> {
    io.write_all(bytes).map_err(Error::Io)?;
    io.flush().map_err(Error::Io)
}

/// A reset is as abrupt an end as a bare close of the stream.
pub(crate) fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Whether an I/O error means "no data yet" rather than a broken stream.
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Locks, shrugging off poisoning: a panic while holding one of the driver's locks
/// leaves at worst a partly queued frame, and the connection is as usable (or as
/// broken) as the stream under it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

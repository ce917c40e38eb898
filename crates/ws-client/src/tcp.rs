//! TCP connections and the deadlines their handshakes run under: the bottom of the
//! connect path, which the proxy, dial and redirect modules build on.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::Error;

/// A TCP connection to `host` and `port`, with `TCP_NODELAY`: [`Error::Resolve`] when
/// the host has no address, [`Error::Connect`] when none of them accepts in time.
pub(crate) fn open_tcp(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    let resolve_error = |error| Error::Resolve {
        host: host.into(),
        error,
    };
    let addresses = (host, port).to_socket_addrs().map_err(resolve_error)?;
    let mut last_error = None;
    for addr in addresses {
        let attempt = match timeout {
            Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
            None => TcpStream::connect(addr),
        };
        match attempt.and_then(|socket| socket.set_nodelay(true).map(|()| socket)) {
            Ok(socket) => return Ok(socket),
            Err(error) => last_error = Some(Error::Connect { addr, error }),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        resolve_error(io::Error::new(
            io::ErrorKind::NotFound,
            "the host has no address",
        ))
    }))
}

/// Sets both of `socket`'s timeouts: the handshake deadline's hook for a TCP socket.
pub(crate) fn set_timeouts(socket: &TcpStream, timeout: Option<Duration>) -> io::Result<()> {
    socket.set_read_timeout(timeout)?;
    socket.set_write_timeout(timeout)
}

/// One deadline for a whole exchange (a handshake, a `CONNECT`), however many reads
/// and writes it takes: a peer sending a byte at a time cannot stretch it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `timeout` from now; `None`, or a timeout too large for the clock to represent,
    /// is no deadline at all.
    pub(crate) fn after(timeout: Option<Duration>) -> Deadline {
        Deadline(timeout.and_then(|timeout| Instant::now().checked_add(timeout)))
    }

    /// Whether there is a deadline to keep.
    pub(crate) fn is_set(self) -> bool {
        self.0.is_some()
    }

    /// The time left, for the socket's timeouts: [`Error::HandshakeTimeout`] once it
    /// has passed, `None` without a deadline.
    pub(crate) fn left(self) -> Result<Option<Duration>, Error> {
        let Some(deadline) = self.0 else {
            return Ok(None);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::HandshakeTimeout);
        }
        Ok(Some(left))
    }
}

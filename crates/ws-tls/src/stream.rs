use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use ws_stream::{Socket, Split};

use crate::Error;

/// A TLS session over a `TcpStream`, for either end.
///
/// It reads and writes plaintext like the TCP stream it wraps, and it can be split
/// ([`Split`]) so that one thread reads while another writes: the session state sits
/// behind a lock that is never held while waiting for the network, to deliver bytes
/// or to take them, so a writer blocked on a peer that is busy sending does not keep
/// the reader from the bytes that would unblock it. [`Socket`] reaches the TCP stream,
/// so keep-alive and the close timeout work as they do over plain TCP.
///
/// A peer that ends the TCP connection without the TLS close_notify reads as the end
/// of the stream, as over TCP, rather than as an error: WebSocket notices a truncation
/// itself (an abnormal close, 1006).
#[derive(Debug)]
pub struct TlsStream {
    tcp: TcpStream,
    shared: Arc<Shared>,
    /// Network bytes read by this handle, not yet taken by the session. Only one thread
    /// reads, so it is the handle's own (a split hands it to the reading half), filled
    /// without holding the session.
    inbox: Inbox,
}

/// What the two halves of a split stream share.
#[derive(Debug)]
struct Shared {
    session: Mutex<rustls::Connection>,
    /// TLS records taken from the session and not yet written. Whoever holds it is the
    /// one thread writing to the network, so records leave in the order the session
    /// made them; the session itself stays free meanwhile.
    outgoing: Mutex<Vec<u8>>,
    /// The TLS error that broke the session, once one has: reads and writes report it
    /// as an `io::Error`, and [`TlsStream::tls_error`] gives it back typed, so nothing
    /// has to dig it out of the `io::Error` again.
    failure: OnceLock<rustls::Error>,
}

/// A buffer for network bytes, allocated at the first read and reused.
#[derive(Debug, Default)]
struct Inbox {
    buf: Vec<u8>,
    /// `buf[start..end]` is read and not yet taken.
    start: usize,
    end: usize,
}

/// The most read from the network at once: one TLS record and its header.
const RECORD: usize = 16 * 1024 + 256;

impl TlsStream {
    /// Runs the TLS handshake of `tls` over `tcp` to its end, so that certificate and
    /// name errors are reported here rather than at the first message.
    ///
    /// A read timeout set on `tcp` bounds the whole handshake, not each read, so that a
    /// peer sending a byte at a time cannot stretch it; it is back in place afterwards.
    pub(crate) fn handshake(
        tcp: TcpStream,
        tls: impl Into<rustls::Connection>,
    ) -> Result<TlsStream, Error> {
        let timeout = tcp.read_timeout().map_err(Error::Io)?;
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let mut stream = TlsStream {
            tcp,
            shared: Arc::new(Shared {
                session: Mutex::new(tls.into()),
                outgoing: Mutex::new(Vec::new()),
                failure: OnceLock::new(),
            }),
            inbox: Inbox::default(),
        };
        let finished = stream.finish_handshake(deadline);
        stream.tcp.set_read_timeout(timeout).map_err(Error::Io)?;
        finished.map(|()| stream)
    }

    fn finish_handshake(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        loop {
            self.send_records(true)
                .map_err(|error| self.handshake_error(error))?;
            {
                let mut tls = lock(&self.shared.session);
                if !tls.is_handshaking() {
                    return Ok(());
                }
                if can_absorb(&tls, &self.inbox) {
                    let absorbed = absorb(&mut tls, &mut self.inbox, &self.shared.failure);
                    drop(tls);
                    if let Err(error) = absorbed {
                        // The alert that explains the failure goes out first.
                        self.send_records(true).ok();
                        return Err(self.handshake_error(error));
                    }
                    continue;
                }
            }
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::HandshakeTimeout);
                }
                self.tcp.set_read_timeout(Some(left)).map_err(Error::Io)?;
            }
            match self.receive() {
                Ok(true) => {}
                Ok(false) => return Err(Error::ClosedDuringHandshake),
                Err(error) => return Err(self.handshake_error(error)),
            }
        }
    }

    /// Sorts an I/O error met during the TLS handshake, naming the TLS failure behind
    /// it if there is one.
    fn handshake_error(&self, error: io::Error) -> Error {
        Error::from_handshake_io(error, self.tls_error())
    }

    /// The TLS error that broke the session, if one has: a certificate refused, an
    /// alert received, a record that is not TLS.
    pub(crate) fn tls_error(&self) -> Option<&rustls::Error> {
        self.shared.failure.get()
    }

    /// The TCP stream under the session.
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// The application protocol agreed with ALPN (`http/1.1` between our ends).
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        lock(&self.shared.session)
            .alpn_protocol()
            .map(<[u8]>::to_vec)
    }

    /// Reads bytes from the network into the session, outside the lock while waiting.
    /// Answers false at the end of the TCP stream.
    fn receive(&mut self) -> io::Result<bool> {
        let n = self.inbox.fill(&self.tcp)?;
        let absorbed = {
            let mut tls = lock(&self.shared.session);
            if n == 0 {
                // Tell the session the stream ended, so it can tell a clean close_notify
                // from a truncation.
                tls.read_tls(&mut io::empty())?;
            }
            absorb(&mut tls, &mut self.inbox, &self.shared.failure)
        };
        self.after_absorb(absorbed)?;
        Ok(n > 0)
    }

    /// What follows feeding bytes to the session. A reader never waits to write: the
    /// thread writing may be blocked on a peer that waits for us to read. So what the
    /// session answers to a healthy stream (a key update) goes out with the next write
    /// or flush; only the alert explaining a failure is sent now, if the network is
    /// free.
    fn after_absorb(&self, absorbed: io::Result<()>) -> io::Result<()> {
        if absorbed.is_err() {
            self.send_records(false).ok();
        }
        absorbed
    }

    /// Writes every TLS record the session has made to the network, in order, without
    /// holding the session while the network takes them.
    ///
    /// With `wait`, it waits for a thread already writing, and answers once everything
    /// is out. Without, it leaves the records to that thread, which looks at the
    /// session again after it lets go.
    fn send_records(&self, wait: bool) -> io::Result<()> {
        loop {
            let mut outgoing = match self.shared.outgoing.try_lock() {
                Ok(outgoing) => outgoing,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) if wait => lock(&self.shared.outgoing),
                Err(TryLockError::WouldBlock) => return Ok(()),
            };
            loop {
                if outgoing.is_empty() {
                    let mut tls = lock(&self.shared.session);
                    while tls.wants_write() {
                        tls.write_tls(&mut *outgoing)?;
                    }
                }
                if outgoing.is_empty() {
                    break;
                }
                // Bytes the network refused stay queued, ahead of any later record.
                match (&self.tcp).write(&outgoing) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => drop(outgoing.drain(..n)),
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            drop(outgoing);
            // Another thread may have made records while we held `outgoing`, and left
            // them to us.
            if !lock(&self.shared.session).wants_write() {
                return Ok(());
            }
        }
    }
}

impl Inbox {
    /// Reads from `tcp` into the room after the bytes not yet taken, and answers how
    /// many arrived (0 at the end of the stream).
    fn fill(&mut self, mut tcp: &TcpStream) -> io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.buf.len() - self.end < RECORD / 2 {
            // Room for less than half a record: move the bytes not yet taken to the
            // front, and grow only if they fill most of the buffer.
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if self.buf.len() - self.end < RECORD / 2 {
                self.buf.resize(self.end + RECORD, 0);
            }
        }
        loop {
            match tcp.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
}

/// Whether bytes already read could move the session on.
fn can_absorb(tls: &rustls::Connection, inbox: &Inbox) -> bool {
    !inbox.unread().is_empty() && tls.wants_read()
}

/// Feeds unread network bytes to the session as far as it has room. What it wants to
/// answer stays queued for [`TlsStream::send_records`]; a TLS error is kept in
/// `failure` as well as returned.
fn absorb(
    tls: &mut rustls::Connection,
    inbox: &mut Inbox,
    failure: &OnceLock<rustls::Error>,
) -> io::Result<()> {
    while can_absorb(tls, inbox) {
        let mut input = inbox.unread();
        let used = tls.read_tls(&mut input)?;
        inbox.start += used;
        tls.process_new_packets().map_err(|error| {
            let io_error = io::Error::new(io::ErrorKind::InvalidData, error.clone());
            // The first failure is the cause; the session repeats it afterwards.
            failure.get_or_init(|| error);
            io_error
        })?;
        if used == 0 {
            break;
        }
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let absorbed = {
                let mut tls = lock(&self.shared.session);
                match tls.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    // The TCP stream ended without close_notify. WebSocket frames carry
                    // their lengths and the connection its own close handshake, so a
                    // truncation cannot pass unnoticed: this is the end of the stream,
                    // reported as over plain TCP (1006 when no Close came first).
                    Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(error) => return Err(error),
                }
                can_absorb(&tls, &self.inbox)
                    .then(|| absorb(&mut tls, &mut self.inbox, &self.shared.failure))
            };
            match absorbed {
                Some(absorbed) => self.after_absorb(absorbed)?,
                None => {
                    self.receive()?;
                }
            }
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Empty the session's send buffer first, so that it has room for `buf`.
        self.send_records(true)?;
        let n = lock(&self.shared.session).writer().write(buf)?;
        // Bytes accepted are sent; if the network refuses them now, `flush` says so.
        self.send_records(true).ok();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        lock(&self.shared.session).writer().flush()?;
        self.send_records(true)
    }
}

impl Socket for TlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    /// Sends the TLS close_notify, then ends the TCP connection. The close_notify is
    /// left out when another thread is blocked writing: ending the connection is what
    /// frees that thread.
    fn shutdown(&self) -> io::Result<()> {
        lock(&self.shared.session).send_close_notify();
        self.send_records(false).ok();
        self.tcp.shutdown(Shutdown::Both)
    }
}

impl Split for TlsStream {
    type Reader = TlsStream;
    type Writer = TlsStream;

    /// Two handles on one session over two handles on one socket; the reader takes
    /// the bytes read and not yet decrypted.
    fn split(mut self) -> io::Result<(TlsStream, TlsStream)> {
        let reader = TlsStream {
            tcp: self.tcp.try_clone()?,
            shared: Arc::clone(&self.shared),
            inbox: std::mem::take(&mut self.inbox),
        };
        Ok((reader, self))
    }
}

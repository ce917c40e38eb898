use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ws_stream::{Socket, Split};

use crate::Error;

/// A TLS session over a `TcpStream`, for either end.
///
/// It reads and writes plaintext like the TCP stream it wraps, and it can be split
/// ([`Split`]) so that one thread reads while another writes: the session state sits
/// behind a lock that is never held while waiting for the network to deliver bytes.
/// [`Socket`] reaches the TCP stream, so keep-alive and the close timeout work as they
/// do over plain TCP.
#[derive(Debug)]
pub struct TlsStream {
    tcp: TcpStream,
    session: Arc<Mutex<Session>>,
}

#[derive(Debug)]
struct Session {
    tls: rustls::Connection,
    /// Bytes read from the network that the session had no room for yet.
    unread: Vec<u8>,
}

/// The most read from the network at once: one TLS record and its header.
const RECORD: usize = 16 * 1024 + 256;

impl TlsStream {
    /// Runs the TLS handshake of `tls` over `tcp` to its end, so that certificate and
    /// name errors are reported here rather than at the first message.
    pub(crate) fn handshake(
        tcp: TcpStream,
        tls: impl Into<rustls::Connection>,
    ) -> Result<TlsStream, Error> {
        let mut stream = TlsStream {
            tcp,
            session: Arc::new(Mutex::new(Session {
                tls: tls.into(),
                unread: Vec::new(),
            })),
        };
        loop {
            let handshaking = {
                let mut session = stream.lock();
                session.write_out(&stream.tcp).map_err(Error::from_io)?;
                session.tls.is_handshaking()
            };
            if !handshaking {
                return Ok(stream);
            }
            match stream.receive() {
                Ok(true) => {}
                Ok(false) => return Err(Error::ClosedDuringHandshake),
                Err(error) => return Err(Error::from_io(error)),
            }
        }
    }

    /// The TCP stream under the session.
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// The application protocol agreed with ALPN (`http/1.1` between our ends).
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.lock().tls.alpn_protocol().map(<[u8]>::to_vec)
    }

    fn lock(&self) -> MutexGuard<'_, Session> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads bytes from the network into the session, outside the lock while waiting.
    /// Answers false at the end of the TCP stream.
    fn receive(&mut self) -> io::Result<bool> {
        let mut raw = [0; RECORD];
        let n = loop {
            match self.tcp.read(&mut raw) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        let mut session = self.lock();
        session.unread.extend_from_slice(&raw[..n]);
        if n == 0 {
            // Tell the session the stream ended, so it can tell a clean close_notify
            // from a truncation.
            session.tls.read_tls(&mut io::empty())?;
        }
        session.absorb(&self.tcp)?;
        Ok(n > 0)
    }
}

impl Session {
    /// Feeds unread network bytes to the session as far as it has room, and answers
    /// what the session wants to send (alerts, key updates).
    fn absorb(&mut self, tcp: &TcpStream) -> io::Result<()> {
        while !self.unread.is_empty() && self.tls.wants_read() {
            let mut input = &self.unread[..];
            let used = self.tls.read_tls(&mut input)?;
            self.unread.drain(..used);
            if let Err(error) = self.tls.process_new_packets() {
                // Send the alert that explains the failure before giving up.
                self.write_out(tcp).ok();
                return Err(io::Error::new(io::ErrorKind::InvalidData, error));
            }
            if used == 0 {
                break;
            }
        }
        self.write_out(tcp)
    }

    /// Writes everything the session has queued for the network.
    fn write_out(&mut self, mut tcp: &TcpStream) -> io::Result<()> {
        while self.tls.wants_write() {
            self.tls.write_tls(&mut tcp)?;
        }
        Ok(())
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut session = self.lock();
                match session.tls.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => return Err(error),
                }
                if !session.unread.is_empty() && session.tls.wants_read() {
                    session.absorb(&self.tcp)?;
                    continue;
                }
            }
            self.receive()?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut session = self.lock();
        // Empty the session's send buffer first, so that it has room for `buf`.
        session.write_out(&self.tcp)?;
        let n = session.tls.writer().write(buf)?;
        // Bytes accepted are sent; if the network refuses them now, `flush` says so.
        session.write_out(&self.tcp).ok();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut session = self.lock();
        session.tls.writer().flush()?;
        session.write_out(&self.tcp)
    }
}

impl Socket for TlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    /// Sends the TLS close_notify, then ends the TCP connection.
    fn shutdown(&self) -> io::Result<()> {
        {
            let mut session = self.lock();
            session.tls.send_close_notify();
            session.write_out(&self.tcp).ok();
        }
        self.tcp.shutdown(Shutdown::Both)
    }
}

impl Split for TlsStream {
    type Reader = TlsStream;
    type Writer = TlsStream;

    /// Two handles on one session over two handles on one socket.
    fn split(self) -> io::Result<(TlsStream, TlsStream)> {
        let reader = TlsStream {
            tcp: self.tcp.try_clone()?,
            session: Arc::clone(&self.session),
        };
        Ok((reader, self))
    }
}

/// A connection that is TLS for `wss://` URLs and plain TCP for `ws://` ones.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(TlsStream),
}

impl MaybeTlsStream {
    /// The TCP stream under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp,
            MaybeTlsStream::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for MaybeTlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.read(buf),
            MaybeTlsStream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for MaybeTlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.write(buf),
            MaybeTlsStream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.flush(),
            MaybeTlsStream::Tls(tls) => tls.flush(),
        }
    }
}

impl Socket for MaybeTlsStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }

    fn shutdown(&self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.shutdown(Shutdown::Both),
            MaybeTlsStream::Tls(tls) => Socket::shutdown(tls),
        }
    }
}

impl Split for MaybeTlsStream {
    type Reader = MaybeTlsStream;
    type Writer = MaybeTlsStream;

    fn split(self) -> io::Result<(MaybeTlsStream, MaybeTlsStream)> {
        match self {
            MaybeTlsStream::Plain(tcp) => {
                let (reader, writer) = tcp.split()?;
                Ok((MaybeTlsStream::Plain(reader), MaybeTlsStream::Plain(writer)))
            }
            MaybeTlsStream::Tls(tls) => {
                let (reader, writer) = tls.split()?;
                Ok((MaybeTlsStream::Tls(reader), MaybeTlsStream::Tls(writer)))
            }
        }
    }
}

//! TLS or plain TCP, as a client's URL says.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use ws_stream::{Socket, Split};

use crate::TlsStream;

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

    /// The TLS error that broke the session, if it is TLS and one has.
    pub(crate) fn tls_error(&self) -> Option<&rustls::Error> {
        match self {
            MaybeTlsStream::Plain(_) => None,
            MaybeTlsStream::Tls(tls) => tls.tls_error(),
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

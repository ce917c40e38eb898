//! The async TLS session (feature `tokio`): tokio-rustls' stream under our own type,
//! so that its version stays out of this crate's API and its end of stream reads as
//! the blocking [`TlsStream`](crate::TlsStream)'s does; and its handshake errors,
//! sorted into [`Error`]'s variants.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::Error;

/// A TLS session over a tokio `TcpStream`, for either end: what `connect_async`
/// (inside `AsyncMaybeTlsStream`) and `AsyncTlsAcceptor` give ws-stream's
/// `AsyncStream`.
///
/// A peer that ends the TCP connection without the TLS close_notify reads as the end
/// of the stream, as over TCP and as with the blocking [`TlsStream`](crate::TlsStream):
/// WebSocket notices a truncation itself (an abnormal close, 1006). Shutting it down
/// sends the close_notify, then ends the TCP connection's sending side.
#[derive(Debug)]
pub struct AsyncTlsStream {
    /// Boxed: the session is over a kilobyte, and a stream is moved around whole (into
    /// an enum with plain TCP, into a task) while its heap part stays put.
    inner: Box<tokio_rustls::TlsStream<TcpStream>>,
}

impl AsyncTlsStream {
    pub(crate) fn new(inner: impl Into<tokio_rustls::TlsStream<TcpStream>>) -> AsyncTlsStream {
        AsyncTlsStream {
            inner: Box::new(inner.into()),
        }
    }

    /// The TCP stream under the session.
    pub fn get_ref(&self) -> &TcpStream {
        self.inner.get_ref().0
    }

    /// The application protocol agreed with ALPN (`http/1.1` between our ends).
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.inner.get_ref().1.alpn_protocol()
    }
}

impl AsyncRead for AsyncTlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut *self.inner).poll_read(cx, buf) {
            // The TCP stream ended without close_notify. WebSocket frames carry their
            // lengths and the connection its own close handshake, so a truncation
            // cannot pass unnoticed: this is the end of the stream, as over plain TCP.
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => {
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for AsyncTlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.inner).poll_shutdown(cx)
    }
}

/// Runs a TLS handshake future within `timeout`, its failure sorted as the blocking
/// handshake sorts its own: [`Error::HandshakeTimeout`], [`Error::NotTls`], a
/// certificate error, [`Error::ClosedDuringHandshake`].
pub(crate) async fn handshake_within<T>(
    timeout: Option<Duration>,
    handshake: impl Future<Output = io::Result<T>>,
) -> Result<T, Error> {
    let finished = match timeout {
        Some(timeout) => tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| Error::HandshakeTimeout)?,
        None => handshake.await,
    };
    finished.map_err(sort_handshake_error)
}

/// tokio-rustls reports a TLS failure as an `io::Error` that holds the rustls error,
/// and a peer gone mid-handshake as `UnexpectedEof`.
fn sort_handshake_error(error: io::Error) -> Error {
    if error.kind() == io::ErrorKind::UnexpectedEof {
        return Error::ClosedDuringHandshake;
    }
    let failure = rustls_error(&error).cloned();
    Error::from_handshake_io(error, failure.as_ref())
}

/// The rustls error inside an `io::Error` from tokio-rustls, if it holds one.
pub(crate) fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

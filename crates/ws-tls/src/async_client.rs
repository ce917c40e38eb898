//! wss for the async client (features `client` and `tokio`): the TLS step as a
//! ws-client [`AsyncConnector`], so that the proxy, the redirects and the handshake
//! are ws-client's own, as in the blocking [`connect_with`](crate::connect_with).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use ws_client::{AsyncConnector, ClientConfig, IntoUrl, Url};
use ws_handshake::Accepted;
use ws_stream::AsyncStream;

use crate::async_tls::{handshake_within, rustls_error};
use crate::{AsyncTlsStream, Connector, Error};

/// A tokio connection that is TLS for `wss://` URLs and plain TCP for `ws://` ones:
/// the async [`MaybeTlsStream`](crate::MaybeTlsStream).
#[derive(Debug)]
#[non_exhaustive]
pub enum AsyncMaybeTlsStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(AsyncTlsStream),
}

impl AsyncMaybeTlsStream {
    /// The TCP stream under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            AsyncMaybeTlsStream::Plain(tcp) => tcp,
            AsyncMaybeTlsStream::Tls(tls) => tls.get_ref(),
        }
    }
}

/// Connects to a `wss://` (or `ws://`) URL on tokio with the default configuration and
/// the Mozilla roots; see [`connect_async_with`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_stream::Message;
///
/// let (mut ws, _accepted) = ws_tls::connect_async("wss://example.com/chat").await?;
/// ws.send(&Message::text("Hello")).await?;
/// println!("{:?}", ws.recv().await?);
/// ws.close().await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_async(
    url: impl IntoUrl,
) -> Result<(AsyncStream<AsyncMaybeTlsStream>, Accepted), Error> {
    connect_async_with(url, &ClientConfig::default(), &Connector::new()).await
}

/// Connects to a `wss://` or `ws://` URL on tokio, as [`connect_with`](crate::connect_with)
/// does blocking: DNS and TCP within the connect timeout, directly or through the
/// configured [proxy](ws_client::ClientConfig::proxy)'s `CONNECT` tunnel, then for
/// `wss` the TLS handshake with SNI and ALPN `http/1.1` (end to end with the server),
/// then the WebSocket handshake, each within its own handshake timeout. Redirects are
/// followed across `ws` and `wss` up to
/// [`ClientConfig::max_redirects`](ws_client::ClientConfig::max_redirects); a redirect
/// from `wss` down to `ws` is refused.
///
/// The proxy, redirect and handshake logic is ws-client's
/// ([`ws_client::connect_async_via`]); this crate adds only the TLS step, with the
/// `connector`'s roots and client certificate ([`Connector::from_config`] takes a
/// rustls configuration of your own). Answers the connection and the server's
/// accepted response.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_client::{ClientConfig, Proxy};
///
/// let config = ClientConfig::default().proxy(Proxy::from_env()?).max_redirects(3);
/// let connector = ws_tls::Connector::new();
/// let (ws, _) = ws_tls::connect_async_with("wss://example.com/chat", &config, &connector).await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_async_with(
    url: impl IntoUrl,
    config: &ClientConfig,
    connector: &Connector,
) -> Result<(AsyncStream<AsyncMaybeTlsStream>, Accepted), Error> {
    ws_client::connect_async_via(url, config, connector).await
}

impl Connector {
    /// Runs the TLS handshake over a tokio TCP connection you opened, for
    /// `server_name`: the async [`Connector::wrap`]. Bound it with
    /// `tokio::time::timeout` where the peer may stall; [`connect_async_with`] bounds
    /// it by the handshake timeout.
    pub async fn wrap_async(
        &self,
        server_name: &str,
        tcp: TcpStream,
    ) -> Result<AsyncTlsStream, Error> {
        self.wrap_async_within(server_name, tcp, None).await
    }

    async fn wrap_async_within(
        &self,
        server_name: &str,
        tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> Result<AsyncTlsStream, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::InvalidServerName(server_name.to_owned()))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(self.rustls_config()));
        let tls = handshake_within(timeout, connector.connect(name, tcp)).await?;
        Ok(AsyncTlsStream::new(tls))
    }
}

/// TLS for `wss://` URLs, plain TCP for `ws://` ones, between ws-client's async TCP
/// connection (direct or through the proxy) and its WebSocket handshake.
impl AsyncConnector for Connector {
    type Stream = AsyncMaybeTlsStream;
    type Error = Error;

    async fn connect(
        &self,
        url: &Url,
        tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> Result<AsyncMaybeTlsStream, Error> {
        if !url.is_secure() {
            return Ok(AsyncMaybeTlsStream::Plain(tcp));
        }
        let tls = self.wrap_async_within(url.host(), tcp, timeout).await?;
        Ok(AsyncMaybeTlsStream::Tls(tls))
    }

    /// Names the TLS failure behind a failed upgrade: TLS 1.3 lets a server refuse our
    /// certificate only after our side of its handshake is done, so that refusal
    /// arrives with the first read of the upgrade.
    fn handshake_error(&self, _stream: &AsyncMaybeTlsStream, error: ws_client::Error) -> Error {
        if let ws_client::Error::HandshakeIo(io) = &error
            && let Some(failure) = rustls_error(io)
        {
            return Error::from_rustls(failure.clone());
        }
        Error::Client(error)
    }
}

impl AsyncRead for AsyncMaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncMaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            AsyncMaybeTlsStream::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for AsyncMaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AsyncMaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            AsyncMaybeTlsStream::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            AsyncMaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            AsyncMaybeTlsStream::Tls(tls) => Pin::new(tls).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            AsyncMaybeTlsStream::Plain(tcp) => tcp.is_write_vectored(),
            AsyncMaybeTlsStream::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncMaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            AsyncMaybeTlsStream::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            AsyncMaybeTlsStream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            AsyncMaybeTlsStream::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }
}

//! The async client (feature `tokio`): the same URL, config, proxy and redirects as
//! the blocking connect path, and the handshake fed to ws-handshake's parser from an
//! async stream, ending in a ws-stream [`AsyncStream`]. [`AsyncConnector`] is the
//! async side of the blocking [`Connector`](crate::Connector): the step a TLS layer
//! adds between TCP and the handshake.

use std::borrow::Cow;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::{Accepted, Parsed, ResponseParser};
use ws_stream::{AsyncStream, Role};

use crate::error::parse_url;
use crate::handshake::{build_request, stream_config};
use crate::redirect::{Hop, next_hop};
use crate::{ClientConfig, Error, IntoUrl, Plain, Url, connect_tcp};

/// Turns a tokio TCP connection to a server into the stream the WebSocket handshake
/// runs over, for [`connect_async_via`]: the async twin of
/// [`Connector`](crate::Connector). [`Plain`] is plain TCP; ws-tls' `Connector` adds
/// TLS for `wss://`.
///
/// The proxy, redirects and the WebSocket handshake stay in ws-client; a connector
/// supplies only the step between TCP and the handshake, and sorts the errors met over
/// its stream.
pub trait AsyncConnector {
    /// The stream the handshake and the connection run over.
    type Stream: AsyncRead + AsyncWrite + Unpin;
    /// The error of the whole connect call: ws-client's errors convert into it.
    type Error: From<Error>;

    /// Refuses a URL this connector cannot open before anything is sent or resolved:
    /// [`Plain`] refuses `wss://` with [`Error::TlsRequired`]. Called for the first URL
    /// and for each one a redirect leads to. Accepts every URL unless overridden.
    fn check(&self, url: &Url) -> Result<(), Self::Error> {
        let _ = url;
        Ok(())
    }

    /// Wraps `tcp`, a connection to `url`'s server (direct, or a tunnel through the
    /// proxy). Its own step (a TLS handshake) must end within `timeout`, the
    /// [handshake timeout](ClientConfig::handshake_timeout), which the WebSocket
    /// handshake then gets afresh: a connector names its own timeout error.
    fn connect(
        &self,
        url: &Url,
        tcp: TcpStream,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Self::Stream, Self::Error>> + Send;

    /// The error to report when the WebSocket handshake over `stream` failed with
    /// `error`: a TLS connector can name the TLS failure behind it. `error.into()`
    /// unless overridden.
    fn handshake_error(&self, stream: &Self::Stream, error: Error) -> Self::Error {
        let _ = stream;
        error.into()
    }
}

impl AsyncConnector for Plain {
    type Stream = TcpStream;
    type Error = Error;

    fn check(&self, url: &Url) -> Result<(), Error> {
        crate::Connector::check(self, url)
    }

    async fn connect(
        &self,
        _url: &Url,
        tcp: TcpStream,
        _timeout: Option<Duration>,
    ) -> Result<TcpStream, Error> {
        Ok(tcp)
    }
}

/// Connects to a `ws://` URL with [`ClientConfig::default`]; see [`connect_async_with`].
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ws_stream::Message;
///
/// let (mut ws, _accepted) = ws_client::connect_async("ws://localhost:9001/chat").await?;
/// ws.send(&Message::text("Hello")).await?;
/// println!("{:?}", ws.recv().await?);
/// ws.close().await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect_async(url: impl IntoUrl) -> Result<(AsyncStream<TcpStream>, Accepted), Error> {
    connect_async_with(url, &ClientConfig::default()).await
}

/// Connects to a `ws://` URL as [`connect_with`](crate::connect_with) does, on tokio:
/// the host resolved and TCP connected (through the [proxy](ClientConfig::proxy) if it
/// covers the URL) within the connect timeout, the handshake within the handshake
/// timeout, redirects followed if [allowed](ClientConfig::max_redirects). Answers the
/// connection and the server's accepted response (its subprotocol, its headers).
///
/// Name resolution, the TCP connect and the proxy's `CONNECT` run on tokio's blocking
/// pool, through the blocking client's own code (resolving a name blocks in tokio too);
/// the handshake runs on the async socket. A `wss://` URL fails with
/// [`Error::TlsRequired`]: ws-tls' `connect_async` adds TLS through
/// [`connect_async_via`], and [`handshake_async`] runs the handshake over any stream
/// you opened.
pub async fn connect_async_with(
    url: impl IntoUrl,
    config: &ClientConfig,
) -> Result<(AsyncStream<TcpStream>, Accepted), Error> {
    connect_async_via(url, config, &Plain).await
}

/// [`connect_async_with`] with an [`AsyncConnector`] of your own between TCP and the
/// handshake, such as TLS: the proxy, the redirects and the timeouts stay here, and
/// the connector only turns a TCP connection to a server (direct, or a tunnel through
/// the proxy) into the stream the handshake runs over. The error type is the
/// connector's, so that its own errors (a certificate rejected) come out unchanged.
pub async fn connect_async_via<C: AsyncConnector>(
    url: impl IntoUrl,
    config: &ClientConfig,
    connector: &C,
) -> Result<(AsyncStream<C::Stream>, Accepted), C::Error> {
    let mut url = parse_url(url)?;
    let mut config = Cow::Borrowed(config);
    let mut redirects = 0;
    loop {
        connector.check(&url)?;
        let tcp = open(&url, &config).await?;
        let mut stream = connector
            .connect(&url, tcp, config.handshake_timeout)
            .await?;
        let error = match within(
            config.handshake_timeout,
            upgrade(&mut stream, &url, &config),
        )
        .await
        .and_then(|upgraded| upgraded)
        {
            Ok((accepted, read_ahead)) => {
                let stream_config = stream_config(&config, &accepted);
                let ws =
                    AsyncStream::from_upgrade(stream, Role::Client, stream_config, &read_ahead);
                return Ok((ws, accepted));
            }
            Err(error) => error,
        };
        match next_hop(&url, error, &mut config, redirects) {
            Hop::NotRedirect(error) => return Err(connector.handshake_error(&stream, error)),
            Hop::Stop(error) => return Err(error.into()),
            Hop::Follow(next) => url = next,
        }
        redirects += 1;
    }
}

/// Runs the opening handshake for `url` over a stream you opened (TLS, a Unix socket)
/// within [`ClientConfig::handshake_timeout`], and answers the connection over it with
/// the server's accepted response. Bytes the server sent right after its response go
/// to the connection. No redirect is followed: a redirect is an [`Error::Handshake`]
/// that keeps the response ([`Error::response`]).
pub async fn handshake_async<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    url: impl IntoUrl,
    config: &ClientConfig,
) -> Result<(AsyncStream<S>, Accepted), Error> {
    let url = parse_url(url)?;
    let (accepted, read_ahead) =
        within(config.handshake_timeout, upgrade(&mut stream, &url, config)).await??;
    let ws = AsyncStream::from_upgrade(
        stream,
        Role::Client,
        stream_config(config, &accepted),
        &read_ahead,
    );
    Ok((ws, accepted))
}

/// The request out, the response head in, fed to the parser as it arrives.
async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    url: &Url,
    config: &ClientConfig,
) -> Result<(Accepted, Vec<u8>), Error> {
    let (request, pending) = build_request(url, config).build()?;
    stream
        .write_all(&request)
        .await
        .map_err(Error::HandshakeIo)?;
    stream.flush().await.map_err(Error::HandshakeIo)?;
    let mut parser = ResponseParser::new(config.limits);
    let mut received = Vec::with_capacity(4096);
    let mut chunk = [0; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(Error::HandshakeIo)?;
        if n == 0 {
            return Err(Error::ClosedDuringHandshake);
        }
        received.extend_from_slice(chunk.get(..n).unwrap_or_default());
        // The parser resumes where it stopped: nothing received is scanned twice.
        if let Parsed::Complete(response, used) = parser.parse(&received)? {
            received.drain(..used.min(received.len()));
            return Ok((pending.validate(response)?, received));
        }
    }
}

/// A TCP connection to `url`'s server or through the proxy, by the blocking client's
/// [`connect_tcp`] on tokio's blocking pool, made async.
async fn open(url: &Url, config: &ClientConfig) -> Result<TcpStream, Error> {
    let (url, config) = (url.clone(), config.clone());
    let tcp = tokio::task::spawn_blocking(move || connect_tcp(&url, &config))
        .await
        .map_err(|join| Error::HandshakeIo(std::io::Error::other(join)))??;
    tcp.set_nonblocking(true).map_err(Error::HandshakeIo)?;
    TcpStream::from_std(tcp).map_err(Error::HandshakeIo)
}

/// `future` within `timeout`, [`Error::HandshakeTimeout`] once it passes.
async fn within<T>(timeout: Option<Duration>, future: impl Future<Output = T>) -> Result<T, Error> {
    match timeout {
        Some(timeout) => tokio::time::timeout(timeout, future)
            .await
            .map_err(|_| Error::HandshakeTimeout),
        None => Ok(future.await),
    }
}

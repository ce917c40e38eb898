//! The async client (feature `tokio`): the same URL, config, proxy and redirects as
//! the blocking connect path, and the handshake fed to ws-handshake's parser from an
//! async stream, ending in a ws-stream [`AsyncStream`].

use std::borrow::Cow;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_handshake::{Accepted, Parsed, ResponseParser};
use ws_stream::{AsyncStream, Role};

use crate::error::parse_url;
use crate::handshake::{build_request, stream_config};
use crate::redirect::{Hop, next_hop};
use crate::{ClientConfig, Error, IntoUrl, Url, connect_tcp};

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
/// [`Error::TlsRequired`]; TLS over async streams is not there yet, but
/// [`handshake_async`] runs the handshake over any stream you opened.
pub async fn connect_async_with(
    url: impl IntoUrl,
    config: &ClientConfig,
) -> Result<(AsyncStream<TcpStream>, Accepted), Error> {
    let mut url = parse_url(url)?;
    let mut config = Cow::Borrowed(config);
    let mut redirects = 0;
    loop {
        if url.is_secure() {
            return Err(Error::TlsRequired);
        }
        let tcp = open(&url, &config).await?;
        let error = match handshake_async(tcp, url.clone(), &config).await {
            Ok(connected) => return Ok(connected),
            Err(error) => error,
        };
        match next_hop(&url, error, &mut config, redirects) {
            Hop::NotRedirect(error) | Hop::Stop(error) => return Err(error),
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

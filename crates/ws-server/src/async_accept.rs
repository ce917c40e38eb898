//! The async server handshake (feature `tokio`): the same reading of the head, the
//! same decisions as [`accept_with`](crate::accept_with), over a tokio stream, ending
//! in a ws-stream [`AsyncStream`].

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ws_handshake::{Parsed, RequestParser, UpgradeRequest};
use ws_stream::{AsyncStream, Role};

use crate::handshake::{Answer, Callbacks, negotiate};
use crate::request::split_target;
use crate::{Error, Request, ServerConfig};

/// Accepts a WebSocket handshake on an async stream you already hold (a tokio
/// `TcpStream`, a TLS stream): reads the request, answers 101 (or the right refusal),
/// and returns the connection. Any path is accepted; the handshake must finish within
/// [`ServerConfig::handshake_timeout`] (10 s).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     tokio::spawn(async move {
///         let mut ws = ws_server::accept_async(tcp).await?;
///         while let Ok(message) = ws.recv().await {
///             ws.send(&message).await?;
///         }
///         Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
///     });
/// }
/// # }
/// ```
pub async fn accept_async<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<AsyncStream<S>, Error> {
    let (ws, _) = accept_async_with(stream, &ServerConfig::default()).await?;
    Ok(ws)
}

/// Like [`accept_async`], with a config (origins, subprotocols, limits, the handshake
/// timeout, stream settings); also returns the request, for its path, headers and
/// chosen protocol.
pub async fn accept_async_with<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    config: &ServerConfig,
) -> Result<(AsyncStream<S>, UpgradeRequest), Error> {
    let read = tokio::time::timeout(config.handshake_timeout, read_request(&mut stream, config));
    let (head, read_ahead) = match read.await.map_err(|_| Error::HandshakeTimeout)? {
        Ok(request) => request,
        Err(error) => {
            if let Error::Handshake(error) = &error
                && let Some(rejection) = error.rejection()
            {
                send_all(&mut stream, &rejection.to_bytes().unwrap_or_default())
                    .await
                    .ok();
            }
            return Err(error);
        }
    };
    // Decided before any await: the callbacks are not `Send`, the future must be.
    let answer = {
        let request = Request::new(&head, None);
        let callbacks = Callbacks {
            has_route: &|_| true,
            page: &|_| None,
            check: None,
        };
        negotiate(&request, &head, config, &callbacks)
    };
    match answer {
        Answer::Upgrade(upgrade, response, deflate) => {
            send_all(&mut stream, &response).await.map_err(Error::Io)?;
            let stream_config = config.stream_config(deflate);
            let ws = AsyncStream::from_upgrade(stream, Role::Server, stream_config, &read_ahead);
            Ok((ws, upgrade))
        }
        Answer::Refuse(response, reason) => {
            send_all(&mut stream, &response).await.ok();
            Err(reason)
        }
        Answer::Page(response) => {
            send_all(&mut stream, &response).await.ok();
            Err(Error::NoRoute(split_target(head.target()).0.to_owned()))
        }
    }
}

/// Reads a request head, fed to the parser as it arrives; answers it with the bytes
/// received after it.
pub(crate) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    config: &ServerConfig,
) -> Result<(ws_handshake::Request, Vec<u8>), Error> {
    let mut parser = RequestParser::new(config.limits);
    // Read straight into the heap: a buffer on the future's stack would stay in every
    // connection's task for its whole life.
    let mut received = Vec::with_capacity(4096);
    loop {
        if received.len() == received.capacity() {
            // The parser refuses a head past its limit, which bounds the growth.
            received.reserve(4096);
        }
        let n = stream.read_buf(&mut received).await.map_err(Error::Io)?;
        if n == 0 {
            return Err(Error::ClosedDuringHandshake);
        }
        // The parser resumes where it stopped: nothing received is scanned twice.
        if let Parsed::Complete(head, used) = parser.parse(&received)? {
            received.drain(..used.min(received.len()));
            return Ok((head, received));
        }
    }
}

pub(crate) async fn send_all<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

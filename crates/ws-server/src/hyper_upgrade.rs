//! WebSocket upgrades inside a hyper 1 server (feature `hyper`): the request checked
//! and answered by the same rules as [`accept_async_with`](crate::accept_async_with)
//! (`negotiate`), the connection taken over from hyper once it has sent the 101.
//!
//! hyper's request is written out as the HTTP/1.1 head it came as and read back by
//! ws-handshake's parser, and our answer is read back into hyper's response the same
//! way: a handshake costs two small copies, and no rule of the handshake exists twice.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use ws_handshake::{Parsed, RequestParser, ResponseParser, UpgradeRequest};
use ws_stream::{AsyncStream, Role};

use crate::handshake::{Answer, Callbacks, negotiate};
use crate::{Error, Request, ServerConfig};

/// The WebSocket connection a hyper upgrade ends in.
pub type HyperStream = AsyncStream<TokioIo<Upgraded>>;

/// Checks a WebSocket upgrade request that hyper received, with `config`'s allowed
/// origins, subprotocols, permessage-deflate and head limits, and answers what to send
/// back: on success the `101` response and the [`HyperUpgrade`] future that resolves
/// to the connection once hyper has sent it; on refusal the response (400, 403, 426,
/// 431...) and the reason, as a [`HyperRefusal`].
///
/// Serve the connection with hyper's `http1::Builder` and
/// `serve_connection(...).with_upgrades()`, return the response from your service,
/// and await the [`HyperUpgrade`] in a task of its own. Requests over HTTP/2 are
/// refused: this is the HTTP/1.1 upgrade (RFC 6455), not extended CONNECT (RFC 8441).
///
/// ```no_run
/// use std::convert::Infallible;
///
/// use hyper::server::conn::http1;
/// use hyper::service::service_fn;
/// use hyper_util::rt::TokioIo;
/// use ws_server::ServerConfig;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let service = service_fn(|request| async move {
///         Ok::<_, Infallible>(match ws_server::upgrade_hyper(request, &ServerConfig::default()) {
///             Ok((response, upgrade)) => {
///                 tokio::spawn(async move {
///                     let mut ws = upgrade.await?;
///                     while let Ok(message) = ws.recv().await {
///                         ws.send(&message).await?;
///                     }
///                     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
///                 });
///                 response
///             }
///             Err(refusal) => refusal.into_response(),
///         })
///     });
///     tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(tcp), service).with_upgrades());
/// }
/// # }
/// ```
pub fn upgrade_hyper<B>(
    mut request: hyper::Request<B>,
    config: &ServerConfig,
) -> Result<(hyper::Response<String>, HyperUpgrade), HyperRefusal> {
    let head = match read_head(&request, config) {
        Ok(head) => head,
        Err(error) => {
            let response = error
                .rejection()
                .and_then(|rejection| rejection.to_bytes().ok())
                .unwrap_or_default();
            return Err(HyperRefusal::new(&response, Error::Handshake(error)));
        }
    };
    // Every path is accepted: routing is the hyper application's.
    let answer = negotiate(
        &Request::new(&head, None),
        &head,
        config,
        &Callbacks {
            has_route: &|_| true,
            page: &|_| None,
            check: None,
        },
    );
    match answer {
        Answer::Upgrade(upgrade, response, deflate) => {
            let on_upgrade = hyper::upgrade::on(&mut request);
            let upgrade = HyperUpgrade {
                on_upgrade,
                stream_config: Some(config.stream_config(deflate)),
                request: upgrade,
            };
            Ok((into_response(&response), upgrade))
        }
        Answer::Refuse(response, reason) => Err(HyperRefusal::new(&response, reason)),
        // No page is configured here, so negotiation never answers with one.
        Answer::Page(response) => Err(HyperRefusal::new(&response, Error::Rejected(404))),
    }
}

/// The connection of an accepted hyper upgrade, once hyper has sent the `101` and
/// handed the socket over; see [`upgrade_hyper`]. It fails with [`Error::Io`] if hyper
/// never upgrades the connection (it closed, or was served without
/// `with_upgrades()`).
pub struct HyperUpgrade {
    on_upgrade: OnUpgrade,
    /// Taken when the connection is made.
    stream_config: Option<ws_stream::Config>,
    request: UpgradeRequest,
}

impl HyperUpgrade {
    /// The upgrade request that was accepted: its path, query, headers and offered
    /// subprotocols.
    pub fn request(&self) -> &UpgradeRequest {
        &self.request
    }
}

impl Future for HyperUpgrade {
    type Output = Result<HyperStream, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = match Pin::new(&mut self.on_upgrade).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(upgraded) => upgraded,
        };
        let upgraded = upgraded.map_err(|error| Error::Io(std::io::Error::other(error)))?;
        let config = self.stream_config.take().unwrap_or_default();
        // hyper hands over the bytes it read past the request inside `Upgraded`, so
        // there is no read-ahead to pass on.
        let ws = AsyncStream::from_upgrade(TokioIo::new(upgraded), Role::Server, config, &[]);
        Poll::Ready(Ok(ws))
    }
}

impl fmt::Debug for HyperUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperUpgrade")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// A hyper upgrade request refused: the response to send, and why.
#[derive(Debug)]
pub struct HyperRefusal {
    /// Boxed, so that the `Err` of [`upgrade_hyper`] stays small.
    response: Box<hyper::Response<String>>,
    error: Error,
}

impl HyperRefusal {
    fn new(response: &[u8], error: Error) -> HyperRefusal {
        HyperRefusal {
            response: Box::new(into_response(response)),
            error,
        }
    }

    /// Why the upgrade was refused.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The response to send (its status is the refusal's: 400, 403, 426, 431...).
    pub fn response(&self) -> &hyper::Response<String> {
        &self.response
    }

    /// The response to send, taken out.
    pub fn into_response(self) -> hyper::Response<String> {
        *self.response
    }

    /// The reason, taken out.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for HyperRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "upgrade refused with {}",
            self.response.status().as_u16()
        )
    }
}

impl std::error::Error for HyperRefusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// hyper's request head as ws-handshake reads it, within the configured head limits.
fn read_head<B>(
    request: &hyper::Request<B>,
    config: &ServerConfig,
) -> Result<ws_handshake::Request, ws_handshake::Error> {
    let version = match request.version() {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_11 => "HTTP/1.1",
        // An HTTP/2 or /3 request has no Upgrade: the parser refuses the version.
        _ => "HTTP/2.0",
    };
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let mut bytes = Vec::with_capacity(512);
    for part in [request.method().as_str(), " ", target, " ", version, "\r\n"] {
        bytes.extend_from_slice(part.as_bytes());
    }
    for (name, value) in request.headers() {
        bytes.extend_from_slice(name.as_str().as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    match RequestParser::new(config.limits).parse(&bytes)? {
        Parsed::Complete(head, _) => Ok(head),
        // The head ends with its blank line, so the parser has all of it; only a value
        // holding a line break could leave it wanting more, and hyper refuses those.
        Parsed::Partial => Err(ws_handshake::Error::InvalidHeaderValue),
    }
}

/// Our serialized answer (a 101 or a refusal) as hyper's response: the status and
/// headers ws-handshake's parser reads in it, and the body after them.
fn into_response(bytes: &[u8]) -> hyper::Response<String> {
    let mut parser = ResponseParser::new(ws_handshake::Limits::default());
    let Ok(Parsed::Complete(head, used)) = parser.parse(bytes) else {
        return internal_error();
    };
    let mut response = hyper::Response::builder().status(head.status());
    for (name, value) in head.headers().iter() {
        response = response.header(name, value);
    }
    let body = String::from_utf8_lossy(bytes.get(used..).unwrap_or_default()).into_owned();
    response.body(body).unwrap_or_else(|_| internal_error())
}

/// What to answer if our own response does not read back: never expected, since
/// ws-handshake wrote it.
fn internal_error() -> hyper::Response<String> {
    let mut response = hyper::Response::new(String::new());
    *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

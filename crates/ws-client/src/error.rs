use std::net::SocketAddr;
use std::{fmt, io};

use ws_handshake::Response;

use crate::{IntoUrl, Url, UrlError};

/// Why a client could not connect, or why its connection failed or ended.
///
/// The variants follow the steps of opening a connection: the URL, name resolution,
/// the TCP connection, the HTTP handshake, then the WebSocket connection itself. Lower
/// layers' errors are wrapped whole and returned by `source()`.
///
/// Each message names its cause on one line, the wrapped error's text included, so
/// that printing the error alone says what happened:
/// `could not connect to 127.0.0.1:9: Connection refused (os error 111)`. The one
/// variant that adds nothing to its wrapped error, [`Error::Connection`], is
/// transparent: it shows the connection error's message and continues the `source()`
/// chain from that error's source, so a report walking the chain prints no line twice.
///
/// ```
/// use ws_client::{Client, Error, UrlError};
///
/// let socket = std::io::Cursor::new(Vec::new());
/// let mut client = Client::new(socket, "ws://example.com/chat#top");
/// let error = client.send_text("Hello").unwrap_err();
/// assert!(matches!(error, Error::Url { error: UrlError::Fragment, .. }));
/// assert_eq!(
///     error.to_string(),
///     "invalid url `ws://example.com/chat#top`: url has a fragment, which websocket urls may not"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is malformed or not a WebSocket URL; the [`UrlError`] says which part.
    Url {
        /// The URL as given.
        input: Box<str>,
        /// What is wrong with it.
        error: UrlError,
    },
    /// The URL is `wss://`, or a redirect led to one, which needs TLS, and
    /// [`connect`](crate::connect) opens plain TCP connections only. ws-tls adds TLS;
    /// a TLS stream of your own can go to [`Client::handshake`](crate::Client::handshake).
    TlsRequired,
    /// The host name could not be resolved to an address.
    Resolve {
        /// The host, as in the URL.
        host: Box<str>,
        /// The resolver's error.
        error: io::Error,
    },
    /// No address of the host accepted a TCP connection in time; the address and error
    /// are the last one tried.
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// Why it refused, or `TimedOut`.
        error: io::Error,
    },
    /// The proxy's host could not be resolved, or none of its addresses accepted a TCP
    /// connection in time; the error is the last one's.
    ProxyConnect {
        /// The proxy, as `host:port`.
        proxy: Box<str>,
        /// The resolver's or the last address's error.
        error: io::Error,
    },
    /// The proxy answered `CONNECT` with 407: it wants credentials
    /// ([`Proxy::basic_auth`](crate::Proxy::basic_auth)), or refused those sent. A 401
    /// counts too: only the proxy answers `CONNECT`, and some proxies (tinyproxy) send
    /// 401 for wrong credentials.
    ProxyAuthRequired,
    /// The proxy answered `CONNECT` with this status instead of opening a tunnel: 403
    /// when its rules forbid the host or port, 502 or 504 when it could not reach the
    /// server (tinyproxy says 500), for instance.
    ProxyRefused(u16),
    /// The proxy's answer to `CONNECT` is not an HTTP response head within
    /// [`ClientConfig::limits`](crate::ClientConfig::limits).
    InvalidProxyResponse(ws_handshake::Error),
    /// The proxy sent bytes after its `2xx` answer to `CONNECT`, before the client sent
    /// anything through the tunnel: no server could have sent them yet, so a broken or
    /// hostile proxy did, and the handshake would have taken them for the server's.
    UnexpectedProxyData,
    /// Reading or writing the socket failed during the handshake, or during the
    /// exchange with the proxy.
    HandshakeIo(io::Error),
    /// The server did not finish the handshake within the handshake timeout (or a
    /// timeout set on the socket passed); or the proxy did not answer `CONNECT` within
    /// it.
    HandshakeTimeout,
    /// The server closed the connection before its response head ended; or the proxy
    /// did, before its answer to `CONNECT` ended.
    ClosedDuringHandshake,
    /// The server's response broke HTTP or RFC 6455, or refused the upgrade: a status
    /// other than 101 keeps the response ([`Error::response`]), for the `Location` of a
    /// redirect say. A request that could not be built from the
    /// [`ClientConfig`](crate::ClientConfig) (a header with a line break, say) is
    /// reported here too, as a [`ws_handshake::Error::Misuse`] ([`Error::is_misuse`]).
    Handshake(ws_handshake::Error),
    /// The server answered with more redirects in a row than
    /// [`ClientConfig::max_redirects`](crate::ClientConfig::max_redirects) allows (the
    /// limit).
    TooManyRedirects {
        /// The configured limit, in redirects followed.
        limit: u32,
    },
    /// A redirect led from `wss://` to `ws://` (the URL it led to), and was refused: the
    /// rest of the connection would have gone out unencrypted.
    InsecureRedirect(Box<Url>),
    /// A redirect's `Location` is not a URL the client can follow; the [`UrlError`]
    /// says why (an `ftp:` scheme, a malformed host...).
    InvalidRedirect(UrlError),
    /// The WebSocket connection failed or ended after the handshake; see
    /// [`Error::is_closed`] for an orderly end.
    Connection(ws_stream::Error),
    /// A handshake started lazily by [`Client::new`](crate::Client::new) failed
    /// earlier, and that error was reported then: there is no connection to use.
    NoConnection,
}

impl Error {
    /// Whether the connection ended in an orderly way: the server closed with 1000 or
    /// 1001, or the connection had ended already (see [`ws_stream::Error::is_closed`]).
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Connection(error) if error.is_closed())
    }

    /// The server's response when it answered with a status other than 101, to read
    /// its status and headers (`Location`, `WWW-Authenticate`, `Retry-After`...).
    pub fn response(&self) -> Option<&Response> {
        match self {
            Error::Handshake(error) => error.response(),
            _ => None,
        }
    }

    /// Whether the caller, not the server, is at fault: a [`ClientConfig`] the
    /// handshake cannot send, or a message the connection refuses to send.
    ///
    /// [`ClientConfig`]: crate::ClientConfig
    pub fn is_misuse(&self) -> bool {
        match self {
            Error::Handshake(error) => error.is_misuse(),
            Error::Connection(error) => matches!(
                error,
                ws_stream::Error::InvalidSend(_) | ws_stream::Error::MessageInProgress
            ),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Url { input, error } => write!(f, "invalid url `{input}`: {error}"),
            Error::TlsRequired => f.write_str(
                "wss url needs tls, which plain connect lacks: call ws_tls::connect or \
                 ws_tls::connect_with (websockets::connect in the facade)",
            ),
            Error::Resolve { host, error } => write!(f, "could not resolve {host}: {error}"),
            Error::Connect { addr, error } => write!(f, "could not connect to {addr}: {error}"),
            Error::ProxyConnect { proxy, error } => {
                write!(f, "could not connect to the proxy {proxy}: {error}")
            }
            Error::ProxyAuthRequired => f.write_str("proxy requires authentication"),
            Error::ProxyRefused(status) => {
                write!(f, "proxy answered {status} instead of opening a tunnel")
            }
            Error::InvalidProxyResponse(error) => {
                write!(f, "invalid answer from the proxy: {error}")
            }
            Error::UnexpectedProxyData => {
                f.write_str("proxy sent data through the tunnel before the server could")
            }
            Error::HandshakeIo(error) => write!(f, "handshake i/o failed: {error}"),
            Error::HandshakeTimeout => f.write_str("server did not finish the handshake in time"),
            Error::ClosedDuringHandshake => {
                f.write_str("server closed the connection during the handshake")
            }
            Error::Handshake(error) => write!(f, "websocket handshake failed: {error}"),
            Error::TooManyRedirects { limit } => {
                write!(f, "more than {limit} redirects in a row")
            }
            Error::InsecureRedirect(url) => write!(f, "refused redirect from wss to {url}"),
            Error::InvalidRedirect(error) => write!(f, "redirect to an unusable url: {error}"),
            Error::Connection(error) => error.fmt(f),
            Error::NoConnection => f.write_str("no connection, as the handshake failed earlier"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Url { error, .. } | Error::InvalidRedirect(error) => Some(error),
            Error::Resolve { error, .. }
            | Error::Connect { error, .. }
            | Error::ProxyConnect { error, .. }
            | Error::HandshakeIo(error) => Some(error),
            Error::Handshake(error) | Error::InvalidProxyResponse(error) => Some(error),
            // Transparent: its message is the connection error's own.
            Error::Connection(error) => error.source(),
            Error::TlsRequired
            | Error::ProxyAuthRequired
            | Error::ProxyRefused(_)
            | Error::UnexpectedProxyData
            | Error::HandshakeTimeout
            | Error::ClosedDuringHandshake
            | Error::TooManyRedirects { .. }
            | Error::InsecureRedirect(_)
            | Error::NoConnection => None,
        }
    }
}

/// Parses `url` into a [`Url`], or an [`Error::Url`] that shows the text given.
pub(crate) fn parse_url(url: impl IntoUrl) -> Result<Url, Error> {
    url.into_url_or_input()
        .map_err(|(input, error)| Error::Url { input, error })
}

impl From<ws_handshake::Error> for Error {
    fn from(error: ws_handshake::Error) -> Error {
        Error::Handshake(error)
    }
}

impl From<ws_stream::Error> for Error {
    fn from(error: ws_stream::Error) -> Error {
        Error::Connection(error)
    }
}

use std::fmt;

use crate::{Rejection, Response};

/// Why a handshake failed, or could not be built.
///
/// Three kinds of failure share this type, and the methods tell them apart:
///
/// - the peer's bytes break HTTP or RFC 6455: every variant except the two below. On
///   the server, [`Error::http_status`] and [`Error::rejection`] give the answer to send;
/// - the caller's own input is unusable ([`Error::Misuse`], see [`Error::is_misuse`]):
///   a bug to fix, not something to report to the peer;
/// - the system has no randomness for a client key ([`Error::RandomUnavailable`]).
///
/// ```
/// use ws_handshake::{Error, Limits, Parsed, RequestParser};
///
/// let mut parser = RequestParser::new(Limits::default().max_head_len(16));
/// let err = parser.parse(b"GET /a-rather-long-path HTTP/1.1\r\n").unwrap_err();
/// assert_eq!(err, Error::HeadTooLarge { limit: 16 });
/// assert_eq!(err.http_status(), Some(431));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The head did not end within [`Limits::max_head_len`](crate::Limits::max_head_len) bytes.
    HeadTooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The head has more header fields than [`Limits::max_headers`](crate::Limits::max_headers).
    TooManyHeaders {
        /// The configured limit, in fields.
        limit: usize,
    },
    /// The request line is not `method SP target SP HTTP/d.d` with a token method and a
    /// target of visible ASCII.
    InvalidRequestLine,
    /// The status line is not `HTTP/d.d SP 3DIGIT [SP reason]`.
    InvalidStatusLine,
    /// A header name is empty or holds a byte that is not a token character (a space
    /// before the colon included).
    InvalidHeaderName,
    /// A header line has no colon.
    MissingColon,
    /// A header line starts with whitespace: obsolete line folding (RFC 9112 section 5.2).
    ObsFold,
    /// A header value holds a control byte other than tab (a bare CR or a NUL included).
    InvalidHeaderValue,
    /// The request method is not `GET`.
    MethodNotGet,
    /// The head's HTTP version is below 1.1.
    HttpVersionTooOld,
    /// The request target is not an absolute path (`/chat?room=1`); the absolute form
    /// `ws://host/chat`, sent only to proxies, is not supported.
    UnsupportedTarget,
    /// A header the handshake needs is absent (its lowercase name).
    MissingHeader(&'static str),
    /// A header that may appear only once is repeated (its lowercase name).
    DuplicateHeader(&'static str),
    /// A header's value is malformed (its lowercase name): for example a
    /// `Sec-WebSocket-Key` that is not 16 bytes in base64.
    InvalidHeader(&'static str),
    /// No `Upgrade` header lists the `websocket` token.
    NoWebSocketUpgrade,
    /// No `Connection` header lists the `upgrade` token.
    NoConnectionUpgrade,
    /// The client asks for a `Sec-WebSocket-Version` other than 13; answered with 426.
    UnsupportedVersion,
    /// The server answered with a status other than 101. The response is kept so the
    /// caller can read it, for example the `Location` of a redirect
    /// ([`Error::response`]).
    UnexpectedStatus(Box<Response>),
    /// The server's `Sec-WebSocket-Accept` does not match the key the client sent.
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer, or more than one.
    UnexpectedProtocol,
    /// The server accepted an extension the client did not offer (any, when it offered
    /// none), or accepted permessage-deflate more than once.
    UnexpectedExtension,
    /// A `Sec-WebSocket-Extensions` value breaks the grammar of RFC 6455 section 9.1;
    /// parsing stopped at this byte offset within the field value.
    ExtensionSyntax {
        /// Where, in bytes from the start of the field value.
        offset: usize,
    },
    /// A permessage-deflate offer or answer holds a parameter RFC 7692 does not define.
    UnknownExtensionParam,
    /// A permessage-deflate offer or answer holds one parameter twice.
    DuplicateExtensionParam,
    /// A permessage-deflate parameter's value is malformed: a value on a flag such as
    /// `server_no_context_takeover`, a window size that is missing where it is required,
    /// not decimal, or written with a leading zero.
    InvalidExtensionParam,
    /// A permessage-deflate window size is outside 8..=15 bits.
    WindowBitsOutOfRange,
    /// The server's `client_max_window_bits` was not offered, or exceeds the value
    /// offered.
    ClientWindowBitsNotAllowed,
    /// The client offered `server_max_window_bits` and the server's answer leaves it
    /// out or exceeds it.
    ServerWindowBitsNotAllowed,
    /// The client offered `server_no_context_takeover` and the server's answer leaves
    /// it out.
    ContextTakeoverNotAgreed,
    /// The server asks the client to compress with a window this crate's deflate
    /// backend lacks (8 bits); RFC 7692 section 7.1.2.1 forbids using 9 instead.
    UnsupportedWindowBits {
        /// The window size asked for, in bits.
        bits: u8,
    },
    /// The caller's input to a builder or parser is unusable; the peer is not at fault.
    Misuse(Misuse),
    /// The system's random source failed, so no client key could be made.
    RandomUnavailable,
}

/// How the caller misused the API: kept apart from the peer's errors because the fix
/// is in the calling code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Misuse {
    /// A header name given to a builder is empty or not a token.
    HeaderName,
    /// A header value (or `Origin`) given to a builder holds CR, LF or another control
    /// byte: writing it would let the value inject header lines.
    HeaderValue,
    /// A header given to a builder is one the builder writes itself (its lowercase name).
    ManagedHeader(&'static str),
    /// The host given to [`ClientRequest::new`](crate::ClientRequest::new) is empty or
    /// holds a byte outside visible ASCII.
    Host,
    /// The request target given to [`ClientRequest::new`](crate::ClientRequest::new) is
    /// not an absolute path of visible ASCII.
    Target,
    /// A subprotocol given to a builder is empty or not a token.
    ProtocolName,
    /// The server chose a subprotocol the client did not offer.
    ProtocolNotOffered,
    /// The status given to [`Rejection::new`] is not a 3xx, 4xx or 5xx that may carry
    /// a body (304 may not).
    RejectionStatus(u16),
    /// A parser was given less input than at its previous call; the buffer must only grow.
    InputShrank,
    /// The [`DeflateOffer`](crate::DeflateOffer) given to a client has a
    /// `server_max_window_bits` outside 8..=15 or a `client_max_window_bits` outside
    /// 9..=15 (an 8-bit compressor is not available).
    DeflateOffer,
    /// The [`DeflateParams`](crate::DeflateParams) given to
    /// [`AcceptResponse::deflate`](crate::AcceptResponse::deflate) answer none of the
    /// client's permessage-deflate offers, or would make the server compress with an
    /// 8-bit window.
    DeflateAnswer,
}

impl Error {
    /// The HTTP status a server answers with when a request fails this way, or `None`
    /// for errors that are not about a request (response checks, misuse, randomness).
    ///
    /// 431 for a head over the [`Limits`](crate::Limits), 426 for a WebSocket version other than 13, and
    /// 400 (Bad Request) for every other malformed request, as RFC 6455 section 4.2.1 asks.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::HeadTooLarge { .. } | Error::TooManyHeaders { .. } => Some(431),
            Error::UnsupportedVersion => Some(426),
            Error::InvalidRequestLine
            | Error::InvalidHeaderName
            | Error::MissingColon
            | Error::ObsFold
            | Error::InvalidHeaderValue
            | Error::MethodNotGet
            | Error::HttpVersionTooOld
            | Error::UnsupportedTarget
            | Error::MissingHeader(_)
            | Error::DuplicateHeader(_)
            | Error::InvalidHeader(_)
            | Error::NoWebSocketUpgrade
            | Error::NoConnectionUpgrade
            | Error::ExtensionSyntax { .. }
            | Error::UnknownExtensionParam
            | Error::DuplicateExtensionParam
            | Error::InvalidExtensionParam
            | Error::WindowBitsOutOfRange => Some(400),
            Error::InvalidStatusLine
            | Error::UnexpectedStatus(_)
            | Error::AcceptMismatch
            | Error::UnexpectedProtocol
            | Error::UnexpectedExtension
            | Error::ClientWindowBitsNotAllowed
            | Error::ServerWindowBitsNotAllowed
            | Error::ContextTakeoverNotAgreed
            | Error::UnsupportedWindowBits { .. }
            | Error::Misuse(_)
            | Error::RandomUnavailable => None,
        }
    }

    /// The response a server sends for this error, built from [`Error::http_status`]:
    /// a 426 carries `Sec-WebSocket-Version: 13`, the others this error's message as
    /// their body. The caller may add headers before writing it.
    ///
    /// ```
    /// use ws_handshake::{Parsed, RequestParser, UpgradeRequest};
    ///
    /// let head = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///              Sec-WebSocket-Version: 8\r\n\r\n";
    /// let Parsed::Complete(request, _) = RequestParser::default().parse(head)? else { unreachable!() };
    /// let err = UpgradeRequest::from_request(&request).unwrap_err();
    /// let answer = err.rejection().expect("a request error").to_bytes()?;
    /// assert!(answer.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rejection(&self) -> Option<Rejection> {
        match self.http_status()? {
            426 => Some(Rejection::upgrade_required()),
            status => Some(Rejection::new(status).body(format!("{self}\n"))),
        }
    }

    /// True when the caller, not the peer, is at fault ([`Error::Misuse`]).
    pub fn is_misuse(&self) -> bool {
        matches!(self, Error::Misuse(_))
    }

    /// The server's response, for [`Error::UnexpectedStatus`].
    pub fn response(&self) -> Option<&Response> {
        match self {
            Error::UnexpectedStatus(response) => Some(response),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::HeadTooLarge { limit } => {
                write!(f, "http head exceeds the limit of {limit} bytes")
            }
            Error::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            Error::InvalidRequestLine => f.write_str("malformed request line"),
            Error::InvalidStatusLine => f.write_str("malformed status line"),
            Error::InvalidHeaderName => f.write_str("header name is not a token"),
            Error::MissingColon => f.write_str("header line without a colon"),
            Error::ObsFold => f.write_str("obsolete line folding in a header"),
            Error::InvalidHeaderValue => f.write_str("control character in a header value"),
            Error::MethodNotGet => f.write_str("method is not GET"),
            Error::HttpVersionTooOld => f.write_str("http version before 1.1"),
            Error::UnsupportedTarget => f.write_str("request target is not an absolute path"),
            Error::MissingHeader(name) => write!(f, "missing {name} header"),
            Error::DuplicateHeader(name) => write!(f, "repeated {name} header"),
            Error::InvalidHeader(name) => write!(f, "invalid {name} header"),
            Error::NoWebSocketUpgrade => f.write_str("upgrade header does not name websocket"),
            Error::NoConnectionUpgrade => f.write_str("connection header does not name upgrade"),
            Error::UnsupportedVersion => f.write_str("websocket version other than 13"),
            Error::UnexpectedStatus(response) => {
                write!(f, "server answered {} instead of 101", response.status())
            }
            Error::AcceptMismatch => f.write_str("sec-websocket-accept does not match the key"),
            Error::UnexpectedProtocol => f.write_str("server chose a subprotocol not offered"),
            Error::UnexpectedExtension => f.write_str("server chose an extension not offered"),
            Error::ExtensionSyntax { offset } => {
                write!(f, "malformed sec-websocket-extensions at byte {offset}")
            }
            Error::UnknownExtensionParam => f.write_str("unknown permessage-deflate parameter"),
            Error::DuplicateExtensionParam => f.write_str("repeated permessage-deflate parameter"),
            Error::InvalidExtensionParam => {
                f.write_str("malformed permessage-deflate parameter value")
            }
            Error::WindowBitsOutOfRange => f.write_str("deflate window bits outside 8..=15"),
            Error::ClientWindowBitsNotAllowed => {
                f.write_str("server chose a client_max_window_bits not offered")
            }
            Error::ServerWindowBitsNotAllowed => {
                f.write_str("server_max_window_bits missing or above the offer")
            }
            Error::ContextTakeoverNotAgreed => {
                f.write_str("server left out the server_no_context_takeover offered")
            }
            Error::UnsupportedWindowBits { bits } => {
                write!(
                    f,
                    "server asks for a {bits}-bit deflate window, which is unsupported"
                )
            }
            Error::Misuse(misuse) => misuse.fmt(f),
            Error::RandomUnavailable => f.write_str("no randomness for the handshake key"),
        }
    }
}

impl std::error::Error for Error {}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::HeaderName => f.write_str("header name given is not a token"),
            Misuse::HeaderValue => f.write_str("header value given holds a control character"),
            Misuse::ManagedHeader(name) => {
                write!(f, "{name} header given is one the handshake writes")
            }
            Misuse::Host => f.write_str("host given is empty or not visible ascii"),
            Misuse::Target => f.write_str("request target given is not an absolute path"),
            Misuse::ProtocolName => f.write_str("subprotocol given is not a token"),
            Misuse::ProtocolNotOffered => f.write_str("subprotocol chosen was not offered"),
            Misuse::RejectionStatus(status) => {
                write!(f, "status {status} given cannot carry a rejection")
            }
            Misuse::InputShrank => f.write_str("parser given less input than before"),
            Misuse::DeflateOffer => f.write_str("deflate offer given has window bits out of range"),
            Misuse::DeflateAnswer => f.write_str("deflate answer given fits no offer"),
        }
    }
}

impl From<Misuse> for Error {
    fn from(misuse: Misuse) -> Error {
        Error::Misuse(misuse)
    }
}

use crate::accept::{accept_key, is_valid_key};
use crate::head::ascii_to_string;
use crate::headers::{
    Field, Headers, is_token, is_visible_ascii, write_caller_fields, write_field,
};
use crate::{
    DeflateParams, DeflateServerConfig, Error, Extension, Misuse, Request, parse_extensions,
};

/// A client's opening handshake that passed every check of RFC 6455 section 4.2.1,
/// with what the server needs to decide how to answer.
///
/// ```
/// use ws_handshake::{Parsed, RequestParser, UpgradeRequest};
///
/// let head = b"GET /chat?room=7 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v2.chat, v1.chat\r\n\r\n";
/// let Parsed::Complete(request, _) = RequestParser::default().parse(head)? else { unreachable!() };
/// let upgrade = UpgradeRequest::from_request(&request)?;
/// assert_eq!((upgrade.host(), upgrade.path(), upgrade.query()), ("example.com", "/chat", Some("room=7")));
/// assert_eq!(upgrade.choose_protocol(&["v1.chat"]), Some("v1.chat"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    request: Request,
    host: String,
    key: String,
    protocols: Vec<String>,
}

/// Builds the `101 Switching Protocols` answer to an [`UpgradeRequest`].
///
/// Nothing is checked until [`AcceptResponse::to_bytes`], which reports the first
/// problem, so the setters chain without `?`.
///
/// ```
/// # use ws_handshake::{AcceptResponse, Parsed, RequestParser, UpgradeRequest};
/// # let head = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
/// #              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
/// # let Parsed::Complete(request, _) = RequestParser::default().parse(head)? else { unreachable!() };
/// let upgrade = UpgradeRequest::from_request(&request)?;
/// let answer = AcceptResponse::new(&upgrade).header("Set-Cookie", "session=1").to_bytes()?;
/// assert_eq!(
///     answer,
///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: session=1\r\n\r\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AcceptResponse<'a> {
    request: &'a UpgradeRequest,
    protocol: Option<String>,
    deflate: Option<DeflateParams>,
    headers: Vec<Field>,
}

/// Builds a response that refuses a handshake: any status from 300 to 599 but 304,
/// with a short text body and `Connection: close`. [`Error::rejection`] builds the
/// right one for a malformed request.
///
/// ```
/// use ws_handshake::Rejection;
///
/// let answer = Rejection::new(403).body("origin not allowed\n").to_bytes()?;
/// assert_eq!(
///     answer,
///     b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\
///       Content-Length: 19\r\n\r\norigin not allowed\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    connection: &'static str,
    headers: Vec<Field>,
    body: String,
}

impl UpgradeRequest {
    /// Checks a request against RFC 6455 section 4.2.1: method `GET`, HTTP/1.1 or later,
    /// an absolute-path target, one `Host`, `Upgrade` listing `websocket`, `Connection`
    /// listing `upgrade`, one `Sec-WebSocket-Version: 13`, one `Sec-WebSocket-Key` that
    /// is base64 for 16 bytes, at most one `Origin`, and subprotocols that are tokens.
    ///
    /// The request is borrowed (and copied into the result), so a server can still
    /// answer it as plain HTTP when this fails; [`Error::rejection`] gives the answer
    /// for a broken handshake.
    pub fn from_request(request: &Request) -> Result<UpgradeRequest, Error> {
        if request.method() != "GET" {
            return Err(Error::MethodNotGet);
        }
        if request.version() < (1, 1) {
            return Err(Error::HttpVersionTooOld);
        }
        if !request.target().starts_with('/') {
            return Err(Error::UnsupportedTarget);
        }
        let headers = request.headers();
        let host = headers.exactly_one("host")?;
        if host.is_empty() || !host.iter().all(|&byte| is_visible_ascii(byte)) {
            return Err(Error::InvalidHeader("host"));
        }
        if !headers.contains_token("upgrade", "websocket") {
            return Err(Error::NoWebSocketUpgrade);
        }
        if !headers.contains_token("connection", "upgrade") {
            return Err(Error::NoConnectionUpgrade);
        }
        // Checked before the key, so a client of another version learns which one to
        // use (426) rather than that its key looks wrong.
        if headers.exactly_one("sec-websocket-version")? != b"13" {
            return Err(Error::UnsupportedVersion);
        }
        let key = headers.exactly_one("sec-websocket-key")?;
        if !is_valid_key(key) {
            return Err(Error::InvalidHeader("sec-websocket-key"));
        }
        // Two origins would leave an origin check to guess which one counts.
        headers.at_most_one("origin")?;
        let protocols = headers
            .tokens("sec-websocket-protocol")
            .map(|protocol| {
                if is_token(protocol) {
                    Ok(ascii_to_string(protocol))
                } else {
                    Err(Error::InvalidHeader("sec-websocket-protocol"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UpgradeRequest {
            request: request.clone(),
            host: ascii_to_string(host),
            key: ascii_to_string(key),
            protocols,
        })
    }

    /// The whole request, for anything not summarised here.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The request's header fields, such as `Cookie` or `Authorization`.
    pub fn headers(&self) -> &Headers {
        self.request.headers()
    }

    /// The `Host` header: the authority the client asked for, port included if sent.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The target's path, before any `?`, still percent-encoded.
    pub fn path(&self) -> &str {
        let target = self.request.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// The target's query, after the first `?`, still percent-encoded.
    pub fn query(&self) -> Option<&str> {
        self.request
            .target()
            .split_once('?')
            .map(|(_, query)| query)
    }

    /// The `Sec-WebSocket-Key`, as the client sent it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The `Origin` header, which browsers send and servers should check against the
    /// sites they trust; bytes, since nothing makes a peer send UTF-8.
    pub fn origin(&self) -> Option<&[u8]> {
        self.headers().get("origin")
    }

    /// The subprotocols the client offered, in its order of preference, from every
    /// `Sec-WebSocket-Protocol` header.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The client's preferred subprotocol among those the server `supported`, if any.
    pub fn choose_protocol(&self, supported: &[&str]) -> Option<&str> {
        self.protocols
            .iter()
            .map(String::as_str)
            .find(|offered| supported.contains(offered))
    }

    /// The raw elements of every `Sec-WebSocket-Extensions` list, each an extension
    /// with its parameters (`permessage-deflate; client_max_window_bits`), split at
    /// every comma: a comma inside a quoted value splits too.
    /// [`UpgradeRequest::extension_offers`] parses them properly.
    pub fn extensions(&self) -> impl Iterator<Item = &[u8]> {
        self.headers().tokens("sec-websocket-extensions")
    }

    /// The extensions the client offered, from every `Sec-WebSocket-Extensions` field,
    /// in order, parsed by [`parse_extensions`]. A malformed list is an error
    /// ([`Error::ExtensionSyntax`]); the handshake itself stays valid, and a server
    /// may answer it without extensions.
    pub fn extension_offers(&self) -> Result<Vec<Extension>, Error> {
        parse_extensions(self.headers().get_all("sec-websocket-extensions"))
    }

    /// The permessage-deflate parameters `config` agrees to for this client
    /// ([`DeflateServerConfig::negotiate`]), or `None` to answer without compression:
    /// no acceptable offer, or an extension list too malformed to tell offers apart.
    ///
    /// ```
    /// use ws_handshake::{AcceptResponse, DeflateServerConfig, Parsed, RequestParser, UpgradeRequest};
    ///
    /// let head = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
    ///              Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
    /// let Parsed::Complete(request, _) = RequestParser::default().parse(head)? else { unreachable!() };
    /// let upgrade = UpgradeRequest::from_request(&request)?;
    /// let agreed = upgrade.negotiate_deflate(&DeflateServerConfig::default());
    /// let answer = AcceptResponse::new(&upgrade).deflate(agreed).to_bytes()?;
    /// assert!(answer.ends_with(
    ///     b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; \
    ///       client_max_window_bits=12\r\n\r\n"
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn negotiate_deflate(&self, config: &DeflateServerConfig) -> Option<DeflateParams> {
        config.negotiate(&self.extension_offers().ok()?)
    }
}

impl<'a> AcceptResponse<'a> {
    /// The fields [`AcceptResponse::to_bytes`] writes itself, and so refuses from
    /// [`AcceptResponse::header`]. Extensions are among them because only one the
    /// connection implements may be announced: [`AcceptResponse::deflate`] does that.
    const MANAGED: &'static [&'static str] = &[
        "upgrade",
        "connection",
        "sec-websocket-accept",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    ];

    /// An answer to `request` that accepts it with no subprotocol and no extra headers.
    pub fn new(request: &'a UpgradeRequest) -> AcceptResponse<'a> {
        AcceptResponse {
            request,
            protocol: None,
            deflate: None,
            headers: Vec::new(),
        }
    }

    /// Accepts permessage-deflate with `params`, usually from
    /// [`UpgradeRequest::negotiate_deflate`]; `None` (the default) declines every
    /// extension. Parameters that answer none of the client's offers make
    /// [`AcceptResponse::to_bytes`] fail with [`Misuse::DeflateAnswer`].
    pub fn deflate(mut self, params: impl Into<Option<DeflateParams>>) -> AcceptResponse<'a> {
        self.deflate = params.into();
        self
    }

    /// Chooses a subprotocol, which must be one the client offered
    /// ([`UpgradeRequest::protocols`]); otherwise [`AcceptResponse::to_bytes`] fails with
    /// [`Misuse::ProtocolNotOffered`].
    pub fn protocol(mut self, protocol: impl Into<String>) -> AcceptResponse<'a> {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a header field, such as `Set-Cookie`. A name that is not a token, a value
    /// with CR, LF or another control byte, or a field this builder writes itself makes
    /// [`AcceptResponse::to_bytes`] fail with [`Error::Misuse`].
    pub fn header(
        mut self,
        name: impl Into<String>,
        value: impl Into<Vec<u8>>,
    ) -> AcceptResponse<'a> {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The response head, ready to send; the connection speaks WebSocket from the next
    /// byte on.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        write_field(&mut out, "Upgrade", b"websocket");
        write_field(&mut out, "Connection", b"Upgrade");
        let accept = accept_key(self.request.key.as_bytes());
        write_field(&mut out, "Sec-WebSocket-Accept", accept.as_bytes());
        if let Some(protocol) = &self.protocol {
            if !self.request.protocols.contains(protocol) {
                return Err(Misuse::ProtocolNotOffered.into());
            }
            write_field(&mut out, "Sec-WebSocket-Protocol", protocol.as_bytes());
        }
        if let Some(params) = &self.deflate {
            let offers = self.request.extension_offers().unwrap_or_default();
            if !params.answers_one_of(&offers) {
                return Err(Misuse::DeflateAnswer.into());
            }
            write_field(
                &mut out,
                "Sec-WebSocket-Extensions",
                params.to_string().as_bytes(),
            );
        }
        write_caller_fields(&mut out, &self.headers, Self::MANAGED)?;
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

impl Rejection {
    /// The fields [`Rejection::to_bytes`] writes itself.
    const MANAGED: &'static [&'static str] = &["connection", "content-length", "content-type"];

    /// A rejection with `status` and its reason phrase, followed by a newline, as body.
    pub fn new(status: u16) -> Rejection {
        let reason = reason_phrase(status);
        Rejection {
            status,
            connection: "close",
            headers: Vec::new(),
            body: if reason.is_empty() {
                String::new()
            } else {
                format!("{reason}\n")
            },
        }
    }

    /// The 426 answer to a client of a WebSocket version other than 13: it names the
    /// version this server speaks (RFC 6455 section 4.4) and, as RFC 9110 section 15.5.22
    /// asks of every 426, the protocol to upgrade to.
    pub fn upgrade_required() -> Rejection {
        Rejection {
            connection: "Upgrade, close",
            ..Rejection::new(426)
        }
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
    }

    /// Adds a header field, such as `Location` for a redirect or `Retry-After`; checked
    /// by [`Rejection::to_bytes`] as [`AcceptResponse::header`] is.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Rejection {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body, sent as `text/plain` in UTF-8.
    pub fn body(mut self, text: impl Into<String>) -> Rejection {
        self.body = text.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The whole response, head and body, ready to send before closing the connection.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        if !(300..=599).contains(&self.status) || self.status == 304 {
            return Err(Misuse::RejectionStatus(self.status).into());
        }
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(format!("HTTP/1.1 {} ", self.status).as_bytes());
        out.extend_from_slice(reason_phrase(self.status).as_bytes());
        out.extend_from_slice(b"\r\n");
        write_field(&mut out, "Connection", self.connection.as_bytes());
        write_field(&mut out, "Content-Type", b"text/plain; charset=utf-8");
        let length = self.body.len().to_string();
        write_field(&mut out, "Content-Length", length.as_bytes());
        write_caller_fields(&mut out, &self.headers, Self::MANAGED)?;
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body.as_bytes());
        Ok(out)
    }
}

/// The reason phrase for the statuses a WebSocket server is likely to answer with, a
/// handshake's refusals and a few plain pages'; the phrase is optional in HTTP/1.1, so
/// others get none (an empty string).
///
/// ```
/// assert_eq!(ws_handshake::reason_phrase(426), "Upgrade Required");
/// assert_eq!(ws_handshake::reason_phrase(299), "");
/// ```
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

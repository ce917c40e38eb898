use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::accept::accept_key;
use crate::headers::{
    Field, is_token, is_value_byte, is_visible_ascii, write_caller_fields, write_field,
};
use crate::{DeflateOffer, DeflateParams, Error, Misuse, Response, parse_extensions};

/// Builds a client's opening handshake (RFC 6455 section 4.1).
///
/// Nothing is checked until [`ClientRequest::build`], which reports the first problem
/// as [`Error::Misuse`], so the setters chain without `?`.
///
/// ```
/// use ws_handshake::ClientRequest;
///
/// let (bytes, pending) = ClientRequest::new("example.com:8080", "/chat")
///     .origin("https://example.com")
///     .protocols(["v2.chat", "v1.chat"])
///     .header("Authorization", "Bearer abc")
///     .build()?;
/// assert!(bytes.starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com:8080\r\n"));
/// assert_eq!(pending.key().len(), 24);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    host: String,
    target: String,
    origin: Option<String>,
    protocols: Vec<String>,
    deflate: Option<DeflateOffer>,
    headers: Vec<Field>,
}

/// A handshake sent and awaiting the server's answer: it remembers the key and the
/// subprotocols offered, to check the response against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingHandshake {
    key: String,
    protocols: Vec<String>,
    deflate: Option<DeflateOffer>,
}

/// A server's `101` that passed every check: the connection speaks WebSocket now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    response: Response,
    protocol: Option<String>,
    deflate: Option<DeflateParams>,
}

impl ClientRequest {
    /// The fields [`ClientRequest::build`] writes itself, and so refuses from
    /// [`ClientRequest::header`]. Extensions are among them because the response check
    /// must know every offer: [`ClientRequest::deflate`] makes the one offer there is.
    const MANAGED: &'static [&'static str] = &[
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "origin",
    ];

    /// A request for `target` (an absolute path with any query, such as `/chat?room=1`)
    /// on `host`, the value of the `Host` header: the server's name, followed by
    /// `:port` when the port is not the scheme's default (80 for `ws`, 443 for `wss`).
    pub fn new(host: impl Into<String>, target: impl Into<String>) -> ClientRequest {
        ClientRequest {
            host: host.into(),
            target: target.into(),
            origin: None,
            protocols: Vec::new(),
            deflate: None,
            headers: Vec::new(),
        }
    }

    /// Offers permessage-deflate with these parameters
    /// ([`DeflateOffer::default`] is what browsers offer); `None`, the default, offers
    /// no extension. An offer with window sizes out of range makes
    /// [`ClientRequest::build`] fail with [`Misuse::DeflateOffer`].
    pub fn deflate(mut self, offer: impl Into<Option<DeflateOffer>>) -> ClientRequest {
        self.deflate = offer.into();
        self
    }

    /// Sends an `Origin` header, as browsers do, such as `https://example.com`.
    pub fn origin(mut self, origin: impl Into<String>) -> ClientRequest {
        self.origin = Some(origin.into());
        self
    }

    /// Offers subprotocols, most preferred first; each must be a token. Calls add up.
    pub fn protocols<I>(mut self, protocols: I) -> ClientRequest
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.protocols.extend(protocols.into_iter().map(Into::into));
        self
    }

    /// Adds a header field, such as `Authorization` or `Cookie`. A name that is not a
    /// token, a value with CR, LF or another control byte, or a field this builder
    /// writes itself makes [`ClientRequest::build`] fail with [`Error::Misuse`]: no
    /// input can inject a header line.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> ClientRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The request head, ready to send, with a fresh random key, and the state that
    /// checks the answer.
    pub fn build(&self) -> Result<(Vec<u8>, PendingHandshake), Error> {
        let mut key = [0; 16];
        getrandom::fill(&mut key).map_err(|_| Error::RandomUnavailable)?;
        self.build_with_key(key)
    }

    /// [`ClientRequest::build`] with a key of the caller's choosing, to reproduce a known
    /// exchange in tests. RFC 6455 section 4.1 requires a fresh random key for every
    /// connection; [`ClientRequest::build`] makes one.
    pub fn build_with_key(&self, key: [u8; 16]) -> Result<(Vec<u8>, PendingHandshake), Error> {
        if self.host.is_empty() || !self.host.bytes().all(is_visible_ascii) {
            return Err(Misuse::Host.into());
        }
        if !self.target.starts_with('/') || !self.target.bytes().all(is_visible_ascii) {
            return Err(Misuse::Target.into());
        }
        let key = STANDARD.encode(key);
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_field(&mut out, "Host", self.host.as_bytes());
        write_field(&mut out, "Upgrade", b"websocket");
        write_field(&mut out, "Connection", b"Upgrade");
        write_field(&mut out, "Sec-WebSocket-Key", key.as_bytes());
        if let Some(origin) = &self.origin {
            if !origin.bytes().all(is_value_byte) {
                return Err(Misuse::HeaderValue.into());
            }
            write_field(&mut out, "Origin", origin.as_bytes());
        }
        if !self.protocols.is_empty() {
            if !self.protocols.iter().all(|p| is_token(p.as_bytes())) {
                return Err(Misuse::ProtocolName.into());
            }
            let list = self.protocols.join(", ");
            write_field(&mut out, "Sec-WebSocket-Protocol", list.as_bytes());
        }
        if let Some(offer) = &self.deflate {
            offer.check_sendable()?;
            let value = offer.to_string();
            write_field(&mut out, "Sec-WebSocket-Extensions", value.as_bytes());
        }
        write_field(&mut out, "Sec-WebSocket-Version", b"13");
        write_caller_fields(&mut out, &self.headers, Self::MANAGED)?;
        out.extend_from_slice(b"\r\n");
        let pending = PendingHandshake {
            key,
            protocols: self.protocols.clone(),
            deflate: self.deflate,
        };
        Ok((out, pending))
    }
}

impl PendingHandshake {
    /// The `Sec-WebSocket-Key` sent, in base64.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Checks the server's answer against RFC 6455 section 4.1: status 101 (another
    /// status gives [`Error::UnexpectedStatus`], which keeps the response), HTTP/1.1 or
    /// later, `Upgrade` listing `websocket`, `Connection` listing `upgrade`, one
    /// `Sec-WebSocket-Accept` matching the key, at most one subprotocol, which must be
    /// one offered, and no extension but the permessage-deflate offered, if any, with
    /// parameters that fit the offer ([`DeflateOffer::check_answer`] lists the errors).
    pub fn validate(&self, response: Response) -> Result<Accepted, Error> {
        if response.status() != 101 {
            return Err(Error::UnexpectedStatus(Box::new(response)));
        }
        if response.version() < (1, 1) {
            return Err(Error::HttpVersionTooOld);
        }
        let headers = response.headers();
        if !headers.contains_token("upgrade", "websocket") {
            return Err(Error::NoWebSocketUpgrade);
        }
        if !headers.contains_token("connection", "upgrade") {
            return Err(Error::NoConnectionUpgrade);
        }
        let accept = headers.exactly_one("sec-websocket-accept")?;
        if accept != accept_key(self.key.as_bytes()).as_bytes() {
            return Err(Error::AcceptMismatch);
        }
        let deflate = match &self.deflate {
            None if headers.tokens("sec-websocket-extensions").next().is_some() => {
                return Err(Error::UnexpectedExtension);
            }
            None => None,
            Some(offer) => {
                let answer = parse_extensions(headers.get_all("sec-websocket-extensions"))?;
                offer.check_answer(&answer)?
            }
        };
        let protocol = match headers.at_most_one("sec-websocket-protocol")? {
            None => None,
            Some(chosen) => Some(
                self.protocols
                    .iter()
                    .find(|offered| offered.as_bytes() == chosen)
                    .ok_or(Error::UnexpectedProtocol)?
                    .clone(),
            ),
        };
        Ok(Accepted {
            response,
            protocol,
            deflate,
        })
    }
}

impl Accepted {
    /// The subprotocol the server chose, if any; always one the client offered.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The permessage-deflate parameters the server agreed to, or `None` when it
    /// declined compression (or none was offered).
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// The server's response, for its headers (such as `Set-Cookie`).
    pub fn response(&self) -> &Response {
        &self.response
    }

    /// The server's response, by value.
    pub fn into_response(self) -> Response {
        self.response
    }
}

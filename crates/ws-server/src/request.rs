use std::net::SocketAddr;

use ws_handshake::{DeflateParams, Headers, reason_phrase};

/// A client's request as a server callback sees it: before the upgrade is accepted
/// ([`Server::on_upgrade`](crate::Server::on_upgrade)) or when a plain HTTP page is
/// asked for ([`Server::on_http`](crate::Server::on_http)).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    head: &'a ws_handshake::Request,
    peer: Option<SocketAddr>,
    deflate: Option<DeflateParams>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(head: &'a ws_handshake::Request, peer: Option<SocketAddr>) -> Request<'a> {
        Request {
            head,
            peer,
            deflate: None,
        }
    }

    /// The request, with the permessage-deflate parameters the server would agree to.
    pub(crate) fn with_deflate(self, deflate: Option<DeflateParams>) -> Request<'a> {
        Request { deflate, ..self }
    }

    /// The permessage-deflate parameters the server agrees to if it accepts: `None`
    /// if the client offered none the server can honour (or compression is off). An
    /// [`on_upgrade`](crate::Server::on_upgrade) check can still decline it with
    /// [`Accept::no_compression`].
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// The method, `GET` for every WebSocket handshake.
    pub fn method(&self) -> &'a str {
        self.head.method()
    }

    /// The path, without the query.
    pub fn path(&self) -> &'a str {
        split_target(self.head.target()).0
    }

    /// The query, without the `?`, if there is one.
    pub fn query(&self) -> Option<&'a str> {
        split_target(self.head.target()).1
    }

    /// Every header field.
    pub fn headers(&self) -> &'a Headers {
        self.head.headers()
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.head.headers().get(name)
    }

    /// The `Origin` a browser sends, if any and if it is text.
    pub fn origin(&self) -> Option<&'a str> {
        self.header("origin")
            .and_then(|origin| std::str::from_utf8(origin).ok())
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'a str> {
        self.head
            .headers()
            .tokens("sec-websocket-protocol")
            .filter_map(|protocol| std::str::from_utf8(protocol).ok())
    }

    /// Whether the client asks to upgrade to WebSocket.
    pub fn is_upgrade(&self) -> bool {
        self.head.headers().contains_token("upgrade", "websocket")
    }

    /// The client's address, when the server knows it.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }
}

/// Splits a request target into its path and query.
pub(crate) fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// How to accept an upgrade: the subprotocol and extra response headers.
///
/// ```
/// use ws_server::Accept;
///
/// let accept = Accept::new().protocol("chat.v2").header("Set-Cookie", "session=42");
/// # let _ = accept;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    pub(crate) protocol: Option<String>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) no_compression: bool,
}

impl Accept {
    /// Accept with the server's configured choice of subprotocol and no extra headers.
    pub fn new() -> Accept {
        Accept::default()
    }

    /// Chooses this subprotocol, which must be one the client offered; otherwise the
    /// handshake fails with 500, as the server's bug it is.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Accept {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a response header, such as `Set-Cookie`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Accept {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Declines permessage-deflate for this connection, whatever was offered: for
    /// traffic that does not compress, or to save a connection's compression memory.
    pub fn no_compression(mut self) -> Accept {
        self.no_compression = true;
        self
    }
}

/// A plain HTTP response for [`Server::on_http`](crate::Server::on_http) pages.
///
/// Always sent with `Content-Length` and `Connection: close`.
///
/// ```
/// use ws_server::HttpResponse;
///
/// let page = HttpResponse::html("<h1>Hello</h1>").header("Cache-Control", "no-store");
/// assert_eq!(page.status(), 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `200 OK` HTML page.
    pub fn html(body: impl Into<String>) -> HttpResponse {
        HttpResponse::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body.into())
    }

    /// A `200 OK` plain text body.
    pub fn text(body: impl Into<String>) -> HttpResponse {
        HttpResponse::new(200)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body.into())
    }

    /// Adds a header. A name or value with CR, LF or another control byte makes the
    /// server answer 500 instead, since sending it would let it inject header lines.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpResponse {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The whole response, or `None` if a header could inject lines or the status is
    /// not a three-digit code.
    pub(crate) fn to_bytes(&self) -> Option<Vec<u8>> {
        let field_ok = |text: &str| {
            text.bytes()
                .all(|byte| byte == b'\t' || !byte.is_ascii_control())
        };
        let name_ok = |name: &str| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
        };
        if !(100..=999).contains(&self.status)
            || !self
                .headers
                .iter()
                .all(|(name, value)| name_ok(name) && field_ok(value))
        {
            return None;
        }
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason_phrase(self.status)
        )
        .into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        Some(out)
    }
}

use std::fmt;
use std::time::Duration;

use ws_handshake::{DeflateOffer, DeflateParams, Limits};
use ws_stream::Role;

use crate::Proxy;

/// What a client sends in its handshake, how long it waits, and the settings of the
/// connection it opens.
///
/// Every field has a documented default; change them with the builder-style setters.
///
/// ```
/// use std::time::Duration;
/// use ws_client::ClientConfig;
///
/// let config = ClientConfig::default()
///     .header("Authorization", "Bearer abc")
///     .origin("https://example.com")
///     .protocols(["v2.chat", "v1.chat"])
///     .handshake_timeout(Some(Duration::from_secs(5)))
///     .stream(ws_stream::Config::default().max_message_size(1 << 20));
/// assert_eq!(config.connect_timeout, Some(Duration::from_secs(10)));
/// assert_eq!(config.protocols, ["v2.chat", "v1.chat"]);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Extra header fields for the handshake request, such as `Authorization` or
    /// `Cookie`, in order.
    ///
    /// Default: none. A name that is not a token, a value holding CR, LF or another
    /// control byte, or a field the handshake writes itself (`Host`, `Upgrade`,
    /// `Sec-WebSocket-*`, `Origin`...) makes the handshake fail before anything is
    /// sent, with a [`ws_handshake::Error::Misuse`]: no value can inject a header line.
    /// `Debug` shows the names only, since the values are often credentials.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The `Origin` header, such as `https://example.com`.
    ///
    /// Default: none. Browsers send one so that servers can refuse pages from other
    /// sites (RFC 6455 section 10.2); other clients leave it out unless a server
    /// insists.
    pub origin: Option<String>,
    /// The subprotocols offered, most preferred first; the server picks at most one
    /// ([`Client::protocol`](crate::Client::protocol)).
    ///
    /// Default: none, so the server must not choose one.
    pub protocols: Vec<String>,
    /// How long [`connect`](crate::connect) waits for each address to accept the TCP
    /// connection; `None` leaves it to the system.
    ///
    /// Default: 10 s, the time python-websockets gives its whole opening. The system's
    /// own limit is about two minutes on Linux, far too long to notice a dead server.
    pub connect_timeout: Option<Duration>,
    /// How long [`connect`](crate::connect) waits for the handshake, from sending the
    /// request to the end of the server's response, as one deadline (a server sending
    /// a byte at a time cannot stretch it); `None` waits as long as the server takes.
    ///
    /// Default: 10 s, as python-websockets' `open_timeout`. A handshake is one round
    /// trip of a few hundred bytes, so only a stuck or hostile server comes near it.
    /// Over a socket of your own ([`Client::handshake_with`](crate::Client::handshake_with))
    /// the client cannot set timeouts: set them on the socket, and they show as
    /// [`Error::HandshakeTimeout`](crate::Error::HandshakeTimeout).
    pub handshake_timeout: Option<Duration>,
    /// The limits and timers of the connection once it is open.
    ///
    /// Default: [`ws_stream::Config::default`], whose fields document their defaults.
    pub stream: ws_stream::Config,
    /// How large a response head the client accepts.
    ///
    /// Default: [`Limits::default`] (8 KiB, 64 fields). A server's `101` takes a few
    /// hundred bytes; the limit stops a server from making the client buffer without end.
    pub limits: Limits,
    /// The HTTP proxy to reach servers through with `CONNECT`, for `ws://` and
    /// `wss://` alike; a [`Proxy`] can leave some hosts out (`NO_PROXY`).
    ///
    /// Default: none, every connection goes directly to the server. The environment's
    /// `HTTPS_PROXY` and friends count only when you ask, with
    /// `.proxy(Proxy::from_env()?)`: a library that honoured them unasked would route
    /// traffic where its caller never meant it to go.
    pub proxy: Option<Proxy>,
    /// How many redirects (301, 302, 303, 307, 308 with a `Location`) the connect
    /// functions follow in a row before failing with
    /// [`Error::TooManyRedirects`](crate::Error::TooManyRedirects).
    ///
    /// Default: 0, none: a redirect fails the connection with
    /// [`Error::Handshake`](crate::Error::Handshake), its response (and `Location`)
    /// readable through [`Error::response`](crate::Error::response). Browsers never
    /// follow a WebSocket redirect, so servers rarely send one on purpose, and a
    /// client that follows silently lets any server it reaches send it elsewhere.
    /// When following, a redirect from `wss://` to `ws://` is refused
    /// ([`Error::InsecureRedirect`](crate::Error::InsecureRedirect)), and the
    /// `Authorization`, `Cookie` and `Proxy-Authorization` headers of
    /// [`ClientConfig::headers`] are not sent on once a redirect leads to another host
    /// or port. python-websockets follows up to 10.
    pub max_redirects: u32,
    /// The permessage-deflate offer (RFC 7692), or `None` to ask for no compression.
    ///
    /// Default: `permessage-deflate; client_max_window_bits`, as browsers and
    /// python-websockets offer: the server may pick both windows, and both ends keep
    /// their context between messages. What the server agrees to is checked (an
    /// answer we did not offer, or a window outside 8 to 15 bits, fails the handshake)
    /// and applied to the connection; the memory level and the size below which
    /// messages go uncompressed come from [`ClientConfig::deflate_tuning`].
    pub deflate: Option<DeflateOffer>,
    /// How our side compresses once deflate is agreed: memory level, level and
    /// `min_size`; the window sizes and context takeover here are replaced by what the
    /// handshake agreed.
    ///
    /// Default: [`ws_stream::Deflate::agreed`]'s defaults (memory level 5, level 6,
    /// messages under 64 bytes uncompressed).
    pub deflate_tuning: ws_stream::Deflate,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            headers: Vec::new(),
            origin: None,
            protocols: Vec::new(),
            connect_timeout: Some(Duration::from_secs(10)),
            handshake_timeout: Some(Duration::from_secs(10)),
            stream: ws_stream::Config::default(),
            limits: Limits::default(),
            proxy: None,
            max_redirects: 0,
            deflate: Some(DeflateOffer::default()),
            deflate_tuning: ws_stream::Deflate::agreed(Role::Client, 15, 15, false, false),
        }
    }
}

impl ClientConfig {
    /// Sets [`ClientConfig::deflate`]: `None` turns compression off.
    pub fn deflate(mut self, offer: Option<DeflateOffer>) -> ClientConfig {
        self.deflate = offer;
        self
    }

    /// Sets [`ClientConfig::deflate_tuning`].
    pub fn deflate_tuning(mut self, tuning: ws_stream::Deflate) -> ClientConfig {
        self.deflate_tuning = tuning;
        self
    }

    /// The connection's settings once the handshake agreed to `deflate`, or not.
    pub(crate) fn stream_config(&self, deflate: Option<DeflateParams>) -> ws_stream::Config {
        let deflate = deflate.map(|agreed| {
            self.deflate_tuning.with_agreement(
                Role::Client,
                agreed.server_window_bits(),
                agreed.client_window_bits(),
                agreed.server_no_context_takeover,
                agreed.client_no_context_takeover,
            )
        });
        self.stream.clone().deflate(deflate)
    }

    /// Adds a header field to [`ClientConfig::headers`]; calls add up.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> ClientConfig {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets [`ClientConfig::origin`].
    pub fn origin(mut self, origin: impl Into<String>) -> ClientConfig {
        self.origin = Some(origin.into());
        self
    }

    /// Adds to [`ClientConfig::protocols`], most preferred first; calls add up.
    pub fn protocols<I>(mut self, protocols: I) -> ClientConfig
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.protocols.extend(protocols.into_iter().map(Into::into));
        self
    }

    /// Sets [`ClientConfig::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> ClientConfig {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`ClientConfig::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> ClientConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`ClientConfig::stream`].
    pub fn stream(mut self, config: ws_stream::Config) -> ClientConfig {
        self.stream = config;
        self
    }

    /// Sets [`ClientConfig::limits`].
    pub fn limits(mut self, limits: Limits) -> ClientConfig {
        self.limits = limits;
        self
    }

    /// Sets [`ClientConfig::proxy`]: a [`Proxy`], or `None` to connect directly. It
    /// takes [`Proxy::from_env`]'s answer as it is.
    pub fn proxy(mut self, proxy: impl Into<Option<Proxy>>) -> ClientConfig {
        self.proxy = proxy.into();
        self
    }

    /// Sets [`ClientConfig::max_redirects`].
    pub fn max_redirects(mut self, max: u32) -> ClientConfig {
        self.max_redirects = max;
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are left out: an Authorization token or a session cookie does
        // not belong in a log line.
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ClientConfig")
            .field("headers", &names)
            .field("origin", &self.origin)
            .field("protocols", &self.protocols)
            .field("connect_timeout", &self.connect_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("stream", &self.stream)
            .field("limits", &self.limits)
            .field("proxy", &self.proxy)
            .field("max_redirects", &self.max_redirects)
            .finish()
    }
}

use std::time::Duration;

use ws_handshake::{DeflateParams, DeflateServerConfig, Limits};
use ws_stream::Role;

/// How the server treats connections: limits, timeouts and what it negotiates.
///
/// ```
/// use std::time::Duration;
/// use ws_server::ServerConfig;
///
/// let config = ServerConfig::default()
///     .max_connections(10_000)
///     .allowed_origins(["https://example.com"])
///     .protocols(["chat.v2", "chat.v1"])
///     .idle_timeout(Some(Duration::from_secs(60)));
/// assert_eq!(config.max_connections, 10_000);
/// assert_eq!(config.stream.idle_timeout, Some(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Connections served at once; beyond it, new ones get `503 Service Unavailable`
    /// and are closed without taking a thread.
    ///
    /// Default: 4096 for the blocking [`Server`](crate::Server), whose connections are
    /// threads: a blocked thread costs little memory (its stack is touched only as deep
    /// as it runs), so a few thousand idle clients fit, and tens of thousands of threads
    /// should be a deliberate choice. The async server admits
    /// `ASYNC_MAX_CONNECTIONS` (10,000) by default (feature `tokio`). Either way the
    /// process needs a file descriptor per connection (`ulimit -n`, often 1024 by
    /// default).
    pub max_connections: usize,
    /// How long a client (and a TLS acceptor) has to complete its handshake, from the
    /// moment the connection is accepted: a client that sends its head a byte at a time
    /// (slowloris) loses its connection when it runs out.
    ///
    /// Default: 10 s, as python-websockets' `open_timeout`.
    pub handshake_timeout: Duration,
    /// How long one write to a client may block before the connection is given up:
    /// keeps a client that stopped reading from holding a broadcaster, or its
    /// connection's memory. The blocking server sets it on the socket; the async
    /// server's connections run it in their core (ws-stream's `Config::write_timeout`,
    /// which takes precedence when set).
    ///
    /// Default: 30 s.
    pub write_timeout: Option<Duration>,
    /// Subprotocols the server speaks. The client's most preferred protocol (the first
    /// it offers) that is in this list is chosen, unless an
    /// [`on_upgrade`](crate::Server::on_upgrade) check chooses. Default: none.
    pub protocols: Vec<String>,
    /// If set, browsers may connect only from these origins (such as
    /// `https://example.com`); others get 403. Requests without `Origin` (non-browser
    /// clients) are let through. Default: `None`, any origin.
    pub allowed_origins: Option<Vec<String>>,
    /// Limits on the HTTP head. Default: [`Limits::default`] (8 KiB, 64 fields).
    pub limits: Limits,
    /// Limits and timers of each connection once upgraded, keep-alive included: its
    /// `ping_interval` and `idle_timeout` are the only ones, which
    /// [`ServerConfig::ping_interval`] and [`ServerConfig::idle_timeout`] set too.
    ///
    /// Default: [`ws_stream::Config::default`], whose fields document their defaults
    /// (no pings, no idle timeout: connections may idle forever, as with tungstenite).
    pub stream: ws_stream::Config,
    /// Which permessage-deflate offers (RFC 7692) the server agrees to, or `None` to
    /// decline compression.
    ///
    /// Default: [`DeflateServerConfig::default`]: the first offer it can honour, with
    /// 12-bit windows both ways, python-websockets' server default, which keeps a
    /// connection's compression memory near 210 KiB once it has compressed (see
    /// `ws_stream::Deflate`); offers that would make us compress with an 8-bit window
    /// are declined, as are malformed ones. An
    /// [`on_upgrade`](crate::Server::on_upgrade) check sees what was agreed
    /// ([`Request::deflate`](crate::Request::deflate)) and can turn it off
    /// ([`Accept::no_compression`](crate::Accept::no_compression)).
    pub deflate: Option<DeflateServerConfig>,
    /// How the server compresses once deflate is agreed: memory level, level and
    /// `min_size`; windows and context takeover come from the handshake.
    ///
    /// Default: memory level 5, level 6, messages under 64 bytes uncompressed.
    pub deflate_tuning: ws_stream::Deflate,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_connections: 4096,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Some(Duration::from_secs(30)),
            protocols: Vec::new(),
            allowed_origins: None,
            limits: Limits::default(),
            stream: ws_stream::Config::default(),
            deflate: Some(DeflateServerConfig::default()),
            deflate_tuning: ws_stream::Deflate::agreed(Role::Server, 15, 15, false, false),
        }
    }
}

impl ServerConfig {
    /// Sets [`ServerConfig::max_connections`].
    pub fn max_connections(mut self, max: usize) -> ServerConfig {
        self.max_connections = max;
        self
    }

    /// Sets [`ServerConfig::handshake_timeout`].
    pub fn handshake_timeout(mut self, timeout: Duration) -> ServerConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets how long a connection may stay silent before it is closed with 1011: the
    /// stream config's [`idle_timeout`](ws_stream::Config::idle_timeout), a shortcut
    /// for `.stream(config.stream.idle_timeout(timeout))`. Pair it with
    /// [`ServerConfig::ping_interval`] so that live but quiet clients are pinged and
    /// answer.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> ServerConfig {
        self.stream = self.stream.idle_timeout(timeout);
        self
    }

    /// Sets after how long without hearing from a client it is pinged: the stream
    /// config's [`ping_interval`](ws_stream::Config::ping_interval).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> ServerConfig {
        self.stream = self.stream.ping_interval(interval);
        self
    }

    /// Sets [`ServerConfig::write_timeout`].
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> ServerConfig {
        self.write_timeout = timeout;
        self
    }

    /// Sets [`ServerConfig::protocols`].
    pub fn protocols<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        protocols: I,
    ) -> ServerConfig {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`ServerConfig::allowed_origins`].
    pub fn allowed_origins<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        origins: I,
    ) -> ServerConfig {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Sets [`ServerConfig::limits`].
    pub fn limits(mut self, limits: Limits) -> ServerConfig {
        self.limits = limits;
        self
    }

    /// Sets [`ServerConfig::stream`].
    pub fn stream(mut self, config: ws_stream::Config) -> ServerConfig {
        self.stream = config;
        self
    }

    /// Sets [`ServerConfig::deflate`]: `None` declines compression.
    pub fn deflate(mut self, deflate: Option<DeflateServerConfig>) -> ServerConfig {
        self.deflate = deflate;
        self
    }

    /// Sets [`ServerConfig::deflate_tuning`].
    pub fn deflate_tuning(mut self, tuning: ws_stream::Deflate) -> ServerConfig {
        self.deflate_tuning = tuning;
        self
    }

    /// A connection's settings once the handshake agreed to `deflate`, or not.
    pub(crate) fn stream_config(&self, deflate: Option<DeflateParams>) -> ws_stream::Config {
        let deflate = deflate.map(|agreed| {
            self.deflate_tuning.with_agreement(
                Role::Server,
                agreed.server_window_bits(),
                agreed.client_window_bits(),
                agreed.server_no_context_takeover,
                agreed.client_no_context_takeover,
            )
        });
        // The async stream enforces the write timeout in the core; the blocking one
        // sets it on its socket as well.
        let write_timeout = self.stream.write_timeout.or(self.write_timeout);
        self.stream
            .clone()
            .deflate(deflate)
            .write_timeout(write_timeout)
    }
}

//! The connection a handshake runs over: TCP to the server or through the proxy
//! ([`connect_tcp`]), then the [`Connector`]'s step (nothing for `ws://`, TLS for
//! `wss://` in ws-tls).

use std::io::{Read, Write};
use std::net::TcpStream;

use ws_stream::Socket;

use crate::proxy::TunnelLimits;
use crate::tcp::open_tcp;
use crate::{ClientConfig, Error, Url, proxy};

/// Turns a TCP connection to a server into the stream the WebSocket handshake runs
/// over, for [`connect_via`](crate::connect_via): the client's side of ws-server's
/// `Acceptor`. [`Plain`] is plain TCP; ws-tls' `Connector` adds TLS for `wss://`.
///
/// The proxy, redirects, timeouts and the WebSocket handshake stay in ws-client; a
/// connector supplies only the step between TCP and the handshake, and sorts the
/// errors met over its stream.
pub trait Connector {
    /// The stream the handshake and the connection run over.
    type Stream: Transport;
    /// The error of the whole connect call: ws-client's errors convert into it.
    type Error: From<Error>;

    /// Refuses a URL this connector cannot open before anything is sent or resolved:
    /// [`Plain`] refuses `wss://` with [`Error::TlsRequired`]. Called for the first URL
    /// and for each one a redirect leads to. Accepts every URL unless overridden.
    fn check(&self, url: &Url) -> Result<(), Self::Error> {
        let _ = url;
        Ok(())
    }

    /// Wraps `tcp`, a connection to `url`'s server (direct, or a tunnel through the
    /// proxy). Its read and write timeouts are set to the handshake timeout, so a
    /// stalled step of its own (a TLS handshake) ends in time.
    fn connect(&self, url: &Url, tcp: TcpStream) -> Result<Self::Stream, Self::Error>;

    /// The error to report when the WebSocket handshake over `stream` failed with
    /// `error`: a TLS connector can name the TLS failure that caused it (TLS 1.3 lets a
    /// server refuse a client certificate only once the client's side of the TLS
    /// handshake is done, so the refusal comes with the first read of the upgrade).
    /// `error.into()` unless overridden.
    fn handshake_error(&self, stream: &Self::Stream, error: Error) -> Self::Error {
        let _ = stream;
        error.into()
    }
}

/// The plain-TCP connector: WebSockets over `ws://` only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Connector for Plain {
    type Stream = TcpStream;
    type Error = Error;

    fn check(&self, url: &Url) -> Result<(), Error> {
        if url.is_secure() {
            return Err(Error::TlsRequired);
        }
        Ok(())
    }

    fn connect(&self, _url: &Url, tcp: TcpStream) -> Result<TcpStream, Error> {
        Ok(tcp)
    }
}

/// A connection over TCP that [`connect_via`](crate::connect_via) can run the
/// handshake over: `TcpStream` itself, or a layer on it such as ws-tls' stream.
pub trait Transport: Read + Write + Socket {
    /// The TCP connection underneath, whose read and write timeouts bound the handshake.
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// Opens a TCP connection to `url`'s server: directly, resolving its host and trying
/// each address in turn within [`ClientConfig::connect_timeout`], or, when the
/// [proxy](ClientConfig::proxy) covers the URL, to the proxy the same way and then
/// through a `CONNECT` tunnel answered within [`ClientConfig::handshake_timeout`].
/// `TCP_NODELAY` is set either way: a WebSocket message is written whole, so Nagle's
/// algorithm would only delay it.
///
/// The first step of [`connect_with`](crate::connect_with), public for code that adds
/// its own step before the handshake without a [`Connector`]: call this, wrap the
/// socket, and finish with [`Client::handshake_with_timeouts`](crate::Client::handshake_with_timeouts).
/// It accepts `wss://` URLs. When every address fails, the error is the last one's.
pub fn connect_tcp(url: &Url, config: &ClientConfig) -> Result<TcpStream, Error> {
    match config
        .proxy
        .as_ref()
        .and_then(|proxy| proxy.server_for(url))
    {
        Some(server) => {
            let limits = TunnelLimits {
                connect_timeout: config.connect_timeout,
                answer_timeout: config.handshake_timeout,
                head: config.limits,
            };
            proxy::connect(server, url, limits)
        }
        None => open_tcp(url.host(), url.port(), config.connect_timeout),
    }
}

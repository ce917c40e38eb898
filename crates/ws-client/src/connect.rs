use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use ws_stream::Socket;

use crate::{Client, ClientConfig, Error, IntoUrl, Url, proxy, redirect};

/// Connects to a `ws://` URL with [`ClientConfig::default`]; see [`connect_with`].
///
/// ```no_run
/// let mut client = ws_client::connect("ws://localhost:9001/chat")?;
/// client.send_text("Hello")?;
/// println!("{:?}", client.read_message()?);
/// client.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect(url: impl IntoUrl) -> Result<Client<TcpStream>, Error> {
    connect_with(url, &ClientConfig::default())
}

/// Connects to a `ws://` URL: resolves the host, connects over TCP, directly or through
/// the [proxy](ClientConfig::proxy) ([`connect_tcp`]), runs the handshake within the
/// handshake timeout ([`Client::handshake_with_timeouts`]), follows redirects if
/// [allowed](ClientConfig::max_redirects), then hands the socket's read timeouts to the
/// connection so that keep-alive and the close timeout work
/// ([`Client::enable_socket_control`]).
///
/// A `wss://` URL fails with [`Error::TlsRequired`] before anything is sent, and so does
/// a redirect to one: TLS is the job of the ws-tls crate (built on [`connect_via`]), or
/// of a TLS stream you pass to [`Client::handshake_with`]. The server's response and
/// chosen subprotocol stay readable on the client.
///
/// ```no_run
/// use ws_client::{ClientConfig, Proxy};
///
/// let config = ClientConfig::default()
///     .proxy(Proxy::new("http://proxy.internal:3128")?)
///     .max_redirects(5);
/// let mut client = ws_client::connect_with("ws://example.com/chat", &config)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_with(url: impl IntoUrl, config: &ClientConfig) -> Result<Client<TcpStream>, Error> {
    redirect::follow(
        url.into_url()?,
        config,
        redirect::Tls::Unavailable,
        |_, tcp| Ok::<_, Error>(tcp),
    )
}

/// [`connect_with`] for layers that put a step of their own between TCP and the
/// handshake, such as TLS: the proxy, the redirects and the timeouts stay here, and
/// `open` only turns a TCP connection to `url`'s server (direct, or a tunnel through
/// the proxy) into the stream the handshake runs over.
///
/// `open` is called once per connection, the first and each one a redirect leads to,
/// with that connection's URL, which may be `wss://` (`open` does TLS, or refuses with
/// an error of its own). The handshake then runs within the handshake timeout, set
/// through [`Transport::tcp`], and the client gets socket control.
///
/// The error type is the caller's, so that `open`'s own errors (a certificate
/// rejected, say) come out unchanged; ws-client's convert into it with `From`. A
/// redirect is recognised on ws-client's error, before any conversion.
///
/// ```
/// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// # let addr = listener.local_addr()?;
/// # let server = std::thread::spawn(move || {
/// #     let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
/// #     while ws.read().is_ok() {}
/// # });
/// use std::net::TcpStream;
/// use ws_client::{ClientConfig, Error, Url};
///
/// // A layer that only records what it opens; a TLS layer would wrap `tcp` for wss.
/// let mut opened = Vec::new();
/// let url = format!("ws://{addr}/chat");
/// let open = |url: &Url, tcp: TcpStream| {
///     opened.push(url.to_string());
///     Ok::<_, Error>(tcp)
/// };
/// let mut client = ws_client::connect_via(&url, &ClientConfig::default(), open)?;
/// client.close()?;
/// assert_eq!(opened, [url]);
/// # server.join().unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_via<S, E, F>(
    url: impl IntoUrl,
    config: &ClientConfig,
    open: F,
) -> Result<Client<S>, E>
where
    S: Transport,
    E: From<Error>,
    F: FnMut(&Url, TcpStream) -> Result<S, E>,
{
    let url = url.into_url().map_err(Error::Url)?;
    redirect::follow(url, config, redirect::Tls::Available, open)
}

/// A connection over TCP that [`connect_via`] can run the handshake over: `TcpStream`
/// itself, or a layer on it such as ws-tls' stream.
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
/// The first step of [`connect_with`], public for layers that add their own step before
/// the handshake, such as TLS: they call this, wrap the socket, and finish with
/// [`Client::handshake_with_timeouts`] ([`connect_via`] does all of it, redirects
/// included). It accepts `wss://` URLs. When every address fails, the error is the last
/// one's.
pub fn connect_tcp(url: &Url, config: &ClientConfig) -> Result<TcpStream, Error> {
    match config
        .proxy
        .as_ref()
        .and_then(|proxy| proxy.server_for(url))
    {
        Some(server) => proxy::connect(server, url, config),
        None => open_tcp(url.host(), url.port(), config.connect_timeout),
    }
}

/// A TCP connection to `host` and `port`, with `TCP_NODELAY`: [`Error::Resolve`] when
/// the host has no address, [`Error::Connect`] when none of them accepts in time.
pub(crate) fn open_tcp(
    host: &str,
    port: u16,
    timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    let addresses = (host, port).to_socket_addrs().map_err(Error::Resolve)?;
    let mut last_error = None;
    for address in addresses {
        let attempt = match timeout {
            Some(timeout) => TcpStream::connect_timeout(&address, timeout),
            None => TcpStream::connect(address),
        };
        match attempt {
            Ok(socket) => {
                socket.set_nodelay(true).map_err(Error::Connect)?;
                return Ok(socket);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(match last_error {
        Some(error) => Error::Connect(error),
        None => Error::Resolve(io::Error::new(
            io::ErrorKind::NotFound,
            "the host has no address",
        )),
    })
}

/// The handshake deadline's hook for a TCP socket: both directions get the time left.
pub(crate) fn set_timeouts(socket: &TcpStream, timeout: Option<Duration>) -> io::Result<()> {
    socket.set_read_timeout(timeout)?;
    socket.set_write_timeout(timeout)
}

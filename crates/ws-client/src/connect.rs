//! The public connect functions: a URL in, a [`Client`] out, over the [`redirect`]
//! loop.

use std::net::TcpStream;

use crate::dial::{Connector, Plain};
use crate::error::parse_url;
use crate::{Client, ClientConfig, Error, IntoUrl, redirect};

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
/// the [proxy](ClientConfig::proxy) ([`connect_tcp`](crate::connect_tcp)), runs the
/// handshake within the handshake timeout, follows redirects if
/// [allowed](ClientConfig::max_redirects), then hands the socket's read timeouts to the
/// connection so that keep-alive and the close timeout work
/// ([`Client::enable_socket_control`]).
///
/// A `wss://` URL fails with [`Error::TlsRequired`] before anything is sent, and so does
/// a redirect to one: TLS is the job of the ws-tls crate (`ws_tls::connect`, a
/// [`Connector`] for [`connect_via`]), or of a TLS stream you pass to
/// [`Client::handshake_with`]. The server's response and chosen subprotocol stay
/// readable on the client.
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
    connect_via(url, config, &Plain)
}

/// [`connect_with`] with a [`Connector`] of your own between TCP and the handshake,
/// such as TLS: the proxy, the redirects and the timeouts stay here, and the connector
/// only turns a TCP connection to a server (direct, or a tunnel through the proxy)
/// into the stream the handshake runs over.
///
/// The connector checks each URL before any I/O, the first and each one a redirect
/// leads to, and wraps each connection; the handshake then runs within the handshake
/// timeout, set through [`Transport::tcp`](crate::Transport::tcp), and the client gets
/// socket control. The error type is the connector's, so that its own errors (a
/// certificate rejected, say) come out unchanged; ws-client's convert into it with
/// `From`.
///
/// ```
/// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// # let addr = listener.local_addr()?;
/// # let server = std::thread::spawn(move || {
/// #     let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
/// #     while ws.read().is_ok() {}
/// # });
/// use std::cell::RefCell;
/// use std::net::TcpStream;
/// use ws_client::{ClientConfig, Connector, Error, Url};
///
/// // A connector that only records what it opens; a TLS one would wrap `tcp` for wss.
/// #[derive(Default)]
/// struct Recording(RefCell<Vec<String>>);
///
/// impl Connector for Recording {
///     type Stream = TcpStream;
///     type Error = Error;
///
///     fn connect(&self, url: &Url, tcp: TcpStream) -> Result<TcpStream, Error> {
///         self.0.borrow_mut().push(url.to_string());
///         Ok(tcp)
///     }
/// }
///
/// let url = format!("ws://{addr}/chat");
/// let recording = Recording::default();
/// let mut client = ws_client::connect_via(&url, &ClientConfig::default(), &recording)?;
/// client.close()?;
/// assert_eq!(*recording.0.borrow(), [url]);
/// # server.join().unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_via<C: Connector>(
    url: impl IntoUrl,
    config: &ClientConfig,
    connector: &C,
) -> Result<Client<C::Stream>, C::Error> {
    redirect::follow(parse_url(url)?, config, connector)
}

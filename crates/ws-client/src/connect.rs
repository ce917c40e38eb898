use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::{Client, ClientConfig, Error, IntoUrl, Url};

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

/// Connects to a `ws://` URL: resolves the host, connects over TCP
/// ([`connect_tcp`]), runs the handshake within the handshake timeout
/// ([`Client::handshake_with_timeouts`]), then hands the socket's read timeouts to the
/// connection so that keep-alive and the close timeout work
/// ([`Client::enable_socket_control`]).
///
/// A `wss://` URL fails with [`Error::TlsRequired`] before anything is sent: TLS is the
/// job of the ws-tls crate, or of a TLS stream you pass to [`Client::handshake_with`].
/// The server's response and chosen subprotocol stay readable on the client.
pub fn connect_with(url: impl IntoUrl, config: &ClientConfig) -> Result<Client<TcpStream>, Error> {
    let url = url.into_url()?;
    if url.is_secure() {
        return Err(Error::TlsRequired);
    }
    let socket = connect_tcp(&url, config)?;
    let mut client = Client::handshake_with_timeouts(socket, url, config, set_timeouts)?;
    client.enable_socket_control();
    Ok(client)
}

/// Resolves `url`'s host and opens a TCP connection to its port, trying each address in
/// turn within [`ClientConfig::connect_timeout`], with `TCP_NODELAY` set (a WebSocket
/// message is written whole, so Nagle's algorithm would only delay it).
///
/// The first step of [`connect_with`], public for layers that add their own step before
/// the handshake, such as TLS: they call this, wrap the socket, and finish with
/// [`Client::handshake_with_timeouts`]. It accepts `wss://` URLs. When every address
/// fails, the error is the last one's.
pub fn connect_tcp(url: &Url, config: &ClientConfig) -> Result<TcpStream, Error> {
    let addresses = (url.host(), url.port())
        .to_socket_addrs()
        .map_err(Error::Resolve)?;
    let mut last_error = None;
    for address in addresses {
        let attempt = match config.connect_timeout {
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

/// The handshake deadline's hook for a plain TCP socket.
fn set_timeouts(socket: &mut TcpStream, timeout: Option<Duration>) -> io::Result<()> {
    socket.set_read_timeout(timeout)?;
    socket.set_write_timeout(timeout)
}

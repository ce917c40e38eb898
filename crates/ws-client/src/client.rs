use std::io::{self, Read, Write};
use std::mem;
use std::time::Duration;

use ws_handshake::{Accepted, Response};
use ws_stream::{CloseCode, Event, Message, Role, Socket, Stream};

use crate::error::parse_url;
use crate::exchange::BeforeIo;
use crate::handshake::{self, Upgraded};
use crate::tcp::Deadline;
use crate::{ClientConfig, Error, IntoUrl, Url};

/// The client end of a WebSocket connection over any `Read + Write` stream: the
/// handshake, then messages.
///
/// Three ways to open one:
///
/// - [`connect`](crate::connect) and [`connect_with`](crate::connect_with) do
///   everything from a URL over TCP, with timeouts;
/// - [`Client::handshake`] and [`Client::handshake_with`] run the handshake now over a
///   stream you opened (a TLS stream, a Unix socket...), and report its failure;
/// - [`Client::new`], kept from estd-websockets, returns at once and runs the handshake
///   at the first operation.
///
/// ```
/// # use std::net::TcpListener;
/// # let listener = TcpListener::bind("127.0.0.1:0")?;
/// # let addr = listener.local_addr()?;
/// # let server = std::thread::spawn(move || {
/// #     let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
/// #     let message = ws.read().unwrap();
/// #     ws.send(message).unwrap();
/// #     while ws.read().is_ok() {}
/// # });
/// use std::net::TcpStream;
/// use ws_client::Client;
/// use ws_stream::Message;
///
/// let socket = TcpStream::connect(addr)?;
/// let mut client = Client::handshake(socket, format!("ws://{addr}/echo"))?;
/// assert_eq!(client.response().map(|r| r.status()), Some(101));
/// client.send_text("Hello")?;
/// assert_eq!(client.read_message()?, Message::text("Hello"));
/// client.close()?;
/// # server.join().unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # The lazy handshake of `Client::new`
///
/// `Client::new` cannot fail, as in the library it replaces, so a malformed URL, a
/// refused upgrade or a dead server surface only at the first `send_text` or
/// `read_message`, as an [`Error::Url`] or a handshake error, and every later call
/// fails with [`Error::NoConnection`]. The response and subprotocol are unknown until
/// then ([`Client::response`] answers `None`), and the handshake has no deadline but
/// the socket's own timeouts. Prefer [`Client::handshake`], which reports the failure
/// where the connection is made, or [`connect`](crate::connect), which also bounds it.
///
/// # Threads
///
/// A `Client<S>` is `Send` when `S` is, so it can move to a background thread; to read
/// and send from two threads at once, [`Client::into_stream`] and then
/// [`Stream::split`].
#[derive(Debug)]
pub struct Client<S> {
    state: State<S>,
}

/// Where a client is in its life.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "a client lives in Open; boxing it would add a pointer chase to every call"
)]
enum State<S> {
    /// Made by [`Client::new`]: the handshake runs at the first operation.
    Pending(Pending<S>),
    /// The handshake succeeded.
    Open(Open<S>),
    /// A lazy handshake failed and the socket is gone.
    Failed,
}

#[derive(Debug)]
struct Pending<S> {
    socket: S,
    url: Result<Url, Error>,
    /// [`Stream::enable_socket_control`] for socket types that have it, to call once the
    /// stream exists; a function pointer because the bound is known only where it is set.
    socket_control: Option<fn(&mut Stream<S>)>,
}

#[derive(Debug)]
struct Open<S> {
    stream: Stream<S>,
    accepted: Accepted,
}

impl<S: Read + Write> Client<S> {
    /// A client over `socket`, a connection to the server of `url` that you opened,
    /// whose handshake runs at the first operation, with [`ClientConfig::default`].
    ///
    /// Kept from estd-websockets, whose examples call it without `?`. Failures,
    /// a malformed URL's included, come from the first operation instead; see
    /// [the type's docs](Client#the-lazy-handshake-of-clientnew) and prefer
    /// [`Client::handshake`].
    pub fn new(socket: S, url: impl IntoUrl) -> Client<S> {
        Client {
            state: State::Pending(Pending {
                socket,
                url: parse_url(url),
                socket_control: None,
            }),
        }
    }

    /// Runs the handshake for `url` over `socket` now, with [`ClientConfig::default`].
    pub fn handshake(socket: S, url: impl IntoUrl) -> Result<Client<S>, Error> {
        Client::handshake_with(socket, url, &ClientConfig::default())
    }

    /// Runs the handshake for `url` over `socket` now, with `config`'s headers,
    /// subprotocols, limits and connection settings.
    ///
    /// This is the step [`connect`](crate::connect) takes after TCP, for any stream: a
    /// TLS layer calls it once its own handshake is done (`wss` URLs are welcome here).
    /// `socket` must block; the client cannot set its timeouts, so
    /// [`ClientConfig::handshake_timeout`] does not apply, but a timeout set on the
    /// socket ends the handshake with [`Error::HandshakeTimeout`]. See
    /// [`Client::handshake_with_timeouts`] to apply it.
    pub fn handshake_with(
        socket: S,
        url: impl IntoUrl,
        config: &ClientConfig,
    ) -> Result<Client<S>, Error> {
        Client::run_handshake(socket, parse_url(url)?, config, &mut |_| Ok(()))
    }

    /// [`Client::handshake_with`], bounded by [`ClientConfig::handshake_timeout`] as
    /// one deadline, as [`connect`](crate::connect) does.
    ///
    /// Before each read and write the client calls `set_timeouts` with the time left,
    /// which should set the socket's read and write timeouts; once the handshake has
    /// succeeded, it calls `set_timeouts(socket, None)` to clear them. With no handshake
    /// timeout configured, `set_timeouts` is never called. For a TLS stream over
    /// `TcpStream`, set the timeouts of the `TcpStream` under it.
    pub fn handshake_with_timeouts<F>(
        socket: S,
        url: impl IntoUrl,
        config: &ClientConfig,
        mut set_timeouts: F,
    ) -> Result<Client<S>, Error>
    where
        F: FnMut(&mut S, Option<Duration>) -> io::Result<()>,
    {
        let url = parse_url(url)?;
        let deadline = Deadline::after(config.handshake_timeout);
        if !deadline.is_set() {
            return Client::run_handshake(socket, url, config, &mut |_| Ok(()));
        }
        let mut client = Client::run_handshake(socket, url, config, &mut |socket| {
            set_timeouts(socket, deadline.left()?).map_err(Error::HandshakeIo)
        })?;
        if let State::Open(open) = &mut client.state {
            set_timeouts(open.stream.get_mut(), None).map_err(Error::HandshakeIo)?;
        }
        Ok(client)
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: impl AsRef<str>) -> Result<(), Error> {
        Ok(self.connection()?.send_text(text)?)
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: impl AsRef<[u8]>) -> Result<(), Error> {
        Ok(self.connection()?.send_binary(data)?)
    }

    /// Sends a message.
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        Ok(self.connection()?.send(message)?)
    }

    /// Reads the next message, answering pings on the way; see
    /// [`Stream::read_message`]. When the server closes, the error is
    /// [`Error::Connection`] with [`Error::is_closed`] true for a normal close.
    pub fn read_message(&mut self) -> Result<Message, Error> {
        Ok(self.connection()?.read_message()?)
    }

    /// Reads the next message or control frame, the server's Close included; see
    /// [`Stream::read_event`].
    pub fn read_event(&mut self) -> Result<Event, Error> {
        Ok(self.connection()?.read_event()?)
    }

    /// Sends a ping (at most 125 bytes); the pong arrives through
    /// [`Client::read_event`].
    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> Result<(), Error> {
        Ok(self.connection()?.ping(payload)?)
    }

    /// Sends an unsolicited pong (at most 125 bytes), a one-way heartbeat.
    pub fn pong(&mut self, payload: impl AsRef<[u8]>) -> Result<(), Error> {
        Ok(self.connection()?.pong(payload)?)
    }

    /// Closes normally (1000); see [`Client::close_with`].
    pub fn close(&mut self) -> Result<(), Error> {
        self.close_with(CloseCode::NORMAL, "")
    }

    /// Sends a Close with `code` and `reason` and finishes the close handshake, within
    /// the close timeout when socket control is on; see [`Stream::close_with`].
    pub fn close_with(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        Ok(self.connection()?.close_with(code, reason)?)
    }

    /// Writes anything still queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        Ok(self.connection()?.flush()?)
    }

    /// The server's `101` response, for its headers (`Set-Cookie`, say), once the
    /// handshake has succeeded.
    pub fn response(&self) -> Option<&Response> {
        self.open().map(|open| open.accepted.response())
    }

    /// The subprotocol the server chose (always one offered), once the handshake has
    /// succeeded; `None` also when it chose none.
    pub fn protocol(&self) -> Option<&str> {
        self.open().and_then(|open| open.accepted.protocol())
    }

    /// The connection, once the handshake has succeeded.
    pub fn stream(&self) -> Option<&Stream<S>> {
        self.open().map(|open| &open.stream)
    }

    /// The connection, once the handshake has succeeded: for
    /// [`Stream::message_writer`], [`Stream::send_prepared`] and the like.
    pub fn stream_mut(&mut self) -> Option<&mut Stream<S>> {
        match &mut self.state {
            State::Open(open) => Some(&mut open.stream),
            State::Pending(_) | State::Failed => None,
        }
    }

    /// The connection, running the handshake first if it has not run yet.
    pub fn into_stream(mut self) -> Result<Stream<S>, Error> {
        self.connection()?;
        match self.state {
            State::Open(open) => Ok(open.stream),
            State::Pending(_) | State::Failed => Err(Error::NoConnection),
        }
    }

    fn run_handshake(
        mut socket: S,
        url: Url,
        config: &ClientConfig,
        before_io: BeforeIo<'_, S>,
    ) -> Result<Client<S>, Error> {
        let upgraded = handshake::perform(&mut socket, &url, config, before_io)?;
        Ok(Client::from_upgrade(socket, upgraded, config))
    }

    /// The client of a handshake that succeeded over `socket`.
    pub(crate) fn from_upgrade(socket: S, upgraded: Upgraded, config: &ClientConfig) -> Client<S> {
        let stream = Stream::from_upgrade(
            socket,
            Role::Client,
            handshake::stream_config(config, &upgraded.accepted),
            &upgraded.read_ahead,
        );
        Client {
            state: State::Open(Open {
                stream,
                accepted: upgraded.accepted,
            }),
        }
    }

    /// The open connection, after running a pending handshake.
    fn connection(&mut self) -> Result<&mut Stream<S>, Error> {
        if matches!(self.state, State::Pending(_)) {
            // Failed unless the handshake succeeds: a socket that saw half a handshake
            // cannot be retried.
            if let State::Pending(pending) = mem::replace(&mut self.state, State::Failed) {
                let url = pending.url?;
                let mut client = Client::run_handshake(
                    pending.socket,
                    url,
                    &ClientConfig::default(),
                    &mut |_| Ok(()),
                )?;
                if let (State::Open(open), Some(enable)) =
                    (&mut client.state, pending.socket_control)
                {
                    enable(&mut open.stream);
                }
                self.state = client.state;
            }
        }
        match &mut self.state {
            State::Open(open) => Ok(&mut open.stream),
            State::Pending(_) | State::Failed => Err(Error::NoConnection),
        }
    }

    fn open(&self) -> Option<&Open<S>> {
        match &self.state {
            State::Open(open) => Some(open),
            State::Pending(_) | State::Failed => None,
        }
    }
}

impl<S: Read + Write + Socket> Client<S> {
    /// Lets the connection set read timeouts on its socket, which keep-alive pings, the
    /// idle timeout and the close timeout need; see [`Stream::enable_socket_control`].
    ///
    /// [`connect`](crate::connect) does this itself. After [`Client::new`] it takes
    /// effect when the lazy handshake succeeds.
    pub fn enable_socket_control(&mut self) {
        match &mut self.state {
            State::Pending(pending) => pending.socket_control = Some(Stream::enable_socket_control),
            State::Open(open) => open.stream.enable_socket_control(),
            State::Failed => {}
        }
    }
}

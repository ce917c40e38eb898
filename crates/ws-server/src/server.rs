use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use ws_handshake::{Handshake, Rejection};
use ws_stream::{CloseCode, CloseRequest, Reader, Role, Socket, Split, Stream, Writer};

use crate::handshake::{Answer, read_request, send_all};
use crate::routes::Routes;
use crate::sync::lock;
use crate::{Accept, Error, HandlerResult, HttpResponse, Request, ServerConfig};

/// Turns an accepted TCP connection into the stream the WebSocket runs over: the TCP
/// stream itself ([`Plain`]), or a TLS session (ws-tls implements this).
pub trait Acceptor: Send + Sync + 'static {
    /// The stream handlers read and write.
    type Stream: Read + Write + Socket + Send + 'static;

    /// Wraps a freshly accepted connection. Its read and write timeouts are set to the
    /// handshake timeout, so a stalled TLS handshake ends in time.
    fn accept(&self, tcp: TcpStream) -> io::Result<Self::Stream>;
}

/// The plain-TCP acceptor: WebSockets over `ws://`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Acceptor for Plain {
    type Stream = TcpStream;

    fn accept(&self, tcp: TcpStream) -> io::Result<TcpStream> {
        Ok(tcp)
    }
}

/// Runs a connection from its upgrade to its end.
type Runner<T> = Arc<dyn Fn(Stream<T>, &str) + Send + Sync>;

/// A WebSocket server: routes by path, one thread per connection.
///
/// ```no_run
/// use ws_server::Server;
/// use ws_stream::Message;
///
/// let mut server = Server::new("127.0.0.1:8080");
/// server.on_connect("/ws", |stream, _path| {
///     while let Ok(message) = stream.read_message() {
///         stream.send(&message)?;
///     }
///     Ok(())
/// })?;
/// server.run()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Server<A: Acceptor = Plain> {
    addr: String,
    acceptor: A,
    config: ServerConfig,
    routes: Routes<Runner<A::Stream>>,
}

impl Server<Plain> {
    /// A plain-TCP server that will listen on `addr` (`"127.0.0.1:0"` picks a free
    /// port). Nothing is bound until [`Server::run`] or [`Server::spawn`].
    pub fn new(addr: impl Into<String>) -> Server<Plain> {
        Server::with_acceptor(addr, Plain)
    }
}

impl<A: Acceptor> Server<A> {
    /// A server whose connections go through `acceptor` (TLS, for instance).
    pub fn with_acceptor(addr: impl Into<String>, acceptor: A) -> Server<A> {
        Server {
            addr: addr.into(),
            acceptor,
            config: ServerConfig::default(),
            routes: Routes::new(),
        }
    }

    /// Replaces the configuration.
    pub fn with_config(mut self, config: ServerConfig) -> Server<A> {
        self.config = config;
        self
    }

    /// The configuration, to change in place.
    pub fn config_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }

    /// Serves WebSocket connections to `path` with `handler`, on the connection's own
    /// thread, given the stream and the path.
    ///
    /// When the handler returns `Ok`, the connection is closed normally if it is still
    /// open; when it returns an error or panics, it is closed with 1011 (internal
    /// error). Either way only this connection ends.
    pub fn on_connect<F>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(&mut Stream<A::Stream>, &str) -> HandlerResult + Send + Sync + 'static,
    {
        let runner: Runner<A::Stream> = Arc::new(move |mut stream, path| {
            let outcome = catch_unwind(AssertUnwindSafe(|| handler(&mut stream, path)));
            match outcome {
                Ok(Ok(())) => stream.close().ok(),
                _ => stream
                    .close_with(CloseCode::INTERNAL_ERROR, "internal error")
                    .ok(),
            };
        });
        self.add_route(path, runner)
    }

    /// Serves plain HTTP requests (not upgrades) to `path`: a page for people, a
    /// health check.
    pub fn on_http<F>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(&Request<'_>) -> HttpResponse + Send + Sync + 'static,
    {
        self.routes.add_page(path, Arc::new(handler))
    }

    /// Inspects every upgrade request that matches a route before it is accepted: its
    /// path, query, headers, origin and client address. Return [`Accept`] (with a
    /// subprotocol or headers, say a cookie) or a [`Rejection`] with any status.
    pub fn on_upgrade<F>(&mut self, check: F)
    where
        F: Fn(&Request<'_>) -> Result<Accept, Rejection> + Send + Sync + 'static,
    {
        self.routes.set_check(Arc::new(check));
    }

    /// Validates an upgrade request given as a map of lowercase header names to values,
    /// for a path with a route, and returns the `Sec-WebSocket-Accept` value to answer
    /// with: for applications with their own HTTP server (as in estd-websockets).
    ///
    /// A map cannot hold repeated headers; with the raw request, use
    /// [`ws_handshake::UpgradeRequest`] instead.
    pub fn handle_upgrade(
        &self,
        path: &str,
        headers: &HashMap<String, String>,
    ) -> Result<String, Error> {
        if self.routes.route(path).is_none() {
            return Err(Error::NoRoute(path.to_owned()));
        }
        let key = Handshake::parse_upgrade_request(headers)?;
        Ok(Handshake::generate_accept_key(&key)?)
    }

    /// Runs `path`'s route handler on this thread over a connection you upgraded
    /// yourself, and returns when it ends: the last step for applications with their
    /// own HTTP server, after [`Server::handle_upgrade`], the `101` answer, and
    /// [`Stream::from_upgrade`] with the bytes read past the request head.
    ///
    /// The handler's connection ends as under [`Server::run`]: closed normally when it
    /// returns `Ok`, with 1011 when it fails or panics. Nothing is bound, so a server
    /// used only this way never listens; its [`ServerConfig`] does not apply to the
    /// stream, which has the config you gave it. [`Error::NoRoute`] when no route
    /// matches `path`.
    pub fn serve_upgraded(&self, path: &str, stream: Stream<A::Stream>) -> Result<(), Error> {
        let runner = self
            .routes
            .route(path)
            .ok_or_else(|| Error::NoRoute(path.to_owned()))?;
        runner(stream, path);
        Ok(())
    }

    /// Binds and serves on this thread until the listener fails.
    pub fn run(self) -> Result<(), Error> {
        let listener = bind(&self.addr)?;
        let shared = Arc::new(self.into_shared());
        accept_loop(&listener, &shared);
        Ok(())
    }

    /// Binds and serves on a background thread; the handle tells the bound address and
    /// shuts the server down.
    pub fn spawn(self) -> Result<ServerHandle, Error> {
        let listener = bind(&self.addr)?;
        let given = self.addr.clone();
        let bind_error = move |error| Error::Bind { addr: given, error };
        let addr = listener.local_addr().map_err(bind_error.clone())?;
        let shared = Arc::new(self.into_shared());
        let registry = Arc::clone(&shared.registry);
        let close_timeout = shared.config.stream.close_timeout;
        let accept_thread = thread::Builder::new()
            .name("ws-server-accept".into())
            .spawn(move || accept_loop(&listener, &shared))
            .map_err(bind_error)?;
        Ok(ServerHandle {
            addr,
            registry,
            close_timeout,
            accept_thread: Some(accept_thread),
        })
    }

    fn add_route(&mut self, path: &str, runner: Runner<A::Stream>) -> Result<(), Error> {
        self.routes.add_route(path, runner)
    }

    fn into_shared(self) -> Shared<A> {
        Shared {
            acceptor: self.acceptor,
            config: self.config,
            routes: self.routes,
            registry: Arc::new(Registry::default()),
        }
    }
}

impl<A: Acceptor> Server<A>
where
    A::Stream: Split,
{
    /// Like [`Server::on_connect`], with the connection split in two: the handler
    /// reads on its thread while any thread may send through the [`Writer`] (clone it
    /// into a [`Broadcast`](crate::Broadcast) for a chat room).
    pub fn on_connect_split<F>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(&mut Reader<A::Stream>, &Writer<A::Stream>, &str) -> HandlerResult
            + Send
            + Sync
            + 'static,
    {
        let runner: Runner<A::Stream> = Arc::new(move |stream, path| {
            let Ok((mut reader, writer)) = stream.split() else {
                return;
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| handler(&mut reader, &writer, path)));
            match outcome {
                Ok(Ok(())) => writer.close().ok(),
                _ => writer
                    .close_with(CloseCode::INTERNAL_ERROR, "internal error")
                    .ok(),
            };
        });
        self.add_route(path, runner)
    }
}

impl<A: Acceptor> std::fmt::Debug for Server<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("config", &self.config)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

fn bind(addr: &str) -> Result<TcpListener, Error> {
    let bind_error = |error| Error::Bind {
        addr: addr.to_owned(),
        error,
    };
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(bind_error)?.collect();
    TcpListener::bind(&addrs[..]).map_err(bind_error)
}

/// A running server; from [`Server::spawn`].
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    registry: Arc<Registry>,
    close_timeout: Duration,
    accept_thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The number of connections being served (handshakes in progress included).
    pub fn connections(&self) -> usize {
        lock(&self.registry.connections).len()
    }

    /// Stops accepting, closes every open connection with 1001 (going away), and
    /// waits for their threads to end, at most the close timeout (10 s by default):
    /// a handler that ignores its connection's end may outlive the wait.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else {
            return;
        };
        self.registry.stopping.store(true, Ordering::SeqCst);
        // Wake the blocked `accept` with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        TcpStream::connect_timeout(&wake, Duration::from_secs(1)).ok();
        accept_thread.join().ok();
        for connection in lock(&self.registry.connections).values() {
            connection.close.request(CloseCode::GOING_AWAY);
            // Wakes a read blocked on this connection; writing stays possible.
            connection.wake.shutdown(Shutdown::Read).ok();
        }
        let deadline = Instant::now() + self.close_timeout;
        let mut connections = lock(&self.registry.connections);
        while !connections.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            connections = self
                .registry
                .ended
                .wait_timeout(connections, left)
                .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard);
        }
    }
}

impl Drop for ServerHandle {
    /// Dropping the handle shuts the server down.
    fn drop(&mut self) {
        self.stop();
    }
}

/// The open connections, for shutdown and the connection limit.
#[derive(Default)]
struct Registry {
    stopping: AtomicBool,
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Registered>>,
    ended: Condvar,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

struct Registered {
    /// A second handle on the socket, to wake its reader at shutdown.
    wake: TcpStream,
    close: CloseRequest,
}

/// Removes a connection from the registry when its thread ends, however it ends.
struct Registration<'a> {
    registry: &'a Registry,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        lock(&self.registry.connections).remove(&self.id);
        self.registry.ended.notify_all();
    }
}

/// What connection threads share.
struct Shared<A: Acceptor> {
    acceptor: A,
    config: ServerConfig,
    routes: Routes<Runner<A::Stream>>,
    registry: Arc<Registry>,
}

fn accept_loop<A: Acceptor>(listener: &TcpListener, shared: &Arc<Shared<A>>) {
    for tcp in listener.incoming() {
        if shared.registry.stopping.load(Ordering::SeqCst) {
            return;
        }
        match tcp {
            Ok(tcp) => admit(shared, tcp),
            // Out of file descriptors, or a connection reset before accept: neither
            // should stop the server. Pause so that a persistent condition does not spin.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Registers a connection and starts its thread, or refuses it when the server is full.
fn admit<A: Acceptor>(shared: &Arc<Shared<A>>, tcp: TcpStream) {
    let registry = &shared.registry;
    let mut connections = lock(&registry.connections);
    if connections.len() >= shared.config.max_connections {
        drop(connections);
        tcp.set_write_timeout(Some(Duration::from_millis(100))).ok();
        let busy = Rejection::new(503)
            .header("Retry-After", "1")
            .to_bytes()
            .unwrap_or_default();
        send_all(&mut &tcp, &busy).ok();
        // The FIN goes out behind the 503, and what the client sent so far is read so
        // that closing does not reset the connection (see `linger`); without waiting for
        // more, since this is the accept thread.
        tcp.shutdown(Shutdown::Write).ok();
        discard_received(&tcp, shared.config.limits.max_head_len);
        return;
    }
    let Ok(wake) = tcp.try_clone() else {
        return;
    };
    let id = registry.next_id.fetch_add(1, Ordering::Relaxed);
    let close = CloseRequest::new();
    connections.insert(
        id,
        Registered {
            wake,
            close: close.clone(),
        },
    );
    drop(connections);
    let shared = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("ws-server-conn".into())
        .spawn(move || {
            let _registration = Registration {
                registry: &shared.registry,
                id,
            };
            serve(&shared, tcp, close);
        });
    if spawned.is_err() {
        lock(&registry.connections).remove(&id);
    }
}

/// Runs one connection: handshake under a deadline, then the route's handler.
fn serve<A: Acceptor>(shared: &Shared<A>, tcp: TcpStream, close: CloseRequest) {
    let config = &shared.config;
    let peer = tcp.peer_addr().ok();
    tcp.set_nodelay(true).ok();
    tcp.set_read_timeout(Some(config.handshake_timeout)).ok();
    tcp.set_write_timeout(config.write_timeout.or(Some(config.handshake_timeout)))
        .ok();
    let deadline = Instant::now() + config.handshake_timeout;
    // The TCP socket under whatever the acceptor wraps it in, to end refusals with.
    let Ok(control) = tcp.try_clone() else {
        return;
    };
    let Ok(mut socket) = shared.acceptor.accept(tcp) else {
        return;
    };
    let mut before_read = |socket: &mut A::Stream| {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::HandshakeTimeout);
        }
        socket.set_read_timeout(Some(left)).map_err(Error::Io)
    };
    let (head, read_ahead) = match read_request(&mut socket, config.limits, &mut before_read) {
        Ok(request) => request,
        Err(Error::Handshake(error)) => {
            if let Some(rejection) = error.rejection() {
                send_all(&mut socket, &rejection.to_bytes().unwrap_or_default()).ok();
                linger(&control, deadline);
            }
            return;
        }
        Err(_) => return,
    };
    let request = Request::new(&head, peer);
    let (upgrade, response, deflate) = match shared.routes.answer(&request, &head, config) {
        Answer::Upgrade(upgrade, response, deflate) => (upgrade, response, deflate),
        Answer::Refuse(response, _) | Answer::Page(response) => {
            send_all(&mut socket, &response).ok();
            linger(&control, deadline);
            return;
        }
    };
    if send_all(&mut socket, &response).is_err() || socket.set_read_timeout(None).is_err() {
        return;
    }
    // With `write_timeout` at `None`, the handshake timeout bounded the writes above; it
    // must not outlive the handshake, or every later send that waits longer fails.
    if control.set_write_timeout(config.write_timeout).is_err() {
        return;
    }
    drop(control);
    let path = upgrade.path();
    let Some(runner) = shared.routes.route(path) else {
        return;
    };
    let stream_config = config.stream_config(deflate);
    let mut stream = Stream::from_upgrade(socket, Role::Server, stream_config, &read_ahead);
    stream.enable_socket_control();
    stream.set_close_request(close);
    runner(stream, path);
}

/// Ends a refused connection in stages, as RFC 9112 section 9.6 asks. Closing a socket
/// with bytes from the client still unread (the rest of an oversized head, a request
/// body, a request that came after a 503) makes the kernel reset the connection instead
/// of ending it, and a reset can destroy the answer before the client reads it. So:
/// half-close, then read and discard until the client closes its side or the handshake
/// deadline passes.
fn linger(tcp: &TcpStream, deadline: Instant) {
    if tcp.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let mut reader = tcp;
    let mut scratch = [0; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match reader.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Reads and discards up to `max` bytes that have already arrived on `tcp`, without
/// waiting for more: a client flooding a full server cannot hold the accept thread.
fn discard_received(tcp: &TcpStream, max: usize) {
    if tcp.set_nonblocking(true).is_err() {
        return;
    }
    let mut reader = tcp;
    let mut scratch = [0; 2048];
    let mut left = max;
    while left > 0 {
        match reader.read(&mut scratch[..left.min(2048)]) {
            Ok(0) | Err(_) => return,
            Ok(n) => left -= n,
        }
    }
}

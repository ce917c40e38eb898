//! The async server (feature `tokio`): the blocking [`Server`](crate::Server)'s routes,
//! pages, admission check, origin check, limits, graceful shutdown and broadcast, with
//! a tokio task per connection instead of a thread, and handlers that are async
//! closures. The handshake decisions are the blocking server's own (`negotiate`); the
//! protocol is ws-stream's core under [`AsyncStream`].

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use ws_handshake::Rejection;
use ws_stream::{AsyncReader, AsyncStream, AsyncWriter, CloseCode, CloseRequest, Role};

use crate::async_accept::{read_request, send_all};
use crate::handshake::Answer;
use crate::routes::Routes;
use crate::server::Plain;
use crate::sync::lock;
use crate::{Accept, Error, HandlerResult, HttpResponse, Request, ServerConfig};

/// How many connections an [`AsyncServer`] serves at once unless its config says
/// otherwise: an idle connection is a task, a socket and a few hundred bytes, so ten
/// thousand of them fit in tens of MiB. The process needs as many file descriptors
/// (`ulimit -n`, often 1024 by default).
pub const ASYNC_MAX_CONNECTIONS: usize = 10_000;

/// Turns an accepted tokio TCP connection into the stream the WebSocket runs over: the
/// TCP stream itself ([`Plain`]), or a TLS session (ws-tls implements this).
pub trait AsyncAcceptor: Send + Sync + 'static {
    /// The stream handlers read and write.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Wraps a freshly accepted connection. It runs under the handshake timeout, so a
    /// stalled TLS handshake ends in time.
    fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl AsyncAcceptor for Plain {
    type Stream = TcpStream;

    async fn accept(&self, tcp: TcpStream) -> io::Result<TcpStream> {
        Ok(tcp)
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// Runs a connection from its upgrade to its end.
type Runner<S> = Arc<dyn Fn(AsyncStream<S>, String) -> BoxFuture + Send + Sync>;

/// An async WebSocket server on tokio: routes by path, one task per connection.
///
/// ```no_run
/// use ws_server::AsyncServer;
///
/// # #[tokio::main] async fn main() -> Result<(), ws_server::Error> {
/// let mut server = AsyncServer::new("127.0.0.1:8080");
/// server.on_connect("/ws", |mut ws, _path| async move {
///     while let Ok(message) = ws.recv().await {
///         ws.send(&message).await?;
///     }
///     Ok(())
/// })?;
/// server.run().await
/// # }
/// ```
///
/// It differs from the blocking [`Server`](crate::Server) where tasks differ from
/// threads:
///
/// - [`ServerConfig::max_connections`] defaults to [`ASYNC_MAX_CONNECTIONS`] here
///   (10,000) when the server is made with [`AsyncServer::new`].
/// - [`ServerConfig::write_timeout`] runs in each connection's core instead of on a
///   socket: a send waits while the peer does not read (backpressure), and a peer
///   that takes nothing for that long is dropped, its queued bytes with it.
///   [`AsyncBroadcast`](crate::AsyncBroadcast) never waits on a member.
/// - A [`on_connect`](AsyncServer::on_connect) handler owns its connection: close it
///   before returning (a connection dropped open ends its TCP without a Close, which
///   the peer sees as 1006). [`on_connect_split`](AsyncServer::on_connect_split)
///   handlers get the blocking server's guarantee: the server closes the connection
///   when the handler returns, with 1000, or with 1011 when it fails or panics.
pub struct AsyncServer<A: AsyncAcceptor = Plain> {
    addr: String,
    acceptor: A,
    config: ServerConfig,
    routes: Routes<Runner<A::Stream>>,
}

impl AsyncServer<Plain> {
    /// A plain-TCP server that will listen on `addr` (`"127.0.0.1:0"` picks a free
    /// port), with [`ASYNC_MAX_CONNECTIONS`] connections at most. Nothing is bound
    /// until [`AsyncServer::run`] or [`AsyncServer::spawn`].
    pub fn new(addr: impl Into<String>) -> AsyncServer<Plain> {
        AsyncServer::with_acceptor(addr, Plain)
    }
}

impl<A: AsyncAcceptor> AsyncServer<A> {
    /// A server whose connections go through `acceptor` (TLS, for instance).
    pub fn with_acceptor(addr: impl Into<String>, acceptor: A) -> AsyncServer<A> {
        AsyncServer {
            addr: addr.into(),
            acceptor,
            config: ServerConfig::default().max_connections(ASYNC_MAX_CONNECTIONS),
            routes: Routes::new(),
        }
    }

    /// Replaces the configuration, its connection limit included.
    pub fn with_config(mut self, config: ServerConfig) -> AsyncServer<A> {
        self.config = config;
        self
    }

    /// The configuration, to change in place.
    pub fn config_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }

    /// Serves WebSocket connections to `path` with `handler`, an async closure given
    /// the connection and the path, in the connection's own task.
    ///
    /// The handler owns the connection: close it before returning. A handler that
    /// fails or panics ends only its own task and connection.
    pub fn on_connect<F, Fut>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(AsyncStream<A::Stream>, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let runner: Runner<A::Stream> = Arc::new(move |ws, path| {
            let handled = handler(ws, path);
            Box::pin(async move {
                // Its error has nowhere to go: the connection it concerned is gone.
                let _ = CatchUnwind(Box::pin(handled)).await;
            })
        });
        self.add_route(path, runner)
    }

    /// Like [`AsyncServer::on_connect`], with the connection split in two: the handler
    /// receives with the [`AsyncReader`] while any task may send through the
    /// [`AsyncWriter`] (clone it into an [`AsyncBroadcast`](crate::AsyncBroadcast) for
    /// a chat room).
    ///
    /// When the handler returns `Ok`, the connection is closed normally if it is still
    /// open; when it returns an error or panics, it is closed with 1011 (internal
    /// error). Either way only this connection ends.
    pub fn on_connect_split<F, Fut>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(AsyncReader<A::Stream>, AsyncWriter<A::Stream>, String) -> Fut
            + Send
            + Sync
            + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let runner: Runner<A::Stream> = Arc::new(move |ws, path| {
            let (reader, writer) = ws.split();
            let handled = handler(reader, writer.clone(), path);
            Box::pin(async move {
                match CatchUnwind(Box::pin(handled)).await {
                    Some(Ok(())) => writer.close().await.ok(),
                    _ => writer
                        .close_with(CloseCode::INTERNAL_ERROR, "internal error")
                        .await
                        .ok(),
                };
            })
        });
        self.add_route(path, runner)
    }

    /// Serves plain HTTP requests (not upgrades) to `path`: a page for people, a
    /// health check. See [`Server::on_http`](crate::Server::on_http).
    pub fn on_http<F>(&mut self, path: &str, handler: F) -> Result<(), Error>
    where
        F: Fn(&Request<'_>) -> HttpResponse + Send + Sync + 'static,
    {
        self.routes.add_page(path, Arc::new(handler))
    }

    /// Inspects every upgrade request that matches a route before it is accepted; see
    /// [`Server::on_upgrade`](crate::Server::on_upgrade). It runs on the connection's
    /// task and must not block.
    pub fn on_upgrade<F>(&mut self, check: F)
    where
        F: Fn(&Request<'_>) -> Result<Accept, Rejection> + Send + Sync + 'static,
    {
        self.routes.set_check(Arc::new(check));
    }

    /// Binds and serves on this task until the listener fails.
    pub async fn run(self) -> Result<(), Error> {
        let listener = self.bind().await?;
        let shared = Arc::new(self.into_shared());
        accept_loop(listener, shared).await;
        Ok(())
    }

    /// Binds and serves on a task of its own; the handle tells the bound address and
    /// shuts the server down.
    pub async fn spawn(self) -> Result<AsyncServerHandle, Error> {
        let listener = self.bind().await?;
        let addr = listener.local_addr().map_err(|error| Error::Bind {
            addr: self.addr.clone(),
            error,
        })?;
        let shared = Arc::new(self.into_shared());
        let registry = Arc::clone(&shared.registry);
        let close_timeout = shared.config.stream.close_timeout;
        tokio::spawn(accept_loop(listener, shared));
        Ok(AsyncServerHandle {
            addr,
            registry,
            close_timeout,
        })
    }

    async fn bind(&self) -> Result<TcpListener, Error> {
        TcpListener::bind(&self.addr)
            .await
            .map_err(|error| Error::Bind {
                addr: self.addr.clone(),
                error,
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

impl<A: AsyncAcceptor> std::fmt::Debug for AsyncServer<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncServer")
            .field("addr", &self.addr)
            .field("config", &self.config)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

/// A running async server; from [`AsyncServer::spawn`].
///
/// Dropping it stops the server as [`AsyncServerHandle::shutdown`] does, without
/// waiting for the connections to end.
#[derive(Debug)]
pub struct AsyncServerHandle {
    addr: SocketAddr,
    registry: Arc<Registry>,
    close_timeout: Duration,
}

impl AsyncServerHandle {
    /// The address the server listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The number of connections being served (handshakes in progress included).
    pub fn connections(&self) -> usize {
        lock(&self.registry.connections).len()
    }

    /// Stops accepting, closes every open connection with 1001 (going away), and
    /// waits for them to end, at most the close timeout (10 s by default); the tasks of
    /// connections still open then are aborted, which drops their sockets.
    pub async fn shutdown(self) {
        self.registry.stop();
        let deadline = Instant::now() + self.close_timeout;
        loop {
            let ended = self.registry.ended.notified();
            let mut ended = pin!(ended);
            // Registered before the count is read, so an end in between is not missed.
            ended.as_mut().enable();
            if lock(&self.registry.connections).is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                break;
            }
        }
        for connection in lock(&self.registry.connections).values() {
            if let Some(task) = &connection.task {
                task.abort();
            }
        }
    }
}

impl Drop for AsyncServerHandle {
    fn drop(&mut self) {
        self.registry.stop();
    }
}

/// The open connections, for shutdown and the connection limit.
#[derive(Debug, Default)]
struct Registry {
    stopping: AtomicBool,
    /// Wakes the accept loop when the server stops.
    stop: Notify,
    /// Signalled each time a connection ends.
    ended: Notify,
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Registered>>,
}

impl Registry {
    /// Stops accepting and asks every connection to close with 1001.
    fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_one();
        for connection in lock(&self.connections).values() {
            connection.close.request(CloseCode::GOING_AWAY);
        }
    }
}

#[derive(Debug)]
struct Registered {
    close: CloseRequest,
    /// Set once the task is spawned; to abort it when shutdown runs out of time.
    task: Option<AbortHandle>,
}

/// Removes a connection from the registry when its task ends, however it ends
/// (finished, panicked or aborted).
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.registry.connections).remove(&self.id);
        self.registry.ended.notify_waiters();
    }
}

/// What connection tasks share.
struct Shared<A: AsyncAcceptor> {
    acceptor: A,
    config: ServerConfig,
    routes: Routes<Runner<A::Stream>>,
    registry: Arc<Registry>,
}

async fn accept_loop<A: AsyncAcceptor>(listener: TcpListener, shared: Arc<Shared<A>>) {
    let stopped = shared.registry.stop.notified();
    let mut stopped = pin!(stopped);
    loop {
        if shared.registry.stopping.load(Ordering::SeqCst) {
            return;
        }
        let accepted = poll_fn(|cx| {
            if stopped.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((tcp, peer))) => admit(&shared, tcp, peer),
            // Out of file descriptors, or a connection reset before accept: neither
            // should stop the server. Pause so that a persistent condition does not spin.
            Some(Err(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Registers a connection and starts its task, or refuses it when the server is full.
fn admit<A: AsyncAcceptor>(shared: &Arc<Shared<A>>, tcp: TcpStream, peer: SocketAddr) {
    let registry = &shared.registry;
    let mut connections = lock(&registry.connections);
    if connections.len() >= shared.config.max_connections {
        drop(connections);
        refuse_busy(tcp, shared.config.limits.max_head_len);
        return;
    }
    let id = registry.next_id.fetch_add(1, Ordering::Relaxed);
    let close = CloseRequest::new();
    connections.insert(
        id,
        Registered {
            close: close.clone(),
            task: None,
        },
    );
    drop(connections);
    let registration = Registration {
        registry: Arc::clone(registry),
        id,
    };
    let task = tokio::spawn(serve(Arc::clone(shared), tcp, peer, close, registration));
    // The task may have ended already and taken its entry with it.
    if let Some(registered) = lock(&registry.connections).get_mut(&id) {
        registered.task = Some(task.abort_handle());
    }
}

/// Answers 503 without a task: what fits in the socket buffer now, then the FIN, and
/// what the client sent so far is read so that closing does not reset the connection;
/// without waiting for more, since this is the accept loop.
fn refuse_busy(tcp: TcpStream, max_discard: usize) {
    let busy = Rejection::new(503)
        .header("Retry-After", "1")
        .to_bytes()
        .unwrap_or_default();
    tcp.try_write(&busy).ok();
    if let Ok(tcp) = tcp.into_std() {
        tcp.shutdown(std::net::Shutdown::Write).ok();
        let mut scratch = [0; 2048];
        let mut left = max_discard;
        while left > 0 {
            match io::Read::read(&mut &tcp, &mut scratch[..left.min(2048)]) {
                Ok(0) | Err(_) => return,
                Ok(n) => left -= n,
            }
        }
    }
}

/// Runs one connection: handshake under a deadline, then the route's handler.
async fn serve<A: AsyncAcceptor>(
    shared: Arc<Shared<A>>,
    tcp: TcpStream,
    peer: SocketAddr,
    close: CloseRequest,
    _registration: Registration,
) {
    let config = &shared.config;
    tcp.set_nodelay(true).ok();
    let deadline = Instant::now() + config.handshake_timeout;
    // Scoped so that the handshake's state is not kept beside the handler's.
    let upgraded = {
        let handshake = tokio::time::timeout_at(deadline, handshake(&shared, tcp, peer));
        let mut handshake = pin!(handshake);
        // A shutdown ends handshakes and lingering refusals at once: none has a
        // connection to close with 1001 yet.
        poll_fn(|cx| {
            close.register(cx.waker());
            if close.requested().is_some() {
                return Poll::Ready(None);
            }
            handshake.as_mut().poll(cx).map(|done| done.ok().flatten())
        })
        .await
    };
    let Some((socket, path, stream_config, read_ahead)) = upgraded else {
        return;
    };
    let Some(runner) = shared.routes.route(&path) else {
        return;
    };
    let mut ws = AsyncStream::from_upgrade(socket, Role::Server, stream_config, &read_ahead);
    ws.set_close_request(close);
    runner(ws, path).await;
}

/// What a handshake that ends in an upgrade leaves: the stream, the route's path, the
/// connection's config and the bytes read past the head.
type Upgraded<S> = (S, String, ws_stream::Config, Vec<u8>);

/// The acceptor, the request head, the decision and the answer; `None` when the
/// connection was refused or failed (a refusal is answered here).
async fn handshake<A: AsyncAcceptor>(
    shared: &Shared<A>,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<Upgraded<A::Stream>> {
    let config = &shared.config;
    let mut socket = shared.acceptor.accept(tcp).await.ok()?;
    let (head, read_ahead) = match read_request(&mut socket, config).await {
        Ok(request) => request,
        Err(Error::Handshake(error)) => {
            if let Some(rejection) = error.rejection() {
                send_all(&mut socket, &rejection.to_bytes().unwrap_or_default())
                    .await
                    .ok();
                linger(&mut socket).await;
            }
            return None;
        }
        Err(_) => return None,
    };
    // Decided in one call, with no await inside: the callbacks are not `Send`.
    let answer = shared
        .routes
        .answer(&Request::new(&head, Some(peer)), &head, config);
    match answer {
        Answer::Upgrade(upgrade, response, deflate) => {
            send_all(&mut socket, &response).await.ok()?;
            let path = upgrade.path().to_owned();
            Some((socket, path, config.stream_config(deflate), read_ahead))
        }
        Answer::Refuse(response, _) | Answer::Page(response) => {
            send_all(&mut socket, &response).await.ok();
            linger(&mut socket).await;
            None
        }
    }
}

/// Ends a refused connection in stages (RFC 9112 section 9.6), as the blocking server
/// does: half-close, then read and discard until the client closes its side; the
/// handshake deadline around the caller bounds the wait.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(socket: &mut S) {
    if socket.shutdown().await.is_err() {
        return;
    }
    let mut scratch = [0; 2048];
    while let Ok(n) = socket.read(&mut scratch).await {
        if n == 0 {
            return;
        }
    }
}

/// A handler's future with its panic caught: `None` when it panicked. A panic in a
/// task would end only that task anyway; catching it lets the split route close the
/// connection with 1011 as the blocking server does.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Some(output)),
            Err(_) => Poll::Ready(None),
        }
    }
}

//! The server's side of the opening handshake: read the head, decide, answer.

use std::io::{self, Read, Write};

use ws_handshake::{
    AcceptResponse, DeflateParams, Limits, Rejection, RequestParser, UpgradeRequest, collect_head,
};
use ws_stream::{Role, Stream};

use crate::request::split_target;
use crate::{Accept, Error, HttpResponse, Request, ServerConfig};

/// What the server answers a request with.
pub(crate) enum Answer {
    /// Accept: the upgrade, the 101 to send, and the permessage-deflate it agreed.
    Upgrade(UpgradeRequest, Vec<u8>, Option<DeflateParams>),
    /// Refuse with this response, for this reason.
    Refuse(Vec<u8>, Error),
    /// A plain HTTP page.
    Page(Vec<u8>),
}

/// The application's admission check; see [`Server::on_upgrade`](crate::Server::on_upgrade).
pub(crate) type CheckFn = dyn Fn(&Request<'_>) -> Result<Accept, Rejection> + Send + Sync;

/// The application's say in a handshake.
pub(crate) struct Callbacks<'a> {
    pub(crate) has_route: &'a dyn Fn(&str) -> bool,
    pub(crate) page: &'a dyn Fn(&Request<'_>) -> Option<HttpResponse>,
    pub(crate) check: Option<&'a CheckFn>,
}

/// Reads a request head; `before_read` runs before every read (to enforce a deadline).
/// Returns the head and the bytes that came after it.
pub(crate) fn read_request<S: Read>(
    socket: &mut S,
    limits: Limits,
    before_read: &mut dyn FnMut(&mut S) -> Result<(), Error>,
) -> Result<(ws_handshake::Request, Vec<u8>), Error> {
    let mut parser = RequestParser::new(limits);
    let read = |chunk: &mut [u8]| loop {
        before_read(socket)?;
        match socket.read(chunk) {
            Ok(n) => return Ok(n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::HandshakeTimeout);
            }
            Err(error) => return Err(Error::Io(error)),
        }
    };
    collect_head(|received| parser.parse(received), read)?.ok_or(Error::ClosedDuringHandshake)
}

/// Decides how to answer `request`, in the order a client learns most from: not an
/// upgrade, a broken handshake, no route, a foreign origin, the application's check.
pub(crate) fn negotiate(
    request: &Request<'_>,
    head: &ws_handshake::Request,
    config: &ServerConfig,
    callbacks: &Callbacks<'_>,
) -> Answer {
    let path = request.path();
    if !request.is_upgrade() {
        if let Some(page) = (callbacks.page)(request) {
            return match page.to_bytes() {
                Some(bytes) => Answer::Page(bytes),
                None => refuse(Rejection::new(500), Error::Rejected(500)),
            };
        }
        if (callbacks.has_route)(path) {
            let rejection =
                Rejection::upgrade_required().body("this endpoint speaks WebSocket only\n");
            return refuse(rejection, Error::Rejected(426));
        }
        return refuse(Rejection::new(404), Error::NoRoute(path.to_owned()));
    }
    let upgrade = match UpgradeRequest::from_request(head) {
        Ok(upgrade) => upgrade,
        Err(error) => {
            let rejection = error.rejection().unwrap_or_else(|| Rejection::new(400));
            return refuse(rejection, Error::Handshake(error));
        }
    };
    if !(callbacks.has_route)(path) {
        return refuse(Rejection::new(404), Error::NoRoute(path.to_owned()));
    }
    if let Some(allowed) = &config.allowed_origins
        && let Some(origin) = request.header("origin")
        && !allowed
            .iter()
            .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin))
    {
        return refuse(
            Rejection::new(403).body("origin not allowed\n"),
            Error::Rejected(403),
        );
    }
    let deflate = config
        .deflate
        .as_ref()
        .and_then(|policy| upgrade.negotiate_deflate(policy));
    let request = request.with_deflate(deflate);
    let accept = match callbacks.check.map(|check| check(&request)) {
        Some(Err(rejection)) => {
            let status = rejection.status();
            return refuse(rejection, Error::Rejected(status));
        }
        Some(Ok(accept)) => accept,
        None => Accept::new(),
    };
    let configured: Vec<&str> = config.protocols.iter().map(String::as_str).collect();
    let protocol = accept
        .protocol
        .or_else(|| upgrade.choose_protocol(&configured).map(str::to_owned));
    let deflate = deflate.filter(|_| !accept.no_compression);
    let mut response = AcceptResponse::new(&upgrade).deflate(deflate);
    if let Some(protocol) = protocol {
        response = response.protocol(protocol);
    }
    for (name, value) in accept.headers {
        response = response.header(name, value);
    }
    match response.to_bytes() {
        Ok(bytes) => Answer::Upgrade(upgrade, bytes, deflate),
        Err(error) => refuse(Rejection::new(500), Error::Handshake(error)),
    }
}

fn refuse(rejection: Rejection, reason: Error) -> Answer {
    // Statuses built here are all valid, so `to_bytes` cannot fail on them.
    Answer::Refuse(rejection.to_bytes().unwrap_or_default(), reason)
}

/// Accepts a WebSocket handshake on a stream you already hold, as `tungstenite::accept`
/// does: reads the request, answers 101 (or the right refusal), and returns the
/// connection. Any path is accepted.
///
/// It sets no timeout: on a socket, set a read timeout first, or use
/// [`Server`](crate::Server), which does.
///
/// ```no_run
/// use std::net::TcpListener;
///
/// let listener = TcpListener::bind("127.0.0.1:9001")?;
/// for tcp in listener.incoming() {
///     let mut socket = ws_server::accept(tcp?)?;
///     let message = socket.read_message()?;
///     socket.send(&message)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn accept<S: Read + Write>(socket: S) -> Result<Stream<S>, Error> {
    accept_with(socket, &ServerConfig::default()).map(|(stream, _)| stream)
}

/// Like [`accept`], with a config (origins, subprotocols, limits, stream settings);
/// also returns the request, for its path, headers and chosen protocol.
pub fn accept_with<S: Read + Write>(
    mut socket: S,
    config: &ServerConfig,
) -> Result<(Stream<S>, UpgradeRequest), Error> {
    let (head, read_ahead) = match read_request(&mut socket, config.limits, &mut |_| Ok(())) {
        Ok(request) => request,
        Err(error) => {
            if let Error::Handshake(error) = &error
                && let Some(rejection) = error.rejection()
            {
                send_all(&mut socket, &rejection.to_bytes().unwrap_or_default()).ok();
            }
            return Err(error);
        }
    };
    let request = Request::new(&head, None);
    let callbacks = Callbacks {
        has_route: &|_| true,
        page: &|_| None,
        check: None,
    };
    match negotiate(&request, &head, config, &callbacks) {
        Answer::Upgrade(upgrade, response, deflate) => {
            send_all(&mut socket, &response).map_err(Error::Io)?;
            let stream_config = config.stream_config(deflate);
            let stream = Stream::from_upgrade(socket, Role::Server, stream_config, &read_ahead);
            Ok((stream, upgrade))
        }
        Answer::Refuse(response, reason) => {
            send_all(&mut socket, &response).ok();
            Err(reason)
        }
        Answer::Page(response) => {
            send_all(&mut socket, &response).ok();
            Err(Error::NoRoute(split_target(head.target()).0.to_owned()))
        }
    }
}

pub(crate) fn send_all(socket: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    socket.write_all(bytes)?;
    socket.flush()
}

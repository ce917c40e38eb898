use std::{fmt, io};

/// Why the server could not start, or why accepting a connection failed.
///
/// Each message names its cause on one line, a wrapped error's text included:
/// `cannot listen on 127.0.0.1:8080: Address already in use (os error 98)`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The listening address could not be resolved or bound.
    Bind {
        /// The address, as given.
        addr: String,
        /// Why it could not be bound (in use, not permitted, not resolved).
        error: io::Error,
    },
    /// A route's path does not start with `/` (the path given).
    InvalidPath(String),
    /// A route for this path already exists (the path given).
    DuplicatePath(String),
    /// No route matches the request's path (the path asked for); answered with 404.
    NoRoute(String),
    /// The client's request is not a valid WebSocket handshake; answered with the
    /// status the handshake error names (400, 426 or 431).
    Handshake(ws_handshake::Error),
    /// The request was refused with this status: a disallowed `Origin` (403), or the
    /// application's own check.
    Rejected(u16),
    /// The client did not finish its handshake within the handshake timeout.
    HandshakeTimeout,
    /// The client closed the connection before finishing its handshake.
    ClosedDuringHandshake,
    /// Reading or writing the handshake failed.
    Io(io::Error),
    /// The application's subscribe hook refused this topic (the topic's name).
    SubscribeRefused(String),
    /// A subscriber asked for more topics than [`TopicLimits::max_topics`] allows, which
    /// it carries.
    ///
    /// [`TopicLimits::max_topics`]: crate::TopicLimits::max_topics
    TooManyTopics {
        /// The limit per subscriber.
        max: usize,
    },
    /// A topic name is empty or longer than [`TopicLimits::max_name`], which it carries.
    ///
    /// [`TopicLimits::max_name`]: crate::TopicLimits::max_name
    InvalidTopicName {
        /// The longest name allowed, in bytes.
        max: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
            Error::InvalidPath(path) => write!(f, "route path {path:?} does not start with '/'"),
            Error::DuplicatePath(path) => write!(f, "a route for {path:?} exists already"),
            Error::NoRoute(path) => write!(f, "no route for {path:?}"),
            Error::Handshake(error) => write!(f, "invalid websocket handshake: {error}"),
            Error::Rejected(status) => write!(f, "request rejected with status {status}"),
            Error::HandshakeTimeout => f.write_str("client did not finish its handshake in time"),
            Error::ClosedDuringHandshake => {
                f.write_str("client closed the connection during the handshake")
            }
            Error::Io(error) => write!(f, "handshake i/o failed: {error}"),
            Error::SubscribeRefused(topic) => write!(f, "subscription to {topic:?} refused"),
            Error::TooManyTopics { max } => {
                write!(f, "subscriber reached its limit of {max} topics")
            }
            Error::InvalidTopicName { max } => {
                write!(f, "topic name is empty or longer than {max} bytes")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { error, .. } | Error::Io(error) => Some(error),
            Error::Handshake(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ws_handshake::Error> for Error {
    fn from(error: ws_handshake::Error) -> Error {
        Error::Handshake(error)
    }
}

/// What a connection handler returns: any error ends the connection with 1011.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

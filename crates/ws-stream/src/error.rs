use std::{fmt, io};

use ws_frame::CloseCode;

/// How a connection ended, or how the peer asked to end it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    /// The code the peer sent; [`CloseCode::NO_STATUS_RECEIVED`] (1005) if its Close had
    /// no body, [`CloseCode::ABNORMAL`] (1006) if the stream ended without a Close.
    pub code: CloseCode,
    /// The reason the peer gave, often empty.
    pub reason: String,
}

impl CloseFrame {
    /// A close with `code` and `reason`.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> CloseFrame {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }

    /// Whether the connection ended in an orderly way: the peer closed normally
    /// (1000), because it is going away (1001), or without giving a code (1005).
    pub fn is_normal(&self) -> bool {
        matches!(
            self.code,
            CloseCode::NORMAL | CloseCode::GOING_AWAY | CloseCode::NO_STATUS_RECEIVED
        )
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.reason)
        }
    }
}

/// Why an operation on a connection failed, or that the connection has ended.
///
/// Three families: the connection ended ([`Error::Closed`], [`Error::AlreadyClosed`]),
/// the peer broke the protocol (each such variant knows the close code that was sent
/// for it, see [`Error::close_code`]), and the caller misused the API
/// ([`Error::InvalidSend`], [`Error::MessageInProgress`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection has ended: the peer closed it (its code and reason), the
    /// stream ended without a Close frame (code 1006), or a
    /// [`CloseRequest`](crate::CloseRequest) closed it (its code). Not a failure when
    /// the code is normal; see [`Error::is_closed`].
    Closed(CloseFrame),
    /// The connection ended earlier; nothing more can be read or sent.
    AlreadyClosed,
    /// The underlying stream failed. `WouldBlock` and `Interrupted` leave the
    /// connection intact: call again to carry on where it stopped.
    Io(io::Error),
    /// The peer sent a frame the codec rejects (close code given by the frame error).
    Frame(ws_frame::Error),
    /// The peer sent a continuation frame with no message in progress (1002).
    UnexpectedContinuation,
    /// The peer began a new message before finishing the last one (1002).
    UnfinishedMessage,
    /// A text message (or a part of one) is not valid UTF-8 (1007).
    InvalidUtf8,
    /// A message grew past the configured limit, which it carries (1009).
    MessageTooLarge {
        /// The configured `max_message_size`.
        max: usize,
    },
    /// The peer set RSV1 (the permessage-deflate bit) on a control frame or a
    /// continuation frame, where RFC 7692 allows it on a message's first frame only (1002).
    UnexpectedRsv1,
    /// A compressed message from the peer is not a valid deflate stream (1007).
    InvalidDeflateData,
    /// The compressor or decompressor failed in a way the protocol does not explain (1011).
    CompressionFailed,
    /// The peer stayed silent past the keep-alive timeout; the connection was closed (1011).
    KeepaliveTimeout,
    /// The peer did not finish the close handshake within the close timeout.
    CloseTimeout,
    /// The peer took none of our bytes within the write timeout: it stopped reading,
    /// and the connection was dropped without a Close.
    WriteTimeout,
    /// Bytes waiting to be written reached the configured bound, which it carries.
    WriteBufferFull {
        /// The configured `max_write_buffer`.
        max: usize,
    },
    /// The caller asked to send a frame that breaks the protocol (a ping over 125
    /// bytes, an unsendable close code, a close reason over 123 bytes).
    InvalidSend(ws_frame::Error),
    /// The caller asked to send text that is not valid UTF-8.
    InvalidText,
    /// The caller wrote message data without starting a message.
    NoMessageStarted,
    /// The caller tried to send a message while one sent in pieces is unfinished,
    /// or read one while a message reader is unfinished.
    MessageInProgress,
}

impl Error {
    /// The close code sent to the peer because of this error, if any.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Error::Frame(error) => Some(error.close_code()),
            Error::UnexpectedContinuation | Error::UnfinishedMessage => {
                Some(CloseCode::PROTOCOL_ERROR)
            }
            Error::InvalidUtf8 | Error::InvalidDeflateData => Some(CloseCode::INVALID_PAYLOAD),
            Error::UnexpectedRsv1 => Some(CloseCode::PROTOCOL_ERROR),
            Error::CompressionFailed => Some(CloseCode::INTERNAL_ERROR),
            Error::MessageTooLarge { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            Error::KeepaliveTimeout => Some(CloseCode::INTERNAL_ERROR),
            _ => None,
        }
    }

    /// Whether this says the connection ended in an orderly way: the peer closed with
    /// 1000, 1001 or no code (1005), or it ended earlier.
    pub fn is_closed(&self) -> bool {
        match self {
            Error::Closed(frame) => frame.is_normal(),
            Error::AlreadyClosed => true,
            _ => false,
        }
    }

    /// Whether the stream would block: retry once it is ready, nothing is lost.
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::Io(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed(frame) => write!(f, "connection closed with {frame}"),
            Error::AlreadyClosed => f.write_str("connection already closed"),
            Error::Io(error) => write!(f, "connection i/o failed: {error}"),
            Error::Frame(error) => write!(f, "invalid frame from the peer: {error}"),
            Error::UnexpectedContinuation => f.write_str("continuation frame without a message"),
            Error::UnfinishedMessage => f.write_str("new message before the last one finished"),
            Error::InvalidUtf8 => f.write_str("text message is not valid utf-8"),
            Error::MessageTooLarge { max } => write!(f, "message exceeds the limit of {max} bytes"),
            Error::UnexpectedRsv1 => f.write_str("rsv1 set on a control or continuation frame"),
            Error::InvalidDeflateData => {
                f.write_str("compressed message is not a valid deflate stream")
            }
            Error::CompressionFailed => f.write_str("the deflate backend failed"),
            Error::KeepaliveTimeout => f.write_str("peer silent past the keep-alive timeout"),
            Error::WriteTimeout => {
                f.write_str("peer stopped reading: nothing written within the write timeout")
            }
            Error::CloseTimeout => f.write_str("peer did not finish the close handshake in time"),
            Error::WriteBufferFull { max } => {
                write!(f, "write buffer reached its limit of {max} bytes")
            }
            Error::InvalidSend(error) => write!(f, "refused to send an invalid frame: {error}"),
            Error::InvalidText => f.write_str("text to send is not valid utf-8"),
            Error::NoMessageStarted => {
                f.write_str("message data written before a message was started")
            }
            Error::MessageInProgress => f.write_str("another message is in progress"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(error) => Some(error),
            Error::Frame(error) | Error::InvalidSend(error) => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        Error::Io(error)
    }
}

impl From<ws_frame::Error> for Error {
    /// A frame error from decoding is the peer's violation.
    fn from(error: ws_frame::Error) -> Error {
        Error::Frame(error)
    }
}

/// A specialised `Result` for connection operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 40);
    }
}

use std::fmt;

/// A WebSocket message: UTF-8 text or binary data, whole.
///
/// Control frames (ping, pong, close) are not messages: the connection answers pings
/// itself, and [`Stream::read_event`](crate::Stream::read_event) reports all three.
/// The enum is exhaustive on purpose (RFC 6455 defines exactly these two kinds), so a
/// `match` with two arms, as in the estd-websockets examples, stays valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message; the connection has checked it is UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// Whether a message is text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Vec<u8>>) -> Message {
        Message::Binary(data.into())
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The bytes, if this is a binary message.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Message::Binary(data) => Some(data),
            Message::Text(_) => None,
        }
    }

    /// The payload as bytes, whatever the kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// Takes the payload as bytes, whatever the kind.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) => data,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(data)
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Message {
        Message::Binary(data.to_vec())
    }
}

impl fmt::Display for Message {
    /// Text as is; binary as its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => f.write_str(text),
            Message::Binary(data) => write!(f, "<{} bytes of binary data>", data.len()),
        }
    }
}

/// `bytes` in `buffer` (cleared first) if it has the room, else in a new vector of
/// exactly their size: a kept buffer saves the allocation, and without one this is
/// `to_vec`'s single allocation rather than a growing vector's.
// Inlined for the reason `Receiver::poll_step` is: one copy of the vector less.
#[inline(always)]
pub(crate) fn copied_into(bytes: &[u8], mut buffer: Vec<u8>) -> Vec<u8> {
    if buffer.capacity() < bytes.len() {
        return bytes.to_vec();
    }
    buffer.clear();
    buffer.extend_from_slice(bytes);
    buffer
}

/// `buffer` emptied, with room for at least `capacity` bytes.
pub(crate) fn emptied_with_room(mut buffer: Vec<u8>, capacity: usize) -> Vec<u8> {
    buffer.clear();
    buffer.reserve(capacity);
    buffer
}

use tokio::io::{AsyncRead, AsyncWrite};
use ws_stream::{AsyncWriter, Message, PreparedMessage};

use crate::Member;
use crate::broadcast::Members;

/// A set of async connections that receive the same messages: a chat room, a pub/sub
/// topic; the async counterpart of [`Broadcast`](crate::Broadcast).
///
/// Each message is encoded once ([`PreparedMessage`]) and queued on every member
/// without waiting ([`AsyncWriter::try_send_prepared`]), so one member that stopped
/// reading never holds up the others or the sender. A member whose write buffer
/// cannot take the message (its peer reads slower than the room talks:
/// [`ws_stream::Config::max_write_buffer`] bytes are waiting) or whose connection has
/// ended is dropped from the set, and misses what follows.
///
/// ```no_run
/// use std::sync::Arc;
/// use ws_server::{AsyncBroadcast, AsyncServer};
///
/// # #[tokio::main] async fn main() -> Result<(), ws_server::Error> {
/// let room = Arc::new(AsyncBroadcast::new());
/// let mut server = AsyncServer::new("127.0.0.1:8080");
/// server.on_connect_split("/chat", move |mut reader, writer, _path| {
///     let room = Arc::clone(&room);
///     async move {
///         let member = room.join(writer);
///         while let Ok(message) = reader.recv().await {
///             room.send(&message);
///         }
///         room.leave(member);
///         Ok(())
///     }
/// })?;
/// server.run().await
/// # }
/// ```
pub struct AsyncBroadcast<S> {
    members: Members<AsyncWriter<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncBroadcast<S> {
    /// An empty set.
    pub fn new() -> AsyncBroadcast<S> {
        AsyncBroadcast {
            members: Members::new(),
        }
    }

    /// Adds a connection's writer.
    pub fn join(&self, writer: AsyncWriter<S>) -> Member {
        self.members.join(writer)
    }

    /// Removes a member.
    pub fn leave(&self, member: Member) {
        self.members.leave(member);
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.members.len() == 0
    }

    /// Queues `message` on every member and returns how many took it.
    pub fn send(&self, message: &Message) -> usize {
        self.send_prepared(&PreparedMessage::new(message))
    }

    /// Queues a message already prepared on every member; returns how many took it.
    /// Members that could not are dropped from the set.
    pub fn send_prepared(&self, message: &PreparedMessage) -> usize {
        let mut members = self.members.lock();
        // Queueing never waits, so the lock is held only for copies into buffers.
        members.retain(|(_, writer)| writer.try_send_prepared(message).is_ok());
        members.len()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Default for AsyncBroadcast<S> {
    fn default() -> Self {
        AsyncBroadcast::new()
    }
}

impl<S> std::fmt::Debug for AsyncBroadcast<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncBroadcast")
            .field("members", &self.members.len())
            .finish()
    }
}

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use ws_stream::{Message, PreparedMessage, Split, Writer};

use crate::sync::lock;

/// A set of connections that receive the same messages: a chat room, a pub/sub topic.
///
/// Each message is encoded once ([`PreparedMessage`]) and its bytes copied to every
/// member. Members whose connection fails are dropped from the set. Sending happens
/// outside the set's lock, one member after another; the server's write timeout
/// bounds how long a member that stopped reading can hold a broadcast up.
///
/// ```no_run
/// use std::sync::Arc;
/// use ws_server::{Broadcast, Server};
///
/// let room = Arc::new(Broadcast::new());
/// let mut server = Server::new("127.0.0.1:8080");
/// server.on_connect_split("/chat", move |reader, writer, _path| {
///     let member = room.join(writer.clone());
///     while let Ok(message) = reader.read_message() {
///         room.send(&message);
///     }
///     room.leave(member);
///     Ok(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Broadcast<S: Split> {
    members: Members<Writer<S>>,
}

/// The members of a broadcast, blocking or async: each one's ticket and writer.
pub(crate) struct Members<W> {
    list: Mutex<Vec<(Member, W)>>,
    next_id: AtomicU64,
}

impl<W> Members<W> {
    pub(crate) fn new() -> Members<W> {
        Members {
            list: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        }
    }

    pub(crate) fn join(&self, writer: W) -> Member {
        let member = Member(self.next_id.fetch_add(1, Ordering::Relaxed));
        lock(&self.list).push((member, writer));
        member
    }

    pub(crate) fn leave(&self, member: Member) {
        lock(&self.list).retain(|(id, _)| *id != member);
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.list).len()
    }

    /// The list itself, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<(Member, W)>> {
        lock(&self.list)
    }
}

/// A member's ticket, to [leave](Broadcast::leave) with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Member(u64);

impl<S: Split> Broadcast<S> {
    /// An empty set.
    pub fn new() -> Broadcast<S> {
        Broadcast {
            members: Members::new(),
        }
    }

    /// Adds a connection's writer.
    pub fn join(&self, writer: Writer<S>) -> Member {
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

    /// Sends `message` to every member and returns how many it reached.
    pub fn send(&self, message: &Message) -> usize {
        self.send_prepared(&PreparedMessage::new(message))
    }

    /// Sends a message already prepared to every member; returns how many it reached.
    pub fn send_prepared(&self, message: &PreparedMessage) -> usize {
        let members: Vec<(Member, Writer<S>)> = self.members.lock().clone();
        let mut failed = Vec::new();
        for (member, writer) in &members {
            if writer.send_prepared(message).is_err() {
                failed.push(*member);
            }
        }
        if !failed.is_empty() {
            self.members
                .lock()
                .retain(|(member, _)| !failed.contains(member));
        }
        members.len() - failed.len()
    }
}

impl<S: Split> Default for Broadcast<S> {
    fn default() -> Self {
        Broadcast::new()
    }
}

impl<S: Split> std::fmt::Debug for Broadcast<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcast")
            .field("members", &self.len())
            .finish()
    }
}

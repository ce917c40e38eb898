use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use ws_stream::{Message, PreparedMessage, Split, Writer};

use crate::Error;
use crate::sync::lock;

/// Named topics on one server: connections subscribe and unsubscribe by name, and
/// anyone holding a clone publishes to a topic.
///
/// A publish encodes the message once ([`PreparedMessage`]) and queues its bytes on
/// every subscriber without waiting for the network ([`TopicWriter`]), so neither the
/// publisher nor the other subscribers ever wait on one that stopped reading.
///
/// # Slow subscribers
///
/// A subscriber whose connection cannot take a message (more than
/// [`ws_stream::Config::max_write_buffer`] bytes wait for its peer to read: 16 MiB
/// by default) is dropped from that topic, and misses what follows on it; its
/// connection and its other topics go on, and [`Subscriber::is_subscribed`] tells
/// the application, which may close it or subscribe it again. [`TopicStats::slow`]
/// counts these drops. A subscriber whose connection has ended is dropped from every
/// topic it is in as a publish finds it.
///
/// # Who may subscribe
///
/// [`Topics::on_subscribe`] sets the application's hook: every [`Subscriber::subscribe`]
/// asks it with the subscriber's identity (given to [`Topics::attach`]) and the topic,
/// so a client that names its own topics gets only what the application allows.
///
/// The blocking server's writers go through a [`QueuedWriter`]; the async server's
/// `AsyncWriter` is a `TopicWriter` as it is (feature `tokio`).
///
/// ```no_run
/// use ws_server::{QueuedWriter, Server, Topics};
///
/// let topics = Topics::new();
/// // Only rooms under "room/" may be joined.
/// topics.on_subscribe(|_who, topic| topic.starts_with("room/"));
/// let mut server = Server::new("127.0.0.1:8080");
/// let chat = topics.clone();
/// server.on_connect_split("/chat", move |reader, writer, path| {
///     let me = chat.attach(QueuedWriter::new(writer.clone()), path);
///     me.subscribe("room/lobby")?;
///     while let Ok(message) = reader.read_message() {
///         chat.publish("room/lobby", &message);
///     }
///     // Dropping `me` ends its subscriptions.
///     Ok(())
/// })?;
/// server.run()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Topics<W> {
    core: Arc<Core<W>>,
}

/// A connection attached to [`Topics`]: subscribes, unsubscribes, and ends its
/// subscriptions when dropped.
pub struct Subscriber<W: TopicWriter> {
    core: Arc<Core<W>>,
    member: Arc<MemberOf<W>>,
}

/// A connection's writing half that a topic can queue a message on without waiting.
pub trait TopicWriter: Send + Sync + 'static {
    /// Queues `message`, or refuses it at once: with
    /// [`ws_stream::Error::WriteBufferFull`] when it does not fit (the peer reads too
    /// slowly), with any other error when the connection has ended.
    fn try_send_prepared(&self, message: &PreparedMessage) -> ws_stream::Result<()>;
}

/// The bounds on what subscribers may ask for, so that a client naming topics
/// cannot grow the server's memory without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TopicLimits {
    /// The most topics one subscriber may be in at once.
    ///
    /// Default: 64, more than a chat or a market feed client follows.
    pub max_topics: usize,
    /// The longest topic name, in bytes.
    ///
    /// Default: 200, room for a path-like name well under a broker's subject limit.
    pub max_name: usize,
}

impl Default for TopicLimits {
    fn default() -> Self {
        TopicLimits {
            max_topics: 64,
            max_name: 200,
        }
    }
}

impl TopicLimits {
    /// Sets [`TopicLimits::max_topics`].
    pub fn max_topics(mut self, max: usize) -> TopicLimits {
        self.max_topics = max;
        self
    }

    /// Sets [`TopicLimits::max_name`].
    pub fn max_name(mut self, max: usize) -> TopicLimits {
        self.max_name = max;
        self
    }
}

/// What [`Topics`] has done since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TopicStats {
    /// Messages published.
    pub published: u64,
    /// Copies queued on subscribers.
    pub delivered: u64,
    /// Subscribers dropped from a topic because their connection could not take a
    /// message (see "Slow subscribers" on [`Topics`]).
    pub slow: u64,
    /// Subscribers dropped because their connection had ended.
    pub ended: u64,
}

type Hook = dyn Fn(&str, &str) -> bool + Send + Sync;
type Listener = dyn Fn(&str) + Send + Sync;

struct Core<W> {
    topics: Mutex<HashMap<String, Arc<Topic<W>>>>,
    hook: Mutex<Option<Arc<Hook>>>,
    listener: Mutex<Option<Arc<Listener>>>,
    limits: TopicLimits,
    next_id: AtomicU64,
    published: AtomicU64,
    delivered: AtomicU64,
    slow: AtomicU64,
    ended: AtomicU64,
}

struct Topic<W> {
    members: Mutex<Vec<Arc<MemberOf<W>>>>,
}

struct MemberOf<W> {
    id: u64,
    who: String,
    writer: W,
    /// The topics it is in; changed only under `Core::topics`' lock, which keeps it
    /// and the topics' member lists in step.
    topics: Mutex<HashSet<String>>,
}

impl<W: TopicWriter> Topics<W> {
    /// No topics, the default [`TopicLimits`], and a hook that allows every topic.
    pub fn new() -> Topics<W> {
        Topics::with_limits(TopicLimits::default())
    }

    /// No topics, with `limits`.
    pub fn with_limits(limits: TopicLimits) -> Topics<W> {
        Topics {
            core: Arc::new(Core {
                topics: Mutex::new(HashMap::new()),
                hook: Mutex::new(None),
                listener: Mutex::new(None),
                limits,
                next_id: AtomicU64::new(0),
                published: AtomicU64::new(0),
                delivered: AtomicU64::new(0),
                slow: AtomicU64::new(0),
                ended: AtomicU64::new(0),
            }),
        }
    }

    /// Sets the subscribe hook: `allow(who, topic)` answers whether the subscriber
    /// attached as `who` may subscribe to `topic`. Subscriptions made before stay.
    pub fn on_subscribe(&self, allow: impl Fn(&str, &str) -> bool + Send + Sync + 'static) {
        *lock(&self.core.hook) = Some(Arc::new(allow));
    }

    /// Sets what is told, with the topic's name, each time a topic gains its first
    /// subscriber or loses its last: a cluster backplane follows only the topics its
    /// node has subscribers for. [`Topics::subscribers`] says which it was.
    ///
    /// It is called outside every lock of the topics, and must not wait: a topic
    /// can change again before it returns, so it should read the current count.
    pub fn on_interest(&self, changed: impl Fn(&str) + Send + Sync + 'static) {
        *lock(&self.core.listener) = Some(Arc::new(changed));
    }

    /// Attaches a connection's writer; `who` is what the subscribe hook is told about
    /// it (its path, a user name).
    pub fn attach(&self, writer: W, who: impl Into<String>) -> Subscriber<W> {
        Subscriber {
            core: Arc::clone(&self.core),
            member: Arc::new(MemberOf {
                id: self.core.next_id.fetch_add(1, Ordering::Relaxed),
                who: who.into(),
                writer,
                topics: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// Publishes `message` on `topic`; returns how many subscribers took it.
    pub fn publish(&self, topic: &str, message: &Message) -> usize {
        self.publish_prepared(topic, &PreparedMessage::new(message))
    }

    /// Publishes a message already prepared on `topic`; returns how many subscribers
    /// took it. Subscribers that could not are dropped from the topic.
    pub fn publish_prepared(&self, topic: &str, message: &PreparedMessage) -> usize {
        self.core.published.fetch_add(1, Ordering::Relaxed);
        let Some(members) = lock(&self.core.topics).get(topic).cloned() else {
            return 0;
        };
        let mut dropped = Vec::new();
        let delivered = {
            // Held while copying into buffers only: queueing never waits. Holding it
            // keeps one publisher's messages in order on every subscriber.
            let mut list = lock(&members.members);
            list.retain(|member| match member.writer.try_send_prepared(message) {
                Ok(()) => true,
                Err(error) => {
                    let counter = match error {
                        ws_stream::Error::WriteBufferFull { .. } => &self.core.slow,
                        _ => &self.core.ended,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    dropped.push(Arc::clone(member));
                    false
                }
            });
            list.len()
        };
        self.core
            .delivered
            .fetch_add(delivered as u64, Ordering::Relaxed);
        if !dropped.is_empty() {
            self.core.forget(topic, &dropped);
        }
        delivered
    }

    /// How many subscribers `topic` has.
    pub fn subscribers(&self, topic: &str) -> usize {
        let members = lock(&self.core.topics).get(topic).cloned();
        members.map_or(0, |topic| lock(&topic.members).len())
    }

    /// The topics that have subscribers now.
    pub fn active(&self) -> Vec<String> {
        lock(&self.core.topics).keys().cloned().collect()
    }

    /// The limits subscribers are held to.
    pub fn limits(&self) -> TopicLimits {
        self.core.limits
    }

    /// What the topics have done since they were made.
    pub fn stats(&self) -> TopicStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        TopicStats {
            published: read(&self.core.published),
            delivered: read(&self.core.delivered),
            slow: read(&self.core.slow),
            ended: read(&self.core.ended),
        }
    }
}

impl<W: TopicWriter> Subscriber<W> {
    /// Subscribes to `topic`, if the subscribe hook allows it and the limits hold.
    /// Subscribing again to a topic it is in changes nothing.
    pub fn subscribe(&self, topic: &str) -> Result<(), Error> {
        let limits = self.core.limits;
        if topic.is_empty() || topic.len() > limits.max_name {
            return Err(Error::InvalidTopicName {
                max: limits.max_name,
            });
        }
        let hook = lock(&self.core.hook).clone();
        if let Some(allow) = hook
            && !allow(&self.member.who, topic)
        {
            return Err(Error::SubscribeRefused(topic.to_owned()));
        }
        let first = {
            let mut topics = lock(&self.core.topics);
            let mut mine = lock(&self.member.topics);
            if mine.contains(topic) {
                return Ok(());
            }
            if mine.len() >= limits.max_topics {
                return Err(Error::TooManyTopics {
                    max: limits.max_topics,
                });
            }
            mine.insert(topic.to_owned());
            let entry = topics.entry(topic.to_owned()).or_insert_with(|| {
                Arc::new(Topic {
                    members: Mutex::new(Vec::new()),
                })
            });
            let mut members = lock(&entry.members);
            members.push(Arc::clone(&self.member));
            members.len() == 1
        };
        if first {
            self.core.tell(topic);
        }
        Ok(())
    }

    /// Unsubscribes from `topic`; false if it was not subscribed.
    pub fn unsubscribe(&self, topic: &str) -> bool {
        let (was, last) = {
            let mut topics = lock(&self.core.topics);
            if !lock(&self.member.topics).remove(topic) {
                return false;
            }
            let last = self.core.remove_member(&mut topics, topic, self.member.id);
            (true, last)
        };
        if last {
            self.core.tell(topic);
        }
        was
    }

    /// Whether it is subscribed to `topic` (false once dropped as slow).
    pub fn is_subscribed(&self, topic: &str) -> bool {
        lock(&self.member.topics).contains(topic)
    }

    /// The topics it is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        lock(&self.member.topics).iter().cloned().collect()
    }

    /// Its writer.
    pub fn writer(&self) -> &W {
        &self.member.writer
    }
}

impl<W: TopicWriter> Drop for Subscriber<W> {
    fn drop(&mut self) {
        let emptied: Vec<String> = {
            let mut topics = lock(&self.core.topics);
            let mine = std::mem::take(&mut *lock(&self.member.topics));
            mine.into_iter()
                .filter(|topic| self.core.remove_member(&mut topics, topic, self.member.id))
                .collect()
        };
        for topic in emptied {
            self.core.tell(&topic);
        }
    }
}

impl<W> Core<W> {
    /// Removes a member from a topic, and the topic once empty; true if it was
    /// emptied. The caller holds the topics' lock.
    fn remove_member(
        &self,
        topics: &mut HashMap<String, Arc<Topic<W>>>,
        topic: &str,
        id: u64,
    ) -> bool {
        let Some(entry) = topics.get(topic) else {
            return false;
        };
        let empty = {
            let mut members = lock(&entry.members);
            members.retain(|member| member.id != id);
            members.is_empty()
        };
        if empty {
            topics.remove(topic);
        }
        empty
    }

    /// Records that a publish dropped `dropped` from `topic`.
    fn forget(&self, topic: &str, dropped: &[Arc<MemberOf<W>>]) {
        let emptied = {
            let mut topics = lock(&self.topics);
            for member in dropped {
                lock(&member.topics).remove(topic);
            }
            let empty = topics
                .get(topic)
                .is_some_and(|entry| lock(&entry.members).is_empty());
            if empty {
                topics.remove(topic);
            }
            empty
        };
        if emptied {
            self.tell(topic);
        }
    }

    fn tell(&self, topic: &str) {
        let listener = lock(&self.listener).clone();
        if let Some(changed) = listener {
            changed(topic);
        }
    }
}

impl<W: TopicWriter> Default for Topics<W> {
    fn default() -> Self {
        Topics::new()
    }
}

impl<W> Clone for Topics<W> {
    fn clone(&self) -> Self {
        Topics {
            core: Arc::clone(&self.core),
        }
    }
}

impl<W> std::fmt::Debug for Topics<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topics")
            .field("topics", &lock(&self.core.topics).len())
            .field("limits", &self.core.limits)
            .finish_non_exhaustive()
    }
}

impl<W: TopicWriter> std::fmt::Debug for Subscriber<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("who", &self.member.who)
            .field("topics", &lock(&self.member.topics).len())
            .finish_non_exhaustive()
    }
}

/// A blocking connection's [`Writer`] with a thread of its own that writes what
/// topics queue on it, so that a publisher never waits on this connection's network.
///
/// The thread sleeps until a message is queued, and ends when the `QueuedWriter` is
/// dropped or its connection fails. The bytes waiting are bounded by the
/// connection's `max_write_buffer` (plus the batch being written).
pub struct QueuedWriter<S: Split> {
    writer: Writer<S>,
    wake: Arc<Wake>,
}

#[derive(Default)]
struct Wake {
    /// (queued since the last flush, the `QueuedWriter` is gone)
    state: Mutex<(bool, bool)>,
    condvar: Condvar,
}

impl<S: Split + 'static> QueuedWriter<S> {
    /// Starts the writing thread for `writer`.
    pub fn new(writer: Writer<S>) -> QueuedWriter<S> {
        let wake = Arc::new(Wake::default());
        let flusher = writer.clone();
        let waiting = Arc::clone(&wake);
        std::thread::spawn(move || {
            loop {
                {
                    let mut state = lock(&waiting.state);
                    while !state.0 && !state.1 {
                        state = waiting
                            .condvar
                            .wait(state)
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                    if state.1 {
                        return;
                    }
                    state.0 = false;
                }
                if flusher.flush().is_err() {
                    return;
                }
            }
        });
        QueuedWriter { writer, wake }
    }

    /// The writer it writes for.
    pub fn writer(&self) -> &Writer<S> {
        &self.writer
    }
}

impl<S: Split + 'static> TopicWriter for QueuedWriter<S>
where
    Writer<S>: Send + Sync,
{
    fn try_send_prepared(&self, message: &PreparedMessage) -> ws_stream::Result<()> {
        self.writer.try_send_prepared(message)?;
        lock(&self.wake.state).0 = true;
        self.wake.condvar.notify_one();
        Ok(())
    }
}

impl<S: Split> Drop for QueuedWriter<S> {
    fn drop(&mut self) {
        lock(&self.wake.state).1 = true;
        self.wake.condvar.notify_one();
    }
}

impl<S: Split> std::fmt::Debug for QueuedWriter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedWriter").finish_non_exhaustive()
    }
}

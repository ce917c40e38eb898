use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use ws_server::{TopicWriter, Topics};
use ws_stream::{Message, PreparedMessage};

use crate::backplane::{Backplane, Incoming};
use crate::envelope::{Envelope, subject_for, topic_of};

/// One node's [`Topics`], shared with every other node through a [`Backplane`].
///
/// [`Cluster::publish`] delivers to this node's subscribers at once and hands the
/// message to the broker for the others; messages from other nodes are delivered to
/// this node's subscribers as they arrive. Each message reaches each subscriber
/// once: a node skips its own messages when the broker echoes them back.
///
/// # Guarantees
///
/// - **At-most-once between nodes**, as with core NATS and Redis pub/sub: a message
///   the broker could not take, or that a node was not connected to receive, is
///   lost, and counted ([`ClusterStats`]).
/// - **One publisher's messages on one topic arrive in order** on every node: one
///   queue and one broker connection per node, and one task delivering.
/// - **A node follows only the topics it has subscribers for**: it subscribes to a
///   topic's subject when the topic gains its first local subscriber, and
///   unsubscribes when it loses its last ([`Topics::on_interest`], which the cluster
///   takes over).
/// - **Nothing piles up toward a missing broker**: while the backplane reports no
///   connection, publishes are not sent and are counted in
///   [`ClusterStats::undelivered`]; the queue to the broker holds at most
///   [`ClusterConfig::queue`] messages, and what does not fit is counted too.
///   The backplanes reconnect and resubscribe by themselves.
/// - **Gaps are visible**: each message carries its publisher's sequence number on
///   its topic, and a node counts the numbers it never saw in
///   [`ClusterStats::missed`].
pub struct Cluster<W: TopicWriter> {
    shared: Arc<Shared<W>>,
    tasks: Arc<Tasks>,
}

/// How a cluster names its subjects and how much it queues.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// What every subject starts with, so that several applications share a broker.
    ///
    /// Default: `"ws."`.
    pub prefix: String,
    /// The most messages waiting to be handed to the broker.
    ///
    /// Default: 4096, a few milliseconds of a busy node's publishes: enough to ride
    /// out a broker's hiccup, small enough that a stalled broker costs little memory.
    pub queue: usize,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            prefix: "ws.".to_owned(),
            queue: 4096,
        }
    }
}

impl ClusterConfig {
    /// Sets [`ClusterConfig::prefix`].
    pub fn prefix(mut self, prefix: impl Into<String>) -> ClusterConfig {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`ClusterConfig::queue`].
    pub fn queue(mut self, messages: usize) -> ClusterConfig {
        self.queue = messages;
        self
    }
}

/// What a cluster node has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Messages handed to the broker.
    pub sent: u64,
    /// Messages published here that never reached the broker: it was not connected,
    /// the queue to it was full, or it refused them.
    pub undelivered: u64,
    /// Messages from other nodes delivered to this node's subscribers.
    pub received: u64,
    /// Messages of other nodes this node should have received and did not (gaps in
    /// their sequence numbers).
    pub missed: u64,
    /// Messages from the broker dropped because this node's inbox was full.
    pub inbox_full: u64,
    /// Messages from the broker that were not a cluster's.
    pub malformed: u64,
    /// The subjects this node is subscribed to at the broker now.
    pub subjects: u64,
    /// Whether the broker is connected now.
    pub connected: bool,
}

struct Shared<W> {
    topics: Topics<W>,
    node: u64,
    prefix: String,
    connected: Box<dyn Fn() -> bool + Send + Sync>,
    outgoing: mpsc::Sender<(String, Vec<u8>)>,
    /// The next sequence number of each topic this node published on.
    sequences: Mutex<HashMap<String, u64>>,
    /// Topics whose local interest changed since the follower last looked.
    dirty: Mutex<HashSet<String>>,
    changed: Notify,
    /// Topics unsubscribed at the broker, whose sequence numbers the receiver
    /// forgets: what was published meanwhile was not for this node.
    forgotten: Mutex<Vec<String>>,
    inbox_full: Arc<AtomicU64>,
    sent: AtomicU64,
    undelivered: AtomicU64,
    received: AtomicU64,
    missed: AtomicU64,
    malformed: AtomicU64,
    subjects: AtomicU64,
}

#[derive(Debug)]
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// The most (publisher, topic) pairs whose last sequence number a node keeps; past
/// it they are forgotten, and only the gaps in what follows are counted.
const MAX_TRACKED: usize = 1 << 16;

/// How long a failed broker subscribe waits before it is tried again.
const RETRY: Duration = Duration::from_millis(200);

impl<W: TopicWriter> Cluster<W> {
    /// Shares `topics` through `backplane`, which delivers into the inbox whose
    /// receiving end is `incoming`. Spawns its tasks on the current tokio runtime;
    /// they stop when the last clone of the cluster is dropped.
    pub fn start<B: Backplane>(
        topics: Topics<W>,
        backplane: B,
        incoming: Incoming,
        config: ClusterConfig,
    ) -> Cluster<W> {
        let backplane = Arc::new(backplane);
        let (outgoing, queue) = mpsc::channel(config.queue.max(1));
        let probe = Arc::clone(&backplane);
        let shared = Arc::new(Shared {
            topics: topics.clone(),
            node: node_id(),
            prefix: config.prefix,
            connected: Box::new(move || probe.is_connected()),
            outgoing,
            sequences: Mutex::new(HashMap::new()),
            dirty: Mutex::new(topics.active().into_iter().collect()),
            changed: Notify::new(),
            forgotten: Mutex::new(Vec::new()),
            inbox_full: Arc::clone(&incoming.full),
            sent: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            received: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            subjects: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&shared);
        topics.on_interest(move |topic| {
            if let Some(shared) = weak.upgrade() {
                lock(&shared.dirty).insert(topic.to_owned());
                shared.changed.notify_one();
            }
        });
        shared.changed.notify_one();
        let tasks = vec![
            tokio::spawn(send(Arc::clone(&backplane), Arc::clone(&shared), queue)),
            tokio::spawn(follow(Arc::clone(&backplane), Arc::clone(&shared))),
            tokio::spawn(receive(Arc::clone(&shared), incoming)),
        ];
        Cluster {
            shared,
            tasks: Arc::new(Tasks(tasks)),
        }
    }

    /// Publishes `message` on `topic` to every node's subscribers; returns how many
    /// subscribers on this node took it. Never waits.
    pub fn publish(&self, topic: &str, message: &Message) -> usize {
        let local = self
            .shared
            .topics
            .publish_prepared(topic, &PreparedMessage::new(message));
        let shared = &self.shared;
        let sequence = {
            let mut sequences = lock(&shared.sequences);
            if sequences.len() >= MAX_TRACKED && !sequences.contains_key(topic) {
                sequences.clear();
            }
            let next = sequences.entry(topic.to_owned()).or_insert(0);
            *next += 1;
            *next
        };
        if !(shared.connected)() {
            shared.undelivered.fetch_add(1, Ordering::Relaxed);
            return local;
        }
        let payload = Envelope {
            origin: shared.node,
            sequence,
            message,
        }
        .encode();
        let subject = subject_for(&shared.prefix, topic);
        if shared.outgoing.try_send((subject, payload)).is_err() {
            shared.undelivered.fetch_add(1, Ordering::Relaxed);
        }
        local
    }

    /// The node's topics.
    pub fn topics(&self) -> &Topics<W> {
        &self.shared.topics
    }

    /// What the node has done since it started.
    pub fn stats(&self) -> ClusterStats {
        let shared = &self.shared;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ClusterStats {
            sent: read(&shared.sent),
            undelivered: read(&shared.undelivered),
            received: read(&shared.received),
            missed: read(&shared.missed),
            inbox_full: read(&shared.inbox_full),
            malformed: read(&shared.malformed),
            subjects: read(&shared.subjects),
            connected: (shared.connected)(),
        }
    }
}

impl<W: TopicWriter> Clone for Cluster<W> {
    fn clone(&self) -> Self {
        Cluster {
            shared: Arc::clone(&self.shared),
            tasks: Arc::clone(&self.tasks),
        }
    }
}

impl<W: TopicWriter> std::fmt::Debug for Cluster<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.shared.node)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Hands queued publishes to the broker, one after another to keep their order.
async fn send<B: Backplane, W>(
    backplane: Arc<B>,
    shared: Arc<Shared<W>>,
    mut queue: mpsc::Receiver<(String, Vec<u8>)>,
) {
    while let Some((subject, payload)) = queue.recv().await {
        let counter = match backplane.publish(&subject, payload).await {
            Ok(()) => &shared.sent,
            Err(_) => &shared.undelivered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Keeps the broker subscriptions in step with the topics that have local
/// subscribers.
async fn follow<B: Backplane, W: TopicWriter>(backplane: Arc<B>, shared: Arc<Shared<W>>) {
    let mut subscribed: HashSet<String> = HashSet::new();
    loop {
        shared.changed.notified().await;
        let dirty = std::mem::take(&mut *lock(&shared.dirty));
        let mut failed = Vec::new();
        for topic in dirty {
            let wanted = shared.topics.subscribers(&topic) > 0;
            let subject = subject_for(&shared.prefix, &topic);
            if wanted && !subscribed.contains(&topic) {
                match backplane.subscribe(&subject).await {
                    Ok(()) => {
                        subscribed.insert(topic);
                    }
                    Err(_) => failed.push(topic),
                }
            } else if !wanted && subscribed.contains(&topic) {
                match backplane.unsubscribe(&subject).await {
                    Ok(()) => {
                        lock(&shared.forgotten).push(topic.clone());
                        subscribed.remove(&topic);
                    }
                    Err(_) => failed.push(topic),
                }
            }
        }
        shared
            .subjects
            .store(subscribed.len() as u64, Ordering::Relaxed);
        if !failed.is_empty() {
            lock(&shared.dirty).extend(failed);
            tokio::time::sleep(RETRY).await;
            shared.changed.notify_one();
        }
    }
}

/// Delivers what other nodes published to this node's subscribers.
async fn receive<W: TopicWriter>(shared: Arc<Shared<W>>, mut incoming: Incoming) {
    let mut last_seen: HashMap<(u64, String), u64> = HashMap::new();
    while let Some((subject, payload)) = incoming.queue.recv().await {
        let (Some(topic), Some((origin, sequence, message))) = (
            topic_of(&shared.prefix, &subject),
            Envelope::decode(&payload),
        ) else {
            shared.malformed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if origin == shared.node {
            continue;
        }
        let forgotten = std::mem::take(&mut *lock(&shared.forgotten));
        if !forgotten.is_empty() {
            last_seen.retain(|(_, topic), _| !forgotten.contains(topic));
        }
        if last_seen.len() >= MAX_TRACKED {
            last_seen.clear();
        }
        let last = last_seen.entry((origin, topic.clone())).or_insert(0);
        // A number at or below the last one is a publisher that started again.
        if sequence > *last + 1 && *last > 0 {
            shared
                .missed
                .fetch_add(sequence - *last - 1, Ordering::Relaxed);
        }
        *last = sequence;
        shared
            .topics
            .publish_prepared(&topic, &PreparedMessage::new(&message));
        shared.received.fetch_add(1, Ordering::Relaxed);
    }
}

/// A number for this node that no other node picks: the standard library's random
/// hash keys, mixed with the process id and the time.
fn node_id() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(now.as_nanos());
    }
    hasher.finish()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

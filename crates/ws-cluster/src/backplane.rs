use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::Error;

/// A broker's publish/subscribe, as a [`Cluster`](crate::Cluster) uses it.
///
/// Delivery is at-most-once, as with core NATS and Redis pub/sub: what the broker
/// does not hold for a subscriber (during a disconnection, say) is lost. An
/// implementation hands what arrives on its subjects to the [`Inbox`] it was made
/// with, keeps one connection's order, and reconnects and resubscribes by itself
/// after the broker comes back.
pub trait Backplane: Send + Sync + 'static {
    /// Sends `payload` to every node subscribed to `subject`.
    fn publish(
        &self,
        subject: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Starts receiving `subject` into the inbox, and again after every reconnection.
    fn subscribe(&self, subject: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Stops receiving `subject`.
    fn unsubscribe(&self, subject: &str) -> impl Future<Output = Result<(), Error>> + Send;

    /// Whether the broker is connected now: a cluster counts what it publishes
    /// while not as undelivered instead of handing it to a client that would buffer it.
    fn is_connected(&self) -> bool;
}

/// Where a backplane puts what arrives: a bounded queue to the cluster's task, so
/// that a burst from the broker cannot grow the node's memory. What does not fit
/// is dropped and counted ([`ClusterStats::inbox_full`](crate::ClusterStats)).
#[derive(Debug, Clone)]
pub struct Inbox {
    queue: mpsc::Sender<(String, Vec<u8>)>,
    full: Arc<AtomicU64>,
}

/// The receiving end of an [`Inbox`], for [`Cluster::start`](crate::Cluster::start).
#[derive(Debug)]
pub struct Incoming {
    pub(crate) queue: mpsc::Receiver<(String, Vec<u8>)>,
    pub(crate) full: Arc<AtomicU64>,
}

/// An inbox that holds up to `capacity` messages, and its receiving end.
pub fn inbox(capacity: usize) -> (Inbox, Incoming) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    let full = Arc::new(AtomicU64::new(0));
    (
        Inbox {
            queue: sender,
            full: Arc::clone(&full),
        },
        Incoming {
            queue: receiver,
            full,
        },
    )
}

impl Inbox {
    /// Hands a message that arrived on `subject` to the cluster, or drops and
    /// counts it when the queue is full; never waits.
    pub fn deliver(&self, subject: &str, payload: Vec<u8>) {
        if self.queue.try_send((subject.to_owned(), payload)).is_err() {
            self.full.fetch_add(1, Ordering::Relaxed);
        }
    }
}

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::backplane::{Backplane, Inbox};
use crate::error::redacted;
use crate::{Error, env_credentials};

/// The backplane over core NATS (feature `nats`), with the `async-nats` client.
///
/// The client reconnects by itself, without end, waiting at most a second between
/// tries, and sends its subscriptions again once connected. Credentials come from
/// the URL (`nats://user:password@host:4222`) or, when it has none, from the
/// environment: `WS_CLUSTER_BROKER_USER` and `WS_CLUSTER_BROKER_PASSWORD`, or
/// `WS_CLUSTER_NATS_TOKEN`.
#[derive(Debug)]
pub struct Nats {
    client: async_nats::Client,
    inbox: Inbox,
    subscriptions: Mutex<HashMap<String, JoinHandle<()>>>,
}

/// The longest wait between two reconnection tries.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Messages one subscription holds for this node before the client drops them: a
/// bound on what a broker can make a slow node buffer.
const SUBSCRIPTION_CAPACITY: usize = 8192;

impl Nats {
    /// Connects to the NATS server at `url` (a comma-separated list is tried in
    /// turn); what arrives on subscribed subjects goes to `inbox`.
    pub async fn connect(url: &str, inbox: Inbox) -> Result<Nats, Error> {
        let mut options = async_nats::ConnectOptions::new()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                let delay = Duration::from_millis(50).saturating_mul(attempts as u32);
                delay.min(MAX_RECONNECT_DELAY)
            })
            .connection_timeout(Duration::from_secs(5))
            .subscription_capacity(SUBSCRIPTION_CAPACITY);
        if !url.contains('@') {
            if let Ok(token) = std::env::var("WS_CLUSTER_NATS_TOKEN") {
                options = options.token(token);
            } else if let Some((user, password)) = env_credentials() {
                options = options.user_and_password(user, password);
            }
        }
        let client = options.connect(url).await.map_err(|error| Error::Connect {
            url: redacted(url),
            source: Box::new(error),
        })?;
        Ok(Nats {
            client,
            inbox,
            subscriptions: Mutex::new(HashMap::new()),
        })
    }
}

impl Backplane for Nats {
    async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), Error> {
        self.client
            .publish(subject.to_owned(), payload.into())
            .await
            .map_err(|error| Error::Broker(Box::new(error)))
    }

    async fn subscribe(&self, subject: &str) -> Result<(), Error> {
        let mut subscriber = self
            .client
            .subscribe(subject.to_owned())
            .await
            .map_err(|error| Error::Broker(Box::new(error)))?;
        // The client flushes lazily; the subscription is at the server once this
        // returns, so a publish elsewhere that follows reaches it.
        self.client
            .flush()
            .await
            .map_err(|error| Error::Broker(Box::new(error)))?;
        let inbox = self.inbox.clone();
        let forward = tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                inbox.deliver(&message.subject, message.payload.to_vec());
            }
        });
        let previous = lock(&self.subscriptions).insert(subject.to_owned(), forward);
        if let Some(previous) = previous {
            previous.abort();
        }
        Ok(())
    }

    async fn unsubscribe(&self, subject: &str) -> Result<(), Error> {
        // Dropping the client's subscriber, as the aborted task does, unsubscribes.
        if let Some(forward) = lock(&self.subscriptions).remove(subject) {
            forward.abort();
        }
        Ok(())
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        for (_, forward) in lock(&self.subscriptions).drain() {
            forward.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

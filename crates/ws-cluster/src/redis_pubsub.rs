use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink};
use tokio::task::JoinHandle;

use crate::backplane::{Backplane, Inbox};
use crate::error::redacted;
use crate::{Error, env_credentials};

/// The backplane over Redis pub/sub (feature `redis`), with the `redis` crate on
/// tokio.
///
/// One connection receives, another publishes. When the broker goes away, the
/// receiving connection is opened again by a task of its own, waiting at most a
/// second between tries, and subscribes again to every subject wanted; the
/// publishing one is opened again by the next publish. Credentials come from the
/// URL (`redis://user:password@host:6379`, or `redis://:password@host`) or, when it
/// has none, from the environment: `WS_CLUSTER_BROKER_USER` (optional) and
/// `WS_CLUSTER_BROKER_PASSWORD`. No TLS: the client is built without it.
#[derive(Debug)]
pub struct Redis {
    client: redis::Client,
    receiving: Arc<Receiving>,
    publisher: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    task: JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Receiving {
    /// The subjects to be subscribed to on every connection.
    wanted: Mutex<HashSet<String>>,
    /// The receiving connection's commands, while it is up.
    sink: Mutex<Option<PubSubSink>>,
    connected: AtomicBool,
}

/// The longest wait between two reconnection tries.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How long a connection may take to open before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl Redis {
    /// Connects to the Redis server at `url`; what arrives on subscribed subjects
    /// goes to `inbox`.
    pub async fn connect(url: &str, inbox: Inbox) -> Result<Redis, Error> {
        let full = match env_credentials() {
            Some((user, password)) if !url.contains('@') => with_credentials(url, &user, &password),
            _ => url.to_owned(),
        };
        let client =
            redis::Client::open(full.as_str()).map_err(|_| Error::InvalidUrl(redacted(url)))?;
        let connect_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Connect {
            url: redacted(url),
            source,
        };
        let publisher =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection())
                .await
                .map_err(|elapsed| connect_error(Box::new(elapsed)))?
                .map_err(|error| connect_error(Box::new(error)))?;
        let receiving = Arc::new(Receiving::default());
        let task = tokio::spawn(receive(client.clone(), Arc::clone(&receiving), inbox));
        Ok(Redis {
            client,
            receiving,
            publisher: tokio::sync::Mutex::new(Some(publisher)),
            task,
        })
    }
}

impl Backplane for Redis {
    async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), Error> {
        let mut publisher = self.publisher.lock().await;
        let connection = match &mut *publisher {
            Some(connection) => connection,
            empty => {
                let opened = tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    self.client.get_multiplexed_async_connection(),
                )
                .await
                .map_err(|_| Error::Disconnected)?
                .map_err(|error| Error::Broker(Box::new(error)))?;
                empty.insert(opened)
            }
        };
        let published: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(subject)
            .arg(payload)
            .query_async(connection)
            .await;
        published.map(drop).map_err(|error| {
            // Opened again by the next publish.
            *publisher = None;
            Error::Broker(Box::new(error))
        })
    }

    async fn subscribe(&self, subject: &str) -> Result<(), Error> {
        // Wanted first: a connection opened from now on subscribes to it, and one
        // opened before has its sink here already.
        lock(&self.receiving.wanted).insert(subject.to_owned());
        let sink = lock(&self.receiving.sink).clone();
        match sink {
            Some(mut sink) => sink
                .subscribe(subject)
                .await
                .map_err(|error| Error::Broker(Box::new(error))),
            None => Ok(()),
        }
    }

    async fn unsubscribe(&self, subject: &str) -> Result<(), Error> {
        lock(&self.receiving.wanted).remove(subject);
        let sink = lock(&self.receiving.sink).clone();
        match sink {
            Some(mut sink) => sink
                .unsubscribe(subject)
                .await
                .map_err(|error| Error::Broker(Box::new(error))),
            None => Ok(()),
        }
    }

    fn is_connected(&self) -> bool {
        self.receiving.connected.load(Ordering::Relaxed)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Keeps a receiving connection open, subscribed to what is wanted, and hands what
/// arrives to the inbox.
async fn receive(client: redis::Client, receiving: Arc<Receiving>, inbox: Inbox) {
    let mut delay = Duration::from_millis(50);
    loop {
        if let Ok(Ok(pubsub)) =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await
        {
            let (sink, mut stream) = pubsub.split();
            *lock(&receiving.sink) = Some(sink.clone());
            let wanted: Vec<String> = lock(&receiving.wanted).iter().cloned().collect();
            let mut subscriber = sink;
            let mut subscribed = true;
            for subject in &wanted {
                if subscriber.subscribe(subject).await.is_err() {
                    subscribed = false;
                    break;
                }
            }
            if subscribed {
                receiving.connected.store(true, Ordering::Relaxed);
                delay = Duration::from_millis(50);
                while let Some(message) = stream.next().await {
                    inbox.deliver(
                        message.get_channel_name(),
                        message.get_payload_bytes().to_vec(),
                    );
                }
            }
            receiving.connected.store(false, Ordering::Relaxed);
            *lock(&receiving.sink) = None;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_RECONNECT_DELAY);
    }
}

/// `url` with `user:password@` put in, each percent-encoded.
fn with_credentials(url: &str, user: &str, password: &str) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    char::from(byte).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect::<String>()
    };
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}:{}@{rest}", encode(user), encode(password)),
        None => url.to_owned(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::with_credentials;

    #[test]
    fn credentials_from_the_environment_are_encoded_into_the_url() {
        assert_eq!(
            with_credentials("redis://127.0.0.1:6379/0", "", "p@ss:word"),
            "redis://:p%40ss%3Aword@127.0.0.1:6379/0"
        );
    }
}

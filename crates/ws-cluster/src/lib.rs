//! Topics shared by every node of a WebSocket service through a broker: a message
//! published on one node reaches the topic's subscribers on all of them, over NATS
//! or Redis pub/sub.
//!
//! ```no_run
//! # #[cfg(feature = "nats")]
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tokio::net::TcpStream;
//! use ws_cluster::{Cluster, ClusterConfig, Nats};
//! use ws_server::{AsyncServer, Topics};
//! use ws_stream::AsyncWriter;
//!
//! let topics: Topics<AsyncWriter<TcpStream>> = Topics::new();
//! let (inbox, incoming) = ws_cluster::inbox(4096);
//! let nats = Nats::connect("nats://127.0.0.1:4222", inbox).await?;
//! let cluster = Cluster::start(topics.clone(), nats, incoming, ClusterConfig::default());
//!
//! let mut server = AsyncServer::new("127.0.0.1:8080");
//! server.on_connect_split("/chat", move |mut reader, writer, path| {
//!     let cluster = cluster.clone();
//!     async move {
//!         let me = cluster.topics().attach(writer, path);
//!         me.subscribe("chat")?;
//!         while let Ok(message) = reader.recv().await {
//!             cluster.publish("chat", &message);
//!         }
//!         Ok(())
//!     }
//! })?;
//! server.run().await?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "nats"))] fn main() {}
//! ```
//!
//! # Overview
//!
//! - [`Cluster`]: one node's [`ws_server::Topics`] shared through a backplane;
//!   [`Cluster::publish`] delivers here at once and to the other nodes through the
//!   broker. Its documentation states the guarantees: at-most-once between nodes,
//!   one publisher's order on one topic kept, a broker subscription only while the
//!   node has local subscribers, nothing piled up toward a missing broker, and the
//!   counters of what was lost ([`ClusterStats`]).
//! - [`Backplane`]: the small trait a broker's client implements, with an
//!   [`Inbox`] it delivers into ([`inbox`]).
//! - `Nats` (feature `nats`) and `Redis` (feature `redis`): the two backplanes.
//!   Each reconnects and resubscribes by itself after the broker restarts.
//!
//! # Trust
//!
//! Broker credentials come from the broker's URL or from the environment
//! (`WS_CLUSTER_BROKER_USER`, `WS_CLUSTER_BROKER_PASSWORD`, and for NATS
//! `WS_CLUSTER_NATS_TOKEN`), never from a WebSocket peer, and error messages show
//! URLs without them. What a client may subscribe to is the application's
//! [`ws_server::Topics::on_subscribe`] hook's to decide.
//!
//! # Features
//!
//! - `nats` (off by default): `Nats`, on `async-nats` with rustls on ring.
//! - `redis` (off by default): `Redis`, on the `redis` crate with tokio, no TLS.
//!
//! None of this crate is in the `websockets` facade's build.
//!
//! # Unsafe
//!
//! None.
#![forbid(unsafe_code)]

mod backplane;
mod cluster;
mod envelope;
mod error;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "redis")]
mod redis_pubsub;

pub use backplane::{Backplane, Inbox, Incoming, inbox};
pub use cluster::{Cluster, ClusterConfig, ClusterStats};
pub use error::Error;
#[cfg(feature = "nats")]
pub use nats::Nats;
#[cfg(feature = "redis")]
pub use redis_pubsub::Redis;

/// The broker user and password from the environment, for a URL that has none: the
/// user may be left out (Redis' default user), the password may not.
#[cfg(any(feature = "nats", feature = "redis"))]
fn env_credentials() -> Option<(String, String)> {
    let password = std::env::var("WS_CLUSTER_BROKER_PASSWORD").ok()?;
    let user = std::env::var("WS_CLUSTER_BROKER_USER").unwrap_or_default();
    Some((user, password))
}

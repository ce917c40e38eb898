//! The example server's chat room at `/chat`, shared by every node started the same
//! way: a message sent on one node reaches the members on all of them, through NATS
//! or Redis pub/sub.
//!
//! ```text
//! cargo run --example cluster-chat -- --listen 127.0.0.1:8080 --nats nats://127.0.0.1:4222
//! cargo run --example cluster-chat -- --listen 127.0.0.1:8081 --redis redis://127.0.0.1:6379
//! ```
//!
//! Prints `listening on ws://ADDRESS/` once it accepts connections (port 0 picks a
//! free one). `GET /stats` answers one line of counters: the cluster's
//! ([`ws_cluster::ClusterStats`]) and the room's ([`websockets::server::TopicStats`]),
//! which the tests poll. `--max-write-buffer BYTES` sets how much may wait for one
//! member before it is dropped from the room as too slow (default 16 MiB).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use tokio::net::TcpStream;
use websockets::server::{AsyncServer, HttpResponse, ServerConfig, Topics};
use websockets::stream::AsyncWriter;
use ws_cluster::{Cluster, ClusterConfig, Nats, Redis};

/// The one topic of this chat.
const ROOM: &str = "chat";

type Room = Topics<AsyncWriter<TcpStream>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse(std::env::args().skip(1))?;
    let topics = Room::new();
    // Clients never name topics here, but the hook is where an application that
    // lets them would say which they may join.
    topics.on_subscribe(|_who, topic| topic == ROOM);
    let (inbox, incoming) = ws_cluster::inbox(8192);
    let config = ClusterConfig::default();
    let cluster = match &options.broker {
        Broker::Nats(url) => {
            Cluster::start(topics, Nats::connect(url, inbox).await?, incoming, config)
        }
        Broker::Redis(url) => {
            Cluster::start(topics, Redis::connect(url, inbox).await?, incoming, config)
        }
    };

    let stream = websockets::stream::Config::default().max_write_buffer(options.max_write_buffer);
    let mut server = AsyncServer::new(options.listen.clone())
        .with_config(ServerConfig::default().stream(stream));
    let stats = cluster.clone();
    server.on_http("/stats", move |_request| {
        let cluster = stats.stats();
        let room = stats.topics().stats();
        HttpResponse::text(format!(
            "sent={} undelivered={} received={} missed={} inbox_full={} subjects={} \
             connected={} members={} published={} delivered={} slow={}\n",
            cluster.sent,
            cluster.undelivered,
            cluster.received,
            cluster.missed,
            cluster.inbox_full,
            cluster.subjects,
            cluster.connected,
            stats.topics().subscribers(ROOM),
            room.published,
            room.delivered,
            room.slow,
        ))
    })?;
    server.on_connect_split("/chat", move |mut reader, writer, path| {
        let cluster = cluster.clone();
        async move {
            let member = cluster.topics().attach(writer, path);
            member.subscribe(ROOM)?;
            while let Ok(message) = reader.recv().await {
                cluster.publish(ROOM, &message);
            }
            // Dropping `member` takes it out of the room.
            Ok(())
        }
    })?;
    let handle = server.spawn().await?;
    // Tests and scripts wait for this line, so it must not sit in a buffer.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", handle.local_addr())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}

enum Broker {
    Nats(String),
    Redis(String),
}

struct Options {
    listen: String,
    broker: Broker,
    max_write_buffer: usize,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        const USAGE: &str = "usage: cluster-chat [--listen ADDRESS] (--nats URL | --redis URL) \
                             [--max-write-buffer BYTES]";
        let mut listen = "127.0.0.1:8080".to_owned();
        let mut broker = None;
        let mut max_write_buffer = 16 << 20;
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--listen" => listen = value()?,
                "--nats" => broker = Some(Broker::Nats(value()?)),
                "--redis" => broker = Some(Broker::Redis(value()?)),
                "--max-write-buffer" => {
                    max_write_buffer = value()?
                        .parse()
                        .map_err(|_| format!("--max-write-buffer takes bytes\n{USAGE}"))?;
                }
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        let broker = broker.ok_or_else(|| format!("name a broker\n{USAGE}"))?;
        Ok(Options {
            listen,
            broker,
            max_write_buffer,
        })
    }
}

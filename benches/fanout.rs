//! Fan-out: one publisher to many subscribers, on one node and across two nodes
//! through a broker. A bench binary, not a timed test.
//!
//! ```text
//! cargo bench --bench fanout                       # 1,000 subscribers, every part
//! cargo bench --bench fanout -- --subscribers 1000 --messages 500 --rates 50,200,0
//! cargo bench --bench fanout -- --only one-node    # or --only cluster
//! ```
//!
//! Every subscriber is an async client of this process (ws-client's
//! `connect_async`) on its own connection over loopback. For each rate (messages per
//! second; 0 means as fast as the publisher goes) the publisher sends `--messages`
//! small text messages, each carrying the time it was published, then a marker. A
//! subscriber records, for every message, the time from publish to its receipt; the
//! step ends when every subscriber has seen the marker. Reported: messages delivered
//! per second (copies received, over the time from the first publish to the last
//! marker received) and the publish-to-receipt latency at p50 and p99.
//!
//! One node: ws-server's `Topics` (async server, and blocking server through
//! `QueuedWriter`) against the `AsyncBroadcast` and the blocking `Broadcast` the
//! server had before, each with every subscriber on one server.
//!
//! Cluster: two nodes (two `AsyncServer`s, each with its `Topics` and its
//! `ws_cluster::Cluster`, in this process) and one broker, a real `nats-server` or
//! `redis-server` started by the bench on a free port (`tests/peers/install.sh`
//! installs them); half the subscribers on each node, the publisher on the first.
//! Against it, one node without a backplane with all the subscribers.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::error::Error;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdTcp};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use websockets::Message;
use websockets::server::{
    AsyncBroadcast, AsyncServer, Broadcast, QueuedWriter, Server, ServerConfig, Topics,
};
use websockets::stream::AsyncWriter;
use ws_cluster::{Cluster, ClusterConfig, Nats, Redis};

type BoxError = Box<dyn Error + Send + Sync>;
type AsyncTopics = Topics<AsyncWriter<TcpStream>>;
type Publish = Arc<dyn Fn(&Message) + Send + Sync>;

const FEED: &str = "feed";

fn main() -> Result<(), BoxError> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let n = options.subscribers;
    println!(
        "fan-out to {n} subscribers, {} messages per step; rates in msg/s (0 = unpaced)",
        options.messages
    );
    println!(
        "{:<34} {:>8} {:>14} {:>10} {:>10}",
        "setup", "rate", "delivered/s", "p50", "p99"
    );
    if options.only.as_deref() != Some("cluster") {
        one_node(&runtime, &options)?;
    }
    if options.only.as_deref() != Some("one-node") {
        for kind in [Kind::Nats, Kind::Redis] {
            match Broker::start(kind) {
                Ok(broker) => cluster(&runtime, &options, &broker)?,
                Err(error) => println!("{kind:?}: skipped ({error})"),
            }
        }
    }
    Ok(())
}

fn one_node(runtime: &Runtime, options: &Options) -> Result<(), BoxError> {
    let n = options.subscribers;
    let config = ServerConfig::default().max_connections(n + 16);

    // Topics on the async server.
    let topics = AsyncTopics::new();
    let addr = runtime.block_on(async_topic_server(&topics, config.clone()))?;
    let clients = Clients::connect(runtime, addr, n);
    wait("async topics subscribed", || topics.subscribers(FEED) == n);
    let publish_topics = topics.clone();
    let publish: Publish = Arc::new(move |message| {
        publish_topics.publish(FEED, message);
    });
    steps("Topics, async server", &publish, &clients, options);
    drop(clients);

    // AsyncBroadcast.
    let room = Arc::new(AsyncBroadcast::new());
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(config.clone());
    let members = Arc::clone(&room);
    server.on_connect_split("/s", move |mut reader, writer, _path| {
        let members = Arc::clone(&members);
        async move {
            let member = members.join(writer);
            while reader.recv().await.is_ok() {}
            members.leave(member);
            Ok(())
        }
    })?;
    let handle = runtime.block_on(server.spawn())?;
    let clients = Clients::connect(runtime, handle.local_addr(), n);
    wait("async broadcast joined", || room.len() == n);
    let sender = Arc::clone(&room);
    let publish: Publish = Arc::new(move |message| {
        sender.send(message);
    });
    steps("AsyncBroadcast", &publish, &clients, options);
    drop(clients);

    // Topics on the blocking server.
    let topics: Topics<QueuedWriter<StdTcp>> = Topics::new();
    let mut server = Server::new("127.0.0.1:0").with_config(config.clone());
    let attached = topics.clone();
    server.on_connect_split("/s", move |reader, writer, path| {
        let me = attached.attach(QueuedWriter::new(writer.clone()), path);
        me.subscribe(FEED)?;
        while reader.read_message().is_ok() {}
        Ok(())
    })?;
    let handle = server.spawn()?;
    let clients = Clients::connect(runtime, handle.local_addr(), n);
    wait("blocking topics subscribed", || {
        topics.subscribers(FEED) == n
    });
    let publish_topics = topics.clone();
    let publish: Publish = Arc::new(move |message| {
        publish_topics.publish(FEED, message);
    });
    steps("Topics, blocking server", &publish, &clients, options);
    drop(clients);
    handle.shutdown();

    // The blocking Broadcast.
    let room: Arc<Broadcast<StdTcp>> = Arc::new(Broadcast::new());
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    let members = Arc::clone(&room);
    server.on_connect_split("/s", move |reader, writer, _path| {
        let member = members.join(writer.clone());
        while reader.read_message().is_ok() {}
        members.leave(member);
        Ok(())
    })?;
    let handle = server.spawn()?;
    let clients = Clients::connect(runtime, handle.local_addr(), n);
    wait("blocking broadcast joined", || room.len() == n);
    let sender = Arc::clone(&room);
    let publish: Publish = Arc::new(move |message| {
        sender.send(message);
    });
    steps("Broadcast, blocking server", &publish, &clients, options);
    drop(clients);
    handle.shutdown();
    Ok(())
}

fn cluster(runtime: &Runtime, options: &Options, broker: &Broker) -> Result<(), BoxError> {
    let half = options.subscribers / 2;
    let config = ServerConfig::default().max_connections(options.subscribers + 16);
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let topics = AsyncTopics::new();
        let (inbox, incoming) = ws_cluster::inbox(16384);
        let node = runtime.block_on(async {
            let cluster = match broker.kind {
                Kind::Nats => Cluster::start(
                    topics.clone(),
                    Nats::connect(&broker.url(), inbox).await?,
                    incoming,
                    ClusterConfig::default(),
                ),
                Kind::Redis => Cluster::start(
                    topics.clone(),
                    Redis::connect(&broker.url(), inbox).await?,
                    incoming,
                    ClusterConfig::default(),
                ),
            };
            let addr = async_topic_server(&topics, config.clone()).await?;
            Ok::<_, BoxError>((cluster, addr))
        })?;
        nodes.push(node);
    }
    let clients = Clients::connect_many(
        runtime,
        &nodes.iter().map(|(_, addr)| *addr).collect::<Vec<_>>(),
        half,
    );
    wait("both nodes subscribed", || {
        nodes.iter().all(|(cluster, _)| {
            cluster.topics().subscribers(FEED) == half && cluster.stats().subjects == 1
        })
    });
    let publisher = nodes[0].0.clone();
    let publish: Publish = Arc::new(move |message| {
        publisher.publish(FEED, message);
    });
    steps(
        &format!("2 nodes + {:?}, {half}/node", broker.kind),
        &publish,
        &clients,
        options,
    );
    for (n, (cluster, _)) in nodes.iter().enumerate() {
        let stats = cluster.stats();
        println!(
            "  node {n}: sent {} undelivered {} received {} missed {} inbox_full {}",
            stats.sent, stats.undelivered, stats.received, stats.missed, stats.inbox_full
        );
    }
    Ok(())
}

/// An async server whose `/s` connections subscribe to the feed and hold.
async fn async_topic_server(
    topics: &AsyncTopics,
    config: ServerConfig,
) -> Result<SocketAddr, BoxError> {
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(config);
    let topics = topics.clone();
    server.on_connect_split("/s", move |mut reader, writer, path| {
        let topics = topics.clone();
        async move {
            let me = topics.attach(writer, path);
            me.subscribe(FEED)?;
            while reader.recv().await.is_ok() {}
            Ok(())
        }
    })?;
    let handle = server.spawn().await?;
    let addr = handle.local_addr();
    // The server runs as long as the bench: its handle would shut it down.
    std::mem::forget(handle);
    Ok(addr)
}

/// The subscribers: tasks that record each message's publish-to-receipt time.
struct Clients {
    count: usize,
    /// Each subscriber's latencies of a step, in nanoseconds, handed in at the marker.
    reports: Arc<Mutex<Vec<Vec<u64>>>>,
    done: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Clients {
    fn connect(runtime: &Runtime, addr: SocketAddr, n: usize) -> Clients {
        Clients::connect_many(runtime, &[addr], n)
    }

    /// `per_node` subscribers on each of `addrs`.
    fn connect_many(runtime: &Runtime, addrs: &[SocketAddr], per_node: usize) -> Clients {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for addr in addrs {
            for _ in 0..per_node {
                let url = format!("ws://{addr}/s");
                let reports = Arc::clone(&reports);
                let done = Arc::clone(&done);
                tasks.push(runtime.spawn(async move {
                    let Ok((mut ws, _)) = websockets::client::connect_async(url).await else {
                        return;
                    };
                    let mut latencies = Vec::new();
                    while let Ok(message) = ws.recv().await {
                        let now = since_start();
                        let text = message.as_text().unwrap_or_default();
                        if text == "end" {
                            reports.lock().unwrap().push(std::mem::take(&mut latencies));
                            done.fetch_add(1, Ordering::SeqCst);
                        } else if let Ok(sent) = text.parse::<u64>() {
                            latencies.push(now.saturating_sub(sent));
                        }
                    }
                }));
            }
        }
        Clients {
            count: addrs.len() * per_node,
            reports,
            done,
            tasks,
        }
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One step per rate, after an unreported warm-up step (connections' buffers grown,
/// tasks spread over the workers).
fn steps(setup: &str, publish: &Publish, clients: &Clients, options: &Options) {
    let warm_up = Options {
        messages: 100,
        rates: vec![0],
        ..options.clone()
    };
    step(None, publish, clients, &warm_up, 0);
    for &rate in &options.rates {
        step(Some(setup), publish, clients, options, rate);
    }
}

/// Publishes `options.messages` at `rate` and reports, unless `setup` is `None`.
fn step(setup: Option<&str>, publish: &Publish, clients: &Clients, options: &Options, rate: u64) {
    {
        clients.done.store(0, Ordering::SeqCst);
        clients.reports.lock().unwrap().clear();
        let start = Instant::now();
        let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64));
        for i in 0..options.messages {
            if let Some(interval) = interval {
                let due = start + interval * i as u32;
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
            }
            publish(&Message::text(since_start().to_string()));
        }
        publish(&Message::text("end"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while clients.done.load(Ordering::SeqCst) < clients.count && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        let elapsed = start.elapsed();
        let finished = clients.done.load(Ordering::SeqCst);
        let mut latencies: Vec<u64> = clients
            .reports
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .copied()
            .collect();
        latencies.sort_unstable();
        let delivered = latencies.len();
        let percentile = |p: usize| {
            latencies
                .get((delivered * p / 100).min(delivered.saturating_sub(1)))
                .map_or("-".to_owned(), |&ns| format!("{:.2} ms", ns as f64 / 1e6))
        };
        let Some(setup) = setup else {
            return;
        };
        let rate_label = if rate == 0 {
            "max".to_owned()
        } else {
            rate.to_string()
        };
        println!(
            "{setup:<34} {rate_label:>8} {:>14.0} {:>10} {:>10}{}",
            delivered as f64 / elapsed.as_secs_f64(),
            percentile(50),
            percentile(99),
            if finished < clients.count {
                format!(
                    "  ({} of {} subscribers finished; {} of {} copies)",
                    finished,
                    clients.count,
                    delivered,
                    clients.count * options.messages
                )
            } else if delivered < clients.count * options.messages {
                format!(
                    "  ({} of {} copies)",
                    delivered,
                    clients.count * options.messages
                )
            } else {
                String::new()
            }
        );
    }
}

fn since_start() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn wait(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Nats,
    Redis,
}

/// A broker in a child process on a free port; killed on drop.
struct Broker {
    kind: Kind,
    port: u16,
    child: Child,
}

impl Broker {
    fn start(kind: Kind) -> Result<Broker, BoxError> {
        let port = StdListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let port_text = port.to_string();
        let mut command = match kind {
            Kind::Nats => {
                let mut command = Command::new("nats-server");
                command.args(["-a", "127.0.0.1", "-p", &port_text]);
                command
            }
            Kind::Redis => {
                let mut command = Command::new("redis-server");
                command.args(["--bind", "127.0.0.1", "--port", &port_text]);
                command.args(["--save", "", "--appendonly", "no"]);
                command
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let broker = Broker { kind, port, child };
        wait("the broker listens", || {
            StdTcp::connect(("127.0.0.1", port)).is_ok()
        });
        Ok(broker)
    }

    fn url(&self) -> String {
        match self.kind {
            Kind::Nats => format!("nats://127.0.0.1:{}", self.port),
            Kind::Redis => format!("redis://127.0.0.1:{}", self.port),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[derive(Clone)]
struct Options {
    subscribers: usize,
    messages: usize,
    rates: Vec<u64>,
    only: Option<String>,
}

impl Options {
    fn parse() -> Result<Options, BoxError> {
        let mut options = Options {
            subscribers: 1000,
            messages: 500,
            rates: vec![50, 200, 0],
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--subscribers" => options.subscribers = value()?.parse()?,
                "--messages" => options.messages = value()?.parse()?,
                "--rates" => {
                    options.rates = value()?
                        .split(',')
                        .map(str::parse)
                        .collect::<Result<_, _>>()?;
                }
                "--only" => options.only = Some(value()?),
                // cargo bench passes this to every bench binary.
                "--bench" => {}
                _ => return Err(format!("unknown option {flag}").into()),
            }
        }
        Ok(options)
    }
}

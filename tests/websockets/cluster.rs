//! `examples/cluster-chat.rs` as three node processes around a real broker, Debian's
//! `nats-server` or `redis-server` (`tests/peers/install.sh` installs them), each
//! started by the test on a port it picked and stopped when it ends: one publish
//! reaches every node's members once and in order; the others go on when a node is
//! killed; the nodes resubscribe after the broker restarts, and count the gap; a slow
//! member on one node is dropped without holding the others up.
//!
//! Nothing here sleeps and hopes: each step waits for an event (a message, a line
//! of `/stats`) with a deadline that only ends a stuck test.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use websockets::Message;
use websockets::stream::Writer;

use crate::hostile::support::spawn_example;

/// Only ends a stuck test; nothing is timed against it.
const STUCK: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nats,
    Redis,
}

/// A broker in a child process, on a port of its own; killed on drop.
struct Broker {
    kind: Kind,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    fn start(kind: Kind) -> Broker {
        let mut broker = Broker {
            kind,
            port: free_port(),
            child: None,
        };
        broker.run();
        broker
    }

    fn url(&self) -> String {
        match self.kind {
            Kind::Nats => format!("nats://127.0.0.1:{}", self.port),
            Kind::Redis => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    fn flag(&self) -> &'static str {
        match self.kind {
            Kind::Nats => "--nats",
            Kind::Redis => "--redis",
        }
    }

    fn run(&mut self) {
        let port = self.port.to_string();
        let (program, args): (&str, Vec<&str>) = match self.kind {
            Kind::Nats => ("nats-server", vec!["-a", "127.0.0.1", "-p", &port]),
            Kind::Redis => (
                "redis-server",
                vec![
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &port,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
            ),
        };
        let child = Command::new(installed(program))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run {program} ({error}): run tests/peers/install.sh")
            });
        self.child = Some(child);
        let deadline = Instant::now() + STUCK;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{program} never listened");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nobody listens on now: bound, read and let go.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where Debian puts a broker: on `PATH`, or in `/usr/sbin` (nats-server), which a
/// non-root `PATH` often leaves out.
fn installed(program: &str) -> std::path::PathBuf {
    ["/usr/sbin", "/usr/bin"]
        .iter()
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|path| path.exists())
        .unwrap_or_else(|| program.into())
}

/// `examples/cluster-chat` in a child process; killed on drop.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Node {
    fn start(broker: &Broker, extra: &[&str]) -> Node {
        let url = broker.url();
        let args: Vec<&str> = ["--listen", "127.0.0.1:0", broker.flag(), &url]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let (child, addr) = spawn_example("cluster-chat", &args);
        Node { child, addr }
    }

    /// The counters of `GET /stats`.
    fn stats(&self) -> HashMap<String, String> {
        let mut tcp = TcpStream::connect(self.addr).unwrap();
        tcp.set_read_timeout(Some(STUCK)).unwrap();
        tcp.write_all(b"GET /stats HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        body.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    fn stat(&self, key: &str) -> u64 {
        match self.stats().get(key).map(String::as_str) {
            Some("true") => 1,
            Some("false") => 0,
            Some(value) => value.parse().unwrap(),
            None => panic!("no {key} in /stats"),
        }
    }

    /// Waits until `/stats` shows `key` satisfying `ok`.
    fn wait_stat(&self, key: &str, what: &str, ok: impl Fn(u64) -> bool) {
        let deadline = Instant::now() + STUCK;
        loop {
            let value = self.stat(key);
            if ok(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting until {what} ({key}={value})"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// A member of the node's chat room, once the node counts it.
    fn join(&self) -> Member {
        let before = self.stat("members");
        let member = Member::connect(self.addr);
        self.wait_stat("members", "the member is in the room", |n| n > before);
        member
    }

    fn kill(mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A chat client: sends on one half, and a thread reads the other into a channel.
struct Member {
    writer: Writer<TcpStream>,
    received: mpsc::Receiver<String>,
}

impl Member {
    fn connect(addr: SocketAddr) -> Member {
        let client = websockets::client::connect(format!("ws://{addr}/chat")).unwrap();
        let (mut reader, writer) = client.into_stream().unwrap().split().unwrap();
        let (sender, received) = mpsc::channel();
        thread::spawn(move || {
            while let Ok(message) = reader.read_message() {
                let text = message.as_text().unwrap_or_default().to_owned();
                if sender.send(text).is_err() {
                    return;
                }
            }
        });
        Member { writer, received }
    }

    fn say(&self, text: &str) {
        self.writer.send(&Message::text(text)).unwrap();
    }

    fn next(&self) -> String {
        self.received
            .recv_timeout(STUCK)
            .expect("a message arrives before the test is stuck")
    }

    /// Reads until `text` arrives, and returns what came before it.
    fn until(&self, text: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let next = self.next();
            if next == text {
                return before;
            }
            before.push(next);
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // The reading thread holds the socket too: our Close makes the node answer,
        // which ends that thread and the connection.
        self.writer.close().ok();
    }
}

/// Three nodes on one broker, each subscribed to the room at the broker.
fn three_nodes(broker: &Broker, extra: &[&str]) -> Vec<Node> {
    (0..3).map(|_| Node::start(broker, extra)).collect()
}

fn joined(nodes: &[Node], per_node: usize) -> Vec<Vec<Member>> {
    let members: Vec<Vec<Member>> = nodes
        .iter()
        .map(|node| (0..per_node).map(|_| node.join()).collect())
        .collect();
    for node in nodes {
        node.wait_stat("subjects", "the node follows the room at the broker", |n| {
            n == 1
        });
    }
    members
}

fn each_publish_reaches_every_member_once_and_in_order(kind: Kind) {
    let broker = Broker::start(kind);
    let nodes = three_nodes(&broker, &[]);
    for node in &nodes {
        assert_eq!(node.stat("subjects"), 0, "no members, no subscription");
    }
    let members = joined(&nodes, 2);
    let everyone = || members.iter().flatten();

    // One message from a member of each node: every member gets all three, once.
    for (n, node_members) in members.iter().enumerate() {
        node_members[0].say(&format!("hello from node {n}"));
    }
    for member in everyone() {
        let mut got: Vec<String> = (0..3).map(|_| member.next()).collect();
        got.sort();
        assert_eq!(
            got,
            [
                "hello from node 0",
                "hello from node 1",
                "hello from node 2"
            ]
        );
    }
    // One publisher's messages arrive in order, and nothing came twice: the next
    // thing each member sees after them is the marker.
    let publisher = &members[1][1];
    for i in 0..200 {
        publisher.say(&format!("{i}"));
    }
    publisher.say("end");
    let expected: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    for member in everyone() {
        assert_eq!(member.until("end"), expected);
    }
    for node in &nodes {
        let stats = node.stats();
        assert_eq!(stats["missed"], "0", "{stats:?}");
        assert_eq!(stats["undelivered"], "0", "{stats:?}");
    }
    // The node whose members all left stops following the room.
    let node2 = &nodes[2];
    drop(members);
    node2.wait_stat("subjects", "an empty node unsubscribes", |n| n == 0);
}

fn the_others_go_on_when_a_node_is_killed(kind: Kind) {
    let broker = Broker::start(kind);
    let mut nodes = three_nodes(&broker, &[]);
    let members = joined(&nodes, 1);
    let (publisher, listener) = (&members[0][0], &members[1][0]);
    for i in 0..50 {
        publisher.say(&i.to_string());
    }
    publisher.say("half");
    let first: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    assert_eq!(listener.until("half"), first);
    assert_eq!(members[2][0].until("half"), first);
    nodes.pop().unwrap().kill();
    // The killed node's member sees its connection end.
    assert!(members[2][0].received.recv_timeout(STUCK).is_err());
    for i in 50..100 {
        publisher.say(&i.to_string());
    }
    publisher.say("end");
    let second: Vec<String> = (50..100).map(|i| i.to_string()).collect();
    assert_eq!(listener.until("end"), second);
    assert_eq!(publisher.until("half"), first);
    assert_eq!(publisher.until("end"), second);
}

fn the_nodes_resubscribe_after_the_broker_restarts_and_count_the_gap(kind: Kind) {
    let mut broker = Broker::start(kind);
    let nodes = three_nodes(&broker, &[]);
    let members = joined(&nodes, 1);
    let (publisher, listener) = (&members[0][0], &members[1][0]);
    publisher.say("before");
    assert_eq!(listener.next(), "before");

    broker.stop();
    nodes[0].wait_stat("connected", "the node sees the broker gone", |c| c == 0);
    for i in 0..10 {
        publisher.say(&format!("gap {i}"));
    }
    // Its own members still get them: local delivery needs no broker.
    publisher.say("gap end");
    assert_eq!(publisher.until("before"), Vec::<String>::new());
    assert_eq!(publisher.until("gap end").len(), 10);
    nodes[0].wait_stat("undelivered", "the gap is counted", |n| n >= 11);

    broker.restart();
    for node in &nodes {
        node.wait_stat("connected", "the node reconnects", |c| c == 1);
    }
    // Resubscribed: a publish reaches the other node again. The first ones after the
    // restart may still race the resubscription, so it probes until one arrives.
    let deadline = Instant::now() + STUCK;
    let mut probe = 0;
    loop {
        publisher.say(&format!("probe {probe}"));
        if let Ok(text) = listener.received.recv_timeout(Duration::from_millis(100)) {
            assert!(text.starts_with("probe "), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "the node never resubscribed");
        probe += 1;
    }
    publisher.say("after");
    let rest = listener.until("after");
    assert!(
        rest.iter().all(|text| text.starts_with("probe ")),
        "{rest:?}"
    );
    members[2][0].until("after");
    // The other nodes saw the publisher's sequence numbers jump over the gap.
    nodes[1].wait_stat("missed", "the receiving node counts the gap", |n| n >= 11);
}

fn a_slow_member_on_one_node_is_dropped_and_holds_nobody_up(kind: Kind) {
    let broker = Broker::start(kind);
    let nodes = three_nodes(&broker, &["--max-write-buffer", "65536"]);
    let members = joined(&nodes, 1);
    let slow = nodes[1].addr;
    // A member that never reads: a raw upgrade, then silence.
    let mut silent = TcpStream::connect(slow).unwrap();
    write!(
        silent,
        "GET /chat HTTP/1.1\r\nHost: node\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    nodes[1].wait_stat("members", "the silent member joined", |n| n == 2);

    let (publisher, listener) = (&members[0][0], &members[1][0]);
    let body = "z".repeat(16 << 10);
    let mut sent = 0;
    while nodes[1].stat("slow") == 0 {
        assert!(sent < 20_000, "the silent member was never dropped");
        for _ in 0..50 {
            publisher.say(&format!("{sent} {body}"));
            sent += 1;
        }
        // In step with the readers, so that only the silent one falls behind.
        assert_eq!(listener.next(), format!("{} {body}", sent - 50));
        for i in sent - 49..sent {
            assert_eq!(listener.next(), format!("{i} {body}"));
        }
    }
    assert_eq!(nodes[1].stat("members"), 1);
    publisher.say("end");
    assert_eq!(listener.until("end"), Vec::<String>::new());
    let third = &members[2][0];
    assert_eq!(third.until("end").len(), sent);
    drop(silent);
}

#[test]
fn nats_each_publish_reaches_every_member_once_and_in_order() {
    each_publish_reaches_every_member_once_and_in_order(Kind::Nats);
}

#[test]
fn redis_each_publish_reaches_every_member_once_and_in_order() {
    each_publish_reaches_every_member_once_and_in_order(Kind::Redis);
}

#[test]
fn nats_the_others_go_on_when_a_node_is_killed() {
    the_others_go_on_when_a_node_is_killed(Kind::Nats);
}

#[test]
fn redis_the_others_go_on_when_a_node_is_killed() {
    the_others_go_on_when_a_node_is_killed(Kind::Redis);
}

#[test]
fn nats_the_nodes_resubscribe_after_the_broker_restarts_and_count_the_gap() {
    the_nodes_resubscribe_after_the_broker_restarts_and_count_the_gap(Kind::Nats);
}

#[test]
fn redis_the_nodes_resubscribe_after_the_broker_restarts_and_count_the_gap() {
    the_nodes_resubscribe_after_the_broker_restarts_and_count_the_gap(Kind::Redis);
}

#[test]
fn nats_a_slow_member_on_one_node_is_dropped_and_holds_nobody_up() {
    a_slow_member_on_one_node_is_dropped_and_holds_nobody_up(Kind::Nats);
}

#[test]
fn redis_a_slow_member_on_one_node_is_dropped_and_holds_nobody_up() {
    a_slow_member_on_one_node_is_dropped_and_holds_nobody_up(Kind::Redis);
}

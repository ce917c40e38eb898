//! Echo round trips over loopback TCP: a client sends one message and reads its echo
//! from a server thread, in messages per second.
//!
//! Run with `cargo bench -p ws-stream --bench echo -- --warm-up-time 1 --measurement-time 5`.
//!
//! For each size (16 B, 1 KiB, 64 KiB and 1 MiB of text), in one run:
//! - `ws-stream`: our client and server (`Stream::send` then `Stream::read_message`);
//! - `tungstenite`: tungstenite on both ends (`WebSocket::from_raw_socket`, `send` then
//!   `read`), the peer to beat;
//! - `raw-tcp`: the same bytes echoed with plain `write_all` and `read_exact`, the
//!   physical limit of the loopback round trip (no framing, masking or checks).
//!
//! Both ends set `TCP_NODELAY`, and every variant gets fresh sockets.
//!
//! A loopback round trip costs tens of microseconds of system calls and thread
//! wake-ups, which hides what the libraries themselves cost at small sizes. The
//! `echo_in_memory_*` groups run the same echo on one thread over an in-memory
//! duplex buffer (client send, server read and send, client read), so they measure
//! the CPU time of both ends' framing, masking, UTF-8 checks and copies alone.
//!
//! The `echo_deflate_*` groups run that in-memory echo on JSON-like text of 1 KiB and
//! 64 KiB with permessage-deflate off and on (12-bit windows both ways with context
//! takeover, what our server agrees to by default), and beside them the `floor`: the
//! same four steps (compress, inflate, compress, inflate) as direct zlib-rs calls
//! with the same settings, no framing. `deflate-on / floor` is what our
//! compress + frame + inflate path costs over the backend alone. Before each group
//! the bytes on the wire per round trip are printed to stderr, from `Stream::stats`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::thread::{self, JoinHandle};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tungstenite::protocol::{Role as TRole, WebSocket};
use ws_stream::{Config, Deflate, Message, Role, Stream};

criterion_group!(benches, echo, echo_in_memory, echo_deflate);
criterion_main!(benches);

const SIZES: [(usize, &str); 4] = [
    (16, "16B"),
    (1 << 10, "1KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

fn echo(c: &mut Criterion) {
    for (size, label) in SIZES {
        let text = "x".repeat(size);
        let mut group = c.benchmark_group(format!("echo_{label}"));
        group.throughput(Throughput::Elements(1));
        if size >= 64 << 10 {
            group.sample_size(50);
        }

        group.bench_function(BenchmarkId::from_parameter("ws-stream"), |b| {
            let (client, server) = pair();
            let echo = thread::spawn(move || {
                let mut server = Stream::with_role(server, Role::Server);
                while let Ok(message) = server.read_message() {
                    if server.send(&message).is_err() {
                        break;
                    }
                }
            });
            let mut client = Stream::with_role(client, Role::Client);
            let message = Message::text(text.clone());
            b.iter(|| {
                client.send(&message).expect("send");
                black_box(client.read_message().expect("echo"));
            });
            client.close().expect("close");
            finish(echo);
        });

        group.bench_function(BenchmarkId::from_parameter("tungstenite"), |b| {
            let (client, server) = pair();
            let echo = thread::spawn(move || {
                let mut server = WebSocket::from_raw_socket(server, TRole::Server, None);
                while let Ok(message) = server.read() {
                    if (message.is_text() || message.is_binary()) && server.send(message).is_err() {
                        break;
                    }
                }
            });
            let mut client = WebSocket::from_raw_socket(client, TRole::Client, None);
            let message = tungstenite::Message::text(text.clone());
            b.iter(|| {
                client.send(message.clone()).expect("send");
                black_box(client.read().expect("echo"));
            });
            client.close(None).ok();
            while client.read().is_ok() {}
            finish(echo);
        });

        group.bench_function(BenchmarkId::from_parameter("raw-tcp"), |b| {
            let (mut client, mut server) = pair();
            let echo = thread::spawn(move || {
                let mut buf = vec![0; size];
                while server.read_exact(&mut buf).is_ok() {
                    if server.write_all(&buf).is_err() {
                        break;
                    }
                }
            });
            let bytes = text.clone().into_bytes();
            let mut back = vec![0; size];
            b.iter(|| {
                client.write_all(&bytes).expect("send");
                client.read_exact(&mut back).expect("echo");
                black_box(&back);
            });
            drop(client);
            finish(echo);
        });

        group.finish();
    }
}

fn echo_in_memory(c: &mut Criterion) {
    for (size, label) in SIZES {
        let text = "x".repeat(size);
        let mut group = c.benchmark_group(format!("echo_in_memory_{label}"));
        group.throughput(Throughput::Elements(1));

        group.bench_function(BenchmarkId::from_parameter("ws-stream"), |b| {
            let (client, server) = memory_pair();
            let mut client = Stream::with_role(client, Role::Client);
            let mut server = Stream::with_role(server, Role::Server);
            let message = Message::text(text.clone());
            b.iter(|| {
                client.send(&message).expect("send");
                let received = server.read_message().expect("receive");
                server.send(&received).expect("echo");
                black_box(client.read_message().expect("echo"));
            });
        });

        group.bench_function(BenchmarkId::from_parameter("tungstenite"), |b| {
            let (client, server) = memory_pair();
            let mut client = WebSocket::from_raw_socket(client, TRole::Client, None);
            let mut server = WebSocket::from_raw_socket(server, TRole::Server, None);
            let message = tungstenite::Message::text(text.clone());
            b.iter(|| {
                client.send(message.clone()).expect("send");
                let received = server.read().expect("receive");
                server.send(received).expect("echo");
                black_box(client.read().expect("echo"));
            });
        });

        group.finish();
    }
}

fn echo_deflate(c: &mut Criterion) {
    for (size, label) in [(1 << 10, "1KiB"), (64 << 10, "64KiB")] {
        let texts = json_messages(size);
        for deflate in [false, true] {
            report_wire_bytes(label, &texts, deflate);
        }
        let mut group = c.benchmark_group(format!("echo_deflate_{label}"));
        group.throughput(Throughput::Elements(1));
        for (name, deflate) in [("deflate-off", false), ("deflate-on", true)] {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                let (mut client, mut server) = deflate_pair(deflate);
                let messages: Vec<Message> = texts.iter().map(Message::text).collect();
                let mut next = messages.iter().cycle();
                b.iter(|| {
                    let message = next.next().expect("a cycle never ends");
                    black_box(round_trip(&mut client, &mut server, message))
                });
            });
        }
        group.bench_function(BenchmarkId::from_parameter("floor"), |b| {
            let mut there = Floor::new(size);
            let mut back = Floor::new(size);
            let mut next = texts.iter().cycle();
            b.iter(|| {
                let text = next.next().expect("a cycle never ends");
                let received = there.pass(text.as_bytes());
                black_box(back.pass(received).len())
            });
        });
        group.finish();
    }
}

/// The window both ends compress with: our server's default answer.
const DEFLATE_WINDOW_BITS: u8 = 12;

/// An in-memory client and server, with permessage-deflate agreed or not.
fn deflate_pair(deflate: bool) -> (Stream<Memory>, Stream<Memory>) {
    let config = |role| {
        let agreed = Deflate::agreed(role, DEFLATE_WINDOW_BITS, DEFLATE_WINDOW_BITS, false, false);
        Config::default().deflate(deflate.then_some(agreed))
    };
    let (client, server) = memory_pair();
    (
        Stream::with_config(client, Role::Client, config(Role::Client)),
        Stream::with_config(server, Role::Server, config(Role::Server)),
    )
}

/// The client sends `message`, the server echoes it, the client reads the echo.
fn round_trip(
    client: &mut Stream<Memory>,
    server: &mut Stream<Memory>,
    message: &Message,
) -> usize {
    client.send(message).expect("send");
    let received = server.read_message().expect("receive");
    server.send(&received).expect("echo");
    match client.read_message().expect("echo") {
        Message::Text(text) => text.len(),
        Message::Binary(data) => data.len(),
    }
}

/// Prints the bytes that cross the wire per round trip, once the compressors are warm.
fn report_wire_bytes(label: &str, texts: &[String], deflate: bool) {
    const ROUND_TRIPS: u64 = 128;
    let (mut client, mut server) = deflate_pair(deflate);
    let messages: Vec<Message> = texts.iter().map(Message::text).collect();
    for message in messages.iter().cycle().take(ROUND_TRIPS as usize) {
        round_trip(&mut client, &mut server, message);
    }
    let text = &texts[0];
    let stats = client.stats();
    let compressed = stats.compressed_messages_sent + stats.compressed_messages_received;
    eprintln!(
        "echo_deflate_{label}/deflate-{}: {} bytes on the wire per round trip for {} bytes \
         of payload ({:.1}%), {compressed} of {} messages compressed",
        if deflate { "on" } else { "off" },
        (stats.bytes_sent + stats.bytes_received) / ROUND_TRIPS,
        2 * text.len(),
        100.0 * (stats.bytes_sent + stats.bytes_received) as f64
            / (2 * text.len() as u64 * ROUND_TRIPS) as f64,
        2 * ROUND_TRIPS,
    );
}

/// Eight different messages of JSON-like text, `size` bytes each, sent in turn: with
/// context takeover, one message sent again and again would shrink to a reference to
/// the one before.
fn json_messages(size: usize) -> Vec<String> {
    (0..8).map(|n| json_like(size, n * 100_000)).collect()
}

/// JSON-like text of exactly `size` bytes: an array of records whose keys repeat and
/// whose values vary, as an API's messages do, numbered from `first_id`.
fn json_like(size: usize, first_id: u64) -> String {
    let mut text = String::from("[");
    let mut id = first_id;
    while text.len() < size {
        let score = id.wrapping_mul(2_654_435_761) % 10_000;
        text.push_str(&format!(
            "{{\"id\":{id},\"name\":\"user-{id}\",\"email\":\"user-{id}@example.com\",\
             \"active\":{},\"score\":{score},\"tags\":[\"alpha\",\"beta\"]}},",
            !id.is_multiple_of(3)
        ));
        id += 1;
    }
    text.truncate(size);
    text
}

/// One direction of the echo as direct zlib-rs calls: a compressor and an inflater
/// with the settings [`deflate_pair`]'s ends use, each keeping its context.
struct Floor {
    deflate: zlib_rs::Deflate,
    inflate: zlib_rs::Inflate,
    compressed: Vec<u8>,
    inflated: Vec<u8>,
}

impl Floor {
    fn new(size: usize) -> Floor {
        let config = zlib_rs::DeflateConfig {
            level: 6,
            window_bits: -i32::from(DEFLATE_WINDOW_BITS),
            mem_level: 5,
            ..zlib_rs::DeflateConfig::default()
        };
        Floor {
            deflate: zlib_rs::Deflate::new_with_config(config),
            inflate: zlib_rs::Inflate::new(false, DEFLATE_WINDOW_BITS),
            compressed: Vec::with_capacity(size + 64),
            inflated: vec![0; size],
        }
    }

    /// Compresses `payload` with a sync flush, drops the flush's four-byte tail and
    /// puts it back, as permessage-deflate does, and inflates it again.
    fn pass(&mut self, payload: &[u8]) -> &[u8] {
        self.compressed.clear();
        self.compressed.resize(payload.len() + 64, 0);
        let before = self.deflate.total_out();
        self.deflate
            .compress(
                payload,
                &mut self.compressed,
                zlib_rs::DeflateFlush::SyncFlush,
            )
            .expect("compress");
        let written = usize::try_from(self.deflate.total_out() - before).expect("length");
        self.compressed.truncate(written - 4);
        self.compressed.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let before = self.inflate.total_out();
        self.inflate
            .decompress(
                &self.compressed,
                &mut self.inflated,
                zlib_rs::InflateFlush::SyncFlush,
            )
            .expect("inflate");
        let produced = usize::try_from(self.inflate.total_out() - before).expect("length");
        &self.inflated[..produced]
    }
}

/// One end of an in-memory duplex buffer; reads would block when nothing is queued.
#[derive(Debug, Default)]
struct Memory {
    incoming: Rc<RefCell<VecDeque<u8>>>,
    outgoing: Rc<RefCell<VecDeque<u8>>>,
}

fn memory_pair() -> (Memory, Memory) {
    let a = Memory::default();
    let b = Memory {
        incoming: Rc::clone(&a.outgoing),
        outgoing: Rc::clone(&a.incoming),
    };
    (a, b)
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut incoming = self.incoming.borrow_mut();
        if incoming.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        incoming.read(buf)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outgoing.borrow_mut().extend(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connected loopback pair with `TCP_NODELAY` on both ends: (client, server).
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    (client, server)
}

fn finish(echo: JoinHandle<()>) {
    echo.join().expect("echo thread");
}

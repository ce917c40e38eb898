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

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::thread::{self, JoinHandle};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tungstenite::protocol::{Role as TRole, WebSocket};
use ws_stream::{Message, Role, Stream};

criterion_group!(benches, echo, echo_in_memory);
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

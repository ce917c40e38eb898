//! What a message's representation costs in a broadcast: one message to 1,000 server
//! connections, through the sans-IO core (no I/O, so only our copies and framing
//! count), in deliveries per second.
//!
//! Run with `cargo bench -p ws-stream --bench broadcast -- --warm-up-time 1 --measurement-time 3`.
//!
//! - `owned-clone`: each subscriber gets its own `Message` (a `String`/`Vec<u8>`
//!   clone), as with an owned message type and a channel per subscriber;
//! - `shared-arc`: each gets a clone of one `Arc<[u8]>`, the cost a shared byte
//!   buffer type (`bytes::Bytes` and the like) would have;
//! - `prepared`: `PreparedMessage`, framed once and copied into each connection's
//!   write buffer.
//!
//! The echo side of the same question is the `echo` bench: a received message is
//! moved into the `Message` that is sent back, so a shared buffer saves no copy there.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_stream::proto::Connection;
use ws_stream::{Config, Message, PreparedMessage, Role};

criterion_group!(benches, broadcast);
criterion_main!(benches);

const SUBSCRIBERS: usize = 1000;

fn broadcast(c: &mut Criterion) {
    for (size, label) in [(64, "64B"), (1 << 10, "1KiB"), (16 << 10, "16KiB")] {
        let text = "x".repeat(size);
        let mut group = c.benchmark_group(format!("broadcast_{label}"));
        group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
        let mut conns: Vec<Connection> = (0..SUBSCRIBERS)
            .map(|_| Connection::new(Role::Server, &Config::default(), Instant::now()))
            .collect();
        let drain = |conns: &mut Vec<Connection>| {
            for conn in conns.iter_mut() {
                let n = conn.pending().len();
                black_box(conn.pending());
                conn.advance(n);
            }
        };

        let message = Message::text(text.clone());
        group.bench_function(BenchmarkId::from_parameter("owned-clone"), |b| {
            b.iter(|| {
                for conn in conns.iter_mut() {
                    let own = message.clone();
                    conn.send(&own).expect("send");
                }
                drain(&mut conns);
            });
        });

        let shared: Arc<[u8]> = text.clone().into_bytes().into();
        group.bench_function(BenchmarkId::from_parameter("shared-arc"), |b| {
            b.iter(|| {
                for conn in conns.iter_mut() {
                    let own = Arc::clone(&shared);
                    conn.send_binary(&own).expect("send");
                }
                drain(&mut conns);
            });
        });

        let prepared = PreparedMessage::new(&message);
        group.bench_function(BenchmarkId::from_parameter("prepared"), |b| {
            b.iter(|| {
                for conn in conns.iter_mut() {
                    conn.send_prepared(&prepared).expect("send");
                }
                drain(&mut conns);
            });
        });
        group.finish();
    }
}

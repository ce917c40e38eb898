//! Many tasks sending on one connection (feature `tokio`): the two designs issue 10
//! names, measured against each other on a loopback TCP connection whose peer drains
//! everything, on a two-worker multi-thread runtime.
//!
//! Run with `cargo bench -p ws-stream --features tokio --bench many_senders -- --warm-up-time 1 --measurement-time 3`.
//!
//! - `split-halves`: what `AsyncStream::split` gives, every task holding an
//!   `AsyncWriter` clone; the halves share the connection under a lock held for one
//!   poll, and each send writes what the socket takes at once.
//! - `channel`: every task holds a clone of a bounded `tokio::sync::mpsc` sender (1,024
//!   messages), and one task owns the `AsyncStream`, takes what has arrived (up to 64
//!   messages), queues it with one `send` each and writes when the channel is empty.
//!
//! Each iteration sends 8 tasks x 1,000 messages of 64 bytes and waits until the last
//! is written; the throughput is in messages.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use ws_stream::{AsyncStream, Message, Role};

criterion_group!(benches, many_senders);
criterion_main!(benches);

const TASKS: usize = 8;
const EACH: usize = 1000;
const SIZE: usize = 64;

fn many_senders(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("many_senders");
    group.throughput(Throughput::Elements((TASKS * EACH) as u64));
    group.bench_function(BenchmarkId::from_parameter("split-halves"), |b| {
        b.iter_custom(|iters| runtime.block_on(timed(iters, split_halves)));
    });
    group.bench_function(BenchmarkId::from_parameter("channel"), |b| {
        b.iter_custom(|iters| runtime.block_on(timed(iters, channel)));
    });
    group.finish();
}

/// Runs `run` `iters` times, each on a fresh connection, and adds up the time spent
/// sending (the connection setup is left out).
async fn timed<F, Fut>(iters: u64, run: F) -> Duration
where
    F: Fn(AsyncStream<TcpStream>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (ours, drain) = pair().await;
        let start = Instant::now();
        run(ours).await;
        total += start.elapsed();
        drain.abort();
    }
    total
}

/// A server-side connection over loopback, and a task that reads and discards all the
/// peer receives.
async fn pair() -> (AsyncStream<TcpStream>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut peer = TcpStream::connect(addr).await.expect("connect");
    let (ours, _) = listener.accept().await.expect("accept");
    ours.set_nodelay(true).ok();
    let drain = tokio::spawn(async move {
        let mut sink = vec![0; 64 << 10];
        while matches!(peer.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    (AsyncStream::new(ours, Role::Server), drain)
}

async fn split_halves(ws: AsyncStream<TcpStream>) {
    let (_reader, writer) = ws.split();
    let message = Message::binary(vec![7; SIZE]);
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let writer = writer.clone();
            let message = message.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    writer.send(&message).await.expect("send");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender");
    }
    writer.flush().await.expect("flush");
}

async fn channel(mut ws: AsyncStream<TcpStream>) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Message>(1024);
    let message = Message::binary(vec![7; SIZE]);
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let sender = sender.clone();
            let message = message.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    sender.send(message.clone()).await.expect("send");
                }
            })
        })
        .collect();
    drop(sender);
    let owner = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(64);
        while receiver.recv_many(&mut batch, 64).await > 0 {
            for message in batch.drain(..) {
                ws.send(&message).await.expect("send");
            }
        }
        ws.flush().await.expect("flush");
    });
    for task in tasks {
        task.await.expect("sender");
    }
    owner.await.expect("owner");
}

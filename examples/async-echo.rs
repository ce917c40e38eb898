//! An async echo server on tokio: every text and binary message comes back with the
//! same opcode, on any path, until the process is killed.
//!
//! ```text
//! cargo build --release --example async-echo
//! target/release/examples/async-echo [ADDRESS] [--multi-thread | --per-core]
//! ```
//!
//! Listens on `ADDRESS` (default `127.0.0.1:9001`; port 0 picks a free one) and prints
//! `listening on ws://ADDRESS/` once it accepts connections. Each connection is one
//! task: `accept_async` runs the handshake, then the connection echoes until the peer
//! closes. Replies are fed, not sent: they go out when no more input is ready, so the
//! replies to pipelined messages share one write; each message's buffer is recycled
//! for the next, so the echo allocates nothing per message. The async layers come from the
//! `tokio` feature, which the facade's dev-dependencies turn on for its examples.
//!
//! Two ways to use the cores, both measured by `ws-loadgen`'s async scenarios:
//! `--per-core` (the default, faster there) is one current-thread runtime per core,
//! each accepting on its own listener of the same port (`SO_REUSEPORT`: the kernel
//! spreads the connections over them); `--multi-thread` is one tokio multi-thread
//! runtime, whose workers steal tasks from one another.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::net::SocketAddr;
use std::thread;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use websockets::server::accept_async;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut addr = String::from("127.0.0.1:9001");
    let mut per_core = true;
    let mut threads = thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--per-core" => per_core = true,
            "--multi-thread" => per_core = false,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--threads takes a number of threads, at least 1")?;
            }
            _ => addr = arg,
        }
    }
    if per_core {
        serve_per_core(&addr, threads)
    } else {
        serve_multi_thread(&addr)
    }
}

/// One multi-thread runtime, one listener.
fn serve_multi_thread(addr: &str) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        announce(listener.local_addr()?)?;
        accept_loop(listener).await
    })
}

/// A current-thread runtime per core, each with a listener of its own on one port.
fn serve_per_core(addr: &str, cores: usize) -> Result<(), BoxError> {
    let mut addr: SocketAddr = addr.parse()?;
    let mut runtimes = Vec::with_capacity(cores);
    for _ in 0..cores {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // Bound in this runtime, so that its reactor drives it; the first picks the
        // port when asked for port 0, and the others share the port it got.
        let listener = runtime.block_on(async { reuse_port_listener(addr) })?;
        addr = listener.local_addr()?;
        runtimes.push((runtime, listener));
    }
    announce(addr)?;
    let threads: Vec<_> = runtimes
        .into_iter()
        .map(|(runtime, listener)| thread::spawn(move || runtime.block_on(accept_loop(listener))))
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "an accept thread panicked")??;
    }
    Ok(())
}

fn reuse_port_listener(addr: SocketAddr) -> Result<TcpListener, BoxError> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(1024)?)
}

/// Tests and scripts wait for this line, so it must not sit in a buffer.
fn announce(addr: SocketAddr) -> Result<(), BoxError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{addr}/")?;
    out.flush()?;
    Ok(())
}

async fn accept_loop(listener: TcpListener) -> Result<(), BoxError> {
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(echo(tcp));
    }
}

/// One connection: the handshake, then every message back until the peer closes.
async fn echo(tcp: TcpStream) {
    // A message is written whole: Nagle's algorithm would only delay it.
    tcp.set_nodelay(true).ok();
    // Boxed: the handshake's read buffers are freed once it is done, instead of
    // staying in the task (a future is as large as its largest state) for the whole
    // life of the connection.
    let Ok(mut ws) = Box::pin(accept_async(tcp)).await else {
        return;
    };
    while let Ok(message) = ws.recv().await {
        // Given away: a large payload is written from its own buffer (no copy), and
        // that buffer then takes the next message (no allocation per message).
        if ws.feed_owned(message).await.is_err() {
            return;
        }
    }
}

//! Soak: many connections echoing random-size messages against the example echo server
//! (`examples/echo-server.rs`, in a child process) for a long time, to show that nothing
//! fails and that the server's memory does not creep.
//!
//! ```text
//! cargo bench --bench soak                                  # 500 connections, 10 minutes
//! cargo bench --bench soak -- --deflate                      # the same, compressed
//! cargo bench --bench soak -- --duration 60 --connections 500 --max-size 65536
//! ```
//!
//! Each connection is a thread of this process with our client: it sends a text or
//! binary message of a random size from 1 B to `--max-size` (default 64 KiB), waits for
//! the echo, compares it byte for byte, and repeats until the time is up. Any error or
//! mismatch counts as an error; there must be none.
//!
//! Compression is off unless `--deflate` is given: then each client offers
//! permessage-deflate as browsers do (`ClientConfig`'s default offer) and the server
//! agrees as it does by default (12-bit windows, context takeover). A connection whose
//! handshake did not agree to it counts as an error, and the report gives how many
//! messages went compressed each way, from the clients' connection statistics. Every
//! message of 64 B or more is compressed; the random binary ones do not shrink, the
//! random printable text ones do, a little (6.6 bits of entropy per byte).
//!
//! The server's resident memory (`VmRSS` in `/proc/PID/status`) is taken idle; at the
//! start, after a warm-up load of a tenth of the run (5 to 60 s) with every connection
//! closed again, so that the allocator's arenas and the process's first-use costs are
//! paid; during the run; and at the end, once every connection has closed. The verdict:
//! no errors, and the end within 10% of the start (nothing the connections used stays).
//!
//! The server binary is `target/release/examples/echo-server`; the bench builds it
//! with cargo when it is missing.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use websockets::Message;
use websockets::client::ClientConfig;
use websockets::handshake::{PERMESSAGE_DEFLATE, parse_extensions};

type BoxError = Box<dyn Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let options = Options::parse()?;
    let server = EchoServer::start(options.connections + 16)?;
    let idle = server.rss_kib()?;
    println!(
        "soak: {} connections, 1..={} B messages, {} s, deflate {}, against the example echo \
         server (pid {})",
        options.connections,
        options.max_size,
        options.duration.as_secs(),
        if options.deflate { "on" } else { "off" },
        server.child.id()
    );
    let warm_up = (options.duration / 10).clamp(Duration::from_secs(5), Duration::from_secs(60));
    let first = load(&server, &options, warm_up, false)?;
    let start = server.rss_kib()?;
    let main = load(&server, &options, options.duration, true)?;
    let end = server.rss_kib()?;

    let errors = first.errors + main.errors;
    let seconds = main.elapsed.as_secs_f64();
    let growth = end as f64 / start as f64 - 1.0;
    println!(
        "soak: {:.0} messages/s ({:.1} MiB/s each way) over {seconds:.0} s, {} messages",
        main.messages as f64 / seconds,
        main.bytes as f64 / seconds / f64::from(1 << 20),
        main.messages
    );
    println!(
        "soak: {} messages sent compressed and {} echoes received compressed; {:.1} MiB/s on \
         the wire each way",
        main.compressed_sent,
        main.compressed_received,
        main.wire_bytes as f64 / seconds / f64::from(1 << 20)
    );
    println!(
        "soak: errors {errors} (warm-up {}, run {})",
        first.errors, main.errors
    );
    println!(
        "soak: server memory (VmRSS, KiB): idle {idle}; start {start} (after a {} s warm-up \
         load, all closed); during the run {} at 10 s, {} at its end; end {end} (all closed, \
         {:+.1}% from the start); peak (VmHWM) {}",
        warm_up.as_secs(),
        main.rss_early,
        main.rss_late,
        growth * 100.0,
        server.status("VmHWM")?
    );
    let back = growth.abs() <= 0.10;
    println!(
        "soak: {}",
        match (errors, back) {
            (0, true) => "PASS: no errors, memory at the end within 10% of the start",
            (0, false) => "FAIL: memory at the end is not within 10% of the start",
            _ => "FAIL: errors",
        }
    );
    if errors == 0 && back {
        Ok(())
    } else {
        // `exit` skips destructors: stop the server first.
        drop(server);
        std::process::exit(1)
    }
}

/// What one load phase did.
struct Load {
    messages: u64,
    bytes: u64,
    errors: u64,
    elapsed: Duration,
    rss_early: u64,
    rss_late: u64,
    /// The clients' messages that went out compressed, and echoes that came in so.
    compressed_sent: u64,
    compressed_received: u64,
    /// What the clients wrote to their sockets, frames and all.
    wire_bytes: u64,
}

/// Opens every connection, echoes for `duration`, closes them all and waits until the
/// server has let them go.
fn load(
    server: &EchoServer,
    options: &Options,
    duration: Duration,
    progress: bool,
) -> Result<Load, BoxError> {
    let shared = Arc::new(Counters::default());
    let ready = Arc::new(Barrier::new(options.connections + 1));
    let clients: Vec<_> = (0..options.connections)
        .map(|id| {
            let (shared, ready) = (Arc::clone(&shared), Arc::clone(&ready));
            let (addr, max_size, deflate) = (server.addr, options.max_size, options.deflate);
            thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || client(id, addr, max_size, deflate, &shared, &ready))
        })
        .collect::<Result<_, _>>()?;
    ready.wait();
    let started = Instant::now();
    let mut rss_early = server.rss_kib()?;
    let mut last_report = Instant::now();
    while started.elapsed() < duration {
        thread::sleep(Duration::from_millis(200));
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let rss = server.rss_kib()?;
            if started.elapsed() < Duration::from_secs(11) {
                rss_early = rss;
            }
            if progress {
                println!(
                    "soak: {:>4} s  {} messages  {} errors  server {rss} KiB",
                    started.elapsed().as_secs(),
                    shared.messages.load(Ordering::Relaxed),
                    shared.errors.load(Ordering::Relaxed),
                );
            }
        }
    }
    let elapsed = started.elapsed();
    let (messages, bytes, rss_late) = (
        shared.messages.load(Ordering::Relaxed),
        shared.bytes.load(Ordering::Relaxed),
        server.rss_kib()?,
    );
    shared.stop.store(true, Ordering::Relaxed);
    for client in clients {
        if client.join().is_err() {
            shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    // The connection threads end after their clients' closes; wait for that, not a time.
    wait_for(|| server.threads().is_ok_and(|threads| threads <= 2));
    Ok(Load {
        messages,
        bytes,
        errors: shared.errors.load(Ordering::Relaxed),
        elapsed,
        rss_early,
        rss_late,
        compressed_sent: shared.compressed_sent.load(Ordering::Relaxed),
        compressed_received: shared.compressed_received.load(Ordering::Relaxed),
        wire_bytes: shared.wire_bytes.load(Ordering::Relaxed),
    })
}

/// The command line: `--duration SECS`, `--connections N`, `--max-size BYTES`,
/// `--deflate`.
struct Options {
    duration: Duration,
    connections: usize,
    max_size: usize,
    deflate: bool,
}

impl Options {
    fn parse() -> Result<Options, BoxError> {
        let mut options = Options {
            duration: Duration::from_secs(600),
            connections: 500,
            max_size: 64 << 10,
            deflate: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || -> Result<u64, BoxError> {
                Ok(args.next().ok_or(format!("{arg} needs a value"))?.parse()?)
            };
            match arg.as_str() {
                "--duration" => options.duration = Duration::from_secs(value()?),
                "--connections" => options.connections = usize::try_from(value()?)?.max(1),
                "--max-size" => options.max_size = usize::try_from(value()?)?.max(1),
                "--deflate" => options.deflate = true,
                // What `cargo bench` passes to every bench binary.
                "--bench" => {}
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        Ok(options)
    }
}

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    compressed_sent: AtomicU64,
    compressed_received: AtomicU64,
    wire_bytes: AtomicU64,
    stop: AtomicBool,
}

/// One connection's life: echo random messages until told to stop, then close.
fn client(
    id: usize,
    addr: SocketAddr,
    max_size: usize,
    deflate: bool,
    shared: &Counters,
    ready: &Barrier,
) {
    let mut config = ClientConfig::default();
    if !deflate {
        config = config.deflate(None);
    }
    let connected = websockets::client::connect_with(format!("ws://{addr}/"), &config);
    ready.wait();
    let mut client = match connected {
        Ok(client) => client,
        Err(error) => {
            println!("soak: connection {id}: {error}");
            shared.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    // What the server answered, not what we asked: with `--deflate` the run measures
    // compression only if every handshake agreed to it.
    let agreed = client.response().is_some_and(|response| {
        let answer = response.headers().get_all("sec-websocket-extensions");
        parse_extensions(answer).is_ok_and(|extensions| {
            extensions
                .iter()
                .any(|extension| extension.name().eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
        })
    });
    if agreed != deflate {
        println!("soak: connection {id}: permessage-deflate agreed: {agreed}, wanted {deflate}");
        shared.errors.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15 ^ (id as u64 + 1).wrapping_mul(0x2545_f491));
    while !shared.stop.load(Ordering::Relaxed) {
        let size = 1 + (random.next() % max_size as u64) as usize;
        let message = if random.next().is_multiple_of(2) {
            let text = (0..size)
                .map(|_| char::from(b' ' + (random.next() % 95) as u8))
                .collect::<String>();
            Message::text(text)
        } else {
            Message::binary((0..size).map(|_| random.next() as u8).collect::<Vec<u8>>())
        };
        let echoed = client.send(&message).and_then(|()| client.read_message());
        match echoed {
            Ok(echo) if echo == message => {
                shared.messages.fetch_add(1, Ordering::Relaxed);
                shared.bytes.fetch_add(size as u64, Ordering::Relaxed);
            }
            Ok(_) => {
                println!("soak: connection {id}: the echo differs from the message");
                shared.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(error) => {
                println!("soak: connection {id}: {error}");
                shared.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
    if let Some(stream) = client.stream() {
        let stats = stream.stats();
        shared
            .compressed_sent
            .fetch_add(stats.compressed_messages_sent, Ordering::Relaxed);
        shared
            .compressed_received
            .fetch_add(stats.compressed_messages_received, Ordering::Relaxed);
        shared
            .wire_bytes
            .fetch_add(stats.bytes_sent, Ordering::Relaxed);
    }
    if let Err(error) = client.close() {
        println!("soak: connection {id}: closing: {error}");
        shared.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Enough randomness for message sizes and contents, the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The example echo server in a child process, killed on drop.
struct EchoServer {
    child: Child,
    addr: SocketAddr,
}

impl EchoServer {
    fn start(max_connections: usize) -> Result<EchoServer, BoxError> {
        let exe = std::env::current_exe()?;
        let release = exe
            .parent()
            .and_then(|deps| deps.parent())
            .ok_or("no target directory")?;
        let path = release.join("examples").join("echo-server");
        if !path.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let built = Command::new(cargo)
                .args(["build", "--release", "--example", "echo-server"])
                .status()?;
            if !built.success() {
                return Err("cannot build the echo-server example".into());
            }
        }
        let mut child = Command::new(&path)
            .args([
                "127.0.0.1:0",
                "--max-connections",
                &max_connections.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ws://")
            .and_then(|rest| rest.strip_suffix('/'))
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .parse()?;
        Ok(EchoServer { child, addr })
    }

    fn status(&self, field: &str) -> Result<u64, BoxError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("no {field} in /proc status").into())
    }

    fn rss_kib(&self) -> Result<u64, BoxError> {
        self.status("VmRSS")
    }

    fn threads(&self) -> Result<u64, BoxError> {
        self.status("Threads")
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Waits until `condition` holds, at most a minute (then the numbers show it).
fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}

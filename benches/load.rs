//! Load benchmark: our [`Server`] against a thread-per-connection tungstenite server,
//! each in a process of its own, under many concurrent echo clients.
//!
//! ```text
//! cargo bench --bench load                           # every scenario, 10 s each
//! LOAD_SECS=3 cargo bench --bench load -- a b        # quick: some scenarios, 3 s each
//! ```
//!
//! Arguments after `--` choose scenarios (`a`, `b`, `c`, `d`, `syscalls`; default all).
//! Environment: `LOAD_SECS` (seconds of load per scenario, default 10), `LOAD_RUNS`
//! (runs of each scenario, default 1), `LOAD_STRACE_SECS` (the strace window, default 3),
//! `LOAD_CLIENT` (`raw`, the default, or `ws-client`), `LOAD_OURS_PING` (seconds: gives
//! our server a ping interval and twice that as idle timeout, to see keep-alive's cost),
//! `LOAD_TRACER` (`strace`, the default, or `perf`: counts the main calls on syscall
//! tracepoints without ptrace's stops, which change how threads contend).
//!
//! # What runs
//!
//! The bench re-executes itself as `load --serve ours|tungstenite|floor --port-file F`, so
//! each server is a child process whose memory (`VmHWM`, the peak resident set, and
//! `VmRSS` in `/proc/<pid>/status`) and CPU time (`/proc/<pid>/stat`) hold none of the
//! load generator's. A fresh server serves each scenario; the child ends when its stdin
//! closes, so none outlives the bench.
//!
//! - `ours`: [`Server`] with an `/ws` route like the example server's (`examples/ws-server.rs`),
//!   but echoing text without the `"Echo: "` prefix so that both servers send the same
//!   bytes; binary is echoed as it is. It sets `TCP_NODELAY` itself.
//! - `tungstenite`: a `TcpListener` accept loop, `tungstenite::accept`, a thread per
//!   connection, `read()` then `send()` of each text or binary message; `TCP_NODELAY` is
//!   set on every accepted socket, as ours does, for a fair comparison. Default configs.
//! - `floor`: the physical limit of this design, the least a thread-per-connection
//!   blocking echo server can do: one `read` per message into a reused buffer, unmask in
//!   place, one `write` of the reply built in place (no UTF-8 check, no fragmentation,
//!   no control frames: it serves this load and nothing else).
//!
//! The load generator is the same for all three: N client threads, each with one connection
//! and one message in flight (send, wait for the echo, compare, repeat). The default
//! client (`raw`) is a minimal one written here: a fixed HTTP upgrade, then one
//! pre-masked frame written with one `write` and the expected echo read with
//! `read_exact` and compared byte for byte; it takes as little as possible of the CPUs
//! the servers share with it. `LOAD_CLIENT=ws-client` uses our `ws-client` instead. Any error
//! or mismatched echo is a failure; connections are all open before the clock starts.
//!
//! Scenarios: (a) 64 connections × 16 B text; (b) 64 connections × 64 KiB binary;
//! (c) 512 connections, each echoing 16 B text once a second: peak memory per
//! connection is (`VmHWM` after − `VmHWM` of the idle server) / 512; (d) 1,000
//! connections, each echoing 16 B text continuously. `syscalls` attaches
//! `strace -c -f` to each server for a window of (a)'s and (b)'s load and divides the
//! system calls by the messages echoed meanwhile (`strace` must be installed).
//!
//! The report is a Markdown table per scenario with ratios against tungstenite, the
//! goals (16 B: 1.3x tungstenite's messages/s; 64 KiB: 1.5x; 512 connections: under a
//! quarter of its peak memory per connection; no failures), and the system calls per
//! message by name. Other work on the machine skews messages/s (the load generator
//! shares the CPUs): run when it is idle, or with `LOAD_RUNS=2`.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::env;
use std::error::Error;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use websockets::server::ServerHandle;
use websockets::{Message, Server};

type BoxError = Box<dyn Error + Send + Sync>;

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match option(&args, "--serve") {
        Some(kind) => serve(&args, &kind),
        None => bench(&args),
    };
    if let Err(error) = outcome {
        eprintln!("load: {error}");
        process::exit(1);
    }
}

/// The parent: runs the chosen scenarios and prints the report.
fn bench(args: &[String]) -> Result<(), BoxError> {
    // `cargo bench` passes `--bench`; anything else not starting with `--` is a scenario.
    let chosen: Vec<&str> = args
        .iter()
        .filter(|arg| !arg.starts_with("--"))
        .map(String::as_str)
        .collect();
    let wants = |name: &str| chosen.is_empty() || chosen.contains(&name);
    let secs = env_number("LOAD_SECS", 10);
    let runs = env_number("LOAD_RUNS", 1).max(1);
    let strace_secs = env_number("LOAD_STRACE_SECS", 3);
    let client = match env::var("LOAD_CLIENT").as_deref() {
        Ok("ws-client") => ClientKind::WsClient,
        Ok("raw") | Err(_) => ClientKind::Raw,
        Ok(other) => return Err(format!("LOAD_CLIENT={other}: expected raw or ws-client").into()),
    };
    let tracer = match env::var("LOAD_TRACER").as_deref() {
        Ok("perf") => Tracer::Perf,
        Ok("strace") | Err(_) => Tracer::Strace,
        Ok(other) => return Err(format!("LOAD_TRACER={other}: expected strace or perf").into()),
    };
    let duration = Duration::from_secs(secs);
    let scenarios = [
        Scenario::new("a", "(a) 64 conns × 16 B text", 64, Payload::Text16, None),
        Scenario::new(
            "b",
            "(b) 64 conns × 64 KiB binary",
            64,
            Payload::Binary64K,
            None,
        ),
        Scenario::new(
            "c",
            "(c) 512 conns, 16 B text once a second",
            512,
            Payload::Text16,
            Some(Duration::from_secs(1)),
        ),
        Scenario::new(
            "d",
            "(d) 1,000 conns × 16 B text",
            1000,
            Payload::Text16,
            None,
        ),
    ];

    println!("# Load benchmark: ours (ws-server) vs tungstenite 0.30, thread per connection");
    println!();
    println!(
        "{secs} s per scenario, {runs} run(s), client: {}, {} CPUs, load average at start: {}",
        client.name(),
        thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
    );
    println!();

    let mut results = Vec::new();
    for scenario in scenarios.iter().filter(|scenario| wants(scenario.key)) {
        for run in 1..=runs {
            let mut outcomes = Vec::new();
            for kind in SERVERS {
                eprintln!("load: {} run {run}: {}", scenario.title, kind.name());
                let server = ServerProcess::start(kind)?;
                let (outcome, ()) = run_load(&server, scenario, client, |_, _| {
                    thread::sleep(duration);
                });
                eprintln!(
                    "load:   {:.0} messages/s, {} failures, peak {} KiB",
                    outcome.rate(),
                    outcome.failures,
                    outcome.after.hwm_kib
                );
                outcomes.push(outcome);
            }
            results.push(Run {
                scenario,
                run,
                outcomes,
            });
        }
    }
    if !results.is_empty() {
        print_results(&results, runs);
        print_goals(&results);
    }

    if wants("syscalls") {
        let window = Duration::from_secs(strace_secs);
        for scenario in scenarios
            .iter()
            .filter(|scenario| scenario.connections == 64)
        {
            let mut counts = Vec::new();
            for kind in SERVERS {
                eprintln!("load: syscalls {}: {}", scenario.title, kind.name());
                counts.push(count_syscalls(kind, scenario, client, tracer, window)?);
            }
            print_syscalls(scenario, &counts, tracer, window);
        }
    }
    Ok(())
}

/// A load shape: how many connections, what each sends, and how often.
#[derive(Debug)]
struct Scenario {
    key: &'static str,
    title: &'static str,
    connections: usize,
    payload: Payload,
    /// `None`: the next message as soon as the echo is back; `Some`: one per period.
    period: Option<Duration>,
}

impl Scenario {
    fn new(
        key: &'static str,
        title: &'static str,
        connections: usize,
        payload: Payload,
        period: Option<Duration>,
    ) -> Scenario {
        Scenario {
            key,
            title,
            connections,
            payload,
            period,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    Text16,
    Binary64K,
}

impl Payload {
    /// The message client `id` sends: varied per client so that a crossed echo shows.
    fn bytes(self, id: usize) -> Vec<u8> {
        match self {
            Payload::Text16 => (0..16).map(|i| b'a' + ((i + id) % 26) as u8).collect(),
            Payload::Binary64K => (0..64 << 10)
                .map(|i: usize| (i.wrapping_mul(31) ^ id) as u8)
                .collect(),
        }
    }

    fn opcode(self) -> u8 {
        match self {
            Payload::Text16 => 0x1,
            Payload::Binary64K => 0x2,
        }
    }

    fn message(self, id: usize) -> Message {
        match self {
            Payload::Text16 => {
                Message::Text(String::from_utf8(self.bytes(id)).unwrap_or_else(|_| "x".repeat(16)))
            }
            Payload::Binary64K => Message::Binary(self.bytes(id)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerKind {
    Ours,
    Tungstenite,
    Floor,
}

/// The servers each scenario runs against, in the order of the report's columns.
const SERVERS: [ServerKind; 3] = [ServerKind::Ours, ServerKind::Tungstenite, ServerKind::Floor];

impl ServerKind {
    fn name(self) -> &'static str {
        match self {
            ServerKind::Ours => "ours",
            ServerKind::Tungstenite => "tungstenite",
            ServerKind::Floor => "floor",
        }
    }
}

/// One run of a scenario: an outcome per server, in the order of [`SERVERS`].
#[derive(Debug)]
struct Run<'a> {
    scenario: &'a Scenario,
    run: u64,
    outcomes: Vec<Outcome>,
}

impl Run<'_> {
    fn of(&self, kind: ServerKind) -> Option<&Outcome> {
        let at = SERVERS.iter().position(|server| *server == kind)?;
        self.outcomes.get(at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Raw,
    WsClient,
}

impl ClientKind {
    fn name(self) -> &'static str {
        match self {
            ClientKind::Raw => "raw (minimal client in this file)",
            ClientKind::WsClient => "ws-client",
        }
    }
}

/// What one server did under one scenario.
#[derive(Debug)]
struct Outcome {
    connections: usize,
    messages: u64,
    failures: u64,
    elapsed: Duration,
    /// The server before any client connected.
    idle: Memory,
    /// Every client connected, before the load.
    connected: Memory,
    /// At the end of the load, connections still open.
    after: Memory,
    /// The server's CPU time while the load ran.
    cpu: CpuTime,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// The server's CPU time per message echoed, in microseconds.
    /// NaN (shown as n/a) when the server used under a second of CPU: the kernel counts
    /// it in 10 ms ticks.
    fn cpu_per_message(&self, time: Duration) -> f64 {
        if self.cpu.user + self.cpu.system < Duration::from_secs(1) {
            return f64::NAN;
        }
        time.as_secs_f64() * 1e6 / self.messages.max(1) as f64
    }

    /// Peak memory per connection in KiB: the peak's growth over the idle server.
    fn per_connection_kib(&self) -> f64 {
        self.after.hwm_kib.saturating_sub(self.idle.hwm_kib) as f64 / self.connections as f64
    }
}

/// Memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    hwm_kib: u64,
    rss_kib: u64,
    threads: u64,
}

impl Memory {
    fn of(pid: u32) -> Memory {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        Memory {
            hwm_kib: field("VmHWM:"),
            rss_kib: field("VmRSS:"),
            threads: field("Threads:"),
        }
    }
}

/// CPU time a process spent in user space and in the kernel.
#[derive(Debug, Clone, Copy, Default)]
struct CpuTime {
    user: Duration,
    system: Duration,
}

impl CpuTime {
    /// From `/proc/<pid>/stat` (`utime` and `stime`, in ticks of `CLK_TCK`, 100 on Linux).
    fn of(pid: u32) -> CpuTime {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The fields after the command's closing parenthesis start at the third, state.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let ticks = |index: usize| {
            let ticks: u64 = fields
                .get(index)
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            Duration::from_millis(ticks * 10)
        };
        CpuTime {
            user: ticks(11),
            system: ticks(12),
        }
    }

    fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// A server child process, killed when dropped.
#[derive(Debug)]
struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    fn start(kind: ServerKind) -> Result<ServerProcess, BoxError> {
        let port_file =
            env::temp_dir().join(format!("ws-load-{}-{}.port", process::id(), kind.name()));
        fs::remove_file(&port_file).ok();
        let child = Command::new(env::current_exe()?)
            .args(["--serve", kind.name(), "--port-file"])
            .arg(&port_file)
            // The child serves until its stdin closes, so it ends with us however we end.
            .stdin(Stdio::piped())
            .spawn()?;
        let mut server = ServerProcess { child, port: 0 };
        let deadline = Instant::now() + Duration::from_secs(10);
        server.port = loop {
            if let Ok(text) = fs::read_to_string(&port_file) {
                fs::remove_file(&port_file).ok();
                break text.trim().parse()?;
            }
            if Instant::now() > deadline {
                return Err(format!("the {} server did not start", kind.name()).into());
            }
            thread::sleep(Duration::from_millis(10));
        };
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn memory(&self) -> Memory {
        Memory::of(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// What the client threads share.
#[derive(Debug)]
struct Shared {
    /// All connected: the clock starts.
    ready: Barrier,
    /// All stopped, connections still open: memory is read.
    done: Barrier,
    /// Connections may close.
    release: Barrier,
    stop: AtomicBool,
    messages: AtomicU64,
    failures: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn fail(&self, error: &dyn std::fmt::Display) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        first.get_or_insert_with(|| error.to_string());
    }
}

/// Runs `scenario` against `server`; `during` runs on this thread while the load runs
/// and decides how long it lasts (it is given the live message counter).
fn run_load<T>(
    server: &ServerProcess,
    scenario: &Scenario,
    client: ClientKind,
    during: impl FnOnce(&ServerProcess, &AtomicU64) -> T,
) -> (Outcome, T) {
    let connections = scenario.connections;
    let shared = Arc::new(Shared {
        ready: Barrier::new(connections + 1),
        done: Barrier::new(connections + 1),
        release: Barrier::new(connections + 1),
        stop: AtomicBool::new(false),
        messages: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        first_error: Mutex::new(None),
    });
    let idle = server.memory();
    let mut threads = Vec::with_capacity(connections);
    for id in 0..connections {
        let shared = Arc::clone(&shared);
        let port = server.port;
        let payload = scenario.payload;
        let period = scenario.period;
        let spawned = thread::Builder::new()
            .name(format!("load-{id}"))
            .stack_size(256 << 10)
            .spawn(move || client_thread(id, connections, port, client, payload, period, &shared));
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(error) => panic!("spawning client thread {id}: {error}"),
        }
    }
    shared.ready.wait();
    let connected = server.memory();
    let cpu_before = CpuTime::of(server.pid());
    let start = Instant::now();
    let result = during(server, &shared.messages);
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    let cpu = CpuTime::of(server.pid()).since(cpu_before);
    shared.done.wait();
    let after = server.memory();
    shared.release.wait();
    for thread in threads {
        thread.join().ok();
    }
    if let Some(error) = shared
        .first_error
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
    {
        eprintln!("load:   first failure: {error}");
    }
    let outcome = Outcome {
        connections,
        messages: shared.messages.load(Ordering::Relaxed),
        failures: shared.failures.load(Ordering::Relaxed),
        elapsed,
        idle,
        connected,
        after,
        cpu,
    };
    (outcome, result)
}

/// One client: connect, wait for the others, echo until told to stop.
fn client_thread(
    id: usize,
    connections: usize,
    port: u16,
    kind: ClientKind,
    payload: Payload,
    period: Option<Duration>,
    shared: &Shared,
) {
    let mut connection = match Connection::open(kind, port, id, payload) {
        Ok(connection) => Some(connection),
        Err(error) => {
            shared.fail(&format_args!("connect: {error}"));
            None
        }
    };
    shared.ready.wait();
    if let Some(connection) = &mut connection {
        // Paced clients spread their messages over the period.
        let mut next = Instant::now()
            + period.map_or(Duration::ZERO, |period| {
                period * id as u32 / connections as u32
            });
        while !shared.stop.load(Ordering::Relaxed) {
            if let Some(period) = period {
                thread::sleep(next.saturating_duration_since(Instant::now()));
                next += period;
                if shared.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            match connection.echo() {
                Ok(()) => {
                    shared.messages.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => {
                    shared.fail(&format_args!("echo: {error}"));
                    break;
                }
            }
        }
    }
    shared.done.wait();
    shared.release.wait();
    drop(connection);
}

/// A client connection of either kind.
enum Connection {
    Raw(RawClient),
    WsClient(Box<websockets::Client<TcpStream>>, Message),
}

impl Connection {
    fn open(
        kind: ClientKind,
        port: u16,
        id: usize,
        payload: Payload,
    ) -> Result<Connection, BoxError> {
        Ok(match kind {
            ClientKind::Raw => Connection::Raw(RawClient::open(port, id, payload)?),
            ClientKind::WsClient => {
                let client = websockets::client::connect(format!("ws://127.0.0.1:{port}/ws"))?;
                Connection::WsClient(Box::new(client), payload.message(id))
            }
        })
    }

    fn echo(&mut self) -> Result<(), BoxError> {
        match self {
            Connection::Raw(client) => client.echo(),
            Connection::WsClient(client, message) => {
                client.send(message)?;
                match client.read_message()? {
                    echo if echo == *message => Ok(()),
                    _ => Err("mismatched echo".into()),
                }
            }
        }
    }
}

/// The smallest client that can load a server: one fixed masked frame out, the
/// expected unmasked frame back, compared byte for byte.
struct RawClient {
    tcp: TcpStream,
    frame: Vec<u8>,
    expected: Vec<u8>,
    back: Vec<u8>,
}

impl RawClient {
    fn open(port: u16, id: usize, payload: Payload) -> Result<RawClient, BoxError> {
        let mut tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_nodelay(true)?;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes())?;
        let mut head = Vec::new();
        let mut chunk = [0; 512];
        while !head.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut chunk)?;
            if n == 0 {
                return Err("connection closed during the handshake".into());
            }
            head.extend_from_slice(&chunk[..n]);
        }
        if !head.starts_with(b"HTTP/1.1 101 ") {
            let status = String::from_utf8_lossy(&head);
            let line = status.lines().next().unwrap_or_default();
            return Err(format!("handshake refused: {line}").into());
        }
        let bytes = payload.bytes(id);
        // A key per client; fixed per connection, which servers cannot tell from fresh.
        let mask = (id as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
        let mut frame = frame_header(payload.opcode(), bytes.len(), Some(mask));
        frame.extend(bytes.iter().enumerate().map(|(i, byte)| byte ^ mask[i % 4]));
        let mut expected = frame_header(payload.opcode(), bytes.len(), None);
        expected.extend_from_slice(&bytes);
        let back = vec![0; expected.len()];
        Ok(RawClient {
            tcp,
            frame,
            expected,
            back,
        })
    }

    fn echo(&mut self) -> Result<(), BoxError> {
        self.tcp.write_all(&self.frame)?;
        self.tcp.read_exact(&mut self.back)?;
        if self.back != self.expected {
            return Err("mismatched echo".into());
        }
        Ok(())
    }
}

/// A final frame's header (RFC 6455 section 5.2), masked when given a key.
fn frame_header(opcode: u8, len: usize, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut header = vec![0x80 | opcode];
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match len {
        0..=125 => header.push(masked | len as u8),
        126..=0xFFFF => {
            header.push(masked | 126);
            header.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            header.push(masked | 127);
            header.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    if let Some(mask) = mask {
        header.extend_from_slice(&mask);
    }
    header
}

/// System calls of one server over a window of steady load.
#[derive(Debug)]
struct Syscalls {
    kind: ServerKind,
    messages: u64,
    calls: BTreeMap<String, u64>,
}

impl Syscalls {
    fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    fn per_message(&self, calls: u64) -> f64 {
        calls as f64 / self.messages.max(1) as f64
    }
}

/// What counts the system calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracer {
    /// `strace -c -f -p`: every call by name, but each one stops the thread (ptrace).
    Strace,
    /// `perf stat` on syscall tracepoints: the calls listed in [`PERF_SYSCALLS`] and
    /// the total, without stopping anything.
    Perf,
}

impl Tracer {
    fn name(self) -> &'static str {
        match self {
            Tracer::Strace => "strace -c -f",
            Tracer::Perf => "perf stat -e syscalls:sys_enter_*",
        }
    }
}

/// The calls `perf` counts one by one (one event per call per thread, so not all).
const PERF_SYSCALLS: [&str; 16] = [
    "read",
    "recvfrom",
    "write",
    "sendto",
    "writev",
    "futex",
    "madvise",
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "setsockopt",
    "clock_gettime",
    "poll",
    "sched_yield",
    "nanosleep",
];

/// Loads a fresh server as in `scenario` for `window` and counts its system calls and
/// the messages echoed meanwhile. strace is attached once the load is steady; perf
/// from before the first connection (it follows new threads), so its counts include
/// the 64 handshakes, a few hundred calls against hundreds of thousands.
fn count_syscalls(
    kind: ServerKind,
    scenario: &Scenario,
    client: ClientKind,
    tracer: Tracer,
    window: Duration,
) -> Result<Syscalls, BoxError> {
    let server = ServerProcess::start(kind)?;
    let summary = env::temp_dir().join(format!("ws-load-{}-{}.trace", process::id(), kind.name()));
    let mut perf = match tracer {
        Tracer::Perf => Some(start_perf(&server, &summary)?),
        Tracer::Strace => None,
    };
    let (outcome, traced) = run_load(
        &server,
        scenario,
        client,
        |server, messages| match &mut perf {
            Some(perf) => {
                thread::sleep(window);
                let echoed = messages.load(Ordering::Relaxed);
                interrupt(perf).map(|()| echoed)
            }
            None => {
                thread::sleep(Duration::from_millis(500));
                trace(server, messages, &summary, window)
            }
        },
    );
    let messages = traced?;
    if outcome.failures > 0 {
        return Err(format!("{} failures while tracing", outcome.failures).into());
    }
    let text = fs::read_to_string(&summary)?;
    fs::remove_file(&summary).ok();
    Ok(Syscalls {
        kind,
        messages,
        calls: match tracer {
            Tracer::Strace => parse_strace_summary(&text),
            Tracer::Perf => parse_perf_csv(&text),
        },
    })
}

/// Starts `perf stat` on the server's syscall tracepoints, written to `summary`.
fn start_perf(server: &ServerProcess, summary: &Path) -> Result<Child, BoxError> {
    let mut events = String::from("raw_syscalls:sys_enter");
    for name in PERF_SYSCALLS {
        events.push_str(&format!(",syscalls:sys_enter_{name}"));
    }
    let perf = Command::new("perf")
        .args(["stat", "-x,", "-e", &events, "-o"])
        .arg(summary)
        .args(["-p", &server.pid().to_string()])
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("perf: {error}"))?;
    // perf gives no sign that its counters are open; they are well within this.
    thread::sleep(Duration::from_millis(500));
    Ok(perf)
}

/// SIGINT makes strace and perf detach and write their summaries.
fn interrupt(tracer: &mut Child) -> Result<(), BoxError> {
    Command::new("kill")
        .args(["-INT", &tracer.id().to_string()])
        .status()?;
    tracer.wait()?;
    Ok(())
}

/// Calls per system call from `perf stat -x,` output; the total as `(all)`.
fn parse_perf_csv(text: &str) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    let mut total = 0;
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(count), Some(event)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        match event.strip_prefix("syscalls:sys_enter_") {
            Some(name) => {
                calls.insert(name.to_owned(), count);
            }
            None if *event == "raw_syscalls:sys_enter" => total = count,
            None => {}
        }
    }
    let listed: u64 = calls.values().sum();
    calls.insert("(others)".to_owned(), total.saturating_sub(listed));
    calls
}

/// Runs `strace -c -f -p` on the server for `window`; answers the messages echoed
/// between the moment every thread was attached and the moment strace was stopped.
fn trace(
    server: &ServerProcess,
    messages: &AtomicU64,
    summary: &Path,
    window: Duration,
) -> Result<u64, BoxError> {
    let threads = server.memory().threads;
    let mut strace = Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(summary)
        .args(["-p", &server.pid().to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("strace: {error} (apt-get install -y strace)"))?;
    // strace says "Process N attached with M threads" (older versions: a line per
    // thread); the clock starts once every thread is traced.
    let stderr = strace.stderr.take().ok_or("strace without stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let mut attached = 0;
    while attached < threads {
        match lines.next() {
            Some(Ok(line)) if line.contains("attached with") => break,
            Some(Ok(line)) if line.contains("attached") => attached += 1,
            Some(Ok(_)) => {}
            _ => break,
        }
    }
    let start = messages.load(Ordering::Relaxed);
    thread::sleep(window);
    let end = messages.load(Ordering::Relaxed);
    thread::spawn(move || lines.for_each(drop));
    interrupt(&mut strace)?;
    Ok(end - start)
}

/// Calls per system call from `strace -c` output.
fn parse_strace_summary(text: &str) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors,] syscall
        if fields.len() < 5 || fields[0].parse::<f64>().is_err() {
            continue;
        }
        let (Some(name), Ok(count)) = (fields.last(), fields[3].parse::<u64>()) else {
            continue;
        };
        if *name != "total" {
            calls.insert((*name).to_owned(), count);
        }
    }
    calls
}

fn print_results(results: &[Run<'_>], runs: u64) {
    println!("## Results");
    println!();
    println!(
        "Ratios are against tungstenite. Peak per connection = (VmHWM at the end of the load \
         − VmHWM of the idle server) / connections; CPU is the server process's, from \
         /proc/<pid>/stat, over the load."
    );
    println!();
    let mut header = String::from("| scenario | metric |");
    let mut rule = String::from("|---|---|");
    for kind in SERVERS {
        header.push_str(&format!(" {} |", kind.name()));
        rule.push_str("---:|");
    }
    for kind in SERVERS
        .iter()
        .filter(|kind| **kind != ServerKind::Tungstenite)
    {
        header.push_str(&format!(" {}/tungstenite |", kind.name()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let metrics: [(&str, Metric); 8] = [
        ("messages/s", Metric::new(Outcome::rate, 0)),
        (
            "failures",
            Metric::new(|outcome| outcome.failures as f64, 0).without_ratio(),
        ),
        (
            "server CPU per message, µs",
            Metric::new(
                |outcome| outcome.cpu_per_message(outcome.cpu.user + outcome.cpu.system),
                2,
            ),
        ),
        (
            "… of which user space, µs",
            Metric::new(|outcome| outcome.cpu_per_message(outcome.cpu.user), 2),
        ),
        (
            "server peak RSS (VmHWM), MiB",
            Metric::new(move |outcome| mib(outcome.after.hwm_kib), 1),
        ),
        (
            "idle server VmHWM, MiB",
            Metric::new(move |outcome| mib(outcome.idle.hwm_kib), 1).without_ratio(),
        ),
        (
            "VmRSS connected before load / at end, MiB",
            Metric::pair(
                move |outcome| mib(outcome.connected.rss_kib),
                move |outcome| mib(outcome.after.rss_kib),
            ),
        ),
        (
            "peak per connection, KiB",
            Metric::new(Outcome::per_connection_kib, 1),
        ),
    ];
    for result in results {
        let title = match runs {
            1 => result.scenario.title.to_owned(),
            _ => format!("{} run {}", result.scenario.title, result.run),
        };
        for (index, (name, metric)) in metrics.iter().enumerate() {
            let mut line = format!(
                "| {} | {name} |",
                if index == 0 { title.as_str() } else { "" }
            );
            for outcome in &result.outcomes {
                line.push_str(&format!(" {} |", metric.show(outcome)));
            }
            let base = result.of(ServerKind::Tungstenite);
            for kind in SERVERS
                .iter()
                .filter(|kind| **kind != ServerKind::Tungstenite)
            {
                let cell = match (metric.ratio, result.of(*kind), base) {
                    (true, Some(outcome), Some(base)) => {
                        ratio((metric.value)(outcome), (metric.value)(base))
                    }
                    _ => String::new(),
                };
                line.push_str(&format!(" {cell} |"));
            }
            println!("{line}");
        }
    }
    println!();
}

/// A row of the results table.
struct Metric {
    value: Value,
    /// A second value shown after a slash, without ratio.
    second: Option<Value>,
    decimals: usize,
    ratio: bool,
}

type Value = Box<dyn Fn(&Outcome) -> f64>;

impl Metric {
    fn new(value: impl Fn(&Outcome) -> f64 + 'static, decimals: usize) -> Metric {
        Metric {
            value: Box::new(value),
            second: None,
            decimals,
            ratio: true,
        }
    }

    fn pair(
        first: impl Fn(&Outcome) -> f64 + 'static,
        second: impl Fn(&Outcome) -> f64 + 'static,
    ) -> Metric {
        Metric {
            value: Box::new(first),
            second: Some(Box::new(second)),
            decimals: 1,
            ratio: false,
        }
    }

    fn without_ratio(mut self) -> Metric {
        self.ratio = false;
        self
    }

    fn show(&self, outcome: &Outcome) -> String {
        let decimals = self.decimals;
        let value = (self.value)(outcome);
        if value.is_nan() {
            return "n/a".to_owned();
        }
        let first = format!("{value:.decimals$}");
        match &self.second {
            Some(second) => format!("{first} / {:.decimals$}", second(outcome)),
            None => first,
        }
    }
}

fn print_goals(results: &[Run<'_>]) {
    println!("## Goals");
    println!();
    for result in results {
        let (Some(ours), Some(tungstenite)) = (
            result.of(ServerKind::Ours),
            result.of(ServerKind::Tungstenite),
        ) else {
            continue;
        };
        let (what, value, goal, met) = match result.scenario.key {
            "a" | "b" => {
                let goal = if result.scenario.key == "a" { 1.3 } else { 1.5 };
                let value = ours.rate() / tungstenite.rate();
                (
                    "messages/s ratio",
                    value,
                    format!(">= {goal}"),
                    value >= goal,
                )
            }
            "c" => {
                let value = ours.per_connection_kib() / tungstenite.per_connection_kib();
                (
                    "peak memory per connection ratio",
                    value,
                    "< 0.25".to_owned(),
                    value < 0.25,
                )
            }
            _ => {
                let value = ours.rate() / tungstenite.rate();
                ("messages/s ratio (no goal)", value, "-".to_owned(), true)
            }
        };
        let failures: u64 = result.outcomes.iter().map(|outcome| outcome.failures).sum();
        println!(
            "- {} run {}: {what} {value:.2} (goal {goal}): {}; failures {failures} (goal 0): {}",
            result.scenario.title,
            result.run,
            if met { "met" } else { "MISSED" },
            if failures == 0 { "met" } else { "MISSED" },
        );
    }
    println!();
}

fn print_syscalls(scenario: &Scenario, counts: &[Syscalls], tracer: Tracer, window: Duration) {
    println!(
        "## System calls per echoed message, server side, {} ({}, {} s window)",
        scenario.title,
        tracer.name(),
        window.as_secs()
    );
    println!();
    let names: Vec<&str> = counts
        .iter()
        .flat_map(|count| count.calls.keys().map(String::as_str))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut header = String::from("| syscall |");
    let mut rule = String::from("|---|");
    for count in counts {
        header.push_str(&format!(" {} |", count.kind.name()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mut rows: Vec<(f64, String)> = names
        .iter()
        .map(|name| {
            let mut line = format!("| {name} |");
            let mut most = 0.0_f64;
            for count in counts {
                let per = count.per_message(count.calls.get(*name).copied().unwrap_or(0));
                most = most.max(per);
                line.push_str(&format!(" {per:.3} |"));
            }
            (most, line)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, line) in rows {
        println!("{line}");
    }
    let mut total = String::from("| **total** |");
    let mut messages = String::from("| messages traced |");
    for count in counts {
        total.push_str(&format!(" **{:.3}** |", count.per_message(count.total())));
        messages.push_str(&format!(" {} |", count.messages));
    }
    println!("{total}");
    println!("{messages}");
    println!();
}

fn ratio(value: f64, base: f64) -> String {
    if base > 0.0 && value.is_finite() {
        format!("{:.2}x", value / base)
    } else {
        "-".to_owned()
    }
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn env_number(name: &str, default: u64) -> u64 {
    env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn option(args: &[String], name: &str) -> Option<String> {
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1).cloned()
}

/// The child: starts one server, publishes its port, serves until stdin closes.
fn serve(args: &[String], kind: &str) -> Result<(), BoxError> {
    let port_file = PathBuf::from(option(args, "--port-file").ok_or("--port-file missing")?);
    // Dropping our server's handle would shut it down: it lives until the process ends.
    let (port, _handle) = match kind {
        "ours" => serve_ours().map(|handle| (handle.local_addr().port(), Some(handle)))?,
        "tungstenite" => (serve_threads(tungstenite_echo)?, None),
        "floor" => (serve_threads(floor_echo)?, None),
        other => return Err(format!("--serve {other}: expected ours or tungstenite").into()),
    };
    let partial = port_file.with_extension("partial");
    fs::write(&partial, port.to_string())?;
    fs::rename(&partial, &port_file)?;
    io::copy(&mut io::stdin().lock(), &mut io::sink()).ok();
    // Exit without shutting the servers down gracefully: nobody is listening.
    process::exit(0);
}

/// Our server with the example server's `/ws` echo, minus the `"Echo: "` prefix.
fn serve_ours() -> Result<ServerHandle, BoxError> {
    let mut server = Server::new("127.0.0.1:0");
    // Keep-alive is off by default, as in the example server; this shows what it costs.
    if let Some(secs) = env::var("LOAD_OURS_PING")
        .ok()
        .and_then(|secs| secs.parse().ok())
    {
        let interval = Duration::from_secs(secs);
        let config = server.config_mut();
        config.stream.ping_interval = Some(interval);
        config.stream.idle_timeout = Some(interval * 2);
    }
    server.on_connect("/ws", |stream, _path| {
        loop {
            match stream.read_message() {
                Ok(Message::Text(text)) => stream.send_text(text)?,
                Ok(Message::Binary(data)) => stream.send_binary(data)?,
                Err(_) => break,
            }
        }
        Ok(())
    })?;
    Ok(server.spawn()?)
}

/// A thread-per-connection server running `echo` on each connection, as tungstenite's
/// README's example server.
fn serve_threads(echo: fn(TcpStream)) -> Result<u16, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::Builder::new()
        .name("accept".into())
        .spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                };
                // Ours sets TCP_NODELAY on each connection; without it here, Nagle's
                // algorithm would hold back tungstenite's echoes and skew the comparison.
                tcp.set_nodelay(true).ok();
                thread::Builder::new()
                    .name("conn".into())
                    .spawn(move || echo(tcp))
                    .ok();
            }
        })?;
    Ok(port)
}

fn tungstenite_echo(tcp: TcpStream) {
    let Ok(mut socket) = tungstenite::accept(tcp) else {
        return;
    };
    while let Ok(message) = socket.read() {
        if (message.is_text() || message.is_binary()) && socket.send(message).is_err() {
            break;
        }
    }
}

/// The least work an echo of this load takes: see the module docs.
fn floor_echo(mut tcp: TcpStream) {
    let mut buf = vec![0; 4 << 10];
    let Ok(head) = read_head(&mut tcp, &mut buf) else {
        return;
    };
    let key = head
        .split(|&byte| byte == b'\n')
        .find_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|&byte| byte == b':')?);
            name.eq_ignore_ascii_case(b"sec-websocket-key")
                .then(|| value[1..].trim_ascii().to_vec())
        })
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        websockets::handshake::accept_key(&key)
    );
    if tcp.write_all(response.as_bytes()).is_err() {
        return;
    }
    // The reply's header is four bytes shorter than the masked request's (no key), so
    // the reply is built in place over the request and written from the same buffer.
    let mut filled = 0;
    loop {
        let Some((opcode, payload)) = frame_bounds(&buf[..filled]) else {
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            match tcp.read(&mut buf[filled..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => filled += n,
            }
            continue;
        };
        // One message in flight: nothing may follow it; and no control frames here.
        if !matches!(opcode, 0x1 | 0x2) || payload.end != filled {
            return;
        }
        let mut mask = [0; 4];
        mask.copy_from_slice(&buf[payload.start - 4..payload.start]);
        unmask(&mut buf[payload.clone()], mask);
        let (header, header_len) = reply_header(opcode, payload.len());
        let from = payload.start - header_len;
        buf[from..payload.start].copy_from_slice(&header[..header_len]);
        if tcp.write_all(&buf[from..payload.end]).is_err() {
            return;
        }
        filled = 0;
    }
}

/// XORs `payload` with the masking key, eight bytes at a time.
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let key = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut words = payload.chunks_exact_mut(8);
    for word in &mut words {
        let value = u64::from_ne_bytes(<[u8; 8]>::try_from(&*word).unwrap_or_default()) ^ key;
        word.copy_from_slice(&value.to_ne_bytes());
    }
    // The remainder starts at a multiple of eight, so the key starts over.
    for (byte, key) in words
        .into_remainder()
        .iter_mut()
        .zip(mask.into_iter().cycle())
    {
        *byte ^= key;
    }
}

/// An unmasked final frame's header, without allocating.
fn reply_header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut header = [0; 10];
    header[0] = 0x80 | opcode;
    match len {
        0..=125 => {
            header[1] = len as u8;
            (header, 2)
        }
        126..=0xFFFF => {
            header[1] = 126;
            header[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            (header, 4)
        }
        _ => {
            header[1] = 127;
            header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            (header, 10)
        }
    }
}

/// Reads an HTTP head; the client sends nothing more before the answer.
fn read_head(tcp: &mut TcpStream, buf: &mut [u8]) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let n = tcp.read(buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// A complete masked frame's opcode and payload range in `bytes`, if it is all there.
fn frame_bounds(bytes: &[u8]) -> Option<(u8, std::ops::Range<usize>)> {
    let (&first, &second) = (bytes.first()?, bytes.get(1)?);
    let (len, at) = match second & 0x7F {
        126 => (
            usize::from(u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        len => (usize::from(len), 2),
    };
    let start = at + 4;
    (bytes.len() >= start + len).then_some((first & 0x0F, start..start + len))
}

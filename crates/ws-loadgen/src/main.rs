//! Load benchmark: our `ws_server::Server` against a thread-per-connection tungstenite
//! server, and our `async-echo` example against fastwebsockets and tokio-tungstenite,
//! each in a process of its own, under many concurrent echo clients. A
//! workspace member of its own, never published, so that `cargo bench` at the root
//! runs only the criterion benchmarks.
//!
//! ```text
//! cargo run --release -p ws-loadgen                        # every scenario, 10 s each
//! LOAD_SECS=3 cargo run --release -p ws-loadgen -- a b     # quick: some scenarios, 3 s each
//! cargo run --release -p ws-loadgen -- --help              # this text
//! ```
//!
//! Arguments choose scenarios (`a`, `b`, `c`, `d`, `syscalls`, the async ones `x16`,
//! `x16-512`, `x64k`, `x64k-512`, `x16-pipe`, `idle`; the groups `blocking` and `async`;
//! default all). The async scenarios need `cargo build --release --example async-echo`
//! first: they run that binary as it is.
//! Environment: `LOAD_SECS` (seconds of load per scenario, default 10), `LOAD_RUNS`
//! (runs of each scenario, default 1), `LOAD_STRACE_SECS` (the strace window, default 3),
//! `LOAD_CLIENT` (`raw`, the default, or `ws-client`), `LOAD_OURS_PING` (seconds: gives
//! our server a ping interval and twice that as idle timeout, to see keep-alive's cost),
//! `LOAD_TRACER` (`strace`, the default, or `perf`: counts the main calls on syscall
//! tracepoints without ptrace's stops, which change how threads contend),
//! `LOAD_IN_FLIGHT` (messages in flight per connection in `x16-pipe`, default 8),
//! `LOAD_IDLE_CONNECTIONS` (`idle`'s connections, default 10,000), `LOAD_ASYNC_ARGS`
//! (options for `async-echo`, as `--multi-thread`), `LOAD_PEER_RUNTIME` (`multi`, the
//! default, `current` or `per-core`: the async peers' tokio runtimes).
//!
//! # What runs
//!
//! The bench re-executes itself as `ws-loadgen --serve ours|tungstenite|floor --port-file F`, so
//! each server is a child process whose memory (`VmHWM`, the peak resident set, and
//! `VmRSS` in `/proc/<pid>/status`) and CPU time (`/proc/<pid>/stat`) hold none of the
//! load generator's. A fresh server serves each scenario; the child ends when its stdin
//! closes, so none outlives the bench.
//!
//! - `ours`: [`Server`](ws_server::Server) with an `/ws` route like the example server's (`examples/ws-server.rs`),
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
//! client (`raw`, in `raw.rs`) is a minimal one: a fixed HTTP upgrade, then one
//! pre-masked frame, encoded once with ws-frame's codec, written with one `write` and
//! the expected echo read with `read_exact` and compared byte for byte; it takes as little as possible of the CPUs
//! the servers share with it. `LOAD_CLIENT=ws-client` uses our `ws-client` instead. Any error
//! or mismatched echo is a failure; connections are all open before the clock starts.
//!
//! The async group runs `target/release/examples/async-echo 127.0.0.1:0` (ours, the
//! facade's example, unchanged: `ours-async`), fastwebsockets as its example echo
//! server and tokio-tungstenite as its example echo server (`serve_async.rs`), and
//! reports them as issue 10's table, with ratios and that issue's targets.
//! `x16-pipe` keeps several messages in flight per connection (the raw client writes
//! as many frames as echoes came back, in one write); `idle` opens its connections one
//! by one from one thread, echoes once on each, waits a second, and divides the growth
//! of the server's resident memory by their number.
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

mod child;
mod load;
mod raw;
mod report;
mod scenario;
mod serve;
mod serve_async;
mod syscalls;

use std::env;
use std::error::Error;
use std::fs;
use std::process::{self};
use std::thread;
use std::time::Duration;

use crate::child::*;
use crate::load::*;
use crate::report::*;
use crate::scenario::*;
use crate::serve::*;
use crate::syscalls::*;

pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// `--help`'s text: the module docs above, from their usage block on.
const USAGE: &str = "\
usage: ws-loadgen [SCENARIO...]    scenarios: a, b, c, d, syscalls, x16, x16-512, x64k,
                                   x64k-512, x16-pipe, idle; groups: blocking, async
                                   (default: all)

environment: LOAD_SECS (seconds per scenario, 10), LOAD_RUNS (runs of each, 1),
LOAD_STRACE_SECS (the syscall window, 3), LOAD_CLIENT (raw or ws-client),
LOAD_OURS_PING (seconds: keep-alive for our server), LOAD_TRACER (strace or perf),
LOAD_IN_FLIGHT (messages in flight in x16-pipe, 8), LOAD_IDLE_CONNECTIONS (10000),
LOAD_ASYNC_ARGS (options for async-echo), LOAD_PEER_RUNTIME (multi, current or per-core)

Blocking, ours vs tungstenite vs the floor: (a) 64 conns x 16 B text; (b) 64 conns x
64 KiB binary; (c) 512 conns, 16 B text once a second, for memory per connection;
(d) 1,000 conns x 16 B text; syscalls: system calls per message under (a) and (b).
Async, target/release/examples/async-echo vs fastwebsockets vs tokio-tungstenite
(build the example first): x16 64 conns x 16 B; x16-512 512 conns x 16 B (its peak
RSS too); x64k 64 conns x 64 KiB; x64k-512 512 conns x 64 KiB; x16-pipe 64 conns x
16 B with LOAD_IN_FLIGHT messages in flight; idle: KiB per idle connection.
Each server runs in a child process.";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return;
    }
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
pub(crate) fn bench(args: &[String]) -> Result<(), BoxError> {
    // Flags start with `--` (`--bench`, which `cargo bench` passed, is ignored); the
    // rest are scenarios.
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
    let in_flight = env_number("LOAD_IN_FLIGHT", 8) as usize;
    let idle_connections = env_number("LOAD_IDLE_CONNECTIONS", 10_000) as usize;
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
        Scenario::new("x16", "async: 16 B × 64", 64, Payload::Text16, None).on_async(),
        Scenario::new("x16-512", "async: 16 B × 512", 512, Payload::Text16, None).on_async(),
        Scenario::new("x64k", "async: 64 KiB × 64", 64, Payload::Binary64K, None).on_async(),
        Scenario::new(
            "x64k-512",
            "async: 64 KiB × 512",
            512,
            Payload::Binary64K,
            None,
        )
        .on_async(),
        Scenario::new(
            "x16-pipe",
            "async: 16 B × 64, messages in flight",
            64,
            Payload::Text16,
            None,
        )
        .in_flight(in_flight)
        .on_async(),
        Scenario::new(
            "idle",
            "async: idle connections",
            idle_connections,
            Payload::Text16,
            None,
        )
        .idle()
        .on_async(),
    ];
    let is_async = |scenario: &Scenario| std::ptr::eq(scenario.group, &ASYNC);
    let chosen_scenario = |scenario: &Scenario| {
        if chosen.is_empty() {
            return true;
        }
        chosen.contains(&scenario.key)
            || (chosen.contains(&"async") && is_async(scenario))
            || (chosen.contains(&"blocking") && !is_async(scenario))
    };

    println!("# Load benchmark: ours (ws-server, async-echo) against its peers");
    println!();
    println!(
        "{secs} s per scenario, {runs} run(s), client: {}, {} CPUs, load average at start: {}, \
         open files limit: {}",
        client.name(),
        thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        open_files_limit(),
    );
    println!();

    let mut results = Vec::new();
    for scenario in scenarios
        .iter()
        .filter(|scenario| chosen_scenario(scenario))
    {
        for run in 1..=runs {
            let mut outcomes = Vec::new();
            for &kind in scenario.group.servers {
                eprintln!("load: {} run {run}: {}", scenario.title, kind.name());
                let server = ServerProcess::start(kind)?;
                let outcome = if scenario.idle {
                    run_idle(&server, scenario)
                } else {
                    run_load(&server, scenario, client, |_, _| {
                        thread::sleep(duration);
                    })
                    .0
                };
                eprintln!(
                    "load:   {:.0} messages/s, {} failures, peak {} KiB, rss {} KiB",
                    outcome.rate(),
                    outcome.failures,
                    outcome.after.hwm_kib,
                    outcome.after.rss_kib,
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
    for group in [&BLOCKING, &ASYNC] {
        let of_group: Vec<&Run<'_>> = results
            .iter()
            .filter(|result| std::ptr::eq(result.scenario.group, group))
            .collect();
        if !of_group.is_empty() {
            print_results(group, &of_group, runs);
        }
    }
    let blocking: Vec<&Run<'_>> = results
        .iter()
        .filter(|result| !is_async(result.scenario))
        .collect();
    if !blocking.is_empty() {
        print_goals(&blocking);
    }
    let asynchronous: Vec<&Run<'_>> = results
        .iter()
        .filter(|result| is_async(result.scenario))
        .collect();
    if !asynchronous.is_empty() {
        print_async_summary(&asynchronous);
    }

    if wants("syscalls") {
        let window = Duration::from_secs(strace_secs);
        for scenario in scenarios
            .iter()
            .filter(|scenario| matches!(scenario.key, "a" | "b"))
        {
            let mut counts = Vec::new();
            for &kind in scenario.group.servers {
                eprintln!("load: syscalls {}: {}", scenario.title, kind.name());
                counts.push(count_syscalls(kind, scenario, client, tracer, window)?);
            }
            print_syscalls(scenario, &counts, tracer, window);
        }
    }
    Ok(())
}

/// The soft limit on open files (`ulimit -n`), which the idle scenario's
/// connections need on both sides.
pub(crate) fn open_files_limit() -> String {
    fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn option(args: &[String], name: &str) -> Option<String> {
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1).cloned()
}

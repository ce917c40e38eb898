//! Load benchmark: our `ws_server::Server` against a thread-per-connection tungstenite
//! server, each in a process of its own, under many concurrent echo clients. A
//! workspace member of its own, never published, so that `cargo bench` at the root
//! runs only the criterion benchmarks.
//!
//! ```text
//! cargo run --release -p ws-loadgen                        # every scenario, 10 s each
//! LOAD_SECS=3 cargo run --release -p ws-loadgen -- a b     # quick: some scenarios, 3 s each
//! cargo run --release -p ws-loadgen -- --help              # this text
//! ```
//!
//! Arguments choose scenarios (`a`, `b`, `c`, `d`, `syscalls`; default all).
//! Environment: `LOAD_SECS` (seconds of load per scenario, default 10), `LOAD_RUNS`
//! (runs of each scenario, default 1), `LOAD_STRACE_SECS` (the strace window, default 3),
//! `LOAD_CLIENT` (`raw`, the default, or `ws-client`), `LOAD_OURS_PING` (seconds: gives
//! our server a ping interval and twice that as idle timeout, to see keep-alive's cost),
//! `LOAD_TRACER` (`strace`, the default, or `perf`: counts the main calls on syscall
//! tracepoints without ptrace's stops, which change how threads contend).
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
mod syscalls;

use std::env;
use std::error::Error;
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
usage: ws-loadgen [SCENARIO...]    scenarios: a, b, c, d, syscalls (default: all)

environment: LOAD_SECS (seconds per scenario, 10), LOAD_RUNS (runs of each, 1),
LOAD_STRACE_SECS (the syscall window, 3), LOAD_CLIENT (raw or ws-client),
LOAD_OURS_PING (seconds: keep-alive for our server), LOAD_TRACER (strace or perf)

(a) 64 conns x 16 B text; (b) 64 conns x 64 KiB binary; (c) 512 conns, 16 B text
once a second, for memory per connection; (d) 1,000 conns x 16 B text; syscalls:
system calls per message under (a) and (b). Each server runs in a child process.";

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

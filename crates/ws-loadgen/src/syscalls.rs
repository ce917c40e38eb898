//! System calls per message: `strace -c -f` or `perf stat` attached to a server for a
//! window of steady load.

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{self, Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::BoxError;
use crate::child::*;
use crate::load::*;
use crate::scenario::*;

#[derive(Debug)]
pub(crate) struct Syscalls {
    pub(crate) kind: ServerKind,
    pub(crate) messages: u64,
    pub(crate) calls: BTreeMap<String, u64>,
}

impl Syscalls {
    pub(crate) fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    pub(crate) fn per_message(&self, calls: u64) -> f64 {
        calls as f64 / self.messages.max(1) as f64
    }
}

/// What counts the system calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tracer {
    /// `strace -c -f -p`: every call by name, but each one stops the thread (ptrace).
    Strace,
    /// `perf stat` on syscall tracepoints: the calls listed in [`PERF_SYSCALLS`] and
    /// the total, without stopping anything.
    Perf,
}

impl Tracer {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tracer::Strace => "strace -c -f",
            Tracer::Perf => "perf stat -e syscalls:sys_enter_*",
        }
    }
}

/// The calls `perf` counts one by one (one event per call per thread, so not all).
pub(crate) const PERF_SYSCALLS: [&str; 16] = [
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
pub(crate) fn count_syscalls(
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
pub(crate) fn start_perf(server: &ServerProcess, summary: &Path) -> Result<Child, BoxError> {
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
pub(crate) fn interrupt(tracer: &mut Child) -> Result<(), BoxError> {
    Command::new("kill")
        .args(["-INT", &tracer.id().to_string()])
        .status()?;
    tracer.wait()?;
    Ok(())
}

/// Calls per system call from `perf stat -x,` output; the total as `(all)`.
pub(crate) fn parse_perf_csv(text: &str) -> BTreeMap<String, u64> {
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
pub(crate) fn trace(
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
pub(crate) fn parse_strace_summary(text: &str) -> BTreeMap<String, u64> {
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

//! The server child processes, and what `/proc` tells of their memory and CPU time.

use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{self, Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::scenario::*;

/// Memory of a process, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Memory {
    pub(crate) hwm_kib: u64,
    pub(crate) rss_kib: u64,
    pub(crate) threads: u64,
}

impl Memory {
    pub(crate) fn of(pid: u32) -> Memory {
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
pub(crate) struct CpuTime {
    pub(crate) user: Duration,
    pub(crate) system: Duration,
}

impl CpuTime {
    /// From `/proc/<pid>/stat` (`utime` and `stime`, in ticks of `CLK_TCK`, 100 on Linux).
    pub(crate) fn of(pid: u32) -> CpuTime {
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

    pub(crate) fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// A server child process, killed when dropped.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl ServerProcess {
    pub(crate) fn start(kind: ServerKind) -> Result<ServerProcess, BoxError> {
        if kind == ServerKind::AsyncOurs {
            return ServerProcess::start_async_echo();
        }
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

    /// Runs the facade's `async-echo` example, built beside this binary
    /// (`target/release/examples/async-echo`), on a free port; `LOAD_ASYNC_ARGS` adds
    /// its options (`--multi-thread`, say). The port is in the line it prints first.
    fn start_async_echo() -> Result<ServerProcess, BoxError> {
        let exe = env::current_exe()?;
        let example = exe
            .parent()
            .ok_or("no directory around the bench binary")?
            .join("examples")
            .join("async-echo");
        if !example.exists() {
            return Err(format!(
                "{} is missing: run `cargo build --release --example async-echo` first",
                example.display()
            )
            .into());
        }
        let extra = env::var("LOAD_ASYNC_ARGS").unwrap_or_default();
        let mut child = Command::new(&example)
            .arg("127.0.0.1:0")
            .args(extra.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("async-echo without stdout")?;
        let mut server = ServerProcess { child, port: 0 };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        // `listening on ws://127.0.0.1:PORT/`
        let port = line
            .trim()
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| format!("async-echo said {line:?}, not where it listens"))?;
        server.port = port;
        Ok(server)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn memory(&self) -> Memory {
        Memory::of(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

//! Real peers as child processes: where they are installed, and a guard that kills them
//! (and anything they started, such as Chromium) on every path out of a test.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a peer may take to print a line or to end; the scripts give up on their own
/// before this (after 20 s, Chromium's after 25 s).
pub(crate) const PEER_TIMEOUT: Duration = Duration::from_secs(40);

const INSTALL_HINT: &str =
    "run tests/peers/install.sh (tests/run.sh does) to install the real peers";

/// `tests/peers/`, where the peer scripts and their installed dependencies live.
pub(crate) fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// The Python interpreter of the venv holding `websockets`.
pub(crate) fn python() -> PathBuf {
    let python = peers_dir().join(".venv/bin/python");
    assert!(
        python.exists(),
        "Python websockets is missing: no {}; {INSTALL_HINT}",
        python.display()
    );
    python
}

/// `node`, once `ws` is installed beside the scripts.
pub(crate) fn node() -> PathBuf {
    let ws = peers_dir().join("node_modules/ws/package.json");
    assert!(
        ws.exists(),
        "Node ws is missing: no {}; {INSTALL_HINT}",
        ws.display()
    );
    PathBuf::from("node")
}

/// Panics unless Debian's Chromium, which `browser_echo.js` starts, is installed.
pub(crate) fn require_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "Chromium is missing: no {}; {INSTALL_HINT}",
        chromium.display()
    );
}

/// A running peer script. Dropping it kills the script's whole process group.
#[derive(Debug)]
pub(crate) struct Peer {
    name: String,
    child: Child,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    printed: Vec<String>,
}

/// What a peer printed and how it ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    /// Every stdout line, parsed as JSON.
    pub(crate) lines: Vec<Value>,
    /// Its stdout and the end of its stderr, for failure messages.
    pub(crate) output: String,
}

impl Peer {
    /// Starts `program` with `args` in `tests/peers/`, in a process group of its own.
    pub(crate) fn spawn(name: &str, program: &Path, args: &[&str]) -> Peer {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(peers_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {name} ({}): {error}; {INSTALL_HINT}",
                    program.display()
                )
            });
        let (lines, stdout) = mpsc::channel();
        let out = child.stdout.take().expect("stdout is piped");
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr is piped");
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                collected
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Peer {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
            printed: Vec::new(),
        }
    }

    /// The next stdout line as JSON; panics if the peer ends or stays silent first.
    pub(crate) fn next_json(&mut self) -> Value {
        match self.stdout.recv_timeout(PEER_TIMEOUT) {
            Ok(line) => self.parse(line),
            Err(RecvTimeoutError::Timeout) => self.fail("printed nothing in time"),
            Err(RecvTimeoutError::Disconnected) => self.fail("ended early"),
        }
    }

    /// The port in the `{"port": N}` line a peer server prints first.
    pub(crate) fn listening_port(&mut self) -> u16 {
        let line = self.next_json();
        line["port"]
            .as_u64()
            .and_then(|port| u16::try_from(port).ok())
            .unwrap_or_else(|| self.fail(&format!("printed {line} instead of its port")))
    }

    /// Reads the rest of stdout and waits for the peer to exit, within
    /// [`PEER_TIMEOUT`].
    pub(crate) fn finish(mut self) -> Finished {
        let deadline = Instant::now() + PEER_TIMEOUT;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => lines.push(self.parse(line)),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => self.fail("did not end in time"),
            }
        }
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => self.fail("closed its stdout but did not exit"),
                Err(error) => self.fail(&format!("cannot be waited for: {error}")),
            }
        };
        Finished {
            status,
            lines,
            output: self.describe(),
        }
    }

    /// What the peer printed so far, for failure messages.
    pub(crate) fn describe(&mut self) -> String {
        while let Ok(line) = self.stdout.try_recv() {
            self.printed.push(line);
        }
        let stderr = self
            .stderr
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        // Chromium's stderr is long; its end says what went wrong.
        let tail_start = stderr.len().saturating_sub(4000);
        let tail_start = (tail_start..stderr.len())
            .find(|&i| stderr.is_char_boundary(i))
            .unwrap_or(stderr.len());
        format!(
            "{} printed:\n{}\nstderr:\n{}\n(if a peer is missing or broken, {INSTALL_HINT})",
            self.name,
            self.printed.join("\n"),
            &stderr[tail_start..]
        )
    }

    fn parse(&mut self, line: String) -> Value {
        self.printed.push(line.clone());
        serde_json::from_str(&line).unwrap_or_else(|error| {
            self.fail(&format!("printed a line that is not JSON ({error})"))
        })
    }

    fn fail(&mut self, what: &str) -> ! {
        let described = self.describe();
        panic!("{} {what}\n{described}", self.name)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // The script's group holds what it started too (Chromium and its helpers).
        let group = format!("-{}", self.child.id());
        let killed_group = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !killed_group.is_ok_and(|status| status.success()) {
            self.child.kill().ok();
        }
        self.child.wait().ok();
    }
}

impl Finished {
    /// Panics with the peer's output unless it exited with status 0.
    pub(crate) fn assert_success(&self) {
        assert!(
            self.status.success(),
            "the peer failed with {}; {}",
            self.status,
            self.output
        );
    }
}

//! A real HTTP proxy for the tests: Debian's tinyproxy (`tests/peers/install.sh`
//! installs it), run in the foreground on 127.0.0.1 with a configuration written for
//! the test, and killed when dropped. Its log tells which tunnels it opened.
//!
//! Standard library only, so that ws-tls' tests include this same file with `#[path]`.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long tinyproxy may take to start listening before the test fails.
const STARTUP: Duration = Duration::from_secs(20);

/// A running tinyproxy, killed on drop.
#[derive(Debug)]
pub(crate) struct Tinyproxy {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Tinyproxy {
    /// A proxy open to every client on 127.0.0.1, tunnelling to any port.
    pub(crate) fn start() -> Tinyproxy {
        Tinyproxy::start_with("")
    }

    /// A proxy that wants `user` and `password` with Basic authentication.
    pub(crate) fn with_basic_auth(user: &str, password: &str) -> Tinyproxy {
        Tinyproxy::start_with(&format!("BasicAuth {user} {password}\n"))
    }

    /// The proxy's URL, `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The `host:port` of every `CONNECT` request it received, in order.
    pub(crate) fn connects(&self) -> Vec<String> {
        let log = fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| line.split_once("): CONNECT ").map(|(_, rest)| rest))
            .filter_map(|request| request.split(' ').next())
            .map(str::to_owned)
            .collect()
    }

    fn start_with(extra: &str) -> Tinyproxy {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let binary = binary();
        let dir = std::env::temp_dir().join(format!(
            "ws-tinyproxy-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        // tinyproxy cannot listen on port 0, so a port the system just handed out and
        // took back is the best guess; another process may take it first, so a proxy
        // that fails to listen is started again on another one.
        for _ in 0..10 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .unwrap()
                .port();
            write_config(&dir, port, extra);
            fs::remove_file(dir.join("tinyproxy.log")).ok();
            let mut child = Command::new(&binary)
                .arg("-d")
                .arg("-c")
                .arg(dir.join("tinyproxy.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if wait_until_listening(&mut child, &dir) {
                return Tinyproxy { child, dir, port };
            }
        }
        panic!("tinyproxy never managed to listen");
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        fs::remove_dir_all(&self.dir).ok();
    }
}

/// Whether `child` started listening; false when it exited instead (another process
/// took its port).
fn wait_until_listening(child: &mut Child, dir: &Path) -> bool {
    let started = Instant::now();
    loop {
        let log = fs::read_to_string(dir.join("tinyproxy.log")).unwrap_or_default();
        if log.contains("Accepting connections") {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if started.elapsed() > STARTUP {
            child.kill().ok();
            child.wait().ok();
            panic!("tinyproxy did not start listening:\n{log}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Where tinyproxy is installed: Debian puts it in /usr/bin, others in /usr/sbin.
fn binary() -> PathBuf {
    let candidates = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|dir| dir.join("tinyproxy"))
                .find(|path| path.exists())
        })
        .expect("tinyproxy is not installed: run tests/peers/install.sh")
}

/// No `ConnectPort` line, so `CONNECT` may reach any port (Debian's packaged
/// configuration allows only 443 and 563); Info is the log level that shows both the
/// start of the main loop and each request.
fn write_config(dir: &Path, port: u16, extra: &str) {
    let config = format!(
        "Port {port}\n\
         Listen 127.0.0.1\n\
         Allow 127.0.0.1\n\
         Timeout 30\n\
         MaxClients 64\n\
         LogLevel Info\n\
         LogFile \"{log}\"\n\
         {extra}",
        log = dir.join("tinyproxy.log").display(),
    );
    fs::write(dir.join("tinyproxy.conf"), config).unwrap();
}

//! Python `websockets` over TLS against our client and our server: messages up to
//! 1 MiB, pings both ways, and the close handshake started by either end.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ws_client::ClientConfig;
use ws_server::ServerHandle;
use ws_stream::{CloseCode, CloseFrame, Event, Message};

use crate::pki::pki;
use crate::support::{acceptor, connector, within};

/// How long the peer may take to print a line; the script gives up after 20 s itself.
pub(crate) const PEER_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) const INSTALL_HINT: &str = "run tests/peers/install.sh to install the real peers";

/// What the Python client prints against a server playing the scenario (see
/// `scenario_server`).
pub(crate) const PYTHON_CLIENT_STEPS: [(&str, &str); 9] = [
    ("tls", "TLSv1.3"),
    ("text", "text 18 echoed"),
    ("binary", "binary 256 echoed"),
    ("binary-1mib", "binary 1048576 echoed"),
    ("text-1mib", "text 1048576 echoed"),
    ("client-pings", "pong client-ping"),
    ("server-pings", "pong: server-ping"),
    ("client-closes", "close 4000"),
    ("server-closes", "close 4001 done"),
];

/// The Python server's transcripts of the two connections a client playing the
/// scenario makes (see `our_client_against_a_python_server`).
pub(crate) const PYTHON_SERVER_TRANSCRIPTS: [&str; 2] = [
    "text 18, binary 256, binary 1048576, text 1048576, text 7, pong server-ping, \
     close-received 4000 bye",
    "text 8, close-echoed 4001",
];

#[test]
fn python_client_against_our_server() {
    let (closes, closed) = mpsc::channel();
    let handle = scenario_server(closes);
    let dir = TempDir::new();
    let ca_file = dir.write("ca.pem", &pki().ca_pem);
    let port = handle.local_addr().port().to_string();
    let mut peer = Peer::spawn(&["client", &port, &ca_file.to_string_lossy()]);
    for (name, value) in PYTHON_CLIENT_STEPS {
        assert_eq!(
            peer.next_line(),
            (name.to_owned(), value.to_owned()),
            "{}",
            peer.describe()
        );
    }
    peer.assert_success();
    assert_eq!(
        closed.recv_timeout(PEER_TIMEOUT).unwrap(),
        CloseFrame::new(CloseCode::new(4000), "bye")
    );
}

#[test]
fn our_client_against_a_python_server() {
    let dir = TempDir::new();
    let cert_file = dir.write("cert.pem", &pki().localhost.chain_pem);
    let key_file = dir.write("key.pem", &pki().localhost.key_pem);
    let mut peer = Peer::spawn(&[
        "server",
        &cert_file.to_string_lossy(),
        &key_file.to_string_lossy(),
    ]);
    let (name, port) = peer.next_line();
    assert_eq!(name, "port", "{}", peer.describe());
    let url = format!("wss://localhost:{port}/echo");
    let config = ClientConfig::default();
    within("our client against python", {
        let url = url.clone();
        let config = config.clone();
        move || {
            let mut client = ws_tls::connect_with(&url, &config, &connector()).unwrap();
            client.send_text("Hello over TLS ✓").unwrap();
            assert_eq!(
                client.read_message().unwrap(),
                Message::text("Hello over TLS ✓")
            );
            let binary: Vec<u8> = (0..=255).collect();
            client.send_binary(&binary).unwrap();
            assert_eq!(client.read_message().unwrap(), Message::binary(binary));
            let large_binary: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
            client.send_binary(&large_binary).unwrap();
            assert_eq!(
                client.read_message().unwrap(),
                Message::binary(large_binary)
            );
            let large_text = "✓".repeat(349_525) + "x";
            client.send_text(&large_text).unwrap();
            assert_eq!(client.read_message().unwrap(), Message::text(large_text));
            client.ping(b"client-ping").unwrap();
            assert_eq!(
                client.read_event().unwrap(),
                Event::Pong(b"client-ping".to_vec())
            );
            client.send_text("ping-me").unwrap();
            assert_eq!(
                client.read_event().unwrap(),
                Event::Ping(b"server-ping".to_vec())
            );
            assert_eq!(
                client.read_event().unwrap(),
                Event::Message(Message::text("pong: server-ping"))
            );
            client.close_with(CloseCode::new(4000), "bye").unwrap();
        }
    });
    within("python closes", move || {
        let mut client = ws_tls::connect_with(&url, &config, &connector()).unwrap();
        client.send_text("close-me").unwrap();
        assert_eq!(
            client.read_event().unwrap(),
            Event::Close(CloseFrame::new(CloseCode::new(4001), "done"))
        );
    });
    peer.assert_transcripts();
}

/// Our wss server playing the scenario: echo, "ping-me" pings the client and reports
/// its pong, "close-me" closes with 4001; the client's Close goes to `closes`.
fn scenario_server(closes: mpsc::Sender<CloseFrame>) -> ServerHandle {
    let closes = Mutex::new(closes);
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/echo", move |stream, _path| {
            loop {
                let message = match stream.read_message() {
                    Ok(message) => message,
                    Err(ws_stream::Error::Closed(frame)) => {
                        closes.lock().unwrap().send(frame).ok();
                        return Ok(());
                    }
                    Err(error) => return Err(error.into()),
                };
                match message.as_text() {
                    Some("ping-me") => {
                        stream.ping(b"server-ping")?;
                        while !matches!(stream.read_event()?, Event::Pong(payload) if payload == b"server-ping") {}
                        stream.send_text("pong: server-ping")?;
                    }
                    Some("close-me") => {
                        stream.close_with(CloseCode::new(4001), "done")?;
                        return Ok(());
                    }
                    _ => stream.send(&message)?,
                }
            }
        })
        .unwrap();
    server.spawn().unwrap()
}

/// `tests/peers/python_wss.py` running under the venv's Python, in a process group of
/// its own that dropping the guard kills.
pub(crate) struct Peer {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    printed: Vec<String>,
}

impl Peer {
    pub(crate) fn spawn(args: &[&str]) -> Peer {
        let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers");
        let python = peers.join(".venv/bin/python");
        assert!(
            python.exists(),
            "Python websockets is missing: no {}; {INSTALL_HINT}",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(peers.join("python_wss.py"))
            .args(args)
            .current_dir(&peers)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {}: {error}; {INSTALL_HINT}", python.display())
            });
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Peer {
            child,
            lines,
            stderr,
            printed: Vec::new(),
        }
    }

    /// The next "NAME: VALUE" line.
    pub(crate) fn next_line(&mut self) -> (String, String) {
        let line = match self.lines.recv_timeout(PEER_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("python printed nothing in time\n{}", self.describe())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("python ended early\n{}", self.describe())
            }
        };
        self.printed.push(line.clone());
        let (name, value) = line.split_once(": ").unwrap_or((&line, ""));
        (name.to_owned(), value.to_owned())
    }

    /// Waits for the script to end (its stdout closes first) and checks it exited 0.
    pub(crate) fn assert_success(mut self) {
        loop {
            match self.lines.recv_timeout(PEER_TIMEOUT) {
                Ok(line) => self.printed.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("python did not end\n{}", self.describe()),
            }
        }
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "python failed with {status}\n{}",
            self.describe()
        );
    }

    /// Checks the Python server's report of the scenario's two connections, then that
    /// it exited 0.
    pub(crate) fn assert_transcripts(mut self) {
        for transcript in PYTHON_SERVER_TRANSCRIPTS {
            self.assert_transcript(transcript);
        }
        self.assert_success();
    }

    /// Checks the Python server's report of one connection.
    pub(crate) fn assert_transcript(&mut self, transcript: &str) {
        assert_eq!(self.next_line(), ("tls".to_owned(), "TLSv1.3".to_owned()));
        assert_eq!(
            self.next_line(),
            ("transcript".to_owned(), transcript.to_owned()),
            "{}",
            self.describe()
        );
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "python printed:\n{}\nstderr:\n{}\n(if python or websockets is missing, {INSTALL_HINT})",
            self.printed.join("\n"),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !killed.is_ok_and(|status| status.success()) {
            self.child.kill().ok();
        }
        self.child.wait().ok();
    }
}

/// A directory of its own under the system's temporary directory, removed on drop:
/// for the PEM files Python reads.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ws-tls-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `contents` to `name` in the directory and answers its path.
    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

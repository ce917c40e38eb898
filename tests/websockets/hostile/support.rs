//! The example echo server as a child process, measured through `/proc`, and raw peers
//! that craft frames with ws-frame.
//!
//! A child process, not a server in this test binary: its peak resident memory
//! (`VmHWM`) is the server's alone, not shared with the other tests running beside it,
//! and its thread count (one per connection) tells when the server let a connection go.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use websockets::client::Client;
use websockets::frame::{Decoded, Decoder, DecoderConfig, Frame, FrameHeader, Masking, OpCode};
use websockets::handshake::{ClientRequest, DeflateOffer, DeflateParams, Parsed, ResponseParser};

/// A generous bound that only makes a stuck test end; nothing asserts on it.
pub(crate) const STUCK: Duration = Duration::from_secs(30);

/// The server's threads besides connections: main and the accept loop.
const IDLE_THREADS: u64 = 2;

/// `examples/echo-server.rs`, running in a child process that is killed on drop.
pub(crate) struct EchoServer {
    child: Child,
    addr: SocketAddr,
    /// Started with `--async` (connections are tasks, not threads): the sockets it
    /// holds without a connection (the listener and the runtime's own).
    idle_sockets: Option<u64>,
}

impl EchoServer {
    /// Starts the example with `options` on a free port and waits for it to listen.
    pub(crate) fn start(options: &[&str]) -> EchoServer {
        EchoServer::example("echo-server", options)
    }

    /// Starts the example `name` (one that prints `listening on ws://ADDR/` as
    /// `echo-server` does) with `options` on a free port and waits for it to listen.
    pub(crate) fn example(name: &str, options: &[&str]) -> EchoServer {
        let args: Vec<&str> = ["127.0.0.1:0"].iter().chain(options).copied().collect();
        let (child, addr) = spawn_example(name, &args);
        let mut server = EchoServer {
            child,
            addr,
            idle_sockets: None,
        };
        if options.contains(&"--async") {
            // Counted before any client connects: the server announces itself first.
            server.idle_sockets = Some(server.sockets());
        }
        server
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends the server SIGINT, as Ctrl-C does, and waits for it to exit.
    pub(crate) fn interrupt(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -INT failed");
        self.child.wait().unwrap()
    }

    /// A field of `/proc/PID/status`, as a number (memory fields are in KiB).
    fn status(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// The server's peak resident memory so far, in KiB.
    pub(crate) fn peak_kib(&self) -> u64 {
        self.status("VmHWM")
    }

    /// Its resident memory now, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        self.status("VmRSS")
    }

    /// Waits until exactly `connections` connections are left: threads beside the
    /// idle ones for the blocking server, sockets beside the idle ones for the async one.
    pub(crate) fn wait_connections(&self, connections: u64) {
        let what = format!("the server holds {connections} connections");
        if let Some(idle) = self.idle_sockets {
            wait_until(&what, || self.sockets() == idle + connections);
        } else {
            wait_until(&what, || {
                self.status("Threads") == IDLE_THREADS + connections
            });
        }
    }

    /// How many sockets the server has open.
    fn sockets(&self) -> u64 {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).unwrap();
        let sockets = fds.filter_map(Result::ok).filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|link| link.to_string_lossy().starts_with("socket:"))
        });
        sockets.count() as u64
    }

    /// Reports the peak and checks it stayed under `bound_mib`.
    pub(crate) fn assert_peak_under(&self, name: &str, bound_mib: u64) {
        let peak = self.peak_kib();
        eprintln!(
            "hostile peer {name}: server peak {peak} KiB (VmHWM), now {} KiB",
            self.rss_kib()
        );
        assert!(
            peak < bound_mib << 10,
            "{name}: the server peaked at {peak} KiB, over {bound_mib} MiB"
        );
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Runs the example `name` with `args` and waits for its first line, `listening on
/// ws://ADDR/`: the child, stdout closed, and the address it listens on.
pub(crate) fn spawn_example(name: &str, args: &[&str]) -> (Child, SocketAddr) {
    let path = example_path(name);
    let mut child = Command::new(&path)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}): `cargo test` builds it; alone, run \
                 `cargo build --example {name}`",
                path.display()
            )
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ws://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// A built example of this package, beside the test binary's `deps` directory.
fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

/// Fails with a clear message unless this process (and so the server it starts) may
/// open `needed` files; `tests/run.sh` raises the soft limit to the hard one.
pub(crate) fn require_open_files(needed: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let soft: u64 = limits
        .lines()
        .find_map(|line| {
            line.strip_prefix("Max open files")?
                .split_whitespace()
                .next()
        })
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(
        soft >= needed,
        "this test needs {needed} open files and the limit is {soft}: raise it (ulimit -n {needed})"
    );
}

/// A well-behaved client of the echo server (our own client).
pub(crate) fn good_client(addr: SocketAddr) -> Client<TcpStream> {
    websockets::client::connect(format!("ws://{addr}/")).unwrap()
}

/// Checks that `client` still gets its messages echoed.
pub(crate) fn assert_served(client: &mut Client<TcpStream>, what: &str) {
    client.send_text(what).unwrap();
    assert_eq!(client.read_message().unwrap().as_text(), Some(what));
}

/// A raw TCP peer that speaks WebSocket by hand: the frames it sends are whatever the
/// test builds, valid or not.
pub(crate) struct RawPeer {
    pub(crate) tcp: TcpStream,
    received: Vec<u8>,
    decoder: Decoder,
}

impl RawPeer {
    /// A TCP connection that gives up on a stuck read or write after [`STUCK`].
    pub(crate) fn connect(addr: SocketAddr) -> RawPeer {
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(STUCK)).unwrap();
        tcp.set_write_timeout(Some(STUCK)).unwrap();
        tcp.set_nodelay(true).unwrap();
        RawPeer {
            tcp,
            received: Vec::new(),
            decoder: Decoder::new(
                DecoderConfig::default()
                    .masking(Masking::Forbidden)
                    .max_payload_len(64 << 20),
            ),
        }
    }

    /// Connects and completes the opening handshake.
    pub(crate) fn upgrade(addr: SocketAddr) -> RawPeer {
        let mut peer = RawPeer::connect(addr);
        let (request, pending) = ClientRequest::new(addr.to_string(), "/").build().unwrap();
        peer.tcp.write_all(&request).unwrap();
        let response = peer.read_response();
        assert_eq!(response.status(), 101);
        pending.validate(response).unwrap();
        peer
    }

    /// Connects and completes the opening handshake offering permessage-deflate with
    /// `offer`; returns what the server agreed to, or panics if it declined.
    pub(crate) fn upgrade_deflate(
        addr: SocketAddr,
        offer: DeflateOffer,
    ) -> (RawPeer, DeflateParams) {
        let mut peer = RawPeer::connect(addr);
        let (request, pending) = ClientRequest::new(addr.to_string(), "/")
            .deflate(offer)
            .build()
            .unwrap();
        peer.tcp.write_all(&request).unwrap();
        let response = peer.read_response();
        assert_eq!(response.status(), 101);
        let agreed = pending
            .validate(response)
            .unwrap()
            .deflate()
            .expect("the server declined permessage-deflate");
        (peer, agreed)
    }

    /// Reads an HTTP response head; what follows it stays buffered for frames.
    pub(crate) fn read_response(&mut self) -> websockets::handshake::Response {
        let mut parser = ResponseParser::default();
        loop {
            if let Parsed::Complete(response, used) = parser.parse(&self.received).unwrap() {
                self.received.drain(..used);
                return response;
            }
            assert!(
                self.fill().unwrap() > 0,
                "the server closed before answering"
            );
        }
    }

    /// Reads the rest of the stream after a refusal; returns the bytes that came.
    pub(crate) fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.received);
        match self.tcp.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {}
            Err(error) => panic!("reading to the end failed: {error}"),
        }
        rest
    }

    /// Sends a frame, masked as a client's must be.
    pub(crate) fn send(&mut self, frame: Frame) {
        let mut wire = Vec::new();
        frame.with_mask(MASK).encode(&mut wire);
        self.tcp.write_all(&wire).unwrap();
    }

    /// Sends a bare header (of a client frame), with no payload after it.
    pub(crate) fn send_header(&mut self, opcode: OpCode, payload_len: u64) {
        let mut header = FrameHeader::new(opcode, payload_len);
        header.mask = Some(MASK);
        let mut wire = [0; FrameHeader::MAX_LEN];
        let len = header.encode(&mut wire);
        self.tcp.write_all(&wire[..len]).unwrap();
    }

    /// The next frame from the server; `None` once the stream has ended.
    pub(crate) fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Decoded::Complete(frame, used) = self.decoder.decode(&self.received).unwrap() {
                self.received.drain(..used);
                return Some(frame);
            }
            match self.fill() {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::ConnectionReset => return None,
                Err(error) => panic!("reading a frame failed: {error}"),
            }
        }
    }

    /// Reads until the server's Close, answers it, waits for the end of the stream, and
    /// returns the code. Data frames met on the way are skipped.
    pub(crate) fn close_code(&mut self) -> u16 {
        self.close_code_and_reason().0
    }

    /// [`RawPeer::close_code`], with the reason the Close gave.
    pub(crate) fn close_code_and_reason(&mut self) -> (u16, String) {
        let code = loop {
            let frame = self
                .read_frame()
                .expect("the connection ended without a close frame");
            if frame.opcode() == OpCode::Close {
                break frame
                    .close_body()
                    .unwrap()
                    .map_or((1005, String::new()), |body| {
                        (body.code.as_u16(), body.reason.to_owned())
                    });
            }
        };
        // The server may already have dropped the connection; answering is courtesy.
        let mut wire = Vec::new();
        Frame::close_without_code()
            .with_mask(MASK)
            .encode(&mut wire);
        self.tcp.write_all(&wire).ok();
        assert!(self.read_frame().is_none(), "a frame after the close");
        code
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0; 64 << 10];
        loop {
            match self.tcp.read(&mut chunk) {
                Ok(n) => {
                    self.received.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }
}

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Waits until `condition` holds; panics if it does not within [`STUCK`].
pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STUCK;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

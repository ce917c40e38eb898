//! Helpers shared by the test modules: servers with short timers, a tungstenite peer,
//! raw HTTP exchanges, hand-built frames, and waiting without timed assertions.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::{Request as ClientRequest, Response as ClientResponse};
use tungstenite::{HandshakeError, WebSocket};
use ws_server::{HandlerResult, Server, ServerConfig, ServerHandle};
use ws_stream::{Message, Stream};

/// A generous bound that only makes a stuck test end; nothing asserts on it.
pub(crate) const STUCK: Duration = Duration::from_secs(10);

/// The key of RFC 6455 section 1.3, and the accept value it earns.
pub(crate) const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A tungstenite client over a plain TCP stream.
pub(crate) type Client = WebSocket<TcpStream>;

/// A config with short timers, so that tests that wait on them stay fast. The
/// handshake timeout leaves a loaded machine time to finish honest handshakes; tests
/// of the timeout itself set their own.
pub(crate) fn quick_config() -> ServerConfig {
    ServerConfig::default()
        .handshake_timeout(Duration::from_secs(2))
        .stream(ws_stream::Config::default().close_timeout(Duration::from_millis(500)))
}

/// The handler of the seed, word for word but for the unused `path`.
#[allow(clippy::while_let_loop)] // kept as the seed's users wrote it
pub(crate) fn seed_echo(stream: &mut Stream<TcpStream>, _path: &str) -> HandlerResult {
    loop {
        match stream.read_message() {
            Ok(msg) => match msg {
                Message::Text(text) => {
                    stream.send_text("Echo: ".to_string() + &text)?;
                }
                Message::Binary(data) => {
                    stream.send_binary(data)?;
                }
            },
            Err(_) => break,
        }
    }
    Ok(())
}

/// A server with the seed's echo handler on `/ws`, started with `config`.
pub(crate) fn echo_server(config: ServerConfig) -> ServerHandle {
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    server.on_connect("/ws", seed_echo).unwrap();
    server.spawn().unwrap()
}

/// Opens a TCP connection that gives up on a stuck read or write after [`STUCK`].
pub(crate) fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(STUCK)).unwrap();
    tcp.set_write_timeout(Some(STUCK)).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

/// A request for `ws://addr{target}`, to add headers to.
pub(crate) fn request(addr: SocketAddr, target: &str) -> ClientRequest {
    format!("ws://{addr}{target}")
        .into_client_request()
        .unwrap()
}

/// Connects a tungstenite client, or returns the refusal's status and body.
pub(crate) fn try_connect(
    addr: SocketAddr,
    request: ClientRequest,
) -> Result<(Client, ClientResponse), (u16, String)> {
    match tungstenite::client(request, tcp(addr)) {
        Ok(pair) => Ok(pair),
        Err(HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            let body = response.body().clone().unwrap_or_default();
            Err((
                response.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            ))
        }
        Err(error) => panic!("handshake failed without a response: {error}"),
    }
}

/// Connects a tungstenite client to `target`, which must accept.
pub(crate) fn connect(addr: SocketAddr, target: &str) -> Client {
    match try_connect(addr, request(addr, target)) {
        Ok((client, _)) => client,
        Err((status, body)) => panic!("refused with {status}: {body}"),
    }
}

/// The status a tungstenite client is refused with at `target`.
pub(crate) fn refusal(addr: SocketAddr, request: ClientRequest) -> u16 {
    match try_connect(addr, request) {
        Ok((_, response)) => panic!("accepted with {}", response.status()),
        Err((status, _)) => status,
    }
}

/// Sends `text` and returns the next data message as text.
pub(crate) fn round_trip(client: &mut Client, text: &str) -> String {
    client.send(tungstenite::Message::text(text)).unwrap();
    next_text(client)
}

/// The next text message, skipping pings and pongs.
pub(crate) fn next_text(client: &mut Client) -> String {
    loop {
        match client.read().unwrap() {
            tungstenite::Message::Text(text) => return text.as_str().to_owned(),
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Reads until the server's Close and returns its code, after answering it as a
/// client should (the server may have ended the TCP connection already).
pub(crate) fn close_code(client: &mut Client) -> u16 {
    let code = loop {
        match client.read() {
            Ok(tungstenite::Message::Close(Some(frame))) => break frame.code.into(),
            Ok(tungstenite::Message::Close(None)) => break 1005,
            Ok(_) => {}
            Err(error) => panic!("connection ended without a Close frame: {error}"),
        }
    };
    client.flush().ok();
    code
}

/// Proves the echo server at `addr` still serves a new client.
pub(crate) fn assert_echoes(addr: SocketAddr) {
    let mut client = connect(addr, "/ws");
    assert_eq!(round_trip(&mut client, "still here"), "Echo: still here");
    client.close(None).unwrap();
}

/// What a server answered to a raw HTTP request, read to the end of the connection.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    /// The value of a header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (field, value) = line.split_once(':')?;
            field.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends `bytes` in one write and reads the answer until the server closes.
pub(crate) fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> RawResponse {
    let mut tcp = tcp(addr);
    tcp.write_all(bytes).unwrap();
    read_response(&mut tcp)
}

/// Reads an HTTP response until the server ends the connection.
///
/// End of stream is the only accepted end: a reset would mean the server dropped the
/// connection with bytes it never read, which can destroy the response in flight.
pub(crate) fn read_response(tcp: &mut TcpStream) -> RawResponse {
    let mut bytes = Vec::new();
    if let Err(error) = tcp.read_to_end(&mut bytes) {
        panic!(
            "reading the response failed after {:?}: {error}",
            String::from_utf8_lossy(&bytes)
        );
    }
    parse_response(&bytes)
}

/// Splits a response into status, head and body.
pub(crate) fn parse_response(bytes: &[u8]) -> RawResponse {
    let end = find(bytes, b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    RawResponse {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    }
}

/// A valid upgrade request for `target`, with the RFC's key and any `extra` lines.
pub(crate) fn upgrade_head(target: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {RFC_KEY}\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// Reads a response head byte by byte, so nothing after it is consumed.
pub(crate) fn read_head(tcp: &mut TcpStream) -> RawResponse {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        match tcp.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "head ended early ({other:?}): {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    parse_response(&head)
}

/// Opens a raw connection and upgrades it on `target`, leaving the stream at the
/// first frame.
pub(crate) fn raw_upgrade(addr: SocketAddr, target: &str) -> TcpStream {
    let mut tcp = tcp(addr);
    tcp.write_all(&upgrade_head(target, "")).unwrap();
    let response = read_head(&mut tcp);
    assert_eq!(response.status, 101, "{}", response.head);
    assert_eq!(response.header("sec-websocket-accept"), Some(RFC_ACCEPT));
    tcp
}

/// Opcodes of RFC 6455 section 5.2.
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;

/// A final client frame, masked as RFC 6455 section 5.3 requires.
pub(crate) fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(
        payload
            .iter()
            .zip(key.iter().cycle())
            .map(|(byte, mask)| byte ^ mask),
    );
    out
}

/// Reads one unmasked server frame: its opcode and payload, or `None` at end of stream.
pub(crate) fn read_frame(tcp: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0; 2];
    match tcp.read(&mut header[..1]) {
        Ok(0) => return None,
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::ConnectionReset => return None,
        Err(error) => panic!("reading a frame failed: {error}"),
    }
    tcp.read_exact(&mut header[1..]).unwrap();
    assert_eq!(header[0] & 0x80, 0x80, "a final frame");
    assert_eq!(header[1] & 0x80, 0, "server frames are not masked");
    let len = match header[1] & 0x7f {
        126 => {
            let mut len = [0; 2];
            tcp.read_exact(&mut len).unwrap();
            usize::from(u16::from_be_bytes(len))
        }
        127 => {
            let mut len = [0; 8];
            tcp.read_exact(&mut len).unwrap();
            usize::try_from(u64::from_be_bytes(len)).unwrap()
        }
        len => usize::from(len),
    };
    let mut payload = vec![0; len];
    tcp.read_exact(&mut payload).unwrap();
    Some((header[0] & 0x0f, payload))
}

/// The close code of a Close frame's payload.
pub(crate) fn close_payload_code(payload: &[u8]) -> u16 {
    u16::from_be_bytes([payload[0], payload[1]])
}

/// Waits until `condition` holds; panics if it does not within [`STUCK`].
pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STUCK;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Counts live handlers: a [`Live`] made at a handler's start drops at its end.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveCount(Arc<AtomicUsize>);

impl LiveCount {
    /// Counts one more live handler until the guard drops.
    pub(crate) fn enter(&self) -> Live {
        self.0.fetch_add(1, Ordering::SeqCst);
        Live(Arc::clone(&self.0))
    }

    /// Handlers running now.
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// One live handler; see [`LiveCount`].
#[derive(Debug)]
pub(crate) struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

//! Integration tests for ws-client, in one binary to keep link time down.
//!
//! Servers run in threads on 127.0.0.1:0: tungstenite for interoperability, and raw
//! `TcpListener` threads writing crafted responses for the handshake's failure modes,
//! crafted proxies and redirects. A real tinyproxy, started per test, carries the
//! proxied connections.
//! Every socket a test blocks on has a generous safety timeout, so that a regression
//! fails the test instead of hanging it; no assertion depends on timing.
#![allow(clippy::unwrap_used)]

mod api;
#[cfg(feature = "tokio")]
mod asynchronous;
mod connect;
mod crafted;
mod interop;
mod lazy;
mod proxy;
mod proxy_env;
mod redirect;
mod tinyproxy;
mod url;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tungstenite::WebSocket;
use tungstenite::handshake::server::{Request, Response};

/// How long any blocking socket operation in a test may take before the test fails
/// rather than hangs.
const SAFETY: Duration = Duration::from_secs(10);

/// A tungstenite server for one connection, running `serve` on it in a thread; it
/// picks `protocol` as the subprotocol when given.
#[allow(
    clippy::result_large_err,
    reason = "tungstenite's callback signature fixes the error type"
)]
fn tungstenite_server<T, F>(protocol: Option<&'static str>, serve: F) -> (SocketAddr, JoinHandle<T>)
where
    T: Send + 'static,
    F: FnOnce(WebSocket<TcpStream>) -> T + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let socket = listener.accept().unwrap().0;
        socket.set_read_timeout(Some(SAFETY)).unwrap();
        let callback = move |_: &Request, mut response: Response| {
            if let Some(protocol) = protocol {
                let value = protocol.parse().unwrap();
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", value);
            }
            Ok(response)
        };
        serve(tungstenite::accept_hdr(socket, callback).unwrap())
    });
    (addr, handle)
}

/// A tungstenite server that echoes text and binary messages until the connection ends.
fn echo_server() -> (SocketAddr, JoinHandle<()>) {
    tungstenite_server(None, |mut ws| {
        while let Ok(message) = ws.read() {
            if message.is_text() || message.is_binary() {
                ws.send(message).unwrap();
            }
        }
    })
}

/// A raw server for one connection: reads the request head, then lets `respond` write
/// anything. The thread answers the request it read (empty if the client sent none).
fn raw_server<F>(respond: F) -> (SocketAddr, JoinHandle<String>)
where
    F: FnOnce(&str, &mut TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut socket = listener.accept().unwrap().0;
        socket.set_read_timeout(Some(SAFETY)).unwrap();
        let request = read_head(&mut socket);
        respond(&request, &mut socket);
        request
    });
    (addr, handle)
}

/// Reads up to the end of an HTTP head, or until the stream ends.
fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8(head).unwrap()
}

/// Waits until the client ends the connection, discarding what it sends.
fn drain(socket: &mut TcpStream) {
    let mut scratch = [0; 256];
    while matches!(socket.read(&mut scratch), Ok(1..)) {}
}

/// The `Sec-WebSocket-Accept` answering `request`'s key.
fn accept_for(request: &str) -> String {
    let key = request
        .lines()
        .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    ws_handshake::accept_key(key.as_bytes())
}

/// A valid `101` for `request`, with `extra` header lines.
fn switching(request: &str, extra: &[&str]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_for(request)
    );
    for line in extra {
        response.push_str(line);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    response.into_bytes()
}

/// Writes `bytes` in one call, then waits for the client to leave.
fn answer(bytes: &[u8], socket: &mut TcpStream) {
    // A client that gave up already is what some tests expect: not a server failure.
    socket.write_all(bytes).ok();
    drain(socket);
}

/// `ws://addr/` with `path` appended.
fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

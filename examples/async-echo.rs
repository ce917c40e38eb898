//! An async echo server on tokio's multi-thread runtime: every text and binary message
//! comes back with the same opcode, on any path, until the process is killed.
//!
//! ```text
//! cargo build --release --example async-echo
//! target/release/examples/async-echo [ADDRESS]
//! ```
//!
//! Listens on `ADDRESS` (default `127.0.0.1:9001`; port 0 picks a free one) and prints
//! `listening on ws://ADDRESS/` once it accepts connections. Each connection is one
//! task: `accept_async` runs the handshake, then the connection echoes until the peer
//! closes. The async layers come from the `tokio` feature, which the facade's
//! dev-dependencies turn on for its examples.
#![allow(clippy::print_stdout)]

use std::io::Write;

use tokio::net::{TcpListener, TcpStream};
use websockets::server::accept_async;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await?;
    // Tests and scripts wait for this line, so it must not sit in a buffer.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", listener.local_addr()?)?;
    out.flush()?;
    drop(out);
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(echo(tcp));
    }
}

/// One connection: the handshake, then every message back until the peer closes.
async fn echo(tcp: TcpStream) {
    // A message is written whole: Nagle's algorithm would only delay it.
    tcp.set_nodelay(true).ok();
    let Ok(mut ws) = accept_async(tcp).await else {
        return;
    };
    while let Ok(message) = ws.recv().await {
        if ws.send(&message).await.is_err() {
            return;
        }
    }
}

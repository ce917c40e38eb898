//! The example server on tokio: the same page, echo route and chat room as
//! `examples/ws-server.rs`, served by `AsyncServer` with a task per connection, and a
//! graceful shutdown on Ctrl-C that closes every connection with 1001 (going away).
//!
//! ```text
//! cargo run --example async-server [ADDRESS]
//! ```
//!
//! Listens on 127.0.0.1:8080 unless given another address (port 0 picks a free one)
//! and prints `listening on ws://ADDRESS/` once it accepts connections. Open
//! `http://ADDRESS/` in a browser: type a message and the server echoes it back over
//! `/ws`. `/chat` relays each message to every connected client.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::Arc;

use websockets::Message;
use websockets::server::{AsyncBroadcast, AsyncServer, HttpResponse};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut server = AsyncServer::new(addr);
    server.on_http("/", |_request| HttpResponse::html(PAGE))?;

    server.on_connect("/ws", |mut ws, _path| async move {
        loop {
            match ws.recv().await {
                Ok(Message::Text(text)) => ws.send_text(&format!("Echo: {text}")).await?,
                Ok(Message::Binary(data)) => ws.send_binary(&data).await?,
                // The peer closed (our answer is written), or the connection failed.
                Err(_) => return Ok(()),
            }
        }
    })?;

    let room = Arc::new(AsyncBroadcast::new());
    server.on_connect_split("/chat", move |mut reader, writer, _path| {
        let room = Arc::clone(&room);
        async move {
            let member = room.join(writer);
            while let Ok(message) = reader.recv().await {
                room.send(&message);
            }
            room.leave(member);
            Ok(())
        }
    })?;

    let handle = server.spawn().await?;
    // Tests and scripts wait for this line, so it must not sit in a buffer.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", handle.local_addr())?;
    out.flush()?;
    drop(out);
    eprintln!("echo at /ws, chat at /chat, a page at /; Ctrl-C stops");

    tokio::signal::ctrl_c().await?;
    handle.shutdown().await;
    eprintln!("stopped: every connection was closed with 1001");
    Ok(())
}

const PAGE: &str = include_str!("page.html");

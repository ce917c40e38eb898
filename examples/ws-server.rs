//! An echo server with a page to try it from a browser, and a chat room.
//!
//! ```text
//! cargo run --example ws-server [ADDRESS [CERT_PEM KEY_PEM]]
//! ```
//!
//! Listens on 127.0.0.1:8080 unless given another address. Open `http://ADDRESS/` in a
//! browser: type a message and the server echoes it back over `/ws`. `/chat` relays
//! each message to every connected client. Given a PEM certificate chain and key, it
//! serves `https://` and `wss://` instead.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/report.rs"]
mod report;

use std::sync::Arc;

use websockets::server::{Acceptor, Broadcast, HttpResponse};
use websockets::stream::Split;
use websockets::tls::TlsAcceptor;
use websockets::{Message, Server};

fn main() -> std::process::ExitCode {
    report::exit(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    match (args.next(), args.next()) {
        (Some(cert), Some(key)) => {
            let acceptor = TlsAcceptor::from_pem_files(cert, key)?;
            serve(websockets::tls::server(addr, acceptor), "https")
        }
        (None, None) => serve(Server::new(addr), "http"),
        _ => Err("usage: ws-server [ADDRESS [CERT_PEM KEY_PEM]]".into()),
    }
}

/// Adds the routes and serves until the process is stopped.
fn serve<A>(mut server: Server<A>, scheme: &str) -> Result<(), Box<dyn std::error::Error>>
where
    A: Acceptor,
    A::Stream: Split,
{
    server.on_http("/", |_request| HttpResponse::html(PAGE))?;

    server.on_connect("/ws", |stream, path| {
        println!("{path}: connected");
        loop {
            match stream.read_message() {
                Ok(Message::Text(text)) => stream.send_text("Echo: ".to_string() + &text)?,
                Ok(Message::Binary(data)) => stream.send_binary(data)?,
                Err(error) => {
                    println!("{path}: closed ({error})");
                    break;
                }
            }
        }
        Ok(())
    })?;

    let room = Arc::new(Broadcast::new());
    server.on_connect_split("/chat", move |reader, writer, path| {
        let member = room.join(writer.clone());
        println!("{path}: joined, {} in the room", room.len());
        let ended = loop {
            match reader.read_message() {
                Ok(message) => {
                    room.send(&message);
                }
                Err(error) => break error,
            }
        };
        room.leave(member);
        println!("{path}: left ({ended}), {} in the room", room.len());
        Ok(())
    })?;

    let handle = server.spawn()?;
    println!(
        "listening on {scheme}://{}/ (echo at /ws, chat at /chat)",
        handle.local_addr()
    );
    loop {
        std::thread::park();
    }
}

const PAGE: &str = include_str!("page.html");

//! A client to type at a WebSocket server.
//!
//! ```text
//! cargo run --example ws-client [URL]
//! ```
//!
//! Connects to `URL` (default `ws://127.0.0.1:8080/ws`, the example server's echo;
//! `wss://` works too), sends each line typed on standard input as a text message,
//! prints every message that comes back, and closes cleanly at the end of input.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/chat.rs"]
mod chat;
#[path = "support/report.rs"]
mod report;

fn main() -> std::process::ExitCode {
    report::exit(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let client = websockets::connect(&url)?;
    eprintln!("connected to {url}; type lines to send, end input (Ctrl-D) to close");
    chat::type_at(client.into_stream()?)
}

//! A client to type at a secure WebSocket server.
//!
//! ```text
//! cargo run --example wss-client URL [CA_PEM]
//! ```
//!
//! Connects to the `wss://` `URL`, trusting the Mozilla roots, or only the certificates
//! in the `CA_PEM` file if given (for a private CA, or the example server's self-made
//! certificate). Then, as `ws-client`: sends typed lines, prints what comes back.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/chat.rs"]
mod chat;
#[path = "support/report.rs"]
mod report;

use websockets::client::ClientConfig;
use websockets::tls::Connector;

fn main() -> std::process::ExitCode {
    report::exit(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        return Err("usage: wss-client URL [CA_PEM]".into());
    };
    let connector = match args.next() {
        Some(ca) => Connector::builder()
            .root_certificates_pem_file(ca)?
            .build()?,
        None => Connector::new(),
    };
    let client = websockets::tls::connect_with(&url, &ClientConfig::default(), &connector)?;
    eprintln!("connected to {url}; type lines to send, end input (Ctrl-D) to close");
    chat::type_at(client.into_stream()?)
}

//! A bare echo server, for conformance suites, tests and load: every text and binary
//! message comes back as it came, on the path `/`.
//!
//! ```text
//! cargo run --release --example echo-server [ADDRESS] [OPTION VALUE]...
//! ```
//!
//! Listens on `ADDRESS` (default `127.0.0.1:9001`; port 0 picks a free one) and prints
//! `listening on ws://ADDRESS/` once it accepts connections. The Autobahn suite connects
//! to `/`, and its largest cases send 16 MiB messages, which the defaults allow. Unlike
//! `ws-server`, it adds nothing to the messages and serves no page.
//!
//! Options, each taking a number, set the server's limits explicitly, so that tests do
//! not depend on the defaults: `--max-connections`, `--handshake-timeout-ms`,
//! `--max-message-size`, `--max-frame-size`, `--write-timeout-ms`.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Duration;

use websockets::Server;
use websockets::server::ServerConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let addr = match args.peek() {
        Some(first) if !first.starts_with("--") => args.next().unwrap_or_default(),
        _ => "127.0.0.1:9001".into(),
    };
    let mut config = ServerConfig::default();
    while let Some(option) = args.next() {
        let value: u64 = args
            .next()
            .ok_or_else(|| format!("{option} needs a value"))?
            .parse()
            .map_err(|error| format!("{option}: {error}"))?;
        let bytes = usize::try_from(value)?;
        config = match option.as_str() {
            "--max-connections" => config.max_connections(bytes),
            "--handshake-timeout-ms" => config.handshake_timeout(Duration::from_millis(value)),
            "--write-timeout-ms" => config.write_timeout(Some(Duration::from_millis(value))),
            "--max-message-size" => {
                let stream = config.stream.clone().max_message_size(bytes);
                config.stream(stream)
            }
            "--max-frame-size" => {
                let stream = config.stream.clone().max_frame_size(bytes);
                config.stream(stream)
            }
            _ => return Err(format!("unknown option {option}").into()),
        };
    }

    let mut server = Server::new(addr).with_config(config);
    server.on_connect("/", |stream, _path| {
        while let Ok(message) = stream.read_message() {
            stream.send(&message)?;
        }
        Ok(())
    })?;
    let handle = server.spawn()?;
    // Tests and scripts wait for this line, so it must not sit in a buffer.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", handle.local_addr())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}

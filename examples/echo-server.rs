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
//! `--max-message-size`, `--max-frame-size`, `--max-write-buffer`, `--write-timeout-ms`. `--async` serves with `AsyncServer` on tokio's multi-thread runtime instead of
//! the thread-per-connection `Server`, with the same routes and limits, so that tests
//! and suites can run against both.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Duration;

use websockets::Server;
use websockets::server::{ASYNC_MAX_CONNECTIONS, AsyncServer, ServerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let addr = match args.peek() {
        Some(first) if !first.starts_with("--") => args.next().unwrap_or_default(),
        _ => "127.0.0.1:9001".into(),
    };
    let asynchronous = args.next_if_eq("--async").is_some();
    let mut config = ServerConfig::default();
    if asynchronous {
        config = config.max_connections(ASYNC_MAX_CONNECTIONS);
    }
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
            "--max-write-buffer" => {
                let stream = config.stream.clone().max_write_buffer(bytes);
                config.stream(stream)
            }
            _ => return Err(format!("unknown option {option}").into()),
        };
    }

    if asynchronous {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(serve_async(addr, config));
    }
    let mut server = Server::new(addr).with_config(config);
    server.on_connect("/", |stream, _path| {
        while let Ok(message) = stream.read_message() {
            stream.send(&message)?;
            stream.recycle(message);
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

/// The same echo on `/` with the async server.
async fn serve_async(addr: String, config: ServerConfig) -> Result<(), Box<dyn std::error::Error>> {
    let mut server = AsyncServer::new(addr).with_config(config);
    server.on_connect("/", |mut ws, _path| async move {
        while let Ok(message) = ws.recv().await {
            ws.send(&message).await?;
            ws.recycle(message);
        }
        Ok(())
    })?;
    let handle = server.spawn().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", handle.local_addr())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}

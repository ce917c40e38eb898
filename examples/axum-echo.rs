//! WebSockets inside an axum application: `/echo` upgrades with ws-server's
//! `upgrade_hyper` and echoes every message; `/` is an ordinary axum page.
//!
//! ```text
//! cargo run --example axum-echo [ADDRESS]
//! ```
//!
//! Listens on `ADDRESS` (default `127.0.0.1:3000`; port 0 picks a free one) and prints
//! `listening on ws://ADDRESS/` once it accepts connections. The handler takes axum's
//! whole request (an `http::Request`, which is hyper's), answers with the `101` (or
//! the refusal our handshake rules give: 426 for a plain GET, 403 for a foreign origin)
//! and echoes on a task of its own once axum has handed the connection over. The
//! facade's dev-dependencies turn on ws-server's `hyper` feature for its examples.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use websockets::server::{HyperUpgrade, ServerConfig, upgrade_hyper};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    // Origins, subprotocols and compression are the handshake's, as in our servers.
    let config = Arc::new(ServerConfig::default().protocols(["echo"]));
    let app = Router::new()
        .route(
            "/",
            get(|| async { "axum-echo: a WebSocket echo at /echo\n" }),
        )
        .route("/echo", get(websocket))
        .with_state(config);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    // Tests and scripts wait for this line, so it must not sit in a buffer.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on ws://{}/", listener.local_addr()?)?;
    out.flush()?;
    drop(out);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The upgrade: axum's request in, our `101` or refusal out, the echo on its own task.
async fn websocket(State(config): State<Arc<ServerConfig>>, request: Request) -> Response {
    match upgrade_hyper(request, &config) {
        Ok((response, upgrade)) => {
            tokio::spawn(echo(upgrade));
            response.into_response()
        }
        Err(refusal) => refusal.into_response().into_response(),
    }
}

/// Every message back, with its opcode, until the peer closes.
async fn echo(upgrade: HyperUpgrade) {
    let Ok(mut ws) = upgrade.await else {
        return;
    };
    while let Ok(message) = ws.recv().await {
        if ws.send(&message).await.is_err() {
            return;
        }
    }
}

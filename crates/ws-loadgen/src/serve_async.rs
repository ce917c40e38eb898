//! The async peers of issue 10, each as its own documentation's echo server shows it:
//! fastwebsockets behind hyper's upgrade (its `examples/echo_server.rs`), and
//! tokio-tungstenite's `accept_async` with its stream forwarded into its sink (its
//! `examples/echo-server.rs`). Both set `TCP_NODELAY`, as ours does.
//!
//! Both run on tokio's multi-thread runtime, as `async-echo` does by default;
//! `LOAD_PEER_RUNTIME=current` puts them on one current-thread runtime instead, as
//! fastwebsockets' example does.

use std::env;
use std::net::TcpListener as StdListener;
use std::thread;

use fastwebsockets::{OpCode, WebSocketError, upgrade};
use futures_util::{StreamExt, TryStreamExt, future};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};

use crate::BoxError;

/// Which peer a child serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    FastWebSockets,
    TokioTungstenite,
}

/// Serves `peer` on a free port from a thread of its own; answers the port.
pub(crate) fn serve_peer(peer: Peer) -> Result<u16, BoxError> {
    let listener = StdListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let runtime = match env::var("LOAD_PEER_RUNTIME").as_deref() {
        Ok("current") => tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?,
        Ok("multi") | Err(_) => tokio::runtime::Builder::new_multi_thread()
            .enable_io()
            .build()?,
        Ok(other) => {
            return Err(format!("LOAD_PEER_RUNTIME={other}: expected multi or current").into());
        }
    };
    thread::Builder::new().name("peer".into()).spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                return;
            };
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                tcp.set_nodelay(true).ok();
                match peer {
                    Peer::FastWebSockets => tokio::spawn(fastwebsockets_connection(tcp)),
                    Peer::TokioTungstenite => tokio::spawn(tokio_tungstenite_connection(tcp)),
                };
            }
        });
    })?;
    Ok(port)
}

/// hyper serves the HTTP request; the upgrade's handler echoes on a task of its own.
async fn fastwebsockets_connection(tcp: TcpStream) {
    let io = hyper_util::rt::TokioIo::new(tcp);
    http1::Builder::new()
        .serve_connection(io, service_fn(fastwebsockets_upgrade))
        .with_upgrades()
        .await
        .ok();
}

async fn fastwebsockets_upgrade(
    mut request: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgrade) = upgrade::upgrade(&mut request)?;
    tokio::spawn(async move {
        tokio::task::unconstrained(fastwebsockets_echo(upgrade))
            .await
            .ok();
    });
    Ok(response)
}

async fn fastwebsockets_echo(upgrade: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = upgrade.await?;
    // Its defaults, named: Close and Ping are answered by the library.
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn tokio_tungstenite_connection(tcp: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (write, read) = ws.split();
    read.try_filter(|message| future::ready(message.is_text() || message.is_binary()))
        .forward(write)
        .await
        .ok();
}

//! The async peers of issue 10, each as its own documentation's echo server shows it:
//! fastwebsockets behind hyper's upgrade (its `examples/echo_server.rs`), and
//! tokio-tungstenite's `accept_async` with its stream forwarded into its sink (its
//! `examples/echo-server.rs`). Both set `TCP_NODELAY`, as ours does.
//!
//! Both run on tokio's multi-thread runtime, as `async-echo --multi-thread` does;
//! `LOAD_PEER_RUNTIME=current` puts them on one current-thread runtime instead, as
//! fastwebsockets' example does, and `LOAD_PEER_RUNTIME=per-core` on one
//! current-thread runtime per core sharing the port, as `async-echo` does by default.

use std::env;
use std::net::SocketAddr;
use std::thread;

use fastwebsockets::{OpCode, WebSocketError, upgrade};
use futures_util::{StreamExt, TryStreamExt, future};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::BoxError;

/// Which peer a child serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    FastWebSockets,
    TokioTungstenite,
}

/// Serves `peer` on a free port from threads of its own; answers the port.
pub(crate) fn serve_peer(peer: Peer) -> Result<u16, BoxError> {
    let mode = env::var("LOAD_PEER_RUNTIME").unwrap_or_else(|_| "multi".to_owned());
    let (runtimes, threads) = match mode.as_str() {
        "multi" => (1, true),
        "current" => (1, false),
        "per-core" => (
            thread::available_parallelism().map_or(1, |n| n.get()),
            false,
        ),
        other => {
            return Err(
                format!("LOAD_PEER_RUNTIME={other}: expected multi, current or per-core").into(),
            );
        }
    };
    let mut addr: SocketAddr = "127.0.0.1:0".parse()?;
    for _ in 0..runtimes {
        let runtime = match threads {
            true => tokio::runtime::Builder::new_multi_thread()
                .enable_io()
                .build()?,
            false => tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()?,
        };
        let listener = {
            let _entered = runtime.enter();
            let socket = TcpSocket::new_v4()?;
            if runtimes > 1 {
                socket.set_reuseport(true)?;
            }
            socket.bind(addr)?;
            socket.listen(1024)?
        };
        addr = listener.local_addr()?;
        thread::Builder::new()
            .name("peer".into())
            .spawn(move || runtime.block_on(accept_loop(listener, peer)))?;
    }
    Ok(addr.port())
}

async fn accept_loop(listener: TcpListener, peer: Peer) {
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

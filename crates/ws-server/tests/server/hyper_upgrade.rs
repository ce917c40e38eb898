//! `upgrade_hyper` (feature `hyper`) inside a real hyper 1 server (`http1::Builder`
//! with upgrades): our async client echoes through it with the subprotocol and
//! permessage-deflate agreed, and requests our handshake rules refuse get their status
//! (426 for a plain GET, 403 for a foreign origin, 400 for a bad key), from hyper.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ws_client::ClientConfig;
use ws_server::{Error, ServerConfig};
use ws_stream::Message;

/// Far above what any step needs: only a hang reaches it.
const HANG: Duration = Duration::from_secs(20);

/// A hyper server on 127.0.0.1 that upgrades every request with `config` and echoes,
/// after first sending the path and query it was upgraded on; each refusal's reason
/// goes to the receiver. Aborting the task stops it.
async fn hyper_echo_server(
    config: ServerConfig,
) -> (SocketAddr, JoinHandle<()>, mpsc::UnboundedReceiver<Error>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (refusals, refused) = mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (config, refusals) = (config.clone(), refusals.clone());
            let service = service_fn(move |request| {
                let answer = match ws_server::upgrade_hyper(request, &config) {
                    Ok((response, upgrade)) => {
                        tokio::spawn(echo(upgrade));
                        response
                    }
                    Err(refusal) => {
                        let response = refusal.response().clone();
                        refusals.send(refusal.into_error()).ok();
                        response
                    }
                };
                async move { Ok::<_, Infallible>(answer) }
            });
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    (addr, server, refused)
}

async fn echo(upgrade: ws_server::HyperUpgrade) -> ws_server::HandlerResult {
    let target = match upgrade.request().query() {
        Some(query) => format!("{}?{query}", upgrade.request().path()),
        None => upgrade.request().path().to_owned(),
    };
    let mut ws = upgrade.await?;
    ws.send_text(&target).await?;
    while let Ok(message) = ws.recv().await {
        ws.send(&message).await?;
    }
    Ok(())
}

#[tokio::test]
async fn echoes_through_hyper_with_the_subprotocol_and_deflate_agreed() {
    let (addr, server, _) = hyper_echo_server(ServerConfig::default().protocols(["chat"])).await;
    let config = ClientConfig::default().protocols(["other", "chat"]);
    let url = format!("ws://{addr}/echo?room=7");
    let (mut ws, accepted) =
        tokio::time::timeout(HANG, ws_client::connect_async_with(url, &config))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(accepted.protocol(), Some("chat"));
    assert!(accepted.deflate().is_some(), "permessage-deflate declined");
    tokio::time::timeout(HANG, async {
        assert_eq!(ws.recv().await.unwrap(), Message::text("/echo?room=7"));
        let large: Vec<u8> = (0..200_000).map(|i| (i % 251) as u8).collect();
        for message in [Message::text("through hyper ✓"), Message::binary(large)] {
            ws.send(&message).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), message);
        }
        ws.close().await.unwrap();
    })
    .await
    .unwrap();
    server.abort();
}

#[tokio::test]
async fn a_plain_get_is_refused_with_426() {
    let (addr, server, mut refused) = hyper_echo_server(ServerConfig::default()).await;
    let response = exchange(
        addr,
        "GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("upgrade: websocket"),
        "{response}"
    );
    let reason = refused.recv().await.unwrap();
    assert!(matches!(reason, Error::Rejected(426)), "{reason:?}");
    server.abort();
}

#[tokio::test]
async fn a_foreign_origin_is_refused_with_403() {
    let config = ServerConfig::default().allowed_origins(["https://good.example"]);
    let (addr, server, mut refused) = hyper_echo_server(config).await;
    let client = ClientConfig::default().origin("https://evil.example");
    let connecting = ws_client::connect_async_with(format!("ws://{addr}/echo"), &client);
    let error = tokio::time::timeout(HANG, connecting)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        error.response().map(|response| response.status()),
        Some(403)
    );
    assert!(matches!(
        refused.recv().await.unwrap(),
        Error::Rejected(403)
    ));
    server.abort();
}

#[tokio::test]
async fn a_bad_key_is_refused_with_400_naming_it() {
    let (addr, server, mut refused) = hyper_echo_server(ServerConfig::default()).await;
    let response = exchange(
        addr,
        "GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    let Error::Handshake(reason) = refused.recv().await.unwrap() else {
        panic!("refused for another reason")
    };
    // The body is our handshake error's message, as the blocking server sends it.
    let body = response.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(body, format!("{reason}\n"));
    server.abort();
}

/// Sends `request` and reads the response until the server ends the connection, or
/// until the head and the body its `Content-Length` announces have arrived.
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(HANG, async {
        let mut chunk = [0; 1024];
        while !complete(&received) {
            let n = tcp.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap();
    String::from_utf8(received).unwrap()
}

fn complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

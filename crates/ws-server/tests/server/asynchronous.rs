//! `accept_async` (feature `tokio`): echo with a tungstenite client, a subprotocol
//! chosen, a request that is not an upgrade refused with 426, and a slow client cut
//! off at the handshake timeout.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use tokio::net::TcpListener;
use tungstenite::Message as TMessage;
use ws_server::{Error, ServerConfig};

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("ws://{addr}/chat"))
}

#[tokio::test]
async fn echoes_for_tungstenite_with_the_subprotocol_chosen() {
    let (listener, url) = listener().await;
    let client = thread::spawn(move || {
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "chat".parse().unwrap());
        let (mut ws, response) = tungstenite::connect(request).unwrap();
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
        for message in [TMessage::text("hello"), TMessage::binary(vec![9; 70_000])] {
            ws.send(message.clone()).unwrap();
            assert_eq!(ws.read().unwrap(), message);
        }
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    let (tcp, _) = listener.accept().await.unwrap();
    let config = ServerConfig::default().protocols(["chat"]);
    let (mut ws, upgrade) = ws_server::accept_async_with(tcp, &config).await.unwrap();
    assert_eq!(upgrade.path(), "/chat");
    let ended = loop {
        match ws.recv().await {
            Ok(message) => ws.send(&message).await.unwrap(),
            Err(end) => break end,
        }
    };
    assert!(ended.is_closed(), "{ended}");
    client.join().unwrap();
}

/// `tokio::spawn` on a multi-thread runtime needs the handshake's future to be `Send`.
#[test]
fn the_handshake_future_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let (ours, _peer) = tokio::io::duplex(64);
    assert_send(&ws_server::accept_async(ours));
}

#[tokio::test]
async fn a_request_that_is_not_an_upgrade_gets_426() {
    let (listener, url) = listener().await;
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/chat")
        .to_owned();
    let client = thread::spawn(move || {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.write_all(b"GET /chat HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        tcp.read_to_string(&mut response).unwrap();
        response
    });
    let (tcp, _) = listener.accept().await.unwrap();
    let error = ws_server::accept_async(tcp).await.unwrap_err();
    assert!(matches!(error, Error::Rejected(426)), "{error}");
    assert!(client.join().unwrap().starts_with("HTTP/1.1 426"));
}

#[tokio::test]
async fn a_client_too_slow_with_its_head_is_cut_off() {
    let (listener, url) = listener().await;
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/chat")
        .to_owned();
    let client = thread::spawn(move || {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.write_all(b"GET /chat HTTP/1.1\r\n").unwrap();
        // Until the server gives up and ends the connection.
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).ok();
    });
    let (tcp, _) = listener.accept().await.unwrap();
    let config = ServerConfig::default().handshake_timeout(Duration::from_millis(100));
    let error = ws_server::accept_async_with(tcp, &config)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error}");
    client.join().unwrap();
}

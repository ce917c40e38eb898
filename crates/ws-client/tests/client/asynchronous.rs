//! The async client (feature `tokio`): a tungstenite echo server with a subprotocol,
//! a first frame sent right behind the 101, a redirect followed, the handshake timeout,
//! and `wss://` refused.

use std::time::Duration;

use ws_client::{ClientConfig, Error};
use ws_stream::{CloseCode, Message};

use crate::{answer, drain, echo_server, raw_server, switching, tungstenite_server, ws_url};

#[tokio::test]
async fn connects_echoes_and_closes_with_tungstenite() {
    let (addr, server) = tungstenite_server(Some("chat"), |mut ws| {
        while let Ok(message) = ws.read() {
            if message.is_text() || message.is_binary() {
                ws.send(message).unwrap();
            }
        }
    });
    let config = ClientConfig::default().protocols(["chat"]);
    let (mut ws, accepted) = ws_client::connect_async_with(ws_url(addr, "/chat"), &config)
        .await
        .unwrap();
    assert_eq!(accepted.protocol(), Some("chat"));
    for message in [Message::text("hello"), Message::binary(vec![7; 100_000])] {
        ws.send(&message).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), message);
    }
    ws.close().await.unwrap();
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
    server.join().unwrap();
}

#[tokio::test]
async fn a_frame_right_behind_the_response_goes_to_the_connection() {
    let (addr, server) = raw_server(|request, socket| {
        let mut bytes = switching(request, &[]);
        // An unmasked text frame, "early", in the same write as the head.
        bytes.extend_from_slice(&[0x81, 5]);
        bytes.extend_from_slice(b"early");
        answer(&bytes, socket);
    });
    let (mut ws, _) = ws_client::connect_async(ws_url(addr, "/")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("early"));
    drop(ws);
    server.join().unwrap();
}

#[tokio::test]
async fn follows_a_redirect_when_allowed() {
    let (target, echo) = echo_server();
    let location = ws_url(target, "/new");
    let (addr, redirect) = raw_server(move |_, socket| {
        let response = format!("HTTP/1.1 307 Moved\r\nLocation: {location}\r\n\r\n");
        answer(response.as_bytes(), socket);
    });
    let config = ClientConfig::default().max_redirects(1);
    let (mut ws, _) = ws_client::connect_async_with(ws_url(addr, "/old"), &config)
        .await
        .unwrap();
    ws.send(&Message::text("moved")).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("moved"));
    ws.close().await.unwrap();
    redirect.join().unwrap();
    echo.join().unwrap();
}

#[tokio::test]
async fn a_server_that_never_answers_times_the_handshake_out() {
    let (addr, server) = raw_server(|_, socket| drain(socket));
    let config = ClientConfig::default().handshake_timeout(Some(Duration::from_millis(100)));
    let error = ws_client::connect_async_with(ws_url(addr, "/"), &config)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error}");
    server.join().unwrap();
}

/// `tokio::spawn` on a multi-thread runtime needs the connect future to be `Send`.
#[test]
fn the_connect_future_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&ws_client::connect_async("ws://127.0.0.1:1/"));
}

#[tokio::test]
async fn wss_needs_tls() {
    let error = ws_client::connect_async("wss://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::TlsRequired), "{error}");
}

//! Against raw servers writing crafted responses: every way a handshake can go wrong,
//! and the bytes that may follow a good one.

use std::io::Write;
use std::thread;
use std::time::Duration;

use ws_client::{ClientConfig, Error};
use ws_handshake::Limits;
use ws_stream::Message;

use crate::{SAFETY, accept_for, answer, drain, raw_server, switching, ws_url};

/// The handshake error of connecting to a server that answers `response(request)`.
fn handshake_error(response: fn(&str) -> Vec<u8>) -> ws_handshake::Error {
    handshake_error_with(ClientConfig::default(), response)
}

/// The same, for a client with `config` (and the subprotocol `chat`).
fn handshake_error_with(
    config: ClientConfig,
    response: fn(&str) -> Vec<u8>,
) -> ws_handshake::Error {
    let (addr, server) = raw_server(move |request, socket| answer(&response(request), socket));
    let config = config.protocols(["chat"]);
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    server.join().unwrap();
    match error {
        Error::Handshake(error) => error,
        other => panic!("expected a handshake error, got {other:?}"),
    }
}

#[test]
fn a_wrong_accept_key_is_refused() {
    let error = handshake_error(|_| {
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            .to_vec()
    });
    assert_eq!(error, ws_handshake::Error::AcceptMismatch);
}

#[test]
fn a_404_is_refused_with_its_response_kept() {
    let (addr, server) = raw_server(|_, socket| {
        answer(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-Why: no such room\r\n\r\nnot found",
            socket,
        );
    });
    let error = ws_client::connect(ws_url(addr, "/nowhere")).unwrap_err();
    server.join().unwrap();
    let response = error.response().expect("the response is kept");
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers().get("x-why"), Some(&b"no such room"[..]));
    assert!(matches!(
        error,
        Error::Handshake(ws_handshake::Error::UnexpectedStatus(_))
    ));
}

#[test]
fn a_redirect_keeps_its_location() {
    let (addr, server) = raw_server(|_, socket| {
        answer(
            b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere.example/chat\r\n\r\n",
            socket,
        );
    });
    let error = ws_client::connect(ws_url(addr, "/chat")).unwrap_err();
    server.join().unwrap();
    let response = error.response().unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers().get("location"),
        Some(&b"ws://elsewhere.example/chat"[..])
    );
}

#[test]
fn a_subprotocol_not_offered_is_refused() {
    let error = handshake_error(|request| switching(request, &["Sec-WebSocket-Protocol: other"]));
    assert_eq!(error, ws_handshake::Error::UnexpectedProtocol);
}

#[test]
fn a_subprotocol_when_none_was_offered_is_refused() {
    let (addr, server) = raw_server(|request, socket| {
        answer(
            &switching(request, &["Sec-WebSocket-Protocol: chat"]),
            socket,
        );
    });
    let error = ws_client::connect(ws_url(addr, "/")).unwrap_err();
    server.join().unwrap();
    assert!(
        matches!(
            error,
            Error::Handshake(ws_handshake::Error::UnexpectedProtocol)
        ),
        "{error:?}"
    );
}

#[test]
fn an_extension_we_did_not_offer_is_refused() {
    // Compression is offered by default, so answer with another extension.
    let error = handshake_error(|request| {
        switching(
            request,
            &["Sec-WebSocket-Extensions: x-webkit-deflate-frame"],
        )
    });
    assert_eq!(error, ws_handshake::Error::UnexpectedExtension);
    // With compression off, permessage-deflate was not offered either.
    let error = handshake_error_with(ClientConfig::default().deflate(None), |request| {
        switching(request, &["Sec-WebSocket-Extensions: permessage-deflate"])
    });
    assert_eq!(error, ws_handshake::Error::UnexpectedExtension);
}

#[test]
fn a_response_over_the_head_limit_is_refused() {
    let (addr, server) = raw_server(|request, socket| {
        let padding = format!("X-Padding: {}", "a".repeat(600));
        answer(&switching(request, &[padding.as_str()]), socket);
    });
    let config = ClientConfig::default().limits(Limits::default().max_head_len(512));
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    server.join().unwrap();
    assert!(
        matches!(
            error,
            Error::Handshake(ws_handshake::Error::HeadTooLarge { limit: 512 })
        ),
        "{error:?}"
    );
}

#[test]
fn a_server_closing_mid_handshake_is_reported_as_such() {
    let (addr, server) = raw_server(|_, socket| {
        socket
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
            .unwrap();
    });
    let error = ws_client::connect(ws_url(addr, "/")).unwrap_err();
    server.join().unwrap();
    assert!(matches!(error, Error::ClosedDuringHandshake), "{error:?}");
}

#[test]
fn a_silent_server_runs_into_the_handshake_timeout() {
    let (addr, server) = raw_server(|_, socket| drain(socket));
    let config = ClientConfig::default().handshake_timeout(Some(Duration::from_millis(200)));
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    // The client dropped its socket, which ends the server's wait.
    server.join().unwrap();
}

#[test]
fn the_handshake_timeout_is_one_deadline_not_a_timeout_per_read() {
    // A byte every 20 ms keeps each read short, but the whole response takes seconds:
    // a per-read timeout would let it through.
    let (addr, server) = raw_server(|request, socket| {
        for byte in switching(request, &[]) {
            if socket.write_all(&[byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        drain(socket);
    });
    let config = ClientConfig::default().handshake_timeout(Some(Duration::from_millis(300)));
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    server.join().unwrap();
}

#[test]
fn a_response_arriving_a_byte_at_a_time_is_assembled() {
    let (addr, server) = raw_server(|request, socket| {
        socket.set_nodelay(true).unwrap();
        for byte in switching(request, &["Sec-WebSocket-Protocol: chat"]) {
            socket.write_all(&[byte]).unwrap();
        }
        socket.write_all(b"\x81\x02hi").unwrap();
        drain(socket);
    });
    let config = ClientConfig::default().protocols(["chat"]);
    let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
    assert_eq!(client.protocol(), Some("chat"));
    safety_timeout(&client);
    assert_eq!(client.read_message().unwrap(), Message::text("hi"));
    drop(client);
    server.join().unwrap();
}

#[test]
fn a_first_frame_sent_with_the_101_is_not_lost() {
    let (addr, server) = raw_server(|request, socket| {
        let mut bytes = switching(request, &[]);
        bytes.extend_from_slice(b"\x81\x05hello\x82\x03\x01\x02\x03");
        answer(&bytes, socket);
    });
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    safety_timeout(&client);
    assert_eq!(client.read_message().unwrap(), Message::text("hello"));
    assert_eq!(client.read_message().unwrap(), Message::binary([1, 2, 3]));
    drop(client);
    server.join().unwrap();
}

#[test]
fn the_request_carries_target_host_origin_subprotocols_and_headers() {
    let (addr, server) = raw_server(|request, socket| {
        let response = switching(
            request,
            &["Sec-WebSocket-Protocol: superchat", "X-Server: raw"],
        );
        answer(&response, socket);
    });
    let config = ClientConfig::default()
        .origin("https://example.com")
        .protocols(["chat", "superchat"])
        .header("Authorization", "Bearer abc")
        .header("Cookie", "session=1; theme=dark");
    let client = ws_client::connect_with(ws_url(addr, "/room/7?user=ann"), &config).unwrap();
    assert_eq!(client.protocol(), Some("superchat"));
    let response = client.response().unwrap();
    assert_eq!(response.headers().get("x-server"), Some(&b"raw"[..]));
    drop(client);

    let request = server.join().unwrap();
    let lines: Vec<&str> = request.split("\r\n").collect();
    assert_eq!(lines[0], "GET /room/7?user=ann HTTP/1.1");
    let expected = [
        format!("Host: {addr}"),
        "Upgrade: websocket".to_owned(),
        "Connection: Upgrade".to_owned(),
        "Sec-WebSocket-Version: 13".to_owned(),
        "Origin: https://example.com".to_owned(),
        "Sec-WebSocket-Protocol: chat, superchat".to_owned(),
        "Authorization: Bearer abc".to_owned(),
        "Cookie: session=1; theme=dark".to_owned(),
    ];
    for line in &expected {
        assert!(
            lines.contains(&line.as_str()),
            "{line:?} missing from {request}"
        );
    }
    assert_eq!(accept_for(&request).len(), 28);
}

#[test]
fn a_header_that_would_inject_a_line_fails_before_the_request_is_sent() {
    let (addr, server) = raw_server(|_, _| {});
    let config = ClientConfig::default().header("X-Evil", "a\r\nHost: evil.example");
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    assert!(error.is_misuse(), "{error:?}");
    assert!(matches!(
        error,
        Error::Handshake(ws_handshake::Error::Misuse(_))
    ));
    // The server saw the connection end without a request.
    assert_eq!(server.join().unwrap(), "");
}

/// Makes a lost frame fail the test (the read times out) instead of hanging it.
fn safety_timeout(client: &ws_client::Client<std::net::TcpStream>) {
    let socket = client.stream().unwrap().get_ref();
    socket.set_read_timeout(Some(SAFETY)).unwrap();
}

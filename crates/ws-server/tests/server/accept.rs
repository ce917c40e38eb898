//! The handshake on a stream the application holds, and the map-based check.

use std::collections::HashMap;
use std::net::TcpListener;
use std::thread;

use ws_server::{Error, Server, ServerConfig, accept, accept_with};
use ws_stream::Message;

use crate::support::{
    RFC_ACCEPT, RFC_KEY, STUCK, close_code, next_text, raw_exchange, request, round_trip,
    seed_echo, tcp,
};

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn rfc_headers() -> HashMap<String, String> {
    headers(&[
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-key", RFC_KEY),
        ("sec-websocket-version", "13"),
    ])
}

#[test]
fn handle_upgrade_answers_the_rfc_example_on_a_routed_path() {
    let mut server = Server::new("127.0.0.1:0");
    server.on_connect("/chat", seed_echo).unwrap();
    assert_eq!(
        server.handle_upgrade("/chat", &rfc_headers()).unwrap(),
        RFC_ACCEPT
    );
    assert!(matches!(
        server.handle_upgrade("/elsewhere", &rfc_headers()),
        Err(Error::NoRoute(path)) if path == "/elsewhere"
    ));
    for missing in [
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
    ] {
        let mut partial = rfc_headers();
        partial.remove(missing);
        assert!(
            matches!(
                server.handle_upgrade("/chat", &partial),
                Err(Error::Handshake(_))
            ),
            "without {missing}"
        );
    }
    let mut bad_key = rfc_headers();
    bad_key.insert("sec-websocket-key".into(), "not a key".into());
    assert!(matches!(
        server.handle_upgrade("/chat", &bad_key),
        Err(Error::Handshake(_))
    ));
}

#[test]
fn accept_serves_a_tungstenite_client_on_a_stream_the_application_holds() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(STUCK)).unwrap();
        let mut stream = accept(tcp).unwrap();
        let message = stream.read_message().unwrap();
        stream.send(&message).unwrap();
        stream.close().unwrap();
    });
    let (mut client, _) = tungstenite::client(request(addr, "/any/path"), tcp(addr)).unwrap();
    client.send(tungstenite::Message::text("held")).unwrap();
    assert_eq!(next_text(&mut client), "held");
    assert_eq!(close_code(&mut client), 1000);
    server.join().unwrap();
}

#[test]
fn accept_refuses_a_broken_handshake_and_says_why() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || accept(listener.accept().unwrap().0).map(|_| ()));
    let response = raw_exchange(
        addr,
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
    );
    assert_eq!(response.status, 400, "{}", response.head);
    let error = server.join().unwrap().unwrap_err();
    assert!(matches!(error, Error::Handshake(_)), "{error:?}");
    // The message says what was wrong with the request, not only that it was.
    assert_eq!(
        error.to_string(),
        "invalid websocket handshake: connection header does not name upgrade"
    );
}

#[test]
fn accept_with_negotiates_from_the_config_and_returns_the_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let config = ServerConfig::default().protocols(["chat"]);
        let (mut stream, upgrade) = accept_with(listener.accept().unwrap().0, &config).unwrap();
        stream
            .send_text(format!("{} {:?}", upgrade.path(), upgrade.query()))
            .unwrap();
        assert_eq!(stream.read_message().unwrap(), Message::text("bye"));
    });
    let mut offer = request(addr, "/room?id=9");
    offer.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("chat"),
    );
    let (mut client, response) = tungstenite::client(offer, tcp(addr)).unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    assert_eq!(round_trip(&mut client, "bye"), "/room Some(\"id=9\")");
    server.join().unwrap();
}

#[test]
fn accept_with_applies_the_origin_allowlist() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let config = ServerConfig::default().allowed_origins(["https://good.example"]);
        accept_with(listener.accept().unwrap().0, &config).map(|_| ())
    });
    let mut foreign = request(addr, "/");
    foreign.headers_mut().insert(
        "Origin",
        tungstenite::http::HeaderValue::from_static("https://evil.example"),
    );
    assert_eq!(crate::support::refusal(addr, foreign), 403);
    assert!(matches!(server.join().unwrap(), Err(Error::Rejected(403))));
}

//! The application's say in a handshake: `on_upgrade`, subprotocols, origins.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tungstenite::http::HeaderValue;
use ws_server::{Accept, Rejection, Server, ServerConfig};

use crate::support::{
    connect, quick_config, refusal, request, round_trip, seed_echo, try_connect, wait_until,
};

/// What the admission check saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    token: Option<Vec<u8>>,
    origin: Option<String>,
    protocols: Vec<String>,
    peer: Option<SocketAddr>,
}

#[test]
fn on_upgrade_sees_the_request_and_rejects_accepts_picks_and_adds_headers() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    let record = Arc::clone(&seen);
    server.on_upgrade(move |request| {
        record.lock().unwrap().push(Seen {
            method: request.method().to_owned(),
            path: request.path().to_owned(),
            query: request.query().map(str::to_owned),
            token: request.header("x-token").map(<[u8]>::to_vec),
            origin: request.origin().map(str::to_owned),
            protocols: request.protocols().map(str::to_owned).collect(),
            peer: request.peer_addr(),
        });
        if request.header("x-token") != Some(b"secret") {
            return Err(Rejection::new(401).body("who are you?\n"));
        }
        // Not the client's first choice: the application decides.
        Ok(Accept::new()
            .protocol("chat.v1")
            .header("Set-Cookie", "session=42; HttpOnly"))
    });
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();

    let mut anonymous = request(addr, "/ws?room=7");
    anonymous
        .headers_mut()
        .insert("Origin", HeaderValue::from_static("https://example.com"));
    match try_connect(addr, anonymous) {
        Err((status, body)) => assert_eq!((status, body.as_str()), (401, "who are you?\n")),
        Ok(_) => panic!("accepted without a token"),
    }

    let mut known = request(addr, "/ws?room=7");
    let headers = known.headers_mut();
    headers.insert("X-Token", HeaderValue::from_static("secret"));
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("chat.v2, chat.v1"),
    );
    let tcp = crate::support::tcp(addr);
    let local = tcp.local_addr().unwrap();
    let (mut client, response) = tungstenite::client(known, tcp).unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
    assert_eq!(response.headers()["set-cookie"], "session=42; HttpOnly");
    assert_eq!(round_trip(&mut client, "in"), "Echo: in");

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0],
        Seen {
            method: "GET".into(),
            path: "/ws".into(),
            query: Some("room=7".into()),
            token: None,
            origin: Some("https://example.com".into()),
            protocols: vec![],
            peer: seen[0].peer,
        }
    );
    assert_eq!(seen[1].token.as_deref(), Some(&b"secret"[..]));
    assert_eq!(seen[1].protocols, ["chat.v2", "chat.v1"]);
    assert_eq!(seen[1].peer, Some(local));
    assert_eq!(seen[0].peer.map(|peer| peer.ip()), Some(local.ip()));
}

#[test]
fn on_upgrade_is_not_asked_about_paths_without_a_route() {
    let asked = Arc::new(Mutex::new(0));
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    let count = Arc::clone(&asked);
    server.on_upgrade(move |_| {
        *count.lock().unwrap() += 1;
        Ok(Accept::new())
    });
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    assert_eq!(refusal(addr, request(addr, "/elsewhere")), 404);
    assert_eq!(*asked.lock().unwrap(), 0);
    connect(addr, "/ws");
    assert_eq!(*asked.lock().unwrap(), 1);
}

#[test]
fn choosing_a_protocol_the_client_did_not_offer_is_the_servers_500() {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    server.on_upgrade(|_| Ok(Accept::new().protocol("never-offered")));
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    assert_eq!(refusal(addr, request(addr, "/ws")), 500);
    wait_until("the refused connection leaves", || {
        handle.connections() == 0
    });
}

fn protocol_server(config: ServerConfig) -> ws_server::ServerHandle {
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    server.on_connect("/ws", seed_echo).unwrap();
    server.spawn().unwrap()
}

#[test]
fn configured_protocols_pick_a_supported_one_the_client_offered() {
    let handle = protocol_server(quick_config().protocols(["chat.v2", "chat.v1"]));
    let addr = handle.local_addr();
    let mut offer = request(addr, "/ws");
    offer.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("mqtt, chat.v1"),
    );
    let (mut client, response) = try_connect(addr, offer).unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
    assert_eq!(round_trip(&mut client, "v1"), "Echo: v1");

    // A client that offers none gets none.
    let (_, response) = try_connect(addr, request(addr, "/ws")).unwrap();
    assert!(response.headers().get("sec-websocket-protocol").is_none());
}

fn origin_request(
    addr: SocketAddr,
    origin: Option<&'static str>,
) -> tungstenite::handshake::client::Request {
    let mut request = request(addr, "/ws");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_static(origin));
    }
    request
}

#[test]
fn the_origin_allowlist_refuses_foreign_origins_with_403() {
    let handle = protocol_server(quick_config().allowed_origins(["https://good.example"]));
    let addr = handle.local_addr();
    assert_eq!(
        refusal(addr, origin_request(addr, Some("https://evil.example"))),
        403
    );
    let (mut allowed, _) =
        try_connect(addr, origin_request(addr, Some("https://good.example"))).unwrap();
    assert_eq!(round_trip(&mut allowed, "good"), "Echo: good");
    let (mut native, _) = try_connect(addr, origin_request(addr, None)).unwrap();
    assert_eq!(round_trip(&mut native, "no origin"), "Echo: no origin");
}

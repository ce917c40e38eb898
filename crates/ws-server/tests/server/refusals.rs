//! Requests that are not (valid) upgrades get the right status, are closed, and hold
//! up no one.

use std::io::Write;

use ws_server::{HttpResponse, Server, ServerHandle};

use crate::support::{
    RawResponse, assert_echoes, connect, quick_config, raw_exchange, read_response, refusal,
    request, round_trip, seed_echo, tcp, upgrade_head, wait_until,
};

fn server() -> ServerHandle {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    server
        .on_http("/", |_request| HttpResponse::text("welcome\n"))
        .unwrap();
    server.spawn().unwrap()
}

/// Sends `bytes`, reads the whole answer, and checks that the server let the
/// connection go and still serves others.
fn refused(handle: &ServerHandle, bytes: &[u8]) -> RawResponse {
    let response = raw_exchange(handle.local_addr(), bytes);
    wait_until("the refused connection leaves", || {
        handle.connections() == 0
    });
    assert_echoes(handle.local_addr());
    response
}

#[test]
fn an_upgrade_to_a_path_without_a_route_gets_404() {
    let handle = server();
    let addr = handle.local_addr();
    assert_eq!(refusal(addr, request(addr, "/nowhere")), 404);
    assert_eq!(refused(&handle, &upgrade_head("/nowhere", "")).status, 404);
    // A route matches the whole path, not a prefix.
    assert_eq!(
        refused(&handle, &upgrade_head("/ws/deeper", "")).status,
        404
    );
}

#[test]
fn plain_http_gets_426_on_a_websocket_route_and_404_elsewhere() {
    let handle = server();
    let response = refused(&handle, b"GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(response.status, 426, "{}", response.head);
    assert_eq!(response.header("upgrade"), Some("websocket"));
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
    let response = refused(&handle, b"GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(response.status, 404, "{}", response.head);
}

#[test]
fn a_page_is_served_to_plain_http() {
    let handle = server();
    let response = refused(&handle, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.body, b"welcome\n");
    assert_eq!(response.header("content-length"), Some("8"));
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("connection"), Some("close"));
}

#[test]
fn a_page_and_a_route_can_share_a_path() {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/", seed_echo).unwrap();
    server
        .on_http("/", |request| {
            HttpResponse::html(format!("<p>{}</p>", request.query().unwrap_or("")))
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    let page = raw_exchange(addr, b"GET /?hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(
        (page.status, page.body.as_slice()),
        (200, &b"<p>hello</p>"[..])
    );
    let mut client = connect(addr, "/");
    assert_eq!(round_trip(&mut client, "root"), "Echo: root");
}

#[test]
fn a_page_with_a_header_that_would_inject_lines_gets_500() {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server
        .on_http("/", |_| {
            HttpResponse::text("x").header("X-Evil", "a\r\nSet-Cookie: b")
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let response = raw_exchange(
        handle.local_addr(),
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(response.status, 500, "{}", response.head);
    assert!(!response.head.contains("Set-Cookie"));
}

#[test]
fn a_malformed_upgrade_gets_400() {
    let handle = server();
    let bad_key = b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: too-short\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let response = refused(&handle, bad_key);
    assert_eq!(response.status, 400, "{}", response.head);
    let no_key = b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert_eq!(refused(&handle, no_key).status, 400);
    assert_eq!(refused(&handle, b"NOT HTTP AT ALL\r\n\r\n").status, 400);
}

#[test]
fn version_8_gets_426_naming_version_13() {
    let handle = server();
    let head = b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 8\r\n\r\n";
    let response = refused(&handle, head);
    assert_eq!(response.status, 426, "{}", response.head);
    assert_eq!(response.header("sec-websocket-version"), Some("13"));
}

// Regression for this test and the two below: a refused connection was closed with
// the client's bytes still unread, so the kernel reset it instead of ending it, and the
// client read "connection reset" (on some systems in place of the answer).
#[test]
fn a_head_over_8_kib_gets_431() {
    let handle = server();
    let filler = "a".repeat(9 * 1024);
    let response = refused(
        &handle,
        &upgrade_head("/ws", &format!("X-Filler: {filler}\r\n")),
    );
    assert_eq!(response.status, 431, "{}", response.head);
}

#[test]
fn a_much_larger_head_still_gets_its_431() {
    // The server stops reading at 8 KiB; the rest of this head is still in flight
    // when it answers and closes.
    let handle = server();
    let filler = "a".repeat(256 * 1024);
    let mut client = tcp(handle.local_addr());
    // The server may close before the whole head is written; only the answer counts.
    client
        .write_all(&upgrade_head("/ws", &format!("X-Filler: {filler}\r\n")))
        .ok();
    let response = read_response(&mut client);
    assert_eq!(response.status, 431, "{}", response.head);
    drop(client);
    wait_until("the refused connection leaves", || {
        handle.connections() == 0
    });
    assert_echoes(handle.local_addr());
}

#[test]
fn a_page_request_with_a_body_is_answered_and_ended_cleanly() {
    // The body is never read: the server must still end the connection, not reset it.
    let handle = server();
    let body = "x".repeat(64 * 1024);
    let post = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = refused(&handle, post.as_bytes());
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"welcome\n"[..])
    );
}

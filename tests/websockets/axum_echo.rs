//! `examples/axum-echo.rs` as a child process: WebSocket echo at `/echo` inside an axum
//! router, with the subprotocol agreed, beside an ordinary page at `/`, and our
//! handshake's 426 for a plain GET of `/echo`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use websockets::Message;
use websockets::client::ClientConfig;
use websockets::stream::CloseCode;

use crate::hostile::support::EchoServer;

fn start() -> EchoServer {
    EchoServer::example("axum-echo", &[])
}

#[test]
fn axum_echo_echoes_through_the_router_with_the_subprotocol() {
    let server = start();
    let url = format!("ws://{}/echo", server.addr());
    let config = ClientConfig::default().protocols(["echo"]);
    let mut client = websockets::client::connect_with(&url, &config).unwrap();
    assert_eq!(client.protocol(), Some("echo"));
    for message in [
        Message::text("through axum ✓"),
        Message::binary((0..=255u8).cycle().take(1 << 20).collect::<Vec<_>>()),
        Message::text(""),
    ] {
        client.send(&message).unwrap();
        assert_eq!(client.read_message().unwrap(), message);
    }
    client.close().unwrap();
    let frame = client.stream().unwrap().close_frame().unwrap();
    assert_eq!(frame.code, CloseCode::NORMAL);
}

#[test]
fn axum_echo_serves_its_page_and_refuses_a_plain_get_of_the_socket_with_426() {
    let server = start();
    let page = http_get(server.addr(), "/");
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    assert!(
        page.ends_with("axum-echo: a WebSocket echo at /echo\n"),
        "{page}"
    );
    let refused = http_get(server.addr(), "/echo");
    assert!(refused.starts_with("HTTP/1.1 426 "), "{refused}");
}

/// A GET with `Connection: close`, read until the server ends the connection.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    response
}

//! `connect` and `connect_tcp`: resolution, TCP, timeouts and socket settings.

use std::net::TcpListener;
use std::time::Duration;

use ws_client::{ClientConfig, Error, Url, UrlError};
use ws_stream::Message;

use crate::{echo_server, ws_url};

#[test]
fn a_closed_port_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = ws_client::connect(format!("ws://127.0.0.1:{port}/")).unwrap_err();
    let Error::Connect { error: io, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    // The message alone names the address and the cause.
    let message = error.to_string();
    let expected = format!("could not connect to 127.0.0.1:{port}: {io}");
    assert_eq!(message, expected);
    assert!(
        message.to_lowercase().contains("connection refused"),
        "{message}"
    );
}

#[test]
fn a_malformed_url_names_itself_and_its_fault() {
    let error = ws_client::connect("ws//x").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid url `ws//x`: url does not start with ws:// or wss://"
    );
}

#[test]
fn wss_through_plain_connect_asks_for_tls_before_any_lookup() {
    // The host cannot resolve: the refusal comes first.
    let error = ws_client::connect("wss://nonexistent.invalid/chat").unwrap_err();
    assert!(matches!(error, Error::TlsRequired), "{error:?}");
    // The message names the function that does TLS.
    assert!(
        error.to_string().contains("call ws_tls::connect"),
        "{error}"
    );
}

#[test]
fn an_unresolvable_host_is_a_resolve_error() {
    // `.invalid` is reserved never to resolve (RFC 2606).
    let error = ws_client::connect("ws://nonexistent.invalid/").unwrap_err();
    assert!(matches!(error, Error::Resolve { .. }), "{error:?}");
}

#[test]
fn a_malformed_url_is_a_url_error() {
    let error = ws_client::connect("ws://user@example.com/").unwrap_err();
    assert!(
        matches!(
            error,
            Error::Url {
                error: UrlError::UserInfo,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn the_connect_timeout_is_used() {
    // A zero timeout is refused by the system, while a plain connect would succeed:
    // proof that the configured timeout reaches the connect call.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&ws_url(listener.local_addr().unwrap(), "/")).unwrap();
    let config = ClientConfig::default().connect_timeout(Some(Duration::ZERO));
    let error = ws_client::connect_tcp(&url, &config).unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");

    let (addr, server) = echo_server();
    let url = Url::parse(&ws_url(addr, "/")).unwrap();
    let config = ClientConfig::default().connect_timeout(None);
    let mut client = ws_client::connect_with(&url, &config).unwrap();
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn connect_sets_nodelay_and_clears_the_handshake_timeouts() {
    let (addr, server) = echo_server();
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    let socket = client.stream().unwrap().get_ref();
    assert!(socket.nodelay().unwrap());
    assert_eq!(socket.read_timeout().unwrap(), None);
    assert_eq!(socket.write_timeout().unwrap(), None);
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn connect_tcp_is_a_building_block_for_other_transports() {
    // What a TLS layer does: TCP from the URL, then the handshake over its own stream.
    let (addr, server) = echo_server();
    let url = Url::parse(&format!("wss://localhost:{}/", addr.port())).unwrap();
    let config = ClientConfig::default();
    let socket = ws_client::connect_tcp(&url, &config).unwrap();
    assert!(socket.nodelay().unwrap());
    let mut client =
        ws_client::Client::handshake_with_timeouts(socket, &url, &config, |socket, timeout| {
            socket.set_read_timeout(timeout)
        })
        .unwrap();
    assert_eq!(
        client.stream().unwrap().get_ref().read_timeout().unwrap(),
        None
    );
    client.send_text("over tcp").unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("over tcp"));
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn an_ipv6_literal_connects() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        return; // No IPv6 loopback on this machine.
    };
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut ws = tungstenite::accept(listener.accept().unwrap().0).unwrap();
        while let Ok(message) = ws.read() {
            if message.is_text() {
                ws.send(message).unwrap();
            }
        }
    });
    let url = format!("ws://[::1]:{}/", addr.port());
    let mut client = ws_client::connect(url).unwrap();
    client.send_text("v6").unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("v6"));
    client.close().unwrap();
    server.join().unwrap();
}

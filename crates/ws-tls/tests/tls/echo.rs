//! Our wss client against our wss server: messages of every kind and size, pings, and
//! the close handshake started by either end.

use std::sync::mpsc;

use ws_server::ServerConfig;
use ws_stream::{CloseCode, CloseFrame, Event, Message};
use ws_tls::{Connector, MaybeTlsStream};

use crate::pki::pki;
use crate::support::{acceptor, connect, connector, echo_server, within};

#[test]
fn text_binary_and_large_messages_echo() {
    let handle = echo_server(ServerConfig::default());
    within("echo", move || {
        let mut client = connect(&handle, "/echo");
        client.send_text("hello over tls ✓").unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::text("hello over tls ✓")
        );
        client.send_binary([0, 1, 2, 255]).unwrap();
        assert_eq!(
            client.read_message().unwrap().as_binary(),
            Some(&[0, 1, 2, 255][..])
        );
        // Larger than a TLS record (16 KiB) many times over, and than a frame (1 MiB).
        let large_binary: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        client.send_binary(&large_binary).unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::binary(large_binary)
        );
        let large_text = "✓".repeat(349_525) + "x";
        client.send_text(&large_text).unwrap();
        assert_eq!(client.read_message().unwrap(), Message::text(large_text));
        client.close().unwrap();
    });
}

#[test]
fn the_session_agrees_on_http_1_1() {
    let handle = echo_server(ServerConfig::default());
    let client = connect(&handle, "/echo");
    let Some(MaybeTlsStream::Tls(tls)) = client.stream().map(|stream| stream.get_ref()) else {
        panic!("a wss url gives a tls stream");
    };
    assert_eq!(tls.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
}

#[test]
fn ping_is_answered_with_its_payload() {
    let handle = echo_server(ServerConfig::default());
    within("ping", move || {
        let mut client = connect(&handle, "/echo");
        client.ping(b"are you there").unwrap();
        assert_eq!(
            client.read_event().unwrap(),
            Event::Pong(b"are you there".to_vec())
        );
        client.close().unwrap();
    });
}

#[test]
fn client_close_reaches_the_server() {
    let (seen, closes) = mpsc::channel();
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/watch", move |stream, _path| {
            if let Err(ws_stream::Error::Closed(frame)) = stream.read_message() {
                seen.send(frame).ok();
            }
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    within("client close", move || {
        let mut client = connect(&handle, "/watch");
        client.close_with(CloseCode::NORMAL, "done here").unwrap();
        assert_eq!(
            closes.recv().unwrap(),
            CloseFrame::new(CloseCode::NORMAL, "done here")
        );
    });
}

#[test]
fn server_close_reaches_the_client() {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/bye", |stream, _path| {
            stream.send_text("bye")?;
            stream.close_with(CloseCode::new(4000), "server is done")?;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    within("server close", move || {
        let mut client = connect(&handle, "/bye");
        assert_eq!(client.read_message().unwrap(), Message::text("bye"));
        match client.read_event().unwrap() {
            Event::Close(frame) => {
                assert_eq!(frame.code, CloseCode::new(4000));
                assert_eq!(frame.reason, "server is done");
            }
            other => panic!("expected the server's close, got {other:?}"),
        }
    });
}

/// The estd-tls and estd-websockets calls, as the seed wrote them.
#[test]
fn seed_form_connector_then_lazy_client() {
    let handle = echo_server(ServerConfig::default());
    let port = handle.local_addr().port();
    within("seed form", move || {
        let tls_stream = connector().connect(&format!("localhost:{port}")).unwrap();
        let mut client = ws_client::Client::new(tls_stream, format!("wss://localhost:{port}/echo"));
        client.send_text("Hello").unwrap();
        assert_eq!(client.read_message().unwrap(), Message::text("Hello"));
        client.close().unwrap();
        drop(handle);
    });
}

/// [`Connector::wrap`] over a TCP connection opened by hand, then the eager handshake.
#[test]
fn wrap_then_handshake() {
    let handle = echo_server(ServerConfig::default());
    let addr = handle.local_addr();
    within("wrap", move || {
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        let tls: ws_tls::TlsStream = Connector::wrap(&connector(), "localhost", tcp).unwrap();
        let url = format!("wss://localhost:{}/echo", addr.port());
        let mut client = ws_client::Client::handshake(tls, url).unwrap();
        client.send_binary(b"wrapped").unwrap();
        assert_eq!(
            client.read_message().unwrap().as_binary(),
            Some(&b"wrapped"[..])
        );
        client.close().unwrap();
        drop(handle);
    });
}

//! `Client::new`, kept from estd-websockets: the handshake runs at the first operation.

use std::io::Cursor;
use std::net::TcpStream;
use std::thread;

use ws_client::{Client, Error, UrlError};
use ws_stream::Message;

use crate::{answer, echo_server, raw_server, ws_url};

#[test]
fn a_malformed_url_surfaces_at_the_first_operation() {
    let mut client = Client::new(Cursor::new(Vec::new()), "http://example.com/ws");
    assert!(client.response().is_none());
    let error = client.send_text("Hello").unwrap_err();
    assert!(
        matches!(&error, Error::Url { error: UrlError::UnsupportedScheme(scheme), .. } if &**scheme == "http"),
        "{error:?}"
    );
    // The failure was reported once; what follows says there is no connection.
    assert!(matches!(client.read_message(), Err(Error::NoConnection)));
    assert!(matches!(client.into_stream(), Err(Error::NoConnection)));
}

#[test]
fn the_seed_example_works_over_a_tcp_stream() {
    let (addr, server) = echo_server();
    let socket = TcpStream::connect(addr).unwrap();
    let mut client = Client::new(socket, ws_url(addr, "/ws"));
    // Nothing has happened yet.
    assert!(client.stream().is_none() && client.response().is_none());

    client.send_text("Hello, WebSocket!").unwrap();
    assert_eq!(client.response().unwrap().status(), 101);
    match client.read_message().unwrap() {
        Message::Text(text) => assert_eq!(text, "Hello, WebSocket!"),
        Message::Binary(data) => panic!("binary: {data:?}"),
    }
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn a_refused_lazy_handshake_is_reported_by_the_first_operation() {
    let (addr, server) = raw_server(|_, socket| {
        answer(b"HTTP/1.1 403 Forbidden\r\n\r\n", socket);
    });
    let mut client = Client::new(TcpStream::connect(addr).unwrap(), ws_url(addr, "/"));
    let error = client.read_message().unwrap_err();
    assert_eq!(error.response().map(|r| r.status()), Some(403));
    assert!(matches!(
        client.send_text("again"),
        Err(Error::NoConnection)
    ));
    drop(client);
    server.join().unwrap();
}

#[test]
fn into_stream_runs_the_pending_handshake() {
    let (addr, server) = echo_server();
    let client = Client::new(TcpStream::connect(addr).unwrap(), ws_url(addr, "/"));
    let mut stream = client.into_stream().unwrap();
    stream.send_text("via stream").unwrap();
    assert_eq!(stream.read_message().unwrap(), Message::text("via stream"));
    stream.close().unwrap();
    server.join().unwrap();
}

#[test]
fn a_client_moves_to_a_background_thread() {
    // The seed's async example: the whole exchange runs in another thread.
    let (addr, server) = echo_server();
    let socket = TcpStream::connect(addr).unwrap();
    let url = ws_url(addr, "/ws");
    let handle = thread::spawn(move || {
        let mut client = Client::new(socket, url);
        client.send_text("Hello")?;
        let reply = client.read_message()?;
        client.close()?;
        Ok::<_, Error>(reply)
    });
    assert_eq!(handle.join().unwrap().unwrap(), Message::text("Hello"));
    server.join().unwrap();
}

#[test]
fn an_eager_handshake_over_a_users_socket_reports_failure_at_once() {
    let (addr, server) = raw_server(|_, socket| {
        answer(b"HTTP/1.1 400 Bad Request\r\n\r\n", socket);
    });
    let socket = TcpStream::connect(addr).unwrap();
    let error = Client::handshake(socket, ws_url(addr, "/")).unwrap_err();
    assert_eq!(error.response().map(|r| r.status()), Some(400));
    server.join().unwrap();

    let error = Client::handshake(Cursor::new(Vec::new()), "ws://h/#x").unwrap_err();
    assert!(matches!(
        error,
        Error::Url {
            error: UrlError::Fragment,
            ..
        }
    ));
}

#[test]
fn a_wss_url_is_accepted_over_a_users_own_stream() {
    // The user may have wrapped TLS themselves; here the "TLS stream" is plain TCP.
    let (addr, server) = echo_server();
    let socket = TcpStream::connect(addr).unwrap();
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    let mut client = Client::handshake(socket, url).unwrap();
    client.send_text("secure?").unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("secure?"));
    client.close().unwrap();
    server.join().unwrap();
}

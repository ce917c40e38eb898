//! The server's routing API over TLS, unchanged: routes, split routes, pages, 404s,
//! and a shutdown that closes every connection with 1001.

use std::io::{Read, Write};
use std::thread;

use ws_server::{HttpResponse, ServerHandle};
use ws_stream::{CloseCode, Event, Message};
use ws_tls::Error;

use crate::pki::pki;
use crate::support::{acceptor, connect, connector, within, wss_url};

fn routed_server() -> ServerHandle {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/echo", |stream, _path| {
            while let Ok(message) = stream.read_message() {
                stream.send(&message)?;
            }
            Ok(())
        })
        .unwrap();
    server
        .on_connect_split("/shout", |reader, writer, _path| {
            while let Ok(message) = reader.read_message() {
                let text = message.as_text().unwrap_or_default().to_uppercase();
                writer.send_text(text)?;
            }
            Ok(())
        })
        .unwrap();
    server
        .on_http("/health", |_request| HttpResponse::text("ok"))
        .unwrap();
    server.spawn().unwrap()
}

#[test]
fn routes_and_split_routes_serve_over_tls() {
    let handle = routed_server();
    within("routes", move || {
        let mut echo = connect(&handle, "/echo");
        let mut shout = connect(&handle, "/shout");
        echo.send_text("quiet").unwrap();
        shout.send_text("loud").unwrap();
        assert_eq!(echo.read_message().unwrap(), Message::text("quiet"));
        assert_eq!(shout.read_message().unwrap(), Message::text("LOUD"));
        echo.close().unwrap();
        shout.close().unwrap();
    });
}

#[test]
fn an_unknown_path_is_a_404_over_tls() {
    let handle = routed_server();
    let error = within("404", move || {
        ws_tls::connect_with(
            wss_url(&handle, "/nowhere"),
            &Default::default(),
            &connector(),
        )
        .unwrap_err()
    });
    let Error::Client(error) = error else {
        panic!("expected ws-client's refusal, got {error:?}");
    };
    assert_eq!(
        error.response().map(|response| response.status()),
        Some(404)
    );
}

#[test]
fn pages_are_served_over_tls() {
    let handle = routed_server();
    let port = handle.local_addr().port();
    within("page", move || {
        let mut tls = connector().connect(&format!("localhost:{port}")).unwrap();
        tls.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = Vec::new();
        tls.read_to_end(&mut response).unwrap();
        let response = String::from_utf8(response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("ok"), "{response}");
        drop(handle);
    });
}

/// Shutdown sends 1001 on every connection, plain routes and split ones alike, and
/// returns once they have ended.
#[test]
fn shutdown_closes_every_connection_with_1001() {
    let handle = routed_server();
    within("shutdown", move || {
        let mut echo = connect(&handle, "/echo");
        let mut shout = connect(&handle, "/shout");
        // Both connections are up and served before the shutdown.
        echo.send_text("a").unwrap();
        assert_eq!(echo.read_message().unwrap(), Message::text("a"));
        shout.send_text("b").unwrap();
        assert_eq!(shout.read_message().unwrap(), Message::text("B"));
        let stopping = thread::spawn(move || handle.shutdown());
        for client in [&mut echo, &mut shout] {
            match client.read_event().unwrap() {
                Event::Close(frame) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
                other => panic!("expected the server's close, got {other:?}"),
            }
        }
        stopping.join().unwrap();
    });
}

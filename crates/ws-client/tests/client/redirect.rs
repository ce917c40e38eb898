//! Redirects: off by default with the response readable, followed when allowed to a
//! real server, relative locations, the limit, `http`/`https` locations, `wss`
//! needing TLS, unusable locations, and credentials that stay with their host.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};

use ws_client::{ClientConfig, Error, UrlError};
use ws_stream::Message;

use crate::{SAFETY, answer, echo_server, raw_server, read_head, switching, ws_url};

/// A raw server answering one connection with `status` and `Location: location`.
fn redirecting(status: u16, location: String) -> (SocketAddr, JoinHandle<String>) {
    raw_server(move |_, socket| {
        let response =
            format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
        answer(response.as_bytes(), socket);
    })
}

/// A raw server for `connections` connections in turn, each given to `serve` with its
/// number; answers the request heads it read.
fn scripted_server<F>(connections: usize, mut serve: F) -> (SocketAddr, JoinHandle<Vec<String>>)
where
    F: FnMut(usize, &str, &mut TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut requests = Vec::new();
        for index in 0..connections {
            let mut socket = listener.accept().unwrap().0;
            socket.set_read_timeout(Some(SAFETY)).unwrap();
            let request = read_head(&mut socket);
            serve(index, &request, &mut socket);
            requests.push(request);
        }
        requests
    });
    (addr, handle)
}

fn following(max: u32) -> ClientConfig {
    ClientConfig::default().max_redirects(max)
}

#[test]
fn redirects_are_off_by_default_and_the_response_is_readable() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let location = ws_url(target.local_addr().unwrap(), "/new");
    let (addr, server) = redirecting(302, location.clone());
    let error = ws_client::connect(ws_url(addr, "/old")).unwrap_err();
    server.join().unwrap();
    assert!(
        matches!(
            &error,
            Error::Handshake(ws_handshake::Error::UnexpectedStatus(_))
        ),
        "{error:?}"
    );
    let response = error.response().unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers().get("location"),
        Some(location.as_bytes())
    );
    // Nobody tried the new location.
    target.set_nonblocking(true).unwrap();
    let attempt = target.accept();
    assert!(
        matches!(&attempt, Err(error) if error.kind() == ErrorKind::WouldBlock),
        "{attempt:?}"
    );
}

#[test]
fn a_302_leads_to_the_real_server_when_allowed() {
    let (target, echo) = echo_server();
    let (addr, server) = redirecting(302, ws_url(target, "/echo"));
    let mut client = ws_client::connect_with(ws_url(addr, "/old"), &following(1)).unwrap();
    assert_eq!(client.response().unwrap().status(), 101);
    client.send_text("found it").unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("found it"));
    client.close().unwrap();
    echo.join().unwrap();
    assert!(server.join().unwrap().starts_with("GET /old HTTP/1.1\r\n"));
}

#[test]
fn every_redirect_status_is_followed_and_http_reads_as_ws() {
    for status in [301, 302, 303, 307, 308] {
        let (target, echo) = echo_server();
        let (addr, server) = redirecting(status, format!("http://{target}/"));
        let mut client = ws_client::connect_with(ws_url(addr, "/"), &following(1)).unwrap();
        client.close().unwrap();
        echo.join().unwrap();
        server.join().unwrap();
    }
}

#[test]
fn other_3xx_statuses_and_a_missing_location_are_not_redirects() {
    let answers: [&[u8]; 3] = [
        b"HTTP/1.1 300 Multiple Choices\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 305 Use Proxy\r\nLocation: http://proxy.invalid/\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
    ];
    for response in answers {
        let (addr, server) = raw_server(move |_, socket| answer(response, socket));
        let error = ws_client::connect_with(ws_url(addr, "/"), &following(5)).unwrap_err();
        server.join().unwrap();
        assert!(error.response().is_some(), "{error:?}");
    }
}

#[test]
fn a_relative_location_resolves_against_the_current_url() {
    let (addr, server) = scripted_server(2, |index, request, socket| match index {
        0 => answer(
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: ../echo?x=1#ignored\r\n\r\n",
            socket,
        ),
        _ => answer(&switching(request, &[]), socket),
    });
    let client = ws_client::connect_with(ws_url(addr, "/a/b/c"), &following(1)).unwrap();
    assert_eq!(client.response().unwrap().status(), 101);
    drop(client);
    let requests = server.join().unwrap();
    assert!(
        requests[0].starts_with("GET /a/b/c HTTP/1.1\r\n"),
        "{requests:?}"
    );
    assert!(
        requests[1].starts_with("GET /a/echo?x=1 HTTP/1.1\r\n"),
        "{requests:?}"
    );
}

#[test]
fn a_chain_longer_than_the_limit_is_too_many_redirects() {
    let (addr, server) = scripted_server(4, |index, _, socket| {
        let response = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: /hop{}\r\n\r\n",
            index + 1
        );
        answer(response.as_bytes(), socket);
    });
    let error = ws_client::connect_with(ws_url(addr, "/hop0"), &following(3)).unwrap_err();
    assert!(
        matches!(error, Error::TooManyRedirects { limit: 3 }),
        "{error:?}"
    );
    assert!(error.to_string().contains('3'), "{error}");
    // The first request and three redirects: four connections, the last refused.
    let requests = server.join().unwrap();
    for (index, request) in requests.iter().enumerate() {
        assert!(
            request.starts_with(&format!("GET /hop{index} ")),
            "{request}"
        );
    }
}

#[test]
fn a_redirect_to_wss_needs_tls_which_plain_connect_lacks() {
    // `https` reads as `wss`.
    for location in ["wss://127.0.0.1:1/", "https://127.0.0.1:1/"] {
        let (addr, server) = redirecting(302, location.to_owned());
        let error = ws_client::connect_with(ws_url(addr, "/"), &following(1)).unwrap_err();
        server.join().unwrap();
        assert!(matches!(error, Error::TlsRequired), "{location}: {error:?}");
    }
}

#[test]
fn an_unusable_location_is_an_invalid_redirect() {
    let cases = [
        (
            "ftp://example.com/",
            UrlError::UnsupportedScheme("ftp".into()),
        ),
        ("ws://exa mple.com/", UrlError::InvalidCharacter),
        ("ws://example.com:0/", UrlError::InvalidPort),
    ];
    for (location, expected) in cases {
        let (addr, server) = redirecting(302, location.to_owned());
        let error = ws_client::connect_with(ws_url(addr, "/"), &following(1)).unwrap_err();
        server.join().unwrap();
        let Error::InvalidRedirect(cause) = &error else {
            panic!("{location}: {error:?}")
        };
        assert_eq!(*cause, expected, "{location}");
    }
}

#[test]
fn credentials_in_headers_stay_with_their_host() {
    let forbid = |_: usize, _: &str, socket: &mut TcpStream| {
        answer(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
            socket,
        );
    };
    let config = following(2)
        .header("Authorization", "Bearer for-the-first-host")
        .header("cookie", "session=1")
        .header("X-Trace", "7");

    // Another port: the credentials are left behind, other headers go on.
    let (elsewhere, other) = scripted_server(1, forbid);
    let (addr, server) = redirecting(302, ws_url(elsewhere, "/"));
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    assert_eq!(error.response().unwrap().status(), 403);
    let first = server.join().unwrap();
    let second = &other.join().unwrap()[0];
    assert!(
        first.contains("Authorization: Bearer for-the-first-host\r\n"),
        "{first}"
    );
    assert!(!second.contains("Authorization"), "{second}");
    assert!(!second.contains("session=1"), "{second}");
    assert!(second.contains("X-Trace: 7\r\n"), "{second}");

    // The same host and port: they go on.
    let (addr, server) = scripted_server(2, move |index, request, socket| match index {
        0 => answer(b"HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n", socket),
        _ => forbid(index, request, socket),
    });
    let error = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap_err();
    assert_eq!(error.response().unwrap().status(), 403);
    let requests = server.join().unwrap();
    assert!(
        requests[1].contains("Authorization: Bearer for-the-first-host\r\n"),
        "{requests:?}"
    );
    assert!(
        requests[1].contains("cookie: session=1\r\n"),
        "{requests:?}"
    );
}

//! Proxies: `ws://` through a real tinyproxy, Basic credentials accepted and refused,
//! `NO_PROXY`, and crafted proxies for the `CONNECT` request's bytes and each way a
//! proxy can fail.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use ws_client::{Client, ClientConfig, Error, Proxy, Url};
use ws_stream::Message;

use crate::tinyproxy::Tinyproxy;
use crate::{answer, drain, raw_server, tungstenite_server, ws_url};

/// A tungstenite echo server for one connection, answering the address its client
/// connected from.
pub(crate) fn echo_server_reporting_peer() -> (SocketAddr, JoinHandle<SocketAddr>) {
    tungstenite_server(None, |mut ws| {
        let peer = ws.get_ref().peer_addr().unwrap();
        while let Ok(message) = ws.read() {
            if message.is_text() || message.is_binary() {
                ws.send(message).unwrap();
            }
        }
        peer
    })
}

/// An address nothing listens on.
pub(crate) fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The socket under a client: where it is connected to, and from where.
fn ends(client: &Client<TcpStream>) -> (SocketAddr, SocketAddr) {
    let socket = client.stream().unwrap().get_ref();
    (socket.local_addr().unwrap(), socket.peer_addr().unwrap())
}

/// Sends a message and expects it back.
fn echo(client: &mut Client<TcpStream>, text: &str) {
    client.send_text(text).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text(text));
}

/// Asserts that no one connected to `listener`: a connection the client made would be
/// waiting in its queue already.
fn assert_untouched(listener: &TcpListener) {
    listener.set_nonblocking(true).unwrap();
    let attempt = listener.accept();
    assert!(
        matches!(&attempt, Err(error) if error.kind() == ErrorKind::WouldBlock),
        "{attempt:?}"
    );
}

fn proxied(proxy: &str) -> ClientConfig {
    ClientConfig::default().proxy(Proxy::new(proxy).unwrap())
}

#[test]
fn ws_goes_through_the_proxy() {
    let proxy = Tinyproxy::start();
    let (addr, server) = echo_server_reporting_peer();
    let mut client =
        ws_client::connect_with(ws_url(addr, "/chat"), &proxied(&proxy.url())).unwrap();
    echo(&mut client, "through the tunnel");
    let (local, peer) = ends(&client);
    client.close().unwrap();
    // The client's socket leads to the proxy; the server's to the proxy's own socket.
    assert_eq!(peer.port(), proxy.port());
    assert_ne!(server.join().unwrap(), local);
    assert_eq!(proxy.connects(), [addr.to_string()]);
}

#[test]
fn basic_credentials_from_the_url_or_the_setter_open_the_tunnel() {
    let proxy = Tinyproxy::with_basic_auth("alice", "open-sesame");
    let port = proxy.port();
    // `%2D` is `-`: the credentials are percent-decoded.
    let from_url = Proxy::new(&format!("http://alice:open%2Dsesame@127.0.0.1:{port}")).unwrap();
    let from_setter = Proxy::new(&proxy.url())
        .unwrap()
        .basic_auth("alice", "open-sesame");
    for settings in [from_url, from_setter] {
        let (addr, server) = echo_server_reporting_peer();
        let config = ClientConfig::default().proxy(settings);
        let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
        echo(&mut client, "authorised");
        client.close().unwrap();
        server.join().unwrap();
    }
    assert_eq!(proxy.connects().len(), 2);
}

#[test]
fn a_proxy_wanting_credentials_is_a_typed_error() {
    let proxy = Tinyproxy::with_basic_auth("alice", "open-sesame");
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = ws_url(target.local_addr().unwrap(), "/");
    let without = proxied(&proxy.url());
    let wrong = ClientConfig::default().proxy(
        Proxy::new(&proxy.url())
            .unwrap()
            .basic_auth("alice", "guess"),
    );
    for config in [without, wrong] {
        let error = ws_client::connect_with(&url, &config).unwrap_err();
        assert!(matches!(error, Error::ProxyAuthRequired), "{error:?}");
    }
    assert_untouched(&target);
}

#[test]
fn a_proxy_that_cannot_reach_the_server_refuses_with_its_status() {
    let proxy = Tinyproxy::start();
    let error =
        ws_client::connect_with(ws_url(closed_port(), "/"), &proxied(&proxy.url())).unwrap_err();
    // tinyproxy answers "500 Unable to connect" where others say 502.
    assert!(matches!(error, Error::ProxyRefused(500)), "{error:?}");
    assert!(error.to_string().contains("500"), "{error}");
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    // The proxy is dead, so only a connection that bypasses it can succeed.
    let dead_proxy = format!("http://{}", closed_port());
    let lists = |port: u16| {
        [
            "127.0.0.1".to_owned(),
            format!("127.0.0.1:{port}"),
            "*".to_owned(),
            "localhost, 127.0.0.1 ,example.com".to_owned(),
        ]
    };
    for index in 0..4 {
        let (addr, server) = echo_server_reporting_peer();
        let list = &lists(addr.port())[index];
        let config = ClientConfig::default().proxy(Proxy::new(&dead_proxy).unwrap().no_proxy(list));
        let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
        echo(&mut client, list);
        assert_eq!(ends(&client).1, addr, "{list}");
        client.close().unwrap();
        server.join().unwrap();
    }
    // Another port, or another host, goes through the (dead) proxy.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = ws_url(target.local_addr().unwrap(), "/");
    for list in ["127.0.0.1:1", "localhost", ".0.0.1"] {
        let config = ClientConfig::default().proxy(Proxy::new(&dead_proxy).unwrap().no_proxy(list));
        let error = ws_client::connect_with(&url, &config).unwrap_err();
        let Error::ProxyConnect { error: io, .. } = &error else {
            panic!("{list}: {error:?}")
        };
        assert_eq!(io.kind(), ErrorKind::ConnectionRefused);
    }
    assert_untouched(&target);
}

#[test]
fn the_connect_request_is_in_authority_form_with_the_credentials() {
    // The proxy resolves the server's name, so `.invalid` hosts are fine: the client
    // never looks them up itself.
    let cases = [
        ("ws://chat.invalid:9001/room?x=1", "chat.invalid:9001"),
        ("wss://chat.invalid/", "chat.invalid:443"),
        ("ws://chat.invalid/", "chat.invalid:80"),
        ("ws://[::1]:9001/", "[::1]:9001"),
    ];
    for (url, authority) in cases {
        let (addr, server) = raw_server(|_, socket| {
            answer(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                socket,
            );
        });
        // The last `@` ends the user information; `%40` and `%3A` decode.
        let config = proxied(&format!("http://us%40er:p:s%3As@{addr}"));
        let error = ws_client::connect_tcp(&Url::parse(url).unwrap(), &config).unwrap_err();
        assert!(matches!(error, Error::ProxyRefused(403)), "{error:?}");
        let expected = format!(
            "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\
             Proxy-Authorization: Basic dXNAZXI6cDpzOnM=\r\n\r\n"
        );
        assert_eq!(server.join().unwrap(), expected);
    }
}

#[test]
fn bytes_after_the_proxys_2xx_are_refused() {
    let (addr, server) = raw_server(|_, socket| {
        answer(
            b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n",
            socket,
        );
    });
    let error =
        ws_client::connect_with("ws://chat.invalid/", &proxied(&addr.to_string())).unwrap_err();
    server.join().unwrap();
    assert!(matches!(error, Error::UnexpectedProxyData), "{error:?}");
}

#[test]
fn a_407_from_any_proxy_is_auth_required_and_other_statuses_are_refusals() {
    type Expected = fn(&Error) -> bool;
    let answers: [(&[u8], Expected); 3] = [
        (
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\
              Content-Length: 4\r\n\r\nnope",
            |error| matches!(error, Error::ProxyAuthRequired),
        ),
        (
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
            |error| matches!(error, Error::ProxyRefused(502)),
        ),
        (
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://elsewhere.invalid/\r\n\r\n",
            |error| matches!(error, Error::ProxyRefused(301)),
        ),
    ];
    for (response, expected) in answers {
        let (addr, server) = raw_server(move |_, socket| answer(response, socket));
        // A proxy's redirect is not the server's: never followed.
        let config = proxied(&addr.to_string()).max_redirects(5);
        let error = ws_client::connect_with("ws://chat.invalid/", &config).unwrap_err();
        server.join().unwrap();
        assert!(expected(&error), "{error:?}");
    }
}

#[test]
fn a_malformed_answer_is_an_invalid_proxy_response() {
    let (addr, server) = raw_server(|_, socket| answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", socket));
    let error =
        ws_client::connect_with("ws://chat.invalid/", &proxied(&addr.to_string())).unwrap_err();
    server.join().unwrap();
    let Error::InvalidProxyResponse(cause) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*cause, ws_handshake::Error::InvalidStatusLine);
}

#[test]
fn a_proxy_that_hangs_up_or_stays_silent_ends_the_attempt() {
    let (addr, server) = raw_server(|_, _| {});
    let error =
        ws_client::connect_with("ws://chat.invalid/", &proxied(&addr.to_string())).unwrap_err();
    server.join().unwrap();
    assert!(matches!(error, Error::ClosedDuringHandshake), "{error:?}");

    // Silent until the client leaves: the handshake timeout bounds the CONNECT.
    let (addr, server) = raw_server(|_, socket| drain(socket));
    let config = proxied(&addr.to_string()).handshake_timeout(Some(Duration::from_millis(100)));
    let error = ws_client::connect_with("ws://chat.invalid/", &config).unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    server.join().unwrap();
}

#[test]
fn an_unreachable_proxy_is_a_proxy_connect_error() {
    let config = proxied(&format!("http://{}", closed_port()));
    let error = ws_client::connect_with("ws://chat.invalid/", &config).unwrap_err();
    let Error::ProxyConnect { error: io, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(io.kind(), ErrorKind::ConnectionRefused);

    let config = proxied("http://proxy.invalid:3128");
    let error = ws_client::connect_with("ws://chat.invalid/", &config).unwrap_err();
    assert!(matches!(error, Error::ProxyConnect { .. }), "{error:?}");
}

#[test]
fn a_redirect_is_followed_through_the_proxy_hop_by_hop() {
    let proxy = Tinyproxy::start();
    let (target, server) = echo_server_reporting_peer();
    let (redirector, redirect) = raw_server(move |_, socket| {
        let response = format!("HTTP/1.1 302 Found\r\nLocation: ws://{target}/moved\r\n\r\n");
        answer(response.as_bytes(), socket);
    });
    let config = proxied(&proxy.url()).max_redirects(1);
    let mut client = ws_client::connect_with(ws_url(redirector, "/old"), &config).unwrap();
    echo(&mut client, "moved");
    client.close().unwrap();
    assert!(
        redirect
            .join()
            .unwrap()
            .starts_with("GET /old HTTP/1.1\r\n")
    );
    server.join().unwrap();
    assert_eq!(
        proxy.connects(),
        [redirector.to_string(), target.to_string()]
    );
}

//! Proxies and redirects with TLS: `wss://` through a real tinyproxy (TLS end to end,
//! the proxy seeing only the host and port), proxy credentials, and redirects across
//! `ws` and `wss`, through the proxy too, with a downgrade to `ws` refused.

// The tinyproxy runner that ws-client's tests use, standard library only.
#[path = "../../../ws-client/tests/client/tinyproxy.rs"]
pub(crate) mod tinyproxy;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use ws_client::{Client, ClientConfig, Proxy};
use ws_server::{Accept, Rejection, ServerConfig, ServerHandle};
use ws_stream::Message;
use ws_tls::{Error, MaybeTlsStream};

use crate::pki::pki;
use crate::support::{HANG, acceptor, connector, echo_server, wss_url};
use tinyproxy::Tinyproxy;

pub(crate) fn proxied(proxy: &str) -> ClientConfig {
    ClientConfig::default().proxy(Proxy::new(proxy).unwrap())
}

/// Sends a message, expects it back, and closes.
fn echo_and_close(mut client: Client<MaybeTlsStream>, text: &str) {
    client.send_text(text).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text(text));
    client.close().unwrap();
}

/// A wss echo server at `/echo` that records the address of each client it admits.
fn recording_echo_server() -> (ServerHandle, Arc<Mutex<Vec<SocketAddr>>>) {
    let peers = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&peers);
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/echo", |stream, _path| {
            while let Ok(message) = stream.read_message() {
                stream.send(&message)?;
            }
            Ok(())
        })
        .unwrap();
    server.on_upgrade(move |request| {
        recorded.lock().unwrap().extend(request.peer_addr());
        Ok(Accept::new())
    });
    (server.spawn().unwrap(), peers)
}

/// A wss server whose `/old` answers every upgrade with `status` and `Location`.
pub(crate) fn redirecting_wss(status: u16, location: String) -> ServerHandle {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server.on_connect("/old", |_, _| Ok(())).unwrap();
    server.on_upgrade(move |_| Err(Rejection::new(status).header("Location", location.clone())));
    server.spawn().unwrap()
}

/// A plain TCP server answering one request with a 302 to `location`; answers the
/// request line it read.
pub(crate) fn redirecting_ws(location: String) -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut socket = listener.accept().unwrap().0;
        socket.set_read_timeout(Some(HANG)).unwrap();
        let mut head = Vec::new();
        let mut byte = [0];
        while !head.ends_with(b"\r\n\r\n") && matches!(socket.read(&mut byte), Ok(1)) {
            head.push(byte[0]);
        }
        let response =
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
        socket.write_all(response.as_bytes()).ok();
        // Until the client leaves, so that closing cannot reset what it reads.
        while matches!(socket.read(&mut byte), Ok(1)) {}
        let head = String::from_utf8(head).unwrap();
        head.lines().next().unwrap_or_default().to_owned()
    });
    (addr, handle)
}

#[test]
fn wss_goes_through_the_proxy_with_tls_end_to_end() {
    let proxy = Tinyproxy::start();
    let (server, peers) = recording_echo_server();
    let client = ws_tls::connect_with(
        wss_url(&server, "/echo"),
        &proxied(&proxy.url()),
        &connector(),
    )
    .unwrap();
    let stream = client.stream().unwrap().get_ref();
    assert!(matches!(stream, MaybeTlsStream::Tls(_)));
    // The client's TCP connection leads to the proxy, the server's comes from it.
    let tcp = stream.tcp();
    assert_eq!(tcp.peer_addr().unwrap().port(), proxy.port());
    let local = tcp.local_addr().unwrap();
    echo_and_close(client, "tls through the tunnel");
    let peers = peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 1);
    assert_ne!(peers[0], local);
    // The proxy saw the host name and port, nothing more: the TLS name check passed
    // for "localhost", end to end.
    let port = server.local_addr().port();
    assert_eq!(proxy.connects(), [format!("localhost:{port}")]);
}

#[test]
fn proxy_credentials_open_the_tunnel_for_wss_and_their_absence_is_typed() {
    let proxy = Tinyproxy::with_basic_auth("alice", "open-sesame");
    let server = echo_server(ServerConfig::default());
    let url = wss_url(&server, "/echo");

    let with = proxied(&format!(
        "http://alice:open-sesame@127.0.0.1:{}",
        proxy.port()
    ));
    let client = ws_tls::connect_with(&url, &with, &connector()).unwrap();
    echo_and_close(client, "authorised");

    let error = ws_tls::connect_with(&url, &proxied(&proxy.url()), &connector()).unwrap_err();
    assert!(
        matches!(error, Error::Client(ws_client::Error::ProxyAuthRequired)),
        "{error:?}"
    );
    assert_eq!(proxy.connects().len(), 2);
}

#[test]
fn a_ws_redirect_to_wss_is_followed_through_the_proxy() {
    let proxy = Tinyproxy::start();
    let server = echo_server(ServerConfig::default());
    let (redirector, request) = redirecting_ws(wss_url(&server, "/echo"));
    let config = proxied(&proxy.url()).max_redirects(1);
    let url = format!("ws://{redirector}/old");
    let client = ws_tls::connect_with(&url, &config, &connector()).unwrap();
    assert!(matches!(
        client.stream().unwrap().get_ref(),
        MaybeTlsStream::Tls(_)
    ));
    echo_and_close(client, "upgraded to tls");
    assert_eq!(request.join().unwrap(), "GET /old HTTP/1.1");
    let port = server.local_addr().port();
    assert_eq!(
        proxy.connects(),
        [redirector.to_string(), format!("localhost:{port}")]
    );
}

#[test]
fn a_wss_redirect_to_wss_is_followed_with_a_new_tls_session() {
    let target = echo_server(ServerConfig::default());
    let redirector = redirecting_wss(307, wss_url(&target, "/echo"));
    let config = ClientConfig::default().max_redirects(1);
    let client = ws_tls::connect_with(wss_url(&redirector, "/old"), &config, &connector()).unwrap();
    let tcp = client.stream().unwrap().get_ref().tcp();
    assert_eq!(tcp.peer_addr().unwrap().port(), target.local_addr().port());
    echo_and_close(client, "moved");
}

#[test]
fn a_wss_redirect_is_not_followed_by_default_and_its_response_is_readable() {
    let redirector = redirecting_wss(302, "wss://localhost:1/new".to_owned());
    let error = ws_tls::connect_with(
        wss_url(&redirector, "/old"),
        &ClientConfig::default(),
        &connector(),
    )
    .unwrap_err();
    let Error::Client(error) = &error else {
        panic!("{error:?}")
    };
    let response = error.response().unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers().get("location"),
        Some(&b"wss://localhost:1/new"[..])
    );
}

#[test]
fn a_redirect_from_wss_down_to_ws_is_refused() {
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let location = format!("ws://{}/new", plain.local_addr().unwrap());
    let redirector = redirecting_wss(302, location.clone());
    let config = ClientConfig::default().max_redirects(5);
    let error =
        ws_tls::connect_with(wss_url(&redirector, "/old"), &config, &connector()).unwrap_err();
    let Error::Client(ws_client::Error::InsecureRedirect(url)) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(url.to_string(), location);
    // Nothing was sent in the clear: nobody connected to the plain server.
    plain.set_nonblocking(true).unwrap();
    let attempt = plain.accept();
    assert!(
        matches!(&attempt, Err(error) if error.kind() == ErrorKind::WouldBlock),
        "{attempt:?}"
    );
}

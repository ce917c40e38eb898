//! wss on tokio: our async client against our async server and against the blocking
//! one, the blocking client against the async server, Python `websockets` on either
//! end of the async side, certificate errors, the proxy and redirects, and handshake
//! timeouts on both ends.

use std::net::Shutdown;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rustls::AlertDescription;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use ws_client::ClientConfig;
use ws_server::{AsyncServer, AsyncServerHandle, ServerConfig};
use ws_stream::{AsyncStream, CloseCode, CloseFrame, Event, Message};
use ws_tls::{AsyncMaybeTlsStream, AsyncTlsAcceptor, Connector, Error};

use crate::interop::{PEER_TIMEOUT, PYTHON_CLIENT_STEPS, PYTHON_SERVER_TRANSCRIPTS, Peer, TempDir};
use crate::mtls::server_requiring_client_certificates;
use crate::pki::{Identity, pki};
use crate::proxy::tinyproxy::Tinyproxy;
use crate::proxy::{proxied, redirecting_ws, redirecting_wss};
use crate::support::{HANG, acceptor, connector, echo_server, wss_url};

/// A runtime whose worker threads serve while the test's own thread blocks (on a
/// blocking client, on the Python peer's output).
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn async_acceptor(identity: &Identity) -> AsyncTlsAcceptor {
    AsyncTlsAcceptor::from_pem(identity.chain_pem.as_bytes(), identity.key_pem.as_bytes()).unwrap()
}

/// An async wss server for "localhost" with an echo route at `/echo`.
async fn async_echo_server(config: ServerConfig) -> AsyncServerHandle {
    let mut server =
        ws_tls::async_server("127.0.0.1:0", async_acceptor(&pki().localhost)).with_config(config);
    server
        .on_connect("/echo", |mut ws, _path| async move {
            while let Ok(message) = ws.recv().await {
                ws.send(&message).await?;
            }
            Ok(())
        })
        .unwrap();
    server.spawn().await.unwrap()
}

fn async_url(handle: &AsyncServerHandle, path: &str) -> String {
    format!("wss://localhost:{}{path}", handle.local_addr().port())
}

async fn connect(url: &str, config: &ClientConfig) -> AsyncStream<AsyncMaybeTlsStream> {
    try_connect(url, config).await.unwrap()
}

/// Connects with the connector that trusts the test CA, failing the test on a hang.
async fn try_connect(
    url: &str,
    config: &ClientConfig,
) -> Result<AsyncStream<AsyncMaybeTlsStream>, Error> {
    let connector = connector();
    let connecting = ws_tls::connect_async_with(url, config, &connector);
    let (ws, _accepted) = tokio::time::timeout(HANG, connecting)
        .await
        .expect("connect hung")?;
    Ok(ws)
}

/// Echoes a short text and 1 MiB of binary (many TLS records), then closes.
async fn echo_and_close(mut ws: AsyncStream<AsyncMaybeTlsStream>) {
    tokio::time::timeout(HANG, async move {
        ws.send_text("over async tls ✓").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("over async tls ✓"));
        let large: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        ws.send_binary(&large).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::binary(large));
        ws.close().await.unwrap();
    })
    .await
    .expect("echo hung");
}

#[tokio::test]
async fn async_client_against_async_server() {
    let server = async_echo_server(ServerConfig::default()).await;
    let ws = connect(&async_url(&server, "/echo"), &ClientConfig::default()).await;
    let AsyncMaybeTlsStream::Tls(tls) = ws.get_ref() else {
        panic!("a wss url gave a plain stream")
    };
    assert_eq!(tls.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(tls.get_ref().peer_addr().unwrap(), server.local_addr());
    echo_and_close(ws).await;
    server.shutdown().await;
}

/// The steps by hand: a TCP connection of our own, `wrap_async` for TLS, then
/// ws-client's `handshake_async` over it.
#[tokio::test]
async fn wrap_async_then_handshake_async_over_a_connection_of_our_own() {
    let server = async_echo_server(ServerConfig::default()).await;
    let steps = async {
        let tcp = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        let tls = connector().wrap_async("localhost", tcp).await.unwrap();
        assert_eq!(tls.alpn_protocol(), Some(&b"http/1.1"[..]));
        let url = async_url(&server, "/echo");
        let (mut ws, _) = ws_client::handshake_async(tls, url, &ClientConfig::default())
            .await
            .unwrap();
        ws.send_text("by hand").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("by hand"));
        ws.close().await.unwrap();
    };
    tokio::time::timeout(HANG, steps).await.unwrap();
    let error = connector()
        .wrap_async(
            "not a name!",
            tokio::net::TcpStream::connect(server.local_addr())
                .await
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidServerName(name) if name == "not a name!"),
        "{error:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn async_client_against_blocking_server() {
    let server = echo_server(ServerConfig::default());
    let ws = connect(&wss_url(&server, "/echo"), &ClientConfig::default()).await;
    echo_and_close(ws).await;
    server.shutdown();
}

#[test]
fn blocking_client_against_async_server() {
    let runtime = runtime();
    let server = runtime.block_on(async_echo_server(ServerConfig::default()));
    let url = async_url(&server, "/echo");
    let mut client = ws_tls::connect_with(&url, &ClientConfig::default(), &connector()).unwrap();
    client.send_text("blocking to async").unwrap();
    assert_eq!(
        client.read_message().unwrap(),
        Message::text("blocking to async")
    );
    client.close().unwrap();
    runtime.block_on(server.shutdown());
}

#[tokio::test]
async fn an_acceptor_made_from_the_blocking_one_serves_the_same_certificate() {
    let blocking = acceptor(&pki().localhost);
    let mut server = AsyncServer::with_acceptor("127.0.0.1:0", AsyncTlsAcceptor::from(blocking));
    server
        .on_connect("/echo", |mut ws, _| async move {
            while let Ok(message) = ws.recv().await {
                ws.send(&message).await?;
            }
            Ok(())
        })
        .unwrap();
    let server = server.spawn().await.unwrap();
    echo_and_close(connect(&async_url(&server, "/echo"), &ClientConfig::default()).await).await;
    server.shutdown().await;
}

#[tokio::test]
async fn async_client_names_certificate_errors() {
    for (identity, expected) in [
        (&pki().unknown_ca, "UnknownIssuer"),
        (&pki().other_name, "NameMismatch"),
        (&pki().expired, "Expired"),
    ] {
        let mut server = ws_tls::async_server("127.0.0.1:0", async_acceptor(identity));
        server.on_connect("/echo", |_, _| async { Ok(()) }).unwrap();
        let server = server.spawn().await.unwrap();
        let error = try_connect(&async_url(&server, "/echo"), &ClientConfig::default())
            .await
            .unwrap_err();
        assert_eq!(format!("{error:?}"), expected);
        server.shutdown().await;
    }
}

/// TLS 1.3 lets the server refuse our missing certificate only after our side of the
/// handshake is done: the refusal comes with the first read of the upgrade, and is
/// still named.
#[tokio::test]
async fn async_client_without_a_client_certificate_is_refused_by_name() {
    let server = server_requiring_client_certificates();
    let error = try_connect(&wss_url(&server, "/echo"), &ClientConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::HandshakeRefused(AlertDescription::CertificateRequired)
        ),
        "{error:?}"
    );
    let with_certificate = Connector::builder()
        .root_certificates_pem(pki().ca_pem.as_bytes())
        .unwrap()
        .client_certificate_pem(
            pki().client.chain_pem.as_bytes(),
            pki().client.key_pem.as_bytes(),
        )
        .unwrap()
        .build()
        .unwrap();
    let config = ClientConfig::default();
    let connecting =
        ws_tls::connect_async_with(wss_url(&server, "/echo"), &config, &with_certificate);
    let (ws, _) = tokio::time::timeout(HANG, connecting)
        .await
        .unwrap()
        .unwrap();
    echo_and_close(ws).await;
    server.shutdown();
}

/// A server that drops TCP under the TLS session, without close_notify or a Close
/// frame, is the abnormal end (1006) it is over plain TCP, not an I/O error.
#[tokio::test]
async fn a_server_vanishing_without_close_notify_is_an_abnormal_close() {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/vanish", |stream, _path| {
            stream.send_text("bye")?;
            stream.get_ref().get_ref().shutdown(Shutdown::Both)?;
            Ok(())
        })
        .unwrap();
    let server = server.spawn().unwrap();
    let mut ws = connect(&wss_url(&server, "/vanish"), &ClientConfig::default()).await;
    let ending = tokio::time::timeout(HANG, async {
        assert_eq!(ws.recv().await.unwrap(), Message::text("bye"));
        ws.recv().await.unwrap_err()
    })
    .await
    .unwrap();
    let ws_stream::Error::Closed(frame) = ending else {
        panic!("expected an abnormal close, got {ending:?}")
    };
    assert_eq!(frame.code, CloseCode::ABNORMAL);
    server.shutdown();
}

#[tokio::test]
async fn async_client_on_a_plain_port_says_the_peer_does_not_speak_tls() {
    let mut server = AsyncServer::new("127.0.0.1:0");
    server.on_connect("/echo", |_, _| async { Ok(()) }).unwrap();
    let server = server.spawn().await.unwrap();
    let url = format!("wss://localhost:{}/echo", server.local_addr().port());
    let error = try_connect(&url, &ClientConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotTls), "{error:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn async_server_ends_a_client_that_never_starts_tls() {
    let handshake_timeout = Duration::from_millis(300);
    let server =
        async_echo_server(ServerConfig::default().handshake_timeout(handshake_timeout)).await;
    let mut tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let opened = Instant::now();
    let mut scratch = [0; 64];
    // Nothing is sent: the server must give up on its own, without a byte of TLS.
    let read = tokio::time::timeout(HANG, tcp.read(&mut scratch))
        .await
        .expect("the server kept a silent connection open");
    assert!(matches!(read, Ok(0)), "{read:?}");
    assert!(opened.elapsed() >= handshake_timeout);
    server.shutdown().await;
}

#[tokio::test]
async fn async_client_times_out_on_a_server_that_never_answers_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        // Accepted and held open, never answered.
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tcp = tcp;
        let mut scratch = [0; 1024];
        while tcp.read(&mut scratch).await.is_ok_and(|n| n > 0) {}
    });
    let config = ClientConfig::default().handshake_timeout(Some(Duration::from_millis(300)));
    let error = try_connect(&format!("wss://localhost:{port}/"), &config)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    assert_eq!(error.to_string(), "tls handshake timed out");
    // Our side closed its socket, which ends the silent server's read.
    tokio::time::timeout(HANG, silent).await.unwrap().unwrap();
}

#[tokio::test]
async fn async_wss_goes_through_the_proxy_with_tls_end_to_end() {
    let proxy = Tinyproxy::start();
    let server = async_echo_server(ServerConfig::default()).await;
    let ws = connect(&async_url(&server, "/echo"), &proxied(&proxy.url())).await;
    assert!(matches!(ws.get_ref(), AsyncMaybeTlsStream::Tls(_)));
    assert_eq!(ws.get_ref().tcp().peer_addr().unwrap().port(), proxy.port());
    echo_and_close(ws).await;
    let port = server.local_addr().port();
    assert_eq!(proxy.connects(), [format!("localhost:{port}")]);
    server.shutdown().await;
}

#[tokio::test]
async fn async_ws_redirect_to_wss_is_followed() {
    let server = async_echo_server(ServerConfig::default()).await;
    let (redirector, request) = redirecting_ws(async_url(&server, "/echo"));
    let config = ClientConfig::default().max_redirects(1);
    let ws = connect(&format!("ws://{redirector}/old"), &config).await;
    assert!(matches!(ws.get_ref(), AsyncMaybeTlsStream::Tls(_)));
    echo_and_close(ws).await;
    assert_eq!(request.join().unwrap(), "GET /old HTTP/1.1");
    server.shutdown().await;
}

#[tokio::test]
async fn async_redirect_from_wss_down_to_ws_is_refused() {
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let location = format!("ws://{}/new", plain.local_addr().unwrap());
    let redirector = redirecting_wss(302, location.clone());
    let config = ClientConfig::default().max_redirects(5);
    let error = try_connect(&wss_url(&redirector, "/old"), &config)
        .await
        .unwrap_err();
    let Error::Client(ws_client::Error::InsecureRedirect(url)) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(url.to_string(), location);
    redirector.shutdown();
}

#[test]
fn python_client_against_our_async_server() {
    let runtime = runtime();
    let (closes, closed) = mpsc::channel();
    let server = runtime.block_on(async_scenario_server(closes));
    let dir = TempDir::new();
    let ca_file = dir.write("ca.pem", &pki().ca_pem);
    let port = server.local_addr().port().to_string();
    let mut peer = Peer::spawn(&["client", &port, &ca_file.to_string_lossy()]);
    for (name, value) in PYTHON_CLIENT_STEPS {
        assert_eq!(
            peer.next_line(),
            (name.to_owned(), value.to_owned()),
            "{}",
            peer.describe()
        );
    }
    peer.assert_success();
    assert_eq!(
        closed.recv_timeout(PEER_TIMEOUT).unwrap(),
        CloseFrame::new(CloseCode::new(4000), "bye")
    );
    runtime.block_on(server.shutdown());
}

#[test]
fn our_async_client_against_a_python_server() {
    let dir = TempDir::new();
    let cert_file = dir.write("cert.pem", &pki().localhost.chain_pem);
    let key_file = dir.write("key.pem", &pki().localhost.key_pem);
    let mut peer = Peer::spawn(&[
        "server",
        &cert_file.to_string_lossy(),
        &key_file.to_string_lossy(),
    ]);
    let (name, port) = peer.next_line();
    assert_eq!(name, "port", "{}", peer.describe());
    let url = format!("wss://localhost:{port}/echo");
    let runtime = runtime();
    // One connection at a time, each reported before the next opens, so that the
    // transcripts come in order.
    within_hang(&runtime, python_scenario_first(&url));
    peer.assert_transcript(PYTHON_SERVER_TRANSCRIPTS[0]);
    within_hang(&runtime, python_scenario_second(&url));
    peer.assert_transcript(PYTHON_SERVER_TRANSCRIPTS[1]);
    peer.assert_success();
}

/// Runs `scenario` on `runtime`, failing the test if it hangs.
fn within_hang(runtime: &Runtime, scenario: impl Future<Output = ()>) {
    runtime.block_on(async {
        tokio::time::timeout(HANG, scenario)
            .await
            .expect("the scenario against python hung");
    });
}

/// The client's side of the scenario's first connection, which the Python server
/// reports on: echoes, pings both ways, then our close.
async fn python_scenario_first(url: &str) {
    let mut ws = connect(url, &ClientConfig::default()).await;
    ws.send_text("Hello over TLS ✓").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("Hello over TLS ✓"));
    let binary: Vec<u8> = (0..=255).collect();
    ws.send_binary(&binary).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::binary(binary));
    let large_binary: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    ws.send_binary(&large_binary).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::binary(large_binary));
    let large_text = "✓".repeat(349_525) + "x";
    ws.send_text(&large_text).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text(large_text));
    ws.ping(b"client-ping").await.unwrap();
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Pong(b"client-ping".to_vec())
    );
    ws.send_text("ping-me").await.unwrap();
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Ping(b"server-ping".to_vec())
    );
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Message(Message::text("pong: server-ping"))
    );
    ws.close_with(CloseCode::new(4000), "bye").await.unwrap();
    // Our close_notify, which Python's TLS shutdown waits for.
    ws.into_inner().shutdown().await.ok();
}

/// The second connection: the server closes.
async fn python_scenario_second(url: &str) {
    let mut ws = connect(url, &ClientConfig::default()).await;
    ws.send_text("close-me").await.unwrap();
    assert_eq!(
        ws.recv_event().await.unwrap(),
        Event::Close(CloseFrame::new(CloseCode::new(4001), "done"))
    );
    ws.into_inner().shutdown().await.ok();
}

/// Our async wss server playing the scenario: echo, "ping-me" pings the client and
/// reports its pong, "close-me" closes with 4001; the client's Close goes to `closes`.
async fn async_scenario_server(closes: mpsc::Sender<CloseFrame>) -> AsyncServerHandle {
    let closes = Arc::new(Mutex::new(closes));
    let mut server = ws_tls::async_server("127.0.0.1:0", async_acceptor(&pki().localhost));
    server
        .on_connect("/echo", move |mut ws, _path| {
            let closes = Arc::clone(&closes);
            async move {
                loop {
                    let message = match ws.recv().await {
                        Ok(message) => message,
                        Err(ws_stream::Error::Closed(frame)) => {
                            closes.lock().unwrap().send(frame).ok();
                            return Ok(());
                        }
                        Err(error) => return Err(error.into()),
                    };
                    match message.as_text() {
                        Some("ping-me") => {
                            ws.ping(b"server-ping").await?;
                            while !matches!(ws.recv_event().await?, Event::Pong(payload) if payload == b"server-ping")
                            {}
                            ws.send_text("pong: server-ping").await?;
                        }
                        Some("close-me") => {
                            ws.close_with(CloseCode::new(4001), "done").await?;
                            return Ok(());
                        }
                        _ => ws.send(&message).await?,
                    }
                }
            }
        })
        .unwrap();
    server.spawn().await.unwrap()
}

//! `AsyncServer` (feature `tokio`) against tungstenite clients on blocking threads:
//! routes, pages, refusals, the admission and origin checks, the connection limit,
//! graceful shutdown with 1001, handlers that fail or panic, and `AsyncBroadcast` with
//! a member that stops reading.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use tungstenite::Message as TMessage;
use ws_server::{
    ASYNC_MAX_CONNECTIONS, Accept, AsyncBroadcast, AsyncServer, AsyncServerHandle, HttpResponse,
    Rejection, ServerConfig,
};
use ws_stream::Message;

use crate::support::*;

/// Runs blocking client code off the runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// An echo route on `/echo`, a page on `/health`, an admission check that refuses
/// `?deny` with 401, and the quick config with `config_change` applied.
async fn server(config_change: impl FnOnce(ServerConfig) -> ServerConfig) -> AsyncServerHandle {
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(config_change(
        quick_config().max_connections(ASYNC_MAX_CONNECTIONS),
    ));
    server
        .on_connect("/echo", |mut ws, path| async move {
            assert_eq!(path, "/echo");
            while let Ok(message) = ws.recv().await {
                ws.send(&message).await?;
            }
            Ok(())
        })
        .unwrap();
    server
        .on_http("/health", |_| HttpResponse::new(200).body("ok\n"))
        .unwrap();
    server.on_upgrade(|request| match request.query() {
        Some("deny") => Err(Rejection::new(401)),
        _ => Ok(Accept::new()),
    });
    server.spawn().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_pages_and_refusals_as_the_blocking_server() {
    let handle = server(|config| config.allowed_origins(["https://good.example"])).await;
    let addr = handle.local_addr();
    blocking(move || {
        let mut client = connect(addr, "/echo");
        assert_eq!(round_trip(&mut client, "hello"), "hello");
        client.send(TMessage::binary(vec![1, 2, 3])).unwrap();
        assert_eq!(client.read().unwrap(), TMessage::binary(vec![1, 2, 3]));
        client.close(None).unwrap();

        let page = raw_exchange(addr, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((page.status, page.body.as_slice()), (200, &b"ok\n"[..]));
        let plain = raw_exchange(addr, b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(plain.status, 426);
        assert_eq!(refusal(addr, request(addr, "/nowhere")), 404);
        assert_eq!(refusal(addr, request(addr, "/echo?deny")), 401);
        let mut foreign = request(addr, "/echo");
        let origin = "https://evil.example".parse().unwrap();
        foreign.headers_mut().insert("origin", origin);
        assert_eq!(refusal(addr, foreign), 403);
        let mut friendly = request(addr, "/echo");
        let origin = "https://good.example".parse().unwrap();
        friendly.headers_mut().insert("origin", origin);
        assert!(try_connect(addr, friendly).is_ok());
        // A second, different version makes the handshake ambiguous.
        let broken = raw_exchange(addr, &upgrade_head("/echo", "Sec-WebSocket-Version: 8\r\n"));
        assert_eq!(broken.status, 400, "{}", broken.head);
    })
    .await;
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_answers_503_and_serves_again_once_a_place_frees() {
    let handle = server(|config| config.max_connections(2)).await;
    let addr = handle.local_addr();
    let (first, second) = blocking(move || (connect(addr, "/echo"), connect(addr, "/echo"))).await;
    assert_eq!(handle.connections(), 2);
    let mut first = blocking(move || {
        assert_eq!(refusal(addr, request(addr, "/echo")), 503);
        let mut first = first;
        assert_eq!(round_trip(&mut first, "still served"), "still served");
        first
    })
    .await;
    blocking(move || {
        let mut second = second;
        second.close(None).unwrap();
        while second.read().is_ok() {}
    })
    .await;
    wait_until(|| handle.connections() == 1).await;
    blocking(move || {
        let mut third = connect(addr, "/echo");
        assert_eq!(round_trip(&mut third, "a place freed"), "a place freed");
        assert_eq!(round_trip(&mut first, "and the first"), "and the first");
    })
    .await;
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_connection_with_1001_and_stops_accepting() {
    let handle = server(|config| config).await;
    let addr = handle.local_addr();
    let clients = blocking(move || {
        (0..3)
            .map(|_| {
                let mut client = connect(addr, "/echo");
                assert_eq!(round_trip(&mut client, "before"), "before");
                client
            })
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(handle.connections(), 3);
    let readers = blocking(move || {
        clients
            .into_iter()
            .map(|mut client| std::thread::spawn(move || close_code(&mut client)))
            .collect::<Vec<_>>()
    })
    .await;
    tokio::time::timeout(STUCK, handle.shutdown())
        .await
        .unwrap();
    let codes = blocking(move || {
        readers
            .into_iter()
            .map(|reader| reader.join().unwrap())
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(codes, [1001, 1001, 1001]);
    let refused = blocking(move || std::net::TcpStream::connect(addr).is_err()).await;
    assert!(refused, "the listener is closed after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_aborts_a_handler_that_ignores_its_connection() {
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(quick_config());
    server
        .on_connect("/deaf", |_ws, _path| async move {
            // Never polls the connection, so the close request cannot reach it.
            std::future::pending::<()>().await;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().await.unwrap();
    let addr = handle.local_addr();
    let client = blocking(move || connect(addr, "/deaf")).await;
    wait_until(|| handle.connections() == 1).await;
    // The close timeout of the quick config (500 ms) bounds the wait.
    tokio::time::timeout(STUCK, handle.shutdown())
        .await
        .unwrap();
    let ended = blocking(move || {
        let mut client = client;
        loop {
            match client.read() {
                Ok(TMessage::Close(_)) => return "close",
                Ok(_) => {}
                Err(_) => return "ended",
            }
        }
    })
    .await;
    assert_eq!(ended, "ended", "the aborted task dropped its socket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_handler_that_fails_or_panics_closes_only_its_connection_with_1011() {
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(quick_config());
    server
        .on_connect_split("/fail", |mut reader, _writer, _path| async move {
            reader.recv().await?;
            Err("the application failed".into())
        })
        .unwrap();
    server
        .on_connect_split("/panic", |mut reader, _writer, _path| async move {
            reader.recv().await?;
            panic!("a handler bug");
        })
        .unwrap();
    server
        .on_connect_split("/polite", |mut reader, writer, _path| async move {
            let message = reader.recv().await?;
            writer.send(&message).await?;
            Ok(())
        })
        .unwrap();
    server
        .on_connect("/echo", |mut ws, _path| async move {
            while let Ok(message) = ws.recv().await {
                ws.send(&message).await?;
            }
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().await.unwrap();
    let addr = handle.local_addr();
    blocking(move || {
        let mut bystander = connect(addr, "/echo");
        for (route, code) in [("/fail", 1011), ("/panic", 1011)] {
            let mut client = connect(addr, route);
            client.send(TMessage::text("go")).unwrap();
            assert_eq!(close_code(&mut client), code, "{route}");
            assert_eq!(round_trip(&mut bystander, route), route);
        }
        let mut polite = connect(addr, "/polite");
        assert_eq!(round_trip(&mut polite, "once"), "once");
        assert_eq!(close_code(&mut polite), 1000);
    })
    .await;
    handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_drops_a_member_that_stopped_reading_and_never_waits_for_it() {
    const MESSAGE: usize = 256 << 10;
    let room = Arc::new(AsyncBroadcast::new());
    let stream = ws_stream::Config::default().max_write_buffer(2 * MESSAGE);
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(quick_config().stream(stream));
    let members = Arc::clone(&room);
    server
        .on_connect_split("/room", move |mut reader, writer, _path| {
            let room = Arc::clone(&members);
            async move {
                let member = room.join(writer);
                while reader.recv().await.is_ok() {}
                room.leave(member);
                Ok(())
            }
        })
        .unwrap();
    let handle = server.spawn().await.unwrap();
    let addr = handle.local_addr();
    let (readers, deaf) = blocking(move || {
        (
            (0..2).map(|_| connect(addr, "/room")).collect::<Vec<_>>(),
            connect(addr, "/room"),
        )
    })
    .await;
    wait_until(|| room.len() == 3).await;
    // Two members read every message and say so; the third never reads.
    let (done, received) = mpsc::channel::<usize>();
    let readers: Vec<_> = readers
        .into_iter()
        .enumerate()
        .map(|(who, mut client)| {
            let done = done.clone();
            std::thread::spawn(move || {
                while let Ok(message) = client.read() {
                    if let TMessage::Binary(data) = message {
                        assert_eq!(data.len(), MESSAGE);
                        done.send(who).unwrap();
                    }
                }
            })
        })
        .collect();
    let message = ws_stream::PreparedMessage::new(&Message::binary(vec![b'x'; MESSAGE]));
    let mut sent = 0;
    // Kernel buffers take some megabytes before the deaf member's queue fills.
    while room.len() == 3 {
        assert!(sent < 1000, "the deaf member was never dropped");
        let reached = room.send_prepared(&message);
        sent += 1;
        let readers_got = [received.recv_timeout(STUCK), received.recv_timeout(STUCK)];
        assert!(
            readers_got.iter().all(Result::is_ok),
            "a reading member missed message {sent}"
        );
        assert!(reached >= 2);
    }
    assert_eq!(
        room.len(),
        2,
        "only the member that stopped reading is dropped"
    );
    // The room goes on for the others.
    assert_eq!(room.send_prepared(&message), 2);
    for _ in 0..2 {
        received.recv_timeout(STUCK).unwrap();
    }
    drop(deaf);
    handle.shutdown().await;
    for reader in readers {
        reader.join().unwrap();
    }
}

#[test]
fn the_async_server_admits_ten_thousand_connections_by_default() {
    let mut server = AsyncServer::new("127.0.0.1:0");
    assert_eq!(server.config_mut().max_connections, 10_000);
    assert_eq!(ASYNC_MAX_CONNECTIONS, 10_000);
    // The blocking server, a thread per connection, admits fewer.
    assert!(ServerConfig::default().max_connections < ASYNC_MAX_CONNECTIONS);
}

/// Waits for a condition the server reaches by itself, polling; [`STUCK`] only ends a
/// test that would otherwise hang.
async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + STUCK;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the condition never held"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_handshakes_in_progress_at_once() {
    // Both timers far beyond STUCK: only the close request can end the wait in time.
    let long = Duration::from_secs(600);
    let config = ServerConfig::default()
        .handshake_timeout(long)
        .stream(ws_stream::Config::default().close_timeout(long));
    let handle = server(|_| config).await;
    let addr = handle.local_addr();
    // A client that opens TCP and never sends its head.
    let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    wait_until(|| handle.connections() == 1).await;
    tokio::time::timeout(STUCK, handle.shutdown())
        .await
        .expect("shutdown did not wait for the handshake");
    let mut silent = silent;
    let mut rest = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut silent, &mut rest)
        .await
        .unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

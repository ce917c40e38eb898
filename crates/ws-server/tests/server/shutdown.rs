//! Graceful shutdown: stop accepting, close every connection with 1001, wait for the
//! handlers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ws_server::Server;

use crate::support::{
    LiveCount, close_code, connect, quick_config, round_trip, seed_echo, tcp, wait_until,
};

#[test]
fn shutdown_stops_accepting_closes_with_1001_and_waits_for_the_handlers() {
    let live = LiveCount::default();
    // Long handshake timeout: only shutdown can end the half-finished handshake below.
    // Long close timeout: shutdown's wait ends because the handlers do, not the timer.
    let config = quick_config()
        .handshake_timeout(Duration::from_secs(60))
        .stream(ws_stream::Config::default().close_timeout(Duration::from_secs(5)));
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    let counted = live.clone();
    server
        .on_connect("/ws", move |stream, path| {
            let _live = counted.enter();
            seed_echo(stream, path)
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();

    let mut first = connect(addr, "/ws");
    let mut second = connect(addr, "/ws");
    assert_eq!(round_trip(&mut first, "one"), "Echo: one");
    assert_eq!(round_trip(&mut second, "two"), "Echo: two");
    let mut half = tcp(addr);
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    wait_until("three connections are registered", || {
        handle.connections() == 3
    });
    assert_eq!(live.get(), 2);

    handle.shutdown();

    assert_eq!(live.get(), 0, "shutdown returned before the handlers did");
    assert_eq!(close_code(&mut first), 1001);
    assert_eq!(close_code(&mut second), 1001);
    let mut rest = Vec::new();
    assert_eq!(
        half.read_to_end(&mut rest).unwrap(),
        0,
        "the handshake is cut off"
    );
    match TcpStream::connect(addr) {
        Err(_) => {}
        Ok(mut late) => {
            late.set_read_timeout(Some(crate::support::STUCK)).unwrap();
            assert!(
                matches!(late.read(&mut [0; 1]), Ok(0) | Err(_)),
                "a late client is served"
            );
        }
    }
}

#[test]
fn shutdown_reaches_split_handlers_too() {
    let live = LiveCount::default();
    let config =
        quick_config().stream(ws_stream::Config::default().close_timeout(Duration::from_secs(5)));
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    let counted = live.clone();
    server
        .on_connect_split("/split", move |reader, writer, _path| {
            let _live = counted.enter();
            while let Ok(message) = reader.read_message() {
                writer.send(&message)?;
            }
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let mut client = connect(handle.local_addr(), "/split");
    client.send(tungstenite::Message::text("hi")).unwrap();
    assert_eq!(crate::support::next_text(&mut client), "hi");

    handle.shutdown();

    assert_eq!(live.get(), 0);
    assert_eq!(close_code(&mut client), 1001);
}

#[test]
fn dropping_the_handle_shuts_the_server_down() {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    let handle = server.spawn().unwrap();
    let mut client = connect(handle.local_addr(), "/ws");
    assert_eq!(round_trip(&mut client, "bye"), "Echo: bye");
    drop(handle);
    assert_eq!(close_code(&mut client), 1001);
}

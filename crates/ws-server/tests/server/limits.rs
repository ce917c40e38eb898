//! Limits against abuse: the connection cap and the handshake deadline.

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{
    STUCK, assert_echoes, connect, echo_server, quick_config, raw_exchange, refusal, request,
    round_trip, tcp, upgrade_head, wait_until,
};

#[test]
fn beyond_max_connections_clients_get_503_and_are_closed() {
    let handle = echo_server(quick_config().max_connections(2));
    let addr = handle.local_addr();
    let mut first = connect(addr, "/ws");
    let mut second = connect(addr, "/ws");
    assert_eq!(round_trip(&mut first, "1"), "Echo: 1");
    assert_eq!(round_trip(&mut second, "2"), "Echo: 2");

    // Regression: the 503 was followed by a reset, not the end of the stream, when the
    // request had arrived before the server closed (`read_response` accepts only an end).
    let busy = raw_exchange(addr, &upgrade_head("/ws", ""));
    assert_eq!(busy.status, 503, "{}", busy.head);
    assert_eq!(busy.header("retry-after"), Some("1"));
    assert_eq!(refusal(addr, request(addr, "/ws")), 503);
    assert_eq!(handle.connections(), 2);

    first.close(None).unwrap();
    wait_until("the closed connection leaves", || handle.connections() < 2);
    assert_echoes(addr);
    assert_eq!(round_trip(&mut second, "3"), "Echo: 3");
}

#[test]
fn a_stalled_head_is_cut_off_at_the_handshake_timeout_while_others_are_served() {
    let handle = echo_server(quick_config().handshake_timeout(Duration::from_millis(500)));
    let addr = handle.local_addr();
    let mut stalled = tcp(addr);
    stalled
        .write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpg")
        .unwrap();
    assert_echoes(addr);
    let mut rest = Vec::new();
    assert_eq!(stalled.read_to_end(&mut rest).unwrap(), 0, "{rest:?}");
    wait_until("the stalled connection leaves", || {
        handle.connections() == 0
    });
}

#[test]
fn a_head_sent_a_byte_at_a_time_is_cut_off_at_the_deadline_not_per_read() {
    // Each byte arrives well within the timeout of a single read: only a deadline for
    // the whole handshake ends this connection.
    let handle = echo_server(quick_config().handshake_timeout(Duration::from_millis(500)));
    let addr = handle.local_addr();
    let mut slowloris = tcp(addr);
    slowloris
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    slowloris
        .write_all(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .unwrap();
    let give_up = Instant::now() + STUCK;
    loop {
        assert!(
            Instant::now() < give_up,
            "the drip-fed handshake was never cut off"
        );
        if slowloris.write_all(b"a").is_err() {
            break;
        }
        match slowloris.read(&mut [0; 1]) {
            Ok(0) => break,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(error) if error.kind() == io::ErrorKind::ConnectionReset => break,
            other => panic!("unexpected answer to a partial head: {other:?}"),
        }
    }
    assert_echoes(addr);
}

#[test]
fn a_client_that_sends_nothing_is_closed_at_the_handshake_timeout() {
    let handle = echo_server(quick_config().handshake_timeout(Duration::from_millis(200)));
    let mut silent = tcp(handle.local_addr());
    let mut answer = Vec::new();
    silent.read_to_end(&mut answer).unwrap();
    assert!(answer.is_empty(), "{answer:?}");
}

#[test]
fn without_a_write_timeout_no_handshake_timeout_is_left_on_the_socket() {
    // Regression: the handshake's write timeout stayed on the socket after the upgrade,
    // so with `write_timeout(None)` any send that waited longer than the handshake
    // timeout for a slow reader failed. The handler reports the socket's timeouts as it
    // starts, which is what decides whether a blocked send may fail; then a message
    // larger than loopback's socket buffers still arrives whole.
    let size = 32 << 20;
    let (timeouts, reported) = mpsc::channel();
    let mut server = ws_server::Server::new("127.0.0.1:0").with_config(
        quick_config()
            .handshake_timeout(Duration::from_millis(250))
            .write_timeout(None),
    );
    server
        .on_connect("/big", move |stream, _path| {
            let socket = stream.get_ref();
            timeouts
                .send((socket.write_timeout()?, socket.read_timeout()?))
                .ok();
            stream.send_binary(vec![7; size])?;
            stream.read_message()?;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let mut client = connect(handle.local_addr(), "/big");
    assert_eq!(reported.recv_timeout(STUCK).unwrap(), (None, None));
    match client.read().unwrap() {
        tungstenite::Message::Binary(data) => {
            assert_eq!(data.len(), size);
            assert!(data.iter().all(|&byte| byte == 7));
        }
        other => panic!("expected the large message, got {other:?}"),
    }
}

#[test]
fn a_configured_write_timeout_is_the_sockets_after_the_handshake() {
    let write_timeout = Duration::from_secs(7);
    let (timeouts, reported) = mpsc::channel();
    let mut server = ws_server::Server::new("127.0.0.1:0").with_config(
        quick_config()
            .handshake_timeout(Duration::from_millis(250))
            .write_timeout(Some(write_timeout)),
    );
    server
        .on_connect("/ws", move |stream, _path| {
            timeouts.send(stream.get_ref().write_timeout()?).ok();
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let _client = connect(handle.local_addr(), "/ws");
    assert_eq!(reported.recv_timeout(STUCK).unwrap(), Some(write_timeout));
}

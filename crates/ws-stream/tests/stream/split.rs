//! Split halves on two threads: the reader answers the peer's pings through the
//! writer's lock while another thread sends without pause.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use ws_stream::{CloseCode, Config, Error, Event, Message, Role, Stream};

use crate::support::*;

#[test]
fn pings_are_answered_while_the_writer_sends_continuously() {
    const MESSAGES: u32 = 3000;
    const PINGS: u32 = 200;
    let (mut client, server) = stream_pair(Config::default());
    let (mut reader, writer) = server.split().unwrap();

    // The server's writer thread streams numbered messages without pause.
    let sending = thread::spawn(move || {
        for i in 0..MESSAGES {
            writer.send_binary(i.to_be_bytes()).unwrap();
        }
        writer.send_text("end").unwrap();
        writer
    });
    // The server's reader thread only reads: it sees the client's messages, and
    // answers its pings by itself.
    let reading = thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            match reader.read_message() {
                Ok(message) => got.push(message),
                Err(error) => return (got, error),
            }
        }
    });

    // The client pings while reading the stream of messages, and sends too.
    let mut next = 0;
    let mut pongs = Vec::new();
    let mut pinged = 0;
    let mut ended = false;
    while !ended || pongs.len() < PINGS as usize {
        if pinged < PINGS {
            client.ping(pinged.to_be_bytes()).unwrap();
            client
                .send_text(format!("client message {pinged}"))
                .unwrap();
            pinged += 1;
        }
        match client.read_event().unwrap() {
            Event::Message(Message::Binary(bytes)) => {
                let i = u32::from_be_bytes(bytes.try_into().unwrap());
                assert_eq!(i, next, "in order, none lost or repeated");
                next += 1;
            }
            Event::Message(Message::Text(text)) => {
                assert_eq!(text, "end");
                ended = true;
            }
            Event::Pong(payload) => pongs.push(u32::from_be_bytes(payload.try_into().unwrap())),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(next, MESSAGES);
    let writer = sending.join().unwrap();
    client.close().unwrap();
    let (got, error) = reading.join().unwrap();
    assert!(error.is_closed(), "{error:?}");
    assert_eq!(got.len(), PINGS as usize);
    for (i, message) in got.iter().enumerate() {
        assert_eq!(message, &Message::text(format!("client message {i}")));
    }
    assert_eq!(
        pongs,
        (0..PINGS).collect::<Vec<_>>(),
        "each pong once, in order"
    );
    assert!(matches!(
        writer.send_text("late"),
        Err(Error::AlreadyClosed)
    ));
}

/// Every ping gets exactly its pong, even when the pings come while the writer is busy.
#[test]
fn every_ping_gets_its_pong_through_the_split_reader() {
    let (mut client, server) = stream_pair(Config::default());
    let (mut reader, writer) = server.split().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sending = {
        let stop = Arc::clone(&stop);
        let writer = writer.clone();
        thread::spawn(move || {
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                writer.send_binary(pattern(1000)).unwrap();
                sent += 1;
            }
            sent
        })
    };
    let reading = thread::spawn(move || reader.read_message());
    let mut pongs = Vec::new();
    for i in 0..100u8 {
        client.ping([i; 10]).unwrap();
        loop {
            match client.read_event().unwrap() {
                Event::Pong(payload) => {
                    pongs.push(payload);
                    break;
                }
                Event::Message(message) => assert_eq!(message.len(), 1000),
                other => panic!("{other:?}"),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let sent = sending.join().unwrap();
    assert!(sent > 0);
    let expected: Vec<_> = (0..100u8).map(|i| vec![i; 10]).collect();
    assert_eq!(pongs, expected);
    // Closing through a clone of the writer: the reader sees the client's answer.
    writer.close_with(CloseCode::GOING_AWAY, "bye").unwrap();
    assert!(writer.is_closed());
    let closing = loop {
        match client.read_event().unwrap() {
            Event::Close(frame) => break frame,
            Event::Message(_) => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(closing.code, CloseCode::GOING_AWAY);
    match reading.join().unwrap() {
        Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("{other:?}"),
    }
}

#[test]
fn split_keeps_bytes_already_read_and_keepalive() {
    let (client_socket, server_socket) = tcp_pair();
    server_socket.set_read_timeout(Some(STUCK)).unwrap();
    let config = Config::default().ping_interval(Some(Duration::from_millis(30)));
    // Two messages already read past the handshake: both sit in the buffer.
    let mut read_ahead = frame(TEXT, true, b"one", None);
    read_ahead.extend(frame(TEXT, true, b"two", None));
    let mut client: Stream<TcpStream> =
        Stream::from_upgrade(client_socket, Role::Client, config, &read_ahead);
    client.enable_socket_control();
    let mut server = Stream::with_role(server_socket, Role::Server);
    assert_eq!(client.read_message().unwrap(), Message::text("one"));
    let (mut reader, _writer) = client.split().unwrap();
    assert_eq!(reader.read_message().unwrap(), Message::text("two"));
    // The reader still pings an idle peer.
    let waiting = thread::spawn(move || reader.read_event());
    assert_eq!(server.read_event().unwrap(), Event::Ping(vec![]));
    assert_eq!(waiting.join().unwrap().unwrap(), Event::Pong(vec![]));
}

/// A writer blocked sending to a peer that is itself blocked sending to us (a
/// single-threaded peer, such as an unsplit `Stream`, does not read while it writes)
/// must not stop the reader: its pongs wait for the writer instead of the reader
/// waiting for the writer's lock. Before the replies were deferred, this deadlocked.
#[test]
fn pings_while_both_ends_send_large_messages() {
    let (client_socket, server_socket) = tcp_pair();
    let big = vec![7u8; 8 << 20];
    let (mut reader, writer) = Stream::with_role(server_socket, Role::Server)
        .split()
        .unwrap();
    let server_big = big.clone();
    thread::spawn(move || {
        for _ in 0..20 {
            if writer.send_binary(&server_big).is_err() {
                break;
            }
        }
    });
    thread::spawn(move || while reader.read_message().is_ok() {});
    let (progress, rounds) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut client = Stream::with_role(client_socket, Role::Client);
        for round in 0..5 {
            client.ping(b"are you there").unwrap();
            client.send_binary(&big).unwrap();
            while !matches!(client.read_event().unwrap(), Event::Message(_)) {}
            progress.send(round).unwrap();
        }
    });
    for round in 0..5 {
        assert_eq!(
            rounds.recv_timeout(Duration::from_secs(5)),
            Ok(round),
            "no progress for 5 s: deadlocked"
        );
    }
}

//! Pings and pongs: every ping is answered with its payload without the application's
//! help, unsolicited pongs are accepted, and our own pings and pongs go out right.

use std::thread;

use ws_stream::{Config, Error, Event, Message, Role};

use crate::support::*;

#[test]
fn every_ping_is_answered_with_its_payload() {
    for role in ROLES {
        let payloads: Vec<Vec<u8>> = vec![vec![], b"x".to_vec(), pattern(64), pattern(125)];
        let mut input = Vec::new();
        for payload in &payloads {
            input.extend(peer_frame(role, PING, true, payload));
        }
        input.extend(peer_frame(role, TEXT, true, b"after"));
        let mut stream = wire(role, input);
        assert_eq!(stream.read_message().unwrap(), Message::text("after"));
        let pongs = written(&stream);
        assert_eq!(pongs.len(), payloads.len());
        for (pong, payload) in pongs.iter().zip(&payloads) {
            assert_eq!((pong.opcode, pong.fin), (PONG, true));
            assert_eq!(&pong.payload, payload);
        }
    }
}

#[test]
fn unsolicited_pongs_are_accepted() {
    for role in ROLES {
        let mut input = peer_frame(role, PONG, true, b"heartbeat");
        input.extend(peer_frame(role, PONG, true, b""));
        input.extend(peer_frame(role, TEXT, true, b"still here"));
        input.extend(peer_frame(role, PONG, true, b"again"));
        let mut stream = wire(role, input);
        assert_eq!(
            stream.read_event().unwrap(),
            Event::Pong(b"heartbeat".to_vec())
        );
        assert_eq!(stream.read_message().unwrap(), Message::text("still here"));
        assert_eq!(stream.read_event().unwrap(), Event::Pong(b"again".to_vec()));
        assert!(written(&stream).is_empty(), "pongs are not answered");
    }
}

#[test]
fn our_pings_and_pongs_on_the_wire() {
    for role in ROLES {
        let mut stream = wire(role, Vec::new());
        stream.ping(b"are you there").unwrap();
        stream.pong(b"one-way").unwrap();
        stream.ping(pattern(125)).unwrap();
        let frames = written(&stream);
        let summary: Vec<_> = frames
            .iter()
            .map(|f| (f.opcode, f.fin, f.payload.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (PING, true, b"are you there".to_vec()),
                (PONG, true, b"one-way".to_vec()),
                (PING, true, pattern(125)),
            ]
        );
    }
}

#[test]
fn control_payloads_over_125_bytes_are_refused_without_harm() {
    let mut stream = wire(Role::Client, Vec::new());
    assert!(matches!(
        stream.ping(pattern(126)),
        Err(Error::InvalidSend(_))
    ));
    assert!(matches!(
        stream.pong(pattern(200)),
        Err(Error::InvalidSend(_))
    ));
    assert!(written(&stream).is_empty());
    stream.send_text("still open").unwrap();
    assert_eq!(written(&stream).len(), 1);
}

/// Over loopback: each side's pings come back as pongs while the other only reads.
#[test]
fn pings_round_trip_between_our_endpoints() {
    let (mut client, mut server) = stream_pair(Config::default());
    let peer = thread::spawn(move || {
        // Only reads; the pongs go out by themselves.
        assert_eq!(server.read_message().unwrap(), Message::text("done"));
        server.ping(b"from server").unwrap();
        server
    });
    for i in 0..100u32 {
        client.ping(i.to_be_bytes()).unwrap();
        assert_eq!(
            client.read_event().unwrap(),
            Event::Pong(i.to_be_bytes().to_vec())
        );
    }
    client.send_text("done").unwrap();
    assert_eq!(
        client.read_event().unwrap(),
        Event::Ping(b"from server".to_vec())
    );
    let mut server = peer.join().unwrap();
    assert_eq!(
        server.read_event().unwrap(),
        Event::Pong(b"from server".to_vec())
    );
}

//! Receiving: single frames, reassembly of fragments with control frames between them,
//! the fragmentation and masking rules, and abrupt ends of stream.

use std::thread;

use ws_stream::{CloseCode, Error, Event, Message, Role, Stream};

use crate::support::*;

#[test]
fn single_frame_messages_in_both_roles() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, true, b"Hello");
        input.extend(peer_frame(role, BINARY, true, &[0, 1, 2, 255]));
        input.extend(peer_frame(role, TEXT, true, b""));
        input.extend(peer_frame(role, BINARY, true, b""));
        let mut stream = wire(role, input);
        assert_eq!(stream.read_message().unwrap(), Message::text("Hello"));
        assert_eq!(
            stream.read_message().unwrap(),
            Message::binary(vec![0, 1, 2, 255])
        );
        assert_eq!(stream.read_message().unwrap(), Message::text(""));
        assert_eq!(stream.read_message().unwrap(), Message::binary(vec![]));
        assert!(written(&stream).is_empty(), "nothing to answer");
    }
}

#[test]
fn rfc6455_section_5_7_examples() {
    // A single-frame unmasked text message, as a client reads it.
    let mut client = wire(Role::Client, vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(client.read_message().unwrap(), Message::text("Hello"));
    // A single-frame masked text message, as a server reads it.
    let mut server = wire(
        Role::Server,
        vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    );
    assert_eq!(server.read_message().unwrap(), Message::text("Hello"));
    // A fragmented unmasked text message.
    let mut client = wire(
        Role::Client,
        vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    );
    assert_eq!(client.read_message().unwrap(), Message::text("Hello"));
    // An unmasked ping, answered by a masked pong with the same body.
    let mut client = wire(Role::Client, vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(client.read_event().unwrap(), Event::Ping(b"Hello".to_vec()));
    let pong = &written(&client)[0];
    assert_eq!((pong.opcode, &pong.payload[..]), (PONG, &b"Hello"[..]));
    // The same the other way: a masked ping, and the unmasked pong exactly.
    let mut server = wire(Role::Server, frame(PING, true, b"Hello", Some(KEY)));
    assert_eq!(server.read_event().unwrap(), Event::Ping(b"Hello".to_vec()));
    assert_eq!(
        server.get_ref().output,
        [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    // 256 bytes and 64 KiB of binary data in a single unmasked frame.
    for (len, header) in [
        (256, vec![0x82, 0x7E, 0x01, 0x00]),
        (65536, vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]),
    ] {
        let payload = pattern(len);
        let mut input = header;
        input.extend_from_slice(&payload);
        let mut client = wire(Role::Client, input);
        assert_eq!(client.read_message().unwrap(), Message::binary(payload));
    }
}

#[test]
fn reassembles_fragments() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, false, b"one ");
        input.extend(peer_frame(role, CONT, false, b"two "));
        input.extend(peer_frame(role, CONT, true, b"three"));
        input.extend(peer_frame(role, BINARY, false, &[1, 2]));
        input.extend(peer_frame(role, CONT, true, &[3]));
        let mut stream = wire(role, input);
        assert_eq!(
            stream.read_message().unwrap(),
            Message::text("one two three")
        );
        assert_eq!(
            stream.read_message().unwrap(),
            Message::binary(vec![1, 2, 3])
        );
    }
}

#[test]
fn control_frames_between_fragments_are_handled_at_once() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, false, b"Hel");
        input.extend(peer_frame(role, PING, true, b"p1"));
        input.extend(peer_frame(role, PONG, true, b"unsolicited"));
        input.extend(peer_frame(role, CONT, false, b""));
        input.extend(peer_frame(role, PING, true, b"p2"));
        input.extend(peer_frame(role, CONT, true, b"lo"));
        let mut stream = wire(role, input);
        assert_eq!(stream.read_event().unwrap(), Event::Ping(b"p1".to_vec()));
        assert_eq!(
            stream.read_event().unwrap(),
            Event::Pong(b"unsolicited".to_vec())
        );
        assert_eq!(stream.read_event().unwrap(), Event::Ping(b"p2".to_vec()));
        assert_eq!(
            stream.read_event().unwrap(),
            Event::Message(Message::text("Hello"))
        );
        let replies = written(&stream);
        let pongs: Vec<_> = replies.iter().map(|f| (f.opcode, &f.payload[..])).collect();
        assert_eq!(pongs, [(PONG, &b"p1"[..]), (PONG, &b"p2"[..])]);
    }
}

/// The pong goes out while the message is still open: the peer only sends the last
/// fragment once it has its pong, which would deadlock if pongs waited for messages.
#[test]
fn ping_between_fragments_is_answered_before_the_message_completes() {
    for role in ROLES {
        let (ours, mut peer) = pipe();
        let mut stream = Stream::with_role(ours, role);
        let reader = thread::spawn(move || stream.read_message());
        peer.write_all_frames(&[
            peer_frame(role, TEXT, false, b"waiting for "),
            peer_frame(role, PING, true, b"are you there"),
        ]);
        let pong = read_frame(&mut peer, &mut Vec::new()).expect("a pong before the end");
        assert_eq!(
            (pong.opcode, &pong.payload[..]),
            (PONG, &b"are you there"[..])
        );
        peer.write_all_frames(&[peer_frame(role, CONT, true, b"the pong")]);
        let message = reader.join().unwrap().unwrap();
        assert_eq!(message, Message::text("waiting for the pong"));
    }
}

trait WriteFrames {
    fn write_all_frames(&mut self, frames: &[Vec<u8>]);
}

impl<W: std::io::Write> WriteFrames for W {
    fn write_all_frames(&mut self, frames: &[Vec<u8>]) {
        for frame in frames {
            self.write_all(frame).unwrap();
        }
    }
}

#[test]
fn read_message_answers_pings_and_skips_pongs() {
    let role = Role::Server;
    let mut input = peer_frame(role, PING, true, b"a");
    input.extend(peer_frame(role, PONG, true, b"b"));
    input.extend(peer_frame(role, PING, true, b""));
    input.extend(peer_frame(role, TEXT, true, b"msg"));
    let mut stream = wire(role, input);
    assert_eq!(stream.read_message().unwrap(), Message::text("msg"));
    let pongs: Vec<_> = written(&stream)
        .into_iter()
        .map(|f| (f.opcode, f.payload))
        .collect();
    assert_eq!(pongs, [(PONG, b"a".to_vec()), (PONG, vec![])]);
}

/// Checks that reading `input` fails with `expected`, that the Close written carries
/// `code`, and that the connection is over afterwards.
fn assert_fails(role: Role, input: Vec<u8>, code: u16, expected: fn(&Error) -> bool) {
    let mut stream = wire(role, input);
    let error = loop {
        match stream.read_message() {
            Ok(_) => {}
            Err(error) => break error,
        }
    };
    assert!(expected(&error), "{role:?}: unexpected error {error:?}");
    assert_eq!(
        error.close_code().map(|code| code.as_u16()),
        Some(code),
        "{error:?}"
    );
    let frames = written(&stream);
    let close = frames.last().expect("a Close was written");
    assert_eq!(close.close_code(), Some(code), "{role:?}: {frames:?}");
    assert_eq!(
        stream.close_frame().map(|frame| frame.code.as_u16()),
        Some(code)
    );
    assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
    assert!(matches!(stream.send_text("x"), Err(Error::AlreadyClosed)));
    assert_eq!(
        written(&stream).len(),
        frames.len(),
        "nothing more is sent after the Close"
    );
}

#[test]
fn continuation_without_a_message_is_a_protocol_error() {
    for role in ROLES {
        assert_fails(role, peer_frame(role, CONT, true, b"x"), 1002, |e| {
            matches!(e, Error::UnexpectedContinuation)
        });
        // Also right after a whole message.
        let mut input = peer_frame(role, TEXT, true, b"done");
        input.extend(peer_frame(role, CONT, false, b"x"));
        assert_fails(role, input, 1002, |e| {
            matches!(e, Error::UnexpectedContinuation)
        });
    }
}

#[test]
fn new_data_frame_while_a_message_is_open_is_a_protocol_error() {
    for role in ROLES {
        for (first, second) in [
            (TEXT, TEXT),
            (TEXT, BINARY),
            (BINARY, TEXT),
            (BINARY, BINARY),
        ] {
            let mut input = peer_frame(role, first, false, b"a");
            input.extend(peer_frame(role, second, true, b"b"));
            assert_fails(role, input, 1002, |e| matches!(e, Error::UnfinishedMessage));
        }
    }
}

#[test]
fn client_rejects_masked_frames_and_server_unmasked_ones() {
    let masked = frame(TEXT, true, b"hi", Some(KEY));
    assert_fails(Role::Client, masked, 1002, |e| {
        matches!(e, Error::Frame(ws_frame::Error::MaskedFrame))
    });
    let unmasked = frame(TEXT, true, b"hi", None);
    assert_fails(Role::Server, unmasked, 1002, |e| {
        matches!(e, Error::Frame(ws_frame::Error::UnmaskedFrame))
    });
    // Control frames too, and a continuation of a properly masked message.
    assert_fails(Role::Server, frame(PING, true, b"", None), 1002, |e| {
        matches!(e, Error::Frame(ws_frame::Error::UnmaskedFrame))
    });
    let mut input = frame(TEXT, false, b"a", Some(KEY));
    input.extend(frame(CONT, true, b"b", None));
    assert_fails(Role::Server, input, 1002, |e| {
        matches!(e, Error::Frame(ws_frame::Error::UnmaskedFrame))
    });
}

#[test]
fn codec_violations_are_protocol_errors() {
    for role in ROLES {
        let mut reserved_opcode = peer_frame(role, BINARY, true, b"x");
        reserved_opcode[0] = 0x83;
        let mut rsv = peer_frame(role, TEXT, true, b"x");
        rsv[0] |= 0x40;
        let fragmented_ping = peer_frame(role, PING, false, b"x");
        let long_ping = peer_frame(role, PING, true, &[0; 126]);
        let close_one_byte = peer_frame(role, CLOSE, true, &[3]);
        for input in [
            reserved_opcode,
            rsv,
            fragmented_ping,
            long_ping,
            close_one_byte,
        ] {
            assert_fails(role, input, 1002, |e| matches!(e, Error::Frame(_)));
        }
    }
}

#[test]
fn control_frame_of_125_bytes_is_fine() {
    for role in ROLES {
        let payload = pattern(125);
        let mut stream = wire(role, peer_frame(role, PING, true, &payload));
        assert_eq!(stream.read_event().unwrap(), Event::Ping(payload.clone()));
        assert_eq!(written(&stream)[0].payload, payload);
    }
}

/// Splits `message` into `fragments` frames (some empty), with a ping after every
/// `ping_every`-th fragment, and checks it arrives whole with every ping answered.
fn check_fragmented(role: Role, message: &Message, fragments: usize, ping_every: usize) {
    let bytes = message.as_bytes();
    let opcode = if message.is_text() { TEXT } else { BINARY };
    let mut input = Vec::new();
    let mut pings = Vec::new();
    let mut offset = 0;
    for i in 0..fragments {
        // Spread the bytes unevenly; the first, the last and every third are empty.
        let empty = i == 0 || i + 1 == fragments || i % 3 == 2;
        let end = if i + 1 == fragments {
            bytes.len()
        } else if empty {
            offset
        } else {
            (offset + 1 + (i * 7) % 13).min(bytes.len())
        };
        let piece = &bytes[offset..end];
        offset = end;
        let op = if i == 0 { opcode } else { CONT };
        input.extend(peer_frame(role, op, i + 1 == fragments, piece));
        if ping_every > 0 && i % ping_every == 0 && i + 1 < fragments {
            let payload = (i as u32).to_be_bytes().to_vec();
            input.extend(peer_frame(role, PING, true, &payload));
            pings.push(payload);
        }
    }
    input.extend(peer_frame(role, TEXT, true, b"next"));
    let mut stream = wire(role, input);
    assert_eq!(
        &stream.read_message().unwrap(),
        message,
        "{fragments} fragments"
    );
    assert_eq!(stream.read_message().unwrap(), Message::text("next"));
    let pongs: Vec<_> = written(&stream).into_iter().map(|f| f.payload).collect();
    assert_eq!(pongs, pings);
}

#[test]
fn one_to_a_thousand_fragments_with_control_frames_between() {
    let text = Message::text("fragmented – κόσμε – 🎉 ".repeat(40));
    let binary = Message::binary(pattern(3000));
    for role in ROLES {
        for fragments in [1, 2, 3, 4, 5, 10, 64, 100, 333, 1000] {
            for ping_every in [0, 1, 7] {
                check_fragmented(role, &text, fragments, ping_every);
                check_fragmented(role, &binary, fragments, ping_every);
            }
        }
    }
}

#[test]
fn zero_length_fragments_only() {
    for role in ROLES {
        for fragments in [1, 2, 3, 50] {
            check_fragmented(role, &Message::text(""), fragments, 1);
            check_fragmented(role, &Message::binary(vec![]), fragments, 0);
        }
    }
}

#[test]
fn large_messages_pass_through_the_small_read_buffer() {
    for role in ROLES {
        let payload = pattern(3 << 20);
        let mut input = peer_frame(role, BINARY, true, &payload);
        input.extend(peer_frame(role, BINARY, false, &payload[..1 << 20]));
        input.extend(peer_frame(role, PING, true, b"mid"));
        input.extend(peer_frame(role, CONT, true, &payload[1 << 20..]));
        let mut stream = wire(role, input);
        assert_eq!(stream.read_message().unwrap().as_bytes(), &payload[..]);
        assert_eq!(stream.read_message().unwrap().as_bytes(), &payload[..]);
        assert_eq!(written(&stream)[0].payload, b"mid");
    }
}

#[test]
fn abrupt_end_mid_frame_or_mid_message_is_closed_1006() {
    for role in ROLES {
        let mut whole = peer_frame(role, TEXT, false, "fragment one, ".as_bytes());
        whole.extend(peer_frame(role, PING, true, b"ping"));
        whole.extend(peer_frame(role, CONT, true, "and twö".as_bytes()));
        let full_len = whole.len();
        // Every prefix ends in a header, a payload or between frames: never a panic.
        for cut in 0..full_len {
            let mut stream = wire(role, whole[..cut].to_vec());
            let error = loop {
                match stream.read_event() {
                    Ok(Event::Ping(_)) => {}
                    Ok(other) => panic!("cut at {cut}: unexpected {other:?}"),
                    Err(error) => break error,
                }
            };
            match error {
                Error::Closed(frame) => assert_eq!(frame.code, CloseCode::ABNORMAL, "cut {cut}"),
                other => panic!("cut at {cut}: {other:?}"),
            }
            assert_eq!(
                stream.close_frame().map(|frame| frame.code),
                Some(CloseCode::ABNORMAL)
            );
            assert!(
                written(&stream).iter().all(|frame| frame.opcode == PONG),
                "no Close is sent into a stream that ended"
            );
            assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
        }
    }
}

#[test]
fn end_of_stream_between_messages_is_closed_1006_too() {
    let mut stream = wire(Role::Client, peer_frame(Role::Client, TEXT, true, b"last"));
    assert_eq!(stream.read_message().unwrap(), Message::text("last"));
    match stream.read_message() {
        Err(Error::Closed(frame)) => {
            assert_eq!(frame.code, CloseCode::ABNORMAL);
            assert!(!frame.is_normal());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bytes_after_the_upgrade_are_read_first() {
    let role = Role::Server;
    let mut ahead = peer_frame(role, TEXT, true, b"early");
    ahead.extend(peer_frame(role, TEXT, false, b"spl"));
    let rest = peer_frame(role, CONT, true, b"it");
    let mut stream =
        Stream::from_upgrade(Wire::new(rest), role, ws_stream::Config::default(), &ahead);
    assert_eq!(stream.read_message().unwrap(), Message::text("early"));
    assert_eq!(stream.read_message().unwrap(), Message::text("split"));
}

#[test]
fn messages_over_loopback_both_ways() {
    let (mut client, mut server) = stream_pair(ws_stream::Config::default());
    let sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20];
    let echo = thread::spawn(move || {
        for _ in 0..sizes.len() * 2 {
            let message = server.read_message().unwrap();
            server.send(&message).unwrap();
        }
        server.read_message()
    });
    for len in sizes {
        let binary = Message::binary(pattern(len));
        client.send(&binary).unwrap();
        assert_eq!(client.read_message().unwrap(), binary);
        let text = Message::text("é".repeat(len / 2));
        client.send(&text).unwrap();
        assert_eq!(client.read_message().unwrap(), text);
    }
    client.close().unwrap();
    assert!(echo.join().unwrap().unwrap_err().is_closed());
    assert_eq!(
        client.close_frame().map(|frame| frame.code),
        Some(CloseCode::NORMAL)
    );
}

//! Sending: frames on the wire, fragmentation at `max_send_frame_size`, messages
//! written in pieces with a `MessageWriter`, prepared messages, and reading messages in
//! pieces with a `MessageReader`.

use std::io::{Read, Write};
use std::thread;

use ws_stream::{Config, Error, Event, Message, MessageKind, PreparedMessage, Role, Stream};

use crate::support::*;

#[test]
fn server_frames_are_exact_bytes() {
    let mut server = wire(Role::Server, Vec::new());
    server.send_text("Hello").unwrap();
    server.send_binary([1, 2]).unwrap();
    server.send(&Message::text("")).unwrap();
    assert_eq!(
        server.get_ref().output,
        [
            0x81, 5, b'H', b'e', b'l', b'l', b'o', 0x82, 2, 1, 2, 0x81, 0
        ]
    );
}

#[test]
fn lengths_use_the_right_encoding() {
    for role in ROLES {
        for len in [0, 125, 126, 127, 65535, 65536, 100_000] {
            let mut stream = wire(role, Vec::new());
            let payload = pattern(len);
            stream.send_binary(&payload).unwrap();
            let bytes = &stream.get_ref().output;
            let mask_len = if role == Role::Client { 4 } else { 0 };
            let header_len = match len {
                0..=125 => 2,
                126..=65535 => 4,
                _ => 10,
            } + mask_len;
            assert_eq!(bytes.len(), header_len + len, "{role:?} {len}");
            let frames = written(&stream);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].payload, payload);
        }
    }
}

#[test]
fn client_mask_keys_vary() {
    let mut client = wire(Role::Client, Vec::new());
    for _ in 0..100 {
        client.send_binary([0; 4]).unwrap();
    }
    // Masked zeros are the keys themselves.
    let bytes = &client.get_ref().output;
    let keys: std::collections::HashSet<_> = bytes.chunks(10).map(|f| f[2..6].to_vec()).collect();
    assert!(
        keys.len() > 90,
        "only {} distinct keys in 100 frames",
        keys.len()
    );
}

/// Messages over the limit go out as fragments: first frame with the data opcode and
/// FIN clear, continuations, FIN on the last; never an empty trailing frame.
#[test]
fn messages_over_max_send_frame_size_are_fragmented() {
    for role in ROLES {
        for (len, expected) in [
            (0, vec![0]),
            (9, vec![9]),
            (10, vec![10]),
            (11, vec![10, 1]),
            (20, vec![10, 10]),
            (25, vec![10, 10, 5]),
        ] {
            for (kind, opcode) in [(MessageKind::Text, TEXT), (MessageKind::Binary, BINARY)] {
                let config = Config::default().max_send_frame_size(10);
                let mut stream = wire_with(role, config, Vec::new());
                let payload = "a".repeat(len);
                match kind {
                    MessageKind::Text => stream.send_text(&payload).unwrap(),
                    MessageKind::Binary => stream.send_binary(&payload).unwrap(),
                }
                let frames = written(&stream);
                let lens: Vec<_> = frames.iter().map(|f| f.payload.len()).collect();
                assert_eq!(lens, expected, "{role:?} {len}");
                for (i, frame) in frames.iter().enumerate() {
                    let first = if i == 0 { opcode } else { CONT };
                    assert_eq!(frame.opcode, first, "{role:?} {len} frame {i}");
                    assert_eq!(frame.fin, i + 1 == frames.len(), "{role:?} {len} frame {i}");
                }
                let joined: Vec<u8> = frames.into_iter().flat_map(|f| f.payload).collect();
                assert_eq!(joined, payload.as_bytes());
            }
        }
    }
}

#[test]
fn default_fragmentation_is_one_mebibyte() {
    let mut stream = wire(Role::Server, Vec::new());
    stream.send_binary(pattern((5 << 20) / 2)).unwrap();
    let lens: Vec<_> = written(&stream).iter().map(|f| f.payload.len()).collect();
    assert_eq!(lens, [1 << 20, 1 << 20, 1 << 19]);
}

#[test]
fn fragmented_sends_arrive_whole_at_our_peer() {
    let config = Config::default().max_send_frame_size(7);
    let (mut client, mut server) = pipe_pair(config);
    let text = "fragmented – κόσμε – 🎉".repeat(10);
    client.send_text(&text).unwrap();
    client.send_binary(pattern(1000)).unwrap();
    assert_eq!(server.read_message().unwrap(), Message::text(text.clone()));
    assert_eq!(
        server.read_message().unwrap(),
        Message::binary(pattern(1000))
    );
    server.send_text(&text).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text(text));
}

#[test]
fn message_writer_sends_one_message_in_pieces() {
    for role in ROLES {
        let mut stream = wire(role, Vec::new());
        let mut writer = stream.message_writer(MessageKind::Text).unwrap();
        writer.write_all("first ".as_bytes()).unwrap();
        writer.flush().unwrap();
        writer.write_all("sécond ".as_bytes()).unwrap();
        writer.flush().unwrap();
        writer.write_all("third".as_bytes()).unwrap();
        writer.finish().unwrap();
        stream.send_text("after").unwrap();
        let frames = written(&stream);
        let summary: Vec<_> = frames
            .iter()
            .map(|f| {
                (
                    f.opcode,
                    f.fin,
                    String::from_utf8(f.payload.clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (TEXT, false, "first ".to_owned()),
                (CONT, false, "sécond ".to_owned()),
                (CONT, true, "third".to_owned()),
                (TEXT, true, "after".to_owned()),
            ]
        );
    }
}

#[test]
fn message_writer_frames_respect_max_send_frame_size() {
    for role in ROLES {
        for max in [10, 1000, 1 << 20] {
            let config = Config::default().max_send_frame_size(max);
            let mut stream = wire_with(role, config, Vec::new());
            let payload = pattern(300_000);
            let mut writer = stream.message_writer(MessageKind::Binary).unwrap();
            // One large write, then several small ones.
            writer.write_all(&payload[..200_000]).unwrap();
            for piece in payload[200_000..].chunks(777) {
                writer.write_all(piece).unwrap();
            }
            writer.finish().unwrap();
            let frames = written(&stream);
            let largest = max.min(64 << 10);
            for (i, frame) in frames.iter().enumerate() {
                assert!(
                    frame.payload.len() <= largest,
                    "{role:?} max {max}: frame {i} has {} bytes",
                    frame.payload.len()
                );
                assert_eq!(frame.opcode, if i == 0 { BINARY } else { CONT });
                assert_eq!(frame.fin, i + 1 == frames.len());
            }
            let joined: Vec<u8> = frames.into_iter().flat_map(|f| f.payload).collect();
            assert_eq!(joined, payload);
        }
    }
}

#[test]
fn message_writer_rejects_invalid_text_and_keeps_the_valid_part() {
    let mut stream = wire(Role::Server, Vec::new());
    let mut writer = stream.message_writer(MessageKind::Text).unwrap();
    // A sequence split across writes is fine.
    writer.write_all(b"caf\xc3").unwrap();
    writer.write_all(b"\xa9 ").unwrap();
    let error = writer.write(b"\xff").unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    writer.write_all(b"ok").unwrap();
    writer.finish().unwrap();
    let joined: Vec<u8> = written(&stream)
        .into_iter()
        .flat_map(|f| f.payload)
        .collect();
    assert_eq!(joined, "café ok".as_bytes());

    let mut stream = wire(Role::Server, Vec::new());
    let mut writer = stream.message_writer(MessageKind::Text).unwrap();
    writer.write_all(b"cut \xe2\x82").unwrap();
    assert!(
        writer.finish().is_err(),
        "text may not end inside a sequence"
    );
}

#[test]
fn dropping_a_message_writer_finishes_the_message() {
    let mut stream = wire(Role::Client, Vec::new());
    {
        let mut writer = stream.message_writer(MessageKind::Binary).unwrap();
        writer.write_all(&[1, 2, 3]).unwrap();
    }
    stream.send_binary([4]).unwrap();
    let frames: Vec<_> = written(&stream)
        .into_iter()
        .map(|f| (f.opcode, f.fin, f.payload))
        .collect();
    assert_eq!(
        frames,
        [(BINARY, true, vec![1, 2, 3]), (BINARY, true, vec![4])]
    );
}

#[test]
fn message_writer_over_loopback_with_pings_from_the_peer() {
    let (mut client, mut server) = pipe_pair(Config::default());
    let payload = pattern(1 << 20);
    let expected = payload.clone();
    let reader = thread::spawn(move || {
        let mut events = Vec::new();
        loop {
            match server.read_event().unwrap() {
                Event::Message(message) => return (message, events),
                other => events.push(other),
            }
        }
    });
    let mut writer = client.message_writer(MessageKind::Binary).unwrap();
    for piece in payload.chunks(10_000) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap();
    let (message, events) = reader.join().unwrap();
    assert_eq!(message, Message::binary(expected));
    assert!(events.is_empty());
}

#[test]
fn prepared_messages_are_the_same_frames() {
    let message = Message::text("to everyone");
    let prepared = PreparedMessage::new(&message);
    assert_eq!(prepared.message(), &message);
    let mut server = wire(Role::Server, Vec::new());
    server.send_prepared(&prepared).unwrap();
    server.send_prepared(&prepared).unwrap();
    assert_eq!(server.get_ref().output, prepared.frames().repeat(2));
    // A client masks them like any message.
    let mut client = wire(Role::Client, Vec::new());
    client.send_prepared(&prepared).unwrap();
    let frames = written(&client);
    assert_eq!(frames[0].payload, b"to everyone");
    // Large prepared messages are fragmented as by default.
    let big = PreparedMessage::new(&Message::binary(pattern(3 << 20)));
    let mut server = wire(Role::Server, Vec::new());
    server.send_prepared(&big).unwrap();
    assert_eq!(written(&server).len(), 3);
}

#[test]
fn message_reader_reads_pieces_then_ends() {
    for role in ROLES {
        let payload = pattern(100_000);
        let mut input = peer_frame(role, BINARY, false, &payload[..40_000]);
        input.extend(peer_frame(role, PING, true, b"between"));
        input.extend(peer_frame(role, CONT, false, b""));
        input.extend(peer_frame(role, CONT, true, &payload[40_000..]));
        input.extend(peer_frame(role, TEXT, true, b"next"));
        let mut stream = wire(role, input);
        let mut reader = stream.message_reader().unwrap();
        assert_eq!(reader.kind(), MessageKind::Binary);
        let mut out = Vec::new();
        let mut buf = [0; 3000];
        let mut largest = 0;
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            largest = largest.max(n);
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(reader.read(&mut buf).unwrap(), 0, "ended stays ended");
        drop(reader);
        assert_eq!(out, payload);
        assert!(largest <= buf.len());
        assert_eq!(written(&stream)[0].payload, b"between");
        assert_eq!(stream.read_message().unwrap(), Message::text("next"));
    }
}

#[test]
fn message_reader_of_an_empty_message() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, true, b"");
        input.extend(peer_frame(role, BINARY, false, b""));
        input.extend(peer_frame(role, CONT, true, b""));
        input.extend(peer_frame(role, TEXT, true, b"next"));
        let mut stream = wire(role, input);
        for kind in [MessageKind::Text, MessageKind::Binary] {
            let mut reader = stream.message_reader().unwrap();
            assert_eq!(reader.kind(), kind);
            let mut out = Vec::new();
            assert_eq!(reader.read_to_end(&mut out).unwrap(), 0);
        }
        assert_eq!(stream.read_message().unwrap(), Message::text("next"));
    }
}

#[test]
fn dropping_a_message_reader_early_skips_the_rest() {
    for role in ROLES {
        for read_first in [0, 1, 5000] {
            let payload = pattern(50_000);
            let mut input = peer_frame(role, BINARY, false, &payload[..20_000]);
            input.extend(peer_frame(role, PING, true, b"in the skipped part"));
            input.extend(peer_frame(role, CONT, true, &payload[20_000..]));
            input.extend(peer_frame(role, TEXT, true, b"next"));
            let mut stream = wire(role, input);
            let mut reader = stream.message_reader().unwrap();
            let mut buf = vec![0; read_first];
            reader.read_exact(&mut buf).unwrap();
            assert_eq!(buf, payload[..read_first]);
            drop(reader);
            assert_eq!(stream.read_message().unwrap(), Message::text("next"));
            assert_eq!(written(&stream)[0].payload, b"in the skipped part");
        }
    }
}

#[test]
fn message_reader_reports_the_peer_close() {
    let role = Role::Client;
    let mut input = peer_frame(role, BINARY, false, b"part");
    input.extend(peer_frame(role, CLOSE, true, &close_payload(1001, b"")));
    let mut stream = wire(role, input);
    let mut reader = stream.message_reader().unwrap();
    let mut out = Vec::new();
    let error = reader.read_to_end(&mut out).unwrap_err();
    assert_eq!(out, b"part");
    let inner = error.into_inner().unwrap();
    assert!(matches!(
        inner.downcast_ref::<Error>(),
        Some(Error::Closed(frame)) if frame.code.as_u16() == 1001
    ));
    drop(reader);
    assert!(matches!(stream.message_reader(), Err(Error::AlreadyClosed)));
    assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
}

/// After a reader is dropped early, the next message can be read with a reader too,
/// even though the rest of the skipped message has not been read yet.
#[test]
fn a_new_message_reader_skips_what_the_dropped_one_left() {
    for role in ROLES {
        let payload = pattern(50_000);
        let mut input = peer_frame(role, TEXT, false, &[b'a'; 20_000]);
        input.extend(peer_frame(role, CONT, true, &[b'b'; 20_000]));
        input.extend(peer_frame(role, BINARY, true, &payload));
        let mut stream = wire(role, input);
        let mut reader = stream.message_reader().unwrap();
        let mut first = [0; 10];
        reader.read_exact(&mut first).unwrap();
        drop(reader);
        let mut reader = stream.message_reader().unwrap();
        assert_eq!(reader.kind(), MessageKind::Binary);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, payload);
    }
}

/// A message reader between two of our endpoints, with data flowing in both directions.
#[test]
fn message_reader_over_a_pipe_between_our_endpoints() {
    let (mut client, mut server) = pipe_pair(Config::default().max_message_size(1 << 10));
    let payload = pattern(2 << 20);
    let expected = payload.clone();
    let sender = thread::spawn(move || {
        client.send_binary(&payload).unwrap();
        client.send_text("small").unwrap();
        client
    });
    let mut reader = server.message_reader().unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    drop(reader);
    assert_eq!(out, expected);
    assert_eq!(server.read_message().unwrap(), Message::text("small"));
    let _client: Stream<PipeEnd> = sender.join().unwrap();
}

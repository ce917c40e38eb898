//! Large payloads read straight into their message, and message buffers recycled:
//! the receiving side's two savings on the echo path, checked through the public
//! `proto::Receiver` API a driver uses.

use ws_stream::proto::{Incoming, Receiver, Reply};
use ws_stream::{CloseCode, Config, Error, Message, Role};

use crate::support::{BINARY, TEXT, frame, pattern, peer_frame};

/// Feeds `wire` to `receiver` as a driver does, in reads no larger than the room
/// offered and cut to the sizes `cuts` cycles through; answers the messages, the
/// largest room offered and the number of reads.
fn drive(receiver: &mut Receiver, wire: &[u8], cuts: &[usize]) -> (Vec<Message>, usize, usize) {
    let mut messages = Vec::new();
    let (mut at, mut largest, mut reads) = (0, 0, 0);
    while at < wire.len() {
        let room = receiver.buffer_mut();
        largest = largest.max(room.len());
        let n = room
            .len()
            .min(wire.len() - at)
            .min(cuts[reads % cuts.len()]);
        room[..n].copy_from_slice(&wire[at..at + n]);
        receiver.filled(n);
        at += n;
        reads += 1;
        while let Some(event) = receiver.poll().unwrap() {
            match event {
                Incoming::Message(message) => messages.push(message),
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    (messages, largest, reads)
}

#[test]
fn a_large_masked_text_is_read_in_place_and_arrives_intact() {
    // Multi-byte characters, so that reads end inside sequences and at every mask
    // offset; then a small message after it, in the same reads.
    let text = "héllo wörld, ½ € 𝄞 ".repeat(12_000);
    let mut wire = peer_frame(Role::Server, TEXT, true, text.as_bytes());
    wire.extend(peer_frame(Role::Server, BINARY, true, b"after"));
    let mut receiver = Receiver::new(Role::Server, &Config::default());
    let (messages, largest, reads) = drive(&mut receiver, &wire, &[1 << 30, 7_001, 3, 65_537]);
    assert_eq!(
        messages,
        vec![Message::text(text.clone()), Message::binary(&b"after"[..])]
    );
    // The payload went into the message in reads as large as it allowed, not
    // through the read buffer, which stayed small (it doubles once, after the
    // first read filled it).
    assert!(largest >= 64 << 10, "largest room offered: {largest} B");
    assert!(
        reads < text.len() / 4096,
        "{reads} reads for {} B",
        text.len()
    );
    assert!(
        receiver.capacity() <= 8 << 10,
        "read buffer {} B",
        receiver.capacity()
    );
}

#[test]
fn invalid_utf8_in_a_large_text_fails_as_soon_as_it_is_read() {
    // A 1 MiB text frame whose bytes turn invalid after 100 KiB; only 200 KiB of it
    // ever arrive, so the error must come from the bytes read in place.
    let mut text = "a".repeat(1 << 20).into_bytes();
    text[100 << 10] = 0xFF;
    let wire = peer_frame(Role::Server, TEXT, true, &text);
    let mut receiver = Receiver::new(Role::Server, &Config::default());
    let mut at = 0;
    let error = loop {
        assert!(at < 200 << 10, "no error after {at} B");
        let room = receiver.buffer_mut();
        let n = room.len().min(50_000);
        room[..n].copy_from_slice(&wire[at..at + n]);
        receiver.filled(n);
        at += n;
        match receiver.poll() {
            Ok(None) => continue,
            Ok(Some(event)) => panic!("unexpected event {event:?}"),
            Err(error) => break error,
        }
    };
    assert!(matches!(error, Error::InvalidUtf8), "{error:?}");
    assert_eq!(
        receiver.take_reply(),
        Some(Reply::Close(CloseCode::INVALID_PAYLOAD))
    );
}

#[test]
fn bytes_given_in_one_piece_after_a_large_frame_began_keep_their_order() {
    // `receive` (the copying entry point) with the rest of a large frame and the
    // next frame in one slice: the payload's end goes into the message, the next
    // frame into the read buffer.
    let payload = pattern(100_000);
    let mut wire = frame(BINARY, true, &payload, None);
    wire.extend(frame(TEXT, true, b"next", None));
    let mut receiver = Receiver::new(Role::Client, &Config::default());
    receiver.receive(&wire[..10_000]);
    assert!(receiver.poll().unwrap().is_none());
    receiver.receive(&wire[10_000..]);
    assert_eq!(
        receiver.poll().unwrap(),
        Some(Incoming::Message(Message::binary(payload)))
    );
    assert_eq!(
        receiver.poll().unwrap(),
        Some(Incoming::Message(Message::text("next")))
    );
    assert!(receiver.poll().unwrap().is_none());
}

#[test]
fn a_recycled_buffer_takes_the_next_message() {
    let mut wire = Vec::new();
    for payload in [&b"first message"[..], b"second", b"third, text"] {
        let opcode = if payload.starts_with(b"third") {
            TEXT
        } else {
            BINARY
        };
        wire.extend(peer_frame(Role::Server, opcode, true, payload));
    }
    let mut receiver = Receiver::new(Role::Server, &Config::default());
    receiver.receive(&wire);
    let first = match receiver.poll().unwrap() {
        Some(Incoming::Message(message)) => message,
        other => panic!("unexpected event {other:?}"),
    };
    let buffer = first.as_bytes().as_ptr();
    receiver.recycle(first);
    for expected in [
        Message::binary(&b"second"[..]),
        Message::text("third, text"),
    ] {
        let message = match receiver.poll().unwrap() {
            Some(Incoming::Message(message)) => message,
            other => panic!("unexpected event {other:?}"),
        };
        assert_eq!(message, expected);
        // The same allocation, not a new one.
        assert_eq!(message.as_bytes().as_ptr(), buffer);
        receiver.recycle(message);
    }
}

#[test]
fn a_message_read_in_place_keeps_the_buffer_its_header_reserved() {
    // The room past the frame's end that the last read is offered must not make the
    // message reallocate: for a 1 MiB message that was a copy of all of it, and a
    // buffer of twice its size held for as long as the message lives.
    for (opcode, len) in [(TEXT, 300 << 10), (BINARY, 1 << 20), (BINARY, 5_000)] {
        let payload = "x".repeat(len);
        let wire = peer_frame(Role::Server, opcode, true, payload.as_bytes());
        let mut receiver = Receiver::new(Role::Server, &Config::default());
        let (messages, _, _) = drive(&mut receiver, &wire, &[1 << 30]);
        let (Some(message), 1) = (messages.first(), messages.len()) else {
            panic!("{} messages", messages.len());
        };
        let capacity = match message {
            Message::Text(text) => text.capacity(),
            Message::Binary(data) => data.capacity(),
        };
        assert_eq!(message.as_bytes(), payload.as_bytes());
        assert!(
            capacity <= len + (4 << 10),
            "a {len} B message holds {capacity} B"
        );
    }
}

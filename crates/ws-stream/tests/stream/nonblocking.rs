//! `WouldBlock` and `Interrupted` from the stream lose and duplicate nothing: reads that
//! come one byte at a time between refusals, writes that take one byte at a time.

use std::io::{self, Read, Write};

use ws_stream::{Event, Message, MessageKind, Result, Role, Stream};

use crate::support::*;

/// A stream that refuses every other call, alternating `WouldBlock` and `Interrupted`,
/// and moves one byte per successful call. At the end of its input it would block.
#[derive(Debug, Default)]
struct Flaky {
    input: Vec<u8>,
    at: usize,
    output: Vec<u8>,
    reads: usize,
    writes: usize,
}

impl Flaky {
    fn new(input: Vec<u8>) -> Flaky {
        Flaky {
            input,
            ..Flaky::default()
        }
    }
}

fn refusal(call: usize) -> Option<io::Error> {
    match call % 4 {
        0 => Some(io::ErrorKind::WouldBlock.into()),
        2 => Some(io::ErrorKind::Interrupted.into()),
        _ => None,
    }
}

impl Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if let Some(error) = refusal(self.reads) {
            return Err(error);
        }
        match self.input.get(self.at) {
            Some(&byte) if !buf.is_empty() => {
                buf[0] = byte;
                self.at += 1;
                Ok(1)
            }
            Some(_) => Ok(0),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        if let Some(error) = refusal(self.writes) {
            return Err(error);
        }
        match buf.first() {
            Some(&byte) => {
                self.output.push(byte);
                Ok(1)
            }
            None => Ok(0),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Calls `op` until it stops failing with `WouldBlock`.
fn retry<T>(mut op: impl FnMut() -> Result<T>) -> T {
    for _ in 0..1_000_000 {
        match op() {
            Err(error) if error.is_would_block() => {}
            other => return other.unwrap(),
        }
    }
    panic!("still blocked after a million tries");
}

fn sample_input(role: Role) -> (Vec<u8>, Vec<Message>, Vec<Vec<u8>>) {
    let mut input = Vec::new();
    let mut messages = Vec::new();
    let mut pings = Vec::new();
    for i in 0..20u8 {
        let text = format!("message {i} – κόσμε 🎉");
        let bytes = text.as_bytes();
        let cut = usize::from(i) % bytes.len();
        input.extend(peer_frame(role, TEXT, false, &bytes[..cut]));
        input.extend(peer_frame(role, PING, true, &[i; 3]));
        pings.push(vec![i; 3]);
        input.extend(peer_frame(role, CONT, true, &bytes[cut..]));
        messages.push(Message::text(text));
        let binary = pattern(usize::from(i) * 50);
        input.extend(peer_frame(role, BINARY, true, &binary));
        messages.push(Message::binary(binary));
    }
    (input, messages, pings)
}

#[test]
fn reads_lose_and_duplicate_nothing() {
    for role in ROLES {
        let (input, messages, pings) = sample_input(role);
        let mut stream = Stream::with_role(Flaky::new(input), role);
        let mut received = Vec::new();
        for _ in 0..messages.len() {
            received.push(retry(|| stream.read_message()));
        }
        assert_eq!(received, messages);
        retry(|| stream.flush());
        let pongs: Vec<_> = parse_frames(&stream.get_ref().output)
            .into_iter()
            .map(|f| {
                assert_eq!(f.opcode, PONG);
                f.payload
            })
            .collect();
        assert_eq!(pongs, pings, "{role:?}: every pong exactly once");
    }
}

#[test]
fn events_lose_and_duplicate_nothing() {
    for role in ROLES {
        let (input, messages, pings) = sample_input(role);
        let mut stream = Stream::with_role(Flaky::new(input), role);
        let mut got_messages = Vec::new();
        let mut got_pings = Vec::new();
        while got_messages.len() < messages.len() {
            match retry(|| stream.read_event()) {
                Event::Message(message) => got_messages.push(message),
                Event::Ping(payload) => got_pings.push(payload),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got_messages, messages);
        assert_eq!(got_pings, pings);
    }
}

/// The application only reads; pongs whose writes would block go out on later reads.
#[test]
fn pongs_go_out_while_the_application_only_reads() {
    for role in ROLES {
        let (input, messages, pings) = sample_input(role);
        let mut stream = Stream::with_role(Flaky::new(input), role);
        for _ in 0..messages.len() {
            retry(|| stream.read_message());
        }
        // Nothing more arrives; keep polling as a non-blocking application does.
        for _ in 0..100 {
            assert!(stream.read_message().unwrap_err().is_would_block());
        }
        let pongs: Vec<_> = parse_frames(&stream.get_ref().output)
            .into_iter()
            .map(|f| f.payload)
            .collect();
        assert_eq!(pongs, pings, "{role:?}");
    }
}

#[test]
fn writes_one_byte_at_a_time_complete_with_flush() {
    for role in ROLES {
        let mut stream = Stream::with_role(Flaky::new(Vec::new()), role);
        let mut sent = Vec::new();
        for i in 0..20usize {
            let message = if i % 2 == 0 {
                Message::text(format!("text {i} é"))
            } else {
                Message::binary(pattern(i * 40))
            };
            // `Ok` means queued, the rest written by later calls; `WouldBlock` means
            // nothing was queued, so sending again cannot duplicate the message.
            retry(|| stream.send(&message));
            sent.push(message);
            if i % 5 == 0 {
                retry(|| stream.ping([i as u8]));
            }
        }
        retry(|| stream.flush());
        let frames = parse_frames(&stream.get_ref().output);
        let data: Vec<_> = frames
            .iter()
            .filter(|f| f.opcode != PING)
            .map(|f| {
                assert!(f.fin);
                match f.opcode {
                    TEXT => Message::text(String::from_utf8(f.payload.clone()).unwrap()),
                    _ => Message::binary(f.payload.clone()),
                }
            })
            .collect();
        assert_eq!(data, sent);
        let pings: Vec<_> = frames
            .iter()
            .filter(|f| f.opcode == PING)
            .map(|f| f.payload.clone())
            .collect();
        assert_eq!(pings, [[0], [5], [10], [15]]);
    }
}

/// Sends that queue behind a blocked write still come out whole and in order.
#[test]
fn sends_queue_behind_a_blocked_write() {
    let mut stream = Stream::with_role(Flaky::new(Vec::new()), Role::Server);
    for i in 0..10u8 {
        // Queued whole, though the stream takes a byte at a time between refusals.
        stream.send_binary([i; 300]).unwrap();
    }
    assert!(
        stream.buffered_amount() > 0,
        "the sends queued behind a blocked write"
    );
    retry(|| stream.flush());
    let payloads: Vec<_> = parse_frames(&stream.get_ref().output)
        .into_iter()
        .map(|f| f.payload)
        .collect();
    let expected: Vec<_> = (0..10u8).map(|i| vec![i; 300]).collect();
    assert_eq!(payloads, expected);
}

/// A message written in pieces over a stream that would block: every byte once.
#[test]
fn message_writer_over_a_blocking_stream_loses_and_duplicates_nothing() {
    for kind in [MessageKind::Binary, MessageKind::Text] {
        let mut stream = Stream::with_config(
            Flaky::new(Vec::new()),
            Role::Client,
            ws_stream::Config::default().max_send_frame_size(100),
        );
        let payload = "κόσμε – 🎉 – ".repeat(100).into_bytes();
        let mut writer = stream.message_writer(kind).unwrap();
        for piece in payload.chunks(37) {
            let mut rest = piece;
            while !rest.is_empty() {
                match writer.write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => panic!("{error:?}"),
                }
            }
        }
        match writer.finish() {
            Ok(()) => {}
            Err(error) if error.is_would_block() => {}
            Err(other) => panic!("{other:?}"),
        }
        retry(|| stream.flush());
        let frames = parse_frames(&stream.get_ref().output);
        assert!(frames.last().unwrap().fin);
        let joined: Vec<u8> = frames.into_iter().flat_map(|f| f.payload).collect();
        assert!(
            joined == payload,
            "{kind:?}: {} bytes arrived for {} sent",
            joined.len(),
            payload.len()
        );
    }
}

/// A message written in pieces to a peer that is slow to read: the write buffer fills,
/// the refused write takes nothing, `flush` drains, and every byte arrives once.
#[test]
fn message_writer_refused_by_a_full_write_buffer_loses_nothing() {
    let (ours, mut peer) = tcp_pair();
    ours.set_nonblocking(true).unwrap();
    let config = ws_stream::Config::default()
        .max_write_buffer(64 << 10)
        .max_send_frame_size(16 << 10);
    let mut stream = Stream::with_config(ours, Role::Server, config);
    // More than the kernel buffers hold (the send buffer grows to 4 MiB here).
    let payload = pattern(12 << 20);
    let total = payload.len();
    let (first_refusal, refused_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        // Start once the kernel buffers and then ours are full.
        refused_rx.recv_timeout(STUCK).ok();
        peer.set_read_timeout(Some(STUCK)).unwrap();
        let mut pending = Vec::new();
        let mut received = Vec::new();
        loop {
            let frame = read_frame(&mut peer, &mut pending).expect("the whole message");
            received.extend_from_slice(&frame.payload);
            if frame.fin {
                return received;
            }
        }
    });
    let mut refused = 0;
    let mut writer = stream.message_writer(MessageKind::Binary).unwrap();
    let mut rest = &payload[..];
    while !rest.is_empty() {
        match writer.write(&rest[..rest.len().min(5000)]) {
            Ok(n) => rest = &rest[n..],
            Err(error) => {
                // The write buffer is full and cannot drain yet: nothing was taken.
                assert_eq!(error.kind(), io::ErrorKind::WouldBlock, "{error:?}");
                refused += 1;
                first_refusal.send(()).ok();
                // Push out what waits; it may block until the peer reads.
                while let Err(error) = writer.flush() {
                    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }
    first_refusal.send(()).ok();
    assert!(refused > 0, "the write buffer never filled");
    match writer.finish() {
        Ok(()) => {}
        Err(error) if error.is_would_block() => {}
        Err(other) => panic!("{other:?}"),
    }
    while let Err(error) = stream.flush() {
        assert!(error.is_would_block(), "{error:?}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let received = reader.join().unwrap();
    assert!(
        received == payload,
        "{} bytes arrived for {total} sent",
        received.len()
    );
}

//! The sans-IO core on its own: two `proto::Connection`s joined in memory and driven
//! by a test driver on a fake clock, using only the public `proto` API. That this
//! driver is enough for the close handshake, timeouts, keep-alive and backpressure
//! shows that no protocol rule lives in a real driver.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ws_stream::proto::{Connection, Incoming, Transport};
use ws_stream::{CloseCode, CloseFrame, CloseRequest, Config, Error, Event, Message, Role};

use crate::support::{CLOSE, CONT, PING, TEXT, frame, parse_frames, peer_frame};

/// One end: its connection, the bytes on their way to it, and what it saw.
struct End {
    conn: Connection,
    inbox: VecDeque<u8>,
    /// Whether it reads its inbox; a peer that stops reading fills it.
    reads: bool,
    /// It shut its transport down: the other end reads the end of the stream.
    shut: bool,
    /// It reports reads without their time while no timer runs, as the blocking
    /// driver does to save a clock read.
    untimed: bool,
    events: Vec<Event>,
    errors: Vec<Error>,
}

/// A client (0) and a server (1) joined in memory, on a clock that moves only when
/// told. `capacity` bounds the bytes in flight towards each end, as kernel buffers do.
struct Pair {
    ends: [End; 2],
    now: Instant,
    capacity: usize,
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

impl Pair {
    fn new(config: Config) -> Pair {
        let now = Instant::now();
        let end = |role| End {
            conn: Connection::new(role, &config, now),
            inbox: VecDeque::new(),
            reads: true,
            shut: false,
            untimed: false,
            events: Vec::new(),
            errors: Vec::new(),
        };
        let mut ends = [end(Role::Client), end(Role::Server)];
        // Repeatable bytes on the wire: the client masks with a counter.
        let mut key = 0u32;
        ends[CLIENT].conn.set_mask_key_source(move || {
            key += 1;
            key.to_be_bytes()
        });
        Pair {
            ends,
            now,
            capacity: usize::MAX,
        }
    }

    /// Moves events, bytes and the transport's end both ways until nothing moves.
    fn run(&mut self) {
        while self.step(CLIENT) | self.step(SERVER) {}
    }

    /// Moves the clock on, then runs what comes due.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        for i in [CLIENT, SERVER] {
            let conn = &mut self.ends[i].conn;
            if conn
                .poll_timeout()
                .is_some_and(|deadline| deadline <= self.now)
            {
                conn.handle_timeout(self.now);
            }
        }
        self.run();
    }

    /// The driver loop for end `i`, once: what a real driver does, minus the I/O.
    fn step(&mut self, i: usize) -> bool {
        let now = self.now;
        let [a, b] = &mut self.ends;
        let (me, peer) = if i == CLIENT { (a, b) } else { (b, a) };
        let mut moved = false;
        loop {
            match me.conn.poll_event() {
                Ok(Some(event)) => me.events.push(event.into_owned()),
                Ok(None) => break,
                Err(Error::AlreadyClosed) => break,
                Err(error) => me.errors.push(error),
            }
            moved = true;
        }
        let room = self.capacity.saturating_sub(peer.inbox.len());
        let n = me.conn.pending().len().min(room);
        if n > 0 && !peer.shut {
            peer.inbox.extend(&me.conn.pending()[..n]);
            me.conn.advance(n);
            moved = true;
        } else if !me.conn.pending().is_empty() && !peer.shut {
            me.conn.write_blocked(now);
        }
        if me.conn.transport() == Transport::Shutdown && me.conn.pending().is_empty() {
            me.shut = true;
            me.conn.transport_shut_down();
            moved = true;
        }
        if me.reads && !me.inbox.is_empty() && me.conn.transport() != Transport::Closed {
            let buf = me.conn.read_buffer();
            let n = buf.len().min(me.inbox.len());
            for (slot, byte) in buf.iter_mut().zip(me.inbox.drain(..n)) {
                *slot = byte;
            }
            if me.untimed && !me.conn.needs_time() {
                me.conn.filled_untimed(n);
            } else {
                me.conn.filled(n, now);
            }
            moved = true;
        } else if peer.shut && me.inbox.is_empty() && me.conn.transport() != Transport::Closed {
            me.conn.transport_ended(now);
            moved = true;
        }
        moved
    }

    fn end(&mut self, i: usize) -> &mut End {
        &mut self.ends[i]
    }
}

fn closed_with(error: &Error) -> Option<CloseCode> {
    match error {
        Error::Closed(frame) => Some(frame.code),
        _ => None,
    }
}

#[test]
fn messages_both_ways_and_the_close_handshake_from_the_client() {
    let mut pair = Pair::new(Config::default());
    pair.end(CLIENT).conn.send_text("hello").unwrap();
    pair.end(SERVER)
        .conn
        .send(&Message::binary([1, 2, 3]))
        .unwrap();
    pair.run();
    assert_eq!(
        pair.end(SERVER).events,
        [Event::Message(Message::text("hello"))]
    );
    assert_eq!(
        pair.end(CLIENT).events,
        [Event::Message(Message::binary([1, 2, 3]))]
    );

    let now = pair.now;
    pair.end(CLIENT)
        .conn
        .close(CloseCode::NORMAL, "bye", now)
        .unwrap();
    pair.run();
    let bye = CloseFrame::new(CloseCode::NORMAL, "bye");
    assert_eq!(
        pair.end(SERVER).events.last(),
        Some(&Event::Close(bye.clone()))
    );
    // The server echoes the code and ends TCP first; the client sees the end of the
    // stream and is done, without waiting out the close timeout.
    assert!(pair.end(SERVER).shut);
    assert!(
        !pair.end(CLIENT).shut,
        "the client left ending TCP to the server"
    );
    assert_eq!(pair.end(CLIENT).conn.transport(), Transport::Closed);
    let echoed = CloseFrame::new(CloseCode::NORMAL, "");
    assert_eq!(
        pair.end(CLIENT).events.last(),
        Some(&Event::Close(echoed.clone()))
    );
    assert_eq!(pair.end(CLIENT).conn.close_frame(), Some(&echoed));
    assert_eq!(pair.end(SERVER).conn.close_frame(), Some(&bye));
    assert!(pair.end(CLIENT).errors.is_empty() && pair.end(SERVER).errors.is_empty());
}

#[test]
fn the_close_handshake_from_the_server_and_the_client_waits_for_the_end_of_tcp() {
    let mut pair = Pair::new(Config::default().close_timeout(Duration::from_secs(5)));
    // The server's TCP end is held back: it stops reading and never shuts down.
    let now = pair.now;
    pair.end(SERVER)
        .conn
        .close(CloseCode::GOING_AWAY, "", now)
        .unwrap();
    pair.end(SERVER).reads = false;
    pair.run();
    assert_eq!(
        pair.end(CLIENT).events,
        [Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, ""))]
    );
    assert_eq!(pair.end(CLIENT).conn.transport(), Transport::AwaitEnd);
    pair.advance(Duration::from_millis(4999));
    assert_eq!(pair.end(CLIENT).conn.transport(), Transport::AwaitEnd);
    // The close timeout passes: the client gives up waiting and ends TCP itself.
    pair.advance(Duration::from_millis(1));
    assert!(pair.end(CLIENT).shut);
}

#[test]
fn after_reads_without_their_time_the_client_still_waits_the_whole_close_timeout() {
    let mut pair = Pair::new(Config::default().close_timeout(Duration::from_secs(5)));
    pair.end(CLIENT).untimed = true;
    pair.end(SERVER).conn.send_text("hello").unwrap();
    pair.run();
    assert!(!pair.end(CLIENT).conn.needs_time());
    // An hour of silence, with no timer running: the time the client last had is an
    // hour old when the server's Close arrives.
    pair.advance(Duration::from_secs(3600));
    let now = pair.now;
    pair.end(SERVER)
        .conn
        .close(CloseCode::GOING_AWAY, "", now)
        .unwrap();
    pair.end(SERVER).reads = false;
    pair.run();
    assert_eq!(pair.end(CLIENT).conn.transport(), Transport::AwaitEnd);
    // The wait for the server's end of TCP asks for the time it starts at.
    assert!(pair.end(CLIENT).conn.needs_time());
    assert_eq!(
        pair.end(CLIENT).conn.poll_timeout(),
        Some(pair.now - Duration::from_secs(3600))
    );
    pair.advance(Duration::ZERO);
    assert_eq!(
        pair.end(CLIENT).conn.poll_timeout(),
        Some(pair.now + Duration::from_secs(5))
    );
    pair.advance(Duration::from_millis(4999));
    assert_eq!(pair.end(CLIENT).conn.transport(), Transport::AwaitEnd);
    pair.advance(Duration::from_millis(1));
    assert!(pair.end(CLIENT).shut);
}

#[test]
fn the_close_timeout_fires_when_the_peer_never_answers() {
    let mut pair = Pair::new(Config::default().close_timeout(Duration::from_secs(2)));
    pair.end(SERVER).reads = false;
    let now = pair.now;
    pair.end(CLIENT)
        .conn
        .close(CloseCode::NORMAL, "", now)
        .unwrap();
    pair.run();
    pair.advance(Duration::from_millis(1999));
    assert!(pair.end(CLIENT).errors.is_empty());
    pair.advance(Duration::from_millis(1));
    assert!(matches!(pair.end(CLIENT).errors[..], [Error::CloseTimeout]));
    assert_eq!(
        pair.end(CLIENT).conn.close_frame().map(|frame| frame.code),
        Some(CloseCode::ABNORMAL)
    );
    assert!(pair.end(CLIENT).shut, "nothing more to wait for");
}

#[test]
fn keepalive_pings_after_idle_and_expires_with_1011() {
    let config = Config::default()
        .ping_interval(Some(Duration::from_secs(20)))
        .idle_timeout(Some(Duration::from_secs(30)));
    let mut pair = Pair::new(config);
    pair.advance(Duration::from_secs(19));
    assert!(pair.end(SERVER).events.is_empty());
    // Both ends ping after 20 s of silence; each answers the other's ping, which
    // counts as hearing from the peer.
    pair.advance(Duration::from_secs(1));
    assert_eq!(
        pair.end(SERVER).events,
        [Event::Ping(vec![]), Event::Pong(vec![])]
    );
    assert_eq!(
        pair.end(CLIENT).events,
        [Event::Ping(vec![]), Event::Pong(vec![])]
    );
    // Now the client falls silent: it no longer reads, so it neither answers nor pings.
    pair.end(CLIENT).reads = false;
    pair.end(CLIENT).conn = {
        let config = Config::default();
        Connection::new(Role::Client, &config, pair.now)
    };
    pair.advance(Duration::from_secs(20));
    assert!(pair.end(SERVER).errors.is_empty(), "pinged, still waiting");
    pair.advance(Duration::from_secs(10));
    assert!(matches!(
        pair.end(SERVER).errors[..],
        [Error::KeepaliveTimeout]
    ));
    assert!(pair.end(SERVER).shut);
    let sent: Vec<u8> = pair.end(CLIENT).inbox.iter().copied().collect();
    let frames = parse_frames(&sent);
    let close = frames.last().expect("our Close");
    assert_eq!(close.opcode, CLOSE);
    assert_eq!(close.close_code(), Some(1011));
    assert!(frames[..frames.len() - 1].iter().all(|f| f.opcode == PING));
}

/// A ping falling due while we wait for the peer's Close is not sent (nothing may
/// follow our Close) and does not end the handshake before the peer answers.
#[test]
fn keepalive_during_the_close_handshake_waits_for_the_answer() {
    let config = Config::default()
        .ping_interval(Some(Duration::from_millis(20)))
        .close_timeout(Duration::from_secs(10));
    let mut pair = Pair::new(config);
    pair.end(SERVER).reads = false;
    let now = pair.now;
    pair.end(CLIENT)
        .conn
        .close(CloseCode::NORMAL, "", now)
        .unwrap();
    pair.run();
    for _ in 0..10 {
        pair.advance(Duration::from_millis(20));
    }
    let sent: Vec<u8> = pair.end(SERVER).inbox.iter().copied().collect();
    let frames = parse_frames(&sent);
    assert_eq!(frames.len(), 1, "only our Close went out: {frames:?}");
    assert!(
        pair.end(CLIENT).conn.close_frame().is_none(),
        "still waiting"
    );
    pair.end(SERVER).reads = true;
    pair.run();
    assert_eq!(
        pair.end(CLIENT).conn.close_frame(),
        Some(&CloseFrame::new(CloseCode::NORMAL, ""))
    );
    assert!(pair.end(CLIENT).errors.is_empty());
}

#[test]
fn an_empty_close_is_1005_and_an_abrupt_end_is_1006() {
    let mut server = Connection::new(Role::Server, &Config::default(), Instant::now());
    server.receive(&peer_frame(Role::Server, CLOSE, true, &[]), Instant::now());
    assert_eq!(
        server.poll_event().unwrap().map(Incoming::into_owned),
        Some(Event::Close(CloseFrame::new(
            CloseCode::NO_STATUS_RECEIVED,
            ""
        )))
    );
    // Answered with 1000: 1005 may not appear on the wire.
    assert_eq!(parse_frames(server.pending())[0].close_code(), Some(1000));

    let mut pair = Pair::new(Config::default());
    pair.end(CLIENT).conn.send_text("half").unwrap();
    pair.run();
    pair.end(CLIENT).shut = true;
    pair.run();
    let error = pair.end(SERVER).errors.pop().expect("the end");
    assert_eq!(closed_with(&error), Some(CloseCode::ABNORMAL));
    assert_eq!(pair.end(SERVER).conn.transport(), Transport::Closed);
}

#[test]
fn a_violation_is_closed_with_its_code_and_a_reason_and_the_server_ends_tcp() {
    let mut pair = Pair::new(Config::default());
    // A continuation frame with no message, straight onto the server's wire.
    let bad = frame(CONT, true, b"x", Some([1, 2, 3, 4]));
    pair.end(SERVER).inbox.extend(bad);
    pair.run();
    assert!(matches!(
        pair.end(SERVER).errors[..],
        [Error::UnexpectedContinuation]
    ));
    assert!(pair.end(SERVER).shut);
    let close = CloseFrame::new(
        CloseCode::PROTOCOL_ERROR,
        Error::UnexpectedContinuation.to_string(),
    );
    assert!(close.reason.len() <= 123 && !close.reason.is_empty());
    assert_eq!(pair.end(CLIENT).events, [Event::Close(close)]);
}

#[test]
fn a_close_requested_from_another_thread() {
    let mut pair = Pair::new(Config::default());
    let request = CloseRequest::new();
    pair.end(SERVER).conn.set_close_request(request.clone());
    pair.run();
    std::thread::spawn(move || request.request(CloseCode::GOING_AWAY))
        .join()
        .unwrap();
    pair.run();
    let error = pair.end(SERVER).errors.pop().expect("closed");
    assert_eq!(closed_with(&error), Some(CloseCode::GOING_AWAY));
    assert!(pair.end(SERVER).shut);
    assert_eq!(
        pair.end(CLIENT).events,
        [Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, ""))]
    );
    assert!(matches!(
        pair.end(SERVER).conn.send_text("late"),
        Err(Error::AlreadyClosed)
    ));
}

/// A writer whose peer does not read fills the bytes in flight, then its own write
/// buffer up to the bound; past it, `fits` says wait and a send is refused whole.
/// Once the peer reads again, everything arrives once and in order.
#[test]
fn a_writer_waits_while_its_peer_does_not_read() {
    const MAX: usize = 64 << 10;
    let mut pair = Pair::new(Config::default().max_write_buffer(MAX));
    pair.capacity = 16 << 10;
    pair.end(CLIENT).reads = false;
    let message = vec![7; 4 << 10];
    let mut queued = 0;
    while pair.end(SERVER).conn.fits(message.len()) {
        pair.end(SERVER)
            .conn
            .send(&Message::binary(message.clone()))
            .unwrap();
        queued += 1;
        pair.run();
    }
    let waiting = pair.end(SERVER).conn.buffered_amount();
    assert!(waiting <= MAX && waiting + message.len() > MAX, "{waiting}");
    assert!(matches!(
        pair.end(SERVER)
            .conn
            .send(&Message::binary(message.clone())),
        Err(Error::WriteBufferFull { max: MAX })
    ));
    assert_eq!(
        pair.end(SERVER).conn.buffered_amount(),
        waiting,
        "nothing taken"
    );
    pair.end(CLIENT).reads = true;
    pair.run();
    assert_eq!(pair.end(SERVER).conn.buffered_amount(), 0);
    assert_eq!(pair.end(CLIENT).events.len(), queued);
    assert!(
        pair.end(CLIENT)
            .events
            .iter()
            .all(|event| *event == Event::Message(Message::binary(message.clone())))
    );
}

#[test]
fn a_peer_that_stops_reading_is_dropped_at_the_write_timeout() {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let config = Config::default().write_timeout(Some(TIMEOUT));
    let mut pair = Pair::new(config);
    pair.capacity = 16 << 10;
    pair.end(CLIENT).reads = false;
    let message = Message::binary(vec![7; 64 << 10]);
    pair.end(SERVER).conn.send(&message).unwrap();
    pair.run();
    // The transport takes 16 KiB, then refuses the rest: the timeout runs from then.
    let blocked_at = pair.now;
    assert_eq!(
        pair.end(SERVER).conn.poll_timeout(),
        Some(blocked_at + TIMEOUT)
    );
    pair.advance(TIMEOUT - Duration::from_secs(1));
    assert!(pair.end(SERVER).errors.is_empty(), "not yet");
    // The peer reads a little: progress starts the timeout again.
    pair.end(CLIENT).reads = true;
    pair.step(CLIENT);
    pair.end(CLIENT).reads = false;
    pair.run();
    let again = pair.now;
    assert_eq!(pair.end(SERVER).conn.poll_timeout(), Some(again + TIMEOUT));
    pair.advance(TIMEOUT);
    let server = pair.end(SERVER);
    assert!(
        matches!(server.errors.as_slice(), [Error::WriteTimeout]),
        "{:?}",
        server.errors
    );
    assert_eq!(
        server.conn.close_frame().map(|frame| frame.code),
        Some(CloseCode::ABNORMAL)
    );
    assert_eq!(
        server.conn.buffered_amount(),
        0,
        "what the peer would not take is dropped"
    );
    assert!(server.shut, "the transport is shut down");
    assert_eq!(server.conn.poll_timeout(), None);
}

#[test]
fn without_a_write_timeout_a_blocked_writer_just_waits() {
    let mut pair = Pair::new(Config::default());
    pair.capacity = 16 << 10;
    pair.end(CLIENT).reads = false;
    pair.end(SERVER)
        .conn
        .send(&Message::binary(vec![7; 64 << 10]))
        .unwrap();
    pair.run();
    assert_eq!(pair.end(SERVER).conn.poll_timeout(), None);
    pair.advance(Duration::from_secs(3600));
    assert!(pair.end(SERVER).errors.is_empty());
    assert!(pair.end(SERVER).conn.buffered_amount() > 0);
}

/// Text sent in pieces is checked as it goes: an invalid piece is refused and the
/// message can go on; a last piece that leaves a sequence open is refused.
#[test]
fn text_sent_in_pieces_is_checked_piece_by_piece() {
    let mut pair = Pair::new(Config::default());
    let conn = &mut pair.end(CLIENT).conn;
    conn.send_piece(ws_stream::MessageKind::Text, b"caf\xc3", false)
        .unwrap();
    assert!(matches!(
        conn.send_piece(ws_stream::MessageKind::Text, b"\xff", false),
        Err(Error::InvalidText)
    ));
    assert!(matches!(
        conn.send_piece(ws_stream::MessageKind::Text, b"\xa9 \xe2", true),
        Err(Error::InvalidText)
    ));
    conn.send_piece(ws_stream::MessageKind::Text, b"\xa9!", true)
        .unwrap();
    assert!(matches!(
        conn.send_message(ws_stream::MessageKind::Text, b"\xc3"),
        Err(Error::InvalidText)
    ));
    pair.run();
    assert_eq!(
        pair.end(SERVER).events,
        [Event::Message(Message::text("café!"))]
    );
}

/// A ping between the fragments of a message is answered at once, the message
/// delivered whole after it; the bytes are the same every run (fixed mask keys).
#[test]
fn fragments_with_a_ping_between_and_repeatable_bytes() {
    let mut wires = Vec::new();
    for _ in 0..2 {
        let mut pair = Pair::new(Config::default());
        let conn = &mut pair.end(CLIENT).conn;
        conn.send_piece(ws_stream::MessageKind::Text, b"one ", false)
            .unwrap();
        conn.ping(b"p").unwrap();
        conn.send_piece(ws_stream::MessageKind::Text, b"two", true)
            .unwrap();
        wires.push(conn.pending().to_vec());
        pair.run();
        assert_eq!(
            pair.end(SERVER).events,
            [
                Event::Ping(b"p".to_vec()),
                Event::Message(Message::text("one two"))
            ]
        );
        let frames = parse_frames(&wires[wires.len() - 1]);
        assert_eq!(
            frames.iter().map(|f| f.opcode).collect::<Vec<_>>(),
            [TEXT, PING, CONT]
        );
    }
    assert_eq!(wires[0], wires[1]);
}

/// A connection whose buffers were released holds no heap, and picks up again.
#[test]
fn released_buffers_cost_nothing_and_come_back() {
    let mut pair = Pair::new(Config::default());
    pair.end(SERVER)
        .conn
        .send(&Message::binary(vec![1; 64 << 10]))
        .unwrap();
    pair.run();
    assert!(pair.end(CLIENT).conn.buffer_capacity() > 0);
    for i in [CLIENT, SERVER] {
        pair.end(i).conn.release_buffers();
        assert_eq!(pair.end(i).conn.buffer_capacity(), 0);
    }
    pair.end(SERVER).conn.send_text("again").unwrap();
    pair.run();
    assert_eq!(
        pair.end(CLIENT).events.last(),
        Some(&Event::Message(Message::text("again")))
    );
}

/// Both ends with permessage-deflate, context takeover both ways.
fn deflate_config() -> Config {
    Config::default().deflate(Some(ws_stream::Deflate::agreed(
        Role::Server,
        15,
        15,
        false,
        false,
    )))
}

/// The bytes `end` has sent so far, from its peer's inbox, without consuming them.
fn wire_to(pair: &mut Pair, to: usize) -> Vec<u8> {
    pair.end(to).inbox.iter().copied().collect()
}

#[test]
fn deflate_messages_both_ways_are_compressed_on_the_wire() {
    let text = r#"{"id":1,"name":"widget","tags":["a","b","c"],"price":9.99}"#.repeat(40);
    let mut pair = Pair::new(deflate_config());
    pair.end(SERVER).reads = false;
    for _ in 0..3 {
        pair.end(CLIENT).conn.send_text(&text).unwrap();
    }
    pair.run();
    let wire = wire_to(&mut pair, SERVER);
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f.rsv1), "RSV1 on every message");
    assert!(
        wire.len() < text.len() / 4,
        "{} bytes for {}",
        wire.len(),
        3 * text.len()
    );
    // Context takeover: the second copy refers to the first and is smaller still.
    assert!(frames[1].payload.len() < frames[0].payload.len());
    pair.end(SERVER).reads = true;
    pair.run();
    assert_eq!(
        pair.end(SERVER).events,
        vec![Event::Message(Message::text(text.clone())); 3]
    );
    let stats = pair.end(SERVER).conn.stats();
    assert_eq!(
        (stats.messages_received, stats.compressed_messages_received),
        (3, 3)
    );
    assert_eq!(stats.bytes_received, wire.len() as u64);
    let sent = pair.end(CLIENT).conn.stats();
    assert_eq!(
        (sent.compressed_messages_sent, sent.bytes_sent),
        (3, wire.len() as u64)
    );
    // And back, binary, with a short message that goes uncompressed.
    pair.end(SERVER)
        .conn
        .send(&Message::binary(text.clone().into_bytes()))
        .unwrap();
    pair.end(SERVER)
        .conn
        .send(&Message::binary(*b"tiny"))
        .unwrap();
    pair.end(CLIENT).reads = false;
    pair.run();
    let frames = parse_frames(&wire_to(&mut pair, CLIENT));
    assert_eq!(
        frames.iter().map(|f| f.rsv1).collect::<Vec<_>>(),
        [true, false]
    );
    pair.end(CLIENT).reads = true;
    pair.run();
    assert_eq!(
        pair.end(CLIENT).events,
        [
            Event::Message(Message::binary(text.into_bytes())),
            Event::Message(Message::binary(*b"tiny"))
        ]
    );
}

#[test]
fn deflate_in_pieces_and_fragmented_with_pings_between() {
    let mut pair = Pair::new(deflate_config().max_send_frame_size(100));
    let text = "κόσμε, hello again and again; ".repeat(200);
    let conn = &mut pair.end(CLIENT).conn;
    conn.start_message(ws_stream::MessageKind::Text).unwrap();
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let taken = conn
            .write_message_data(&rest[..rest.len().min(37)])
            .unwrap();
        rest = &rest[taken..];
        conn.ping(b"between").unwrap();
    }
    conn.finish_message().unwrap();
    conn.send_text(&text).unwrap();
    pair.end(SERVER).reads = false;
    pair.run();
    let frames = parse_frames(&wire_to(&mut pair, SERVER));
    let data: Vec<_> = frames.iter().filter(|f| f.opcode != PING).collect();
    assert!(data[0].rsv1 && data[1..].iter().all(|f| !f.rsv1 || f.opcode == TEXT));
    assert!(data.iter().filter(|f| f.opcode == TEXT).count() == 2);
    pair.end(SERVER).reads = true;
    pair.run();
    let messages: Vec<_> = pair
        .end(SERVER)
        .events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .cloned()
        .collect();
    assert_eq!(messages, vec![Event::Message(Message::text(text)); 2]);
}

#[test]
fn deflate_a_streaming_reader_gets_inflated_pieces() {
    let mut pair = Pair::new(deflate_config());
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    pair.end(SERVER).conn.set_streaming(true);
    pair.end(CLIENT)
        .conn
        .send(&Message::binary(payload.clone()))
        .unwrap();
    pair.run();
    let events = &pair.end(SERVER).events;
    assert_eq!(
        events.first(),
        Some(&Event::MessageStart(ws_stream::MessageKind::Binary))
    );
    assert_eq!(events.last(), Some(&Event::MessageEnd));
    let mut joined = Vec::new();
    for event in &events[1..events.len() - 1] {
        let Event::MessageData(data) = event else {
            panic!("{event:?}")
        };
        assert!(data.len() <= 16 << 10, "pieces stay small: {}", data.len());
        joined.extend_from_slice(data);
    }
    assert!(joined == payload);
}

/// A server whose compressor resets per message sends a prepared message compressed
/// once; under context takeover the same prepared message goes uncompressed.
#[test]
fn deflate_prepared_messages_are_compressed_once_or_sent_plain() {
    let text = "broadcast to everyone, ".repeat(50);
    let prepared = ws_stream::PreparedMessage::new(&Message::text(text.clone()));
    for no_context_takeover in [true, false] {
        let deflate = ws_stream::Deflate::agreed(Role::Server, 15, 15, no_context_takeover, false);
        let config = Config::default().deflate(Some(deflate));
        let mut pair = Pair::new(config);
        pair.end(SERVER).conn.send_prepared(&prepared).unwrap();
        pair.end(SERVER).conn.send_text(&text).unwrap();
        pair.end(SERVER).conn.send_prepared(&prepared).unwrap();
        pair.end(CLIENT).reads = false;
        pair.run();
        let frames = parse_frames(&wire_to(&mut pair, CLIENT));
        assert_eq!(
            frames.iter().map(|f| f.rsv1).collect::<Vec<_>>(),
            [no_context_takeover, true, no_context_takeover]
        );
        pair.end(CLIENT).reads = true;
        pair.run();
        assert_eq!(
            pair.end(CLIENT).events,
            vec![Event::Message(Message::text(text.clone())); 3]
        );
    }
}

/// A frame that inflates far past the limit ends with 1009 while at most the limit
/// and one chunk are held.
#[test]
fn deflate_a_bomb_is_1009_with_bounded_memory() {
    const LIMIT: usize = 1 << 20;
    let bomb_source = vec![0u8; 64 << 20];
    let mut sender = Connection::new(Role::Client, &deflate_config(), Instant::now());
    sender.send(&Message::binary(bomb_source)).unwrap();
    let wire = sender.pending().to_vec();
    assert!(wire.len() < 128 << 10, "{} bytes on the wire", wire.len());
    let config = deflate_config()
        .max_message_size(LIMIT)
        .max_frame_size(1 << 20);
    let mut server = Connection::new(Role::Server, &config, Instant::now());
    server.receive(&wire, Instant::now());
    let error = loop {
        match server.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("the bomb was taken whole"),
            Err(error) => break error,
        }
        assert!(server.buffer_capacity() < 4 * LIMIT);
    };
    assert!(
        matches!(error, Error::MessageTooLarge { max: LIMIT }),
        "{error:?}"
    );
    assert_eq!(parse_frames(server.pending())[0].close_code(), Some(1009));
}

#[test]
fn deflate_corrupt_data_and_misplaced_rsv1_fail_with_their_codes() {
    let config = deflate_config();
    // RSV1 (0x40) on a continuation frame, on a control frame, and a corrupt stream.
    let corrupt = {
        let mut frame = frame(TEXT, true, &[0xff, 0xff, 0xff, 0x00], Some([9, 9, 9, 9]));
        frame[0] |= 0x40;
        frame
    };
    let cont = {
        let mut bytes = frame(TEXT, false, b"a", Some([1, 2, 3, 4]));
        let mut next = frame(CONT, true, b"b", Some([1, 2, 3, 4]));
        next[0] |= 0x40;
        bytes.extend(next);
        bytes
    };
    let ping = {
        let mut frame = frame(PING, true, b"", Some([1, 2, 3, 4]));
        frame[0] |= 0x40;
        frame
    };
    for (wire, code) in [(corrupt, 1007), (cont, 1002), (ping, 1002)] {
        let mut server = Connection::new(Role::Server, &config, Instant::now());
        server.receive(&wire, Instant::now());
        let error = loop {
            match server.poll_event() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("accepted"),
                Err(error) => break error,
            }
        };
        assert_eq!(
            error.close_code().map(|c| c.as_u16()),
            Some(code),
            "{error:?}"
        );
        assert_eq!(parse_frames(server.pending())[0].close_code(), Some(code));
    }
    // Without deflate agreed, RSV1 is a protocol error on any frame.
    let mut plain = Connection::new(Role::Server, &Config::default(), Instant::now());
    let mut rsv1 = frame(TEXT, true, b"x", Some([1, 2, 3, 4]));
    rsv1[0] |= 0x40;
    plain.receive(&rsv1, Instant::now());
    assert_eq!(
        plain.poll_event().unwrap_err().close_code(),
        Some(CloseCode::PROTOCOL_ERROR)
    );
}

/// A large message sent owned is written from its own buffer (masked in place by a
/// client), in order with what is queued before and after it, however the writes
/// split it. (That its buffer then takes the next message, so that an echo
/// allocates nothing, is in tests/memory.rs, which counts allocations.)
#[test]
fn owned_messages_are_written_from_their_buffer_in_order() {
    use ws_stream::proto::OWNED_PAYLOAD_MIN;

    let large = |byte: u8| vec![byte; 64 << 10];
    let mut pair = Pair::new(Config::default());
    // Writes of at most 1,500 bytes: every owned payload is written in many parts.
    pair.capacity = 1500;
    let client = &mut pair.end(CLIENT).conn;
    client.send_text("before").unwrap();
    client.send_owned(Message::binary(large(1))).unwrap();
    let [head, tail] = client.pending_parts();
    assert_eq!(tail.len(), 64 << 10, "the payload stays in its own buffer");
    assert_eq!(head.len() + tail.len(), client.buffered_amount());
    // Below the threshold, and a control frame: both queue after the payload.
    client
        .send_owned(Message::text("x".repeat(OWNED_PAYLOAD_MIN - 1)))
        .unwrap();
    client.ping(b"p").unwrap();
    client
        .send_owned(Message::text("y".repeat(20_000)))
        .unwrap();
    // Owned after owned: the first one's payload goes before the second's header.
    client.send_owned(Message::binary(large(4))).unwrap();
    pair.run();
    assert_eq!(
        pair.end(SERVER).events,
        [
            Event::Message(Message::text("before")),
            Event::Message(Message::binary(large(1))),
            Event::Message(Message::text("x".repeat(OWNED_PAYLOAD_MIN - 1))),
            Event::Ping(b"p".to_vec()),
            Event::Message(Message::text("y".repeat(20_000))),
            Event::Message(Message::binary(large(4))),
        ]
    );
    assert!(pair.end(SERVER).errors.is_empty());
}

/// The write buffer that waits while an owned payload is written keeps no more than
/// a drained write buffer does: a large copied message queued before an owned one
/// does not leave its room behind once both are out.
#[test]
fn a_write_buffer_parked_behind_an_owned_payload_gives_back_a_large_message_room() {
    let mut client = Connection::new(Role::Client, &Config::default(), Instant::now());
    client.send_text(&"x".repeat(1 << 20)).unwrap();
    client
        .send_owned(Message::binary(vec![7; 64 << 10]))
        .unwrap();
    let mut written = 0;
    while !client.pending().is_empty() {
        let n = client.pending().len().min(100 << 10);
        written += n;
        client.advance(n);
    }
    assert!(written > (1 << 20) + (64 << 10), "both messages written");
    // What may stay: a small-message write buffer and the payload's buffer, kept
    // for the next message received.
    let kept = client.buffer_capacity();
    assert!(
        kept <= 160 << 10,
        "{kept} B kept after both messages are out"
    );
}

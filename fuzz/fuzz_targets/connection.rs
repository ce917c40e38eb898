//! A connection in either role, with or without permessage-deflate, fed any bytes
//! while it also sends and its timers run: events or one error with its close code,
//! never a panic, a hang, or memory past the configured limits.
//!
//! ```text
//! cargo +nightly fuzz run connection
//! ```
#![no_main]

use std::time::{Duration, Instant};

use ws_stream::proto::{Connection, Incoming, OWNED_PAYLOAD_MIN};
use ws_stream::{CloseCode, Config, Deflate, Message, MessageKind, Role};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let role = if mode & 1 == 0 { Role::Server } else { Role::Client };
    let mut config = Config::default()
        .max_message_size(1 << 16)
        .max_frame_size(1 << 16)
        .max_write_buffer(1 << 16)
        .ping_interval(Some(Duration::from_secs(1)))
        .idle_timeout(Some(Duration::from_secs(3)));
    if mode & 2 != 0 {
        config = config.deflate(Some(Deflate::agreed(role, 9 + (mode >> 4) % 7, 15, mode & 4 != 0, false)));
    }
    let mut now = Instant::now();
    let mut conn = Connection::new(role, &config, now);
    conn.set_streaming(mode & 8 != 0);
    for (i, piece) in data.chunks(61).enumerate() {
        conn.receive(piece, now);
        loop {
            match conn.poll_event() {
                // Some messages are echoed owned, as an echo server does.
                Ok(Some(Incoming::Message(message))) if mode & 32 != 0 => {
                    let _ = conn.send_owned(message);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        // Our side sends too: whole messages (some owned), pieces, controls, now and then
        // a close.
        let _ = match piece.first().map(|b| b % 6) {
            Some(0) => conn.send_message(MessageKind::Text, piece),
            Some(1) => conn.send_message(MessageKind::Binary, piece),
            Some(2) => conn.send_piece(MessageKind::Text, piece, i % 3 == 0),
            Some(3) => conn.ping(&piece[..piece.len().min(125)]),
            Some(4) if i % 7 == 6 => conn.close(CloseCode::NORMAL, "", now),
            // Large enough to be written from its own buffer.
            Some(5) => conn.send_owned(Message::binary(piece.repeat(OWNED_PAYLOAD_MIN / piece.len() + 1))),
            _ => Ok(()),
        };
        let written = conn.pending().len().min(usize::from(mode) * 64 + 1);
        conn.advance(written);
        now += Duration::from_millis(u64::from(piece.len() as u8) * 10);
        if conn.poll_timeout().is_some_and(|deadline| deadline <= now) {
            conn.handle_timeout(now);
        }
        if conn.is_ended() {
            return;
        }
    }
    conn.transport_ended(now);
    let _ = conn.poll_event();
});

//! The async stream (feature `tokio`): echo both ways against our blocking stream and
//! tungstenite, fragmentation, the close handshake both ways, keep-alive expiry,
//! cancel safety, backpressure against a peer that does not read, pings answered
//! while only sending, split halves, `Stream` and `Sink`, and idle buffers.

use std::future::Future;
use std::io::Write as _;
use std::net::TcpStream as StdTcpStream;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tungstenite::protocol::{Message as TMessage, Role as TRole, WebSocket};
use ws_stream::{AsyncStream, CloseCode, Config, Error, Event, Message, MessageKind, Role, Stream};

use crate::support::*;

/// What the echo scripts send: text, empty, multi-byte, binary, and one large.
fn script() -> Vec<Message> {
    vec![
        Message::text("hello"),
        Message::text(""),
        Message::text("κόσμε 🎉".repeat(1000)),
        Message::binary(vec![]),
        Message::binary((0..=255u8).cycle().take(300_000).collect::<Vec<_>>()),
    ]
}

fn opposite(role: Role) -> Role {
    match role {
        Role::Server => Role::Client,
        _ => Role::Server,
    }
}

/// A loopback pair: our async end and a blocking std socket for the peer.
async fn loopback() -> (TcpStream, StdTcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = thread::spawn(move || StdTcpStream::connect(addr).unwrap());
    let (ours, _) = listener.accept().await.unwrap();
    (ours, peer.join().unwrap())
}

/// Echoes every message until the peer closes; returns the peer's close code.
async fn echo<S>(mut ws: AsyncStream<S>) -> CloseCode
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match ws.recv().await {
            Ok(message) => ws.send(&message).await.unwrap(),
            Err(Error::Closed(frame)) => return frame.code,
            Err(other) => panic!("{other}"),
        }
    }
}

#[tokio::test]
async fn echoes_for_our_blocking_stream_in_both_roles() {
    for role in ROLES {
        let (ours, peer) = loopback().await;
        let peer = thread::spawn(move || {
            let mut stream = Stream::with_role(peer, opposite(role));
            stream.enable_socket_control();
            for message in script() {
                stream.send(&message).unwrap();
                assert_eq!(stream.read_message().unwrap(), message);
            }
            stream.close_with(CloseCode::GOING_AWAY, "done").unwrap();
            stream.close_frame().unwrap().code
        });
        let code = echo(AsyncStream::new(ours, role)).await;
        assert_eq!(code, CloseCode::GOING_AWAY);
        assert_eq!(peer.join().unwrap(), CloseCode::GOING_AWAY);
    }
}

#[tokio::test]
async fn our_blocking_stream_echoes_what_the_async_one_sends() {
    for role in ROLES {
        let (ours, peer) = loopback().await;
        let peer = thread::spawn(move || {
            let mut stream = Stream::with_role(peer, opposite(role));
            stream.enable_socket_control();
            loop {
                match stream.read_message() {
                    Ok(message) => stream.send(&message).unwrap(),
                    Err(end) => return end,
                }
            }
        });
        let mut ws = AsyncStream::new(ours, role);
        for message in script() {
            ws.send(&message).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), message);
        }
        ws.close().await.unwrap();
        assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
        assert!(peer.join().unwrap().is_closed());
    }
}

#[tokio::test]
async fn echoes_for_tungstenite_in_both_roles() {
    for role in ROLES {
        let (ours, peer) = loopback().await;
        let peer = thread::spawn(move || {
            let trole = match role {
                Role::Server => TRole::Client,
                _ => TRole::Server,
            };
            let mut ws = WebSocket::from_raw_socket(peer, trole, None);
            for message in script() {
                let message = match message {
                    Message::Text(text) => TMessage::text(text),
                    other => TMessage::binary(other.into_bytes()),
                };
                ws.send(message.clone()).unwrap();
                assert_eq!(ws.read().unwrap(), message);
            }
            ws.close(None).unwrap();
            // Until tungstenite sees the end of the close handshake.
            while ws.read().is_ok() {}
        });
        let code = echo(AsyncStream::new(ours, role)).await;
        assert_eq!(code, CloseCode::NO_STATUS_RECEIVED);
        peer.join().unwrap();
    }
}

#[tokio::test]
async fn tungstenite_reads_what_the_async_stream_sends_and_closes() {
    let (ours, peer) = loopback().await;
    let peer = thread::spawn(move || {
        let mut ws = WebSocket::from_raw_socket(peer, TRole::Client, None);
        loop {
            match ws.read() {
                Ok(TMessage::Close(frame)) => {
                    let frame = frame.unwrap();
                    assert_eq!(u16::from(frame.code), 1001);
                    assert_eq!(frame.reason.as_str(), "bye");
                }
                Ok(message) if message.is_text() || message.is_binary() => {
                    ws.send(message).unwrap()
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    // Frames of 1000 bytes: tungstenite reassembles the large message.
    let config = Config::default().max_send_frame_size(1000);
    let mut ws = AsyncStream::with_config(ours, Role::Server, config);
    for message in script() {
        ws.send(&message).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), message);
    }
    ws.close_with(CloseCode::GOING_AWAY, "bye").await.unwrap();
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::GOING_AWAY);
    peer.join().unwrap();
}

#[tokio::test]
async fn reassembles_fragments_with_control_frames_between() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut wire = peer_frame(Role::Server, TEXT, false, b"frag");
    wire.extend(peer_frame(Role::Server, PING, true, b"p"));
    wire.extend(peer_frame(Role::Server, CONT, false, "men".as_bytes()));
    wire.extend(peer_frame(Role::Server, CONT, true, "ted ✓".as_bytes()));
    peer.write_all(&wire).await.unwrap();
    let mut ws = AsyncStream::new(ours, Role::Server);
    assert_eq!(ws.recv_event().await.unwrap(), Event::Ping(b"p".to_vec()));
    assert_eq!(ws.recv().await.unwrap(), Message::text("fragmented ✓"));
    let pong = read_frame(&mut peer).await;
    assert_eq!((pong.opcode, pong.payload), (PONG, b"p".to_vec()));
}

#[tokio::test]
async fn a_client_closing_waits_for_the_server_to_end_tcp() {
    let (ours, peer) = loopback().await;
    let peer = thread::spawn(move || {
        let mut stream = Stream::with_role(peer, Role::Server);
        stream.enable_socket_control();
        stream.read_message().unwrap_err()
    });
    let mut ws = AsyncStream::new(ours, Role::Client);
    ws.close_with(CloseCode::NORMAL, "client done")
        .await
        .unwrap();
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
    // The server ended TCP first: the client's socket reads its end.
    let mut rest = Vec::new();
    assert_eq!(ws.get_mut().read_to_end(&mut rest).await.unwrap(), 0);
    assert!(peer.join().unwrap().is_closed());
}

#[tokio::test]
async fn a_client_gives_up_on_a_server_that_keeps_tcp_open_after_the_close_timeout() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let config = Config::default().close_timeout(Duration::from_millis(50));
    let mut ws = AsyncStream::with_config(ours, Role::Client, config);
    // The server's Close, then nothing: it never ends the stream.
    peer.write_all(&frame(CLOSE, true, &close_payload(1000, b""), None))
        .await
        .unwrap();
    let closed = tokio::time::timeout(STUCK, ws.close()).await;
    closed.unwrap().unwrap();
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
    let answer = read_frame(&mut peer).await;
    assert_eq!(answer.close_code(), Some(1000));
}

#[tokio::test]
async fn keepalive_ends_a_silent_peer() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let config = Config::default()
        .ping_interval(Some(Duration::from_millis(20)))
        .idle_timeout(Some(Duration::from_millis(80)));
    let mut ws = AsyncStream::with_config(ours, Role::Server, config);
    let ended = tokio::time::timeout(STUCK, ws.recv()).await.unwrap();
    assert!(matches!(ended, Err(Error::KeepaliveTimeout)), "{ended:?}");
    // Pings first, then our Close with 1011, then the end of the stream.
    let mut pings = 0;
    let close = loop {
        match read_frame(&mut peer).await {
            frame if frame.opcode == PING => pings += 1,
            frame => break frame,
        }
    };
    assert!(pings >= 1);
    assert_eq!(close.close_code(), Some(1011));
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test]
async fn recv_is_cancel_safe_against_a_timer_and_a_slow_peer() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Client);
    let mut wire = frame(TEXT, false, b"hello ", None);
    wire.extend(frame(CONT, true, b"slow world", None));
    // The peer sends a few bytes each time the timer wins, so every recv in flight
    // is dropped holding part of the message.
    let mut sent = 0;
    let mut ticks = 0;
    let message = loop {
        tokio::select! {
            message = ws.recv() => break message.unwrap(),
            () = tokio::time::sleep(Duration::from_millis(2)) => {
                ticks += 1;
                let next = (sent + 3).min(wire.len());
                peer.write_all(&wire[sent..next]).await.unwrap();
                sent = next;
            }
        }
    };
    assert_eq!(message, Message::text("hello slow world"));
    assert_eq!(sent, wire.len());
    assert!(
        ticks >= wire.len() / 3,
        "{ticks} ticks for {} bytes",
        wire.len()
    );
}

/// Polls `future` once, without a task to wake.
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[tokio::test]
async fn send_waits_while_a_peer_that_does_not_read_fills_the_buffer() {
    // 4 KiB of pipe, 64 KiB of write buffer, 10 KiB messages.
    let (ours, mut peer) = tokio::io::duplex(4096);
    let max = 64 << 10;
    let config = Config::default().max_write_buffer(max);
    let mut ws = AsyncStream::with_config(ours, Role::Server, config);
    let payload = vec![7u8; 10 << 10];
    let mut queued = 0;
    loop {
        // A send that must wait is dropped: it queued nothing.
        if poll_once(pin!(ws.send_binary(&payload))).is_pending() {
            break;
        }
        queued += 1;
        assert!(queued < 100, "sends never waited");
        assert!(ws.buffered_amount() <= max + payload.len() + 16);
    }
    assert!(ws.buffered_amount() <= max + payload.len() + 16);
    // Once the peer reads, the waiting send goes through and everything arrives.
    let reader = tokio::spawn(async move {
        let mut frames = 0;
        while frames < queued + 1 {
            let frame = read_frame(&mut peer).await;
            assert_eq!(frame.payload.len(), 10 << 10);
            frames += 1;
        }
        frames
    });
    ws.send_binary(&payload).await.unwrap();
    ws.flush().await.unwrap();
    assert_eq!(reader.await.unwrap(), queued + 1);
}

#[tokio::test]
async fn pings_are_answered_while_the_application_only_sends() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    for i in 0..20u8 {
        peer.write_all(&peer_frame(Role::Server, PING, true, &[i]))
            .await
            .unwrap();
        ws.send_text("tick").await.unwrap();
        // Our message, then the pong for this ping (in either order).
        let mut seen = [read_frame(&mut peer).await, read_frame(&mut peer).await];
        seen.sort_by_key(|frame| frame.opcode);
        assert_eq!((seen[0].opcode, &seen[0].payload[..]), (TEXT, &b"tick"[..]));
        assert_eq!((seen[1].opcode, &seen[1].payload[..]), (PONG, &[i][..]));
    }
    // The pings are reported still, the latest 16 of them.
    for i in 4..20u8 {
        assert_eq!(ws.recv_event().await.unwrap(), Event::Ping(vec![i]));
    }
    peer.write_all(&peer_frame(Role::Server, TEXT, true, b"after"))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("after"));
}

#[tokio::test]
async fn a_message_taken_in_by_a_send_waits_for_recv() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    let mut wire = peer_frame(Role::Server, TEXT, true, b"first");
    wire.extend(peer_frame(Role::Server, TEXT, true, b"second"));
    peer.write_all(&wire).await.unwrap();
    ws.send_text("out").await.unwrap();
    ws.send_text("out").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("first"));
    assert_eq!(ws.recv().await.unwrap(), Message::text("second"));
}

#[tokio::test]
async fn split_halves_send_from_many_tasks_while_one_receives() {
    let (ours, peer) = loopback().await;
    let peer = thread::spawn(move || {
        let mut stream = Stream::with_role(peer, Role::Client);
        stream.enable_socket_control();
        loop {
            match stream.read_message() {
                Ok(message) => stream.send(&message).unwrap(),
                Err(end) => return end,
            }
        }
    });
    let (mut reader, writer) = AsyncStream::new(ours, Role::Server).split();
    let senders: Vec<_> = (0..4)
        .map(|task| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    writer.send_text(&format!("{task}:{i}")).await.unwrap();
                }
            })
        })
        .collect();
    let mut last = [None; 4];
    for _ in 0..400 {
        let message = reader.recv().await.unwrap();
        let (task, i) = message.as_text().unwrap().split_once(':').unwrap();
        let (task, i): (usize, u32) = (task.parse().unwrap(), i.parse().unwrap());
        // Each task's messages come back in its own order.
        assert!(last[task].is_none_or(|before| before < i));
        last[task] = Some(i);
    }
    for sender in senders {
        sender.await.unwrap();
    }
    writer.close().await.unwrap();
    assert_eq!(reader.close_frame().unwrap().code, CloseCode::NORMAL);
    assert!(peer.join().unwrap().is_closed());
}

#[tokio::test]
async fn a_writer_alone_answers_pings() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let (_reader, writer) = AsyncStream::new(ours, Role::Server).split();
    peer.write_all(&peer_frame(Role::Server, PING, true, b"hb"))
        .await
        .unwrap();
    writer.send_text("only sending").await.unwrap();
    let mut seen = [read_frame(&mut peer).await, read_frame(&mut peer).await];
    seen.sort_by_key(|frame| frame.opcode);
    assert_eq!(seen.map(|frame| frame.opcode), [TEXT, PONG]);
}

#[tokio::test]
async fn stream_and_sink() {
    let (ours, peer) = loopback().await;
    let peer = thread::spawn(move || {
        let mut stream = Stream::with_role(peer, Role::Client);
        stream.enable_socket_control();
        for message in script() {
            stream.send(&message).unwrap();
        }
        // Then echoes until the close.
        loop {
            match stream.read_message() {
                Ok(message) => stream.send(&message).unwrap(),
                Err(end) => return end,
            }
        }
    });
    let mut ws = AsyncStream::new(ours, Role::Server);
    let received: Vec<_> = (&mut ws).take(script().len()).collect().await;
    let received: Vec<_> = received.into_iter().map(Result::unwrap).collect();
    assert_eq!(received, script());
    SinkExt::send(&mut ws, Message::text("via sink"))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("via sink"));
    SinkExt::close(&mut ws).await.unwrap();
    // A normal close ends the stream.
    assert!(ws.next().await.is_none());
    assert!(peer.join().unwrap().is_closed());
}

#[tokio::test]
async fn a_peer_closing_ends_the_stream_after_our_answer_is_written() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    peer.write_all(&peer_frame(
        Role::Server,
        CLOSE,
        true,
        &close_payload(4000, b"app"),
    ))
    .await
    .unwrap();
    let ended = ws.recv().await.unwrap_err();
    assert!(matches!(&ended, Error::Closed(frame) if frame.code == CloseCode::new(4000)));
    let answer = read_frame(&mut peer).await;
    assert_eq!(answer.close_code(), Some(4000));
    // A server ends the stream once the handshake is done.
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert!(matches!(ws.recv().await, Err(Error::AlreadyClosed)));
}

#[tokio::test]
async fn a_protocol_violation_is_answered_with_its_close_code() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    // Unmasked, from a client.
    peer.write_all(&frame(TEXT, true, b"x", None))
        .await
        .unwrap();
    let error = ws.recv().await.unwrap_err();
    assert_eq!(error.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    assert_eq!(read_frame(&mut peer).await.close_code(), Some(1002));
}

#[tokio::test]
async fn an_idle_connection_holds_no_buffers() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    peer.write_all(&peer_frame(Role::Server, BINARY, true, &[1; 1000]))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap().len(), 1000);
    ws.send_binary(&[2; 1000]).await.unwrap();
    ws.flush().await.unwrap();
    assert!(poll_once(pin!(ws.recv())).is_pending());
    assert_eq!(ws.buffer_capacity(), 0);
    // And the connection carries on.
    peer.write_all(&peer_frame(Role::Server, TEXT, true, b"again"))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("again"));
}

#[tokio::test]
async fn the_blocking_and_async_streams_agree_on_fragmented_sends() {
    let (ours, peer) = loopback().await;
    let peer = thread::spawn(move || {
        let mut stream = Stream::with_role(peer, Role::Client);
        stream.enable_socket_control();
        let mut writer = stream.message_writer(MessageKind::Binary).unwrap();
        for chunk in 0..50u8 {
            writer.write_all(&[chunk; 10_000]).unwrap();
        }
        writer.finish().unwrap();
        stream.read_message().unwrap_err()
    });
    let mut ws = AsyncStream::new(ours, Role::Server);
    let message = ws.recv().await.unwrap();
    let expected: Vec<u8> = (0..50u8).flat_map(|chunk| [chunk; 10_000]).collect();
    assert_eq!(message.as_binary().unwrap(), &expected[..]);
    ws.close().await.unwrap();
    assert!(peer.join().unwrap().is_closed());
}

/// `tokio::spawn` on a multi-thread runtime needs every future to be `Send`.
#[test]
fn the_futures_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let (ours, _peer) = tokio::io::duplex(64);
    let mut ws = AsyncStream::new(ours, Role::Server);
    assert_send(&ws.recv());
    assert_send(&ws.send(&Message::text("x")));
    assert_send(&ws.close());
    let (mut reader, writer) = ws.split();
    assert_send(&reader.recv());
    assert_send(&writer.send_text("x"));
    assert_send(&writer);
}

/// Reads one frame from the peer's end of a pipe, a byte at a time so that the next
/// frame stays in the pipe.
async fn read_frame(peer: &mut DuplexStream) -> Parsed {
    let mut bytes = Vec::new();
    loop {
        if let Some((parsed, _)) = parse_one(&bytes) {
            return parsed;
        }
        let mut chunk = [0; 1];
        let n = tokio::time::timeout(STUCK, peer.read(&mut chunk))
            .await
            .expect("a frame in time")
            .unwrap();
        assert!(n > 0, "the stream ended before a whole frame");
        bytes.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn a_close_request_from_another_task_wakes_a_waiting_recv() {
    // The peer is silent: only the request can end the server's wait.
    let (ours, mut peer) = tokio::io::duplex(4096);
    let mut server = AsyncStream::new(ours, Role::Server);
    let request = ws_stream::CloseRequest::new();
    server.set_close_request(request.clone());
    let waiting = tokio::spawn(async move { server.recv().await });
    // Let the task reach its wait before the request, so it must be woken.
    tokio::task::yield_now().await;
    request.request(CloseCode::GOING_AWAY);
    let received = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the request woke the task")
        .expect("the task did not panic");
    assert!(matches!(received, Err(Error::Closed(frame)) if frame.code == CloseCode::GOING_AWAY));
    // Our Close with 1001 went out to the peer.
    let mut close = [0u8; 4];
    peer.read_exact(&mut close).await.unwrap();
    assert_eq!(close, [0x88, 0x02, 0x03, 0xe9]);
}

#[tokio::test]
async fn try_send_refuses_whole_messages_once_a_peer_that_does_not_read_fills_the_buffer() {
    // 1 KiB of pipe, 4 KiB of write buffer: a peer that does not read fills both.
    let (ours, mut peer) = tokio::io::duplex(1024);
    let config = Config::default().max_write_buffer(4096);
    let (mut reader, writer) = AsyncStream::with_config(ours, Role::Server, config).split();
    let message = ws_stream::PreparedMessage::new(&Message::binary(vec![7; 1000]));
    let mut queued = 0;
    let refused = loop {
        match writer.try_send_prepared(&message) {
            Ok(()) => queued += 1,
            Err(error) => break error,
        }
        assert!(queued < 100, "the write buffer never filled");
    };
    assert!(
        matches!(refused, Error::WriteBufferFull { .. }),
        "{refused:?}"
    );
    // A receiving task writes the rest as the peer reads: every queued frame arrives
    // whole (1000 bytes of payload behind a 4-byte header), none half-sent.
    let receiving = tokio::spawn(async move { reader.recv().await });
    let mut frames = vec![0u8; queued * 1004];
    peer.read_exact(&mut frames).await.unwrap();
    for frame in frames.chunks(1004) {
        assert_eq!(frame[..4], [0x82, 126, 0x03, 0xe8]);
        assert!(frame[4..].iter().all(|&byte| byte == 7));
    }
    drop(peer);
    let ended = receiving.await.unwrap();
    assert!(ended.is_err());
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_dropped_at_the_write_timeout() {
    let (ours, _peer) = tokio::io::duplex(1024);
    let config = Config::default()
        .max_write_buffer(256 << 10)
        .write_timeout(Some(Duration::from_millis(100)));
    let mut ws = AsyncStream::with_config(ours, Role::Server, config);
    let message = Message::binary(vec![1; 64 << 10]);
    // Sends queue until the buffer is full, then wait on the peer, which never reads.
    let refused = tokio::time::timeout(STUCK, async {
        loop {
            if let Err(error) = ws.send(&message).await {
                break error;
            }
        }
    })
    .await
    .expect("the write timeout ended the wait");
    assert!(matches!(refused, Error::AlreadyClosed), "{refused:?}");
    let ended = ws.recv().await;
    assert!(matches!(ended, Err(Error::WriteTimeout)), "{ended:?}");
    assert_eq!(
        ws.close_frame().map(|frame| frame.code),
        Some(CloseCode::ABNORMAL)
    );
    assert_eq!(
        ws.buffered_amount(),
        0,
        "what the peer would not take is dropped"
    );
}

/// Autobahn 3.2 and its kin: a reply to a message goes out before the Close that the
/// violation right behind it earns, even when both arrived in one read.
#[tokio::test]
async fn the_echo_of_a_message_goes_out_before_the_close_for_the_violation_behind_it() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    let mut bytes = peer_frame(Role::Server, TEXT, true, b"hello");
    let mut reserved = peer_frame(Role::Server, TEXT, true, b"bad");
    reserved[0] |= 0x20; // RSV2, which nothing negotiated
    bytes.extend_from_slice(&reserved);
    peer.write_all(&bytes).await.unwrap();
    let message = ws.recv().await.unwrap();
    ws.send(&message).await.unwrap();
    let ended = ws.recv().await;
    assert!(ended.is_err(), "{ended:?}");
    let echo = read_frame(&mut peer).await;
    assert_eq!(
        (echo.opcode, echo.payload.as_slice()),
        (TEXT, &b"hello"[..])
    );
    let close = read_frame(&mut peer).await;
    assert_eq!(close.close_code(), Some(1002));
}

/// A transport that counts the writes that moved bytes.
#[derive(Debug)]
struct CountingWrites<S> {
    inner: S,
    writes: usize,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for CountingWrites<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for CountingWrites<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            self.writes += 1;
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn fed_replies_to_pipelined_messages_go_out_in_fewer_writes_than_messages() {
    const PIPELINED: usize = 8;
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let counting = CountingWrites {
        inner: ours,
        writes: 0,
    };
    let mut ws = AsyncStream::new(counting, Role::Server);
    let sent: Vec<Vec<u8>> = (0..PIPELINED)
        .map(|i| format!("message {i}").into_bytes())
        .collect();
    let pipelined: Vec<u8> = sent
        .iter()
        .flat_map(|payload| peer_frame(Role::Server, TEXT, true, payload))
        .collect();
    peer.write_all(&pipelined).await.unwrap();
    for payload in &sent {
        let message = ws.recv().await.unwrap();
        assert_eq!(message.as_bytes(), &payload[..]);
        ws.feed(&message).await.unwrap();
    }
    // Fed, not written: the receives handed out messages already read.
    assert_eq!(ws.get_ref().writes, 0);
    assert!(ws.buffered_amount() > 0);
    // The next receive finds no more input and writes every reply.
    assert!(poll_once(pin!(ws.recv())).is_pending());
    let writes = ws.get_ref().writes;
    assert!(
        (1..PIPELINED).contains(&writes),
        "{writes} writes for {PIPELINED} replies"
    );
    assert_eq!(ws.buffered_amount(), 0);
    let mut echoed = Vec::new();
    while echoed.len() < PIPELINED {
        echoed.push(read_frame(&mut peer).await);
    }
    for (frame, payload) in echoed.iter().zip(&sent) {
        assert_eq!((frame.opcode, &frame.payload), (TEXT, payload));
    }
}

#[tokio::test]
async fn fed_bytes_wait_for_room_and_a_send_writes_them() {
    let (ours, mut peer) = tokio::io::duplex(1 << 16);
    let mut ws = AsyncStream::new(ours, Role::Server);
    ws.feed(&Message::text("first")).await.unwrap();
    assert!(ws.buffered_amount() > 0);
    ws.send(&Message::text("second")).await.unwrap();
    assert_eq!(ws.buffered_amount(), 0);
    let first = read_frame(&mut peer).await;
    let second = read_frame(&mut peer).await;
    assert_eq!(first.payload, b"first");
    assert_eq!(second.payload, b"second");
}

#[test]
fn buffers_a_quiet_connection_gives_back_serve_the_next_one() {
    use std::time::Instant;
    use ws_stream::proto::{Connection, SpareBuffers};

    let now = Instant::now();
    let mut spare = SpareBuffers::new();
    let mut first = Connection::new(Role::Server, &Config::default(), now);
    let mut second = Connection::new(Role::Server, &Config::default(), now);
    first.receive(&peer_frame(Role::Server, TEXT, true, b"one"), now);
    assert!(first.poll_event().unwrap().is_some());
    first.send(&Message::text("one")).unwrap();
    let written = first.pending().len();
    first.advance(written);
    first.release_buffers_to(&mut spare);
    assert_eq!(first.buffer_capacity(), 0);
    let kept = spare.capacity();
    assert!(kept > 0);
    second.reuse_buffers(&mut spare);
    assert_eq!((spare.capacity(), second.buffer_capacity()), (0, kept));
    // Only what the second connection reads is there to decode.
    let frame = peer_frame(Role::Server, TEXT, true, b"two");
    second.read_buffer()[..frame.len()].copy_from_slice(&frame);
    second.filled(frame.len(), now);
    match second.poll_event().unwrap() {
        Some(ws_stream::proto::Incoming::Message(message)) => {
            assert_eq!(message.as_bytes(), b"two");
        }
        other => panic!("{other:?}"),
    }
    assert!(second.poll_event().unwrap().is_none());
    assert_eq!(second.buffer_capacity(), kept);
}

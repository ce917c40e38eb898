//! The close handshake in both directions, close codes and reasons, what happens after
//! the end, the close timeout, and the server ending TCP first.

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ws_stream::{CloseCode, CloseFrame, Config, Error, Event, Message, MessageKind, Role, Stream};

use crate::support::*;

#[test]
fn peer_close_is_echoed_and_reported_by_read_message() {
    for role in ROLES {
        let input = peer_frame(role, CLOSE, true, &close_payload(1000, b"bye"));
        let mut stream = wire(role, input);
        match stream.read_message() {
            Err(Error::Closed(frame)) => {
                assert_eq!(frame, CloseFrame::new(CloseCode::NORMAL, "bye"));
                assert!(frame.is_normal());
            }
            other => panic!("{other:?}"),
        }
        let frames = written(&stream);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].close_code(), Some(1000));
        assert_eq!(
            stream.close_frame(),
            Some(&CloseFrame::new(CloseCode::NORMAL, "bye"))
        );
        assert!(stream.is_closed());
    }
}

#[test]
fn peer_close_is_an_event_for_read_event() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, true, b"last words");
        input.extend(peer_frame(role, CLOSE, true, &close_payload(1001, b"")));
        let mut stream = wire(role, input);
        assert_eq!(
            stream.read_event().unwrap(),
            Event::Message(Message::text("last words"))
        );
        assert_eq!(
            stream.read_event().unwrap(),
            Event::Close(CloseFrame::new(CloseCode::GOING_AWAY, ""))
        );
        assert!(matches!(stream.read_event(), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
        assert_eq!(written(&stream)[0].close_code(), Some(1001));
    }
}

#[test]
fn empty_close_is_answered_with_1000_and_reported_as_1005() {
    for role in ROLES {
        let mut stream = wire(role, peer_frame(role, CLOSE, true, b""));
        match stream.read_message() {
            Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NO_STATUS_RECEIVED),
            other => panic!("{other:?}"),
        }
        assert_eq!(written(&stream)[0].close_code(), Some(1000));
    }
}

#[test]
fn sends_after_the_peer_closed_fail_with_already_closed() {
    for role in ROLES {
        let mut stream = wire(
            role,
            peer_frame(role, CLOSE, true, &close_payload(1000, b"")),
        );
        assert!(stream.read_message().unwrap_err().is_closed());
        assert!(matches!(stream.send_text("x"), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.send_binary([1]), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.ping(b""), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.pong(b""), Err(Error::AlreadyClosed)));
        assert!(matches!(
            stream.message_writer(MessageKind::Binary),
            Err(Error::AlreadyClosed)
        ));
        assert_eq!(written(&stream).len(), 1, "only the echoed Close");
        stream.close().unwrap();
        assert_eq!(
            written(&stream).len(),
            1,
            "close() after the end sends nothing"
        );
    }
}

/// The seed's case: over a stream that reads nothing, every send and close succeed.
#[test]
fn sends_and_close_over_an_empty_cursor() {
    let mut stream = Stream::new(Cursor::new(Vec::new()), false);
    stream.send_text("text").unwrap();
    stream.send_binary([1, 2, 3]).unwrap();
    stream.ping(b"ping").unwrap();
    stream.pong(b"pong").unwrap();
    stream.close().unwrap();
    assert!(stream.is_closed());
    assert_eq!(
        stream.close_frame().map(|frame| frame.code),
        Some(CloseCode::ABNORMAL),
        "the stream ended without the peer's Close"
    );
    assert!(matches!(
        stream.send_text("late"),
        Err(Error::AlreadyClosed)
    ));
    assert!(matches!(stream.ping(b""), Err(Error::AlreadyClosed)));
    let bytes = stream.into_inner().into_inner();
    let kinds: Vec<_> = parse_frames(&bytes).iter().map(|f| f.opcode).collect();
    assert_eq!(kinds, [TEXT, BINARY, PING, PONG, CLOSE]);
}

#[test]
fn close_waits_for_the_peer_close_discarding_messages() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, true, b"in flight");
        input.extend(peer_frame(role, PING, true, b"p"));
        input.extend(peer_frame(role, BINARY, false, b"half"));
        input.extend(peer_frame(role, CONT, true, b" done"));
        input.extend(peer_frame(role, CLOSE, true, &close_payload(1000, b"ok")));
        input.extend(peer_frame(role, TEXT, true, b"after close: never read"));
        let mut stream = wire(role, input);
        stream.close().unwrap();
        assert_eq!(
            stream.close_frame(),
            Some(&CloseFrame::new(CloseCode::NORMAL, "ok"))
        );
        let frames = written(&stream);
        assert_eq!(
            frames.len(),
            1,
            "only our Close, no pong after it: {frames:?}"
        );
        assert_eq!(frames[0].close_code(), Some(1000));
        assert!(matches!(stream.send_text("x"), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
    }
}

#[test]
fn close_with_sends_the_code_and_reason() {
    for role in ROLES {
        let mut stream = wire(role, Vec::new());
        stream
            .close_with(CloseCode::INTERNAL_ERROR, "something broke")
            .unwrap();
        let frames = written(&stream);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].close_code(), Some(1011));
        assert_eq!(&frames[0].payload[2..], b"something broke");
        let reason = "r".repeat(123);
        let mut stream = wire(role, Vec::new());
        stream.close_with(CloseCode::new(4999), &reason).unwrap();
        assert_eq!(
            written(&stream)[0].payload,
            close_payload(4999, reason.as_bytes())
        );
    }
}

#[test]
fn close_with_refuses_unsendable_codes_and_long_reasons() {
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let mut stream = wire(Role::Client, Vec::new());
        assert!(
            matches!(
                stream.close_with(CloseCode::new(code), ""),
                Err(Error::InvalidSend(_))
            ),
            "{code}"
        );
        assert!(written(&stream).is_empty());
        assert!(
            !stream.is_closed(),
            "a refused Close leaves the connection open"
        );
    }
    let mut stream = wire(Role::Client, Vec::new());
    assert!(matches!(
        stream.close_with(CloseCode::NORMAL, &"r".repeat(124)),
        Err(Error::InvalidSend(_))
    ));
}

const VALID_CODES: &[u16] = &[
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CODES: &[u16] = &[
    0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
];

#[test]
fn valid_close_codes_are_echoed_with_or_without_reason() {
    for role in ROLES {
        for &code in VALID_CODES {
            for reason in ["", "a reason – with ü"] {
                let input = peer_frame(role, CLOSE, true, &close_payload(code, reason.as_bytes()));
                let mut stream = wire(role, input);
                match stream.read_event() {
                    Ok(Event::Close(frame)) => {
                        assert_eq!(frame, CloseFrame::new(CloseCode::new(code), reason));
                    }
                    other => panic!("{code}: {other:?}"),
                }
                assert_eq!(written(&stream)[0].close_code(), Some(code));
            }
        }
    }
}

#[test]
fn invalid_close_codes_are_protocol_errors() {
    for role in ROLES {
        for &code in INVALID_CODES {
            for reason in [&b""[..], b"why"] {
                let input = peer_frame(role, CLOSE, true, &close_payload(code, reason));
                let mut stream = wire(role, input);
                match stream.read_message() {
                    Err(error @ Error::Frame(ws_frame::Error::InvalidCloseCode(_))) => {
                        assert_eq!(error.close_code(), Some(CloseCode::PROTOCOL_ERROR));
                    }
                    other => panic!("{code}: {other:?}"),
                }
                let frames = written(&stream);
                assert_eq!(frames.len(), 1);
                assert_eq!(frames[0].close_code(), Some(1002), "{code}");
            }
        }
    }
}

#[test]
fn close_reason_that_is_not_utf8_is_1007() {
    for role in ROLES {
        for reason in [&b"\xff"[..], b"ok\xc0\xaf", b"cut \xe2\x82"] {
            let input = peer_frame(role, CLOSE, true, &close_payload(1000, reason));
            let mut stream = wire(role, input);
            let error = stream.read_message().unwrap_err();
            assert!(
                matches!(error, Error::Frame(ws_frame::Error::CloseReasonNotUtf8)),
                "{error:?}"
            );
            assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
            assert_eq!(written(&stream)[0].close_code(), Some(1007));
        }
    }
}

#[test]
fn close_handshake_between_our_endpoints_over_loopback() {
    for initiator in ROLES {
        let (mut client, mut server) = stream_pair(Config::default());
        client.enable_socket_control();
        server.enable_socket_control();
        let (mut closer, mut other) = match initiator {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        other.send_text("crossing the Close").unwrap();
        let answer = thread::spawn(move || {
            let result = other.read_message();
            (other, result)
        });
        closer.close_with(CloseCode::new(3001), "done").unwrap();
        assert_eq!(
            closer.close_frame(),
            Some(&CloseFrame::new(CloseCode::new(3001), "")),
            "the peer echoed our code"
        );
        let (other, result) = answer.join().unwrap();
        match result {
            Err(Error::Closed(frame)) => {
                assert_eq!(frame, CloseFrame::new(CloseCode::new(3001), "done"));
            }
            other => panic!("{other:?}"),
        }
        assert!(other.is_closed());
        assert!(matches!(closer.send_text("x"), Err(Error::AlreadyClosed)));
    }
}

/// After the handshake the server ends the TCP connection, which the client sees as
/// the end of the stream, both when the client closes and when the server does.
#[test]
fn server_shuts_down_tcp_after_the_handshake() {
    // The client closes: our server answers and ends the connection.
    let (mut raw_client, server_socket) = tcp_pair();
    raw_client.set_read_timeout(Some(STUCK)).unwrap();
    let mut server = Stream::with_role(server_socket, Role::Server);
    server.enable_socket_control();
    raw_client
        .write_all(&frame(CLOSE, true, &close_payload(1000, b""), Some(KEY)))
        .unwrap();
    assert!(server.read_message().unwrap_err().is_closed());
    let mut pending = Vec::new();
    let echo = read_frame(&mut raw_client, &mut pending).expect("the echoed Close");
    assert_eq!(echo.close_code(), Some(1000));
    assert_eof(&mut raw_client, &pending);

    // The server closes: once the client answers, it ends the connection.
    let (mut raw_client, server_socket) = tcp_pair();
    raw_client.set_read_timeout(Some(STUCK)).unwrap();
    let mut server = Stream::with_role(server_socket, Role::Server);
    server.enable_socket_control();
    let closer = thread::spawn(move || server.close().map(|()| server.close_frame().cloned()));
    let mut pending = Vec::new();
    let close = read_frame(&mut raw_client, &mut pending).expect("the server's Close");
    assert_eq!(close.close_code(), Some(1000));
    raw_client
        .write_all(&frame(CLOSE, true, &close_payload(1000, b""), Some(KEY)))
        .unwrap();
    assert_eof(&mut raw_client, &pending);
    assert_eq!(
        closer.join().unwrap().unwrap().map(|frame| frame.code),
        Some(CloseCode::NORMAL)
    );
}

fn assert_eof(socket: &mut TcpStream, pending: &[u8]) {
    assert!(pending.is_empty(), "nothing after the Close: {pending:?}");
    let mut rest = Vec::new();
    // A timeout here would fail the test: the server must end the stream.
    socket.read_to_end(&mut rest).expect("end of stream");
    assert!(rest.is_empty(), "nothing after the Close: {rest:?}");
}

/// A client's close() lets the server end TCP first, then returns.
#[test]
fn client_close_waits_for_the_server_to_end_tcp() {
    let (client_socket, mut raw_server) = tcp_pair();
    raw_server.set_read_timeout(Some(STUCK)).unwrap();
    let mut client = Stream::with_config(
        client_socket,
        Role::Client,
        Config::default().close_timeout(STUCK),
    );
    client.enable_socket_control();
    let closer = thread::spawn(move || {
        client.close().unwrap();
        client
    });
    let mut pending = Vec::new();
    let close = read_frame(&mut raw_server, &mut pending).expect("the client's Close");
    assert!(close.masked);
    assert_eq!(close.close_code(), Some(1000));
    raw_server
        .write_all(&frame(CLOSE, true, &close_payload(1000, b""), None))
        .unwrap();
    // The client's close() returns only once the server ends the connection.
    raw_server.shutdown(std::net::Shutdown::Both).unwrap();
    let client = closer.join().unwrap();
    assert_eq!(
        client.close_frame().map(|frame| frame.code),
        Some(CloseCode::NORMAL)
    );
}

#[test]
fn close_gives_up_after_the_close_timeout_when_the_peer_stays_silent() {
    for role in ROLES {
        let (ours, theirs) = tcp_pair();
        let (ours, _silent_peer) = match role {
            Role::Client => (ours, theirs),
            Role::Server => (theirs, ours),
        };
        let config = Config::default().close_timeout(Duration::from_millis(100));
        let mut stream = Stream::with_config(ours, role, config);
        stream.enable_socket_control();
        stream.close().unwrap();
        assert_eq!(
            stream.close_frame().map(|frame| frame.code),
            Some(CloseCode::ABNORMAL)
        );
        assert!(matches!(stream.send_text("x"), Err(Error::AlreadyClosed)));
    }
}

/// The peer keeps sending messages without a pause and never answers our Close: the
/// close timeout still ends close(), although no read ever times out.
#[test]
fn close_gives_up_after_the_close_timeout_when_the_peer_keeps_talking() {
    for role in ROLES {
        let (ours, mut talker_socket) = tcp_pair();
        let config = Config::default().close_timeout(Duration::from_millis(200));
        let mut stream = Stream::with_config(ours, role, config);
        stream.enable_socket_control();
        talker_socket
            .set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let talker = thread::spawn(move || {
            let chatter = peer_frame(role, TEXT, true, b"chatter").repeat(500);
            while done_rx.try_recv().is_err() {
                if talker_socket.write_all(&chatter).is_err() {
                    break;
                }
            }
        });
        let (result_tx, result_rx) = mpsc::channel();
        thread::spawn(move || {
            let result = stream.close().map(|()| stream.close_frame().cloned());
            result_tx.send(result).ok();
        });
        let result = result_rx
            .recv_timeout(STUCK)
            .expect("close() must end when the close timeout passes");
        drop(done_tx);
        talker.join().unwrap();
        assert_eq!(
            result.unwrap().map(|frame| frame.code),
            Some(CloseCode::ABNORMAL),
            "{role:?}"
        );
    }
}

#[test]
fn close_frame_display_and_error_predicates() {
    let frame = CloseFrame::new(CloseCode::NORMAL, "bye");
    assert_eq!(frame.to_string(), "1000 (normal closure): bye");
    assert!(Error::Closed(frame).is_closed());
    assert!(Error::AlreadyClosed.is_closed());
    assert!(!Error::Closed(CloseFrame::new(CloseCode::ABNORMAL, "")).is_closed());
    assert!(!Error::Closed(CloseFrame::new(CloseCode::PROTOCOL_ERROR, "")).is_closed());
}

/// A peer whose socket is reset (it closed with our data unread) ended as abruptly as
/// one that closed without a Close: 1006, not a bare I/O error.
#[test]
fn a_reset_connection_is_reported_as_1006() {
    let (peer, server_socket) = tcp_pair();
    let mut server = Stream::with_role(server_socket, Role::Server);
    server.send_text("unread").unwrap();
    // Closing with unread data makes the kernel answer with a reset (RFC 1122
    // 4.2.2.13): wait until the data is there, unread, then close.
    peer.set_read_timeout(Some(STUCK)).unwrap();
    assert!(peer.peek(&mut [0; 1]).unwrap() > 0);
    drop(peer);
    match server.read_message() {
        Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::ABNORMAL),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.close_frame().map(|frame| frame.code),
        Some(CloseCode::ABNORMAL)
    );
}

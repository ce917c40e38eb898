//! Interop with tungstenite over loopback, in both roles and both close directions:
//! text, binary, large and fragmented messages, pings both ways, and the close handshake.
//!
//! The HTTP upgrade is not ws-stream's business, so both ends start from a raw socket
//! (`WebSocket::from_raw_socket` on tungstenite's side).

use std::net::TcpStream;
use std::thread;

use tungstenite::protocol::frame::coding::{CloseCode as TCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame as TCloseFrame, Frame};
use tungstenite::protocol::{Message as TMessage, Role as TRole, WebSocket};
use ws_stream::{CloseCode, CloseFrame, Config, Event, Message, Role, Stream};

use crate::support::*;

/// Who starts the close handshake.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Closer {
    Us,
    Tungstenite,
}

/// Our side: echoes messages, answers "ping-me" with a ping and reports the pong,
/// and closes on "close-now". Returns how the connection ended.
fn our_side(mut stream: Stream<TcpStream>) -> CloseFrame {
    loop {
        match stream.read_event().unwrap() {
            Event::Message(Message::Text(text)) if text == "ping-me" => {
                stream.ping(b"from ws-stream").unwrap();
            }
            Event::Message(Message::Text(text)) if text == "close-now" => {
                stream
                    .close_with(CloseCode::GOING_AWAY, "bye from ws-stream")
                    .unwrap();
                return stream.close_frame().unwrap().clone();
            }
            Event::Message(message) => stream.send(&message).unwrap(),
            Event::Pong(payload) => {
                let text = format!("pong: {}", String::from_utf8(payload).unwrap());
                stream.send_text(text).unwrap();
            }
            Event::Ping(payload) => assert_eq!(payload, b"from tungstenite"),
            Event::Close(frame) => return frame,
            other => panic!("{other:?}"),
        }
    }
}

fn expect(ws: &mut WebSocket<TcpStream>, expected: TMessage) {
    assert_eq!(ws.read().unwrap(), expected);
}

/// Tungstenite's side of the script.
fn tungstenite_side(mut ws: WebSocket<TcpStream>, closer: Closer) {
    for message in [
        TMessage::text("hello"),
        TMessage::text(""),
        TMessage::text("κόσμε 🎉".repeat(1000)),
        TMessage::binary(vec![]),
        TMessage::binary(pattern(100_000)),
        TMessage::binary(pattern(5 << 20)),
    ] {
        ws.send(message.clone()).unwrap();
        expect(&mut ws, message);
    }

    // A fragmented text message with a ping between its fragments; the pong comes
    // back before the echo.
    let fragments = [
        Frame::message(&b"frag"[..], OpCode::Data(Data::Text), false),
        Frame::ping(&b"from tungstenite"[..]),
        Frame::message(&b""[..], OpCode::Data(Data::Continue), false),
        Frame::message("mé".as_bytes(), OpCode::Data(Data::Continue), false),
        Frame::message(&b"nted"[..], OpCode::Data(Data::Continue), true),
    ];
    for frame in fragments {
        ws.write(TMessage::Frame(frame)).unwrap();
    }
    ws.flush().unwrap();
    expect(&mut ws, TMessage::Pong("from tungstenite".into()));
    expect(&mut ws, TMessage::text("fragménted"));

    // Our side pings; tungstenite answers on its next read, and we report the pong.
    ws.send(TMessage::text("ping-me")).unwrap();
    expect(&mut ws, TMessage::Ping("from ws-stream".into()));
    expect(&mut ws, TMessage::text("pong: from ws-stream"));

    match closer {
        Closer::Tungstenite => {
            ws.close(Some(TCloseFrame {
                code: TCode::Normal,
                reason: "bye from tungstenite".into(),
            }))
            .unwrap();
            loop {
                match ws.read() {
                    Ok(TMessage::Close(frame)) => {
                        assert_eq!(frame.map(|f| f.code), Some(TCode::Normal), "echoed");
                    }
                    Ok(other) => panic!("{other:?}"),
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(error) => panic!("{error:?}"),
                }
            }
        }
        Closer::Us => {
            ws.send(TMessage::text("close-now")).unwrap();
            match ws.read().unwrap() {
                TMessage::Close(Some(frame)) => {
                    assert_eq!(frame.code, TCode::Away);
                    assert_eq!(frame.reason, "bye from ws-stream");
                }
                other => panic!("{other:?}"),
            }
            // Reading on sends tungstenite's answer and sees the connection end.
            match ws.read() {
                Err(tungstenite::Error::ConnectionClosed) => {}
                other => panic!("{other:?}"),
            }
        }
    }
}

fn run(our_role: Role, closer: Closer) {
    let (client_socket, server_socket) = tcp_pair();
    let (ours, theirs, their_role) = match our_role {
        Role::Server => (server_socket, client_socket, TRole::Client),
        Role::Client => (client_socket, server_socket, TRole::Server),
    };
    for socket in [&ours, &theirs] {
        socket.set_read_timeout(Some(STUCK)).unwrap();
    }
    // Small frames on our side, so that tungstenite reassembles what we fragment.
    let config = Config::default().max_send_frame_size(1000);
    let mut stream = Stream::with_config(ours, our_role, config);
    stream.enable_socket_control();
    let ws = WebSocket::from_raw_socket(theirs, their_role, None);
    let tungstenite = thread::spawn(move || tungstenite_side(ws, closer));
    let ending = our_side(stream);
    tungstenite.join().unwrap();
    let expected = match closer {
        Closer::Tungstenite => CloseFrame::new(CloseCode::NORMAL, "bye from tungstenite"),
        // Tungstenite echoes our code and reason.
        Closer::Us => CloseFrame::new(CloseCode::GOING_AWAY, "bye from ws-stream"),
    };
    assert_eq!(ending, expected, "{our_role:?}, {closer:?}");
}

#[test]
fn our_server_with_a_tungstenite_client_which_closes() {
    run(Role::Server, Closer::Tungstenite);
}

#[test]
fn our_server_with_a_tungstenite_client_closed_by_us() {
    run(Role::Server, Closer::Us);
}

#[test]
fn our_client_with_a_tungstenite_server_which_closes() {
    run(Role::Client, Closer::Tungstenite);
}

#[test]
fn our_client_with_a_tungstenite_server_closed_by_us() {
    run(Role::Client, Closer::Us);
}

/// Tungstenite's own fragmentation (its `max_frame_size`-free sender writes whole
/// frames, so fragment by hand) and our limits: a message over our limit is refused
/// with 1009, which tungstenite reads as the Close.
#[test]
fn a_tungstenite_message_over_our_limit_gets_1009() {
    let (client_socket, server_socket) = tcp_pair();
    client_socket.set_read_timeout(Some(STUCK)).unwrap();
    let mut server = Stream::with_config(
        server_socket,
        Role::Server,
        Config::default().max_message_size(1000),
    );
    let mut ws = WebSocket::from_raw_socket(client_socket, TRole::Client, None);
    ws.send(TMessage::binary(pattern(1001))).unwrap();
    assert!(matches!(
        server.read_message(),
        Err(ws_stream::Error::MessageTooLarge { max: 1000 })
    ));
    match ws.read().unwrap() {
        TMessage::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("{other:?}"),
    }
}

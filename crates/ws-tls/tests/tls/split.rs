//! Split TLS streams: one thread reads while another sends, with the peer doing the
//! same, and pings answered while both directions are busy.

use std::sync::mpsc;
use std::thread;

use ws_server::ServerConfig;
use ws_stream::{Event, Message};

use crate::pki::pki;
use crate::support::{acceptor, connect, connector, echo_server, within};

/// Enough data that both directions' socket buffers fill many times over.
const MESSAGES: usize = 400;
const MESSAGE_SIZE: usize = 64 << 10;

fn payload(i: usize) -> Vec<u8> {
    let mut payload = vec![(i % 256) as u8; MESSAGE_SIZE];
    payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
    payload
}

/// The client's writer sends without pause while its reader takes the echoes: a
/// writer blocked on a full socket must not keep the reader from the session, or the
/// echo server, blocked on its own full socket, never reads again.
#[test]
fn reader_and_writer_threads_against_an_echo_server() {
    let handle = echo_server(ServerConfig::default());
    within("split client against echo", move || {
        let client = connect(&handle, "/echo");
        let (mut reader, writer) = client.into_stream().unwrap().split().unwrap();
        let sender = {
            let writer = writer.clone();
            thread::spawn(move || {
                for i in 0..MESSAGES {
                    writer.send_binary(payload(i)).unwrap();
                }
            })
        };
        for i in 0..MESSAGES {
            let message = reader.read_message().unwrap();
            assert!(message == Message::binary(payload(i)), "echo {i} differs");
        }
        sender.join().unwrap();
        writer.close().unwrap();
        assert!(reader.read_message().unwrap_err().is_closed());
    });
}

/// Both ends split, both sending continuously, and the server pings in between: the
/// client's reader answers each ping through the busy writer's session.
#[test]
fn both_ends_send_continuously_and_pings_are_answered() {
    const PINGS: usize = 20;
    let (report, reports) = mpsc::channel();
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect_split("/duplex", move |reader, writer, _path| {
            let sending = {
                let writer = writer.clone();
                thread::spawn(move || -> ws_stream::Result<()> {
                    for i in 0..MESSAGES {
                        writer.send_binary(payload(i))?;
                        if i % (MESSAGES / PINGS) == 0 {
                            writer.ping((i as u64).to_be_bytes())?;
                        }
                    }
                    writer.send_text("end")
                })
            };
            let (mut received, mut pongs) = (0, Vec::new());
            loop {
                match reader.read_event()? {
                    Event::Message(Message::Binary(data)) => {
                        assert!(data == payload(received), "message {received} differs");
                        received += 1;
                    }
                    Event::Pong(payload) => pongs.push(payload),
                    Event::Message(Message::Text(text)) if text == "end" => {}
                    other => panic!("unexpected {other:?}"),
                }
                if received == MESSAGES && pongs.len() == PINGS {
                    break;
                }
            }
            sending.join().unwrap()?;
            report.send(pongs).ok();
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    within("both ends busy", move || {
        let client = connect(&handle, "/duplex");
        let (mut reader, writer) = client.into_stream().unwrap().split().unwrap();
        let sender = {
            let writer = writer.clone();
            thread::spawn(move || {
                for i in 0..MESSAGES {
                    writer.send_binary(payload(i)).unwrap();
                }
            })
        };
        let (mut received, mut pings) = (0, 0);
        loop {
            match reader.read_event() {
                Ok(Event::Message(Message::Binary(data))) => {
                    assert!(data == payload(received), "message {received} differs");
                    received += 1;
                }
                Ok(Event::Ping(_)) => pings += 1,
                Ok(Event::Message(Message::Text(text))) => assert_eq!(text, "end"),
                Ok(Event::Close(frame)) => {
                    assert!(frame.is_normal(), "{frame:?}");
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        sender.join().unwrap();
        assert_eq!((received, pings), (MESSAGES, PINGS));
        let pongs = reports.recv().unwrap();
        let expected: Vec<Vec<u8>> = (0..MESSAGES)
            .step_by(MESSAGES / PINGS)
            .map(|i| (i as u64).to_be_bytes().to_vec())
            .collect();
        assert_eq!(pongs, expected);
        drop(handle);
    });
}

/// `TlsStream` itself (not `MaybeTlsStream`) splits.
#[test]
fn a_bare_tls_stream_splits() {
    let handle = echo_server(ServerConfig::default());
    let port = handle.local_addr().port();
    within("bare split", move || {
        let tls = connector().connect(&format!("localhost:{port}")).unwrap();
        let client =
            ws_client::Client::handshake(tls, format!("wss://localhost:{port}/echo")).unwrap();
        let (mut reader, writer) = client.into_stream().unwrap().split().unwrap();
        let echo = thread::spawn(move || reader.read_message().unwrap());
        writer.send_text("split").unwrap();
        assert_eq!(echo.join().unwrap(), Message::text("split"));
        writer.close().unwrap();
        drop(handle);
    });
}

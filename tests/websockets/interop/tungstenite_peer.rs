//! tungstenite, the most used Rust WebSocket crate, in-process: its client against our
//! server, and our client against its server on a thread.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::{Bytes, Message, WebSocket};

use super::scenario::{
    BoxError, CLIENT_CLOSE, CLIENT_PING, FRAGMENTED, HELLO, OurServer, Report, SERVER_CLOSE,
    SERVER_PING, STEP_TIMEOUT, Step, StepFailed, assert_uncompressed, binary, close_summary,
    echo_summary, expected_report, expected_transcripts, fragments, large_binary, large_text,
    our_client, record, summary,
};

type Ws = WebSocket<TcpStream>;

#[test]
fn tungstenite_client_plays_the_scenario_against_our_server() {
    let server = OurServer::spawn();
    let mut report = Report::new();
    tungstenite_client(server.port(), &mut report).ok();

    assert_eq!(report, expected_report(&Step::ALL));
    let (transcripts, stats) = server.ended(2);
    assert_eq!(transcripts, expected_transcripts(&Step::ALL, true));
    // tungstenite offers no compression, so none is agreed.
    assert_uncompressed(&stats, "our server against the tungstenite client");
}

#[test]
fn our_client_plays_the_scenario_against_a_tungstenite_server() {
    let (port, server) = tungstenite_server();
    let (report, stats) = our_client(port);
    assert_eq!(report, expected_report(&Step::ALL));
    // Our client offers compression; tungstenite declines it.
    assert_uncompressed(&[stats], "our client against the tungstenite server");
    let transcripts = server
        .join()
        .expect("the tungstenite server does not panic");
    assert_eq!(transcripts, expected_transcripts(&Step::ALL, true));
}

fn tungstenite_client(port: u16, report: &mut Report) -> Result<(), StepFailed> {
    let mut ws = match connect(port) {
        Ok(ws) => ws,
        Err(error) => return record(report, Step::Text, Err(error)),
    };
    record(report, Step::Text, echo(&mut ws, Message::text(HELLO)))?;
    record(
        report,
        Step::Binary,
        echo(&mut ws, Message::binary(binary())),
    )?;
    record(
        report,
        Step::BinaryMib,
        echo(&mut ws, Message::binary(large_binary())),
    )?;
    record(
        report,
        Step::TextMib,
        echo(&mut ws, Message::text(large_text())),
    )?;
    record(
        report,
        Step::FragmentedToServer,
        fragmented_to_server(&mut ws),
    )?;
    record(report, Step::ServerPings, server_pings(&mut ws))?;
    record(report, Step::ClientPings, client_pings(&mut ws))?;
    record(
        report,
        Step::FragmentedFromServer,
        ask(&mut ws, "fragment-me"),
    )?;
    record(report, Step::ClientCloses, client_closes(&mut ws))?;
    let server_closes = connect(port).and_then(|mut ws| server_closes(&mut ws));
    record(report, Step::ServerCloses, server_closes)
}

fn connect(port: u16) -> Result<Ws, BoxError> {
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(STEP_TIMEOUT))?;
    let url = format!("ws://127.0.0.1:{port}/scenario");
    let (ws, _response) = tungstenite::client(url.as_str(), tcp).map_err(failed)?;
    Ok(ws)
}

/// Errors of tungstenite as plain text: its handshake error is not `Sync`.
fn failed(error: impl std::fmt::Display) -> BoxError {
    error.to_string().into()
}

/// A tungstenite data message as ours, for the summaries.
fn ours(message: &Message) -> Option<websockets::Message> {
    match message {
        Message::Text(text) => Some(websockets::Message::text(text.as_str())),
        Message::Binary(data) => Some(websockets::Message::binary(data.to_vec())),
        _ => None,
    }
}

fn read_data(ws: &mut Ws) -> Result<websockets::Message, BoxError> {
    let message = ws.read().map_err(failed)?;
    ours(&message).ok_or_else(|| format!("unexpected {message:?}").into())
}

fn echo(ws: &mut Ws, message: Message) -> Result<String, BoxError> {
    let sent = ours(&message).ok_or("not a data message")?;
    ws.send(message).map_err(failed)?;
    Ok(echo_summary(&read_data(ws)?, &sent))
}

fn ask(ws: &mut Ws, command: &str) -> Result<String, BoxError> {
    ws.send(Message::text(command)).map_err(failed)?;
    Ok(match read_data(ws)? {
        websockets::Message::Text(text) => text,
        other => summary(&other),
    })
}

/// [`FRAGMENTED`] as a text frame and two continuation frames.
fn fragment_frames() -> [Frame; 3] {
    let [first, second, last] = fragments();
    [
        Frame::message(Bytes::from_static(first), OpCode::Data(Data::Text), false),
        Frame::message(
            Bytes::from_static(second),
            OpCode::Data(Data::Continue),
            false,
        ),
        Frame::message(Bytes::from_static(last), OpCode::Data(Data::Continue), true),
    ]
}

fn fragmented_to_server(ws: &mut Ws) -> Result<String, BoxError> {
    for frame in fragment_frames() {
        ws.send(Message::Frame(frame)).map_err(failed)?;
    }
    Ok(echo_summary(
        &read_data(ws)?,
        &websockets::Message::text(FRAGMENTED),
    ))
}

fn server_pings(ws: &mut Ws) -> Result<String, BoxError> {
    ws.send(Message::text("ping-me")).map_err(failed)?;
    let mut pinged = false;
    loop {
        match ws.read().map_err(failed)? {
            Message::Ping(payload) => pinged = payload == SERVER_PING,
            Message::Text(text) if pinged => return Ok(text.as_str().to_owned()),
            Message::Text(text) => return Ok(format!("{} (no ping seen)", text.as_str())),
            other => return Ok(format!("unexpected {other:?}")),
        }
    }
}

fn client_pings(ws: &mut Ws) -> Result<String, BoxError> {
    ws.send(Message::Ping(Bytes::from_static(CLIENT_PING)))
        .map_err(failed)?;
    Ok(match ws.read().map_err(failed)? {
        Message::Pong(payload) => format!("pong {}", String::from_utf8_lossy(&payload)),
        other => format!("unexpected {other:?}"),
    })
}

fn client_closes(ws: &mut Ws) -> Result<String, BoxError> {
    let (code, reason) = CLIENT_CLOSE;
    ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
    .map_err(failed)?;
    let mut answer = "no close frame".to_owned();
    loop {
        match ws.read() {
            Ok(Message::Close(Some(frame))) => answer = format!("close {}", u16::from(frame.code)),
            Ok(other) => return Ok(format!("unexpected {other:?}")),
            Err(tungstenite::Error::ConnectionClosed) => return Ok(answer),
            Err(error) => return Err(failed(error)),
        }
    }
}

fn server_closes(ws: &mut Ws) -> Result<String, BoxError> {
    ws.send(Message::text("close-me")).map_err(failed)?;
    let got = match ws.read().map_err(failed)? {
        Message::Close(Some(frame)) => close_summary(u16::from(frame.code), &frame.reason),
        other => return Ok(format!("unexpected {other:?}")),
    };
    // Reading on sends tungstenite's answering Close and sees the server end the stream.
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed) => Ok(got),
        other => Ok(format!("{got}, then {other:?}")),
    }
}

/// A tungstenite server playing the scenario for two connections on a thread; the
/// thread returns their transcripts, sorted.
fn tungstenite_server() -> (u16, JoinHandle<Vec<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    listener
        .set_nonblocking(true)
        .expect("the listener can poll");
    let server = thread::spawn(move || {
        let mut transcripts: Vec<Vec<String>> = (0..2)
            .map(|_| {
                let mut seen = Vec::new();
                if let Err(error) = accept(&listener).and_then(|ws| serve(ws, &mut seen)) {
                    seen.push(format!("error: {error}"));
                }
                seen
            })
            .collect();
        transcripts.sort();
        transcripts
    });
    (port, server)
}

fn accept(listener: &TcpListener) -> Result<Ws, BoxError> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let tcp = loop {
        match listener.accept() {
            Ok((tcp, _)) => break tcp,
            Err(error)
                if error.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(5));
            }
            Err(error) => return Err(error.into()),
        }
    };
    tcp.set_nonblocking(false)?;
    tcp.set_read_timeout(Some(STEP_TIMEOUT))?;
    tungstenite::accept(tcp).map_err(failed)
}

fn serve(mut ws: Ws, seen: &mut Vec<String>) -> Result<(), BoxError> {
    let mut closing = false;
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
            Err(error) => return Err(failed(error)),
        };
        match message {
            Message::Text(text) => {
                seen.push(format!("text {}", text.len()));
                match text.as_str() {
                    "ping-me" => ws.send(Message::Ping(Bytes::from_static(SERVER_PING))),
                    "fragment-me" => fragment_frames()
                        .into_iter()
                        .try_for_each(|frame| ws.send(Message::Frame(frame))),
                    "close-me" => {
                        closing = true;
                        let (code, reason) = SERVER_CLOSE;
                        ws.close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: reason.into(),
                        }))
                    }
                    _ => ws.send(Message::Text(text)),
                }
                .map_err(failed)?;
            }
            Message::Binary(data) => {
                seen.push(format!("binary {}", data.len()));
                ws.send(Message::Binary(data)).map_err(failed)?;
            }
            Message::Ping(payload) => {
                seen.push(format!("ping {}", String::from_utf8_lossy(&payload)))
            }
            Message::Pong(payload) => {
                let payload = String::from_utf8_lossy(&payload).into_owned();
                seen.push(format!("pong {payload}"));
                ws.send(Message::text(format!("pong: {payload}")))
                    .map_err(failed)?;
            }
            Message::Close(frame) => {
                let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.as_str().to_owned())
                });
                seen.push(if closing {
                    format!("close-echoed {code}")
                } else {
                    format!("close-received {code} {reason}")
                        .trim_end()
                        .to_owned()
                });
            }
            Message::Frame(_) => seen.push("unexpected raw frame".to_owned()),
        }
    }
}

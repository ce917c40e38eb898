//! The scenario every peer plays, and our own client and server for it.
//!
//! A scenario server echoes every message and knows three commands: `ping-me` (it pings
//! with `server-ping` and, once the pong is back, sends `pong: server-ping`),
//! `fragment-me` (it sends [`FRAGMENTED`] as three text frames cut inside UTF-8
//! characters) and `close-me` (it closes with 4001 "done"). It writes down what it sees
//! on each connection: a transcript.
//!
//! A scenario client runs the [`Step`]s on two connections and reports, per step, a
//! summary of what it got. The peer scripts in `tests/peers/` play both parts with the
//! same constants; the tests compare their reports and transcripts with what the steps
//! call for.
//!
//! Every peer but tungstenite offers or accepts permessage-deflate, and the scenario's
//! 1 MiB messages compress well, so [`assert_compressed`] checks on our side's
//! [`Stats`] that compression was agreed and used both ways.

use std::error::Error;
use std::io::Write;
use std::net::TcpStream;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::Value;
use websockets::client::ClientConfig;
use websockets::server::{ServerConfig, ServerHandle};
use websockets::stream::proto::Stats;
use websockets::stream::{Config, Event, MessageKind, Stream};
use websockets::{Client, CloseCode, Message, Server};

pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// How long any one step may take on our side.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) const HELLO: &str = "Hello, WebSocket! \u{2713}";
pub(crate) const FRAGMENTED: &str = "Gr\u{fc}\u{df}e, fragmentierte Welt \u{2713}";
/// Where [`FRAGMENTED`] is cut into frames: inside the "ü" and inside the check mark.
const CUTS: [usize; 2] = [3, 29];
pub(crate) const SERVER_PING: &[u8] = b"server-ping";
pub(crate) const CLIENT_PING: &[u8] = b"client-ping";
pub(crate) const CLIENT_CLOSE: (u16, &str) = (4000, "bye");
pub(crate) const SERVER_CLOSE: (u16, &str) = (4001, "done");

pub(crate) fn binary() -> Vec<u8> {
    (0..=255).collect()
}

/// 1 MiB of bytes that do not repeat at any power-of-two period.
pub(crate) fn large_binary() -> Vec<u8> {
    (0..1 << 20).map(|i: u32| (i % 251) as u8).collect()
}

/// 1 MiB of UTF-8 in three-byte characters, so frame boundaries cut characters.
pub(crate) fn large_text() -> String {
    "\u{2713}".repeat(349_525) + "x"
}

/// [`FRAGMENTED`] in the three pieces that go out as three frames.
pub(crate) fn fragments() -> [&'static [u8]; 3] {
    let bytes = FRAGMENTED.as_bytes();
    [
        &bytes[..CUTS[0]],
        &bytes[CUTS[0]..CUTS[1]],
        &bytes[CUTS[1]..],
    ]
}

/// One step of the scenario, as the client takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Echo of a short text with a multi-byte character.
    Text,
    /// Echo of every byte value.
    Binary,
    /// Echo of 1 MiB of binary.
    BinaryMib,
    /// Echo of 1 MiB of text.
    TextMib,
    /// The client sends [`FRAGMENTED`] in three frames; the echo comes back whole.
    FragmentedToServer,
    /// `ping-me`: the server pings the client and reports the pong.
    ServerPings,
    /// The client pings; the server's pong comes back.
    ClientPings,
    /// `fragment-me`: the server sends three frames; the client gets one message.
    FragmentedFromServer,
    /// The client closes with 4000 "bye"; the server's Close echoes the code.
    ClientCloses,
    /// On a second connection, `close-me`: the server closes with 4001 "done".
    ServerCloses,
}

impl Step {
    /// Every step, in the order clients take them.
    pub(crate) const ALL: [Step; 10] = [
        Step::Text,
        Step::Binary,
        Step::BinaryMib,
        Step::TextMib,
        Step::FragmentedToServer,
        Step::ServerPings,
        Step::ClientPings,
        Step::FragmentedFromServer,
        Step::ClientCloses,
        Step::ServerCloses,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Step::Text => "text",
            Step::Binary => "binary",
            Step::BinaryMib => "binary-1mib",
            Step::TextMib => "text-1mib",
            Step::FragmentedToServer => "fragmented-to-server",
            Step::ServerPings => "server-pings",
            Step::ClientPings => "client-pings",
            Step::FragmentedFromServer => "fragmented-from-server",
            Step::ClientCloses => "client-closes",
            Step::ServerCloses => "server-closes",
        }
    }

    /// What a client reports when the step went right. A Close's answer echoes the
    /// code; its reason is the answering side's choice, so reports leave it out.
    pub(crate) fn expected(self) -> String {
        match self {
            Step::Text => "text 21 echoed".into(),
            Step::Binary => "binary 256 echoed".into(),
            Step::BinaryMib => "binary 1048576 echoed".into(),
            Step::TextMib => "text 1048576 echoed".into(),
            Step::FragmentedToServer => "text 31 echoed".into(),
            Step::ServerPings => "pong: server-ping".into(),
            Step::ClientPings => "pong client-ping".into(),
            Step::FragmentedFromServer => FRAGMENTED.into(),
            Step::ClientCloses => format!("close {}", CLIENT_CLOSE.0),
            Step::ServerCloses => close_summary(SERVER_CLOSE.0, SERVER_CLOSE.1),
        }
    }

    /// What the server's transcript shows for the step.
    fn server_sees(self) -> &'static [&'static str] {
        match self {
            Step::Text => &["text 21"],
            Step::Binary => &["binary 256"],
            Step::BinaryMib => &["binary 1048576"],
            Step::TextMib => &["text 1048576"],
            Step::FragmentedToServer => &["text 31"],
            Step::ServerPings => &["text 7", "pong server-ping"],
            Step::ClientPings => &["ping client-ping"],
            Step::FragmentedFromServer => &["text 11"],
            Step::ClientCloses => &["close-received 4000 bye"],
            Step::ServerCloses => &["text 8", "close-echoed 4001"],
        }
    }
}

/// What the two 1 MiB messages of [`Step::BinaryMib`] and [`Step::TextMib`] carry one
/// way: less than the bytes that cross a connection taking those steps uncompressed.
pub(crate) const LARGE_PAYLOADS: u64 = 2 << 20;

/// Checks that compression was agreed and used both ways on the connections in
/// `stats`, which took the 1 MiB steps: messages came and went with RSV1, and fewer
/// bytes crossed the wire each way than the two 1 MiB messages alone hold.
pub(crate) fn assert_compressed(stats: &[Stats], context: &str) {
    let total = total(stats);
    assert!(
        total.compressed_messages_received > 0 && total.compressed_messages_sent > 0,
        "no compressed messages both ways: {total:?}; {context}"
    );
    assert!(
        total.bytes_received < LARGE_PAYLOADS && total.bytes_sent < LARGE_PAYLOADS,
        "{} bytes received and {} sent, not fewer than the {LARGE_PAYLOADS} bytes of the \
         1 MiB messages: {total:?}; {context}",
        total.bytes_received,
        total.bytes_sent
    );
}

/// Checks that nothing was compressed either way, for a peer without permessage-deflate.
pub(crate) fn assert_uncompressed(stats: &[Stats], context: &str) {
    let total = total(stats);
    assert!(
        total.messages_received > 0 && total.messages_sent > 0,
        "no messages counted: {total:?}; {context}"
    );
    assert_eq!(
        (
            total.compressed_messages_received,
            total.compressed_messages_sent
        ),
        (0, 0),
        "{context}"
    );
    assert!(
        total.bytes_received > LARGE_PAYLOADS && total.bytes_sent > LARGE_PAYLOADS,
        "{total:?}; {context}"
    );
}

/// The counters of several connections, added up.
fn total(stats: &[Stats]) -> Stats {
    let mut total = Stats::default();
    for one in stats {
        total.bytes_received += one.bytes_received;
        total.bytes_sent += one.bytes_sent;
        total.messages_received += one.messages_received;
        total.compressed_messages_received += one.compressed_messages_received;
        total.messages_sent += one.messages_sent;
        total.compressed_messages_sent += one.compressed_messages_sent;
    }
    total
}

/// A client's account of the scenario: (step, what it got) in order, plus
/// ("error", message) if it gave up.
pub(crate) type Report = Vec<(String, String)>;

/// The report of a client that takes `steps` and gets what each calls for.
pub(crate) fn expected_report(steps: &[Step]) -> Report {
    steps
        .iter()
        .map(|step| (step.name().to_owned(), step.expected()))
        .collect()
}

/// The report in a peer's `{"step", "got"}` lines; `{"error"}` lines are kept too.
pub(crate) fn report_from(lines: &[Value]) -> Report {
    lines
        .iter()
        .map(|line| match (line["step"].as_str(), line["got"].as_str()) {
            (Some(step), Some(got)) => (step.to_owned(), got.to_owned()),
            _ => ("unexpected line".to_owned(), line.to_string()),
        })
        .collect()
}

/// The transcripts a server writes when a client takes `steps`: the first connection's
/// and, with [`Step::ServerCloses`], the second's. Sorted, as connections may end in
/// either order. A server that cannot see pings (Python's) has no `ping` entries.
pub(crate) fn expected_transcripts(steps: &[Step], sees_pings: bool) -> Vec<Vec<String>> {
    let transcript = |steps: &[Step]| -> Vec<String> {
        steps
            .iter()
            .flat_map(|step| step.server_sees())
            .filter(|entry| sees_pings || !entry.starts_with("ping "))
            .map(|entry| (*entry).to_owned())
            .collect()
    };
    let (second, first): (Vec<Step>, Vec<Step>) =
        steps.iter().partition(|step| **step == Step::ServerCloses);
    let mut transcripts = vec![transcript(&first)];
    if !second.is_empty() {
        transcripts.push(transcript(&second));
    }
    transcripts.sort();
    transcripts
}

/// The transcripts in a peer server's `{"transcript": [...]}` lines, sorted.
pub(crate) fn transcripts_from(lines: &[Value]) -> Vec<Vec<String>> {
    let mut transcripts: Vec<Vec<String>> = lines
        .iter()
        .filter(|line| line.get("port").is_none())
        .map(|line| match line["transcript"].as_array() {
            Some(entries) => entries
                .iter()
                .map(|entry| {
                    entry
                        .as_str()
                        .map_or_else(|| entry.to_string(), str::to_owned)
                })
                .collect(),
            None => vec![format!("unexpected line {line}")],
        })
        .collect();
    transcripts.sort();
    transcripts
}

pub(crate) fn summary(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text {}", text.len()),
        Message::Binary(data) => format!("binary {}", data.len()),
    }
}

pub(crate) fn echo_summary(answer: &Message, sent: &Message) -> String {
    let same = if answer == sent { "echoed" } else { "differs" };
    format!("{} {same}", summary(answer))
}

pub(crate) fn close_summary(code: u16, reason: &str) -> String {
    format!("close {code} {reason}").trim_end().to_owned()
}

/// An error and its sources on one line.
pub(crate) fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Our server playing the scenario at `/scenario`; dropping it shuts it down.
#[derive(Debug)]
pub(crate) struct OurServer {
    handle: ServerHandle,
    ended: Receiver<(Vec<String>, Stats)>,
}

impl OurServer {
    pub(crate) fn spawn() -> OurServer {
        OurServer::spawn_with(|_| {})
    }

    /// With more routes, which `routes` adds.
    pub(crate) fn spawn_with(routes: impl FnOnce(&mut Server)) -> OurServer {
        let config = ServerConfig::default()
            .idle_timeout(Some(STEP_TIMEOUT))
            .stream(Config::default().close_timeout(Duration::from_secs(5)));
        let mut server = Server::new("127.0.0.1:0").with_config(config);
        let (ended, received) = mpsc::channel();
        server
            .on_connect("/scenario", move |stream, _path| {
                let mut transcript = Vec::new();
                if let Err(error) = serve_scenario(stream, &mut transcript) {
                    transcript.push(format!("error: {}", chain(&*error)));
                }
                ended.send((transcript, stream.stats())).ok();
                Ok(())
            })
            .expect("the route is valid");
        routes(&mut server);
        OurServer {
            handle: server.spawn().expect("the server starts on a free port"),
            ended: received,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.handle.local_addr().port()
    }

    /// The transcripts of `connections` connections once they end, sorted, and the
    /// counters of each connection as its handler returned (in the order they ended).
    pub(crate) fn ended(&self, connections: usize) -> (Vec<Vec<String>>, Vec<Stats>) {
        let (mut transcripts, stats): (Vec<Vec<String>>, Vec<Stats>) = (0..connections)
            .map(|_| {
                self.ended.recv_timeout(STEP_TIMEOUT).unwrap_or_else(|_| {
                    let missing = "no transcript: the connection did not end";
                    (vec![missing.into()], Stats::default())
                })
            })
            .unzip();
        transcripts.sort();
        (transcripts, stats)
    }
}

/// The server's part on one connection, writing down what it sees.
fn serve_scenario(stream: &mut Stream<TcpStream>, seen: &mut Vec<String>) -> Result<(), BoxError> {
    loop {
        match stream.read_event()? {
            Event::Message(message) => {
                seen.push(summary(&message));
                match message.as_text() {
                    Some("ping-me") => stream.ping(SERVER_PING)?,
                    Some("fragment-me") => send_fragments(stream)?,
                    Some("close-me") => {
                        let (code, reason) = SERVER_CLOSE;
                        stream.close_with(CloseCode::new(code), reason)?;
                        let echo = stream.close_frame().map_or_else(
                            || "none".to_owned(),
                            |frame| frame.code.as_u16().to_string(),
                        );
                        seen.push(format!("close-echoed {echo}"));
                        return Ok(());
                    }
                    _ => stream.send(&message)?,
                }
            }
            Event::Ping(payload) => {
                seen.push(format!("ping {}", String::from_utf8_lossy(&payload)))
            }
            Event::Pong(payload) => {
                let payload = String::from_utf8_lossy(&payload);
                seen.push(format!("pong {payload}"));
                stream.send_text(format!("pong: {payload}"))?;
            }
            Event::Close(frame) => {
                seen.push(
                    format!("close-received {} {}", frame.code.as_u16(), frame.reason)
                        .trim_end()
                        .to_owned(),
                );
                return Ok(());
            }
            other => seen.push(format!("unexpected {other:?}")),
        }
    }
}

/// Sends [`FRAGMENTED`] as three frames through a message writer: each flush ends one.
fn send_fragments(stream: &mut Stream<TcpStream>) -> Result<(), BoxError> {
    let [first, second, last] = fragments();
    let mut writer = stream.message_writer(MessageKind::Text)?;
    for piece in [first, second] {
        writer.write_all(piece)?;
        writer.flush()?;
    }
    writer.write_all(last)?;
    writer.finish()?;
    Ok(())
}

/// A step that failed; the report says how.
#[derive(Debug)]
pub(crate) struct StepFailed;

/// Our client's part against the scenario server on `port`: its report, and the
/// counters of its first connection, which takes every step but the last.
///
/// Its connection sends in frames of at most 64 KiB, so the 1 MiB messages go out in
/// 16 frames (cut inside characters, for the text) unless they are compressed, and
/// [`Step::FragmentedToServer`] goes through a message writer.
pub(crate) fn our_client(port: u16) -> (Report, Stats) {
    let mut report = Report::new();
    let mut stats = Stats::default();
    our_client_steps(port, &mut report, &mut stats).ok();
    (report, stats)
}

fn our_client_steps(port: u16, report: &mut Report, stats: &mut Stats) -> Result<(), StepFailed> {
    let url = format!("ws://127.0.0.1:{port}/scenario");
    let config = ClientConfig::default().stream(
        Config::default()
            .max_send_frame_size(64 << 10)
            .idle_timeout(Some(STEP_TIMEOUT))
            .close_timeout(Duration::from_secs(5)),
    );
    let mut client = match websockets::client::connect_with(url.as_str(), &config) {
        Ok(client) => client,
        Err(error) => return record(report, Step::Text, Err(error.into())),
    };
    record(report, Step::Text, echo(&mut client, Message::text(HELLO)))?;
    record(
        report,
        Step::Binary,
        echo(&mut client, Message::binary(binary())),
    )?;
    record(
        report,
        Step::BinaryMib,
        echo(&mut client, Message::binary(large_binary())),
    )?;
    record(
        report,
        Step::TextMib,
        echo(&mut client, Message::text(large_text())),
    )?;
    record(
        report,
        Step::FragmentedToServer,
        fragmented_to_server(&mut client),
    )?;
    record(report, Step::ServerPings, server_pings(&mut client))?;
    record(report, Step::ClientPings, client_pings(&mut client))?;
    record(
        report,
        Step::FragmentedFromServer,
        ask(&mut client, "fragment-me"),
    )?;
    let closes = client_closes(&mut client);
    *stats = client.stream().map(Stream::stats).unwrap_or_default();
    record(report, Step::ClientCloses, closes)?;
    let server_closes = websockets::client::connect_with(url.as_str(), &config)
        .map_err(BoxError::from)
        .and_then(|mut client| server_closes(&mut client));
    record(report, Step::ServerCloses, server_closes)
}

/// Adds what `step` got to `report`; fails unless it is what the step calls for.
pub(crate) fn record(
    report: &mut Report,
    step: Step,
    got: Result<String, BoxError>,
) -> Result<(), StepFailed> {
    let got = got.unwrap_or_else(|error| format!("error: {}", chain(&*error)));
    let ok = got == step.expected();
    report.push((step.name().to_owned(), got));
    if ok { Ok(()) } else { Err(StepFailed) }
}

fn echo(client: &mut Client<TcpStream>, message: Message) -> Result<String, BoxError> {
    client.send(&message)?;
    let answer = client.read_message()?;
    Ok(echo_summary(&answer, &message))
}

fn ask(client: &mut Client<TcpStream>, command: &str) -> Result<String, BoxError> {
    client.send_text(command)?;
    Ok(match client.read_message()? {
        Message::Text(text) => text,
        other => summary(&other),
    })
}

fn fragmented_to_server(client: &mut Client<TcpStream>) -> Result<String, BoxError> {
    let stream = client.stream_mut().ok_or("no connection")?;
    let [first, second, last] = fragments();
    let mut writer = stream.message_writer(MessageKind::Text)?;
    for piece in [first, second] {
        writer.write_all(piece)?;
        writer.flush()?;
    }
    writer.write_all(last)?;
    writer.finish()?;
    let answer = client.read_message()?;
    Ok(echo_summary(&answer, &Message::text(FRAGMENTED)))
}

/// `ping-me`: the server's ping shows as an event before its report arrives.
fn server_pings(client: &mut Client<TcpStream>) -> Result<String, BoxError> {
    client.send_text("ping-me")?;
    let mut pinged = false;
    loop {
        match client.read_event()? {
            Event::Ping(payload) => pinged = payload == SERVER_PING,
            Event::Message(Message::Text(text)) if pinged => return Ok(text),
            Event::Message(Message::Text(text)) => return Ok(format!("{text} (no ping seen)")),
            other => return Ok(format!("unexpected {other:?}")),
        }
    }
}

fn client_pings(client: &mut Client<TcpStream>) -> Result<String, BoxError> {
    client.ping(CLIENT_PING)?;
    Ok(match client.read_event()? {
        Event::Pong(payload) => format!("pong {}", String::from_utf8_lossy(&payload)),
        other => format!("unexpected {other:?}"),
    })
}

/// Closes with 4000 "bye" and reports the code of the server's answering Close.
fn client_closes(client: &mut Client<TcpStream>) -> Result<String, BoxError> {
    let (code, reason) = CLIENT_CLOSE;
    client.close_with(CloseCode::new(code), reason)?;
    let answer = client.stream().and_then(Stream::close_frame);
    Ok(answer.map_or_else(
        || "no close frame".to_owned(),
        |frame| format!("close {}", frame.code.as_u16()),
    ))
}

/// `close-me`: reading fails with `Closed`, carrying the server's code and reason.
fn server_closes(client: &mut Client<TcpStream>) -> Result<String, BoxError> {
    client.send_text("close-me")?;
    match client.read_message() {
        Err(websockets::client::Error::Connection(websockets::stream::Error::Closed(frame))) => {
            Ok(close_summary(frame.code.as_u16(), &frame.reason))
        }
        Ok(message) => Ok(format!("unexpected {}", summary(&message))),
        Err(error) => Err(error.into()),
    }
}

#[test]
fn our_client_and_our_server_agree_on_the_scenario() {
    // The baseline for the peers: if this fails, the scenario or our crates are at
    // fault, not the interoperability with a peer.
    let server = OurServer::spawn();
    let (report, client_stats) = our_client(server.port());
    assert_eq!(report, expected_report(&Step::ALL));
    let (transcripts, server_stats) = server.ended(2);
    assert_eq!(transcripts, expected_transcripts(&Step::ALL, true));
    assert_compressed(&[client_stats], "our client");
    assert_compressed(&server_stats, "our server");
}

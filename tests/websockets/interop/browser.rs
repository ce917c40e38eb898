//! Headless Chromium, driven over the DevTools Protocol by `tests/peers/browser_echo.js`:
//! the example's page served by our server, and the browser's share of the scenario.

use std::sync::mpsc::{self, Sender};

use serde_json::json;
use websockets::server::HttpResponse;
use websockets::{Message, Server};

use super::peer::{self, Peer};
use super::scenario::{
    OurServer, STEP_TIMEOUT, Step, assert_compressed, expected_report, expected_transcripts,
    report_from,
};
use crate::hostile::support::EchoServer;

/// The page of `cargo run --example ws-server`.
const PAGE: &str = include_str!("../../../examples/page.html");

/// What a page can do: it can neither ping nor choose how its messages are framed.
const BROWSER_STEPS: [Step; 8] = [
    Step::Text,
    Step::Binary,
    Step::BinaryMib,
    Step::TextMib,
    Step::ServerPings,
    Step::FragmentedFromServer,
    Step::ClientCloses,
    Step::ServerCloses,
];

#[test]
fn chromium_types_into_the_example_page_and_sees_the_echo() {
    peer::require_chromium();
    let node = peer::node();
    let (heard, messages) = mpsc::channel();
    let server = OurServer::spawn_with(|server| example_routes(server, heard));
    let port = server.port().to_string();
    let typed = "Hallo aus Chromium \u{2713}";

    let browser = Peer::spawn(
        "chromium (page)",
        &node,
        &["browser_echo.js", "page", &port, typed],
    );
    let finished = browser.finish();

    finished.assert_success();
    assert_eq!(
        finished.lines,
        [json!({ "status": "connected", "echo": format!("Echo: {typed}") })],
        "{}",
        finished.output
    );
    assert_eq!(
        messages.recv_timeout(STEP_TIMEOUT).ok().as_deref(),
        Some(typed),
        "what our /ws handler received"
    );
}

#[test]
fn chromium_types_into_the_async_example_page_and_sees_the_echo() {
    peer::require_chromium();
    let node = peer::node();
    // `cargo run --example async-server`: the same page and echo, on `AsyncServer`.
    let server = EchoServer::example("async-server", &[]);
    let port = server.addr().port().to_string();
    let typed = "Hallo vom Async-Server \u{2713}";

    let finished = Peer::spawn(
        "chromium (async page)",
        &node,
        &["browser_echo.js", "page", &port, typed],
    )
    .finish();

    finished.assert_success();
    assert_eq!(
        finished.lines,
        [json!({ "status": "connected", "echo": format!("Echo: {typed}") })],
        "{}",
        finished.output
    );
}

#[test]
fn chromium_plays_the_scenario_against_our_server() {
    peer::require_chromium();
    let node = peer::node();
    let (heard, _messages) = mpsc::channel();
    let server = OurServer::spawn_with(|server| example_routes(server, heard));
    let port = server.port().to_string();

    let finished = Peer::spawn(
        "chromium (scenario)",
        &node,
        &["browser_echo.js", "scenario", &port],
    )
    .finish();

    assert_eq!(
        report_from(&finished.lines),
        expected_report(&BROWSER_STEPS),
        "{}",
        finished.output
    );
    finished.assert_success();
    let (transcripts, stats) = server.ended(2);
    assert_eq!(
        transcripts,
        expected_transcripts(&BROWSER_STEPS, true),
        "what our server saw; {}",
        finished.output
    );
    assert_compressed(&stats, "our server against chromium");
}

/// The example's routes: its page at `/` and its echo at `/ws`, which also tells
/// `heard` each text it receives.
fn example_routes(server: &mut Server, heard: Sender<String>) {
    server
        .on_http("/", |_request| HttpResponse::html(PAGE))
        .expect("the page route is valid");
    server
        .on_connect("/ws", move |stream, _path| {
            loop {
                match stream.read_message() {
                    Ok(Message::Text(text)) => {
                        heard.send(text.clone()).ok();
                        stream.send_text("Echo: ".to_string() + &text)?;
                    }
                    Ok(Message::Binary(data)) => stream.send_binary(data)?,
                    Err(_) => break,
                }
            }
            Ok(())
        })
        .expect("the echo route is valid");
}

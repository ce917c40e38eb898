//! Python `websockets` (asyncio API), `tests/peers/python_peer.py`.

use super::peer::{self, Peer};
use super::scenario::{
    FRAGMENTED, OurServer, Step, expected_report, expected_transcripts, our_client, report_from,
    transcripts_from,
};

#[test]
fn python_client_plays_the_scenario_against_our_server() {
    let server = OurServer::spawn();
    let port = server.port().to_string();
    let python = peer::python();
    let finished = Peer::spawn(
        "python client",
        &python,
        &["python_peer.py", "client", &port],
    )
    .finish();

    // Python reads the message our server sends in pieces frame by frame, so it also
    // counts the frames of the message writer's three flushes.
    let mut expected = expected_report(&Step::ALL);
    for (step, got) in &mut expected {
        if step == Step::FragmentedFromServer.name() {
            *got = format!("{FRAGMENTED} (3 frames)");
        }
    }
    assert_eq!(
        report_from(&finished.lines),
        expected,
        "{}",
        finished.output
    );
    finished.assert_success();
    assert_eq!(
        server.transcripts(2),
        expected_transcripts(&Step::ALL, true),
        "what our server saw; {}",
        finished.output
    );
}

#[test]
fn our_client_plays_the_scenario_against_a_python_server() {
    let python = peer::python();
    let mut server = Peer::spawn("python server", &python, &["python_peer.py", "server"]);
    let port = server.listening_port();

    // A failed step fails the test at once rather than when the server gives up waiting.
    let report = our_client(port);
    assert_eq!(report, expected_report(&Step::ALL), "{}", server.describe());
    let finished = server.finish();
    finished.assert_success();
    // Python's API shows no incoming pings (our ping's pong is in our report), and it
    // counts frames: our client's 64 KiB frames cut each 1 MiB message in 16.
    let mut expected = expected_transcripts(&Step::ALL, false);
    for entry in expected.iter_mut().flatten() {
        match entry.as_str() {
            "text 31" => entry.push_str(" in 3 frames"),
            "binary 1048576" | "text 1048576" => entry.push_str(" in 16 frames"),
            _ => {}
        }
    }
    expected.sort();
    assert_eq!(
        transcripts_from(&finished.lines),
        expected,
        "what the Python server saw; {}",
        finished.output
    );
}

//! Python `websockets` (asyncio API), `tests/peers/python_peer.py`.

use super::peer::{self, Peer};
use super::scenario::{
    FRAGMENTED, OurServer, Step, assert_compressed, expected_report, expected_transcripts,
    our_client, report_from, transcripts_from,
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
    let (transcripts, stats) = server.ended(2);
    assert_eq!(
        transcripts,
        expected_transcripts(&Step::ALL, true),
        "what our server saw; {}",
        finished.output
    );
    assert_compressed(&stats, "our server against the python client");
}

#[test]
fn our_client_plays_the_scenario_against_a_python_server() {
    let python = peer::python();
    let mut server = Peer::spawn("python server", &python, &["python_peer.py", "server"]);
    let port = server.listening_port();

    // A failed step fails the test at once rather than when the server gives up waiting.
    let (report, stats) = our_client(port);
    assert_eq!(report, expected_report(&Step::ALL), "{}", server.describe());
    let finished = server.finish();
    finished.assert_success();
    assert_compressed(&[stats], "our client against the python server");
    // Python's API shows no incoming pings (our ping's pong is in our report), and it
    // counts frames. Our client sends frames of at most 64 KiB: uncompressed, that cuts
    // each 1 MiB message in 16; compressed, everything our client sent fits in 64 KiB,
    // so each goes in one frame.
    let large = if stats.compressed_messages_sent > 0 {
        assert!(stats.bytes_sent < 64 << 10, "{stats:?}");
        ""
    } else {
        " in 16 frames"
    };
    let mut expected = expected_transcripts(&Step::ALL, false);
    for entry in expected.iter_mut().flatten() {
        match entry.as_str() {
            "text 31" => entry.push_str(" in 3 frames"),
            "binary 1048576" | "text 1048576" => entry.push_str(large),
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

//! Node `ws`, `tests/peers/node_peer.js`.

use super::peer::{self, Peer};
use super::scenario::{
    OurServer, Step, assert_compressed, expected_report, expected_transcripts, our_client,
    report_from, transcripts_from,
};

#[test]
fn node_client_plays_the_scenario_against_our_server() {
    let server = OurServer::spawn();
    let port = server.port().to_string();
    let node = peer::node();
    let finished = Peer::spawn("node client", &node, &["node_peer.js", "client", &port]).finish();

    assert_eq!(
        report_from(&finished.lines),
        expected_report(&Step::ALL),
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
    assert_compressed(&stats, "our server against the node client");
}

#[test]
fn our_client_plays_the_scenario_against_a_node_server() {
    let node = peer::node();
    let mut server = Peer::spawn("node server", &node, &["node_peer.js", "server"]);
    let port = server.listening_port();

    // A failed step fails the test at once rather than when the server gives up waiting.
    let (report, stats) = our_client(port);
    assert_eq!(report, expected_report(&Step::ALL), "{}", server.describe());
    let finished = server.finish();
    finished.assert_success();
    assert_compressed(&[stats], "our client against the node server");
    assert_eq!(
        transcripts_from(&finished.lines),
        expected_transcripts(&Step::ALL, true),
        "what the Node server saw; {}",
        finished.output
    );
}

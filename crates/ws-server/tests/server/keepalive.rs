//! Keep-alive: quiet clients are pinged, silent ones are closed at the idle timeout.

use std::time::Duration;

use crate::support::{
    CLOSE, PING, close_payload_code, connect, echo_server, quick_config, raw_upgrade, read_frame,
    round_trip, wait_until,
};

#[test]
fn an_idle_client_that_answers_pings_stays_connected() {
    // The idle timeout leaves a loaded machine time to schedule the client's pongs.
    let interval = Duration::from_millis(50);
    let idle_timeout = Duration::from_secs(1);
    let handle = echo_server(
        quick_config()
            .ping_interval(Some(interval))
            .idle_timeout(Some(idle_timeout)),
    );
    let mut client = connect(handle.local_addr(), "/ws");
    // A ping comes only after an interval without a word from the client, so these
    // span more than the idle timeout: the pongs tungstenite sends as it reads are
    // what keep the connection open.
    let pings = idle_timeout.as_millis() / interval.as_millis() + 2;
    for _ in 0..pings {
        match client.read().unwrap() {
            tungstenite::Message::Ping(_) => {}
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    assert_eq!(round_trip(&mut client, "awake"), "Echo: awake");
}

#[test]
fn a_client_that_never_answers_is_closed_after_the_idle_timeout() {
    let handle = echo_server(
        quick_config()
            .ping_interval(Some(Duration::from_millis(50)))
            .idle_timeout(Some(Duration::from_millis(300))),
    );
    let mut silent = raw_upgrade(handle.local_addr(), "/ws");
    // Neither reading nor answering, until the server has given up on it.
    wait_until("the silent connection is closed", || {
        handle.connections() == 0
    });
    let mut pings = 0;
    let close = loop {
        match read_frame(&mut silent) {
            Some((PING, _)) => pings += 1,
            Some((CLOSE, payload)) => break payload,
            other => panic!("expected a ping or a close, got {other:?}"),
        }
    };
    assert!(pings >= 1);
    assert_eq!(close_payload_code(&close), 1011);
    assert_eq!(
        read_frame(&mut silent),
        None,
        "the server ends the connection"
    );
}

#[test]
fn without_pings_the_idle_timeout_alone_closes_a_silent_client() {
    let handle = echo_server(quick_config().idle_timeout(Some(Duration::from_millis(200))));
    let mut silent = raw_upgrade(handle.local_addr(), "/ws");
    let (opcode, payload) = read_frame(&mut silent).unwrap();
    assert_eq!((opcode, close_payload_code(&payload)), (CLOSE, 1011));
    assert_eq!(read_frame(&mut silent), None);
}

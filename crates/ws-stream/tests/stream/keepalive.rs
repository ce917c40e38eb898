//! Keep-alive over loopback sockets: pings on an idle connection, the idle timeout
//! against a silent peer (1011 on the wire), and pings that keep a connection alive.

use std::thread;
use std::time::Duration;

use ws_stream::{CloseCode, Config, Error, Event, Message, Role, Stream};

use crate::support::*;

const SHORT: Duration = Duration::from_millis(50);

#[test]
fn an_idle_connection_sends_pings() {
    for role in ROLES {
        let (ours, theirs) = tcp_pair();
        let (ours, theirs) = match role {
            Role::Client => (ours, theirs),
            Role::Server => (theirs, ours),
        };
        let config = Config::default().ping_interval(Some(SHORT));
        let mut idle = Stream::with_config(ours, role, config);
        idle.enable_socket_control();
        let peer_role = match role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        theirs.set_read_timeout(Some(STUCK)).unwrap();
        let mut peer = Stream::with_role(theirs, peer_role);
        // The idle side only waits for a message that comes after three pings.
        let waiter = thread::spawn(move || idle.read_message());
        for _ in 0..3 {
            assert_eq!(peer.read_event().unwrap(), Event::Ping(Vec::new()));
        }
        peer.send_text("enough").unwrap();
        assert_eq!(waiter.join().unwrap().unwrap(), Message::text("enough"));
    }
}

#[test]
fn a_silent_peer_times_out_with_1011_on_the_wire() {
    for role in ROLES {
        let (ours, silent) = tcp_pair();
        let (ours, mut silent) = match role {
            Role::Client => (ours, silent),
            Role::Server => (silent, ours),
        };
        let config = Config::default()
            .ping_interval(Some(SHORT))
            .idle_timeout(Some(3 * SHORT));
        let mut stream = Stream::with_config(ours, role, config);
        stream.enable_socket_control();
        match stream.read_message() {
            Err(Error::KeepaliveTimeout) => {}
            other => panic!("{role:?}: {other:?}"),
        }
        assert!(stream.is_closed());
        assert!(matches!(stream.send_text("x"), Err(Error::AlreadyClosed)));
        assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
        // What the silent peer would have read: pings (unless a loaded machine kept
        // us from running until the timeout), then the Close with 1011.
        silent.set_read_timeout(Some(STUCK)).unwrap();
        let mut pending = Vec::new();
        let close = loop {
            let frame = read_frame(&mut silent, &mut pending).expect("a Close");
            assert_eq!(frame.masked, role == Role::Client);
            match frame.opcode {
                PING => {}
                CLOSE => break frame,
                other => panic!("unexpected opcode {other}"),
            }
        };
        assert_eq!(close.close_code(), Some(1011));
    }
}

#[test]
fn idle_timeout_without_pings() {
    let (client_socket, _silent) = tcp_pair();
    let config = Config::default().idle_timeout(Some(SHORT));
    let mut client = Stream::with_config(client_socket, Role::Client, config);
    client.enable_socket_control();
    assert!(matches!(client.read_event(), Err(Error::KeepaliveTimeout)));
    assert_eq!(
        Error::KeepaliveTimeout.close_code(),
        Some(CloseCode::INTERNAL_ERROR)
    );
    // How it ended stays observable: the 1011 we sent, not a bare 1006.
    let ended = client.close_frame().expect("the connection has ended");
    assert_eq!(ended.code, CloseCode::INTERNAL_ERROR);
}

/// A peer that answers pings keeps the connection alive well past the idle timeout.
#[test]
fn answered_pings_keep_the_connection_alive() {
    // An idle timeout generous enough that even a heavily loaded machine answers in
    // time: the test is about the timer being reset, not about speed.
    let config = Config::default()
        .ping_interval(Some(Duration::from_millis(50)))
        .idle_timeout(Some(Duration::from_millis(1500)));
    let (client_socket, server_socket) = tcp_pair();
    server_socket.set_read_timeout(Some(STUCK)).unwrap();
    let mut client = Stream::with_config(client_socket, Role::Client, config);
    client.enable_socket_control();
    // The server only reads: its pongs answer the client's pings by themselves.
    let mut server = Stream::with_role(server_socket, Role::Server);
    let server = thread::spawn(move || server.read_message());
    // Forty pongs take longer than the idle timeout.
    for _ in 0..40 {
        assert_eq!(client.read_event().unwrap(), Event::Pong(Vec::new()));
    }
    client.send_text("still here").unwrap();
    assert_eq!(server.join().unwrap().unwrap(), Message::text("still here"));
}

/// Keep-alive also runs over a stream that only offers [`ws_stream::Socket`]: the
/// in-memory pipe, whose read timeout the stream sets itself.
#[test]
fn keepalive_over_any_socket() {
    let (ours, mut peer) = pipe();
    let config = Config::default()
        .ping_interval(Some(SHORT))
        .idle_timeout(Some(4 * SHORT));
    let mut server = Stream::with_config(ours, Role::Server, config);
    server.enable_socket_control();
    assert!(matches!(
        server.read_message(),
        Err(Error::KeepaliveTimeout)
    ));
    let mut pending = Vec::new();
    let mut frames = Vec::new();
    while let Some(frame) = read_frame(&mut peer, &mut pending) {
        frames.push(frame);
    }
    let (close, pings) = frames.split_last().expect("a Close");
    assert!(pings.iter().all(|frame| frame.opcode == PING), "{pings:?}");
    assert_eq!(close.close_code(), Some(1011));
}

/// Without socket control the stream cannot wake itself; over a non-blocking stream
/// the timers run whenever a read would block.
#[test]
fn timers_run_on_would_block_without_socket_control() {
    let (ours, mut peer) = tcp_pair();
    ours.set_nonblocking(true).unwrap();
    let config = Config::default().ping_interval(Some(Duration::from_millis(10)));
    let mut client = Stream::with_config(ours, Role::Client, config);
    let mut pinged = false;
    peer.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    for _ in 0..10_000 {
        assert!(client.read_message().unwrap_err().is_would_block());
        let mut byte = [0; 1];
        if std::io::Read::read(&mut peer, &mut byte).is_ok_and(|n| n == 1) {
            assert_eq!(byte[0], 0x89, "a ping");
            pinged = true;
            break;
        }
    }
    assert!(pinged);
}

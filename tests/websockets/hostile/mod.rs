//! Hostile peers against the example echo server (`examples/echo-server.rs`, run as a
//! child process), each attack against both servers: the thread-per-connection
//! `Server` (`hostile::blocking::*`) and `AsyncServer` (`hostile::asynchronous::*`,
//! `echo-server --async`). Each test ends with the offender closed with the right close code or
//! HTTP status, the server's peak memory under a bound (printed, for the record), and a
//! well-behaved client served before, during and after the attack.
//!
//! Memory is the child's peak resident set (`VmHWM`), which counts pages touched, the
//! cost a machine pays. The debug build idles near 3 MiB; an 8 MiB bound leaves room for
//! the 1 MiB message limit and the buffers, and fails if an attack makes the server hold
//! what a peer announces or sends past its limits.
//!
//! The server's limits are set explicitly, not taken from the defaults, so that the
//! tests keep their meaning when the defaults change.

pub(crate) mod support;

use std::io::{ErrorKind, Write};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use websockets::frame::{Frame, OpCode};
use websockets::handshake::ClientRequest;

use support::{EchoServer, RawPeer, assert_served, good_client, require_open_files};

/// The limits every test runs under: 1 MiB messages and frames.
const LIMITS: [&str; 4] = [
    "--max-message-size",
    "1048576",
    "--max-frame-size",
    "1048576",
];

/// Starts the server a test attacks, with the test's options.
type Start = fn(&[&str]) -> EchoServer;

/// The thread-per-connection `Server`.
fn server(extra: &[&str]) -> EchoServer {
    let options: Vec<&str> = LIMITS.iter().chain(extra).copied().collect();
    EchoServer::start(&options)
}

/// `AsyncServer`, a task per connection (`echo-server --async`).
fn async_server(extra: &[&str]) -> EchoServer {
    let options: Vec<&str> = ["--async"]
        .iter()
        .chain(&LIMITS)
        .chain(extra)
        .copied()
        .collect();
    EchoServer::start(&options)
}

/// Runs each attack against both servers, as `hostile::blocking::NAME` and
/// `hostile::asynchronous::NAME`.
macro_rules! against_both {
    ($($name:ident),* $(,)?) => {
        mod blocking {
            $(#[test] fn $name() { super::$name(super::server) })*
        }
        mod asynchronous {
            $(#[test] fn $name() { super::$name(super::async_server) })*
        }
    };
}

// After the macro, which it uses.
mod deflate;

against_both!(
    a_header_announcing_2_to_the_63_bytes_is_a_protocol_error,
    a_header_announcing_2_to_the_40_bytes_is_too_big,
    a_message_of_100_000_one_byte_fragments_is_echoed_whole,
    a_message_growing_past_the_limit_by_fragments_is_closed_with_1009,
    ten_thousand_pings_in_a_burst_are_answered_and_the_connection_still_echoes,
    a_handshake_sent_a_byte_a_second_is_cut_off_at_the_handshake_timeout,
    a_handshake_with_10_000_headers_gets_431,
    a_handshake_with_a_1_mb_header_gets_431,
    two_thousand_handshakes_at_once_fill_the_server_and_the_rest_get_503,
    a_peer_that_never_reads_is_dropped_at_the_write_timeout,
    a_peer_that_vanishes_mid_frame_lets_its_connection_go,
);

fn a_header_announcing_2_to_the_63_bytes_is_a_protocol_error(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    assert_served(&mut good, "before");
    let mut hostile = RawPeer::upgrade(server.addr());
    hostile.send_header(OpCode::Binary, 1 << 63);
    // A 64-bit length with its top bit set is malformed, not merely large (RFC 6455 5.2).
    assert_eq!(hostile.close_code(), 1002);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("2^63-byte header", 8);
}

fn a_header_announcing_2_to_the_40_bytes_is_too_big(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    hostile.send_header(OpCode::Binary, 1 << 40);
    assert_eq!(hostile.close_code(), 1009);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("2^40-byte header", 8);
}

fn a_message_of_100_000_one_byte_fragments_is_echoed_whole(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    let count = 100_000;
    let mut wire = Vec::with_capacity(count * 7);
    for i in 0..count {
        let byte = [(i % 251) as u8];
        let frame = if i == 0 {
            Frame::binary(byte)
        } else {
            Frame::continuation(byte)
        };
        frame
            .with_fin(i == count - 1)
            .with_mask([1, 2, 3, 4])
            .encode(&mut wire);
    }
    hostile.tcp.write_all(&wire).unwrap();
    assert_served(&mut good, "during");
    let echo = hostile.read_frame().unwrap();
    assert_eq!(echo.opcode(), OpCode::Binary);
    assert!(echo.is_final());
    assert_eq!(echo.payload().len(), count);
    assert!(
        echo.payload()
            .iter()
            .enumerate()
            .all(|(i, &byte)| byte == (i % 251) as u8)
    );
    hostile.send(Frame::close(websockets::CloseCode::NORMAL, "").unwrap());
    assert_eq!(hostile.close_code(), 1000);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("100,000 one-byte fragments", 8);
}

fn a_message_growing_past_the_limit_by_fragments_is_closed_with_1009(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    // 64 KiB fragments, each well under the frame limit; the 17th crosses 1 MiB.
    let fragment = vec![b'x'; 64 << 10];
    for i in 0..17 {
        let frame = if i == 0 {
            Frame::binary(fragment.clone())
        } else {
            Frame::continuation(fragment.clone())
        };
        hostile.send(frame.with_fin(false));
    }
    assert_served(&mut good, "during");
    assert_eq!(hostile.close_code(), 1009);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("message past the limit by fragments", 8);
}

fn ten_thousand_pings_in_a_burst_are_answered_and_the_connection_still_echoes(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    let count: u32 = 10_000;
    let mut wire = Vec::new();
    for i in 0..count {
        Frame::ping(i.to_be_bytes())
            .unwrap()
            .with_mask([9, 8, 7, 6])
            .encode(&mut wire);
    }
    // Written from another thread: the pongs come back while the pings go out, and a
    // peer that reads nothing until it has written everything could deadlock both ends.
    let mut writer = hostile.tcp.try_clone().unwrap();
    let burst = thread::spawn(move || writer.write_all(&wire));
    let mut pongs = 0;
    let mut last = None;
    while last != Some(count - 1) {
        let frame = hostile
            .read_frame()
            .expect("the server ended the connection");
        assert_eq!(frame.opcode(), OpCode::Pong);
        let payload: [u8; 4] = frame.payload().try_into().unwrap();
        let seq = u32::from_be_bytes(payload);
        // RFC 6455 5.5.3 lets a server answer only the latest of several pings, never
        // out of order.
        assert!(
            last.is_none_or(|last| seq > last),
            "pong {seq} after {last:?}"
        );
        last = Some(seq);
        pongs += 1;
    }
    burst.join().unwrap().unwrap();
    eprintln!("hostile peer 10,000 pings: {pongs} pongs");
    assert_served(&mut good, "during");
    hostile.send(Frame::text("still echoing"));
    assert_eq!(hostile.read_frame().unwrap().payload(), b"still echoing");
    hostile.send(Frame::close(websockets::CloseCode::NORMAL, "").unwrap());
    assert_eq!(hostile.close_code(), 1000);
    server.wait_connections(1);
    server.assert_peak_under("10,000 pings", 8);
}

fn a_handshake_sent_a_byte_a_second_is_cut_off_at_the_handshake_timeout(start: Start) {
    let server = start(&["--handshake-timeout-ms", "300"]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::connect(server.addr());
    let (request, _) = ClientRequest::new("localhost", "/").build().unwrap();
    hostile
        .tcp
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    // A byte, then a second's wait for the server to give up: the wait is the pace,
    // and the server ending the connection is the event that ends it.
    let mut sent = 0;
    let answer = loop {
        assert!(
            sent < request.len(),
            "the whole head went out a byte a second"
        );
        if hostile.tcp.write_all(&request[sent..=sent]).is_err() {
            break Vec::new();
        }
        sent += 1;
        let mut byte = [0];
        match std::io::Read::read(&mut hostile.tcp, &mut byte) {
            Ok(0) => break Vec::new(),
            Ok(_) => break byte.to_vec(),
            Err(error) if error.kind() == ErrorKind::ConnectionReset => break Vec::new(),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) => panic!("unexpected error: {error}"),
        }
    };
    // The server drops a connection whose handshake ran out of time without an answer.
    assert!(answer.is_empty(), "answered {answer:?}");
    eprintln!("hostile peer slow handshake: cut off after {sent} bytes");
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("a byte a second", 8);
}

/// Sends an upgrade request with `extra` header lines and returns the status.
fn refused_head(server: &EchoServer, extra: &str) -> u16 {
    let mut hostile = RawPeer::connect(server.addr());
    let head = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         {extra}\r\n"
    );
    // The server answers as soon as the limit is crossed and reads (and discards) the
    // rest, so the write completes.
    hostile.tcp.write_all(head.as_bytes()).unwrap();
    let status = hostile.read_response().status();
    hostile.read_to_end();
    status
}

fn a_handshake_with_10_000_headers_gets_431(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let extra: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(refused_head(&server, &extra), 431);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("10,000 headers", 8);
}

fn a_handshake_with_a_1_mb_header_gets_431(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let extra = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
    assert_eq!(refused_head(&server, &extra), 431);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("1 MB header", 8);
}

fn two_thousand_handshakes_at_once_fill_the_server_and_the_rest_get_503(start: Start) {
    let max = 1000;
    // Each side holds a socket per connection, the server up to three while it answers.
    require_open_files(4096);
    // The handshake timeout runs from the accept, and every connection is open before any
    // request goes out: on a loaded machine opening 2,000 can take longer than the
    // default 10 s, which would cut off the first ones before they ask.
    let server = start(&[
        "--max-connections",
        "1000",
        "--handshake-timeout-ms",
        "120000",
    ]);
    let mut good = good_client(server.addr());
    let (threads, each) = (8, 250);
    let start = Arc::new(Barrier::new(threads));
    let addr = server.addr();
    let handshakes: Vec<_> = (0..threads)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let mut peers: Vec<RawPeer> = (0..each).map(|_| RawPeer::connect(addr)).collect();
                let (request, _) = ClientRequest::new("localhost", "/").build().unwrap();
                start.wait();
                for peer in &mut peers {
                    peer.tcp.write_all(&request).unwrap();
                }
                let statuses: Vec<u16> = peers
                    .iter_mut()
                    .map(|peer| peer.read_response().status())
                    .collect();
                (peers, statuses)
            })
        })
        .collect();
    let mut held = Vec::new();
    let (mut upgraded, mut busy) = (0, 0);
    for handshake in handshakes {
        let (peers, statuses) = handshake.join().unwrap();
        for status in statuses {
            match status {
                101 => upgraded += 1,
                503 => busy += 1,
                other => panic!("status {other}"),
            }
        }
        held.extend(peers);
    }
    // The well-behaved client holds one of the places.
    assert_eq!((upgraded, busy), (max - 1, threads * each - (max - 1)));
    assert_served(&mut good, "while the server is full");
    eprintln!(
        "hostile peer 2,000 handshakes: {upgraded} upgraded, {busy} refused with 503, server at {} KiB",
        server.rss_kib()
    );
    drop(held);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    let mut newcomer = good_client(server.addr());
    assert_served(&mut newcomer, "a new client after the flood");
    server.assert_peak_under("2,000 handshakes at once", 96);
}

fn a_peer_that_never_reads_is_dropped_at_the_write_timeout(start: Start) {
    // The async server queues up to its write buffer before a send waits: 1 MiB here,
    // so that the bound below means the same for both servers.
    let server = start(&["--write-timeout-ms", "500", "--max-write-buffer", "1048576"]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    // The server echoes into a connection nobody reads until its writes block past the
    // write timeout; it must then let the connection go rather than buffer more.
    let message = Frame::binary(vec![7; 64 << 10]).with_mask([5, 5, 5, 5]);
    let mut wire = Vec::new();
    message.encode(&mut wire);
    let mut sent: u64 = 0;
    let error = loop {
        match hostile.tcp.write_all(&wire) {
            Ok(()) => sent += wire.len() as u64,
            Err(error) => break error,
        }
        assert!(sent < 1 << 30, "the server took 1 GiB without giving up");
    };
    assert!(
        matches!(
            error.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "{error}"
    );
    eprintln!(
        "hostile peer never reads: dropped after {} KiB sent",
        sent >> 10
    );
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("a peer that never reads", 24);
}

fn a_peer_that_vanishes_mid_frame_lets_its_connection_go(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    let mut hostile = RawPeer::upgrade(server.addr());
    hostile.send_header(OpCode::Binary, 1000);
    hostile.tcp.write_all(&[0; 10]).unwrap();
    server.wait_connections(2);
    drop(hostile);
    server.wait_connections(1);
    assert_served(&mut good, "after");
    server.assert_peak_under("a peer that vanishes mid-frame", 8);
}

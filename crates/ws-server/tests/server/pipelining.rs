//! A client may send its first frames in the same TCP write as its handshake: the
//! bytes after the head belong to the connection and must not be lost.

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use ws_server::accept;

use crate::support::{
    CLOSE, RFC_ACCEPT, STUCK, TEXT, client_frame, close_payload_code, echo_server, quick_config,
    read_frame, read_head, tcp, upgrade_head,
};

/// The head, two text frames and a Close, as one buffer.
fn pipelined() -> Vec<u8> {
    let mut bytes = upgrade_head("/ws", "");
    bytes.extend(client_frame(TEXT, b"first"));
    bytes.extend(client_frame(TEXT, b"second"));
    bytes.extend(client_frame(CLOSE, &1000_u16.to_be_bytes()));
    bytes
}

#[test]
fn frames_in_the_same_write_as_the_head_are_served() {
    let handle = echo_server(quick_config());
    let mut client = tcp(handle.local_addr());
    client.write_all(&pipelined()).unwrap();
    let response = read_head(&mut client);
    assert_eq!(response.status, 101, "{}", response.head);
    assert_eq!(response.header("sec-websocket-accept"), Some(RFC_ACCEPT));
    assert_eq!(
        read_frame(&mut client),
        Some((TEXT, b"Echo: first".to_vec()))
    );
    assert_eq!(
        read_frame(&mut client),
        Some((TEXT, b"Echo: second".to_vec()))
    );
    let (opcode, payload) = read_frame(&mut client).unwrap();
    assert_eq!((opcode, close_payload_code(&payload)), (CLOSE, 1000));
    assert_eq!(read_frame(&mut client), None);
}

#[test]
fn accept_keeps_frames_that_came_with_the_head() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(STUCK)).unwrap();
        let mut stream = accept(tcp).unwrap();
        let first = stream.read_message().unwrap();
        let second = stream.read_message().unwrap();
        (first, second)
    });
    let mut client = tcp(addr);
    client.write_all(&pipelined()).unwrap();
    assert_eq!(read_head(&mut client).status, 101);
    let (first, second) = server.join().unwrap();
    assert_eq!(
        (first.as_text(), second.as_text()),
        (Some("first"), Some("second"))
    );
}

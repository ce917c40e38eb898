//! The TLS handshake runs under the handshake timeout, on both ends, as one deadline:
//! a silent peer, half a hello, or a hello sent a byte at a time are cut off, and a
//! stalled handshake holds up only its own connection.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use rustls::pki_types::ServerName;
use ws_client::ClientConfig;
use ws_server::ServerConfig;
use ws_stream::Message;
use ws_tls::Error;

use crate::pki::pki;
use crate::support::{connect, connector, echo_server, server_tls_config, within};

/// Short enough for a test, long enough for any honest handshake on loopback.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(300);

/// The pause between bytes of a trickled hello: each read is quick, so only a
/// deadline for the whole handshake stops it.
const TRICKLE: Duration = Duration::from_millis(25);

/// The first flight of a real rustls client to "localhost".
fn client_hello() -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut hello = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut hello).unwrap();
    }
    hello
}

fn short_handshake_server() -> ws_server::ServerHandle {
    echo_server(ServerConfig::default().handshake_timeout(HANDSHAKE_TIMEOUT))
}

/// Waits for the server to end the connection: the end of the stream, or a reset.
fn dropped_by_server(mut tcp: &TcpStream) -> bool {
    let mut buf = [0; 1024];
    match tcp.read(&mut buf) {
        Ok(0) => true,
        Err(error) => error.kind() == io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

#[test]
fn a_client_that_sends_nothing_is_dropped() {
    let handle = short_handshake_server();
    let addr = handle.local_addr();
    within("silent client", move || {
        let tcp = TcpStream::connect(addr).unwrap();
        assert!(dropped_by_server(&tcp));
    });
}

#[test]
fn a_client_that_sends_half_a_hello_is_dropped() {
    let handle = short_handshake_server();
    let addr = handle.local_addr();
    let hello = client_hello();
    within("half a hello", move || {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.write_all(&hello[..hello.len() / 2]).unwrap();
        assert!(dropped_by_server(&tcp));
    });
}

/// Every read brings a byte well within the timeout, so a timeout per read would let
/// the hello through in the end (and a longer one hold a thread for hours).
#[test]
fn a_hello_sent_a_byte_at_a_time_is_cut_off_at_the_deadline() {
    let handle = short_handshake_server();
    let addr = handle.local_addr();
    let hello = client_hello();
    within("trickled hello", move || {
        let mut tcp = TcpStream::connect(addr).unwrap();
        let (ended, end) = mpsc::channel();
        let watcher = tcp.try_clone().unwrap();
        thread::spawn(move || ended.send(dropped_by_server(&watcher)));
        let mut sent = 0;
        while sent < hello.len() && end.try_recv().is_err() {
            if tcp.write_all(&hello[sent..=sent]).is_err() {
                break;
            }
            sent += 1;
            thread::sleep(TRICKLE);
        }
        assert!(
            sent < hello.len(),
            "the server waited for all {sent} bytes of the hello"
        );
        assert!(end.recv().unwrap_or(true), "the server answered");
    });
}

/// Meanwhile another client completes its handshake and talks: the stalled one, still
/// within its (default, 10 s) timeout, holds only its own thread.
#[test]
fn a_stalled_handshake_does_not_hold_up_other_clients() {
    let handle = echo_server(ServerConfig::default());
    let hello = client_hello();
    within("stalled and served", move || {
        let mut stalled = TcpStream::connect(handle.local_addr()).unwrap();
        stalled.write_all(&hello[..hello.len() / 2]).unwrap();
        let mut client = connect(&handle, "/echo");
        client.send_text("served anyway").unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::text("served anyway")
        );
        assert_eq!(
            handle.connections(),
            2,
            "the stalled handshake is still open"
        );
        client.close().unwrap();
        drop(stalled);
    });
}

/// The client side: a server that accepts and says nothing.
#[test]
fn a_silent_server_times_the_client_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = ClientConfig::default().handshake_timeout(Some(HANDSHAKE_TIMEOUT));
    let error = within("silent server", move || {
        let url = format!("wss://localhost:{port}/");
        let error = ws_tls::connect_with(url, &config, &connector()).unwrap_err();
        drop(listener);
        error
    });
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
}

/// The client side: a real TLS server's first flight, a byte at a time.
#[test]
fn a_server_trickling_its_hello_times_the_client_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let trickler = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut server =
            rustls::ServerConnection::new(server_tls_config(&pki().localhost)).unwrap();
        while !server.wants_write() {
            server.read_tls(&mut tcp).unwrap();
            server.process_new_packets().unwrap();
        }
        let mut flight = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut flight).unwrap();
        }
        for byte in &flight {
            if tcp.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(TRICKLE);
        }
    });
    let config = ClientConfig::default().handshake_timeout(Some(HANDSHAKE_TIMEOUT));
    let error = within("trickling server", move || {
        let url = format!("wss://localhost:{port}/");
        ws_tls::connect_with(url, &config, &connector()).unwrap_err()
    });
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    trickler.join().unwrap();
}

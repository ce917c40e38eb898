//! TLS 1.3 key updates from the peer mid-connection: the session answers with its own
//! key update, which must leave before anything encrypted with the new keys, whether
//! the stream is split or not. The peer is tungstenite over a bare rustls stream.

use std::net::TcpListener;
use std::thread::{self, JoinHandle};

use rustls::{ServerConnection, StreamOwned};
use ws_stream::Message;

use crate::pki::pki;
use crate::support::{connector, server_tls_config, within};

const MESSAGES: usize = 20;

/// A tungstenite echo server over rustls that refreshes its keys before every echo,
/// asking us to refresh ours.
fn refreshing_echo_server() -> (u16, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = ServerConnection::new(server_tls_config(&pki().localhost)).unwrap();
        let mut ws = tungstenite::accept(StreamOwned::new(tls, tcp)).unwrap();
        let mut echoed = 0;
        while let Ok(message) = ws.read() {
            if message.is_binary() || message.is_text() {
                ws.get_mut().conn.refresh_traffic_keys().unwrap();
                ws.send(message).unwrap();
                echoed += 1;
            }
        }
        echoed
    });
    (port, server)
}

#[test]
fn the_peer_refreshes_its_keys_between_messages() {
    let (port, server) = refreshing_echo_server();
    within("key updates", move || {
        let url = format!("wss://localhost:{port}/");
        let mut client = ws_tls::connect_with(url, &Default::default(), &connector()).unwrap();
        for i in 0..MESSAGES {
            client.send_text(format!("message {i}")).unwrap();
            assert_eq!(
                client.read_message().unwrap(),
                Message::text(format!("message {i}"))
            );
        }
        client.close().unwrap();
        assert_eq!(server.join().unwrap(), MESSAGES);
    });
}

/// Split, the reader takes the key updates while the writer sends: the answers go out
/// with the writer's next records, in order.
#[test]
fn the_peer_refreshes_its_keys_while_we_read_and_write_on_two_threads() {
    let (port, server) = refreshing_echo_server();
    within("key updates, split", move || {
        let url = format!("wss://localhost:{port}/");
        let client = ws_tls::connect_with(url, &Default::default(), &connector()).unwrap();
        let (mut reader, writer) = client.into_stream().unwrap().split().unwrap();
        let sending = {
            let writer = writer.clone();
            thread::spawn(move || {
                for i in 0..MESSAGES {
                    writer.send_binary(vec![i as u8; 1000 * i]).unwrap();
                }
            })
        };
        for i in 0..MESSAGES {
            assert_eq!(
                reader.read_message().unwrap(),
                Message::binary(vec![i as u8; 1000 * i])
            );
        }
        sending.join().unwrap();
        writer.close().unwrap();
        assert!(reader.read_message().unwrap_err().is_closed());
        assert_eq!(server.join().unwrap(), MESSAGES);
    });
}

//! The path for applications with their own HTTP server: `handle_upgrade`, the 101,
//! `Stream::from_upgrade` with the bytes read past the head, `serve_upgraded`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use ws_handshake::{Parsed, RequestParser};
use ws_server::{Error, Server};
use ws_stream::{Config, Role, Stream};

/// Reads a request head the way an HTTP server of one's own would, and answers it
/// with the lowercase header map and the bytes that followed the head.
fn read_head(socket: &mut impl Read) -> (String, HashMap<String, String>, Vec<u8>) {
    let mut parser = RequestParser::default();
    let mut received = Vec::new();
    let mut chunk = [0; 1024];
    loop {
        let n = socket.read(&mut chunk).unwrap();
        assert!(n > 0, "the client hung up mid-head");
        received.extend_from_slice(&chunk[..n]);
        if let Parsed::Complete(request, used) = parser.parse(&received).unwrap() {
            let headers = request
                .headers()
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value).into_owned();
                    (name.to_ascii_lowercase(), value)
                })
                .collect();
            return (
                request.target().to_owned(),
                headers,
                received[used..].to_vec(),
            );
        }
    }
}

#[test]
fn an_upgrade_by_your_own_http_server_reaches_the_route_handler() {
    let mut ws_server = Server::new("127.0.0.1:0");
    ws_server
        .on_connect("/ws", |stream, path| {
            let message = stream.read_message()?;
            stream.send_text(format!("{path}: {}", message.as_text().unwrap_or("")))?;
            Ok(())
        })
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let http = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let (path, headers, read_ahead) = read_head(&mut socket);
        let accept_key = ws_server.handle_upgrade(&path, &headers).unwrap();
        write!(
            socket,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key}\r\n\r\n"
        )
        .unwrap();
        let mut stream = Stream::from_upgrade(socket, Role::Server, Config::default(), &read_ahead);
        // The close handshake then ends within the close timeout, whatever the client.
        stream.enable_socket_control();
        ws_server.serve_upgraded(&path, stream).unwrap();
        // A path without a route is refused, the stream untouched.
        let spare = TcpListener::bind("127.0.0.1:0").unwrap();
        let _peer = TcpStream::connect(spare.local_addr().unwrap()).unwrap();
        let stream = Stream::with_role(spare.accept().unwrap().0, Role::Server);
        assert!(matches!(
            ws_server.serve_upgraded("/elsewhere", stream),
            Err(Error::NoRoute(path)) if path == "/elsewhere"
        ));
    });
    let (mut client, response) = tungstenite::connect(format!("ws://{addr}/ws")).unwrap();
    assert_eq!(response.status(), 101);
    client.send(tungstenite::Message::text("hello")).unwrap();
    assert_eq!(client.read().unwrap().into_text().unwrap(), "/ws: hello");
    // The handler returned, so the route closed the connection normally.
    assert!(matches!(
        client.read().unwrap(),
        tungstenite::Message::Close(_)
    ));
    // tungstenite's answering Close goes out with the next call, which then ends.
    assert!(client.read().is_err());
    http.join().unwrap();
}

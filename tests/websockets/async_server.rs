//! `examples/async-server.rs` as a child process: the page, the echo route, the chat
//! room across clients, and Ctrl-C closing every connection with 1001.

use std::io::{Read, Write};
use std::net::TcpStream;

use websockets::Message;
use websockets::stream::CloseCode;

use crate::hostile::support::EchoServer;

#[test]
fn async_server_serves_its_page_echo_and_chat_then_shuts_down_with_1001() {
    let mut server = EchoServer::example("async-server", &[]);
    let addr = server.addr();

    let mut page = TcpStream::connect(addr).unwrap();
    page.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    page.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("<html"), "{response}");

    let mut echo = websockets::client::connect(format!("ws://{addr}/ws")).unwrap();
    echo.send_text("hello").unwrap();
    assert_eq!(echo.read_message().unwrap(), Message::text("Echo: hello"));
    echo.send_binary(vec![1, 2, 3]).unwrap();
    assert_eq!(echo.read_message().unwrap(), Message::binary(vec![1, 2, 3]));

    let mut alice = websockets::client::connect(format!("ws://{addr}/chat")).unwrap();
    let mut bob = websockets::client::connect(format!("ws://{addr}/chat")).unwrap();
    // Bob has joined once a message of his comes back to him through the room.
    bob.send_text("bob is here").unwrap();
    assert_eq!(bob.read_message().unwrap(), Message::text("bob is here"));
    alice.send_text("hi all").unwrap();
    assert_eq!(bob.read_message().unwrap(), Message::text("hi all"));
    assert_eq!(alice.read_message().unwrap(), Message::text("bob is here"));
    assert_eq!(alice.read_message().unwrap(), Message::text("hi all"));

    // Each client answers the server's Close as it arrives, so the shutdown does not
    // wait out its close timeout.
    let readers: Vec<_> = [echo, alice, bob]
        .into_iter()
        .map(|mut client| {
            std::thread::spawn(move || {
                let ended = client.read_message().unwrap_err();
                assert!(ended.is_closed(), "{ended}");
                client.stream().unwrap().close_frame().unwrap().code
            })
        })
        .collect();
    let status = server.interrupt();
    assert!(status.success(), "the server exits cleanly: {status}");
    for reader in readers {
        assert_eq!(reader.join().unwrap(), CloseCode::GOING_AWAY);
    }
}

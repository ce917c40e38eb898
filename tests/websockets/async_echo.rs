//! `examples/async-echo.rs` as a child process: every message back with its opcode, on
//! any path, to our blocking client and to the async client, until it is killed.

use websockets::Message;
use websockets::stream::CloseCode;

use crate::hostile::support::EchoServer;

fn start() -> EchoServer {
    EchoServer::example("async-echo", &[])
}

fn messages() -> Vec<Message> {
    vec![
        Message::text("hello"),
        Message::binary(b"hello".to_vec()),
        Message::text(""),
        Message::binary((0..=255u8).cycle().take(1 << 20).collect::<Vec<_>>()),
    ]
}

#[test]
fn async_echo_answers_our_blocking_client_on_any_path() {
    let server = start();
    for path in ["/", "/some/path?query=1"] {
        let mut client =
            websockets::client::connect(format!("ws://{}{path}", server.addr())).unwrap();
        for message in messages() {
            client.send(&message).unwrap();
            assert_eq!(client.read_message().unwrap(), message);
        }
        client.close().unwrap();
        let frame = client.stream().unwrap().close_frame().unwrap();
        assert_eq!(frame.code, CloseCode::NORMAL);
    }
}

#[test]
fn async_echo_answers_the_async_client_from_many_connections() {
    let server = start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("ws://{}/async", server.addr());
        let clients = (0..8).map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let (mut ws, _) = websockets::client::connect_async(url).await.unwrap();
                for message in messages() {
                    ws.send(&message).await.unwrap();
                    assert_eq!(ws.recv().await.unwrap(), message);
                }
                ws.send(&Message::text(format!("client {i}")))
                    .await
                    .unwrap();
                assert_eq!(
                    ws.recv().await.unwrap(),
                    Message::text(format!("client {i}"))
                );
                ws.close().await.unwrap();
            })
        });
        for client in clients.collect::<Vec<_>>() {
            client.await.unwrap();
        }
    });
}

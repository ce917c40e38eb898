//! `examples/async-echo.rs` as a child process: every message back with its opcode, on
//! any path, to our blocking client and to the async client, until it is killed.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use websockets::Message;
use websockets::stream::CloseCode;

/// The example, killed on drop.
struct AsyncEcho {
    child: Child,
    addr: SocketAddr,
}

impl AsyncEcho {
    fn start() -> AsyncEcho {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
        let path = profile_dir.join("examples").join("async-echo");
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run {} ({error}): `cargo test` builds it; alone, run \
                     `cargo build --example async-echo`",
                    path.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ws://")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        AsyncEcho { child, addr }
    }
}

impl Drop for AsyncEcho {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
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
    let server = AsyncEcho::start();
    for path in ["/", "/some/path?query=1"] {
        let mut client =
            websockets::client::connect(format!("ws://{}{path}", server.addr)).unwrap();
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
    let server = AsyncEcho::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("ws://{}/async", server.addr);
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

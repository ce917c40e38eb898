//! A thread per connection: a handler that blocks holds up no one else.

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use ws_server::Server;

use crate::support::{STUCK, connect, next_text, quick_config, round_trip, seed_echo};

#[test]
fn one_handler_blocks_while_another_connection_is_served() {
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server
        .on_connect("/wait", move |stream, _path| {
            stream.read_message()?;
            entered_tx.send(thread::current().id())?;
            // Blocks this connection's thread until the test lets it go.
            release_rx.lock().unwrap().recv_timeout(STUCK)?;
            stream.send_text("released")?;
            Ok(())
        })
        .unwrap();
    let (echo_tx, echo_rx) = mpsc::channel();
    server
        .on_connect("/ws", move |stream, path| {
            echo_tx.send(thread::current().id())?;
            seed_echo(stream, path)
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();

    let mut waiting = connect(addr, "/wait");
    waiting.send(tungstenite::Message::text("go")).unwrap();
    let waiting_thread = entered_rx.recv_timeout(STUCK).unwrap();

    let mut echo = connect(addr, "/ws");
    assert_eq!(round_trip(&mut echo, "meanwhile"), "Echo: meanwhile");
    let echo_thread = echo_rx.recv_timeout(STUCK).unwrap();
    assert_ne!(waiting_thread, echo_thread);
    assert_ne!(waiting_thread, thread::current().id());

    release_tx.send(()).unwrap();
    assert_eq!(next_text(&mut waiting), "released");
}

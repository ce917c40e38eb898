//! A chat room: `on_connect_split` and `Broadcast` relay each message to every member.

use std::net::TcpStream;
use std::sync::Arc;

use ws_server::{Broadcast, Server};
use ws_stream::Message;

use crate::support::{LiveCount, connect, next_text, quick_config, wait_until};

#[test]
fn a_chat_room_relays_each_message_to_every_member_and_drops_leavers() {
    let room: Arc<Broadcast<TcpStream>> = Arc::new(Broadcast::new());
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    let members = Arc::clone(&room);
    server
        .on_connect_split("/chat", move |reader, writer, _path| {
            let member = members.join(writer.clone());
            // Tells the client it is in the room, so the test knows when to speak.
            writer.send_text("joined")?;
            while let Ok(message) = reader.read_message() {
                members.send(&message);
            }
            members.leave(member);
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();

    let mut clients: Vec<_> = (0..3).map(|_| connect(addr, "/chat")).collect();
    for client in &mut clients {
        assert_eq!(next_text(client), "joined");
    }
    assert_eq!(room.len(), 3);
    clients[0]
        .send(tungstenite::Message::text("hello, all"))
        .unwrap();
    for client in &mut clients {
        assert_eq!(next_text(client), "hello, all");
    }

    let mut leaver = clients.pop().unwrap();
    leaver.close(None).unwrap();
    wait_until("the leaver is dropped", || room.len() == 2);
    clients[1]
        .send(tungstenite::Message::text("who is left?"))
        .unwrap();
    for client in &mut clients {
        assert_eq!(next_text(client), "who is left?");
    }
}

#[test]
fn a_member_whose_connection_ended_is_dropped_at_the_next_send() {
    let room: Arc<Broadcast<TcpStream>> = Arc::new(Broadcast::new());
    let ended = LiveCount::default();
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    let members = Arc::clone(&room);
    let counted = ended.clone();
    server
        .on_connect_split("/chat", move |reader, writer, _path| {
            // This handler never leaves: the room finds out when sending fails.
            members.join(writer.clone());
            writer.send_text("joined")?;
            while reader.read_message().is_ok() {}
            std::mem::forget(counted.enter());
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    let mut staying = connect(addr, "/chat");
    let mut going = connect(addr, "/chat");
    assert_eq!(next_text(&mut staying), "joined");
    assert_eq!(next_text(&mut going), "joined");

    going.close(None).unwrap();
    wait_until("the closed connection's handler ends", || ended.get() == 1);
    assert_eq!(room.len(), 2);
    assert_eq!(room.send(&Message::text("anyone?")), 1);
    assert_eq!(room.len(), 1);
    assert_eq!(next_text(&mut staying), "anyone?");
}

//! Against tungstenite's server: messages both ways, control frames, closes both ways.

use std::time::Duration;

use tungstenite::protocol::CloseFrame as TungsteniteClose;
use tungstenite::protocol::frame::coding::CloseCode as TungsteniteCode;
use ws_client::{ClientConfig, Error};
use ws_stream::{CloseCode, Event, Message};

use crate::{echo_server, tungstenite_server, ws_url};

#[test]
fn text_and_binary_messages_echo() {
    let (addr, server) = echo_server();
    let mut client = ws_client::connect(ws_url(addr, "/echo")).unwrap();
    client.send_text("Hello, WebSocket!").unwrap();
    assert_eq!(
        client.read_message().unwrap(),
        Message::text("Hello, WebSocket!")
    );
    client.send_binary([0, 1, 2, 255]).unwrap();
    assert_eq!(
        client.read_message().unwrap(),
        Message::binary([0, 1, 2, 255])
    );
    client.send(&Message::text("third")).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("third"));
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn a_one_mebibyte_message_echoes_whole() {
    let (addr, server) = echo_server();
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    client.send_binary(&data).unwrap();
    assert_eq!(client.read_message().unwrap().as_binary(), Some(&data[..]));
    let text = "é".repeat(1 << 19);
    client.send_text(&text).unwrap();
    assert_eq!(client.read_message().unwrap().as_text(), Some(&text[..]));
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn our_ping_gets_the_servers_pong() {
    let (addr, server) = echo_server();
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    client.ping(b"are you there").unwrap();
    assert_eq!(
        client.read_event().unwrap(),
        Event::Pong(b"are you there".to_vec())
    );
    client.pong(b"heartbeat").unwrap();
    client.send_text("after").unwrap();
    assert_eq!(
        client.read_event().unwrap(),
        Event::Message(Message::text("after"))
    );
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn the_servers_ping_is_answered_and_reported() {
    let (addr, server) = tungstenite_server(None, |mut ws| {
        ws.send(tungstenite::Message::Ping(b"hi".to_vec().into()))
            .unwrap();
        // tungstenite reports the client's pong as a message.
        let pong = loop {
            match ws.read().unwrap() {
                tungstenite::Message::Pong(payload) => break payload,
                _ => continue,
            }
        };
        ws.send(tungstenite::Message::text("done")).unwrap();
        while ws.read().is_ok() {}
        pong.to_vec()
    });
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    assert_eq!(client.read_event().unwrap(), Event::Ping(b"hi".to_vec()));
    assert_eq!(client.read_message().unwrap(), Message::text("done"));
    client.close().unwrap();
    assert_eq!(server.join().unwrap(), b"hi");
}

#[test]
fn closing_from_the_client_reaches_the_server() {
    let (addr, server) = tungstenite_server(None, |mut ws| {
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Close(frame)) => break frame,
                Ok(_) => continue,
                Err(error) => panic!("no close frame: {error}"),
            }
        }
    });
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    client.close_with(CloseCode::GOING_AWAY, "bye").unwrap();
    let frame = server.join().unwrap().unwrap();
    assert_eq!(frame.code, TungsteniteCode::Away);
    assert_eq!(frame.reason, "bye");
    // The connection is over: further sends say so.
    let error = client.send_text("late").unwrap_err();
    assert!(error.is_closed(), "{error:?}");
}

#[test]
fn closing_from_the_server_ends_reads_in_an_orderly_way() {
    let (addr, server) = tungstenite_server(None, |mut ws| {
        ws.send(tungstenite::Message::text("last")).unwrap();
        let frame = TungsteniteClose {
            code: TungsteniteCode::Normal,
            reason: "done".into(),
        };
        ws.close(Some(frame)).unwrap();
        // Reads until the client's answering Close completes the handshake.
        while ws.read().is_ok() {}
    });
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("last"));
    let error = client.read_message().unwrap_err();
    assert!(error.is_closed(), "{error:?}");
    let Error::Connection(ws_stream::Error::Closed(frame)) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(
        (frame.code, frame.reason.as_str()),
        (CloseCode::NORMAL, "done")
    );
    server.join().unwrap();
}

#[test]
fn the_servers_close_is_an_event_for_read_event() {
    let (addr, server) = tungstenite_server(None, |mut ws| {
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    let mut client = ws_client::connect(ws_url(addr, "/")).unwrap();
    let Event::Close(frame) = client.read_event().unwrap() else {
        panic!("expected a close event");
    };
    assert_eq!(frame.code, CloseCode::NO_STATUS_RECEIVED);
    assert!(client.read_event().unwrap_err().is_closed());
    server.join().unwrap();
}

#[test]
fn the_chosen_subprotocol_and_response_stay_readable() {
    let (addr, server) = tungstenite_server(Some("v2"), |mut ws| while ws.read().is_ok() {});
    let config = ClientConfig::default().protocols(["v3", "v2"]);
    let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
    assert_eq!(client.protocol(), Some("v2"));
    let response = client.response().unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(
        response.headers().get("sec-websocket-protocol"),
        Some(&b"v2"[..])
    );
    client.close().unwrap();
    server.join().unwrap();
}

#[test]
fn the_stream_config_applies_to_the_connection() {
    let (addr, server) = tungstenite_server(None, |mut ws| {
        ws.send(tungstenite::Message::binary(vec![7; 2048]))
            .unwrap();
        while ws.read().is_ok() {}
    });
    let config =
        ClientConfig::default().stream(ws_stream::Config::default().max_message_size(1024));
    let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
    let error = client.read_message().unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connection(ws_stream::Error::MessageTooLarge { max: 1024 })
        ),
        "{error:?}"
    );
    server.join().unwrap();
}

#[test]
fn keepalive_pings_flow_because_connect_hands_over_socket_control() {
    // Without socket control a blocked read could never stop to send a ping, and the
    // server would give up after its safety timeout instead of seeing one.
    let (addr, server) = tungstenite_server(None, |mut ws| {
        let saw_ping = loop {
            match ws.read() {
                Ok(tungstenite::Message::Ping(_)) => break true,
                Ok(_) => continue,
                Err(_) => break false,
            }
        };
        ws.send(tungstenite::Message::text("pinged")).unwrap();
        while ws.read().is_ok() {}
        saw_ping
    });
    let stream = ws_stream::Config::default().ping_interval(Some(Duration::from_millis(20)));
    let config = ClientConfig::default().stream(stream);
    let mut client = ws_client::connect_with(ws_url(addr, "/"), &config).unwrap();
    assert_eq!(client.read_message().unwrap(), Message::text("pinged"));
    client.close().unwrap();
    assert!(server.join().unwrap());
}

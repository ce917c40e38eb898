//! Keep-alive over TLS, which needs the connection to set read timeouts on the TCP
//! stream under the session: an idle peer is pinged, a silent one is closed with 1011,
//! on the server's side and on the client's.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use ws_client::{ClientConfig, Error as ClientError};
use ws_server::{ServerConfig, ServerHandle};
use ws_stream::{CloseCode, Event, Message};

use crate::pki::pki;
use crate::support::{acceptor, connect, connector, within, wss_url};

const PING_INTERVAL: Duration = Duration::from_millis(50);
/// How long a peer may stay silent before the connection is given up.
const IDLE_TIMEOUT: Duration = Duration::from_millis(300);

/// A wss server with keep-alive whose handler reports how each connection ended.
fn watching_server(config: ServerConfig, ends: mpsc::Sender<String>) -> ServerHandle {
    let ends = Mutex::new(ends);
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost)).with_config(config);
    server
        .on_connect("/echo", move |stream, _path| {
            let end = loop {
                match stream.read_message() {
                    Ok(message) => stream.send(&message)?,
                    Err(error) => break format!("{error:?}"),
                }
            };
            ends.lock().unwrap().send(end).ok();
            Ok(())
        })
        .unwrap();
    server.spawn().unwrap()
}

#[test]
fn the_server_pings_an_idle_client_that_answers() {
    let (ends, _) = mpsc::channel();
    let config = ServerConfig::default()
        .ping_interval(Some(PING_INTERVAL))
        .idle_timeout(Some(Duration::from_secs(10)));
    let handle = watching_server(config, ends);
    within("idle client pinged", move || {
        let mut client = connect(&handle, "/echo");
        for _ in 0..3 {
            assert!(matches!(client.read_event().unwrap(), Event::Ping(_)));
        }
        client.send_text("still here").unwrap();
        loop {
            match client.read_event().unwrap() {
                Event::Ping(_) => {}
                event => break assert_eq!(event, Event::Message(Message::text("still here"))),
            }
        }
        client.close().unwrap();
    });
}

#[test]
fn the_server_closes_a_silent_client_with_1011() {
    let (ends, ended) = mpsc::channel();
    let config = ServerConfig::default()
        .ping_interval(Some(PING_INTERVAL))
        .idle_timeout(Some(IDLE_TIMEOUT));
    let handle = watching_server(config, ends);
    within("silent client", move || {
        // The client reads nothing, so it answers no ping, until the server gives up.
        let mut client = connect(&handle, "/echo");
        assert_eq!(ended.recv().unwrap(), "KeepaliveTimeout");
        let close = loop {
            match client.read_event().unwrap() {
                Event::Ping(_) => {}
                Event::Close(frame) => break frame,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(close.code, CloseCode::INTERNAL_ERROR);
    });
}

#[test]
fn the_client_pings_an_idle_server() {
    let (pinged, pings) = mpsc::channel();
    let pinged = Mutex::new(pinged);
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/quiet", move |stream, _path| {
            while !matches!(stream.read_event()?, Event::Ping(_)) {}
            pinged.lock().unwrap().send(()).ok();
            stream.send_text("you pinged")?;
            while stream.read_message().is_ok() {}
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let config = ClientConfig::default().stream(
        ws_stream::Config::default()
            .ping_interval(Some(PING_INTERVAL))
            .idle_timeout(Some(Duration::from_secs(10))),
    );
    within("client pings", move || {
        let mut client =
            ws_tls::connect_with(wss_url(&handle, "/quiet"), &config, &connector()).unwrap();
        // Blocked in this read, the client's timer sends the ping.
        assert_eq!(client.read_message().unwrap(), Message::text("you pinged"));
        pings.recv().unwrap();
        client.close().unwrap();
    });
}

#[test]
fn the_client_closes_a_silent_server_with_1011() {
    let (go, listen) = mpsc::channel::<()>();
    let listen = Arc::new(Mutex::new(listen));
    let (ends, ended) = mpsc::channel();
    let ends = Mutex::new(ends);
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/silent", move |stream, _path| {
            // Silent, answering no ping, until the test says go.
            listen.lock().unwrap().recv().ok();
            let close = loop {
                match stream.read_event() {
                    Ok(Event::Ping(_)) => {}
                    Ok(Event::Close(frame)) => break Some(frame.code),
                    _ => break None,
                }
            };
            ends.lock().unwrap().send(close).ok();
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let config = ClientConfig::default().stream(
        ws_stream::Config::default()
            .ping_interval(Some(PING_INTERVAL))
            .idle_timeout(Some(IDLE_TIMEOUT)),
    );
    within("silent server", move || {
        let mut client =
            ws_tls::connect_with(wss_url(&handle, "/silent"), &config, &connector()).unwrap();
        let error = client.read_message().unwrap_err();
        assert!(
            matches!(
                error,
                ClientError::Connection(ws_stream::Error::KeepaliveTimeout)
            ),
            "{error:?}"
        );
        go.send(()).unwrap();
        assert_eq!(ended.recv().unwrap(), Some(CloseCode::INTERNAL_ERROR));
    });
}

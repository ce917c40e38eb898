//! The estd-websockets seed, as its users wrote it: routes, spawn and run.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use ws_server::{Error, Server};
use ws_stream::Message;

use crate::support::{STUCK, connect, echo_server, next_text, quick_config, round_trip, seed_echo};

#[test]
#[allow(clippy::while_let_loop)] // kept as the seed's users wrote it
fn the_seed_handler_echoes_text_and_binary_on_several_paths()
-> Result<(), Box<dyn std::error::Error>> {
    let paths = ["/ws", "/chat", "/rooms/lobby"];
    let mut server = Server::new("127.0.0.1:0");
    for path in paths {
        server.on_connect(path, |stream, _path| {
            loop {
                match stream.read_message() {
                    Ok(msg) => match msg {
                        Message::Text(text) => {
                            stream.send_text("Echo: ".to_string() + &text)?;
                        }
                        Message::Binary(data) => {
                            stream.send_binary(data)?;
                        }
                    },
                    Err(_) => break,
                }
            }
            Ok(())
        })?;
    }
    let handle = server.spawn()?;
    let addr = handle.local_addr();
    for path in paths {
        let mut client = connect(addr, path);
        assert_eq!(round_trip(&mut client, path), format!("Echo: {path}"));
        client.send(tungstenite::Message::binary(vec![0, 1, 2, 255]))?;
        assert_eq!(
            client.read()?,
            tungstenite::Message::binary(vec![0, 1, 2, 255])
        );
        client.close(None)?;
    }
    handle.shutdown();
    Ok(())
}

#[test]
fn the_handler_is_given_the_routed_path_without_the_query() {
    let mut server = Server::new("127.0.0.1:0");
    for path in ["/a", "/b/c"] {
        server
            .on_connect(path, |stream, path| {
                stream.send_text(path)?;
                Ok(())
            })
            .unwrap();
    }
    let handle = server.spawn().unwrap();
    for (target, path) in [("/a", "/a"), ("/b/c?x=1", "/b/c")] {
        let mut client = connect(handle.local_addr(), target);
        assert_eq!(next_text(&mut client), path);
    }
}

#[test]
fn spawn_on_port_zero_reports_the_port_it_bound() {
    let handle = echo_server(quick_config());
    let addr = handle.local_addr();
    assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
    assert_ne!(addr.port(), 0);
    let mut client = connect(addr, "/ws");
    assert_eq!(round_trip(&mut client, "port"), "Echo: port");
}

#[test]
fn run_serves_on_the_calling_thread() {
    // `run` blocks for good, so its thread is left to end with the test binary. The
    // port is found by binding port 0 and letting it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server::new(format!("127.0.0.1:{port}"));
    server.on_connect("/ws", seed_echo).unwrap();
    thread::spawn(move || server.run());
    let addr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + STUCK;
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "run never listened");
        thread::sleep(Duration::from_millis(5));
    }
    let mut client = connect(addr, "/ws");
    assert_eq!(round_trip(&mut client, "blocking"), "Echo: blocking");
}

#[test]
fn run_and_spawn_report_an_address_they_cannot_bind() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert!(matches!(
        Server::new(addr.clone()).run(),
        Err(Error::Bind { .. })
    ));
    let error = Server::new(addr.clone()).spawn().unwrap_err();
    let Error::Bind { error: io, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::AddrInUse);
    // The message names the address and the cause.
    assert_eq!(error.to_string(), format!("cannot listen on {addr}: {io}"));
    assert!(matches!(
        Server::new("not an address").spawn(),
        Err(Error::Bind { .. })
    ));
    drop(taken);
}

#[test]
fn routes_must_start_with_a_slash_and_be_unique() {
    let mut server = Server::new("127.0.0.1:0");
    assert!(
        matches!(server.on_connect("ws", seed_echo), Err(Error::InvalidPath(path)) if path == "ws")
    );
    server.on_connect("/ws", seed_echo).unwrap();
    assert!(
        matches!(server.on_connect("/ws", seed_echo), Err(Error::DuplicatePath(path)) if path == "/ws")
    );
    assert!(matches!(
        server.on_connect_split("/ws", |_, _, _| Ok(())),
        Err(Error::DuplicatePath(_))
    ));
}

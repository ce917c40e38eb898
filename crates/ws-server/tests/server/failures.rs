//! A handler that fails or panics ends its own connection with 1011, nothing else.

use ws_server::Server;

use crate::support::{assert_echoes, close_code, connect, quick_config, round_trip, seed_echo};

fn failing_server() -> ws_server::ServerHandle {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    server
        .on_connect("/error", |stream, _path| {
            stream.read_message()?;
            Err("the application gave up".into())
        })
        .unwrap();
    server
        .on_connect("/panic", |stream, _path| {
            stream.read_message()?;
            panic!("deliberate panic in a test handler");
        })
        .unwrap();
    server
        .on_connect_split("/split-error", |reader, _writer, _path| {
            reader.read_message()?;
            Err("the application gave up".into())
        })
        .unwrap();
    server
        .on_connect_split("/split-panic", |reader, _writer, _path| {
            reader.read_message()?;
            panic!("deliberate panic in a test handler");
        })
        .unwrap();
    server.spawn().unwrap()
}

#[test]
fn a_handler_error_or_panic_closes_only_its_connection_with_1011() {
    let handle = failing_server();
    let addr = handle.local_addr();
    let mut bystander = connect(addr, "/ws");
    assert_eq!(round_trip(&mut bystander, "before"), "Echo: before");
    for path in ["/error", "/panic", "/split-error", "/split-panic"] {
        let mut failing = connect(addr, path);
        failing.send(tungstenite::Message::text("trigger")).unwrap();
        assert_eq!(close_code(&mut failing), 1011, "{path}");
        assert_eq!(round_trip(&mut bystander, path), format!("Echo: {path}"));
        assert_echoes(addr);
    }
}

#[test]
fn a_panicking_admission_check_or_page_ends_only_its_request() {
    let mut server = Server::new("127.0.0.1:0").with_config(quick_config());
    server.on_connect("/ws", seed_echo).unwrap();
    server.on_connect("/guarded", seed_echo).unwrap();
    server.on_upgrade(|request| {
        assert_ne!(
            request.path(),
            "/guarded",
            "deliberate panic in a test check"
        );
        Ok(ws_server::Accept::new())
    });
    server
        .on_http("/page", |_| panic!("deliberate panic in a test page"))
        .unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    for request in [
        crate::support::upgrade_head("/guarded", ""),
        b"GET /page HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
    ] {
        let mut client = crate::support::tcp(addr);
        std::io::Write::write_all(&mut client, &request).unwrap();
        // No answer is promised; the connection must end rather than hang.
        std::io::Read::read_to_end(&mut client, &mut Vec::new()).ok();
        crate::support::wait_until("the request's thread ends", || handle.connections() == 0);
        assert_echoes(addr);
    }
}

//! How connections end over TLS compared with plain TCP: a peer that vanishes without
//! a TLS close_notify is the same abnormal end (1006) as a TCP connection that drops.

use std::net::Shutdown;

use ws_client::Error as ClientError;
use ws_server::Server;
use ws_stream::{CloseCode, Message};

use crate::pki::pki;
use crate::support::{acceptor, connect, within};

/// What the client's read reports once the server has sent "bye" and dropped the TCP
/// connection, without a Close frame (and over TLS, without close_notify).
fn end_after_vanishing(error: ClientError) -> Option<CloseCode> {
    match error {
        ClientError::Connection(ws_stream::Error::Closed(frame)) => Some(frame.code),
        other => panic!("expected an abnormal close, got {other:?}"),
    }
}

#[test]
fn a_server_vanishing_without_close_notify_is_an_abnormal_close() {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(&pki().localhost));
    server
        .on_connect("/vanish", |stream, _path| {
            stream.send_text("bye")?;
            // The TCP connection ends under the TLS session: no close_notify.
            stream.get_ref().get_ref().shutdown(Shutdown::Both)?;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let code = within("vanishing tls server", move || {
        let mut client = connect(&handle, "/vanish");
        assert_eq!(client.read_message().unwrap(), Message::text("bye"));
        end_after_vanishing(client.read_message().unwrap_err())
    });
    assert_eq!(code, Some(CloseCode::ABNORMAL));
}

/// The same over plain TCP, for comparison.
#[test]
fn a_plain_server_vanishing_is_an_abnormal_close() {
    let mut server = Server::new("127.0.0.1:0");
    server
        .on_connect("/vanish", |stream, _path| {
            stream.send_text("bye")?;
            stream.get_ref().shutdown(Shutdown::Both)?;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().port();
    let code = within("vanishing plain server", move || {
        let mut client = ws_client::connect(format!("ws://127.0.0.1:{port}/vanish")).unwrap();
        assert_eq!(client.read_message().unwrap(), Message::text("bye"));
        let code = end_after_vanishing(client.read_message().unwrap_err());
        drop(handle);
        code
    });
    assert_eq!(code, Some(CloseCode::ABNORMAL));
}

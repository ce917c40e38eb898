//! A plain client on a TLS port and a TLS client on a plain port: each fails at once
//! with a typed error, and the server carries on.

use std::io;

use ws_client::Error as ClientError;
use ws_server::{Server, ServerConfig};
use ws_stream::Message;
use ws_tls::Error;

use crate::support::{connect, connector, echo_server, within};

/// The server answers the HTTP request with a TLS alert and closes: to the plain
/// client, a connection closed before any response.
#[test]
fn plain_client_on_a_wss_port_fails_cleanly() {
    let handle = echo_server(ServerConfig::default());
    let port = handle.local_addr().port();
    within("plain client on a tls port", move || {
        let error = ws_client::connect(format!("ws://127.0.0.1:{port}/echo")).unwrap_err();
        assert!(
            matches!(&error, ClientError::ClosedDuringHandshake)
                || matches!(&error, ClientError::HandshakeIo(io) if io.kind() == io::ErrorKind::ConnectionReset),
            "{error:?}"
        );
        let mut client = connect(&handle, "/echo");
        client.send_text("still serving tls").unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::text("still serving tls")
        );
        client.close().unwrap();
    });
}

/// The plain server answers the ClientHello with a 400, which is not TLS.
#[test]
fn wss_client_on_a_plain_port_fails_cleanly() {
    let mut server = Server::new("127.0.0.1:0");
    server
        .on_connect("/echo", |stream, _path| {
            while let Ok(message) = stream.read_message() {
                stream.send(&message)?;
            }
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let port = handle.local_addr().port();
    let error = within("tls client on a plain port", move || {
        let url = format!("wss://localhost:{port}/echo");
        let error = ws_tls::connect_with(url, &Default::default(), &connector()).unwrap_err();
        let mut client = ws_client::connect(format!("ws://127.0.0.1:{port}/echo")).unwrap();
        client.send_text("still serving ws").unwrap();
        assert_eq!(
            client.read_message().unwrap(),
            Message::text("still serving ws")
        );
        client.close().unwrap();
        error
    });
    assert!(matches!(error, Error::NotTls), "{error:?}");
    assert_eq!(error.to_string(), "peer does not speak tls");
}

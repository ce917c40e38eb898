//! The crypto provider is chosen explicitly: no process-wide default is installed, by
//! ws-tls or by these tests, and everything works without one.

use rustls::crypto::CryptoProvider;
use ws_server::ServerConfig;
use ws_stream::Message;

use crate::support::{connect, echo_server, within};

#[test]
fn no_default_crypto_provider_is_installed() {
    let handle = echo_server(ServerConfig::default());
    within("connect without a default provider", move || {
        let mut client = connect(&handle, "/echo");
        client.send_text("explicit").unwrap();
        assert_eq!(client.read_message().unwrap(), Message::text("explicit"));
        client.close().unwrap();
    });
    assert!(CryptoProvider::get_default().is_none());
}

//! Mutual TLS: a server built from a rustls configuration that demands client
//! certificates, and clients with and without one.

use std::sync::Arc;

use rustls::AlertDescription;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use ws_server::{ServerConfig, ServerHandle};
use ws_stream::Message;
use ws_tls::{Connector, Error, TlsAcceptor};

use crate::pki::pki;
use crate::support::{connector, within, wss_url};

/// A wss echo server for "localhost" that accepts only clients with a certificate
/// from the test CA.
pub(crate) fn server_requiring_client_certificates() -> ServerHandle {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki().ca_pem.as_bytes()).unwrap())
        .unwrap();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .unwrap();
    let chain = CertificateDer::pem_slice_iter(pki().localhost.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki().localhost.key_pem.as_bytes()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from_config(Arc::new(config));
    let mut server = ws_tls::server("127.0.0.1:0", acceptor).with_config(ServerConfig::default());
    server
        .on_connect("/echo", |stream, _path| {
            while let Ok(message) = stream.read_message() {
                stream.send(&message)?;
            }
            Ok(())
        })
        .unwrap();
    server.spawn().unwrap()
}

#[test]
fn a_client_with_a_certificate_from_the_ca_is_served() {
    let handle = server_requiring_client_certificates();
    within("mutual tls", move || {
        let client_connector = Connector::builder()
            .root_certificates_pem(pki().ca_pem.as_bytes())
            .unwrap()
            .client_certificate_pem(
                pki().client.chain_pem.as_bytes(),
                pki().client.key_pem.as_bytes(),
            )
            .unwrap()
            .build()
            .unwrap();
        let url = wss_url(&handle, "/echo");
        let mut client = ws_tls::connect_with(url, &Default::default(), &client_connector).unwrap();
        client.send_text("it's me").unwrap();
        assert_eq!(client.read_message().unwrap(), Message::text("it's me"));
        client.close().unwrap();
        drop(handle);
    });
}

/// TLS 1.3 lets the server refuse only after the client's side of the handshake is
/// done, so the refusal comes with the first read of the upgrade; it is still the
/// typed refusal, not an I/O error of the WebSocket handshake.
#[test]
fn a_client_without_a_certificate_is_refused() {
    let handle = server_requiring_client_certificates();
    let url = wss_url(&handle, "/echo");
    let error = within("no client certificate", move || {
        ws_tls::connect_with(url, &Default::default(), &connector()).unwrap_err()
    });
    assert!(
        matches!(
            error,
            Error::HandshakeRefused(AlertDescription::CertificateRequired)
        ),
        "{error:?}"
    );
}

/// A certificate from a CA the server does not trust (and for a server at that).
#[test]
fn a_client_certificate_the_server_rejects_is_refused() {
    let handle = server_requiring_client_certificates();
    let url = wss_url(&handle, "/echo");
    let error = within("foreign client certificate", move || {
        let stranger = Connector::builder()
            .root_certificates_pem(pki().ca_pem.as_bytes())
            .unwrap()
            .client_certificate_pem(
                pki().unknown_ca.chain_pem.as_bytes(),
                pki().unknown_ca.key_pem.as_bytes(),
            )
            .unwrap()
            .build()
            .unwrap();
        ws_tls::connect_with(url, &Default::default(), &stranger).unwrap_err()
    });
    assert!(matches!(error, Error::HandshakeRefused(_)), "{error:?}");
}

//! What the tests share: connectors and servers for the test PKI, and a guard that
//! turns a hang into a failure.

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ws_server::{ServerConfig, ServerHandle};
use ws_tls::{Connector, MaybeTlsStream, TlsAcceptor};

use crate::pki::{Identity, pki};

/// How long a test step may take before it counts as hung: far above what any step
/// needs, so it only ever fires on a deadlock.
pub(crate) const HANG: Duration = Duration::from_secs(20);

/// A connector that trusts the test CA.
pub(crate) fn connector() -> Connector {
    Connector::builder()
        .root_certificates_pem(pki().ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap()
}

/// An acceptor presenting `identity`.
pub(crate) fn acceptor(identity: &Identity) -> TlsAcceptor {
    TlsAcceptor::from_pem(identity.chain_pem.as_bytes(), identity.key_pem.as_bytes()).unwrap()
}

/// A wss server for "localhost" with an echo route at `/echo`.
pub(crate) fn echo_server(config: ServerConfig) -> ServerHandle {
    echo_server_as(&pki().localhost, config)
}

/// A wss server presenting `identity` with an echo route at `/echo`.
pub(crate) fn echo_server_as(identity: &Identity, config: ServerConfig) -> ServerHandle {
    let mut server = ws_tls::server("127.0.0.1:0", acceptor(identity)).with_config(config);
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

/// `wss://localhost:PORT{path}` for a server.
pub(crate) fn wss_url(handle: &ServerHandle, path: &str) -> String {
    format!("wss://localhost:{}{path}", handle.local_addr().port())
}

/// Opens a wss connection to `path` with the default client configuration.
pub(crate) fn connect(handle: &ServerHandle, path: &str) -> ws_client::Client<MaybeTlsStream> {
    ws_tls::connect_with(wss_url(handle, path), &Default::default(), &connector()).unwrap()
}

/// Runs `work` on a thread of its own and answers its result, failing the test if it
/// has not finished within [`HANG`]: a deadlock becomes a failure instead of a test
/// that never ends. A panic in `work` is the test's panic.
pub(crate) fn within<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    let worker = thread::spawn(move || {
        let value = work();
        done.send(()).ok();
        value
    });
    match result.recv_timeout(HANG) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} hung: no end after {HANG:?}"),
    }
}

/// A rustls server configuration presenting `identity`, for tests that play a TLS
/// server by hand.
pub(crate) fn server_tls_config(identity: &Identity) -> Arc<rustls::ServerConfig> {
    let chain = CertificateDer::pem_slice_iter(identity.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    Arc::new(config)
}

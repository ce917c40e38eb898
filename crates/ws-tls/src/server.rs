use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use ws_server::{Acceptor, Server};

use crate::pem::{read_chain, read_file, read_key};
use crate::{Error, TlsStream};

/// Accepts TLS connections for a `wss://` server, with a certificate chain and key.
///
/// Plug it into [`Server::with_acceptor`] (or [`server`]) and routes work as over plain
/// TCP; the server's handshake timeout bounds the TLS handshake too. Cloning is cheap.
///
/// ```
/// # let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
/// # let (cert_pem, key_pem) = (certified.cert.pem(), certified.signing_key.serialize_pem());
/// let acceptor = ws_tls::TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
/// let mut server = ws_tls::server("127.0.0.1:0", acceptor);
/// server.on_connect("/ws", |stream, _path| {
///     while let Ok(message) = stream.read_message() {
///         stream.send(&message)?;
///     }
///     Ok(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TlsAcceptor {
    config: Arc<rustls::ServerConfig>,
}

impl TlsAcceptor {
    /// An acceptor presenting the certificate chain in `chain_pem` (leaf first) with the
    /// private key in `key_pem`.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, Error> {
        let chain = read_chain(chain_pem)?;
        let key = read_key(key_pem)?;
        let mut config = rustls::ServerConfig::builder_with_provider(crate::provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::InvalidConfig(Box::new(error)))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| Error::InvalidConfig(Box::new(error)))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from_config(Arc::new(config)))
    }

    /// Like [`TlsAcceptor::from_pem`], reading the two PEM files.
    pub fn from_pem_files(
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsAcceptor, Error> {
        TlsAcceptor::from_pem(&read_file(chain.as_ref())?, &read_file(key.as_ref())?)
    }

    /// An acceptor from a rustls configuration you built yourself (client
    /// certificates, several names).
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> TlsAcceptor {
        TlsAcceptor { config }
    }

    /// The rustls configuration every session of this acceptor uses.
    #[cfg(feature = "tokio")]
    pub(crate) fn rustls_config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }

    /// Runs the server's TLS handshake over an accepted TCP connection.
    pub fn accept_tls(&self, tcp: TcpStream) -> Result<TlsStream, Error> {
        let session = rustls::ServerConnection::new(Arc::clone(&self.config))
            .map_err(|error| Error::InvalidConfig(Box::new(error)))?;
        TlsStream::handshake(tcp, session)
    }
}

impl Acceptor for TlsAcceptor {
    type Stream = TlsStream;

    fn accept(&self, tcp: TcpStream) -> io::Result<TlsStream> {
        self.accept_tls(tcp).map_err(io::Error::other)
    }
}

/// A `wss://` server listening on `addr`: [`Server::with_acceptor`] with TLS.
pub fn server(addr: impl Into<String>, acceptor: TlsAcceptor) -> Server<TlsAcceptor> {
    Server::with_acceptor(addr, acceptor)
}

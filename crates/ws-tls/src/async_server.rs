//! wss for the async server (features `server` and `tokio`): an
//! [`AsyncAcceptor`] for ws-server's [`AsyncServer`], from the same certificate and key
//! sources as the blocking [`TlsAcceptor`].

use std::io;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use ws_server::{AsyncAcceptor, AsyncServer};

use crate::async_tls::handshake_within;
use crate::{AsyncTlsStream, Error, TlsAcceptor};

/// Accepts TLS connections on tokio for a `wss://` [`AsyncServer`], with a certificate
/// chain and key: the async [`TlsAcceptor`], built the same ways (and from one, with
/// `From`).
///
/// Plug it into [`AsyncServer::with_acceptor`] (or [`async_server`]) and routes work as
/// over plain TCP; the server's handshake timeout bounds the TLS handshake too.
/// Cloning is cheap.
///
/// ```
/// # let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
/// # let (cert_pem, key_pem) = (certified.cert.pem(), certified.signing_key.serialize_pem());
/// let acceptor = ws_tls::AsyncTlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
/// let mut server = ws_tls::async_server("127.0.0.1:0", acceptor);
/// server.on_connect("/ws", |mut ws, _path| async move {
///     while let Ok(message) = ws.recv().await {
///         ws.send(&message).await?;
///     }
///     Ok(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AsyncTlsAcceptor {
    config: Arc<rustls::ServerConfig>,
}

impl AsyncTlsAcceptor {
    /// An acceptor presenting the certificate chain in `chain_pem` (leaf first) with the
    /// private key in `key_pem`, as [`TlsAcceptor::from_pem`].
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<AsyncTlsAcceptor, Error> {
        TlsAcceptor::from_pem(chain_pem, key_pem).map(AsyncTlsAcceptor::from)
    }

    /// Like [`AsyncTlsAcceptor::from_pem`], reading the two PEM files.
    pub fn from_pem_files(
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<AsyncTlsAcceptor, Error> {
        TlsAcceptor::from_pem_files(chain, key).map(AsyncTlsAcceptor::from)
    }

    /// An acceptor from a rustls configuration you built yourself (client
    /// certificates, several names).
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> AsyncTlsAcceptor {
        AsyncTlsAcceptor { config }
    }

    /// Runs the server's TLS handshake over an accepted tokio TCP connection. Bound it
    /// with `tokio::time::timeout` where the peer may stall; [`AsyncServer`] bounds it
    /// by its handshake timeout.
    pub async fn accept_tls(&self, tcp: TcpStream) -> Result<AsyncTlsStream, Error> {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&self.config));
        let tls = handshake_within(None, acceptor.accept(tcp)).await?;
        Ok(AsyncTlsStream::new(tls))
    }
}

impl From<TlsAcceptor> for AsyncTlsAcceptor {
    /// The same certificate, key and settings, for the async server.
    fn from(acceptor: TlsAcceptor) -> AsyncTlsAcceptor {
        AsyncTlsAcceptor::from_config(Arc::clone(acceptor.rustls_config()))
    }
}

impl AsyncAcceptor for AsyncTlsAcceptor {
    type Stream = AsyncTlsStream;

    async fn accept(&self, tcp: TcpStream) -> io::Result<AsyncTlsStream> {
        self.accept_tls(tcp).await.map_err(io::Error::other)
    }
}

/// A `wss://` server on tokio listening on `addr`: [`AsyncServer::with_acceptor`] with
/// TLS.
pub fn async_server(
    addr: impl Into<String>,
    acceptor: AsyncTlsAcceptor,
) -> AsyncServer<AsyncTlsAcceptor> {
    AsyncServer::with_acceptor(addr, acceptor)
}

use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use ws_client::{Client, ClientConfig, IntoUrl, Transport, Url};

use crate::pem::{read_chain, read_file, read_key};
use crate::{Error, MaybeTlsStream, TlsStream};

/// Opens TLS connections to servers, checking their certificates.
///
/// Trusts the Mozilla roots of `webpki-roots` unless built otherwise
/// ([`Connector::builder`]); certificate and host name checks are always on. The
/// crypto provider (rustls' `ring`) is chosen here, so rustls never looks for a
/// process-wide default. Cloning is cheap.
///
/// ```no_run
/// use ws_tls::Connector;
///
/// let connector = Connector::new();
/// let tls_stream = connector.connect("example.com:443")?;
/// let mut client = ws_client::Client::new(tls_stream, "wss://example.com/ws");
/// client.send_text("Hello")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Connector {
    config: Arc<rustls::ClientConfig>,
}

/// Builds a [`Connector`] with other roots or a client certificate.
///
/// ```
/// # let ca_pem = rcgen::generate_simple_self_signed(vec!["localhost".into()])?.cert.pem();
/// let connector = ws_tls::Connector::builder()
///     .root_certificates_pem(ca_pem.as_bytes())?
///     .build()?;
/// # let _ = connector;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct ConnectorBuilder {
    roots: Option<RootCertStore>,
    client_certificate: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl Connector {
    /// A connector that trusts the Mozilla roots.
    pub fn new() -> Connector {
        static DEFAULT: OnceLock<Connector> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                ConnectorBuilder::default()
                    .build()
                    .unwrap_or_else(|_| unreachable!("the default configuration is valid"))
            })
            .clone()
    }

    /// Starts building a connector with your own roots or a client certificate.
    pub fn builder() -> ConnectorBuilder {
        ConnectorBuilder::default()
    }

    /// A connector from a rustls configuration you built yourself.
    pub fn from_config(config: Arc<rustls::ClientConfig>) -> Connector {
        Connector { config }
    }

    /// Connects to `addr` (`"host:port"`) over TCP and runs the TLS handshake, with the
    /// host as the server name: the estd-tls call, kept.
    pub fn connect(&self, addr: &str) -> Result<TlsStream, Error> {
        let url = Url::parse(&format!("wss://{addr}/")).map_err(|error| {
            Error::Client(ws_client::Error::Url {
                input: addr.into(),
                error,
            })
        })?;
        let config = ClientConfig::default();
        let tcp = ws_client::connect_tcp(&url, &config)?;
        // The handshake timeout bounds the TLS handshake, as in `connect_with`.
        tcp.set_read_timeout(config.handshake_timeout)
            .and_then(|()| tcp.set_write_timeout(config.handshake_timeout))
            .map_err(Error::Io)?;
        let stream = self.wrap(url.host(), tcp)?;
        let tcp = stream.get_ref();
        tcp.set_read_timeout(None)
            .and_then(|()| tcp.set_write_timeout(None))
            .map_err(Error::Io)?;
        Ok(stream)
    }

    /// The rustls configuration every connection of this connector uses.
    #[cfg(feature = "tokio")]
    pub(crate) fn rustls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }

    /// Runs the TLS handshake over a TCP connection you opened, for `server_name`.
    pub fn wrap(&self, server_name: &str, tcp: TcpStream) -> Result<TlsStream, Error> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::InvalidServerName(server_name.to_owned()))?;
        let session = rustls::ClientConnection::new(Arc::clone(&self.config), name)
            .map_err(|error| Error::InvalidConfig(Box::new(error)))?;
        TlsStream::handshake(tcp, session)
    }
}

impl Default for Connector {
    fn default() -> Connector {
        Connector::new()
    }
}

impl ConnectorBuilder {
    /// Trusts the certificates in `pem` instead of the Mozilla roots: for a private CA.
    /// Call it again to add more.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<ConnectorBuilder, Error> {
        let roots = self.roots.get_or_insert_with(RootCertStore::empty);
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate =
                certificate.map_err(|_| Error::InvalidPem("unreadable certificate"))?;
            roots
                .add(certificate)
                .map_err(|error| Error::InvalidConfig(Box::new(error)))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::InvalidPem("no certificate found"));
        }
        Ok(self)
    }

    /// Like [`ConnectorBuilder::root_certificates_pem`], reading the PEM file at
    /// `path`; an unreadable file is an [`Error::ReadFile`] that names it.
    pub fn root_certificates_pem_file(
        self,
        path: impl AsRef<Path>,
    ) -> Result<ConnectorBuilder, Error> {
        self.root_certificates_pem(&read_file(path.as_ref())?)
    }

    /// Presents a client certificate (chain first, then the key, both PEM) to servers
    /// that ask for one.
    pub fn client_certificate_pem(
        mut self,
        chain: &[u8],
        key: &[u8],
    ) -> Result<ConnectorBuilder, Error> {
        self.client_certificate = Some((read_chain(chain)?, read_key(key)?));
        Ok(self)
    }

    /// The connector.
    pub fn build(self) -> Result<Connector, Error> {
        let roots = self.roots.unwrap_or_else(|| RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
        let builder = rustls::ClientConfig::builder_with_provider(crate::provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::InvalidConfig(Box::new(error)))?
            .with_root_certificates(roots);
        let mut config = match self.client_certificate {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| Error::InvalidConfig(Box::new(error)))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Connector {
            config: Arc::new(config),
        })
    }
}

/// Connects to a `wss://` (or `ws://`) URL with the default configuration and the
/// Mozilla roots; see [`connect_with`].
///
/// ```no_run
/// let mut client = ws_tls::connect("wss://example.com/chat")?;
/// client.send_text("Hello")?;
/// println!("{}", client.read_message()?);
/// client.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect(url: impl IntoUrl) -> Result<Client<MaybeTlsStream>, Error> {
    connect_with(url, &ClientConfig::default(), &Connector::new())
}

/// Connects to a `wss://` or `ws://` URL: DNS and TCP (within the connect timeout),
/// directly or through the configured [proxy](ws_client::ClientConfig::proxy)'s
/// `CONNECT` tunnel, then for `wss` the TLS handshake with SNI and ALPN `http/1.1`
/// (end to end with the server, through any tunnel), then the WebSocket handshake,
/// each within its own handshake timeout (so together they may take up to twice it).
///
/// Redirects are followed across `ws` and `wss` up to
/// [`ClientConfig::max_redirects`](ws_client::ClientConfig::max_redirects), each with
/// its own proxy choice and TLS handshake; a redirect from `wss` down to `ws` is
/// refused. The proxy, redirect and handshake logic is ws-client's
/// ([`ws_client::connect_via`]); this crate adds only the TLS step, as a
/// [`ws_client::Connector`].
///
/// ```no_run
/// use ws_client::{ClientConfig, Proxy};
///
/// let config = ClientConfig::default()
///     .proxy(Proxy::from_env()?)
///     .max_redirects(3);
/// let client = ws_tls::connect_with("wss://example.com/chat", &config, &ws_tls::Connector::new())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_with(
    url: impl IntoUrl,
    config: &ClientConfig,
    connector: &Connector,
) -> Result<Client<MaybeTlsStream>, Error> {
    ws_client::connect_via(url, config, connector)
}

/// TLS for `wss://` URLs, plain TCP for `ws://` ones, between ws-client's TCP
/// connection (direct or through the proxy) and its WebSocket handshake.
impl ws_client::Connector for Connector {
    type Stream = MaybeTlsStream;
    type Error = Error;

    /// The TCP socket's timeouts, set to the handshake timeout by ws-client, bound the
    /// TLS handshake.
    fn connect(&self, url: &Url, tcp: TcpStream) -> Result<MaybeTlsStream, Error> {
        if !url.is_secure() {
            return Ok(MaybeTlsStream::Plain(tcp));
        }
        Ok(MaybeTlsStream::Tls(self.wrap(url.host(), tcp)?))
    }

    /// Names the TLS failure behind a failed upgrade: TLS 1.3 lets a server refuse our
    /// certificate only after our side of its handshake is done, so that refusal
    /// arrives with the first read of the upgrade.
    fn handshake_error(&self, stream: &MaybeTlsStream, error: ws_client::Error) -> Error {
        match stream.tls_error() {
            Some(failure) if matches!(error, ws_client::Error::HandshakeIo(_)) => {
                Error::from_rustls(failure.clone())
            }
            _ => Error::Client(error),
        }
    }
}

impl Transport for MaybeTlsStream {
    fn tcp(&self) -> &TcpStream {
        MaybeTlsStream::tcp(self)
    }
}

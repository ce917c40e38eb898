use std::path::PathBuf;
use std::{fmt, io};

use rustls::{AlertDescription, CertificateError, InvalidMessage};

/// Why a TLS connection, or a secure WebSocket over it, could not be opened.
///
/// The certificate failures people meet most have their own variants; the rest of
/// rustls' errors come as [`Error::Tls`]. Each message names its cause on one line.
/// `Error::Client` (with the `client` feature) is transparent: its message is
/// ws-client's error's, and its `source()` that error's source, so that a user of
/// `connect` reads one message whichever layer failed, and a report walking the chain
/// prints no line twice.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server's certificate does not chain to a trusted root (a private CA that was
    /// not added, or a self-signed certificate).
    UnknownIssuer,
    /// The server presented a CA certificate (`basicConstraints` `CA:TRUE`, as
    /// `openssl req -x509` makes by default) as its own: a server needs an end-entity
    /// certificate, issued by the CA or made with `CA:FALSE`.
    CaUsedAsEndEntity,
    /// The server's certificate is not valid for the name connected to.
    NameMismatch,
    /// The server's certificate has expired.
    Expired,
    /// The server's certificate is not valid yet.
    NotYetValid,
    /// The peer ended the TLS handshake with a fatal alert (it rejected our
    /// certificate, or has no protocol version or cipher in common with us).
    HandshakeRefused(AlertDescription),
    /// Another TLS failure.
    Tls(Box<rustls::Error>),
    /// The peer reset the connection.
    ConnectionReset,
    /// The peer closed the connection before the TLS handshake finished (a server
    /// that gave up on our hello without a word, for instance).
    ClosedDuringHandshake,
    /// The peer answered the TLS handshake with bytes that are not TLS: a plain `ws://`
    /// or HTTP server on a `wss://` URL, for instance.
    NotTls,
    /// The TLS handshake did not finish within the handshake timeout (over a TCP
    /// stream of your own, [`Connector::wrap`](crate::Connector::wrap), the read
    /// timeout set on it, which bounds the whole handshake).
    HandshakeTimeout,
    /// The host is not a valid DNS name or IP address for TLS (the host given).
    InvalidServerName(String),
    /// A PEM input holds no usable certificate or key (what was missing or wrong).
    InvalidPem(&'static str),
    /// The certificates and key given do not make a valid TLS configuration.
    InvalidConfig(Box<rustls::Error>),
    /// Reading or writing the TLS handshake failed.
    Io(io::Error),
    /// A PEM file could not be read (the path given).
    ReadFile {
        /// The file, as given.
        path: PathBuf,
        /// Why it could not be read.
        error: io::Error,
    },
    /// Opening the WebSocket failed around the TLS step: URL, DNS, TCP, the HTTP
    /// upgrade, or the connection afterwards.
    #[cfg(feature = "client")]
    Client(ws_client::Error),
}

impl Error {
    /// Sorts a rustls error into the variants above.
    pub(crate) fn from_rustls(error: rustls::Error) -> Error {
        match error {
            rustls::Error::InvalidCertificate(certificate) => match certificate {
                CertificateError::UnknownIssuer => Error::UnknownIssuer,
                // rustls passes this webpki error on untyped; its text is its name.
                CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
                    Error::CaUsedAsEndEntity
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => Error::NameMismatch,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    Error::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    Error::NotYetValid
                }
                other => Error::Tls(Box::new(rustls::Error::InvalidCertificate(other))),
            },
            rustls::Error::AlertReceived(alert) => Error::HandshakeRefused(alert),
            other => Error::Tls(Box::new(other)),
        }
    }

    /// Sorts an error met during the TLS handshake: a read or write that timed out
    /// means the handshake ran out of time, a TLS failure the session recorded
    /// (`failure`) is named, and a first record that is not TLS means a peer that does
    /// not speak it.
    pub(crate) fn from_handshake_io(error: io::Error, failure: Option<&rustls::Error>) -> Error {
        if matches!(
            error.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            return Error::HandshakeTimeout;
        }
        match failure {
            Some(rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
            )) => Error::NotTls,
            Some(failure) => Error::from_rustls(failure.clone()),
            None if error.kind() == io::ErrorKind::ConnectionReset => Error::ConnectionReset,
            None => Error::Io(error),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownIssuer => f.write_str(
                "certificate issued by an unknown authority: trust its ca with \
                 ConnectorBuilder::root_certificates_pem",
            ),
            Error::CaUsedAsEndEntity => f.write_str(
                "server presented a ca certificate as its own: issue it a leaf certificate \
                 with basicConstraints=critical,CA:FALSE (see the README's wss section)",
            ),
            Error::NameMismatch => f.write_str("certificate not valid for the server name"),
            Error::Expired => f.write_str("certificate expired"),
            Error::NotYetValid => f.write_str("certificate not valid yet"),
            Error::HandshakeRefused(alert) => {
                write!(f, "peer refused the tls handshake ({alert:?})")
            }
            Error::Tls(error) => write!(f, "tls failure: {error}"),
            Error::ConnectionReset => f.write_str("connection reset by the peer"),
            Error::ClosedDuringHandshake => {
                f.write_str("connection closed during the tls handshake")
            }
            Error::HandshakeTimeout => f.write_str("tls handshake timed out"),
            Error::NotTls => f.write_str("peer does not speak tls"),
            Error::InvalidServerName(name) => write!(f, "{name:?} is not a valid tls server name"),
            Error::InvalidPem(what) => write!(f, "invalid pem: {what}"),
            Error::InvalidConfig(error) => write!(f, "invalid tls configuration: {error}"),
            Error::Io(error) => write!(f, "tls i/o failed: {error}"),
            Error::ReadFile { path, error } => {
                write!(f, "could not read {}: {error}", path.display())
            }
            #[cfg(feature = "client")]
            Error::Client(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tls(error) | Error::InvalidConfig(error) => Some(&**error),
            Error::Io(error) | Error::ReadFile { error, .. } => Some(error),
            // Transparent: its message is ws-client's error's own.
            #[cfg(feature = "client")]
            Error::Client(error) => error.source(),
            _ => None,
        }
    }
}

#[cfg(feature = "client")]
impl From<ws_client::Error> for Error {
    fn from(error: ws_client::Error) -> Error {
        Error::Client(error)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 48);
    }
}

use std::{fmt, io};

use rustls::{AlertDescription, CertificateError, InvalidMessage};

/// Why a TLS connection, or a secure WebSocket over it, could not be opened.
///
/// The certificate failures people meet most have their own variants; the rest of
/// rustls' errors come as [`Error::Tls`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server's certificate does not chain to a trusted root (a private CA that was
    /// not added, or a self-signed certificate).
    UnknownIssuer,
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
    /// Reading or writing the TLS handshake, or a PEM file, failed.
    Io(io::Error),
    /// Opening the WebSocket failed around the TLS step: URL, DNS, TCP, the HTTP
    /// upgrade, or the connection afterwards.
    Client(ws_client::Error),
}

impl Error {
    /// Sorts a rustls error into the variants above.
    pub(crate) fn from_rustls(error: rustls::Error) -> Error {
        match error {
            rustls::Error::InvalidCertificate(certificate) => match certificate {
                CertificateError::UnknownIssuer => Error::UnknownIssuer,
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
    /// means the handshake ran out of time, and a first record that is not TLS, a peer
    /// that does not speak it.
    pub(crate) fn from_handshake_io(error: io::Error) -> Error {
        if matches!(
            error.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            return Error::HandshakeTimeout;
        }
        match Error::from_io(error) {
            Error::Tls(error)
                if matches!(
                    *error,
                    rustls::Error::InvalidMessage(
                        InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion
                    )
                ) =>
            {
                Error::NotTls
            }
            other => other,
        }
    }

    /// Sorts an I/O error from the TLS stream, which carries rustls errors inside.
    pub(crate) fn from_io(error: io::Error) -> Error {
        if error.kind() == io::ErrorKind::ConnectionReset {
            return Error::ConnectionReset;
        }
        if carries_tls_error(&error) {
            let inner = error
                .into_inner()
                .map(|inner| inner.downcast::<rustls::Error>());
            if let Some(Ok(tls)) = inner {
                return Error::from_rustls(*tls);
            }
            return Error::Io(io::Error::other("tls error"));
        }
        Error::Io(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownIssuer => f.write_str("certificate issued by an unknown authority"),
            Error::NameMismatch => f.write_str("certificate not valid for the server name"),
            Error::Expired => f.write_str("certificate expired"),
            Error::NotYetValid => f.write_str("certificate not valid yet"),
            Error::HandshakeRefused(alert) => {
                write!(f, "peer refused the tls handshake ({alert:?})")
            }
            Error::Tls(_) => f.write_str("tls failure"),
            Error::ConnectionReset => f.write_str("connection reset by the peer"),
            Error::ClosedDuringHandshake => {
                f.write_str("connection closed during the tls handshake")
            }
            Error::HandshakeTimeout => f.write_str("tls handshake timed out"),
            Error::NotTls => f.write_str("peer does not speak tls"),
            Error::InvalidServerName(name) => write!(f, "{name:?} is not a valid tls server name"),
            Error::InvalidPem(what) => write!(f, "invalid pem: {what}"),
            Error::InvalidConfig(_) => f.write_str("invalid tls configuration"),
            Error::Io(_) => f.write_str("i/o error"),
            Error::Client(_) => f.write_str("websocket connection failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tls(error) | Error::InvalidConfig(error) => Some(&**error),
            Error::Io(error) => Some(error),
            Error::Client(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ws_client::Error> for Error {
    /// Keeps ws-client's error, except a TLS failure met by the WebSocket handshake's
    /// I/O, which is sorted as if met during the TLS handshake: TLS 1.3 lets a server
    /// refuse our certificate only after our side of its handshake is done, so that
    /// refusal arrives with the first read of the upgrade.
    fn from(error: ws_client::Error) -> Error {
        match error {
            ws_client::Error::HandshakeIo(error) if carries_tls_error(&error) => {
                Error::from_io(error)
            }
            other => Error::Client(other),
        }
    }
}

fn carries_tls_error(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 48);
    }
}

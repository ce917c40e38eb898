use std::fmt;

/// Why a backplane could not connect, publish or subscribe.
///
/// Messages name their cause on one line; a broker URL in them has its credentials
/// taken out.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The broker could not be reached or refused us (the URL, without credentials).
    Connect {
        /// The broker's URL, credentials removed.
        url: String,
        /// What the client said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The broker's URL cannot be read (the URL, without credentials).
    InvalidUrl(String),
    /// A publish, subscribe or unsubscribe failed at the broker or on the way to it.
    Broker(Box<dyn std::error::Error + Send + Sync>),
    /// The broker is not connected now; nothing was sent.
    Disconnected,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect { url, source } => write!(f, "cannot connect to {url}: {source}"),
            Error::InvalidUrl(url) => write!(f, "invalid broker url {url:?}"),
            Error::Broker(source) => write!(f, "broker operation failed: {source}"),
            Error::Disconnected => f.write_str("broker not connected"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Broker(source) => Some(&**source),
            _ => None,
        }
    }
}

/// `url` with any `user:password@` taken out, for messages and logs.
pub(crate) fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn credentials_never_reach_a_message() {
        assert_eq!(
            redacted("redis://:hunter2@127.0.0.1:6379"),
            "redis://***@127.0.0.1:6379"
        );
        assert_eq!(
            redacted("nats://u:p@h:4222,nats://h2"),
            "nats://***@h:4222,nats://h2"
        );
        assert_eq!(redacted("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }
}

//! Opening a connection and following the server's redirects: the loop that
//! [`connect_with`](crate::connect_with) and [`connect_via`](crate::connect_via) share.

use std::borrow::Cow;
use std::net::TcpStream;

use crate::connect::{Transport, connect_tcp, set_timeouts};
use crate::{Client, ClientConfig, Error, Url, UrlError};

/// The redirect statuses followed; 300 (a choice for the user), 304 (a cache's) and
/// 305 (deprecated, and a way to push a proxy on the client) are not.
const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// Request headers that carry the user's credentials for a server, left out once a
/// redirect leads to another host or port, as browsers, curl and reqwest do: a server
/// must not be able to collect the credentials meant for another by redirecting.
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Whether the open step of a connect function can do TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tls {
    /// It can, so `wss://` URLs, the first or redirected to, reach it.
    Available,
    /// It cannot, so `wss://` URLs fail with [`Error::TlsRequired`] before any I/O.
    Unavailable,
}

/// Connects to `url` through `open`, runs the handshake, and while the server answers
/// with a redirect (and [`ClientConfig::max_redirects`] allows), connects to where it
/// points instead.
pub(crate) fn follow<S, E, F>(
    mut url: Url,
    config: &ClientConfig,
    tls: Tls,
    mut open: F,
) -> Result<Client<S>, E>
where
    S: Transport,
    E: From<Error>,
    F: FnMut(&Url, TcpStream) -> Result<S, E>,
{
    let mut config = Cow::Borrowed(config);
    let mut redirects = 0;
    loop {
        if url.is_secure() && tls == Tls::Unavailable {
            return Err(Error::TlsRequired.into());
        }
        let tcp = connect_tcp(&url, &config)?;
        let stream = open(&url, tcp)?;
        let handshake =
            Client::handshake_with_timeouts(stream, &url, &config, |stream, timeout| {
                set_timeouts(stream.tcp(), timeout)
            });
        let error = match handshake {
            Ok(mut client) => {
                client.enable_socket_control();
                return Ok(client);
            }
            Err(error) => error,
        };
        let Some(location) = location(&error) else {
            return Err(error.into());
        };
        if config.max_redirects == 0 {
            // Redirects are off: the caller gets the response, `Location` included.
            return Err(error.into());
        }
        if redirects == config.max_redirects {
            return Err(Error::TooManyRedirects {
                limit: config.max_redirects,
            }
            .into());
        }
        let next = std::str::from_utf8(location)
            .map_err(|_| UrlError::InvalidCharacter)
            .and_then(|location| url.join(location))
            .map_err(Error::InvalidRedirect)?;
        if url.is_secure() && !next.is_secure() {
            return Err(Error::InsecureRedirect(Box::new(next)).into());
        }
        let same_server = url.host().eq_ignore_ascii_case(next.host()) && url.port() == next.port();
        if !same_server && config.headers.iter().any(|(name, _)| is_credential(name)) {
            config
                .to_mut()
                .headers
                .retain(|(name, _)| !is_credential(name));
        }
        redirects += 1;
        url = next;
    }
}

/// The `Location` of a redirect response that `error` carries, if it is one.
fn location(error: &Error) -> Option<&[u8]> {
    let response = error.response()?;
    if !REDIRECTS.contains(&response.status()) {
        return None;
    }
    response.headers().get("location")
}

fn is_credential(name: &str) -> bool {
    CREDENTIALS
        .iter()
        .any(|credential| name.eq_ignore_ascii_case(credential))
}

//! Following the server's redirects: the loop under every connect function, on top of
//! [`dial`](crate::dial)'s connections.

use std::borrow::Cow;

use crate::dial::{Connector, Transport, connect_tcp};
use crate::tcp::{Deadline, set_timeouts};
use crate::{Client, ClientConfig, Error, Url, UrlError, handshake};

/// The redirect statuses followed; 300 (a choice for the user), 304 (a cache's) and
/// 305 (deprecated, and a way to push a proxy on the client) are not.
const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// Request headers that carry the user's credentials for a server, left out once a
/// redirect leads to another host or port, as browsers, curl and reqwest do: a server
/// must not be able to collect the credentials meant for another by redirecting.
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// Connects to `url` through `connector`, runs the handshake, and while the server
/// answers with a redirect (and [`ClientConfig::max_redirects`] allows), connects to
/// where it points instead.
pub(crate) fn follow<C: Connector>(
    mut url: Url,
    config: &ClientConfig,
    connector: &C,
) -> Result<Client<C::Stream>, C::Error> {
    let mut config = Cow::Borrowed(config);
    let mut redirects = 0;
    loop {
        connector.check(&url)?;
        let tcp = connect_tcp(&url, &config)?;
        set_timeouts(&tcp, config.handshake_timeout).map_err(Error::HandshakeIo)?;
        let mut stream = connector.connect(&url, tcp)?;
        let error = match upgrade(&mut stream, &url, &config) {
            Ok(upgraded) => {
                let mut client = Client::from_upgrade(stream, upgraded, &config);
                client.enable_socket_control();
                return Ok(client);
            }
            Err(error) => error,
        };
        match next_hop(&url, error, &mut config, redirects) {
            Hop::NotRedirect(error) => return Err(connector.handshake_error(&stream, error)),
            Hop::Stop(error) => return Err(error.into()),
            Hop::Follow(next) => url = next,
        }
        redirects += 1;
    }
}

/// What to do after a handshake that failed with `error`.
#[derive(Debug)]
pub(crate) enum Hop {
    /// Not a redirect: report the error.
    NotRedirect(Error),
    /// A redirect not to follow: off, too many, or to a URL refused.
    Stop(Error),
    /// Connect to this URL next.
    Follow(Url),
}

/// Where the handshake for `url` that failed with `error` leads, after `redirects`
/// redirects: the decision both the blocking and the async connect loops follow.
/// Credentials are dropped from `config` when the next URL is another server.
pub(crate) fn next_hop(
    url: &Url,
    error: Error,
    config: &mut Cow<'_, ClientConfig>,
    redirects: u32,
) -> Hop {
    let Some(location) = location(&error) else {
        return Hop::NotRedirect(error);
    };
    if config.max_redirects == 0 {
        // Redirects are off: the caller gets the response, `Location` included.
        return Hop::Stop(error);
    }
    if redirects == config.max_redirects {
        return Hop::Stop(Error::TooManyRedirects {
            limit: config.max_redirects,
        });
    }
    let next = match std::str::from_utf8(location)
        .map_err(|_| UrlError::InvalidCharacter)
        .and_then(|location| url.join(location))
    {
        Ok(next) => next,
        Err(error) => return Hop::Stop(Error::InvalidRedirect(error)),
    };
    if url.is_secure() && !next.is_secure() {
        return Hop::Stop(Error::InsecureRedirect(Box::new(next)));
    }
    let same_server = url.host().eq_ignore_ascii_case(next.host()) && url.port() == next.port();
    if !same_server && config.headers.iter().any(|(name, _)| is_credential(name)) {
        config
            .to_mut()
            .headers
            .retain(|(name, _)| !is_credential(name));
    }
    Hop::Follow(next)
}

/// The WebSocket handshake over `stream` within the handshake timeout, the TCP
/// socket's timeouts cleared once it has succeeded.
fn upgrade<S: Transport>(
    stream: &mut S,
    url: &Url,
    config: &ClientConfig,
) -> Result<handshake::Upgraded, Error> {
    let deadline = Deadline::after(config.handshake_timeout);
    let upgraded = handshake::perform(stream, url, config, &mut |stream| {
        set_timeouts(stream.tcp(), deadline.left()?).map_err(Error::HandshakeIo)
    })?;
    set_timeouts(stream.tcp(), None).map_err(Error::HandshakeIo)?;
    Ok(upgraded)
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

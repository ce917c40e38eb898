//! HTTP proxies: which proxy, if any, a URL goes through, and the `CONNECT` tunnel
//! through it.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use ws_handshake::Limits;

use crate::exchange::{read_head, write_request};
use crate::tcp::{Deadline, open_tcp, set_timeouts};
use crate::url::{is_scheme, parse_port, split_authority};
use crate::{Error, Url, UrlError};

/// An HTTP proxy that connections go through, for `ws://` and `wss://` alike: the
/// client asks it to `CONNECT` to the server, then speaks through the tunnel (TLS,
/// for `wss`, end to end with the server; the proxy sees only the host and port).
///
/// Set it with [`ClientConfig::proxy`](crate::ClientConfig::proxy); [`connect_tcp`](crate::connect_tcp) and every
/// function built on it then open the tunnel before anything else.
///
/// ```
/// use ws_client::{ClientConfig, Proxy, Url};
///
/// let proxy = Proxy::new("http://alice:open%20sesame@proxy.internal:3128")?
///     .no_proxy("localhost, .corp.example, 10.0.0.7:8080");
///
/// let url = Url::parse("wss://chat.example.com/live")?;
/// assert_eq!(proxy.address_for(&url), Some(("proxy.internal", 3128)));
/// let url = Url::parse("ws://build.corp.example/events")?;
/// assert_eq!(proxy.address_for(&url), None);
///
/// let config = ClientConfig::default().proxy(proxy);
/// # let _ = config;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # From the environment, when asked
///
/// [`Proxy::from_env`] reads the variables curl and most HTTP clients honour:
/// `https_proxy` for `wss://` URLs, `http_proxy` for `ws://` URLs, `all_proxy` for
/// either when its own is unset, and `no_proxy` for the hosts to reach directly; each
/// in lowercase first, then uppercase, an empty value counting as unset. Nothing reads
/// them unless you call it: a library that honoured them silently would send traffic
/// where its caller never asked. Under CGI (`REQUEST_METHOD` set) the uppercase
/// `HTTP_PROXY` is ignored, since a client's `Proxy:` request header sets it there
/// ("httpoxy"); the lowercase one still counts.
///
/// # `NO_PROXY` syntax
///
/// A list of entries separated by commas (spaces around them ignored), each one of:
/// `*`, which bypasses the proxy for every host; a host name, which matches the name
/// and every name under it (`example.com` and `.example.com` both match `example.com`
/// and `www.example.com`, as in curl; a leading `*.` is read as `.`); or an IP
/// address, which matches that address only (IPv6 with or without brackets). Any of
/// them but `*` can end in `:port` to match that port only. Names compare without
/// case; entries that are none of these (a port that is not a number, say) are
/// ignored. Loopback hosts go through the proxy unless listed, as in curl.
///
/// # Credentials
///
/// A proxy URL may carry `user:password@` before the host, percent-decoded (so
/// `%40` stands for `@`), or [`Proxy::basic_auth`] sets them. They are sent as
/// `Proxy-Authorization: Basic`, in the clear as far as the proxy, to the proxy only:
/// the server never sees them. `Debug` shows only whether there are any.
///
/// # Not supported
///
/// Proxies reached over TLS (`https://` proxy URLs), SOCKS proxies, authentication
/// schemes other than Basic (NTLM, Negotiate), and address ranges (CIDR) in
/// `NO_PROXY`. A proxy URL with another scheme than `http` is refused with
/// [`UrlError::UnsupportedScheme`], rather than quietly connecting directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy for `ws://` URLs.
    ws: Option<Server>,
    /// The proxy for `wss://` URLs.
    wss: Option<Server>,
    /// The hosts reached directly.
    bypass: Vec<Bypass>,
}

/// A proxy server: where it is and what to tell it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Server {
    host: String,
    port: u16,
    /// `Basic` and the base64 of `user:password`, ready for `Proxy-Authorization`.
    authorization: Option<String>,
}

/// One entry of a `NO_PROXY` list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bypass {
    /// `*`: no host goes through the proxy.
    Everything,
    /// A host name (with the names under it) or an IP address, lowercase, without a
    /// leading dot, brackets or trailing dot; with the port it is limited to, if any.
    Host { name: String, port: Option<u16> },
}

impl Proxy {
    /// A proxy for both `ws://` and `wss://` URLs, from its URL:
    /// `http://[user:password@]host[:port]`.
    ///
    /// The scheme may be left out (`proxy.internal:3128`), as environment variables
    /// often do; the port defaults to 80, `http`'s. A path after the host is ignored,
    /// as curl and Go ignore it. Credentials are percent-decoded. Other schemes
    /// (`https`, `socks5`) are refused with [`UrlError::UnsupportedScheme`]; a
    /// malformed host or port with the [`UrlError`] saying which.
    pub fn new(url: &str) -> Result<Proxy, UrlError> {
        let server = Server::parse(url)?;
        Ok(Proxy {
            ws: Some(server.clone()),
            wss: Some(server),
            bypass: Vec::new(),
        })
    }

    /// The proxy the process environment asks for, or `None` when it names none; see
    /// [the type's docs](Proxy#from-the-environment-when-asked) for the variables.
    ///
    /// A variable that holds no usable proxy URL is an error rather than a reason to
    /// connect directly, which could send traffic around a proxy that a network
    /// insists on. Values that are not UTF-8 count as unset.
    ///
    /// ```no_run
    /// let config = ws_client::ClientConfig::default().proxy(ws_client::Proxy::from_env()?);
    /// let client = ws_client::connect_with("ws://example.com/chat", &config)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_env() -> Result<Option<Proxy>, UrlError> {
        Proxy::from_env_vars(|name| std::env::var(name).ok())
    }

    /// [`Proxy::from_env`] with the variables read through `lookup`, which answers a
    /// variable's value by name: for tests, or an environment of your own.
    ///
    /// ```
    /// use ws_client::{Proxy, Url};
    ///
    /// let env = |name: &str| match name {
    ///     "HTTPS_PROXY" => Some("http://proxy.internal:3128".to_owned()),
    ///     "NO_PROXY" => Some("localhost,.internal".to_owned()),
    ///     _ => None,
    /// };
    /// let proxy = Proxy::from_env_vars(env)?.expect("a proxy is set");
    /// let secure = Url::parse("wss://example.com/")?;
    /// assert_eq!(proxy.address_for(&secure), Some(("proxy.internal", 3128)));
    /// // No `HTTP_PROXY` or `ALL_PROXY`: plain ws goes direct.
    /// assert_eq!(proxy.address_for(&Url::parse("ws://example.com/")?), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_env_vars<F>(mut lookup: F) -> Result<Option<Proxy>, UrlError>
    where
        F: FnMut(&str) -> Option<String>,
    {
        let mut first_set = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| lookup(name).filter(|value| !value.trim().is_empty()))
        };
        let under_cgi = first_set(&["REQUEST_METHOD"]).is_some();
        let http = if under_cgi {
            first_set(&["http_proxy"])
        } else {
            first_set(&["http_proxy", "HTTP_PROXY"])
        };
        let https = first_set(&["https_proxy", "HTTPS_PROXY"]);
        let all = first_set(&["all_proxy", "ALL_PROXY"]);
        let no_proxy = first_set(&["no_proxy", "NO_PROXY"]);

        let parse = |value: Option<String>| value.map(|url| Server::parse(url.trim())).transpose();
        let ws = parse(http.or_else(|| all.clone()))?;
        let wss = parse(https.or(all))?;
        if ws.is_none() && wss.is_none() {
            return Ok(None);
        }
        let proxy = Proxy {
            ws,
            wss,
            bypass: Vec::new(),
        };
        Ok(Some(match no_proxy {
            Some(list) => proxy.no_proxy(&list),
            None => proxy,
        }))
    }

    /// Sends `user` and `password` to the proxy with `Proxy-Authorization: Basic`,
    /// instead of any given in its URL. A user name cannot contain `:` (RFC 7617).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Proxy {
        let authorization = basic_authorization(user.as_bytes(), password.as_bytes());
        for server in [&mut self.ws, &mut self.wss].into_iter().flatten() {
            server.authorization = Some(authorization.clone());
        }
        self
    }

    /// Reaches the hosts of `list` directly, in `NO_PROXY` syntax (see
    /// [the type's docs](Proxy#no_proxy-syntax)); calls add up.
    pub fn no_proxy(mut self, list: &str) -> Proxy {
        self.bypass
            .extend(list.split(',').filter_map(Bypass::parse));
        self
    }

    /// Where a connection to `url` goes first: the proxy's host and port, or `None`
    /// when it goes directly to the server (no proxy for its scheme, or a `NO_PROXY`
    /// entry matches).
    pub fn address_for(&self, url: &Url) -> Option<(&str, u16)> {
        self.server_for(url)
            .map(|server| (server.host.as_str(), server.port))
    }

    /// The proxy server for `url`, if it goes through one.
    pub(crate) fn server_for(&self, url: &Url) -> Option<&Server> {
        let server = if url.is_secure() { &self.wss } else { &self.ws };
        let server = server.as_ref()?;
        if self.bypass.iter().any(|bypass| bypass.matches(url)) {
            return None;
        }
        Some(server)
    }
}

impl Server {
    /// `[http://][user[:password]@]host[:port][/anything]`.
    fn parse(input: &str) -> Result<Server, UrlError> {
        if !input.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(UrlError::InvalidCharacter);
        }
        let rest = match input.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if is_scheme(scheme) => {
                return Err(UrlError::UnsupportedScheme(scheme.into()));
            }
            Some(_) => return Err(UrlError::MissingScheme),
            None => input,
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, _) = rest.split_at(authority_end);
        // The last `@` ends the user information, so an unencoded `@` in a password
        // still works, as it does in browsers and curl.
        let (user_info, host_and_port) = match authority.rsplit_once('@') {
            Some((user_info, host_and_port)) => (Some(user_info), host_and_port),
            None => (None, authority),
        };
        let (host, port) = split_authority(host_and_port)?;
        let port = match port {
            None | Some("") => 80,
            Some(port) => parse_port(port)?,
        };
        let authorization = user_info.map(|user_info| {
            let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
            basic_authorization(&percent_decode(user), &percent_decode(password))
        });
        Ok(Server {
            host: host.to_owned(),
            port,
            authorization,
        })
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Base64 hides nothing: the credentials stay out of logs entirely.
        f.debug_struct("Server")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.authorization.is_some())
            .finish()
    }
}

impl Bypass {
    /// One `NO_PROXY` entry, or `None` for an empty or malformed one.
    fn parse(entry: &str) -> Option<Bypass> {
        let entry = entry.trim();
        if entry == "*" {
            return Some(Bypass::Everything);
        }
        let port = |port: &str| parse_port(port).ok();
        let (name, port) = if let Some(bracketed) = entry.strip_prefix('[') {
            let (address, after) = bracketed.split_once(']')?;
            match after {
                "" => (address, None),
                after => (address, Some(port(after.strip_prefix(':')?)?)),
            }
        } else if entry.parse::<Ipv6Addr>().is_ok() {
            (entry, None)
        } else {
            match entry.rsplit_once(':') {
                Some((name, after)) => (name, Some(port(after)?)),
                None => (entry, None),
            }
        };
        let name = name
            .strip_prefix("*.")
            .or_else(|| name.strip_prefix('.'))
            .unwrap_or(name)
            .trim_end_matches('.');
        if name.is_empty() {
            return None;
        }
        Some(Bypass::Host {
            name: name.to_ascii_lowercase(),
            port,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let (name, port) = match self {
            Bypass::Everything => return true,
            Bypass::Host { name, port } => (name, port),
        };
        if port.is_some_and(|port| port != url.port()) {
            return false;
        }
        let host = url.host().trim_end_matches('.').to_ascii_lowercase();
        // Addresses match exactly, in any spelling (`::1` is `0:0::1`); a suffix rule
        // would let `0.0.1` match `127.0.0.1`.
        if let Ok(address) = host.parse::<IpAddr>() {
            return name.parse::<IpAddr>() == Ok(address);
        }
        host == *name
            || host
                .strip_suffix(name.as_str())
                .is_some_and(|above| above.ends_with('.'))
    }
}

/// How long a tunnel may take to open, and how large the proxy's answer may be: the
/// [`ClientConfig`](crate::ClientConfig) fields that concern the proxy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TunnelLimits {
    /// For the TCP connection to the proxy.
    pub(crate) connect_timeout: Option<Duration>,
    /// For the `CONNECT` exchange, as one deadline.
    pub(crate) answer_timeout: Option<Duration>,
    /// On the proxy's answer head.
    pub(crate) head: Limits,
}

/// Opens a TCP connection to `server` and a tunnel through it to `url`'s host and
/// port, within the connect timeout (TCP) and the handshake timeout (`CONNECT`).
pub(crate) fn connect(
    server: &Server,
    url: &Url,
    limits: TunnelLimits,
) -> Result<TcpStream, Error> {
    let mut socket = open_tcp(&server.host, server.port, limits.connect_timeout).map_err(
        |error| match error {
            Error::Resolve { error, .. } | Error::Connect { error, .. } => Error::ProxyConnect {
                proxy: format!("{}:{}", server.host, server.port).into(),
                error,
            },
            other => other,
        },
    )?;
    tunnel(&mut socket, server, url, limits)?;
    Ok(socket)
}

/// Sends `CONNECT` for `url` and reads the proxy's answer: a `2xx` opens the tunnel.
fn tunnel(
    socket: &mut TcpStream,
    server: &Server,
    url: &Url,
    limits: TunnelLimits,
) -> Result<(), Error> {
    let authority = url.authority();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(authorization) = &server.authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");

    let deadline = Deadline::after(limits.answer_timeout);
    let mut before_io = |socket: &mut TcpStream| match deadline.left()? {
        Some(left) => set_timeouts(socket, Some(left)).map_err(Error::HandshakeIo),
        None => Ok(()),
    };
    write_request(socket, request.as_bytes(), &mut before_io)?;
    let (response, after_head) =
        read_head(socket, limits.head, &mut before_io).map_err(|error| match error {
            Error::Handshake(error) => Error::InvalidProxyResponse(error),
            other => other,
        })?;
    match response.status() {
        // The client speaks first through the tunnel, with a request or a TLS
        // ClientHello, so nothing can be on its way from the server yet; and a 2xx to
        // CONNECT has no body (RFC 9110 section 9.3.6). Bytes here would be taken for
        // the server's.
        200..=299 if !after_head.is_empty() => Err(Error::UnexpectedProxyData),
        200..=299 => {
            if deadline.is_set() {
                set_timeouts(socket, None).map_err(Error::HandshakeIo)?;
            }
            Ok(())
        }
        // Only the proxy answers CONNECT, so a 401 is its own refusal of the
        // credentials, which tinyproxy sends instead of a 407 when they are wrong.
        401 | 407 => Err(Error::ProxyAuthRequired),
        status => Err(Error::ProxyRefused(status)),
    }
}

/// The `Proxy-Authorization` value for `user` and `password` (RFC 7617).
fn basic_authorization(user: &[u8], password: &[u8]) -> String {
    let mut credentials = Vec::with_capacity(user.len() + 1 + password.len());
    credentials.extend_from_slice(user);
    credentials.push(b':');
    credentials.extend_from_slice(password);
    format!("Basic {}", BASE64.encode(&credentials))
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is, as the
/// WHATWG URL standard leaves it.
fn percent_decode(input: &str) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| Some((hex(*bytes.get(index + 1)?)?, hex(*bytes.get(index + 2)?)?)))
            .flatten();
        match escaped {
            Some((high, low)) => {
                decoded.push(high << 4 | low);
                index += 3;
            }
            None => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    decoded
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::{basic_authorization, percent_decode};

    #[test]
    fn basic_credentials_are_rfc_7617s() {
        assert_eq!(
            basic_authorization(b"Aladdin", b"open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%40b%3a%2F"), b"a@b:/");
        assert_eq!(percent_decode("100%"), b"100%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%zz%41"), b"%zzA");
        assert_eq!(percent_decode("%C3%A9"), "é".as_bytes());
    }
}

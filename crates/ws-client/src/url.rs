use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// A `ws://` or `wss://` URL, checked against RFC 6455 section 3 and split into what the
/// client needs: where to connect and what to ask for.
///
/// ```
/// use ws_client::Url;
///
/// let url = Url::parse("WS://[::1]:9001/chat?room=7")?;
/// assert!(!url.is_secure());
/// assert_eq!((url.host(), url.port()), ("::1", 9001));
/// assert_eq!(url.target(), "/chat?room=7");
/// assert_eq!(url.host_header(), "[::1]:9001");
/// assert_eq!(url.to_string(), "ws://[::1]:9001/chat?room=7");
///
/// let url: Url = "wss://example.com".parse()?;
/// assert_eq!((url.port(), url.target()), (443, "/"));
/// assert_eq!(url.host_header(), "example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The parser is deliberately small and strict, since a WebSocket URL is simpler than a
/// web page's: the scheme is `ws` or `wss` in any case; the host is a DNS name (letters,
/// digits, `-`, `.`, `_`), an IPv4 address or a bracketed IPv6 address without a zone;
/// the port, if any, is from 1 to 65535 (an empty one, as in `ws://h:/`, means the
/// default, as RFC 3986 allows). Everything else is refused with a [`UrlError`] naming
/// the part at fault: fragments (section 3 forbids them), user credentials (send them
/// in a header), spaces, control and non-ASCII characters (percent-encode them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    secure: bool,
    /// Without brackets; only an IPv6 address contains a colon.
    host: String,
    port: u16,
    target: String,
}

/// Which part of a URL [`Url::parse`] refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlError {
    /// The URL does not start with a scheme and `://`.
    MissingScheme,
    /// The scheme is not `ws` or `wss`; it carries the scheme as written, such as
    /// `https`.
    UnsupportedScheme(Box<str>),
    /// The URL holds a space, a control character or a non-ASCII character.
    InvalidCharacter,
    /// The URL has a fragment (`#...`), which RFC 6455 section 3 forbids.
    Fragment,
    /// The URL has user information (`user:password@`) before the host.
    UserInfo,
    /// The URL has no host.
    EmptyHost,
    /// The host is not a DNS name, an IPv4 address or a bracketed IPv6 address.
    InvalidHost,
    /// The port is not a number from 1 to 65535.
    InvalidPort,
}

/// What the connecting functions accept as a URL: text to parse, or a [`Url`] already
/// parsed.
///
/// Sealed: implemented for `&str`, `String`, `&String`, `Url` and `&Url` only.
pub trait IntoUrl: sealed::Sealed {
    /// Parses or clones the URL.
    fn into_url(self) -> Result<Url, UrlError>;
}

impl Url {
    /// Parses a `ws://` or `wss://` URL; see [`Url`] for what is accepted.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        // Checked first and for the whole input, so that no later step meets a space or
        // a byte that would need encoding on the request line.
        if !input.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(UrlError::InvalidCharacter);
        }
        let (scheme, rest) = input.split_once("://").ok_or(UrlError::MissingScheme)?;
        if !is_scheme(scheme) {
            return Err(UrlError::MissingScheme);
        }
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(UrlError::UnsupportedScheme(scheme.into()));
        };
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_authority(authority)?;
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            None | Some("") => default_port,
            Some(port) => parse_port(port)?,
        };
        let target = match path_and_query.as_bytes().first() {
            None => "/".to_owned(),
            Some(b'?') => format!("/{path_and_query}"),
            Some(_) => path_and_query.to_owned(),
        };
        Ok(Url {
            secure,
            host: host.to_owned(),
            port,
            target,
        })
    }

    /// Whether the scheme is `wss`, which needs TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The scheme, lowercase: `ws` or `wss`.
    pub fn scheme(&self) -> &'static str {
        if self.secure { "wss" } else { "ws" }
    }

    /// The host as written, without the brackets of an IPv6 address: what DNS
    /// resolution (and TLS's server name) takes.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one written, or the scheme's default (80 for `ws`, 443 for `wss`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: the path (`/` when the URL has none) and any query, such as
    /// `/chat?room=7`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The value of the `Host` header: the host (bracketed if IPv6), then `:port` only
    /// when the port is not the scheme's default, as RFC 6455 section 4.1 asks.
    pub fn host_header(&self) -> String {
        let host = if self.is_ipv6() {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolves `reference` against this URL, as a redirect's `Location` is resolved
    /// (RFC 3986 section 5.2), into the URL to connect to next.
    ///
    /// An absolute reference names its own scheme, read as a WebSocket one: `ws` and
    /// `wss`, and `http` and `https` for `ws` and `wss`, since servers write redirects
    /// with the schemes they know; any other scheme is
    /// [`UrlError::UnsupportedScheme`]. A network-path reference (`//host/path`) keeps
    /// this URL's scheme; an absolute path (`/path`) keeps its host and port too; a
    /// relative path (`next`, `../up`) replaces the last segment of this URL's path;
    /// a lone query (`?page=2`) keeps the path. Dot segments are removed, and a fragment,
    /// which only a browser's page could use, is dropped. The result is checked as
    /// [`Url::parse`] checks any URL.
    ///
    /// ```
    /// use ws_client::Url;
    ///
    /// let base = Url::parse("wss://example.com/v1/chat?room=7")?;
    /// assert_eq!(base.join("/v2/chat")?.to_string(), "wss://example.com/v2/chat");
    /// assert_eq!(base.join("../v2/chat")?.to_string(), "wss://example.com/v2/chat");
    /// assert_eq!(base.join("stream")?.to_string(), "wss://example.com/v1/stream");
    /// assert_eq!(base.join("//eu.example.com/chat")?.to_string(), "wss://eu.example.com/chat");
    /// assert_eq!(base.join("https://example.net:8443/")?.to_string(), "wss://example.net:8443/");
    /// assert_eq!(base.join("http://example.net/")?.to_string(), "ws://example.net/");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let reference = reference
            .split_once('#')
            .map_or(reference, |(before, _)| before);
        if let Some((scheme, rest)) = reference.split_once(':')
            && is_scheme(scheme)
        {
            let scheme = if scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("http")
            {
                "ws"
            } else if scheme.eq_ignore_ascii_case("wss") || scheme.eq_ignore_ascii_case("https") {
                "wss"
            } else {
                return Err(UrlError::UnsupportedScheme(scheme.into()));
            };
            return Url::parse(&format!("{scheme}:{rest}"));
        }
        if reference.starts_with("//") {
            return Url::parse(&format!("{}:{reference}", self.scheme()));
        }
        let (base_path, base_query) = split_query(&self.target);
        let (path, query) = split_query(reference);
        let (path, query) = if path.is_empty() {
            (base_path.to_owned(), query.or(base_query))
        } else if path.starts_with('/') {
            (remove_dot_segments(path), query)
        } else {
            // The base path always starts with `/`, so a directory part is always found.
            let directory = base_path
                .rfind('/')
                .and_then(|end| base_path.get(..=end))
                .unwrap_or("/");
            (remove_dot_segments(&format!("{directory}{path}")), query)
        };
        let target = match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        Url::parse(&format!(
            "{}://{}{target}",
            self.scheme(),
            self.host_header()
        ))
    }

    /// `host:port` with the port always written (and an IPv6 host bracketed): the
    /// authority form of a `CONNECT` request.
    pub(crate) fn authority(&self) -> String {
        if self.is_ipv6() {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn is_ipv6(&self) -> bool {
        self.host.contains(':')
    }

    fn default_port(&self) -> u16 {
        if self.secure { 443 } else { 80 }
    }
}

impl fmt::Display for Url {
    /// The URL in a normal form: lowercase scheme, default port left out, target
    /// always starting with `/`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme(),
            self.host_header(),
            self.target
        )
    }
}

impl FromStr for Url {
    type Err = UrlError;

    fn from_str(input: &str) -> Result<Url, UrlError> {
        Url::parse(input)
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::MissingScheme => f.write_str("url does not start with ws:// or wss://"),
            UrlError::UnsupportedScheme(scheme) => {
                write!(f, "url scheme {scheme:?} is not ws or wss")
            }
            UrlError::InvalidCharacter => {
                f.write_str("url holds a space, control or non-ascii character")
            }
            UrlError::Fragment => f.write_str("url has a fragment, which websocket urls may not"),
            UrlError::UserInfo => {
                f.write_str("url has credentials before the host; send them in a header")
            }
            UrlError::EmptyHost => f.write_str("url has no host"),
            UrlError::InvalidHost => {
                f.write_str("url host is not a dns name, ipv4 address or bracketed ipv6 address")
            }
            UrlError::InvalidPort => f.write_str("url port is not a number from 1 to 65535"),
        }
    }
}

impl std::error::Error for UrlError {}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(self)
    }
}

impl IntoUrl for String {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(&self)
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<Url, UrlError> {
        Url::parse(self)
    }
}

impl IntoUrl for Url {
    fn into_url(self) -> Result<Url, UrlError> {
        Ok(self)
    }
}

impl IntoUrl for &Url {
    fn into_url(self) -> Result<Url, UrlError> {
        Ok(self.clone())
    }
}

pub(crate) mod sealed {
    use super::{Url, UrlError};

    /// Keeps [`IntoUrl`](super::IntoUrl) closed, so methods can be added to it later.
    pub trait Sealed {
        /// Parses or clones the URL, keeping the text on failure so that the error can
        /// show what was given.
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)>;
    }

    impl Sealed for &str {
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)> {
            Url::parse(self).map_err(|error| (self.into(), error))
        }
    }

    impl Sealed for String {
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)> {
            Url::parse(&self).map_err(|error| (self.into(), error))
        }
    }

    impl Sealed for &String {
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)> {
            self.as_str().into_url_or_input()
        }
    }

    impl Sealed for Url {
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)> {
            Ok(self)
        }
    }

    impl Sealed for &Url {
        fn into_url_or_input(self) -> Result<Url, (Box<str>, UrlError)> {
            Ok(self.clone())
        }
    }
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, RFC 3986 section 3.1.
pub(crate) fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'))
}

/// The host (without brackets) and the port text after a colon, if any.
pub(crate) fn split_authority(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or(UrlError::InvalidHost)?;
        // A zone (`%25eth0`) fails here too: it names an interface of the local machine,
        // meaningless in a Host header.
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost);
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(UrlError::InvalidHost),
            },
        };
    }
    let (host, port) = match authority.split_once(':') {
        // A second colon means an IPv6 address without its brackets.
        Some((_, port)) if port.contains(':') => return Err(UrlError::InvalidHost),
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(UrlError::EmptyHost);
    }
    let valid = host
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if !valid {
        return Err(UrlError::InvalidHost);
    }
    Ok((host, port))
}

/// The path and the query (without its `?`), if there is one.
fn split_query(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// An absolute path without `.` and `..` segments (RFC 3986 section 5.2.4): `..` above
/// the root stays at the root, and a path ending in a dot segment keeps a final `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut ends_in_directory = false;
    for segment in path.split('/').skip(1) {
        ends_in_directory = matches!(segment, "." | "..");
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut output = format!("/{}", segments.join("/"));
    if ends_in_directory && !segments.is_empty() {
        output.push('/');
    }
    output
}

/// Digits only (`str::parse` alone would take a leading `+`), 1 to 65535.
pub(crate) fn parse_port(port: &str) -> Result<u16, UrlError> {
    if !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(UrlError::InvalidPort);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::InvalidPort),
        Ok(port) => Ok(port),
    }
}

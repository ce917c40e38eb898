use std::fmt;

use crate::Error;
use crate::headers::{EscapedBytes, Headers, is_token, is_value_byte, is_visible_ascii};

/// A request head: the request line and the header fields, as a
/// [`RequestParser`](crate::RequestParser) read them.
///
/// The method is a token and the target visible ASCII, so both are checked strings;
/// header values stay bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    version: (u8, u8),
    headers: Headers,
}

/// A response head: the status line and the header fields, as a
/// [`ResponseParser`](crate::ResponseParser) read them.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    version: (u8, u8),
    status: u16,
    reason: Vec<u8>,
    headers: Headers,
}

impl Request {
    /// The method, such as `GET`; compared case-sensitively, as HTTP does.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent, such as `/chat?room=1`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The HTTP version as `(major, minor)`: `(1, 1)` for `HTTP/1.1`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Response {
    /// The HTTP version as `(major, minor)`: `(1, 1)` for `HTTP/1.1`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// The three-digit status code, such as 101.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase, possibly empty; informational only, and not always UTF-8.
    pub fn reason(&self) -> &[u8] {
        &self.reason
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("version", &self.version)
            .field("status", &self.status)
            .field("reason", &EscapedBytes(&self.reason))
            .field("headers", &self.headers)
            .finish()
    }
}

/// A head the incremental parser can build: a start line, then header fields.
pub(crate) trait Head: Sized {
    /// Parses the first line, without its line ending.
    fn from_start_line(line: &[u8]) -> Result<Self, Error>;

    /// Where the parser adds header fields.
    fn headers_mut(&mut self) -> &mut Headers;
}

impl Head for Request {
    /// `method SP request-target SP HTTP-version` (RFC 9112 section 3), single spaces only:
    /// lenient whitespace is where request smuggling hides.
    fn from_start_line(line: &[u8]) -> Result<Request, Error> {
        let mut parts = line.split(|&byte| byte == b' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::InvalidRequestLine);
        };
        let valid_target = !target.is_empty() && target.iter().all(|&b| is_visible_ascii(b));
        let version = parse_version(version);
        match version {
            Some(version) if is_token(method) && valid_target => Ok(Request {
                method: ascii_to_string(method),
                target: ascii_to_string(target),
                version,
                headers: Headers::default(),
            }),
            _ => Err(Error::InvalidRequestLine),
        }
    }

    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

impl Head for Response {
    /// `HTTP-version SP status-code SP [reason-phrase]` (RFC 9112 section 4). The space
    /// before an empty reason is optional here, since some servers leave it out.
    fn from_start_line(line: &[u8]) -> Result<Response, Error> {
        let mut parts = line.splitn(3, |&byte| byte == b' ');
        let version = parts.next().and_then(parse_version);
        let status = parts.next().and_then(parse_status);
        let reason = parts.next().unwrap_or_default();
        match (version, status) {
            (Some(version), Some(status)) if reason.iter().all(|&b| is_value_byte(b)) => {
                Ok(Response {
                    version,
                    status,
                    reason: reason.to_vec(),
                    headers: Headers::default(),
                })
            }
            _ => Err(Error::InvalidStatusLine),
        }
    }

    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

/// `HTTP/d.d`, the only version syntax HTTP/1 has.
fn parse_version(bytes: &[u8]) -> Option<(u8, u8)> {
    match *bytes {
        [
            b'H',
            b'T',
            b'T',
            b'P',
            b'/',
            major @ b'0'..=b'9',
            b'.',
            minor @ b'0'..=b'9',
        ] => Some((major - b'0', minor - b'0')),
        _ => None,
    }
}

/// Three digits, the first not zero.
fn parse_status(bytes: &[u8]) -> Option<u16> {
    match *bytes {
        [
            hundreds @ b'1'..=b'9',
            tens @ b'0'..=b'9',
            units @ b'0'..=b'9',
        ] => Some(
            u16::from(hundreds - b'0') * 100
                + u16::from(tens - b'0') * 10
                + u16::from(units - b'0'),
        ),
        _ => None,
    }
}

/// Converts bytes already checked to be ASCII; never fails, so it needs no error path.
pub(crate) fn ascii_to_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&byte| char::from(byte)).collect()
}

use std::fmt;

use crate::{Error, Misuse};

/// The header fields of a parsed head, in the order they arrived.
///
/// Names keep the case they were sent in and compare case-insensitively. Values are
/// bytes with surrounding whitespace removed: HTTP allows bytes above 0x7F in them, so
/// they are never assumed to be UTF-8. Repeated fields stay separate entries;
/// [`Headers::get_all`] and [`Headers::tokens`] see every one.
///
/// ```
/// use ws_handshake::{Parsed, RequestParser};
///
/// let head = b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: Upgrade\r\n\r\n";
/// let Parsed::Complete(request, _) = RequestParser::default().parse(head)? else { unreachable!() };
/// let headers = request.headers();
/// assert_eq!(headers.get("CONNECTION"), Some(&b"keep-alive"[..]));
/// assert_eq!(headers.get_all("connection").count(), 2);
/// assert!(headers.contains_token("connection", "upgrade"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// The number of fields, repeats included.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the head has no header fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the first field with this name, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    /// The values of every field with this name, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.fields
            .iter()
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// Every field as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// The elements of the comma-separated lists in every field with this name, trimmed,
    /// with empty elements skipped (RFC 9110 section 5.6.1). `Connection: a, b` followed
    /// by `Connection: c` yields `a`, `b`, `c`.
    pub fn tokens<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).flat_map(list_elements)
    }

    /// True when some field with this name lists `token`, compared case-insensitively.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name)
            .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
    }

    pub(crate) fn push(&mut self, name: String, value: Vec<u8>) {
        self.fields.push((name, value));
    }

    /// The value of a field that may appear at most once.
    pub(crate) fn at_most_one(&self, name: &'static str) -> Result<Option<&[u8]>, Error> {
        let mut values = self.get_all(name);
        let first = values.next();
        match values.next() {
            Some(_) => Err(Error::DuplicateHeader(name)),
            None => Ok(first),
        }
    }

    /// The value of a field that must appear exactly once.
    pub(crate) fn exactly_one(&self, name: &'static str) -> Result<&[u8], Error> {
        self.at_most_one(name)?.ok_or(Error::MissingHeader(name))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(name, value)| (name, EscapedBytes(value))))
            .finish()
    }
}

/// Shows bytes as an escaped string in `Debug` output: readable for text, exact for
/// anything else.
pub(crate) struct EscapedBytes<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for EscapedBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

/// The trimmed, non-empty elements of one comma-separated value.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&byte| byte == b',')
        .map(trim_whitespace)
        .filter(|element| !element.is_empty())
}

/// Strips spaces and tabs, and nothing else: trimming CR too would let a stray CR slip
/// past the check that rejects it.
pub(crate) fn trim_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// A token character (RFC 9110 section 5.6.2): what method names, header names and
/// subprotocols are made of.
pub(crate) const fn is_token_byte(byte: u8) -> bool {
    matches!(byte,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// A non-empty run of token characters.
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&byte| is_token_byte(byte))
}

/// A byte allowed in a header value or reason phrase: tab, space, visible ASCII and
/// obs-text (0x80 and up). Everything else is a control byte, CR and LF included.
pub(crate) const fn is_value_byte(byte: u8) -> bool {
    byte == b'\t' || (byte >= b' ' && byte != 0x7f)
}

/// Visible ASCII, the alphabet of request targets and host names.
pub(crate) const fn is_visible_ascii(byte: u8) -> bool {
    byte.is_ascii_graphic()
}

/// A header a caller asked a builder to add, checked when the head is written.
pub(crate) type Field = (String, Vec<u8>);

/// Writes `name: value` and CRLF for fields the crate itself made valid.
pub(crate) fn write_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes the caller's extra fields, refusing any that would break the head or
/// duplicate a field the builder writes itself (`managed`, lowercase).
pub(crate) fn write_caller_fields(
    out: &mut Vec<u8>,
    fields: &[Field],
    managed: &[&'static str],
) -> Result<(), Error> {
    for (name, value) in fields {
        if !is_token(name.as_bytes()) {
            return Err(Misuse::HeaderName.into());
        }
        if let Some(&managed) = managed.iter().find(|m| name.eq_ignore_ascii_case(m)) {
            return Err(Misuse::ManagedHeader(managed).into());
        }
        if !value.iter().all(|&byte| is_value_byte(byte)) {
            return Err(Misuse::HeaderValue.into());
        }
        write_field(out, name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_whitespace_keeps_carriage_returns() {
        assert_eq!(trim_whitespace(b" \t a b \t"), b"a b");
        assert_eq!(trim_whitespace(b"a\r"), b"a\r");
        assert_eq!(trim_whitespace(b"  "), b"");
    }

    #[test]
    fn list_elements_skip_empty_ones() {
        let elements: Vec<&[u8]> = list_elements(b" ,a, ,b ,,").collect();
        assert_eq!(elements, [&b"a"[..], b"b"]);
    }

    #[test]
    fn byte_classes() {
        assert!(is_token(b"Sec-WebSocket-Key"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a:b"));
        assert!(is_value_byte(b'\t') && is_value_byte(0x80) && is_value_byte(b'~'));
        assert!(!is_value_byte(b'\r') && !is_value_byte(b'\n') && !is_value_byte(0));
        assert!(!is_value_byte(0x7f));
    }
}

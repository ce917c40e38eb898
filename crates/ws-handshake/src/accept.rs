use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;
use crate::headers::list_elements;

/// The GUID RFC 6455 section 1.3 appends to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`, given as the text the
/// client sent: base64 of the SHA-1 of the key and the RFC's GUID.
///
/// It does not check the key; [`UpgradeRequest::from_request`](crate::UpgradeRequest::from_request)
/// does that before answering.
///
/// ```
/// // The example of RFC 6455 section 1.3.
/// assert_eq!(ws_handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    STANDARD.encode(sha1.digest().bytes())
}

/// True when `key` is base64 for exactly 16 bytes, as RFC 6455 section 4.1 requires.
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    // 16 bytes always encode to 24 characters; checking that first keeps a hostile
    // value from being decoded at all.
    let mut nonce = [0; 16];
    key.len() == 24 && matches!(STANDARD.decode_slice(key, &mut nonce), Ok(16))
}

/// The API of an earlier library, kept so its users can move over in small steps.
///
/// It works on a map of headers, which loses information the handshake needs, so new
/// code should use [`RequestParser`](crate::RequestParser) and
/// [`UpgradeRequest::from_request`](crate::UpgradeRequest::from_request) instead:
///
/// - a `HashMap` holds one value per name, so a repeated header (two
///   `Sec-WebSocket-Key` fields, or `Connection: keep-alive` followed by
///   `Connection: Upgrade`) cannot be seen, let alone rejected or combined;
/// - keys must be lowercase header names: a map built with `"Upgrade"` as a key
///   reads as a request without an `Upgrade` header;
/// - the method, HTTP version and `Host` are not in the map and go unchecked;
/// - values must be UTF-8, which HTTP does not promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handshake;

impl Handshake {
    /// Checks the `upgrade`, `connection`, `sec-websocket-version` and
    /// `sec-websocket-key` entries of a client's headers (keys must be lowercase), and
    /// returns the key.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use ws_handshake::Handshake;
    ///
    /// let headers: HashMap<String, String> = [
    ///     ("upgrade", "websocket"),
    ///     ("connection", "keep-alive, Upgrade"),
    ///     ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ///     ("sec-websocket-version", "13"),
    /// ]
    /// .into_iter()
    /// .map(|(name, value)| (name.to_owned(), value.to_owned()))
    /// .collect();
    /// let key = Handshake::parse_upgrade_request(&headers)?;
    /// assert_eq!(Handshake::generate_accept_key(&key)?, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_upgrade_request(headers: &HashMap<String, String>) -> Result<String, Error> {
        let value = |name: &str| {
            headers
                .get(name)
                .map(|value| value.trim_matches([' ', '\t']))
        };
        let has_token = |name: &str, token: &str| {
            value(name).is_some_and(|value| {
                list_elements(value.as_bytes())
                    .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
            })
        };
        if !has_token("upgrade", "websocket") {
            return Err(Error::NoWebSocketUpgrade);
        }
        if !has_token("connection", "upgrade") {
            return Err(Error::NoConnectionUpgrade);
        }
        match value("sec-websocket-version") {
            None => return Err(Error::MissingHeader("sec-websocket-version")),
            Some("13") => {}
            Some(_) => return Err(Error::UnsupportedVersion),
        }
        let key = value("sec-websocket-key").ok_or(Error::MissingHeader("sec-websocket-key"))?;
        if !is_valid_key(key.as_bytes()) {
            return Err(Error::InvalidHeader("sec-websocket-key"));
        }
        Ok(key.to_owned())
    }

    /// The `Sec-WebSocket-Accept` value for a client's key, after checking that the key
    /// is base64 for 16 bytes; [`accept_key`] is the unchecked form.
    pub fn generate_accept_key(key: &str) -> Result<String, Error> {
        if !is_valid_key(key.as_bytes()) {
            return Err(Error::InvalidHeader("sec-websocket-key"));
        }
        Ok(accept_key(key.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_16_bytes_of_canonical_base64() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ"));
        // 24 characters that decode to 17 or 18 bytes.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQAA"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZXM="));
        // Trailing bits set in the last character: not the canonical encoding.
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j\xffQ=="));
    }
}

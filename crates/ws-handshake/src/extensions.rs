//! `Sec-WebSocket-Extensions` (RFC 6455 section 9.1) and the negotiation of
//! permessage-deflate (RFC 7692 section 7.1) for both ends.
//!
//! The header is parsed completely, quoted strings included, by
//! [`parse_extensions`]. A server hands the parsed offers to
//! [`DeflateServerConfig::negotiate`] (or calls
//! [`UpgradeRequest::negotiate_deflate`](crate::UpgradeRequest::negotiate_deflate)) and
//! passes the [`DeflateParams`] it gets to
//! [`AcceptResponse::deflate`](crate::AcceptResponse::deflate). A client gives a
//! [`DeflateOffer`] to [`ClientRequest::deflate`](crate::ClientRequest::deflate), and
//! [`Accepted::deflate`](crate::Accepted::deflate) holds what the server agreed to.
//!
//! ```
//! use ws_handshake::{DeflateOffer, DeflateServerConfig, parse_extensions};
//!
//! // A browser's offer, as Chromium sends it.
//! let offer = DeflateOffer::default().to_string();
//! assert_eq!(offer, "permessage-deflate; client_max_window_bits");
//! let offers = parse_extensions([offer.as_bytes()])?;
//!
//! // The server's defaults keep its memory small: 12-bit windows both ways.
//! let agreed = DeflateServerConfig::default().negotiate(&offers).expect("acceptable");
//! assert_eq!(
//!     agreed.to_string(),
//!     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
//! );
//!
//! // The client checks the answer against what it offered.
//! let answer = parse_extensions([agreed.to_string().as_bytes()])?;
//! assert_eq!(DeflateOffer::default().check_answer(&answer)?, Some(agreed));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::headers::{is_token, is_token_byte};
use crate::{Error, Misuse};

/// The extension token of permessage-deflate.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// One element of a `Sec-WebSocket-Extensions` list: an extension's name and its
/// parameters, in the order sent. A client may offer one extension several times, each
/// element being one offer, most preferred first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extension {
    name: String,
    params: Vec<ExtensionParam>,
}

/// One `name` or `name=value` parameter of an [`Extension`]. A quoted value is kept
/// unescaped: `a="1"` and `a=1` read the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionParam {
    name: String,
    value: Option<String>,
}

/// Parses the values of every `Sec-WebSocket-Extensions` field, in order, into one
/// list of extensions.
///
/// The grammar is RFC 6455 section 9.1 with the tokens, quoted strings and list rules
/// of RFC 9110 section 5.6: whitespace around `,`, `;` and `=` is allowed, empty list
/// elements are skipped, and a quoted value must be a token once unescaped. Anything
/// else gives [`Error::ExtensionSyntax`] with the offset in the field value where
/// parsing stopped. The work and the result are linear in the input.
///
/// ```
/// use ws_handshake::parse_extensions;
///
/// let lines: [&[u8]; 2] = [b"permessage-deflate; client_max_window_bits=\"10\", x-foo", b"a;b;c=d"];
/// let list = parse_extensions(lines)?;
/// assert_eq!(list.len(), 3);
/// assert_eq!(list[0].param("client_max_window_bits"), Some(Some("10")));
/// assert_eq!((list[2].name(), list[2].params().count()), ("a", 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_extensions<'a, I>(values: I) -> Result<Vec<Extension>, Error>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut list = Vec::new();
    for value in values {
        Cursor::new(value).parse_list(&mut list)?;
    }
    Ok(list)
}

impl Extension {
    /// The extension's token, such as `permessage-deflate`, as sent.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameters, in the order sent.
    pub fn params(&self) -> impl Iterator<Item = &ExtensionParam> {
        self.params.iter()
    }

    /// The first parameter named `name`: `None` if absent, `Some(None)` if present
    /// without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|param| param.name == name)
            .map(ExtensionParam::value)
    }
}

impl ExtensionParam {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, unescaped if it was quoted; `None` for a bare name.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// Writes the element back as a header value would carry it; every value is a token,
/// so none needs quoting.
impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for param in &self.params {
            write!(f, "; {}", param.name)?;
            if let Some(value) = &param.value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// The parameters of a permessage-deflate offer: what a client sends, or what a
/// server read from one offer.
///
/// [`DeflateOffer::default`] is the offer browsers make,
/// `permessage-deflate; client_max_window_bits`: any window the server likes both
/// ways, with context takeover.
///
/// A client may compress with any window from 9 to 15 bits but not with 8, which the
/// deflate backend lacks (RFC 7692 section 7.1.2.1 forbids using 9 instead). It cannot
/// stop a server from choosing 8 for it, since any offer of `client_max_window_bits`
/// allows every smaller window; [`DeflateOffer::check_answer`] then fails with
/// [`Error::UnsupportedWindowBits`]. Leaving `client_max_window_bits` out avoids that,
/// at the price of a 15-bit window for the client's compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateOffer {
    /// Asks the server to reset its compressor after each message, so the client can
    /// drop its inflate window between messages.
    ///
    /// Default: `false`, since context takeover compresses chat-like traffic far better.
    pub server_no_context_takeover: bool,
    /// Tells the server that the client resets its compressor after each message.
    ///
    /// Default: `false`.
    pub client_no_context_takeover: bool,
    /// The largest window, in bits (8 to 15), the server may compress with; `None`
    /// leaves the server's choice free.
    ///
    /// Default: `None`: inflating with any window costs at most 32 KiB.
    pub server_max_window_bits: Option<u8>,
    /// The largest window, in bits (9 to 15), the client may be asked to compress with;
    /// `None` sends no `client_max_window_bits`, so the server cannot ask for less than
    /// 15. `Some(15)` is written without a value, as browsers write it.
    ///
    /// Default: `Some(15)`.
    pub client_max_window_bits: Option<u8>,
}

/// What both ends agreed to: the server's answer, written by
/// [`AcceptResponse::deflate`](crate::AcceptResponse::deflate) and read by
/// [`DeflateOffer::check_answer`].
///
/// A window left out of the answer is 15 bits ([`DeflateParams::server_window_bits`]
/// and [`DeflateParams::client_window_bits`] say which applies). The compressor of
/// the server uses the `server_*` settings, the client's the `client_*` ones; each
/// inflater follows its peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct DeflateParams {
    /// The server resets its compressor, and the client its inflater, after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor, and the server its inflater, after each message.
    pub client_no_context_takeover: bool,
    /// The server's compression window in bits, 9 to 15 when this crate is the server;
    /// `None` is 15, written by leaving the parameter out.
    pub server_max_window_bits: Option<u8>,
    /// The client's compression window in bits, 9 to 15 when this crate is the client;
    /// `None` is 15, written by leaving the parameter out.
    pub client_max_window_bits: Option<u8>,
}

/// How a server answers permessage-deflate offers.
///
/// The defaults follow python-websockets' server: 12-bit windows both ways, which
/// keeps the inflate window at 4 KiB and the compressor's window at 8 KiB per
/// connection, and context takeover kept. Setters clamp window sizes to 9..=15: the
/// backend compresses with nothing smaller.
///
/// ```
/// use ws_handshake::{DeflateServerConfig, parse_extensions};
///
/// // A client that asks us to compress with 8 bits is declined, and its fallback taken.
/// let offers = parse_extensions([&b"permessage-deflate; server_max_window_bits=8, permessage-deflate"[..]])?;
/// let config = DeflateServerConfig::default().client_max_window_bits(15);
/// let agreed = config.negotiate(&offers).expect("the second offer");
/// assert_eq!(agreed.to_string(), "permessage-deflate; server_max_window_bits=12");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateServerConfig {
    /// The largest window the server compresses with, in bits; an offer that asks for
    /// less (but at least 9) gets what it asks.
    ///
    /// Default: 12, as in python-websockets.
    pub server_max_window_bits: u8,
    /// The window the server asks clients to compress with, in bits, when the client
    /// offered `client_max_window_bits`; the server inflates with it.
    ///
    /// Default: 12, as in python-websockets.
    pub client_max_window_bits: u8,
    /// Declines offers without `client_max_window_bits` when
    /// [`DeflateServerConfig::client_max_window_bits`] is below 15, instead of
    /// accepting them with a 32 KiB inflate window.
    ///
    /// Default: `false`: old clients still get compression.
    pub require_client_max_window_bits: bool,
    /// Resets the server's compressor after each message, whatever the client asked:
    /// less compression, but a message compressed once can go to every connection.
    ///
    /// Default: `false`.
    pub server_no_context_takeover: bool,
    /// Asks clients to reset their compressor after each message, whatever they
    /// offered, so the server's inflater keeps no history between messages.
    ///
    /// Default: `false`.
    pub client_no_context_takeover: bool,
}

impl Default for DeflateOffer {
    fn default() -> DeflateOffer {
        DeflateOffer {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: Some(15),
        }
    }
}

impl DeflateOffer {
    /// Sets [`DeflateOffer::server_no_context_takeover`].
    pub fn server_no_context_takeover(mut self, on: bool) -> DeflateOffer {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateOffer::client_no_context_takeover`].
    pub fn client_no_context_takeover(mut self, on: bool) -> DeflateOffer {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateOffer::server_max_window_bits`]; a value outside 8..=15 makes
    /// [`ClientRequest::build`](crate::ClientRequest::build) fail with
    /// [`Misuse::DeflateOffer`].
    pub fn server_max_window_bits(mut self, bits: Option<u8>) -> DeflateOffer {
        self.server_max_window_bits = bits;
        self
    }

    /// Sets [`DeflateOffer::client_max_window_bits`]; a value outside 9..=15 makes
    /// [`ClientRequest::build`](crate::ClientRequest::build) fail with
    /// [`Misuse::DeflateOffer`].
    pub fn client_max_window_bits(mut self, bits: Option<u8>) -> DeflateOffer {
        self.client_max_window_bits = bits;
        self
    }

    /// Reads one offer's parameters (RFC 7692 section 7.1): each known parameter at
    /// most once, flags without a value, window sizes from 8 to 15 without leading
    /// zeros, `server_max_window_bits` with a value. A server declines an offer that
    /// fails here.
    pub fn from_extension(offer: &Extension) -> Result<DeflateOffer, Error> {
        let raw = RawParams::read(offer, false)?;
        Ok(DeflateOffer {
            server_no_context_takeover: raw.server_no_context_takeover,
            client_no_context_takeover: raw.client_no_context_takeover,
            server_max_window_bits: raw.server_max_window_bits.flatten(),
            client_max_window_bits: raw.client_max_window_bits.map(|bits| bits.unwrap_or(15)),
        })
    }

    /// Checks a server's `Sec-WebSocket-Extensions` answer (all its fields parsed by
    /// [`parse_extensions`]) against this offer, and gives the agreed parameters, or
    /// `None` when the server declined compression.
    ///
    /// It fails with [`Error::UnexpectedExtension`] for an extension other than
    /// permessage-deflate or a second one; with the parameter errors of
    /// [`DeflateParams::from_extension`]; with [`Error::ClientWindowBitsNotAllowed`],
    /// [`Error::ServerWindowBitsNotAllowed`] or [`Error::ContextTakeoverNotAgreed`]
    /// when the answer breaks the offer; and with [`Error::UnsupportedWindowBits`]
    /// when the server asks the client to compress with 8 bits.
    pub fn check_answer(&self, answer: &[Extension]) -> Result<Option<DeflateParams>, Error> {
        let [chosen] = answer else {
            return match answer {
                [] => Ok(None),
                _ => Err(Error::UnexpectedExtension),
            };
        };
        if chosen.name != PERMESSAGE_DEFLATE {
            return Err(Error::UnexpectedExtension);
        }
        let params = DeflateParams::from_extension(chosen)?;
        self.permits(&params)?;
        if params.client_max_window_bits == Some(8) {
            return Err(Error::UnsupportedWindowBits { bits: 8 });
        }
        Ok(Some(params))
    }

    /// Whether `params` is an answer RFC 7692 section 7.1 allows to this offer.
    fn permits(&self, params: &DeflateParams) -> Result<(), Error> {
        if self.server_no_context_takeover && !params.server_no_context_takeover {
            return Err(Error::ContextTakeoverNotAgreed);
        }
        if let Some(offered) = self.server_max_window_bits {
            match params.server_max_window_bits {
                Some(bits) if bits <= offered => {}
                _ => return Err(Error::ServerWindowBitsNotAllowed),
            }
        }
        if let Some(bits) = params.client_max_window_bits {
            match self.client_max_window_bits {
                Some(offered) if bits <= offered => {}
                _ => return Err(Error::ClientWindowBitsNotAllowed),
            }
        }
        Ok(())
    }

    /// The offer is one this crate can keep: windows in range, none of 8 bits for our
    /// own compressor.
    pub(crate) fn check_sendable(&self) -> Result<(), Misuse> {
        let server_ok = self
            .server_max_window_bits
            .is_none_or(|bits| (8..=15).contains(&bits));
        let client_ok = self
            .client_max_window_bits
            .is_none_or(|bits| (9..=15).contains(&bits));
        if server_ok && client_ok {
            Ok(())
        } else {
            Err(Misuse::DeflateOffer)
        }
    }
}

/// Writes the offer as a `Sec-WebSocket-Extensions` value.
impl fmt::Display for DeflateOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PERMESSAGE_DEFLATE)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        match self.client_max_window_bits {
            Some(15) => f.write_str("; client_max_window_bits"),
            Some(bits) => write!(f, "; client_max_window_bits={bits}"),
            None => Ok(()),
        }
    }
}

impl DeflateParams {
    /// The window the server compresses with, in bits.
    pub fn server_window_bits(&self) -> u8 {
        self.server_max_window_bits.unwrap_or(15)
    }

    /// The window the client compresses with, in bits.
    pub fn client_window_bits(&self) -> u8 {
        self.client_max_window_bits.unwrap_or(15)
    }

    /// Reads a server's answer (RFC 7692 section 7.1): each known parameter at most
    /// once ([`Error::DuplicateExtensionParam`]), no other
    /// ([`Error::UnknownExtensionParam`]), flags without a value and both window sizes
    /// with one ([`Error::InvalidExtensionParam`]), from 8 to 15
    /// ([`Error::WindowBitsOutOfRange`]).
    pub fn from_extension(answer: &Extension) -> Result<DeflateParams, Error> {
        let raw = RawParams::read(answer, true)?;
        Ok(DeflateParams {
            server_no_context_takeover: raw.server_no_context_takeover,
            client_no_context_takeover: raw.client_no_context_takeover,
            server_max_window_bits: raw.server_max_window_bits.flatten(),
            client_max_window_bits: raw.client_max_window_bits.flatten(),
        })
    }

    /// Whether this answer fits one of `offers` and leaves this crate, as the server,
    /// a window it can compress with.
    pub(crate) fn answers_one_of(&self, offers: &[Extension]) -> bool {
        self.server_max_window_bits != Some(8)
            && offers
                .iter()
                .filter(|offer| offer.name == PERMESSAGE_DEFLATE)
                .filter_map(|offer| DeflateOffer::from_extension(offer).ok())
                .any(|offer| offer.permits(self).is_ok())
    }
}

/// Writes the answer as a `Sec-WebSocket-Extensions` value, with exactly the
/// parameters that were agreed.
impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PERMESSAGE_DEFLATE)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if let Some(bits) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={bits}")?;
        }
        Ok(())
    }
}

impl Default for DeflateServerConfig {
    fn default() -> DeflateServerConfig {
        DeflateServerConfig {
            server_max_window_bits: 12,
            client_max_window_bits: 12,
            require_client_max_window_bits: false,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
        }
    }
}

impl DeflateServerConfig {
    /// Sets [`DeflateServerConfig::server_max_window_bits`], clamped to 9..=15.
    pub fn server_max_window_bits(mut self, bits: u8) -> DeflateServerConfig {
        self.server_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// Sets [`DeflateServerConfig::client_max_window_bits`], clamped to 9..=15.
    pub fn client_max_window_bits(mut self, bits: u8) -> DeflateServerConfig {
        self.client_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// Sets [`DeflateServerConfig::require_client_max_window_bits`].
    pub fn require_client_max_window_bits(mut self, on: bool) -> DeflateServerConfig {
        self.require_client_max_window_bits = on;
        self
    }

    /// Sets [`DeflateServerConfig::server_no_context_takeover`].
    pub fn server_no_context_takeover(mut self, on: bool) -> DeflateServerConfig {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`DeflateServerConfig::client_no_context_takeover`].
    pub fn client_no_context_takeover(mut self, on: bool) -> DeflateServerConfig {
        self.client_no_context_takeover = on;
        self
    }

    /// The answer to the first permessage-deflate offer in `offers` this server can
    /// honour, or `None` to decline compression. Other extensions are skipped;
    /// malformed offers, and offers that would make the server compress with an 8-bit
    /// window, are declined and the next one tried.
    pub fn negotiate(&self, offers: &[Extension]) -> Option<DeflateParams> {
        offers
            .iter()
            .filter(|offer| offer.name == PERMESSAGE_DEFLATE)
            .filter_map(|offer| DeflateOffer::from_extension(offer).ok())
            .find_map(|offer| self.answer(&offer))
    }

    /// The answer to one well-formed offer, or `None` if this server cannot honour it.
    pub fn answer(&self, offer: &DeflateOffer) -> Option<DeflateParams> {
        let server_limit = self.server_max_window_bits.clamp(9, 15);
        let client_limit = self.client_max_window_bits.clamp(9, 15);
        let server_max_window_bits = match offer.server_max_window_bits {
            // The backend has no 8-bit compressor, and 9 would break the agreement.
            Some(bits) if bits < 9 => return None,
            Some(bits) => Some(bits.min(server_limit)),
            None if server_limit < 15 => Some(server_limit),
            None => None,
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            Some(offered) if client_limit < offered || offered < 15 => {
                Some(client_limit.min(offered))
            }
            Some(_) => None,
            None if client_limit < 15 && self.require_client_max_window_bits => return None,
            None => None,
        };
        Some(DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover
                || self.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }
}

/// The four parameters as sent: for the windows, `Some(None)` is a name without value.
#[derive(Default)]
struct RawParams {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

impl RawParams {
    /// Reads the parameters of an offer, or of an answer when `answer`: the server's
    /// `client_max_window_bits` must carry a value, the client's need not.
    fn read(extension: &Extension, answer: bool) -> Result<RawParams, Error> {
        let mut raw = RawParams::default();
        for param in &extension.params {
            let value = param.value.as_deref();
            match param.name.as_str() {
                "server_no_context_takeover" => {
                    set_flag(&mut raw.server_no_context_takeover, value)?;
                }
                "client_no_context_takeover" => {
                    set_flag(&mut raw.client_no_context_takeover, value)?;
                }
                "server_max_window_bits" => {
                    let bits = window_bits(value.ok_or(Error::InvalidExtensionParam)?)?;
                    set_once(&mut raw.server_max_window_bits, Some(bits))?;
                }
                "client_max_window_bits" => {
                    let bits = match value {
                        Some(value) => Some(window_bits(value)?),
                        None if answer => return Err(Error::InvalidExtensionParam),
                        None => None,
                    };
                    set_once(&mut raw.client_max_window_bits, bits)?;
                }
                _ => return Err(Error::UnknownExtensionParam),
            }
        }
        Ok(raw)
    }
}

fn set_flag(flag: &mut bool, value: Option<&str>) -> Result<(), Error> {
    if value.is_some() {
        return Err(Error::InvalidExtensionParam);
    }
    if *flag {
        return Err(Error::DuplicateExtensionParam);
    }
    *flag = true;
    Ok(())
}

fn set_once(slot: &mut Option<Option<u8>>, value: Option<u8>) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::DuplicateExtensionParam);
    }
    *slot = Some(value);
    Ok(())
}

/// A decimal window size without leading zeros (RFC 7692 section 7.1.2), 8 to 15.
fn window_bits(value: &str) -> Result<u8, Error> {
    let digits = value.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits[0] == b'0' {
        return Err(Error::InvalidExtensionParam);
    }
    // More than two digits is out of range; checking the length first avoids overflow.
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) if digits.len() <= 2 => Ok(bits),
        _ => Err(Error::WindowBitsOutOfRange),
    }
}

/// A single pass over one field value; every byte is looked at once.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    /// `#extension`: elements separated by commas, empty ones skipped.
    fn parse_list(&mut self, list: &mut Vec<Extension>) -> Result<(), Error> {
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => self.pos += 1,
                Some(_) => {
                    let extension = self.parse_extension()?;
                    list.push(extension);
                }
            }
        }
    }

    /// `extension-token *( OWS ";" OWS extension-param )`, up to and including the
    /// comma that ends it.
    fn parse_extension(&mut self) -> Result<Extension, Error> {
        let name = self.token()?;
        let mut params = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.pos += 1;
                    break;
                }
                Some(b';') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    params.push(self.parse_param()?);
                }
                Some(_) => return Err(self.error()),
            }
        }
        Ok(Extension { name, params })
    }

    /// `token [ OWS "=" OWS ( token / quoted-string ) ]`.
    fn parse_param(&mut self) -> Result<ExtensionParam, Error> {
        let name = self.token()?;
        self.skip_whitespace();
        if self.peek() != Some(b'=') {
            return Ok(ExtensionParam { name, value: None });
        }
        self.pos += 1;
        self.skip_whitespace();
        let value = if self.peek() == Some(b'"') {
            self.quoted_token()?
        } else {
            self.token()?
        };
        Ok(ExtensionParam {
            name,
            value: Some(value),
        })
    }

    fn token(&mut self) -> Result<String, Error> {
        let start = self.pos;
        while self.peek().is_some_and(is_token_byte) {
            self.pos += 1;
        }
        let token = self.bytes.get(start..self.pos).unwrap_or_default();
        if token.is_empty() {
            return Err(self.error());
        }
        Ok(token.iter().map(|&byte| char::from(byte)).collect())
    }

    /// A quoted-string (RFC 9110 section 5.6.4) whose unescaped content is a token, as
    /// RFC 6455 section 9.1 requires of a quoted parameter value.
    fn quoted_token(&mut self) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut content = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.error()),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(byte) if byte == b'\t' || byte >= b' ' && byte != 0x7f => {
                            content.push(byte);
                            self.pos += 1;
                        }
                        _ => return Err(self.error()),
                    }
                }
                Some(byte) if byte == b'\t' || byte >= b' ' && byte != 0x7f => {
                    content.push(byte);
                    self.pos += 1;
                }
                Some(_) => return Err(self.error()),
            }
        }
        if !is_token(&content) {
            return Err(Error::ExtensionSyntax { offset: start });
        }
        Ok(content.iter().map(|&byte| char::from(byte)).collect())
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self) -> Error {
        Error::ExtensionSyntax { offset: self.pos }
    }
}

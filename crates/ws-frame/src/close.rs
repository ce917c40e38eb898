use core::fmt;

use crate::Error;

/// A close status code (RFC 6455 section 7.4, and the IANA registry).
///
/// A newtype rather than an enum because applications may send any code in
/// 3000-4999; the named constants cover every code the RFC and the registry define.
/// Use [`CloseCode::is_sendable`] to know whether a code may appear in a Close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a kind of data it cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1004: reserved by the RFC; never sent.
    pub const RESERVED: CloseCode = CloseCode(1004);
    /// 1005: stands for "the Close frame had no code"; never sent.
    pub const NO_STATUS_RECEIVED: CloseCode = CloseCode(1005);
    /// 1006: stands for "the connection ended without a Close frame"; never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was inconsistent with its type (text that is not UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later, the server is overloaded (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway received an invalid response upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: stands for "the TLS handshake failed"; never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Wraps any value; whether it may be sent is [`CloseCode::is_sendable`].
    pub const fn new(code: u16) -> CloseCode {
        CloseCode(code)
    }

    /// The numeric value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this code may appear in a Close frame on the wire.
    ///
    /// True for 1000-1003, 1007-1014 and the application range 3000-4999. False for
    /// 1004 (reserved), 1005, 1006 and 1015 (which stand for conditions and are never
    /// sent), 1016-2999 (reserved for future RFCs) and anything outside 1000-4999.
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The registered name of the code, if it has one.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1004 => "reserved",
            1005 => "no status received",
            1006 => "abnormal closure",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "tls handshake failure",
            _ => return None,
        })
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> CloseCode {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The body of a Close frame: a status code and a UTF-8 reason of at most 123 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseBody<'a> {
    /// The status code, always [sendable](CloseCode::is_sendable) once parsed.
    pub code: CloseCode,
    /// Why the connection is closing, for humans; often empty.
    pub reason: &'a str,
}

impl<'a> CloseBody<'a> {
    /// The longest reason that fits a control frame: 125 bytes less the code's 2.
    pub const MAX_REASON_LEN: usize = 123;

    /// Parses a Close frame's payload.
    ///
    /// An empty payload is valid and gives `None` (the peer closes "without status",
    /// which endpoints report as 1005). A one-byte payload, a code that may not be sent,
    /// or a reason that is not UTF-8 are errors (RFC 6455 sections 5.5.1 and 7.4).
    pub fn parse(payload: &'a [u8]) -> Result<Option<CloseBody<'a>>, Error> {
        let (code, reason) = match payload {
            [] => return Ok(None),
            [_] => return Err(Error::CloseBodyTooShort),
            [hi, lo, reason @ ..] => (CloseCode(u16::from_be_bytes([*hi, *lo])), reason),
        };
        if !code.is_sendable() {
            return Err(Error::InvalidCloseCode(code.0));
        }
        let reason = core::str::from_utf8(reason).map_err(|_| Error::CloseReasonNotUtf8)?;
        Ok(Some(CloseBody { code, reason }))
    }

    /// Builds a body to send, checking the code may be sent and the reason fits.
    pub fn new(code: CloseCode, reason: &'a str) -> Result<CloseBody<'a>, Error> {
        if !code.is_sendable() {
            return Err(Error::InvalidCloseCode(code.0));
        }
        if reason.len() > Self::MAX_REASON_LEN {
            return Err(Error::ControlFrameTooLong(2 + reason.len() as u64));
        }
        Ok(CloseBody { code, reason })
    }

    /// The number of payload bytes [`CloseBody::write_to`] appends.
    pub fn len(&self) -> usize {
        2 + self.reason.len()
    }

    /// Always false: a body holds at least its two-byte code.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the wire form (code in network order, then the reason) to `out`.
    pub fn write_to(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.code.0.to_be_bytes());
        out.extend_from_slice(self.reason.as_bytes());
    }
}

use core::fmt;

use crate::CloseCode;

/// Why a frame could not be decoded, or could not be built.
///
/// Decode errors are the peer's violations; each maps to the close code an endpoint
/// sends before dropping the connection ([`Error::close_code`]). Building a control
/// frame that breaks the same rules gives the same variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The opcode is one the RFC reserves (0x3-0x7, 0xB-0xF).
    ReservedOpCode(u8),
    /// RSV bits are set (shown as `0b{rsv1}{rsv2}{rsv3}`) that no negotiated extension defines.
    ReservedBits(u8),
    /// A control frame carries more than 125 bytes (the length it carries).
    ControlFrameTooLong(u64),
    /// A control frame has FIN clear: control frames may not be fragmented.
    FragmentedControlFrame,
    /// A 64-bit payload length has its most significant bit set.
    InvalidLength,
    /// The payload is longer than the decoder's configured maximum.
    PayloadTooLarge {
        /// The length the frame announced.
        len: u64,
        /// The configured maximum.
        max: u64,
    },
    /// A frame from a client is unmasked; clients must mask every frame.
    UnmaskedFrame,
    /// A frame from a server is masked; servers must not mask.
    MaskedFrame,
    /// A Close payload of one byte: a code takes two.
    CloseBodyTooShort,
    /// A Close code that may not appear on the wire (see [`CloseCode::is_sendable`]).
    InvalidCloseCode(u16),
    /// A Close reason that is not valid UTF-8.
    CloseReasonNotUtf8,
}

impl Error {
    /// The close code an endpoint sends when it meets this error.
    ///
    /// 1009 for a payload over the limit, 1007 for a reason that is not UTF-8,
    /// and 1002 (protocol error) for everything else.
    pub const fn close_code(&self) -> CloseCode {
        match self {
            Error::PayloadTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Error::CloseReasonNotUtf8 => CloseCode::INVALID_PAYLOAD,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ReservedOpCode(bits) => write!(f, "reserved opcode {bits:#x}"),
            Error::ReservedBits(bits) => {
                write!(f, "rsv bits {bits:#05b} set without a negotiated extension")
            }
            Error::ControlFrameTooLong(len) => {
                write!(f, "control frame payload of {len} bytes exceeds 125")
            }
            Error::FragmentedControlFrame => f.write_str("fragmented control frame"),
            Error::InvalidLength => f.write_str("64-bit payload length with the top bit set"),
            Error::PayloadTooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte limit")
            }
            Error::UnmaskedFrame => {
                f.write_str("unmasked frame from a client, which must mask every frame")
            }
            Error::MaskedFrame => f.write_str("masked frame from a server, which must not mask"),
            Error::CloseBodyTooShort => f.write_str("close payload of one byte"),
            Error::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Error::CloseReasonNotUtf8 => f.write_str("close reason is not valid utf-8"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

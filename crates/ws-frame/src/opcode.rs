use crate::Error;

/// The kind of a frame: the low four bits of its first byte (RFC 6455 section 5.2).
///
/// The set is closed: the RFC reserves every other value for extensions, and a
/// frame carrying one is a decode error ([`Error::ReservedOpCode`]) until an
/// extension that defines it is negotiated, which this crate does not support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: a later fragment of a message begun by a text or binary frame.
    Continuation = 0x0,
    /// 0x1: the first (or only) frame of a UTF-8 text message.
    Text = 0x1,
    /// 0x2: the first (or only) frame of a binary message.
    Binary = 0x2,
    /// 0x8: asks the peer to end the connection.
    Close = 0x8,
    /// 0x9: asks the peer for a pong with the same payload.
    Ping = 0x9,
    /// 0xA: answers a ping, or serves as a one-way heartbeat.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for the low four bits of `bits`, or `None` for a reserved value.
    pub const fn from_u8(bits: u8) -> Option<OpCode> {
        match bits & 0x0F {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xA => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// The four-bit value written on the wire.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Close, ping and pong: frames that may not be fragmented and carry at most 125 bytes.
    pub const fn is_control(self) -> bool {
        self as u8 & 0x8 != 0
    }

    /// Text, binary and continuation: frames that carry message data.
    pub const fn is_data(self) -> bool {
        !self.is_control()
    }
}

impl From<OpCode> for u8 {
    fn from(opcode: OpCode) -> u8 {
        opcode.as_u8()
    }
}

impl TryFrom<u8> for OpCode {
    type Error = Error;

    /// Fails with [`Error::ReservedOpCode`] for a value the RFC reserves (or one above 0xF).
    fn try_from(bits: u8) -> Result<OpCode, Error> {
        match OpCode::from_u8(bits) {
            Some(opcode) if bits <= 0x0F => Ok(opcode),
            _ => Err(Error::ReservedOpCode(bits)),
        }
    }
}

use crate::{Error, OpCode};

/// The fixed part of a frame: flags, opcode, mask key and payload length (RFC 6455 section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Set on the last frame of a message (and on every control frame).
    pub fin: bool,
    /// Extension bit 1 (used by permessage-deflate; must be clear without an extension).
    pub rsv1: bool,
    /// Extension bit 2.
    pub rsv2: bool,
    /// Extension bit 3.
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key: present on every client frame, absent on server frames.
    pub mask: Option<[u8; 4]>,
    /// The number of payload bytes that follow the header.
    pub payload_len: u64,
}

/// The result of decoding from a buffer that may hold only part of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole value, and the number of input bytes it used.
    Complete(T, usize),
    /// The input ends early: at least this many more bytes are needed.
    Incomplete(usize),
}

/// Which masking the decoder demands, from the role of the endpoint that decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Masking {
    /// Accept both; for tools that inspect traffic rather than take part in it.
    #[default]
    Any,
    /// Every frame must be masked: the decoder runs in a server, reading a client.
    Required,
    /// No frame may be masked: the decoder runs in a client, reading a server.
    Forbidden,
}

/// What the decoder accepts.
///
/// ```
/// use ws_frame::{DecoderConfig, Masking};
///
/// let config = DecoderConfig::default()
///     .max_payload_len(1 << 20)
///     .masking(Masking::Required);
/// assert_eq!(config.max_payload_len, 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// The longest payload accepted, checked from the header before anything is allocated.
    ///
    /// Default: 16 MiB, tungstenite's default frame limit, large enough for any frame a
    /// browser sends unfragmented in practice and small enough that one hostile header
    /// cannot make an endpoint reserve gigabytes.
    pub max_payload_len: u64,
    /// The RSV bits a negotiated extension defines, as `0b{rsv1}{rsv2}{rsv3}`.
    ///
    /// Default: `0`, since no extension is negotiated; a frame with any RSV bit set is an error.
    pub allowed_rsv: u8,
    /// Which masking frames must have. Default: [`Masking::Any`].
    pub masking: Masking,
}

impl Default for DecoderConfig {
    fn default() -> DecoderConfig {
        DecoderConfig {
            max_payload_len: 16 << 20,
            allowed_rsv: 0,
            masking: Masking::Any,
        }
    }
}

impl DecoderConfig {
    /// Sets [`DecoderConfig::max_payload_len`].
    pub fn max_payload_len(mut self, max: u64) -> DecoderConfig {
        self.max_payload_len = max;
        self
    }

    /// Sets [`DecoderConfig::allowed_rsv`].
    pub fn allowed_rsv(mut self, bits: u8) -> DecoderConfig {
        self.allowed_rsv = bits & 0b111;
        self
    }

    /// Sets [`DecoderConfig::masking`].
    pub fn masking(mut self, masking: Masking) -> DecoderConfig {
        self.masking = masking;
        self
    }
}

impl FrameHeader {
    /// The longest header: 2 bytes, an 8-byte length and a 4-byte mask key.
    pub const MAX_LEN: usize = 14;

    /// A final, unmasked header without RSV bits.
    pub const fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// The RSV bits as `0b{rsv1}{rsv2}{rsv3}`.
    pub const fn rsv(&self) -> u8 {
        (self.rsv1 as u8) << 2 | (self.rsv2 as u8) << 1 | self.rsv3 as u8
    }

    /// The number of bytes [`FrameHeader::encode`] writes.
    pub const fn len(&self) -> usize {
        let length_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        let mask_bytes = if self.mask.is_some() { 4 } else { 0 };
        2 + length_bytes + mask_bytes
    }

    /// Always false: a header takes at least two bytes.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header in its shortest form and returns how many bytes it took.
    ///
    /// ```
    /// use ws_frame::{FrameHeader, OpCode};
    ///
    /// let mut buf = [0; FrameHeader::MAX_LEN];
    /// let len = FrameHeader::new(OpCode::Text, 5).encode(&mut buf);
    /// assert_eq!(&buf[..len], [0x81, 0x05]);
    /// ```
    pub fn encode(&self, out: &mut [u8; Self::MAX_LEN]) -> usize {
        out[0] = (self.fin as u8) << 7 | self.rsv() << 4 | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = match self.payload_len {
            short @ 0..=125 => {
                out[1] = mask_bit | short as u8;
                2
            }
            medium @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(medium as u16).to_be_bytes());
                4
            }
            long => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&long.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        len
    }

    /// Decodes a header from the start of `input` and checks it against `config`.
    ///
    /// Answers the header and its length in bytes, or how many more bytes are needed
    /// to know it. Every rule that the header alone can break is checked here: opcode,
    /// RSV bits, control frame length and fragmentation, length encoding, the payload
    /// limit and masking. The payload itself is not looked at.
    ///
    /// ```
    /// use ws_frame::{Decoded, DecoderConfig, FrameHeader, OpCode};
    ///
    /// let config = DecoderConfig::default();
    /// // A binary frame with a 16-bit length: the second byte says two more length bytes follow.
    /// assert_eq!(FrameHeader::decode(&[0x82, 0x7E, 0x01], &config)?, Decoded::Incomplete(1));
    /// let Decoded::Complete(header, len) = FrameHeader::decode(&[0x82, 0x7E, 0x01, 0x00], &config)?
    /// else {
    ///     unreachable!("four bytes hold this header")
    /// };
    /// assert_eq!((header.opcode, header.payload_len, len), (OpCode::Binary, 256, 4));
    /// # Ok::<(), ws_frame::Error>(())
    /// ```
    #[inline]
    pub fn decode(input: &[u8], config: &DecoderConfig) -> Result<Decoded<FrameHeader>, Error> {
        let (first, second) = match *input {
            [first, second, ..] => (first, second),
            _ => return Ok(Decoded::Incomplete(2 - input.len())),
        };
        let rsv = (first >> 4) & 0b111;
        if rsv & !config.allowed_rsv != 0 {
            return Err(Error::ReservedBits(rsv));
        }
        let opcode = match OpCode::from_u8(first) {
            Some(opcode) => opcode,
            None => return Err(Error::ReservedOpCode(first & 0x0F)),
        };
        let fin = first & 0x80 != 0;
        if opcode.is_control() && !fin {
            return Err(Error::FragmentedControlFrame);
        }
        let masked = second & 0x80 != 0;
        match (config.masking, masked) {
            (Masking::Required, false) => return Err(Error::UnmaskedFrame),
            (Masking::Forbidden, true) => return Err(Error::MaskedFrame),
            _ => {}
        }

        let length_bytes = match second & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + length_bytes + if masked { 4 } else { 0 };
        if input.len() < header_len {
            return Ok(Decoded::Incomplete(header_len - input.len()));
        }
        let payload_len = match length_bytes {
            0 => u64::from(second & 0x7F),
            2 => u64::from(u16::from_be_bytes([input[2], input[3]])),
            _ => {
                let mut bytes = [0; 8];
                bytes.copy_from_slice(&input[2..10]);
                u64::from_be_bytes(bytes)
            }
        };
        if payload_len >> 63 != 0 {
            return Err(Error::InvalidLength);
        }
        if opcode.is_control() && payload_len > 125 {
            return Err(Error::ControlFrameTooLong(payload_len));
        }
        if payload_len > config.max_payload_len {
            return Err(Error::PayloadTooLarge {
                len: payload_len,
                max: config.max_payload_len,
            });
        }
        let mask = if masked {
            let at = 2 + length_bytes;
            Some([input[at], input[at + 1], input[at + 2], input[at + 3]])
        } else {
            None
        };
        Ok(Decoded::Complete(
            FrameHeader {
                fin,
                rsv1: rsv & 0b100 != 0,
                rsv2: rsv & 0b010 != 0,
                rsv3: rsv & 0b001 != 0,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        ))
    }
}

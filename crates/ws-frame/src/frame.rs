use alloc::vec::Vec;

use crate::{CloseBody, CloseCode, Decoded, DecoderConfig, Error, FrameHeader, OpCode, apply_mask};

/// A whole frame: its header fields and its payload, held unmasked.
///
/// The payload length in the header is always the payload's length, and a frame
/// given a mask key is masked as it is encoded, so a `Frame` cannot be written
/// inconsistently.
///
/// ```
/// use ws_frame::Frame;
///
/// let mut wire = Vec::new();
/// Frame::text("Hello").encode(&mut wire);
/// assert_eq!(wire, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    header: FrameHeader,
    payload: Vec<u8>,
}

impl Frame {
    /// A final, unmasked frame. Control frames are checked as a decoder would check
    /// them: at most 125 bytes, and a Close payload must be a valid [`CloseBody`] (or
    /// empty).
    pub fn new(opcode: OpCode, payload: impl Into<Vec<u8>>) -> Result<Frame, Error> {
        let payload = payload.into();
        if opcode.is_control() && payload.len() > 125 {
            return Err(Error::ControlFrameTooLong(payload.len() as u64));
        }
        if opcode == OpCode::Close {
            CloseBody::parse(&payload)?;
        }
        Ok(Frame::unchecked(opcode, payload))
    }

    /// A text frame. The payload is bytes, not `str`, because a fragment may end
    /// inside a UTF-8 sequence; the whole message must be UTF-8.
    pub fn text(payload: impl Into<Vec<u8>>) -> Frame {
        Frame::unchecked(OpCode::Text, payload.into())
    }

    /// A binary frame.
    pub fn binary(payload: impl Into<Vec<u8>>) -> Frame {
        Frame::unchecked(OpCode::Binary, payload.into())
    }

    /// A continuation frame: a later fragment of a message; see [`Frame::with_fin`].
    pub fn continuation(payload: impl Into<Vec<u8>>) -> Frame {
        Frame::unchecked(OpCode::Continuation, payload.into())
    }

    /// A ping. Fails with [`Error::ControlFrameTooLong`] above 125 bytes.
    pub fn ping(payload: impl Into<Vec<u8>>) -> Result<Frame, Error> {
        Frame::new(OpCode::Ping, payload)
    }

    /// A pong. Fails with [`Error::ControlFrameTooLong`] above 125 bytes.
    pub fn pong(payload: impl Into<Vec<u8>>) -> Result<Frame, Error> {
        Frame::new(OpCode::Pong, payload)
    }

    /// A Close frame with a code and a reason.
    ///
    /// Fails with [`Error::InvalidCloseCode`] for a code that may not be sent, and with
    /// [`Error::ControlFrameTooLong`] for a reason over 123 bytes.
    pub fn close(code: CloseCode, reason: &str) -> Result<Frame, Error> {
        let body = CloseBody::new(code, reason)?;
        let mut payload = Vec::with_capacity(body.len());
        body.write_to(&mut payload);
        Ok(Frame::unchecked(OpCode::Close, payload))
    }

    /// A Close frame without a body, which the peer reports as "no status" (1005).
    pub fn close_without_code() -> Frame {
        Frame::unchecked(OpCode::Close, Vec::new())
    }

    fn unchecked(opcode: OpCode, payload: Vec<u8>) -> Frame {
        Frame {
            header: FrameHeader::new(opcode, payload.len() as u64),
            payload,
        }
    }

    /// Sets FIN: clear it on every fragment of a message but the last.
    ///
    /// Clearing FIN on a control frame makes a frame peers reject; this builder does not
    /// stop you, so that tests can produce one.
    pub fn with_fin(mut self, fin: bool) -> Frame {
        self.header.fin = fin;
        self
    }

    /// Sets the masking key: clients mask every frame with a fresh random key.
    pub fn with_mask(mut self, key: [u8; 4]) -> Frame {
        self.header.mask = Some(key);
        self
    }

    /// Sets the RSV bits, given as `0b{rsv1}{rsv2}{rsv3}`, for extensions.
    pub fn with_rsv(mut self, bits: u8) -> Frame {
        self.header.rsv1 = bits & 0b100 != 0;
        self.header.rsv2 = bits & 0b010 != 0;
        self.header.rsv3 = bits & 0b001 != 0;
        self
    }

    /// The header as it will be encoded.
    pub fn header(&self) -> &FrameHeader {
        &self.header
    }

    /// The opcode.
    pub fn opcode(&self) -> OpCode {
        self.header.opcode
    }

    /// Whether FIN is set.
    pub fn is_final(&self) -> bool {
        self.header.fin
    }

    /// The payload, unmasked.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Takes the payload, unmasked.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The code and reason of a Close frame; see [`CloseBody::parse`].
    pub fn close_body(&self) -> Result<Option<CloseBody<'_>>, Error> {
        CloseBody::parse(&self.payload)
    }

    /// The number of bytes [`Frame::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        self.header.len() + self.payload.len()
    }

    /// Appends the frame's wire form to `out`, masking the payload if the frame has a key.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut header = [0; FrameHeader::MAX_LEN];
        let header_len = self.header.encode(&mut header);
        out.reserve(header_len + self.payload.len());
        out.extend_from_slice(&header[..header_len]);
        let start = out.len();
        out.extend_from_slice(&self.payload);
        if let Some(key) = self.header.mask {
            apply_mask(&mut out[start..], key);
        }
    }
}

/// Decodes whole frames from bytes the caller has buffered.
///
/// Sans-IO: it never reads. Give it whatever bytes have arrived; it answers a frame and
/// how many bytes it used, or how many more bytes it needs. Keep unused bytes and call
/// again with more appended. Header rules are checked as soon as the header is in
/// (so an oversized frame fails before its payload arrives), and Close payloads are
/// validated. Rules across frames (continuations, interleaved control frames) belong
/// to the connection above.
///
/// ```
/// use ws_frame::{Decoded, Decoder, OpCode};
///
/// let decoder = Decoder::default();
/// let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
/// assert_eq!(decoder.decode(&wire[..3])?, Decoded::Incomplete(4));
/// let Decoded::Complete(frame, used) = decoder.decode(&wire)? else { unreachable!() };
/// assert_eq!((frame.opcode(), frame.payload(), used), (OpCode::Text, &b"Hello"[..], 7));
/// # Ok::<(), ws_frame::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    config: DecoderConfig,
}

impl Decoder {
    /// A decoder that enforces `config`.
    pub fn new(config: DecoderConfig) -> Decoder {
        Decoder { config }
    }

    /// The rules this decoder enforces.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Decodes one frame from the start of `input`.
    pub fn decode(&self, input: &[u8]) -> Result<Decoded<Frame>, Error> {
        let (header, header_len) = match FrameHeader::decode(input, &self.config)? {
            Decoded::Complete(header, len) => (header, len),
            Decoded::Incomplete(needed) => return Ok(Decoded::Incomplete(needed)),
        };
        let rest = &input[header_len..];
        // `decode` capped the length at `max_payload_len`; on a 32-bit target a cap
        // above `usize::MAX` cannot be buffered anyway, so the saturation only ever
        // makes us wait for bytes that cannot come.
        let payload_len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        let Some(payload) = rest.get(..payload_len) else {
            return Ok(Decoded::Incomplete(payload_len - rest.len()));
        };
        let mut payload = payload.to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key);
        }
        if header.opcode == OpCode::Close {
            CloseBody::parse(&payload)?;
        }
        Ok(Decoded::Complete(
            Frame { header, payload },
            header_len + payload_len,
        ))
    }
}

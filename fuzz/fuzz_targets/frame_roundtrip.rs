//! Any frame the builders accept, encoded, decodes to the same frame using every byte,
//! and every shorter prefix of it asks for more: the encoder and the decoder agree.
//!
//! The first byte is laid out as on the wire (FIN, RSV1-3, opcode); a mask key follows
//! when the second byte is odd; the rest is the payload.
//!
//! ```text
//! cargo +nightly fuzz run frame_roundtrip
//! ```
#![no_main]

use ws_frame::{Decoded, Decoder, DecoderConfig, Frame, OpCode};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&[bits, masked], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some(opcode) = OpCode::from_u8(bits & 0x0f) else {
        return;
    };
    let (mask, payload) = match rest.split_first_chunk::<4>() {
        Some((key, payload)) if masked & 1 != 0 => (Some(*key), payload),
        _ => (None, rest),
    };
    let Ok(mut frame) = Frame::new(opcode, payload) else {
        return;
    };
    // A fragmented control frame is a protocol error the decoder must refuse.
    frame = frame.with_fin(opcode.is_control() || bits & 0x80 != 0).with_rsv(bits >> 4);
    if let Some(key) = mask {
        frame = frame.with_mask(key);
    }
    let mut wire = Vec::new();
    frame.encode(&mut wire);
    assert_eq!(wire.len(), frame.encoded_len());
    let decoder = Decoder::new(DecoderConfig::default().allowed_rsv(0b111));
    assert_eq!(decoder.decode(&wire), Ok(Decoded::Complete(frame, wire.len())));
    for end in 0..wire.len() {
        assert!(matches!(decoder.decode(&wire[..end]), Ok(Decoded::Incomplete(_))));
    }
});

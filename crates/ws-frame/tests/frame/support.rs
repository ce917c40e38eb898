//! Helpers and proptest strategies shared by the test modules.

use proptest::prelude::*;
use ws_frame::{CloseBody, CloseCode, Decoded, Decoder, DecoderConfig, Error, Frame, OpCode};

/// A decoder that accepts every RSV bit, any masking and any length, so that a frame
/// built with any of the builders decodes back.
pub(crate) fn permissive() -> Decoder {
    Decoder::new(
        DecoderConfig::default()
            .max_payload_len(u64::MAX)
            .allowed_rsv(0b111),
    )
}

/// Encodes one frame into a fresh buffer.
pub(crate) fn encode(frame: &Frame) -> Vec<u8> {
    let mut wire = Vec::new();
    frame.encode(&mut wire);
    wire
}

/// Decodes `wire` with the default decoder and expects an error.
pub(crate) fn decode_err(wire: &[u8]) -> Error {
    decode_err_with(&Decoder::default(), wire)
}

/// Decodes `wire` and expects an error.
pub(crate) fn decode_err_with(decoder: &Decoder, wire: &[u8]) -> Error {
    match decoder.decode(wire) {
        Err(error) => error,
        Ok(decoded) => panic!("expected an error for {wire:02x?}, got {decoded:?}"),
    }
}

/// Decodes `wire` and expects one frame that uses every byte.
pub(crate) fn decode_whole(decoder: &Decoder, wire: &[u8]) -> Frame {
    match decoder.decode(wire) {
        Ok(Decoded::Complete(frame, used)) => {
            assert_eq!(used, wire.len(), "bytes used by {frame:?}");
            frame
        }
        other => panic!(
            "expected a whole frame from {} bytes, got {other:?}",
            wire.len()
        ),
    }
}

/// `len` bytes that vary, so a masking slip shows; `seed` varies them between frames.
pub(crate) fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// Payload lengths up to 70000, biased to the edges of the length forms.
pub(crate) fn data_len() -> impl Strategy<Value = usize> {
    const EDGES: &[usize] = &[
        0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 124, 125, 126, 127, 128, 255, 256, 65534,
        65535, 65536, 65537,
    ];
    prop_oneof![
        4 => prop::sample::select(EDGES),
        4 => 0usize..300,
        1 => 0usize..70_000,
    ]
}

/// Control payload lengths, biased to the 125-byte limit.
fn control_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        prop::sample::select(&[0usize, 1, 124, 125][..]),
        0usize..=125,
    ]
}

/// Every close code that may be sent.
pub(crate) fn sendable_code() -> impl Strategy<Value = CloseCode> {
    prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999].prop_map(CloseCode::new)
}

/// A reason of at most 123 bytes, cut at a character boundary.
fn close_reason() -> impl Strategy<Value = String> {
    ".{0,123}".prop_map(|mut reason| {
        let mut end = reason.len().min(CloseBody::MAX_REASON_LEN);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason
    })
}

/// Any frame the builders can make that a peer accepts: every opcode, FIN on data
/// frames, any mask key or none, any RSV bits, payloads from 0 to 70000 bytes, and
/// Close frames with or without a valid body.
pub(crate) fn any_frame() -> impl Strategy<Value = Frame> {
    let data = (
        prop::sample::select(&[OpCode::Continuation, OpCode::Text, OpCode::Binary][..]),
        any::<bool>(),
        data_len(),
        any::<u8>(),
    )
        .prop_map(|(opcode, fin, len, seed)| {
            Frame::new(opcode, payload(len, seed))
                .expect("data frames have no length limit")
                .with_fin(fin)
        });
    let ping_pong = (any::<bool>(), control_len(), any::<u8>()).prop_map(|(ping, len, seed)| {
        let payload = payload(len, seed);
        if ping {
            Frame::ping(payload)
        } else {
            Frame::pong(payload)
        }
        .expect("a control payload of at most 125 bytes")
    });
    let close = prop::option::of((sendable_code(), close_reason())).prop_map(|body| match body {
        Some((code, reason)) => {
            Frame::close(code, &reason).expect("a sendable code and a short reason")
        }
        None => Frame::close_without_code(),
    });
    (
        prop_oneof![3 => data, 1 => ping_pong, 1 => close],
        prop::option::of(any::<[u8; 4]>()),
        0u8..8,
    )
        .prop_map(|(frame, mask, rsv)| {
            let frame = frame.with_rsv(rsv);
            match mask {
                Some(key) => frame.with_mask(key),
                None => frame,
            }
        })
}

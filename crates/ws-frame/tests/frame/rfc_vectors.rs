//! The examples of RFC 6455 section 5.7, byte for byte, in both directions, and the
//! shortest length form at the edges of each form.

use ws_frame::{Decoded, Decoder, DecoderConfig, Frame, FrameHeader, Masking, OpCode};

use crate::support::{decode_whole, encode, payload};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Encodes `frame`, expects `wire`, and decodes `wire` back to `frame`.
fn check_vector(frame: &Frame, wire: &[u8]) {
    assert_eq!(encode(frame), wire, "encoding {:?}", frame.header());
    assert_eq!(frame.encoded_len(), wire.len());
    let masking = if frame.header().mask.is_some() {
        Masking::Required
    } else {
        Masking::Forbidden
    };
    let decoder = Decoder::new(DecoderConfig::default().masking(masking));
    assert_eq!(&decode_whole(&decoder, wire), frame);
    assert_eq!(&decode_whole(&Decoder::default(), wire), frame);
}

#[test]
fn single_frame_unmasked_text() {
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let frame = Frame::text("Hello");
    check_vector(&frame, &wire);
    assert_eq!(frame.opcode(), OpCode::Text);
    assert!(frame.is_final());
    assert_eq!(frame.header().mask, None);
}

#[test]
fn single_frame_masked_text() {
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frame = Frame::text("Hello").with_mask(KEY);
    check_vector(&frame, &wire);
    // The decoded payload is unmasked; the key is kept in the header.
    let decoded = decode_whole(&Decoder::default(), &wire);
    assert_eq!(decoded.payload(), b"Hello");
    assert_eq!(decoded.header().mask, Some(KEY));
}

#[test]
fn fragmented_unmasked_text() {
    let first = [0x01, 0x03, 0x48, 0x65, 0x6c];
    let second = [0x80, 0x02, 0x6c, 0x6f];
    let hel = Frame::text("Hel").with_fin(false);
    let lo = Frame::continuation("lo");
    check_vector(&hel, &first);
    check_vector(&lo, &second);
    assert!(!hel.is_final());
    assert_eq!(lo.opcode(), OpCode::Continuation);

    // Back to back in one buffer, the decoder takes exactly the first frame's bytes.
    let wire = [&first[..], &second[..]].concat();
    let decoder = Decoder::default();
    assert_eq!(
        decoder.decode(&wire),
        Ok(Decoded::Complete(hel, first.len()))
    );
    assert_eq!(
        decoder.decode(&wire[first.len()..]),
        Ok(Decoded::Complete(lo, second.len()))
    );
}

#[test]
fn unmasked_ping() {
    let wire = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let frame = Frame::ping("Hello").expect("a short ping");
    check_vector(&frame, &wire);
    assert_eq!(frame.opcode(), OpCode::Ping);
}

#[test]
fn masked_pong() {
    let wire = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frame = Frame::pong("Hello").expect("a short pong").with_mask(KEY);
    check_vector(&frame, &wire);
    assert_eq!(frame.opcode(), OpCode::Pong);
}

#[test]
fn binary_256_bytes_in_one_unmasked_frame() {
    let data = payload(256, 7);
    let wire = [&[0x82, 0x7E, 0x01, 0x00][..], &data].concat();
    let frame = Frame::binary(data);
    check_vector(&frame, &wire);
    assert_eq!(frame.header().len(), 4);
}

#[test]
fn binary_64_kib_in_one_unmasked_frame() {
    let data = payload(65536, 9);
    let wire = [
        &[0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00][..],
        &data,
    ]
    .concat();
    let frame = Frame::binary(data);
    check_vector(&frame, &wire);
    assert_eq!(frame.header().len(), 10);
}

#[test]
fn vectors_decode_from_their_header_alone() {
    let config = DecoderConfig::default();
    let cases: [(&[u8], FrameHeader); 3] = [
        (&[0x81, 0x05], FrameHeader::new(OpCode::Text, 5)),
        (
            &[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d],
            FrameHeader {
                mask: Some(KEY),
                ..FrameHeader::new(OpCode::Pong, 5)
            },
        ),
        (
            &[0x01, 0x03],
            FrameHeader {
                fin: false,
                ..FrameHeader::new(OpCode::Text, 3)
            },
        ),
    ];
    for (wire, header) in cases {
        assert_eq!(
            FrameHeader::decode(wire, &config),
            Ok(Decoded::Complete(header, wire.len()))
        );
    }
}

/// Each length at the edge of a form, with the header length it takes unmasked and the
/// length bytes that follow the second byte.
const LENGTH_EDGES: [(u64, usize, &[u8]); 7] = [
    (0, 2, &[0x00]),
    (125, 2, &[0x7D]),
    (126, 4, &[0x7E, 0x00, 0x7E]),
    (65535, 4, &[0x7E, 0xFF, 0xFF]),
    (65536, 10, &[0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
    (u32::MAX as u64 + 1, 10, &[0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0]),
    (
        i64::MAX as u64,
        10,
        &[0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    ),
];

#[test]
fn headers_use_the_shortest_length_form() {
    let config = DecoderConfig::default().max_payload_len(u64::MAX);
    for (payload_len, unmasked_len, length_bytes) in LENGTH_EDGES {
        for mask in [None, Some(KEY)] {
            let header = FrameHeader {
                mask,
                ..FrameHeader::new(OpCode::Binary, payload_len)
            };
            let expected_len = unmasked_len + if mask.is_some() { 4 } else { 0 };
            let mut buf = [0; FrameHeader::MAX_LEN];
            let len = header.encode(&mut buf);
            assert_eq!(len, expected_len, "length {payload_len}, mask {mask:?}");
            assert_eq!(header.len(), expected_len);

            let mut expected = vec![0x82];
            expected.extend_from_slice(length_bytes);
            if let Some(key) = mask {
                expected[1] |= 0x80;
                expected.extend_from_slice(&key);
            }
            assert_eq!(&buf[..len], expected, "length {payload_len}, mask {mask:?}");

            assert_eq!(
                FrameHeader::decode(&buf[..len], &config),
                Ok(Decoded::Complete(header, len))
            );
        }
    }
}

#[test]
fn the_longest_header_fills_the_buffer() {
    let header = FrameHeader {
        fin: false,
        rsv1: true,
        rsv2: true,
        rsv3: true,
        opcode: OpCode::Continuation,
        mask: Some([0xFF; 4]),
        payload_len: i64::MAX as u64,
    };
    let mut buf = [0; FrameHeader::MAX_LEN];
    assert_eq!(header.encode(&mut buf), FrameHeader::MAX_LEN);
    assert_eq!(
        buf,
        [
            0x70, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
        ]
    );
    assert_eq!(header.rsv(), 0b111);
}

#[test]
fn frame_lengths_at_the_edges_encode_in_the_shortest_form() {
    for (payload_len, unmasked_len, _) in &LENGTH_EDGES[..5] {
        let len = usize::try_from(*payload_len).expect("small lengths");
        for masked in [false, true] {
            let mut frame = Frame::binary(payload(len, 1));
            if masked {
                frame = frame.with_mask(KEY);
            }
            let header_len = unmasked_len + if masked { 4 } else { 0 };
            let wire = encode(&frame);
            assert_eq!(wire.len(), header_len + len);
            assert_eq!(frame.header().len(), header_len);
            assert_eq!(decode_whole(&Decoder::default(), &wire), frame);
        }
    }
}

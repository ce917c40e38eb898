//! Every rule a header can break: each is its own error variant, is caught as soon as the
//! bytes that break it arrive, and maps to the close code an endpoint sends.

use ws_frame::{
    CloseCode, Decoded, Decoder, DecoderConfig, Error, Frame, FrameHeader, Masking, OpCode,
};

use crate::support::{decode_err, decode_err_with, decode_whole, encode};

const RESERVED_OPCODES: [u8; 10] = [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF];
const CONTROL_OPCODES: [u8; 3] = [0x8, 0x9, 0xA];

#[test]
fn reserved_opcodes_are_rejected() {
    for opcode in RESERVED_OPCODES {
        for fin in [0x00, 0x80] {
            let error = decode_err(&[fin | opcode, 0x00]);
            assert_eq!(error, Error::ReservedOpCode(opcode));
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
        }
        assert_eq!(OpCode::from_u8(opcode), None);
        assert_eq!(OpCode::try_from(opcode), Err(Error::ReservedOpCode(opcode)));
    }
}

#[test]
fn defined_opcodes_are_accepted() {
    for opcode in [0x0, 0x1, 0x2, 0x8, 0x9, 0xA] {
        let decoded = OpCode::try_from(opcode).expect("a defined opcode");
        assert_eq!(decoded.as_u8(), opcode);
        assert_eq!(decoded.is_control(), opcode >= 0x8);
        assert_eq!(decoded.is_data(), opcode < 0x8);
        let frame = decode_whole(&Decoder::default(), &[0x80 | opcode, 0x00]);
        assert_eq!(frame.opcode(), decoded);
    }
    // Only the low four bits name an opcode in a frame; a whole byte above 0xF is not one.
    assert_eq!(OpCode::try_from(0x11), Err(Error::ReservedOpCode(0x11)));
}

#[test]
fn rsv_bits_are_rejected_without_an_extension() {
    for rsv in 1..=0b111u8 {
        let wire = [0x80 | rsv << 4 | 0x1, 0x00];
        let error = decode_err(&wire);
        assert_eq!(error, Error::ReservedBits(rsv));
        assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn rsv_bits_are_accepted_when_allowed() {
    for rsv in 1..=0b111u8 {
        let decoder = Decoder::new(DecoderConfig::default().allowed_rsv(rsv));
        let wire = encode(&Frame::text("Hi").with_rsv(rsv));
        assert_eq!(wire[0], 0x80 | rsv << 4 | 0x1);
        let frame = decode_whole(&decoder, &wire);
        assert_eq!(frame.header().rsv(), rsv);
        assert_eq!(frame.payload(), b"Hi");

        // A bit outside the allowed set is still an error.
        for other in 1..=0b111u8 {
            if other & !rsv != 0 {
                let wire = [0x81 | other << 4, 0x00];
                assert_eq!(decode_err_with(&decoder, &wire), Error::ReservedBits(other));
            }
        }
    }
}

#[test]
fn control_frames_over_125_bytes_are_rejected() {
    for opcode in CONTROL_OPCODES {
        let first = 0x80 | opcode;
        let cases: [(&[u8], u64); 5] = [
            (&[first, 126, 0x00, 0x7E], 126),
            (&[first, 126, 0xFF, 0xFF], 65535),
            (&[first, 127, 0, 0, 0, 0, 0, 0, 0, 0x7E], 126),
            (&[first, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00], 65536),
            (&[first, 0xFE, 0x00, 0x7E, 1, 2, 3, 4], 126),
        ];
        for (wire, len) in cases {
            let error = decode_err(wire);
            assert_eq!(error, Error::ControlFrameTooLong(len), "{wire:02x?}");
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
        }
        // 125 bytes is the most a control frame may carry.
        assert_eq!(
            Decoder::default().decode(&[first, 125]),
            Ok(Decoded::Incomplete(125))
        );
    }
}

#[test]
fn fragmented_control_frames_are_rejected() {
    for opcode in CONTROL_OPCODES {
        // FIN clear: caught from the first byte, whatever the rest says.
        for second in [0x00, 0x05, 0x80] {
            let error = decode_err(&[opcode, second]);
            assert_eq!(error, Error::FragmentedControlFrame);
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
        }
        let opcode = OpCode::try_from(opcode).expect("a control opcode");
        let frame = Frame::new(opcode, Vec::new()).expect("an empty control frame");
        let wire = encode(&frame.with_fin(false));
        assert_eq!(decode_err(&wire), Error::FragmentedControlFrame);
    }
    // Data frames may be fragmented.
    for opcode in [0x0, 0x1, 0x2] {
        let frame = decode_whole(&Decoder::default(), &[opcode, 0x00]);
        assert!(!frame.is_final());
    }
}

#[test]
fn a_64_bit_length_with_the_top_bit_set_is_rejected() {
    // Even with no limit at all: the RFC forbids the bit, whatever the configuration.
    let unlimited = Decoder::new(DecoderConfig::default().max_payload_len(u64::MAX));
    let cases: [&[u8]; 3] = [
        &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
        &[0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        &[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 1, 2, 3, 4],
    ];
    for wire in cases {
        for decoder in [&Decoder::default(), &unlimited] {
            let error = decode_err_with(decoder, wire);
            assert_eq!(error, Error::InvalidLength, "{wire:02x?}");
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
        }
    }
    // The largest length without the bit is fine.
    assert_eq!(
        unlimited.decode(&[0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        Ok(Decoded::Incomplete(
            usize::try_from(i64::MAX).unwrap_or(usize::MAX)
        ))
    );
}

#[test]
fn a_payload_over_the_limit_is_rejected_from_the_header_alone() {
    let decoder = Decoder::new(DecoderConfig::default().max_payload_len(1000));
    // 1001 bytes announced, none sent: an error now, not a request for 1001 bytes.
    let error = decode_err_with(&decoder, &[0x82, 0x7E, 0x03, 0xE9]);
    assert_eq!(
        error,
        Error::PayloadTooLarge {
            len: 1001,
            max: 1000
        }
    );
    assert_eq!(error.close_code(), CloseCode::MESSAGE_TOO_BIG);
    assert_eq!(error.close_code().as_u16(), 1009);
    // At the limit the decoder waits for the payload.
    assert_eq!(
        decoder.decode(&[0x82, 0x7E, 0x03, 0xE8]),
        Ok(Decoded::Incomplete(1000))
    );
    // The same check on the header alone.
    assert_eq!(
        FrameHeader::decode(&[0x82, 0x7E, 0x03, 0xE9], decoder.config()),
        Err(Error::PayloadTooLarge {
            len: 1001,
            max: 1000
        })
    );

    // The default limit is 16 MiB; an exabyte announced is refused at once.
    let default = Decoder::default();
    assert_eq!(default.config().max_payload_len, 16 << 20);
    assert_eq!(
        decode_err(&[0x82, 0x7F, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x01]),
        Error::PayloadTooLarge {
            len: (16 << 20) + 1,
            max: 16 << 20
        }
    );
    assert_eq!(
        decode_err(&[
            0x82, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4
        ]),
        Error::PayloadTooLarge {
            len: 0x0FFF_FFFF_FFFF_FFFF,
            max: 16 << 20
        }
    );
    assert_eq!(
        default.decode(&[0x82, 0x7F, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x00]),
        Ok(Decoded::Incomplete(16 << 20))
    );

    // A limit of zero admits only empty frames.
    let empty_only = Decoder::new(DecoderConfig::default().max_payload_len(0));
    assert_eq!(
        decode_err_with(&empty_only, &[0x81, 0x01]),
        Error::PayloadTooLarge { len: 1, max: 0 }
    );
    assert_eq!(decode_whole(&empty_only, &[0x81, 0x00]), Frame::text(""));
}

#[test]
fn masking_is_enforced_by_role() {
    let server = Decoder::new(DecoderConfig::default().masking(Masking::Required));
    let client = Decoder::new(DecoderConfig::default().masking(Masking::Forbidden));
    let unmasked = encode(&Frame::text("Hello"));
    let masked = encode(&Frame::text("Hello").with_mask([1, 2, 3, 4]));

    let error = decode_err_with(&server, &unmasked);
    assert_eq!(error, Error::UnmaskedFrame);
    assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
    let error = decode_err_with(&client, &masked);
    assert_eq!(error, Error::MaskedFrame);
    assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);

    // Caught from the first two bytes, before the key or the payload arrive.
    assert_eq!(
        decode_err_with(&server, &unmasked[..2]),
        Error::UnmaskedFrame
    );
    assert_eq!(decode_err_with(&client, &masked[..2]), Error::MaskedFrame);

    assert_eq!(decode_whole(&server, &masked).payload(), b"Hello");
    assert_eq!(decode_whole(&client, &unmasked).payload(), b"Hello");
    assert_eq!(DecoderConfig::default().masking, Masking::Any);
    for wire in [&masked, &unmasked] {
        assert_eq!(decode_whole(&Decoder::default(), wire).payload(), b"Hello");
    }
}

#[test]
fn short_headers_ask_for_exactly_the_missing_bytes() {
    let decoder = Decoder::default();
    let cases: [(&[u8], usize); 8] = [
        (&[], 2),
        (&[0x81], 1),
        (&[0x81, 0x80], 4),
        (&[0x81, 0x80, 1, 2, 3], 1),
        (&[0x82, 0x7E], 2),
        (&[0x82, 0xFE, 0x01], 5),
        (&[0x82, 0x7F, 0, 0, 0], 5),
        (&[0x82, 0xFF], 12),
    ];
    for (wire, needed) in cases {
        assert_eq!(
            decoder.decode(wire),
            Ok(Decoded::Incomplete(needed)),
            "{wire:02x?}"
        );
        assert_eq!(
            FrameHeader::decode(wire, decoder.config()),
            Ok(Decoded::Incomplete(needed))
        );
    }
}

#[test]
fn each_error_maps_to_its_close_code() {
    let cases = [
        (Error::ReservedOpCode(0x3), 1002),
        (Error::ReservedBits(0b100), 1002),
        (Error::ControlFrameTooLong(126), 1002),
        (Error::FragmentedControlFrame, 1002),
        (Error::InvalidLength, 1002),
        (Error::PayloadTooLarge { len: 2, max: 1 }, 1009),
        (Error::UnmaskedFrame, 1002),
        (Error::MaskedFrame, 1002),
        (Error::CloseBodyTooShort, 1002),
        (Error::InvalidCloseCode(999), 1002),
        (Error::CloseReasonNotUtf8, 1007),
    ];
    for (error, code) in cases {
        assert_eq!(error.close_code().as_u16(), code, "{error:?}");
        assert!(error.close_code().is_sendable());
        // Messages are lowercase fragments without trailing punctuation.
        let message = error.to_string();
        assert!(!message.is_empty());
        assert!(
            !message.starts_with(char::is_uppercase) && !message.ends_with(['.', '!']),
            "{message:?}"
        );
    }
    assert_eq!(
        Error::PayloadTooLarge {
            len: 2000,
            max: 1000
        }
        .to_string(),
        "frame of 2000 bytes exceeds the 1000-byte limit"
    );
    assert_eq!(
        Error::ReservedOpCode(0xB).to_string(),
        "reserved opcode 0xb"
    );
    // The two masking violations say which side broke which rule, so that an
    // oversized frame and an unmasked one never read alike.
    assert_eq!(
        Error::UnmaskedFrame.to_string(),
        "unmasked frame from a client, which must mask every frame"
    );
    assert_eq!(
        Error::MaskedFrame.to_string(),
        "masked frame from a server, which must not mask"
    );
}

#[test]
fn the_error_is_small() {
    // Results of decoding travel through every read; keep them a few words wide.
    assert!(size_of::<Error>() <= 24, "{} bytes", size_of::<Error>());
}

#[test]
fn errors_are_std_errors() {
    let error: Box<dyn std::error::Error> = Box::new(Error::InvalidLength);
    assert!(error.source().is_none());
}

//! Close frames: the body rules of RFC 6455 sections 5.5.1 and 7.4, and the checks the
//! control frame constructors make.

use ws_frame::{CloseBody, CloseCode, Decoder, Error, Frame, OpCode};

use crate::support::{decode_err, decode_whole, encode};

const INVALID_CODES: [u16; 10] = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
const VALID_CODES: [u16; 14] = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
];

/// The wire form of an unmasked Close frame with `body` as its payload.
fn close_wire(body: &[u8]) -> Vec<u8> {
    let len = u8::try_from(body.len()).expect("a short body");
    [&[0x88, len][..], body].concat()
}

#[test]
fn a_one_byte_body_is_rejected() {
    let error = decode_err(&close_wire(&[0x03]));
    assert_eq!(error, Error::CloseBodyTooShort);
    assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
    // Masked, the check applies to the unmasked byte. (Built by hand: `Frame::new`
    // refuses to make this frame.)
    let masked = [0x88, 0x81, 9, 8, 7, 6, 0x03 ^ 9];
    assert_eq!(decode_err(&masked), Error::CloseBodyTooShort);
    assert_eq!(CloseBody::parse(&[0x03]), Err(Error::CloseBodyTooShort));
}

#[test]
fn codes_that_may_not_be_sent_are_rejected() {
    for code in INVALID_CODES {
        let [hi, lo] = code.to_be_bytes();
        for body in [vec![hi, lo], vec![hi, lo, b'b', b'y', b'e']] {
            let error = decode_err(&close_wire(&body));
            assert_eq!(error, Error::InvalidCloseCode(code));
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
            assert_eq!(CloseBody::parse(&body), Err(Error::InvalidCloseCode(code)));
        }
        let code = CloseCode::new(code);
        assert!(!code.is_sendable(), "{code}");
        assert_eq!(
            Frame::close(code, ""),
            Err(Error::InvalidCloseCode(code.as_u16()))
        );
        assert_eq!(
            CloseBody::new(code, "bye"),
            Err(Error::InvalidCloseCode(code.as_u16()))
        );
    }
}

#[test]
fn codes_that_may_be_sent_are_accepted() {
    for code in VALID_CODES {
        let close_code = CloseCode::from(code);
        assert!(close_code.is_sendable(), "{close_code}");
        let frame = Frame::close(close_code, "bye").expect("a sendable code");
        let wire = encode(&frame);
        let [hi, lo] = code.to_be_bytes();
        assert_eq!(wire, [0x88, 0x05, hi, lo, b'b', b'y', b'e']);

        let decoded = decode_whole(&Decoder::default(), &wire);
        assert_eq!(decoded, frame);
        let body = decoded.close_body().expect("a valid body").expect("a code");
        assert_eq!((u16::from(body.code), body.reason), (code, "bye"));
        assert_eq!(body.len(), 5);
        assert!(!body.is_empty());
    }
}

#[test]
fn sendable_codes_are_exactly_the_rfc_ranges() {
    for code in 0..=u16::MAX {
        let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
        assert_eq!(CloseCode::new(code).is_sendable(), expected, "{code}");
        assert_eq!(
            CloseBody::parse(&code.to_be_bytes()).is_ok(),
            expected,
            "{code}"
        );
    }
}

#[test]
fn a_reason_that_is_not_utf8_is_rejected_with_1007() {
    let bodies: [&[u8]; 4] = [
        &[0x03, 0xE8, 0xFF],
        &[0x03, 0xE8, b'o', b'k', 0xC0, 0x80],
        // A sequence cut short: the reason ends inside a character.
        &[0x03, 0xE8, 0xE2, 0x82],
        // An encoded surrogate.
        &[0x03, 0xE8, 0xED, 0xA0, 0x80],
    ];
    for body in bodies {
        let error = decode_err(&close_wire(body));
        assert_eq!(error, Error::CloseReasonNotUtf8, "{body:02x?}");
        assert_eq!(error.close_code(), CloseCode::INVALID_PAYLOAD);
        assert_eq!(error.close_code().as_u16(), 1007);
    }
    let body = [&[0x03, 0xE8][..], "\u{20ac}!".as_bytes()].concat();
    let frame = decode_whole(&Decoder::default(), &close_wire(&body));
    let body = frame.close_body().expect("a valid body").expect("a code");
    assert_eq!(body.reason, "\u{20ac}!");
}

#[test]
fn a_body_with_a_code_and_no_reason_is_valid() {
    let frame = decode_whole(&Decoder::default(), &[0x88, 0x02, 0x03, 0xE8]);
    let body = frame.close_body().expect("a valid body").expect("a code");
    assert_eq!((body.code, body.reason), (CloseCode::NORMAL, ""));
}

#[test]
fn close_without_code_has_an_empty_body() {
    let frame = Frame::close_without_code();
    assert_eq!(frame.opcode(), OpCode::Close);
    assert!(frame.is_final());
    assert!(frame.payload().is_empty());
    assert_eq!(frame.close_body(), Ok(None));
    let wire = encode(&frame);
    assert_eq!(wire, [0x88, 0x00]);
    assert_eq!(decode_whole(&Decoder::default(), &wire), frame);
    assert_eq!(CloseBody::parse(&[]), Ok(None));
}

#[test]
fn close_reasons_longer_than_123_bytes_are_rejected() {
    let longest = "a".repeat(CloseBody::MAX_REASON_LEN);
    let frame = Frame::close(CloseCode::GOING_AWAY, &longest).expect("a reason of 123 bytes");
    assert_eq!(frame.payload().len(), 125);
    let wire = encode(&frame);
    assert_eq!(&wire[..4], [0x88, 125, 0x03, 0xE9]);
    assert_eq!(decode_whole(&Decoder::default(), &wire), frame);

    let too_long = "a".repeat(CloseBody::MAX_REASON_LEN + 1);
    assert_eq!(
        Frame::close(CloseCode::GOING_AWAY, &too_long),
        Err(Error::ControlFrameTooLong(126))
    );
    assert_eq!(
        CloseBody::new(CloseCode::GOING_AWAY, &too_long),
        Err(Error::ControlFrameTooLong(126))
    );
    // Counted in bytes, not characters: 62 two-byte characters are 124 bytes.
    let wide = "\u{e9}".repeat(62);
    assert_eq!(
        Frame::close(CloseCode::NORMAL, &wide),
        Err(Error::ControlFrameTooLong(126))
    );
}

#[test]
fn ping_and_pong_payloads_longer_than_125_bytes_are_rejected() {
    type Build = fn(Vec<u8>) -> Result<Frame, Error>;
    let builders: [Build; 2] = [Frame::ping, Frame::pong];
    for build in builders {
        let frame = build(vec![7; 125]).expect("125 bytes fit");
        assert_eq!(frame.payload().len(), 125);
        assert_eq!(build(vec![7; 126]), Err(Error::ControlFrameTooLong(126)));
        assert_eq!(
            build(vec![7; 70_000]),
            Err(Error::ControlFrameTooLong(70_000))
        );
        assert_eq!(build(Vec::new()).map(|frame| frame.encoded_len()), Ok(2));
    }
    for opcode in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
        assert_eq!(
            Frame::new(opcode, vec![0; 126]),
            Err(Error::ControlFrameTooLong(126))
        );
    }
    // Data frames have no such limit.
    for opcode in [OpCode::Continuation, OpCode::Text, OpCode::Binary] {
        let frame = Frame::new(opcode, vec![0; 70_000]).expect("no limit on data frames");
        assert_eq!(frame.encoded_len(), 10 + 70_000);
    }
}

#[test]
fn close_codes_display_their_names() {
    assert_eq!(CloseCode::NORMAL.to_string(), "1000 (normal closure)");
    assert_eq!(
        CloseCode::MESSAGE_TOO_BIG.to_string(),
        "1009 (message too big)"
    );
    assert_eq!(CloseCode::new(4000).to_string(), "4000");
    assert_eq!(CloseCode::new(4000).name(), None);
    for code in 1000..=1015 {
        assert!(CloseCode::new(code).name().is_some(), "{code}");
    }
}

/// `Frame::new` builds only Close frames a decoder accepts: no one-byte body, no code
/// that may not be sent, no reason that is not UTF-8.
#[test]
fn frame_new_refuses_close_payloads_a_peer_would_reject() {
    assert_eq!(
        Frame::new(OpCode::Close, vec![0x03]),
        Err(Error::CloseBodyTooShort)
    );
    assert_eq!(
        Frame::new(OpCode::Close, 1005u16.to_be_bytes().to_vec()),
        Err(Error::InvalidCloseCode(1005))
    );
    let mut not_utf8 = 1000u16.to_be_bytes().to_vec();
    not_utf8.push(0xff);
    assert_eq!(
        Frame::new(OpCode::Close, not_utf8),
        Err(Error::CloseReasonNotUtf8)
    );
    assert!(Frame::new(OpCode::Close, Vec::new()).is_ok());
    let frame = Frame::new(OpCode::Close, 4000u16.to_be_bytes().to_vec()).expect("valid");
    let body = frame.close_body().expect("a valid body");
    assert_eq!(body.map(|body| body.code.as_u16()), Some(4000));
}

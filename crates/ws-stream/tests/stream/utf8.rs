//! Text is checked as UTF-8 while it arrives: sequences split across fragments are
//! fine, and an invalid one fails the connection (1007) as soon as it is seen.

use std::io::Read;

use ws_stream::{Error, Message, Role};

use crate::support::*;

const MULTI_BYTE: &str = "aé€🎉ßz𝄞";

#[test]
fn text_split_at_every_byte_boundary_into_two_fragments() {
    let bytes = MULTI_BYTE.as_bytes();
    for role in ROLES {
        for cut in 0..=bytes.len() {
            let mut input = peer_frame(role, TEXT, false, &bytes[..cut]);
            input.extend(peer_frame(role, CONT, true, &bytes[cut..]));
            let mut stream = wire(role, input);
            assert_eq!(
                stream.read_message().unwrap(),
                Message::text(MULTI_BYTE),
                "cut at {cut}"
            );
        }
    }
}

#[test]
fn text_split_at_every_pair_of_boundaries_into_three_fragments() {
    let bytes = MULTI_BYTE.as_bytes();
    for role in ROLES {
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                let mut input = peer_frame(role, TEXT, false, &bytes[..i]);
                input.extend(peer_frame(role, PING, true, b""));
                input.extend(peer_frame(role, CONT, false, &bytes[i..j]));
                input.extend(peer_frame(role, CONT, true, &bytes[j..]));
                let mut stream = wire(role, input);
                assert_eq!(
                    stream.read_message().unwrap(),
                    Message::text(MULTI_BYTE),
                    "cut at {i}, {j}"
                );
            }
        }
    }
}

#[test]
fn text_one_byte_per_fragment() {
    let bytes = MULTI_BYTE.as_bytes();
    for role in ROLES {
        let mut input = Vec::new();
        for (i, byte) in bytes.iter().enumerate() {
            let opcode = if i == 0 { TEXT } else { CONT };
            input.extend(peer_frame(role, opcode, i + 1 == bytes.len(), &[*byte]));
        }
        let mut stream = wire(role, input);
        assert_eq!(stream.read_message().unwrap(), Message::text(MULTI_BYTE));
    }
}

/// Reads `input` and expects `InvalidUtf8` (not the end of stream that follows it)
/// with a 1007 Close written.
fn assert_invalid(role: Role, input: Vec<u8>, what: &str) {
    let mut stream = wire(role, input);
    match stream.read_message() {
        Err(Error::InvalidUtf8) => {}
        other => panic!("{what}: expected InvalidUtf8, got {other:?}"),
    }
    let frames = written(&stream);
    assert_eq!(frames.len(), 1, "{what}: {frames:?}");
    assert_eq!(frames[0].close_code(), Some(1007), "{what}");
    assert_eq!(
        stream.close_frame().map(|frame| frame.code.as_u16()),
        Some(1007)
    );
}

const INVALID: &[(&str, &[u8])] = &[
    ("lone continuation byte", b"ab\x80cd"),
    ("overlong slash", b"\xc0\xaf"),
    ("overlong three bytes", b"\xe0\x80\xaf"),
    ("surrogate", b"\xed\xa0\x80"),
    ("above U+10FFFF", b"\xf4\x90\x80\x80"),
    ("invalid byte", b"ok\xff"),
    ("broken sequence", b"\xe2\x82\x28"),
];

/// Only the first fragment arrives, without FIN, and the stream then ends: the error
/// must be the invalid text, which was seen before the end.
#[test]
fn invalid_first_fragment_fails_before_the_rest_arrives() {
    for role in ROLES {
        for (what, bytes) in INVALID {
            assert_invalid(role, peer_frame(role, TEXT, false, bytes), what);
        }
    }
}

/// The same while the frame itself is unfinished: its header announces more bytes
/// than have arrived.
#[test]
fn invalid_bytes_in_an_unfinished_frame_fail_at_once() {
    for role in ROLES {
        let mut payload = b"fine so far \xff".to_vec();
        payload.resize(1000, b'a');
        let whole = peer_frame(role, TEXT, true, &payload);
        let header_len = whole.len() - payload.len();
        assert_invalid(
            role,
            whole[..header_len + 20].to_vec(),
            "unfinished single frame",
        );
    }
}

#[test]
fn invalid_sequence_in_a_later_fragment_fails_mid_message() {
    for role in ROLES {
        for (what, bytes) in INVALID {
            let mut input = peer_frame(role, TEXT, false, "valid é".as_bytes());
            input.extend(peer_frame(role, CONT, false, bytes));
            // No final fragment ever comes.
            assert_invalid(role, input, what);
        }
    }
}

#[test]
fn invalid_sequence_split_across_fragments_fails() {
    for role in ROLES {
        // E0 80 is an overlong prefix: wrong as soon as the second byte arrives.
        let mut input = peer_frame(role, TEXT, false, b"\xe0");
        input.extend(peer_frame(role, CONT, false, b"\x80"));
        assert_invalid(role, input, "overlong across fragments");
        // A four-byte sequence broken by ASCII in the next fragment.
        let mut input = peer_frame(role, TEXT, false, b"\xf0\x9f");
        input.extend(peer_frame(role, CONT, false, b"\x98("));
        assert_invalid(role, input, "broken across fragments");
    }
}

#[test]
fn text_ending_inside_a_sequence_fails_at_the_end() {
    for role in ROLES {
        assert_invalid(
            role,
            peer_frame(role, TEXT, true, b"cut \xe2\x82"),
            "single frame",
        );
        let mut input = peer_frame(role, TEXT, false, b"cut ");
        input.extend(peer_frame(role, CONT, true, b"\xf0\x9f\x98"));
        assert_invalid(role, input, "fragmented");
    }
}

#[test]
fn invalid_single_frames_fail() {
    for role in ROLES {
        for (what, bytes) in INVALID {
            assert_invalid(role, peer_frame(role, TEXT, true, bytes), what);
        }
    }
}

#[test]
fn binary_messages_are_not_checked() {
    for role in ROLES {
        let mut stream = wire(role, peer_frame(role, BINARY, true, b"\xff\xfe"));
        assert_eq!(
            stream.read_message().unwrap(),
            Message::binary(b"\xff\xfe".to_vec())
        );
    }
}

#[test]
fn message_reader_checks_text_too() {
    for role in ROLES {
        let mut input = peer_frame(role, TEXT, false, "good ".as_bytes());
        input.extend(peer_frame(role, CONT, false, b"\xff bad"));
        let mut stream = wire(role, input);
        let mut reader = stream.message_reader().unwrap();
        let mut out = Vec::new();
        let error = reader.read_to_end(&mut out).unwrap_err();
        let inner = error.into_inner().expect("the connection error");
        assert!(
            matches!(inner.downcast_ref::<Error>(), Some(Error::InvalidUtf8)),
            "{inner:?}"
        );
        drop(reader);
        assert_eq!(written(&stream)[0].close_code(), Some(1007));
    }
}

#[test]
fn message_reader_yields_valid_text_split_anywhere() {
    let bytes = MULTI_BYTE.as_bytes();
    for role in ROLES {
        for cut in 0..=bytes.len() {
            let mut input = peer_frame(role, TEXT, false, &bytes[..cut]);
            input.extend(peer_frame(role, CONT, true, &bytes[cut..]));
            let mut stream = wire(role, input);
            let mut text = String::new();
            stream
                .message_reader()
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, MULTI_BYTE);
        }
    }
}

//! Property tests: any frame encodes and decodes back to itself, and `Incomplete(n)`
//! neither asks for bytes beyond the frame nor for fewer than it needs.

use proptest::prelude::*;
use ws_frame::{Decoded, Decoder, DecoderConfig, Frame, FrameHeader, Masking};

use crate::support::{any_frame, encode, permissive};

proptest! {
    #[test]
    fn any_frame_decodes_to_itself(frame in any_frame()) {
        let wire = encode(&frame);
        prop_assert_eq!(wire.len(), frame.encoded_len());
        prop_assert_eq!(frame.header().len() + frame.payload().len(), wire.len());
        prop_assert_eq!(frame.header().payload_len, frame.payload().len() as u64);

        let decoded = permissive().decode(&wire);
        prop_assert_eq!(decoded, Ok(Decoded::Complete(frame.clone(), wire.len())));

        // The decoder of the receiving role accepts it too.
        let masking = if frame.header().mask.is_some() {
            Masking::Required
        } else {
            Masking::Forbidden
        };
        let config = DecoderConfig::default().allowed_rsv(0b111).masking(masking);
        let decoded = Decoder::new(config).decode(&wire);
        prop_assert_eq!(decoded, Ok(Decoded::Complete(frame.clone(), wire.len())));

        // Bytes after the frame are left alone.
        let mut longer = wire.clone();
        longer.extend_from_slice(&[0x81, 0x00]);
        let decoded = permissive().decode(&longer);
        prop_assert_eq!(decoded, Ok(Decoded::Complete(frame.clone(), wire.len())));
    }

    #[test]
    fn any_header_decodes_to_itself(frame in any_frame()) {
        let mut buf = [0; FrameHeader::MAX_LEN];
        let len = frame.header().encode(&mut buf);
        prop_assert_eq!(len, frame.header().len());
        let decoded = FrameHeader::decode(&buf[..len], permissive().config());
        prop_assert_eq!(decoded, Ok(Decoded::Complete(*frame.header(), len)));
    }

    #[test]
    fn incomplete_is_honest_at_any_cut(
        frame in any_frame(),
        cut in any::<prop::sample::Index>(),
    ) {
        let wire = encode(&frame);
        let decoder = permissive();
        let have = cut.index(wire.len());
        let Ok(Decoded::Incomplete(needed)) = decoder.decode(&wire[..have]) else {
            return Err(TestCaseError::fail(format!("{have} of {} bytes decoded", wire.len())));
        };
        // Never more than the rest of the frame: a peer that sent one frame and waits
        // for an answer would wait forever.
        prop_assert!(needed >= 1);
        prop_assert!(have + needed <= wire.len(), "{have} + {needed} > {}", wire.len());
        // And never fewer than needed: one byte short is still incomplete.
        let short = decoder.decode(&wire[..have + needed - 1]);
        prop_assert!(matches!(short, Ok(Decoded::Incomplete(_))), "{short:?}");
        // Feeding exactly what was asked makes progress.
        match decoder.decode(&wire[..have + needed]) {
            Ok(Decoded::Complete(decoded, used)) => {
                prop_assert_eq!(used, wire.len());
                prop_assert_eq!(decoded, frame);
            }
            Ok(Decoded::Incomplete(more)) => {
                prop_assert!(have + needed + more <= wire.len());
            }
            Err(error) => return Err(TestCaseError::fail(format!("{error:?}"))),
        }
    }

    #[test]
    fn feeding_what_is_asked_completes_in_a_few_steps(frame in any_frame()) {
        let wire = encode(&frame);
        let decoder = permissive();
        let mut have = 0;
        let mut steps = 0;
        // At most three requests: the first two bytes, the rest of the header, the payload.
        let decoded = loop {
            match decoder.decode(&wire[..have]) {
                Ok(Decoded::Incomplete(needed)) => {
                    prop_assert!(needed >= 1 && have + needed <= wire.len());
                    have += needed;
                    steps += 1;
                    prop_assert!(steps <= 3, "asked {steps} times");
                }
                Ok(Decoded::Complete(decoded, used)) => break (decoded, used),
                Err(error) => return Err(TestCaseError::fail(format!("{error:?}"))),
            }
        };
        prop_assert_eq!(have, wire.len());
        prop_assert_eq!(decoded, (frame, wire.len()));
    }
}

#[test]
fn every_prefix_of_a_masked_64_kib_frame_asks_for_the_next_stage() {
    let frame = Frame::binary(vec![0x5a; 65536]).with_mask([1, 2, 3, 4]);
    let wire = encode(&frame);
    let decoder = Decoder::default();
    for have in 0..wire.len() {
        // The decoder learns the header length from two bytes, the payload length from
        // the header, and then needs the payload.
        let stage_end = match have {
            0..2 => 2,
            2..14 => 14,
            _ => wire.len(),
        };
        assert_eq!(
            decoder.decode(&wire[..have]),
            Ok(Decoded::Incomplete(stage_end - have)),
            "{have} bytes"
        );
    }
    assert_eq!(
        decoder.decode(&wire),
        Ok(Decoded::Complete(frame, wire.len()))
    );
}

//! A stream of frames cut at any points and fed to the decoder the way a connection
//! does (append what arrived, decode until incomplete, drain what was used) gives back
//! exactly the frames; and no input makes the decoder panic.

use proptest::prelude::*;
use ws_frame::{Decoded, Decoder, DecoderConfig, Frame, Masking};

use crate::support::{any_frame, permissive};

/// Feeds `stream` to `decoder` in pieces ending at `cuts`, checking every request for
/// more bytes against the end of the frame being decoded, and returns the frames.
fn decode_in_pieces(
    decoder: &Decoder,
    stream: &[u8],
    frame_ends: &[usize],
    cuts: &[usize],
) -> Result<Vec<Frame>, TestCaseError> {
    let mut frames = Vec::new();
    let mut buf = Vec::new();
    // Bytes of the stream drained from `buf` so far.
    let mut used_total = 0;
    let mut start = 0;
    for &end in cuts.iter().chain([&stream.len()]) {
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        loop {
            match decoder.decode(&buf) {
                Ok(Decoded::Complete(frame, used)) => {
                    prop_assert!(used <= buf.len());
                    buf.drain(..used);
                    used_total += used;
                    prop_assert_eq!(Some(&used_total), frame_ends.get(frames.len()));
                    frames.push(frame);
                }
                Ok(Decoded::Incomplete(needed)) => {
                    let frame_end = frame_ends.get(frames.len()).copied();
                    if let Some(frame_end) = frame_end {
                        prop_assert!(needed >= 1);
                        prop_assert!(
                            used_total + buf.len() + needed <= frame_end,
                            "asked for {needed} bytes at {} with the frame ending at {frame_end}",
                            used_total + buf.len(),
                        );
                    }
                    break;
                }
                Err(error) => return Err(TestCaseError::fail(format!("{error:?}"))),
            }
        }
    }
    prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
    Ok(frames)
}

/// Encodes `frames` back to back and returns the stream and where each frame ends.
fn encode_stream(frames: &[Frame]) -> (Vec<u8>, Vec<usize>) {
    let mut stream = Vec::new();
    let mut ends = Vec::new();
    for frame in frames {
        frame.encode(&mut stream);
        ends.push(stream.len());
    }
    (stream, ends)
}

proptest! {
    #[test]
    fn frames_split_at_any_points_decode_the_same(
        frames in prop::collection::vec(any_frame(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
    ) {
        let (stream, ends) = encode_stream(&frames);
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        let decoded = decode_in_pieces(&permissive(), &stream, &ends, &cuts)?;
        prop_assert_eq!(decoded, frames);
    }

    #[test]
    fn small_frames_fed_one_byte_at_a_time_decode_the_same(
        frames in prop::collection::vec(any_frame(), 1..6),
    ) {
        let frames: Vec<Frame> = frames
            .into_iter()
            .filter(|frame| frame.encoded_len() <= 300)
            .collect();
        let (stream, ends) = encode_stream(&frames);
        let cuts: Vec<usize> = (0..stream.len()).collect();
        let decoded = decode_in_pieces(&permissive(), &stream, &ends, &cuts)?;
        prop_assert_eq!(decoded, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        input in prop::collection::vec(any::<u8>(), 0..300),
        max in prop_oneof![Just(u64::MAX), Just(16u64 << 20), 0u64..200],
        rsv in 0u8..8,
        masking in prop::sample::select(&[Masking::Any, Masking::Required, Masking::Forbidden][..]),
    ) {
        let config = DecoderConfig::default()
            .max_payload_len(max)
            .allowed_rsv(rsv)
            .masking(masking);
        let decoder = Decoder::new(config);
        let mut rest = &input[..];
        while let Ok(Decoded::Complete(frame, used)) = decoder.decode(rest) {
            prop_assert!((2..=rest.len()).contains(&used));
            // Not `encoded_len`: a peer may spend more length bytes than needed.
            prop_assert!(used >= frame.header().len() + frame.payload().len());
            prop_assert!(frame.payload().len() as u64 <= max);
            rest = &rest[used..];
        }
    }

    #[test]
    fn valid_headers_with_arbitrary_payloads_never_panic(
        first in any::<u8>(),
        second in any::<u8>(),
        rest in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        // Arbitrary bytes rarely form a short valid header followed by a whole payload;
        // fixing the first two bytes to common shapes reaches the payload and Close paths.
        for first in [first, 0x88, 0x81 | (first & 0x0F)] {
            let input = [&[first, second][..], &rest].concat();
            let _ = Decoder::default().decode(&input);
            let _ = Decoder::new(DecoderConfig::default().max_payload_len(u64::MAX)).decode(&input);
        }
    }
}

#[test]
fn the_rfc_examples_fed_byte_by_byte() {
    let frames = vec![
        Frame::text("Hel").with_fin(false),
        Frame::ping("Hello")
            .expect("a short ping")
            .with_mask([0x37, 0xfa, 0x21, 0x3d]),
        Frame::continuation("lo"),
        Frame::binary(vec![0xAB; 256]),
        Frame::close_without_code(),
    ];
    let (stream, ends) = encode_stream(&frames);
    let cuts: Vec<usize> = (0..stream.len()).collect();
    let decoded =
        decode_in_pieces(&Decoder::default(), &stream, &ends, &cuts).expect("the frames decode");
    assert_eq!(decoded, frames);
}

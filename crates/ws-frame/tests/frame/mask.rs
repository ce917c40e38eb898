//! Masking against a byte-at-a-time reference: whole, at every length, alignment and
//! offset, and a payload masked in arbitrary pieces.

use proptest::prelude::*;
use ws_frame::{apply_mask, apply_mask_at};

fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

fn source(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(73) ^ 0x5c)
        .collect()
}

#[test]
fn matches_the_reference_at_every_length_and_alignment() {
    let key = [0x12, 0x34, 0x56, 0x78];
    let source = source(67 + 64);
    for len in 0..=67 {
        // Alignments up to 64 cover every position in a cache line or vector register.
        for align in 0..64 {
            for offset in 0..4 {
                let mut fast = source.clone();
                let mut slow = source.clone();
                apply_mask_at(&mut fast[align..align + len], key, offset);
                reference(&mut slow[align..align + len], key, offset);
                assert_eq!(fast, slow, "len {len}, align {align}, offset {offset}");
            }
            let mut fast = source.clone();
            let mut slow = source.clone();
            apply_mask(&mut fast[align..align + len], key);
            reference(&mut slow[align..align + len], key, 0);
            assert_eq!(fast, slow, "len {len}, align {align}");
        }
    }
}

#[test]
fn matches_the_reference_on_large_buffers() {
    let key = [0xde, 0xad, 0xbe, 0xef];
    for len in [4095, 4096, 4097, 65_536 + 13, 1 << 20] {
        for align in [0, 1, 3, 7] {
            let mut fast = source(len + align);
            let mut slow = fast.clone();
            apply_mask(&mut fast[align..], key);
            reference(&mut slow[align..], key, 0);
            assert!(fast == slow, "len {len}, align {align}");
        }
    }
}

#[test]
fn offsets_wrap_around() {
    let key = [1, 2, 3, 4];
    for offset in [usize::MAX, usize::MAX - 1, usize::MAX - 2, usize::MAX - 3] {
        let mut fast = source(37);
        let mut slow = fast.clone();
        apply_mask_at(&mut fast, key, offset);
        // The key byte for position `offset + i` of the payload, counting without overflow.
        for (i, byte) in slow.iter_mut().enumerate() {
            *byte ^= key[(offset % 4 + i) % 4];
        }
        assert_eq!(fast, slow, "offset {offset}");
    }
}

proptest! {
    #[test]
    fn masking_in_pieces_equals_masking_whole(
        payload in prop::collection::vec(any::<u8>(), 0..600),
        key in any::<[u8; 4]>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut whole = payload.clone();
        apply_mask(&mut whole, key);

        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(payload.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = payload.clone();
        let mut start = 0;
        for end in cuts.into_iter().chain([payload.len()]) {
            apply_mask_at(&mut pieces[start..end], key, start);
            start = end;
        }
        prop_assert_eq!(&pieces, &whole);

        // Masking is its own inverse.
        apply_mask(&mut pieces, key);
        prop_assert_eq!(pieces, payload);
    }

    #[test]
    fn masking_matches_the_reference(
        payload in prop::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
        offset in any::<usize>(),
    ) {
        let mut fast = payload.clone();
        let mut slow = payload;
        apply_mask_at(&mut fast, key, offset);
        for (i, byte) in slow.iter_mut().enumerate() {
            *byte ^= key[(offset % 4 + i) % 4];
        }
        prop_assert_eq!(fast, slow);
    }
}

/// XORs `buf` with the repeating 4-byte masking `key` (RFC 6455 section 5.3).
///
/// Masking and unmasking are the same operation. The work is done on whole words,
/// which the compiler turns into vector instructions, so masking runs at memory speed.
///
/// ```
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"Hello";
/// ws_frame::apply_mask(&mut payload, key);
/// assert_eq!(payload, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ws_frame::apply_mask(&mut payload, key);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_at(buf, key, 0);
}

/// Like [`apply_mask`], for a piece of a payload that starts `offset` bytes into it.
///
/// Lets a payload that arrives in pieces be unmasked piece by piece:
///
/// ```
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"a payload in pieces";
/// let mut pieces = whole;
/// ws_frame::apply_mask(&mut whole, key);
/// let (head, tail) = pieces.split_at_mut(7);
/// ws_frame::apply_mask_at(head, key, 0);
/// ws_frame::apply_mask_at(tail, key, 7);
/// assert_eq!(whole, pieces);
/// ```
#[inline]
pub fn apply_mask_at(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = key_at(key, offset);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for chunk in words {
        *chunk = (u64::from_ne_bytes(*chunk) ^ word).to_ne_bytes();
    }
    // Each word covers two whole key cycles, so the tail starts at key[0] again.
    for (byte, key_byte) in tail.iter_mut().zip(key.iter().cycle()) {
        *byte ^= key_byte;
    }
}

/// The key as seen by the byte `offset` bytes into the payload.
#[inline]
fn key_at(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset % 4);
    rotated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_reference_at_every_length_alignment_and_offset() {
        let key = [0x9a, 0x3c, 0x51, 0xe7];
        let source: alloc::vec::Vec<u8> = (0..200u8).map(|i| i.wrapping_mul(31)).collect();
        for len in 0..=67 {
            for align in 0..16 {
                for offset in 0..8 {
                    let mut fast = source.clone();
                    let mut slow = source.clone();
                    apply_mask_at(&mut fast[align..align + len], key, offset);
                    reference(&mut slow[align..align + len], key, offset);
                    assert_eq!(fast, slow, "len {len}, align {align}, offset {offset}");
                }
            }
        }
    }
}

//! UTF-8 validation for text that arrives in pieces.
//!
//! This is the crate's only `unsafe`: [`TextBuffer::finish`] turns bytes it has already
//! validated into a `String` without validating them a second time. The alternative,
//! `String::from_utf8`, runs std's validator over every text message again (1.4 GB/s on
//! multi-byte text here, against simdutf8's 12.5 GB/s), which the echo benchmark shows.

/// The text was not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Validates UTF-8 fed in pieces, failing at the first invalid sequence.
///
/// A sequence cut off at the end of one piece is kept (at most three bytes) and
/// completed by the next; [`Utf8Validator::finish`] fails if one is still open.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Utf8Validator {
    partial: [u8; 4],
    partial_len: usize,
}

impl Utf8Validator {
    /// Checks the next piece of the text.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let expected = sequence_len(self.partial[0]);
            let take = (expected - self.partial_len).min(input.len());
            self.partial[self.partial_len..self.partial_len + take].copy_from_slice(&input[..take]);
            self.partial_len += take;
            input = &input[take..];
            match simdutf8::compat::from_utf8(&self.partial[..self.partial_len]) {
                Ok(_) => self.partial_len = 0,
                // Still a valid prefix: the piece ended inside the same sequence.
                Err(error) if error.error_len().is_none() => return Ok(()),
                Err(_) => return Err(InvalidUtf8),
            }
        }
        if simdutf8::basic::from_utf8(input).is_ok() {
            return Ok(());
        }
        // Rare path: find out whether the input is invalid or only cut short.
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(error) if error.error_len().is_none() => {
                let tail = &input[error.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Checks that the text does not end inside a sequence.
    pub(crate) fn finish(&self) -> Result<(), InvalidUtf8> {
        if self.partial_len == 0 {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// The length of the sequence a (valid) leading byte starts.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    }
}

/// Collects a text message in pieces, validating each as it comes.
#[derive(Debug, Default)]
pub(crate) struct TextBuffer {
    bytes: Vec<u8>,
    validator: Utf8Validator,
    /// Where bytes read straight into the buffer begin, while they are unchecked
    /// (see [`TextBuffer::tail`]); `None` when every byte held is checked.
    unchecked: Option<usize>,
}

impl TextBuffer {
    /// An empty buffer in `bytes` (cleared), with room for `capacity` bytes.
    pub(crate) fn reusing(bytes: Vec<u8>, capacity: usize) -> TextBuffer {
        TextBuffer {
            bytes: crate::message::emptied_with_room(bytes, capacity),
            validator: Utf8Validator::default(),
            unchecked: None,
        }
    }

    /// `n` zeroed bytes appended for a read to fill; [`TextBuffer::keep_tail`] cuts
    /// them to what the read filled, and they stay unchecked (no finished text holds
    /// them) until [`TextBuffer::check_tail`].
    pub(crate) fn tail(&mut self, n: usize) -> &mut [u8] {
        let len = self.bytes.len();
        self.unchecked.get_or_insert(len);
        self.bytes.resize(len + n, 0);
        &mut self.bytes[len..]
    }

    /// How many bytes [`TextBuffer::tail`] can offer without reallocating.
    pub(crate) fn spare_capacity(&self) -> usize {
        self.bytes.capacity() - self.bytes.len()
    }

    /// The last `offered` bytes, as a read left them in [`TextBuffer::tail`]'s room.
    pub(crate) fn offered_tail(&self, offered: usize) -> &[u8] {
        &self.bytes[self.bytes.len() - offered..]
    }

    /// Keeps the first `n` bytes of the room the last [`TextBuffer::tail`] gave.
    pub(crate) fn keep_tail(&mut self, offered: usize, n: usize) {
        let len = self.bytes.len();
        self.bytes.truncate(len - offered + n.min(offered));
        if self.unchecked == Some(self.bytes.len()) {
            self.unchecked = None;
        }
    }

    /// Lets `prepare` (unmasking) change the unchecked tail, then checks it as the
    /// next piece of the text; bytes that fail the check are removed again.
    pub(crate) fn check_tail(
        &mut self,
        prepare: impl FnOnce(&mut [u8]),
    ) -> Result<(), InvalidUtf8> {
        let Some(start) = self.unchecked.take() else {
            return Ok(());
        };
        let tail = &mut self.bytes[start..];
        prepare(tail);
        let checked = self.validator.feed(tail);
        if checked.is_err() {
            self.bytes.truncate(start);
        }
        checked
    }

    /// Appends the next piece, failing as soon as the text so far cannot be UTF-8.
    pub(crate) fn push(&mut self, piece: &[u8]) -> Result<(), InvalidUtf8> {
        self.validator.feed(piece)?;
        self.bytes.extend_from_slice(piece);
        Ok(())
    }

    /// Lets `fill` append to the text (an inflater writing into it), then checks what
    /// it appended. Bytes that fail the check are removed again, so that only checked
    /// bytes are ever kept, whatever `fill` answered.
    pub(crate) fn append_with<T>(
        &mut self,
        fill: impl FnOnce(&mut Vec<u8>) -> T,
    ) -> (T, Result<(), InvalidUtf8>) {
        let before = self.bytes.len();
        let filled = fill(&mut self.bytes);
        let checked = match self.bytes.get(before..) {
            Some(appended) => self.validator.feed(appended),
            None => Err(InvalidUtf8),
        };
        if checked.is_err() {
            self.bytes.truncate(before);
        }
        (filled, checked)
    }

    /// The whole text, if it does not end inside a sequence.
    #[allow(unsafe_code)]
    pub(crate) fn finish(self) -> Result<String, InvalidUtf8> {
        if self.unchecked.is_some() {
            return Err(InvalidUtf8);
        }
        self.validator.finish()?;
        // SAFETY: bytes enter `self.bytes` through `push` and `append_with`, which
        // keep a piece only after the validator accepted it as the continuation of
        // every piece before it, and through `tail`, whose bytes stay marked
        // unchecked (refused just above) until `check_tail` validates them the same
        // way or removes them; `finish` just confirmed no sequence is left open. So
        // `self.bytes` is exactly a sequence the validator found to be UTF-8.
        Ok(unsafe { String::from_utf8_unchecked(self.bytes) })
    }
}

/// Validates a whole text at once (the common, unfragmented case) and copies it into `buffer` (cleared first), so
/// that a buffer kept from an earlier message saves the allocation.
#[allow(unsafe_code)]
// Inlined for the reason `Receiver::poll_step` is: one copy of the text less.
#[inline(always)]
pub(crate) fn text_into(bytes: &[u8], buffer: Vec<u8>) -> Result<String, InvalidUtf8> {
    if simdutf8::basic::from_utf8(bytes).is_err() {
        return Err(InvalidUtf8);
    }
    let buffer = crate::message::copied_into(bytes, buffer);
    // SAFETY: `buffer` holds exactly `bytes`, which simdutf8 just found to be UTF-8.
    Ok(unsafe { String::from_utf8_unchecked(buffer) })
}

/// Whether `bytes` are UTF-8, checked at once.
pub(crate) fn is_valid(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &[&[u8]] = &[
        b"plain ascii",
        "κόσμε — 你好 — 🎉🎉".as_bytes(),
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // surrogate
        b"\xf4\x90\x80\x80",                                               // above U+10FFFF
        b"\xc0\xaf",                                                       // overlong
        b"ok\xe2\x82",                                                     // cut short at the end
        b"\xe0\x80\x80",
        b"\xf0\x9f\x98",
        b"\xff",
        b"",
    ];

    /// Feeding any text split at any two points agrees with std's validator.
    #[test]
    fn agrees_with_std_for_every_split() {
        for sample in SAMPLES {
            let expected = std::str::from_utf8(sample).is_ok();
            for i in 0..=sample.len() {
                for j in i..=sample.len() {
                    let mut buffer = TextBuffer::default();
                    let result = buffer
                        .push(&sample[..i])
                        .and_then(|()| buffer.push(&sample[i..j]))
                        .and_then(|()| buffer.push(&sample[j..]))
                        .and_then(|()| buffer.finish());
                    match result {
                        Ok(text) => {
                            assert!(expected, "{sample:?} split at {i}, {j}");
                            assert_eq!(text.as_bytes(), *sample);
                        }
                        Err(InvalidUtf8) => assert!(!expected, "{sample:?} split at {i}, {j}"),
                    }
                }
            }
        }
    }

    #[test]
    fn fails_at_the_first_invalid_piece_not_at_the_end() {
        let mut validator = Utf8Validator::default();
        assert_eq!(validator.feed("🎉".as_bytes()), Ok(()));
        assert_eq!(
            validator.feed(b"\xf0\x9f"),
            Ok(()),
            "a cut-off sequence waits"
        );
        assert_eq!(
            validator.feed(b"\x28"),
            Err(InvalidUtf8),
            "and fails when broken"
        );
        let mut validator = Utf8Validator::default();
        assert_eq!(validator.feed(b"\xe0"), Ok(()));
        assert_eq!(
            validator.feed(b"\x80"),
            Err(InvalidUtf8),
            "E0 80 is overlong"
        );
    }

    /// Bytes read into [`TextBuffer::tail`]'s room, at any split, agree with std,
    /// and a tail not yet checked is never part of a finished text.
    #[test]
    fn tails_agree_with_std_for_every_split() {
        for sample in SAMPLES {
            let expected = std::str::from_utf8(sample).is_ok();
            for i in 0..=sample.len() {
                let mut buffer = TextBuffer::reusing(b"old bytes".to_vec(), 0);
                let mut result = buffer.push(&sample[..i]);
                if result.is_ok() {
                    // Offer more room than the rest needs, as a direct read does.
                    let rest = &sample[i..];
                    buffer.tail(rest.len() + 3)[..rest.len()].copy_from_slice(rest);
                    buffer.keep_tail(rest.len() + 3, rest.len());
                    result = buffer.check_tail(|_| {});
                }
                match result.and_then(|()| buffer.finish()) {
                    Ok(text) => {
                        assert!(expected, "{sample:?} split at {i}");
                        assert_eq!(text.as_bytes(), *sample);
                    }
                    Err(InvalidUtf8) => assert!(!expected, "{sample:?} split at {i}"),
                }
            }
        }
        let mut buffer = TextBuffer::default();
        buffer.tail(1)[0] = b'a';
        buffer.keep_tail(1, 1);
        assert_eq!(buffer.finish(), Err(InvalidUtf8), "an unchecked tail");
    }

    #[test]
    fn text_into_agrees_with_std() {
        for sample in SAMPLES {
            let result = text_into(sample, b"a longer buffer from before".to_vec());
            match std::str::from_utf8(sample) {
                Ok(text) => assert_eq!(result.as_deref(), Ok(text)),
                Err(_) => assert_eq!(result, Err(InvalidUtf8)),
            }
        }
    }
}

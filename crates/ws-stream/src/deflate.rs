//! The permessage-deflate codec (RFC 7692 section 7.2): a [`Deflater`] for the messages
//! a connection sends and an [`Inflater`] for those it receives, over a raw-deflate
//! backend behind [`RawDeflate`] and [`RawInflate`].
//!
//! Both are sans-IO and work piece by piece, so fragmented sends, streaming writers
//! and readers, and a size limit counted on inflated bytes all fit on top: the
//! connection core drives them frame by frame.
//!
//! The backend is zlib-rs, through its safe `Deflate`/`Inflate` API rather than
//! through flate2: flate2 fixes the memory level at 8, and zlib-rs takes it from the
//! caller, which cuts a compressor's memory by about 98 KiB (see [`CompressSettings`]).
//! flate2 over the same zlib-rs is kept as a second backend, which the tests run
//! against the first one; it is a dev-dependency only, so that the one runtime
//! dependency compression adds is zlib-rs, the crate flate2 would pull in anyway.
//!
//! Memory, counted by a counting allocator over 1,000 instances of zlib-rs 0.6.8 after
//! one message each: a compressor takes 161 KiB with a 12-bit window at memory level
//! 5 (259 KiB at level 8, flate2's fixed choice; 371 KiB at 15 bits and level 8); an
//! inflater takes 47 KiB whatever the window, since zlib-rs always allocates a 32 KiB
//! one. zlib-rs' fixed 128 KiB hash table is most of a compressor, so
//! python-websockets' 64 KiB per connection (C zlib) is out of reach with this backend.
//! Hence neither end allocates before its first message, and `release` frees both
//! between messages under no-context-takeover: an idle connection costs nothing.

use std::fmt;

/// The four bytes a sync flush ends with, which the sender strips from each message
/// and the receiver puts back (RFC 7692 sections 7.2.1 and 7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// An empty stored block without its length: what a message whose compressed form
/// would be empty is sent as, since the receiver's appended [`TAIL`] completes it
/// (RFC 7692 section 7.2.3.6). An empty payload would leave the stream mid-block.
const EMPTY_BLOCK: u8 = 0x00;

/// How much room [`Deflater::compress`] gives the backend per call, at most: large
/// enough that a big message takes few calls, small enough that the output buffer
/// grows with what the backend writes, not with the input's size.
const MAX_DEFLATE_ROOM: usize = 128 * 1024;

/// The output chunk [`Inflater::inflate_into`] grows its buffer by: the most the
/// buffer can hold beyond the limit when a message is too large.
pub(crate) const INFLATE_CHUNK: usize = 16 * 1024;

/// What the codec can fail with; the connection core maps each to its error and
/// close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeflateError {
    /// A message inflated past the limit given to [`Inflater::inflate_into`], which it
    /// carries (1009).
    TooLarge {
        /// The limit, in inflated bytes.
        limit: usize,
    },
    /// The peer's compressed data is not a valid deflate stream (1007).
    Corrupt,
    /// A compressor was asked for a window the backend lacks: anything but 9..=15
    /// bits. The handshake never agrees to one, so this is a bug in the caller.
    UnsupportedWindowBits {
        /// The window asked for, in bits.
        bits: u8,
    },
    /// The backend failed on its own (an allocation or an inconsistent state), not
    /// because of the peer's data (1011).
    Backend,
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeflateError::TooLarge { limit } => {
                write!(f, "inflated message exceeds the limit of {limit} bytes")
            }
            DeflateError::Corrupt => f.write_str("corrupt deflate data"),
            DeflateError::UnsupportedWindowBits { bits } => {
                write!(f, "no compressor for a {bits}-bit window")
            }
            DeflateError::Backend => f.write_str("deflate backend failed"),
        }
    }
}

impl std::error::Error for DeflateError {}

/// How a [`Deflater`] compresses: the agreed window and context takeover, and the
/// local speed and memory trade-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompressSettings {
    /// The window, in bits, 9..=15: the agreed `*_max_window_bits` of our side.
    pub(crate) window_bits: u8,
    /// Resets the compressor after each message, as agreed with
    /// `*_no_context_takeover` for our side.
    pub(crate) no_context_takeover: bool,
    /// zlib's memory level, 1..=9: the size of the buffer of pending symbols
    /// (7 << (level + 6) bytes in zlib-rs, so 112 KiB at 8, 14 KiB at 5). zlib-rs' hash
    /// table is a fixed 128 KiB whatever the level, so a compressor costs about
    /// 128 KiB + 4 << window_bits + that buffer. Ignored by the flate2 backend.
    pub(crate) mem_level: u8,
    /// The compression level, 0..=9.
    pub(crate) level: u8,
}

impl CompressSettings {
    /// A 12-bit window and memory level 5, as python-websockets' server uses, at
    /// level 6 (zlib's default), with context takeover.
    pub(crate) fn new(window_bits: u8, no_context_takeover: bool) -> CompressSettings {
        CompressSettings {
            window_bits,
            no_context_takeover,
            mem_level: 5,
            level: 6,
        }
    }
}

/// The sending half of permessage-deflate for one connection.
///
/// Pieces of one message go through [`Deflater::compress`] in order, the last with
/// `fin`; each piece is sync-flushed, so each can be sent as its own frame, and only
/// the message's end loses the [`TAIL`].
#[derive(Debug)]
pub(crate) struct Deflater<B: RawDeflate = ZlibRsDeflate> {
    settings: CompressSettings,
    /// Made at the first message, so an idle connection holds no compressor.
    backend: Option<B>,
    /// A piece without `fin` was compressed: the message is still open.
    in_message: bool,
}

/// The receiving half of permessage-deflate for one connection.
///
/// A message's payload goes through [`Inflater::inflate`] (or
/// [`Inflater::inflate_into`]) frame by frame as it arrives; the call with `fin` for
/// the last frame adds the [`TAIL`] and ends the message.
#[derive(Debug)]
pub(crate) struct Inflater<B: RawInflate = ZlibRsInflate> {
    window_bits: u8,
    no_context_takeover: bool,
    /// Made at the first message, so an idle connection holds no inflater.
    backend: Option<B>,
    /// Some of the current message's payload has been given, and `fin` not yet.
    in_message: bool,
    /// How much of the [`TAIL`] the backend has taken for the current message.
    tail_used: usize,
    /// The current message held a final deflate block (RFC 7692 section 7.2.3.4):
    /// the stream has ended, and what follows it in the message is ignored.
    stream_ended: bool,
}

/// What one [`Inflater::inflate`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inflated {
    /// Bytes of the input taken; the caller passes the rest next time.
    pub(crate) consumed: usize,
    /// Bytes written at the start of the output.
    pub(crate) produced: usize,
    /// What the caller does next.
    pub(crate) status: InflateStatus,
}

/// Why an [`Inflater::inflate`] call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateStatus {
    /// The output is full and more may follow: call again, with the unconsumed input
    /// and the same `fin`, once the output is handed on.
    OutputFull,
    /// All input is inflated and `fin` was false: wait for the next frame.
    NeedInput,
    /// `fin` was set and the message is whole; the next call starts a new message.
    MessageEnd,
}

impl<B: RawDeflate> Deflater<B> {
    /// A compressor with `settings`, refusing a window the backend cannot use rather
    /// than silently using a larger one (RFC 7692 section 7.1.2.1).
    pub(crate) fn new(settings: CompressSettings) -> Result<Deflater<B>, DeflateError> {
        if !(9..=15).contains(&settings.window_bits) {
            return Err(DeflateError::UnsupportedWindowBits {
                bits: settings.window_bits,
            });
        }
        let settings = CompressSettings {
            mem_level: settings.mem_level.clamp(1, 9),
            level: settings.level.min(9),
            ..settings
        };
        Ok(Deflater {
            settings,
            backend: None,
            in_message: false,
        })
    }

    /// Appends the compressed form of `piece`, the next part of the message being
    /// sent, to `out`; `fin` marks the message's last piece. A whole message is one
    /// call with `fin`. Each piece's output is a complete unit a frame can carry.
    pub(crate) fn compress(
        &mut self,
        piece: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        let settings = self.settings;
        self.in_message = !fin;
        let backend = self.backend.get_or_insert_with(|| B::new(&settings));
        let start = out.len();
        let mut taken = 0;
        loop {
            let rest = piece.get(taken..).unwrap_or_default();
            let room = (rest.len() / 2 + 64).min(MAX_DEFLATE_ROOM);
            let len = out.len();
            out.resize(len + room, 0);
            let written = out.get_mut(len..).unwrap_or_default();
            let result = backend.deflate(rest, written);
            let (consumed, produced) = match result {
                Ok(progress) => progress,
                Err(err) => {
                    out.truncate(len);
                    return Err(err);
                }
            };
            out.truncate(len + produced);
            taken += consumed;
            // The flush is complete once the input is taken and the backend stopped
            // short of filling the room it had.
            if taken >= piece.len() && produced < room {
                break;
            }
            if consumed == 0 && produced == 0 {
                // Input and room left, yet no progress: looping would never end.
                return Err(DeflateError::Backend);
            }
        }
        if fin {
            if out.get(start..).is_some_and(|piece| piece.ends_with(&TAIL)) {
                out.truncate(out.len() - TAIL.len());
            }
            if out.len() == start {
                out.push(EMPTY_BLOCK);
            }
            if settings.no_context_takeover {
                backend.reset();
            }
        }
        Ok(())
    }

    /// Frees the compressor's memory between messages, so a connection that goes idle
    /// holds none; the next message allocates it again. Only `no_context_takeover`
    /// allows it (with takeover the next message may refer to this one's window), so
    /// otherwise it does nothing, as it does in the middle of a message.
    pub(crate) fn release(&mut self) {
        if self.settings.no_context_takeover && !self.in_message {
            self.backend = None;
        }
    }

    /// Whether the backend's memory is allocated (for memory measurements).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.backend.is_some()
    }
}

impl<B: RawInflate> Inflater<B> {
    /// An inflater for a peer that compresses with a window of `window_bits` (8..=15,
    /// clamped) and resets after each message when `no_context_takeover`.
    pub(crate) fn new(window_bits: u8, no_context_takeover: bool) -> Inflater<B> {
        Inflater {
            window_bits: window_bits.clamp(8, 15),
            no_context_takeover,
            backend: None,
            in_message: false,
            tail_used: 0,
            stream_ended: false,
        }
    }

    /// Inflates `input`, the next part of a compressed message's payload, into `out`.
    /// `fin` says `input` ends the message's payload; the [`TAIL`] is then added here.
    ///
    /// This is the primitive the core builds on: it never writes beyond `out`, so
    /// the core chooses the chunk size, counts a size limit after every call, and can
    /// hand each chunk to a streaming reader. An empty `out` makes no progress and
    /// answers [`InflateStatus::OutputFull`]. After an error the stream is lost: the
    /// connection fails, and the inflater is not used again.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut [u8],
    ) -> Result<Inflated, DeflateError> {
        if out.is_empty() {
            return Ok(Inflated {
                consumed: 0,
                produced: 0,
                status: InflateStatus::OutputFull,
            });
        }
        self.in_message = true;
        if self.stream_ended {
            // Whatever follows a final block (the padding of RFC 7692's example) is
            // not part of the message.
            return Ok(self.after_payload(input.len(), 0, fin));
        }
        let window_bits = self.window_bits;
        let backend = self.backend.get_or_insert_with(|| B::new(window_bits));
        let (consumed, produced, ended) = backend.inflate(input, out)?;
        if ended {
            self.stream_ended = true;
            return Ok(self.after_payload(input.len(), produced, fin));
        }
        if produced == out.len() {
            return Ok(Inflated {
                consumed,
                produced,
                status: InflateStatus::OutputFull,
            });
        }
        if consumed < input.len() {
            // Output left and input left means the backend is stuck; with zlib's
            // contract that cannot happen, but looping on it would never end.
            return Err(DeflateError::Backend);
        }
        if !fin {
            return Ok(Inflated {
                consumed,
                produced,
                status: InflateStatus::NeedInput,
            });
        }
        let tail = TAIL.get(self.tail_used..).unwrap_or_default();
        let room = out.get_mut(produced..).unwrap_or_default();
        let (tail_consumed, tail_produced, tail_ended) = backend.inflate(tail, room)?;
        self.tail_used += tail_consumed;
        let produced = produced + tail_produced;
        if tail_ended {
            self.stream_ended = true;
        } else if produced == out.len() {
            return Ok(Inflated {
                consumed,
                produced,
                status: InflateStatus::OutputFull,
            });
        }
        Ok(self.after_payload(consumed, produced, true))
    }

    /// Inflates `input` as [`Inflater::inflate`] does, appending to `out`, which holds
    /// the message inflated so far, and fails with [`DeflateError::TooLarge`] as soon
    /// as `out` would exceed `limit` bytes. `out` grows by at most [`INFLATE_CHUNK`]
    /// at a time and never beyond `limit + 1` bytes of capacity of its own making, so
    /// a bomb leaves at most the limit in memory. Returns whether the message ended.
    pub(crate) fn inflate_into(
        &mut self,
        mut input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<bool, DeflateError> {
        loop {
            let len = out.len();
            // One byte of room past the limit tells a message of exactly `limit`
            // bytes from a longer one.
            let cap = limit.saturating_add(1);
            // The first chunk is sized to the input (text inflates to a few times its
            // compressed size), so that a small message neither allocates nor clears
            // a whole chunk; later ones take the full chunk.
            let chunk = match out.capacity() - len {
                0 if len == 0 => input.len().saturating_mul(4).clamp(256, INFLATE_CHUNK),
                _ => INFLATE_CHUNK,
            };
            let room = chunk.min(cap.saturating_sub(len));
            if room == 0 {
                return Err(DeflateError::TooLarge { limit });
            }
            if out.capacity() < len + room {
                // Geometric growth, but never past the limit.
                let target = out.capacity().saturating_mul(2).clamp(len + room, cap);
                out.reserve_exact(target - len);
            }
            out.resize(len + room, 0);
            let written = out.get_mut(len..).unwrap_or_default();
            let step = self.inflate(input, fin, written);
            let step = match step {
                Ok(step) => step,
                Err(err) => {
                    out.truncate(len);
                    return Err(err);
                }
            };
            out.truncate(len + step.produced);
            if out.len() > limit {
                return Err(DeflateError::TooLarge { limit });
            }
            input = input.get(step.consumed..).unwrap_or_default();
            match step.status {
                InflateStatus::OutputFull => {}
                InflateStatus::NeedInput => return Ok(false),
                InflateStatus::MessageEnd => return Ok(true),
            }
        }
    }

    /// Frees the inflater's memory between messages; only allowed when the peer
    /// resets after each message (`no_context_takeover`), and does nothing otherwise,
    /// or in the middle of a message.
    pub(crate) fn release(&mut self) {
        if self.no_context_takeover && !self.in_message {
            self.backend = None;
        }
    }

    /// Whether the backend's memory is allocated (for memory measurements).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.backend.is_some()
    }

    /// The result once the message's payload is all taken: the message ends with
    /// `fin`, and the backend starts afresh when the peer resets per message or its
    /// stream ended.
    fn after_payload(&mut self, consumed: usize, produced: usize, fin: bool) -> Inflated {
        if !fin {
            return Inflated {
                consumed,
                produced,
                status: InflateStatus::NeedInput,
            };
        }
        if (self.no_context_takeover || self.stream_ended)
            && let Some(backend) = &mut self.backend
        {
            backend.reset();
        }
        self.in_message = false;
        self.tail_used = 0;
        self.stream_ended = false;
        Inflated {
            consumed,
            produced,
            status: InflateStatus::MessageEnd,
        }
    }
}

/// A raw-deflate compressor (no zlib header): the part of a backend a [`Deflater`]
/// needs, so another implementation can be tried behind it.
pub(crate) trait RawDeflate: Sized {
    /// A fresh compressor; `settings` is already within range.
    fn new(settings: &CompressSettings) -> Self;

    /// Compresses `input` into `output` with a sync flush, returning how much input
    /// was taken and output written. zlib's contract: the flush is complete when all
    /// input was taken and `output` was not filled.
    fn deflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize), DeflateError>;

    /// Starts a new stream with the same settings, keeping the memory.
    fn reset(&mut self);
}

/// A raw-deflate decompressor: the part of a backend an [`Inflater`] needs.
pub(crate) trait RawInflate: Sized {
    /// A fresh decompressor for windows up to `window_bits` (8..=15).
    fn new(window_bits: u8) -> Self;

    /// Inflates `input` into `output`, returning input taken, output written, and
    /// whether a final block ended the stream. It stops only when the input is all
    /// taken, the output is full, or the stream ended.
    fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(usize, usize, bool), DeflateError>;

    /// Starts a new stream with the same window.
    fn reset(&mut self);
}

/// The zlib-rs compressor, used directly rather than through flate2 for its memory
/// level (see the module docs).
pub(crate) struct ZlibRsDeflate(zlib_rs::Deflate);

/// The zlib-rs decompressor and its window: zlib-rs' own reset would go back to 15
/// bits, and a 32 KiB window.
pub(crate) struct ZlibRsInflate(zlib_rs::Inflate, u8);

impl RawDeflate for ZlibRsDeflate {
    fn new(settings: &CompressSettings) -> Self {
        let config = zlib_rs::DeflateConfig {
            level: i32::from(settings.level),
            // Negative bits ask for raw deflate, without a zlib header.
            window_bits: -i32::from(settings.window_bits),
            mem_level: i32::from(settings.mem_level),
            ..zlib_rs::DeflateConfig::default()
        };
        ZlibRsDeflate(zlib_rs::Deflate::new_with_config(config))
    }

    fn deflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize), DeflateError> {
        let (before_in, before_out) = (self.0.total_in(), self.0.total_out());
        self.0
            .compress(input, output, zlib_rs::DeflateFlush::SyncFlush)
            .map_err(|_| DeflateError::Backend)?;
        Ok((
            progress(before_in, self.0.total_in()),
            progress(before_out, self.0.total_out()),
        ))
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}

impl RawInflate for ZlibRsInflate {
    fn new(window_bits: u8) -> Self {
        ZlibRsInflate(zlib_rs::Inflate::new(false, window_bits), window_bits)
    }

    fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(usize, usize, bool), DeflateError> {
        let (before_in, before_out) = (self.0.total_in(), self.0.total_out());
        let status = self
            .0
            .decompress(input, output, zlib_rs::InflateFlush::SyncFlush)
            .map_err(|err| match err {
                zlib_rs::InflateError::DataError | zlib_rs::InflateError::NeedDict { .. } => {
                    DeflateError::Corrupt
                }
                zlib_rs::InflateError::StreamError | zlib_rs::InflateError::MemError => {
                    DeflateError::Backend
                }
            })?;
        Ok((
            progress(before_in, self.0.total_in()),
            progress(before_out, self.0.total_out()),
            status == zlib_rs::Status::StreamEnd,
        ))
    }

    fn reset(&mut self) {
        self.0 = zlib_rs::Inflate::new(false, self.1);
    }
}

impl fmt::Debug for ZlibRsDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ZlibRsDeflate")
    }
}

impl fmt::Debug for ZlibRsInflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZlibRsInflate({} bits)", self.1)
    }
}

/// flate2 over the same zlib-rs: the second backend. It cannot set the memory
/// level (flate2 fixes it at 8) and inflates with at least 9 bits, which decodes an
/// 8-bit stream as well (a larger window accepts every distance a smaller one does).
#[cfg(test)]
impl RawDeflate for flate2::Compress {
    fn new(settings: &CompressSettings) -> Self {
        let level = flate2::Compression::new(u32::from(settings.level));
        flate2::Compress::new_with_window_bits(level, false, settings.window_bits)
    }

    fn deflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<(usize, usize), DeflateError> {
        let (before_in, before_out) = (self.total_in(), self.total_out());
        self.compress(input, output, flate2::FlushCompress::Sync)
            .map_err(|_| DeflateError::Backend)?;
        Ok((
            progress(before_in, self.total_in()),
            progress(before_out, self.total_out()),
        ))
    }

    fn reset(&mut self) {
        flate2::Compress::reset(self);
    }
}

#[cfg(test)]
impl RawInflate for flate2::Decompress {
    fn new(window_bits: u8) -> Self {
        flate2::Decompress::new_with_window_bits(false, window_bits.max(9))
    }

    fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(usize, usize, bool), DeflateError> {
        let (before_in, before_out) = (self.total_in(), self.total_out());
        let status = self
            .decompress(input, output, flate2::FlushDecompress::Sync)
            .map_err(|_| DeflateError::Corrupt)?;
        Ok((
            progress(before_in, self.total_in()),
            progress(before_out, self.total_out()),
            status == flate2::Status::StreamEnd,
        ))
    }

    fn reset(&mut self) {
        flate2::Decompress::reset(self, false);
    }
}

/// The bytes a counter moved by in one call, which fit a slice's length.
fn progress(before: u64, after: u64) -> usize {
    usize::try_from(after.saturating_sub(before)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    type Zd = ZlibRsDeflate;
    type Zi = ZlibRsInflate;
    type Fd = flate2::Compress;
    type Fi = flate2::Decompress;

    /// A small xorshift generator: reproducible data without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }

        /// JSON-like text from a small vocabulary: compressible, as chat traffic is.
        fn text(&mut self, len: usize) -> Vec<u8> {
            const WORDS: [&str; 8] = [
                "{\"id\":",
                "\"user\":",
                "\"alice\",",
                "\"text\":",
                "hello ",
                "world ",
                "42,",
                "},",
            ];
            let mut out = Vec::with_capacity(len + 8);
            while out.len() < len {
                out.extend_from_slice(WORDS[(self.next() % 8) as usize].as_bytes());
            }
            out.truncate(len);
            out
        }
    }

    fn settings(window_bits: u8, no_context_takeover: bool) -> CompressSettings {
        CompressSettings::new(window_bits, no_context_takeover)
    }

    /// Compresses each message in pieces of `piece` bytes (one piece when 0).
    fn compress_all<D: RawDeflate>(
        deflater: &mut Deflater<D>,
        messages: &[Vec<u8>],
        piece: usize,
    ) -> Vec<Vec<u8>> {
        messages
            .iter()
            .map(|message| {
                let mut out = Vec::new();
                if piece == 0 || message.is_empty() {
                    deflater.compress(message, true, &mut out).unwrap();
                } else {
                    let pieces: Vec<&[u8]> = message.chunks(piece).collect();
                    for (i, p) in pieces.iter().enumerate() {
                        deflater
                            .compress(p, i + 1 == pieces.len(), &mut out)
                            .unwrap();
                    }
                }
                out
            })
            .collect()
    }

    /// Inflates one message given in frames of `frame` bytes (one frame when 0) into
    /// chunks of `chunk` bytes with the primitive, checking every status on the way.
    fn inflate_message<I: RawInflate>(
        inflater: &mut Inflater<I>,
        compressed: &[u8],
        frame: usize,
        chunk: usize,
    ) -> Result<Vec<u8>, DeflateError> {
        let frames: Vec<&[u8]> = if frame == 0 || compressed.is_empty() {
            vec![compressed]
        } else {
            compressed.chunks(frame).collect()
        };
        let mut message = Vec::new();
        let mut buf = vec![0; chunk];
        for (i, frame) in frames.iter().enumerate() {
            let fin = i + 1 == frames.len();
            let mut input = *frame;
            loop {
                let step = inflater.inflate(input, fin, &mut buf)?;
                assert!(step.produced <= chunk && step.consumed <= input.len());
                message.extend_from_slice(&buf[..step.produced]);
                input = &input[step.consumed..];
                match step.status {
                    InflateStatus::OutputFull => assert_eq!(step.produced, chunk),
                    InflateStatus::NeedInput => {
                        assert!(!fin && input.is_empty());
                        break;
                    }
                    InflateStatus::MessageEnd => {
                        assert!(fin);
                        return Ok(message);
                    }
                }
            }
        }
        unreachable!("the last frame ends the message")
    }

    fn round_trip<D: RawDeflate, I: RawInflate>(
        messages: &[Vec<u8>],
        no_context_takeover: bool,
        piece: usize,
        frame: usize,
        chunk: usize,
    ) {
        let mut deflater = Deflater::<D>::new(settings(12, no_context_takeover)).unwrap();
        let mut inflater = Inflater::<I>::new(12, no_context_takeover);
        for (message, compressed) in
            messages
                .iter()
                .zip(compress_all(&mut deflater, messages, piece))
        {
            assert!(!compressed.is_empty());
            let inflated = inflate_message(&mut inflater, &compressed, frame, chunk).unwrap();
            assert!(
                inflated == *message,
                "len {} piece {piece} frame {frame} chunk {chunk} takeover {}",
                message.len(),
                !no_context_takeover
            );
        }
    }

    fn samples(len: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut rng = Rng(seed | 1);
        vec![rng.text(len), rng.bytes(len), vec![0; len], rng.text(len)]
    }

    #[test]
    fn round_trips_at_many_sizes_and_split_points() {
        for len in [0, 1, 2, 5, 100, 1000, 4096, 16_384, 16_385, 65_536, 200_000] {
            let messages = samples(len, len as u64 + 7);
            let splits: &[usize] = if len <= 1000 {
                &[0, 1, 7, 333]
            } else {
                &[0, 4096, 65_536]
            };
            for &split in splits {
                for takeover_off in [false, true] {
                    round_trip::<Zd, Zi>(&messages, takeover_off, split, split, 16_384);
                }
            }
            round_trip::<Zd, Zi>(&messages, false, 0, 0, if len <= 1000 { 1 } else { 1000 });
        }
    }

    /// The two backends read each other's output, at every memory level.
    #[test]
    fn backends_agree() {
        let messages = samples(50_000, 3);
        round_trip::<Fd, Zi>(&messages, false, 1000, 999, 4096);
        round_trip::<Zd, Fi>(&messages, false, 1000, 999, 4096);
        round_trip::<Fd, Fi>(&messages, true, 0, 0, 4096);
        for mem_level in 1..=9 {
            let mut deflater = Deflater::<Zd>::new(CompressSettings {
                mem_level,
                ..settings(9, false)
            })
            .unwrap();
            let mut inflater = Inflater::<Fi>::new(9, false);
            for (message, compressed) in
                messages
                    .iter()
                    .zip(compress_all(&mut deflater, &messages, 0))
            {
                assert!(inflate_message(&mut inflater, &compressed, 0, 4096).unwrap() == *message);
            }
        }
    }

    /// Pieces compressed one by one, as a fragmented send makes them, form one
    /// stream that a single inflate call decodes.
    #[test]
    fn fragment_wise_compression_decodes_in_one_call() {
        let message = Rng(11).text(100_000);
        let mut deflater = Deflater::<Zd>::new(settings(15, false)).unwrap();
        let mut whole = Vec::new();
        let pieces: Vec<&[u8]> = message.chunks(3000).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let mut frame = Vec::new();
            deflater
                .compress(piece, i + 1 == pieces.len(), &mut frame)
                .unwrap();
            // Every piece but the last keeps its flush marker, so it stands alone.
            assert_eq!(frame.ends_with(&TAIL), i + 1 < pieces.len(), "piece {i}");
            whole.extend_from_slice(&frame);
        }
        let mut inflater = Inflater::<Zi>::new(15, false);
        let mut out = Vec::new();
        assert_eq!(
            inflater.inflate_into(&whole, true, &mut out, usize::MAX),
            Ok(true)
        );
        assert!(out == message);
    }

    #[test]
    fn context_takeover_makes_a_repeated_message_smaller() {
        let message = Rng(5).text(2000);
        let messages = [message.clone(), message.clone()];
        let mut kept = Deflater::<Zd>::new(settings(12, false)).unwrap();
        let with = compress_all(&mut kept, &messages, 0);
        assert!(
            with[1].len() * 10 < with[0].len(),
            "{} then {}",
            with[0].len(),
            with[1].len()
        );
        let mut reset = Deflater::<Zd>::new(settings(12, true)).unwrap();
        let without = compress_all(&mut reset, &messages, 0);
        assert_eq!(without[0], without[1]);
        assert_eq!(with[0], without[0]);

        // An inflater told the peer resets cannot follow a stream that refers back:
        // its window really is emptied per message.
        let mut strict = Inflater::<Zi>::new(12, true);
        assert!(inflate_message(&mut strict, &with[0], 0, 4096).unwrap() == message);
        assert_eq!(
            inflate_message(&mut strict, &with[1], 0, 4096),
            Err(DeflateError::Corrupt)
        );
    }

    /// RFC 7692 section 7.2.3's examples, byte for byte.
    #[test]
    fn rfc_7692_examples() {
        let hello = b"Hello".to_vec();
        let mut deflater = Deflater::<Zd>::new(settings(15, false)).unwrap();
        let sent = compress_all(&mut deflater, &[hello.clone(), hello.clone()], 0);
        // 7.2.3.1 and 7.2.3.2: the second message refers to the first.
        assert_eq!(sent[0], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        assert_eq!(sent[1], [0xf2, 0x00, 0x11, 0x00, 0x00]);
        let mut inflater = Inflater::<Zi>::new(15, false);
        for compressed in &sent {
            assert_eq!(
                inflate_message(&mut inflater, compressed, 0, 64).unwrap(),
                hello
            );
        }
        let examples: [&[u8]; 5] = [
            // 7.2.3.1, in two fragments.
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            // 7.2.3.3: a stored block.
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
            // 7.2.3.4: a final block, and a padding byte after it.
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            // 7.2.3.5: two blocks in one message.
            &[
                0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
            ],
            // A plain message again: the final block above reset the stream.
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        ];
        for frame in [0, 3, 1] {
            let mut inflater = Inflater::<Zi>::new(15, false);
            for example in examples {
                assert_eq!(
                    inflate_message(&mut inflater, example, frame, 2).unwrap(),
                    hello,
                    "{example:02x?} in frames of {frame}"
                );
            }
        }
    }

    /// An empty message is sent as one 0x00 byte (RFC 7692 section 7.2.3.6), and the
    /// stream carries on after it.
    #[test]
    fn empty_messages_and_empty_final_pieces() {
        let mut deflater = Deflater::<Zd>::new(settings(15, false)).unwrap();
        let mut inflater = Inflater::<Zi>::new(15, false);
        for round in 0..3 {
            let mut empty = Vec::new();
            deflater.compress(b"", true, &mut empty).unwrap();
            assert_eq!(empty, [EMPTY_BLOCK], "round {round}");
            assert_eq!(inflate_message(&mut inflater, &empty, 0, 16).unwrap(), b"");
            // A message whose last piece is empty still ends the stream cleanly.
            let mut frames = Vec::new();
            deflater.compress(b"abc", false, &mut frames).unwrap();
            let mut last = Vec::new();
            deflater.compress(b"", true, &mut last).unwrap();
            assert_eq!(last, [EMPTY_BLOCK]);
            frames.extend_from_slice(&last);
            assert_eq!(
                inflate_message(&mut inflater, &frames, 0, 16).unwrap(),
                b"abc"
            );
        }
    }

    /// python-websockets' server encoder (zlib 1.2.13, `wbits=-12`, `memLevel=5`, sync
    /// flush, tail stripped) for three messages with context takeover, generated with
    /// Python's zlib: the third refers back to the first.
    #[test]
    fn inflates_python_websockets_output() {
        let first = b"Hello, world! ".repeat(20);
        let second =
            br#"{"id": 7, "user": "alice", "tags": ["a", "b", "c"], "text": "hello hello hello"}"#;
        let wire = [
            hex("f248cdc9c9d75128cf2fca495154f018e541790000"),
            hex(
                "aa56ca4c51b25230d751502a2d4e2d02329512733293539580022589e9c5408168a544102f0944242bc58224522b4a402a3340462920914ab50000",
            ),
            hex("1a4c7e1b4c3c0000"),
        ];
        let expected = [first.clone(), second.to_vec(), first];
        let mut inflater = Inflater::<Zi>::new(12, false);
        for (compressed, message) in wire.iter().zip(&expected) {
            assert!(inflate_message(&mut inflater, compressed, 5, 7).unwrap() == *message);
        }
        // And ours, with python's settings, compresses about as well.
        let mut deflater = Deflater::<Zd>::new(settings(12, false)).unwrap();
        let ours = compress_all(&mut deflater, &expected, 0);
        for (ours, theirs) in ours.iter().zip(&wire) {
            assert!(
                ours.len() <= theirs.len() + theirs.len() / 4 + 4,
                "{ours:02x?}"
            );
        }
    }

    /// No compressor makes an 8-bit stream (zlib and zlib-rs both refuse raw 8-bit
    /// deflate), so one is written by hand: fixed-Huffman blocks whose later messages
    /// copy the first from exactly 256 bytes back, the farthest an 8-bit window
    /// reaches. Inflated one byte at a time, the history must come from the window
    /// kept between messages, not from the output buffer.
    ///
    /// zlib-rs keeps a 32 KiB window whatever the bits asked for, so a peer that
    /// reaches farther back than it agreed is read, not refused: lenient, and never
    /// wrong for a peer that keeps its word.
    #[test]
    fn inflates_a_peer_8_bit_window() {
        let first = Rng(99).bytes(256);
        let mut message1 = BitWriter::default();
        message1.fixed_block_start();
        for &byte in &first {
            message1.literal(byte);
        }
        let message1 = message1.end_message();
        let copy = |distance: u16| {
            let mut message = BitWriter::default();
            message.fixed_block_start();
            for _ in 0..25 {
                message.copy(10, distance);
            }
            message.copy(6, distance);
            message.end_message()
        };
        for chunk in [1, 300] {
            let mut inflater = Inflater::<Zi>::new(8, false);
            assert_eq!(
                inflate_message(&mut inflater, &message1, 0, chunk).unwrap(),
                first
            );
            assert_eq!(
                inflate_message(&mut inflater, &copy(256), 0, chunk).unwrap(),
                first
            );
            assert_eq!(
                inflate_message(&mut inflater, &copy(256), 0, chunk).unwrap(),
                first
            );
            // flate2 inflates with 9 bits, which reads the same stream.
            let mut wider = Inflater::<Fi>::new(8, false);
            assert_eq!(
                inflate_message(&mut wider, &message1, 0, chunk).unwrap(),
                first
            );
            assert_eq!(
                inflate_message(&mut wider, &copy(256), 0, chunk).unwrap(),
                first
            );
        }
        // Without the first message the window is empty, and the copy is refused.
        let mut fresh = Inflater::<Zi>::new(8, false);
        assert_eq!(
            inflate_message(&mut fresh, &copy(256), 0, 1),
            Err(DeflateError::Corrupt)
        );
    }

    #[test]
    fn a_compressor_refuses_windows_it_lacks() {
        for bits in [0, 8, 16] {
            assert_eq!(
                Deflater::<Zd>::new(settings(bits, false)).unwrap_err(),
                DeflateError::UnsupportedWindowBits { bits }
            );
        }
        for bits in 9..=15 {
            let mut deflater = Deflater::<Zd>::new(settings(bits, false)).unwrap();
            let mut inflater = Inflater::<Zi>::new(bits, false);
            let message = Rng(u64::from(bits)).text(70_000);
            let compressed = compress_all(&mut deflater, std::slice::from_ref(&message), 0);
            assert!(inflate_message(&mut inflater, &compressed[0], 0, 8192).unwrap() == message);
        }
    }

    #[test]
    fn corrupt_input_is_a_typed_error() {
        let mut too_far = BitWriter::default();
        too_far.fixed_block_start();
        too_far.literal(b'a');
        too_far.copy(3, 200);
        let too_far = too_far.end_message();
        let cases: [&[u8]; 3] = [
            // Block type 3 is reserved.
            &[0xff, 0xff, 0xff],
            // A stored block whose length and its complement disagree.
            &[0x00, 0x05, 0x00, 0x00, 0x00, b'a'],
            // A distance before the start of the stream.
            &too_far,
        ];
        for case in cases {
            let mut inflater = Inflater::<Zi>::new(15, false);
            assert_eq!(
                inflater.inflate_into(case, true, &mut Vec::new(), 1 << 20),
                Err(DeflateError::Corrupt),
                "{case:02x?}"
            );
            let mut other = Inflater::<Fi>::new(15, false);
            assert_eq!(
                other.inflate_into(case, true, &mut Vec::new(), 1 << 20),
                Err(DeflateError::Corrupt),
                "{case:02x?}"
            );
        }
    }

    #[test]
    fn the_limit_counts_inflated_bytes_exactly() {
        let message = Rng(1).text(100_000);
        let mut deflater = Deflater::<Zd>::new(settings(15, true)).unwrap();
        let compressed = compress_all(&mut deflater, std::slice::from_ref(&message), 0).remove(0);
        for (limit, fits) in [(100_000, true), (99_999, false), (1, false), (0, false)] {
            let mut inflater = Inflater::<Zi>::new(15, true);
            let mut out = Vec::new();
            let result = inflater.inflate_into(&compressed, true, &mut out, limit);
            if fits {
                assert_eq!(result, Ok(true));
                assert!(out == message);
            } else {
                assert_eq!(result, Err(DeflateError::TooLarge { limit }));
                assert!(out.capacity() <= limit + 1);
            }
        }
    }

    /// A deflate bomb: zeros compress about 1000:1, the most DEFLATE allows (1032:1),
    /// so 1 KiB of input inflates to about 1 MiB and 1 GiB takes about 1 MiB. Both stop
    /// at the limit, with at most the limit plus one byte held.
    #[test]
    fn a_bomb_stops_at_the_limit_with_bounded_memory() {
        const MIB: usize = 1 << 20;
        let zeros = vec![0; MIB];
        let mut deflater = Deflater::<Zd>::new(settings(15, false)).unwrap();
        let pieces: Vec<Vec<u8>> = (0..3)
            .map(|_| {
                let mut piece = Vec::new();
                deflater.compress(&zeros, false, &mut piece).unwrap();
                piece
            })
            .collect();
        // Once the window is all zeros, each further MiB compresses to the same bytes.
        assert_eq!(pieces[1], pieces[2]);
        let mut bomb = pieces[0].clone();
        for _ in 1..1024 {
            bomb.extend_from_slice(&pieces[1]);
        }
        assert!(bomb.len() < 2 * MIB, "{} bytes for 1 GiB", bomb.len());

        // It is a real bomb: its first 3 MiB inflate to zeros.
        let mut inflater = Inflater::<Zi>::new(15, false);
        let prefix = [pieces[0].as_slice(), &pieces[1], &pieces[1]].concat();
        let mut out = Vec::new();
        assert_eq!(
            inflater.inflate_into(&prefix, true, &mut out, 4 * MIB),
            Ok(true)
        );
        assert!(out.len() == 3 * MIB && out.iter().all(|&b| b == 0));

        // 1 GiB sent in 64 KiB frames, against a 16 MiB limit.
        let limit = 16 * MIB;
        let mut inflater = Inflater::<Zi>::new(15, false);
        let mut out = Vec::new();
        let mut frames_read = 0;
        let frames: Vec<&[u8]> = bomb.chunks(64 * 1024).collect();
        let error = frames.iter().enumerate().find_map(|(i, frame)| {
            frames_read += 1;
            let fin = i + 1 == frames.len();
            inflater.inflate_into(frame, fin, &mut out, limit).err()
        });
        assert_eq!(error, Some(DeflateError::TooLarge { limit }));
        assert!(
            out.capacity() <= limit + 1,
            "peak capacity {}",
            out.capacity()
        );
        // The first 64 KiB frame alone holds about 64 MiB: it never gets to a second.
        assert_eq!(frames_read, 1);

        // The first 1 KiB alone, against a 64 KiB limit.
        let small = &bomb[..1024];
        let mut inflater = Inflater::<Zi>::new(15, false);
        let mut out = Vec::new();
        assert_eq!(
            inflater.inflate_into(small, true, &mut out, 64 * 1024),
            Err(DeflateError::TooLarge { limit: 64 * 1024 })
        );
        assert!(out.capacity() <= 64 * 1024 + 1);
        // Without a limit the same KiB gives about a MiB.
        let mut inflater = Inflater::<Zi>::new(15, false);
        let mut out = Vec::new();
        inflater
            .inflate_into(small, false, &mut out, usize::MAX)
            .unwrap();
        assert!(out.len() > 512 * 1024, "{} bytes", out.len());
    }

    #[test]
    fn nothing_is_allocated_before_the_first_message() {
        let mut deflater = Deflater::<Zd>::new(settings(12, true)).unwrap();
        let mut inflater = Inflater::<Zi>::new(12, true);
        assert!(!deflater.is_allocated() && !inflater.is_allocated());
        let mut out = Vec::new();
        deflater.compress(b"hello", true, &mut out).unwrap();
        inflater
            .inflate_into(&out, true, &mut Vec::new(), 100)
            .unwrap();
        assert!(deflater.is_allocated() && inflater.is_allocated());
        deflater.release();
        inflater.release();
        assert!(!deflater.is_allocated() && !inflater.is_allocated());
        // In the middle of a message the state is the message, so it stays.
        let mut open = Vec::new();
        deflater.compress(b"hel", false, &mut open).unwrap();
        assert_eq!(
            inflater.inflate_into(&open, false, &mut Vec::new(), 100),
            Ok(false)
        );
        deflater.release();
        inflater.release();
        assert!(deflater.is_allocated() && inflater.is_allocated());
        // With context takeover the state is the history, so it stays.
        let mut kept = Deflater::<Zd>::new(settings(12, false)).unwrap();
        kept.compress(b"hello", true, &mut out).unwrap();
        kept.release();
        assert!(kept.is_allocated());
    }

    proptest! {
        /// Any bytes, in any frames, inflate or fail with a typed error, within the
        /// limit: never a panic, never a hang.
        #[test]
        fn any_input_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..512),
            frame in 0usize..64,
            chunk in 1usize..64,
            limit in 0usize..4096,
        ) {
            let mut inflater = Inflater::<Zi>::new(15, false);
            let frames: Vec<&[u8]> = if frame == 0 || data.is_empty() { vec![&data] } else { data.chunks(frame).collect() };
            let mut out = Vec::new();
            for (i, f) in frames.iter().enumerate() {
                match inflater.inflate_into(f, i + 1 == frames.len(), &mut out, limit) {
                    Ok(_) => prop_assert!(out.len() <= limit),
                    Err(DeflateError::TooLarge { .. } | DeflateError::Corrupt) => break,
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }
            let _ = inflate_message(&mut Inflater::<Zi>::new(9, true), &data, frame, chunk);
        }

    }

    proptest! {
        // 64 cases: a piece of one byte is a sync flush per byte, slow in debug builds.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random messages split at random points survive the trip.
        #[test]
        fn random_splits_round_trip(
            message in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000),
            piece in 0usize..700,
            frame in 0usize..700,
            chunk in 1usize..3000,
            takeover_off in any::<bool>(),
        ) {
            round_trip::<Zd, Zi>(&[message.clone(), message], takeover_off, piece, frame, chunk);
        }
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Writes deflate's bit stream by hand: fixed-Huffman codes only, enough to make
    /// streams no compressor will.
    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        bits: u32,
        count: u32,
    }

    impl BitWriter {
        /// `count` bits of `value`, least significant first (deflate's order for
        /// headers and extra bits).
        fn bits(&mut self, value: u32, count: u32) {
            self.bits |= value << self.count;
            self.count += count;
            while self.count >= 8 {
                self.bytes.push(self.bits as u8);
                self.bits >>= 8;
                self.count -= 8;
            }
        }

        /// A Huffman code, which deflate writes most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            let reversed = code.reverse_bits() >> (32 - len);
            self.bits(reversed, len);
        }

        /// BFINAL = 0, BTYPE = 01 (fixed Huffman codes).
        fn fixed_block_start(&mut self) {
            self.bits(0b010, 3);
        }

        fn literal(&mut self, byte: u8) {
            match byte {
                0..=143 => self.code(0x30 + u32::from(byte), 8),
                _ => self.code(0x190 + u32::from(byte) - 144, 9),
            }
        }

        /// A match of 3..=10 bytes (symbols 257..=264, no extra bits) at a distance
        /// of 193..=384 (codes 15 and 16).
        fn copy(&mut self, len: u32, distance: u16) {
            self.code(254 + len - 256, 7);
            match distance {
                193..=256 => {
                    self.code(15, 5);
                    self.bits(u32::from(distance - 193), 6);
                }
                257..=384 => {
                    self.code(16, 5);
                    self.bits(u32::from(distance - 257), 7);
                }
                _ => unreachable!("distance {distance} not covered"),
            }
        }

        /// End of block, then the header of an empty stored block, padded to a byte:
        /// the [`TAIL`] the receiver appends completes it, as after a sync flush.
        fn end_message(mut self) -> Vec<u8> {
            self.code(0, 7);
            self.bits(0b000, 3);
            if self.count > 0 {
                self.bits(0, 8 - self.count);
            }
            self.bytes
        }
    }
}

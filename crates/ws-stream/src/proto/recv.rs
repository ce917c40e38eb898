use std::ops::Range;

use ws_frame::{CloseBody, CloseCode, Decoded, DecoderConfig, FrameHeader, Masking, OpCode};

use super::Reply;
use crate::config::INITIAL_READ_BUFFER;
use crate::deflate::{DeflateError, INFLATE_CHUNK, InflateStatus, Inflater};
use crate::utf8::{self, TextBuffer, Utf8Validator};
use crate::{CloseFrame, Config, Error, Message, MessageKind, Result, Role};

/// A read this small, with the buffer drained, means the traffic is light again.
const SMALL_READ: usize = 1 << 10;

/// A frame's payload still to come that is at least this large is read straight into
/// its message rather than through the read buffer: one copy less, and reads as large
/// as the payload instead of the read buffer.
const DIRECT_READ_MIN: usize = INITIAL_READ_BUFFER;

/// The room offered past a frame's end in a direct read (see `direct_len`); the
/// read buffer, at least this large, takes what lands there.
const DIRECT_SLACK: usize = INITIAL_READ_BUFFER;

/// A message buffer given back ([`Receiver::recycle`]) is kept if no larger than this.
const RECYCLE_MAX: usize = 256 << 10;

/// The most reserved for a message before its bytes arrive.
const EAGER_RESERVE: usize = 1 << 20;

/// What the peer sent, as the [`Receiver`] reports it.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming<'a> {
    /// A whole message, reassembled from its fragments and checked.
    Message(Message),
    /// A message begins that is delivered in pieces (see [`Receiver::set_streaming`]).
    MessageStart(MessageKind),
    /// The next piece of the message in progress; text pieces are checked as they come
    /// but may end inside a UTF-8 sequence.
    MessageData(&'a [u8]),
    /// The message delivered in pieces is complete and valid.
    MessageEnd,
    /// A ping and its payload; [`Receiver::take_reply`] holds the pong.
    Ping(&'a [u8]),
    /// A pong and its payload.
    Pong(&'a [u8]),
    /// The peer's Close, with its code and reason if it gave one. Nothing more will be
    /// read; [`Receiver::take_reply`] holds our answering Close.
    Close(Option<CloseBody<'a>>),
}

impl Incoming<'_> {
    /// The event as an owned value, to keep past the next poll.
    pub fn into_owned(self) -> Event {
        match self {
            Incoming::Message(message) => Event::Message(message),
            Incoming::MessageStart(kind) => Event::MessageStart(kind),
            Incoming::MessageData(data) => Event::MessageData(data.to_vec()),
            Incoming::MessageEnd => Event::MessageEnd,
            Incoming::Ping(payload) => Event::Ping(payload.to_vec()),
            Incoming::Pong(payload) => Event::Pong(payload.to_vec()),
            Incoming::Close(body) => Event::Close(match body {
                Some(body) => CloseFrame::new(body.code, body.reason),
                None => CloseFrame::new(CloseCode::NO_STATUS_RECEIVED, ""),
            }),
        }
    }
}

/// What the peer sent, owned: an [`Incoming`] kept past the next poll, and what
/// [`Stream::read_event`](crate::Stream::read_event) reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A whole message.
    Message(Message),
    /// A ping; the pong with its payload has already been queued.
    Ping(Vec<u8>),
    /// A pong: the answer to our ping, or a heartbeat.
    Pong(Vec<u8>),
    /// The peer closed the connection; our answering Close has been queued. Its code is
    /// 1005 if the peer gave none.
    Close(CloseFrame),
    /// A message delivered in pieces begins.
    MessageStart(MessageKind),
    /// The next piece of the message in progress.
    MessageData(Vec<u8>),
    /// The message delivered in pieces is complete and valid.
    MessageEnd,
}

/// The receiving half of a connection: bytes from the peer in, [`Incoming`] events out.
///
/// Bytes go into [`Receiver::buffer_mut`] (followed by [`Receiver::filled`]) or through
/// [`Receiver::receive`]; [`Receiver::poll`] then answers one event at a time until it
/// needs more bytes. Frames are decoded in place, payloads unmasked in the buffer, and
/// large payloads handed on in pieces as they arrive, so the buffer stays small
/// whatever the message size.
#[derive(Debug)]
pub struct Receiver {
    decoder: DecoderConfig,
    max_message_size: usize,
    max_read_buffer: usize,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offered: usize,
    grow: bool,
    /// The largest read since the buffer was last drained: a grown buffer is kept
    /// while messages are large, even when a message's last read is short.
    last_read: usize,
    frame: Option<PayloadState>,
    message: Option<MessageState>,
    /// Room offered by [`Receiver::buffer_mut`] at the end of the message being
    /// held, for a read straight into it; not yet reported by [`Receiver::filled`].
    direct_offer: Option<DirectOffer>,
    /// Bytes read straight into the held message, still masked and unchecked:
    /// [`Receiver::consume_payload`] takes them in before anything else.
    direct_unconsumed: usize,
    /// A buffer of an earlier message, for the next one (see [`Receiver::recycle`]).
    spare: Vec<u8>,
    streaming: bool,
    reply: Option<Reply>,
    closed: bool,
    /// permessage-deflate's receiving half, if the handshake agreed to it. Boxed, as
    /// the sender's deflater is: most connections do without it.
    inflater: Option<Box<Inflater>>,
    /// Inflated bytes of a message delivered in pieces, handed on as
    /// [`Incoming::MessageData`].
    inflated: Vec<u8>,
    /// Messages begun, and how many of them compressed.
    pub(crate) messages: u64,
    pub(crate) compressed_messages: u64,
}

/// Room at the end of a held message, offered for a read straight into it.
#[derive(Debug, Clone, Copy)]
struct DirectOffer {
    /// The bytes offered.
    room: usize,
    /// How many of them the frame's payload fills; a read may go past them.
    payload: usize,
}

impl DirectOffer {
    /// The offer with its room past the payload cut to the message's `spare`
    /// capacity: a read past the frame's end saves a system call, but not one worth
    /// reallocating (and, for a large message, copying) the message for.
    fn within(self, spare: usize) -> DirectOffer {
        DirectOffer {
            room: self.room.min(spare.max(self.payload)),
            ..self
        }
    }
}

/// The data frame whose payload is being consumed.
#[derive(Debug)]
struct PayloadState {
    len: u64,
    consumed: u64,
    /// How many payload bytes are unmasked: past `consumed` when an inflater took
    /// only part of what was unmasked.
    unmasked: u64,
    mask: Option<[u8; 4]>,
    fin: bool,
}

/// The message in progress.
#[derive(Debug)]
struct MessageState {
    sink: Sink,
    /// Bytes of the message so far, inflated if it is compressed.
    size: usize,
    /// Its first frame carried RSV1: its payload is deflated (RFC 7692).
    compressed: bool,
    /// Its last byte has been consumed; only the end remains to report.
    complete: bool,
}

/// Where a message's payload goes.
#[derive(Debug)]
enum Sink {
    Text(TextBuffer),
    Binary(Vec<u8>),
    /// Handed on in pieces; text is still checked. `deliver` is false once the
    /// application has lost interest and the rest is skipped.
    Pieces {
        utf8: Option<Utf8Validator>,
        deliver: bool,
    },
}

/// An event, with payloads as ranges of the buffer so it can be built before borrowing.
#[derive(Debug)]
pub(crate) enum Step {
    Message(Message),
    MessageStart(MessageKind),
    MessageData(Range<usize>),
    /// Message data in the inflated buffer.
    InflatedData(Range<usize>),
    MessageEnd,
    Ping(Range<usize>),
    Pong(Range<usize>),
    Close(Range<usize>),
}

impl Receiver {
    /// A receiver for the `role` side of a connection, with `config`'s limits.
    pub fn new(role: Role, config: &Config) -> Receiver {
        let masking = match role {
            Role::Server => Masking::Required,
            Role::Client => Masking::Forbidden,
        };
        let deflate = config.deflate;
        Receiver {
            decoder: DecoderConfig::default()
                .masking(masking)
                .max_payload_len(config.max_frame_size as u64)
                .allowed_rsv(if deflate.is_some() { 0b100 } else { 0 }),
            max_message_size: config.max_message_size,
            max_read_buffer: config.max_read_buffer,
            buf: Vec::new(),
            start: 0,
            end: 0,
            offered: 0,
            grow: false,
            last_read: 0,
            frame: None,
            message: None,
            direct_offer: None,
            direct_unconsumed: 0,
            spare: Vec::new(),
            streaming: false,
            reply: None,
            closed: false,
            inflater: deflate.map(|deflate| {
                Box::new(Inflater::new(
                    deflate.receive_window_bits,
                    deflate.receive_no_context_takeover,
                ))
            }),
            inflated: Vec::new(),
            messages: 0,
            compressed_messages: 0,
        }
    }

    /// Room to read into; report how much was read with [`Receiver::filled`].
    ///
    /// Starts at 4 KiB and doubles, up to the configured `max_read_buffer`, after a
    /// read fills it, so that idle connections stay small and busy ones read in
    /// large chunks; it returns to 4 KiB once drained after only small reads.
    ///
    /// While a large frame's payload is still to come and nothing else is buffered,
    /// the room is the end of the message being assembled, up to the frame's end and
    /// up to 4 KiB past it (as far as the message's buffer has room: it never grows
    /// for them): the payload is read in place, in reads as large as it is, and bytes
    /// read past its end are moved to the read buffer.
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        if self.direct_offer.is_some() {
            self.withdraw_direct_offer();
        }
        let direct = self.direct_len();
        if direct.room > 0 {
            match self.message.as_mut().map(|message| &mut message.sink) {
                Some(Sink::Text(text)) => {
                    let direct = direct.within(text.spare_capacity());
                    self.direct_offer = Some(direct);
                    return text.tail(direct.room);
                }
                Some(Sink::Binary(data)) => {
                    let direct = direct.within(data.capacity() - data.len());
                    self.direct_offer = Some(direct);
                    let len = data.len();
                    data.resize(len + direct.room, 0);
                    return &mut data[len..];
                }
                _ => {}
            }
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            // A buffer grown for a burst goes back to its small size once the reads are
            // small again, so a connection that once saw large messages idles light.
            // Decided once per drain: a buffer not read into since is kept.
            if self.last_read > 0 {
                if self.buf.len() > INITIAL_READ_BUFFER && self.last_read <= SMALL_READ {
                    self.buf = Vec::new();
                }
                self.last_read = 0;
            }
        }
        if self.buf.is_empty() {
            self.buf = vec![0; INITIAL_READ_BUFFER];
        } else if self.end == self.buf.len() || self.grow {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            // A full buffer after compaction means an unfinished control frame larger
            // than the free room, which a 4 KiB buffer never meets; grow regardless.
            let full = self.end == self.buf.len();
            if (self.grow && self.buf.len() < self.max_read_buffer) || full {
                let len = (self.buf.len() * 2).min(self.max_read_buffer.max(self.end * 2));
                self.buf.resize(len, 0);
            }
        }
        self.grow = false;
        self.offered = self.buf.len() - self.end;
        &mut self.buf[self.end..]
    }

    /// How much of the current frame's payload to read straight into its message:
    /// none unless the read buffer is drained, the message is held whole (not
    /// compressed, not in pieces) and at least [`DIRECT_READ_MIN`] bytes are to come;
    /// at most `max_read_buffer`, or the rest of the payload and [`DIRECT_SLACK`].
    fn direct_len(&self) -> DirectOffer {
        let none = DirectOffer {
            room: 0,
            payload: 0,
        };
        let (Some(frame), Some(message)) = (&self.frame, &self.message) else {
            return none;
        };
        if self.start != self.end
            || message.compressed
            || !matches!(message.sink, Sink::Text(_) | Sink::Binary(_))
        {
            return none;
        }
        let to_come = frame.len - frame.consumed - self.direct_unconsumed as u64;
        // The frame passed the size limit when it began, so it fits in memory.
        let to_come = usize::try_from(to_come).unwrap_or(usize::MAX);
        if to_come < DIRECT_READ_MIN {
            return none;
        }
        let most = self.max_read_buffer.max(DIRECT_READ_MIN);
        if to_come > most {
            return DirectOffer {
                room: most,
                payload: most,
            };
        }
        // Room past the frame's end too, so that a read which takes all of it comes
        // back short (the transport had no more), and the driver need not try another
        // read to learn that; bytes read past the end go to the read buffer.
        DirectOffer {
            room: to_come + DIRECT_SLACK,
            payload: to_come,
        }
    }

    /// Takes back room offered for a direct read that no read filled.
    fn withdraw_direct_offer(&mut self) {
        self.keep_direct(0);
    }

    /// Keeps `n` bytes read into the room last offered for a direct read: those of
    /// the payload stay in the message, any after it move to the read buffer.
    fn keep_direct(&mut self, n: usize) {
        let Some(offer) = self.direct_offer.take() else {
            return;
        };
        let n = n.min(offer.room);
        let payload = n.min(offer.payload);
        let sink = match self.message.as_mut().map(|message| &mut message.sink) {
            Some(Sink::Text(text)) => text.offered_tail(offer.room),
            Some(Sink::Binary(data)) => {
                let len = data.len();
                &data[len - offer.room..]
            }
            _ => return,
        };
        let after = &sink[payload..n];
        if !after.is_empty() {
            // The read buffer was drained (a direct read needs that): start it anew.
            if self.buf.len() < after.len() {
                self.buf.resize(INITIAL_READ_BUFFER.max(after.len()), 0);
            }
            self.buf[..after.len()].copy_from_slice(after);
            self.start = 0;
            self.end = after.len();
            self.last_read = self.last_read.max(after.len());
        }
        match self.message.as_mut().map(|message| &mut message.sink) {
            Some(Sink::Text(text)) => text.keep_tail(offer.room, payload),
            Some(Sink::Binary(data)) => data.truncate(data.len() - offer.room + payload),
            _ => return,
        }
        self.direct_unconsumed += payload;
    }

    /// Records that `n` bytes were read into [`Receiver::buffer_mut`].
    #[inline]
    pub fn filled(&mut self, n: usize) {
        if self.direct_offer.is_some() {
            self.keep_direct(n);
            return;
        }
        let n = n.min(self.buf.len() - self.end);
        self.end += n;
        self.grow = n == self.offered && 2 * n >= self.buf.len();
        self.last_read = self.last_read.max(n);
    }

    /// Copies `bytes` in: for drivers that cannot read into [`Receiver::buffer_mut`].
    ///
    /// The buffer holds whatever is given, so poll until [`Receiver::poll`] answers
    /// `None` before giving more.
    pub fn receive(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = self.buffer_mut();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.direct_offer.is_some() {
                self.keep_direct(n);
                continue;
            }
            self.end += n;
            self.grow = n == self.offered;
            self.last_read = self.last_read.max(n);
        }
    }

    /// The number of bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The bytes the buffer holds, in use or not: the receiver's memory footprint.
    pub fn capacity(&self) -> usize {
        self.buf.capacity() + self.spare.capacity()
    }

    /// Drops the bytes received but not yet decoded.
    pub(crate) fn discard_buffered(&mut self) {
        self.start = self.end;
    }

    /// Gives the read buffer back to the allocator if it holds nothing undecoded; the
    /// next [`Receiver::buffer_mut`] allocates a fresh small one.
    pub fn release_buffer(&mut self) {
        if self.start == self.end {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
        }
        self.inflated = Vec::new();
        self.spare = Vec::new();
        if let Some(inflater) = &mut self.inflater {
            inflater.release();
        }
    }

    /// The buffer kept for the next message, for another receiver to adopt.
    pub(crate) fn take_spare_message(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.spare)
    }

    /// Takes `buffer` (leaving it empty) as the buffer for the next message, if this
    /// receiver keeps none.
    pub(crate) fn adopt_spare_message(&mut self, buffer: &mut Vec<u8>) {
        if self.spare.capacity() == 0 {
            self.spare = std::mem::take(buffer);
        }
    }

    /// Gives back the buffer of a message this receiver delivered (or any message),
    /// for the next message to be received into: a loop that receives, uses and
    /// recycles each message allocates nothing per message. Buffers over 256 KiB are
    /// freed instead, so a connection that once saw a large message does not keep it.
    pub fn recycle(&mut self, message: Message) {
        let buffer = message.into_bytes();
        if buffer.capacity() <= RECYCLE_MAX && buffer.capacity() > self.spare.capacity() {
            self.spare = buffer;
        }
    }

    /// The read buffer, when it holds nothing undecoded, for another receiver to
    /// [adopt](Receiver::adopt_buffer); this one allocates anew when it next reads.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        if self.start != self.end || self.buf.is_empty() {
            return None;
        }
        self.start = 0;
        self.end = 0;
        Some(std::mem::take(&mut self.buf))
    }

    /// Reads into `buf` (taking it, leaving it empty) if this receiver has no buffer.
    /// What `buf` held before is never read: only the bytes filled after are.
    pub(crate) fn adopt_buffer(&mut self, buf: &mut Vec<u8>) {
        if self.buf.is_empty() {
            self.buf = std::mem::take(buf);
            self.start = 0;
            self.end = 0;
        }
    }

    /// Deliver messages that begin from now on in pieces ([`Incoming::MessageStart`],
    /// [`Incoming::MessageData`], [`Incoming::MessageEnd`]) instead of whole.
    ///
    /// Pieces are not held, so `max_message_size` does not apply to them.
    pub fn set_streaming(&mut self, streaming: bool) {
        self.streaming = streaming;
    }

    /// Whether a message has begun and not yet ended.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Skips the rest of the message delivered in pieces (still checking its UTF-8).
    pub fn skip_message(&mut self) {
        if let Some(MessageState {
            sink: Sink::Pieces { deliver, .. },
            ..
        }) = &mut self.message
        {
            *deliver = false;
        }
    }

    /// Whether the message in progress is being skipped ([`Receiver::skip_message`]).
    pub fn is_skipping(&self) -> bool {
        matches!(
            &self.message,
            Some(MessageState {
                sink: Sink::Pieces { deliver: false, .. },
                ..
            })
        )
    }

    /// Whether the peer's Close has arrived or the peer broke the protocol: the
    /// receiver reads nothing more.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// What the protocol obliges us to send after the last [`Receiver::poll`]: a
    /// pong, our answering Close, or the Close an error calls for.
    pub fn take_reply(&mut self) -> Option<Reply> {
        self.reply.take()
    }

    /// Whether a reply waits in [`Receiver::take_reply`].
    pub(crate) fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    /// The next event, or `None` if more bytes are needed.
    ///
    /// A peer's violation fails with the matching [`Error`] and leaves a Close with its
    /// code in [`Receiver::take_reply`]; the receiver is closed from then on.
    pub fn poll(&mut self) -> Result<Option<Incoming<'_>>> {
        self.poll_at_most(usize::MAX)
    }

    /// Like [`Receiver::poll`], handing on at most `max` bytes of message data at once.
    pub fn poll_at_most(&mut self, max: usize) -> Result<Option<Incoming<'_>>> {
        Ok(self.poll_step(max)?.map(|step| self.view(step)))
    }

    /// The next event as buffer ranges, so that the caller can act on it (queue the
    /// reply, record the end) before borrowing its payload with [`Receiver::view`].
    // Inlined into its two callers, so that the step is not returned through memory
    // once more: each such copy stalls on store forwarding, a sizeable part of a
    // small message's cost (seen with `perf annotate` on the in-memory echo bench).
    #[inline(always)]
    pub(crate) fn poll_step(&mut self, max: usize) -> Result<Option<Step>> {
        if self.closed {
            return Err(Error::AlreadyClosed);
        }
        match self.step(max.max(1)) {
            Ok(step) => Ok(step),
            Err(error) => {
                self.closed = true;
                self.reply = error.close_code().map(Reply::Close);
                Err(error)
            }
        }
    }

    /// The body of the peer's Close a [`Step::Close`] points at (validated by then).
    pub(crate) fn close_body(&self, step: &Step) -> Option<CloseBody<'_>> {
        match step {
            Step::Close(range) => CloseBody::parse(&self.buf[range.clone()]).unwrap_or(None),
            _ => None,
        }
    }

    /// The event a [`Receiver::poll_step`] answered, its payload borrowed from the buffer.
    #[inline]
    pub(crate) fn view(&self, step: Step) -> Incoming<'_> {
        match step {
            Step::Message(message) => Incoming::Message(message),
            Step::MessageStart(kind) => Incoming::MessageStart(kind),
            Step::MessageData(range) => Incoming::MessageData(&self.buf[range]),
            Step::InflatedData(range) => Incoming::MessageData(&self.inflated[range]),
            Step::MessageEnd => Incoming::MessageEnd,
            Step::Ping(range) => Incoming::Ping(&self.buf[range]),
            Step::Pong(range) => Incoming::Pong(&self.buf[range]),
            // `step` validated the body already; parsing twice costs at most 125 bytes.
            Step::Close(range) => {
                Incoming::Close(CloseBody::parse(&self.buf[range]).unwrap_or(None))
            }
        }
    }

    fn step(&mut self, max: usize) -> Result<Option<Step>> {
        loop {
            if let Some(message) = &mut self.message
                && message.complete
            {
                let message = self.message.take().map(|message| message.sink);
                match message {
                    Some(Sink::Text(text)) => {
                        let text = text.finish().map_err(|_| Error::InvalidUtf8)?;
                        return Ok(Some(Step::Message(Message::Text(text))));
                    }
                    Some(Sink::Binary(data)) => {
                        return Ok(Some(Step::Message(Message::Binary(data))));
                    }
                    Some(Sink::Pieces { utf8, deliver }) => {
                        if let Some(utf8) = utf8 {
                            utf8.finish().map_err(|_| Error::InvalidUtf8)?;
                        }
                        if deliver {
                            return Ok(Some(Step::MessageEnd));
                        }
                    }
                    None => {}
                }
                continue;
            }
            if self.frame.is_some() {
                match self.consume_payload(max)? {
                    Some(step) => return Ok(Some(step)),
                    None if self.frame.is_some() && self.buffered() == 0 => return Ok(None),
                    None => continue,
                }
            }
            let input = &self.buf[self.start..self.end];
            let (header, header_len) = match FrameHeader::decode(input, &self.decoder)? {
                Decoded::Complete(header, len) => (header, len),
                Decoded::Incomplete(_) => return Ok(None),
            };
            // Both limits were checked against `max_payload_len`, itself a `usize`.
            let payload_len = header.payload_len as usize;
            // The decoder lets RSV1 through only when deflate was agreed; it marks a
            // compressed message, so it belongs on a message's first frame alone.
            if header.rsv1 && (header.opcode == OpCode::Continuation || header.opcode.is_control())
            {
                return Err(Error::UnexpectedRsv1);
            }
            if header.opcode.is_control() {
                return self.control_frame(header, header_len, payload_len);
            }
            if let Some(step) = self.data_frame(header, header_len, payload_len)? {
                return Ok(Some(step));
            }
        }
    }

    /// Handles a whole control frame, or waits for the rest of it.
    fn control_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        payload_len: usize,
    ) -> Result<Option<Step>> {
        if self.buffered() < header_len + payload_len {
            return Ok(None);
        }
        let payload = self.take_whole_payload(&header, header_len, payload_len);
        Ok(Some(match header.opcode {
            OpCode::Ping => {
                self.reply = Some(Reply::Pong(self.buf[payload.clone()].into()));
                Step::Ping(payload)
            }
            OpCode::Pong => Step::Pong(payload),
            _ => {
                let body = CloseBody::parse(&self.buf[payload.clone()])?;
                // Echo the peer's code (RFC 6455 section 5.5.1); 1000 answers an empty body.
                let code = body.map_or(CloseCode::NORMAL, |body| body.code);
                self.reply = Some(Reply::Close(code));
                self.closed = true;
                Step::Close(payload)
            }
        }))
    }

    /// Starts on a data frame: checks the fragmentation rules and the size limit.
    fn data_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        payload_len: usize,
    ) -> Result<Option<Step>> {
        let kind = match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => return Err(Error::UnexpectedContinuation),
            (OpCode::Continuation, Some(_)) => None,
            (_, Some(_)) => return Err(Error::UnfinishedMessage),
            (OpCode::Text, None) => Some(MessageKind::Text),
            (_, None) => Some(MessageKind::Binary),
        };
        // Pieces are handed on, not held, so only held messages count against the limit.
        let held = match &self.message {
            Some(message) => !matches!(message.sink, Sink::Pieces { .. }),
            None => !self.streaming,
        };
        let size = self.message.as_ref().map_or(0, |message| message.size);
        if held && size.saturating_add(payload_len) > self.max_message_size {
            return Err(Error::MessageTooLarge {
                max: self.max_message_size,
            });
        }
        let Some(kind) = kind else {
            self.begin_payload(&header, header_len, payload_len);
            return Ok(None);
        };
        // The common case: a whole message in one frame, all of it buffered.
        let compressed = header.rsv1;
        self.messages += 1;
        self.compressed_messages += u64::from(compressed);
        if header.fin
            && !compressed
            && !self.streaming
            && self.buffered() >= header_len + payload_len
        {
            let payload = self.take_whole_payload(&header, header_len, payload_len);
            let bytes = &self.buf[payload];
            let buffer = std::mem::take(&mut self.spare);
            let message = match kind {
                MessageKind::Text => {
                    Message::Text(utf8::text_into(bytes, buffer).map_err(|_| Error::InvalidUtf8)?)
                }
                MessageKind::Binary => Message::Binary(crate::message::copied_into(bytes, buffer)),
            };
            return Ok(Some(Step::Message(message)));
        }
        self.begin_payload(&header, header_len, payload_len);
        // A message in one frame gets its whole buffer at once, up to a bound, so that a
        // header alone cannot make the connection reserve `max_frame_size`; fragmented
        // messages and larger frames grow as their bytes arrive.
        let capacity = if header.fin && !compressed {
            // With the room a direct read offers past the frame's end (`direct_len`).
            let slack = if payload_len >= DIRECT_READ_MIN {
                DIRECT_SLACK
            } else {
                0
            };
            (payload_len + slack).min(EAGER_RESERVE)
        } else {
            0
        };
        let sink = match (self.streaming, kind) {
            (true, MessageKind::Text) => Sink::Pieces {
                utf8: Some(Utf8Validator::default()),
                deliver: true,
            },
            (true, MessageKind::Binary) => Sink::Pieces {
                utf8: None,
                deliver: true,
            },
            (false, MessageKind::Text) => Sink::Text(TextBuffer::reusing(
                std::mem::take(&mut self.spare),
                capacity,
            )),
            (false, MessageKind::Binary) => Sink::Binary(crate::message::emptied_with_room(
                std::mem::take(&mut self.spare),
                capacity,
            )),
        };
        self.message = Some(MessageState {
            sink,
            size: 0,
            compressed,
            complete: false,
        });
        Ok(self.streaming.then_some(Step::MessageStart(kind)))
    }

    /// Consumes a frame whose payload is all buffered, unmasking the payload in place;
    /// answers where it lies in the buffer.
    fn take_whole_payload(
        &mut self,
        header: &FrameHeader,
        header_len: usize,
        payload_len: usize,
    ) -> Range<usize> {
        let payload = self.start + header_len..self.start + header_len + payload_len;
        self.start = payload.end;
        if let Some(key) = header.mask {
            ws_frame::apply_mask(&mut self.buf[payload.clone()], key);
        }
        payload
    }

    /// Consumes a data frame's header; its payload follows in [`Receiver::consume_payload`].
    fn begin_payload(&mut self, header: &FrameHeader, header_len: usize, payload_len: usize) {
        self.start += header_len;
        self.frame = Some(PayloadState {
            len: payload_len as u64,
            consumed: 0,
            unmasked: 0,
            mask: header.mask,
            fin: header.fin,
        });
    }

    /// Moves buffered payload bytes of the current data frame into its message.
    fn consume_payload(&mut self, max: usize) -> Result<Option<Step>> {
        if self
            .message
            .as_ref()
            .is_some_and(|message| message.compressed)
        {
            return self.consume_compressed(max);
        }
        let (Some(frame), Some(message)) = (&mut self.frame, &mut self.message) else {
            return Ok(None);
        };
        if self.direct_unconsumed > 0 {
            // Read in place (see `direct_len`): unmask and check what came, as the
            // buffered path below does.
            let n = std::mem::take(&mut self.direct_unconsumed);
            let offset = (frame.consumed % 4) as usize;
            let unmask = |bytes: &mut [u8]| {
                if let Some(key) = frame.mask {
                    ws_frame::apply_mask_at(bytes, key, offset);
                }
            };
            match &mut message.sink {
                Sink::Text(text) => text.check_tail(unmask).map_err(|_| Error::InvalidUtf8)?,
                Sink::Binary(data) => {
                    let len = data.len();
                    unmask(&mut data[len - n..]);
                }
                Sink::Pieces { .. } => {}
            }
            frame.consumed += n as u64;
            message.size = message.size.saturating_add(n);
            if frame.consumed == frame.len {
                message.complete = frame.fin;
                self.frame = None;
            }
            return Ok(None);
        }
        let remaining = frame.len - frame.consumed;
        let available = (self.end - self.start).min(max);
        let take =
            usize::try_from(remaining).map_or(available, |remaining| remaining.min(available));
        let piece = self.start..self.start + take;
        if let Some(key) = frame.mask {
            ws_frame::apply_mask_at(
                &mut self.buf[piece.clone()],
                key,
                (frame.consumed % 4) as usize,
            );
        }
        self.start += take;
        frame.consumed += take as u64;
        message.size = message.size.saturating_add(take);
        if frame.consumed == frame.len {
            message.complete = frame.fin;
            self.frame = None;
        }
        let bytes = &self.buf[piece.clone()];
        match &mut message.sink {
            Sink::Text(text) => text.push(bytes).map_err(|_| Error::InvalidUtf8)?,
            Sink::Binary(data) => data.extend_from_slice(bytes),
            Sink::Pieces { utf8, deliver } => {
                if let Some(utf8) = utf8 {
                    utf8.feed(bytes).map_err(|_| Error::InvalidUtf8)?;
                }
                if *deliver && take > 0 {
                    return Ok(Some(Step::MessageData(piece)));
                }
            }
        }
        Ok(None)
    }

    /// Inflates buffered payload bytes of the current frame of a compressed message
    /// into its message, counting the size limit on inflated bytes after every
    /// chunk, so a small frame that inflates without end stops at the limit.
    fn consume_compressed(&mut self, max: usize) -> Result<Option<Step>> {
        let (Some(frame), Some(message), Some(inflater)) =
            (&mut self.frame, &mut self.message, &mut self.inflater)
        else {
            return Ok(None);
        };
        let remaining = frame.len - frame.consumed;
        let available = self.end - self.start;
        let take =
            usize::try_from(remaining).map_or(available, |remaining| remaining.min(available));
        let piece = self.start..self.start + take;
        if let Some(key) = frame.mask {
            let done = (frame.unmasked - frame.consumed) as usize;
            if done < take {
                ws_frame::apply_mask_at(
                    &mut self.buf[piece.start + done..piece.end],
                    key,
                    (frame.unmasked % 4) as usize,
                );
            }
        }
        frame.unmasked = frame.unmasked.max(frame.consumed + take as u64);
        // Only the last byte of the last frame ends the deflate stream of a message.
        let last = frame.fin && take as u64 == remaining;
        let input = &self.buf[piece.clone()];
        let limit = self.max_message_size;
        let (consumed, ended, data) = match &mut message.sink {
            Sink::Text(text) => {
                let (ended, checked) =
                    text.append_with(|bytes| inflater.inflate_into(input, last, bytes, limit));
                let ended = ended.map_err(inflate_error)?;
                checked.map_err(|_| Error::InvalidUtf8)?;
                (take, ended, None)
            }
            Sink::Binary(data) => {
                let ended = inflater
                    .inflate_into(input, last, data, limit)
                    .map_err(inflate_error)?;
                (take, ended, None)
            }
            Sink::Pieces { utf8, deliver } => {
                let room = max.clamp(1, INFLATE_CHUNK);
                if self.inflated.len() < room {
                    self.inflated.resize(room, 0);
                }
                let mut consumed = 0;
                loop {
                    let out = &mut self.inflated[..room];
                    let step = inflater
                        .inflate(&input[consumed..], last, out)
                        .map_err(inflate_error)?;
                    consumed += step.consumed;
                    let produced = &out[..step.produced];
                    if let Some(utf8) = utf8 {
                        utf8.feed(produced).map_err(|_| Error::InvalidUtf8)?;
                    }
                    let ended = step.status == InflateStatus::MessageEnd;
                    let more = step.status == InflateStatus::OutputFull;
                    if *deliver && step.produced > 0 {
                        break (consumed, ended, Some(0..step.produced));
                    }
                    // Skipped data is inflated and dropped: its UTF-8 is still checked.
                    if !more {
                        break (consumed, ended, None);
                    }
                }
            }
        };
        self.start += consumed;
        frame.consumed += consumed as u64;
        if frame.consumed == frame.len && (!frame.fin || ended) {
            message.complete = ended;
            self.frame = None;
        }
        Ok(data.map(Step::InflatedData))
    }
}

fn inflate_error(error: DeflateError) -> Error {
    match error {
        DeflateError::TooLarge { limit } => Error::MessageTooLarge { max: limit },
        DeflateError::Corrupt => Error::InvalidDeflateData,
        DeflateError::UnsupportedWindowBits { .. } | DeflateError::Backend => {
            Error::CompressionFailed
        }
    }
}

use std::sync::{Arc, Mutex};
use std::{fmt, io, ops::Deref};

use ws_frame::{CloseBody, CloseCode, FrameHeader, OpCode};

use crate::deflate::{CompressSettings, Deflater};
use crate::{Config, Deflate, Error, Message, MessageKind, Result, Role};

/// What the protocol obliges an endpoint to send in answer to the peer.
///
/// Produced by [`Receiver::take_reply`](super::Receiver::take_reply), consumed by
/// [`Sender::reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reply {
    /// Answer a ping with a pong carrying the same payload.
    Pong(ControlPayload),
    /// Send a Close with this code: to answer the peer's Close, or because the peer
    /// broke the protocol.
    Close(CloseCode),
}

/// A control frame's payload, at most 125 bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlPayload {
    bytes: [u8; 125],
    len: u8,
}

impl From<&[u8]> for ControlPayload {
    /// Keeps the first 125 bytes: all of any control frame's payload.
    fn from(payload: &[u8]) -> ControlPayload {
        let len = payload.len().min(125);
        let mut bytes = [0; 125];
        bytes[..len].copy_from_slice(&payload[..len]);
        ControlPayload {
            bytes,
            len: len as u8,
        }
    }
}

impl Deref for ControlPayload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The sending half of a connection: messages in, bytes to write out.
///
/// Each call encodes frames into an internal buffer; the driver writes
/// [`Sender::pending`] and reports progress with [`Sender::advance`]. A client's frames
/// are masked with keys from the operating system's generator; messages over
/// `max_send_frame_size` are fragmented; nothing can be sent after our Close.
#[derive(Debug)]
pub struct Sender {
    role: Role,
    out: Vec<u8>,
    written: usize,
    /// A large payload queued in its own buffer by [`Sender::send_owned`], to be
    /// written after the pending bytes of `out`, so that it is never copied. Once
    /// they are written it becomes `out` itself (so that [`Sender::pending`] stays
    /// one slice), and the write buffer waits in `parked`.
    tail: Vec<u8>,
    parked: Option<Vec<u8>>,
    /// A payload written to its end, or copied, for the connection to hand to its
    /// receiver.
    spent_tail: Option<Vec<u8>>,
    max_send_frame_size: usize,
    max_write_buffer: usize,
    closed: bool,
    open_message: bool,
    keys: MaskKeys,
    /// permessage-deflate as agreed, and its compressor.
    /// Boxed: a deflater is as large as the rest of the sender, and a connection
    /// without permessage-deflate (most of the 10,000 a server may hold) should not
    /// carry its room.
    deflate: Option<Box<(Deflate, Deflater)>>,
    /// The message being sent in pieces is compressed.
    compressing: bool,
    /// Compressed bytes on their way into frames.
    scratch: Vec<u8>,
    /// Messages begun, and how many of them compressed.
    pub(crate) messages: u64,
    pub(crate) compressed_messages: u64,
}

/// Where a client's masking keys come from.
///
/// RFC 6455 section 5.3 wants keys an attacker cannot predict, which the default,
/// the operating system's generator, provides. A fixed source makes a client's bytes
/// on the wire repeatable, for tests; never use one on a real network.
pub trait MaskKeySource: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> io::Result<[u8; 4]>;
}

impl<F: FnMut() -> [u8; 4] + Send> MaskKeySource for F {
    fn next_key(&mut self) -> io::Result<[u8; 4]> {
        Ok(self())
    }
}

impl Sender {
    /// A sender for the `role` side of a connection, with `config`'s limits.
    pub fn new(role: Role, config: &Config) -> Sender {
        Sender {
            role,
            out: Vec::new(),
            written: 0,
            tail: Vec::new(),
            parked: None,
            spent_tail: None,
            max_send_frame_size: config.max_send_frame_size.max(1),
            max_write_buffer: config.max_write_buffer,
            closed: false,
            open_message: false,
            keys: MaskKeys::default(),
            deflate: config.deflate.and_then(|deflate| {
                let mut settings = CompressSettings::new(
                    deflate.send_window_bits,
                    deflate.send_no_context_takeover,
                );
                settings.mem_level = deflate.mem_level;
                settings.level = deflate.level;
                // The handshake agrees only to windows the backend has; were it handed
                // another, sending uncompressed is still correct.
                Deflater::new(settings)
                    .ok()
                    .map(|deflater| Box::new((deflate, deflater)))
            }),
            compressing: false,
            scratch: Vec::new(),
            messages: 0,
            compressed_messages: 0,
        }
    }

    /// Draws masking keys from `source` instead of the operating system's generator.
    pub fn set_mask_key_source(&mut self, source: Box<dyn MaskKeySource>) {
        self.keys = MaskKeys::Custom(source);
    }

    /// Queues a whole message, in frames of at most `max_send_frame_size` bytes.
    ///
    /// The caller guarantees text is UTF-8: [`Connection`](super::Connection) checks
    /// it, or it comes from a `&str`.
    ///
    /// With permessage-deflate, a message of at least `min_size` bytes is compressed
    /// and its first frame carries RSV1; a shorter one goes as it is.
    pub fn send_message(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        self.check_open(payload.len())?;
        if self.open_message {
            return Err(Error::MessageInProgress);
        }
        match self.deflate.as_deref_mut() {
            Some((deflate, deflater)) if payload.len() >= deflate.min_size => {
                let mut compressed = std::mem::take(&mut self.scratch);
                compressed.clear();
                deflater
                    .compress(payload, true, &mut compressed)
                    .map_err(|_| Error::CompressionFailed)?;
                let sent = self.send_frames(kind, &compressed, true);
                self.scratch = compressed;
                sent
            }
            _ => self.send_frames(kind, payload, false),
        }
    }

    /// Queues a whole message that the caller gives away: a payload of at least
    /// [`OWNED_PAYLOAD_MIN`] bytes that goes in one uncompressed frame is written
    /// from its own buffer, after its header, instead of being copied into the
    /// write buffer (a driver that writes vectored sends both in one call, see
    /// [`Sender::pending_parts`]). Any other message is copied as by
    /// [`Sender::send_message`]. Either way its buffer is handed back for the next
    /// message received: once written, or at once when copied (if no larger than
    /// the 64 KiB a drained write buffer may keep).
    pub fn send_owned(&mut self, message: Message) -> Result<()> {
        let len = message.as_bytes().len();
        if !self.writes_owned(len) {
            let sent = self.send_message(message.kind(), message.as_bytes());
            // Kept only as large as a drained write buffer may stay: a large message
            // copied (compressed or fragmented) is freed, not held until the next send.
            let buffer = message.into_bytes();
            if buffer.capacity() <= RETAINED_WRITE_BUFFER {
                self.spent_tail = Some(buffer);
            }
            return sent;
        }
        self.check_open(len)?;
        if self.open_message {
            return Err(Error::MessageInProgress);
        }
        let kind = message.kind();
        let mut payload = message.into_bytes();
        // What an earlier owned payload left unwritten goes before this header.
        self.flatten_tail();
        let mut head = [0; FrameHeader::MAX_LEN];
        let (head_len, mask) = self.frame_head(data_opcode(kind), true, false, len, &mut head)?;
        self.out.extend_from_slice(&head[..head_len]);
        self.count(false);
        if let Some(key) = mask {
            ws_frame::apply_mask(&mut payload, key);
        }
        self.tail = payload;
        Ok(())
    }

    /// Whether [`Sender::send_owned`] writes a payload of `len` bytes from its own
    /// buffer (large enough, one frame, not compressed) rather than copying it.
    #[inline]
    fn writes_owned(&self, len: usize) -> bool {
        let compressed = self
            .deflate
            .as_deref()
            .is_some_and(|(deflate, _)| len >= deflate.min_size);
        len >= OWNED_PAYLOAD_MIN && len <= self.max_send_frame_size && !compressed
    }

    /// Queues a message's payload as frames of at most `max_send_frame_size` bytes,
    /// the first with RSV1 if `compressed`.
    fn send_frames(&mut self, kind: MessageKind, payload: &[u8], compressed: bool) -> Result<()> {
        self.count(compressed);
        let mut opcode = data_opcode(kind);
        let mut rsv1 = compressed;
        let mut rest = payload;
        loop {
            let (frame, after) = rest.split_at(rest.len().min(self.max_send_frame_size));
            self.encode(opcode, after.is_empty(), rsv1, frame)?;
            if after.is_empty() {
                return Ok(());
            }
            opcode = OpCode::Continuation;
            rsv1 = false;
            rest = after;
        }
    }

    /// Queues a message encoded once for many connections.
    ///
    /// A server copies the prepared frames as they are; a client, which must mask
    /// each frame with a fresh key, encodes the message as usual.
    ///
    /// With permessage-deflate, a server whose compressor starts each message afresh
    /// (`send_no_context_takeover`) sends the message compressed once for all
    /// connections with the same settings. Under context takeover each connection's
    /// compressor has a history of its own that shared bytes cannot refer to, so the
    /// message goes uncompressed, which RFC 7692 allows at any time and which costs
    /// no connection any CPU.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        if self.role == Role::Client {
            return self.send_message(message.0.message.kind(), message.0.message.as_bytes());
        }
        self.check_open(message.0.frames.len())?;
        if self.open_message {
            return Err(Error::MessageInProgress);
        }
        match self.deflate.as_deref() {
            Some((deflate, _))
                if deflate.send_no_context_takeover && message.len() >= deflate.min_size =>
            {
                let frames = message.compressed_frames(deflate)?;
                self.flatten_tail();
                self.out.extend_from_slice(&frames);
                self.count(true);
            }
            _ => {
                self.flatten_tail();
                self.out.extend_from_slice(&message.0.frames);
                self.count(false);
            }
        }
        Ok(())
    }

    fn count(&mut self, compressed: bool) {
        self.messages += 1;
        self.compressed_messages += u64::from(compressed);
    }

    /// Queues one piece of a message sent in pieces, as one frame; `fin` on the last.
    ///
    /// The first piece opens the message with `kind`; until the piece with `fin`,
    /// [`Sender::send_message`] fails with [`Error::MessageInProgress`]. Control frames
    /// may still be sent between pieces.
    pub fn send_piece(&mut self, kind: MessageKind, payload: &[u8], fin: bool) -> Result<()> {
        self.check_open(payload.len())?;
        self.encode_piece(kind, payload, fin)
    }

    /// Queues the last piece of a message even past the write buffer's bound (by at
    /// most one piece), so that ending a message never has to be retried.
    pub(crate) fn send_last_piece(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        if self.closed {
            return Err(Error::AlreadyClosed);
        }
        self.encode_piece(kind, payload, true)
    }

    /// With permessage-deflate every message sent in pieces is compressed, piece by
    /// piece, since its size is not known when it starts.
    fn encode_piece(&mut self, kind: MessageKind, payload: &[u8], fin: bool) -> Result<()> {
        let first = !self.open_message;
        let opcode = if first {
            self.compressing = self.deflate.is_some();
            self.count(self.compressing);
            data_opcode(kind)
        } else {
            OpCode::Continuation
        };
        match (self.deflate.as_deref_mut(), self.compressing) {
            (Some((_, deflater)), true) => {
                let mut compressed = std::mem::take(&mut self.scratch);
                compressed.clear();
                deflater
                    .compress(payload, fin, &mut compressed)
                    .map_err(|_| Error::CompressionFailed)?;
                let sent = self.encode(opcode, fin, first, &compressed);
                self.scratch = compressed;
                sent?;
            }
            _ => self.encode(opcode, fin, false, payload)?,
        }
        self.open_message = !fin;
        Ok(())
    }

    /// Queues a ping; at most 125 bytes of payload.
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.control(OpCode::Ping, payload)
    }

    /// Queues a pong (an unsolicited one is a one-way heartbeat); at most 125 bytes.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.control(OpCode::Pong, payload)
    }

    /// Queues our Close. After it, every send fails with [`Error::AlreadyClosed`].
    ///
    /// The code must be [sendable](CloseCode::is_sendable) and the reason at most 123
    /// bytes; otherwise [`Error::InvalidSend`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        let body = CloseBody::new(code, reason).map_err(Error::InvalidSend)?;
        self.check_open(body.len())?;
        let mut payload = [0; 125];
        payload[..2].copy_from_slice(&code.as_u16().to_be_bytes());
        payload[2..body.len()].copy_from_slice(reason.as_bytes());
        self.encode(OpCode::Close, true, false, &payload[..body.len()])?;
        self.closed = true;
        Ok(())
    }

    /// Queues what the receiver said the protocol requires. Once our Close is out,
    /// pongs and further Closes are not sent.
    pub fn reply(&mut self, reply: Reply) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        match reply {
            Reply::Pong(payload) => self.pong(&payload),
            Reply::Close(code) => self.close(code, ""),
        }
    }

    /// Whether our Close has been queued (or the connection ended): nothing more is sent.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Records that the connection ended without our Close; sends fail from now on.
    pub fn mark_closed(&mut self) {
        self.closed = true;
    }

    /// Whether a message sent in pieces is unfinished.
    pub fn in_message(&self) -> bool {
        self.open_message
    }

    /// The encoded bytes to write next: all of them, or, while a payload queued by
    /// [`Sender::send_owned`] waits, those before it (then the payload, once they
    /// are written). [`Sender::pending_parts`] gives both at once,
    /// [`Sender::pending_len`] counts them.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        &self.out[self.written..]
    }

    /// Every byte waiting to be written, in order, in at most two slices (either
    /// may be empty): for a driver that writes vectored.
    #[inline]
    pub fn pending_parts(&self) -> [&[u8]; 2] {
        [&self.out[self.written..], &self.tail]
    }

    /// How many bytes wait to be written.
    #[inline]
    pub fn pending_len(&self) -> usize {
        self.out.len() - self.written + self.tail.len()
    }

    /// A payload queued by [`Sender::send_owned`] and since written whole (or
    /// copied): its buffer can take a message received next.
    #[inline]
    pub(crate) fn take_spent_tail(&mut self) -> Option<Vec<u8>> {
        self.spent_tail.take()
    }

    /// Moves an owned payload that waits into `out`, after what is pending there,
    /// so that frames queued next follow it.
    #[inline]
    fn flatten_tail(&mut self) {
        if !self.tail.is_empty() {
            self.flatten_tail_now();
        }
    }

    #[inline(never)]
    fn flatten_tail_now(&mut self) {
        let tail = std::mem::take(&mut self.tail);
        self.out.extend_from_slice(&tail);
        self.spent_tail = Some(tail);
    }

    /// Records that the first `n` pending bytes (in the order of
    /// [`Sender::pending_parts`]) were written.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        let in_out = n.min(self.out.len() - self.written);
        self.written += in_out;
        if self.written < self.out.len() {
            return;
        }
        if self.tail.is_empty() && self.parked.is_none() {
            self.written = 0;
            self.clear_out();
        } else {
            self.next_part(n - in_out);
        }
    }

    /// Empties the written write buffer, keeping one that suits small messages and
    /// giving back what a large one took.
    #[inline]
    fn clear_out(&mut self) {
        self.out.clear();
        if self.out.capacity() > RETAINED_WRITE_BUFFER {
            self.out = Vec::new();
        }
    }

    /// `out` is written, and an owned payload is involved: the payload `out` held
    /// is spent and the write buffer comes back, and a payload that waits becomes
    /// `out` (the write buffer parked meanwhile), `into_tail` of its bytes written.
    #[inline(never)]
    fn next_part(&mut self, mut into_tail: usize) {
        loop {
            self.written = 0;
            match self.parked.take() {
                Some(buffer) => {
                    self.spent_tail = Some(std::mem::replace(&mut self.out, buffer));
                }
                None => self.clear_out(),
            }
            if self.tail.is_empty() {
                return;
            }
            let payload = std::mem::take(&mut self.tail);
            self.parked = Some(std::mem::replace(&mut self.out, payload));
            self.written = into_tail.min(self.out.len());
            into_tail -= self.written;
            if self.written < self.out.len() {
                return;
            }
        }
    }

    /// The bytes the write buffer holds, in use or not: the sender's memory footprint.
    pub fn capacity(&self) -> usize {
        self.out.capacity() + self.tail.capacity() + self.parked.as_ref().map_or(0, Vec::capacity)
    }

    /// Gives the write buffer back to the allocator if nothing waits in it.
    pub fn release_buffer(&mut self) {
        if self.pending_len() == 0 {
            self.out = Vec::new();
            self.written = 0;
            self.parked = None;
        }
        self.spent_tail = None;
        self.scratch = Vec::new();
        if let Some((_, deflater)) = self.deflate.as_deref_mut() {
            deflater.release();
        }
    }

    /// The write buffer, when nothing waits in it, for another sender to
    /// [adopt](Sender::adopt_buffer).
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        if self.pending_len() > 0 || self.out.capacity() == 0 {
            return None;
        }
        self.written = 0;
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        Some(out)
    }

    /// Queues into `buf`'s storage (taking it) if this sender has none.
    pub(crate) fn adopt_buffer(&mut self, buf: &mut Vec<u8>) {
        if self.out.capacity() == 0 {
            self.out = std::mem::take(buf);
            self.out.clear();
            self.written = 0;
        }
    }

    /// Moves the pending bytes into `into` (which must be empty), as if written: for a
    /// driver that writes outside the lock it holds the sender under.
    pub fn take_pending(&mut self, into: &mut Vec<u8>) {
        debug_assert!(into.is_empty());
        self.flatten_tail();
        if self.written == 0 && self.parked.is_none() {
            std::mem::swap(&mut self.out, into);
        } else {
            into.extend_from_slice(self.pending());
            let n = self.pending_len();
            self.advance(n);
        }
    }

    /// Whether a send of `payload_len` more bytes fits in the write buffer now. A
    /// send that does not fit fails with [`Error::WriteBufferFull`]; a driver waits
    /// for the pending bytes to drain instead. An empty buffer takes anything.
    #[inline]
    pub fn fits(&self, payload_len: usize) -> bool {
        let pending = self.pending_len();
        pending == 0 || pending.saturating_add(payload_len) <= self.max_write_buffer
    }

    fn check_open(&self, payload_len: usize) -> Result<()> {
        if self.closed {
            return Err(Error::AlreadyClosed);
        }
        if !self.fits(payload_len) {
            return Err(Error::WriteBufferFull {
                max: self.max_write_buffer,
            });
        }
        Ok(())
    }

    fn control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if payload.len() > 125 {
            return Err(Error::InvalidSend(ws_frame::Error::ControlFrameTooLong(
                payload.len() as u64,
            )));
        }
        self.check_open(payload.len())?;
        self.encode(opcode, true, false, payload)
    }

    fn encode(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) -> Result<()> {
        self.flatten_tail();
        let mut head = [0; FrameHeader::MAX_LEN];
        let (head_len, mask) = self.frame_head(opcode, fin, rsv1, payload.len(), &mut head)?;
        self.out.reserve(head_len + payload.len());
        self.out.extend_from_slice(&head[..head_len]);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(key) = mask {
            ws_frame::apply_mask(&mut self.out[start..], key);
        }
        Ok(())
    }

    /// Writes a frame header for a payload of `len` bytes into `head`; answers its
    /// length and the key the payload is to be masked with (a client's). The header
    /// goes into the caller's array, not back by value: a copy of bytes just stored
    /// one by one stalls on the loads that move it.
    #[inline(always)]
    fn frame_head(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv1: bool,
        len: usize,
        head: &mut [u8; FrameHeader::MAX_LEN],
    ) -> Result<(usize, Option<[u8; 4]>)> {
        let mut header = FrameHeader::new(opcode, len as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        if self.role == Role::Client {
            header.mask = Some(self.keys.next()?);
        }
        Ok((header.encode(head), header.mask))
    }
}

/// A message encoded once, to be sent to many connections: a chat room's broadcast.
///
/// The frames (headers and payload, unmasked, fragmented at 1 MiB as by default)
/// are built a single time and shared; cloning is cheap. Servers send these bytes as
/// they are; see [`Sender::send_prepared`].
///
/// ```
/// use ws_stream::{Message, PreparedMessage};
///
/// let prepared = PreparedMessage::new(&Message::text("to everyone"));
/// assert_eq!(&prepared.frames()[..2], [0x81, 11]);
/// ```
#[derive(Debug, Clone)]
pub struct PreparedMessage(Arc<Prepared>);

#[derive(Debug)]
struct Prepared {
    message: Message,
    frames: Vec<u8>,
    /// The message compressed afresh and framed, once for each set of compressor
    /// settings that asked for it.
    compressed: Mutex<Vec<(CompressKey, Arc<[u8]>)>>,
}

/// What makes two compressors produce the same bytes from a fresh start.
type CompressKey = (u8, u8, u8);

impl PreparedMessage {
    /// Encodes `message` for servers to send.
    pub fn new(message: &Message) -> PreparedMessage {
        let mut sender = Sender::new(Role::Server, &Config::default());
        // A fresh sender is open and has nothing pending, so encoding cannot fail.
        sender.send_message(message.kind(), message.as_bytes()).ok();
        PreparedMessage(Arc::new(Prepared {
            message: message.clone(),
            frames: sender.out,
            compressed: Mutex::new(Vec::new()),
        }))
    }

    /// The payload's length.
    fn len(&self) -> usize {
        self.0.message.len()
    }

    /// The frames of the message compressed with `deflate`'s settings from a fresh
    /// start, made by the first connection that asks and shared by the rest.
    fn compressed_frames(&self, deflate: &Deflate) -> Result<Arc<[u8]>> {
        let key = (deflate.send_window_bits, deflate.mem_level, deflate.level);
        let mut cache = self
            .0
            .compressed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, frames)) = cache.iter().find(|(cached, _)| *cached == key) {
            return Ok(Arc::clone(frames));
        }
        let config = Config::default().deflate(Some(Deflate {
            send_no_context_takeover: true,
            ..*deflate
        }));
        let mut sender = Sender::new(Role::Server, &config);
        sender.send_message(self.0.message.kind(), self.0.message.as_bytes())?;
        let frames: Arc<[u8]> = sender.out.into();
        cache.push((key, Arc::clone(&frames)));
        Ok(frames)
    }

    /// The message it was prepared from.
    pub fn message(&self) -> &Message {
        &self.0.message
    }

    /// The encoded frames, as a server sends them.
    pub fn frames(&self) -> &[u8] {
        &self.0.frames
    }
}

fn data_opcode(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}

/// The write buffer capacity kept between messages: enough for a 64 KiB message
/// with its header, so that streams of such messages allocate nothing per send.
/// The least payload [`Sender::send_owned`] writes from its own buffer: below it, a
/// copy into the write buffer costs less than a second buffer to write from.
pub const OWNED_PAYLOAD_MIN: usize = 16 << 10;

const RETAINED_WRITE_BUFFER: usize = (64 << 10) + FrameHeader::MAX_LEN;

/// Masking keys: from the operating system's generator, 64 at a time, or from a
/// source the caller chose.
///
/// RFC 6455 section 5.3 wants keys an attacker cannot predict; a system call per frame
/// would cost more than encoding a small frame, so keys come from a pool refilled
/// with one call.
#[derive(Default)]
enum MaskKeys {
    #[default]
    Empty,
    Pool {
        pool: Box<[u8; 256]>,
        used: usize,
    },
    Custom(Box<dyn MaskKeySource>),
}

impl MaskKeys {
    #[inline(always)]
    fn next(&mut self) -> Result<[u8; 4]> {
        match self {
            MaskKeys::Custom(source) => source.next_key().map_err(Error::Io),
            MaskKeys::Pool { pool, used } if *used < pool.len() => {
                let key = [
                    pool[*used],
                    pool[*used + 1],
                    pool[*used + 2],
                    pool[*used + 3],
                ];
                *used += 4;
                Ok(key)
            }
            _ => self.refill(),
        }
    }

    /// Draws 64 keys from the operating system, into the pool it has if it has one
    /// (so that a client allocates nothing as it sends), and answers the first.
    #[cold]
    fn refill(&mut self) -> Result<[u8; 4]> {
        match self {
            MaskKeys::Pool { pool, used } => {
                getrandom::fill(&mut pool[..])
                    .map_err(|error| Error::Io(io::Error::other(error)))?;
                *used = 0;
            }
            _ => {
                let mut pool = Box::new([0; 256]);
                getrandom::fill(&mut pool[..])
                    .map_err(|error| Error::Io(io::Error::other(error)))?;
                *self = MaskKeys::Pool { pool, used: 0 };
            }
        }
        self.next()
    }
}

impl fmt::Debug for MaskKeys {
    /// Keeps the keys out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskKeys").finish_non_exhaustive()
    }
}

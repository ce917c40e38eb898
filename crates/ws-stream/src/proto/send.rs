use std::{fmt, io, ops::Deref, sync::Arc};

use ws_frame::{CloseBody, CloseCode, FrameHeader, OpCode};

use crate::{Config, Error, Message, MessageKind, Result, Role};

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
    max_send_frame_size: usize,
    max_write_buffer: usize,
    closed: bool,
    open_message: bool,
    keys: MaskKeys,
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
            max_send_frame_size: config.max_send_frame_size.max(1),
            max_write_buffer: config.max_write_buffer,
            closed: false,
            open_message: false,
            keys: MaskKeys::default(),
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
    pub fn send_message(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        self.check_open(payload.len())?;
        if self.open_message {
            return Err(Error::MessageInProgress);
        }
        let mut opcode = data_opcode(kind);
        let mut rest = payload;
        loop {
            let (frame, after) = rest.split_at(rest.len().min(self.max_send_frame_size));
            self.encode(opcode, after.is_empty(), frame)?;
            if after.is_empty() {
                return Ok(());
            }
            opcode = OpCode::Continuation;
            rest = after;
        }
    }

    /// Queues a message encoded once for many connections.
    ///
    /// A server copies the prepared frames as they are; a client, which must mask
    /// each frame with a fresh key, encodes the message as usual.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        if self.role == Role::Client {
            return self.send_message(message.0.message.kind(), message.0.message.as_bytes());
        }
        self.check_open(message.0.frames.len())?;
        if self.open_message {
            return Err(Error::MessageInProgress);
        }
        self.out.extend_from_slice(&message.0.frames);
        Ok(())
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

    fn encode_piece(&mut self, kind: MessageKind, payload: &[u8], fin: bool) -> Result<()> {
        let opcode = if self.open_message {
            OpCode::Continuation
        } else {
            data_opcode(kind)
        };
        self.encode(opcode, fin, payload)?;
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
        self.encode(OpCode::Close, true, &payload[..body.len()])?;
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

    /// The encoded bytes waiting to be written.
    pub fn pending(&self) -> &[u8] {
        &self.out[self.written..]
    }

    /// Records that the first `n` pending bytes were written.
    pub fn advance(&mut self, n: usize) {
        self.written = (self.written + n).min(self.out.len());
        if self.written == self.out.len() {
            self.written = 0;
            self.out.clear();
            // Keep a buffer that suits small messages; give back what a large one took.
            if self.out.capacity() > RETAINED_WRITE_BUFFER {
                self.out = Vec::new();
            }
        }
    }

    /// The bytes the write buffer holds, in use or not: the sender's memory footprint.
    pub fn capacity(&self) -> usize {
        self.out.capacity()
    }

    /// Gives the write buffer back to the allocator if nothing waits in it.
    pub fn release_buffer(&mut self) {
        if self.pending().is_empty() {
            self.out = Vec::new();
            self.written = 0;
        }
    }

    /// Moves the pending bytes into `into` (which must be empty), as if written: for a
    /// driver that writes outside the lock it holds the sender under.
    pub fn take_pending(&mut self, into: &mut Vec<u8>) {
        debug_assert!(into.is_empty());
        if self.written == 0 {
            std::mem::swap(&mut self.out, into);
        } else {
            into.extend_from_slice(self.pending());
            self.out.clear();
            self.written = 0;
        }
    }

    /// Whether a send of `payload_len` more bytes fits in the write buffer now. A
    /// send that does not fit fails with [`Error::WriteBufferFull`]; a driver waits
    /// for the pending bytes to drain instead. An empty buffer takes anything.
    pub fn fits(&self, payload_len: usize) -> bool {
        let pending = self.pending().len();
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
        self.encode(opcode, true, payload)
    }

    fn encode(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) -> Result<()> {
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.fin = fin;
        if self.role == Role::Client {
            header.mask = Some(self.keys.next()?);
        }
        let mut head = [0; FrameHeader::MAX_LEN];
        let head_len = header.encode(&mut head);
        self.out.reserve(head_len + payload.len());
        self.out.extend_from_slice(&head[..head_len]);
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(key) = header.mask {
            ws_frame::apply_mask(&mut self.out[start..], key);
        }
        Ok(())
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
}

impl PreparedMessage {
    /// Encodes `message` for servers to send.
    pub fn new(message: &Message) -> PreparedMessage {
        let mut sender = Sender::new(Role::Server, &Config::default());
        // A fresh sender is open and has nothing pending, so encoding cannot fail.
        sender.send_message(message.kind(), message.as_bytes()).ok();
        PreparedMessage(Arc::new(Prepared {
            message: message.clone(),
            frames: sender.out,
        }))
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
            _ => {
                let mut pool = Box::new([0; 256]);
                getrandom::fill(&mut pool[..])
                    .map_err(|error| Error::Io(io::Error::other(error)))?;
                *self = MaskKeys::Pool { pool, used: 0 };
                self.next()
            }
        }
    }
}

impl fmt::Debug for MaskKeys {
    /// Keeps the keys out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskKeys").finish_non_exhaustive()
    }
}

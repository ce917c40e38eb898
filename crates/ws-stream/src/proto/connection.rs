use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use ws_frame::CloseCode;

use super::recv::Step;
use super::{Incoming, Keepalive, MaskKeySource, PreparedMessage, Receiver, Sender, Timer};
use crate::utf8::{self, Utf8Validator};
use crate::{CloseFrame, Config, Error, Message, MessageKind, Result, Role};

/// One WebSocket connection's protocol, sans-IO: every rule of RFC 6455 after the
/// handshake, and every decision a driver would otherwise have to make.
///
/// A driver feeds it what the transport reads ([`Connection::read_buffer`] and
/// [`Connection::filled`], or [`Connection::receive`]), takes events out
/// ([`Connection::poll_event`]), writes what it asks ([`Connection::pending`],
/// [`Connection::advance`]), wakes it at its deadline ([`Connection::poll_timeout`],
/// [`Connection::handle_timeout`]), and does to the transport what
/// [`Connection::transport`] says. The connection never reads a clock: every call
/// that can start or reset a timer takes the current [`Instant`], and reads may come
/// without one while no timer runs ([`Connection::needs_time`]).
///
/// See the [module docs](super) for a whole driver loop.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    receiver: Receiver,
    sender: Sender,
    keepalive: Keepalive,
    close_timeout: Duration,
    close_deadline: Option<Instant>,
    write_timeout: Option<Duration>,
    /// When the write timeout ends, while the transport refuses our pending bytes.
    write_deadline: Option<Instant>,
    /// The close handshake is over and the client's wait for the server to end TCP is
    /// to start at the next [`Connection::handle_timeout`], which
    /// [`Connection::poll_timeout`] makes due at once: it ended on bytes that came
    /// without a time ([`Connection::filled_untimed`]), so `now` may be long past.
    close_timeout_unstarted: bool,
    /// The latest time the driver reported.
    now: Instant,
    /// Bytes came without a time since `now` was reported.
    now_is_stale: bool,
    close_request: Option<CloseRequest>,
    /// The message we send in pieces, if one is unfinished. Boxed: it is rare, and
    /// an idle connection should not carry its room.
    outgoing: Option<Box<Outgoing>>,
    /// The frame size [`Connection::write_message_data`] gathers bytes to.
    piece_size: usize,
    max_write_buffer: usize,
    /// How the connection ended, once it has.
    ended: Option<CloseFrame>,
    /// What [`Connection::poll_event`] reports next: how the connection ended, if
    /// that was not an event (a timeout, a close request, an abrupt end).
    outcome: Option<Error>,
    transport: Transport,
    bytes_received: u64,
    bytes_sent: u64,
}

/// Counters of what crossed a connection: for monitoring, and to see that compression
/// is at work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes read from the transport.
    pub bytes_received: u64,
    /// Bytes written to the transport.
    pub bytes_sent: u64,
    /// Messages from the peer that began.
    pub messages_received: u64,
    /// Of those, the ones that came compressed (RSV1 on their first frame).
    pub compressed_messages_received: u64,
    /// Messages we queued.
    pub messages_sent: u64,
    /// Of those, the ones we compressed.
    pub compressed_messages_sent: u64,
}

/// What a driver should do with the transport (the TCP or TLS stream) now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// Keep reading and writing.
    Open,
    /// The WebSocket connection is over; keep reading (the bytes are discarded) until
    /// the peer ends the stream. A client waits so for the server to end TCP first
    /// (RFC 6455 section 7.1.1), and the close timeout bounds the wait.
    AwaitEnd,
    /// Write what is pending, then shut the transport down: a server ends TCP first,
    /// and anyone gives up on a peer that broke the protocol or fell silent.
    Shutdown,
    /// The transport has ended; nothing more will happen.
    Closed,
}

impl Connection {
    /// A connection for the `role` end, with `config`'s limits and timers, started at `now`.
    pub fn new(role: Role, config: &Config, now: Instant) -> Connection {
        Connection {
            role,
            receiver: Receiver::new(role, config),
            sender: Sender::new(role, config),
            keepalive: Keepalive::new(config, now),
            close_timeout: config.close_timeout,
            close_deadline: None,
            write_timeout: config.write_timeout,
            write_deadline: None,
            close_timeout_unstarted: false,
            now,
            now_is_stale: false,
            close_request: None,
            outgoing: None,
            piece_size: config.max_send_frame_size.clamp(1, 64 << 10),
            max_write_buffer: config.max_write_buffer,
            ended: None,
            outcome: None,
            transport: Transport::Open,
            bytes_received: 0,
            bytes_sent: 0,
        }
    }

    /// What has crossed the connection so far.
    pub fn stats(&self) -> Stats {
        Stats {
            bytes_received: self.bytes_received,
            bytes_sent: self.bytes_sent,
            messages_received: self.receiver.messages,
            compressed_messages_received: self.receiver.compressed_messages,
            messages_sent: self.sender.messages,
            compressed_messages_sent: self.sender.compressed_messages,
        }
    }

    /// Draws a client's masking keys from `source` instead of the operating system's
    /// generator: for tests that need the same bytes on the wire every run.
    pub fn set_mask_key_source(&mut self, source: impl MaskKeySource + 'static) {
        self.sender.set_mask_key_source(Box::new(source));
    }

    /// Lets another thread close the connection; see [`CloseRequest`].
    pub fn set_close_request(&mut self, request: CloseRequest) {
        self.close_request = Some(request);
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    // Bytes in.

    /// Room to read the transport into; report the bytes read with [`Connection::filled`].
    #[inline]
    pub fn read_buffer(&mut self) -> &mut [u8] {
        self.receiver.buffer_mut()
    }

    /// Records that `n` bytes were read into [`Connection::read_buffer`] at `now`.
    #[inline]
    pub fn filled(&mut self, n: usize, now: Instant) {
        self.receiver.filled(n);
        self.bytes_received += n as u64;
        self.heard(n, now);
    }

    /// Records that `n` bytes were read into [`Connection::read_buffer`], at a time
    /// that does not matter because no timer runs ([`Connection::needs_time`] is
    /// false): a driver saves a clock read per read. A timer that starts from these
    /// bytes (the client's wait for the server to end TCP) asks for the time through
    /// [`Connection::poll_timeout`], due at once.
    #[inline]
    pub fn filled_untimed(&mut self, n: usize) {
        self.receiver.filled(n);
        self.bytes_received += n as u64;
        self.heard_untimed(n);
    }

    /// Copies bytes read elsewhere in (a TLS plaintext buffer, bytes read past the
    /// HTTP head). Poll events until none is left before giving more.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) {
        if self.ended.is_some() {
            self.set_now(now);
            return;
        }
        self.receiver.receive(bytes);
        self.bytes_received += bytes.len() as u64;
        self.heard(bytes.len(), now);
    }

    /// Copies bytes in as [`Connection::receive`] does, at a time that does not
    /// matter, as for [`Connection::filled_untimed`].
    pub fn receive_untimed(&mut self, bytes: &[u8]) {
        if self.ended.is_some() {
            return;
        }
        self.receiver.receive(bytes);
        self.bytes_received += bytes.len() as u64;
        self.heard_untimed(bytes.len());
    }

    /// Records that the transport ended (end of stream, or a reset) at `now`. Before
    /// a Close that is an abrupt end, reported as 1006.
    pub fn transport_ended(&mut self, now: Instant) {
        self.set_now(now);
        // A server shutting down wakes a blocked read by ending it: its request wins.
        self.honour_close_request();
        match self.transport {
            Transport::Open if self.ended.is_none() => {
                let frame = CloseFrame::new(CloseCode::ABNORMAL, "");
                self.outcome = Some(Error::Closed(frame.clone()));
                self.end(frame);
                self.transport = Transport::Closed;
            }
            Transport::Open | Transport::AwaitEnd => self.transport = Transport::Closed,
            // Still to shut down our side, or done.
            Transport::Shutdown | Transport::Closed => {}
        }
    }

    /// Records that the transport failed at `now`; the driver reports its error. The
    /// connection ended abruptly (1006).
    pub fn transport_failed(&mut self, now: Instant) {
        let outcome = self.outcome.take();
        self.transport_ended(now);
        self.outcome = outcome;
        self.transport = Transport::Closed;
    }

    /// Records that the driver shut the transport down, as [`Transport::Shutdown`] asked.
    pub fn transport_shut_down(&mut self) {
        self.transport = Transport::Closed;
    }

    #[inline]
    fn set_now(&mut self, now: Instant) {
        self.now = now;
        self.now_is_stale = false;
    }

    /// Bytes came at a time not given: nothing but the client's close timeout could
    /// start from it, and that waits for a time of its own.
    #[inline]
    fn heard_untimed(&mut self, n: usize) {
        self.now_is_stale = true;
        if self.ended.is_some() {
            self.receiver.discard_buffered();
        } else if n > 0 && self.keepalive.is_enabled() {
            // Misuse: the time the connection last had is the best there is.
            self.keepalive.heard(self.now);
        }
    }

    #[inline]
    fn heard(&mut self, n: usize, now: Instant) {
        self.set_now(now);
        if self.ended.is_some() {
            // Nothing is read after the end: what a client reads while it waits for
            // the server to end the stream is dropped, not kept.
            self.receiver.discard_buffered();
        } else if n > 0 {
            self.keepalive.heard(now);
        }
    }

    // Events out.

    /// The next event, or `None` when more bytes are needed.
    ///
    /// Pings are answered, the peer's Close is echoed, and a violation fails with the
    /// matching [`Error`] after queueing a Close with its code: the bytes to write are
    /// in [`Connection::pending`] either way. Once the connection has ended, the next
    /// call reports how if no event did ([`Error::Closed`], [`Error::CloseTimeout`],
    /// [`Error::KeepaliveTimeout`]); later calls fail with [`Error::AlreadyClosed`].
    pub fn poll_event(&mut self) -> Result<Option<Incoming<'_>>> {
        self.poll_event_at_most(usize::MAX)
    }

    /// Like [`Connection::poll_event`], handing on at most `max` bytes of message data
    /// at once (for a reader with a buffer of that size).
    // Always inlined: left out of line (as `#[inline]` let it be in the echo bench),
    // its 40-byte result went through memory once more, stored in 8-byte pieces and
    // reloaded in 16-byte ones, a store-forwarding stall per message (`perf annotate`).
    #[inline(always)]
    pub fn poll_event_at_most(&mut self, max: usize) -> Result<Option<Incoming<'_>>> {
        self.honour_close_request();
        if let Some(outcome) = self.outcome.take() {
            return Err(outcome);
        }
        if self.ended.is_some() {
            return Err(Error::AlreadyClosed);
        }
        let step = match self.receiver.poll_step(max) {
            // The common case, taken apart where it lands: a data message queues no
            // reply and ends nothing (and every earlier step's reply was taken below).
            Ok(Some(Step::Message(message))) => {
                debug_assert!(!self.receiver.has_reply(), "a reply left behind a message");
                return Ok(Some(Incoming::Message(message)));
            }
            Ok(Some(step)) => step,
            Ok(None) => return Ok(None),
            Err(error) => {
                self.receiver.take_reply();
                self.fail(&error);
                return Err(error);
            }
        };
        if let Some(reply) = self.receiver.take_reply() {
            // A pong that does not fit in a full write buffer is dropped: a peer that
            // floods us with pings while it does not read cannot grow our memory.
            self.sender.reply(reply).ok();
        }
        if let Step::Close(_) = step {
            self.peer_closed(&step);
        }
        Ok(Some(self.receiver.view(step)))
    }

    /// Deliver messages that begin from now on in pieces ([`Incoming::MessageStart`],
    /// [`Incoming::MessageData`], [`Incoming::MessageEnd`]) instead of whole.
    pub fn set_streaming(&mut self, streaming: bool) {
        self.receiver.set_streaming(streaming);
    }

    /// Skips the rest of the message being delivered in pieces (its UTF-8 is still
    /// checked, and the connection still fails on a violation).
    pub fn skip_message(&mut self) {
        self.receiver.skip_message();
    }

    /// Whether the message in progress is being skipped.
    pub fn is_skipping(&self) -> bool {
        self.receiver.is_skipping()
    }

    /// Whether a message from the peer has begun and not yet ended.
    pub fn in_incoming_message(&self) -> bool {
        self.receiver.in_message()
    }

    // Our side.

    /// Queues a message; text must be UTF-8 ([`Error::InvalidText`] otherwise).
    pub fn send_message(&mut self, kind: MessageKind, payload: &[u8]) -> Result<()> {
        if kind == MessageKind::Text && !utf8::is_valid(payload) {
            return Err(Error::InvalidText);
        }
        self.check_can_send_message()?;
        self.sender.send_message(kind, payload)
    }

    /// Queues a message.
    pub fn send(&mut self, message: &Message) -> Result<()> {
        self.check_can_send_message()?;
        // A `Message::Text` holds a `String`, UTF-8 by construction.
        self.sender.send_message(message.kind(), message.as_bytes())
    }

    /// Queues a message given away: a large payload (at least
    /// [`OWNED_PAYLOAD_MIN`](super::OWNED_PAYLOAD_MIN) bytes, sent in one
    /// uncompressed frame) is written from its own buffer instead of being copied,
    /// and once written that buffer takes the next message received (as
    /// [`Connection::recycle`] would). Otherwise it is copied as by
    /// [`Connection::send`], and its buffer takes the next message received at once.
    pub fn send_owned(&mut self, message: Message) -> Result<()> {
        self.check_can_send_message()?;
        let sent = self.sender.send_owned(message);
        self.reclaim_sent_payload();
        sent
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.check_can_send_message()?;
        self.sender.send_message(MessageKind::Text, text.as_bytes())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.check_can_send_message()?;
        self.sender.send_message(MessageKind::Binary, data)
    }

    /// Queues a message encoded once for many connections.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<()> {
        self.check_can_send_message()?;
        self.sender.send_prepared(message)
    }

    fn check_can_send_message(&mut self) -> Result<()> {
        self.check_can_send()?;
        if self.in_outgoing_message() {
            return Err(Error::MessageInProgress);
        }
        Ok(())
    }

    /// Queues one piece of a message sent in pieces, as one frame; `fin` on the last.
    ///
    /// Text is checked as UTF-8 piece by piece: a piece that makes it invalid, or a
    /// last piece that leaves a sequence open, fails with [`Error::InvalidText`] and
    /// is not sent. Control frames may go between pieces; other messages may not.
    pub fn send_piece(&mut self, kind: MessageKind, payload: &[u8], fin: bool) -> Result<()> {
        self.check_can_send()?;
        if self
            .outgoing
            .as_ref()
            .is_some_and(|outgoing| outgoing.started)
        {
            return Err(Error::MessageInProgress);
        }
        let mut outgoing = self
            .outgoing
            .take()
            .unwrap_or_else(|| Box::new(Outgoing::new(kind)));
        let sent = outgoing
            .check(payload, fin)
            .and_then(|()| self.sender.send_piece(outgoing.kind, payload, fin));
        match sent {
            Ok(()) => outgoing.commit(),
            Err(_) => outgoing.rollback(),
        }
        // The check goes on with the next piece while the message is open.
        if self.sender.in_message() {
            self.outgoing = Some(outgoing);
        }
        sent
    }

    /// Starts a message sent as a stream of bytes: [`Connection::write_message_data`],
    /// then [`Connection::finish_message`].
    pub fn start_message(&mut self, kind: MessageKind) -> Result<()> {
        self.check_can_send()?;
        if self.in_outgoing_message() {
            return Err(Error::MessageInProgress);
        }
        let mut outgoing = Box::new(Outgoing::new(kind));
        outgoing.started = true;
        self.outgoing = Some(outgoing);
        Ok(())
    }

    /// Adds bytes to the message begun with [`Connection::start_message`], answering
    /// how many it took: at most what completes the next frame (64 KiB, or
    /// `max_send_frame_size` if smaller), which it then queues.
    ///
    /// Text is checked as it comes: bytes that make it invalid fail with
    /// [`Error::InvalidText`]. On any error nothing was taken, so the caller may go on
    /// with other bytes; [`Error::WriteBufferFull`] asks it to write pending bytes first.
    pub fn write_message_data(&mut self, data: &[u8]) -> Result<usize> {
        self.check_can_send()?;
        let piece_size = self.piece_size;
        let Some(outgoing) = self.outgoing.as_mut().filter(|o| o.started) else {
            return Err(Error::NoMessageStarted);
        };
        let data = &data[..data.len().min(piece_size - outgoing.buf.len())];
        let completes = outgoing.buf.len() + data.len() == piece_size;
        if completes && !self.sender.fits(piece_size) {
            return Err(Error::WriteBufferFull {
                max: self.max_write_buffer,
            });
        }
        outgoing.check(data, false)?;
        outgoing.commit();
        if completes && outgoing.buf.is_empty() {
            // A whole frame's worth in one call: no need to gather it first.
            self.sender.send_piece(outgoing.kind, data, false)?;
        } else {
            outgoing.buf.extend_from_slice(data);
            if completes {
                self.sender
                    .send_piece(outgoing.kind, &outgoing.buf, false)?;
                outgoing.buf.clear();
            }
        }
        Ok(data.len())
    }

    /// Queues what [`Connection::write_message_data`] has gathered as a frame that
    /// does not end the message.
    pub fn flush_message_data(&mut self) -> Result<()> {
        self.check_can_send()?;
        let Some(outgoing) = self.outgoing.as_mut().filter(|o| !o.buf.is_empty()) else {
            return Ok(());
        };
        self.sender
            .send_piece(outgoing.kind, &outgoing.buf, false)?;
        outgoing.buf.clear();
        Ok(())
    }

    /// Ends the message begun with [`Connection::start_message`]: queues what is
    /// gathered as the final frame, even past the write buffer's bound (by at most one
    /// frame), so that it never needs a retry. Text may not end inside a UTF-8
    /// sequence ([`Error::InvalidText`]).
    pub fn finish_message(&mut self) -> Result<()> {
        self.check_can_send()?;
        let Some(outgoing) = self.outgoing.as_mut().filter(|o| o.started) else {
            return Err(Error::NoMessageStarted);
        };
        outgoing.check(&[], true)?;
        self.sender.send_last_piece(outgoing.kind, &outgoing.buf)?;
        self.outgoing = None;
        Ok(())
    }

    /// Whether a message sent in pieces or as a stream of bytes is unfinished.
    pub fn in_outgoing_message(&self) -> bool {
        self.sender.in_message() || self.outgoing.is_some()
    }

    /// Queues a ping (at most 125 bytes); the pong comes back as an event.
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.check_can_send()?;
        self.sender.ping(payload)
    }

    /// Queues an unsolicited pong (at most 125 bytes), a one-way heartbeat.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.check_can_send()?;
        self.sender.pong(payload)
    }

    /// Queues our Close with `code` and `reason` at `now`, and starts the close
    /// timeout: if the peer's Close does not arrive within it, the connection ends
    /// with [`Error::CloseTimeout`]. Events keep coming until the peer's Close.
    ///
    /// The code must be [sendable](CloseCode::is_sendable) and the reason at most 123
    /// bytes, or it fails with [`Error::InvalidSend`] and nothing changes.
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) -> Result<()> {
        self.set_now(now);
        self.check_can_send()?;
        self.sender.close(code, reason)?;
        self.close_deadline = Some(now + self.close_timeout);
        Ok(())
    }

    /// Whether our Close is queued or the connection has ended: nothing more can be sent.
    pub fn is_send_closed(&self) -> bool {
        self.sender.is_closed() || self.ended.is_some()
    }

    fn check_can_send(&mut self) -> Result<()> {
        self.honour_close_request();
        if self.is_send_closed() {
            return Err(Error::AlreadyClosed);
        }
        Ok(())
    }

    // Bytes out.

    /// The bytes to write to the transport next: all that wait, or, while a
    /// payload queued by [`Connection::send_owned`] waits, those before it and then
    /// the payload. Write them and report with [`Connection::advance`] until
    /// [`Connection::buffered_amount`] is 0.
    #[inline]
    pub fn pending(&self) -> &[u8] {
        self.sender.pending()
    }

    /// Every byte waiting to be written, in order, as two slices (either may be
    /// empty), for a vectored write; report what it wrote with
    /// [`Connection::advance`].
    #[inline]
    pub fn pending_parts(&self) -> [&[u8]; 2] {
        self.sender.pending_parts()
    }

    /// Records that the first `n` pending bytes were written.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.bytes_sent += n.min(self.sender.pending_len()) as u64;
        self.sender.advance(n);
        if n > 0 {
            self.write_deadline = None;
        }
        self.reclaim_sent_payload();
    }

    /// Hands the buffer of an owned payload written whole to the receiver, for the
    /// next message to be read into: an echo allocates nothing per message.
    #[inline]
    fn reclaim_sent_payload(&mut self) {
        if let Some(buffer) = self.sender.take_spent_tail() {
            self.receiver.recycle(Message::Binary(buffer));
        }
    }

    /// Tells that the transport took none of the pending bytes at `now` (a write
    /// would block): the write timeout, if configured, runs from the first such report
    /// until a write makes progress ([`Connection::advance`]).
    pub fn write_blocked(&mut self, now: Instant) {
        self.set_now(now);
        if self.write_deadline.is_none() && self.sender.pending_len() > 0 {
            self.write_deadline = self.write_timeout.map(|timeout| now + timeout);
        }
    }

    /// Moves the pending bytes into `into` (which must be empty), as if written: for
    /// a driver that writes them outside a lock it holds the connection under.
    pub fn take_pending(&mut self, into: &mut Vec<u8>) {
        self.bytes_sent += self.sender.pending_len() as u64;
        self.sender.take_pending(into);
        self.write_deadline = None;
        self.reclaim_sent_payload();
    }

    /// How many bytes wait to be written.
    pub fn buffered_amount(&self) -> usize {
        self.sender.pending_len()
    }

    /// Whether a message of `len` bytes fits in the write buffer now. A driver that
    /// can wait writes pending bytes until it does; a send that does not fit fails
    /// with [`Error::WriteBufferFull`]. Anything fits an empty buffer.
    #[inline]
    pub fn fits(&self, len: usize) -> bool {
        self.sender.fits(len)
    }

    // Time.

    /// When [`Connection::handle_timeout`] next has something to do, if ever: a
    /// keep-alive ping or expiry, the end of the close timeout, or of the write
    /// timeout while writes are refused.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timers = match self.transport {
            Transport::Open if self.ended.is_none() => {
                earliest(self.keepalive.deadline(), self.close_deadline)
            }
            Transport::AwaitEnd => self.await_end_deadline(),
            _ => None,
        };
        match self.transport {
            Transport::Closed => None,
            _ => earliest(timers, self.write_deadline),
        }
    }

    /// Whether the time at which bytes arrive matters: while a timer runs (keep-alive
    /// is configured, or a close timeout is running). When it does not, a driver may
    /// report reads with [`Connection::filled_untimed`] or
    /// [`Connection::receive_untimed`] and save a clock read per read, which costs
    /// tens of nanoseconds on some machines: a sizeable part of a small message's
    /// round trip.
    #[inline]
    pub fn needs_time(&self) -> bool {
        self.keepalive.is_enabled() || self.close_deadline.is_some() || self.close_timeout_unstarted
    }

    /// How long a blocking read may wait before a timer needs attention, at `now`.
    ///
    /// While the peer is heard from regularly this stays the same, so a driver that
    /// sets it as a socket's read timeout calls into the kernel only when it changes.
    pub fn read_timeout(&self, now: Instant) -> Option<Duration> {
        let until = |deadline: Instant| {
            deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1))
        };
        match self.transport {
            Transport::Open if self.ended.is_none() => {
                let keepalive = self.keepalive.read_timeout(now);
                match (keepalive, self.close_deadline.map(until)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Transport::AwaitEnd => self.await_end_deadline().map(until),
            _ => None,
        }
    }

    /// Acts on the timers due at `now`: sends a keep-alive ping, gives up on a silent
    /// peer (our Close with 1011, then [`Error::KeepaliveTimeout`]), ends a close
    /// handshake the peer did not finish in time ([`Error::CloseTimeout`]), or gives up
    /// on a peer that stopped reading ([`Error::WriteTimeout`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.set_now(now);
        if self.write_deadline.is_some_and(|deadline| now >= deadline) {
            self.writes_timed_out();
            return;
        }
        self.honour_close_request();
        if std::mem::take(&mut self.close_timeout_unstarted) {
            self.close_deadline = Some(now + self.close_timeout);
            return;
        }
        let close_due = self.close_deadline.is_some_and(|deadline| now >= deadline);
        match self.transport {
            Transport::AwaitEnd if close_due => self.transport = Transport::Shutdown,
            Transport::Open if self.ended.is_none() && close_due => {
                self.end(CloseFrame::new(CloseCode::ABNORMAL, ""));
                self.outcome = Some(Error::CloseTimeout);
                self.transport = Transport::Shutdown;
            }
            Transport::Open if self.ended.is_none() => match self.keepalive.poll(now) {
                // After our Close nothing more may be sent; the close timeout runs.
                Some(Timer::Ping) if !self.sender.is_closed() => {
                    // A full write buffer already tells the peer is slow; skip this one.
                    self.sender.ping(b"").ok();
                }
                Some(Timer::Expired) => {
                    const REASON: &str = "keepalive timeout";
                    self.sender.close(CloseCode::INTERNAL_ERROR, REASON).ok();
                    self.end(CloseFrame::new(CloseCode::INTERNAL_ERROR, REASON));
                    self.outcome = Some(Error::KeepaliveTimeout);
                    self.transport = Transport::Shutdown;
                }
                _ => {}
            },
            _ => {}
        }
    }

    // The end.

    /// What to do with the transport now.
    #[inline]
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// How the connection ended, once it has: the peer's Close (1005 if it gave no
    /// code), the code we sent when the peer broke the protocol or a close was
    /// requested, 1011 after a keep-alive expiry, or 1006 if the transport ended or
    /// the close timeout passed without a Close.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.ended.as_ref()
    }

    /// Whether the connection has ended: no more events, nothing more sent.
    #[inline]
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// The heap bytes the read and write buffers hold, used or not.
    pub fn buffer_capacity(&self) -> usize {
        self.receiver.capacity() + self.sender.capacity()
    }

    /// Gives the read and write buffers back to the allocator if they hold nothing:
    /// for a driver about to wait on an idle transport, so that idle connections
    /// cost no buffers. They are allocated again, small, when traffic resumes.
    pub fn release_buffers(&mut self) {
        self.receiver.release_buffer();
        self.sender.release_buffer();
    }

    /// The peer stopped reading: what it would not take is dropped, and so is it.
    fn writes_timed_out(&mut self) {
        self.write_deadline = None;
        let mut dropped = Vec::new();
        self.sender.take_pending(&mut dropped);
        if self.ended.is_none() {
            self.end(CloseFrame::new(CloseCode::ABNORMAL, ""));
            self.outcome = Some(Error::WriteTimeout);
        }
        if self.transport != Transport::Closed {
            self.transport = Transport::Shutdown;
        }
    }

    /// Like [`Connection::release_buffers`], but the read and write buffers go into
    /// `spare` (each when its slot there is empty) instead of to the allocator, for the
    /// next connection to [reuse](Connection::reuse_buffers): a driver keeps one per
    /// thread, so that a busy thread allocates no buffer per message while idle
    /// connections still hold none.
    pub fn release_buffers_to(&mut self, spare: &mut SpareBuffers) {
        if spare.read.is_empty()
            && let Some(buf) = self.receiver.take_buffer()
            && buf.len() <= SpareBuffers::MAX_READ
        {
            spare.read = buf;
        }
        if spare.write.capacity() == 0
            && let Some(buf) = self.sender.take_buffer()
        {
            spare.write = buf;
        }
        if spare.message.capacity() == 0 {
            spare.message = self.receiver.take_spare_message();
        }
        self.release_buffers();
    }

    /// Takes `spare`'s buffers for whichever of its own the connection lacks; see
    /// [`Connection::release_buffers_to`].
    pub fn reuse_buffers(&mut self, spare: &mut SpareBuffers) {
        self.receiver.adopt_buffer(&mut spare.read);
        self.sender.adopt_buffer(&mut spare.write);
        self.receiver.adopt_spare_message(&mut spare.message);
    }

    /// Gives back the buffer of a received message (or of any message) for the next
    /// message to be received into; see [`Receiver::recycle`]. A loop that receives,
    /// answers and recycles each message allocates nothing per message.
    pub fn recycle(&mut self, message: Message) {
        self.receiver.recycle(message);
    }

    /// The peer's Close arrived (our answer is queued): the connection is over.
    fn peer_closed(&mut self, step: &Step) {
        let frame = match self.receiver.close_body(step) {
            Some(body) => CloseFrame::new(body.code, body.reason),
            None => CloseFrame::new(CloseCode::NO_STATUS_RECEIVED, ""),
        };
        self.end(frame);
        self.after_close_handshake();
    }

    /// The peer broke the protocol: our Close carries the code and a short reason.
    fn fail(&mut self, error: &Error) {
        let code = error.close_code().unwrap_or(CloseCode::INTERNAL_ERROR);
        let reason = close_reason(error);
        if !self.sender.is_closed() {
            // Unsendable codes never come out of `close_code`; a full buffer still
            // ends the connection, without our Close.
            self.sender.close(code, &reason).ok();
        }
        self.end(CloseFrame::new(code, reason));
        self.after_close_handshake();
    }

    /// A server ends TCP at once; a client gives the server the close timeout to.
    fn after_close_handshake(&mut self) {
        self.transport = match self.role {
            Role::Server => Transport::Shutdown,
            Role::Client => {
                // Our own Close may have started the timeout already. After bytes
                // that came without a time, it starts at a time read for it.
                if self.close_deadline.is_none() {
                    match self.now_is_stale {
                        true => self.close_timeout_unstarted = true,
                        false => self.close_deadline = Some(self.now + self.close_timeout),
                    }
                }
                Transport::AwaitEnd
            }
        };
    }

    /// When the client's wait for the server to end TCP runs out: due at once while
    /// it is still to start, to get the time it starts at.
    fn await_end_deadline(&self) -> Option<Instant> {
        match self.close_timeout_unstarted {
            true => Some(self.now),
            false => self.close_deadline,
        }
    }

    /// Closes if another thread asked, unless the connection is already closing.
    ///
    /// Inlined down to the check for a request, which every poll and send makes.
    #[inline]
    fn honour_close_request(&mut self) {
        if self
            .close_request
            .as_ref()
            .is_some_and(|request| request.requested().is_some())
        {
            self.close_as_requested();
        }
    }

    #[cold]
    fn close_as_requested(&mut self) {
        let Some(code) = self
            .close_request
            .as_ref()
            .and_then(CloseRequest::requested)
        else {
            return;
        };
        if self.ended.is_some() {
            return;
        }
        if !self.sender.is_closed() {
            self.sender.close(code, "").ok();
        }
        let frame = CloseFrame::new(code, "");
        self.outcome = Some(Error::Closed(frame.clone()));
        self.end(frame);
        self.after_close_handshake();
    }

    fn end(&mut self, frame: CloseFrame) {
        self.ended = Some(frame);
        self.sender.mark_closed();
    }
}

/// A message we send in pieces: its kind, the bytes gathered for its next frame, and
/// the UTF-8 check of its text.
#[derive(Debug)]
struct Outgoing {
    kind: MessageKind,
    buf: Vec<u8>,
    utf8: Option<Utf8Validator>,
    /// The check's state before the bytes being sent, to go back to if they are not.
    before: Option<Utf8Validator>,
    /// Begun with `start_message`, so it ends only with `finish_message`.
    started: bool,
}

impl Outgoing {
    fn new(kind: MessageKind) -> Outgoing {
        let utf8 = (kind == MessageKind::Text).then(Utf8Validator::default);
        Outgoing {
            kind,
            buf: Vec::new(),
            utf8,
            before: utf8,
            started: false,
        }
    }

    /// Checks the next bytes of text, and that the text is whole if `fin`.
    fn check(&mut self, bytes: &[u8], fin: bool) -> Result<()> {
        self.before = self.utf8;
        if let Some(utf8) = &mut self.utf8 {
            let checked = utf8.feed(bytes).and_then(|()| match fin {
                true => utf8.finish(),
                false => Ok(()),
            });
            if checked.is_err() {
                self.rollback();
                return Err(Error::InvalidText);
            }
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.before = self.utf8;
    }

    fn rollback(&mut self) {
        self.utf8 = self.before;
    }
}

/// The reason our Close gives for a violation: the error's text, cut to the 123 bytes
/// a Close frame has room for.
fn close_reason(error: &Error) -> String {
    let mut reason = error.to_string();
    if reason.len() > 123 {
        let mut cut = 123;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Asks a connection to close from another thread: a server shutting down, say.
///
/// The connection acts at its next event poll, send or timer; a blocking driver
/// wakes a read blocked on a socket when the reading side is shut down
/// (`TcpStream::shutdown(Shutdown::Read)`) after the request, and an async driver
/// registers its task ([`CloseRequest::register`]) to be woken by the request. It
/// then sends a Close with the code, ends, and reports [`Error::Closed`] with that
/// code.
///
/// ```
/// use std::io::Cursor;
/// use ws_stream::{CloseCode, CloseRequest, Stream};
///
/// let mut stream = Stream::new(Cursor::new(Vec::new()), false);
/// let request = CloseRequest::new();
/// stream.set_close_request(request.clone());
/// request.request(CloseCode::GOING_AWAY);
/// let error = stream.read_message().unwrap_err();
/// assert!(matches!(error, ws_stream::Error::Closed(frame) if frame.code == CloseCode::GOING_AWAY));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CloseRequest(Arc<RequestState>);

#[derive(Debug, Default)]
struct RequestState {
    /// The code asked for; 0 until a request is made.
    code: AtomicU16,
    /// The task to wake when it is.
    waker: Mutex<Option<Waker>>,
}

impl CloseRequest {
    /// A request not yet made.
    pub fn new() -> CloseRequest {
        CloseRequest::default()
    }

    /// Asks every connection holding this request to close with `code`; the first
    /// request made wins. Wakes the task registered with [`CloseRequest::register`].
    pub fn request(&self, code: CloseCode) {
        self.0
            .code
            .compare_exchange(0, code.as_u16(), Ordering::AcqRel, Ordering::Acquire)
            .ok();
        let waker = self
            .0
            .waker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The code asked for, if a request was made.
    pub fn requested(&self) -> Option<CloseCode> {
        match self.0.code.load(Ordering::Acquire) {
            0 => None,
            code => Some(CloseCode::new(code)),
        }
    }

    /// For async drivers: wakes `waker` when the request is made, in place of the
    /// task registered before. One task is kept, so each async connection needs a
    /// request of its own; blocking connections may share one.
    pub fn register(&self, waker: &Waker) {
        let mut slot = self
            .0
            .waker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.as_ref() {
            Some(known) if known.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }
}

/// Read, write and message buffers that idle connections gave back, for the next
/// connection to use instead of allocating its own; see
/// [`Connection::release_buffers_to`]. It holds at most one of each, the read buffer
/// at most [`SpareBuffers::MAX_READ`] bytes, the write buffer what a sender keeps
/// between messages (64 KiB and a header) and the message buffer what
/// [`Connection::recycle`] keeps (256 KiB).
#[derive(Debug, Default)]
pub struct SpareBuffers {
    read: Vec<u8>,
    write: Vec<u8>,
    message: Vec<u8>,
}

impl SpareBuffers {
    /// The largest read buffer kept: one grown for 64 KiB messages fits, so that
    /// connections echoing them do not grow a buffer anew for each.
    pub const MAX_READ: usize = 256 << 10;

    /// None kept yet.
    pub const fn new() -> SpareBuffers {
        SpareBuffers {
            read: Vec::new(),
            write: Vec::new(),
            message: Vec::new(),
        }
    }

    /// The heap bytes kept.
    pub fn capacity(&self) -> usize {
        self.read.capacity() + self.write.capacity() + self.message.capacity()
    }
}

use std::time::Duration;

/// Which end of the connection this endpoint is; it decides who masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that opened the connection: masks every frame it sends.
    Client,
    /// The end that accepted it: never masks, and demands masked frames.
    Server,
}

impl Role {
    /// `Client` for `true`, `Server` for `false`: the meaning of the `is_client`
    /// flag in `Stream::new(socket, is_client)`.
    pub fn from_is_client(is_client: bool) -> Role {
        if is_client {
            Role::Client
        } else {
            Role::Server
        }
    }
}

/// Limits, fragmentation and timers of a connection.
///
/// Every field has a documented default chosen to match what tungstenite and
/// python-websockets users know; change them with the builder-style setters.
///
/// ```
/// use std::time::Duration;
/// use ws_stream::Config;
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .ping_interval(Some(Duration::from_secs(20)))
///     .idle_timeout(Some(Duration::from_secs(40)));
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Config {
    /// The largest message [`read_message`](crate::Stream::read_message) assembles.
    ///
    /// Default: 64 MiB, as tungstenite. Checked from each frame header before its
    /// payload is buffered, so a hostile peer cannot make the connection hold more.
    /// A [`MessageReader`](crate::MessageReader) does not hold the message and is not
    /// bound by it.
    pub max_message_size: usize,
    /// The largest frame accepted from the peer.
    ///
    /// Default: 16 MiB, as tungstenite.
    pub max_frame_size: usize,
    /// Messages sent with more bytes than this go out as several frames of at most
    /// this size.
    ///
    /// Default: 1 MiB, python-websockets' default message limit, so that even a peer
    /// with a small per-frame limit accepts our frames, while a frame header per MiB
    /// costs nothing measurable.
    pub max_send_frame_size: usize,
    /// How many bytes may wait to be written before sending fails with
    /// [`Error::WriteBufferFull`](crate::Error::WriteBufferFull).
    ///
    /// Default: 16 MiB. Blocking sends flush before returning, so only a non-blocking
    /// stream that keeps returning `WouldBlock` (or a peer that stops reading while
    /// we answer its pings) comes near it; the bound keeps such a connection from
    /// growing without limit. One message larger than the bound is still accepted
    /// when nothing else waits.
    pub max_write_buffer: usize,
    /// The largest the read buffer grows to.
    ///
    /// Default: 128 KiB, the chunk tungstenite reads in, so that a 64 KiB message and
    /// its header arrive in one read. It starts at 4 KiB so that an idle connection
    /// holds little, doubles whenever a read fills it, so bulk transfers read in large
    /// chunks, and goes back to 4 KiB once the traffic is small again.
    pub max_read_buffer: usize,
    /// After this long without hearing from the peer, send it a ping.
    ///
    /// Default: `None` (no pings). python-websockets uses 20 s.
    pub ping_interval: Option<Duration>,
    /// After this long without hearing from the peer, close with 1011 and fail
    /// with [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout).
    ///
    /// Default: `None`. With a ping interval set, this should exceed it by a round trip.
    pub idle_timeout: Option<Duration>,
    /// How long [`close`](crate::Stream::close) waits for the peer's Close (and, on a
    /// client, for the server to end the stream).
    ///
    /// Default: 10 s, as python-websockets.
    pub close_timeout: Duration,
    /// How long bytes queued for the peer may wait without the transport taking any of
    /// them. Past it the peer is taken to have stopped reading: the connection ends
    /// with [`Error::WriteTimeout`](crate::Error::WriteTimeout) (1006, since no Close
    /// can reach a peer that does not read), its queued bytes are dropped and the
    /// transport is shut down, so it holds nothing for the offender.
    ///
    /// Enforced by drivers that report a refused write
    /// ([`Connection::write_blocked`](crate::proto::Connection::write_blocked)): the
    /// async stream does; the blocking stream relies on its socket's write timeout.
    /// Default: `None`; ws-server sets it from its `write_timeout` (30 s).
    pub write_timeout: Option<Duration>,
    /// The permessage-deflate extension (RFC 7692) as the handshake agreed it, if it did.
    ///
    /// Default: `None`. ws-server and ws-client negotiate compression (on by default
    /// there) and set this for each connection from the outcome; set it yourself only
    /// for a connection whose handshake you ran.
    pub deflate: Option<Deflate>,
}

/// permessage-deflate for one connection (RFC 7692): what the handshake agreed, in
/// this end's terms (what it sends, what it receives), and how hard it compresses.
///
/// ```
/// use ws_stream::{Deflate, Role};
///
/// // A server that agreed `server_max_window_bits=12; client_no_context_takeover`.
/// let deflate = Deflate::agreed(Role::Server, 12, 15, false, true);
/// assert_eq!((deflate.send_window_bits, deflate.receive_window_bits), (12, 15));
/// assert!(deflate.receive_no_context_takeover && !deflate.send_no_context_takeover);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Deflate {
    /// The window we compress with, 9 to 15 bits: the peer's `*_max_window_bits` for
    /// our side. (The backend cannot compress with 8; the handshake never agrees to it.)
    pub send_window_bits: u8,
    /// The window the peer compresses with, 8 to 15 bits.
    pub receive_window_bits: u8,
    /// We start each message with an empty window (the agreed
    /// `*_no_context_takeover` for our side), so our compressor can be freed between
    /// messages and a [`PreparedMessage`](crate::PreparedMessage) compressed once can
    /// be shared by every such connection.
    pub send_no_context_takeover: bool,
    /// The peer starts each message with an empty window.
    pub receive_no_context_takeover: bool,
    /// zlib's memory level for our compressor, 1 to 9.
    ///
    /// Default: 5, python-websockets' server default: about 161 KiB per compressor
    /// with a 12-bit window, against 259 KiB at zlib's usual 8.
    pub mem_level: u8,
    /// The compression level, 0 (none) to 9 (smallest).
    ///
    /// Default: 6, zlib's default.
    pub level: u8,
    /// Messages shorter than this are sent uncompressed.
    ///
    /// Default: 64 bytes: below it deflate's block headers and the CPU cost more
    /// than the few bytes saved.
    pub min_size: usize,
}

impl Deflate {
    /// The parameters the handshake agreed, given in its terms (the `server_*` and
    /// `client_*` parameters of RFC 7692), for the end in `role`.
    pub fn agreed(
        role: Role,
        server_window_bits: u8,
        client_window_bits: u8,
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
    ) -> Deflate {
        let (send, receive) = match role {
            Role::Server => (
                (server_window_bits, server_no_context_takeover),
                (client_window_bits, client_no_context_takeover),
            ),
            Role::Client => (
                (client_window_bits, client_no_context_takeover),
                (server_window_bits, server_no_context_takeover),
            ),
        };
        Deflate {
            send_window_bits: send.0.clamp(9, 15),
            receive_window_bits: receive.0.clamp(8, 15),
            send_no_context_takeover: send.1,
            receive_no_context_takeover: receive.1,
            mem_level: 5,
            level: 6,
            min_size: 64,
        }
    }

    /// These settings' tuning (memory level, level, `min_size`) with what a handshake
    /// agreed, as [`Deflate::agreed`] takes it.
    pub fn with_agreement(
        self,
        role: Role,
        server_window_bits: u8,
        client_window_bits: u8,
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
    ) -> Deflate {
        Deflate {
            mem_level: self.mem_level,
            level: self.level,
            min_size: self.min_size,
            ..Deflate::agreed(
                role,
                server_window_bits,
                client_window_bits,
                server_no_context_takeover,
                client_no_context_takeover,
            )
        }
    }

    /// Sets [`Deflate::mem_level`] (1 to 9).
    pub fn mem_level(mut self, level: u8) -> Deflate {
        self.mem_level = level.clamp(1, 9);
        self
    }

    /// Sets [`Deflate::level`] (0 to 9).
    pub fn level(mut self, level: u8) -> Deflate {
        self.level = level.min(9);
        self
    }

    /// Sets [`Deflate::min_size`].
    pub fn min_size(mut self, bytes: usize) -> Deflate {
        self.min_size = bytes;
        self
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            max_send_frame_size: 1 << 20,
            max_write_buffer: 16 << 20,
            max_read_buffer: 128 << 10,
            ping_interval: None,
            idle_timeout: None,
            close_timeout: Duration::from_secs(10),
            write_timeout: None,
            deflate: None,
        }
    }
}

impl Config {
    /// Sets [`Config::max_message_size`].
    pub fn max_message_size(mut self, bytes: usize) -> Config {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Config::max_frame_size`].
    pub fn max_frame_size(mut self, bytes: usize) -> Config {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Config::max_send_frame_size`] (at least 1).
    pub fn max_send_frame_size(mut self, bytes: usize) -> Config {
        self.max_send_frame_size = bytes.max(1);
        self
    }

    /// Sets [`Config::max_write_buffer`].
    pub fn max_write_buffer(mut self, bytes: usize) -> Config {
        self.max_write_buffer = bytes;
        self
    }

    /// Sets [`Config::max_read_buffer`] (at least 4 KiB).
    pub fn max_read_buffer(mut self, bytes: usize) -> Config {
        self.max_read_buffer = bytes.max(INITIAL_READ_BUFFER);
        self
    }

    /// Sets [`Config::ping_interval`].
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Config {
        self.ping_interval = interval;
        self
    }

    /// Sets [`Config::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Config {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`Config::close_timeout`].
    pub fn close_timeout(mut self, timeout: Duration) -> Config {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`Config::write_timeout`].
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Config {
        self.write_timeout = timeout;
        self
    }

    /// Sets [`Config::deflate`].
    pub fn deflate(mut self, deflate: Option<Deflate>) -> Config {
        self.deflate = deflate;
        self
    }
}

/// The read buffer's starting size: room for several small frames, little when idle.
pub(crate) const INITIAL_READ_BUFFER: usize = 4 << 10;

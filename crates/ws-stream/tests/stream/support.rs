//! Helpers shared by the test modules: hand-built wire bytes, a capture of what a
//! stream writes, an in-memory duplex pipe, loopback socket pairs and a frame parser.

use std::collections::VecDeque;
use std::io::{self, Cursor, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ws_stream::{Config, Role, Socket, Stream};

/// Opcodes as raw numbers, so that tests can also build frames the codec would refuse.
pub(crate) const CONT: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xA;

/// The key every hand-built client frame is masked with.
pub(crate) const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A generous bound that only makes a stuck test end; nothing asserts on it.
pub(crate) const STUCK: Duration = Duration::from_secs(10);

/// Encodes one frame by hand (RFC 6455 section 5.2), masking with `mask` if given.
pub(crate) fn frame(opcode: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        len @ 0..=125 => out.push(mask_bit | len as u8),
        len @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as the peer of an endpoint in `role` sends it: masked towards a server.
pub(crate) fn peer_frame(role: Role, opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = (role == Role::Server).then_some(KEY);
    frame(opcode, fin, payload, mask)
}

/// A Close payload: the code in network order, then the reason bytes.
pub(crate) fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// Both roles, for tests that must hold for each.
pub(crate) const ROLES: [Role; 2] = [Role::Server, Role::Client];

/// A stream that reads fixed input and records what is written to it.
#[derive(Debug, Default)]
pub(crate) struct Wire {
    pub(crate) input: Cursor<Vec<u8>>,
    pub(crate) output: Vec<u8>,
}

impl Wire {
    pub(crate) fn new(input: Vec<u8>) -> Wire {
        Wire {
            input: Cursor::new(input),
            output: Vec::new(),
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stream for `role` reading `input`, with the default configuration.
pub(crate) fn wire(role: Role, input: Vec<u8>) -> Stream<Wire> {
    Stream::with_role(Wire::new(input), role)
}

/// A stream for `role` reading `input`, with `config`.
pub(crate) fn wire_with(role: Role, config: Config, input: Vec<u8>) -> Stream<Wire> {
    Stream::with_config(Wire::new(input), role, config)
}

/// One frame as parsed from what a stream wrote, payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) opcode: u8,
    pub(crate) fin: bool,
    /// permessage-deflate's bit: the message is compressed.
    pub(crate) rsv1: bool,
    pub(crate) masked: bool,
    pub(crate) payload: Vec<u8>,
}

impl Parsed {
    /// The code of a Close frame, or `None` for an empty body.
    pub(crate) fn close_code(&self) -> Option<u16> {
        assert_eq!(self.opcode, CLOSE, "not a Close frame: {self:?}");
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Parses a whole sequence of frames; panics on trailing partial bytes or RSV2/RSV3.
pub(crate) fn parse_frames(mut bytes: &[u8]) -> Vec<Parsed> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (parsed, used) = parse_one(bytes).expect("a whole frame");
        frames.push(parsed);
        bytes = &bytes[used..];
    }
    frames
}

/// Parses one frame from the start of `bytes`, if all of it is there.
pub(crate) fn parse_one(bytes: &[u8]) -> Option<(Parsed, usize)> {
    let (&first, rest) = bytes.split_first()?;
    let (&second, mut rest) = rest.split_first()?;
    assert_eq!(first & 0x30, 0, "RSV2 or RSV3 set");
    let len = match second & 0x7F {
        126 => {
            let (len, after) = rest.split_at_checked(2)?;
            rest = after;
            u16::from_be_bytes([len[0], len[1]]) as usize
        }
        127 => {
            let (len, after) = rest.split_at_checked(8)?;
            rest = after;
            u64::from_be_bytes(len.try_into().expect("8 bytes")) as usize
        }
        len => usize::from(len),
    };
    let masked = second & 0x80 != 0;
    let key = if masked {
        let (key, after) = rest.split_at_checked(4)?;
        rest = after;
        Some([key[0], key[1], key[2], key[3]])
    } else {
        None
    };
    let payload = rest.get(..len)?;
    let payload = match key {
        Some(key) => payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect(),
        None => payload.to_vec(),
    };
    let used = bytes.len() - rest.len() + len;
    Some((
        Parsed {
            opcode: first & 0x0F,
            fin: first & 0x80 != 0,
            rsv1: first & 0x40 != 0,
            masked,
            payload,
        },
        used,
    ))
}

/// The frames a stream over a [`Wire`] wrote, checked to be masked as its role demands.
pub(crate) fn written(stream: &Stream<Wire>) -> Vec<Parsed> {
    let frames = parse_frames(&stream.get_ref().output);
    for frame in &frames {
        assert_eq!(
            frame.masked,
            stream.role() == Role::Client,
            "a {:?} masks exactly when it is a client: {frame:?}",
            stream.role()
        );
    }
    frames
}

/// Reads frames from a raw socket until one whole frame is in; `None` at end of stream.
pub(crate) fn read_frame(socket: &mut impl Read, pending: &mut Vec<u8>) -> Option<Parsed> {
    loop {
        if let Some((parsed, used)) = parse_one(pending) {
            pending.drain(..used);
            return Some(parsed);
        }
        let mut chunk = [0; 4096];
        match socket.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => panic!("raw peer read failed: {error}"),
        }
    }
}

/// A connected pair of loopback sockets: (the connecting end, the accepted end).
pub(crate) fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    for socket in [&client, &server] {
        socket.set_nodelay(true).expect("nodelay");
    }
    (client, server)
}

/// Our client and server over loopback, with `config` on both ends.
pub(crate) fn stream_pair(config: Config) -> (Stream<TcpStream>, Stream<TcpStream>) {
    let (client, server) = tcp_pair();
    // A stuck test fails instead of hanging.
    for socket in [&client, &server] {
        socket.set_read_timeout(Some(STUCK)).expect("timeout");
    }
    (
        Stream::with_config(client, Role::Client, config.clone()),
        Stream::with_config(server, Role::Server, config),
    )
}

/// One direction of an in-memory pipe.
#[derive(Debug, Default)]
struct Channel {
    state: Mutex<ChannelState>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct ChannelState {
    bytes: VecDeque<u8>,
    closed: bool,
}

impl Channel {
    fn close(&self) {
        self.state.lock().expect("lock").closed = true;
        self.ready.notify_all();
    }
}

/// One end of an in-memory duplex pipe: what one end writes the other reads, and
/// dropping (or shutting down) an end ends the stream for the other.
///
/// Reads block (up to the read timeout, then `WouldBlock`), so it also stands in for a
/// socket: it implements [`Socket`], which lets streams run their timers over it.
#[derive(Debug)]
pub(crate) struct PipeEnd {
    incoming: Arc<Channel>,
    outgoing: Arc<Channel>,
    read_timeout: Mutex<Option<Duration>>,
}

/// Two connected pipe ends.
pub(crate) fn pipe() -> (PipeEnd, PipeEnd) {
    let a = Arc::new(Channel::default());
    let b = Arc::new(Channel::default());
    let end = |incoming: &Arc<Channel>, outgoing: &Arc<Channel>| PipeEnd {
        incoming: Arc::clone(incoming),
        outgoing: Arc::clone(outgoing),
        read_timeout: Mutex::new(Some(STUCK)),
    };
    (end(&a, &b), end(&b, &a))
}

impl Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let timeout = *self.read_timeout.lock().expect("lock");
        let mut state = self.incoming.state.lock().expect("lock");
        while state.bytes.is_empty() && !state.closed {
            state = match timeout {
                Some(timeout) => {
                    let (state, waited) = self
                        .incoming
                        .ready
                        .wait_timeout(state, timeout)
                        .expect("lock");
                    if waited.timed_out() && state.bytes.is_empty() {
                        return Err(io::ErrorKind::WouldBlock.into());
                    }
                    state
                }
                None => self.incoming.ready.wait(state).expect("lock"),
            };
        }
        let n = buf.len().min(state.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.outgoing.state.lock().expect("lock");
        if state.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        state.bytes.extend(buf);
        self.outgoing.ready.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Socket for PipeEnd {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        // `None` means "block"; keep a bound so that a stuck test still ends.
        *self.read_timeout.lock().expect("lock") = Some(timeout.unwrap_or(STUCK));
        Ok(())
    }

    fn shutdown(&self) -> io::Result<()> {
        self.incoming.close();
        self.outgoing.close();
        Ok(())
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.incoming.close();
        self.outgoing.close();
    }
}

/// Our client and server over an in-memory pipe.
pub(crate) fn pipe_pair(config: Config) -> (Stream<PipeEnd>, Stream<PipeEnd>) {
    let (a, b) = pipe();
    (
        Stream::with_config(a, Role::Client, config.clone()),
        Stream::with_config(b, Role::Server, config),
    )
}

/// Deterministic bytes of any length, different at every offset.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

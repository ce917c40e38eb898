//! The smallest client that can load a server: a fixed upgrade, then one masked frame
//! out and the expected frame back, both encoded once by ws-frame's codec.

use std::io::{Read, Write};
use std::net::TcpStream;

use ws_frame::Frame;

use crate::BoxError;
use crate::scenario::Payload;

/// One connection of the raw client: one fixed masked frame out, the expected
/// unmasked frame back, compared byte for byte.
///
/// With several messages in flight it keeps a window: it writes `in_flight` frames in
/// one write, then, each time echoes come back, as many frames as were answered, in
/// one write, so the connection always has `in_flight` messages out.
pub(crate) struct RawClient {
    tcp: TcpStream,
    /// `in_flight` copies of the masked frame, back to back.
    frames: Vec<u8>,
    frame_len: usize,
    in_flight: usize,
    expected: Vec<u8>,
    back: Vec<u8>,
    /// Where the next byte read falls in `expected`, in the windowed mode.
    at: usize,
    started: bool,
}

impl RawClient {
    /// Connects to the server on `port` as client `id`, and prepares its frames.
    pub(crate) fn open(
        port: u16,
        id: usize,
        payload: Payload,
        in_flight: usize,
    ) -> Result<RawClient, BoxError> {
        let mut tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_nodelay(true)?;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes())?;
        let mut head = Vec::new();
        let mut chunk = [0; 512];
        while !head.ends_with(b"\r\n\r\n") {
            let n = tcp.read(&mut chunk)?;
            if n == 0 {
                return Err("connection closed during the handshake".into());
            }
            head.extend_from_slice(&chunk[..n]);
        }
        if !head.starts_with(b"HTTP/1.1 101 ") {
            let status = String::from_utf8_lossy(&head);
            let line = status.lines().next().unwrap_or_default();
            return Err(format!("handshake refused: {line}").into());
        }
        let bytes = payload.bytes(id);
        // A key per client; fixed per connection, which servers cannot tell from fresh.
        let mask = (id as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
        let mut frame = Vec::new();
        Frame::new(payload.opcode(), bytes.clone())?
            .with_mask(mask)
            .encode(&mut frame);
        let mut expected = Vec::new();
        Frame::new(payload.opcode(), bytes)?.encode(&mut expected);
        let in_flight = in_flight.max(1);
        let back = match in_flight {
            1 => vec![0; expected.len()],
            _ => vec![0; (expected.len() * in_flight).clamp(4 << 10, 256 << 10)],
        };
        Ok(RawClient {
            tcp,
            frames: frame.repeat(in_flight),
            frame_len: frame.len(),
            in_flight,
            expected,
            back,
            at: 0,
            started: false,
        })
    }

    /// Echoes: answers how many messages came back, checked byte for byte.
    pub(crate) fn echo(&mut self) -> Result<u64, BoxError> {
        if self.in_flight == 1 {
            self.tcp.write_all(&self.frames)?;
            self.tcp.read_exact(&mut self.back)?;
            if self.back != self.expected {
                return Err("mismatched echo".into());
            }
            return Ok(1);
        }
        if !self.started {
            self.started = true;
            self.tcp.write_all(&self.frames)?;
        }
        let mut answered = 0;
        while answered == 0 {
            let n = self.tcp.read(&mut self.back)?;
            if n == 0 {
                return Err("connection closed by the server".into());
            }
            let mut rest = &self.back[..n];
            while !rest.is_empty() {
                let take = rest.len().min(self.expected.len() - self.at);
                if rest[..take] != self.expected[self.at..self.at + take] {
                    return Err("mismatched echo".into());
                }
                self.at += take;
                rest = &rest[take..];
                if self.at == self.expected.len() {
                    self.at = 0;
                    answered += 1;
                }
            }
        }
        // Every echo answered makes room for one more message.
        self.tcp
            .write_all(&self.frames[..self.frame_len * answered.min(self.in_flight)])?;
        Ok(answered as u64)
    }
}

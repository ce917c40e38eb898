//! The smallest client that can load a server: a fixed upgrade, then one masked frame
//! out and the expected frame back, both encoded once by ws-frame's codec.

use std::io::{Read, Write};
use std::net::TcpStream;

use ws_frame::Frame;

use crate::BoxError;
use crate::scenario::Payload;

/// One connection of the raw client: one fixed masked frame out, the expected
/// unmasked frame back, compared byte for byte.
pub(crate) struct RawClient {
    tcp: TcpStream,
    frame: Vec<u8>,
    expected: Vec<u8>,
    back: Vec<u8>,
}

impl RawClient {
    /// Connects to the server on `port` as client `id`, and prepares its frames.
    pub(crate) fn open(port: u16, id: usize, payload: Payload) -> Result<RawClient, BoxError> {
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
        let back = vec![0; expected.len()];
        Ok(RawClient {
            tcp,
            frame,
            expected,
            back,
        })
    }

    /// Sends the frame and checks the echo.
    pub(crate) fn echo(&mut self) -> Result<(), BoxError> {
        self.tcp.write_all(&self.frame)?;
        self.tcp.read_exact(&mut self.back)?;
        if self.back != self.expected {
            return Err("mismatched echo".into());
        }
        Ok(())
    }
}

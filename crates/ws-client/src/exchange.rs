//! An HTTP head out and a response head in, under a deadline: the exchange the
//! handshake and the proxy's `CONNECT` share.

use std::io::{self, Read, Write};

use ws_handshake::{Limits, Response, ResponseParser, collect_head};

use crate::Error;

/// Runs before every read and write: a deadline sets the socket's timeouts to the time
/// left here, or fails once it has passed.
pub(crate) type BeforeIo<'a, S> = &'a mut dyn FnMut(&mut S) -> Result<(), Error>;

/// Reads a response head within `limits`, and answers it with the bytes received after
/// it. A malformed head is an [`Error::Handshake`].
pub(crate) fn read_head<S: Read>(
    socket: &mut S,
    limits: Limits,
    before_io: BeforeIo<'_, S>,
) -> Result<(Response, Vec<u8>), Error> {
    let mut parser = ResponseParser::new(limits);
    let read = |chunk: &mut [u8]| loop {
        before_io(socket)?;
        match socket.read(chunk) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            read => return read.map_err(io_error),
        }
    };
    collect_head(|received| parser.parse(received), read)?.ok_or(Error::ClosedDuringHandshake)
}

/// Writes all of `request`, calling `before_io` before each write and the flush.
pub(crate) fn write_request<S: Write>(
    socket: &mut S,
    mut request: &[u8],
    before_io: BeforeIo<'_, S>,
) -> Result<(), Error> {
    while !request.is_empty() {
        before_io(socket)?;
        match socket.write(request) {
            Ok(0) => return Err(Error::HandshakeIo(io::ErrorKind::WriteZero.into())),
            Ok(n) => request = request.get(n..).unwrap_or_default(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(io_error(error)),
        }
    }
    before_io(socket)?;
    socket.flush().map_err(io_error)
}

/// A read or write that timed out is the handshake timing out: the deadline set it, or
/// the caller's own timeout on the socket did.
fn io_error(error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::HandshakeTimeout,
        _ => Error::HandshakeIo(error),
    }
}

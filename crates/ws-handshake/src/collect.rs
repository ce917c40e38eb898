//! The loop every blocking endpoint writes around a head parser: read, append, parse
//! again, until the head is complete. The read is the caller's, so this crate still does
//! no I/O of its own.

use crate::{Error, Parsed};

/// How much is read at once. A handshake head takes a few hundred bytes; whatever
/// follows it in the last read is handed back with the head.
const CHUNK: usize = 4096;

/// Collects a head: calls `read` for more bytes (it fills the start of the buffer it is
/// given and answers how many, 0 at the end of the input) and `parse` (a
/// [`RequestParser`](crate::RequestParser)'s or [`ResponseParser`](crate::ResponseParser)'s
/// `parse`) on everything received, until the head is complete.
///
/// Answers the head and the bytes received after it, which belong to the layer above
/// (a first frame the peer sent at once), or `None` when the input ended first. A
/// malformed head is `parse`'s error, converted; `read`'s errors come out as they are.
/// The parsers resume where they stopped, so a head arriving a byte at a time costs no
/// rescanning, and their limits bound what is buffered.
///
/// ```
/// use ws_handshake::{RequestParser, collect_head};
///
/// let mut input: &[u8] = b"GET /chat HTTP/1.1\r\nHost: a\r\n\r\n\x81\x00";
/// let mut parser = RequestParser::default();
/// let collected = collect_head(
///     |buf| parser.parse(buf),
///     |chunk| {
///         // Eight bytes at a time, as a slow peer might send them: the 31-byte head
///         // ends inside the fourth read, with one byte of a frame after it.
///         let n = input.len().min(8);
///         chunk[..n].copy_from_slice(&input[..n]);
///         input = &input[n..];
///         Ok::<_, ws_handshake::Error>(n)
///     },
/// )?;
/// let (request, after) = collected.expect("a whole head");
/// assert_eq!((request.target(), &after[..]), ("/chat", &b"\x81"[..]));
/// # Ok::<(), ws_handshake::Error>(())
/// ```
pub fn collect_head<H, E>(
    mut parse: impl FnMut(&[u8]) -> Result<Parsed<H>, Error>,
    mut read: impl FnMut(&mut [u8]) -> Result<usize, E>,
) -> Result<Option<(H, Vec<u8>)>, E>
where
    E: From<Error>,
{
    let mut received = Vec::with_capacity(CHUNK);
    let mut chunk = [0; CHUNK];
    loop {
        let n = read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        // A reader claiming more than the buffer holds is broken; `min` keeps it from
        // turning into a panic.
        received.extend_from_slice(&chunk[..n.min(CHUNK)]);
        if let Parsed::Complete(head, used) = parse(&received)? {
            received.drain(..used.min(received.len()));
            return Ok(Some((head, received)));
        }
    }
}

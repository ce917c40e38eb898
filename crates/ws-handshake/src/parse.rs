use crate::head::{Head, ascii_to_string};
use crate::headers::{is_token, is_value_byte, trim_whitespace};
use crate::{Error, Misuse, Request, Response};

/// How large a head the parsers accept, checked as bytes arrive so a peer cannot make
/// them buffer or store without bound.
///
/// ```
/// use ws_handshake::Limits;
///
/// let limits = Limits::default().max_head_len(16 * 1024).max_headers(100);
/// assert_eq!((limits.max_head_len, limits.max_headers), (16 * 1024, 100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// The longest head accepted, in bytes, counting every line ending and the empty
    /// line that ends it.
    ///
    /// Default: 8 KiB. A browser's handshake takes well under 1 KiB, and 8 KiB is the
    /// common per-head budget of HTTP servers (nginx's header buffer, Apache's field
    /// limit); raise it if your clients carry large cookies.
    pub max_head_len: usize,
    /// The most header fields accepted, repeats included.
    ///
    /// Default: 64. A browser's handshake carries about 15, and the limit bounds the
    /// allocations a head of many tiny fields could cause.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_len: 8 * 1024,
            max_headers: 64,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_head_len`].
    pub fn max_head_len(mut self, max: usize) -> Limits {
        self.max_head_len = max;
        self
    }

    /// Sets [`Limits::max_headers`].
    pub fn max_headers(mut self, max: usize) -> Limits {
        self.max_headers = max;
        self
    }
}

/// The result of parsing the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole head, and the number of input bytes it used. Bytes after that (such as a
    /// first WebSocket frame sent right behind the handshake) belong to the next layer.
    Complete(T, usize),
    /// The head has not ended yet: append more input and call again.
    Partial,
}

/// Parses a request head incrementally, from a buffer the caller appends to.
///
/// Lines end in CRLF or, as RFC 9112 section 2.2 allows, a bare LF; a CR anywhere else
/// is an error. Each call resumes where the last one stopped, so a head delivered one
/// byte at a time costs O(n) in total, not O(n²) ([`RequestParser::scanned`]).
///
/// ```
/// use ws_handshake::{Parsed, RequestParser};
///
/// let input = b"GET /chat HTTP/1.1\r\nHost: example.com\r\n\r\n\x81\x00";
/// let mut parser = RequestParser::default();
/// assert_eq!(parser.parse(&input[..20])?, Parsed::Partial);
/// let Parsed::Complete(request, used) = parser.parse(input)? else { unreachable!() };
/// assert_eq!((request.target(), &input[used..]), ("/chat", &b"\x81\x00"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestParser {
    inner: HeadParser<Request>,
}

/// Parses a response head incrementally, from a buffer the caller appends to; the
/// client-side twin of [`RequestParser`], with the same line rules and guarantees.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    inner: HeadParser<Response>,
}

impl Default for RequestParser {
    fn default() -> RequestParser {
        RequestParser::new(Limits::default())
    }
}

impl RequestParser {
    /// A parser that enforces `limits`.
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser {
            inner: HeadParser::new(limits),
        }
    }

    /// Parses `buf`, everything received so far: each call must see the previous
    /// call's input again, with any new bytes appended.
    ///
    /// After a complete head or an error the parser starts over, ready for a new head.
    pub fn parse(&mut self, buf: &[u8]) -> Result<Parsed<Request>, Error> {
        self.inner.parse(buf)
    }

    /// How many bytes of the input the parser has examined; the next call starts its
    /// search for a line end there instead of at the start of the buffer.
    pub fn scanned(&self) -> usize {
        self.inner.scanned
    }
}

impl Default for ResponseParser {
    fn default() -> ResponseParser {
        ResponseParser::new(Limits::default())
    }
}

impl ResponseParser {
    /// A parser that enforces `limits`.
    pub fn new(limits: Limits) -> ResponseParser {
        ResponseParser {
            inner: HeadParser::new(limits),
        }
    }

    /// Parses `buf`, everything received so far; see [`RequestParser::parse`].
    pub fn parse(&mut self, buf: &[u8]) -> Result<Parsed<Response>, Error> {
        self.inner.parse(buf)
    }

    /// How many bytes of the input the parser has examined; see [`RequestParser::scanned`].
    pub fn scanned(&self) -> usize {
        self.inner.scanned
    }
}

/// The state both parsers share. Each byte is searched for a line end once, and each
/// complete line is checked once: nothing is looked at again on a later call.
#[derive(Debug, Clone)]
struct HeadParser<H> {
    limits: Limits,
    /// The input before this offset has been searched for line ends.
    scanned: usize,
    /// Where the line being received starts.
    line_start: usize,
    /// The start line and the header lines so far, once the start line is complete.
    head: Option<H>,
    /// Bytes looked at in total, for the test that proves the parser never rescans.
    #[cfg(test)]
    examined: usize,
}

impl<H: Head> HeadParser<H> {
    fn new(limits: Limits) -> HeadParser<H> {
        HeadParser {
            limits,
            scanned: 0,
            line_start: 0,
            head: None,
            #[cfg(test)]
            examined: 0,
        }
    }

    fn parse(&mut self, buf: &[u8]) -> Result<Parsed<H>, Error> {
        let result = self.resume(buf);
        if !matches!(result, Ok(Parsed::Partial)) {
            // A finished or failed head leaves nothing to resume.
            *self = HeadParser::new(self.limits);
        }
        result
    }

    fn resume(&mut self, buf: &[u8]) -> Result<Parsed<H>, Error> {
        let limit = self.limits.max_head_len;
        // Bytes past the limit can never belong to an acceptable head, so they are not
        // even searched.
        let window = buf.get(..limit).unwrap_or(buf);
        loop {
            let unsearched = window.get(self.scanned..).ok_or(Misuse::InputShrank)?;
            let Some(offset) = find_newline(unsearched) else {
                self.note_examined(unsearched.len());
                self.scanned = window.len();
                if window.len() >= limit {
                    return Err(Error::HeadTooLarge { limit });
                }
                return Ok(Parsed::Partial);
            };
            self.note_examined(offset + 1);
            let line_end = self.scanned + offset;
            let line = window.get(self.line_start..line_end).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.scanned = line_end + 1;
            self.line_start = self.scanned;
            if let Some(head) = self.take_line(line)? {
                return Ok(Parsed::Complete(head, self.scanned));
            }
        }
    }

    /// Adds one complete line, without its ending, to the head; returns the head once
    /// the empty line ends it.
    fn take_line(&mut self, line: &[u8]) -> Result<Option<H>, Error> {
        self.note_examined(line.len());
        match self.head.take() {
            None => {
                self.head = Some(H::from_start_line(line)?);
                Ok(None)
            }
            Some(head) if line.is_empty() => Ok(Some(head)),
            Some(mut head) => {
                let headers = head.headers_mut();
                if headers.len() >= self.limits.max_headers {
                    return Err(Error::TooManyHeaders {
                        limit: self.limits.max_headers,
                    });
                }
                let (name, value) = parse_header_line(line)?;
                headers.push(name, value);
                self.head = Some(head);
                Ok(None)
            }
        }
    }

    #[cfg(test)]
    fn note_examined(&mut self, len: usize) {
        self.examined += len;
    }

    #[cfg(not(test))]
    fn note_examined(&mut self, _len: usize) {}
}

/// `field-name ":" OWS field-value OWS` (RFC 9112 section 5).
fn parse_header_line(line: &[u8]) -> Result<(String, Vec<u8>), Error> {
    if let [b' ' | b'\t', ..] = line {
        return Err(Error::ObsFold);
    }
    let mut parts = line.splitn(2, |&byte| byte == b':');
    let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
        return Err(Error::MissingColon);
    };
    if !is_token(name) {
        return Err(Error::InvalidHeaderName);
    }
    let value = trim_whitespace(value);
    if !value.iter().all(|&byte| is_value_byte(byte)) {
        return Err(Error::InvalidHeaderValue);
    }
    Ok((ascii_to_string(name), value.to_vec()))
}

/// The offset of the first `\n`, searched eight bytes at a time: this runs over every
/// byte a peer sends before the head ends.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);

    let (words, tail) = bytes.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        // Zero bytes of `x` are newlines in `word`. The classic test below sets the high
        // bit of each zero byte; it can also flag a 0x01 byte above a zero, which never
        // matters because the lowest flag, the one used, is always a true zero.
        let x = u64::from_le_bytes(*word) ^ NEWLINES;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(index * 8 + zeros.trailing_zeros() as usize / 8);
        }
    }
    let in_tail = tail.iter().position(|&byte| byte == b'\n')?;
    Some(words.len() * 8 + in_tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn find_newline_agrees_with_a_plain_search(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(0x0b), Just(0x01), any::<u8>()], 0..64)
        ) {
            prop_assert_eq!(find_newline(&bytes), bytes.iter().position(|&b| b == b'\n'));
        }
    }

    #[test]
    fn find_newline_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![0x0b; len];
                bytes[at] = b'\n';
                assert_eq!(find_newline(&bytes), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_newline(&vec![0x0b; len]), None);
        }
    }

    /// A rescanning parser (CVE-2023-43669) looks at O(n²) bytes when the head arrives
    /// a byte at a time; this one looks at each byte at most twice: once searching for
    /// the line end, once checking the complete line.
    #[test]
    fn byte_at_a_time_examines_each_byte_at_most_twice() {
        let mut head = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
        head.resize(8000, b'a');
        head.extend_from_slice(b"\r\nHost: x\r\n\r\n");
        let mut parser = HeadParser::<Request>::new(Limits::default());
        for end in 1..head.len() {
            assert_eq!(parser.resume(&head[..end]), Ok(Parsed::Partial));
            assert_eq!(parser.scanned, end);
            assert!(
                parser.examined <= 2 * end,
                "examined {} of {end}",
                parser.examined
            );
        }
        assert!(matches!(parser.resume(&head), Ok(Parsed::Complete(_, len)) if len == head.len()));
        assert!(parser.examined <= 2 * head.len());
    }
}

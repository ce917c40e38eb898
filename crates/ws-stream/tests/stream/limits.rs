//! Limits: message and frame sizes (1009, checked from headers before any payload is
//! held), the write buffer bound against a peer that never reads, and the error
//! codes of failures.

use std::io::{self, Write};
use std::thread;

use ws_stream::{CloseCode, Config, Error, Message, Role, Stream};

use crate::support::*;

/// A frame header announcing `len` payload bytes, with none of them.
fn header_only(role: Role, opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if role == Role::Server { 0x80 } else { 0 };
    out.push(mask_bit | 127);
    out.extend_from_slice(&len.to_be_bytes());
    if role == Role::Server {
        out.extend_from_slice(&KEY);
    }
    out
}

#[test]
fn a_gigabyte_frame_header_fails_at_once_without_allocating() {
    for role in ROLES {
        let mut stream = wire(role, header_only(role, BINARY, true, 1 << 30));
        let error = stream.read_message().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Frame(ws_frame::Error::PayloadTooLarge {
                    len: 0x4000_0000,
                    max: 0x100_0000
                })
            ),
            "{error:?}"
        );
        assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        assert_eq!(written(&stream)[0].close_code(), Some(1009));
        assert!(
            stream.buffer_capacity() < 64 << 10,
            "{} bytes held",
            stream.buffer_capacity()
        );
    }
}

#[test]
fn max_frame_size_is_checked_from_the_header() {
    for role in ROLES {
        let config = Config::default().max_frame_size(1000);
        let mut input = peer_frame(role, BINARY, true, &pattern(1000));
        input.extend(header_only(role, BINARY, true, 1001));
        let mut stream = wire_with(role, config, input);
        assert_eq!(stream.read_message().unwrap().len(), 1000);
        let error = stream.read_message().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Frame(ws_frame::Error::PayloadTooLarge {
                    len: 1001,
                    max: 1000
                })
            ),
            "{error:?}"
        );
        assert_eq!(written(&stream)[0].close_code(), Some(1009));
    }
}

#[test]
fn max_message_size_single_frame() {
    for role in ROLES {
        let config = Config::default().max_message_size(100);
        let mut input = peer_frame(role, TEXT, true, &[b'a'; 100]);
        // Only the header of the frame that is too big: the error cannot wait for it.
        input.extend(header_only(role, BINARY, true, 101));
        let mut stream = wire_with(role, config, input);
        assert_eq!(stream.read_message().unwrap().len(), 100);
        let error = stream.read_message().unwrap_err();
        assert!(
            matches!(error, Error::MessageTooLarge { max: 100 }),
            "{error:?}"
        );
        assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        assert_eq!(written(&stream)[0].close_code(), Some(1009));
        assert_eq!(
            stream.close_frame().map(|frame| frame.code),
            Some(CloseCode::MESSAGE_TOO_BIG)
        );
    }
}

#[test]
fn max_message_size_counts_all_fragments() {
    for role in ROLES {
        let config = Config::default().max_message_size(100);
        let mut input = peer_frame(role, BINARY, false, &[1; 60]);
        input.extend(peer_frame(role, PING, true, b"still answered"));
        input.extend(peer_frame(role, CONT, false, &[2; 40]));
        // The fragment that crosses the limit: its header alone must fail.
        input.extend(header_only(role, CONT, true, 1));
        let mut stream = wire_with(role, config, input);
        let error = stream.read_message().unwrap_err();
        assert!(
            matches!(error, Error::MessageTooLarge { max: 100 }),
            "{error:?}"
        );
        let frames = written(&stream);
        assert_eq!(frames[0].payload, b"still answered");
        assert_eq!(frames[1].close_code(), Some(1009));
    }
}

#[test]
fn a_message_exactly_at_the_limit_passes() {
    for role in ROLES {
        let config = Config::default().max_message_size(100);
        let mut input = peer_frame(role, TEXT, false, &[b'a'; 50]);
        input.extend(peer_frame(role, CONT, true, &[b'b'; 50]));
        let mut stream = wire_with(role, config, input);
        assert_eq!(stream.read_message().unwrap().len(), 100);
    }
}

/// A 100 MiB message through a message reader with a 1 MiB message limit: it is
/// never held whole. The same message through `read_message` fails with 1009.
#[test]
fn message_reader_is_not_bound_by_max_message_size() {
    const TOTAL: usize = 100 << 20;
    const CHUNK: usize = 1 << 20;
    let config = Config::default().max_message_size(CHUNK);
    for via_reader in [true, false] {
        let (client_socket, mut server_socket) = tcp_pair();
        let sender = thread::spawn(move || {
            let chunk = pattern(CHUNK);
            let mut frames = Vec::new();
            for i in 0..TOTAL / CHUNK {
                let opcode = if i == 0 { BINARY } else { CONT };
                frames.push(frame(opcode, i + 1 == TOTAL / CHUNK, &chunk, None));
            }
            for frame in &frames {
                if server_socket.write_all(frame).is_err() {
                    break; // The reader gave up, as it should without a reader.
                }
            }
            server_socket
                .write_all(&frame(TEXT, true, b"next", None))
                .ok();
            server_socket
        });
        let mut client = Stream::with_config(client_socket, Role::Client, config.clone());
        if via_reader {
            let mut reader = client.message_reader().unwrap();
            let mut sink = CountingSink::default();
            io::copy(&mut reader, &mut sink).unwrap();
            drop(reader);
            assert_eq!(sink.len, TOTAL);
            assert_eq!(sink.checksum, expected_checksum(TOTAL, CHUNK));
            assert!(
                client.buffer_capacity() <= 256 << 10,
                "nothing like 100 MiB held"
            );
            assert_eq!(client.read_message().unwrap(), Message::text("next"));
        } else {
            let error = client.read_message().unwrap_err();
            assert!(
                matches!(error, Error::MessageTooLarge { max: CHUNK }),
                "{error:?}"
            );
            drop(client);
        }
        sender.join().unwrap();
    }
}

#[derive(Default)]
struct CountingSink {
    len: usize,
    checksum: u64,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &byte in buf {
            self.checksum = self.checksum.wrapping_mul(31).wrapping_add(u64::from(byte));
        }
        self.len += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn expected_checksum(total: usize, chunk: usize) -> u64 {
    let mut sink = CountingSink::default();
    let piece = pattern(chunk);
    for _ in 0..total / chunk {
        sink.write_all(&piece).unwrap();
    }
    sink.checksum
}

/// A peer that never reads: sends on a non-blocking socket fill the kernel buffers,
/// then our write buffer, which stops at its bound: the send that does not fit is
/// refused with `WouldBlock`, and nothing of it is queued.
#[test]
fn write_buffer_is_bounded_when_the_peer_never_reads() {
    const MAX: usize = 256 << 10;
    for role in ROLES {
        let (ours, _never_reads) = tcp_pair();
        ours.set_nonblocking(true).unwrap();
        let config = Config::default().max_write_buffer(MAX);
        let mut stream = Stream::with_config(ours, role, config);
        let message = pattern(16 << 10);
        let mut sent = 0;
        loop {
            match stream.send_binary(&message) {
                Ok(()) => sent += 1,
                Err(error) if error.is_would_block() => break,
                Err(other) => panic!("{other:?}"),
            }
            assert!(
                stream.buffer_capacity() <= 2 * MAX + (64 << 10),
                "{role:?}: {} bytes buffered",
                stream.buffer_capacity()
            );
        }
        let queued = stream.buffered_amount();
        assert!(sent > 0 && queued > 0, "the kernel buffers filled first");
        assert!(queued <= MAX, "{role:?}: {queued} bytes queued");
        assert!(
            queued + message.len() > MAX,
            "refused only when it did not fit"
        );
        // Still refused, nothing more queued, and still bounded.
        assert!(stream.send_binary(&message).unwrap_err().is_would_block());
        assert_eq!(stream.buffered_amount(), queued);
        assert!(stream.buffer_capacity() <= 2 * MAX + (64 << 10));
    }
}

/// One message larger than the bound is accepted when nothing else waits.
#[test]
fn a_message_larger_than_the_write_buffer_is_accepted_alone() {
    let (client_socket, server_socket) = tcp_pair();
    let config = Config::default().max_write_buffer(1024);
    let mut client = Stream::with_config(client_socket, Role::Client, config);
    let mut server = Stream::with_role(server_socket, Role::Server);
    let reader = thread::spawn(move || server.read_message());
    client.send_binary(pattern(100_000)).unwrap();
    assert_eq!(reader.join().unwrap().unwrap().len(), 100_000);
}

#[test]
fn close_with_internal_error_sends_1011() {
    let (client_socket, mut raw) = tcp_pair();
    raw.set_read_timeout(Some(STUCK)).unwrap();
    let mut client = Stream::with_role(client_socket, Role::Client);
    let closer = thread::spawn(move || {
        client
            .close_with(CloseCode::INTERNAL_ERROR, "database unreachable")
            .map(|()| client)
    });
    let close = read_frame(&mut raw, &mut Vec::new()).unwrap();
    assert_eq!(close.close_code(), Some(1011));
    assert_eq!(&close.payload[2..], b"database unreachable");
    raw.write_all(&frame(CLOSE, true, &close_payload(1011, b""), None))
        .unwrap();
    drop(raw);
    let client = closer.join().unwrap().unwrap();
    assert_eq!(
        client.close_frame().map(|frame| frame.code),
        Some(CloseCode::INTERNAL_ERROR)
    );
}

#[test]
fn error_close_codes_and_sizes() {
    assert_eq!(
        Error::MessageTooLarge { max: 1 }.close_code(),
        Some(CloseCode::MESSAGE_TOO_BIG)
    );
    assert_eq!(
        Error::InvalidUtf8.close_code(),
        Some(CloseCode::INVALID_PAYLOAD)
    );
    assert_eq!(
        Error::UnexpectedContinuation.close_code(),
        Some(CloseCode::PROTOCOL_ERROR)
    );
    assert_eq!(
        Error::UnfinishedMessage.close_code(),
        Some(CloseCode::PROTOCOL_ERROR)
    );
    assert_eq!(
        Error::KeepaliveTimeout.close_code(),
        Some(CloseCode::INTERNAL_ERROR)
    );
    assert_eq!(Error::WriteBufferFull { max: 1 }.close_code(), None);
    assert_eq!(Error::AlreadyClosed.close_code(), None);
    assert!(std::mem::size_of::<Error>() <= 40);
    let io_error: Error = io::Error::from(io::ErrorKind::WouldBlock).into();
    assert!(io_error.is_would_block());
}

#[test]
fn the_stream_is_usable_after_a_refused_send() {
    let (client_socket, server_socket) = tcp_pair();
    let mut client = Stream::with_role(client_socket, Role::Client);
    let mut server = Stream::with_role(server_socket, Role::Server);
    assert!(client.ping([0; 126]).is_err());
    assert!(client.close_with(CloseCode::new(1005), "").is_err());
    client.send_text("fine").unwrap();
    assert_eq!(server.read_message().unwrap(), Message::text("fine"));
}

/// The read buffer grows for a burst of pipelined messages and goes back to its small
/// size once the traffic is small again, so a connection idles light after a burst.
#[test]
fn the_read_buffer_shrinks_after_a_burst() {
    let (mut client, mut server) = stream_pair(Config::default());
    let (next, wait) = std::sync::mpsc::channel::<()>();
    let (sent, burst_sent) = std::sync::mpsc::channel::<()>();
    let sending = thread::spawn(move || {
        // 64 KiB of small messages, all sent before the server reads: its reads fill
        // the buffer, which grows. (A single large message would not grow it: its
        // payload is read straight into the message.)
        for _ in 0..64 {
            client.send_binary(pattern(1000)).unwrap();
        }
        client.flush().unwrap();
        sent.send(()).unwrap();
        // Each small message in a read of its own, after the burst was read.
        for text in ["small", "small again"] {
            wait.recv().unwrap();
            client.send_text(text).unwrap();
        }
        client
    });
    burst_sent.recv().unwrap();
    for _ in 0..64 {
        assert_eq!(server.read_message().unwrap().len(), 1000);
    }
    let grown = server.buffer_capacity();
    assert!(
        grown >= 16 << 10,
        "the buffer grew for the burst: {grown} B"
    );
    for text in ["small", "small again"] {
        next.send(()).unwrap();
        assert_eq!(server.read_message().unwrap(), Message::text(text));
    }
    let settled = server.buffer_capacity();
    assert!(settled <= 8 << 10, "back to a small buffer: {settled} B");
    drop(sending.join().unwrap());
}

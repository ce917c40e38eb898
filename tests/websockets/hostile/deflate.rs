//! Hostile peers that negotiate permessage-deflate (RFC 7692), which the example server
//! agrees to by default: a decompression bomb and a corrupt deflate stream.
//!
//! The payloads are built with flate2 as raw deflate, sync-flushed with the four-byte
//! tail stripped, as RFC 7692 section 7.2.1 has a sender do. The well-behaved client
//! negotiates deflate too (our client offers it by default), and its messages are big
//! enough to be compressed both ways, so the server inflates for it while it fends off
//! the attack on the same threads' allocator.

use std::io::Write;
use std::net::TcpStream;
use std::thread;

use flate2::{Compress, Compression, FlushCompress};
use websockets::client::Client;
use websockets::frame::{Frame, OpCode};
use websockets::handshake::DeflateOffer;

use super::support::{RawPeer, assert_served, good_client};
use super::{Start, async_server, server};

against_both!(
    a_decompression_bomb_is_closed_with_1009_inside_its_first_fragment,
    a_corrupt_deflate_stream_is_closed_with_1007,
);

/// What a sync flush ends with, and the receiver puts back (RFC 7692 section 7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The inflated size of the bomb: a thousand times the server's 1 MiB message limit.
const BOMB_INFLATED: u64 = 1 << 30;

/// The compressed bomb goes out in fragments of this size, under the 1 MiB frame limit:
/// the server must stop at the message limit, not at the frame limit.
const BOMB_FRAGMENT: usize = 256 << 10;

fn a_decompression_bomb_is_closed_with_1009_inside_its_first_fragment(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    assert_served_compressed(&mut good, "before");
    // The browsers' offer: the server has the client compress with a 12-bit window,
    // which a run of zeros (distance 1) respects.
    let (mut hostile, agreed) = RawPeer::upgrade_deflate(server.addr(), DeflateOffer::default());
    eprintln!("hostile peer deflate bomb: agreed {agreed}");

    let bomb = deflate_zeros(BOMB_INFLATED);
    assert!(
        bomb.len() < 4 << 20,
        "the bomb should be small on the wire, not {} bytes",
        bomb.len()
    );
    let mut wire = Vec::with_capacity(bomb.len() + 1024);
    let fragments = bomb.chunks(BOMB_FRAGMENT).count();
    for (i, chunk) in bomb.chunks(BOMB_FRAGMENT).enumerate() {
        let frame = if i == 0 {
            // RSV1 on the first frame only marks the whole message compressed.
            Frame::binary(chunk).with_rsv(0b100)
        } else {
            Frame::continuation(chunk)
        };
        frame
            .with_fin(i == fragments - 1)
            .with_mask([3, 1, 4, 1])
            .encode(&mut wire);
    }
    eprintln!(
        "hostile peer deflate bomb: {} MiB of zeros in {} bytes ({fragments} fragments)",
        BOMB_INFLATED >> 20,
        bomb.len()
    );
    // From another thread: the server gives up within the first fragment and drops
    // the connection with the rest unread, so this write may block and then fail.
    let mut writer = hostile.tcp.try_clone().unwrap();
    let sending = thread::spawn(move || writer.write_all(&wire));
    assert_served_compressed(&mut good, "during");
    let (code, reason) = hostile.close_code_and_reason();
    assert_eq!(code, 1009, "closed with {code} ({reason})");
    // Sent or cut off by the server's end of the connection: either is fine.
    let _ = sending.join().unwrap();
    server.wait_connections(1);
    assert_served_compressed(&mut good, "after");
    server.assert_peak_under("deflate bomb", 8);
}

fn a_corrupt_deflate_stream_is_closed_with_1007(start: Start) {
    let server = start(&[]);
    let mut good = good_client(server.addr());
    assert_served_compressed(&mut good, "before");
    let (mut hostile, agreed) = RawPeer::upgrade_deflate(server.addr(), DeflateOffer::default());
    eprintln!("hostile peer corrupt deflate: agreed {agreed}");

    // One good compressed message first: deflate works on this connection, so what
    // follows fails for its data alone. Binary, so that 1007 cannot come from UTF-8.
    let mut compress = Compress::new(Compression::default(), false);
    let first = b"a first message, compressed";
    hostile.send(Frame::binary(sync_flushed(&mut compress, first)).with_rsv(0b100));
    let echo = hostile.read_frame().unwrap();
    assert_eq!(echo.opcode(), OpCode::Binary);
    assert_eq!(echo.payload(), first);

    // The second message starts as valid deflate, continuing the first's window (the
    // context is kept), then has a stored block whose length (5) and its complement
    // (0, not 0xfffa) disagree: invalid deflate data (RFC 1951 section 3.2.4).
    let mut corrupt = sync_flushed(&mut compress, b"the second message starts well");
    // Stripping the tail left the empty stored block's header and padding in place,
    // so the next bytes are that block's LEN and NLEN.
    corrupt.extend_from_slice(&[0x05, 0x00, 0x00, 0x00]);
    corrupt.extend_from_slice(b"hello");
    hostile.send(Frame::binary(corrupt).with_rsv(0b100));
    assert_served_compressed(&mut good, "during");
    let (code, reason) = hostile.close_code_and_reason();
    assert_eq!(code, 1007, "closed with {code} ({reason})");
    assert!(reason.contains("deflate"), "the reason {reason:?}");
    server.wait_connections(1);
    assert_served_compressed(&mut good, "after");
    server.assert_peak_under("corrupt deflate stream", 8);
}

/// `zeros` bytes of zeros as one compressed message payload: raw deflate at the best
/// level (about 1,000:1), streamed from a 1 MiB buffer so nothing here holds them.
fn deflate_zeros(zeros: u64) -> Vec<u8> {
    let chunk = vec![0; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(usize::try_from(zeros / 1000).unwrap() + (64 << 10));
    while compress.total_in() < zeros {
        let left = usize::try_from(zeros - compress.total_in()).unwrap_or(usize::MAX);
        out.reserve(64 << 10);
        compress
            .compress_vec(
                &chunk[..left.min(chunk.len())],
                &mut out,
                FlushCompress::None,
            )
            .unwrap();
    }
    finish_sync_flush(&mut compress, &mut out);
    out
}

/// `data` compressed as the next message of `compress`'s stream, the tail stripped.
fn sync_flushed(compress: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let before = compress.total_in();
    while compress.total_in() - before < data.len() as u64 {
        let taken = usize::try_from(compress.total_in() - before).unwrap();
        out.reserve(1024);
        compress
            .compress_vec(&data[taken..], &mut out, FlushCompress::None)
            .unwrap();
    }
    finish_sync_flush(compress, &mut out);
    out
}

/// Sync-flushes `compress` into `out` until the flush is whole, then strips its tail.
fn finish_sync_flush(compress: &mut Compress, out: &mut Vec<u8>) {
    loop {
        out.reserve(64 << 10);
        compress
            .compress_vec(&[], out, FlushCompress::Sync)
            .unwrap();
        // Room left over means the backend had no more to write.
        if out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&TAIL), "a sync flush ends with its tail");
    out.truncate(out.len() - TAIL.len());
}

/// Checks that `client` still gets its messages echoed, compressed both ways: a text
/// well above the 64-byte size under which neither end compresses.
fn assert_served_compressed(client: &mut Client<TcpStream>, what: &str) {
    let stats = |client: &Client<TcpStream>| client.stream().unwrap().stats();
    let before = stats(client);
    let text = format!("{what}: ").repeat(2000);
    assert_served(client, &text);
    let after = stats(client);
    assert_eq!(
        (
            after.compressed_messages_sent - before.compressed_messages_sent,
            after.compressed_messages_received - before.compressed_messages_received
        ),
        (1, 1),
        "the well-behaved client's message and its echo went compressed"
    );
}

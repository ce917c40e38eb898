//! Benchmarks for the codec's hot paths, each against a peer and a physical limit.
//!
//! Run with `cargo bench -p ws-frame --bench codec -- --warm-up-time 1 --measurement-time 3`.
//!
//! - `mask_1MiB`: [`ws_frame::apply_mask`] in place against a plain `copy_from_slice` of
//!   the same size (the memory-bandwidth bound a masking loop should reach), and framing a
//!   masked 1 MiB payload with [`ws_frame::Frame::encode`] against tungstenite's
//!   `Frame::format`.
//! - `header_decode`: [`ws_frame::FrameHeader::decode`] against tungstenite's
//!   `FrameHeader::parse` on a mix of small headers, in headers per second.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tungstenite::protocol::frame::{self as tung, coding as tung_coding};
use ws_frame::{Decoded, DecoderConfig, Frame, FrameHeader, apply_mask};

criterion_group!(benches, mask, header_decode);
criterion_main!(benches);

const MIB: usize = 1 << 20;
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn mask(c: &mut Criterion) {
    let source = payload(MIB);
    let mut group = c.benchmark_group("mask_1MiB");
    group.throughput(Throughput::Bytes(MIB as u64));

    group.bench_function("memcpy", |b| {
        let mut dest = vec![0; MIB];
        b.iter(|| dest.copy_from_slice(black_box(&source)));
        black_box(&dest);
    });

    group.bench_function("ws_frame::apply_mask", |b| {
        let mut buf = source.clone();
        b.iter(|| apply_mask(black_box(&mut buf), black_box(KEY)));
        black_box(&buf);
    });

    // Framing copies the payload once and masks it once, in both libraries, so these two
    // compare like with like. tungstenite keeps its masking function private
    // (`protocol::frame::mask` is not a public module); `Frame::format` is the public way
    // to mask a payload with it. It masks the payload in place and then copies it out.
    group.bench_function("ws_frame::Frame::encode", |b| {
        let frame = Frame::binary(source.clone()).with_mask(KEY);
        let mut out = Vec::with_capacity(frame.encoded_len());
        b.iter(|| {
            out.clear();
            black_box(&frame).encode(&mut out);
            black_box(&out);
        });
    });

    group.bench_function("tungstenite::Frame::format", |b| {
        let header = tung::FrameHeader {
            opcode: tung_coding::OpCode::Data(tung_coding::Data::Binary),
            mask: Some(KEY),
            ..tung::FrameHeader::default()
        };
        let mut out = Vec::with_capacity(MIB + FrameHeader::MAX_LEN);
        b.iter_batched(
            // A uniquely owned `Bytes` becomes the `Vec` that `format` masks without a copy.
            || tung::Frame::from_payload(header.clone(), source.clone().into()),
            |frame| {
                out.clear();
                frame
                    .format(&mut out)
                    .expect("writing to a Vec cannot fail");
                black_box(&out);
            },
            BatchSize::PerIteration,
        );
    });

    group.finish();
}

fn header_decode(c: &mut Criterion) {
    // What a busy connection sees: short server frames, masked client frames and a few
    // medium and large ones.
    let headers: [&[u8]; 6] = [
        // Unmasked text, 5 bytes: a server's reply.
        &[0x81, 0x05],
        // Masked text, 5 bytes: a client's message.
        &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d],
        // Masked binary, 256 bytes: the 16-bit length form.
        &[0x82, 0xFE, 0x01, 0x00, 0x37, 0xfa, 0x21, 0x3d],
        // Masked ping, empty.
        &[0x89, 0x80, 0x37, 0xfa, 0x21, 0x3d],
        // Unmasked binary, 4 KiB.
        &[0x82, 0x7E, 0x10, 0x00],
        // Masked binary, 64 KiB: the 64-bit length form.
        &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xfa, 0x21, 0x3d],
    ];
    // Opaque, as a connection's configuration is: no folding the checks away.
    let config = black_box(DecoderConfig::default());
    for header in headers {
        assert!(matches!(
            FrameHeader::decode(header, &config),
            Ok(Decoded::Complete(_, len)) if len == header.len()
        ));
        let parsed = tung::FrameHeader::parse(&mut Cursor::new(header));
        assert!(matches!(parsed, Ok(Some(_))));
    }

    let mut group = c.benchmark_group("header_decode");
    group.throughput(Throughput::Elements(headers.len() as u64));

    group.bench_function("ws_frame::FrameHeader::decode", |b| {
        b.iter(|| {
            for header in black_box(&headers) {
                black_box(FrameHeader::decode(header, &config)).ok();
            }
        });
    });

    group.bench_function("tungstenite::FrameHeader::parse", |b| {
        b.iter(|| {
            for header in black_box(&headers) {
                let mut cursor = Cursor::new(*header);
                black_box(tung::FrameHeader::parse(&mut cursor)).ok();
                black_box(cursor.position());
            }
        });
    });

    group.finish();
}

/// Bytes that are not all alike, so nothing can skip work.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(157) ^ (i >> 8) as u8)
        .collect()
}

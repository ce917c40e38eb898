//! The heap an idle connection holds, measured with a counting global allocator: 1000
//! server streams over loopback sockets, each after one small read (and again after
//! one small echo), against tungstenite doing the same.
//!
//! A separate test binary because the global allocator must be alone; one test, so
//! that nothing else allocates while it counts.
#![allow(clippy::unwrap_used, clippy::print_stdout)]
// The allocator trait is unsafe to implement; each block only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicIsize, Ordering};

use tungstenite::protocol::{Role as TRole, WebSocket};
use ws_stream::{Config, Message, Role, Stream};

/// Counts the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Allocations and reallocations made, ever.
static ALLOCATIONS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// it upholds `GlobalAlloc`'s contract exactly as `System` does; the counter is a
// side effect that never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl.
        let ptr = unsafe { System.alloc(layout) };
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; see the impl.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if !new.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 1000;
/// The bound the issue sets for an idle connection.
const LIMIT: usize = 8 << 10;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// `CONNECTIONS` connected pairs: (client end, server end).
fn pairs() -> Vec<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    (0..CONNECTIONS)
        .map(|_| {
            let client = TcpStream::connect(address).unwrap();
            let (server, _) = listener.accept().unwrap();
            (client, server)
        })
        .collect()
}

/// A small masked text frame, as a client sends it.
fn small_client_frame() -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | 5];
    frame.extend_from_slice(&key);
    frame.extend(b"hello".iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

fn per_connection(before: isize, after: isize) -> usize {
    usize::try_from(after - before).unwrap_or(0) / CONNECTIONS
}

#[test]
fn idle_connection_heap() {
    let frame = small_client_frame();

    // Ours.
    let mut sockets = pairs();
    let clients: Vec<TcpStream> = sockets
        .iter()
        .map(|(c, _)| c.try_clone().unwrap())
        .collect();
    let before = live();
    let mut streams = Vec::with_capacity(CONNECTIONS);
    for ((_, server), mut client) in sockets.drain(..).zip(clients.iter()) {
        client.write_all(&frame).unwrap();
        let mut stream = Stream::with_role(server, Role::Server);
        assert_eq!(stream.read_message().unwrap(), Message::text("hello"));
        streams.push(stream);
    }
    let after_read = live();
    for stream in &mut streams {
        stream.send_text("hello").unwrap();
    }
    let after_echo = live();
    let ours_read = per_connection(before, after_read);
    let ours_echo = per_connection(before, after_echo);
    let reported = streams[0].buffer_capacity() + std::mem::size_of::<Stream<TcpStream>>();
    drop(streams);
    drop(clients);

    // Tungstenite, the same way.
    let mut sockets = pairs();
    let clients: Vec<TcpStream> = sockets
        .iter()
        .map(|(c, _)| c.try_clone().unwrap())
        .collect();
    let before = live();
    let mut sockets_ws = Vec::with_capacity(CONNECTIONS);
    for ((_, server), mut client) in sockets.drain(..).zip(clients.iter()) {
        client.write_all(&frame).unwrap();
        let mut ws = WebSocket::from_raw_socket(server, TRole::Server, None);
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text("hello"));
        sockets_ws.push(ws);
    }
    let theirs_read = per_connection(before, live());
    drop(sockets_ws);
    drop(clients);

    println!(
        "idle connection heap, per connection over {CONNECTIONS}: ws-stream {ours_read} B \
         after one read, {ours_echo} B after one echo (Stream::buffer_capacity + struct: \
         {reported} B); tungstenite {theirs_read} B after one read"
    );
    assert!(ours_read < LIMIT, "{ours_read} B per idle connection");
    assert!(ours_echo < LIMIT, "{ours_echo} B per idle connection");
    assert!(ours_read < theirs_read);

    core_connection_heap();
    owned_echo_allocations();

    // A header alone, announcing a 16 MiB frame (the default limit), must not make the
    // connection reserve 16 MiB before a byte of payload arrives.
    let mut receiver = ws_stream::proto::Receiver::new(Role::Server, &ws_stream::Config::default());
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(16u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    receiver.receive(&header);
    let before = live();
    assert!(
        receiver.poll().unwrap().is_none(),
        "the payload has not arrived"
    );
    let reserved = usize::try_from(live() - before).unwrap_or(0);
    assert!(
        reserved <= 1 << 20,
        "{reserved} B reserved for a bare header"
    );
}

/// An echo through two sans-IO connections, the server sending each message back
/// owned and the client recycling what it receives: after the first rounds no round
/// allocates, for 64 KiB messages (written from their own buffer, which then takes
/// the next message) and for 16 B ones (copied into the write buffer, their buffer
/// then taking the next message all the same).
fn owned_echo_allocations() {
    for size in [16, 64 << 10] {
        owned_echo_allocations_of(size);
    }
}

fn owned_echo_allocations_of(size: usize) {
    use std::time::Instant;
    use ws_stream::proto::{Connection, Incoming};

    /// Moves every pending byte of `from` into `to`, then answers `to`'s next message.
    fn deliver(from: &mut Connection, to: &mut Connection) -> Option<Message> {
        while !from.pending().is_empty() {
            let bytes = from.pending();
            let room = to.read_buffer();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            from.advance(n);
            to.filled(n, Instant::now());
        }
        match to.poll_event().unwrap() {
            Some(Incoming::Message(message)) => Some(message),
            _ => None,
        }
    }

    let now = Instant::now();
    let mut client = Connection::new(Role::Client, &Config::default(), now);
    let mut server = Connection::new(Role::Server, &Config::default(), now);
    let payload = vec![7; size];
    let round = |client: &mut Connection, server: &mut Connection| {
        client.send_binary(&payload).unwrap();
        let message = deliver(client, server).unwrap();
        server.send_owned(message).unwrap();
        let echo = deliver(server, client).unwrap();
        assert_eq!(echo.as_bytes(), payload);
        client.recycle(echo);
    };
    for _ in 0..3 {
        round(&mut client, &mut server);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        round(&mut client, &mut server);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    println!("owned {size} B echo: {allocations} allocations in 1000 round trips");
    assert_eq!(
        allocations, 0,
        "allocations in 1000 round trips of an owned {size} B echo"
    );
}

/// The sans-IO core as an event-driven server holds it: 1000 connections, each
/// having exchanged a message, then going idle (`release_buffers`, as a driver does
/// before it waits). Counted over the connections' own heap, the `Vec` holding them
/// included.
fn core_connection_heap() {
    use std::time::Instant;
    use ws_stream::Deflate;
    use ws_stream::proto::Connection;

    let small = small_client_frame();
    let mut large_sender = Connection::new(Role::Client, &Config::default(), Instant::now());
    large_sender.send_binary(&vec![7; 64 << 10]).unwrap();
    let large = large_sender.pending().to_vec();
    let json = r#"{"id":1,"name":"widget","tags":["a","b"],"price":9.99}"#.repeat(20);
    let takeover = Deflate::agreed(Role::Server, 12, 15, false, false);
    let reset = Deflate::agreed(Role::Server, 12, 15, true, true);
    let mut deflated = Vec::new();
    for deflate in [takeover, reset] {
        let client_side = Deflate::agreed(
            Role::Client,
            12,
            15,
            deflate.send_no_context_takeover,
            deflate.receive_no_context_takeover,
        );
        let mut sender = Connection::new(
            Role::Client,
            &Config::default().deflate(Some(client_side)),
            Instant::now(),
        );
        sender.send_text(&json).unwrap();
        deflated.push(sender.pending().to_vec());
    }
    let cases: [(&str, Config, &[u8]); 5] = [
        ("after a 5 B message", Config::default(), &small),
        (
            "after a 64 KiB message and its echo",
            Config::default(),
            &large,
        ),
        (
            "deflate, idle",
            Config::default().deflate(Some(takeover)),
            &[],
        ),
        (
            "deflate (context takeover), after one message and its echo",
            Config::default().deflate(Some(takeover)),
            &deflated[0],
        ),
        (
            "deflate (no context takeover), after one message and its echo",
            Config::default().deflate(Some(reset)),
            &deflated[1],
        ),
    ];
    let mut deflate_idle = usize::MAX;
    for (case, config, wire) in cases {
        let before = live();
        let mut connections = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let mut conn = Connection::new(Role::Server, &config, Instant::now());
            conn.receive(wire, Instant::now());
            while let Some(event) = conn.poll_event().unwrap() {
                if let ws_stream::proto::Incoming::Message(message) = event {
                    conn.send(&message).unwrap();
                }
            }
            let n = conn.pending().len();
            conn.advance(n);
            conn.release_buffers();
            connections.push(conn);
        }
        let per = per_connection(before, live());
        println!(
            "sans-IO connection heap, {case}, idle: {per} B per connection \
             (size_of::<Connection>() = {} B)",
            std::mem::size_of::<Connection>()
        );
        if config.deflate.is_none() {
            assert!(
                per <= std::mem::size_of::<Connection>() + 64,
                "{case}: {per} B held by an idle connection"
            );
        } else if wire.is_empty() {
            // What a deflate connection holds before any message: its boxed
            // compressor and decompressor state, no buffer.
            deflate_idle = per;
        } else if case.contains("no context") {
            assert!(
                per <= deflate_idle + 64,
                "{case}: {per} B held by an idle connection, {deflate_idle} B before \
                 its first message"
            );
        }
        drop(connections);
    }
}

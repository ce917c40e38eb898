//! Properties: any message cut into any fragments, with pings anywhere and the bytes
//! arriving in any chunk sizes, reads back whole with every ping answered; and any
//! bytes at all end in a message, an event or an error with its Close, never a panic.

use std::io::{self, Read, Write};

use proptest::prelude::*;
use ws_stream::{Error, Event, Message, Role, Stream};

use crate::support::*;

/// A [`Wire`] whose reads hand over at most `chunk` bytes.
#[derive(Debug)]
struct Chunked {
    wire: Wire,
    chunk: usize,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.wire.read(&mut buf[..n])
    }
}

impl Write for Chunked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.wire.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Server), Just(Role::Client)]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,300}".prop_map(Message::text),
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(Message::binary),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_fragmentation_reassembles(
        role in role(),
        message in message(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
        pings in proptest::collection::vec(any::<bool>(), 0..20),
        chunk in 1usize..200,
    ) {
        let bytes = message.as_bytes();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(bytes.len());
        let opcode = if message.is_text() { TEXT } else { BINARY };
        let mut input = Vec::new();
        let mut expected_pongs = Vec::new();
        let fragments = bounds.len() - 1;
        for (i, window) in bounds.windows(2).enumerate() {
            let op = if i == 0 { opcode } else { CONT };
            input.extend(peer_frame(role, op, i + 1 == fragments, &bytes[window[0]..window[1]]));
            if pings.get(i).copied().unwrap_or(false) {
                let payload = vec![i as u8; i % 126];
                input.extend(peer_frame(role, PING, true, &payload));
                expected_pongs.push(payload);
            }
        }
        let wire = Chunked { wire: Wire::new(input), chunk };
        let mut stream = Stream::with_role(wire, role);
        prop_assert_eq!(stream.read_message().unwrap(), message);
        let pongs: Vec<_> = parse_frames(&stream.get_ref().wire.output)
            .into_iter()
            .map(|f| f.payload)
            .collect();
        // Pings after the last fragment are answered by the next read.
        let answered = pongs.len();
        prop_assert_eq!(&pongs[..], &expected_pongs[..answered]);
        let _ = stream.read_event();
        let pongs = parse_frames(&stream.get_ref().wire.output).len();
        prop_assert_eq!(pongs, expected_pongs.len());
    }

    #[test]
    fn any_bytes_end_cleanly(
        role in role(),
        input in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut stream = wire(role, input);
        let error = loop {
            match stream.read_event() {
                Ok(Event::Close(_)) => break None,
                Ok(_) => {}
                Err(error) => break Some(error),
            }
        };
        let frames = parse_frames(&stream.get_ref().output);
        match error {
            Some(Error::Closed(frame)) => {
                prop_assert_eq!(frame.code.as_u16(), 1006);
                prop_assert!(frames.iter().all(|f| f.opcode == PONG));
            }
            Some(error) => {
                let code = error.close_code().map(|code| code.as_u16());
                prop_assert!(code.is_some(), "{:?}", error);
                prop_assert_eq!(frames.last().and_then(|f| f.close_code()), code);
            }
            None => prop_assert_eq!(frames.last().map(|f| f.opcode), Some(CLOSE)),
        }
        prop_assert!(matches!(stream.read_message(), Err(Error::AlreadyClosed)));
    }

    /// Valid text cut anywhere, byte-wise, still reads back.
    #[test]
    fn text_cut_anywhere(
        role in role(),
        text in "\\PC{0,60}",
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let bytes = text.as_bytes();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut input = Vec::new();
        let mut start = 0;
        for (i, &cut) in cuts.iter().enumerate() {
            let op = if i == 0 { TEXT } else { CONT };
            input.extend(peer_frame(role, op, false, &bytes[start..cut]));
            start = cut;
        }
        input.extend(peer_frame(role, CONT, true, &bytes[start..]));
        let mut stream = wire(role, input);
        prop_assert_eq!(stream.read_message().unwrap(), Message::text(text));
    }
}

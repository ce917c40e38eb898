//! What travels between nodes: the message with its publisher and sequence number,
//! on a subject named after its topic.

use ws_stream::Message;

/// The first byte of every envelope, so that a format change is refused, not
/// misread.
const VERSION: u8 = 1;
const TEXT: u8 = 1;
const BINARY: u8 = 2;
/// Version, origin, sequence, kind.
const HEADER: usize = 1 + 8 + 8 + 1;

/// A message as one node sends it to the others.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    pub(crate) origin: u64,
    pub(crate) sequence: u64,
    pub(crate) message: &'a Message,
}

impl Envelope<'_> {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let body = self.message.as_bytes();
        let mut out = Vec::with_capacity(HEADER + body.len());
        out.push(VERSION);
        out.extend_from_slice(&self.origin.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.push(if self.message.is_text() { TEXT } else { BINARY });
        out.extend_from_slice(body);
        out
    }

    /// The origin, the sequence number and the message; `None` for bytes that are
    /// not an envelope (or hold text that is not UTF-8).
    pub(crate) fn decode(bytes: &[u8]) -> Option<(u64, u64, Message)> {
        let (header, body) = bytes.split_at_checked(HEADER)?;
        if header[0] != VERSION {
            return None;
        }
        let origin = u64::from_be_bytes(header[1..9].try_into().ok()?);
        let sequence = u64::from_be_bytes(header[9..17].try_into().ok()?);
        let message = match header[17] {
            TEXT => Message::text(std::str::from_utf8(body).ok()?),
            BINARY => Message::binary(body),
            _ => return None,
        };
        Some((origin, sequence, message))
    }
}

/// The subject of `topic`: the prefix, then the topic with every byte outside
/// `[A-Za-z0-9_-]` written `%XX`, so that any topic name is one valid NATS token
/// (no `.`, `*`, `>` or space) and maps back exactly.
pub(crate) fn subject_for(prefix: &str, topic: &str) -> String {
    let mut subject = String::with_capacity(prefix.len() + topic.len());
    subject.push_str(prefix);
    for byte in topic.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            subject.push(char::from(byte));
        } else {
            subject.push_str(&format!("%{byte:02X}"));
        }
    }
    subject
}

/// The topic a subject names, if it is one of `prefix`'s.
pub(crate) fn topic_of(prefix: &str, subject: &str) -> Option<String> {
    let encoded = subject.strip_prefix(prefix)?.as_bytes();
    let mut topic = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            topic.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            topic.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(topic).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_strangers_are_refused() {
        for message in [Message::text("héllo"), Message::binary(vec![0, 255, 7])] {
            let bytes = Envelope {
                origin: 7,
                sequence: 42,
                message: &message,
            }
            .encode();
            assert_eq!(Envelope::decode(&bytes), Some((7, 42, message)));
        }
        assert_eq!(Envelope::decode(b"short"), None);
        let mut wrong = vec![9; HEADER];
        assert_eq!(Envelope::decode(&wrong), None);
        wrong[0] = VERSION;
        assert_eq!(Envelope::decode(&wrong), None, "kind 9 is unknown");
        wrong[17] = TEXT;
        wrong.push(0xff);
        assert_eq!(Envelope::decode(&wrong), None, "text must be utf-8");
    }

    #[test]
    fn any_topic_is_one_subject_token_that_maps_back() {
        for topic in ["room", "room/a b", "a.b.*.>", "100%", "日本", "-_"] {
            let subject = subject_for("ws.", topic);
            let token = &subject["ws.".len()..];
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-%".contains(&b)),
                "{subject}"
            );
            assert_eq!(topic_of("ws.", &subject).as_deref(), Some(topic));
        }
        assert_eq!(subject_for("ws.", "a.b"), "ws.a%2Eb");
        assert_eq!(topic_of("other.", "ws.room"), None);
        assert_eq!(topic_of("ws.", "ws.bad%zz"), None);
        assert_eq!(topic_of("ws.", "ws.cut%4"), None);
    }
}

//! What the bench runs: scenarios, payloads, the servers and clients it compares, and
//! what one server did under one scenario.

use std::time::Duration;

use ws_frame::OpCode;
use ws_stream::Message;

use crate::child::*;

#[derive(Debug)]
pub(crate) struct Scenario {
    pub(crate) key: &'static str,
    pub(crate) title: &'static str,
    pub(crate) connections: usize,
    pub(crate) payload: Payload,
    /// `None`: the next message as soon as the echo is back; `Some`: one per period.
    pub(crate) period: Option<Duration>,
    /// Messages each connection keeps in flight (1: send, wait for the echo, repeat).
    pub(crate) in_flight: usize,
    /// Connections opened, echoed once, then left idle: only memory is measured.
    pub(crate) idle: bool,
    /// The servers it runs against, in the order of the report's columns.
    pub(crate) group: &'static Group,
}

/// Servers compared with one another, and the ratios the report shows.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) servers: &'static [ServerKind],
    /// (numerator, denominator) pairs.
    pub(crate) ratios: &'static [(ServerKind, ServerKind)],
}

/// Thread-per-connection blocking servers: ours, tungstenite's, and the floor.
pub(crate) const BLOCKING: Group = Group {
    servers: &[ServerKind::Ours, ServerKind::Tungstenite, ServerKind::Floor],
    ratios: &[
        (ServerKind::Ours, ServerKind::Tungstenite),
        (ServerKind::Floor, ServerKind::Tungstenite),
    ],
};

/// Async servers on tokio: our `async-echo` example and the two peers of issue 10.
pub(crate) const ASYNC: Group = Group {
    servers: &[
        ServerKind::AsyncOurs,
        ServerKind::FastWebSockets,
        ServerKind::TokioTungstenite,
    ],
    ratios: &[
        (ServerKind::AsyncOurs, ServerKind::FastWebSockets),
        (ServerKind::AsyncOurs, ServerKind::TokioTungstenite),
    ],
};

impl Scenario {
    pub(crate) fn new(
        key: &'static str,
        title: &'static str,
        connections: usize,
        payload: Payload,
        period: Option<Duration>,
    ) -> Scenario {
        Scenario {
            key,
            title,
            connections,
            payload,
            period,
            in_flight: 1,
            idle: false,
            group: &BLOCKING,
        }
    }

    /// The same scenario against the async servers.
    pub(crate) fn on_async(mut self) -> Scenario {
        self.group = &ASYNC;
        self
    }

    /// `in_flight` messages in flight per connection.
    pub(crate) fn in_flight(mut self, in_flight: usize) -> Scenario {
        self.in_flight = in_flight.max(1);
        self
    }

    /// Connections that echo once and then stay idle.
    pub(crate) fn idle(mut self) -> Scenario {
        self.idle = true;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    Text16,
    Binary64K,
}

impl Payload {
    /// The message client `id` sends: varied per client so that a crossed echo shows.
    pub(crate) fn bytes(self, id: usize) -> Vec<u8> {
        match self {
            Payload::Text16 => (0..16).map(|i| b'a' + ((i + id) % 26) as u8).collect(),
            Payload::Binary64K => (0..64 << 10)
                .map(|i: usize| (i.wrapping_mul(31) ^ id) as u8)
                .collect(),
        }
    }

    pub(crate) fn opcode(self) -> OpCode {
        match self {
            Payload::Text16 => OpCode::Text,
            Payload::Binary64K => OpCode::Binary,
        }
    }

    pub(crate) fn message(self, id: usize) -> Message {
        match self {
            Payload::Text16 => {
                Message::Text(String::from_utf8(self.bytes(id)).unwrap_or_else(|_| "x".repeat(16)))
            }
            Payload::Binary64K => Message::Binary(self.bytes(id)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    Ours,
    Tungstenite,
    Floor,
    /// `target/release/examples/async-echo`, the facade's example, run as it is.
    AsyncOurs,
    FastWebSockets,
    TokioTungstenite,
}

impl ServerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ServerKind::Ours => "ours",
            ServerKind::Tungstenite => "tungstenite",
            ServerKind::Floor => "floor",
            ServerKind::AsyncOurs => "ours-async",
            ServerKind::FastWebSockets => "fastwebsockets",
            ServerKind::TokioTungstenite => "tokio-tungstenite",
        }
    }
}

/// One run of a scenario: an outcome per server, in the order of its group's servers.
#[derive(Debug)]
pub(crate) struct Run<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) run: u64,
    pub(crate) outcomes: Vec<Outcome>,
}

impl Run<'_> {
    pub(crate) fn of(&self, kind: ServerKind) -> Option<&Outcome> {
        let at = self
            .scenario
            .group
            .servers
            .iter()
            .position(|server| *server == kind)?;
        self.outcomes.get(at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientKind {
    Raw,
    WsClient,
}

impl ClientKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ClientKind::Raw => "raw (the minimal client of raw.rs)",
            ClientKind::WsClient => "ws-client",
        }
    }
}

/// What one server did under one scenario.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) connections: usize,
    pub(crate) messages: u64,
    pub(crate) failures: u64,
    pub(crate) elapsed: Duration,
    /// The server before any client connected.
    pub(crate) idle: Memory,
    /// Every client connected, before the load.
    pub(crate) connected: Memory,
    /// At the end of the load, connections still open.
    pub(crate) after: Memory,
    /// The server's CPU time while the load ran.
    pub(crate) cpu: CpuTime,
}

impl Outcome {
    pub(crate) fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// The server's CPU time per message echoed, in microseconds.
    /// NaN (shown as n/a) when the server used under a second of CPU: the kernel counts
    /// it in 10 ms ticks.
    pub(crate) fn cpu_per_message(&self, time: Duration) -> f64 {
        if self.cpu.user + self.cpu.system < Duration::from_secs(1) {
            return f64::NAN;
        }
        time.as_secs_f64() * 1e6 / self.messages.max(1) as f64
    }

    /// Resident memory per connection in KiB at the end: its growth over the idle server.
    pub(crate) fn resident_per_connection_kib(&self) -> f64 {
        self.after.rss_kib.saturating_sub(self.idle.rss_kib) as f64 / self.connections as f64
    }

    /// Peak memory per connection in KiB: the peak's growth over the idle server.
    pub(crate) fn per_connection_kib(&self) -> f64 {
        self.after.hwm_kib.saturating_sub(self.idle.hwm_kib) as f64 / self.connections as f64
    }
}

//! The load: client threads that connect, wait for one another, then echo until told
//! to stop, with the server's numbers taken around them.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ws_stream::Message;

use crate::BoxError;
use crate::child::*;
use crate::raw::*;
use crate::scenario::*;

/// What the client threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// All connected: the clock starts.
    pub(crate) ready: Barrier,
    /// All stopped, connections still open: memory is read.
    pub(crate) done: Barrier,
    /// Connections may close.
    pub(crate) release: Barrier,
    pub(crate) stop: AtomicBool,
    pub(crate) messages: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) first_error: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn fail(&self, error: &dyn std::fmt::Display) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        first.get_or_insert_with(|| error.to_string());
    }
}

/// Runs `scenario` against `server`; `during` runs on this thread while the load runs
/// and decides how long it lasts (it is given the live message counter).
pub(crate) fn run_load<T>(
    server: &ServerProcess,
    scenario: &Scenario,
    client: ClientKind,
    during: impl FnOnce(&ServerProcess, &AtomicU64) -> T,
) -> (Outcome, T) {
    let connections = scenario.connections;
    let shared = Arc::new(Shared {
        ready: Barrier::new(connections + 1),
        done: Barrier::new(connections + 1),
        release: Barrier::new(connections + 1),
        stop: AtomicBool::new(false),
        messages: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        first_error: Mutex::new(None),
    });
    let idle = server.memory();
    let mut threads = Vec::with_capacity(connections);
    for id in 0..connections {
        let shared = Arc::clone(&shared);
        let port = server.port;
        let payload = scenario.payload;
        let period = scenario.period;
        let in_flight = scenario.in_flight;
        let spawned = thread::Builder::new()
            .name(format!("load-{id}"))
            .stack_size(256 << 10)
            .spawn(move || {
                let load = ClientLoad {
                    id,
                    connections,
                    port,
                    kind: client,
                    payload,
                    period,
                    in_flight,
                };
                client_thread(&load, &shared)
            });
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(error) => panic!("spawning client thread {id}: {error}"),
        }
    }
    shared.ready.wait();
    let connected = server.memory();
    let cpu_before = CpuTime::of(server.pid());
    let start = Instant::now();
    let result = during(server, &shared.messages);
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    let cpu = CpuTime::of(server.pid()).since(cpu_before);
    shared.done.wait();
    let after = server.memory();
    shared.release.wait();
    for thread in threads {
        thread.join().ok();
    }
    if let Some(error) = shared
        .first_error
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
    {
        eprintln!("load:   first failure: {error}");
    }
    let outcome = Outcome {
        connections,
        messages: shared.messages.load(Ordering::Relaxed),
        failures: shared.failures.load(Ordering::Relaxed),
        elapsed,
        idle,
        connected,
        after,
        cpu,
    };
    (outcome, result)
}

/// What one client thread does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientLoad {
    pub(crate) id: usize,
    pub(crate) connections: usize,
    pub(crate) port: u16,
    pub(crate) kind: ClientKind,
    pub(crate) payload: Payload,
    pub(crate) period: Option<Duration>,
    pub(crate) in_flight: usize,
}

/// One client: connect, wait for the others, echo until told to stop.
pub(crate) fn client_thread(load: &ClientLoad, shared: &Shared) {
    let ClientLoad {
        id,
        connections,
        period,
        ..
    } = *load;
    let mut connection =
        match Connection::open(load.kind, load.port, id, load.payload, load.in_flight) {
            Ok(connection) => Some(connection),
            Err(error) => {
                shared.fail(&format_args!("connect: {error}"));
                None
            }
        };
    shared.ready.wait();
    if let Some(connection) = &mut connection {
        // Paced clients spread their messages over the period.
        let mut next = Instant::now()
            + period.map_or(Duration::ZERO, |period| {
                period * id as u32 / connections as u32
            });
        while !shared.stop.load(Ordering::Relaxed) {
            if let Some(period) = period {
                thread::sleep(next.saturating_duration_since(Instant::now()));
                next += period;
                if shared.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            match connection.echo() {
                Ok(echoed) => {
                    shared.messages.fetch_add(echoed, Ordering::Relaxed);
                }
                Err(error) => {
                    shared.fail(&format_args!("echo: {error}"));
                    break;
                }
            }
        }
    }
    shared.done.wait();
    shared.release.wait();
    drop(connection);
}

/// A client connection of either kind.
pub(crate) enum Connection {
    Raw(RawClient),
    WsClient(Box<ws_client::Client<TcpStream>>, Message),
}

impl Connection {
    pub(crate) fn open(
        kind: ClientKind,
        port: u16,
        id: usize,
        payload: Payload,
        in_flight: usize,
    ) -> Result<Connection, BoxError> {
        Ok(match kind {
            ClientKind::Raw => Connection::Raw(RawClient::open(port, id, payload, in_flight)?),
            ClientKind::WsClient if in_flight > 1 => {
                return Err("LOAD_CLIENT=ws-client keeps one message in flight".into());
            }
            ClientKind::WsClient => {
                let client = ws_client::connect(format!("ws://127.0.0.1:{port}/ws"))?;
                Connection::WsClient(Box::new(client), payload.message(id))
            }
        })
    }

    /// Echoes, answering how many messages came back.
    pub(crate) fn echo(&mut self) -> Result<u64, BoxError> {
        match self {
            Connection::Raw(client) => client.echo(),
            Connection::WsClient(client, message) => {
                client.send(message)?;
                match client.read_message()? {
                    echo if echo == *message => Ok(1),
                    _ => Err("mismatched echo".into()),
                }
            }
        }
    }
}

/// Opens `scenario.connections` connections from this thread, one after the other,
/// each echoing one message, then leaves them idle for a second before the server's
/// memory is read: what an idle connection costs.
pub(crate) fn run_idle(server: &ServerProcess, scenario: &Scenario) -> Outcome {
    let idle = server.memory();
    let cpu_before = CpuTime::of(server.pid());
    let start = Instant::now();
    let mut clients = Vec::with_capacity(scenario.connections);
    let mut failures = 0;
    let mut messages = 0;
    for id in 0..scenario.connections {
        let echoed = RawClient::open(server.port, id, scenario.payload, 1)
            .and_then(|mut client| client.echo().map(|echoed| (client, echoed)));
        match echoed {
            Ok((client, echoed)) => {
                messages += echoed;
                clients.push(client);
            }
            Err(error) => {
                if failures == 0 {
                    eprintln!("load:   first failure at connection {id}: {error}");
                }
                failures += 1;
            }
        }
    }
    let elapsed = start.elapsed();
    let connected = server.memory();
    // Time for every server to see its connections go quiet.
    thread::sleep(Duration::from_secs(1));
    let after = server.memory();
    let cpu = CpuTime::of(server.pid()).since(cpu_before);
    drop(clients);
    Outcome {
        connections: scenario.connections,
        messages,
        failures,
        elapsed,
        idle,
        connected,
        after,
        cpu,
    }
}

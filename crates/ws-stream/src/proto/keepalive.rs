use std::time::{Duration, Instant};

use crate::Config;

/// Keep-alive timers: when to ping an idle peer and when to give up on a silent one.
///
/// Sans-IO: the driver reports when it hears from the peer ([`Keepalive::heard`]) and
/// asks what is due at a given time ([`Keepalive::poll`]).
#[derive(Debug, Clone)]
pub struct Keepalive {
    ping_interval: Option<Duration>,
    idle_timeout: Option<Duration>,
    last_heard: Instant,
    last_ping: Option<Instant>,
}

/// What a [`Keepalive`] says is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// The peer has been quiet for the ping interval: send it a ping.
    Ping,
    /// The peer has been silent past the idle timeout: close with 1011 and give up.
    Expired,
}

impl Keepalive {
    /// Timers from `config`, counting from `now`.
    pub fn new(config: &Config, now: Instant) -> Keepalive {
        Keepalive {
            ping_interval: config.ping_interval,
            idle_timeout: config.idle_timeout,
            last_heard: now,
            last_ping: None,
        }
    }

    /// Whether any timer is configured.
    pub fn is_enabled(&self) -> bool {
        self.ping_interval.is_some() || self.idle_timeout.is_some()
    }

    /// Records that bytes arrived from the peer at `now`.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.last_ping = None;
    }

    /// The earliest time at which [`Keepalive::poll`] may have something to do.
    pub fn deadline(&self) -> Option<Instant> {
        let ping = self
            .ping_interval
            .map(|interval| self.last_ping.unwrap_or(self.last_heard) + interval);
        let idle = self.idle_timeout.map(|timeout| self.last_heard + timeout);
        match (ping, idle) {
            (Some(ping), Some(idle)) => Some(ping.min(idle)),
            (ping, idle) => ping.or(idle),
        }
    }

    /// What is due at `now`; a due ping counts as sent.
    pub fn poll(&mut self, now: Instant) -> Option<Timer> {
        if let Some(timeout) = self.idle_timeout
            && now >= self.last_heard + timeout
        {
            return Some(Timer::Expired);
        }
        let interval = self.ping_interval?;
        if now >= self.last_ping.unwrap_or(self.last_heard) + interval {
            self.last_ping = Some(now);
            return Some(Timer::Ping);
        }
        None
    }

    /// How long a blocking read may wait before a timer needs attention.
    ///
    /// While the peer is heard from regularly this stays constant (the ping interval,
    /// or the idle timeout without pings), so a driver that sets it on its socket only
    /// calls into the kernel when it changes. A read that began at or after the last
    /// time the peer was heard and waited this long finds the timer due.
    pub fn read_timeout(&self, now: Instant) -> Option<Duration> {
        if self.last_ping.is_none() {
            let steady = match (self.ping_interval, self.idle_timeout) {
                (Some(interval), Some(timeout)) => Some(interval.min(timeout)),
                (interval, timeout) => interval.or(timeout),
            };
            if steady.is_some() {
                return steady;
            }
        }
        let deadline = self.deadline()?;
        Some(
            deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers(ping: Option<u64>, idle: Option<u64>) -> (Keepalive, Instant) {
        let start = Instant::now();
        let config = Config::default()
            .ping_interval(ping.map(Duration::from_secs))
            .idle_timeout(idle.map(Duration::from_secs));
        (Keepalive::new(&config, start), start)
    }

    #[test]
    fn pings_after_the_interval_then_expires_after_the_timeout() {
        let (mut keepalive, start) = timers(Some(20), Some(40));
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(keepalive.poll(at(19)), None);
        assert_eq!(keepalive.poll(at(20)), Some(Timer::Ping));
        assert_eq!(keepalive.poll(at(30)), None, "one ping per interval");
        assert_eq!(
            keepalive.read_timeout(at(30)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(keepalive.poll(at(40)), Some(Timer::Expired));
    }

    #[test]
    fn hearing_from_the_peer_resets_both_timers() {
        let (mut keepalive, start) = timers(Some(20), Some(40));
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(keepalive.poll(at(20)), Some(Timer::Ping));
        keepalive.heard(at(25));
        assert_eq!(keepalive.poll(at(44)), None);
        assert_eq!(
            keepalive.read_timeout(at(44)),
            Some(Duration::from_secs(20))
        );
        assert_eq!(keepalive.poll(at(45)), Some(Timer::Ping));
    }

    #[test]
    fn pings_repeat_without_an_idle_timeout() {
        let (mut keepalive, start) = timers(Some(5), None);
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(keepalive.poll(at(5)), Some(Timer::Ping));
        assert_eq!(keepalive.poll(at(9)), None);
        assert_eq!(keepalive.poll(at(10)), Some(Timer::Ping));
        assert_eq!(keepalive.deadline(), Some(at(15)));
    }

    #[test]
    fn disabled_timers_never_fire() {
        let (mut keepalive, start) = timers(None, None);
        assert!(!keepalive.is_enabled());
        assert_eq!(keepalive.poll(start + Duration::from_secs(1 << 20)), None);
        assert_eq!(keepalive.read_timeout(start), None);
    }
}

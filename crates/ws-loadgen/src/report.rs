//! The Markdown report: a table per scenario, the goals, the system calls.

use std::fs;
use std::time::Duration;

use crate::scenario::*;
use crate::syscalls::*;

pub(crate) fn print_results(group: &Group, results: &[&Run<'_>], runs: u64) {
    let names: Vec<&str> = group.servers.iter().map(|kind| kind.name()).collect();
    println!("## Results: {}", names.join(", "));
    println!();
    println!(
        "Peak per connection = (VmHWM at the end of the load − VmHWM of the idle server) / \
         connections; resident likewise with VmRSS; CPU is the server process's, from \
         /proc/<pid>/stat, over the load."
    );
    println!();
    let mut header = String::from("| scenario | metric |");
    let mut rule = String::from("|---|---|");
    for kind in group.servers {
        header.push_str(&format!(" {} |", kind.name()));
        rule.push_str("---:|");
    }
    for (numerator, denominator) in group.ratios {
        header.push_str(&format!(" {}/{} |", numerator.name(), denominator.name()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let metrics: [(&str, Metric); 9] = [
        ("messages/s", Metric::new(Outcome::rate, 0)),
        (
            "failures",
            Metric::new(|outcome| outcome.failures as f64, 0).without_ratio(),
        ),
        (
            "server CPU per message, µs",
            Metric::new(
                |outcome| outcome.cpu_per_message(outcome.cpu.user + outcome.cpu.system),
                2,
            ),
        ),
        (
            "… of which user space, µs",
            Metric::new(|outcome| outcome.cpu_per_message(outcome.cpu.user), 2),
        ),
        (
            "server peak RSS (VmHWM), MiB",
            Metric::new(move |outcome| mib(outcome.after.hwm_kib), 1),
        ),
        (
            "idle server VmHWM, MiB",
            Metric::new(move |outcome| mib(outcome.idle.hwm_kib), 1).without_ratio(),
        ),
        (
            "VmRSS connected before load / at end, MiB",
            Metric::pair(
                move |outcome| mib(outcome.connected.rss_kib),
                move |outcome| mib(outcome.after.rss_kib),
            ),
        ),
        (
            "peak per connection, KiB",
            Metric::new(Outcome::per_connection_kib, 1),
        ),
        (
            "resident per connection at end, KiB",
            Metric::new(Outcome::resident_per_connection_kib, 1),
        ),
    ];
    for result in results {
        let mut title = result.scenario.title.to_owned();
        if result.scenario.in_flight > 1 {
            title.push_str(&format!(" ({} in flight)", result.scenario.in_flight));
        }
        if result.scenario.idle {
            title.push_str(&format!(" ({})", result.scenario.connections));
        }
        if runs > 1 {
            title.push_str(&format!(" run {}", result.run));
        }
        for (index, (name, metric)) in metrics.iter().enumerate() {
            let mut line = format!(
                "| {} | {name} |",
                if index == 0 { title.as_str() } else { "" }
            );
            for outcome in &result.outcomes {
                line.push_str(&format!(" {} |", metric.show(outcome)));
            }
            for (numerator, denominator) in group.ratios {
                let cell = match (metric.ratio, result.of(*numerator), result.of(*denominator)) {
                    (true, Some(outcome), Some(base)) => {
                        ratio((metric.value)(outcome), (metric.value)(base))
                    }
                    _ => String::new(),
                };
                line.push_str(&format!(" {cell} |"));
            }
            println!("{line}");
        }
    }
    println!();
}

/// A row of the results table.
pub(crate) struct Metric {
    pub(crate) value: Value,
    /// A second value shown after a slash, without ratio.
    pub(crate) second: Option<Value>,
    pub(crate) decimals: usize,
    pub(crate) ratio: bool,
}

pub(crate) type Value = Box<dyn Fn(&Outcome) -> f64>;

impl Metric {
    pub(crate) fn new(value: impl Fn(&Outcome) -> f64 + 'static, decimals: usize) -> Metric {
        Metric {
            value: Box::new(value),
            second: None,
            decimals,
            ratio: true,
        }
    }

    pub(crate) fn pair(
        first: impl Fn(&Outcome) -> f64 + 'static,
        second: impl Fn(&Outcome) -> f64 + 'static,
    ) -> Metric {
        Metric {
            value: Box::new(first),
            second: Some(Box::new(second)),
            decimals: 1,
            ratio: false,
        }
    }

    pub(crate) fn without_ratio(mut self) -> Metric {
        self.ratio = false;
        self
    }

    pub(crate) fn show(&self, outcome: &Outcome) -> String {
        let decimals = self.decimals;
        let value = (self.value)(outcome);
        if value.is_nan() {
            return "n/a".to_owned();
        }
        let first = format!("{value:.decimals$}");
        match &self.second {
            Some(second) => format!("{first} / {:.decimals$}", second(outcome)),
            None => first,
        }
    }
}

pub(crate) fn print_goals(results: &[&Run<'_>]) {
    println!("## Goals");
    println!();
    for result in results {
        let (Some(ours), Some(tungstenite)) = (
            result.of(ServerKind::Ours),
            result.of(ServerKind::Tungstenite),
        ) else {
            continue;
        };
        let (what, value, goal, met) = match result.scenario.key {
            "a" | "b" => {
                let goal = if result.scenario.key == "a" { 1.3 } else { 1.5 };
                let value = ours.rate() / tungstenite.rate();
                (
                    "messages/s ratio",
                    value,
                    format!(">= {goal}"),
                    value >= goal,
                )
            }
            "c" => {
                let value = ours.per_connection_kib() / tungstenite.per_connection_kib();
                (
                    "peak memory per connection ratio",
                    value,
                    "< 0.25".to_owned(),
                    value < 0.25,
                )
            }
            _ => {
                let value = ours.rate() / tungstenite.rate();
                ("messages/s ratio (no goal)", value, "-".to_owned(), true)
            }
        };
        let failures: u64 = result.outcomes.iter().map(|outcome| outcome.failures).sum();
        println!(
            "- {} run {}: {what} {value:.2} (goal {goal}): {}; failures {failures} (goal 0): {}",
            result.scenario.title,
            result.run,
            if met { "met" } else { "MISSED" },
            if failures == 0 { "met" } else { "MISSED" },
        );
    }
    println!();
}

pub(crate) fn print_syscalls(
    scenario: &Scenario,
    counts: &[Syscalls],
    tracer: Tracer,
    window: Duration,
) {
    println!(
        "## System calls per echoed message, server side, {} ({}, {} s window)",
        scenario.title,
        tracer.name(),
        window.as_secs()
    );
    println!();
    let names: Vec<&str> = counts
        .iter()
        .flat_map(|count| count.calls.keys().map(String::as_str))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut header = String::from("| syscall |");
    let mut rule = String::from("|---|");
    for count in counts {
        header.push_str(&format!(" {} |", count.kind.name()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mut rows: Vec<(f64, String)> = names
        .iter()
        .map(|name| {
            let mut line = format!("| {name} |");
            let mut most = 0.0_f64;
            for count in counts {
                let per = count.per_message(count.calls.get(*name).copied().unwrap_or(0));
                most = most.max(per);
                line.push_str(&format!(" {per:.3} |"));
            }
            (most, line)
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, line) in rows {
        println!("{line}");
    }
    let mut total = String::from("| **total** |");
    let mut messages = String::from("| messages traced |");
    for count in counts {
        total.push_str(&format!(" **{:.3}** |", count.per_message(count.total())));
        messages.push_str(&format!(" {} |", count.messages));
    }
    println!("{total}");
    println!("{messages}");
    println!();
}

pub(crate) fn ratio(value: f64, base: f64) -> String {
    if base > 0.0 && value.is_finite() {
        format!("{:.2}x", value / base)
    } else {
        "-".to_owned()
    }
}

pub(crate) fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The async scenarios as issue 10's table (a row per server, messages/s unless the
/// column says otherwise), its ratios, and its targets, met or missed.
pub(crate) fn print_async_summary(results: &[&Run<'_>]) {
    let runs: std::collections::BTreeSet<u64> = results.iter().map(|result| result.run).collect();
    for run in runs {
        let find = |key: &str| {
            results
                .iter()
                .find(|result| result.run == run && result.scenario.key == key)
        };
        let get = |key: &str, kind: ServerKind, value: &dyn Fn(&Outcome) -> f64| {
            find(key)
                .and_then(|result| result.of(kind))
                .map_or(f64::NAN, value)
        };
        let rate = |outcome: &Outcome| outcome.rate();
        let cpu =
            |outcome: &Outcome| outcome.cpu_per_message(outcome.cpu.user + outcome.cpu.system);
        let peak_mib = |outcome: &Outcome| outcome.after.hwm_kib as f64 / 1024.0;
        let idle_kib = |outcome: &Outcome| outcome.resident_per_connection_kib();
        let in_flight = find("x16-pipe").map_or(0, |result| result.scenario.in_flight);
        let idle_count = find("idle").map_or(0, |result| result.scenario.connections);
        let columns: [Column<'_>; 10] = [
            ("16 B x 64".into(), "x16", &rate, 0),
            ("16 B x 512".into(), "x16-512", &rate, 0),
            ("64 KiB x 64".into(), "x64k", &rate, 0),
            ("64 KiB x 512".into(), "x64k-512", &rate, 0),
            ("CPU/msg at 16 B x 64, µs".into(), "x16", &cpu, 2),
            ("CPU/msg at 16 B x 512, µs".into(), "x16-512", &cpu, 2),
            (
                "peak RSS at 512 conns (16 B), MiB".into(),
                "x16-512",
                &peak_mib,
                1,
            ),
            (
                format!("16 B x 64, {in_flight} in flight"),
                "x16-pipe",
                &rate,
                0,
            ),
            ("CPU/msg there, µs".into(), "x16-pipe", &cpu, 2),
            (
                format!("KiB/conn at {idle_count} idle"),
                "idle",
                &idle_kib,
                1,
            ),
        ];
        println!("## Issue 10's table, run {run}");
        println!();
        let mut header = String::from("| server |");
        let mut rule = String::from("|---|");
        for (name, ..) in &columns {
            header.push_str(&format!(" {name} |"));
            rule.push_str("---:|");
        }
        println!("{header}");
        println!("{rule}");
        for &kind in ASYNC.servers {
            let mut line = format!("| {} |", kind.name());
            for (_, key, value, decimals) in &columns {
                let value = get(key, kind, value);
                line.push_str(&format!(" {} |", show(value, *decimals)));
            }
            println!("{line}");
        }
        for (numerator, denominator) in ASYNC.ratios {
            let mut line = format!("| {}/{} |", numerator.name(), denominator.name());
            for (_, key, value, _) in &columns {
                let cell = ratio(get(key, *numerator, value), get(key, *denominator, value));
                line.push_str(&format!(" {cell} |"));
            }
            println!("{line}");
        }
        println!();
        let ours = ServerKind::AsyncOurs;
        let fast = ServerKind::FastWebSockets;
        let tokio_tungstenite = ServerKind::TokioTungstenite;
        let versus = |key: &str, value: &dyn Fn(&Outcome) -> f64, base: ServerKind| {
            get(key, ours, value) / get(key, base, value)
        };
        let targets: Vec<(String, f64, bool)> = vec![
            at_least(
                "16 B x 64 messages/s vs fastwebsockets",
                versus("x16", &rate, fast),
                1.1,
            ),
            at_most(
                "16 B x 64 CPU/msg vs fastwebsockets",
                versus("x16", &cpu, fast),
                0.9,
            ),
            at_least(
                "16 B x 512 messages/s vs fastwebsockets",
                versus("x16-512", &rate, fast),
                1.1,
            ),
            at_most(
                "16 B x 512 CPU/msg vs fastwebsockets",
                versus("x16-512", &cpu, fast),
                0.9,
            ),
            at_least(
                "64 KiB x 64 messages/s vs fastwebsockets",
                versus("x64k", &rate, fast),
                1.3,
            ),
            at_least(
                "64 KiB x 512 messages/s vs fastwebsockets",
                versus("x64k-512", &rate, fast),
                1.3,
            ),
            at_least(
                "16 B x 64 in flight messages/s vs tokio-tungstenite",
                versus("x16-pipe", &rate, tokio_tungstenite),
                2.0,
            ),
            at_most(
                "16 B x 64 in flight CPU/msg vs tokio-tungstenite",
                versus("x16-pipe", &cpu, tokio_tungstenite),
                0.45,
            ),
            at_most(
                "peak RSS at 512 conns, MiB",
                get("x16-512", ours, &peak_mib),
                4.0,
            ),
        ];
        println!("Targets (a target not measured is missed):");
        println!();
        for (what, _, met) in &targets {
            println!("- {what}: {}", if *met { "met" } else { "MISSED" });
        }
        println!(
            "- KiB per idle connection at {idle_count}: {} (no target)",
            show(get("idle", ours, &idle_kib), 1)
        );
        println!();
    }
}

/// A column of issue 10's table: its title, the scenario, the value, its decimals.
type Column<'a> = (String, &'a str, &'a dyn Fn(&Outcome) -> f64, usize);

fn at_least(what: &str, value: f64, goal: f64) -> (String, f64, bool) {
    (
        format!("{what} {} (goal >= {goal})", show(value, 2)),
        value,
        value >= goal,
    )
}

fn at_most(what: &str, value: f64, goal: f64) -> (String, f64, bool) {
    (
        format!("{what} {} (goal <= {goal})", show(value, 2)),
        value,
        value <= goal,
    )
}

fn show(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "n/a".to_owned()
    }
}

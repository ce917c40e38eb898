//! The Markdown report: a table per scenario, the goals, the system calls.

use std::fs;
use std::time::Duration;

use crate::scenario::*;
use crate::syscalls::*;

pub(crate) fn print_results(results: &[Run<'_>], runs: u64) {
    println!("## Results");
    println!();
    println!(
        "Ratios are against tungstenite. Peak per connection = (VmHWM at the end of the load \
         − VmHWM of the idle server) / connections; CPU is the server process's, from \
         /proc/<pid>/stat, over the load."
    );
    println!();
    let mut header = String::from("| scenario | metric |");
    let mut rule = String::from("|---|---|");
    for kind in SERVERS {
        header.push_str(&format!(" {} |", kind.name()));
        rule.push_str("---:|");
    }
    for kind in SERVERS
        .iter()
        .filter(|kind| **kind != ServerKind::Tungstenite)
    {
        header.push_str(&format!(" {}/tungstenite |", kind.name()));
        rule.push_str("---:|");
    }
    println!("{header}");
    println!("{rule}");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let metrics: [(&str, Metric); 8] = [
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
    ];
    for result in results {
        let title = match runs {
            1 => result.scenario.title.to_owned(),
            _ => format!("{} run {}", result.scenario.title, result.run),
        };
        for (index, (name, metric)) in metrics.iter().enumerate() {
            let mut line = format!(
                "| {} | {name} |",
                if index == 0 { title.as_str() } else { "" }
            );
            for outcome in &result.outcomes {
                line.push_str(&format!(" {} |", metric.show(outcome)));
            }
            let base = result.of(ServerKind::Tungstenite);
            for kind in SERVERS
                .iter()
                .filter(|kind| **kind != ServerKind::Tungstenite)
            {
                let cell = match (metric.ratio, result.of(*kind), base) {
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

pub(crate) fn print_goals(results: &[Run<'_>]) {
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

//! The client side of the Autobahn conformance suite: runs every case the suite's
//! server offers, echoing each message back, as `run-client-suite.sh` expects.
//!
//! ```text
//! cargo run --release --example autobahn-client [BASE_URL [AGENT]]
//! ```
//!
//! `BASE_URL` defaults to `ws://127.0.0.1:9001`, `AGENT` to `websockets`. `tests/autobahn.sh`
//! runs it; see README's "Conformance" section.
#![allow(clippy::print_stderr)]

use websockets::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "websockets".into());

    let mut counter = websockets::client::connect(format!("{base}/getCaseCount"))?;
    let count: u32 = match counter.read_message()? {
        Message::Text(text) => text.trim().parse()?,
        other => return Err(format!("case count is not text: {other:?}").into()),
    };
    counter.close().ok();

    // Many cases break the protocol on purpose, so our client ending them with an error
    // is expected; whether it ended them rightly is the report's business.
    let errors = (1..=count)
        .filter(|&case| run_case(&base, &agent, case).is_err())
        .count();
    eprintln!("autobahn-client: {count} cases run, {errors} ended by an error on our side");
    let mut update = websockets::client::connect(format!("{base}/updateReports?agent={agent}"))?;
    update.close().ok();
    Ok(())
}

/// Echoes every message of case `case` until the suite's server ends the connection.
fn run_case(base: &str, agent: &str, case: u32) -> Result<(), websockets::client::Error> {
    let mut client =
        websockets::client::connect(format!("{base}/runCase?case={case}&agent={agent}"))?;
    loop {
        match client.read_message() {
            Ok(message) => client.send(&message)?,
            Err(error) if error.is_closed() => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}

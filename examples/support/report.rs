//! How the examples end: a failure is printed with its message (`Display`), which
//! names the cause, rather than the `Debug` form `main` would print.

use std::error::Error;
use std::process::ExitCode;

/// Prints `result`'s error, if any, on standard error, and answers the exit code.
pub(crate) fn exit(result: Result<(), Box<dyn Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

//! What the client examples share: send typed lines, print what arrives.

use std::io::{BufRead, Read, Write};

use websockets::Message;
use websockets::stream::{Socket, Split};

/// Sends each line of standard input as a text message and prints every message that
/// arrives, until the input ends; then closes the connection cleanly.
pub(crate) fn type_at<S>(stream: websockets::Stream<S>) -> Result<(), Box<dyn std::error::Error>>
where
    S: Read + Write + Socket + Split + 'static,
{
    // One thread prints what arrives while this one sends what is typed.
    let (mut reader, writer) = stream.split()?;
    let printer = std::thread::spawn(move || {
        loop {
            match reader.read_message() {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<{} bytes of binary data>", data.len()),
                Err(error) => {
                    eprintln!("connection closed: {error}");
                    break;
                }
            }
        }
    });
    for line in std::io::stdin().lock().lines() {
        writer.send_text(line?)?;
    }
    writer.close()?;
    printer.join().ok();
    Ok(())
}

//! The opening handshake's I/O: the request out, the response head in, and the bytes
//! that came after it kept for the connection.

use std::io::{Read, Write};

use ws_handshake::{Accepted, ClientRequest};

use crate::exchange::{BeforeIo, read_head, write_request};
use crate::{ClientConfig, Error, Url};

/// A handshake that succeeded.
#[derive(Debug)]
pub(crate) struct Upgraded {
    /// The server's accepted response.
    pub(crate) accepted: Accepted,
    /// The bytes received after the response head (a first frame the server may have
    /// sent at once), which belong to the connection.
    pub(crate) read_ahead: Vec<u8>,
}

/// Sends the request for `url`, reads and checks the response.
pub(crate) fn perform<S: Read + Write>(
    socket: &mut S,
    url: &Url,
    config: &ClientConfig,
    before_io: BeforeIo<'_, S>,
) -> Result<Upgraded, Error> {
    let (request, pending) = build_request(url, config).build()?;
    write_request(socket, &request, before_io)?;
    let (response, read_ahead) = read_head(socket, config.limits, before_io)?;
    Ok(Upgraded {
        accepted: pending.validate(response)?,
        read_ahead,
    })
}

/// The connection's settings after a handshake that `accepted`: one place for the
/// blocking and the async client, so that what the server agreed to (an extension)
/// reaches both alike.
pub(crate) fn stream_config(config: &ClientConfig, accepted: &Accepted) -> ws_stream::Config {
    config.stream_config(accepted.deflate())
}

pub(crate) fn build_request(url: &Url, config: &ClientConfig) -> ClientRequest {
    let mut request = ClientRequest::new(url.host_header(), url.target())
        .protocols(config.protocols.iter().cloned())
        .deflate(config.deflate);
    if let Some(origin) = &config.origin {
        request = request.origin(origin.clone());
    }
    for (name, value) in &config.headers {
        request = request.header(name.clone(), value.clone());
    }
    request
}

//! The async server's writers as topic members: `AsyncWriter::try_send_prepared`
//! queues without waiting already, and the connection's own task writes the rest.

use tokio::io::{AsyncRead, AsyncWrite};
use ws_stream::{AsyncWriter, PreparedMessage};

use crate::TopicWriter;

impl<S> TopicWriter for AsyncWriter<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn try_send_prepared(&self, message: &PreparedMessage) -> ws_stream::Result<()> {
        AsyncWriter::try_send_prepared(self, message)
    }
}

//! Topics on the async server (feature `tokio`): `AsyncWriter` members, a slow
//! subscriber dropped from its topic while the publisher and a fast subscriber go on,
//! and subscriptions that end with their connection.

use std::net::TcpStream;

use tokio::net::TcpStream as TokioTcp;
use ws_server::{AsyncServer, AsyncServerHandle, Topics};
use ws_stream::{AsyncWriter, Message};

use crate::support::{Client, TEXT, client_frame, connect, next_text, quick_config, raw_upgrade};

type AsyncTopics = Topics<AsyncWriter<TokioTcp>>;

/// `/t` subscribes each connection to the topic its first message names and
/// answers `ok`; what it sends after that is published on that topic.
async fn topic_server(topics: &AsyncTopics, config: ws_server::ServerConfig) -> AsyncServerHandle {
    let mut server = AsyncServer::new("127.0.0.1:0").with_config(config);
    let topics = topics.clone();
    server
        .on_connect_split("/t", move |mut reader, writer, path| {
            let topics = topics.clone();
            async move {
                let me = topics.attach(writer.clone(), path);
                let Ok(first) = reader.recv().await else {
                    return Ok(());
                };
                let topic = first.as_text().unwrap_or_default().to_owned();
                me.subscribe(&topic)?;
                writer.send_text("ok").await?;
                while let Ok(message) = reader.recv().await {
                    topics.publish(&topic, &message);
                }
                Ok(())
            }
        })
        .unwrap();
    server.spawn().await.unwrap()
}

fn joined(addr: std::net::SocketAddr, topic: &str) -> Client {
    let mut client = connect(addr, "/t");
    client.send(tungstenite::Message::text(topic)).unwrap();
    assert_eq!(next_text(&mut client), "ok");
    client
}

#[tokio::test]
async fn a_slow_async_subscriber_is_dropped_and_the_others_get_everything() {
    let topics = AsyncTopics::new();
    let config = quick_config().stream(ws_stream::Config::default().max_write_buffer(64 << 10));
    let handle = topic_server(&topics, config).await;
    let addr = handle.local_addr();
    let watched = topics.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut fast = joined(addr, "feed");
        let mut slow: TcpStream = raw_upgrade(addr, "/t");
        std::io::Write::write_all(&mut slow, &client_frame(TEXT, b"feed")).unwrap();
        crate::support::wait_until("both are subscribed", || watched.subscribers("feed") == 2);
        let body = "y".repeat(32 << 10);
        let mut sent = 0;
        // Bounded so that a broken policy fails instead of running on.
        while watched.stats().slow == 0 && sent < 4000 {
            let message = format!("{sent} {body}");
            watched.publish("feed", &Message::text(message.clone()));
            assert_eq!(next_text(&mut fast), message);
            sent += 1;
        }
        let still = watched.subscribers("feed");
        for n in 0..10 {
            assert_eq!(watched.publish("feed", &Message::text(n.to_string())), 1);
            assert_eq!(next_text(&mut fast), n.to_string());
        }
        // What a connection publishes reaches it too, as a subscriber of the topic.
        fast.send(tungstenite::Message::text("from fast")).unwrap();
        assert_eq!(next_text(&mut fast), "from fast");
        drop(slow);
        fast.close(None).unwrap();
        while fast.read().is_ok() {}
        (watched.stats().slow, still)
    })
    .await
    .unwrap();
    assert_eq!(outcome, (1, 1));
    let deadline = std::time::Instant::now() + crate::support::STUCK;
    while !topics.active().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the topic never emptied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    handle.shutdown().await;
}

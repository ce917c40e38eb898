//! Topics on the blocking server: subscribe and publish by name, the subscribe hook,
//! subscriptions that end with their connection, and a slow subscriber dropped from
//! its topic without stalling the publisher or the others.

use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use ws_server::{QueuedWriter, Server, ServerHandle, TopicLimits, Topics};
use ws_stream::Message;

use crate::support::{Client, connect, next_text, quick_config, raw_upgrade, wait_until};

type BlockingTopics = Topics<QueuedWriter<TcpStream>>;

/// A server on `/t` whose clients drive their subscriptions with text commands:
/// `sub NAME`, `unsub NAME`, `pub NAME TEXT`; each is answered `ok` or `err: ...`
/// on the connection before anything else is sent to it.
fn topic_server(topics: &BlockingTopics, config: ws_server::ServerConfig) -> ServerHandle {
    let mut server = Server::new("127.0.0.1:0").with_config(config);
    let topics = topics.clone();
    server
        .on_connect_split("/t", move |reader, writer, path| {
            let me = topics.attach(QueuedWriter::new(writer.clone()), path);
            while let Ok(message) = reader.read_message() {
                let Some(text) = message.as_text() else {
                    continue;
                };
                let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
                let answer = match verb {
                    "sub" => me.subscribe(rest).map(|()| "ok".to_owned()),
                    "unsub" => Ok(if me.unsubscribe(rest) { "ok" } else { "not in" }.into()),
                    "pub" => {
                        let (topic, body) = rest.split_once(' ').unwrap_or((rest, ""));
                        writer.send_text("ok")?;
                        topics.publish(topic, &Message::text(body));
                        continue;
                    }
                    _ => Ok("unknown".to_owned()),
                };
                let answer = answer.unwrap_or_else(|error| format!("err: {error}"));
                writer.send_text(answer)?;
            }
            Ok(())
        })
        .unwrap();
    server.spawn().unwrap()
}

fn ask(client: &mut Client, command: &str) -> String {
    client.send(tungstenite::Message::text(command)).unwrap();
    next_text(client)
}

#[test]
fn a_publish_reaches_each_subscriber_of_its_topic_once() {
    let topics = BlockingTopics::new();
    let handle = topic_server(&topics, quick_config());
    let addr = handle.local_addr();
    let mut a1 = connect(addr, "/t");
    let mut a2 = connect(addr, "/t");
    let mut b = connect(addr, "/t");
    assert_eq!(ask(&mut a1, "sub a"), "ok");
    assert_eq!(ask(&mut a2, "sub a"), "ok");
    assert_eq!(
        ask(&mut a2, "sub a"),
        "ok",
        "subscribing twice changes nothing"
    );
    assert_eq!(ask(&mut b, "sub b"), "ok");
    assert_eq!(topics.subscribers("a"), 2);

    assert_eq!(topics.publish("a", &Message::text("to a")), 2);
    assert_eq!(topics.publish("b", &Message::text("to b")), 1);
    assert_eq!(topics.publish("nobody", &Message::text("lost")), 0);
    assert_eq!(next_text(&mut a1), "to a");
    assert_eq!(next_text(&mut a2), "to a");
    assert_eq!(next_text(&mut b), "to b");

    // A connection publishes too, and the next message each gets is the next one
    // on its topic: nothing was sent twice.
    assert_eq!(ask(&mut b, "pub a from b"), "ok");
    assert_eq!(next_text(&mut a1), "from b");
    assert_eq!(next_text(&mut a2), "from b");
    assert_eq!(ask(&mut a1, "unsub a"), "ok");
    assert_eq!(ask(&mut a1, "unsub a"), "not in");
    assert_eq!(topics.publish("a", &Message::text("second")), 1);
    assert_eq!(next_text(&mut a2), "second");
    assert_eq!(ask(&mut a1, "sub b"), "ok");
    topics.publish("b", &Message::text("b again"));
    assert_eq!(next_text(&mut a1), "b again");
    assert_eq!(next_text(&mut b), "b again");
    let stats = topics.stats();
    assert_eq!((stats.delivered, stats.slow, stats.ended), (8, 0, 0));
    handle.shutdown();
}

#[test]
fn subscriptions_end_with_their_connection_and_the_interest_listener_hears_it() {
    let topics = BlockingTopics::new();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let listener = Arc::clone(&heard);
    let watched = topics.clone();
    topics.on_interest(move |topic| {
        let count = watched.subscribers(topic);
        listener.lock().unwrap().push(format!("{topic}={count}"));
    });
    let handle = topic_server(&topics, quick_config());
    let mut first = connect(handle.local_addr(), "/t");
    let mut second = connect(handle.local_addr(), "/t");
    assert_eq!(ask(&mut first, "sub room"), "ok");
    assert_eq!(ask(&mut second, "sub room"), "ok");
    assert_eq!(ask(&mut second, "sub other"), "ok");
    let mut active = topics.active();
    active.sort();
    assert_eq!(active, ["other", "room"]);

    second.close(None).unwrap();
    wait_until("the closed connection's topics are gone", || {
        topics.subscribers("other") == 0
    });
    assert_eq!(topics.subscribers("room"), 1);
    first.close(None).unwrap();
    wait_until("the last subscriber is gone", || topics.active().is_empty());
    assert_eq!(
        *heard.lock().unwrap(),
        ["room=1", "other=1", "other=0", "room=0"]
    );
    handle.shutdown();
}

#[test]
fn the_subscribe_hook_and_the_limits_decide_what_a_client_may_join() {
    let topics = BlockingTopics::with_limits(TopicLimits::default().max_topics(2).max_name(8));
    topics.on_subscribe(|who, topic| who == "/t" && topic.starts_with("room/"));
    let handle = topic_server(&topics, quick_config());
    let mut client = connect(handle.local_addr(), "/t");
    assert_eq!(
        ask(&mut client, "sub admin"),
        "err: subscription to \"admin\" refused"
    );
    assert_eq!(ask(&mut client, "sub room/a"), "ok");
    assert_eq!(ask(&mut client, "sub room/b"), "ok");
    assert_eq!(
        ask(&mut client, "sub room/c"),
        "err: subscriber reached its limit of 2 topics"
    );
    assert_eq!(
        ask(&mut client, "sub room/long"),
        "err: topic name is empty or longer than 8 bytes"
    );
    assert_eq!(topics.subscribers("admin"), 0);
    assert_eq!(topics.publish("admin", &Message::text("secret")), 0);
    handle.shutdown();
}

#[test]
fn a_slow_subscriber_is_dropped_from_the_topic_and_the_others_get_everything() {
    let topics = BlockingTopics::new();
    let config = quick_config().stream(ws_stream::Config::default().max_write_buffer(64 << 10));
    let handle = topic_server(&topics, config);
    let addr = handle.local_addr();
    let mut fast = connect(addr, "/t");
    assert_eq!(ask(&mut fast, "sub feed"), "ok");
    // Subscribes, then never reads again: its socket buffers and then its write
    // buffer fill up.
    let mut slow = raw_upgrade(addr, "/t");
    std::io::Write::write_all(
        &mut slow,
        &crate::support::client_frame(crate::support::TEXT, b"sub feed"),
    )
    .unwrap();
    wait_until("both are subscribed", || topics.subscribers("feed") == 2);

    let body = "x".repeat(32 << 10);
    let mut sent = 0;
    // Bounded only so that a broken policy fails instead of running on: loopback
    // buffers hold a few MiB, far below this.
    while topics.stats().slow == 0 && sent < 4000 {
        let message = format!("{sent} {body}");
        topics.publish("feed", &Message::text(message.clone()));
        // The publisher is never held up: it returns at once, and the fast
        // subscriber, read in step, gets every message in order.
        assert_eq!(next_text(&mut fast), message);
        sent += 1;
    }
    assert_eq!(topics.stats().slow, 1, "the slow subscriber was dropped");
    assert_eq!(topics.subscribers("feed"), 1);
    for n in sent..sent + 10 {
        assert_eq!(topics.publish("feed", &Message::text(n.to_string())), 1);
        assert_eq!(next_text(&mut fast), n.to_string());
    }
    drop(slow);
    handle.shutdown();
}

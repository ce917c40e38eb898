//! Proxy settings: proxy URLs, the environment's variables read through a lookup
//! function (no test changes this process's environment), `NO_PROXY` matching, and one
//! child process that proves the real environment counts only when asked.

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::thread::{self, JoinHandle};

use ws_client::{ClientConfig, Proxy, Url, UrlError};
use ws_stream::Message;

use crate::SAFETY;
use crate::tinyproxy::Tinyproxy;

/// A lookup over `vars`, as [`Proxy::from_env_vars`] takes it.
fn vars<'a>(vars: &'a [(&'a str, &'a str)]) -> impl FnMut(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

fn from_vars(list: &[(&str, &str)]) -> Option<Proxy> {
    Proxy::from_env_vars(vars(list)).unwrap()
}

/// Where `proxy` sends `url`, as `host:port`.
fn route(proxy: &Proxy, url: &str) -> Option<String> {
    proxy
        .address_for(&Url::parse(url).unwrap())
        .map(|(host, port)| format!("{host}:{port}"))
}

#[test]
fn no_proxy_variable_means_no_proxy() {
    assert_eq!(from_vars(&[]), None);
    assert_eq!(from_vars(&[("NO_PROXY", "*"), ("PATH", "/bin")]), None);
    // Set but empty counts as unset, as in curl.
    assert_eq!(
        from_vars(&[("HTTP_PROXY", ""), ("https_proxy", "  ")]),
        None
    );
}

#[test]
fn https_proxy_is_for_wss_and_http_proxy_for_ws() {
    let proxy = from_vars(&[
        ("HTTPS_PROXY", "http://secure.proxy:3129"),
        ("HTTP_PROXY", "http://plain.proxy:3128"),
    ])
    .unwrap();
    assert_eq!(
        route(&proxy, "wss://example.com/").as_deref(),
        Some("secure.proxy:3129")
    );
    assert_eq!(
        route(&proxy, "ws://example.com/").as_deref(),
        Some("plain.proxy:3128")
    );

    let only_https = from_vars(&[("https_proxy", "secure.proxy:3129")]).unwrap();
    assert_eq!(route(&only_https, "ws://example.com/"), None);
    assert!(route(&only_https, "wss://example.com/").is_some());
}

#[test]
fn lowercase_wins_over_uppercase() {
    let proxy = from_vars(&[
        ("HTTP_PROXY", "http://upper:1"),
        ("http_proxy", "http://lower:2"),
        ("NO_PROXY", "upper.example"),
        ("no_proxy", "lower.example"),
    ])
    .unwrap();
    assert_eq!(
        route(&proxy, "ws://example.com/").as_deref(),
        Some("lower:2")
    );
    assert_eq!(route(&proxy, "ws://lower.example/"), None);
    assert!(route(&proxy, "ws://upper.example/").is_some());
}

#[test]
fn all_proxy_fills_in_for_either_scheme() {
    let proxy = from_vars(&[
        ("ALL_PROXY", "http://all.proxy:8080"),
        ("HTTPS_PROXY", "http://secure.proxy:3129"),
    ])
    .unwrap();
    assert_eq!(
        route(&proxy, "ws://example.com/").as_deref(),
        Some("all.proxy:8080")
    );
    assert_eq!(
        route(&proxy, "wss://example.com/").as_deref(),
        Some("secure.proxy:3129")
    );
}

#[test]
fn under_cgi_the_uppercase_http_proxy_is_ignored() {
    // httpoxy: a request's `Proxy:` header becomes HTTP_PROXY in a CGI program.
    let cgi = [
        ("REQUEST_METHOD", "GET"),
        ("HTTP_PROXY", "http://attacker.example:80"),
    ];
    assert_eq!(from_vars(&cgi), None);
    let proxy = from_vars(&[
        ("REQUEST_METHOD", "GET"),
        ("HTTP_PROXY", "http://attacker.example:80"),
        ("http_proxy", "http://plain.proxy:3128"),
    ])
    .unwrap();
    assert_eq!(
        route(&proxy, "ws://example.com/").as_deref(),
        Some("plain.proxy:3128")
    );
}

#[test]
fn an_unusable_proxy_url_is_an_error_not_a_direct_connection() {
    let cases: [(&str, UrlError); 6] = [
        (
            "socks5://proxy:1080",
            UrlError::UnsupportedScheme("socks5".into()),
        ),
        (
            "https://proxy:3128",
            UrlError::UnsupportedScheme("https".into()),
        ),
        ("http://proxy:99999", UrlError::InvalidPort),
        ("http://", UrlError::EmptyHost),
        ("http://pro xy", UrlError::InvalidCharacter),
        ("http://[::1", UrlError::InvalidHost),
    ];
    for (value, expected) in cases {
        assert_eq!(Proxy::new(value), Err(expected.clone()), "{value}");
        let error = Proxy::from_env_vars(vars(&[("ALL_PROXY", value)])).unwrap_err();
        assert_eq!(error, expected, "{value}");
    }
}

#[test]
fn proxy_urls_may_leave_out_the_scheme_the_port_and_ignore_a_path() {
    let cases = [
        ("proxy.internal:3128", "proxy.internal", 3128),
        ("HTTP://proxy.internal", "proxy.internal", 80),
        ("http://proxy.internal:3128/", "proxy.internal", 3128),
        (
            "http://user:pass@proxy.internal:3128/ignored?too",
            "proxy.internal",
            3128,
        ),
        ("[::1]:3128", "::1", 3128),
        ("http://10.0.0.1", "10.0.0.1", 80),
    ];
    let url = Url::parse("ws://example.com/").unwrap();
    for (value, host, port) in cases {
        let proxy = Proxy::new(value).unwrap();
        assert_eq!(proxy.address_for(&url), Some((host, port)), "{value}");
    }
}

#[test]
fn no_proxy_matches_hosts_domains_addresses_and_ports() {
    let list = "example.com, .example.org,*.example.net, 10.0.0.7:8080, [::1], 192.168.1.1, \
                Mixed.Case, bad:port, , localhost:notaport";
    let proxy = Proxy::new("proxy:3128").unwrap().no_proxy(list);
    let direct = [
        "ws://example.com/",
        "ws://www.example.com/",
        "ws://example.org/",
        "ws://a.b.example.org/",
        "ws://example.net/",
        "ws://x.example.net/",
        "ws://10.0.0.7:8080/",
        "ws://[::1]:9001/",
        "ws://[0:0::1]/",
        "wss://192.168.1.1/",
        "ws://mixed.case/",
        "ws://EXAMPLE.COM/",
        "ws://example.com./",
    ];
    for url in direct {
        assert_eq!(route(&proxy, url), None, "{url} should go direct");
    }
    let proxied = [
        "ws://notexample.com/",
        "ws://example.com.evil/",
        "ws://10.0.0.7:8081/",
        "ws://10.0.0.7/",
        "ws://192.168.1.10/",
        "ws://1.1/",
        "ws://localhost/",
        "ws://bad/",
    ];
    for url in proxied {
        assert!(route(&proxy, url).is_some(), "{url} should use the proxy");
    }
    let everything = Proxy::new("proxy:3128").unwrap().no_proxy("*");
    assert_eq!(route(&everything, "wss://anything.example/"), None);
    // `*` inside a name is no wildcard.
    let not_everything = Proxy::new("proxy:3128").unwrap().no_proxy("*example.com");
    assert!(route(&not_everything, "ws://example.com/").is_some());
}

#[test]
fn debug_shows_no_credentials() {
    let proxy = Proxy::new("http://alice:open-sesame@proxy:3128")
        .unwrap()
        .basic_auth("bob", "hunter2");
    let config = ClientConfig::default().proxy(proxy);
    let debug = format!("{config:?}");
    assert!(debug.contains("proxy"), "{debug}");
    for secret in ["alice", "open-sesame", "bob", "hunter2", "Basic"] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

/// Set in the child process to the echo server's address.
const CHILD_TARGET: &str = "WS_CLIENT_TEST_PROXY_ENV_TARGET";

/// Every variable the proxy settings read, cleared in the child before it gets the
/// ones the test sets.
const PROXY_VARIABLES: [&str; 9] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

#[test]
fn the_real_environment_counts_only_when_asked() {
    // In the child: the environment below is its own, set when it was spawned.
    if let Ok(target) = std::env::var(CHILD_TARGET) {
        connect_with_and_without_the_environment(target.parse().unwrap());
        return;
    }
    let proxy = Tinyproxy::with_basic_auth("alice", "open-sesame");
    let (addr, server) = echo_server(2);
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "proxy_env::the_real_environment_counts_only_when_asked",
    ]);
    for name in PROXY_VARIABLES {
        child.env_remove(name);
    }
    let output = child
        .env(CHILD_TARGET, addr.to_string())
        .env(
            "HTTP_PROXY",
            format!("http://alice:open%2Dsesame@127.0.0.1:{}", proxy.port()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.join().unwrap();
    // One tunnel: the connection that asked for the environment's proxy.
    assert_eq!(proxy.connects(), [addr.to_string()]);
}

fn connect_with_and_without_the_environment(target: SocketAddr) {
    let url = format!("ws://{target}/");
    let mut direct = ws_client::connect(&url).unwrap();
    let peer = direct.stream().unwrap().get_ref().peer_addr().unwrap();
    assert_eq!(peer, target, "HTTP_PROXY was used without being asked for");
    direct.close().unwrap();

    let config = ClientConfig::default().proxy(Proxy::from_env().unwrap());
    let mut proxied = ws_client::connect_with(&url, &config).unwrap();
    let peer = proxied.stream().unwrap().get_ref().peer_addr().unwrap();
    assert_ne!(peer, target, "HTTP_PROXY was not used when asked for");
    proxied.send_text("via the environment").unwrap();
    assert_eq!(
        proxied.read_message().unwrap(),
        Message::text("via the environment")
    );
    proxied.close().unwrap();
}

/// A tungstenite echo server for `connections` connections, one after the other.
fn echo_server(connections: usize) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        for _ in 0..connections {
            let socket = listener.accept().unwrap().0;
            socket.set_read_timeout(Some(SAFETY)).unwrap();
            let mut ws = tungstenite::accept(socket).unwrap();
            while let Ok(message) = ws.read() {
                if message.is_text() || message.is_binary() {
                    ws.send(message).unwrap();
                }
            }
        }
    });
    (addr, handle)
}

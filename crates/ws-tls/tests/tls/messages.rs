//! What the errors say: the file that could not be read, the cause of a failed
//! connection whichever layer met it, each line once in a source chain.

use std::error::Error as _;
use std::net::TcpListener;

use ws_tls::{Error, TlsAcceptor};

#[test]
fn a_missing_pem_file_names_its_path() {
    let path = std::env::temp_dir().join("ws-tls-test-no-such-dir/cert.pem");
    let error = TlsAcceptor::from_pem_files(&path, &path).unwrap_err();
    let Error::ReadFile {
        path: named,
        error: io,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(named, &path);
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(
        error.to_string(),
        format!("could not read {}: {io}", path.display())
    );
}

#[test]
fn a_missing_ca_file_names_its_path() {
    let path = std::env::temp_dir().join("ws-tls-test-no-such-dir/ca.pem");
    let error = ws_tls::Connector::builder()
        .root_certificates_pem_file(&path)
        .unwrap_err();
    assert!(
        matches!(&error, Error::ReadFile { path: named, .. } if *named == path),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn a_refused_connection_says_where_and_why_through_the_facade_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = ws_tls::connect(format!("wss://127.0.0.1:{port}/")).unwrap_err();
    let Error::Client(ws_client::Error::Connect { error: io, .. }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    let message = error.to_string();
    assert_eq!(
        message,
        format!("could not connect to 127.0.0.1:{port}: {io}")
    );
    // Transparent: the next link is the io error, not ws-client's copy of the message.
    let source = error.source().expect("the io error");
    assert!(source.is::<std::io::Error>(), "{source:?}");
    assert_ne!(source.to_string(), message);
}

#[test]
fn a_malformed_url_is_named() {
    let error = ws_tls::connect("wss//example.com").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid url `wss//example.com`: url does not start with ws:// or wss://"
    );
}

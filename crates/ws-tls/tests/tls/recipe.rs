//! The README's certificate recipe, run as written: openssl makes a certificate that
//! serves and is trusted, and without its `CA:FALSE` the client says how to fix it.
//! Needs `openssl` (tests/peers/install.sh installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use ws_server::ServerConfig;
use ws_tls::{Connector, Error, TlsAcceptor};

use crate::support::within;

/// The `openssl req` command of the README's wss walkthrough, its continuation lines
/// joined.
fn readme_recipe() -> String {
    let readme = include_str!("../../../../README.md");
    let mut lines = readme
        .lines()
        .skip_while(|line| !line.starts_with("openssl req -x509"));
    let mut command = String::new();
    for line in &mut lines {
        match line.trim().strip_suffix('\\') {
            Some(continued) => command.push_str(continued),
            None => {
                command.push_str(line.trim());
                break;
            }
        }
    }
    assert!(
        command.contains("basicConstraints=critical,CA:FALSE"),
        "the README's recipe is gone: {command:?}"
    );
    command
}

/// A fresh directory for one test's files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ws-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Runs `command` with `sh` in `dir`, failing the test with openssl's output if it fails.
fn run_in(dir: &Path, command: &str) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command} failed (is openssl installed? run tests/peers/install.sh): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Serves `/echo` with `dir`'s `cert.pem` and `key.pem`, and connects trusting the same
/// `cert.pem`, as the README's two example commands do.
fn serve_and_connect(dir: &Path) -> Result<(), Error> {
    let acceptor = TlsAcceptor::from_pem_files(dir.join("cert.pem"), dir.join("key.pem"))?;
    let mut server = ws_tls::server("127.0.0.1:0", acceptor).with_config(ServerConfig::default());
    server
        .on_connect("/echo", |stream, _path| {
            let message = stream.read_message()?;
            stream.send(&message)?;
            Ok(())
        })
        .unwrap();
    let handle = server.spawn().unwrap();
    let connector = Connector::builder()
        .root_certificates_pem_file(dir.join("cert.pem"))?
        .build()?;
    let url = format!("wss://localhost:{}/echo", handle.local_addr().port());
    let outcome = within("the recipe's certificate", move || {
        let mut client = ws_tls::connect_with(&url, &Default::default(), &connector)?;
        client.send_text("over openssl's certificate")?;
        let echo = client.read_message()?;
        assert_eq!(echo.as_text(), Some("over openssl's certificate"));
        client.close()?;
        Ok(())
    });
    handle.shutdown();
    outcome
}

#[test]
fn the_readme_recipe_makes_a_certificate_that_serves_and_is_trusted() {
    let scratch = Scratch::new("recipe");
    run_in(&scratch.0, &readme_recipe());
    serve_and_connect(&scratch.0).unwrap();
}

#[test]
fn without_ca_false_the_client_says_how_to_make_a_proper_certificate() {
    let scratch = Scratch::new("recipe-ca");
    // openssl's default for `req -x509` is a CA certificate.
    let command = readme_recipe().replace("-addext basicConstraints=critical,CA:FALSE", "");
    run_in(&scratch.0, &command);
    let error = serve_and_connect(&scratch.0).unwrap_err();
    assert!(matches!(error, Error::CaUsedAsEndEntity), "{error:?}");
    assert!(error.to_string().contains("CA:FALSE"), "{error}");
}

//! Certificates the client must refuse, each with its own error, at connect.

use ws_server::ServerConfig;
use ws_tls::{Connector, Error};

use crate::pki::{Identity, pki};
use crate::support::{connector, echo_server_as, within, wss_url};

/// Connects to a server presenting `identity`, trusting `connector`'s roots.
fn connect_to(identity: &Identity, connector: Connector) -> Result<(), Error> {
    let handle = echo_server_as(identity, ServerConfig::default());
    let url = wss_url(&handle, "/echo");
    within("refused connect", move || {
        ws_tls::connect_with(url, &Default::default(), &connector).map(drop)
    })
}

#[test]
fn the_right_certificate_is_accepted() {
    connect_to(&pki().localhost, connector()).unwrap();
}

#[test]
fn a_certificate_for_another_name_is_a_name_mismatch() {
    let error = connect_to(&pki().other_name, connector()).unwrap_err();
    assert!(matches!(error, Error::NameMismatch), "{error:?}");
}

#[test]
fn an_expired_certificate_is_expired() {
    let error = connect_to(&pki().expired, connector()).unwrap_err();
    assert!(matches!(error, Error::Expired), "{error:?}");
}

#[test]
fn a_ca_certificate_served_as_the_servers_own_says_how_to_make_one() {
    let ca_as_leaf = &pki().ca_as_leaf;
    let trusting = Connector::builder()
        .root_certificates_pem(ca_as_leaf.chain_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let error = connect_to(ca_as_leaf, trusting).unwrap_err();
    assert!(matches!(error, Error::CaUsedAsEndEntity), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("basicConstraints=critical,CA:FALSE"),
        "{error}"
    );
}

#[test]
fn a_certificate_from_an_unknown_ca_is_an_unknown_issuer() {
    let error = connect_to(&pki().unknown_ca, connector()).unwrap_err();
    assert!(matches!(error, Error::UnknownIssuer), "{error:?}");
}

#[test]
fn the_mozilla_roots_do_not_know_a_self_signed_certificate() {
    let error = connect_to(&pki().self_signed, Connector::new()).unwrap_err();
    assert!(matches!(error, Error::UnknownIssuer), "{error:?}");
}

/// The seed's `Connector::connect` reports the same errors.
#[test]
fn connector_connect_reports_the_same_errors() {
    let handle = echo_server_as(&pki().expired, ServerConfig::default());
    let addr = format!("localhost:{}", handle.local_addr().port());
    let error = within("connect", move || connector().connect(&addr).unwrap_err());
    assert!(matches!(error, Error::Expired), "{error:?}");
}

/// The error names the problem in lowercase, and the server's side of the refusal ends
/// without troubling the next client.
#[test]
fn a_refused_certificate_leaves_the_server_serving() {
    let handle = echo_server_as(&pki().localhost, ServerConfig::default());
    let url = wss_url(&handle, "/echo");
    within("refusal then success", move || {
        let strict = Connector::builder()
            .root_certificates_pem(pki_unrelated_ca().as_bytes())
            .unwrap()
            .build()
            .unwrap();
        let error = ws_tls::connect_with(&url, &Default::default(), &strict).unwrap_err();
        assert_eq!(
            error.to_string(),
            "certificate issued by an unknown authority: trust its ca with \
             ConnectorBuilder::root_certificates_pem"
        );
        let mut client = ws_tls::connect_with(&url, &Default::default(), &connector()).unwrap();
        client.send_text("still here").unwrap();
        assert_eq!(client.read_message().unwrap().as_text(), Some("still here"));
        client.close().unwrap();
        drop(handle);
    });
}

/// The CA of the unknown-CA leaf is not exported; any other self-signed certificate
/// will do as a root that did not sign the server's.
fn pki_unrelated_ca() -> &'static str {
    &pki().self_signed.chain_pem
}

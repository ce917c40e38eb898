//! Certificates made at test time with rcgen: a private CA, leaves it signs, and the
//! bad certificates each verification error needs.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

/// A certificate chain (leaf first) and its private key, both PEM.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) chain_pem: String,
    pub(crate) key_pem: String,
}

/// Everything the tests need, made once per test binary.
#[derive(Debug)]
pub(crate) struct Pki {
    /// The private CA the tests trust.
    pub(crate) ca_pem: String,
    /// "localhost", signed by the CA.
    pub(crate) localhost: Identity,
    /// "other.example", signed by the CA: the wrong name for localhost.
    pub(crate) other_name: Identity,
    /// "localhost", signed by the CA, valid only in 2000.
    pub(crate) expired: Identity,
    /// "localhost", signed by a CA nobody trusts.
    pub(crate) unknown_ca: Identity,
    /// "localhost", self-signed: unknown to the Mozilla roots.
    pub(crate) self_signed: Identity,
    /// A client certificate signed by the CA, for mutual TLS.
    pub(crate) client: Identity,
    /// A self-signed CA certificate for "localhost" (`CA:TRUE`), as
    /// `openssl req -x509` makes by default: no server certificate.
    pub(crate) ca_as_leaf: Identity,
}

/// The test binary's certificates.
pub(crate) fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(Pki::generate)
}

impl Pki {
    fn generate() -> Pki {
        let (ca_pem, ca) = certificate_authority("ws-tls test CA");
        let (_, stranger) = certificate_authority("a CA nobody trusts");
        let localhost = leaf(&["localhost"], Purpose::Server, &ca, |_| {});
        let other_name = leaf(&["other.example"], Purpose::Server, &ca, |_| {});
        let expired = leaf(&["localhost"], Purpose::Server, &ca, |params| {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        });
        let unknown_ca = leaf(&["localhost"], Purpose::Server, &stranger, |_| {});
        let client = leaf(&["client.example"], Purpose::Client, &ca, |_| {});
        let self_signed = self_signed_localhost(IsCa::NoCa);
        let ca_as_leaf = self_signed_localhost(IsCa::Ca(BasicConstraints::Unconstrained));
        Pki {
            ca_pem,
            ca_as_leaf,
            localhost,
            other_name,
            expired,
            unknown_ca,
            self_signed,
            client,
        }
    }
}

/// A self-signed certificate for "localhost", a CA's or not.
fn self_signed_localhost(is_ca: IsCa) -> Identity {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = is_ca;
    Identity {
        chain_pem: params.self_signed(&key).unwrap().pem(),
        key_pem: key.serialize_pem(),
    }
}

#[derive(Clone, Copy)]
enum Purpose {
    Server,
    Client,
}

fn certificate_authority(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let pem = params.self_signed(&key).unwrap().pem();
    (pem, Issuer::new(params, key))
}

fn leaf(
    names: &[&str],
    purpose: Purpose,
    issuer: &Issuer<'static, KeyPair>,
    adjust: impl FnOnce(&mut CertificateParams),
) -> Identity {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(
        names
            .iter()
            .map(|&name| name.to_owned())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![match purpose {
        Purpose::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Purpose::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    adjust(&mut params);
    Identity {
        chain_pem: params.signed_by(&key, issuer).unwrap().pem(),
        key_pem: key.serialize_pem(),
    }
}

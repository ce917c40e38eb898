//! Certificates and keys from PEM, for connectors and acceptors alike.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

pub(crate) fn read_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::InvalidPem("unreadable certificate"))?;
    if chain.is_empty() {
        return Err(Error::InvalidPem("no certificate found"));
    }
    Ok(chain)
}

pub(crate) fn read_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| Error::InvalidPem("no private key found"))
}

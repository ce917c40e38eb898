//! Certificates and keys from PEM, for connectors and acceptors alike.

use std::path::Path;

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

/// The bytes of the file at `path`, or [`Error::ReadFile`] naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|error| Error::ReadFile {
        path: path.to_owned(),
        error,
    })
}

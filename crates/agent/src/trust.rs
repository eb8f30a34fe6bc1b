//! Which server certificates the agent accepts: the system's roots, plus a CA bundle (the CA
//! `berth server` generated, or an operator's private CA), for both its HTTPS calls and its
//! `wss://` assignment stream.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A TLS client configuration shared by every connection the agent makes.
#[derive(Clone)]
pub struct Trust(Arc<rustls::ClientConfig>);

impl Trust {
    /// The system's roots, and the certificates of `ca_bundle` (PEM) when given.
    pub fn new(ca_bundle: Option<&Path>) -> Result<Self, String> {
        let mut roots = system_roots();
        if let Some(path) = ca_bundle {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read the CA bundle {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "the CA bundle {} holds no certificate (give the ca.pem berth server printed)",
                    path.display()
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA bundle {} is not usable: {e}", path.display()))?;
            }
        }
        Ok(Self::from_roots(roots))
    }

    fn from_roots(roots: rustls::RootCertStore) -> Self {
        // The provider is named, not left to crate features: a build that links more than one
        // would otherwise not know which to use.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            // aws-lc-rs supports TLS 1.2 and 1.3, so the versions are always there.
            .unwrap_or_else(|_| unreachable!());
        Self(Arc::new(config))
    }

    /// An HTTP client that trusts these roots.
    pub fn http(&self, timeout: Option<Duration>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().tls_backend_preconfigured((*self.0).clone());
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        builder.build().unwrap_or_default()
    }

    /// A WebSocket connector that trusts these roots.
    pub(crate) fn websocket(&self) -> tokio_tungstenite::Connector {
        tokio_tungstenite::Connector::Rustls(Arc::clone(&self.0))
    }
}

/// The system's roots; unreadable ones are skipped, since a bundle may still make the server
/// trusted.
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

impl Default for Trust {
    /// The system's roots alone.
    fn default() -> Self {
        Self::from_roots(system_roots())
    }
}

//! TLS for the API listener: the operator's certificate, or one issued at each start by a CA
//! Berth generates once in its data directory. The CA's certificate is what clients trust
//! (`AWS_CA_BUNDLE`, `berth agent --ca-bundle`, docker's `certs.d`).
//!
//! Plain HTTP is served on loopback by default and elsewhere only when asked for.

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the listener speaks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsOptions {
    /// Serve HTTPS with this certificate chain (PEM) instead of a generated one.
    #[arg(long, env = "BERTH_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "BERTH_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS on loopback too (off loopback it is the default).
    #[arg(long, env = "BERTH_TLS")]
    pub tls: bool,
    /// Serve plain HTTP even off loopback: anyone on the network can read the keys' traffic.
    #[arg(long, env = "BERTH_INSECURE_HTTP", conflicts_with_all = ["tls", "tls_cert"])]
    pub insecure_http: bool,
    /// Another DNS name or IP address clients reach this server by, for the generated
    /// certificate (repeatable; localhost, loopback, the host name and the listen address are
    /// always in it).
    #[arg(long = "tls-name")]
    pub tls_names: Vec<String>,
}

/// What the listener was set up to speak.
pub enum Mode {
    /// Plain HTTP.
    Plain,
    /// HTTPS with this configuration; `ca_file` is the generated CA clients should trust.
    Tls {
        config: Arc<rustls::ServerConfig>,
        ca_file: Option<PathBuf>,
    },
}

impl TlsOptions {
    /// Decides plain or TLS for a listener bound to `addr`, creating the CA on first use.
    pub fn mode(&self, addr: SocketAddr, data_dir: &Path) -> anyhow::Result<Mode> {
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .with_context(|| format!("cannot read the certificate {}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("cannot read the private key {}", key.display()))?;
            return Ok(Mode::Tls {
                config: server_config(chain, key)?,
                ca_file: None,
            });
        }
        if self.insecure_http || (!self.tls && addr.ip().is_loopback()) {
            if !addr.ip().is_loopback() {
                tracing::warn!(%addr, "serving plain HTTP off loopback (--insecure-http)");
            }
            return Ok(Mode::Plain);
        }
        let ca = Ca::load_or_create(&data_dir.join("tls"))?;
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        names.extend(host_name());
        if !addr.ip().is_unspecified() {
            names.push(addr.ip().to_string());
        }
        names.extend(self.tls_names.iter().cloned());
        names.dedup();
        let (chain, key) = ca.issue(names)?;
        Ok(Mode::Tls {
            config: server_config(chain, key)?,
            ca_file: Some(ca.cert_file),
        })
    }
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    // The provider is named, not left to crate features: a build that links more than one
    // (the test clients do) would otherwise not know which to use.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider offers no protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not make a TLS identity")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// This machine's host name, when it has one.
fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Berth's own certificate authority.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert_file: PathBuf,
}

impl Ca {
    /// Reads `dir/ca.pem` and `dir/ca-key.pem`, generating both the first time.
    fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let cert_file = dir.join("ca.pem");
        let key_file = dir.join("ca-key.pem");
        // Only a CA that is not there is created: one that cannot be read is an error, or
        // every client trusting the old one would be locked out.
        let absent = match std::fs::symlink_metadata(&cert_file) {
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot look up {}", cert_file.display()));
            }
        };
        if absent {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params
                .distinguished_name
                .push(DnType::CommonName, "Berth CA");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let cert = params.self_signed(&key)?;
            let write = |file: &Path, pem: String| {
                berth_files::write_private(file, pem.as_bytes())
                    .with_context(|| format!("cannot write {}", file.display()))
            };
            write(&key_file, key.serialize_pem())?;
            // The certificate last: its presence says the pair is complete.
            write(&cert_file, cert.pem())?;
        }
        let key = KeyPair::from_pem(
            &std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?,
        )?;
        let cert = std::fs::read_to_string(&cert_file)
            .with_context(|| format!("cannot read {}", cert_file.display()))?;
        let issuer = Issuer::from_ca_cert_pem(&cert, key)
            .with_context(|| format!("{} is not a CA certificate", cert_file.display()))?;
        Ok(Self { issuer, cert_file })
    }

    /// A server certificate for `names` (DNS names or IP addresses) and its key.
    fn issue(
        &self,
        names: Vec<String>,
    ) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "Berth server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer)?;
        let key = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| anyhow::anyhow!("cannot encode the server key: {e}"))?;
        Ok((vec![cert.der().clone()], key))
    }
}

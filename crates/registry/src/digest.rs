//! Content digests: `sha256:<64 hex>` (and `sha512:<128 hex>`), parsed strictly.

use crate::RegistryError;
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::io::Read;

/// A validated digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

/// The algorithms the registry verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, what every client uses.
    Sha256,
    /// SHA-512, which the OCI spec also registers.
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl Digest {
    /// Parses `algorithm:hex`; an unknown algorithm or malformed hex is DIGEST_INVALID.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let invalid = |why: &str| RegistryError::DigestInvalid(format!("{s:?}: {why}"));
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or_else(|| invalid("a digest is algorithm:hex, e.g. sha256:<64 hex digits>"))?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => {
                return Err(RegistryError::DigestInvalid(format!(
                    "{s:?}: unsupported digest algorithm {other:?} (use sha256)"
                )));
            }
        };
        let well_formed = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(invalid(&format!(
                "{} digests are {} lower-case hex digits",
                algorithm.name(),
                algorithm.hex_len()
            )));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::Sha256,
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The digest of everything `reader` yields, under this digest's algorithm.
    pub(crate) fn of_reader(&self, mut reader: impl Read) -> std::io::Result<Digest> {
        let mut buf = vec![0u8; 1 << 20];
        let hex = match self.algorithm {
            Algorithm::Sha256 => {
                let mut h = Sha256::new();
                loop {
                    let n = reader.read(&mut buf)?;
                    if n == 0 {
                        break hex::encode(h.finalize());
                    }
                    h.update(&buf[..n]);
                }
            }
            Algorithm::Sha512 => {
                let mut h = Sha512::new();
                loop {
                    let n = reader.read(&mut buf)?;
                    if n == 0 {
                        break hex::encode(h.finalize());
                    }
                    h.update(&buf[..n]);
                }
            }
        };
        Ok(Digest {
            algorithm: self.algorithm,
            hex,
        })
    }

    /// The algorithm's name.
    pub fn algorithm(&self) -> &'static str {
        self.algorithm.name()
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_strictly() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(Digest::parse(&good).map(|d| d.to_string()).ok(), Some(good));
        for bad in [
            "sha256",
            "sha256:abc",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:{}", "g".repeat(64)),
        ] {
            assert!(
                matches!(Digest::parse(bad), Err(RegistryError::DigestInvalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_reader_hashes_as_the_bytes_do() {
        let bytes = b"hello registry";
        let d = Digest::of(bytes);
        assert_eq!(d.of_reader(&bytes[..]).ok(), Some(d));
    }
}

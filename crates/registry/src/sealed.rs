//! Encryption at rest: AES-256 in counter mode, so any byte range can be read (and an upload
//! appended to) without touching the rest. Every stored file — blobs and upload staging
//! alike — starts with its own random 16-byte initial counter; the key is the registry's,
//! kept beside the data with mode 0600.

use crate::RegistryError;
use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

type Cipher = ctr::Ctr128BE<Aes256>;

/// Bytes of the header (the initial counter) at the start of every sealed file.
pub(crate) const HEADER: u64 = 16;

/// The registry's key.
#[derive(Clone)]
pub struct Key([u8; 32]);

fn random16() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

impl Key {
    /// Reads `path`, creating a random key there (mode 0600) only when nothing is there: after
    /// a failed read, a damaged file or a dangling symlink (a key kept on a volume that is not
    /// mounted) a new key would leave every stored blob unreadable, so those are errors.
    pub fn load_or_create(path: &Path) -> Result<Self, RegistryError> {
        let lost = |why: String| {
            RegistryError::damaged(format!(
                "{}: {why}: restore the registry's key from a backup (without it the blobs cannot be read)",
                path.display()
            ))
        };
        match std::fs::symlink_metadata(path) {
            Ok(_) => {
                let bytes =
                    std::fs::read(path).map_err(|e| lost(format!("cannot read it ({e})")))?;
                let key: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| lost("it is not a 32-byte key".into()))?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                key[..16].copy_from_slice(&random16());
                key[16..].copy_from_slice(&random16());
                crate::files::write(path, &key)?;
                Ok(Self(key))
            }
            Err(e) => Err(lost(format!("cannot look it up ({e})"))),
        }
    }

    /// A fresh header for a new sealed file.
    pub fn header(&self) -> [u8; 16] {
        random16()
    }

    /// Encrypts `buf` in place as the bytes at `offset` of a file with `header`.
    pub fn seal(&self, header: &[u8; 16], offset: u64, buf: &mut [u8]) {
        let mut cipher = Cipher::new(&self.0.into(), header.into());
        cipher.seek(offset);
        cipher.apply_keystream(buf);
    }

    /// A reader of the plaintext of a sealed file.
    pub fn open<R: Read + Seek>(&self, mut file: R) -> std::io::Result<Unsealed<R>> {
        let mut header = [0u8; 16];
        file.seek(SeekFrom::Start(0))?;
        file.read_exact(&mut header)?;
        Ok(Unsealed {
            cipher: Cipher::new(&self.0.into(), (&header).into()),
            file,
            position: 0,
        })
    }
}

/// The plaintext of a sealed file, readable from any position.
pub struct Unsealed<R> {
    file: R,
    cipher: Cipher,
    position: u64,
}

impl<R: Read> Read for Unsealed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.cipher.apply_keystream(&mut buf[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Unsealed<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let end = self.file.seek(SeekFrom::End(0))?.saturating_sub(HEADER);
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => end.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        }
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start")
        })?;
        self.file.seek(SeekFrom::Start(HEADER + target))?;
        self.cipher.seek(target);
        self.position = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn sealed_bytes_read_back_from_any_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = Key::load_or_create(&dir.path().join("key")).expect("key");
        let plain: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
        let header = key.header();
        // Sealed in two appends, as an upload arrives.
        let mut first = plain[..3000].to_vec();
        key.seal(&header, 0, &mut first);
        let mut second = plain[3000..].to_vec();
        key.seal(&header, 3000, &mut second);
        let file = [header.to_vec(), first, second].concat();
        assert_ne!(
            &file[16..],
            plain.as_slice(),
            "the stored bytes are not the plaintext"
        );
        let mut reader = key.open(Cursor::new(file)).expect("open");
        let mut all = vec![];
        reader.read_to_end(&mut all).expect("read");
        assert_eq!(all, plain);
        reader.seek(SeekFrom::Start(7777)).expect("seek");
        let mut some = [0u8; 100];
        reader.read_exact(&mut some).expect("read");
        assert_eq!(&some[..], &plain[7777..7877]);
        let again = Key::load_or_create(&dir.path().join("key")).expect("same key");
        assert_eq!(again.0, key.0);
    }
}

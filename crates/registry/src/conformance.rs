//! The behaviour every [`BlobStore`] backend must have, as one suite: a backend's tests call
//! [`check`] with a fresh store and upload sessions staged where its `ingest` can read them.

use crate::RegistryError;
use crate::blobs::BlobStore;
use crate::digest::Digest;
use crate::uploads::Uploads;
use std::io::{Read, Seek, SeekFrom};

fn stage(uploads: &Uploads, bytes: &[u8]) -> Result<std::path::PathBuf, RegistryError> {
    let id = uploads.start("conformance")?;
    uploads.writer("conformance", &id)?.append(bytes)?;
    Ok(uploads.data("conformance", &id)?.0)
}

/// Runs the suite; the first broken expectation, as a message.
pub fn check(store: &dyn BlobStore, uploads: &Uploads) -> Result<(), String> {
    let fail = |what: &str| Err(format!("blob store conformance: {what}"));
    let err = |e: RegistryError| format!("blob store conformance: {e}");
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let digest = Digest::of(&content);

    if store.size(&digest).map_err(err)?.is_some() || store.open(&digest).map_err(err)?.is_some() {
        return fail("an absent blob must have no size and open to None");
    }
    let wrong = Digest::of(b"not the content");
    let staged = stage(uploads, &content).map_err(err)?;
    if !matches!(
        store.ingest(&staged, &wrong),
        Err(RegistryError::DigestInvalid(_))
    ) {
        return fail("ingesting content under another digest must be DIGEST_INVALID");
    }
    if store.size(&wrong).map_err(err)?.is_some() || store.size(&digest).map_err(err)?.is_some() {
        return fail("a refused ingest must store nothing");
    }
    let staged = stage(uploads, &content).map_err(err)?;
    if store.ingest(&staged, &digest).map_err(err)? != content.len() as u64 {
        return fail("ingest must report the plaintext size");
    }
    let staged = stage(uploads, &content).map_err(err)?;
    if store.ingest(&staged, &digest).map_err(err)? != content.len() as u64 {
        return fail("ingesting stored content again must succeed");
    }
    if store.size(&digest).map_err(err)? != Some(content.len() as u64) {
        return fail("size must be the plaintext size");
    }
    let mut blob = store
        .open(&digest)
        .map_err(err)?
        .ok_or("stored blob must open")?;
    let mut all = vec![];
    blob.read_to_end(&mut all).map_err(|e| e.to_string())?;
    if all != content {
        return fail("a blob must read back as stored");
    }
    blob.seek(SeekFrom::Start(54_321))
        .map_err(|e| e.to_string())?;
    let mut part = vec![0u8; 1000];
    blob.read_exact(&mut part).map_err(|e| e.to_string())?;
    if part != content[54_321..55_321] {
        return fail("a range must read back as stored");
    }
    let manifest = br#"{"schemaVersion":2}"#;
    if store.put(manifest).map_err(err)? != Digest::of(manifest) {
        return fail("put must store under the content's digest");
    }
    let mut listed = store.list().map_err(err)?;
    listed.sort();
    let mut expected = vec![digest.clone(), Digest::of(manifest)];
    expected.sort();
    if listed != expected {
        return fail("list must name every stored blob, once");
    }
    if store.stored_at(&digest).map_err(err)?.is_none() {
        return fail("a stored blob must have a time");
    }
    store.delete(&digest).map_err(err)?;
    store.delete(&digest).map_err(err)?;
    if store.size(&digest).map_err(err)?.is_some()
        || store.stored_at(&digest).map_err(err)?.is_some()
    {
        return fail("a deleted blob must be gone (no size, no time), and deleting twice fine");
    }
    Ok(())
}

//! Berth's image registry: the OCI Distribution semantics (blobs, upload sessions, manifests,
//! tags, referrers) over content-addressed storage, without HTTP — `berth-api` serves it at
//! `/v2/` and backs the ECR API with it.
//!
//! - [`digest`]: digests, parsed strictly and computed;
//! - [`blobs`]: the [`blobs::BlobStore`] trait and the file-system backend, held to
//!   `conformance`, the suite every backend must pass, compiled only with the `testing` feature
//!   (the crate's own tests turn it on);
//! - [`sealed`]: AES-256 encryption at rest that still reads any byte range;
//! - `files`: durable writes, renames and removals, which everything stored goes through, and
//!   reads that tell a file that is not there from one that cannot be read;
//! - [`uploads`]: resumable upload sessions;
//! - [`manifest`]: manifest media types and what a manifest refers to;
//! - [`lifecycle`]: lifecycle policies that expire images by count or age;
//! - `registry`: the [`Registry`] over all of these — repositories, the blobs each may read,
//!   images and tags, policies and garbage collection, a module for each;
//! - [`ecr`]: ECR's operations on the generated request and response shapes, through
//!   [`Registry::ecr`];
//! - `error`: [`RegistryError`], with the OCI code each refusal is answered with, and
//!   [`StorageError`], which keeps an I/O error as the source.

#![warn(unreachable_pub)]

pub mod blobs;
#[cfg(feature = "testing")]
pub mod conformance;
pub mod digest;
pub mod ecr;
mod error;
mod files;
pub mod lifecycle;
pub mod manifest;
mod registry;
pub mod sealed;
pub mod uploads;

pub use error::{RegistryError, StorageError};
pub use registry::{Image, Registry, Repository, ResourceTag, check_name};

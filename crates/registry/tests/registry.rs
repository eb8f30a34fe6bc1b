//! The registry's behaviours without HTTP: verified uploads, resumable sessions, manifests that
//! must reference stored blobs, immutable tags, indexes, referrers, garbage collection, lifecycle
//! policies, encryption at rest and who may read a blob. Damaged files and limits are in
//! `damage.rs`.

use berth_registry::digest::Digest;
use berth_registry::manifest::{DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use berth_registry::{Registry, RegistryError};
use std::time::Duration;

mod fixtures;
use fixtures::{append, image_manifest, open, push_blob, push_image, repo};

/// [`open`], with a second repository, `team/other`.
fn open_with_other() -> (tempfile::TempDir, Registry) {
    let (dir, registry) = open();
    registry
        .create_repository(repo("team/other", "MUTABLE"))
        .expect("created");
    (dir, registry)
}

#[test]
fn a_digest_mismatch_is_refused_and_nothing_is_stored() {
    let (_dir, registry) = open();
    let id = registry.uploads().start("team/app").expect("session");
    append(&registry, "team/app", &id, b"actual content").expect("write");
    let claimed = Digest::of(b"other content");
    let refused = registry.finish_upload("team/app", &id, &claimed);
    assert!(
        matches!(refused, Err(RegistryError::DigestInvalid(_))),
        "{refused:?}"
    );
    assert_eq!(registry.blobs().size(&claimed).expect("size"), None);
    assert_eq!(
        registry
            .blobs()
            .size(&Digest::of(b"actual content"))
            .expect("size"),
        None
    );
    assert!(registry.blobs().list().expect("list").is_empty());
}

#[test]
fn a_chunked_upload_survives_a_restart_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let id = {
        let registry = Registry::open(dir.path()).expect("opens");
        registry
            .create_repository(repo("team/app", "MUTABLE"))
            .expect("created");
        let id = registry.uploads().start("team/app").expect("session");
        append(&registry, "team/app", &id, &content[..100_000]).expect("first chunk");
        id
        // The process "dies" here: the registry is dropped mid-upload.
    };
    let registry = Registry::open(dir.path()).expect("reopens");
    let (_, size) = registry
        .uploads()
        .data("team/app", &id)
        .expect("session survives");
    assert_eq!(
        size, 100_000,
        "the client resumes at the offset the registry reports"
    );
    append(&registry, "team/app", &id, &content[100_000..]).expect("rest");
    let digest = Digest::of(&content);
    assert_eq!(
        registry
            .finish_upload("team/app", &id, &digest)
            .expect("stored"),
        300_000
    );
    assert_eq!(
        registry.blob_size("team/app", &digest).expect("visible"),
        300_000
    );
    assert!(
        registry.uploads().data("team/app", &id).is_err(),
        "the session is over"
    );
}

#[test]
fn two_concurrent_pushes_of_the_same_blob_both_succeed() {
    let (_dir, registry) = open();
    let content = vec![7u8; 1 << 20];
    let registry = std::sync::Arc::new(registry);
    let pushes: Vec<_> = (0..2)
        .map(|_| {
            let (registry, content) = (registry.clone(), content.clone());
            std::thread::spawn(move || push_blob(&registry, "team/app", &content))
        })
        .collect();
    for p in pushes {
        assert_eq!(p.join().expect("push"), Digest::of(&content));
    }
    assert_eq!(
        registry.blobs().list().expect("list").len(),
        1,
        "stored once"
    );
}

#[test]
fn a_manifest_needs_its_blobs_and_a_known_media_type() {
    let (_dir, registry) = open();
    let absent = Digest::of(b"never pushed");
    let manifest = image_manifest(&absent, 12, &[]);
    let refused = registry.put_manifest("team/app", "v1", OCI_MANIFEST, &manifest);
    assert!(
        matches!(refused, Err(RegistryError::ManifestBlobUnknown(_))),
        "{refused:?}"
    );
    let refused = registry.put_manifest("team/app", "v1", "text/plain", &manifest);
    assert!(
        matches!(refused, Err(RegistryError::ManifestInvalid(_))),
        "{refused:?}"
    );
    let refused = registry.put_manifest("team/app", "v1", DOCKER_MANIFEST, &manifest);
    assert!(
        matches!(refused, Err(RegistryError::ManifestInvalid(_))),
        "the body's mediaType must agree with the content type: {refused:?}"
    );
    let huge = vec![b' '; berth_registry::manifest::MAX_MANIFEST_BYTES + 1];
    let refused = registry.put_manifest("team/app", "v1", OCI_MANIFEST, &huge);
    assert!(
        matches!(refused, Err(RegistryError::ManifestTooLarge(_))),
        "{refused:?}"
    );
    assert!(registry.images("team/app").expect("images").is_empty());
}

#[test]
fn bad_names_tags_and_digests_get_their_errors() {
    let (_dir, registry) = open();
    for bad in ["A", "team/App", "a", "-x", "x//y", "x..y", "x/"] {
        let refused = registry.create_repository(repo(bad, "MUTABLE"));
        assert!(
            matches!(refused, Err(RegistryError::NameInvalid(_))),
            "{bad}: {refused:?}"
        );
    }
    type Expected = fn(&RegistryError) -> bool;
    let cases: [(&str, &str, Expected); 4] = [
        ("team/app", ".bad", |e| {
            matches!(e, RegistryError::TagInvalid(_))
        }),
        ("team/app", "md5:d41d8cd98f00b204e9800998ecf8427e", |e| {
            matches!(e, RegistryError::DigestInvalid(_))
        }),
        ("team/none", "latest", |e| {
            matches!(e, RegistryError::NameUnknown(_))
        }),
        ("team/app", "latest", |e| {
            matches!(e, RegistryError::ManifestUnknown(_))
        }),
    ];
    for (name, reference, expected) in cases {
        let refused = registry.manifest(name, reference);
        assert!(
            refused.as_ref().is_err_and(expected),
            "{name}:{reference}: {refused:?}"
        );
    }
}

#[test]
fn a_refused_update_writes_nothing() {
    let (_dir, registry) = open();
    let refused = registry.update_repository("team/app", |r| {
        r.tag_mutability = "IMMUTABLE".into();
        Err(RegistryError::LimitExceeded("no".into()))
    });
    assert!(matches!(refused, Err(RegistryError::LimitExceeded(_))));
    let kept = registry.repository("team/app").expect("still there");
    assert_eq!(kept.tag_mutability, "MUTABLE");
}

#[test]
fn an_immutable_tag_cannot_move() {
    let (_dir, registry) = open();
    registry
        .update_repository("team/app", |r| {
            r.tag_mutability = "IMMUTABLE".into();
            Ok(())
        })
        .expect("updated");
    let first = push_image(&registry, "team/app", "v1", b"layer one");
    // The same manifest again is fine: the tag does not move.
    registry
        .put_manifest("team/app", "v1", OCI_MANIFEST, &first)
        .expect("same content");
    let config = push_blob(&registry, "team/app", br#"{"os":"linux"}"#);
    let other = image_manifest(&config, 14, &[]);
    let refused = registry.put_manifest("team/app", "v1", OCI_MANIFEST, &other);
    assert!(
        matches!(&refused, Err(RegistryError::TagImmutable(m)) if m.contains("immutable")),
        "{refused:?}"
    );
    let (image, _) = registry.manifest("team/app", "v1").expect("still there");
    assert_eq!(image.digest, Digest::of(&first).to_string());
}

#[test]
fn an_index_lists_platform_manifests_and_referrers_find_their_subject() {
    let (_dir, registry) = open();
    let amd = push_image(&registry, "team/app", "amd64", b"amd64 layer");
    let arm = push_image(&registry, "team/app", "arm64", b"arm64 layer");
    let entry = |m: &[u8], arch: &str| serde_json::json!({"mediaType": OCI_MANIFEST, "digest": Digest::of(m).to_string(), "size": m.len(), "platform": {"architecture": arch, "os": "linux"}});
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry(&amd, "amd64"), entry(&arm, "arm64")],
    }))
    .expect("json");
    let image = registry
        .put_manifest("team/app", "multi", OCI_INDEX, &index)
        .expect("index");
    assert_eq!(image.media_type, OCI_INDEX);

    let subject = Digest::of(&amd);
    let config = push_blob(&registry, "team/app", b"{}");
    let signature = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.example.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.to_string(), "size": 2},
        "layers": [], "subject": {"mediaType": OCI_MANIFEST, "digest": subject.to_string(), "size": amd.len()},
    }))
    .expect("json");
    let digest = Digest::of(&signature);
    registry
        .put_manifest("team/app", &digest.to_string(), OCI_MANIFEST, &signature)
        .expect("pushed by digest");
    let referrers = registry.referrers("team/app", &subject).expect("referrers");
    assert_eq!(referrers.len(), 1);
    assert_eq!(
        referrers[0].artifact_type.as_deref(),
        Some("application/vnd.example.signature")
    );
}

#[test]
fn garbage_collection_frees_unreferenced_blobs_and_keeps_shared_ones() {
    let (_dir, registry) = open_with_other();
    let shared = b"a layer both images use".to_vec();
    let first = push_image(&registry, "team/app", "v1", &shared);
    push_image(&registry, "team/other", "v1", &shared);
    let config = push_blob(&registry, "team/app", b"{\"v\":2}");
    let own = push_blob(&registry, "team/app", b"a layer only v2 uses");
    let second = image_manifest(&config, 7, &[(&own, 20)]);
    registry
        .put_manifest("team/app", "v2", OCI_MANIFEST, &second)
        .expect("v2");
    let before = registry.blobs().list().expect("list").len();

    // Nothing is collected while referenced, nor within the grace period.
    assert_eq!(
        registry
            .collect_garbage(Duration::from_secs(3600))
            .expect("gc")
            .0,
        0
    );
    registry
        .delete_manifest("team/app", &Digest::of(&second))
        .expect("deleted v2");
    assert_eq!(
        registry
            .collect_garbage(Duration::from_secs(3600))
            .expect("gc")
            .0,
        0
    );
    let (removed, _) = registry.collect_garbage(Duration::ZERO).expect("gc");
    assert_eq!(removed, 3, "v2's manifest, config and own layer");
    assert_eq!(registry.blobs().list().expect("list").len(), before - 3);
    assert!(
        registry
            .blobs()
            .size(&Digest::of(&shared))
            .expect("size")
            .is_some()
    );
    registry
        .delete_repository("team/app", true)
        .expect("deleted");
    registry.collect_garbage(Duration::ZERO).expect("gc");
    assert!(
        registry
            .blobs()
            .size(&Digest::of(&shared))
            .expect("size")
            .is_some(),
        "team/other still uses the shared layer"
    );
    // team/app's v1 manifest is byte for byte team/other's: it stays, and pulls still work.
    let (image, _) = registry
        .manifest("team/other", "v1")
        .expect("still pullable");
    assert_eq!(image.digest, Digest::of(&first).to_string());
}

#[test]
fn a_lifecycle_policy_expires_all_but_the_newest_two_images() {
    let (_dir, registry) = open();
    for i in 0..5 {
        push_image(
            &registry,
            "team/app",
            &format!("v{i}"),
            format!("layer {i}").as_bytes(),
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let policy = r#"{"rules":[{"rulePriority":1,"description":"keep two","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}"#;
    registry
        .put_lifecycle_policy("team/app", policy)
        .expect("valid");
    let (_, preview) = registry
        .preview_lifecycle("team/app", None)
        .expect("preview");
    assert_eq!(preview.len(), 3, "the preview expires nothing");
    assert_eq!(registry.images("team/app").expect("images").len(), 5);
    assert_eq!(registry.apply_lifecycle_policies().expect("applied"), 3);
    let mut kept: Vec<String> = registry
        .images("team/app")
        .expect("images")
        .into_iter()
        .flat_map(|i| i.tags)
        .collect();
    kept.sort();
    assert_eq!(kept, ["v3", "v4"]);
    let (_, evaluated) = registry.lifecycle_policy("team/app").expect("policy");
    assert!(evaluated.is_some(), "lastEvaluatedAt is set");
    let (removed, _) = registry.collect_garbage(Duration::ZERO).expect("gc");
    assert_eq!(
        removed, 6,
        "three manifests and their three own layers; the config is shared"
    );
}

#[test]
fn blobs_are_encrypted_at_rest_and_read_back_in_ranges() {
    use std::io::{Read, Seek, SeekFrom};
    let (dir, registry) = open();
    let secret = b"a layer holding a secret that must never sit on disk in the clear".repeat(50);
    let digest = push_blob(&registry, "team/app", &secret);
    let stored = std::fs::read(dir.path().join("blobs/sha256").join(digest.hex())).expect("file");
    let needle = &secret[..32];
    assert!(
        !stored.windows(needle.len()).any(|w| w == needle),
        "the stored file holds no plaintext"
    );
    assert_eq!(
        registry.blob_size("team/app", &digest).expect("size"),
        secret.len() as u64
    );
    let mut blob = registry
        .blobs()
        .open(&digest)
        .expect("open")
        .expect("stored");
    blob.seek(SeekFrom::Start(1000)).expect("seek");
    let mut part = vec![0u8; 500];
    blob.read_exact(&mut part).expect("read");
    assert_eq!(part, &secret[1000..1500]);
}

#[test]
fn the_file_system_backend_passes_the_blob_store_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = berth_registry::sealed::Key::load_or_create(&dir.path().join("key")).expect("key");
    let store = berth_registry::blobs::FsBlobStore::open(dir.path(), key.clone()).expect("store");
    let uploads = berth_registry::uploads::Uploads::open(dir.path(), key).expect("uploads");
    berth_registry::conformance::check(&store, &uploads).expect("conforms");
}

#[test]
fn create_on_push_is_opt_in() {
    let (dir, registry) = open();
    let refused = registry.start_upload("fresh/repo");
    assert!(
        matches!(refused, Err(RegistryError::PushNameUnknown(_))),
        "{refused:?}"
    );
    drop(registry);
    let registry = Registry::open(dir.path())
        .expect("reopens")
        .create_on_push(true);
    let id = registry
        .start_upload("fresh/repo")
        .expect("created on push");
    append(&registry, "fresh/repo", &id, b"{}").expect("data");
    registry
        .finish_upload("fresh/repo", &id, &Digest::of(b"{}"))
        .expect("stored");
    assert_eq!(
        registry
            .repository("fresh/repo")
            .expect("exists")
            .tag_mutability,
        "MUTABLE"
    );
}

#[test]
fn a_blob_is_readable_only_where_pushed_or_mounted() {
    let (_dir, registry) = open_with_other();
    let layer = push_blob(&registry, "team/app", b"a private layer");
    assert_eq!(registry.blob_size("team/app", &layer), Ok(15));
    // Stored once for the whole registry, but team/other never had it.
    assert!(matches!(
        registry.blob_size("team/other", &layer),
        Err(RegistryError::BlobUnknown(_))
    ));
    let config = push_blob(&registry, "team/other", b"{}");
    let refused = registry.put_manifest(
        "team/other",
        "v1",
        OCI_MANIFEST,
        &image_manifest(&config, 2, &[(&layer, 15)]),
    );
    assert!(
        matches!(refused, Err(RegistryError::ManifestBlobUnknown(_))),
        "{refused:?}"
    );
    // A mount from a repository that lacks the blob does nothing; from one that has it, links.
    assert_eq!(
        registry.mount_blob("team/app", "team/other", &config),
        Ok(true),
        "team/other pushed the config"
    );
    assert_eq!(
        registry.mount_blob("team/app", "team/none", &layer),
        Ok(false)
    );
    assert_eq!(
        registry.mount_blob("team/other", "team/app", &layer),
        Ok(true)
    );
    assert_eq!(registry.blob_size("team/other", &layer), Ok(15));
    // Collected blobs leave no links behind.
    registry.collect_garbage(Duration::ZERO).expect("gc");
    assert!(registry.blob_size("team/app", &layer).is_err());
    push_blob(&registry, "team/other", b"a private layer");
    assert!(
        registry.blob_size("team/app", &layer).is_err(),
        "a later push elsewhere does not revive the old link"
    );
}

#[test]
fn images_stored_before_layer_links_stay_pullable() {
    let (dir, registry) = open();
    push_image(&registry, "team/app", "v1", b"an old layer");
    drop(registry);
    // The layout of earlier versions: no layers/ directory.
    std::fs::remove_dir_all(dir.path().join("repositories/team+app/layers")).expect("removed");
    let registry = Registry::open(dir.path()).expect("reopens");
    assert_eq!(
        registry.blob_size("team/app", &Digest::of(b"an old layer")),
        Ok(12)
    );
}

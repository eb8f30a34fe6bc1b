//! The registry when its files are damaged or unreadable, and when limits are pushed: garbage
//! collection that cannot read everything removes nothing, a repository cut short is no
//! repository, a key that cannot be read is never replaced, tag patterns are capped and
//! matched quickly, and upload sessions are purged only when known to be stale.

use berth_registry::digest::Digest;
use berth_registry::lifecycle::Policy;
use berth_registry::manifest::OCI_MANIFEST;
use berth_registry::{Image, Registry, RegistryError};
use std::path::Path;
use std::time::Duration;

mod fixtures;
use fixtures::{open, push_image, repo};

/// The stored image file of `manifest` in team/app.
fn image_file(dir: &Path, manifest: &Digest) -> std::path::PathBuf {
    dir.join("repositories/team+app/images")
        .join(format!("sha256-{}.json", manifest.hex()))
}

/// Damage done to a registry's files, given the manifest of its one image.
type Damage = fn(&Path, &Digest);

#[test]
fn garbage_collection_that_cannot_read_an_image_fails_and_removes_nothing() {
    let damages: [(&str, Damage); 6] = [
        ("a damaged image file", |dir, manifest| {
            std::fs::write(image_file(dir, manifest), b"{\"digest\":").expect("damaged");
        }),
        ("an image file that cannot be read", |dir, manifest| {
            // A directory in its place: reading fails as an I/O error would (chmod does not
            // stop root).
            let file = image_file(dir, manifest);
            std::fs::remove_file(&file).expect("removed");
            std::fs::create_dir(&file).expect("directory");
        }),
        ("an images directory that cannot be listed", |dir, _| {
            let images = dir.join("repositories/team+app/images");
            std::fs::remove_dir_all(&images).expect("removed");
            std::fs::write(&images, b"").expect("a file");
        }),
        ("a damaged repository file", |dir, _| {
            std::fs::write(dir.join("repositories/team+app/repository.json"), b"{")
                .expect("damaged");
        }),
        ("a manifest that cannot be read", |dir, manifest| {
            let blob = dir.join("blobs/sha256").join(manifest.hex());
            std::fs::write(blob, [7u8; 100]).expect("damaged");
        }),
        ("a manifest missing from the blob store", |dir, manifest| {
            std::fs::remove_file(dir.join("blobs/sha256").join(manifest.hex())).expect("removed");
        }),
    ];
    for (what, damage) in damages {
        let (dir, registry) = open();
        let manifest = Digest::of(&push_image(&registry, "team/app", "v1", b"a layer"));
        damage(dir.path(), &manifest);
        let mut stored = registry.blobs().list().expect("list");
        stored.sort();
        let collected = registry.collect_garbage(Duration::ZERO);
        assert!(
            matches!(collected, Err(RegistryError::Storage(_))),
            "{what}: {collected:?}"
        );
        let mut kept = registry.blobs().list().expect("list");
        kept.sort();
        assert_eq!(kept, stored, "{what}: every blob is kept");
    }
}

#[test]
fn a_repository_cut_short_is_no_repository_and_a_deleted_one_leaves_nothing() {
    let (dir, registry) = open();
    let layer = b"a layer of the deleted repository";
    push_image(&registry, "team/app", "v1", layer);
    // What a crash leaves when it cuts short a creation (no repository.json yet) and a
    // deletion (renamed out of sight, partly removed).
    let repositories = dir.path().join("repositories");
    std::fs::create_dir_all(repositories.join("half+made/images")).expect("half made");
    std::fs::create_dir_all(repositories.join(".deleted-cut-short/tags")).expect("leftover");
    std::fs::write(repositories.join(".deleted-cut-short/tags/v9"), b"sha256:0").expect("tag");
    let names: Vec<String> = registry
        .repositories()
        .expect("listed")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["team/app"]);

    registry
        .delete_repository("team/app", true)
        .expect("deleted");
    registry
        .create_repository(repo("team/app", "MUTABLE"))
        .expect("created again");
    assert!(registry.tags("team/app").expect("tags").is_empty());
    assert!(registry.images("team/app").expect("images").is_empty());
    let (removed, _) = registry.collect_garbage(Duration::ZERO).expect("gc");
    assert_eq!(removed, 3, "the deleted image's manifest, config and layer");
    let mut left: Vec<String> = std::fs::read_dir(&repositories)
        .expect("listing")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["half+made", "team+app"], "the leftover is swept");
}

#[test]
fn a_key_that_cannot_be_read_is_never_replaced() {
    // A dangling symlink: the key kept on a volume that is not mounted.
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key");
    std::os::unix::fs::symlink(dir.path().join("unmounted/key"), &key).expect("symlink");
    let Err(refused) = Registry::open(dir.path()) else {
        panic!("a registry opened with a new key in place of one it cannot read");
    };
    assert!(refused.to_string().contains("restore"), "{refused}");
    assert!(
        std::fs::symlink_metadata(&key)
            .expect("still there")
            .is_symlink(),
        "the key's link is left as it was"
    );

    // A damaged key, and a directory in the key's place.
    for damage in [
        |key: &Path| std::fs::write(key, b"too short").expect("damaged"),
        |key: &Path| std::fs::create_dir(key).expect("directory"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key");
        damage(&key);
        assert!(Registry::open(dir.path()).is_err());
    }

    // Absent, it is made, for the owner's eyes only.
    let dir = tempfile::tempdir().expect("tempdir");
    Registry::open(dir.path()).expect("opens");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("key"))
            .expect("key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn lifecycle_tag_patterns_are_capped_and_matched_quickly() {
    let rule = |pattern: &str| {
        format!(
            r#"{{"rules":[{{"rulePriority":1,"selection":{{"tagStatus":"tagged","tagPatternList":["{pattern}"],"countType":"imageCountMoreThan","countNumber":1}},"action":{{"type":"expire"}}}}]}}"#
        )
    };
    let refused = Policy::parse(&rule("v*1*2*3*4*")).expect_err("five wildcards");
    assert!(
        matches!(&refused, RegistryError::LifecyclePolicyInvalid(m) if m.contains("\"v*1*2*3*4*\"") && m.contains("limit is 4")),
        "{refused:?}"
    );
    // Four wildcards that cannot match a long tag: trying every split at every wildcard
    // would take months.
    let policy = Policy::parse(&rule("a*a*a*a*b")).expect("four wildcards");
    // What the policy reads first; the rest is empty.
    let image = |digest: &str, pushed_at: f64| Image {
        digest: digest.into(),
        tags: vec!["a".repeat(10_000)],
        pushed_at,
        media_type: OCI_MANIFEST.into(),
        size: 0,
        manifest_size: 0,
        artifact_type: None,
        subject: None,
        last_pulled_at: None,
    };
    let images = [image("old", 1.0), image("new", 2.0)];
    assert!(policy.expired(&images, 3.0).is_empty());
}

#[test]
fn an_upload_session_is_purged_only_when_known_to_be_stale() {
    let (dir, registry) = open();
    let day_later = std::time::SystemTime::now() + Duration::from_secs(25 * 3600);
    let session = |id: &str| dir.path().join("uploads").join(id);
    // Caught while starting: no data yet, so as old as its directory.
    let starting = registry.uploads().start("team/app").expect("session");
    std::fs::remove_file(session(&starting).join("data")).expect("removed");
    // Its data cannot be looked at (a symlink loop fails like an I/O error would).
    let unreadable = registry.uploads().start("team/app").expect("session");
    let data = session(&unreadable).join("data");
    std::fs::remove_file(&data).expect("removed");
    std::os::unix::fs::symlink(&data, &data).expect("loop");

    assert_eq!(
        registry.uploads().purge_stale(std::time::SystemTime::now()),
        0
    );
    assert!(
        session(&starting).exists(),
        "a session being started is kept"
    );
    assert_eq!(registry.uploads().purge_stale(day_later), 1);
    assert!(
        !session(&starting).exists(),
        "then purged when its directory is stale"
    );
    assert!(session(&unreadable).exists(), "one of unknown age is kept");
}

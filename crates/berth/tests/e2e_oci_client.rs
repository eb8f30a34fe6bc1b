//! The `oci-client` crate against Berth's registry: an image index of two platforms pushed and
//! pulled back, and an artifact found through the referrers API.

use berth_test_kit::ecs::json_client;
use berth_test_kit::process::start_server;
use berth_test_kit::registry::{create_repository, credentials};
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{
    ImageIndexEntry, OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageIndex, OciImageManifest,
    OciManifest, Platform,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::json;

fn reference(s: &str) -> Reference {
    s.parse().expect("reference")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_of_two_platforms_and_a_referrer() {
    // oci-client links a second TLS provider; name the process's default.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let data = tempfile::tempdir().expect("tempdir");
    let (mut server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecr = json_client(&exports);
    create_repository(&ecr, "multi").await;
    let (user, password) = credentials(&ecr).await;
    let auth = RegistryAuth::Basic(user, password);
    let host = exports.endpoint.trim_start_matches("http://").to_string();
    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    });

    let mut entries = vec![];
    for arch in ["amd64", "arm64"] {
        let image = reference(&format!("{host}/multi:{arch}"));
        let layer = ImageLayer::oci_v1(format!("{arch} layer").into_bytes(), None);
        let config = Config::oci_v1(
            json!({"architecture": arch, "os": "linux"})
                .to_string()
                .into_bytes(),
            None,
        );
        client
            .push(&image, &[layer], config, &auth, None)
            .await
            .expect("pushed");
        let (bytes, digest) = client
            .pull_manifest_raw(&image, &auth, &[OCI_IMAGE_MEDIA_TYPE])
            .await
            .expect("pulled");
        entries.push(ImageIndexEntry {
            media_type: OCI_IMAGE_MEDIA_TYPE.into(),
            digest,
            size: bytes.len() as i64,
            platform: Some(Platform {
                architecture: arch.into(),
                os: "linux".into(),
                os_version: None,
                os_features: None,
                variant: None,
                features: None,
            }),
            annotations: None,
        });
    }
    let index = OciImageIndex {
        schema_version: 2,
        media_type: Some("application/vnd.oci.image.index.v1+json".into()),
        manifests: entries.clone(),
        artifact_type: None,
        annotations: None,
    };
    let latest = reference(&format!("{host}/multi:latest"));
    client
        .push_manifest_list(&latest, &auth, index)
        .await
        .expect("index pushed");
    match client.pull_manifest(&latest, &auth).await.expect("index") {
        (OciManifest::ImageIndex(index), _) => {
            let arches: Vec<String> = index
                .manifests
                .iter()
                .filter_map(|m| m.platform.as_ref().map(|p| p.architecture.clone()))
                .collect();
            assert_eq!(arches, ["amd64", "arm64"]);
        }
        (other, _) => panic!("not an index: {other:?}"),
    }

    // A signature-like artifact whose subject is the amd64 image.
    let subject = &entries[0];
    let layer = ImageLayer::oci_v1(b"signature".to_vec(), None);
    let config = Config::oci_v1(b"{}".to_vec(), None);
    let mut manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, None);
    manifest.artifact_type = Some("application/vnd.example.signature".into());
    manifest.subject = Some(OciDescriptor {
        media_type: subject.media_type.clone(),
        digest: subject.digest.clone(),
        size: subject.size,
        ..OciDescriptor::default()
    });
    client
        .push(
            &reference(&format!("{host}/multi:sig")),
            &[layer],
            config,
            &auth,
            Some(manifest),
        )
        .await
        .expect("artifact pushed");
    let by_digest = reference(&format!("{host}/multi@{}", subject.digest));
    let referrers = client
        .pull_referrers(&by_digest, None)
        .await
        .expect("referrers");
    assert_eq!(referrers.manifests.len(), 1);
    let filtered = client
        .pull_referrers(&by_digest, Some("application/vnd.example.other"))
        .await
        .expect("filtered referrers");
    assert!(filtered.manifests.is_empty());
    let _ = server.kill();
    let _ = server.wait();
}

//! The OCI Distribution conformance behaviours, one test per workflow of the spec's suite —
//! pull, push, content discovery, content management — against a real `berth server`, with
//! the status codes, headers and error codes the spec requires.

use berth_test_kit::ecs::json_client;
use berth_test_kit::process::{Exports, Process, start_server};
use berth_test_kit::registry::{
    OCI_MANIFEST, Registry, assert_code, create_repository, digest, image_manifest, location,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server with a repository holding one image tagged `v1`.
struct Fixture {
    _server: Process,
    _data: tempfile::TempDir,
    exports: Exports,
    reg: Registry,
    manifest: Value,
    layer: Vec<u8>,
}

/// Asserts that `reference` names no manifest in `name`: 404 MANIFEST_UNKNOWN.
async fn assert_no_manifest(reg: &Registry, name: &str, reference: &str) {
    let r = reg.get(&format!("/v2/{name}/manifests/{reference}")).await;
    assert_code(r, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;
}

async fn with_image(name: &str) -> Fixture {
    let data = tempfile::tempdir().expect("tempdir");
    let (server, exports) = start_server(data.path(), "127.0.0.1:0");
    create_repository(&json_client(&exports), name).await;
    let reg = Registry::root(&exports).await;
    let layer: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let l = reg.push_blob(name, &layer).await;
    let c = reg.push_blob(name, config).await;
    let manifest = image_manifest((&c, config.len()), &[(&l, layer.len())]);
    let r = reg.put_manifest(name, "v1", &manifest).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    Fixture {
        _server: server,
        _data: data,
        exports,
        reg,
        manifest,
        layer,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pull() {
    let f = with_image("conf/pull").await;
    let (reg, manifest, layer) = (&f.reg, &f.manifest, &f.layer);
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let m = digest(&bytes);
    let l = digest(layer);

    // Manifests by tag and by digest, GET and HEAD.
    for reference in ["v1", m.as_str()] {
        let path = format!("/v2/conf/pull/manifests/{reference}");
        let r = reg
            .send(Method::HEAD, &path, &[("accept", OCI_MANIFEST)], vec![])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["docker-content-digest"], m.as_str());
        assert_eq!(r.headers()["content-type"], OCI_MANIFEST);
        assert_eq!(
            r.headers()["content-length"],
            bytes.len().to_string().as_str()
        );
        let r = reg
            .send(Method::GET, &path, &[("accept", OCI_MANIFEST)], vec![])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.expect("body").as_ref(), bytes.as_slice());
    }

    // Blobs: HEAD, GET, and a Range.
    let path = format!("/v2/conf/pull/blobs/{l}");
    let r = reg.head(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], "70000");
    assert_eq!(r.headers()["docker-content-digest"], l.as_str());
    let r = reg.get(&path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.expect("body").as_ref(), layer.as_slice());
    let r = reg
        .send(Method::GET, &path, &[("range", "bytes=100-199")], vec![])
        .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["content-range"], "bytes 100-199/70000");
    assert_eq!(r.bytes().await.expect("body").as_ref(), &layer[100..200]);

    // What is not there: 404 with the spec's codes (a HEAD has no body to carry one).
    let absent = digest(b"absent");
    let r = reg.get(&format!("/v2/conf/pull/blobs/{absent}")).await;
    assert_code(r, StatusCode::NOT_FOUND, "BLOB_UNKNOWN").await;
    let r = reg.head(&format!("/v2/conf/pull/blobs/{absent}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for reference in ["nope", absent.as_str()] {
        assert_no_manifest(reg, "conf/pull", reference).await;
        let r = reg
            .head(&format!("/v2/conf/pull/manifests/{reference}"))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = reg.get("/v2/conf/absent/manifests/v1").await;
    assert_code(r, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn push() {
    let f = with_image("conf/push").await;
    let (reg, layer) = (&f.reg, &f.layer);
    create_repository(&json_client(&f.exports), "conf/other").await;

    // To a repository that does not exist: NAME_UNKNOWN, with the ways to make one.
    let r = reg.post("/v2/conf/nowhere/blobs/uploads/", b"").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = serde_json::from_slice(&r.bytes().await.expect("body")).expect("json");
    assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
    assert_eq!(
        body["errors"][0]["message"],
        "repository \"conf/nowhere\" does not exist: create it with aws ecr create-repository \
         --repository-name conf/nowhere, or start the server with --registry-create-on-push"
    );

    // POST then PUT: 202 with a Location, then 201 with the blob's Location and digest.
    let blob = b"pushed in two steps".to_vec();
    let d = digest(&blob);
    let r = reg.post("/v2/conf/push/blobs/uploads/", b"").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let upload = location(&r);
    let r = reg
        .put(
            &format!("{}{upload}?digest={d}", reg.base),
            &[("content-type", "application/octet-stream")],
            &blob,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(location(&r), format!("/v2/conf/push/blobs/{d}"));
    assert_eq!(r.headers()["docker-content-digest"], d.as_str());

    // Chunked: PATCHes in order, the offset reported, a chunk out of order refused with 416.
    let chunked: Vec<u8> = (0..30_000u32).map(|i| (i % 13) as u8).collect();
    let r = reg.post("/v2/conf/push/blobs/uploads/", b"").await;
    let upload = format!("{}{}", reg.base, location(&r));
    let r = reg.patch(&upload, Some("0-9999"), &chunked[..10_000]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["range"], "0-9999");
    let next = format!("{}{}", reg.base, location(&r));
    let r = reg
        .patch(&next, Some("20000-29999"), &chunked[20_000..])
        .await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let r = reg
        .patch(&next, Some("10000-19999"), &chunked[10_000..20_000])
        .await;
    assert_eq!(r.headers()["range"], "0-19999");
    let r = reg.get(&next).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["range"], "0-19999");
    let c = digest(&chunked);
    let r = reg
        .put(&format!("{next}?digest={c}"), &[], &chunked[20_000..])
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // A single POST with the digest; one whose digest lies stores nothing.
    let d = reg.push_blob("conf/push", b"one request").await;
    let lie = digest(b"something else");
    let r = reg
        .post(
            &format!("/v2/conf/push/blobs/uploads/?digest={lie}"),
            b"one",
        )
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let r = reg.head(&format!("/v2/conf/push/blobs/{lie}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Cross-repository mount: 201 from a repository holding the blob; a fallback upload (202)
    // from one that does not, or without `from`.
    let l = digest(layer);
    let r = reg
        .post(
            &format!("/v2/conf/other/blobs/uploads/?mount={l}&from=conf/push"),
            b"",
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(location(&r), format!("/v2/conf/other/blobs/{l}"));
    let r = reg
        .post(
            &format!("/v2/conf/push/blobs/uploads/?mount={d}&from=conf/other"),
            b"",
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED, "conf/other never had it");
    let r = reg
        .post(&format!("/v2/conf/other/blobs/uploads/?mount={d}"), b"")
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    // Manifests: by tag and by digest (201, Location, digest), with no layers, with a subject
    // (OCI-Subject), and one naming a blob the repository lacks.
    let manifest = image_manifest((&d, 11), &[(&c, chunked.len())]);
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let m = digest(&bytes);
    let r = reg.put_manifest("conf/push", "v2", &manifest).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(location(&r), format!("/v2/conf/push/manifests/{m}"));
    assert_eq!(r.headers()["docker-content-digest"], m.as_str());
    let r = reg.put_manifest("conf/push", &m, &manifest).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let empty = image_manifest((&d, 11), &[]);
    assert_eq!(
        reg.put_manifest("conf/push", "empty", &empty)
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut artifact = image_manifest((&d, 11), &[]);
    artifact["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": m, "size": bytes.len()});
    let r = reg.put_manifest("conf/push", "sig", &artifact).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["oci-subject"], m.as_str());
    let foreign = reg.push_blob("conf/other", b"only in conf/other").await;
    let r = reg
        .put_manifest(
            "conf/push",
            "v3",
            &image_manifest((&d, 11), &[(&foreign, 18)]),
        )
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn content_discovery() {
    let f = with_image("conf/discover").await;
    let (reg, manifest) = (&f.reg, &f.manifest);
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let m = digest(&bytes);
    for tag in ["v2", "v3", "v4"] {
        reg.put_manifest("conf/discover", tag, manifest).await;
    }
    let tags = |query: &'static str| async move {
        let r = reg
            .get(&format!("/v2/conf/discover/tags/list{query}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let link = r
            .headers()
            .get("link")
            .map(|l| l.to_str().expect("link").to_string());
        let v: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
        assert_eq!(v["name"], "conf/discover");
        (v["tags"].clone(), link)
    };
    assert_eq!(tags("").await, (json!(["v1", "v2", "v3", "v4"]), None));
    let (page, link) = tags("?n=2").await;
    assert_eq!(page, json!(["v1", "v2"]));
    assert_eq!(
        link.as_deref(),
        Some("</v2/conf/discover/tags/list?n=2&last=v2>; rel=\"next\"")
    );
    assert_eq!(tags("?n=2&last=v2").await, (json!(["v3", "v4"]), None));
    assert_eq!(tags("?last=v3").await.0, json!(["v4"]));
    assert_eq!(tags("?n=0").await.0, json!([]));
    let r = reg.get("/v2/conf/absent/tags/list").await;
    assert_code(r, StatusCode::NOT_FOUND, "NAME_UNKNOWN").await;

    // Referrers: every manifest naming the subject, filtered by artifactType on request.
    let config = reg.push_blob("conf/discover", b"{}").await;
    for (tag, kind) in [
        ("sig", "application/vnd.example.signature"),
        ("sbom", "application/vnd.example.sbom"),
    ] {
        let mut artifact = image_manifest((&config, 2), &[]);
        artifact["artifactType"] = json!(kind);
        artifact["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": m, "size": bytes.len()});
        assert_eq!(
            reg.put_manifest("conf/discover", tag, &artifact)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let referrers = |query: String| async move {
        let r = reg
            .get(&format!("/v2/conf/discover/referrers/{query}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-type"],
            "application/vnd.oci.image.index.v1+json"
        );
        let filtered = r.headers().get("oci-filters-applied").is_some();
        let v: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
        (
            v["manifests"].as_array().cloned().unwrap_or_default(),
            filtered,
        )
    };
    let (all, filtered) = referrers(m.clone()).await;
    assert_eq!((all.len(), filtered), (2, false));
    let (some, filtered) =
        referrers(format!("{m}?artifactType=application/vnd.example.sbom")).await;
    assert_eq!((some.len(), filtered), (1, true));
    assert_eq!(some[0]["artifactType"], "application/vnd.example.sbom");
    let (none, _) = referrers(digest(b"no subject")).await;
    assert!(none.is_empty(), "no referrers is an empty index, not a 404");
}

#[tokio::test(flavor = "multi_thread")]
async fn content_management() {
    let f = with_image("conf/manage").await;
    let (reg, manifest, layer) = (&f.reg, &f.manifest, &f.layer);
    let m = digest(&serde_json::to_vec(&manifest).expect("json"));
    reg.put_manifest("conf/manage", "v2", manifest).await;

    // Deleting a tag leaves the image under its other tag and its digest.
    let r = reg.delete("/v2/conf/manage/manifests/v2").await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = reg.get("/v2/conf/manage/tags/list").await;
    let v: Value = serde_json::from_str(&r.text().await.expect("body")).expect("json");
    assert_eq!(v["tags"], json!(["v1"]));
    let r = reg.get(&format!("/v2/conf/manage/manifests/{m}")).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Deleting by digest removes the image and every tag of it.
    let r = reg.delete(&format!("/v2/conf/manage/manifests/{m}")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for reference in ["v1", m.as_str()] {
        assert_no_manifest(reg, "conf/manage", reference).await;
    }
    let r = reg.delete(&format!("/v2/conf/manage/manifests/{m}")).await;
    assert_code(r, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN").await;

    // Blobs go by garbage collection, as in ECR: DELETE on one is 405 UNSUPPORTED, which the
    // spec allows.
    let r = reg
        .delete(&format!("/v2/conf/manage/blobs/{}", digest(layer)))
        .await;
    assert_code(r, StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED").await;

    // An upload session can be cancelled, and is gone afterwards.
    let r = reg.post("/v2/conf/manage/blobs/uploads/", b"").await;
    let upload = format!("{}{}", reg.base, location(&r));
    let r = reg.delete(&upload).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = reg.get(&upload).await;
    assert_code(r, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN").await;
}

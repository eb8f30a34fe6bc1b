//! The registry's HTTP face against a real `berth server`, beyond the OCI workflows of
//! `e2e_oci_conformance`: the Basic-auth challenge, OCI error codes for bad input (lying
//! digests, unknown algorithms, wrong media types, bad names, oversized manifests), agent
//! tokens that may pull but not push, an upload that survives the server being killed with
//! SIGKILL, and ECR's layer API.

use base64::Engine;
use berth_test_kit::ecs::{join, json_client, refusal, rotate_join_token};
use berth_test_kit::process::start_server;
use berth_test_kit::registry::{
    ECR, Registry, assert_code, basic, code, create_repository, digest, location,
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn the_registry_speaks_oci_and_refuses_bad_input() {
    let data = tempfile::tempdir().expect("tempdir");
    let (mut server, exports) = start_server(data.path(), "127.0.0.1:0");
    let base = exports.endpoint.clone();
    let http = Client::new();

    // The challenge docker login answers, and a forged password.
    let anonymous = http
        .get(format!("{base}/v2/"))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Basic realm=\"Berth ECR\""
    );
    let forged = Registry::new(&exports, basic("AWS:AKIAX.9999999999.00"));
    assert_eq!(
        code(forged.get("/v2/").await).await.0,
        StatusCode::UNAUTHORIZED
    );

    let root = json_client(&exports);
    create_repository(&root, "team/app").await;
    let reg = Registry::login(&exports, &root).await;
    assert_eq!(reg.get("/v2/").await.status(), StatusCode::OK);

    // A monolithic upload whose digest lies stores nothing.
    let blob = b"0123456789abcdefghij".repeat(100);
    let wrong = digest(b"something else");
    let r = reg
        .post(
            &format!("/v2/team/app/blobs/uploads/?digest={wrong}"),
            &blob,
        )
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let r = reg
        .head(&format!("/v2/team/app/blobs/{}", digest(&blob)))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = reg
        .head("/v2/team/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an unknown digest algorithm is DIGEST_INVALID"
    );

    let d = reg.push_blob("team/app", &blob).await;

    // Manifests: wrong media type, absent blobs, a digest reference that lies.
    let config = br#"{"os":"linux"}"#.to_vec();
    let c = digest(&config);
    let r = reg
        .post(&format!("/v2/team/app/blobs/uploads/?digest={c}"), &config)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let manifest = |layer: &str| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": blob.len()}],
        }))
        .expect("json")
    };
    let oci = [("content-type", "application/vnd.oci.image.manifest.v1+json")];
    let r = reg
        .put(
            "/v2/team/app/manifests/v1",
            &[("content-type", "text/plain")],
            &manifest(&d),
        )
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "MANIFEST_INVALID").await;
    let absent = digest(b"absent layer");
    let r = reg
        .put("/v2/team/app/manifests/v1", &oci, &manifest(&absent))
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN").await;
    let r = reg
        .put(
            &format!("/v2/team/app/manifests/{}", digest(b"not it")),
            &oci,
            &manifest(&d),
        )
        .await;
    assert_code(r, StatusCode::BAD_REQUEST, "DIGEST_INVALID").await;
    let r = reg.put("/v2/UPPER/manifests/v1", &oci, &manifest(&d)).await;
    assert_code(r, StatusCode::BAD_REQUEST, "NAME_INVALID").await;
    for tag in ["v1", "v2", "v3"] {
        let r = reg
            .put(
                &format!("/v2/team/app/manifests/{tag}"),
                &oci,
                &manifest(&d),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            r.headers()["docker-content-digest"],
            digest(&manifest(&d)).as_str()
        );
    }
    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    let r = reg.put("/v2/team/app/manifests/huge", &oci, &huge).await;
    assert_eq!(
        code(r).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID".into()),
        "an oversized manifest"
    );

    // An agent's token pulls only its tasks' images, and never pushes.
    let token = rotate_join_token(&exports, None).await;
    let agent = join(&exports, &token, "default").await;
    let as_agent = Registry::login(&exports, &agent).await;
    let r = as_agent.get("/v2/team/app/manifests/v1").await;
    // Agents pull only the images of the tasks placed on their instance (this one has none).
    assert_code(r, StatusCode::FORBIDDEN, "DENIED").await;
    let r = as_agent
        .put("/v2/team/app/manifests/v9", &oci, &manifest(&d))
        .await;
    assert_code(r, StatusCode::FORBIDDEN, "DENIED").await;

    // An upload interrupted by SIGKILL: nothing partial is visible, and it resumes.
    let big: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    let r = reg.post("/v2/team/app/blobs/uploads/", b"").await;
    let upload = location(&r);
    let r = reg.patch(&upload, None, &big[..1_000_000]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    let (_server, _) = start_server(data.path(), &exports.listen());
    let big_digest = digest(&big);
    let r = reg.head(&format!("/v2/team/app/blobs/{big_digest}")).await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "no partial blob is visible"
    );
    let r = reg.get(&upload).await;
    assert_eq!(
        r.headers()["range"],
        "0-999999",
        "the upload resumes where it stopped"
    );
    let r = reg
        .put(
            &format!("{upload}?digest={big_digest}"),
            &[],
            &big[1_000_000..],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = reg.head(&format!("/v2/team/app/blobs/{big_digest}")).await;
    assert_eq!(r.headers()["content-length"], "2000000");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_layer_api_and_put_image_push_without_v2() {
    let data = tempfile::tempdir().expect("tempdir");
    let (mut server, exports) = start_server(data.path(), "127.0.0.1:0");
    let ecr = json_client(&exports);
    let call = |op: &'static str, input: Value| {
        let ecr = ecr.clone();
        async move { ecr.call_target::<_, Value>(ECR, op, &input).await }
    };
    call("CreateRepository", json!({"repositoryName": "layers"}))
        .await
        .expect("created");
    let layer: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let upload = call("InitiateLayerUpload", json!({"repositoryName": "layers"}))
        .await
        .expect("upload");
    let id = upload["uploadId"].as_str().expect("id").to_string();
    let part = |first: usize, bytes: &[u8]| {
        json!({"repositoryName": "layers", "uploadId": id, "partFirstByte": first,
               "partLastByte": first + bytes.len() - 1, "layerPartBlob": b64(bytes)})
    };
    let sent = call("UploadLayerPart", part(0, &layer[..20_000]))
        .await
        .expect("part 1");
    assert_eq!(sent["lastByteReceived"], 19_999);
    let skipped = call("UploadLayerPart", part(25_000, &layer[25_000..])).await;
    assert_eq!(refusal(skipped).0, "InvalidLayerPartException");
    call("UploadLayerPart", part(20_000, &layer[20_000..]))
        .await
        .expect("part 2");
    // Parts as large as ECR's limit (20 MiB) go through; larger ones are refused by name.
    let big = call("InitiateLayerUpload", json!({"repositoryName": "layers"}))
        .await
        .expect("upload");
    let big_part = |first: usize, len: usize| {
        let bytes = vec![7u8; len];
        json!({"repositoryName": "layers", "uploadId": big["uploadId"], "partFirstByte": first,
               "partLastByte": first + len - 1, "layerPartBlob": b64(&bytes)})
    };
    call("UploadLayerPart", big_part(0, 20 * 1024 * 1024))
        .await
        .expect("a 20 MiB part");
    let refused = call(
        "UploadLayerPart",
        big_part(20 * 1024 * 1024, 21 * 1024 * 1024),
    )
    .await;
    assert_eq!(refusal(refused).0, "InvalidParameterException");
    let d = digest(&layer);
    let done = call(
        "CompleteLayerUpload",
        json!({"repositoryName": "layers", "uploadId": id, "layerDigests": [d]}),
    )
    .await
    .expect("complete");
    assert_eq!(done["layerDigest"], d.as_str());
    let checked = call(
        "BatchCheckLayerAvailability",
        json!({"repositoryName": "layers", "layerDigests": [d, digest(b"absent")]}),
    )
    .await
    .expect("checked");
    assert_eq!(checked["layers"][0]["layerAvailability"], "AVAILABLE");
    assert_eq!(checked["failures"][0]["failureCode"], "MissingLayerDigest");

    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": d, "size": layer.len()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": d, "size": layer.len()}],
    })
    .to_string();
    let put = json!({"repositoryName": "layers", "imageManifest": manifest, "imageTag": "v1"});
    let image = call("PutImage", put.clone()).await.expect("put");
    assert_eq!(
        image["image"]["imageId"]["imageDigest"],
        digest(manifest.as_bytes()).as_str()
    );
    assert_eq!(
        refusal(call("PutImage", put).await).0,
        "ImageAlreadyExistsException"
    );
    let lying =
        json!({"repositoryName": "layers", "imageManifest": manifest, "imageDigest": digest(b"x")});
    assert_eq!(
        refusal(call("PutImage", lying).await).0,
        "ImageDigestDoesNotMatchException"
    );
    let got = call(
        "BatchGetImage",
        json!({"repositoryName": "layers", "imageIds": [{"imageTag": "v1"}, {"imageTag": "nope"}]}),
    )
    .await
    .expect("got");
    assert_eq!(got["images"][0]["imageManifest"], manifest.as_str());
    assert_eq!(got["failures"][0]["failureCode"], "ImageNotFound");
    let missing = call(
        "DescribeRepositories",
        json!({"repositoryNames": ["absent"]}),
    )
    .await;
    assert_eq!(refusal(missing).0, "RepositoryNotFoundException");
    let _ = server.kill();
    let _ = server.wait();
}

//! Rate limits: a key that calls too fast gets ThrottlingException, which the AWS SDK retries,
//! and its agent-facing calls keep their own allowance.

use aws_sdk_ecs::config::retry::RetryConfig;
use berth_test_kit::ecs::client;
use berth_test_kit::process::start_server_with;

#[tokio::test(flavor = "multi_thread")]
async fn a_noisy_key_is_throttled_without_starving_agent_calls() {
    let data = tempfile::tempdir().expect("tempdir");
    let (mut server, exports) =
        start_server_with(data.path(), "127.0.0.1:0", &["--rate-limit", "5"]);
    let ecs = client(&exports);
    let no_retries = aws_sdk_ecs::Client::from_conf(
        ecs.config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let mut throttled = 0;
    for _ in 0..40 {
        if let Err(e) = no_retries.list_clusters().send().await {
            let code = e.into_service_error().meta().code().map(str::to_string);
            assert_eq!(code.as_deref(), Some("ThrottlingException"));
            throttled += 1;
        }
    }
    assert!(
        throttled >= 20,
        "a burst of 40 at 5/s is mostly refused, saw {throttled}"
    );
    // The same key's agent-facing calls have their own bucket.
    no_retries
        .discover_poll_endpoint()
        .send()
        .await
        .expect("agent calls are not starved");
    // The SDK retries a throttled call until it gets through.
    ecs.list_clusters()
        .send()
        .await
        .expect("retried until admitted");
    let _ = server.kill();
    let _ = server.wait();
}

//! The server's own work for one signed DescribeClusters — verifying the signature, decoding
//! the request, authorising it — timed in this process, without the network.

use super::CLUSTER;
use super::side::Side;
use berth_types::ecs::DescribeClustersRequest;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Server-side cost of verifying and authorising one signed DescribeClusters, in µs, timed in
/// this process on the request the client sends (no network, no scheduling noise).
pub(super) fn auth_cost_us(side: &Side) -> anyhow::Result<f64> {
    use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
    let body = serde_json::to_vec(&DescribeClustersRequest {
        clusters: Some(vec![CLUSTER.into()]),
        ..Default::default()
    })?;
    let url = format!("{}/", side.ecs.endpoint());
    let target = format!("{}.DescribeClusters", berth_types::ecs::TARGET_PREFIX);
    let unsigned = [
        ("x-amz-target", target.as_str()),
        ("content-type", berth_api::wire::CONTENT_TYPE),
    ];
    let mut headers = HeaderMap::new();
    let host = side.running.addr.to_string();
    let signed = side.ecs.sign("POST", &url, &unsigned, &body)?;
    let all = unsigned
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .chain([("host".to_string(), host)])
        .chain(signed);
    for (name, value) in all {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes())?,
            HeaderValue::from_str(&value)?,
        );
    }
    let app = berth_api::AppState {
        control: Arc::clone(&side.running.control),
        registry: Arc::clone(&side.running.registry),
        logs: Arc::clone(&side.running.logs),
        root: berth_api::auth::RootKey {
            id: side.running.credentials.access_key_id.clone(),
            secret: side.running.credentials.secret_access_key.clone(),
        },
        limiter: Arc::new(berth_api::throttle::Limiter::new(0)),
        shutdown: watch::channel(false).1,
        secure: false,
        verify: true,
        registry_listener: None,
    };
    let (method, uri) = (Method::POST, Uri::from_static("/"));
    let once = || -> anyhow::Result<()> {
        let (_, principal) = app
            .authenticate(&method, &uri, &headers, &body)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The request decoded once, as the server does, and its ask.
        let operation = berth_types::ecs::Operation::DescribeClusters;
        let request = berth_types::ecs::Request::decode(operation, &body, &berth_api::wire::Json)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let ask = berth_api::ecs::ask(app.control.partition(), &request);
        app.authorize(
            &principal,
            ask,
            berth_types::ErrorCode::AccessDeniedException,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    };
    once()?;
    const CALLS: u32 = 20_000;
    let started = Instant::now();
    for _ in 0..CALLS {
        once()?;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS))
}

//! The agent's ECS client: the public JSON API over HTTP, as the real ECS agent uses it.

use berth_types::ecs::TARGET_PREFIX;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the connection broke: worth retrying.
    #[error("cannot reach {endpoint}: {reason}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `__type`.
        code: String,
        /// `message`.
        message: String,
    },
}

impl ClientError {
    /// Whether the same call may succeed later (network trouble, 5xx, throttling).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, code, .. } => *status >= 500 || code.contains("Throttling"),
        }
    }
}

/// Calls ECS operations on one endpoint.
#[derive(Clone)]
pub struct EcsClient {
    http: reqwest::Client,
    endpoint: String,
    access_key: String,
    region: String,
}

impl EcsClient {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:9714`).
    pub fn new(endpoint: &str, access_key: &str, region: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            access_key: access_key.to_string(),
            region: region.to_string(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The `Authorization` header the agent sends: SigV4-shaped with the agent's key.
    // Signature verification (and so real signing) arrives with the access-control work.
    pub fn authorization(&self) -> String {
        let date = chrono_date();
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{date}/{}/ecs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            self.access_key, self.region
        )
    }

    /// Calls `operation` with `input`.
    pub async fn call<I: Serialize, O: DeserializeOwned>(
        &self,
        operation: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable {
            endpoint: self.endpoint.clone(),
            reason,
        };
        let body = serde_json::to_vec(input).map_err(|e| unreachable(e.to_string()))?;
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("x-amz-target", format!("{TARGET_PREFIX}.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("authorization", self.authorization())
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if status != 200 {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(ClientError::Api {
                status,
                code: v["__type"].as_str().unwrap_or("Unknown").to_string(),
                message: v["message"].as_str().unwrap_or_default().to_string(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Api {
            status,
            code: "SerializationException".into(),
            message: e.to_string(),
        })
    }
}

/// Today's date as SigV4 scopes write it (YYYYMMDD), from the system clock.
fn chrono_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = (secs / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_is_eight_digits() {
        let d = super::chrono_date();
        assert_eq!(d.len(), 8);
        assert!(d.starts_with("20"));
    }
}

//! Request rate limits: a token bucket per access key and class of call, so one noisy client
//! gets `ThrottlingException` (which the AWS SDKs retry with backoff) without starving the
//! others, and agent reports have buckets of their own that the API calls made with the same
//! key cannot drain. Requests that fail authentication are counted per client address in a
//! small bucket of their own, so an anonymous flood is cut short (and cannot flood the audit
//! log) while signed callers from the same address go on.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Agent-facing calls get this many times the API rate.
const AGENT_FACTOR: f64 = 10.0;
/// Unauthenticated requests a second from one client address (bursts of twice that).
const ANONYMOUS_RATE: f64 = 20.0;
/// Unauthenticated requests a second from all addresses together.
const ANY_ANONYMOUS_RATE: f64 = 100.0;
/// Buckets kept before the full ones (of clients gone quiet) are forgotten.
const MAX_BUCKETS: usize = 100_000;

/// The classes of calls with separate buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Everything a user calls.
    Api,
    /// What agents call to report and register.
    Agent,
    /// Requests that failed authentication, keyed by client address.
    Anonymous,
    /// Requests that failed authentication, from every address together (one key): what may
    /// reach the audit log, however many addresses a flood comes from.
    AnyAnonymous,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets: `rate` requests a second per key, bursts of twice that.
pub struct Limiter {
    rate: f64,
    buckets: Mutex<HashMap<(String, Class), Bucket>>,
}

impl Limiter {
    /// A limiter of `rate` requests a second per access key (0: no limit).
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            buckets: Mutex::default(),
        }
    }

    /// Requests a second for a class of calls.
    fn rate_of(&self, class: Class) -> f64 {
        match class {
            Class::Api => self.rate,
            Class::Agent => self.rate * AGENT_FACTOR,
            Class::Anonymous => ANONYMOUS_RATE,
            Class::AnyAnonymous => ANY_ANONYMOUS_RATE,
        }
    }

    /// Takes one token for `key`'s `class`; false when its bucket is empty.
    pub(crate) fn admit(&self, key: &str, class: Class) -> bool {
        // `--rate-limit 0` lifts the limits of signed callers; unauthenticated requests are
        // always limited.
        if self.rate <= 0.0 && !matches!(class, Class::Anonymous | Class::AnyAnonymous) {
            return true;
        }
        let rate = self.rate_of(class);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            // A bucket refills (bursts are two seconds' worth) in two seconds, and a full
            // bucket is the same as none.
            buckets.retain(|_, b| now.duration_since(b.last).as_secs_f64() < 2.0);
        }
        let bucket = buckets.entry((key.to_string(), class)).or_insert(Bucket {
            tokens: rate * 2.0,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(rate * 2.0);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_cut_at_twice_the_rate_and_keys_do_not_share() {
        let limiter = Limiter::new(5);
        let admitted = (0..30)
            .filter(|_| limiter.admit("noisy", Class::Api))
            .count();
        assert_eq!(admitted, 10);
        assert!(limiter.admit("quiet", Class::Api));
        assert!(
            limiter.admit("noisy", Class::Agent),
            "agents have their own bucket"
        );
        assert!(Limiter::new(0).admit("anyone", Class::Api));
    }

    #[test]
    fn anonymous_requests_have_a_small_bucket_per_address() {
        let limiter = Limiter::new(1000);
        let admitted = (0..100)
            .filter(|_| limiter.admit("127.0.0.1", Class::Anonymous))
            .count();
        assert_eq!(admitted, 40);
        assert!(limiter.admit("127.0.0.1", Class::Api), "signed calls go on");
        let unlimited = Limiter::new(0);
        let admitted = (0..100)
            .filter(|_| unlimited.admit("::1", Class::Anonymous))
            .count();
        assert_eq!(admitted, 40, "--rate-limit 0 leaves the anonymous limit on");
    }
}

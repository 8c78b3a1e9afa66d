//! When to send a request again. Directus answers 503 under pressure and 429 when rate-limited;
//! both mean "later", not "no", so a request waits (what `Retry-After` asks, else exponential
//! back-off), with jitter so that requests refused together do not return together, and within
//! a budget, after which the error is the answer. Apart from the request path so that these
//! timing rules can be tested without a server or a clock.

use reqwest::{StatusCode, header};
use std::time::{Duration, SystemTime};

/// How long one request may wait in total for an overloaded (503 "Under pressure") or
/// rate-limited (429) server before its error is the answer.
const RETRY_BUDGET: Duration = Duration::from_secs(60);
/// A bound on the retries of one request besides [`RETRY_BUDGET`], should the server keep
/// asking for no wait at all.
const MAX_RETRIES: u32 = 100;
/// The least wait before a retry the server allowed: Directus rounds `Retry-After` to whole
/// seconds, so `0` means "in less than half a second", not "now".
const MIN_RETRY_DELAY: Duration = Duration::from_millis(250);
/// Added at random to a retry the server timed, so that the requests refused together do not
/// all come back at the same instant.
const RETRY_JITTER: Duration = Duration::from_millis(250);
/// The first wait of the exponential back-off (without `Retry-After`), and its largest step.
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// 503: Directus' pressure limiter ("Under pressure"); 429: its rate limiter.
pub(super) fn is_overload(status: StatusCode) -> bool {
    status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
}

/// The waits before the retries of one request: what `Retry-After` asks for (seconds or an
/// HTTP date) with some jitter, else exponential back-off with jitter; [`RETRY_BUDGET`] in
/// total at most.
#[derive(Default)]
pub(super) struct Backoff {
    retries: u32,
    waited: Duration,
}

impl Backoff {
    /// The wait before the next retry, or `None` to give up (the budget is spent, or the
    /// server asks for a longer wait than what is left of it).
    pub(super) fn next(&mut self, headers: &header::HeaderMap) -> Option<Duration> {
        let retry_after = headers
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok());
        self.next_at(retry_after, SystemTime::now(), jitter())
    }

    /// [`next`](Self::next) at time `now`, with `jitter` in [0, 1).
    fn next_at(
        &mut self,
        retry_after: Option<&str>,
        now: SystemTime,
        jitter: f64,
    ) -> Option<Duration> {
        let left = RETRY_BUDGET.saturating_sub(self.waited);
        if self.retries >= MAX_RETRIES || left.is_zero() {
            return None;
        }
        let delay = match retry_after.and_then(|value| parse_retry_after(value, now)) {
            Some(asked) if asked > left => return None,
            Some(asked) => (asked.max(MIN_RETRY_DELAY) + RETRY_JITTER.mul_f64(jitter)).min(left),
            None => {
                let step = BACKOFF_START
                    .saturating_mul(2u32.saturating_pow(self.retries))
                    .min(BACKOFF_MAX);
                // "Equal jitter": between half the step and the whole step.
                (step / 2 + (step / 2).mul_f64(jitter)).min(left)
            }
        };
        self.retries += 1;
        self.waited += delay;
        Some(delay)
    }
}

/// `Retry-After`: whole seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, also
/// the obsolete RFC 850 and asctime forms); a date in the past is no wait.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value)
        .map(|date| date.to_utc())
        .ok()
        .or_else(|| {
            ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(value, format).ok())
                .map(|naive| naive.and_utc())
        })?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A number in [0, 1), random enough to spread retries.
fn jitter() -> f64 {
    let (bits, _) = uuid::Uuid::new_v4().as_u64_pair();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::super::fake::fake_directus;
    use super::*;
    use crate::directus::{Client, Credentials};
    use crate::secret::Secret;
    use serde_json::json;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_450); // 07:27:30 GMT
        let parse = |value: &str| parse_retry_after(value, now);
        assert_eq!(parse("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        let in_30_s = Some(Duration::from_secs(30));
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), in_30_s);
        assert_eq!(parse("Wednesday, 21-Oct-15 07:28:00 GMT"), in_30_s);
        assert_eq!(parse("Wed Oct 21 07:28:00 2015"), in_30_s);
        assert_eq!(parse("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        for bad in ["", "-1", "1.5", "soon"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_honours_retry_after_within_a_budget() {
        let now = SystemTime::now();
        let mut backoff = Backoff::default();
        assert_eq!(
            backoff.next_at(Some("1"), now, 0.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            backoff.next_at(Some("0"), now, 0.5),
            Some(MIN_RETRY_DELAY + RETRY_JITTER / 2),
            "a rounded-down Retry-After still waits a little"
        );
        assert_eq!(
            Backoff::default().next_at(Some("3600"), now, 0.0),
            None,
            "waiting longer than the budget is pointless"
        );

        // Without Retry-After: doubling steps, jittered between half and all of each.
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = std::iter::from_fn(|| backoff.next_at(None, now, 0.0))
            .take(5)
            .collect();
        let ms = |ms| Duration::from_millis(ms);
        assert_eq!(waits, [ms(100), ms(200), ms(400), ms(800), ms(1600)]);
        let mut backoff = Backoff::default();
        let total: Duration = std::iter::from_fn(|| backoff.next_at(None, now, 0.999)).sum();
        assert_eq!(
            total, RETRY_BUDGET,
            "gives up after about a minute, not 12 s"
        );
        assert!(backoff.retries < 20, "{} retries", backoff.retries);
        let mut busy = Backoff::default();
        let total: Duration = std::iter::from_fn(|| busy.next_at(Some("1"), now, 0.9)).sum();
        assert!(total <= RETRY_BUDGET && total > RETRY_BUDGET - Duration::from_secs(2));
    }

    #[tokio::test]
    async fn rate_limited_requests_and_logins_are_retried() {
        let (url, seen) = fake_directus(100, 2);
        let credentials = Credentials::Password {
            email: "admin@example.com".into(),
            password: Secret::new("secret"),
        };
        let client = Client::new(&url, credentials).unwrap();
        let started = std::time::Instant::now();
        let answer = client
            .post("/utils/ping", &json!({"ok": true}))
            .await
            .unwrap();
        assert_eq!(answer, json!({"ok": true}));
        let requests = seen.lock().unwrap().clone();
        assert_eq!(requests.len(), 4, "{requests:#?}");
        assert!(
            requests[..3]
                .iter()
                .all(|r| r.starts_with("POST /auth/login"))
        );
        assert_eq!(client.request_count(), 4);
        assert!(started.elapsed() >= MIN_RETRY_DELAY * 2);
    }
}

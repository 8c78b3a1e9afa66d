use crate::secret::MaskedUrl;
use reqwest::{Method, StatusCode};

/// Everything that can go wrong between us and Directus, phrased for the person running the tool.
/// URLs are [`MaskedUrl`]s: neither the message nor `{:?}` shows credentials written into one.
#[derive(Debug, thiserror::Error)]
pub enum DirectusError {
    #[error("invalid Directus URL {url:?}: {reason}")]
    InvalidUrl { url: MaskedUrl, reason: String },
    #[error("cannot reach Directus at {url}: {reason}")]
    Unreachable { url: MaskedUrl, reason: String },
    #[error("{url} does not look like a Directus server: {detail}")]
    NotDirectus { url: MaskedUrl, detail: String },
    #[error("Directus rejected the credentials: {message}")]
    Unauthorized { message: String },
    #[error("{method} {path}: forbidden ({message}); directus-sync needs an admin user")]
    Forbidden {
        method: Method,
        path: String,
        message: String,
    },
    #[error("{method} {path} failed with HTTP {status}: {message}")]
    Api {
        method: Method,
        path: String,
        status: StatusCode,
        code: Option<String>,
        message: String,
    },
    #[error("{method} {path}: unexpected response: {detail}")]
    InvalidResponse {
        method: Method,
        path: String,
        detail: String,
    },
    #[error("{segment:?} cannot be part of a request path")]
    InvalidPathSegment { segment: String },
    #[error("Directus {version} is not supported: directus-sync works with Directus 10.x")]
    UnsupportedVersion { version: String },
}

impl DirectusError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            DirectusError::InvalidUrl { .. } | DirectusError::NotDirectus { .. } => {
                Some("the URL must be the base URL of the Directus API (not of the admin app)")
            }
            DirectusError::Unreachable { .. } => Some("is Directus running at that address?"),
            DirectusError::Unauthorized { .. } => Some(
                "check --directus-token / DIRECTUS_TOKEN, or the email and password of an admin user",
            ),
            DirectusError::Forbidden { .. } => Some("use the token of a user with admin access"),
            DirectusError::UnsupportedVersion { .. } => {
                Some("pass --force to try anyway, at your own risk")
            }
            DirectusError::Api { message, .. } if message.contains("bypass this check") => {
                Some("pass --force to compare or push across Directus versions or database vendors")
            }
            DirectusError::Api { .. } if self.batch_limit().is_some() => Some(
                "one item of this request changes more items than the instance's MAX_BATCH_MUTATION \
                 allows (nested relations count): raise MAX_BATCH_MUTATION on the server",
            ),
            DirectusError::Api { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => Some(
                "the instance's rate limiter (RATE_LIMITER_*) kept refusing requests for about a \
                 minute: try again later, or raise RATE_LIMITER_POINTS on the server",
            ),
            DirectusError::Api { status, .. } if *status == StatusCode::SERVICE_UNAVAILABLE => {
                Some(
                    "Directus stayed overloaded for about a minute (its PRESSURE_LIMITER_*): try \
                     again later",
                )
            }
            // Without Directus' error code, the answer came from something in front of it.
            DirectusError::Api {
                status, code: None, ..
            } if status.is_server_error() => Some(
                "that answer is not Directus' own: check the proxy or load balancer in front \
                 of it, and Directus' server log",
            ),
            DirectusError::Api { status, .. } if status.is_server_error() => {
                Some("Directus failed on its side; its server log says why")
            }
            _ => None,
        }
    }

    /// Directus' error code (`RECORD_NOT_UNIQUE`, `INVALID_PAYLOAD`, ...), when it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            DirectusError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The `MAX_BATCH_MUTATION` a refusal names: Directus answers a batch above it with
    /// HTTP 400 `INVALID_PAYLOAD` "Invalid payload. Exceeded max batch mutation limit of N.".
    pub fn batch_limit(&self) -> Option<usize> {
        const PREFIX: &str = "max batch mutation limit of ";
        let DirectusError::Api {
            status, message, ..
        } = self
        else {
            return None;
        };
        if *status != StatusCode::BAD_REQUEST {
            return None;
        }
        let start = message.to_ascii_lowercase().find(PREFIX)? + PREFIX.len();
        let digits: String = message[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }

    /// Whether the server refused a body for its size (`MAX_PAYLOAD_SIZE`): Directus answers
    /// 400 "request entity too large" (HTTP's own 413 from a proxy in front of it).
    pub fn too_large(&self) -> bool {
        match self {
            DirectusError::Api {
                status, message, ..
            } => {
                *status == StatusCode::PAYLOAD_TOO_LARGE
                    || (*status == StatusCode::BAD_REQUEST
                        && message.to_ascii_lowercase().contains("entity too large"))
            }
            _ => false,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            DirectusError::Api { status, .. } => Some(*status),
            DirectusError::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            DirectusError::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            _ => None,
        }
    }
}

//! The Directus REST client: authentication (token, or email/password with refresh), bounded
//! concurrency, retries on overload, and one place where failures become clear errors.

mod error;

pub use error::DirectusError;

use crate::secret::Secret;
use reqwest::{Method, StatusCode, header};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::{Mutex, Semaphore};

/// Requests in flight at once: enough to overlap latency, few enough that Directus' pressure
/// limiter stays quiet on a small server.
const MAX_CONCURRENT_REQUESTS: usize = 6;
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
/// No `MAX_BATCH_MUTATION` learned yet (Directus' default is no limit).
const NO_BATCH_LIMIT: usize = usize::MAX;

pub type Result<T, E = DirectusError> = std::result::Result<T, E>;

/// Items per write request: below Directus' default `MAX_PAYLOAD_SIZE` (1 MB) and small enough
/// that one failed batch is cheap to retry.
const BATCH_ITEMS: usize = 100;
const BATCH_BYTES: usize = 512 * 1024;

/// Splits a batch write into requests that Directus accepts by default. With a [`Client`] at
/// hand, [`Client::chunks`] also respects the instance's `MAX_BATCH_MUTATION` once learned.
pub fn chunks(values: &[Value]) -> Vec<Vec<Value>> {
    chunks_of(values, BATCH_ITEMS)
}

/// Splits `values` into chunks of at most `max_items` items and [`BATCH_BYTES`] bytes.
fn chunks_of(values: &[Value], max_items: usize) -> Vec<Vec<Value>> {
    let max_items = max_items.max(1);
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut size = 0;
    for value in values {
        let bytes = value.to_string().len();
        let full = out
            .last()
            .is_none_or(|last| last.len() >= max_items || size + bytes > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            size = 0;
        }
        size += bytes;
        out.last_mut()
            .expect("a chunk was pushed")
            .push(value.clone());
    }
    out
}

/// Everything but RFC 3986's unreserved characters is percent-encoded in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A request path from segments, each percent-encoded, so that no value (a SyncId, a table
/// name, an id) can change which route a request reaches. `.` and `..` are refused outright:
/// URL parsers treat them, even encoded, as "this" and "the parent" folder.
pub fn path(segments: &[&str]) -> Result<String> {
    let mut path = String::new();
    for segment in segments {
        if segment.is_empty() || *segment == "." || *segment == ".." {
            return Err(DirectusError::InvalidPathSegment {
                segment: segment.to_string(),
            });
        }
        path.push('/');
        path.extend(percent_encoding::utf8_percent_encode(segment, SEGMENT));
    }
    Ok(path)
}

/// How to authenticate, in the original tool's precedence: a token wins.
#[derive(Debug, Clone)]
pub enum Credentials {
    Token(Secret),
    Password { email: String, password: Secret },
}

/// What `GET /server/info` tells an admin.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub version: String,
}

impl ServerInfo {
    pub fn major(&self) -> Option<u64> {
        self.version.split('.').next()?.parse().ok()
    }
}

/// The user running the tool: named in commit trailers; its role is "the admin role".
#[derive(Debug, Clone, Default)]
pub struct Me {
    pub email: String,
    pub role: Option<String>,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    session: Mutex<Session>,
    requests: AtomicUsize,
    in_flight: Semaphore,
    /// The most items one mutation may change (`MAX_BATCH_MUTATION`), learned from the first
    /// batch the server refused; [`NO_BATCH_LIMIT`] until then.
    batch_limit: AtomicUsize,
}

#[derive(Default)]
struct Session {
    access_token: Option<String>,
    refresh_token: Option<String>,
}

/// A request about to be sent; `path` is relative to the base URL and starts with `/`.
pub struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub body: Option<&'a Value>,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: &'a str) -> Self {
        Request {
            method,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: &'a Value) -> Self {
        self.body = Some(body);
        self
    }
}

impl Client {
    pub fn new(url: &str, credentials: Credentials) -> Result<Client> {
        let parsed = url::Url::parse(url).map_err(|e| DirectusError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DirectusError::InvalidUrl {
                url: url.to_string(),
                reason: "the scheme must be http or https".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("directus-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DirectusError::InvalidUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: url.trim_end_matches('/').to_string(),
            credentials,
            session: Mutex::new(Session::default()),
            requests: AtomicUsize::new(0),
            in_flight: Semaphore::new(MAX_CONCURRENT_REQUESTS),
            batch_limit: AtomicUsize::new(NO_BATCH_LIMIT),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// HTTP requests sent so far, retries and logins included.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The most items the server lets one request create, update or delete
    /// (`MAX_BATCH_MUTATION`), once a refused batch told it; `None` until then.
    pub fn batch_limit(&self) -> Option<usize> {
        match self.batch_limit.load(Ordering::Relaxed) {
            NO_BATCH_LIMIT => None,
            limit => Some(limit),
        }
    }

    /// Items per batch write: [`BATCH_ITEMS`], or the server's smaller `MAX_BATCH_MUTATION`
    /// once learned.
    pub fn batch_size(&self) -> usize {
        BATCH_ITEMS
            .min(self.batch_limit.load(Ordering::Relaxed))
            .max(1)
    }

    /// [`chunks`] for this server: at most [`batch_size`](Self::batch_size) items each.
    pub fn chunks(&self, values: &[Value]) -> Vec<Vec<Value>> {
        chunks_of(values, self.batch_size())
    }

    /// Remembers the server's `MAX_BATCH_MUTATION` for the rest of the run.
    fn learn_batch_limit(&self, limit: usize) {
        let before = self.batch_limit.fetch_min(limit, Ordering::Relaxed);
        if limit < before {
            tracing::info!(
                "Directus accepts at most {limit} items per request (MAX_BATCH_MUTATION): \
                 sending smaller batches"
            );
        }
    }

    /// Sends a request and returns the `data` member of Directus' answer (or the whole body
    /// when it has none, as `/server/specs/oas` and the extension's routes answer).
    ///
    /// A batch write (an array of items or keys, `{"keys": [...]}` or `{"query": ...}`) that
    /// the server refuses for its `MAX_BATCH_MUTATION` is sent again in parts the server
    /// accepts, one after another; the answer is their `data` arrays concatenated, as if it had
    /// been one request. Once the limit is known, larger batches are split before sending.
    pub async fn json(&self, request: Request<'_>) -> Result<Value> {
        let batch = request
            .body
            .and_then(|body| Batch::of(&request.method, body));
        let limit = self.batch_limit.load(Ordering::Relaxed);
        if let Some(batch) = &batch
            && batch.len().is_some_and(|len| len > limit)
        {
            return self.send_in_parts(&request, batch, limit).await;
        }
        match self.data(&request).await {
            Err(error) => match (error.batch_limit(), &batch) {
                (Some(limit), Some(batch))
                    if limit > 0 && batch.len().is_none_or(|len| len > limit) =>
                {
                    self.learn_batch_limit(limit);
                    self.send_in_parts(&request, batch, limit).await
                }
                _ => Err(error),
            },
            answer => answer,
        }
    }

    /// One request; the `data` member of its answer (or the whole body when it has none).
    async fn data(&self, request: &Request<'_>) -> Result<Value> {
        let mut body = self.body(request).await?;
        Ok(match body.get_mut("data") {
            Some(data) => data.take(),
            None => body,
        })
    }

    /// Sends `batch` in parts of at most `limit` items, one after another (a part refused for
    /// a yet smaller limit is split again), and concatenates the `data` of their answers.
    async fn send_in_parts(
        &self,
        request: &Request<'_>,
        batch: &Batch<'_>,
        limit: usize,
    ) -> Result<Value> {
        let (units, keyed) = match batch {
            Batch::Items(items) => (items.to_vec(), None),
            Batch::Keys { keys, rest } => (keys.to_vec(), Some((*rest).clone())),
            Batch::Query { query, rest } => {
                let keys = self.keys_matching(request.path, query).await?;
                (keys, Some((*rest).clone()))
            }
        };
        tracing::debug!(
            "{} {}: {} items in parts of at most {limit}",
            request.method,
            request.path,
            units.len()
        );
        let mut data: Option<Vec<Value>> = None;
        let (mut start, mut size) = (0, limit.max(1));
        while start < units.len() {
            let end = units.len().min(start.saturating_add(size));
            let body = part_body(&units[start..end], keyed.as_ref());
            let part = Request {
                method: request.method.clone(),
                path: request.path,
                query: request.query.clone(),
                body: Some(&body),
            };
            match self.data(&part).await {
                Ok(answer) => {
                    let collected = data.get_or_insert_with(Vec::new);
                    match answer {
                        Value::Null => {}
                        Value::Array(items) => collected.extend(items),
                        other => collected.push(other),
                    }
                    start = end;
                }
                Err(error) => match error.batch_limit() {
                    Some(smaller) if smaller > 0 && smaller < end - start => {
                        self.learn_batch_limit(smaller);
                        size = smaller;
                    }
                    _ => return Err(error),
                },
            }
        }
        Ok(match data {
            // Every part answered nothing (deletes): so does the whole.
            Some(items) if items.is_empty() && request.method == Method::DELETE => Value::Null,
            Some(items) => Value::Array(items),
            None if request.method == Method::DELETE => Value::Null,
            None => Value::Array(Vec::new()),
        })
    }

    /// The primary keys of the items `query` (a `{"query": ...}` body's) selects at `path`,
    /// read the way Directus reads them before a mutation by query.
    async fn keys_matching(&self, path: &str, query: &Value) -> Result<Vec<Value>> {
        let primary = self.primary_key_field(path).await?;
        let mut params = vec![("fields".to_string(), primary.clone())];
        let (mut offset, mut limit) = (0usize, None::<usize>);
        if let Some(query) = query.as_object() {
            for (key, value) in query {
                match key.as_str() {
                    "fields" | "page" | "meta" => {}
                    "limit" => {
                        limit = value.as_i64().and_then(|l| usize::try_from(l).ok());
                    }
                    "offset" => {
                        offset = value
                            .as_u64()
                            .and_then(|o| usize::try_from(o).ok())
                            .unwrap_or(0);
                    }
                    _ => params.push((key.clone(), query_param(value))),
                }
            }
        }
        let items = self.list(path, params).await?;
        Ok(items
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .filter_map(|mut item| item.get_mut(&primary).map(Value::take))
            .filter(|key| !key.is_null())
            .collect())
    }

    /// The primary key field of the collection behind `path`: asked of `/fields/<collection>`
    /// for `/items/<collection>`; `id` for the system endpoints batch writes go to.
    async fn primary_key_field(&self, path: &str) -> Result<String> {
        let Some(collection) = path
            .strip_prefix("/items/")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        else {
            return Ok("id".into());
        };
        let path = format!("/fields/{collection}");
        let fields = self.data(&Request::new(Method::GET, &path)).await?;
        Ok(fields
            .as_array()
            .into_iter()
            .flatten()
            .find(|field| field.pointer("/schema/is_primary_key") == Some(&Value::Bool(true)))
            .and_then(|field| field.get("field").and_then(Value::as_str))
            .unwrap_or("id")
            .to_string())
    }

    /// Sends a request and returns the whole JSON body (`Null` for an empty one).
    async fn body(&self, request: &Request<'_>) -> Result<Value> {
        let (method, path) = (request.method.clone(), request.path.to_string());
        let response = self.send(request).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let text = read_body(&method, &path, response).await?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| DirectusError::InvalidResponse {
            method,
            path,
            detail: format!("not JSON ({e}): {}", snippet(&text)),
        })
    }

    /// Every item of a collection endpoint. Asks for all at once; when the server caps the
    /// page (`QUERY_LIMIT_MAX`), pages through the rest. A non-list answer is an error, never
    /// "no items".
    pub async fn list(&self, path: &str, params: Vec<(String, String)>) -> Result<Vec<Value>> {
        let mut items: Vec<Value> = Vec::new();
        let mut page_size: Option<usize> = None;
        loop {
            let mut request = Request::new(Method::GET, path);
            request.query = params.clone();
            request = match page_size {
                None => request.query("limit", "-1").query("meta", "filter_count"),
                Some(size) => request
                    .query("limit", size.to_string())
                    .query("offset", items.len().to_string()),
            };
            let body = self.body(&request).await?;
            let Some(Value::Array(page)) = body.get("data") else {
                return Err(DirectusError::InvalidResponse {
                    method: Method::GET,
                    path: path.to_string(),
                    detail: format!(
                        "expected a list of items, got {}",
                        snippet(&body.to_string())
                    ),
                });
            };
            let received = page.len();
            items.extend(page.iter().cloned());
            let total = body.pointer("/meta/filter_count").and_then(Value::as_u64);
            if page_size.is_none()
                && let Some(total) = total
            {
                page_size = Some(received);
                if received == 0 || items.len() as u64 >= total {
                    return Ok(items);
                }
                tracing::debug!("{path}: the server sent {received} of {total} items; paging");
                continue;
            }
            if page_size.is_none() || received < page_size.unwrap_or(0) || received == 0 {
                return Ok(items);
            }
        }
    }

    /// Sends a request and returns the body as text (GraphQL specs).
    pub async fn text(&self, request: Request<'_>) -> Result<String> {
        let (method, path) = (request.method.clone(), request.path.to_string());
        let response = self.send(&request).await?;
        read_body(&method, &path, response).await
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.json(Request::new(Method::GET, path)).await
    }

    /// A GET that must answer a JSON array (never taken as "no items" otherwise).
    pub async fn get_list(&self, path: String) -> Result<Vec<Value>> {
        match self.get(&path).await? {
            Value::Array(items) => Ok(items),
            other => Err(DirectusError::InvalidResponse {
                method: Method::GET,
                path,
                detail: format!("expected a list, got {}", snippet(&other.to_string())),
            }),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.json(Request::new(Method::POST, path).body(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        self.json(Request::new(Method::PATCH, path).body(body))
            .await
    }

    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut request = Request::new(Method::DELETE, path);
        request.body = body;
        self.json(request).await
    }

    /// `GET /server/info`, which reports the version only to admins: this also proves that the
    /// URL is a Directus and that the credentials are an admin's.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        let info = self.get("/server/info").await.map_err(|e| match e {
            DirectusError::InvalidResponse { detail, .. } => DirectusError::NotDirectus {
                url: self.base.clone(),
                detail: format!("GET /server/info answered {detail}"),
            },
            other => self.not_directus_on_404("GET /server/info", other),
        })?;
        if !info.is_object() || info.get("project").is_none() {
            return Err(DirectusError::NotDirectus {
                url: self.base.clone(),
                detail: format!("GET /server/info answered {}", snippet(&info.to_string())),
            });
        }
        match info.get("version").and_then(Value::as_str) {
            Some(version) => Ok(ServerInfo {
                version: version.to_string(),
            }),
            None => Err(DirectusError::Forbidden {
                method: Method::GET,
                path: "/server/info".into(),
                message: "the server did not report its version, which it only tells admins".into(),
            }),
        }
    }

    /// The bearer token requests carry now (logging in first for email/password), for hooks
    /// that call the instance themselves.
    pub async fn bearer_token(&self) -> Result<String> {
        self.access_token(false).await
    }

    pub async fn me(&self) -> Result<Me> {
        let me = self.get("/users/me?fields=email,role").await?;
        let text = |key: &str| match me.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        Ok(Me {
            email: text("email").unwrap_or_default(),
            role: text("role"),
        })
    }

    /// A 404 on a route every Directus has means the URL points elsewhere.
    fn not_directus_on_404(&self, route: &str, error: DirectusError) -> DirectusError {
        match error {
            DirectusError::Api {
                status: StatusCode::NOT_FOUND,
                message,
                ..
            } => DirectusError::NotDirectus {
                url: self.base.clone(),
                detail: format!("{route} answered 404 ({message})"),
            },
            other => other,
        }
    }

    async fn send(&self, request: &Request<'_>) -> Result<reqwest::Response> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut refreshed = false;
        let mut backoff = Backoff::default();
        loop {
            let token = self.access_token(false).await?;
            let response = self.send_once(request, &token).await?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && matches!(self.credentials, Credentials::Password { .. })
            {
                // Access tokens expire after 15 minutes by default; a long push must survive that.
                refreshed = true;
                self.access_token(true).await?;
                continue;
            }
            if is_overload(status)
                && let Some(delay) = backoff.next(response.headers())
            {
                tracing::debug!(
                    "{} {} answered {status}; retrying in {delay:?}",
                    request.method,
                    request.path
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }
            return Err(self.error_from(request, response).await);
        }
    }

    async fn send_once(&self, request: &Request<'_>, token: &str) -> Result<reqwest::Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.base, request.path);
        tracing::trace!("{} {url}", request.method);
        let mut builder = self
            .http
            .request(request.method.clone(), &url)
            .header(header::ACCEPT, "application/json")
            .bearer_auth(token);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        builder.send().await.map_err(|e| self.transport_error(e))
    }

    fn transport_error(&self, error: reqwest::Error) -> DirectusError {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            reason = inner.to_string();
            source = inner.source();
        }
        if error.is_timeout() {
            reason = format!("timed out ({reason})");
        }
        DirectusError::Unreachable {
            url: self.base.clone(),
            reason,
        }
    }

    async fn error_from(
        &self,
        request: &Request<'_>,
        response: reqwest::Response,
    ) -> DirectusError {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let (message, code) = parse_error_body(&text).unwrap_or_else(|| {
            let reason = status.canonical_reason().unwrap_or("error").to_string();
            let body = snippet(&text);
            (
                if body.is_empty() {
                    reason
                } else {
                    format!("{reason}: {body}")
                },
                None,
            )
        });
        let (method, path) = (request.method.clone(), request.path.to_string());
        match status {
            StatusCode::UNAUTHORIZED => DirectusError::Unauthorized { message },
            StatusCode::FORBIDDEN => DirectusError::Forbidden {
                method,
                path,
                message,
            },
            _ => DirectusError::Api {
                method,
                path,
                status,
                code,
                message,
            },
        }
    }

    /// The bearer token to send; logs in (or refreshes) for email/password credentials.
    async fn access_token(&self, renew: bool) -> Result<String> {
        let (email, password) = match &self.credentials {
            Credentials::Token(token) => return Ok(token.expose().to_string()),
            Credentials::Password { email, password } => (email, password),
        };
        let mut session = self.session.lock().await;
        if let (Some(token), false) = (&session.access_token, renew) {
            return Ok(token.clone());
        }
        if renew && let Some(refresh_token) = session.refresh_token.clone() {
            let body = json!({"refresh_token": refresh_token, "mode": "json"});
            if let Ok(tokens) = self.auth_call("/auth/refresh", &body).await {
                *session = tokens;
                return Ok(session.access_token.clone().unwrap_or_default());
            }
        }
        let body = json!({"email": email, "password": password.expose(), "mode": "json"});
        *session = self.auth_call("/auth/login", &body).await?;
        Ok(session.access_token.clone().unwrap_or_default())
    }

    /// `POST /auth/login` or `/auth/refresh`, retried like any request while the server is
    /// overloaded or rate-limited. The body holds secrets: it is never logged.
    async fn auth_call(&self, path: &str, body: &Value) -> Result<Session> {
        let url = format!("{}{}", self.base, path);
        let mut backoff = Backoff::default();
        let response = loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = self
                .http
                .post(&url)
                .json(body)
                .send()
                .await
                .map_err(|e| self.transport_error(e))?;
            let status = response.status();
            if is_overload(status)
                && let Some(delay) = backoff.next(response.headers())
            {
                tracing::debug!("POST {path} answered {status}; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                continue;
            }
            break response;
        };
        let request = Request::new(Method::POST, path);
        if !response.status().is_success() {
            let error = self.error_from(&request, response).await;
            return Err(self.not_directus_on_404(&format!("POST {path}"), error));
        }
        let text = read_body(&Method::POST, path, response).await?;
        let parsed: Value =
            serde_json::from_str(&text).map_err(|_| DirectusError::NotDirectus {
                url: self.base.clone(),
                detail: format!("POST {path} answered {}", snippet(&text)),
            })?;
        let token = |key: &str| {
            parsed
                .pointer(&format!("/data/{key}"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match token("access_token") {
            Some(access) => Ok(Session {
                access_token: Some(access),
                refresh_token: token("refresh_token"),
            }),
            None => Err(DirectusError::Unauthorized {
                message: format!("POST {path} returned no access token"),
            }),
        }
    }
}

/// A batch write's body, which can be sent in parts.
enum Batch<'a> {
    /// `[item, …]` (creates, updates) or `[key, …]` (deletes).
    Items(&'a [Value]),
    /// `{"keys": [...], "data": {...}}` (updates) or `{"keys": [...]}` (deletes); `rest` is
    /// the body without `keys`.
    Keys {
        keys: &'a [Value],
        rest: Map<String, Value>,
    },
    /// `{"query": {...}, "data": {...}}` or `{"query": {...}}`: the server picks the items.
    /// Sent in parts as `{"keys": [...]}` of the items the query selects.
    Query {
        query: &'a Value,
        rest: Map<String, Value>,
    },
}

impl<'a> Batch<'a> {
    /// The batch a request body is, if any: bodies of POST (arrays only), PATCH and DELETE.
    fn of(method: &Method, body: &'a Value) -> Option<Batch<'a>> {
        if *method != Method::POST && *method != Method::PATCH && *method != Method::DELETE {
            return None;
        }
        match body {
            Value::Array(items) if !items.is_empty() => Some(Batch::Items(items)),
            Value::Object(object) if *method != Method::POST => {
                let rest = |key: &str| {
                    let mut rest = object.clone();
                    rest.shift_remove(key);
                    rest
                };
                if let Some(Value::Array(keys)) = object.get("keys") {
                    return (!keys.is_empty()).then(|| Batch::Keys {
                        keys,
                        rest: rest("keys"),
                    });
                }
                match object.get("query") {
                    Some(query @ Value::Object(_)) => Some(Batch::Query {
                        query,
                        rest: rest("query"),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Items or keys in the batch; `None` for a query, whose items only the server knows.
    fn len(&self) -> Option<usize> {
        match self {
            Batch::Items(items) => Some(items.len()),
            Batch::Keys { keys, .. } => Some(keys.len()),
            Batch::Query { .. } => None,
        }
    }
}

/// The body of one part of a batch: the items or keys themselves, or `{"keys": part, ...rest}`.
fn part_body(part: &[Value], rest: Option<&Map<String, Value>>) -> Value {
    match rest {
        None => Value::Array(part.to_vec()),
        Some(rest) => {
            let mut body = rest.clone();
            body.insert("keys".into(), Value::Array(part.to_vec()));
            Value::Object(body)
        }
    }
}

/// A query member as a query-string parameter: strings as they are, lists of names joined
/// with commas (`sort`), everything else as JSON (`filter`, `deep`).
fn query_param(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// 503: Directus' pressure limiter ("Under pressure"); 429: its rate limiter.
fn is_overload(status: StatusCode) -> bool {
    status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
}

/// The waits before the retries of one request: what `Retry-After` asks for (seconds or an
/// HTTP date) with some jitter, else exponential back-off with jitter; [`RETRY_BUDGET`] in
/// total at most.
#[derive(Default)]
struct Backoff {
    retries: u32,
    waited: Duration,
}

impl Backoff {
    /// The wait before the next retry, or `None` to give up (the budget is spent, or the
    /// server asks for a longer wait than what is left of it).
    fn next(&mut self, headers: &header::HeaderMap) -> Option<Duration> {
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

async fn read_body(method: &Method, path: &str, response: reqwest::Response) -> Result<String> {
    response
        .text()
        .await
        .map_err(|e| DirectusError::InvalidResponse {
            method: method.clone(),
            path: path.to_string(),
            detail: format!("the body could not be read: {e}"),
        })
}

/// Directus answers `{"errors":[{"message","extensions":{"code"}}]}`; the sync extension
/// answers `{"message"}`.
fn parse_error_body(text: &str) -> Option<(String, Option<String>)> {
    let body: Value = serde_json::from_str(text).ok()?;
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        let messages: Vec<String> = errors
            .iter()
            .filter_map(|e| e.get("message").map(error_message))
            .collect();
        let code = errors
            .first()
            .and_then(|e| e.pointer("/extensions/code"))
            .and_then(Value::as_str)
            .map(str::to_string);
        return Some((messages.join("; "), code));
    }
    let message = body.get("message").and_then(Value::as_str)?;
    Some((message.to_string(), None))
}

/// Directus' error message; for database failures it sends the driver's error object.
fn error_message(message: &Value) -> String {
    match message {
        Value::String(text) => text.clone(),
        Value::Object(object) => ["sqlMessage", "message", "detail", "routine", "code"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .map(|text| format!("database error: {text}"))
            .unwrap_or_else(|| snippet(&message.to_string())),
        other => snippet(&other.to_string()),
    }
}

/// The start of a body, on one line, for error messages.
fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_directus_and_the_extension() {
        let directus = r#"{"errors":[{"message":"Invalid user credentials.","extensions":{"code":"INVALID_CREDENTIALS"}}]}"#;
        assert_eq!(
            parse_error_body(directus),
            Some((
                "Invalid user credentials.".into(),
                Some("INVALID_CREDENTIALS".into())
            ))
        );
        assert_eq!(
            parse_error_body(r#"{"message":"No id map found"}"#),
            Some(("No id map found".into(), None))
        );
        assert_eq!(parse_error_body("<html>"), None);
        let database = r#"{"errors":[{"message":{"code":"ER_FK_COLUMN_CANNOT_CHANGE","sqlMessage":"Cannot change column 'author'"},"extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#;
        assert_eq!(
            parse_error_body(database).unwrap().0,
            "database error: Cannot change column 'author'"
        );
    }

    #[test]
    fn path_segments_cannot_leave_their_place() {
        assert_eq!(
            path(&[
                "directus-extension-sync",
                "table",
                "roles",
                "sync_id",
                "a/../../b c"
            ])
            .unwrap(),
            "/directus-extension-sync/table/roles/sync_id/a%2F..%2F..%2Fb%20c"
        );
        for bad in ["..", ".", ""] {
            assert!(path(&["permissions", bad]).is_err(), "{bad:?}");
        }
        assert_eq!(path(&["items", "é?#%"]).unwrap(), "/items/%C3%A9%3F%23%25");
    }

    #[test]
    fn major_version() {
        let info = |v: &str| ServerInfo { version: v.into() };
        assert_eq!(info("10.13.1").major(), Some(10));
        assert_eq!(info("11.0.0-rc.1").major(), Some(11));
        assert_eq!(info("garbage").major(), None);
    }

    #[test]
    fn rejects_urls_that_cannot_be_directus() {
        let token = || Credentials::Token(Secret::new("t"));
        assert!(Client::new("not a url", token()).is_err());
        assert!(Client::new("ftp://x", token()).is_err());
        assert!(Client::new("http://127.0.0.1:8055/", token()).is_ok());
    }

    #[test]
    fn batch_bodies_and_their_parts() {
        let items = json!([{"id": 1}, {"id": 2}, {"id": 3}]);
        for method in [Method::POST, Method::PATCH, Method::DELETE] {
            assert_eq!(Batch::of(&method, &items).and_then(|b| b.len()), Some(3));
        }
        assert!(Batch::of(&Method::GET, &items).is_none());
        assert!(Batch::of(&Method::POST, &json!([])).is_none());
        assert!(Batch::of(&Method::POST, &json!({"name": "one item"})).is_none());
        assert!(Batch::of(&Method::PATCH, &json!({"project_name": "settings"})).is_none());

        let keyed = json!({"keys": [1, 2, 3, 4, 5], "data": {"icon": "box"}});
        let Some(Batch::Keys { keys, rest }) = Batch::of(&Method::PATCH, &keyed) else {
            panic!("a keys body is a batch");
        };
        assert_eq!(keys.len(), 5);
        assert_eq!(
            part_body(&keys[3..], Some(&rest)),
            json!({"data": {"icon": "box"}, "keys": [4, 5]})
        );
        assert_eq!(
            part_body(&[json!(1), json!(2)], None),
            json!([1, 2]),
            "arrays split into arrays"
        );

        let by_query = json!({"query": {"filter": {"table": {"_eq": "roles"}}, "limit": -1}});
        let batch = Batch::of(&Method::DELETE, &by_query);
        let Some(Batch::Query { rest, .. }) = &batch else {
            panic!("a query body is a batch");
        };
        assert_eq!(part_body(&[json!(7)], Some(rest)), json!({"keys": [7]}));
        assert_eq!(
            batch.and_then(|b| b.len()),
            None,
            "only the server knows how many items"
        );
        assert!(Batch::of(&Method::POST, &by_query).is_none());

        assert_eq!(query_param(&json!("text")), "text");
        assert_eq!(query_param(&json!(["-sort", "id"])), "-sort,id");
        assert_eq!(
            query_param(&json!({"id": {"_in": [1, 2]}})),
            r#"{"id":{"_in":[1,2]}}"#
        );
    }

    #[test]
    fn chunks_respect_the_learned_batch_limit() {
        let values: Vec<Value> = (0..250).map(|i| json!({"id": i})).collect();
        let sizes = |chunks: Vec<Vec<Value>>| chunks.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(chunks(&values)), [100, 100, 50]);
        let client =
            Client::new("http://127.0.0.1:1", Credentials::Token(Secret::new("t"))).unwrap();
        assert_eq!(client.batch_limit(), None);
        assert_eq!(sizes(client.chunks(&values)), [100, 100, 50]);
        client.learn_batch_limit(120);
        assert_eq!(client.batch_size(), 100, "never above BATCH_ITEMS");
        client.learn_batch_limit(10);
        client.learn_batch_limit(40);
        assert_eq!(client.batch_limit(), Some(10), "the smallest limit wins");
        assert_eq!(sizes(client.chunks(&values[..25])), [10, 10, 5]);
        assert_eq!(chunks_of(&values[..2], 0).len(), 2, "never empty chunks");
    }

    #[test]
    fn the_batch_limit_from_directus_refusal() {
        let refusal = |status: StatusCode, message: &str| DirectusError::Api {
            method: Method::POST,
            path: "/translations".into(),
            status,
            code: Some("INVALID_PAYLOAD".into()),
            message: message.into(),
        };
        // What Directus 10.13.1 answers with MAX_BATCH_MUTATION=10.
        let body = r#"{"errors":[{"message":"Invalid payload. Exceeded max batch mutation limit of 10.","extensions":{"code":"INVALID_PAYLOAD","reason":"Exceeded max batch mutation limit of 10"}}]}"#;
        let (message, _) = parse_error_body(body).unwrap();
        let error = refusal(StatusCode::BAD_REQUEST, &message);
        assert_eq!(error.batch_limit(), Some(10));
        assert!(error.hint().unwrap().contains("MAX_BATCH_MUTATION"));
        assert_eq!(
            refusal(
                StatusCode::BAD_REQUEST,
                "Invalid payload. \"name\" is required."
            )
            .batch_limit(),
            None
        );
        assert_eq!(
            refusal(StatusCode::INTERNAL_SERVER_ERROR, &message).batch_limit(),
            None
        );
    }

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

    /// A fake Directus for the client's own behaviour: it refuses batches above `limit` items
    /// the way Directus does, answers `429` (`Retry-After: 0`) to the first `throttle`
    /// requests, echoes written items, and records each request as `METHOD /path?query body`.
    fn fake_directus(limit: usize, throttle: usize) -> (String, Arc<StdMutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap().to_string(), parts.next().unwrap());
                let target = percent_encoding::percent_decode_str(target)
                    .decode_utf8_lossy()
                    .into_owned();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                    if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                log.lock()
                    .unwrap()
                    .push(format!("{method} {target} {body}"));
                let size = match &body {
                    Value::Array(items) => items.len(),
                    other => other["keys"].as_array().map_or(0, Vec::len),
                };
                let (status, extra, answer) = if n < throttle {
                    ("429 Too Many Requests", "Retry-After: 0\r\n", r#"{"errors":[{"message":"Too many requests, retry after 100ms.","extensions":{"code":"REQUESTS_EXCEEDED"}}]}"#.to_string())
                } else if size > limit || (body.get("query").is_some() && limit < 5) {
                    let message =
                        format!("Invalid payload. Exceeded max batch mutation limit of {limit}.");
                    ("400 Bad Request", "", json!({"errors": [{"message": message, "extensions": {"code": "INVALID_PAYLOAD"}}]}).to_string())
                } else if method == "DELETE" {
                    ("204 No Content", "", String::new())
                } else if target.starts_with("/fields/") {
                    ("200 OK", "", json!({"data": [{"field": "name", "schema": {"is_primary_key": false}}, {"field": "key", "schema": {"is_primary_key": true}}]}).to_string())
                } else if method == "GET" && target.starts_with("/items/") {
                    let items: Vec<Value> = (1..=5).map(|key| json!({"key": key})).collect();
                    (
                        "200 OK",
                        "",
                        json!({"data": items, "meta": {"filter_count": 5}}).to_string(),
                    )
                } else if target == "/auth/login" {
                    (
                        "200 OK",
                        "",
                        json!({"data": {"access_token": "a", "refresh_token": "r"}}).to_string(),
                    )
                } else {
                    ("200 OK", "", json!({"data": body}).to_string())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        (url, seen)
    }

    use std::sync::{Arc, Mutex as StdMutex};

    #[tokio::test]
    async fn refused_batches_are_sent_in_parts_as_one_request() {
        let (url, seen) = fake_directus(3, 0);
        let client = Client::new(&url, Credentials::Token(Secret::new("t"))).unwrap();
        let items: Vec<Value> = (1..=8).map(|id| json!({"id": id})).collect();
        let body = Value::Array(items.clone());
        let created = client
            .json(
                Request::new(Method::POST, "/translations")
                    .query("fields", "id")
                    .body(&body),
            )
            .await
            .unwrap();
        assert_eq!(created, body, "the parts' data, concatenated in order");
        assert_eq!(client.batch_limit(), Some(3));
        let requests = seen.lock().unwrap().split_off(0);
        assert_eq!(
            requests.len(),
            4,
            "the refused request, then 3 parts: {requests:#?}"
        );
        assert!(requests[1].starts_with("POST /translations?fields=id [{\"id\":1}"));

        // Known now: no refused request any more.
        assert_eq!(client.patch("/translations", &body).await.unwrap(), body);
        assert_eq!(seen.lock().unwrap().split_off(0).len(), 3);
        let keys = json!([1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            client.delete("/roles", Some(&keys)).await.unwrap(),
            Value::Null
        );
        let deletes = seen.lock().unwrap().split_off(0);
        assert_eq!(
            deletes,
            [
                "DELETE /roles [1,2,3]",
                "DELETE /roles [4,5,6]",
                "DELETE /roles [7]"
            ]
        );
        let keyed = json!({"keys": [1, 2, 3, 4], "data": {"icon": "box"}});
        assert_eq!(
            client.patch("/roles", &keyed).await.unwrap(),
            json!([{"data": {"icon": "box"}, "keys": [1, 2, 3]}, {"data": {"icon": "box"}, "keys": [4]}])
        );
        seen.lock().unwrap().clear();

        // By query: the keys of the matching items, read first, are deleted in parts.
        let by_query = json!({"query": {"filter": {"table": {"_eq": "roles"}}, "limit": -1}});
        client
            .delete("/items/sync_id_map", Some(&by_query))
            .await
            .unwrap();
        let requests = seen.lock().unwrap().split_off(0);
        assert_eq!(requests.len(), 5, "{requests:#?}");
        assert!(requests[0].starts_with("DELETE /items/sync_id_map {\"query\""));
        assert!(requests[1].starts_with("GET /fields/sync_id_map"));
        assert!(
            requests[2].contains("fields=key")
                && requests[2].contains(r#"filter={"table":{"_eq":"roles"}}"#),
            "{}",
            requests[2]
        );
        assert_eq!(
            &requests[3..],
            [
                r#"DELETE /items/sync_id_map {"keys":[1,2,3]}"#,
                r#"DELETE /items/sync_id_map {"keys":[4,5]}"#
            ]
        );

        // A body the server refuses though within the limit (nested items count) is an error.
        let (url, _) = fake_directus(0, 0);
        let client = Client::new(&url, Credentials::Token(Secret::new("t"))).unwrap();
        let error = client
            .post("/flows", &json!([{"id": 1}]))
            .await
            .unwrap_err();
        assert_eq!(error.batch_limit(), Some(0));
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

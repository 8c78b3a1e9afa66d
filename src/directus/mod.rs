//! The Directus REST client. This file holds the client and the one path every request takes
//! (bounded concurrency, the bearer token, retries, failures turned into clear errors), so that
//! no caller can bypass any of it. What only some requests need lives beside it, each part
//! testable on its own: `batch` (writes larger than the server accepts), `retry` (waiting out
//! an overloaded server), `auth` (logging in and staying logged in), `address` (which URLs it
//! takes, and which would carry credentials in clear text).

mod address;
mod auth;
mod batch;
mod error;
#[cfg(test)]
mod fake;
mod retry;
mod waiting;

pub use auth::Credentials;
pub use batch::query_param;
pub use error::DirectusError;

use crate::json::Compact;
use crate::secret::{MaskedUrl, mask_url};
use auth::Session;
use batch::{Batch, NO_BATCH_LIMIT};
use reqwest::{Method, StatusCode, header};
use retry::{Backoff, is_overload};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore};

/// No `QUERY_LIMIT_MAX` known: lists are asked for whole.
const NO_PAGE_LIMIT: usize = usize::MAX;

/// Requests in flight at once: enough to overlap latency, few enough that Directus' pressure
/// limiter stays quiet on a small server.
const MAX_CONCURRENT_REQUESTS: usize = 6;

pub type Result<T, E = DirectusError> = std::result::Result<T, E>;

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
    waiting: waiting::Waiting,
    in_flight: Semaphore,
    /// The most items one mutation may change (`MAX_BATCH_MUTATION`), learned from the first
    /// batch the server refused; [`NO_BATCH_LIMIT`] until then.
    batch_limit: AtomicUsize,
    /// `QUERY_LIMIT_MAX` from `/server/info`; [`NO_PAGE_LIMIT`] when there is none.
    page_limit: AtomicUsize,
    /// Per collection, its many-to-one fields that point at the collection itself (read from
    /// `/relations` before the first delete in parts there).
    self_links: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

/// A request about to be sent; `path` is relative to the base URL and starts with `/`.
pub struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub body: Option<&'a Value>,
    /// JSON text sent as an uploaded file rather than as a JSON body.
    pub upload: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: &'a str) -> Self {
        Request {
            method,
            path,
            query: Vec::new(),
            body: None,
            upload: None,
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

    /// `body` as a `multipart/form-data` file: Directus caps JSON bodies at `MAX_PAYLOAD_SIZE`
    /// (1 MB by default, often less in production), but its schema endpoints also take the
    /// snapshot or diff as an upload, which has no such cap. A large schema then still
    /// diffs and applies in one piece, atomically, instead of being cut into parts Directus
    /// would read as "delete everything else".
    pub fn upload(mut self, json: &'a str) -> Self {
        self.upload = Some(json);
        self
    }
}

/// The batch size to try after `error` refused `batch`: the server's `MAX_BATCH_MUTATION`,
/// or half the batch when the body was too large (`MAX_PAYLOAD_SIZE`, which cannot be asked
/// for either), with the setting's name. `None`: splitting would not help.
fn smaller_batches(
    error: &DirectusError,
    batch: Option<&Batch<'_>>,
) -> Option<(usize, &'static str)> {
    let len = batch?.len();
    match error.batch_limit() {
        Some(limit) if limit > 0 && len.is_none_or(|len| len > limit) => {
            Some((limit, "MAX_BATCH_MUTATION"))
        }
        _ if error.too_large() => len
            .filter(|len| *len > 1)
            .map(|len| (len.div_ceil(2), "MAX_PAYLOAD_SIZE")),
        _ => None,
    }
}

/// A paged read that did not add up: never taken as the whole list.
pub fn short_list(path: &str, read: usize, counted: u64) -> DirectusError {
    DirectusError::InvalidResponse {
        method: Method::GET,
        path: path.to_string(),
        detail: format!(
            "read {read} distinct items where Directus counted {counted} (is something writing \
             to the instance at the same time?)"
        ),
    }
}

/// Drops later copies of items with the same `id` (items without one are all kept).
fn dedup_by_id(items: &mut Vec<Compact>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| match item.field("id") {
        Some(id) if !id.is_null() => seen.insert(id.to_string()),
        _ => true,
    });
}

fn upload_form(json: &str) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(json.as_bytes().to_vec())
        .file_name("snapshot.json")
        .mime_str("application/json")
        .expect("a valid MIME type");
    reqwest::multipart::Form::new().part("file", file)
}

impl Client {
    /// A client of the instance at `url` (refused with credentials in it, or a scheme other
    /// than http and https); warns when it would send `credentials` unencrypted.
    pub fn new(url: &str, credentials: Credentials) -> Result<Client> {
        let parsed = address::parse(url)?;
        address::warn_if_in_clear(url, &parsed);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("directus-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DirectusError::InvalidUrl {
                url: MaskedUrl::new(url),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: url.trim_end_matches('/').to_string(),
            credentials,
            session: Mutex::new(Session::default()),
            requests: AtomicUsize::new(0),
            waiting: Default::default(),
            in_flight: Semaphore::new(MAX_CONCURRENT_REQUESTS),
            batch_limit: AtomicUsize::new(NO_BATCH_LIMIT),
            page_limit: AtomicUsize::new(NO_PAGE_LIMIT),
            self_links: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// How many requests the client keeps in flight: more futures than this only wait, holding
    /// their payloads and answers.
    pub fn concurrency(&self) -> usize {
        MAX_CONCURRENT_REQUESTS
    }

    /// HTTP requests sent so far, retries and logins included.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// How long the run waited for Directus so far (concurrent requests counted once).
    pub fn waiting(&self) -> std::time::Duration {
        self.waiting.total()
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
            Err(error) => match (smaller_batches(&error, batch.as_ref()), &batch) {
                (Some((limit, setting)), Some(batch)) => {
                    self.learn_batch_limit(limit, setting);
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

    /// The `data` of the answer to a GET, read straight into `T`: a large answer read into its
    /// own shape is never a whole JSON tree first.
    pub async fn get_data<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        let request = Request::new(Method::GET, path);
        self.data_of(&request)
            .await?
            .ok_or_else(|| DirectusError::InvalidResponse {
                method: Method::GET,
                path: path.to_string(),
                detail: "no data in the answer".to_string(),
            })
    }

    /// The `data` of the answer to `request`, read straight into `T`; `None` when there is
    /// none (`204 No Content`, `null`).
    pub async fn data_of<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request<'_>,
    ) -> Result<Option<T>> {
        #[derive(serde::Deserialize)]
        struct Answer<T> {
            data: Option<T>,
        }
        let Some(text) = self.answer(request).await? else {
            return Ok(None);
        };
        serde_json::from_str::<Answer<T>>(&text)
            .map(|answer| answer.data)
            .map_err(|e| DirectusError::InvalidResponse {
                method: request.method.clone(),
                path: request.path.to_string(),
                detail: format!("not the expected JSON ({e}): {}", snippet(&text)),
            })
    }

    /// Sends a request and returns the whole JSON body (`Null` for an empty one).
    async fn body(&self, request: &Request<'_>) -> Result<Value> {
        let Some(text) = self.answer(request).await? else {
            return Ok(Value::Null);
        };
        crate::json::parse_answer(&text).map_err(|e| DirectusError::InvalidResponse {
            method: request.method.clone(),
            path: request.path.to_string(),
            detail: format!("not JSON ({e}): {}", snippet(&text)),
        })
    }

    /// The text of the answer, `None` when there is none.
    async fn answer(&self, request: &Request<'_>) -> Result<Option<String>> {
        let _waiting = self.waiting.enter();
        let response = self.send(request).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let text = read_body(&request.method, request.path, response).await?;
        Ok(Some(text).filter(|text| !text.trim().is_empty()))
    }

    /// Every item of a collection endpoint, in pages of `QUERY_LIMIT_MAX` when the server has
    /// one (Directus sorts by primary key when asked for no order). A non-list answer is an
    /// error, never "no items"; so is a list that is not as long as Directus counted, after
    /// one more try (items created or deleted while paging).
    pub async fn list(&self, path: &str, params: Vec<(String, String)>) -> Result<Vec<Value>> {
        let items = self.list_compact(path, params).await?;
        Ok(Compact::values(&items))
    }

    /// [`list`](Self::list), each item held as compact text: for lists of thousands.
    pub async fn list_compact(
        &self,
        path: &str,
        params: Vec<(String, String)>,
    ) -> Result<Vec<Compact>> {
        let mut tries = 0;
        loop {
            let (items, total) = self.list_as_served(path, &params).await?;
            match total {
                Some(total) if items.len() as u64 != total => {
                    tries += 1;
                    if tries < 2 {
                        tracing::debug!(
                            "{path}: read {} items where Directus counted {total}; reading again",
                            items.len()
                        );
                        continue;
                    }
                    return Err(short_list(path, items.len(), total));
                }
                _ => return Ok(items),
            }
        }
    }

    /// The pages of a list as Directus serves them, and its count of the rows behind them.
    /// For endpoints whose entries are not rows one for one (Directus 10 merges permissions
    /// after reading a page): the caller checks the count once it has the rows.
    pub async fn list_as_served(
        &self,
        path: &str,
        params: &[(String, String)],
    ) -> Result<(Vec<Compact>, Option<u64>)> {
        let mut page = match self.page_limit.load(Ordering::Relaxed) {
            NO_PAGE_LIMIT => None,
            limit => Some(limit),
        };
        let mut items: Vec<Compact> = Vec::new();
        let mut total = None;
        let mut offset = 0;
        loop {
            let mut request = Request::new(Method::GET, path);
            request.query = params.to_vec();
            request = match page {
                None => request.query("limit", "-1"),
                Some(size) => request
                    .query("limit", size.to_string())
                    .query("offset", offset.to_string()),
            };
            if offset == 0 {
                request = request.query("meta", "filter_count");
            }
            let text = self.answer(&request).await?.unwrap_or_default();
            let (entries, meta) = match crate::json::parse_list(&text) {
                Ok((Some(entries), meta)) => (entries, meta),
                answer => {
                    let why = answer.err().map(|e| format!(" ({e})")).unwrap_or_default();
                    return Err(DirectusError::InvalidResponse {
                        method: Method::GET,
                        path: path.to_string(),
                        detail: format!("expected a list of items{why}, got {}", snippet(&text)),
                    });
                }
            };
            let answered = entries.len();
            items.extend(entries);
            if offset == 0 {
                total = meta
                    .as_ref()
                    .and_then(|meta| meta.get("filter_count"))
                    .and_then(Value::as_u64);
            }
            // Offsets count rows, not the entries answered.
            let size = match page {
                Some(size) => size,
                // A cap the server did not tell (no /server/info read): its first page.
                None if total.is_some_and(|total| total > answered as u64) && answered > 0 => {
                    page = Some(answered);
                    answered
                }
                None => return Ok((items, total)),
            };
            offset += size;
            let more = match total {
                Some(total) => (offset as u64) < total,
                None => answered >= size,
            };
            if !more {
                if offset > size {
                    tracing::debug!("{path}: read {} entries in pages of {size}", items.len());
                    // An item that moved between pages while reading would be read twice.
                    dedup_by_id(&mut items);
                }
                return Ok((items, total));
            }
        }
    }

    /// Sends a request and returns the body as text (GraphQL specs).
    pub async fn text(&self, request: Request<'_>) -> Result<String> {
        let (method, path) = (request.method.clone(), request.path.to_string());
        let _waiting = self.waiting.enter();
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
                url: MaskedUrl::new(&self.base),
                detail: format!("GET /server/info answered {detail}"),
            },
            other => self.not_directus_on_404("GET /server/info", other),
        })?;
        if !info.is_object() || info.get("project").is_none() {
            return Err(DirectusError::NotDirectus {
                url: MaskedUrl::new(&self.base),
                detail: format!("GET /server/info answered {}", snippet(&info.to_string())),
            });
        }
        // Admins are told QUERY_LIMIT_MAX (-1: none): pages are then exactly that long.
        if let Some(max) = info.pointer("/queryLimit/max").and_then(Value::as_u64)
            && max > 0
        {
            self.page_limit.store(max as usize, Ordering::Relaxed);
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

    /// Whether the collection `name` exists (Directus answers 403 for one it does not know).
    pub async fn collection_exists(&self, name: &str) -> Result<bool> {
        match self.get(&path(&["collections", name])?).await {
            Ok(found) => Ok(found.get("collection").and_then(Value::as_str) == Some(name)),
            Err(DirectusError::Forbidden { .. })
            | Err(DirectusError::Api {
                status: StatusCode::NOT_FOUND,
                ..
            }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// A 404 on a route every Directus has means the URL points elsewhere.
    fn not_directus_on_404(&self, route: &str, error: DirectusError) -> DirectusError {
        match error {
            DirectusError::Api {
                status: StatusCode::NOT_FOUND,
                message,
                ..
            } => DirectusError::NotDirectus {
                url: MaskedUrl::new(&self.base),
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
                drop(response);
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
        tracing::trace!("{} {}", request.method, mask_url(&url));
        let mut builder = self
            .http
            .request(request.method.clone(), &url)
            .header(header::ACCEPT, "application/json")
            .bearer_auth(token);
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(json) = request.upload {
            builder = builder.multipart(upload_form(json));
        } else if let Some(body) = request.body {
            builder = builder.json(body);
        }
        builder.send().await.map_err(|e| self.transport_error(e))
    }

    fn transport_error(&self, error: reqwest::Error) -> DirectusError {
        // The URL is this error's own field, masked; reqwest's text would repeat it as is.
        let error = error.without_url();
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
            url: MaskedUrl::new(&self.base),
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
        // Directus answers every error with its JSON; a route no server has, answered
        // otherwise, is some other server at this address (whatever the endpoint).
        let not_directus = matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
        ) && parse_error_body(&text).is_none();
        if not_directus {
            return DirectusError::NotDirectus {
                url: MaskedUrl::new(&self.base),
                detail: format!("{method} {path} answered {} ({message})", status.as_u16()),
            };
        }
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
    use crate::secret::Secret;

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
        assert!(Client::new("http://admin:pw@127.0.0.1:8055/", token()).is_err());
        assert!(Client::new("http://127.0.0.1:8055/", token()).is_ok());
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
        let throttled = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests, retry after 518ms.",
        );
        assert!(throttled.hint().unwrap().contains("RATE_LIMITER_POINTS"));
        let pressure = refusal(StatusCode::SERVICE_UNAVAILABLE, "Under pressure");
        assert!(pressure.hint().unwrap().contains("PRESSURE_LIMITER"));
    }
}

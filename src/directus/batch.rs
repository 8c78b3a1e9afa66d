//! Batch writes larger than the server accepts. Directus' `MAX_BATCH_MUTATION` (no limit by
//! default) cannot be asked for: the client learns it from the first batch refused for it, then
//! sends that batch, and every later one, in parts that look like one request to the caller, so
//! that no command needs to know the limit. Deleting in parts is the subtle case (a part may
//! still be pointed at by items of a later one), hence the key ordering and the wait-and-halve
//! rules here, next to the splitting they make safe.

use super::{Client, DirectusError, Request, Result};
use crate::json::Compact;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// No `MAX_BATCH_MUTATION` learned yet (Directus' default is no limit).
pub(super) const NO_BATCH_LIMIT: usize = usize::MAX;

/// Items per write request: below Directus' default `MAX_PAYLOAD_SIZE` (1 MB) and small enough
/// that one failed batch is cheap to retry.
const BATCH_ITEMS: usize = 100;
const BATCH_BYTES: usize = 512 * 1024;

/// Splits `values` into chunks of at most `max_items` items and [`BATCH_BYTES`] bytes.
fn chunks_of(values: Vec<Value>, max_items: usize) -> Vec<Vec<Value>> {
    chunks_by_len(values, max_items, serialized_len)
}

fn chunks_by_len<T>(values: Vec<T>, max_items: usize, len: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let max_items = max_items.max(1);
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut size = 0;
    for value in values {
        let bytes = len(&value);
        let full = out
            .last()
            .is_none_or(|last| last.len() >= max_items || size + bytes > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            size = 0;
        }
        size += bytes;
        out.last_mut().expect("a chunk was pushed").push(value);
    }
    out
}

/// The length of `value` as JSON, counted without building the text.
fn serialized_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).expect("counting cannot fail");
    count.0
}

impl Client {
    /// The most items the server lets one request create, update or delete
    /// (`MAX_BATCH_MUTATION`), once a refused batch told it; `None` until then.
    pub fn batch_limit(&self) -> Option<usize> {
        match self.batch_limit.load(Ordering::Relaxed) {
            NO_BATCH_LIMIT => None,
            limit => Some(limit),
        }
    }

    /// Items per batch write: [`BATCH_ITEMS`], or the server's smaller `MAX_BATCH_MUTATION`
    /// once learned, or its `QUERY_LIMIT_MAX`: Directus answers a batch create with the items
    /// created, read back like any list, so with no more than that many (and the ids it
    /// generated are known only from that answer).
    pub fn batch_size(&self) -> usize {
        BATCH_ITEMS
            .min(self.batch_limit.load(Ordering::Relaxed))
            .min(self.page_limit.load(Ordering::Relaxed))
            .max(1)
    }

    /// [`chunks`] for this server: at most [`batch_size`](Self::batch_size) items each.
    pub fn chunks(&self, values: Vec<Value>) -> Vec<Vec<Value>> {
        chunks_of(values, self.batch_size())
    }

    /// [`chunks`](Self::chunks) of items held as compact text (a push's creates): each chunk is
    /// parsed only when it is sent.
    pub fn compact_chunks(&self, values: Vec<Compact>) -> Vec<Vec<Compact>> {
        chunks_by_len(values, self.batch_size(), |value| value.text().len())
    }

    /// [`chunks`](Self::chunks) of small rows (the id map's): up to `max_items` each, within
    /// the server's limits. Directus' time per item is what it is, but each request costs a
    /// transaction and a read-back on top: fewer requests, a faster first pull.
    pub fn chunks_of_rows(&self, values: Vec<Value>, max_items: usize) -> Vec<Vec<Value>> {
        chunks_of(values, self.rows_per_request(max_items))
    }

    /// How many of up to `max_items` small rows one request may carry on this server.
    pub fn rows_per_request(&self, max_items: usize) -> usize {
        max_items
            .min(self.batch_limit.load(Ordering::Relaxed))
            .min(self.page_limit.load(Ordering::Relaxed))
            .max(1)
    }

    /// Remembers, for the rest of the run, how many items one request may carry, from the
    /// refusal that told (`MAX_BATCH_MUTATION`, or a body over `MAX_PAYLOAD_SIZE`).
    pub(super) fn learn_batch_limit(&self, limit: usize, setting: &str) {
        let before = self.batch_limit.fetch_min(limit, Ordering::Relaxed);
        if limit < before {
            tracing::info!(
                "Directus refused a batch for {setting}: sending at most {limit} items per request"
            );
        }
    }

    /// Sends `batch` in parts of at most `limit` items, one after another (a part refused for
    /// a yet smaller limit is split again), and concatenates the `data` of their answers.
    ///
    /// Deleting items that point at each other in one request works (one statement deletes
    /// them together), but in parts, a part can fail while items of a later part still point
    /// at its items: such a part waits until another part went through, and parts that all
    /// wait are halved, down to single items, before a failure is the answer. So that this
    /// stays the exception, the keys are first put in an order that deletes every item before
    /// the items it points at, as far as Directus' relations tell (`links_among`,
    /// `delete_order`).
    pub(super) async fn send_in_parts(
        &self,
        request: &Request<'_>,
        batch: &Batch<'_>,
        limit: usize,
    ) -> Result<Value> {
        let (units, keyed) = match batch {
            Batch::Items(items) => (items.to_vec(), None),
            Batch::Keys { keys, rest } => (keys.to_vec(), Some(rest.clone())),
            Batch::Query { query, rest } => {
                let keys = self.keys_matching(request.path, query).await?;
                (keys, Some(rest.clone()))
            }
        };
        tracing::debug!(
            "{} {}: {} items in parts of at most {limit}",
            request.method,
            request.path,
            units.len()
        );
        let deleting = request.method == Method::DELETE;
        // Items pointing at others of the batch go first: no part then waits for another.
        let units = match deleting && units.len() > limit {
            true => {
                let links = self.links_among(request.path, &units).await?;
                delete_order(units, &links)
            }
            false => units,
        };
        let mut parts = Parts::new(units, limit);
        let mut data: Vec<Value> = Vec::new();
        while let Some(part) = parts.next(self.batch_limit.load(Ordering::Relaxed).min(limit)) {
            let body = part_body(&part, keyed.as_ref());
            let part_request = Request {
                method: request.method.clone(),
                path: request.path,
                query: request.query.clone(),
                body: Some(&body),
                upload: None,
            };
            match self.data(&part_request).await {
                Ok(answer) => {
                    match answer {
                        Value::Null => {}
                        Value::Array(items) => data.extend(items),
                        other => data.push(other),
                    }
                    parts.sent();
                }
                Err(error) => match error.batch_limit() {
                    Some(smaller) if smaller > 0 && smaller < part.len() => {
                        self.learn_batch_limit(smaller, "MAX_BATCH_MUTATION");
                        parts.retry(part);
                    }
                    _ if error.too_large() && part.len() > 1 => {
                        self.learn_batch_limit(part.len().div_ceil(2), "MAX_PAYLOAD_SIZE");
                        parts.retry(part);
                    }
                    _ if deleting && blocked_by_other_items(&error) => {
                        tracing::debug!(
                            "DELETE {}: {} items wait for the others ({error})",
                            request.path,
                            part.len()
                        );
                        parts.block(part, error)?;
                    }
                    _ => return Err(error),
                },
            }
        }
        // Deletes answer nothing; so does the whole.
        Ok(if deleting && data.is_empty() {
            Value::Null
        } else {
            Value::Array(data)
        })
    }

    /// Which of `keys` point at which others, through the many-to-one fields of the
    /// collection behind `path` that point at the collection itself (an operation's
    /// `resolve` and `reject`, a folder's `parent`): `(from, to)` pairs of keys as text.
    async fn links_among(&self, path: &str, keys: &[Value]) -> Result<Vec<(String, String)>> {
        let Some((encoded, collection)) = collection_of(path) else {
            return Ok(Vec::new());
        };
        let known = self.self_links_cache().get(&collection).cloned();
        let fields = match known {
            Some(fields) => fields,
            None => {
                let relations_path = format!("/relations/{encoded}");
                let relations = self
                    .data(&Request::new(Method::GET, &relations_path))
                    .await?;
                let fields: Vec<String> = relations
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|relation| {
                        let text = |key: &str| relation.get(key).and_then(Value::as_str);
                        text("collection") == Some(collection.as_str())
                            && text("related_collection") == Some(collection.as_str())
                    })
                    .filter_map(|relation| relation.get("field").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect();
                self.self_links_cache()
                    .insert(collection.clone(), fields.clone());
                fields
            }
        };
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let primary = self.primary_key_field(path).await?;
        let mut links = Vec::new();
        for chunk in keys.chunks(BATCH_ITEMS) {
            let filter = json!({ primary.clone(): {"_in": chunk} });
            let params = vec![
                (
                    "fields".to_string(),
                    format!("{primary},{}", fields.join(",")),
                ),
                ("filter".to_string(), filter.to_string()),
            ];
            for item in self.list(path, params).await? {
                let Some(from) = item.get(&primary).and_then(key_text) else {
                    continue;
                };
                for field in &fields {
                    if let Some(to) = item.get(field).and_then(key_text) {
                        links.push((from.clone(), to));
                    }
                }
            }
        }
        Ok(links)
    }

    fn self_links_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<String>>> {
        // A panic elsewhere leaves a usable map behind.
        self.self_links.lock().unwrap_or_else(|e| e.into_inner())
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
}

/// A batch write's body, which can be sent in parts.
pub(super) enum Batch<'a> {
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
    pub(super) fn of(method: &Method, body: &'a Value) -> Option<Batch<'a>> {
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
    pub(super) fn len(&self) -> Option<usize> {
        match self {
            Batch::Items(items) => Some(items.len()),
            Batch::Keys { keys, .. } => Some(keys.len()),
            Batch::Query { .. } => None,
        }
    }
}

/// The parts of a batch still to send. `todo` is a stack (the next part last); `blocked`
/// holds the parts of a delete that failed, perhaps for items of other parts pointing at
/// theirs, in the order they failed.
struct Parts {
    todo: Vec<Vec<Value>>,
    blocked: Vec<(Vec<Value>, DirectusError)>,
}

impl Parts {
    fn new(units: Vec<Value>, size: usize) -> Parts {
        let mut parts = Parts {
            todo: Vec::new(),
            blocked: Vec::new(),
        };
        parts.push_split(units, size);
        parts
    }

    /// Puts `units` back as the next parts, in order, each of at most `size` units.
    fn push_split(&mut self, units: Vec<Value>, size: usize) {
        let parts: Vec<Vec<Value>> = units.chunks(size.max(1)).map(<[Value]>::to_vec).collect();
        self.todo.extend(parts.into_iter().rev());
    }

    /// The next part to send, split first when it has more than `limit` units.
    fn next(&mut self, limit: usize) -> Option<Vec<Value>> {
        loop {
            let part = self.todo.pop()?;
            if part.len() <= limit.max(1) {
                return Some(part);
            }
            self.push_split(part, limit);
        }
    }

    /// A part to send again as it is (split by the next `next` if the limit dropped).
    fn retry(&mut self, part: Vec<Value>) {
        self.todo.push(part);
    }

    /// A part went through: the blocked parts get another chance, the last blocked first
    /// (in a chain, it is the one the part just sent pointed at).
    fn sent(&mut self) {
        let blocked = std::mem::take(&mut self.blocked);
        self.todo.extend(blocked.into_iter().map(|(part, _)| part));
    }

    /// A part failed, perhaps for items of other parts: it waits for them. When no part is
    /// left to try, the waiting ones are halved; when they are single items already, the
    /// failure of the first of them is the answer.
    fn block(&mut self, part: Vec<Value>, error: DirectusError) -> Result<()> {
        self.blocked.push((part, error));
        if !self.todo.is_empty() {
            return Ok(());
        }
        if self.blocked.iter().all(|(part, _)| part.len() <= 1) {
            return Err(self.blocked.swap_remove(0).1);
        }
        let blocked = std::mem::take(&mut self.blocked);
        for (part, _) in blocked.into_iter().rev() {
            let half = part.len().div_ceil(2);
            self.push_split(part, half);
        }
        Ok(())
    }
}

/// `keys` in an order to delete them in parts: an item after every item of `keys` that points
/// at it (`links`: `(from, to)`), otherwise in the order given; items of a cycle come last.
fn delete_order(keys: Vec<Value>, links: &[(String, String)]) -> Vec<Value> {
    let texts: Vec<Option<String>> = keys.iter().map(key_text).collect();
    let index: std::collections::HashMap<&str, usize> = texts
        .iter()
        .enumerate()
        .filter_map(|(i, text)| Some((text.as_deref()?, i)))
        .collect();
    let mut targets: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    let mut referrers = vec![0usize; keys.len()];
    for (from, to) in links {
        if let (Some(&from), Some(&to)) = (index.get(from.as_str()), index.get(to.as_str()))
            && from != to
        {
            targets[from].push(to);
            referrers[to] += 1;
        }
    }
    let mut order: Vec<usize> = Vec::with_capacity(keys.len());
    let mut placed = vec![false; keys.len()];
    let mut ready: std::collections::BTreeSet<usize> =
        (0..keys.len()).filter(|&i| referrers[i] == 0).collect();
    while let Some(next) = ready.pop_first() {
        placed[next] = true;
        order.push(next);
        for &to in &targets[next] {
            referrers[to] -= 1;
            if referrers[to] == 0 {
                ready.insert(to);
            }
        }
    }
    order.extend((0..keys.len()).filter(|&i| !placed[i]));
    let mut keys: Vec<Option<Value>> = keys.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| keys[i].take()).collect()
}

/// A key or a many-to-one value as text, to compare keys whatever their JSON type.
fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The collection behind an endpoint, as its path segment and its name: `/items/<name>`, or
/// `directus_<name>` for a system endpoint (`/operations`, `/folders`).
fn collection_of(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix('/')?.trim_end_matches('/');
    let (encoded, system) = match rest.strip_prefix("items/") {
        Some(name) => (name, false),
        None => (rest, true),
    };
    if encoded.is_empty() || encoded.contains('/') {
        return None;
    }
    let name = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some(match system {
        true => (format!("directus_{name}"), format!("directus_{name}")),
        false => (encoded.to_string(), name),
    })
}

/// A failed delete that may go through once other items are gone: a database constraint
/// (Directus answers 500 with the driver's error, or `INVALID_FOREIGN_KEY`).
fn blocked_by_other_items(error: &DirectusError) -> bool {
    match error {
        DirectusError::Api {
            status,
            code,
            message,
            ..
        } => {
            code.as_deref() == Some("INVALID_FOREIGN_KEY")
                || (*status == StatusCode::INTERNAL_SERVER_ERROR
                    && message.starts_with("database error:"))
        }
        _ => false,
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

/// A query member as a query-string parameter, as the JS SDK sends it: strings as they are,
/// lists of names joined with commas (`sort`), everything else as JSON (`filter`, `deep`).
pub fn query_param(value: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::fake::fake_directus;
    use super::*;
    use crate::directus::Credentials;
    use crate::secret::Secret;

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

    /// Deletes `keys` of a chain where item `i` points at item `i + 1`, the way a database
    /// does: a part fails while an item outside it, not deleted yet, points into it. Returns
    /// the parts sent, or the error.
    fn delete_chain(keys: Vec<u64>, limit: usize) -> Result<Vec<Vec<u64>>> {
        let refused = || DirectusError::Api {
            method: Method::DELETE,
            path: "/operations".into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: Some("INTERNAL_SERVER_ERROR".into()),
            message: "database error: SQLITE_CONSTRAINT".into(),
        };
        let mut alive: std::collections::BTreeSet<u64> = keys.iter().copied().collect();
        let mut parts = Parts::new(keys.into_iter().map(Value::from).collect(), limit);
        let mut sent = Vec::new();
        while let Some(part) = parts.next(limit) {
            let part_keys: Vec<u64> = part.iter().filter_map(Value::as_u64).collect();
            let blocked = part_keys
                .iter()
                .any(|k| *k > 0 && alive.contains(&(k - 1)) && !part_keys.contains(&(k - 1)));
            sent.push(part_keys.clone());
            if blocked {
                assert!(blocked_by_other_items(&refused()));
                parts.block(part, refused())?;
            } else {
                for k in &part_keys {
                    alive.remove(k);
                }
                parts.sent();
            }
        }
        assert!(alive.is_empty(), "left: {alive:?}");
        Ok(sent)
    }

    #[test]
    fn deletes_of_items_pointing_at_each_other_wait_for_the_others() {
        // In order: the parts go through as they are.
        assert_eq!(delete_chain((0..12).collect(), 10).unwrap().len(), 2);
        // Backwards: part [11..2] waits for [1, 0]... which waits too; halving finds an order.
        let backwards = delete_chain((0..12).rev().collect(), 10).unwrap();
        assert!(
            backwards.len() < 40,
            "{} requests: {backwards:?}",
            backwards.len()
        );
        let backwards = delete_chain((0..50).rev().collect(), 10).unwrap();
        assert!(backwards.len() < 150, "{} requests", backwards.len());
        // Shuffled: halving alone gets there, slowly (the client first orders the keys by
        // the collection's links: `delete_order`).
        let mut keys: Vec<u64> = (0..40).collect();
        keys.sort_by_key(|k| (k * 7919) % 41);
        let shuffled = delete_chain(keys.clone(), 10).unwrap();
        assert!(shuffled.len() < 40 * 40, "{} requests", shuffled.len());
        let links: Vec<(String, String)> = (0..39)
            .map(|k| (k.to_string(), (k + 1).to_string()))
            .collect();
        let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
        let ordered: Vec<u64> = delete_order(keys, &links)
            .iter()
            .filter_map(Value::as_u64)
            .collect();
        assert_eq!(ordered, (0..40).collect::<Vec<_>>(), "referrers first");
        assert_eq!(
            delete_chain(ordered, 10).unwrap().len(),
            4,
            "ordered: no part waits"
        );
        // An item that points at one not in the batch can never go: the first failure, after
        // a bounded number of tries.
        let mut tries = 0;
        let mut parts = Parts::new((1..=25).map(Value::from).collect(), 10);
        let error = loop {
            let Some(part) = parts.next(10) else {
                panic!("never gives up")
            };
            tries += 1;
            let error = DirectusError::Api {
                method: Method::DELETE,
                path: "/operations".into(),
                status: StatusCode::BAD_REQUEST,
                code: Some("INVALID_FOREIGN_KEY".into()),
                message: format!("part {tries}"),
            };
            if let Err(error) = parts.block(part, error) {
                break error;
            }
        };
        assert!(tries <= 3 * 25, "{tries} tries");
        assert_eq!(error.code(), Some("INVALID_FOREIGN_KEY"), "{error}");
        assert!(!blocked_by_other_items(&DirectusError::Unauthorized {
            message: "no".into()
        }));
    }

    #[test]
    fn delete_order_puts_referrers_first_and_cycles_last() {
        let key = |k: &str| Value::String(k.into());
        let links = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let keys = vec![key("c"), key("x"), key("b"), key("a"), key("y"), key("z")];
        // a → b → c (a's resolve is b...), y ⇄ z a cycle, x alone; "out" is not deleted.
        let order = delete_order(
            keys,
            &links(&[
                ("a", "b"),
                ("b", "c"),
                ("y", "z"),
                ("z", "y"),
                ("x", "out"),
                ("x", "x"),
            ]),
        );
        assert_eq!(
            order,
            [key("x"), key("a"), key("b"), key("c"), key("y"), key("z")]
        );
        // Numeric keys compare with their text.
        assert_eq!(
            delete_order(vec![json!(2), json!(1)], &links(&[("1", "2")])),
            [json!(1), json!(2)]
        );
        assert_eq!(
            collection_of("/operations"),
            Some(("directus_operations".into(), "directus_operations".into()))
        );
        assert_eq!(
            collection_of("/items/my%20things"),
            Some(("my%20things".into(), "my things".into()))
        );
        assert_eq!(collection_of("/operations/abc"), None);
    }

    #[test]
    fn chunks_respect_the_learned_batch_limit() {
        let values: Vec<Value> = (0..250).map(|i| json!({"id": i})).collect();
        let sizes = |chunks: Vec<Vec<Value>>| chunks.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(
            sizes(chunks_of(values.clone(), BATCH_ITEMS)),
            [100, 100, 50]
        );
        let client =
            Client::new("http://127.0.0.1:1", Credentials::Token(Secret::new("t"))).unwrap();
        assert_eq!(client.batch_limit(), None);
        assert_eq!(sizes(client.chunks(values.clone())), [100, 100, 50]);
        client.learn_batch_limit(120, "MAX_BATCH_MUTATION");
        assert_eq!(client.batch_size(), 100, "never above BATCH_ITEMS");
        client.learn_batch_limit(10, "MAX_BATCH_MUTATION");
        client.learn_batch_limit(40, "MAX_BATCH_MUTATION");
        assert_eq!(client.batch_limit(), Some(10), "the smallest limit wins");
        assert_eq!(sizes(client.chunks(values[..25].to_vec())), [10, 10, 5]);
        assert_eq!(
            chunks_of(values[..2].to_vec(), 0).len(),
            2,
            "never empty chunks"
        );
    }

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
        // Each role before its parent: the parts never wait for each other.
        assert_eq!(deletes.len(), 5, "{deletes:#?}");
        assert_eq!(deletes[0], "GET /relations/directus_roles null");
        assert!(
            deletes[1].starts_with("GET /roles?")
                && deletes[1].contains("fields=id,parent")
                && deletes[1].contains(r#"filter={"id":{"_in":[1,2,3,4,5,6,7]}}"#),
            "{}",
            deletes[1]
        );
        assert_eq!(
            &deletes[2..],
            [
                "DELETE /roles [7,6,5]",
                "DELETE /roles [4,3,2]",
                "DELETE /roles [1]"
            ]
        );
        client.delete("/roles", Some(&keys)).await.unwrap();
        let again = seen.lock().unwrap().split_off(0);
        assert!(
            again[0].starts_with("GET /roles?"),
            "relations known: {again:#?}"
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
        assert_eq!(requests.len(), 6, "{requests:#?}");
        assert!(requests[0].starts_with("DELETE /items/sync_id_map {\"query\""));
        assert!(requests[1].starts_with("GET /fields/sync_id_map"));
        assert!(
            requests[2].contains("fields=key")
                && requests[2].contains(r#"filter={"table":{"_eq":"roles"}}"#),
            "{}",
            requests[2]
        );
        assert!(requests[3].starts_with("GET /relations/sync_id_map"));
        assert_eq!(
            &requests[4..],
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
}

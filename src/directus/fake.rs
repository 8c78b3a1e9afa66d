//! A fake Directus for the client's own tests, shared by `batch` and `retry`: a real instance
//! cannot be made to refuse a batch or rate-limit a login on cue, nor be this fast.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex as StdMutex};

/// A fake Directus for the client's own behaviour: it refuses batches above `limit` items
/// the way Directus does, answers `429` (`Retry-After: 0`) to the first `throttle`
/// requests, echoes written items, and records each request as `METHOD /path?query body`.
pub(super) fn fake_directus(limit: usize, throttle: usize) -> (String, Arc<StdMutex<Vec<String>>>) {
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
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
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
            } else if target.starts_with("/relations/") {
                let relation = json!({"collection": "directus_roles", "field": "parent",
                                      "related_collection": "directus_roles"});
                ("200 OK", "", json!({"data": [relation]}).to_string())
            } else if method == "GET" && target.starts_with("/roles?") {
                // Role k's parent is role k - 1.
                let items: Vec<Value> = (1..=7)
                    .map(|k| json!({"id": k, "parent": if k > 1 { json!(k - 1) } else { Value::Null }}))
                    .collect();
                (
                    "200 OK",
                    "",
                    json!({"data": items, "meta": {"filter_count": 7}}).to_string(),
                )
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

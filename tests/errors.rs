//! Bad input gets one clear line naming the cause, exit code 1, and changes nothing. A reader
//! that stops early (`directus-sync diff | head -1`) is no error at all.

mod support;

use predicates::prelude::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{ChildStdout, Stdio};
use std::time::{Duration, Instant};
use support::cli::Outcome;
use support::seed::all_collections;
use support::{DirectusInstance, bin};

/// What the fake server saw of a request.
struct Seen {
    method: String,
    path: String,
    authorization: String,
}

/// A fake HTTP server: only for faults a real Directus 10.13.1 cannot produce on demand (other
/// versions, servers that are not Directus, a session expiring mid-run). `respond` gives the
/// status line, content type and body of each answer.
fn fake_server(
    respond: impl Fn(&Seen) -> (&'static str, &'static str, String) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut parts = request_line.split_whitespace();
            let mut seen = Seen {
                method: parts.next().unwrap_or_default().to_string(),
                path: parts.next().unwrap_or_default().to_string(),
                authorization: String::new(),
            };
            let mut content_length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    seen.authorization = line["authorization:".len()..].trim().to_string();
                }
            }
            let mut request_body = vec![0; content_length];
            let _ = std::io::Read::read_exact(&mut reader, &mut request_body);
            let (status, content_type, body) = respond(&seen);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

fn always(
    status: &'static str,
    content_type: &'static str,
    body: &'static str,
) -> impl Fn(&Seen) -> (&'static str, &'static str, String) + Send + 'static {
    move |_| (status, content_type, body.to_string())
}

fn run_pull(url: &str) -> Outcome {
    let work = tempfile::tempdir().unwrap();
    Outcome::of(
        bin()
            .current_dir(work.path())
            .args(["pull", "-u", url, "-t", "some-token"]),
    )
    .exits(1)
}

fn first_stderr_line(outcome: &Outcome) -> String {
    outcome
        .stderr
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn unreachable_url_names_the_host() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let line = first_stderr_line(&run_pull(&url));
    assert!(
        line.starts_with(&format!("error: cannot reach Directus at {url}"))
            && line.to_lowercase().contains("refused"),
        "{line}"
    );
}

#[test]
fn a_server_that_is_not_directus_is_named_so() {
    let url = fake_server(always(
        "404 Not Found",
        "text/html",
        "<html><body>Not here</body></html>",
    ));
    let line = first_stderr_line(&run_pull(&url));
    assert!(
        line.contains("does not look like a Directus server"),
        "{line}"
    );
}

#[test]
fn directus_9_and_11_are_refused_unless_forced() {
    for version in ["9.26.0", "11.1.0"] {
        let body =
            format!(r#"{{"data":{{"project":{{"project_name":"x"}},"version":"{version}"}}}}"#);
        let url = fake_server(move |_| ("200 OK", "application/json", body.clone()));
        let line = first_stderr_line(&run_pull(&url));
        assert_eq!(
            line,
            format!(
                "error: Directus {version} is not supported: directus-sync works with Directus 10.x"
            )
        );
    }
}

#[test]
fn a_malformed_url_is_named() {
    bin()
        .args(["diff", "-u", "localhost:8055", "-t", "x"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: invalid Directus URL \"localhost:8055\"",
        ));
}

#[test]
fn missing_url_and_unknown_collections_are_config_errors() {
    let work = tempfile::tempdir().unwrap();
    bin()
        .current_dir(work.path())
        .arg("pull")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: missing Directus URL"));
    bin()
        .current_dir(work.path())
        .args(["pull", "-u", "http://127.0.0.1:1", "-x", "roles,foo"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown collection \"foo\""));
}

#[test]
fn usage_errors_exit_1_not_2() {
    bin().arg("pul").assert().code(1);
    bin().args(["helpers", "untrack"]).assert().code(1);
}

#[test]
fn against_a_real_directus() {
    let instance = DirectusInstance::start();
    let work = tempfile::tempdir().unwrap();

    // A wrong token.
    let pull = instance
        .run(work.path(), &["pull", "-t", "wrong-token"])
        .exits(1);
    assert_eq!(
        first_stderr_line(&pull),
        "error: Directus rejected the credentials: Invalid user credentials."
    );
    assert!(
        !work.path().join("directus-config").exists(),
        "nothing written"
    );

    // Email and password work in place of a token.
    Outcome::of(
        instance
            .cli(work.path())
            .env_remove("DIRECTUS_TOKEN")
            .args([
                "pull",
                "--no-specs",
                "-e",
                instance.email(),
                "-p",
                instance.password(),
            ]),
    )
    .exits(0);

    // A malformed snapshot file stops diff and push before anything is sent to the schema.
    let field = work
        .path()
        .join("directus-config/snapshot/fields/directus_sync_id_map");
    assert!(!field.exists());
    let info = work.path().join("directus-config/snapshot/info.json");
    std::fs::write(&info, "{\"version\": 1,").unwrap();
    for command in ["diff", "push"] {
        let line = first_stderr_line(&instance.run(work.path(), &[command]).exits(1));
        assert!(
            line.starts_with("error: ") && line.contains("snapshot/info.json is not valid JSON"),
            "{line}"
        );
    }
    std::fs::remove_file(&info).unwrap();
    let diff = instance.run(work.path(), &["diff"]).exits(1);
    assert!(first_stderr_line(&diff).ends_with("snapshot/info.json is missing"));
}

/// Access tokens of email/password sessions expire (15 minutes by default): a long run renews
/// its session on 401 and carries on.
#[test]
fn an_expired_session_is_refreshed_and_the_request_retried() {
    use std::sync::{Arc, Mutex};
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen_log = Arc::clone(&log);
    let url = fake_server(move |seen| {
        seen_log.lock().unwrap().push(format!(
            "{} {} {}",
            seen.method, seen.path, seen.authorization
        ));
        let json = "application/json";
        match (seen.method.as_str(), seen.path.as_str(), seen.authorization.as_str()) {
            ("POST", "/auth/login", _) => (
                "200 OK",
                json,
                r#"{"data":{"access_token":"expired","refresh_token":"r1","expires":1}}"#.into(),
            ),
            ("POST", "/auth/refresh", _) => (
                "200 OK",
                json,
                r#"{"data":{"access_token":"fresh","refresh_token":"r2","expires":900000}}"#.into(),
            ),
            (_, _, "Bearer expired") => (
                "401 Unauthorized",
                json,
                r#"{"errors":[{"message":"Token expired.","extensions":{"code":"TOKEN_EXPIRED"}}]}"#.into(),
            ),
            ("GET", "/server/info", _) => (
                "200 OK",
                json,
                r#"{"data":{"project":{"project_name":"x"},"version":"10.13.1"}}"#.into(),
            ),
            ("POST", "/utils/cache/clear?system=true", _) => ("204 No Content", json, String::new()),
            ("GET", path, _) if path.starts_with("/users/me") => (
                "200 OK",
                json,
                r#"{"data":{"email":"admin@example.com","role":"admin"}}"#.into(),
            ),
            _ => ("200 OK", json, r#"{"data":[]}"#.into()),
        }
    });
    let work = tempfile::tempdir().unwrap();
    let outcome = Outcome::of(bin().current_dir(work.path()).args([
        "helpers",
        "untrack",
        "--collection",
        "roles",
        "--id",
        "1",
        "-u",
        &url,
        "-e",
        "admin@example.com",
        "-p",
        "secret",
    ]))
    .exits(0);
    assert!(
        outcome.stderr.contains("roles 1 was not tracked"),
        "{outcome}"
    );
    let log = log.lock().unwrap();
    assert_eq!(log[0], "POST /auth/login ");
    assert_eq!(log[1], "GET /server/info Bearer expired");
    assert_eq!(log[2], "POST /auth/refresh ");
    assert_eq!(log[3], "GET /server/info Bearer fresh");
    assert!(
        log[4..].iter().all(|line| line.ends_with("Bearer fresh")),
        "every later request carries the renewed token: {log:?}"
    );
}

/// Shrinks the pipe behind `stdout` to one page, so that a plan of a few kilobytes already
/// fills it whatever the system's default pipe size; returns its capacity.
fn shrink_pipe(stdout: &ChildStdout) -> usize {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a pipe descriptor this process owns; no memory is passed.
    let capacity = unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    assert!(
        capacity > 0,
        "F_SETPIPE_SZ: {}",
        std::io::Error::last_os_error()
    );
    capacity as usize
}

/// `directus-sync diff | head -1`: the reader closes the pipe after the first line while the
/// plan is still being written. The rest of the plan has nowhere to go, which is no failure:
/// no panic, no "Broken pipe" message, exit code 0.
#[test]
fn diff_into_a_pipe_closed_after_the_first_line_exits_quietly() {
    let (a, b) = support::start_two(
        DirectusInstance::start_without_extension,
        DirectusInstance::start_without_extension,
    );
    all_collections(&a);
    // A long plan: one line per item to create on B.
    let translations: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"language": "en-US", "key": format!("a_translation_key_long_enough_to_fill_the_pipe_{i:04}"),
                   "value": "padding"})
        })
        .collect();
    a.post("/translations", &Value::Array(translations));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    a.ok(dir, &["pull", "--no-specs"]);
    let whole_plan = b.ok(dir, &["diff"]).stdout;

    let mut child = b
        .cli_command(dir)
        .arg("diff")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn directus-sync");
    let mut stdout = child.stdout.take().unwrap();
    let capacity = shrink_pipe(&stdout);
    assert!(
        whole_plan.len() > 4 * capacity,
        "the plan ({} bytes) must overflow the pipe ({capacity} bytes)",
        whole_plan.len()
    );
    // Byte by byte, like a reader that wants one line and not a byte more.
    let mut first_line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).expect("read the plan") == 1 && byte[0] != b'\n' {
        first_line.push(byte[0]);
    }
    drop(stdout); // `head` exits: the pipe has no reader any more
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("directus-sync diff still runs 120 s after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = stderr.join().unwrap();

    assert_eq!(
        String::from_utf8_lossy(&first_line),
        whole_plan.lines().next().unwrap(),
        "the reader got the plan's first line"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"),
        "{stderr}"
    );
    assert_eq!(status.code(), Some(0), "{status}\nstderr:\n{stderr}");
}

/// A schema change Directus cannot make in place (a primary key's type on SQLite) fails the
/// apply as a whole: the error names what was being applied, and the hint does not promise
/// that pushing again continues.
#[test]
fn a_failed_schema_apply_names_what_it_applied() {
    let instance = DirectusInstance::start();
    support::seed::blog_schema(&instance);
    instance.post("/items/articles", &json!({"title": "First"}));
    let work = tempfile::tempdir().unwrap();
    instance.ok(work.path(), &["pull"]);
    let field = work
        .path()
        .join("directus-config/snapshot/fields/articles/id.json");
    let mut id: Value = serde_json::from_str(&std::fs::read_to_string(&field).unwrap()).unwrap();
    id["type"] = json!("integer");
    id["meta"]["special"] = Value::Null;
    id["schema"]["data_type"] = json!("integer");
    id["schema"]["has_auto_increment"] = json!(true);
    std::fs::write(&field, serde_json::to_string_pretty(&id).unwrap()).unwrap();
    let push = instance.run(work.path(), &["push"]).exits(1);
    assert!(
        push.stderr
            .contains("applying the schema (field articles.id)"),
        "{push}"
    );
    assert!(
        push.stderr
            .contains("Directus undid the whole schema change"),
        "{push}"
    );
    assert!(!push.stderr.contains("continues from here"), "{push}");

    // With another change beside it, the one refused is found by applying them one by one.
    let body = work
        .path()
        .join("directus-config/snapshot/fields/articles/body.json");
    let mut note: Value = serde_json::from_str(&std::fs::read_to_string(&body).unwrap()).unwrap();
    note["meta"]["note"] = json!("The article's text");
    std::fs::write(&body, serde_json::to_string_pretty(&note).unwrap()).unwrap();
    let push = instance.run(work.path(), &["push"]).exits(1);
    assert!(
        push.stderr.contains(
            "\nerror: applying the schema: Directus refused the field articles.id: POST /schema/apply failed"
        ),
        "{push}"
    );
    assert!(
        push.stderr.contains("schema changes one at a time"),
        "{push}"
    );
    assert!(
        push.stderr.contains("Directus undid the field articles.id"),
        "{push}"
    );
    assert!(!push.stderr.contains("continues from here"), "{push}");
}

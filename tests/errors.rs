//! Bad input gets one clear line naming the cause, exit code 1, and changes nothing.

mod support;

use predicates::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use support::cli::Outcome;
use support::{DirectusInstance, bin};

/// A fake HTTP server answering every request with `status` and `body`: only for faults a
/// real Directus 10.13.1 cannot produce (other versions, servers that are not Directus).
fn fake_server(status: &'static str, content_type: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut content_length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut request_body = vec![0; content_length];
            let _ = std::io::Read::read_exact(&mut reader, &mut request_body);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
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
    let url = fake_server(
        "404 Not Found",
        "text/html",
        "<html><body>Not here</body></html>",
    );
    let line = first_stderr_line(&run_pull(&url));
    assert!(
        line.contains("does not look like a Directus server"),
        "{line}"
    );
}

#[test]
fn directus_9_and_11_are_refused_unless_forced() {
    for version in ["9.26.0", "11.1.0"] {
        let body: &'static str = Box::leak(
            format!(r#"{{"data":{{"project":{{"project_name":"x"}},"version":"{version}"}}}}"#)
                .into_boxed_str(),
        );
        let url = fake_server("200 OK", "application/json", body);
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

//! Where options come from: command line > environment (and `./.env`) > config file >
//! defaults, with `--env` sections between the environment and the command line. The URL that
//! a failed connection names shows which layer won.

mod support;

use support::bin;

fn unreachable_url_used(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut command = bin();
    command
        .current_dir(dir)
        .args(["diff", "-t", "token"])
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    // "error: cannot reach Directus at http://127.0.0.1:N: connection refused"
    let rest = stderr
        .split("cannot reach Directus at ")
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"));
    rest.splitn(4, ':').take(3).collect::<Vec<_>>().join(":")
}

#[test]
fn command_line_beats_environment_beats_env_file_beats_config_file() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("directus-sync.config.json"),
        r#"{"directusUrl": "http://127.0.0.1:1", "environments": {"prod": {"directusUrl": "http://127.0.0.1:4"}}}"#,
    )
    .unwrap();
    assert_eq!(unreachable_url_used(dir, &[], &[]), "http://127.0.0.1:1");

    std::fs::write(dir.join(".env"), "DIRECTUS_URL=http://127.0.0.1:2\n").unwrap();
    assert_eq!(
        unreachable_url_used(dir, &[], &[]),
        "http://127.0.0.1:2",
        ".env is read"
    );
    assert_eq!(
        unreachable_url_used(dir, &[("DIRECTUS_URL", "http://127.0.0.1:3")], &[]),
        "http://127.0.0.1:3",
        "the environment wins over .env"
    );
    assert_eq!(
        unreachable_url_used(
            dir,
            &[("DIRECTUS_URL", "http://127.0.0.1:3")],
            &["--env", "prod"]
        ),
        "http://127.0.0.1:4",
        "an --env section wins over the environment"
    );
    assert_eq!(
        unreachable_url_used(
            dir,
            &[("DIRECTUS_URL", "http://127.0.0.1:3")],
            &["--env", "prod", "-u", "http://127.0.0.1:5"]
        ),
        "http://127.0.0.1:5",
        "the command line wins over everything"
    );
    // Global options also come after the command's own.
    let output = bin()
        .current_dir(dir)
        .args(["diff", "--exit-code", "--env", "nowhere"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: unknown environment \"nowhere\"; the config file defines: prod"),
        "{stderr}"
    );
}

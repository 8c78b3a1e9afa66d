//! Credentials never leave the process: a URL with `user:pass@` is refused before any request
//! and its password is printed, committed and noted nowhere; hooks see the token of the
//! instance they work on, and no other secret of the config.

mod support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::cli::Outcome;
use support::{DirectusInstance, bin, git};

/// A password no other text of a run contains.
const PASSWORD: &str = "pw-in-the-url-7f3a9c";

/// Every file under `dir`, `.git` included (its logs hold commit messages as text), that
/// contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains(needle) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The refusal: exit 1, nothing on stdout, one line on stderr naming where the URL came from,
/// masked, and never the password.
#[track_caller]
fn assert_refused(outcome: Outcome, origin: &str, masked: &str) {
    let outcome = outcome.exits(1);
    assert_eq!(outcome.stdout, "", "{outcome}");
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line: {outcome}");
    let instead = ["--directus-token", "tokenEnv"];
    assert!(
        lines[0].starts_with(&format!(
            "error: {origin}: the Directus URL {masked} holds credentials"
        )) && instead.iter().any(|what| lines[0].contains(what)),
        "{outcome}"
    );
    assert!(
        !outcome.stdout.contains(PASSWORD) && !outcome.stderr.contains(PASSWORD),
        "{outcome}"
    );
}

#[test]
fn a_url_with_credentials_is_refused_and_its_password_written_nowhere() {
    let instance = DirectusInstance::start();
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    // Something to find the password in, if it leaked: a pull's commit and a push's note.
    instance.ok(dir, &["pull"]);
    instance.ok(dir, &["push"]);
    let host = instance.url().trim_start_matches("http://");
    let url = format!("http://admin:{PASSWORD}@{host}/");
    let masked = format!("http://***@{host}/");
    // Config files live outside the repository: they hold the password themselves.
    let configs = tempfile::tempdir().unwrap();
    let top_level = configs.path().join("top-level.yaml");
    std::fs::write(&top_level, format!("directusUrl: {url}\n")).unwrap();
    let environments = configs.path().join("environments.yaml");
    std::fs::write(
        &environments,
        format!("environments:\n  prod:\n    directusUrl: {url}\n"),
    )
    .unwrap();
    let (top_level, environments) = (top_level.to_str().unwrap(), environments.to_str().unwrap());

    for command in ["pull", "push"] {
        for debug in [&[][..], &["--debug"][..]] {
            let run = |cli: &mut assert_cmd::Command, args: &[&str]| {
                Outcome::of(cli.arg(command).args(debug).args(args))
            };
            assert_refused(
                run(&mut instance.cli(dir), &["--directus-url", &url]),
                "--directus-url",
                &masked,
            );
            assert_refused(
                run(instance.cli(dir).env("DIRECTUS_URL", &url), &[]),
                "DIRECTUS_URL (environment or .env)",
                &masked,
            );
            std::fs::write(dir.join(".env"), format!("DIRECTUS_URL={url}\n")).unwrap();
            let from_env_file = run(instance.cli(dir).env_remove("DIRECTUS_URL"), &[]);
            std::fs::remove_file(dir.join(".env")).unwrap();
            assert_refused(from_env_file, "DIRECTUS_URL (environment or .env)", &masked);
            assert_refused(
                run(
                    instance.cli(dir).env_remove("DIRECTUS_URL"),
                    &["-c", top_level],
                ),
                &format!("directusUrl of config file {top_level}"),
                &masked,
            );
            assert_refused(
                run(
                    &mut instance.cli(dir),
                    &["-c", environments, "--env", "prod"],
                ),
                &format!("environments.prod.directusUrl of config file {environments}"),
                &masked,
            );
        }
    }

    let messages = git(dir, &["log", "--format=%B", "--all"]);
    assert!(messages.contains("Directus-Url: "), "{messages}");
    assert!(!messages.contains(PASSWORD), "{messages}");
    let notes = git(dir, &["notes", "--ref", "directus-sync", "list"]);
    assert!(!notes.trim().is_empty(), "the push was noted");
    for note in notes.lines() {
        let commit = note.split_whitespace().nth(1).unwrap();
        let text = git(dir, &["notes", "--ref", "directus-sync", "show", commit]);
        assert!(!text.contains(PASSWORD), "{text}");
    }
    let log = instance.ok(dir, &["log", "--format", "json"]).stdout;
    assert!(!log.contains(PASSWORD), "{log}");
    assert_eq!(files_containing(dir, PASSWORD), Vec::<String>::new());
}

#[test]
fn a_url_with_credentials_sends_no_request() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    // Answers nothing: a regression fails on the count, and fast (the connection closes).
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let work = tempfile::tempdir().unwrap();
    for (command, url, slash) in [
        (
            "pull",
            format!("http://admin:{PASSWORD}@127.0.0.1:{port}"),
            "",
        ),
        ("push", format!("http://admin@127.0.0.1:{port}"), ""),
        ("diff", format!("http://:{PASSWORD}@127.0.0.1:{port}/"), "/"),
    ] {
        let outcome = Outcome::of(
            bin()
                .current_dir(work.path())
                .args([command, "-u", &url, "-e", "a@b.c", "-p", "x"]),
        );
        assert_refused(
            outcome,
            "--directus-url",
            &format!("http://***@127.0.0.1:{port}{slash}"),
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

/// The `KEY=value` lines of `env`'s output.
fn variables(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn hooks_see_the_current_instance_and_no_other_secret() {
    let instance = DirectusInstance::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let seen = tempfile::tempdir().unwrap();
    let shell_env = seen.path().join("shell.env");
    let node_env = seen.path().join("node.json");
    let node_child_env = seen.path().join("node-child.env");
    let environments = format!(
        r#"environments:
  here:
    directusUrl: {url}
    tokenEnv: HERE_TOKEN
  here-by-password:
    directusUrl: {url}
    emailEnv: HERE_EMAIL
    passwordEnv: HERE_PASSWORD
  other:
    directusUrl: https://other.example.com
    tokenEnv: OTHER_TOKEN
    passwordEnv: OTHER_PASSWORD
"#,
        url = instance.url()
    );
    std::fs::write(
        dir.join("directus-sync.config.yaml"),
        format!(
            "{environments}hooks:\n  roles:\n    onDump: \"env > {}; cat\"\n",
            shell_env.display()
        ),
    )
    .unwrap();
    let secrets = [
        ("OTHER_TOKEN", "other-token-secret"),
        ("OTHER_PASSWORD", "other-password-secret"),
        ("DIRECTUS_ADMIN_PASSWORD", "tool-password-secret"),
    ];
    let pull = |env: &str| {
        let mut cli = instance.cli(dir);
        match env {
            // Not this run's token: `here` names its own.
            "here" => cli.env("DIRECTUS_TOKEN", "inherited-token-secret"),
            // A token would win over the email and password.
            _ => cli.env_remove("DIRECTUS_TOKEN"),
        };
        cli.args(["pull", "--no-specs", "--env", env])
            .env("HERE_TOKEN", instance.token())
            .env("HERE_EMAIL", instance.email())
            .env("HERE_PASSWORD", instance.password())
            .env("KEEP_ME", "kept")
            .envs(secrets);
        Outcome::of(&mut cli).exits(0)
    };
    let assert_hidden = |seen: &HashMap<String, String>, what: &str| {
        for name in ["OTHER_TOKEN", "OTHER_PASSWORD", "DIRECTUS_ADMIN_PASSWORD"] {
            assert!(!seen.contains_key(name), "{what} saw {name}: {seen:?}");
        }
        let all: String = seen.values().cloned().collect::<Vec<_>>().join("\n");
        for secret in secrets
            .iter()
            .map(|(_, v)| *v)
            .chain(["inherited-token-secret", instance.password()])
        {
            assert!(!all.contains(secret), "{what} saw {secret}: {seen:?}");
        }
        assert_eq!(
            seen.get("KEEP_ME").map(String::as_str),
            Some("kept"),
            "{what}"
        );
        assert!(seen.contains_key("PATH"), "{what}");
        assert_eq!(
            seen.get("DIRECTUS_URL").map(String::as_str),
            Some(instance.url()),
            "{what}"
        );
    };

    pull("here");
    let shell = variables(&std::fs::read_to_string(&shell_env).unwrap());
    assert_hidden(&shell, "the shell hook");
    assert_eq!(shell["DIRECTUS_TOKEN"], instance.token());
    assert_eq!(shell["DIRECTUS_SYNC_HOOK"], "onDump");
    assert_eq!(shell["DIRECTUS_SYNC_COLLECTION"], "roles");
    assert!(!shell.contains_key("HERE_TOKEN"), "its own tokenEnv too");

    // Logged in with email and password: the hook gets the session's token, not the password.
    pull("here-by-password");
    let shell = variables(&std::fs::read_to_string(&shell_env).unwrap());
    assert_hidden(&shell, "the shell hook (password login)");
    assert!(!shell.contains_key("HERE_PASSWORD"), "{shell:?}");
    let token = &shell["DIRECTUS_TOKEN"];
    assert!(!token.is_empty() && token != instance.token(), "{token}");
    assert_eq!(shell["HERE_EMAIL"], instance.email(), "not a secret");

    // The same from a JS config, in node and in what a hook starts from there.
    std::fs::remove_file(dir.join("directus-sync.config.yaml")).unwrap();
    std::fs::write(dir.join("environments.yaml"), environments).unwrap();
    std::fs::write(
        dir.join("directus-sync.config.js"),
        format!(
            r#"const fs = require('fs');
const {{ execSync }} = require('child_process');
module.exports = {{
  extends: ['./environments.yaml'],
  hooks: {{ roles: {{ onDump: (roles) => {{
    fs.writeFileSync({node:?}, JSON.stringify(process.env));
    execSync('env > {child}');
    return roles;
  }} }} }},
}};
"#,
            node = node_env.display().to_string(),
            child = node_child_env.display()
        ),
    )
    .unwrap();
    pull("here");
    let node: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(&node_env).unwrap()).unwrap();
    assert_hidden(&node, "the JS hook");
    assert_eq!(node["DIRECTUS_TOKEN"], instance.token());
    let child = variables(&std::fs::read_to_string(&node_child_env).unwrap());
    assert_hidden(&child, "a process the JS hook started");
    assert_eq!(child["DIRECTUS_TOKEN"], instance.token());
}

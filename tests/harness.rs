//! Smoke test of the real-Directus harness in `tests/support`.

mod support;

use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use support::{DirectusInstance, template_db};

const ID_MAP_PING: &str = "/directus-extension-sync/table/__ping_test__/sync_id/__ping_test__";

#[test]
fn instances_start_answer_and_stop() {
    let t = Instant::now();
    let template = template_db();
    match template.build_time {
        Some(d) => eprintln!("template database built in {d:.2?}"),
        None => eprintln!("template database reused from cache ({:.2?})", t.elapsed()),
    }

    let t = Instant::now();
    let with_ext = DirectusInstance::start();
    eprintln!("instance with extension started in {:.2?}", t.elapsed());
    let t = Instant::now();
    let without = DirectusInstance::start_without_extension();
    eprintln!("instance without extension started in {:.2?}", t.elapsed());
    assert_ne!(with_ext.url(), without.url());

    for inst in [&with_ext, &without] {
        // Version is only reported to an authenticated admin: proves the token.
        let info = inst.get("/server/info");
        assert_eq!(info["version"], "10.13.1", "{info:#}");
        let me = inst.get("/users/me?fields=email");
        assert_eq!(me["email"], inst.email());
        // Email/password login works too.
        let login = inst.post(
            "/auth/login",
            &json!({"email": inst.email(), "password": inst.password()}),
        );
        assert!(login["access_token"].is_string(), "{login:#}");
    }

    // With the extension: its id-map endpoint answers "no such map".
    let (status, body) = with_ext.request("GET", ID_MAP_PING, None);
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"message": "No id map found"})
    );
    // Without it: Directus does not know the route.
    let (status, body) = without.request("GET", ID_MAP_PING, None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("ROUTE_NOT_FOUND"), "{body}");

    // REST helpers round-trip: create, read, patch, delete a role.
    let role = with_ext.post("/roles", &json!({"name": "harness"}));
    let id = role["id"].as_str().unwrap().to_owned();
    with_ext.patch(&format!("/roles/{id}"), &json!({"icon": "bolt"}));
    assert_eq!(with_ext.get(&format!("/roles/{id}"))["icon"], "bolt");
    with_ext.delete(&format!("/roles/{id}"));
    let (status, _) = with_ext.request("GET", &format!("/roles/{id}"), None);
    assert_eq!(status, 403); // Directus hides missing items behind 403

    // Dropping stops node, frees the port and removes the temp folder.
    for inst in [with_ext, without] {
        let (port, pid, dir) = (inst.port(), inst.pid(), inst.dir().to_path_buf());
        let t = Instant::now();
        drop(inst);
        eprintln!("instance stopped in {:.2?}", t.elapsed());
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "node {pid} still alive"
        );
        assert!(!dir.exists(), "{} not removed", dir.display());
    }
}

#[test]
fn cli_binary_is_found() {
    // `bin()` finds the built `directus-sync`; `--help` needs no instance.
    support::bin().arg("--help").assert().success();
}

#[test]
fn the_cli_and_git_run_in_a_hermetic_environment() {
    let cmd = support::bin_command();
    let env: Vec<(String, Option<String>)> = cmd
        .get_envs()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let value = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    };
    let test_home = value("HOME").expect("HOME is set");
    assert_ne!(
        Some(test_home.clone()),
        std::env::var("HOME").ok(),
        "not the developer's HOME"
    );
    assert!(
        std::fs::read_dir(&test_home).unwrap().next().is_none(),
        "{test_home} is empty"
    );
    for (key, wanted) in [
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("NO_COLOR", "1"),
        ("TZ", "UTC"),
        ("LANG", "C"),
    ] {
        assert_eq!(value(key).as_deref(), Some(wanted), "{key}");
    }
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("GIT_") || key.starts_with("DIRECTUS_") {
            assert!(
                env.iter().any(|(k, _)| *k == key),
                "{key} is inherited: neither removed nor set"
            );
        }
    }

    // git sees no configuration but the fixed identity, whatever the developer's files say.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        support::git(dir.path(), &["var", "GIT_AUTHOR_IDENT"]).trim(),
        "Test User <test.user@example.com> 981173106 +0000"
    );
    assert_eq!(
        support::git(dir.path(), &["config", "--list"]),
        "",
        "no global or system configuration"
    );
}

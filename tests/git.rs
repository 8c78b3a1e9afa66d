//! The dump in git, against real Directus instances: every pull a commit, any revision diffed
//! or pushed, branches per environment (whose specs differ only where their configuration
//! does), deployment records and the drift guard.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::cli::Outcome;
use support::seed::all_collections;
use support::{DirectusInstance, git};

fn init_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

fn commit_count(repo: &Path) -> usize {
    git(repo, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

fn role_id(instance: &DirectusInstance, name: &str) -> String {
    instance.get(&format!("/roles?filter[name][_eq]={name}&fields=id"))[0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_pull_with_changes_is_one_commit_naming_the_instance() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let repo = init_repo();
    let dir = repo.path();

    instance.ok(dir, &["pull"]);
    assert_eq!(commit_count(dir), 1);
    let message = git(dir, &["log", "-1", "--format=%B"]);
    let port = instance.port();
    assert!(
        message.starts_with(&format!("pull 127.0.0.1:{port}: ")),
        "{message}"
    );
    for trailer in [
        format!("Directus-Url: {}", instance.url()),
        "Directus-Version: 10.13.1".to_string(),
        "Directus-Vendor: sqlite".to_string(),
        format!("Directus-User: {}", instance.email()),
        "Pulled-At: ".to_string(),
        "Directus-Sync-Version: ".to_string(),
    ] {
        assert!(
            message.contains(&trailer),
            "missing {trailer:?} in\n{message}"
        );
    }
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "",
        "work tree and index are clean"
    );
    // The commit is made as git would make it: GIT_AUTHOR_* of the (hermetic) environment,
    // never the developer's own config.
    assert_eq!(
        git(dir, &["log", "-1", "--format=%an <%ae> / %cn <%ce>"]).trim(),
        "Test User <test.user@example.com> / Test User <test.user@example.com>"
    );

    let editor = role_id(&instance, "Editor");
    instance.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "Edits everything"}),
    );
    instance.ok(dir, &["pull"]);
    assert_eq!(commit_count(dir), 2);
    assert_eq!(
        git(dir, &["log", "-1", "--format=%s"]).trim(),
        format!("pull 127.0.0.1:{port}: ~1 roles")
    );
    assert_eq!(
        git(dir, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        "directus-config/collections/roles.json",
        "the commit holds only the changed file"
    );
    assert!(git(dir, &["show", "HEAD"]).contains("+    \"description\": \"Edits everything\""));

    // The summary reads the previous commit a file at a time: a new field is one schema file.
    instance.post(
        "/fields/articles",
        &json!({"field": "subtitle", "type": "string"}),
    );
    instance.ok(dir, &["pull"]);
    assert_eq!(commit_count(dir), 3);
    assert_eq!(
        git(dir, &["log", "-1", "--format=%s"]).trim(),
        format!("pull 127.0.0.1:{port}: schema 1 field")
    );

    let again = instance.ok(dir, &["pull"]);
    assert_eq!(commit_count(dir), 3, "no change, no commit");
    // The closing line says how much of the run was spent waiting for Directus.
    let closing = again.stderr.lines().last().unwrap_or_default();
    let seconds = |text: &str| text.trim().parse::<f64>().unwrap();
    let (total, rest) = closing
        .strip_prefix("done in ")
        .and_then(|rest| rest.split_once(" s ("))
        .unwrap_or_else(|| panic!("closing line: {closing:?}"));
    let waiting = rest
        .split_once(" to Directus, ")
        .and_then(|(_, rest)| rest.split_once(" s waiting for it)"))
        .unwrap_or_else(|| panic!("closing line: {closing:?}"))
        .0;
    assert!(seconds(waiting) <= seconds(total), "{closing}");
    instance.ok(dir, &["pull", "--no-commit", "-x", "roles"]);
    assert_eq!(commit_count(dir), 3);
    assert_eq!(git(dir, &["status", "--porcelain"]), "");

    // Uncommitted edits in the dump are never overwritten silently.
    let roles = dir.join("directus-config/collections/roles.json");
    let edited = std::fs::read_to_string(&roles)
        .unwrap()
        .replace("Edits everything", "edited by hand");
    std::fs::write(&roles, &edited).unwrap();
    let refused = instance.run(dir, &["pull"]).exits(1);
    assert!(
        refused.stderr.starts_with(
            "error: the dump folder has uncommitted changes a pull would overwrite: directus-config/collections/roles.json"
        ),
        "{refused}"
    );
    // Without a commit the folder would still be written over.
    let refused_too = instance.run(dir, &["pull", "--no-commit"]).exits(1);
    assert_eq!(
        refused_too.stderr.lines().next(),
        refused.stderr.lines().next(),
        "{refused_too}"
    );
    assert_eq!(
        std::fs::read_to_string(&roles).unwrap(),
        edited,
        "the edit is kept"
    );
    instance.ok(dir, &["pull", "--force"]);
    assert_eq!(commit_count(dir), 3, "the instance did not change");
    assert_eq!(git(dir, &["status", "--porcelain"]), "");

    // Schema and specs only.
    instance.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "not pulled"}),
    );
    instance.ok(dir, &["pull", "--no-collections"]);
    assert_eq!(commit_count(dir), 3, "collections skipped");
}

#[test]
fn a_pull_into_another_branch_leaves_the_checkout_untouched() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let repo = init_repo();
    let dir = repo.path();
    std::fs::write(dir.join("notes.txt"), "first\n").unwrap();
    std::fs::write(
        dir.join("directus-sync.config.yaml"),
        format!(
            "environments:\n  prod:\n    directusUrl: {}\n    branch: env/prod\n    tokenEnv: PROD_DIRECTUS_TOKEN\n",
            instance.url()
        ),
    )
    .unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "start"]);
    // Uncommitted work: a modified file, a staged file and an untracked one.
    std::fs::write(dir.join("notes.txt"), "first\nsecond (uncommitted)\n").unwrap();
    std::fs::write(dir.join("staged.txt"), "staged\n").unwrap();
    git(dir, &["add", "staged.txt"]);
    std::fs::write(dir.join("untracked.txt"), "untracked\n").unwrap();
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        [
            "notes.txt",
            "staged.txt",
            "untracked.txt",
            ".git/index",
            ".git/HEAD",
        ]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
        .collect()
    };
    let before = snapshot(dir);

    // Without the harness' URL and token: the `prod` environment alone must reach the instance.
    let in_prod = |args: &[&str]| {
        Outcome::of(
            instance
                .cli(dir)
                .env_remove("DIRECTUS_URL")
                .env_remove("DIRECTUS_TOKEN")
                .env("PROD_DIRECTUS_TOKEN", instance.token())
                .args(args),
        )
    };
    in_prod(&["pull", "--env", "prod"]).exits(0);
    assert_eq!(
        snapshot(dir),
        before,
        "files, index and HEAD byte-identical"
    );
    assert!(
        !dir.join("directus-config").exists(),
        "nothing written to the checkout"
    );
    assert_eq!(
        git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    let files = git(dir, &["ls-tree", "-r", "--name-only", "env/prod"]);
    assert!(
        files.contains("directus-config/collections/roles.json"),
        "{files}"
    );
    assert!(files.contains("notes.txt"), "the branch starts from HEAD");
    let message = git(dir, &["log", "-1", "--format=%B", "env/prod"]);
    assert!(message.contains("Directus-Environment: prod"), "{message}");
    let everything = git(dir, &["log", "-p", "--all"]);
    assert!(
        !everything.contains(instance.token()),
        "secrets never land in git"
    );

    let stdout = in_prod(&["status", "--env", "prod", "--exit-code"])
        .exits(0)
        .stdout;
    assert!(
        stdout.starts_with("prod  ") && stdout.contains("env/prod@") && stdout.contains("in sync"),
        "{stdout}"
    );
}

#[test]
fn any_revision_can_be_diffed_and_pushed_back() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let repo = init_repo();
    let dir = repo.path();
    instance.ok(dir, &["pull"]);
    let v1 = git(dir, &["rev-parse", "HEAD"]).trim().to_string();

    let editor = role_id(&instance, "Editor");
    instance.patch(&format!("/roles/{editor}"), &json!({"description": "v2"}));
    instance.post("/flows", &json!({"name": "Added in v2", "status": "active", "trigger": "manual", "accountability": "all", "options": {}}));
    let farewell =
        instance.get("/translations?filter[key][_eq]=farewell&fields=id")[0]["id"].clone();
    instance.delete(&format!("/translations/{}", farewell.as_str().unwrap()));
    instance.ok(dir, &["pull"]);
    assert_eq!(commit_count(dir), 2);

    let diff = instance.ok(dir, &["diff", "HEAD~1"]).stdout;
    assert_eq!(
        diff,
        "roles (1 to update)\n  \
         ~ \"Editor\": description \"v2\" → \"Writes articles\"\n\
         translations (1 to create)\n  \
         + en-US \"farewell\"\n      \
         value: \"Goodbye\"\n  \
         1 id-map row points at deleted item (removed on push)\n\
         flows (1 to delete)\n  \
         - \"Added in v2\"\n\
         1 to create, 1 to update, 1 to delete\n"
    );
    let stderr = instance.run(dir, &["diff", "no-such-ref"]).exits(1).stderr;
    assert!(
        stderr.starts_with("error: \"no-such-ref\" is not a revision"),
        "{stderr}"
    );

    let push = instance.ok(dir, &["push", &v1]);
    // Where the push's time went: each collection it wrote, then the read-back.
    let timings = push
        .stderr
        .lines()
        .find(|line| line.starts_with("applied in "))
        .unwrap_or_else(|| panic!("no timings in\n{}", push.stderr));
    for part in ["roles ", "translations ", "flows "] {
        assert!(timings.contains(part), "{timings}");
    }
    assert!(push.stderr.contains("\nread back in "), "{}", push.stderr);
    let diff = instance.run(dir, &["diff", &v1, "--exit-code"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (0, "0 to create, 0 to update, 0 to delete\n")
    );
    git(dir, &["branch", "v1", &v1]);
    instance.ok(dir, &["pull", "--branch", "v1"]);
    assert_eq!(
        git(dir, &["rev-parse", "v1"]).trim(),
        v1,
        "the instance is exactly v1: no commit"
    );
    let notes = git(dir, &["notes", "--ref", "directus-sync", "show", &v1]);
    let record: Value = serde_json::from_str(notes.lines().next().unwrap()).unwrap();
    assert_eq!(record["kind"], "push");
    assert_eq!(record["url"], instance.url());
    assert_eq!(
        record["counts"],
        json!({"create": 1, "update": 1, "delete": 1})
    );
}

#[test]
fn the_drift_guard_stops_a_push_over_changes_made_in_the_app() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let repo = init_repo();
    let dir = repo.path();
    instance.ok(dir, &["pull"]);
    instance.ok(dir, &["push"]);

    let editor = role_id(&instance, "Editor");
    instance.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "edited in the app"}),
    );
    instance.post("/dashboards", &json!({"name": "Made in the app"}));
    let stderr = instance.run(dir, &["push"]).exits(1).stderr;
    assert!(
        stderr.contains(&format!("error: {} changed since", instance.url())),
        "{stderr}"
    );
    assert!(
        stderr.contains("~ roles \"Editor\": description changed on the instance"),
        "{stderr}"
    );
    assert!(
        stderr.contains("+ dashboards \"Made in the app\": created on the instance"),
        "{stderr}"
    );
    assert_eq!(
        instance.get(&format!("/roles/{editor}?fields=description"))["description"],
        "edited in the app"
    );

    instance.ok(dir, &["push", "--force"]);
    assert_eq!(
        instance.get(&format!("/roles/{editor}?fields=description"))["description"],
        "Writes articles"
    );

    let log: Value =
        serde_json::from_str(&instance.ok(dir, &["log", "--format", "json"]).stdout).unwrap();
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["push", "push", "pull"], "newest first");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|r| r["url"] == instance.url())
    );
    assert_eq!(log[2]["directus_version"], "10.13.1");
    let text = instance.ok(dir, &["log"]).stdout;
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn outside_a_repository_pull_writes_files_and_says_how_to_start_a_history() {
    let instance = DirectusInstance::start();
    let dir = tempfile::tempdir().unwrap();
    let stderr = instance.ok(dir.path(), &["pull", "--no-specs"]).stderr;
    assert!(stderr.contains("run `git init` there"), "{stderr}");
    assert!(
        dir.path()
            .join("directus-config/collections/roles.json")
            .exists()
    );
    let stderr = instance.run(dir.path(), &["diff", "HEAD"]).exits(1).stderr;
    assert!(stderr.contains("is not in a git repository"), "{stderr}");
}

/// Every file of the dump in the tree of `revision`, with its content.
fn dump_files_at(repo: &Path, revision: &str) -> Vec<(String, String)> {
    git(
        repo,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            revision,
            "--",
            "directus-config",
        ],
    )
    .lines()
    .map(|path| {
        let content = git(repo, &["show", &format!("{revision}:{path}")]);
        (path.to_string(), content)
    })
    .collect()
}

#[test]
fn specs_name_no_instance_nor_id_map_and_two_pulls_of_one_instance_commit_once() {
    // Without the extension: the tool's own sync_id_map, created by dev's first pull (after it
    // read the specs) and by the push to prod, where the schema arrives through /schema/apply.
    let (dev, prod) = support::start_two(
        DirectusInstance::start_without_extension,
        DirectusInstance::start_without_extension,
    );
    all_collections(&dev);
    let repo = init_repo();
    let dir = repo.path();
    dev.ok(dir, &["pull"]);
    prod.ok(dir, &["push"]);
    for instance in [&dev, &prod] {
        let (_, served) = instance.request("GET", "/server/specs/oas", None);
        assert!(served.contains("/items/sync_id_map"), "Directus serves it");
        assert!(
            served.contains(instance.url()),
            "and the URL it was asked at"
        );
    }

    // Prod's one difference: a role's description.
    let editor = role_id(&prod, "Editor");
    prod.patch(
        &format!("/roles/{editor}"),
        &json!({"description": "Writes articles on prod"}),
    );
    // Directus lists fields in the order of the table's columns: dev's as they were added,
    // prod's as /schema/apply created them.
    let served =
        |instance: &DirectusInstance| instance.request("GET", "/server/specs/graphql", None).1;
    assert_ne!(served(&dev), served(&prod));

    dev.ok(dir, &["pull"]);
    assert_eq!(
        commit_count(dir),
        1,
        "nothing changed on dev: no second commit"
    );
    for _ in 0..2 {
        prod.ok(dir, &["pull", "--branch", "env/prod"]);
    }
    assert_eq!(
        git(dir, &["rev-list", "--count", "main..env/prod"]).trim(),
        "1",
        "the second pull of prod committed nothing"
    );
    assert_eq!(
        git(dir, &["diff", "--name-only", "main", "env/prod"]),
        "directus-config/collections/roles.json\n",
        "the environments differ by their configuration only"
    );
    let specs = |revision: &str| {
        git(
            dir,
            &["rev-parse", &format!("{revision}:directus-config/specs")],
        )
    };
    assert_eq!(specs("main"), specs("env/prod"), "byte-identical specs");
    for revision in ["main", "env/prod"] {
        let files = dump_files_at(dir, revision);
        assert!(
            files
                .iter()
                .any(|(path, _)| path.ends_with("specs/openapi.json"))
        );
        for (path, content) in &files {
            for noise in [
                "sync_id_map".to_string(),
                "SyncIDMap".to_string(),
                format!("127.0.0.1:{}", dev.port()),
                format!("127.0.0.1:{}", prod.port()),
            ] {
                assert!(!content.contains(&noise), "{noise} in {revision}:{path}");
            }
        }
    }
}

//! One writer per instance: pushes (and pulls that track new items) take the instance's lock,
//! wait for it or say who holds it, take over a lock its holder abandoned, and never show the
//! lock's collection in a dump. The collection id-map store refuses duplicate rows.

mod support;

in_both_id_map_stores!(
    two_pushes_at_once_leave_exactly_the_dump,
    a_push_killed_holding_the_lock_lets_the_next_push_take_it_at_once
);

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::DirectusInstance;
use support::cli::Outcome;
use support::dump::{collection_file, files_below, seeded_and_pulled, write_collection};
use support::seed::all_collections;

/// The tracked collections of the dump below `dir`, each with its items.
fn collections(dir: &Path) -> Vec<(String, Vec<Value>)> {
    let mut names: Vec<String> = files_below(&dir.join("directus-config/collections"))
        .into_iter()
        .map(|file| file.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let items = collection_file(dir, &name);
            (name, items)
        })
        .collect()
}

/// `directus-sync ARGS` started in `dir` against `instance`, its output piped.
fn spawn(instance: &DirectusInstance, dir: &Path, args: &[&str]) -> Child {
    match instance
        .cli_command(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot start directus-sync {args:?}: {e}"),
    }
}

fn outcome(child: Child) -> Outcome {
    let output = child.wait_with_output().expect("wait for directus-sync");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A lock row as a run on another host would have written it.
fn foreign_lock(expires: &str) -> Value {
    json!({"id": "instance", "user": "someone.else@example.com", "host": "build-server-7",
           "host_id": "build-server-7", "pid": 4242, "version": "0.0.9", "purpose": "push",
           "since": "2030-01-02T03:04:05.000Z", "expires": expires, "token": "their-token"})
}

fn lock_rows(instance: &DirectusInstance) -> Vec<Value> {
    match instance.request("GET", "/items/sync_lock?limit=-1", None) {
        (200, body) => {
            let body: Value = serde_json::from_str(&body).unwrap();
            body["data"].as_array().cloned().unwrap_or_default()
        }
        // The collection does not exist (yet): no lock.
        _ => Vec::new(),
    }
}

/// Renames the first role of the dump below `dir`: a push of it writes.
fn edit_a_role(dir: &Path, name: &str) {
    let mut roles = collection_file(dir, "roles");
    roles[0]["name"] = json!(name);
    write_collection(dir, "roles", &roles);
}

fn role_names(instance: &DirectusInstance) -> Vec<String> {
    let roles = instance.get("/roles?fields=name&limit=-1");
    let mut names: Vec<String> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn two_pushes_at_once_leave_exactly_the_dump(start: fn() -> DirectusInstance) {
    let (source, target) = support::start_two(start, start);
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    source.ok(dir, &["pull", "--no-specs"]);

    let started = Instant::now();
    let first = spawn(&target, dir, &["push"]);
    let second = spawn(&target, dir, &["push"]);
    let outcomes = [outcome(first), outcome(second)];
    eprintln!(
        "two pushes at once took {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let writers: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.stderr.contains("applied:"))
        .collect();
    assert_eq!(
        writers.len(),
        1,
        "exactly one push writes:\n{}\n{}",
        outcomes[0],
        outcomes[1]
    );
    assert_eq!(writers[0].code, 0, "{}", writers[0]);
    let other = outcomes
        .iter()
        .find(|o| !o.stderr.contains("applied:"))
        .unwrap();
    let waited_then_nothing = other.code == 0
        && (other
            .stderr
            .contains("another run made these changes meanwhile")
            || other
                .stderr
                .contains("the instance already matches the dump"));
    let named_the_holder = other.code == 1 && other.stderr.contains("is locked by another run");
    assert!(waited_then_nothing || named_the_holder, "{other}");
    assert!(lock_rows(&target).is_empty(), "both released the lock");

    let again = tempfile::tempdir().unwrap();
    target.ok(again.path(), &["pull", "--no-specs"]);
    assert_eq!(
        collections(again.path()),
        collections(dir),
        "the instance holds exactly the dump, SyncIds included"
    );
}

#[test]
fn a_held_lock_stops_writes_until_unlocked_and_never_shows_in_a_dump() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start);
    let dir = work.path();
    // The first pull tracked the seeded items: it took the lock, which created its collection.
    let collection = instance.get("/collections/sync_lock");
    assert_eq!(collection["meta"]["hidden"], true);
    assert_eq!(collection["meta"]["accountability"], Value::Null);
    assert!(lock_rows(&instance).is_empty(), "the pull released it");
    let snapshot = files_below(&dir.join("directus-config/snapshot"));
    assert!(
        !snapshot.iter().any(|file| file.contains("sync_lock")),
        "{snapshot:?}"
    );

    instance.post(
        "/items/sync_lock",
        &foreign_lock("2099-01-01T00:00:00.000Z"),
    );
    // Reading, and pushing or pulling nothing, needs no lock.
    let noop = instance.ok(dir, &["push"]);
    assert!(noop.stderr.contains("already matches"), "{noop}");
    instance.ok(dir, &["diff", "--exit-code"]);
    instance.ok(dir, &["pull", "--no-specs"]);

    edit_a_role(dir, "Renamed while locked");
    let started = Instant::now();
    let refused = instance.run(dir, &["push", "--lock-wait", "2"]).exits(1);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "waited {waited:?}");
    for expected in [
        "is locked by another run: push by someone.else@example.com on build-server-7",
        "since 2030-01-02 03:04:05 UTC",
        "directus-sync helpers unlock",
    ] {
        assert!(refused.stderr.contains(expected), "{expected}: {refused}");
    }
    assert!(!role_names(&instance).contains(&"Renamed while locked".to_string()));
    // A pull with items to track, and the helpers that write, wait for the lock too.
    instance.post("/roles", &json!({"name": "Created while locked"}));
    let fresh = tempfile::tempdir().unwrap();
    for args in [
        &["pull", "--no-specs", "--lock-wait", "1"][..],
        &[
            "helpers",
            "migrate-id-map",
            "--to",
            "collection",
            "--lock-wait",
            "1",
        ],
    ] {
        let refused = instance.run(fresh.path(), args).exits(1);
        assert!(
            refused.stderr.contains("is locked by another run"),
            "{args:?}: {refused}"
        );
    }

    let unlocked = instance.ok(dir, &["helpers", "unlock"]);
    assert!(
        unlocked
            .stderr
            .contains("released the lock of http://127.0.0.1:")
            && unlocked.stderr.contains("push by someone.else@example.com"),
        "{unlocked}"
    );
    let again = instance.ok(dir, &["helpers", "unlock"]);
    assert!(again.stderr.contains("was not locked"), "{again}");
    instance.ok(dir, &["push"]);
    assert!(role_names(&instance).contains(&"Renamed while locked".to_string()));
    assert!(lock_rows(&instance).is_empty());

    // The lock is bookkeeping: no schema change to push anywhere, nothing in a fresh dump.
    let fresh = tempfile::tempdir().unwrap();
    instance.ok(fresh.path(), &["pull"]);
    let files = files_below(&fresh.path().join("directus-config/snapshot"));
    assert!(!files.iter().any(|f| f.contains("sync_lock")), "{files:?}");
    instance.ok(fresh.path(), &["diff", "--exit-code"]);
}

#[test]
fn an_expired_lock_is_taken_over() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start);
    let dir = work.path();
    instance.post(
        "/items/sync_lock",
        &foreign_lock("2020-01-01T00:00:00.000Z"),
    );
    edit_a_role(dir, "Pushed over an expired lock");
    let pushed = instance.ok(dir, &["push", "--lock-wait", "0"]);
    assert!(
        pushed.stderr.contains("taking over the lock")
            && pushed.stderr.contains("someone.else@example.com")
            && pushed
                .stderr
                .contains("it expired at 2020-01-01 00:00:00 UTC"),
        "{pushed}"
    );
    assert!(role_names(&instance).contains(&"Pushed over an expired lock".to_string()));
    assert!(lock_rows(&instance).is_empty());
}

fn a_push_killed_holding_the_lock_lets_the_next_push_take_it_at_once(
    start: fn() -> DirectusInstance,
) {
    let (source, target) = support::start_two(start, start);
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    source.ok(dir, &["pull", "--no-specs"]);

    // Killed amid its writes: once it holds the lock and created the first role.
    let mut push = spawn(&target, dir, &["push"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let writing = || {
        !lock_rows(&target).is_empty()
            && target
                .get("/roles?filter[name][_eq]=Editor&fields=id")
                .as_array()
                .is_some_and(|roles| !roles.is_empty())
    };
    while !writing() {
        assert!(Instant::now() < deadline, "the push never started writing");
        if let Ok(Some(status)) = push.try_wait() {
            panic!("the push ended ({status}) before it was seen writing");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    push.kill().unwrap();
    let killed = outcome(push);
    assert_eq!(killed.code, -1, "killed by a signal: {killed}");
    assert_eq!(lock_rows(&target).len(), 1, "the killed push left its lock");

    let next = target.ok(dir, &["push", "--lock-wait", "0"]);
    assert!(
        next.stderr.contains("taking over the lock") && next.stderr.contains("has ended"),
        "{next}"
    );
    assert!(lock_rows(&target).is_empty());
    let again = tempfile::tempdir().unwrap();
    target.ok(again.path(), &["pull", "--no-specs"]);
    let counts = |dir: &Path| -> Vec<(String, usize)> {
        collections(dir)
            .into_iter()
            .map(|(name, items)| (name, items.len()))
            .collect()
    };
    assert_eq!(counts(again.path()), counts(dir), "{next}");
}

#[test]
fn the_collection_store_refuses_duplicate_rows_and_older_stores_get_unique_keys() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start_without_extension);
    let dir = work.path();
    // As the tool writes rows.
    let row = |table: &str, sync_id: &str, local_id: &str| {
        json!({"table": table, "sync_id": sync_id, "local_id": local_id,
               "sync_key": format!("{table}/{sync_id}"), "local_key": format!("{table}/{local_id}")})
    };
    instance.post("/items/sync_id_map", &row("roles", "s-1", "l-1"));
    for duplicate in [row("roles", "s-1", "l-2"), row("roles", "s-2", "l-1")] {
        let (status, body) = instance.request("POST", "/items/sync_id_map", Some(&duplicate));
        assert_eq!(status, 400, "{duplicate} was accepted: {body}");
        assert!(body.contains("RECORD_NOT_UNIQUE"), "{body}");
    }
    instance.call(
        "DELETE",
        "/items/sync_id_map",
        Some(&json!({"query": {"filter": {"sync_id": {"_eq": "s-1"}}}})),
    );

    // A store as an earlier version made it: no keys, and a row written twice.
    for field in ["sync_key", "local_key"] {
        instance.delete(&format!("/fields/sync_id_map/{field}"));
    }
    let rows = instance.get("/items/sync_id_map?fields=table,sync_id,local_id&limit=-1");
    let rows = rows.as_array().unwrap();
    instance.post("/items/sync_id_map", &rows[0]);
    let diff = instance.ok(dir, &["diff", "--exit-code"]);
    assert_eq!(
        diff.stdout, "0 to create, 0 to update, 0 to delete\n",
        "{diff}"
    );

    // The first write gives it its keys: here a pull tracking a new role.
    instance.post("/roles", &json!({"name": "Newcomer"}));
    let pulled = instance.ok(dir, &["pull", "--no-specs"]);
    assert!(
        pulled.stderr.contains(&format!(
            "gave the {} rows of sync_id_map unique keys",
            rows.len()
        )) && pulled.stderr.contains("1 rows of sync_id_map repeat"),
        "{pulled}"
    );
    let unkeyed = instance.get("/items/sync_id_map?filter[sync_key][_null]=true&limit=-1");
    assert_eq!(unkeyed.as_array().unwrap().len(), 1, "{unkeyed}");
    let text = |key: &str| rows[1][key].as_str().unwrap().to_string();
    let back_filled = row(&text("table"), &text("sync_id"), "another-item");
    let (status, body) = instance.request("POST", "/items/sync_id_map", Some(&back_filled));
    assert_eq!(status, 400, "a back-filled key is unique: {body}");
    instance.ok(dir, &["diff", "--exit-code"]);
}

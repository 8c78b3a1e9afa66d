//! Push under bad conditions: plans that cannot work are refused before any write, and a push
//! that fails midway says what it applied and converges when run again.

mod support;

in_both_id_map_stores!(
    dry_run_and_unresolvable_references_change_nothing,
    a_push_that_fails_midway_reports_progress_and_the_next_push_converges,
    untracked_items_with_the_same_identity_are_taken_over_not_duplicated
);

use serde_json::{Value, json};
use std::path::Path;
use support::DirectusInstance;
use support::seed::{activity_count, all_collections};

fn collection_file(dir: &Path, name: &str) -> Vec<Value> {
    let path = dir.join(format!("directus-config/collections/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_collection(dir: &Path, name: &str, items: &[Value]) {
    let path = dir.join(format!("directus-config/collections/{name}.json"));
    std::fs::write(path, serde_json::to_string_pretty(items).unwrap()).unwrap();
}

fn output(instance: &DirectusInstance, dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = instance.cli(dir).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

fn dry_run_and_unresolvable_references_change_nothing(start: fn() -> DirectusInstance) {
    let instance = start();
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    assert_eq!(output(&instance, dir, &["pull"]).0, Some(0));
    let before = activity_count(&instance);

    let mut roles = collection_file(dir, "roles");
    roles[0]["description"] = json!("changed by hand");
    write_collection(dir, "roles", &roles);
    let (code, stdout, _) = output(&instance, dir, &["push", "--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("~ roles") && stdout.ends_with("0 to create, 1 to update, 0 to delete\n"),
        "{stdout}"
    );
    assert_eq!(activity_count(&instance), before, "dry run writes nothing");

    let mut permissions = collection_file(dir, "permissions");
    permissions.push(json!({"role": "00000000-dead-4000-8000-000000000000", "collection": "articles",
                            "action": "delete", "permissions": {}, "validation": null, "presets": null,
                            "fields": ["*"], "_syncId": "new-permission"}));
    write_collection(dir, "permissions", &permissions);
    let (code, stdout, stderr) = output(&instance, dir, &["push"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("! permissions 00000000-dead-4000-8000-000000000000 articles.delete refers in role to roles \"00000000-dead-4000-8000-000000000000\""),
        "{stdout}"
    );
    assert!(stderr.starts_with("error: the dump refers to 1 items that exist neither in the dump nor on the instance; nothing was changed"), "{stderr}");
    assert_eq!(
        activity_count(&instance),
        before,
        "refused before any write"
    );
}

fn a_push_that_fails_midway_reports_progress_and_the_next_push_converges(
    start: fn() -> DirectusInstance,
) {
    let (source, target) = std::thread::scope(|s| {
        let a = s.spawn(start);
        let b = s.spawn(start);
        (a.join().unwrap(), b.join().unwrap())
    });
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    assert_eq!(output(&source, dir, &["pull"]).0, Some(0));

    // Directus refuses a translation without a key: roles, folders come before it and land.
    let mut translations = collection_file(dir, "translations");
    let good = translations.clone();
    translations[0]["key"] = Value::Null;
    write_collection(dir, "translations", &translations);
    let (code, _, stderr) = output(&target, dir, &["push"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("error: translations: creating 3 items"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: applied before the failure: 13 schema changes, 5 created"),
        "{stderr}"
    );
    assert_eq!(
        target
            .get("/roles?filter[name][_eq]=Editor&fields=id")
            .as_array()
            .unwrap()
            .len(),
        1
    );

    write_collection(dir, "translations", &good);
    let (code, stdout, stderr) = output(&target, dir, &["push"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains("+ roles"),
        "roles are not created twice:\n{stdout}"
    );
    let (code, stdout, _) = output(&target, dir, &["diff", "--exit-code"]);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "0 to create, 0 to update, 0 to delete\n")
    );
    assert_eq!(
        target
            .get("/roles?filter[name][_eq]=Editor&fields=id")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn untracked_items_with_the_same_identity_are_taken_over_not_duplicated(
    start: fn() -> DirectusInstance,
) {
    let instance = start();
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    assert_eq!(output(&instance, dir, &["pull"]).0, Some(0));
    let flows = collection_file(dir, "flows");
    let flow = flows.iter().find(|f| f["name"] == "Callee").unwrap()["_syncId"]
        .as_str()
        .unwrap()
        .to_string();
    // Losing the id map of a preserved-id item (reference P6) must not duplicate it.
    assert_eq!(
        output(
            &instance,
            dir,
            &["helpers", "untrack", "--collection", "flows", "--id", &flow]
        )
        .0,
        Some(0)
    );
    let (code, stdout, stderr) = output(&instance, dir, &["push"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("= flows \"Callee\": already there, will be tracked"),
        "{stdout}"
    );
    let (code, stdout, _) = output(&instance, dir, &["diff", "--exit-code"]);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "0 to create, 0 to update, 0 to delete\n")
    );
    assert_eq!(
        instance
            .get("/flows?filter[name][_eq]=Callee&fields=id")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

//! Push under bad conditions: plans that cannot work are refused before any write, and a push
//! that fails midway says what it applied and converges when run again.

mod support;

in_both_id_map_stores!(
    dry_run_and_unresolvable_references_change_nothing,
    a_push_that_fails_midway_reports_progress_and_the_next_push_converges,
    untracked_items_with_the_same_identity_are_taken_over_not_duplicated
);

use serde_json::{Value, json};
use support::DirectusInstance;
use support::cli::plan_has;
use support::dump::{collection_file, seeded_and_pulled, write_collection};
use support::seed::{activity_count, all_collections};

/// How many items `path` lists, e.g. `/roles?filter[name][_eq]=Editor&fields=id`.
fn count(instance: &DirectusInstance, path: &str) -> usize {
    instance.get(path).as_array().unwrap().len()
}

fn dry_run_and_unresolvable_references_change_nothing(start: fn() -> DirectusInstance) {
    let (instance, work) = seeded_and_pulled(start);
    let dir = work.path();
    let before = activity_count(&instance);

    let mut roles = collection_file(dir, "roles");
    roles[0]["description"] = json!("changed by hand");
    write_collection(dir, "roles", &roles);
    let dry_run = instance.ok(dir, &["push", "--dry-run"]);
    let stdout = dry_run.stdout.as_str();
    assert!(
        plan_has(stdout, "roles", "~ ")
            && stdout.ends_with("0 to create, 1 to update, 0 to delete\n"),
        "{stdout}"
    );
    assert!(
        dry_run.stderr.ends_with("dry run: nothing was written\n"),
        "{dry_run}"
    );
    assert_eq!(activity_count(&instance), before, "dry run writes nothing");

    let mut permissions = collection_file(dir, "permissions");
    permissions.push(json!({"role": "00000000-dead-4000-8000-000000000000", "collection": "articles",
                            "action": "delete", "permissions": {}, "validation": null, "presets": null,
                            "fields": ["*"], "_syncId": "new-permission"}));
    write_collection(dir, "permissions", &permissions);
    let push = instance.run(dir, &["push"]).exits(1);
    let (stdout, stderr) = (push.stdout, push.stderr);
    assert!(
        stdout.contains("! permissions 00000000-dead-4000-8000-000000000000 articles.delete refers in role to roles \"00000000-dead-4000-8000-000000000000\""),
        "{stdout}"
    );
    assert!(stderr.starts_with("error: the dump refers to 1 item found neither in the dump nor on the instance; nothing was changed"), "{stderr}");
    assert_eq!(
        activity_count(&instance),
        before,
        "refused before any write"
    );
}

fn a_push_that_fails_midway_reports_progress_and_the_next_push_converges(
    start: fn() -> DirectusInstance,
) {
    let (source, target) = support::start_two(start, start);
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    source.ok(dir, &["pull"]);

    // Directus refuses a translation without a key: roles, folders come before it and land.
    let mut translations = collection_file(dir, "translations");
    let good = translations.clone();
    translations[0]["key"] = Value::Null;
    write_collection(dir, "translations", &translations);
    let stderr = target.run(dir, &["push"]).exits(1).stderr;
    assert!(
        stderr.contains("error: translations: creating 3 items"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: applied before the failure: 13 schema changes, 5 created"),
        "{stderr}"
    );
    assert_eq!(
        count(&target, "/roles?filter[name][_eq]=Editor&fields=id"),
        1
    );

    write_collection(dir, "translations", &good);
    let stdout = target.ok(dir, &["push"]).stdout;
    assert!(
        !plan_has(&stdout, "roles", "+ "),
        "roles are not created twice:\n{stdout}"
    );
    let diff = target.run(dir, &["diff", "--exit-code"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (0, "0 to create, 0 to update, 0 to delete\n")
    );
    assert_eq!(
        count(&target, "/roles?filter[name][_eq]=Editor&fields=id"),
        1
    );
}

fn untracked_items_with_the_same_identity_are_taken_over_not_duplicated(
    start: fn() -> DirectusInstance,
) {
    let (instance, work) = seeded_and_pulled(start);
    let dir = work.path();
    let flows = collection_file(dir, "flows");
    let flow = flows.iter().find(|f| f["name"] == "Callee").unwrap()["_syncId"]
        .as_str()
        .unwrap()
        .to_string();
    // Losing the id map of a preserved-id item (reference P6) must not duplicate it.
    instance.ok(
        dir,
        &["helpers", "untrack", "--collection", "flows", "--id", &flow],
    );
    let stdout = instance.ok(dir, &["push"]).stdout;
    assert!(
        plan_has(
            &stdout,
            "flows",
            "= \"Callee\": already there, will be tracked"
        ),
        "{stdout}"
    );
    let diff = instance.run(dir, &["diff", "--exit-code"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (0, "0 to create, 0 to update, 0 to delete\n")
    );
    assert_eq!(
        count(&instance, "/flows?filter[name][_eq]=Callee&fields=id"),
        1
    );
}

/// A dump without settings (a commit from before they were pulled, say) leaves the instance's
/// settings as they are, since a push never deletes them: the plan says so.
#[test]
fn a_dump_without_settings_says_the_instance_keeps_its_own() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start);
    let dir = work.path();
    write_collection(dir, "settings", &[]);
    let diff = instance.ok(dir, &["diff", "--exit-code"]);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");
    assert!(
        diff.stderr.contains(
            "settings: the dump has none, and a push never deletes them: the instance keeps its own"
        ),
        "{diff}"
    );
    let json = instance.ok(dir, &["diff", "--format", "json"]).stdout;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["leftOut"].as_array().map(Vec::len), Some(1), "{json}");
}

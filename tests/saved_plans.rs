//! Saved plans against a real Directus (issue #15): `diff --out` writes the plan with a
//! fingerprint of the live state and no secret; `push --plan` applies exactly that plan (not
//! the dump, which changed meanwhile), and refuses, writing nothing, when the instance changed
//! after the plan was made.

mod support;

use serde_json::{Value, json};
use support::cli::Outcome;
use support::dump::{collection_file, write_collection};
use support::seed::{activity_count, all_collections};
use support::{DirectusInstance, git};

const LIVE_MAPBOX: &str = "pk.live-SECRET-mapbox-5e1a07";
const PLANNED_MAPBOX: &str = "pk.planned-SECRET-mapbox-93c2d4";
const MAPBOX_VARIABLE: &str = "DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY";
const REVIEWER: &str = "9b1c7d8e-0000-4000-8000-0000000000f1";

fn find<'a>(items: &'a mut [Value], field: &str, value: &str) -> &'a mut Value {
    items
        .iter_mut()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value}"))
}

/// A seeded instance with a secret in its settings, pulled into a git repository, then a
/// committed edit of the dump: Editor described anew, a Reviewer role created, the farewell
/// translation deleted, and the settings' secret to be rotated.
fn planned_edit() -> (DirectusInstance, tempfile::TempDir) {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    instance.patch("/settings", &json!({"mapbox_key": LIVE_MAPBOX}));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["init", "-q", "-b", "main"]);
    run(&instance, dir, &["pull"], &[(MAPBOX_VARIABLE, LIVE_MAPBOX)]).exits(0);
    let mut roles = collection_file(dir, "roles");
    find(&mut roles, "name", "Editor")["description"] = json!("Planned description");
    roles.push(
        json!({"name": "Reviewer", "icon": "rate_review", "description": null,
                      "ip_access": null, "enforce_tfa": false, "admin_access": false,
                      "app_access": true, "_syncId": REVIEWER}),
    );
    write_collection(dir, "roles", &roles);
    let mut translations = collection_file(dir, "translations");
    translations.retain(|t| t["key"] != "farewell");
    write_collection(dir, "translations", &translations);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "planned edit"]);
    (instance, work)
}

/// `directus-sync ARGS` in `dir` with `env`; whatever it prints holds neither secret.
#[track_caller]
fn run(
    instance: &DirectusInstance,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Outcome {
    let outcome = Outcome::of(instance.cli(dir).envs(env.iter().copied()).args(args));
    for secret in [LIVE_MAPBOX, PLANNED_MAPBOX] {
        assert!(
            !outcome.stdout.contains(secret) && !outcome.stderr.contains(secret),
            "{args:?} printed a secret:\n{outcome}"
        );
    }
    outcome
}

fn role(instance: &DirectusInstance, name: &str) -> Option<Value> {
    let roles = instance.get(&format!("/roles?filter[name][_eq]={name}"));
    roles.as_array().unwrap().first().cloned()
}

fn farewell_exists(instance: &DirectusInstance) -> bool {
    let found = instance.get("/translations?filter[key][_eq]=farewell");
    !found.as_array().unwrap().is_empty()
}

#[test]
fn push_plan_applies_the_saved_plan_not_the_dump() {
    let (instance, work) = planned_edit();
    let dir = work.path();
    let planned = [(MAPBOX_VARIABLE, PLANNED_MAPBOX)];
    let diff = run(&instance, dir, &["diff", "--out", "plan.json"], &planned).exits(0);
    assert!(
        diff.stderr.contains("saved the plan to plan.json"),
        "{diff}"
    );

    // The file: the dump's commit, a fingerprint of each part, the plan as shown, and the
    // secret as its placeholder only.
    let text = std::fs::read_to_string(dir.join("plan.json")).unwrap();
    for secret in [LIVE_MAPBOX, PLANNED_MAPBOX] {
        assert!(
            !text.contains(secret),
            "the plan file holds a secret:\n{text}"
        );
    }
    assert!(text.contains(&format!("${{{MAPBOX_VARIABLE}}}")), "{text}");
    let file: Value = serde_json::from_str(&text).unwrap();
    let head = git(dir, &["rev-parse", "HEAD"]);
    assert_eq!(file["dump"]["commit"], head.trim());
    assert_eq!(file["dump"]["uncommitted"], false);
    let fingerprint = &file["fingerprint"];
    assert_eq!(
        fingerprint["schema"].as_str().map(str::len),
        Some(40),
        "{fingerprint}"
    );
    assert_eq!(
        fingerprint["idMap"].as_str().map(str::len),
        Some(40),
        "{fingerprint}"
    );
    for collection in ["roles", "translations", "settings", "operations"] {
        assert!(
            fingerprint["collections"][collection].is_string(),
            "{fingerprint}"
        );
    }
    assert_eq!(file["text"].as_str().unwrap(), diff.stdout);

    // The dump moves on after the review: the plan, not the dump, is applied.
    let mut roles = collection_file(dir, "roles");
    find(&mut roles, "name", "Editor")["description"] = json!("Not reviewed");
    write_collection(dir, "roles", &roles);

    // Without the secret's variable, nothing is read or written.
    let before = activity_count(&instance);
    let refused = run(&instance, dir, &["push", "--plan", "plan.json"], &[]).exits(1);
    assert!(refused.stderr.contains(MAPBOX_VARIABLE), "{refused}");
    assert_eq!(activity_count(&instance), before, "nothing written");

    let push = run(&instance, dir, &["push", "--plan", "plan.json"], &planned).exits(0);
    assert!(
        push.stdout == diff.stdout,
        "push shows the saved plan:\n{push}"
    );

    // Fresh reads: the instance changed exactly as planned.
    assert_eq!(
        role(&instance, "Editor").unwrap()["description"],
        "Planned description"
    );
    let reviewer = role(&instance, "Reviewer").expect("Reviewer created");
    assert_eq!(reviewer["icon"], "rate_review");
    assert!(!farewell_exists(&instance), "farewell deleted");
    assert_eq!(instance.get("/settings")["mapbox_key"], PLANNED_MAPBOX);
    // The commit the plan was made from now matches the instance, and the push is recorded on it.
    run(&instance, dir, &["diff", "HEAD", "--exit-code"], &planned).exits(0);
    let log = run(&instance, dir, &["log"], &planned).exits(0);
    assert!(
        log.stdout.contains("push") && log.stdout.contains(&head.trim()[..7]),
        "{log}"
    );
    // A plan applied is spent: the state it was made against is gone.
    let again = run(&instance, dir, &["push", "--plan", "plan.json"], &planned).exits(1);
    assert!(
        again
            .stderr
            .contains("the instance changed since the plan was made"),
        "{again}"
    );
}

#[test]
fn an_edit_after_diff_out_makes_push_plan_refuse_and_write_nothing() {
    let (instance, work) = planned_edit();
    let dir = work.path();
    let planned = [(MAPBOX_VARIABLE, PLANNED_MAPBOX)];
    run(&instance, dir, &["diff", "--out", "plan.json"], &planned).exits(0);

    // Someone edits a role in the admin app after the plan was reviewed.
    let viewer = role(&instance, "Viewer").unwrap();
    let path = format!("/roles/{}", viewer["id"].as_str().unwrap());
    instance.patch(&path, &json!({"description": "Edited after the review"}));
    let before = activity_count(&instance);

    let refused = run(&instance, dir, &["push", "--plan", "plan.json"], &planned).exits(1);
    assert!(
        refused
            .stderr
            .contains("the instance changed since the plan was made (collection roles)"),
        "{refused}"
    );
    assert!(refused.stderr.contains("nothing was changed"), "{refused}");

    // Nothing written: no activity, and none of the plan's changes on fresh reads.
    assert_eq!(activity_count(&instance), before, "nothing written");
    assert_eq!(
        role(&instance, "Editor").unwrap()["description"],
        "Writes articles"
    );
    assert!(
        role(&instance, "Reviewer").is_none(),
        "Reviewer not created"
    );
    assert!(farewell_exists(&instance), "farewell kept");
    assert_eq!(instance.get("/settings")["mapbox_key"], LIVE_MAPBOX);
    assert_eq!(
        role(&instance, "Viewer").unwrap()["description"],
        "Edited after the review"
    );

    // A schema change is a change too.
    instance.post(
        "/fields/articles",
        &json!({"field": "subtitle", "type": "string", "schema": {}, "meta": {}}),
    );
    let refused = run(
        &instance,
        dir,
        &["push", "--plan", "plan.json", "--dry-run"],
        &planned,
    )
    .exits(1);
    assert!(refused.stderr.contains("the schema"), "{refused}");
}

/// A saved plan carries Directus' schema diff and the losses it needs consent for: dropping
/// a field with values is refused without `--allow-data-loss`, nothing written, and applied
/// with it.
#[test]
fn a_saved_plan_that_drops_values_needs_allow_data_loss() {
    let instance = DirectusInstance::start();
    support::seed::blog_schema(&instance);
    for n in 1..=3 {
        let article = json!({"title": format!("Post {n}"), "body": format!("<p>Body {n}</p>")});
        instance.post("/items/articles", &article);
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);
    std::fs::remove_file(dir.join("directus-config/snapshot/fields/articles/body.json")).unwrap();
    instance.ok(dir, &["diff", "--out", "plan.json"]);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(
        file["dataLoss"],
        json!(["dropping field articles.body deletes its values in 3 rows"]),
        "{file:#}"
    );
    let has_body = || {
        let fields = instance.get("/fields/articles");
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "body")
    };

    let refused = instance.run(dir, &["push", "--plan", "plan.json"]).exits(1);
    assert!(refused.stderr.contains("--allow-data-loss"), "{refused}");
    assert!(has_body(), "the field is still there");

    instance.ok(dir, &["push", "--plan", "plan.json", "--allow-data-loss"]);
    assert!(!has_body(), "the field is gone");
    instance.ok(dir, &["diff", "--exit-code"]);
}

//! The ten tracked collections against real Directus instances: pull, diff and push, item by
//! item, with the request budgets that keep them fast.

mod support;

in_both_id_map_stores!(
    pull_push_pull_between_instances_is_identical_and_idempotent,
    edits_in_the_dump_apply_exactly_and_a_second_push_writes_nothing,
    a_missing_or_malformed_collection_file_stops_before_any_change,
    only_exclude_and_preserved_ids,
    helpers_untrack_and_remove_permission_duplicates,
    request_budgets_with_hundreds_of_items
);

use directus_sync::collections::names as tracked_collections;
use serde_json::{Value, json};
use support::DirectusInstance;
use support::cli::plan_has;
use support::dump::{collection_file, seeded_and_pulled, write_collection};
use support::seed::{activity_count, activity_count_where, all_collections};

fn sorted(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| a["_syncId"].as_str().cmp(&b["_syncId"].as_str()));
    items
}

fn find<'a>(items: &'a mut [Value], field: &str, value: &str) -> &'a mut Value {
    items
        .iter_mut()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value}"))
}

fn pull_push_pull_between_instances_is_identical_and_idempotent(start: fn() -> DirectusInstance) {
    let (a, b) = support::start_two(start, start);
    all_collections(&a);
    let from_a = tempfile::tempdir().unwrap();
    let from_b = tempfile::tempdir().unwrap();

    a.ok(from_a.path(), &["pull"]);
    // Steady state: every item tracked (a first pull with the extension also posts one id-map
    // row per new item, which its routes only take one at a time).
    let pull_requests = a.ok(from_a.path(), &["pull"]).requests();
    for name in tracked_collections() {
        assert!(
            !collection_file(from_a.path(), name).is_empty(),
            "{name} has items"
        );
    }
    let operations = collection_file(from_a.path(), "operations");
    let keys: Vec<&str> = operations
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "log_done",
            "log_failure",
            "log_middle",
            "log_start",
            "run_callee",
            "run_dynamic"
        ]
    );
    let dynamic = operations
        .iter()
        .find(|o| o["key"] == "run_dynamic")
        .unwrap();
    assert_eq!(
        dynamic["options"]["flow"], "{{ $trigger.flow }}",
        "templates pass through"
    );
    let flows = collection_file(from_a.path(), "flows");
    let callee = flows.iter().find(|f| f["name"] == "Callee").unwrap();
    let run_callee = operations
        .iter()
        .find(|o| o["key"] == "run_callee")
        .unwrap();
    assert_eq!(
        run_callee["options"]["flow"], callee["_syncId"],
        "nested flow id is a SyncId"
    );
    let permissions = collection_file(from_a.path(), "permissions");
    assert!(
        permissions.iter().any(|p| p["role"].is_null()),
        "public permission kept"
    );
    let settings = collection_file(from_a.path(), "settings");
    let roles = collection_file(from_a.path(), "roles");
    let viewer = roles.iter().find(|r| r["name"] == "Viewer").unwrap();
    assert_eq!(settings[0]["public_registration_role"], viewer["_syncId"]);
    assert!(
        roles.iter().all(|r| r["name"] != "Administrator"),
        "admin role never tracked"
    );
    assert!(
        roles.iter().all(|r| r.get("users").is_none()),
        "ignored field dropped"
    );

    let diff = a.ok(from_a.path(), &["diff", "--exit-code"]);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");
    let diff_requests = diff.requests();
    assert!(pull_requests <= 40, "pull sent {pull_requests} requests");
    assert!(diff_requests <= 25, "diff sent {diff_requests} requests");

    let plan = b
        .run(from_a.path(), &["diff", "--exit-code"])
        .exits(2)
        .stdout;
    assert!(plan_has(&plan, "roles", "+ \"Editor\""), "{plan}");
    assert!(
        plan_has(&plan, "permissions", "+ public articles.read"),
        "{plan}"
    );
    b.ok(from_a.path(), &["push"]);
    b.ok(from_a.path(), &["diff", "--exit-code"]);

    b.ok(from_b.path(), &["pull"]);
    for name in tracked_collections() {
        let file = format!("directus-config/collections/{name}.json");
        assert_eq!(
            std::fs::read_to_string(from_a.path().join(&file)).unwrap(),
            std::fs::read_to_string(from_b.path().join(&file)).unwrap(),
            "{file} differs between A and B"
        );
    }

    // Pushing a dump onto the instance it came from writes nothing at all.
    for instance in [&a, &b] {
        let before = activity_count(instance);
        let plan = instance.ok(from_a.path(), &["push"]).stdout;
        assert_eq!(plan, "0 to create, 0 to update, 0 to delete\n");
        assert_eq!(activity_count(instance), before, "no activity rows written");
    }
}

fn edits_in_the_dump_apply_exactly_and_a_second_push_writes_nothing(
    start: fn() -> DirectusInstance,
) {
    let (instance, work) = seeded_and_pulled(start);
    let dir = work.path();

    // Roles: update Editor, create Reviewer, delete Viewer with its permissions.
    let mut roles = collection_file(dir, "roles");
    find(&mut roles, "name", "Editor")["description"] = json!("Writes and edits articles");
    let viewer = find(&mut roles, "name", "Viewer")["_syncId"].clone();
    roles.retain(|r| r["_syncId"] != viewer);
    let reviewer = "9b1c7d8e-0000-4000-8000-000000000001";
    roles.push(json!({"name": "Reviewer", "icon": "rate_review", "description": null, "ip_access": null,
                      "enforce_tfa": false, "admin_access": false, "app_access": true, "_syncId": reviewer}));
    write_collection(dir, "roles", &roles);
    let mut permissions = collection_file(dir, "permissions");
    permissions.retain(|p| p["role"] != viewer);
    permissions.push(
        json!({"role": reviewer, "collection": "articles", "action": "read",
                            "permissions": {}, "validation": null, "presets": null, "fields": ["*"],
                            "_syncId": "9b1c7d8e-0000-4000-8000-000000000002"}),
    );
    write_collection(dir, "permissions", &permissions);
    // Settings pointed at Viewer: point them at the new role.
    let mut settings = collection_file(dir, "settings");
    settings[0]["public_registration_role"] = json!(reviewer);
    write_collection(dir, "settings", &settings);

    // Operations: rename the chain and reverse it (start → done → middle), which reassigns
    // every unique `resolve` link.
    let mut operations = collection_file(dir, "operations");
    let sync_of = |ops: &mut [Value], key: &str| find(ops, "key", key)["_syncId"].clone();
    let (_start, middle, done) = (
        sync_of(&mut operations, "log_start"),
        sync_of(&mut operations, "log_middle"),
        sync_of(&mut operations, "log_done"),
    );
    for (key, name, resolve) in [
        ("log_start", "Step one", done.clone()),
        ("log_done", "Step two", middle.clone()),
        ("log_middle", "Step three", Value::Null),
    ] {
        let op = find(&mut operations, "key", key);
        op["name"] = json!(name);
        op["key"] = json!(format!("step_{}", &key[4..]));
        op["resolve"] = resolve;
    }
    write_collection(dir, "operations", &operations);

    // Translations: update one, delete one, create one.
    let mut translations = collection_file(dir, "translations");
    find(&mut translations, "value", "Bonjour")["value"] = json!("Salut");
    translations.retain(|t| t["key"] != "farewell");
    translations.push(
        json!({"language": "de-DE", "key": "greeting", "value": "Hallo",
                             "_syncId": "9b1c7d8e-0000-4000-8000-000000000003"}),
    );
    write_collection(dir, "translations", &translations);

    // The dashboard goes, with its panels; a folder is added under an existing one.
    write_collection(dir, "dashboards", &[]);
    write_collection(dir, "panels", &[]);
    let mut folders = collection_file(dir, "folders");
    let logos = find(&mut folders, "name", "Logos")["_syncId"].clone();
    folders.push(json!({"name": "New logos", "parent": logos, "_syncId": "9b1c7d8e-0000-4000-8000-000000000004"}));
    write_collection(dir, "folders", &folders);

    let plan = instance.run(dir, &["diff", "--exit-code"]).exits(2).stdout;
    assert!(
        plan_has(
            &plan,
            "roles",
            "~ \"Editor\": description \"Writes articles\" → \"Writes and edits articles\""
        ),
        "{plan}"
    );
    assert!(plan_has(&plan, "roles", "- \"Viewer\""), "{plan}");
    assert!(plan_has(&plan, "roles", "+ \"Reviewer\""), "{plan}");
    assert!(
        plan_has(&plan, "permissions", "- Viewer authors.read"),
        "{plan}"
    );
    assert!(plan_has(&plan, "panels", "- \"Articles\""), "{plan}");
    assert!(
        plan.ends_with("4 to create, 6 to update, 7 to delete\n"),
        "{plan}"
    );

    let json_plan = instance.ok(dir, &["diff", "--format", "json"]).stdout;
    let json_plan: Value = serde_json::from_str(&json_plan).expect("diff --format json is JSON");
    assert_eq!(
        json_plan["summary"],
        json!({"schema": 0, "create": 4, "update": 6, "delete": 7})
    );

    instance.ok(dir, &["push"]);
    let after = instance.ok(dir, &["diff", "--exit-code"]).stdout;
    assert_eq!(after, "0 to create, 0 to update, 0 to delete\n");

    // What Directus holds now is exactly the edited dump.
    let again = tempfile::tempdir().unwrap();
    instance.ok(again.path(), &["pull"]);
    for name in tracked_collections() {
        assert_eq!(
            sorted(collection_file(again.path(), name)),
            sorted(collection_file(dir, name)),
            "{name} on the instance differs from the edited dump"
        );
    }
    let viewers = instance.get("/roles?filter[name][_eq]=Viewer");
    assert_eq!(viewers, json!([]), "Viewer deleted");
    let chain =
        instance.get("/operations?filter[key][_starts_with]=step_&fields=key,resolve.key&sort=key");
    assert_eq!(
        chain,
        json!([{"key": "step_done", "resolve": {"key": "step_middle"}},
               {"key": "step_middle", "resolve": null},
               {"key": "step_start", "resolve": {"key": "step_done"}}])
    );

    let before = activity_count(&instance);
    let plan = instance.ok(dir, &["push"]).stdout;
    assert_eq!(plan, "0 to create, 0 to update, 0 to delete\n");
    assert_eq!(
        activity_count(&instance),
        before,
        "the second push writes nothing"
    );
}

/// Reversing a resolve chain (start → middle → done becomes start → done → middle) changes
/// three operations, so the push writes three updates, one per operation, although `resolve`
/// is unique and a link can only move to an operation once its old holder has let go of it.
#[test]
fn reversing_an_operation_chain_writes_one_update_per_operation() {
    let (instance, work) = seeded_and_pulled(DirectusInstance::start);
    let dir = work.path();
    let mut operations = collection_file(dir, "operations");
    let sync_of = |ops: &mut [Value], key: &str| find(ops, "key", key)["_syncId"].clone();
    let (middle, done) = (
        sync_of(&mut operations, "log_middle"),
        sync_of(&mut operations, "log_done"),
    );
    assert_eq!(
        find(&mut operations, "key", "log_start")["resolve"],
        middle,
        "the seeded chain starts start → middle"
    );
    find(&mut operations, "key", "log_start")["resolve"] = done;
    find(&mut operations, "key", "log_done")["resolve"] = middle;
    find(&mut operations, "key", "log_middle")["resolve"] = Value::Null;
    write_collection(dir, "operations", &operations);

    let plan = instance.run(dir, &["diff", "--exit-code"]).exits(2).stdout;
    assert!(
        plan.ends_with("0 to create, 3 to update, 0 to delete\n"),
        "{plan}"
    );

    const OPERATION_UPDATES: &str =
        "filter[action][_eq]=update&filter[collection][_eq]=directus_operations";
    let before = activity_count_where(&instance, OPERATION_UPDATES);
    instance.ok(dir, &["push"]);
    assert_eq!(
        activity_count_where(&instance, OPERATION_UPDATES) - before,
        3,
        "one update activity row per changed operation"
    );

    instance.ok(dir, &["diff", "--exit-code"]);
    let chain = instance.get(
        "/operations?filter[key][_in]=log_start,log_middle,log_done&fields=key,resolve.key&sort=key",
    );
    assert_eq!(
        chain,
        json!([{"key": "log_done", "resolve": {"key": "log_middle"}},
               {"key": "log_middle", "resolve": null},
               {"key": "log_start", "resolve": {"key": "log_done"}}])
    );
}

fn a_missing_or_malformed_collection_file_stops_before_any_change(start: fn() -> DirectusInstance) {
    let (instance, work) = seeded_and_pulled(start);
    let dir = work.path();
    let roles_before = instance.get("/roles?fields=id&sort=id");
    let activity_before = activity_count(&instance);

    let roles = dir.join("directus-config/collections/roles.json");
    std::fs::remove_file(&roles).unwrap();
    let stderr = instance.run(dir, &["push"]).exits(1).stderr;
    assert!(
        stderr.starts_with("error: ") && stderr.contains("collections/roles.json is missing"),
        "{stderr}"
    );

    std::fs::write(&roles, "[{\"name\": \"Editor\",").unwrap();
    for command in ["diff", "push"] {
        let stderr = instance.run(dir, &[command]).exits(1).stderr;
        assert!(
            stderr.contains("collections/roles.json is not valid JSON"),
            "{stderr}"
        );
    }
    std::fs::write(&roles, "{\"name\": \"Editor\"}").unwrap();
    let stderr = instance.run(dir, &["push"]).stderr;
    assert!(
        stderr.contains("roles.json: expected a JSON array"),
        "{stderr}"
    );

    assert_eq!(
        instance.get("/roles?fields=id&sort=id"),
        roles_before,
        "nothing deleted"
    );
    assert_eq!(
        activity_count(&instance),
        activity_before,
        "nothing written"
    );
}

fn only_exclude_and_preserved_ids(start: fn() -> DirectusInstance) {
    let (a, b) = support::start_two(start, start);
    all_collections(&a);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    a.ok(
        dir,
        &["pull", "-o", "roles,permissions", "--preserve-ids", "roles"],
    );
    let files: Vec<String> = std::fs::read_dir(dir.join("directus-config/collections"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let roles = collection_file(dir, "roles");
    let live_roles = a.get("/roles?filter[name][_eq]=Editor&fields=id");
    let editor = roles.iter().find(|r| r["name"] == "Editor").unwrap();
    assert_eq!(
        editor["_syncId"], live_roles[0]["id"],
        "preserved id is the SyncId"
    );

    b.ok(
        dir,
        &[
            "push",
            "-o",
            "roles",
            "--preserve-ids",
            "roles",
            "--no-snapshot",
        ],
    );
    let pushed = b.get("/roles?filter[name][_eq]=Editor&fields=id");
    assert_eq!(
        pushed[0]["id"], editor["_syncId"],
        "the role keeps its id on B"
    );
    assert_eq!(
        b.get(
            "/permissions?filter[role][_eq]={}&fields=id"
                .replace("{}", editor["_syncId"].as_str().unwrap())
                .as_str()
        ),
        json!([])
    );
}

fn helpers_untrack_and_remove_permission_duplicates(start: fn() -> DirectusInstance) {
    let instance = start();
    support::seed::blog_schema(&instance);
    let role = instance.post("/roles", &json!({"name": "Dup"}))["id"].clone();
    for fields in [["id"], ["title"], ["body"]] {
        instance.post(
            "/permissions",
            &json!({"role": role, "collection": "articles", "action": "read", "fields": fields}),
        );
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull", "-o", "roles,permissions", "--no-specs"]);
    let tracked = collection_file(dir, "permissions");
    assert_eq!(tracked.len(), 3);

    instance.ok(
        dir,
        &["helpers", "remove-permission-duplicates", "--keep", "first"],
    );
    let left = instance.get(
        "/permissions?filter[collection][_eq]=articles&fields=id,fields,role,collection,action",
    );
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["fields"], json!(["id"]));
    instance.ok(dir, &["pull", "-o", "roles,permissions", "--no-specs"]);
    let after = collection_file(dir, "permissions");
    assert_eq!(after.len(), 1);
    assert!(
        tracked.iter().any(|p| p["_syncId"] == after[0]["_syncId"]),
        "the survivor keeps a SyncId"
    );

    let untrack_role = |by: &str, key: &Value| {
        let key = key.as_str().unwrap();
        instance.ok(
            dir,
            &["helpers", "untrack", "--collection", "roles", by, key],
        );
    };
    let role_sync = collection_file(dir, "roles")[0]["_syncId"].clone();
    untrack_role("--sync-id", &role_sync);
    instance.ok(dir, &["pull", "-o", "roles,permissions", "--no-specs"]);
    let roles = collection_file(dir, "roles");
    assert_ne!(
        roles[0]["_syncId"], role_sync,
        "an untracked item gets a new SyncId"
    );
    untrack_role("--id", &role);
    instance.ok(
        dir,
        &[
            "pull",
            "-o",
            "roles",
            "--no-specs",
            "--preserve-ids",
            "roles",
        ],
    );
    assert_eq!(
        collection_file(dir, "roles")[0]["_syncId"],
        role,
        "re-tracked with its own id"
    );
}

/// Requests grow with collections, not items: hundreds of items cost the same as a few.
fn request_budgets_with_hundreds_of_items(start: fn() -> DirectusInstance) {
    let (a, b) = support::start_two(start, start);
    support::seed::blog_schema(&a);
    let roles: Vec<Value> = (0..20)
        .map(|i| json!({"name": format!("Role {i:02}"), "icon": "person"}))
        .collect();
    let roles = a.post("/roles", &Value::Array(roles));
    let mut permissions = Vec::new();
    for role in roles.as_array().unwrap() {
        for collection in ["articles", "authors"] {
            for action in ["create", "read", "update", "delete", "share"] {
                permissions.push(json!({"role": role["id"], "collection": collection, "action": action, "fields": ["*"]}));
            }
        }
    }
    a.post("/permissions", &Value::Array(permissions));
    let flows: Vec<Value> = (0..40)
        .map(|i| json!({"name": format!("Flow {i:02}"), "status": "active", "trigger": "manual", "accountability": "all", "options": {}}))
        .collect();
    let flows = a.post("/flows", &Value::Array(flows));
    let operations: Vec<Value> = flows
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|flow| {
            (0..3).map(move |i| json!({"name": format!("Step {i}"), "key": format!("step_{i}"), "type": "log",
                                         "position_x": 1 + 18 * i, "position_y": 1, "options": {}, "flow": flow["id"]}))
        })
        .collect();
    a.post("/operations", &Value::Array(operations));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();

    let first = a.ok(dir, &["pull", "--no-specs"]).requests();
    let steady = a.ok(dir, &["pull", "--no-specs"]).requests();
    let diff = a.ok(dir, &["diff", "--exit-code"]).requests();
    let items: usize = tracked_collections()
        .iter()
        .map(|c| collection_file(dir, c).len())
        .sum();
    assert!(items >= 380, "{items} items");
    eprintln!("{items} items: first pull {first}, pull {steady}, diff {diff} requests");
    assert!(steady <= 25, "steady pull sent {steady} requests");
    assert!(diff <= 25, "diff sent {diff} requests");
    if !a.with_extension() {
        assert!(first <= 30, "first pull sent {first} requests");
    }
    let push = b.ok(dir, &["push"]).requests();
    eprintln!("push of {items} items to a fresh instance: {push} requests");
    if !b.with_extension() {
        // A push that writes reads the instance once more when it holds the instance's lock.
        assert!(push <= 75, "push sent {push} requests");
    }
    let again = b.ok(dir, &["push"]).requests();
    eprintln!("no-op push: {again} requests");
    assert!(again <= 25, "a no-op push sent {again} requests");
}

//! Auditing against a real Directus: two non-admin editors, logged in over REST, each change a
//! permission in the admin app's way; the next pull names each of them on their item and in
//! `Co-authored-by`; the tool's own push is marked as such; `history` lists the versions with
//! who made them and what changed.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use support::seed::all_collections;
use support::{DirectusInstance, git};

/// A role that may change roles and permissions in the admin app, without admin access.
fn config_editors(instance: &DirectusInstance) -> Value {
    let role = instance.post(
        "/roles",
        &json!({"name": "Config editors", "icon": "tune", "app_access": true, "admin_access": false}),
    )["id"]
        .clone();
    let rows: Vec<Value> = ["directus_permissions", "directus_roles"]
        .iter()
        .flat_map(|collection| {
            ["create", "read", "update", "delete"].map(|action| {
                json!({"role": role, "collection": collection, "action": action,
                       "fields": ["*"], "permissions": {}})
            })
        })
        .collect();
    instance.post("/permissions", &Value::Array(rows));
    role
}

/// A user of `role` with a name; logs in over REST (`/auth/login`) and returns its token.
fn editor(
    instance: &DirectusInstance,
    role: &Value,
    first: &str,
    last: &str,
    email: &str,
) -> String {
    instance.post(
        "/users",
        &json!({"email": email, "password": "pw-12345678", "role": role, "status": "active",
                "first_name": first, "last_name": last}),
    );
    let answer: Value = ureq::post(&format!("{}/auth/login", instance.url()))
        .send_json(json!({"email": email, "password": "pw-12345678"}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    answer["data"]["access_token"].as_str().unwrap().to_string()
}

/// A PATCH as the editor whose token this is.
fn patch_as(instance: &DirectusInstance, token: &str, path: &str, body: Value) {
    let status = ureq::patch(&format!("{}{path}", instance.url()))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .unwrap()
        .status();
    assert!(status.is_success(), "PATCH {path} as an editor: {status}");
}

fn permission_id(instance: &DirectusInstance, role: &str, collection: &str, action: &str) -> i64 {
    let role = instance.get(&format!("/roles?filter[name][_eq]={role}&fields=id"))[0]["id"].clone();
    instance.get(&format!(
        "/permissions?filter[role][_eq]={}&filter[collection][_eq]={collection}&filter[action][_eq]={action}&fields=id",
        role.as_str().unwrap()
    ))[0]["id"]
        .as_i64()
        .unwrap()
}

fn last_message(dir: &Path) -> String {
    git(dir, &["log", "-1", "--format=%B"])
}

/// The lines of a commit body under the item whose header contains `label`.
fn entries_of<'a>(message: &'a str, label: &str) -> Vec<&'a str> {
    message
        .lines()
        .skip_while(|line| !(line.starts_with("permissions ") && line.contains(label)))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect()
}

#[test]
fn pulls_attribute_each_editor_to_their_permission_and_pushes_to_the_tool() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let role = config_editors(&instance);
    let ada = editor(&instance, &role, "Ada", "Lovelace", "ada@example.com");
    let bob = editor(&instance, &role, "Bob", "Marley", "bob@example.com");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["init", "-q", "-b", "main"]);
    instance.ok(dir, &["pull"]);
    assert!(
        !last_message(dir).contains("Co-authored-by"),
        "a first pull attributes nothing"
    );

    // Each editor changes a different permission, as the admin app does.
    let editor_read = permission_id(&instance, "Editor", "articles", "read");
    let viewer_read = permission_id(&instance, "Viewer", "authors", "read");
    patch_as(
        &instance,
        &ada,
        &format!("/permissions/{editor_read}"),
        json!({"fields": ["id", "title", "body"]}),
    );
    patch_as(
        &instance,
        &bob,
        &format!("/permissions/{viewer_read}"),
        json!({"fields": ["id", "name"]}),
    );
    instance.ok(dir, &["pull"]);
    let log = git(dir, &["log", "-1"]);
    println!("--- git log -1 of an attributed pull ---\n{log}");
    let message = last_message(dir);
    let ada_line = "update by Ada Lovelace <ada@example.com>";
    let bob_line = "update by Bob Marley <bob@example.com>";
    let editor_entries = entries_of(&message, "Editor articles.read");
    let viewer_entries = entries_of(&message, "Viewer authors.read");
    assert!(
        editor_entries.len() == 1 && editor_entries[0].ends_with(ada_line),
        "{message}"
    );
    assert!(
        viewer_entries.len() == 1 && viewer_entries[0].ends_with(bob_line),
        "{message}"
    );
    for trailer in [
        "Co-authored-by: Ada Lovelace <ada@example.com>",
        "Co-authored-by: Bob Marley <bob@example.com>",
    ] {
        assert!(message.lines().any(|line| line == trailer), "{message}");
    }

    // The tool pushes the previous commit back; the pull after it names no person.
    instance.ok(dir, &["push", "HEAD~1"]);
    instance.ok(dir, &["pull"]);
    let message = last_message(dir);
    println!(
        "--- git log -1 after the tool's own push ---\n{}",
        git(dir, &["log", "-1"])
    );
    let entries = entries_of(&message, "Editor articles.read");
    assert!(
        !entries.is_empty()
            && entries
                .iter()
                .all(|e| e.ends_with("by directus-sync (its own push)")),
        "{message}"
    );
    assert!(!message.contains("Co-authored-by"), "{message}");
    assert!(
        !message.contains("by Ada") && !message.contains("by Bob"),
        "{message}"
    );

    // `history` follows the permission through the three pulls.
    let history = instance.ok(dir, &["history", "permissions", "Editor articles.read"]);
    println!(
        "--- history permissions \"Editor articles.read\" ---\n{}",
        history.stdout
    );
    let versions: Vec<&str> = history
        .stdout
        .lines()
        .filter(|line| !line.starts_with(' '))
        .collect();
    assert_eq!(versions.len(), 3, "{}", history.stdout);
    assert!(
        versions[0].contains(" updated ") && versions[2].contains(" created "),
        "{}",
        history.stdout
    );
    assert!(
        history.stdout.contains(&format!("Z {ada_line}\n"))
            && history
                .stdout
                .contains("    fields: [\"*\"] → [\"id\",\"title\",\"body\"]\n"),
        "{}",
        history.stdout
    );
    let json = instance.ok(
        dir,
        &[
            "history",
            "permissions",
            "Editor articles.read",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let by = |version: &Value| -> Vec<String> {
        version["attributed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["by"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(by(&json[0]), vec!["directus-sync (its own push)"]);
    assert_eq!(by(&json[1]), vec!["Ada Lovelace <ada@example.com>"]);
    assert_eq!(
        json[1]["attributed"][0]["person"]["email"],
        "ada@example.com"
    );
    assert_eq!(
        json[1]["changes"],
        json!([{"field": "fields", "old": ["*"], "new": ["id", "title", "body"]}])
    );
    assert_eq!(
        json[0]["changes"],
        json!([{"field": "fields", "old": ["id", "title", "body"], "new": ["*"]}])
    );

    // `log` finds the attributed pull by its author, and only pulls that changed permissions.
    let by_ada = instance.ok(dir, &["log", "--author", "ada@", "--format", "json"]);
    let records: Vec<Value> = serde_json::from_str(&by_ada.stdout).unwrap();
    assert_eq!(records.len(), 1, "{}", by_ada.stdout);
    assert_eq!(
        records[0]["authors"],
        json!([
            "Ada Lovelace <ada@example.com>",
            "Bob Marley <bob@example.com>"
        ])
    );
    let permission_pulls = instance.ok(
        dir,
        &["log", "--collection", "permissions", "--format", "json"],
    );
    let records: Vec<Value> = serde_json::from_str(&permission_pulls.stdout).unwrap();
    assert_eq!(records.len(), 3, "{}", permission_pulls.stdout);
    assert!(records.iter().all(|r| r["kind"] == "pull"));

    // Schema items have a history too.
    instance.patch(
        "/fields/articles/title",
        &json!({"meta": {"note": "Shown in lists"}}),
    );
    instance.ok(dir, &["pull"]);
    let field = instance.ok(
        dir,
        &["history", "field", "articles.title", "--format", "json"],
    );
    let field: Value = serde_json::from_str(&field.stdout).unwrap();
    assert_eq!(field.as_array().unwrap().len(), 2, "{field}");
    // The seed made the field without meta: the admin app's edit creates it whole.
    assert_eq!(field[0]["changes"][0]["field"], "meta", "{field}");
    assert_eq!(field[0]["changes"][0]["old"], Value::Null, "{field}");
    assert_eq!(
        field[0]["changes"][0]["new"]["note"], "Shown in lists",
        "{field}"
    );
    assert_eq!(field[1]["change"], "created");
    std::fs::write(
        std::env::temp_dir().join("directus-sync-audit-example.txt"),
        format!("{log}\n{}", history.stdout),
    )
    .unwrap();
}

#[test]
fn no_attribution_keeps_people_out_of_the_commit() {
    let instance = DirectusInstance::start();
    all_collections(&instance);
    let role = config_editors(&instance);
    let ada = editor(&instance, &role, "Ada", "Lovelace", "ada@example.com");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    git(dir, &["init", "-q", "-b", "main"]);
    instance.ok(dir, &["pull"]);
    let editor_read = permission_id(&instance, "Editor", "articles", "read");
    patch_as(
        &instance,
        &ada,
        &format!("/permissions/{editor_read}"),
        json!({"fields": ["id"]}),
    );
    instance.ok(dir, &["pull", "--no-attribution"]);
    let message = last_message(dir);
    assert!(message.starts_with("pull "), "{message}");
    assert!(
        !message.contains("ada@example.com") && !message.contains("Co-authored-by"),
        "{message}"
    );
}

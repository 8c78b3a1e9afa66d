//! The text diff a reviewer reads, on plain data: groups, order, what creates show, old → new.

use super::Plan;
use super::tests::{dump, instance, live_role, plan, role, row};
use crate::snapshot::SchemaDiff;
use serde_json::{Value, json};

fn named_role(name: &str, sync_id: &str, admin: bool) -> Value {
    json!({"name": name, "description": "", "admin_access": admin, "app_access": true,
           "_syncId": sync_id})
}

#[test]
fn creates_are_grouped_sorted_by_name_and_show_what_they_do() {
    let instance = instance(vec![], vec![]);
    // SyncIds in another order than the names: the diff follows the names, counting numbers.
    let roles = vec![
        named_role("Role 105", "s-1", false),
        named_role("Role 144", "s-2", false),
        named_role("Role 170", "s-3", false),
        named_role("Role 165", "s-4", false),
        named_role("Role 2", "s-5", true),
    ];
    let filter =
        json!({"_and": [{"status": {"_eq": "draft"}}, {"user_created": {"_eq": "$CURRENT_USER"}}]});
    let dump = dump(vec![
        ("roles", roles),
        (
            "permissions",
            vec![
                json!({"role": "s-5", "collection": "articles", "action": "update",
                       "fields": ["title", "body"], "permissions": filter, "validation": null,
                       "presets": {"status": "draft"}, "_syncId": "p-1"}),
                json!({"role": null, "collection": "articles", "action": "read",
                       "fields": ["*"], "permissions": {}, "_syncId": "p-0"}),
            ],
        ),
        (
            "flows",
            vec![
                json!({"name": "Notify editors", "trigger": "event", "status": "active",
                       "operation": "o-check", "_syncId": "f-1"}),
            ],
        ),
        (
            "operations",
            vec![
                json!({"name": "Check status", "key": "check", "type": "condition",
                       "flow": "f-1", "resolve": "o-mail", "reject": "o-log", "_syncId": "o-check"}),
                json!({"name": "Send mail", "key": "mail", "type": "mail", "flow": "f-1",
                       "resolve": null, "reject": null, "_syncId": "o-mail"}),
                // No name to call it by: the links to it show its SyncId.
                json!({"name": null, "key": "log", "type": "log", "flow": "f-1",
                       "resolve": null, "reject": null, "_syncId": "o-log"}),
            ],
        ),
        (
            "presets",
            vec![
                json!({"role": "s-5", "collection": "articles", "layout": "tabular",
                       "bookmark": "Drafts", "_syncId": "b-1"}),
            ],
        ),
    ]);
    let plan = plan(
        &["roles", "flows", "operations", "permissions", "presets"],
        &dump,
        &instance,
    );
    insta::assert_snapshot!(plan.render_text(false), @r#"
    roles (5 to create)
      + "Role 2"
          admin_access: true
          app_access: true
      + "Role 105"
          admin_access: false
          app_access: true
      + "Role 144"
          admin_access: false
          app_access: true
      + "Role 165"
          admin_access: false
          app_access: true
      + "Role 170"
          admin_access: false
          app_access: true
    flows (1 to create)
      + "Notify editors"
          trigger: "event"
          status: "active"
    operations (3 to create)
      + ""
          type: "log"
      + "Check status"
          type: "condition"
          resolve: "Send mail"
          reject: o-log
      + "Send mail"
          type: "mail"
    permissions (2 to create)
      + public articles.read
          fields: ["*"]
          permissions: {}
      + Role 2 articles.update
          fields: ["title","body"]
          permissions: {"_and":[{"status":{"_eq":"draft"}},{"user_created":{"_eq":"…
          presets: {"status":"draft"}
    presets (1 to create)
      + Role 2 articles "Drafts"
          collection: "articles"
          layout: "tabular"
          bookmark: "Drafts"
    12 to create, 0 to update, 0 to delete
    "#);
}

#[test]
fn updates_show_old_and_new_values_and_deletes_their_names() {
    let instance = instance(
        vec![
            row("roles", "s-editor", "l-editor"),
            row("roles", "s-writer", "l-writer"),
            row("roles", "s-viewer", "l-viewer"),
        ],
        vec![(
            "roles",
            vec![
                live_role("l-editor", "Editor", "Writes"),
                json!({"id": "l-writer", "name": "Writer", "description": "Old", "icon": "edit"}),
                live_role("l-viewer", "Viewer", "Reads"),
            ],
        )],
    );
    let dump = dump(vec![(
        "roles",
        vec![
            json!({"name": "Writer", "description": "New", "icon": "draw", "app_access": true,
                   "_syncId": "s-writer"}),
            role("Editor", "Writes and edits", "s-editor"),
        ],
    )]);
    let plan = plan(&["roles"], &dump, &instance);
    insta::assert_snapshot!(plan.render_text(false), @r#"
    roles (2 to update, 1 to delete)
      ~ "Editor": description "Writes" → "Writes and edits"
      - "Viewer"
      ~ "Writer"
          description "Old" → "New"
          icon "edit" → "draw"
          app_access (unset) → true
    0 to create, 2 to update, 1 to delete
    "#);
}

#[test]
fn schema_changes_come_first_with_old_and_new_values() {
    let diff = json!({
        "collections": [
            {"collection": "articles", "diff": [{"kind": "N", "rhs": {"collection": "articles"}}]},
            {"collection": "old_news", "diff": [{"kind": "D", "lhs": {"collection": "old_news"}}]}
        ],
        "fields": [
            {"collection": "articles", "field": "title", "diff": [
                {"kind": "E", "path": ["meta", "note"], "lhs": "old", "rhs": "new"}]},
            {"collection": "articles", "field": "status", "diff": [
                {"kind": "A", "path": ["meta", "options", "choices"], "index": 2,
                 "item": {"kind": "N", "rhs": {"text": "Archived", "value": "archived"}}},
                {"kind": "E", "path": ["schema", "default_value"], "lhs": "draft", "rhs": "published"}]},
            {"collection": "articles", "field": "body", "diff": [{"kind": "N", "rhs": {"field": "body"}}]}
        ],
        "relations": [
            {"collection": "articles", "field": "author", "diff": [{"kind": "N", "rhs": {}}]}
        ]
    });
    let instance = instance(vec![], vec![]);
    let dump = dump(vec![("roles", vec![role("Editor", "", "s-editor")])]);
    let plan = Plan {
        schema: Some(SchemaDiff::new(Value::Null, diff)),
        ..plan(&["roles"], &dump, &instance)
    };
    insta::assert_snapshot!(plan.render_text(false), @r#"
    schema collections (1 to create, 1 to delete)
      + articles
      - old_news
    schema fields (1 to create, 2 to update)
      + articles.body
      ~ articles.status
          meta.options.choices[2] (unset) → {"text":"Archived","value":"archived"}
          schema.default_value "draft" → "published"
      ~ articles.title: meta.note "old" → "new"
    schema relations (1 to create)
      + articles.author
    roles (1 to create)
      + "Editor"
    6 schema changes; 1 to create, 0 to update, 0 to delete
    "#);
    // JSON counts the same things the same way.
    assert_eq!(
        plan.to_json()["summary"],
        json!({"schema": 6, "create": 1, "update": 0, "delete": 0})
    );
}

#[test]
fn the_plan_and_the_push_count_alike() {
    use super::{Applied, Counts, Totals};
    let totals = Totals {
        schema: 1,
        items: Counts {
            create: 2,
            update: 1,
            delete: 1,
        },
    };
    assert_eq!(
        totals.to_string(),
        "1 schema change; 2 to create, 1 to update, 1 to delete"
    );
    let applied = Applied {
        schema: 1,
        created: 2,
        updated: 1,
        deleted: 1,
    };
    assert_eq!(
        applied.to_string(),
        "1 schema change, 2 created, 1 updated, 1 deleted"
    );
    let none = Totals::default();
    assert_eq!(none.to_string(), "0 to create, 0 to update, 0 to delete");
}

#[test]
fn secrets_show_as_their_placeholders_and_the_instances_as_hidden() {
    use crate::values::{SecretRules, Variables};
    let instance = instance(
        vec![row("settings", "s-settings", "1")],
        vec![(
            "settings",
            vec![json!({"id": 1, "project_name": "P", "mapbox_key": "pk.prod-old-key"})],
        )],
    );
    let dump = dump(vec![(
        "settings",
        vec![json!({"project_name": "P", "mapbox_key": "pk.new-secret", "_syncId": "s-settings"})],
    )]);
    let variables = Variables::new(
        [(
            "DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY".to_string(),
            "pk.new-secret".to_string(),
        )],
        Default::default(),
    );
    let plan = Plan {
        masks: variables.masks(&SecretRules::default().effective()),
        ..plan(&["settings"], &dump, &instance)
    };
    insta::assert_snapshot!(plan.render_text(false), @r#"
    settings (1 to update)
      ~ settings: mapbox_key "***" → "${DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY}"
    0 to create, 1 to update, 0 to delete
    "#);
    let json = plan.to_json().to_string();
    assert!(!json.contains("pk."), "{json}");
    assert!(
        json.contains("${DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY}"),
        "{json}"
    );
    // What is applied keeps the value.
    let crate::plan::Action::Update { changes, .. } = &plan.collections[0].items[0].action else {
        panic!("an update")
    };
    assert_eq!(changes[0].new, json!("pk.new-secret"));
}

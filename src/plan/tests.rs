//! The plan engine on plain data: an instance and a dump as JSON values, no Directus.

use super::build::{DumpItems, build_collections};
use super::links::{Wave, link_input, schedule};
use super::{Action, CollectionChanges, FieldChange, Plan};
use crate::collections::{CollectionSpec, spec};
use crate::idmap::{IdMap, IdMapRow};
use crate::instance::Instance;
use serde_json::{Value, json};
use std::collections::HashMap;

fn row(table: &str, sync_id: &str, local_id: &str) -> IdMapRow {
    IdMapRow {
        table: table.into(),
        sync_id: sync_id.into(),
        local_id: local_id.into(),
    }
}

/// An instance whose admin role is `admin-role`, with these id-map rows and live items.
fn instance(rows: Vec<IdMapRow>, items: Vec<(&'static str, Vec<Value>)>) -> Instance {
    Instance {
        id_map: IdMap::new(
            crate::collections::runner_placeholder(Some("admin-role")),
            rows,
        ),
        items: items.into_iter().collect(),
        hidden: HashMap::new(),
    }
}

fn dump(items: Vec<(&'static str, Vec<Value>)>) -> DumpItems {
    items.into_iter().collect()
}

fn specs(names: &[&str]) -> Vec<&'static CollectionSpec> {
    names.iter().map(|name| spec(name).unwrap()).collect()
}

fn plan(names: &[&str], dump: &DumpItems, instance: &Instance) -> Plan {
    let (collections, unresolved) = build_collections(&specs(names), dump, instance);
    Plan {
        collections,
        unresolved,
        ..Plan::default()
    }
}

/// `(sync id, action, local id)` of each change, for compact assertions.
fn actions(changes: &CollectionChanges) -> Vec<(String, &'static str, Option<String>)> {
    changes
        .items
        .iter()
        .map(|c| {
            let (action, local) = match &c.action {
                Action::Create => ("create", None),
                Action::Update {
                    local_id, adopt, ..
                } => (
                    if *adopt { "adopt" } else { "update" },
                    Some(local_id.clone()),
                ),
                Action::Delete { local_id } => ("delete", Some(local_id.clone())),
            };
            (c.sync_id.clone(), action, local)
        })
        .collect()
}

fn change<'a>(changes: &'a CollectionChanges, sync_id: &str) -> &'a Action {
    &changes
        .items
        .iter()
        .find(|c| c.sync_id == sync_id)
        .unwrap_or_else(|| panic!("no change for {sync_id}"))
        .action
}

fn field_changes(action: &Action) -> &[FieldChange] {
    match action {
        Action::Update { changes, .. } => changes,
        other => panic!("not an update: {other:?}"),
    }
}

fn role(name: &str, description: &str, sync_id: &str) -> Value {
    json!({"name": name, "description": description, "_syncId": sync_id})
}

fn live_role(id: &str, name: &str, description: &str) -> Value {
    json!({"id": id, "name": name, "description": description})
}

#[test]
fn creates_updates_and_deletes_are_told_apart() {
    let instance = instance(
        vec![
            row("roles", "s-editor", "l-editor"),
            row("roles", "s-viewer", "l-viewer"),
            row("roles", "s-same", "l-same"),
        ],
        vec![(
            "roles",
            vec![
                live_role("l-editor", "Editor", "Writes"),
                live_role("l-viewer", "Viewer", "Reads"),
                live_role("l-same", "Same", "Stays"),
            ],
        )],
    );
    let dump = dump(vec![(
        "roles",
        vec![
            role("Reviewer", "Reviews", "s-new"),
            role("Editor", "Writes and edits", "s-editor"),
            role("Same", "Stays", "s-same"),
        ],
    )]);
    let plan = plan(&["roles"], &dump, &instance);
    let roles = &plan.collections[0];
    assert_eq!(
        actions(roles),
        [
            ("s-new".into(), "create", None),
            ("s-editor".into(), "update", Some("l-editor".into())),
            ("s-viewer".into(), "delete", Some("l-viewer".into())),
        ]
    );
    assert_eq!(
        field_changes(change(roles, "s-editor")),
        [FieldChange {
            field: "description".into(),
            old: Some(json!("Writes")),
            new: json!("Writes and edits"),
        }]
    );
    // A delete carries the live item in dump form, for its label and the JSON plan.
    let viewer = roles
        .items
        .iter()
        .find(|c| c.sync_id == "s-viewer")
        .unwrap();
    assert_eq!(viewer.label, "\"Viewer\"");
    assert_eq!(
        viewer.item,
        json!({"name": "Viewer", "description": "Reads", "_syncId": "s-viewer"})
    );
    assert_eq!(plan.counts().total(), 3);
    assert!(plan.unresolved.is_empty());
    assert!(roles.dangling.is_empty());
}

#[test]
fn collections_come_in_the_order_of_the_specs() {
    let instance = instance(
        vec![
            row("settings", "s-settings", "1"),
            row("roles", "s-old", "l-old"),
        ],
        vec![
            ("roles", vec![live_role("l-old", "Old", "")]),
            ("settings", vec![json!({"id": 1, "project_name": "P"})]),
            ("translations", vec![]),
        ],
    );
    // Settings are never deleted; roles missing from the dump are all deleted.
    let dump = dump(vec![(
        "translations",
        vec![json!({"language": "fr-FR", "key": "hi", "value": "Salut", "_syncId": "t1"})],
    )]);
    let plan = plan(&["settings", "roles", "translations"], &dump, &instance);
    let names: Vec<&str> = plan.collections.iter().map(|c| c.spec.name).collect();
    assert_eq!(names, ["settings", "roles", "translations"]);
    assert!(plan.collections[0].items.is_empty(), "settings stay");
    assert_eq!(
        actions(&plan.collections[1]),
        [("s-old".into(), "delete", Some("l-old".into()))]
    );
    assert_eq!(plan.collections[2].items[0].label, "fr-FR \"hi\"");
}

#[test]
fn an_untracked_item_with_the_same_id_is_adopted() {
    let instance = instance(
        vec![],
        vec![(
            "roles",
            vec![
                live_role("same-id", "Editor", "Writes"),
                live_role("other-id", "Editor", "Writes"),
            ],
        )],
    );
    let dump = dump(vec![(
        "roles",
        vec![
            role("Editor", "Writes", "same-id"),
            role("Editor", "Writes", "fresh"),
        ],
    )]);
    let plan = plan(&["roles"], &dump, &instance);
    let roles = &plan.collections[0];
    // The untracked twin with another id is neither adopted nor deleted.
    assert_eq!(
        actions(roles),
        [
            ("same-id".into(), "adopt", Some("same-id".into())),
            ("fresh".into(), "create", None),
        ]
    );
    assert!(field_changes(change(roles, "same-id")).is_empty());
    // Taking over without a change is bookkeeping: nothing to show, something to write.
    assert_eq!(roles.counts().update, 0);
    assert!(plan.has_writes());
}

#[test]
fn the_settings_singleton_is_adopted() {
    let instance = instance(
        vec![],
        vec![("settings", vec![json!({"id": 1, "project_name": "Old"})])],
    );
    let dump = dump(vec![(
        "settings",
        vec![json!({"project_name": "New", "_syncId": "s-settings"})],
    )]);
    let plan = plan(&["settings"], &dump, &instance);
    let settings = &plan.collections[0];
    assert_eq!(
        actions(settings),
        [("s-settings".into(), "adopt", Some("1".into()))]
    );
    assert_eq!(
        field_changes(change(settings, "s-settings"))[0].field,
        "project_name"
    );
    assert_eq!(settings.items[0].label, "settings");
}

#[test]
fn a_permission_with_the_same_role_collection_and_action_is_adopted() {
    let instance = instance(
        vec![row("roles", "s-editor", "l-editor")],
        vec![
            ("roles", vec![live_role("l-editor", "Editor", "")]),
            (
                "permissions",
                vec![
                    json!({"id": 7, "role": "l-editor", "collection": "articles", "action": "read", "fields": ["*"]}),
                    json!({"id": 8, "role": "l-editor", "collection": "articles", "action": "update", "fields": ["*"]}),
                ],
            ),
        ],
    );
    let dump = dump(vec![
        ("roles", vec![role("Editor", "", "s-editor")]),
        (
            "permissions",
            vec![
                json!({"role": "s-editor", "collection": "articles", "action": "read", "fields": ["id"], "_syncId": "p-read"}),
                json!({"role": "s-editor", "collection": "articles", "action": "delete", "fields": ["*"], "_syncId": "p-delete"}),
            ],
        ),
    ]);
    let plan = plan(&["roles", "permissions"], &dump, &instance);
    let permissions = &plan.collections[1];
    assert_eq!(
        actions(permissions),
        [
            ("p-read".into(), "adopt", Some("7".into())),
            ("p-delete".into(), "create", None),
        ]
    );
    assert_eq!(
        field_changes(change(permissions, "p-read")),
        [FieldChange {
            field: "fields".into(),
            old: Some(json!(["*"])),
            new: json!(["id"]),
        }]
    );
    assert_eq!(permissions.items[0].label, "Editor articles.read");
}

#[test]
fn id_map_rows_without_a_live_item_are_dangling() {
    let instance = instance(
        vec![
            row("roles", "s-gone", "l-gone"),
            row("roles", "s-here", "l-here"),
        ],
        vec![("roles", vec![live_role("l-here", "Here", "")])],
    );
    let dump = dump(vec![(
        "roles",
        vec![role("Gone", "", "s-gone"), role("Here", "", "s-here")],
    )]);
    let plan = plan(&["roles"], &dump, &instance);
    let roles = &plan.collections[0];
    assert_eq!(roles.dangling, [row("roles", "s-gone", "l-gone")]);
    // The item the row pointed at is gone: it is created again.
    assert_eq!(actions(roles), [("s-gone".into(), "create", None)]);
    assert!(plan.has_writes());
}

#[test]
fn references_nothing_satisfies_are_unresolved() {
    let instance = instance(
        vec![
            row("roles", "s-live", "l-live"),
            row("roles", "s-dangling", "l-dangling"),
            row("permissions", "p-old", "3"),
        ],
        vec![
            ("roles", vec![live_role("l-live", "Live", "")]),
            (
                "permissions",
                vec![
                    json!({"id": 3, "role": "l-dangling", "collection": "c", "action": "read", "fields": []}),
                ],
            ),
        ],
    );
    let permission = |role: &str, action: &str, sync_id: &str, fields: Value| json!({"role": role, "collection": "c", "action": action, "fields": fields, "_syncId": sync_id});
    let dump = dump(vec![
        (
            "roles",
            vec![role("Live", "", "s-live"), role("Dumped", "", "s-dumped")],
        ),
        (
            "permissions",
            vec![
                permission("s-live", "create", "p1", json!([])),
                permission("s-dumped", "update", "p2", json!([])),
                permission("__admin__", "delete", "p3", json!([])),
                permission("s-missing", "share", "p4", json!([])),
                // An update that leaves its broken reference alone is not a new problem.
                permission("s-dangling", "read", "p-old", json!(["id"])),
            ],
        ),
    ]);
    let plan = plan(&["roles", "permissions"], &dump, &instance);
    assert_eq!(
        plan.unresolved,
        [
            "permissions s-missing c.share refers in role to roles \"s-missing\", which is neither in the dump nor on the instance"
        ]
    );
    assert!(
        plan.render_text(false)
            .contains("! permissions s-missing c.share refers")
    );
}

#[test]
fn the_admin_role_is_the_placeholder_everywhere() {
    let instance = instance(
        vec![row("permissions", "p-admin", "4")],
        vec![
            // The instance reader drops the admin role from the roles it lists.
            ("roles", vec![]),
            (
                "permissions",
                vec![json!({"id": 4, "role": "admin-role", "collection": "c", "action": "read"})],
            ),
        ],
    );
    let dump = dump(vec![
        ("roles", vec![]),
        (
            "permissions",
            vec![
                json!({"role": "__admin__", "collection": "c", "action": "read", "_syncId": "p-admin"}),
                json!({"role": "__admin__", "collection": "c", "action": "create", "_syncId": "p-new"}),
            ],
        ),
    ]);
    let plan = plan(&["roles", "permissions"], &dump, &instance);
    assert!(plan.unresolved.is_empty(), "{:?}", plan.unresolved);
    let permissions = &plan.collections[1];
    assert_eq!(actions(permissions), [("p-new".into(), "create", None)]);
    assert_eq!(permissions.items[0].label, "admin c.create");
}

#[test]
fn fields_only_the_instance_has_are_not_changes() {
    let instance = instance(
        vec![row("roles", "s", "l")],
        vec![(
            "roles",
            vec![
                json!({"id": "l", "name": "R", "icon": "star", "users": ["u1"], "app_access": true}),
            ],
        )],
    );
    let dump = dump(vec![("roles", vec![json!({"name": "R", "_syncId": "s"})])]);
    let plan = plan(&["roles"], &dump, &instance);
    assert!(plan.collections[0].items.is_empty());
    assert!(plan.is_empty() && !plan.has_writes());

    // A field the dump has and the instance lacks is a change (old: unset).
    let dump = dump_with_field();
    let plan = self::plan(&["roles"], &dump, &instance);
    assert_eq!(
        field_changes(change(&plan.collections[0], "s")),
        [FieldChange {
            field: "description".into(),
            old: None,
            new: Value::Null,
        }]
    );
}

fn dump_with_field() -> DumpItems {
    dump(vec![(
        "roles",
        vec![json!({"name": "R", "description": null, "_syncId": "s"})],
    )])
}

#[test]
fn numbers_compare_by_value() {
    let instance = instance(
        vec![row("flows", "f", "f"), row("operations", "o", "o")],
        vec![
            (
                "flows",
                vec![json!({"id": "f", "name": "F", "operation": "o"})],
            ),
            (
                "operations",
                vec![
                    json!({"id": "o", "name": "O", "key": "k", "flow": "f", "position_x": 5, "position_y": 1.0, "options": {"n": 2}, "resolve": null}),
                ],
            ),
        ],
    );
    let dump = dump(vec![
        (
            "flows",
            vec![json!({"name": "F", "operation": "o", "_syncId": "f"})],
        ),
        (
            "operations",
            vec![
                json!({"name": "O", "key": "k", "flow": "f", "position_x": 5.0, "position_y": 1, "options": {"n": 2.0}, "resolve": null, "_syncId": "o"}),
            ],
        ),
    ]);
    let plan = plan(&["flows", "operations"], &dump, &instance);
    assert!(plan.is_empty(), "{}", plan.render_text(false));
    assert!(!plan.has_writes());
}

/// Operations `o1 → o2 → o3` (by `resolve`), live and in the dump, with the dump's links.
fn chain(dump_links: [Option<&str>; 3]) -> (Instance, DumpItems) {
    let ops = ["o1", "o2", "o3"];
    let live_links = [Some("l-o2"), Some("l-o3"), None];
    let instance = instance(
        ops.iter()
            .map(|o| row("operations", o, &format!("l-{o}")))
            .chain([row("flows", "f", "f")])
            .collect(),
        vec![
            ("flows", vec![json!({"id": "f", "name": "F", "operation": "l-o1"})]),
            (
                "operations",
                ops.iter()
                    .zip(live_links)
                    .map(|(o, link)| json!({"id": format!("l-{o}"), "key": o, "flow": "f", "resolve": link}))
                    .collect(),
            ),
        ],
    );
    let dump = dump(vec![
        (
            "flows",
            vec![json!({"name": "F", "operation": "o1", "_syncId": "f"})],
        ),
        (
            "operations",
            ops.iter()
                .zip(dump_links)
                .map(|(o, link)| json!({"key": o, "flow": "f", "resolve": link, "_syncId": o}))
                .collect(),
        ),
    ]);
    (instance, dump)
}

#[test]
fn unique_links_compare_as_sync_ids() {
    let (instance, dump) = chain([Some("o3"), None, Some("o2")]);
    let plan = plan(&["flows", "operations"], &dump, &instance);
    let operations = &plan.collections[1];
    assert_eq!(
        field_changes(change(operations, "o1")),
        [FieldChange {
            field: "resolve".into(),
            old: Some(json!("o2")),
            new: json!("o3"),
        }]
    );
    assert_eq!(plan.counts().update, 3);
}

#[test]
fn the_reversed_chain_becomes_three_waves_of_one_update() {
    // o1 → o2 → o3 becomes o1 → o3 → o2: o2 lets go of o3, o1 takes it, o3 takes o2.
    let (instance, dump) = chain([Some("o3"), None, Some("o2")]);
    let plan = plan(&["flows", "operations"], &dump, &instance);
    let operations = &plan.collections[1];
    let input = link_input(operations.spec, operations, &instance);
    assert_eq!(input.fields.len(), 2, "resolve and reject");
    assert_eq!(
        input.fields[0].live,
        [
            ("l-o1".into(), "l-o2".into()),
            ("l-o2".into(), "l-o3".into())
        ]
    );
    let links = schedule(&input);
    let wave = |item: &str| Wave {
        updates: vec![item.into()],
        ..Wave::default()
    };
    assert_eq!(links.waves, [wave("l-o2"), wave("l-o1"), wave("l-o3")]);
    assert_eq!(links.clears(), 0);
    assert!(links.defer.is_empty() && links.delete_first.is_empty());
}

#[test]
fn link_input_maps_new_targets_and_creates() {
    // o3 is deleted; a new o4 takes o3's place after o2, and o1 links to the new o4.
    let (instance, mut dump) = chain([Some("o4"), Some("o4b"), None]);
    let operations = dump.get_mut("operations").unwrap();
    operations.retain(|o| o["_syncId"] != "o3");
    operations.push(json!({"key": "o4", "flow": "f", "resolve": "o2", "_syncId": "o4"}));
    operations.push(json!({"key": "o4b", "flow": "f", "resolve": null, "_syncId": "o4b"}));
    let plan = plan(&["flows", "operations"], &dump, &instance);
    let operations = &plan.collections[1];
    let input = link_input(operations.spec, operations, &instance);
    let resolve = &input.fields[0];
    // Targets that do not exist yet are `None`: the update lets go now, links later.
    assert_eq!(
        resolve.updates,
        [("l-o1".into(), None), ("l-o2".into(), None)]
    );
    assert_eq!(resolve.creates, [(0, "l-o2".into())]);
    assert_eq!(input.deletes, ["l-o3"]);
    let links = schedule(&input);
    // The new o4 takes o2, which o1 holds until its wave: o4 is linked after the waves.
    assert_eq!(links.defer, [(0, "resolve".to_string())]);
    assert_eq!(
        links.waves,
        [Wave {
            updates: vec!["l-o1".into(), "l-o2".into()],
            ..Wave::default()
        }]
    );
}

/// A plan with one change of each kind, for the renderers.
fn small_plan() -> Plan {
    let instance = instance(
        vec![
            row("roles", "s-editor", "l-editor"),
            row("roles", "s-viewer", "l-viewer"),
            row("roles", "s-gone", "l-gone"),
        ],
        vec![
            (
                "roles",
                vec![
                    live_role("l-editor", "Editor", "Writes"),
                    live_role("l-viewer", "Viewer", "Reads"),
                    live_role("untracked", "Admin2", ""),
                ],
            ),
            ("settings", vec![json!({"id": 1, "project_name": "P"})]),
        ],
    );
    let dump = dump(vec![
        (
            "roles",
            vec![
                role("Editor", &"long ".repeat(20), "s-editor"),
                role("Reviewer", "Reviews", "s-reviewer"),
                role("Admin2", "", "untracked"),
            ],
        ),
        (
            "settings",
            vec![json!({"project_name": "P", "_syncId": "s-settings"})],
        ),
        (
            "permissions",
            vec![json!({"role": "s-nowhere", "collection": "c", "action": "read", "_syncId": "p"})],
        ),
    ]);
    plan(&["roles", "permissions", "settings"], &dump, &instance)
}

#[test]
fn text_output() {
    insta::assert_snapshot!(small_plan().render_text(false), @r#"
    ~ roles "Editor": description "Writes" → "long long long long long long long long long long long long…
    + roles "Reviewer"
    = roles "Admin2": already there, will be tracked
    - roles "Viewer"
      roles: 1 id-map rows point at deleted items (removed on push)
    + permissions s-nowhere c.read
    = settings settings: already there, will be tracked
    ! permissions s-nowhere c.read refers in role to roles "s-nowhere", which is neither in the dump nor on the instance
    2 to create, 1 to update, 1 to delete
    "#);
}

#[test]
fn text_output_in_color() {
    let text = small_plan().render_text(true);
    assert!(text.starts_with("\x1b[33m~ roles \"Editor\""), "{text:?}");
    assert!(text.contains("\x1b[32m+ roles \"Reviewer\"\x1b[0m\n"));
    assert!(text.contains("\x1b[31m- roles \"Viewer\"\x1b[0m\n"));
    assert!(text.contains("\x1b[2m  roles: 1 id-map rows"));
    assert!(text.ends_with("\n2 to create, 1 to update, 1 to delete\n"));
}

#[test]
fn json_output() {
    let json = serde_json::to_string_pretty(&small_plan().to_json()).unwrap();
    insta::assert_snapshot!(json, @r#"
    {
      "schema": null,
      "collections": [
        {
          "collection": "roles",
          "changes": [
            {
              "syncId": "s-editor",
              "label": "\"Editor\"",
              "action": "update",
              "localId": "l-editor",
              "changes": [
                {
                  "field": "description",
                  "old": "Writes",
                  "new": "long long long long long long long long long long long long long long long long long long long long "
                }
              ]
            },
            {
              "syncId": "s-reviewer",
              "label": "\"Reviewer\"",
              "action": "create"
            },
            {
              "syncId": "untracked",
              "label": "\"Admin2\"",
              "action": "update",
              "localId": "untracked",
              "changes": [],
              "adopt": true
            },
            {
              "syncId": "s-viewer",
              "label": "\"Viewer\"",
              "action": "delete",
              "localId": "l-viewer"
            }
          ],
          "dangling": [
            {
              "table": "roles",
              "sync_id": "s-gone",
              "local_id": "l-gone"
            }
          ],
          "summary": {
            "create": 1,
            "update": 1,
            "delete": 1
          }
        },
        {
          "collection": "permissions",
          "changes": [
            {
              "syncId": "p",
              "label": "s-nowhere c.read",
              "action": "create"
            }
          ],
          "dangling": [],
          "summary": {
            "create": 1,
            "update": 0,
            "delete": 0
          }
        },
        {
          "collection": "settings",
          "changes": [
            {
              "syncId": "s-settings",
              "label": "settings",
              "action": "update",
              "localId": "1",
              "changes": [],
              "adopt": true
            }
          ],
          "dangling": [],
          "summary": {
            "create": 0,
            "update": 0,
            "delete": 0
          }
        }
      ],
      "unresolved": [
        "permissions s-nowhere c.read refers in role to roles \"s-nowhere\", which is neither in the dump nor on the instance"
      ],
      "dataLoss": [],
      "summary": {
        "create": 2,
        "update": 1,
        "delete": 1
      }
    }
    "#);
}

#[test]
fn a_link_to_an_adopted_item_waits_for_its_holder() {
    // `twin` is untracked with the id of a dump item: taken over, it is a target already,
    // held by `a` until `a` lets go.
    let instance = instance(
        vec![row("operations", "a", "l-a"), row("operations", "b", "l-b")],
        vec![(
            "operations",
            vec![
                json!({"id": "twin", "key": "twin", "resolve": null}),
                json!({"id": "l-a", "key": "a", "resolve": "twin"}),
                json!({"id": "l-b", "key": "b", "resolve": null}),
            ],
        )],
    );
    let dump = dump(vec![(
        "operations",
        vec![
            json!({"key": "twin", "resolve": null, "_syncId": "twin"}),
            json!({"key": "a", "resolve": null, "_syncId": "a"}),
            json!({"key": "b", "resolve": "twin", "_syncId": "b"}),
        ],
    )]);
    let plan = plan(&["operations"], &dump, &instance);
    let operations = &plan.collections[0];
    assert_eq!(
        actions(operations),
        [
            ("twin".into(), "adopt", Some("twin".into())),
            ("a".into(), "update", Some("l-a".into())),
            ("b".into(), "update", Some("l-b".into())),
        ]
    );
    let links = schedule(&link_input(operations.spec, operations, &instance));
    let wave = |item: &str| Wave {
        updates: vec![item.into()],
        ..Wave::default()
    };
    assert_eq!(links.waves, [wave("l-a"), wave("l-b")]);
}

//! The plan engine on plain data: an instance and a dump as JSON values, no Directus.

use super::build::build_collections;
use super::links::{Wave, link_input, schedule};
use super::{Action, CollectionChanges, FieldChange, Plan};
use crate::collections::{CollectionSpec, spec};
use crate::dump::Dump;
use crate::idmap::{IdMap, IdMapRow};
use crate::instance::Instance;
use crate::json::Compact;
use crate::values::Owned;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub(super) fn row(table: &str, sync_id: &str, local_id: &str) -> IdMapRow {
    IdMapRow {
        table: table.into(),
        sync_id: sync_id.into(),
        local_id: local_id.into(),
    }
}

/// An instance whose admin role is `admin-role`, with these id-map rows and live items.
pub(super) fn instance(rows: Vec<IdMapRow>, items: Vec<(&'static str, Vec<Value>)>) -> Instance {
    Instance::new(
        IdMap::new(
            crate::collections::runner_placeholder(Some("admin-role")),
            rows,
        ),
        items.into_iter().collect(),
        HashMap::new(),
    )
}

pub(super) fn dump(items: Vec<(&'static str, Vec<Value>)>) -> Dump {
    Dump {
        collections: items
            .into_iter()
            .map(|(name, items)| (spec(name).unwrap(), Compact::all(items)))
            .collect(),
        ..Dump::default()
    }
}

/// Edits the items of one collection of a test dump.
fn edit_items(dump: &mut Dump, name: &str, edit: impl FnOnce(&mut Vec<Value>)) {
    let (_, items) = dump
        .collections
        .iter_mut()
        .find(|(spec, _)| spec.name == name)
        .unwrap();
    let mut values = Compact::values(items);
    edit(&mut values);
    *items = Compact::all(values);
}

fn specs(names: &[&str]) -> Vec<&'static CollectionSpec> {
    names.iter().map(|name| spec(name).unwrap()).collect()
}

pub(super) fn plan(names: &[&str], dump: &Dump, instance: &Instance) -> Plan {
    let (collections, unresolved) =
        build_collections(&specs(names), dump, instance, &Owned::default());
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
                    local_id,
                    adopt,
                    moved_from,
                    ..
                } => (
                    match (adopt, moved_from) {
                        (true, _) => "adopt",
                        (false, Some(_)) => "move",
                        (false, None) => "update",
                    },
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

pub(super) fn role(name: &str, description: &str, sync_id: &str) -> Value {
    json!({"name": name, "description": description, "_syncId": sync_id})
}

pub(super) fn live_role(id: &str, name: &str, description: &str) -> Value {
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
        [FieldChange::new(
            "description",
            Some(json!("Writes")),
            json!("Writes and edits")
        )]
    );
    // A delete carries the live item in dump form, for its label and the JSON plan.
    let viewer = roles
        .items
        .iter()
        .find(|c| c.sync_id == "s-viewer")
        .unwrap();
    assert_eq!(viewer.label.to_string(), "\"Viewer\"");
    assert_eq!(viewer.label.as_str(), "Viewer");
    assert_eq!(
        viewer.item.value(),
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
    assert_eq!(
        plan.collections[2].items[0].label.to_string(),
        "fr-FR \"hi\""
    );
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
fn the_settings_singleton_tracked_under_another_sync_id_moves_to_the_dumps() {
    // Two instances pulled on their own gave their settings row SyncIds of their own.
    let instance = instance(
        vec![row("settings", "s-theirs", "1")],
        vec![("settings", vec![json!({"id": 1, "project_name": "Old"})])],
    );
    let dump = dump(vec![(
        "settings",
        vec![json!({"project_name": "New", "_syncId": "s-ours"})],
    )]);
    let plan = plan(&["settings"], &dump, &instance);
    let change = &plan.collections[0].items[0];
    assert_eq!(change.sync_id, "s-ours");
    match &change.action {
        Action::Update {
            local_id,
            moved_from,
            changes,
            ..
        } => {
            assert_eq!(local_id, "1");
            assert_eq!(moved_from.as_deref(), Some("s-theirs"));
            assert_eq!(changes.len(), 1);
        }
        other => panic!("expected the row to move, got {other:?}"),
    }
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
    assert_eq!(settings.items[0].label.as_str(), "settings");
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
        [FieldChange::new(
            "fields",
            Some(json!(["*"])),
            json!(["id"])
        )]
    );
    assert_eq!(permissions.items[0].label.as_str(), "Editor articles.read");
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
    assert_eq!(permissions.items[0].label.as_str(), "admin c.create");
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
        [FieldChange::new("description", None, Value::Null)]
    );
}

fn dump_with_field() -> Dump {
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

/// Operations `o1 → o2 → o3` (by `resolve`; named Check, Send mail, Log), live and in the
/// dump, with the dump's links.
fn chain(dump_links: [Option<&str>; 3]) -> (Instance, Dump) {
    let ops = [("o1", "Check"), ("o2", "Send mail"), ("o3", "Log")];
    let live_links = [Some("l-o2"), Some("l-o3"), None];
    let instance = instance(
        ops.iter()
            .map(|(o, _)| row("operations", o, &format!("l-{o}")))
            .chain([row("flows", "f", "f")])
            .collect(),
        vec![
            ("flows", vec![json!({"id": "f", "name": "F", "operation": "l-o1"})]),
            (
                "operations",
                ops.iter()
                    .zip(live_links)
                    .map(|((o, name), link)| {
                        json!({"id": format!("l-{o}"), "key": o, "name": name, "flow": "f", "resolve": link})
                    })
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
                .map(|((o, name), link)| {
                    json!({"key": o, "name": name, "flow": "f", "resolve": link, "_syncId": o})
                })
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
            targets: [Some("Send mail".into()), Some("Log".into())],
            ..FieldChange::new("resolve", Some(json!("o2")), json!("o3"))
        }]
    );
    assert_eq!(plan.counts().update, 3);
}

#[test]
fn a_changed_link_is_shown_by_the_names_of_its_targets() {
    let (instance, dump) = chain([Some("o3"), None, None]);
    let plan = plan(&["flows", "operations"], &dump, &instance);
    let [change] = field_changes(change(&plan.collections[1], "o1")) else {
        panic!("one change of o1 expected");
    };
    assert_eq!(
        change.targets,
        [Some("Send mail".into()), Some("Log".into())]
    );
    let text = plan.render_text(false);
    assert!(
        text.contains(r#""Check": resolve "Send mail" → "Log""#),
        "{text}"
    );
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
    edit_items(&mut dump, "operations", |operations| {
        operations.retain(|o| o["_syncId"] != "o3");
        operations.push(json!({"key": "o4", "flow": "f", "resolve": "o2", "_syncId": "o4"}));
        operations.push(json!({"key": "o4b", "flow": "f", "resolve": null, "_syncId": "o4b"}));
    });
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
    roles (1 to create, 1 to update, 1 to delete, 1 to track)
      = "Admin2": already there, will be tracked
      ~ "Editor": description "Writes" → "long long long long long long long long long long long long…
      + "Reviewer"
      - "Viewer"
      1 id-map row points at deleted item (removed on push)
    permissions (1 to create)
      + s-nowhere c.read
    settings (1 to track)
      = settings: already there, will be tracked
    ! permissions s-nowhere c.read refers in role to roles "s-nowhere", which is neither in the dump nor on the instance
    2 to create, 1 to update, 1 to delete
    "#);
}

#[test]
fn text_output_in_color() {
    let text = small_plan().render_text(true);
    assert!(
        text.starts_with(
            "\x1b[1mroles (1 to create, 1 to update, 1 to delete, 1 to track)\x1b[0m\n"
        ),
        "{text:?}"
    );
    assert!(text.contains("\x1b[33m  ~ \"Editor\""), "{text:?}");
    assert!(text.contains("\x1b[32m  + \"Reviewer\"\x1b[0m\n"));
    assert!(text.contains("\x1b[31m  - \"Viewer\"\x1b[0m\n"));
    assert!(text.contains("\x1b[2m  = \"Admin2\""));
    assert!(text.contains("\x1b[2m  1 id-map row points"));
    assert!(
        text.contains("\n! permissions s-nowhere"),
        "problems stand as they are"
    );
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
              "label": "Editor",
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
              "label": "Reviewer",
              "action": "create"
            },
            {
              "syncId": "untracked",
              "label": "Admin2",
              "action": "update",
              "localId": "untracked",
              "changes": [],
              "adopt": true
            },
            {
              "syncId": "s-viewer",
              "label": "Viewer",
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
      "invalid": [],
      "dataLoss": [],
      "leftOut": [],
      "summary": {
        "schema": 0,
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

fn moved_from(action: &Action) -> Option<&str> {
    match action {
        Action::Update { moved_from, .. } => moved_from.as_deref(),
        other => panic!("not an update: {other:?}"),
    }
}

/// A role `Editor` tracked as `s-old`, with a permission and the settings pointing at it.
fn editor_instance() -> Instance {
    instance(
        vec![
            row("roles", "s-old", "l-editor"),
            row("permissions", "p1", "7"),
            row("settings", "s-settings", "1"),
        ],
        vec![
            ("roles", vec![live_role("l-editor", "Editor", "Writes")]),
            (
                "permissions",
                vec![
                    json!({"id": 7, "role": "l-editor", "collection": "articles", "action": "read", "fields": ["*"]}),
                ],
            ),
            (
                "settings",
                vec![json!({"id": 1, "project_name": "P", "public_registration_role": "l-editor"})],
            ),
        ],
    )
}

/// The dump of [`editor_instance`] with the role under `role_sync_id`.
fn editor_dump(role_sync_id: &str, description: &str) -> Dump {
    dump(vec![
        ("roles", vec![role("Editor", description, role_sync_id)]),
        (
            "permissions",
            vec![
                json!({"role": role_sync_id, "collection": "articles", "action": "read", "fields": ["*"], "_syncId": "p1"}),
            ],
        ),
        (
            "settings",
            vec![
                json!({"project_name": "P", "public_registration_role": role_sync_id, "_syncId": "s-settings"}),
            ],
        ),
    ])
}

#[test]
fn a_role_whose_sync_id_changed_is_updated_in_place() {
    let instance = editor_instance();
    let dump = editor_dump("s-new", "Writes more");
    let plan = plan(&["roles", "permissions", "settings"], &dump, &instance);
    let roles = &plan.collections[0];
    // Never deleted and created again: Directus would suspend the role's users.
    assert_eq!(
        actions(roles),
        [("s-new".into(), "move", Some("l-editor".into()))]
    );
    assert_eq!(moved_from(change(roles, "s-new")), Some("s-old"));
    assert_eq!(
        field_changes(change(roles, "s-new")),
        [FieldChange::new(
            "description",
            Some(json!("Writes")),
            json!("Writes more")
        )]
    );
    // The items pointing at the role compare with the id map after the move: the new SyncId
    // is what the dump says, so nothing else changes.
    assert!(plan.collections[1].items.is_empty(), "permissions");
    assert!(plan.collections[2].items.is_empty(), "settings");
    assert!(plan.unresolved.is_empty(), "{:?}", plan.unresolved);
    assert!(roles.dangling.is_empty());
    let counts = plan.counts();
    assert_eq!(
        (counts.create, counts.update, counts.delete),
        (0, 1, 0),
        "a new SyncId counts as an update"
    );
    insta::assert_snapshot!(plan.render_text(false), @r#"
    roles (1 to update)
      ~ "Editor"
          SyncId s-old → s-new
          description "Writes" → "Writes more"
    0 to create, 1 to update, 0 to delete
    "#);
    let json = plan.to_json();
    let change = &json["collections"][0]["changes"][0];
    assert_eq!(change["action"], "update");
    assert_eq!(change["localId"], "l-editor");
    assert_eq!(change["movedFrom"], "s-old");
    assert_eq!(change["syncId"], "s-new");
    assert!(
        json["collections"][0]["changes"][0]
            .as_object()
            .unwrap()
            .get("adopt")
            .is_none()
    );
}

#[test]
fn a_new_sync_id_alone_is_an_update() {
    let instance = editor_instance();
    let plan = plan(
        &["roles", "permissions", "settings"],
        &editor_dump("s-new", "Writes"),
        &instance,
    );
    let roles = &plan.collections[0];
    assert_eq!(
        actions(roles),
        [("s-new".into(), "move", Some("l-editor".into()))]
    );
    assert!(field_changes(change(roles, "s-new")).is_empty());
    assert!(!plan.is_empty() && plan.has_writes());
    assert_eq!(
        plan.render_text(false),
        "roles (1 to update)\n  ~ \"Editor\": SyncId s-old → s-new\n0 to create, 1 to update, 0 to delete\n"
    );
    // Other updates keep serialising without `movedFrom`.
    let plan = self::plan(&["roles"], &editor_dump("s-old", "Writes more"), &instance);
    let json = plan.to_json();
    assert!(
        json["collections"][0]["changes"][0]
            .get("movedFrom")
            .is_none()
    );
    assert_eq!(moved_from(change(&plan.collections[0], "s-old")), None);
}

#[test]
fn a_role_name_shared_by_two_items_is_no_identity() {
    // Two dump roles take the name: which one is the live role is anyone's guess.
    let instance = instance(
        vec![row("roles", "s-old", "l-editor")],
        vec![("roles", vec![live_role("l-editor", "Editor", "")])],
    );
    let dump = dump(vec![(
        "roles",
        vec![role("Editor", "", "s-a"), role("Editor", "", "s-b")],
    )]);
    assert_eq!(
        actions(&plan(&["roles"], &dump, &instance).collections[0]),
        [
            ("s-a".into(), "create", None),
            ("s-b".into(), "create", None),
            ("s-old".into(), "delete", Some("l-editor".into())),
        ]
    );

    // Two tracked live roles have the name.
    let instance = self::instance(
        vec![row("roles", "s-1", "l-1"), row("roles", "s-2", "l-2")],
        vec![(
            "roles",
            vec![
                live_role("l-1", "Editor", ""),
                live_role("l-2", "Editor", ""),
            ],
        )],
    );
    let dump = self::dump(vec![("roles", vec![role("Editor", "", "s-new")])]);
    assert_eq!(
        actions(&plan(&["roles"], &dump, &instance).collections[0]),
        [
            ("s-new".into(), "create", None),
            ("s-1".into(), "delete", Some("l-1".into())),
            ("s-2".into(), "delete", Some("l-2".into())),
        ]
    );

    // One of the two stays under its SyncId: the name is still not unique in the dump.
    let dump = self::dump(vec![(
        "roles",
        vec![role("Editor", "", "s-1"), role("Editor", "", "s-new")],
    )]);
    assert_eq!(
        actions(&plan(&["roles"], &dump, &instance).collections[0]),
        [
            ("s-new".into(), "create", None),
            ("s-2".into(), "delete", Some("l-2".into())),
        ]
    );

    // Another name is another role.
    let dump = self::dump(vec![(
        "roles",
        vec![role("Editor", "", "s-1"), role("Writer", "", "s-new")],
    )]);
    assert_eq!(
        actions(&plan(&["roles"], &dump, &instance).collections[0]),
        [
            ("s-new".into(), "create", None),
            ("s-2".into(), "delete", Some("l-2".into())),
        ]
    );
}

#[test]
fn a_permission_is_the_same_by_role_collection_and_action() {
    let instance = instance(
        vec![
            row("roles", "s-editor", "l-editor"),
            row("permissions", "p-read", "7"),
            row("permissions", "p-update", "8"),
        ],
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
    let permission = |action: &str, sync_id: &str| json!({"role": "s-editor", "collection": "articles", "action": action, "fields": ["id"], "_syncId": sync_id});
    let dump = dump(vec![
        ("roles", vec![role("Editor", "", "s-editor")]),
        (
            "permissions",
            vec![
                permission("read", "p-read-2"),
                permission("delete", "p-delete"),
            ],
        ),
    ]);
    let plan = plan(&["roles", "permissions"], &dump, &instance);
    let permissions = &plan.collections[1];
    assert_eq!(
        actions(permissions),
        [
            ("p-read-2".into(), "move", Some("7".into())),
            ("p-delete".into(), "create", None),
            ("p-update".into(), "delete", Some("8".into())),
        ]
    );
    assert_eq!(moved_from(change(permissions, "p-read-2")), Some("p-read"));
    assert_eq!(
        field_changes(change(permissions, "p-read-2"))[0].field,
        "fields"
    );
    assert_eq!(permissions.items[0].label.as_str(), "Editor articles.read");
}

#[test]
fn a_permission_of_a_moved_role_moves_too() {
    // The role's SyncId moves first (push order), so the permission's role compares as the
    // new SyncId.
    let instance = editor_instance();
    let mut dump = editor_dump("s-new", "Writes");
    edit_items(&mut dump, "permissions", |p| p[0]["_syncId"] = json!("p2"));
    let plan = plan(&["roles", "permissions", "settings"], &dump, &instance);
    assert_eq!(
        actions(&plan.collections[0]),
        [("s-new".into(), "move", Some("l-editor".into()))]
    );
    let permissions = &plan.collections[1];
    assert_eq!(
        actions(permissions),
        [("p2".into(), "move", Some("7".into()))]
    );
    assert!(field_changes(change(permissions, "p2")).is_empty());
    assert_eq!(permissions.items[0].label.as_str(), "Editor articles.read");
    assert!(plan.collections[2].items.is_empty());
}

#[test]
fn a_reference_to_the_sync_id_a_role_left_is_unresolved() {
    // After the move nothing answers to the old SyncId any more.
    let instance = editor_instance();
    let mut dump = editor_dump("s-new", "Writes");
    edit_items(&mut dump, "permissions", |p| p[0]["role"] = json!("s-old"));
    let plan = plan(&["roles", "permissions"], &dump, &instance);
    assert_eq!(
        plan.unresolved,
        [
            "permissions Editor articles.read refers in role to roles \"s-old\", which is neither in the dump nor on the instance"
        ]
    );
}

#[test]
fn translations_and_operations_keep_their_items_under_new_sync_ids() {
    let instance = instance(
        vec![
            row("translations", "t-old", "l-t"),
            row("flows", "f", "f"),
            row("operations", "o1", "l-o1"),
            row("operations", "o2", "l-o2"),
        ],
        vec![
            (
                "translations",
                vec![json!({"id": "l-t", "language": "fr-FR", "key": "hi", "value": "Salut"})],
            ),
            (
                "flows",
                vec![json!({"id": "f", "name": "F", "operation": "l-o1"})],
            ),
            (
                "operations",
                vec![
                    json!({"id": "l-o1", "key": "a", "flow": "f", "resolve": "l-o2", "reject": null}),
                    json!({"id": "l-o2", "key": "b", "flow": "f", "resolve": null, "reject": null}),
                ],
            ),
        ],
    );
    let dump = dump(vec![
        (
            "translations",
            vec![json!({"language": "fr-FR", "key": "hi", "value": "Bonjour", "_syncId": "t-new"})],
        ),
        (
            "flows",
            vec![json!({"name": "F", "operation": "o1", "_syncId": "f"})],
        ),
        (
            "operations",
            vec![
                json!({"key": "a", "flow": "f", "resolve": "o2-new", "reject": null, "_syncId": "o1"}),
                json!({"key": "b", "flow": "f", "resolve": null, "reject": null, "_syncId": "o2-new"}),
            ],
        ),
    ]);
    let plan = plan(&["translations", "flows", "operations"], &dump, &instance);
    let translations = &plan.collections[0];
    assert_eq!(
        actions(translations),
        [("t-new".into(), "move", Some("l-t".into()))]
    );
    assert_eq!(
        field_changes(change(translations, "t-new"))[0].field,
        "value"
    );
    // o1 links to o2 under its new SyncId: the same link, no change.
    let operations = &plan.collections[2];
    assert_eq!(
        actions(operations),
        [("o2-new".into(), "move", Some("l-o2".into()))]
    );
    let input = link_input(operations.spec, operations, &instance);
    assert!(input.fields.iter().all(|f| f.updates.is_empty()));
    assert!(input.deletes.is_empty());
    assert!(plan.unresolved.is_empty(), "{:?}", plan.unresolved);

    // A key of another flow is another operation.
    let mut other = dump.clone();
    edit_items(&mut other, "operations", |o| o[1]["key"] = json!("c"));
    let plan = self::plan(&["translations", "flows", "operations"], &other, &instance);
    assert_eq!(
        actions(&plan.collections[2]),
        [
            ("o1".into(), "update", Some("l-o1".into())),
            ("o2-new".into(), "create", None),
            ("o2".into(), "delete", Some("l-o2".into())),
        ]
    );
}

#[test]
fn rows_of_items_a_filter_hid_are_not_dangling() {
    let mut instance = instance(
        vec![
            row("roles", "s-hidden", "l-hidden"),
            row("roles", "s-gone", "l-gone"),
            row("roles", "s-here", "l-here"),
        ],
        vec![("roles", vec![live_role("l-here", "Here", "")])],
    );
    instance
        .hidden
        .insert("roles", HashSet::from(["l-hidden".to_string()]));
    let dump = dump(vec![("roles", vec![role("Here", "", "s-here")])]);
    let plan = plan(&["roles"], &dump, &instance);
    let roles = &plan.collections[0];
    // The hidden item exists: its row stays, and push leaves the item alone.
    assert_eq!(roles.dangling, [row("roles", "s-gone", "l-gone")]);
    assert!(roles.items.is_empty());

    instance.id_map.remove("roles", "s-gone");
    let plan = self::plan(&["roles"], &dump, &instance);
    assert!(plan.collections[0].dangling.is_empty());
    assert!(!plan.has_writes());
}

#[test]
fn labels_name_referenced_items_through_the_spec() {
    let instance = instance(
        vec![
            row("roles", "s-viewer", "l-viewer"),
            row("permissions", "p-old", "3"),
        ],
        vec![
            ("roles", vec![live_role("l-viewer", "Viewer", "")]),
            (
                "permissions",
                vec![json!({"id": 3, "role": "l-viewer", "collection": "c", "action": "read"})],
            ),
            ("presets", vec![]),
        ],
    );
    let dump = dump(vec![
        (
            "roles",
            vec![
                role("Viewer", "", "s-viewer"),
                role("Reviewer", "", "s-reviewer"),
            ],
        ),
        (
            "permissions",
            vec![
                json!({"role": "s-reviewer", "collection": "c", "action": "read", "_syncId": "p-new"}),
                json!({"role": "__admin__", "collection": "c", "action": "share", "_syncId": "p-admin"}),
            ],
        ),
        (
            "presets",
            vec![
                json!({"role": "s-reviewer", "collection": "c", "bookmark": "Mine", "_syncId": "b1"}),
                json!({"role": null, "collection": "c", "bookmark": null, "_syncId": "b2"}),
            ],
        ),
    ]);
    let plan = plan(&["roles", "permissions", "presets"], &dump, &instance);
    let labels = |index: usize| -> Vec<String> {
        plan.collections[index]
            .items
            .iter()
            .map(|c| c.label.to_string())
            .collect()
    };
    // From the dump (a role being created), the placeholder, and the instance (a deleted
    // permission of a role only the instance names the same way).
    assert_eq!(
        labels(1),
        ["Reviewer c.read", "admin c.share", "Viewer c.read"]
    );
    assert_eq!(labels(2), ["Reviewer c \"Mine\"", "global c"]);

    // The spec says which collection a field points at.
    let asked = std::cell::RefCell::new(Vec::new());
    let names = |target: &str, sync_id: &str| {
        asked.borrow_mut().push(format!("{target}/{sync_id}"));
        None
    };
    let preset = json!({"role": "r", "collection": "c", "bookmark": null});
    assert_eq!(
        spec("presets").unwrap().label(&preset, &names).as_str(),
        "r c"
    );
    assert_eq!(asked.borrow().as_slice(), ["roles/r"]);
}

#[test]
fn values_the_instance_would_not_keep_are_refused_up_front() {
    let instance = instance(
        vec![row("dashboards", "d1", "l1")],
        vec![(
            "dashboards",
            vec![
                json!({"id": "l1", "name": "Sales", "icon": "money", "color": "#00ff00", "note": null}),
            ],
        )],
    );
    let bad = dump(vec![(
        "dashboards",
        vec![
            json!({"name": "Sales", "icon": "money", "color": 42, "note": null, "_syncId": "d1"}),
            json!({"name": "New", "icon": "add", "zz_unknown": 1, "_syncId": "d2"}),
        ],
    )]);
    let planned = plan(&["dashboards"], &bad, &instance);
    let fields: super::FieldTypes = [
        ("name", "string"),
        ("icon", "string"),
        ("color", "string"),
        ("note", "text"),
    ]
    .into_iter()
    .map(|(f, t)| (f.to_string(), t.to_string()))
    .collect();
    let types = [("dashboards", fields)].into_iter().collect();
    let problems = super::check_values(&planned.collections, &types);
    assert_eq!(
        problems,
        [
            "dashboards \"Sales\": \"color\" holds 42 in the dump, but the field is of type string; Directus would not keep it",
            "dashboards \"New\": \"zz_unknown\" is not a field of dashboards",
        ]
    );
    let fine = dump(vec![(
        "dashboards",
        vec![
            json!({"name": "Sales", "icon": "money", "color": null, "note": "n", "_syncId": "d1"}),
        ],
    )]);
    let planned = plan(&["dashboards"], &fine, &instance);
    assert!(super::check_values(&planned.collections, &types).is_empty());
}

#[test]
fn an_untracked_item_with_the_same_unique_identity_is_adopted() {
    // A push killed after forgetting a moved SyncId left "Editor" untracked.
    let instance = instance(
        vec![],
        vec![(
            "roles",
            vec![json!({"id": "r-live", "name": "Editor", "icon": "edit"})],
        )],
    );
    let editor = dump(vec![(
        "roles",
        vec![json!({"name": "Editor", "icon": "edit", "_syncId": "r-new"})],
    )]);
    let planned = plan(&["roles"], &editor, &instance);
    assert_eq!(
        actions(&planned.collections[0]),
        [("r-new".to_string(), "adopt", Some("r-live".to_string()))]
    );
}

#[test]
fn an_untracked_preset_like_the_dump_one_is_adopted() {
    // A push killed after Directus created the preset, before its id was recorded.
    let preset = |extra: Value| {
        let mut item = json!({"bookmark": "Open", "role": null, "collection": "articles",
            "search": null, "layout": "tabular", "layout_query": {"tabular": {"page": 1}},
            "layout_options": null, "refresh_interval": null, "filter": {"status": {"_eq": "open"}},
            "icon": "bookmark", "color": null});
        item.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        item
    };
    let live = vec![preset(json!({"id": 7, "user": null}))];
    let instance = instance(vec![], vec![("presets", live)]);
    let same = dump(vec![("presets", vec![preset(json!({"_syncId": "p-1"}))])]);
    let planned = plan(&["presets"], &same, &instance);
    assert_eq!(
        actions(&planned.collections[0]),
        [("p-1".to_string(), "adopt", Some("7".to_string()))]
    );
    // Another filter is another preset: created beside it.
    let other = dump(vec![(
        "presets",
        vec![preset(json!({"_syncId": "p-1", "filter": null}))],
    )]);
    let planned = plan(&["presets"], &other, &instance);
    assert_eq!(
        actions(&planned.collections[0]),
        [("p-1".to_string(), "create", None)]
    );
}

mod builder_properties {
    use super::*;
    use proptest::prelude::*;

    /// A small world of roles and permissions: live items (tracked or not) and dump items
    /// drawn from the same few names and SyncIds, so that matches, moves and twins happen.
    /// Live roles as (id, SyncId if tracked, name); dump roles as (SyncId, name).
    type World = (Vec<(u8, Option<u8>, u8)>, Vec<(u8, u8)>);

    fn world() -> impl Strategy<Value = World> {
        let live = prop::collection::vec((0u8..6, prop::option::of(0u8..6), 0u8..3), 0..6);
        let dump = prop::collection::vec((0u8..8, 0u8..3), 0..6);
        (live, dump)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Whatever the dump and the instance hold, the plan never deletes an item the dump
        /// still names, never touches one live item twice, and names every dump item once.
        #[test]
        fn plans_keep_what_the_dump_names((live, dumped) in world()) {
            let mut rows = Vec::new();
            let mut live_items = Vec::new();
            for (index, (id, sync, name)) in live.iter().enumerate() {
                let local = format!("l{id}-{index}");
                if let Some(sync) = sync {
                    rows.push(row("roles", &format!("s{sync}"), &local));
                }
                live_items.push(json!({"id": local, "name": format!("n{name}"), "icon": "x"}));
            }
            let mut seen = std::collections::HashSet::new();
            let dump_items: Vec<Value> = dumped
                .iter()
                .filter(|(sync, _)| seen.insert(*sync))
                .map(|(sync, name)| json!({"name": format!("n{name}"), "icon": "y", "_syncId": format!("s{sync}")}))
                .collect();
            let instance = instance(rows, vec![("roles", live_items)]);
            let dump = dump(vec![("roles", dump_items.clone())]);
            let planned = plan(&["roles"], &dump, &instance);
            let changes = &planned.collections[0];
            let mut touched = std::collections::HashSet::new();
            for change in &changes.items {
                if let Action::Update { local_id, .. } | Action::Delete { local_id } = &change.action {
                    prop_assert!(touched.insert(local_id.clone()), "{local_id} touched twice");
                }
                if let Action::Delete { .. } = change.action {
                    prop_assert!(
                        !dump_items.iter().any(|i| i["_syncId"] == change.sync_id.as_str()),
                        "deletes {} which the dump names", change.sync_id
                    );
                }
            }
            let named: Vec<&str> = changes
                .items
                .iter()
                .filter(|c| !matches!(c.action, Action::Delete { .. }))
                .map(|c| c.sync_id.as_str())
                .collect();
            let unique: std::collections::HashSet<&str> = named.iter().copied().collect();
            prop_assert_eq!(unique.len(), named.len());
        }
    }
}

#[test]
fn owned_fields_are_neither_compared_nor_written() {
    let owned: Owned =
        serde_yaml::from_str("[settings.project_url, 'operations[type=request].options.url']")
            .unwrap();
    let instance = instance(
        vec![
            row("settings", "s-settings", "1"),
            row("operations", "s-op", "l-op"),
        ],
        vec![
            (
                "settings",
                vec![json!({"id": 1, "project_name": "P", "project_url": "https://prod"})],
            ),
            (
                "operations",
                vec![json!({"id": "l-op", "type": "request", "key": "k",
                            "options": {"url": "https://prod/hook", "method": "POST"}})],
            ),
        ],
    );
    let dump = dump(vec![
        (
            "settings",
            vec![
                json!({"project_name": "S", "project_url": "https://staging", "_syncId": "s-settings"}),
            ],
        ),
        (
            "operations",
            vec![
                json!({"type": "request", "key": "k", "options": {"url": "https://staging/hook", "method": "GET"}, "_syncId": "s-op"}),
                json!({"type": "request", "key": "new", "options": {"url": "https://staging/new"}, "_syncId": "s-new"}),
            ],
        ),
    ]);
    let (collections, _) = build_collections(
        &specs(&["settings", "operations"]),
        &dump,
        &instance,
        &owned,
    );
    let Action::Update { changes, .. } = &collections[0].items[0].action else {
        panic!("{:?}", collections[0].items)
    };
    assert_eq!(
        changes,
        &[FieldChange::new(
            "project_name",
            Some(json!("P")),
            json!("S")
        )]
    );
    let operations = &collections[1].items;
    let update = operations.iter().find(|c| c.sync_id == "s-op").unwrap();
    let Action::Update { changes, .. } = &update.action else {
        panic!("{update:?}")
    };
    assert_eq!(
        changes[0].new,
        json!({"url": "https://prod/hook", "method": "GET"}),
        "the method changes, the instance's URL stays"
    );
    let create = operations.iter().find(|c| c.sync_id == "s-new").unwrap();
    assert!(matches!(create.action, Action::Create));
    assert_eq!(
        create.item.value()["options"],
        json!({}),
        "created without the owned URL"
    );
}

//! Compares dump items with live items, collection by collection.

use super::{Action, CollectionChanges, FieldChange, ItemChange, json_equal};
use crate::collections::{ADMIN_ROLE_SYNC_ID, CollectionSpec, NaturalKey};
use crate::instance::{Instance, LiveItem};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The dump's items per collection name (only the collections of this run).
pub type DumpItems = HashMap<&'static str, Vec<Value>>;

/// Per collection (in the order of `specs`): what to create, update and delete so that the
/// instance matches the dump, plus the references nothing satisfies.
pub fn build_collections(
    specs: &[&'static CollectionSpec],
    dump: &DumpItems,
    instance: &Instance,
) -> (Vec<CollectionChanges>, Vec<String>) {
    let role_names = role_names(dump, instance);
    let role_name = |sync_id: &str| role_names.get(sync_id).cloned();
    let mut unresolved = Vec::new();
    let changes = specs
        .iter()
        .map(|spec| {
            let items = dump.get(spec.name).map(Vec::as_slice).unwrap_or_default();
            let changes = compare_collection(spec, items, instance, &role_name);
            unresolved.extend(check_references(spec, &changes.items, dump, instance));
            changes
        })
        .collect();
    (changes, unresolved)
}

fn compare_collection(
    spec: &'static CollectionSpec,
    dump_items: &[Value],
    instance: &Instance,
    role_name: &dyn Fn(&str) -> Option<String>,
) -> CollectionChanges {
    let live = instance.live_items(spec);
    let live_ids: HashSet<&str> = live.iter().map(|l| l.local_id.as_str()).collect();
    let dangling = instance
        .id_map
        .rows(spec.name)
        .into_iter()
        .filter(|row| !live_ids.contains(row.local_id.as_str()))
        .collect();
    let tracked: HashMap<&str, &LiveItem> = live
        .iter()
        .filter_map(|l| Some((l.sync_id.as_deref()?, l)))
        .collect();
    let mut untracked: Vec<&LiveItem> = live.iter().filter(|l| l.sync_id.is_none()).collect();
    let dump_sync_ids: HashSet<&str> = dump_items
        .iter()
        .filter_map(|i| i.get("_syncId").and_then(Value::as_str))
        .collect();

    let mut items = Vec::new();
    for item in dump_items {
        let sync_id = item["_syncId"].as_str().unwrap_or_default().to_string();
        let label = spec.label(item, role_name);
        let existing = tracked.get(sync_id.as_str()).copied().map(|l| (l, false));
        let existing = existing.or_else(|| {
            let position = untracked
                .iter()
                .position(|l| same_natural_key(spec, item, &sync_id, l, instance))?;
            Some((untracked.remove(position), true))
        });
        let action = match existing {
            Some((live, adopt)) => {
                let live_item = spec.to_dump(&live.raw, &sync_id, &instance.id_map);
                let changes = field_changes(item, &live_item);
                if changes.is_empty() && !adopt {
                    continue;
                }
                Action::Update {
                    local_id: live.local_id.clone(),
                    changes,
                    adopt,
                }
            }
            None => Action::Create,
        };
        items.push(ItemChange {
            sync_id,
            label,
            item: item.clone(),
            action,
        });
    }
    if spec.deletable {
        for live in &live {
            let Some(sync_id) = &live.sync_id else {
                continue;
            };
            if dump_sync_ids.contains(sync_id.as_str()) {
                continue;
            }
            let item = spec.to_dump(&live.raw, sync_id, &instance.id_map);
            items.push(ItemChange {
                sync_id: sync_id.clone(),
                label: spec.label(&item, role_name),
                item,
                action: Action::Delete {
                    local_id: live.local_id.clone(),
                },
            });
        }
    }
    CollectionChanges {
        spec,
        items,
        dangling,
    }
}

/// The fields whose dump value differs from the live one. Fields only the instance has are
/// left alone: the dump does not speak for them, so push would not change them.
fn field_changes(dump_item: &Value, live_item: &Value) -> Vec<FieldChange> {
    let Some(fields) = dump_item.as_object() else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|(field, _)| *field != "_syncId" && *field != "id")
        .filter_map(|(field, new)| {
            let old = live_item.get(field);
            let same = old.is_some_and(|old| json_equal(old, new));
            (!same).then(|| FieldChange {
                field: field.clone(),
                old: old.cloned(),
                new: new.clone(),
            })
        })
        .collect()
}

fn same_natural_key(
    spec: &CollectionSpec,
    item: &Value,
    sync_id: &str,
    live: &LiveItem,
    instance: &Instance,
) -> bool {
    match spec.natural_key {
        NaturalKey::None => false,
        NaturalKey::Id => live.local_id == sync_id,
        NaturalKey::Singleton => true,
        NaturalKey::Fields(fields) => {
            let live_item = spec.to_dump(&live.raw, sync_id, &instance.id_map);
            fields.iter().all(|field| {
                json_equal(
                    item.get(*field).unwrap_or(&Value::Null),
                    live_item.get(*field).unwrap_or(&Value::Null),
                )
            })
        }
    }
}

/// Role names by SyncId, from the dump and from the instance, for labels.
fn role_names(dump: &super::build::DumpItems, instance: &Instance) -> HashMap<String, String> {
    let mut names = HashMap::new();
    names.insert(ADMIN_ROLE_SYNC_ID.to_string(), "admin".to_string());
    if let Some(spec) = crate::collections::spec("roles") {
        for live in instance.live_items(spec) {
            if let (Some(sync_id), Some(name)) =
                (live.sync_id, live.raw.get("name").and_then(Value::as_str))
            {
                names.insert(sync_id, name.to_string());
            }
        }
    }
    for role in dump.get("roles").into_iter().flatten() {
        if let (Some(sync_id), Some(name)) = (
            role.get("_syncId").and_then(Value::as_str),
            role.get("name").and_then(Value::as_str),
        ) {
            names.insert(sync_id.to_string(), name.to_string());
        }
    }
    names
}

/// References in created items and changed fields that neither the instance (through its id
/// map) nor the dump can satisfy: push refuses to start rather than loop or half-apply.
fn check_references(
    spec: &CollectionSpec,
    items: &[ItemChange],
    dump: &DumpItems,
    instance: &Instance,
) -> Vec<String> {
    let mut problems = Vec::new();
    for change in items {
        let changed: Option<Vec<&str>> = match &change.action {
            Action::Create => None,
            Action::Update { changes, .. } => {
                Some(changes.iter().map(|c| c.field.as_str()).collect())
            }
            Action::Delete { .. } => continue,
        };
        for (relation, sync_id) in spec.references(&change.item) {
            if changed
                .as_ref()
                .is_some_and(|fields| !fields.contains(&relation.path[0]))
            {
                continue;
            }
            let in_dump = dump.get(relation.target).is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i.get("_syncId").and_then(Value::as_str) == Some(&sync_id))
            });
            let on_instance = instance
                .id_map
                .local_id(relation.target, &sync_id)
                .is_some_and(|local| {
                    !instance.items.contains_key(relation.target)
                        || relation.target == "roles" && sync_id == ADMIN_ROLE_SYNC_ID
                        || instance.items[relation.target].iter().any(|i| {
                            i.get("id").and_then(crate::idmap::id_string).as_deref() == Some(&local)
                        })
                });
            if !in_dump && !on_instance {
                problems.push(format!(
                    "{} {} refers in {} to {} {sync_id:?}, which is neither in the dump nor on the instance",
                    spec.name,
                    change.label,
                    relation.path.join("."),
                    relation.target
                ));
            }
        }
    }
    problems
}

//! Compares dump items with live items, collection by collection.
//!
//! Two passes: first every collection's dump items are matched with live items (by SyncId, by
//! natural key, or by identity when only the SyncId changed), in push order, so that the
//! SyncIds that move are known; then the field changes and references are found with the id
//! map as it will be once those SyncIds moved.

use super::{Action, CollectionChanges, FieldChange, ItemChange};
use crate::collections::{CollectionSpec, Label, NaturalKey};
use crate::dump::Dump;
use crate::idmap::IdMap;
use crate::instance::{Instance, LiveItem};
use crate::json::{Compact, json_equal};
use crate::values::Owned;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Per collection (in the order of `specs`): what to create, update and delete so that the
/// instance matches the dump, plus the references nothing satisfies. What is `owned` by the
/// instance is neither compared nor written.
pub fn build_collections(
    specs: &[&'static CollectionSpec],
    dump: &Dump,
    instance: &Instance,
    owned: &Owned,
) -> (Vec<CollectionChanges>, Vec<String>) {
    let mut id_map = Cow::Borrowed(&instance.id_map);
    let matchings: Vec<Matching> = specs
        .iter()
        .map(|spec| {
            let items = dump.items(spec.name);
            let matching = match_items(spec, items, instance, &id_map);
            for (index, target) in matching.targets.iter().enumerate() {
                if let Some((live, How::Moved(old))) = target {
                    let new = &matching.sync_ids[index];
                    let local = &matching.live[*live].local_id;
                    let id_map = id_map.to_mut();
                    id_map.remove(spec.name, old);
                    id_map.insert(spec.name, new, local);
                }
            }
            matching
        })
        .collect();
    let names = Names::of(dump, instance);
    let names = |target: &str, sync_id: &str| names.get(target, sync_id);
    let mut unresolved = Vec::new();
    let changes = specs
        .iter()
        .zip(matchings)
        .map(|(spec, matching)| {
            let items = dump.items(spec.name);
            let sides = Sides {
                instance,
                id_map: &id_map,
                owned,
            };
            let changes = compare_collection(spec, items, matching, &sides, &names);
            unresolved.extend(check_references(
                spec,
                &changes.items,
                dump,
                instance,
                &id_map,
            ));
            changes
        })
        .collect();
    (changes, unresolved)
}

/// How a dump item found its live item.
#[derive(Debug, Clone, PartialEq)]
enum How {
    /// By its SyncId.
    Tracked,
    /// An untracked live item with the same natural key, taken over.
    Adopted,
    /// A tracked live item with the same identity whose SyncId (`old`) the dump dropped.
    Moved(String),
}

/// The dump items of one collection matched with its live items.
struct Matching<'a> {
    /// The SyncId of each dump item.
    sync_ids: Vec<String>,
    live: Vec<LiveItem<'a>>,
    /// Per dump item (in dump order): its live item (index into `live`), or `None` (create).
    targets: Vec<Option<(usize, How)>>,
    /// Tracked live items no dump item stands for (indexes into `live`, in live order).
    deletes: Vec<usize>,
}

/// Dump items are parsed one at a time, as they are compared: a large collection is never
/// held parsed as a whole.
fn match_items<'a>(
    spec: &'static CollectionSpec,
    dump_items: &[Compact],
    instance: &'a Instance,
    id_map: &IdMap,
) -> Matching<'a> {
    let live = instance.live_items(spec);
    let tracked: HashMap<&str, usize> = live
        .iter()
        .enumerate()
        .filter_map(|(index, l)| Some((l.sync_id.as_deref()?, index)))
        .collect();
    let mut untracked: Vec<usize> = (0..live.len())
        .filter(|index| live[*index].sync_id.is_none())
        .collect();
    // Untracked items are also taken over by a unique identity (a role's name): a push killed
    // between forgetting a moved SyncId and recording the new one left the item untracked.
    let untracked_identity = |index: usize| {
        let item = spec.to_dump(live[index].raw.value(), "", id_map);
        identity_key(spec, &item)
    };
    let (sync_ids, dump_keys): (Vec<String>, Vec<Option<String>>) = dump_items
        .iter()
        .map(|item| {
            let item = item.value();
            let sync_id = item["_syncId"].as_str().unwrap_or_default().to_string();
            (sync_id, identity_key(spec, &item))
        })
        .unzip();
    let untracked_keys: Vec<(usize, Option<String>)> = untracked
        .iter()
        .map(|index| (*index, untracked_identity(*index)))
        .filter(|_| !spec.identity.is_empty())
        .collect();
    let untracked_counts = counts(untracked_keys.iter().filter_map(|(_, k)| k.as_ref()));
    let dump_counts = counts(dump_keys.iter().flatten());
    let mut targets = Vec::new();
    for (index, (sync_id, key)) in sync_ids.iter().zip(&dump_keys).enumerate() {
        let target = tracked
            .get(sync_id.as_str())
            .map(|index| (*index, How::Tracked));
        let target = target.or_else(|| {
            let item = dump_items[index].value();
            let position = untracked
                .iter()
                .position(|l| same_natural_key(spec, &item, sync_id, &live[*l], id_map))?;
            Some((untracked.remove(position), How::Adopted))
        });
        let target = target.or_else(|| {
            let key = key.as_ref().filter(|k| {
                !spec.identity.is_empty()
                    && dump_counts.get(k.as_str()) == Some(&1)
                    && untracked_counts.get(k.as_str()) == Some(&1)
            })?;
            let (index, _) = untracked_keys
                .iter()
                .find(|(_, k)| k.as_ref() == Some(key))?;
            let position = untracked.iter().position(|l| l == index)?;
            Some((untracked.remove(position), How::Adopted))
        });
        // The singleton is one item whatever SyncId each instance gave it (two instances
        // pulled on their own): its row moves to the dump's SyncId.
        let target = target.or_else(|| {
            if !matches!(spec.natural_key, NaturalKey::Singleton) {
                return None;
            }
            let index = live.iter().position(|l| {
                l.sync_id
                    .as_deref()
                    .is_some_and(|old| old != sync_id && !sync_ids.contains(&old.to_string()))
            })?;
            Some((index, How::Moved(live[index].sync_id.clone()?)))
        });
        targets.push(target);
    }
    let mut deletes = Vec::new();
    if spec.deletable {
        let dump_sync_ids: HashSet<&str> = sync_ids.iter().map(String::as_str).collect();
        deletes = (0..live.len())
            .filter(|index| {
                live[*index]
                    .sync_id
                    .as_deref()
                    .is_some_and(|sync_id| !dump_sync_ids.contains(sync_id))
            })
            .collect();
    }
    let mut matching = Matching {
        sync_ids,
        live,
        targets,
        deletes,
    };
    find_moves(spec, &dump_keys, &mut matching, instance, id_map);
    matching
}

/// Pairs creates with deletes that are the same item under a new SyncId (see
/// [`CollectionSpec::identity`]): each pair becomes an update of the live item. `dump_keys`:
/// the identity of each dump item.
fn find_moves(
    spec: &CollectionSpec,
    dump_keys: &[Option<String>],
    matching: &mut Matching<'_>,
    instance: &Instance,
    id_map: &IdMap,
) {
    if spec.identity.is_empty() || matching.deletes.is_empty() {
        return;
    }
    // The new SyncId must be free: no placeholder, no row of an item that exists.
    let free = |sync_id: &str| {
        !sync_id.is_empty()
            && !instance.id_map.is_placeholder(spec.name, sync_id)
            && !instance
                .id_map
                .local_id(spec.name, sync_id)
                .is_some_and(|local| instance.exists(spec.name, &local))
    };
    let creates: Vec<usize> = (0..dump_keys.len())
        .filter(|index| matching.targets[*index].is_none())
        .filter(|index| free(&matching.sync_ids[*index]))
        .collect();
    if creates.is_empty() {
        return;
    }
    let live_keys: HashMap<usize, String> = (0..matching.live.len())
        .filter_map(|index| {
            let live = &matching.live[index];
            let item = spec.to_dump(live.raw.value(), live.sync_id.as_deref()?, id_map);
            Some((index, identity_key(spec, &item)?))
        })
        .collect();
    let live_counts = counts(live_keys.values());
    let dump_counts = counts(dump_keys.iter().flatten());
    for create in creates {
        let Some(key) = &dump_keys[create] else {
            continue;
        };
        if dump_counts.get(key.as_str()) != Some(&1) || live_counts.get(key.as_str()) != Some(&1) {
            continue;
        }
        let Some(position) = matching
            .deletes
            .iter()
            .position(|live| live_keys.get(live) == Some(key))
        else {
            continue;
        };
        let live = matching.deletes.remove(position);
        let old = matching.live[live].sync_id.clone().unwrap_or_default();
        matching.targets[create] = Some((live, How::Moved(old)));
    }
}

/// How often each key occurs.
fn counts<'a>(keys: impl Iterator<Item = &'a String>) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    keys.for_each(|key| *counts.entry(key.as_str()).or_default() += 1);
    counts
}

/// The values of an item's identity fields, as one comparable text; `None` when the item
/// lacks one of them.
fn identity_key(spec: &CollectionSpec, item: &Value) -> Option<String> {
    let values: Option<Vec<Value>> = spec
        .identity
        .iter()
        .map(|field| item.get(*field).cloned())
        .collect();
    Some(Value::Array(values?).to_string())
}

/// What a comparison of items reads besides the items: the instance, its id map as it will
/// be once SyncIds moved, and what the instance owns.
struct Sides<'a> {
    instance: &'a Instance,
    id_map: &'a IdMap,
    owned: &'a Owned,
}

fn compare_collection(
    spec: &'static CollectionSpec,
    dump_items: &[Compact],
    matching: Matching<'_>,
    sides: &Sides<'_>,
    names: &dyn Fn(&str, &str) -> Option<String>,
) -> CollectionChanges {
    let Sides {
        instance,
        id_map,
        owned,
    } = *sides;
    let dangling = instance
        .id_map
        .rows(spec.name)
        .into_iter()
        .filter(|row| !instance.exists(spec.name, &row.local_id))
        .collect();
    let Matching {
        sync_ids,
        live,
        targets,
        deletes,
    } = matching;
    let mut items = Vec::new();
    for ((compact, target), sync_id) in dump_items.iter().zip(targets).zip(sync_ids) {
        let mut item = compact.value();
        let label = spec.label(&item, names);
        // The item as the instance must have it: with the instance's own values where it
        // owns them (an item to create goes without them).
        let (action, settled) = match target {
            Some((index, how)) => {
                let live = &live[index];
                let live_item = spec.to_dump(live.raw.value(), &sync_id, id_map);
                let settled = owned.settle(spec.name, &mut item, Some(&live_item));
                let mut changes = field_changes(&item, &live_item);
                for change in &mut changes {
                    let target = |value: &Value| spec.target_name(&change.field, value, names);
                    change.targets = [change.old.as_ref().and_then(target), target(&change.new)];
                }
                if changes.is_empty() && how == How::Tracked {
                    continue;
                }
                let update = Action::Update {
                    local_id: live.local_id.clone(),
                    changes,
                    adopt: how == How::Adopted,
                    moved_from: match how {
                        How::Moved(old) => Some(old),
                        _ => None,
                    },
                };
                (update, settled)
            }
            None => (Action::Create, owned.settle(spec.name, &mut item, None)),
        };
        let details = match action {
            Action::Create => spec.create_details(&item, names),
            _ => Vec::new(),
        };
        items.push(ItemChange {
            sync_id,
            label,
            details,
            item: match settled {
                true => Compact::new(&item),
                false => compact.clone(),
            },
            action,
        });
    }
    for index in deletes {
        let live = &live[index];
        let sync_id = live.sync_id.clone().unwrap_or_default();
        let item = spec.to_dump(live.raw.value(), &sync_id, id_map);
        items.push(ItemChange {
            label: spec.label(&item, names),
            details: Vec::new(),
            sync_id,
            item: Compact::new(&item),
            action: Action::Delete {
                local_id: live.local_id.clone(),
            },
        });
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
            (!same).then(|| FieldChange::new(field, old.cloned(), new.clone()))
        })
        .collect()
}

fn same_natural_key(
    spec: &CollectionSpec,
    item: &Value,
    sync_id: &str,
    live: &LiveItem,
    id_map: &IdMap,
) -> bool {
    match spec.natural_key {
        NaturalKey::None => false,
        NaturalKey::Id => live.local_id == sync_id,
        NaturalKey::Singleton => true,
        NaturalKey::Fields(fields) => {
            let live_item = spec.to_dump(live.raw.value(), sync_id, id_map);
            fields.iter().all(|field| {
                json_equal(
                    item.get(*field).unwrap_or(&Value::Null),
                    live_item.get(*field).unwrap_or(&Value::Null),
                )
            })
        }
    }
}

/// How labels name the items relations point at: by the label field of the dump's items
/// (collections labelled by a field), else as the instance names them.
struct Names<'a> {
    dump: HashMap<(&'static str, String), String>,
    instance: &'a Instance,
}

impl<'a> Names<'a> {
    fn of(dump: &'a Dump, instance: &'a Instance) -> Names<'a> {
        let mut names = HashMap::new();
        for (spec, items) in &dump.collections {
            let Label::Field(field) = spec.label else {
                continue;
            };
            for item in items.iter().map(Compact::value) {
                if let (Some(sync_id), Some(name)) = (
                    item.get("_syncId").and_then(Value::as_str),
                    item.get(field).and_then(Value::as_str),
                ) {
                    names.insert((spec.name, sync_id.to_string()), name.to_string());
                }
            }
        }
        Names {
            dump: names,
            instance,
        }
    }

    fn get(&self, target: &str, sync_id: &str) -> Option<String> {
        let key = crate::collections::spec(target).map(|spec| (spec.name, sync_id.to_string()));
        match key.and_then(|key| self.dump.get(&key)) {
            Some(name) => Some(name.to_string()),
            None => self.instance.name_of(target, sync_id),
        }
    }
}

/// The fields of a collection on the instance with their Directus types (`GET /fields/<c>`).
pub type FieldTypes = HashMap<String, String>;

/// Values the instance would not keep: a field the collection does not have (an unknown key),
/// or a value of another kind than the field's type (`true` in a text field: Directus would
/// store `"1"`). Found before anything is written, instead of after a push that does not
/// converge. `types`: the fields of the collections with changes, by collection name.
pub fn check_values(
    changes: &[CollectionChanges],
    types: &HashMap<&'static str, FieldTypes>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for collection in changes {
        let spec = collection.spec;
        let Some(fields) = types.get(spec.name) else {
            continue;
        };
        for change in &collection.items {
            let item;
            let values: Vec<(&String, &Value)> = match &change.action {
                Action::Create => {
                    item = change.item.value();
                    item.as_object()
                        .map(|o| o.iter().collect())
                        .unwrap_or_default()
                }
                Action::Update { changes, .. } => {
                    changes.iter().map(|c| (&c.field, &c.new)).collect()
                }
                Action::Delete { .. } => continue,
            };
            for (field, value) in values {
                if field == "_syncId" {
                    continue;
                }
                let problem = match fields.get(field) {
                    None => Some(format!("{field:?} is not a field of {}", spec.name)),
                    Some(kind) if !fits(kind, value) => Some(format!(
                        "{field:?} holds {} in the dump, but the field is of type {kind}; Directus would not keep it",
                        shorten(value)
                    )),
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    problems.push(format!("{} {}: {problem}", spec.name, change.label));
                }
            }
        }
    }
    problems
}

/// Whether Directus keeps `value` as it is in a field of `kind`.
fn fits(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        (_, Value::Null) => true,
        ("string" | "text" | "uuid" | "hash" | "timestamp" | "dateTime" | "date" | "time", v) => {
            v.is_string()
        }
        ("integer" | "bigInteger" | "float", v) => v.is_number(),
        // Some databases send decimals as text.
        ("decimal", v) => v.is_number() || v.is_string(),
        ("boolean", v) => v.is_boolean(),
        ("csv", v) => v.is_string() || v.is_array(),
        _ => true,
    }
}

fn shorten(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// References in created items and changed fields that neither the instance (through its id
/// map once SyncIds moved) nor the dump can satisfy: push refuses to start rather than loop or
/// half-apply.
fn check_references(
    spec: &CollectionSpec,
    items: &[ItemChange],
    dump: &Dump,
    instance: &Instance,
    id_map: &IdMap,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut dump_sync_ids: HashMap<&str, HashSet<String>> = HashMap::new();
    for change in items {
        let changed: Option<Vec<&str>> = match &change.action {
            Action::Create => None,
            Action::Update { changes, .. } => {
                Some(changes.iter().map(|c| c.field.as_str()).collect())
            }
            Action::Delete { .. } => continue,
        };
        for (relation, sync_id) in spec.references(&change.item.value()) {
            if changed
                .as_ref()
                .is_some_and(|fields| !fields.contains(&relation.path[0]))
            {
                continue;
            }
            let in_dump = dump_sync_ids
                .entry(relation.target)
                .or_insert_with(|| dump.sync_ids(relation.target))
                .contains(&sync_id);
            let on_instance = id_map
                .local_id(relation.target, &sync_id)
                .is_some_and(|local| {
                    !instance.has_read(relation.target)
                        || instance.id_map.is_placeholder(relation.target, &sync_id)
                        || instance.exists(relation.target, &local)
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

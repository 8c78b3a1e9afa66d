//! Turning live items into dump items and back, as the spec of each collection says.

use super::{CollectionSpec, Relation, get_path, get_path_mut};
use crate::idmap::{IdMap, id_string};
use serde_json::Value;

/// A relation value in a dump item whose target this instance does not know (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub relation: Relation,
    pub sync_id: String,
}

impl PartialEq for Relation {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.target == other.target
    }
}
impl Eq for Relation {}

/// Template values such as `{{ $trigger.flow }}` are resolved by Directus at run time
/// (reference P4): they are never ids.
fn is_dynamic(value: &str) -> bool {
    value.trim_start().starts_with("{{")
}

impl CollectionSpec {
    /// The dump form of a live item: no `id`, no ignored fields, relations as SyncIds,
    /// `_syncId` last. Ids without a SyncId stay as they are (they point at untracked items).
    pub fn to_dump(&self, live: Value, sync_id: &str, id_map: &IdMap) -> Value {
        self.finish_dump(self.start_dump(live, sync_id), id_map)
    }

    /// A live item as `onDump` hooks see it: tracked (`_syncId`), its `id` gone, everything
    /// else as Directus sent it.
    pub fn start_dump(&self, mut item: Value, sync_id: &str) -> Value {
        if let Some(object) = item.as_object_mut() {
            object.shift_remove("id");
            object.insert("_syncId".into(), Value::String(sync_id.into()));
        }
        item
    }

    /// Ignored fields removed, relations mapped to SyncIds, `_syncId` moved last.
    pub fn finish_dump(&self, mut item: Value, id_map: &IdMap) -> Value {
        let sync_id = item
            .as_object_mut()
            .and_then(|object| {
                for field in self.ignored_fields {
                    object.shift_remove(*field);
                }
                object.shift_remove("_syncId")
            })
            .unwrap_or(Value::Null);
        for relation in self.relations {
            if let Some(value) = get_path_mut(&mut item, relation.path) {
                map_ids(value, &mut |local| id_map.sync_id(relation.target, local));
            }
        }
        if let Some(object) = item.as_object_mut() {
            object.insert("_syncId".into(), sync_id);
        }
        item
    }

    /// The payload form of a dump item for this instance: relations as local ids, no
    /// `_syncId`. Values this instance cannot resolve are left in place and reported.
    pub fn to_local(&self, item: &Value, id_map: &IdMap) -> (Value, Vec<Unresolved>) {
        let mut payload = item.clone();
        if let Some(object) = payload.as_object_mut() {
            object.shift_remove("_syncId");
        }
        let mut unresolved = Vec::new();
        for relation in self.relations {
            if let Some(value) = get_path_mut(&mut payload, relation.path) {
                map_ids(value, &mut |sync_id| {
                    if is_dynamic(sync_id) {
                        return Some(sync_id.to_string());
                    }
                    let local = id_map.local_id(relation.target, sync_id);
                    if local.is_none() {
                        unresolved.push(Unresolved {
                            relation: *relation,
                            sync_id: sync_id.to_string(),
                        });
                    }
                    local
                });
            }
        }
        (payload, unresolved)
    }

    /// The SyncIds an item refers to, per relation (dynamic values excluded).
    pub fn references(&self, item: &Value) -> Vec<(Relation, String)> {
        let mut out = Vec::new();
        for relation in self.relations {
            if let Some(value) = get_path(item, relation.path) {
                let mut found = Vec::new();
                let mut copy = value.clone();
                map_ids(&mut copy, &mut |id| {
                    if !is_dynamic(id) {
                        found.push(id.to_string());
                    }
                    None
                });
                out.extend(found.into_iter().map(|id| (*relation, id)));
            }
        }
        out
    }
}

/// Applies `map` to an id, or to each id of an array; nulls stay null, unmapped ids stay.
fn map_ids(value: &mut Value, map: &mut dyn FnMut(&str) -> Option<String>) {
    match value {
        Value::Array(values) => values.iter_mut().for_each(|v| map_ids(v, map)),
        other => {
            if let Some(id) = id_string(other)
                && let Some(mapped) = map(&id)
            {
                *other = Value::String(mapped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::collections::spec;
    use crate::idmap::{IdMap, IdMapRow};
    use serde_json::json;

    fn id_map() -> IdMap {
        let row = |table: &str, sync: &str, local: &str| IdMapRow {
            table: table.into(),
            sync_id: sync.into(),
            local_id: local.into(),
        };
        IdMap::new(
            crate::collections::runner_placeholder(Some("admin")),
            [
                row("flows", "flow-s", "flow-l"),
                row("operations", "op-s", "op-l"),
            ],
        )
    }

    #[test]
    fn operations_map_nested_flow_and_keep_templates() {
        let operations = spec("operations").unwrap();
        let live = json!({"id": "x", "name": "n", "resolve": "op-l", "reject": null, "flow": "flow-l",
                          "options": {"flow": "flow-l"}, "date_created": "d", "user_created": "u"});
        let dump = operations.to_dump(live.clone(), "sync-x", &id_map());
        assert_eq!(
            dump,
            json!({"name": "n", "resolve": "op-s", "reject": null, "flow": "flow-s",
                   "options": {"flow": "flow-s"}, "_syncId": "sync-x"})
        );
        assert_eq!(
            dump.as_object().unwrap().keys().next_back().unwrap(),
            "_syncId"
        );

        let (payload, unresolved) = operations.to_local(&dump, &id_map());
        assert_eq!(payload["options"]["flow"], "flow-l");
        assert!(unresolved.is_empty());

        let templated = json!({"flow": "flow-s", "options": {"flow": "{{ $trigger.flow }}"}, "resolve": "new-op", "_syncId": "s"});
        let (payload, unresolved) = operations.to_local(&templated, &id_map());
        assert_eq!(payload["options"]["flow"], "{{ $trigger.flow }}");
        assert_eq!(unresolved.len(), 1);
        assert_eq!(unresolved[0].sync_id, "new-op");
    }

    #[test]
    fn admin_role_becomes_the_placeholder() {
        let permissions = spec("permissions").unwrap();
        let dump = permissions.to_dump(
            json!({"id": 3, "role": "admin", "collection": "a"}),
            "p",
            &id_map(),
        );
        assert_eq!(dump["role"], "__admin__");
        let public = permissions.to_dump(json!({"id": 4, "role": null}), "q", &id_map());
        assert_eq!(public["role"], serde_json::Value::Null);
    }
}

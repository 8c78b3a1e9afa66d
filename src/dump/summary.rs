//! What changed between two dumps, as a commit's summary line says it.

use super::{Dump, DumpFiles, DumpSource, Layout, SPEC_FILES, collections, snapshot};
use crate::json::{Compact, json_equal};
use crate::snapshot::{PARTS, Snapshot};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Items to create, update and delete; the summary line `N to create, N to update, N to delete`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.create + self.update + self.delete
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.create += other.create;
        self.update += other.update;
        self.delete += other.delete;
    }
}

/// Per collection, then per schema part, what a new dump adds, changes and removes.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub collections: Vec<(&'static str, Counts)>,
    pub schema: Vec<(&'static str, Counts)>,
    pub specs_changed: bool,
}

impl Summary {
    /// `old` is `None` for a first pull.
    pub fn between(old: Option<&Dump>, new: &Dump) -> Summary {
        let empty = Dump::default();
        let old = old.unwrap_or(&empty);
        let collections = new
            .collections
            .iter()
            .map(|(spec, items)| (spec.name, count(old.items(spec.name), items, sync_id_key)))
            .filter(|(_, counts)| counts.total() > 0)
            .collect();
        let schema = match &new.snapshot {
            Some(snapshot) => schema_counts(old.snapshot.as_ref(), snapshot),
            None => Vec::new(),
        };
        Summary {
            collections,
            schema,
            specs_changed: new.specs.is_some() && new.specs != old.specs,
        }
    }

    /// What `new`, about to be written as `files`, changes against the dump `old` holds
    /// (the branch a pull commits to). `old` is read one part at a time, and a file whose
    /// bytes do not change is not parsed at all: a pull holds no second dump for its summary.
    pub fn since(old: &dyn DumpSource, layout: &Layout, new: &Dump, files: &DumpFiles) -> Summary {
        let unchanged = |path: &Path, text: Option<&str>| {
            text.is_some_and(|text| old.holds(path, text.as_bytes()).unwrap_or(false))
        };
        let collections = new
            .collections
            .iter()
            .filter_map(|(spec, items)| {
                let path = layout.collection_file(spec.name);
                if unchanged(&path, files.text(&path)) {
                    return None;
                }
                let before = collections::read(old, &path).unwrap_or_default();
                let counts = count(&before, items, sync_id_key);
                (counts.total() > 0).then_some((spec.name, counts))
            })
            .collect();
        let snapshot_unchanged = || {
            let Some(written) = files.dir(&layout.snapshot) else {
                return false;
            };
            let existing = old.files_under(&layout.snapshot).unwrap_or_default();
            existing.len() == written.len()
                && written
                    .iter()
                    .all(|(path, text)| unchanged(&layout.snapshot.join(path), Some(text.as_str())))
        };
        let schema = match &new.snapshot {
            Some(snapshot) if !snapshot_unchanged() => {
                let before = snapshot::read(old, &layout.snapshot, layout.split).ok();
                schema_counts(before.as_ref(), snapshot)
            }
            _ => Vec::new(),
        };
        let specs_changed = new.specs.is_some()
            && SPEC_FILES.iter().any(|name| {
                let path = layout.specs.join(name);
                !unchanged(&path, files.text(&path))
            });
        Summary {
            collections,
            schema,
            specs_changed,
        }
    }
}

/// One tracked item a new dump creates, changes or removes, as it is in the new dump (in
/// the old one when removed).
#[derive(Debug, Clone)]
pub struct ChangedItem {
    pub collection: &'static str,
    pub sync_id: String,
    pub item: Value,
}

/// The tracked items `new` (about to be written as `files`) changes against the dump `old`
/// holds, collection by collection; files whose bytes do not change are not parsed.
pub fn changed_items(
    old: &dyn DumpSource,
    layout: &Layout,
    new: &Dump,
    files: &DumpFiles,
) -> Vec<ChangedItem> {
    let mut changed = Vec::new();
    for (spec, items) in &new.collections {
        let path = layout.collection_file(spec.name);
        let same = files
            .text(&path)
            .is_some_and(|text| old.holds(&path, text.as_bytes()).unwrap_or(false));
        if same {
            continue;
        }
        let before: HashMap<String, Value> = collections::read(old, &path)
            .map(|items| Compact::values(&items))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| Some((sync_id_key(&item)?, item)))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for item in Compact::values(items) {
            let Some(sync_id) = sync_id_key(&item) else {
                continue;
            };
            seen.insert(sync_id.clone());
            if before
                .get(&sync_id)
                .is_some_and(|old| json_equal(old, &item))
            {
                continue;
            }
            changed.push(ChangedItem {
                collection: spec.name,
                sync_id,
                item,
            });
        }
        let mut removed: Vec<_> = before
            .into_iter()
            .filter(|(sync_id, _)| !seen.contains(sync_id))
            .collect();
        removed.sort_by(|a, b| a.0.cmp(&b.0));
        changed.extend(removed.into_iter().map(|(sync_id, item)| ChangedItem {
            collection: spec.name,
            sync_id,
            item,
        }));
    }
    changed
}

fn sync_id_key(item: &Value) -> Option<String> {
    item.get("_syncId")?.as_str().map(str::to_string)
}

/// Items of `new` not in `old`, in both but not equal, and in `old` only, by `key`.
fn count(old: &[Compact], new: &[Compact], key: impl Fn(&Value) -> Option<String>) -> Counts {
    let (old, new) = (Compact::values(old), Compact::values(new));
    let index = |items: &[Value]| -> HashMap<String, usize> {
        items
            .iter()
            .enumerate()
            .filter_map(|(position, item)| Some((key(item)?, position)))
            .collect()
    };
    let (old_index, new_index) = (index(&old), index(&new));
    let (old, new) = (
        old_index
            .iter()
            .map(|(k, at)| (k, &old[*at]))
            .collect::<HashMap<_, _>>(),
        new_index
            .iter()
            .map(|(k, at)| (k, &new[*at]))
            .collect::<HashMap<_, _>>(),
    );
    Counts {
        create: new.keys().filter(|k| !old.contains_key(*k)).count(),
        update: new
            .iter()
            .filter(|(k, v)| old.get(*k).is_some_and(|o| !json_equal(o, v)))
            .count(),
        delete: old.keys().filter(|k| !new.contains_key(*k)).count(),
    }
}

fn schema_counts(old: Option<&Snapshot>, new: &Snapshot) -> Vec<(&'static str, Counts)> {
    let key = |item: &Value| {
        let collection = item.get("collection")?.as_str()?;
        Some(match item.get("field").and_then(Value::as_str) {
            Some(field) => format!("{collection}.{field}"),
            None => collection.to_string(),
        })
    };
    PARTS
        .iter()
        .map(|part| {
            let before = old.map(|s| s.part(part)).unwrap_or_default();
            (*part, count(before, new.part(part), key))
        })
        .filter(|(_, counts)| counts.total() > 0)
        .collect()
}

impl fmt::Display for Summary {
    /// `+1 roles, ~3 permissions, -1 flows, schema 2 fields`; many collections at once (a first
    /// pull) as totals: `+120 ~3 items, schema 30 collections`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signed = |counts: &Counts| -> Vec<(char, usize)> {
            [
                ('+', counts.create),
                ('~', counts.update),
                ('-', counts.delete),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect()
        };
        let mut parts: Vec<String> = self
            .collections
            .iter()
            .flat_map(|(name, counts)| {
                signed(counts)
                    .into_iter()
                    .map(move |(sign, n)| format!("{sign}{n} {name}"))
            })
            .collect();
        if parts.len() > 6 {
            let mut total = Counts::default();
            self.collections.iter().for_each(|(_, c)| total += *c);
            let totals: Vec<String> = signed(&total)
                .into_iter()
                .map(|(sign, n)| format!("{sign}{n}"))
                .collect();
            parts = vec![format!("{} items", totals.join(" "))];
        }
        let kinds: Vec<String> = self
            .schema
            .iter()
            .map(|(kind, counts)| {
                let n = counts.total();
                let noun = if n == 1 {
                    kind.trim_end_matches('s')
                } else {
                    kind
                };
                format!("{n} {noun}")
            })
            .collect();
        if !kinds.is_empty() {
            parts.push(format!("schema {}", kinds.join(", ")));
        }
        if parts.is_empty() && self.specs_changed {
            parts.push("specs".into());
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::spec;
    use crate::specs::Specs;
    use serde_json::json;

    fn dump(roles: Value, fields: Value, relations: Value, specs: &str) -> Dump {
        Dump {
            snapshot: Some(Snapshot::new(json!({"version": 1, "collections": [],
                                            "fields": fields, "relations": relations}))),
            collections: vec![(
                spec("roles").unwrap(),
                Compact::all(roles.as_array().unwrap().clone()),
            )],
            specs: Some(Specs {
                item_graphql: specs.into(),
                system_graphql: String::new(),
                openapi: String::new(),
            }),
        }
    }

    /// A role changed, one added, one removed; a field replaced, a relation added; the specs.
    fn old_and_new() -> (Dump, Dump) {
        let old = dump(
            json!([{"_syncId": "a", "name": "A"}, {"_syncId": "b", "name": "B"}]),
            json!([{"collection": "articles", "field": "body"}]),
            json!([]),
            "a",
        );
        let new = dump(
            json!([{"_syncId": "a", "name": "A2"}, {"_syncId": "c", "name": "C"}]),
            json!([{"collection": "articles", "field": "title"}]),
            json!([{"collection": "articles", "field": "author"}]),
            "b",
        );
        (old, new)
    }

    #[test]
    fn counts_items_by_sync_id_and_schema_entries_by_kind() {
        let (old, new) = old_and_new();
        assert_eq!(
            Summary::between(Some(&old), &new).to_string(),
            "+1 roles, ~1 roles, -1 roles, schema 2 fields, 1 relation"
        );
        let specs_only = dump(
            json!([{"_syncId": "a", "name": "A"}, {"_syncId": "b", "name": "B"}]),
            json!([{"collection": "articles", "field": "body"}]),
            json!([]),
            "changed",
        );
        assert_eq!(
            Summary::between(Some(&old), &specs_only).to_string(),
            "specs"
        );
        assert_eq!(
            Summary::between(None, &old).to_string(),
            "+2 roles, schema 1 field"
        );
    }

    /// `since` reads the old dump from its files, one part at a time: it must say what
    /// `between` says of the whole dumps, split or not, and nothing for an unchanged dump.
    #[test]
    fn the_old_dump_read_from_its_files_gives_the_same_summary() {
        let (old, new) = old_and_new();
        for split in [true, false] {
            let layout = Layout {
                collections: "collections".into(),
                snapshot: "snapshot".into(),
                specs: "specs".into(),
                split,
            };
            let folder = tempfile::tempdir().unwrap();
            let source = super::super::DirSource::new(folder.path());
            for (before, after) in [(&old, &new), (&old, &old), (&new, &old)] {
                before.files(&layout).write_to(folder.path()).unwrap();
                let files = after.files(&layout);
                assert_eq!(
                    Summary::since(&source, &layout, after, &files),
                    Summary::between(Some(before), after),
                    "split: {split}"
                );
            }
            old.files(&layout).write_to(folder.path()).unwrap();
            assert_eq!(
                Summary::since(&source, &layout, &old, &old.files(&layout)).to_string(),
                ""
            );
        }
    }
}

//! The dump in memory, and where each part of it lives below the dump folder.

use super::{DumpError, DumpFiles, DumpSource, collections, snapshot};
use crate::collections::CollectionSpec;
use crate::json::{Compact, json_equal, to_dump_string};
use crate::snapshot::Snapshot;
use crate::specs::Specs;
use serde_json::Value;
use std::path::PathBuf;

/// Where the parts of a dump live, relative to the dump folder (`--collections-path`,
/// `--snapshot-path`, `--specs-path`, `--no-split`).
#[derive(Debug, Clone)]
pub struct Layout {
    pub collections: PathBuf,
    pub snapshot: PathBuf,
    pub specs: PathBuf,
    pub split: bool,
}

pub(super) const SPEC_FILES: [&str; 3] = ["item.graphql", "system.graphql", "openapi.json"];

impl Layout {
    pub fn collection_file(&self, name: &str) -> PathBuf {
        self.collections.join(format!("{name}.json"))
    }
}

/// The parts of a dump a run works on.
#[derive(Debug, Clone)]
pub struct Selection {
    pub snapshot: bool,
    /// In push order.
    pub collections: Vec<&'static CollectionSpec>,
    pub specs: bool,
}

/// A whole dump: what pull produces and diff, push and status consume.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub snapshot: Option<Snapshot>,
    /// The items of each selected collection, in push order, as the files hold them.
    pub collections: Vec<(&'static CollectionSpec, Vec<Compact>)>,
    pub specs: Option<Specs>,
}

impl Dump {
    /// Reads and checks the selected parts. Specs are text nothing pushes: absent ones are
    /// `None`, never an error.
    pub fn read(
        source: &dyn DumpSource,
        layout: &Layout,
        selection: &Selection,
    ) -> Result<Dump, DumpError> {
        let snapshot = match selection.snapshot {
            true => Some(snapshot::read(source, &layout.snapshot, layout.split)?),
            false => None,
        };
        if !selection.collections.is_empty() {
            warn_unknown_files(source, layout)?;
        }
        let mut items = Vec::new();
        for spec in &selection.collections {
            let path = layout.collection_file(spec.name);
            items.push((*spec, collections::read(source, &path)?));
        }
        let specs = match selection.specs {
            true => read_specs(source, layout)?,
            false => None,
        };
        Ok(Dump {
            snapshot,
            collections: items,
            specs,
        })
    }

    /// The items of one collection (none when it is not part of this dump).
    pub fn items(&self, name: &str) -> &[Compact] {
        self.collections
            .iter()
            .find(|(spec, _)| spec.name == name)
            .map(|(_, items)| items.as_slice())
            .unwrap_or_default()
    }

    /// The SyncIds of one collection's items.
    pub fn sync_ids(&self, name: &str) -> std::collections::HashSet<String> {
        self.items(name)
            .iter()
            .filter_map(|item| item.field("_syncId")?.as_str().map(str::to_string))
            .collect()
    }

    /// The files that hold this dump.
    pub fn files(&self, layout: &Layout) -> DumpFiles {
        let mut files = DumpFiles::default();
        for (spec, items) in &self.collections {
            files
                .files
                .push((layout.collection_file(spec.name), to_dump_string(items)));
        }
        if let Some(snapshot) = &self.snapshot {
            let parts = snapshot::files(snapshot, layout.split);
            files.dirs.push((layout.snapshot.clone(), parts));
        }
        if let Some(specs) = &self.specs {
            let texts = [&specs.item_graphql, &specs.system_graphql, &specs.openapi];
            for (name, text) in SPEC_FILES.iter().zip(texts) {
                files.files.push((layout.specs.join(name), text.clone()));
            }
        }
        files
    }

    /// The same configuration (key order, item order and formatting aside).
    pub fn same_as(&self, other: &Dump) -> bool {
        let by_sync_id = |items: &[Compact]| {
            let mut sorted = Compact::values(items);
            sorted.sort_by(|a, b| a["_syncId"].as_str().cmp(&b["_syncId"].as_str()));
            Value::Array(sorted)
        };
        let snapshots = match (&self.snapshot, &other.snapshot) {
            (Some(a), Some(b)) => json_equal(&a.to_value(), &b.to_value()),
            (None, None) => true,
            _ => false,
        };
        snapshots
            && self.collections.len() == other.collections.len()
            && self.collections.iter().all(|(spec, items)| {
                json_equal(&by_sync_id(items), &by_sync_id(other.items(spec.name)))
            })
    }
}

/// Files in the collections folder that no tracked collection reads: a typo (`role.json`) or
/// a file of another tool. Never an error (the dump may hold notes), never silent.
fn warn_unknown_files(source: &dyn DumpSource, layout: &Layout) -> Result<(), DumpError> {
    for path in source.files_under(&layout.collections)? {
        let known = path
            .strip_prefix(&layout.collections)
            .ok()
            .filter(|rest| rest.components().count() == 1)
            .and_then(|rest| rest.to_str()?.strip_suffix(".json"))
            .is_some_and(|name| crate::collections::spec(name).is_some());
        if !known {
            tracing::warn!(
                "{} is not the file of a tracked collection; it is ignored",
                source.display(&path)
            );
        }
    }
    Ok(())
}

fn read_specs(source: &dyn DumpSource, layout: &Layout) -> Result<Option<Specs>, DumpError> {
    let mut texts = Vec::new();
    for name in SPEC_FILES {
        match source.read(&layout.specs.join(name))? {
            Some(bytes) => texts.push(String::from_utf8_lossy(&bytes).into_owned()),
            None => return Ok(None),
        }
    }
    let mut texts = texts.into_iter();
    let mut next = || texts.next().unwrap_or_default();
    Ok(Some(Specs {
        item_graphql: next(),
        system_graphql: next(),
        openapi: next(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::spec;
    use crate::dump::DirSource;
    use serde_json::json;

    fn layout(split: bool) -> Layout {
        Layout {
            collections: "collections".into(),
            snapshot: "snapshot".into(),
            specs: "specs".into(),
            split,
        }
    }

    #[test]
    fn one_layout_writes_and_reads_back_the_same_dump() {
        let roles = spec("roles").unwrap();
        let dump = Dump {
            snapshot: Some(Snapshot::new(json!({
                "version": 1, "directus": "10.13.1", "vendor": "sqlite",
                "collections": [{"collection": "articles", "meta": null}],
                "fields": [{"collection": "articles", "field": "id", "type": "integer"}],
                "relations": []
            }))),
            collections: vec![(
                roles,
                Compact::all(vec![json!({"name": "Editor", "_syncId": "r1"})]),
            )],
            specs: Some(Specs {
                item_graphql: "type Query".into(),
                system_graphql: "type System".into(),
                openapi: "{}\n".into(),
            }),
        };
        for split in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            dump.files(&layout(split)).write_to(dir.path()).unwrap();
            let selection = Selection {
                snapshot: true,
                collections: vec![roles],
                specs: true,
            };
            let back = Dump::read(&DirSource::new(dir.path()), &layout(split), &selection).unwrap();
            assert!(back.same_as(&dump), "split {split}");
            assert_eq!(
                std::fs::read_to_string(dir.path().join("specs/item.graphql")).unwrap(),
                "type Query"
            );
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::collections::COLLECTIONS;
    use crate::dump::DirSource;
    use proptest::prelude::*;

    /// JSON values shaped like dump items, and some that are not.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            prop_oneof![
                Just("../../../../collections/articles".to_string()),
                Just("__admin__".to_string()),
                Just(String::new()),
                "[a-z0-9-]{1,40}",
                any::<String>(),
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let key = prop_oneof![
                Just("_syncId".to_string()),
                Just("id".to_string()),
                Just("collection".to_string()),
                Just("field".to_string()),
                Just("role".to_string()),
                Just("version".to_string()),
                "[a-z_]{1,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key, inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    /// File contents: JSON text, cut short or with bytes that are not UTF-8 now and then.
    fn contents() -> impl Strategy<Value = Vec<u8>> {
        (value(), any::<u8>(), any::<usize>()).prop_map(|(value, mutation, at)| {
            let mut bytes = serde_json::to_vec_pretty(&value).unwrap();
            match mutation % 6 {
                0 => bytes.truncate(at % (bytes.len() + 1)),
                1 => bytes.insert(at % (bytes.len() + 1), 0xff),
                2 => bytes = format!("[{}]", String::from_utf8_lossy(&bytes)).into_bytes(),
                _ => {}
            }
            bytes
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Whatever the files hold, reading and checking a dump ends in a dump or an error
        /// naming a file, never a panic.
        #[test]
        fn any_files_read_to_a_dump_or_an_error(
            files in prop::collection::vec((0usize..16, contents()), 0..12),
            split in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let names: Vec<String> = COLLECTIONS
                .iter()
                .map(|spec| format!("collections/{}.json", spec.name))
                .chain([
                    "snapshot/info.json".to_string(),
                    "snapshot/snapshot.json".to_string(),
                    "snapshot/collections/articles.json".to_string(),
                    "snapshot/fields/articles/id.json".to_string(),
                    "snapshot/relations/articles/author.json".to_string(),
                    "collections/unknown.json".to_string(),
                ])
                .collect();
            for (index, content) in &files {
                let path = dir.path().join(&names[index % names.len()]);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, content).unwrap();
            }
            let layout = Layout {
                collections: "collections".into(),
                snapshot: "snapshot".into(),
                specs: "specs".into(),
                split,
            };
            let selection = Selection {
                snapshot: true,
                collections: COLLECTIONS.iter().collect(),
                specs: true,
            };
            let source = DirSource::new(dir.path());
            match Dump::read(&source, &layout, &selection) {
                Ok(dump) => {
                    if let Err(error) = dump.check(&source, &layout) {
                        prop_assert!(error.to_string().contains(dir.path().to_str().unwrap()));
                    }
                }
                Err(error) => {
                    prop_assert!(error.to_string().contains(dir.path().to_str().unwrap()), "{error}");
                }
            }
        }
    }
}

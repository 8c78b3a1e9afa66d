//! The schema snapshot: fetched from `/schema/snapshot`, split into one file per collection,
//! field and relation (or one `snapshot.json`), read back, diffed and applied by Directus.

mod changes;

pub use changes::{SchemaChange, SchemaChangeKind, SchemaChanges};

use crate::directus::{Client, DirectusError, Request};
use crate::dump::{self, DumpError, DumpSource, json::to_dump_string};
use reqwest::Method;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Id-map tables are instance bookkeeping, never schema to sync (pushing the extension's
/// table to an instance without the extension fails; reference P12).
fn hidden() -> [&'static str; 2] {
    crate::idmap::IdMapStore::hidden_collections()
}

const PARTS: [&str; 3] = ["collections", "fields", "relations"];
const SINGLE_FILE: &str = "snapshot.json";
const INFO_FILE: &str = "info.json";

/// A schema snapshot as Directus shapes it: `{version, directus, vendor, collections, fields,
/// relations}`. Kept as JSON so that fields Directus adds later survive a round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot(pub Value);

impl Snapshot {
    pub async fn fetch(client: &Client) -> Result<Snapshot, DirectusError> {
        let value = client.get("/schema/snapshot").await?;
        let mut snapshot = Snapshot(value);
        snapshot.hide_collections(&hidden());
        Ok(snapshot)
    }

    fn part(&self, name: &str) -> &[Value] {
        self.0
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Drops collections (with their fields and relations) that must never be synced.
    pub fn hide_collections(&mut self, hidden: &[&str]) {
        let Some(object) = self.0.as_object_mut() else {
            return;
        };
        for part in PARTS {
            if let Some(Value::Array(items)) = object.get_mut(part) {
                items.retain(|item| !mentions_hidden(item, hidden));
            }
        }
    }

    /// The files of the dump's snapshot folder, relative to it.
    pub fn to_files(&self, split: bool) -> Vec<(PathBuf, String)> {
        if !split {
            return vec![(PathBuf::from(SINGLE_FILE), to_dump_string(&self.0))];
        }
        let mut files = Vec::new();
        let info: Map<String, Value> = self
            .0
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| !PARTS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        files.push((PathBuf::from(INFO_FILE), to_dump_string(&info)));
        let mut taken = HashSet::new();
        for part in PARTS {
            for item in self.part(part) {
                let collection = item
                    .get("collection")
                    .and_then(Value::as_str)
                    .unwrap_or("_");
                let stem = match item.get("field").and_then(Value::as_str) {
                    Some(field) if part != "collections" => format!("{collection}/{field}"),
                    _ => collection.to_string(),
                };
                let path = unique_path(&mut taken, part, &stem);
                files.push((path, to_dump_string(item)));
            }
        }
        files
    }

    /// Reads the snapshot folder `dir` (relative to the source's root).
    pub fn read(source: &dyn DumpSource, dir: &Path, split: bool) -> Result<Snapshot, DumpError> {
        if !split {
            let path = dir.join(SINGLE_FILE);
            let value = dump::read_json(source, &path)?;
            check_shape(source, &path, &value, &["version"])?;
            return Ok(Snapshot(value));
        }
        let info_path = dir.join(INFO_FILE);
        let info = dump::read_json(source, &info_path)?;
        check_shape(source, &info_path, &info, &["version"])?;
        let mut snapshot = info.as_object().cloned().unwrap_or_default();
        for part in PARTS {
            let mut items = Vec::new();
            for path in source.files_under(&dir.join(part))? {
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let item = dump::read_json(source, &path)?;
                let required: &[&str] = match part {
                    "collections" => &["collection"],
                    _ => &["collection", "field"],
                };
                check_shape(source, &path, &item, required)?;
                items.push(item);
            }
            snapshot.insert(part.to_string(), Value::Array(items));
        }
        Ok(Snapshot(Value::Object(snapshot)))
    }

    /// Asks Directus what applying this snapshot would change. `None`: nothing.
    pub async fn diff(
        &self,
        client: &Client,
        force: bool,
    ) -> Result<Option<SchemaDiff>, DirectusError> {
        // Without `force` first: Directus then says whether the Directus version or the
        // database vendor differs, and only a vendor change makes column types differ.
        let (response, cross_vendor) = match self.request_diff(client, false).await {
            Ok(response) => (response, false),
            Err(DirectusError::Api {
                status: reqwest::StatusCode::BAD_REQUEST,
                message,
                ..
            }) if force && message.contains("does not match the current instance") => {
                let cross_vendor = message.contains("vendor");
                (self.request_diff(client, true).await?, cross_vendor)
            }
            Err(other) => return Err(other),
        };
        let Some(mut diff) = response.get("diff").cloned() else {
            return Ok(None);
        };
        let hash = response.get("hash").cloned().unwrap_or(Value::Null);
        if let Some(object) = diff.as_object_mut() {
            for part in PARTS {
                if let Some(Value::Array(items)) = object.get_mut(part) {
                    items.retain(|item| !mentions_hidden(item, &hidden()));
                    if cross_vendor {
                        drop_vendor_differences(part, items);
                    }
                }
            }
        }
        let schema_diff = SchemaDiff { hash, diff };
        Ok((!schema_diff.changes().is_empty()).then_some(schema_diff))
    }

    async fn request_diff(&self, client: &Client, force: bool) -> Result<Value, DirectusError> {
        let mut request = Request::new(Method::POST, "/schema/diff").body(&self.0);
        if force {
            // Directus treats the mere presence of `force` as true.
            request = request.query("force", "true");
        }
        client.json(request).await
    }
}

/// Column details each database spells its own way (`varchar` and `character varying`, a
/// float's precision, generated constraint names...). Across vendors they are not changes to
/// make: Directus cannot apply them (it would alter primary and foreign keys) and they would
/// reappear after every push.
const VENDOR_SPECIFIC: [&str; 6] = [
    "data_type",
    "max_length",
    "numeric_precision",
    "numeric_scale",
    "constraint_name",
    "is_unique",
];

fn drop_vendor_differences(part: &str, entries: &mut Vec<Value>) {
    let before = entries.len();
    for entry in entries.iter_mut() {
        if let Some(Value::Array(records)) = entry.get_mut("diff") {
            records.retain(|record| {
                let path: Vec<&str> = record
                    .get("path")
                    .and_then(Value::as_array)
                    .map(|p| p.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let edit = record.get("kind").and_then(Value::as_str) == Some("E");
                !(edit
                    && path.len() == 2
                    && path[0] == "schema"
                    && VENDOR_SPECIFIC.contains(&path[1]))
            });
        }
    }
    entries.retain(|entry| {
        entry
            .get("diff")
            .and_then(Value::as_array)
            .is_none_or(|records| !records.is_empty())
    });
    if entries.len() < before {
        tracing::debug!(
            "left out {} {part} whose only differences are the database vendor's column details",
            before - entries.len()
        );
    }
}

/// Directus' answer to `/schema/diff`, sent back unchanged to `/schema/apply`.
#[derive(Debug, Clone)]
pub struct SchemaDiff {
    pub hash: Value,
    pub diff: Value,
}

impl SchemaDiff {
    pub fn changes(&self) -> SchemaChanges {
        SchemaChanges::from_diff(&self.diff)
    }

    pub async fn apply(&self, client: &Client) -> Result<(), DirectusError> {
        let body = serde_json::json!({"hash": self.hash, "diff": self.diff});
        client.post("/schema/apply", &body).await?;
        Ok(())
    }
}

fn mentions_hidden(item: &Value, hidden: &[&str]) -> bool {
    ["collection", "related_collection"].iter().any(|key| {
        item.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|name| hidden.contains(&name))
    })
}

/// `part/stem.json`, or `part/stem_2.json`, ... when a case-insensitive file system would see
/// the name twice (reference P8).
fn unique_path(taken: &mut HashSet<String>, part: &str, stem: &str) -> PathBuf {
    let mut candidate = format!("{part}/{stem}.json");
    let mut n = 1;
    while !taken.insert(candidate.to_lowercase()) {
        n += 1;
        candidate = format!("{part}/{stem}_{n}.json");
    }
    PathBuf::from(candidate)
}

fn check_shape(
    source: &dyn DumpSource,
    path: &Path,
    value: &Value,
    required: &[&str],
) -> Result<(), DumpError> {
    let invalid = |message: String| DumpError::Invalid {
        path: source.display(path),
        message,
    };
    let object = value
        .as_object()
        .ok_or_else(|| invalid("expected a JSON object".into()))?;
    for key in required {
        if !object.contains_key(*key) {
            return Err(invalid(format!("the key {key:?} is missing")));
        }
    }
    if let Some(key) = required
        .iter()
        .find(|k| **k != "version" && !object[**k].is_string())
    {
        return Err(invalid(format!("{key:?} must be a string")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::DirSource;
    use serde_json::json;

    fn sample() -> Snapshot {
        Snapshot(json!({
            "version": 1, "directus": "10.13.1", "vendor": "sqlite",
            "collections": [{"collection": "Articles", "meta": null, "schema": {"name": "Articles"}},
                            {"collection": "articles", "meta": null, "schema": {"name": "articles"}},
                            {"collection": "directus_sync_id_map", "meta": null}],
            "fields": [{"collection": "articles", "field": "title", "type": "string"},
                       {"collection": "directus_sync_id_map", "field": "id"}],
            "relations": [{"collection": "articles", "field": "author", "related_collection": "directus_users"}]
        }))
    }

    #[test]
    fn split_round_trip_hides_the_id_map_and_avoids_case_collisions() {
        let mut snapshot = sample();
        snapshot.hide_collections(&hidden());
        let files = snapshot.to_files(true);
        let names: Vec<_> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "info.json",
                "collections/Articles.json",
                "collections/articles_2.json",
                "fields/articles/title.json",
                "relations/articles/author.json"
            ]
        );
        assert_eq!(
            files[0].1,
            "{\n  \"version\": 1,\n  \"directus\": \"10.13.1\",\n  \"vendor\": \"sqlite\"\n}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        dump::replace_dir(&dir.path().join("snapshot"), &files).unwrap();
        let back =
            Snapshot::read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap();
        assert_eq!(back.part("collections").len(), 2);
        assert_eq!(back.part("fields"), snapshot.part("fields"));
        assert_eq!(back.part("relations"), snapshot.part("relations"));
    }

    #[test]
    fn malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = sample().to_files(true);
        dump::replace_dir(&dir.path().join("snapshot"), &files).unwrap();
        std::fs::write(
            dir.path().join("snapshot/fields/articles/title.json"),
            "[1]",
        )
        .unwrap();
        let error =
            Snapshot::read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap_err();
        assert!(error.to_string().contains("title.json"), "{error}");
        std::fs::remove_file(dir.path().join("snapshot/info.json")).unwrap();
        let error =
            Snapshot::read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap_err();
        assert!(error.to_string().contains("info.json") && error.to_string().contains("missing"));
    }
}

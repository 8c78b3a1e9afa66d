//! The whole dump is checked before anything is planned: a dump that lost a folder, holds a
//! malformed SyncId or two settings rows is one error naming the file and the fix, never a
//! plan that deletes what the files no longer mention.

use super::{Dump, DumpError, DumpSource, Layout};
use crate::collections::IdPolicy;
use crate::json::Compact;
use crate::snapshot::Snapshot;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// The longest SyncId accepted (the extension's and our id-map columns hold 255).
const MAX_SYNC_ID: usize = 255;

/// What Directus ids and the original tool's SyncIds look like (UUIDs, integers, `__admin__`):
/// letters, digits, `_` and `-`. Nothing that could form a path or a query.
pub fn is_sync_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SYNC_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Dump {
    /// Items are well-formed: SyncIds, no instance ids, singletons single.
    pub fn check(&self, source: &dyn DumpSource, layout: &Layout) -> Result<(), DumpError> {
        for (spec, items) in &self.collections {
            let invalid = |message: String| DumpError::Invalid {
                path: source.display(&layout.collection_file(spec.name)),
                message,
            };
            if spec.id_policy == IdPolicy::Singleton && items.len() > 1 {
                return Err(invalid(format!(
                    "{} holds one item on every instance, but the file has {}",
                    spec.name,
                    items.len()
                )));
            }
            for (index, item) in items.iter().map(Compact::value).enumerate() {
                let Some(object) = item.as_object() else {
                    return Err(invalid(format!("item {index} is not a JSON object")));
                };
                match object.get("_syncId") {
                    Some(Value::String(id)) if is_sync_id(id) => {}
                    Some(Value::String(id)) => {
                        return Err(invalid(format!(
                            "item {index} has the _syncId {:?}; a SyncId holds only letters, digits, `_` and `-` (at most {MAX_SYNC_ID})",
                            shorten(id)
                        )));
                    }
                    _ => return Err(invalid(format!("item {index} has no string \"_syncId\""))),
                }
                if object.contains_key("id") {
                    return Err(invalid(format!(
                        "item {index} has an \"id\": ids belong to each instance; remove it (the _syncId names the item)"
                    )));
                }
            }
        }
        if let Some(snapshot) = &self.snapshot
            && layout.split
        {
            check_split_snapshot(snapshot, source, &layout.snapshot)?;
        }
        Ok(())
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A split snapshot whose folders went missing (a sparse checkout, a `.gitignore` pattern, a
/// partial commit) would drop collections and fields: its parts must fit together.
fn check_split_snapshot(
    snapshot: &Snapshot,
    source: &dyn DumpSource,
    dir: &Path,
) -> Result<(), DumpError> {
    let name = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
    let folder = |part: &str| source.display(&dir.join(part));
    let missing = |part: &str, message: String| DumpError::Incomplete {
        path: format!("{}/", folder(part)),
        message,
    };
    // Each entry is parsed once, for the names the checks below need.
    let (mut collections, mut tables) = (HashSet::new(), Vec::new());
    for entry in snapshot.part("collections").iter().map(Compact::value) {
        let Some(collection) = name(&entry, "collection") else {
            continue;
        };
        if entry.get("schema").is_some_and(|s| !s.is_null()) {
            tables.push(collection.clone());
        }
        collections.insert(collection);
    }
    let key = |entry: &Value| Some((name(entry, "collection")?, name(entry, "field")?));
    let (mut fields, mut foreign_keys) = (HashSet::new(), Vec::new());
    for entry in snapshot.part("fields").iter().map(Compact::value) {
        let Some(key) = key(&entry) else {
            continue;
        };
        if entry
            .pointer("/schema/foreign_key_table")
            .is_some_and(|t| !t.is_null())
        {
            foreign_keys.push(key.clone());
        }
        fields.insert(key);
    }
    let relations: HashSet<(String, String)> = snapshot
        .part("relations")
        .iter()
        .filter_map(|r| key(&r.value()))
        .collect();
    let with_fields: HashSet<&str> = fields.iter().map(|(c, _)| c.as_str()).collect();
    // A collection backed by a table has at least its primary key.
    if let Some(table) = tables.iter().find(|t| !with_fields.contains(t.as_str())) {
        return Err(missing(
            "fields",
            format!(
                "the collection {table:?} has no field files (it has a table, so at least its primary key)"
            ),
        ));
    }
    // Fields of system collections (`directus_users`) are the only ones without a collection.
    if let Some((collection, field)) = fields
        .iter()
        .find(|(c, _)| !c.starts_with("directus_") && !collections.contains(c))
    {
        return Err(missing(
            "collections",
            format!(
                "the field {collection}.{field} belongs to the collection {collection:?}, which has no collection file"
            ),
        ));
    }
    if let Some((collection, field)) = foreign_keys.iter().find(|key| !relations.contains(*key)) {
        return Err(missing(
            "relations",
            format!("the field {collection}.{field} is a foreign key without a relation file"),
        ));
    }
    if let Some((collection, field)) = relations.iter().find(|key| !fields.contains(key)) {
        let system = collection.starts_with("directus_");
        if !system {
            return Err(missing(
                "fields",
                format!("the relation {collection}.{field} has no field file"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::spec;
    use crate::dump::DirSource;
    use serde_json::json;

    fn layout() -> Layout {
        Layout {
            collections: "collections".into(),
            snapshot: "snapshot".into(),
            specs: "specs".into(),
            split: true,
        }
    }

    fn check(dump: &Dump) -> Result<(), String> {
        dump.check(&DirSource::new("/dump"), &layout())
            .map_err(|e| e.to_string())
    }

    fn schema(collections: Value, fields: Value, relations: Value) -> Dump {
        Dump {
            snapshot: Some(Snapshot::new(
                json!({"version": 1, "directus": "10.13.1", "vendor": "sqlite",
                "collections": collections, "fields": fields, "relations": relations}),
            )),
            ..Dump::default()
        }
    }

    #[test]
    fn sync_ids_look_like_ids() {
        for good in [
            "__admin__",
            "0f6a9f5e-1b7a-4c3e-9a9e-8b7c6d5e4f3a",
            "12",
            "abc_DEF-9",
        ] {
            assert!(is_sync_id(good), "{good}");
        }
        for bad in [
            "",
            "../../../../collections/articles",
            "a/b",
            "a b",
            "é",
            "a?x=1",
            &"x".repeat(256),
        ] {
            assert!(!is_sync_id(bad), "{bad}");
        }
    }

    #[test]
    fn items_are_checked_naming_the_file() {
        let roles = spec("roles").unwrap();
        let settings = spec("settings").unwrap();
        let with = |spec, items: Value| Dump {
            collections: vec![(spec, Compact::all(items.as_array().unwrap().clone()))],
            ..Dump::default()
        };
        assert!(check(&with(roles, json!([{"name": "A", "_syncId": "a"}]))).is_ok());
        let error = check(&with(roles, json!([{"_syncId": "../../x"}]))).unwrap_err();
        assert!(
            error.starts_with("/dump/collections/roles.json: item 0 has the _syncId"),
            "{error}"
        );
        let error = check(&with(roles, json!([{"id": "x", "_syncId": "a"}]))).unwrap_err();
        assert!(error.contains("has an \"id\""), "{error}");
        let error =
            check(&with(settings, json!([{"_syncId": "a"}, {"_syncId": "b"}]))).unwrap_err();
        assert!(
            error.contains("settings.json") && error.contains("has 2"),
            "{error}"
        );
    }

    #[test]
    fn a_split_snapshot_with_a_folder_missing_is_refused() {
        let articles = json!([{"collection": "articles", "schema": {"name": "articles"}}]);
        let fields = json!([{"collection": "articles", "field": "id", "schema": {"foreign_key_table": null}},
                            {"collection": "articles", "field": "author", "schema": {"foreign_key_table": "authors"}},
                            {"collection": "directus_users", "field": "nickname", "schema": {}}]);
        let relations = json!([{"collection": "articles", "field": "author"}]);
        assert!(check(&schema(articles.clone(), fields.clone(), relations.clone())).is_ok());
        let error = check(&schema(json!([]), fields.clone(), relations.clone())).unwrap_err();
        assert!(error.starts_with("/dump/snapshot/collections/:"), "{error}");
        let error = check(&schema(articles.clone(), json!([]), relations.clone())).unwrap_err();
        assert!(error.starts_with("/dump/snapshot/fields/:"), "{error}");
        let error = check(&schema(articles.clone(), fields.clone(), json!([]))).unwrap_err();
        assert!(error.starts_with("/dump/snapshot/relations/:"), "{error}");
        assert!(
            check(&schema(json!([]), json!([]), json!([]))).is_ok(),
            "an empty schema is fine"
        );
    }
}

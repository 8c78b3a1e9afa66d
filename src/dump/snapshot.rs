//! The snapshot's files: one `info.json`, then one file per collection, field and relation
//! (`collections/<c>.json`, `fields/<c>/<f>.json`, `relations/<c>/<f>.json`), or one
//! `snapshot.json` with `--no-split`.

use super::{DumpError, DumpSource, json::to_dump_string, read_json};
use crate::json::Compact;
use crate::snapshot::{PARTS, Snapshot};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const SINGLE_FILE: &str = "snapshot.json";
const INFO_FILE: &str = "info.json";

/// Whether a file of the snapshot folder (relative to it) is one that pull writes, and so one
/// it may replace: `info.json`, `snapshot.json`, or a `.json` file below one of the parts.
pub fn is_own_file(path: &Path) -> bool {
    let json = path.extension().is_some_and(|e| e == "json");
    let mut components = path.components().map(|c| c.as_os_str());
    let first = components.next();
    let depth = path.components().count();
    json && match depth {
        1 => first.is_some_and(|f| f == INFO_FILE || f == SINGLE_FILE),
        2 | 3 => first.is_some_and(|f| PARTS.iter().any(|part| f == *part)),
        _ => false,
    }
}

/// The files of the snapshot folder, relative to it.
pub fn files(snapshot: &Snapshot, split: bool) -> Vec<(PathBuf, String)> {
    if !split {
        return vec![(PathBuf::from(SINGLE_FILE), to_dump_string(snapshot))];
    }
    let mut files = Vec::new();
    files.push((PathBuf::from(INFO_FILE), to_dump_string(&snapshot.info())));
    let mut taken = HashSet::new();
    for part in PARTS {
        for item in snapshot.part(part) {
            let item = item.value();
            let collection = item
                .get("collection")
                .and_then(Value::as_str)
                .unwrap_or("_");
            let stem = match item.get("field").and_then(Value::as_str) {
                Some(field) if part != "collections" => {
                    format!("{}/{}", file_stem(collection), file_stem(field))
                }
                _ => file_stem(collection),
            };
            let path = unique_path(&mut taken, part, &stem);
            files.push((path, to_dump_string(&item)));
        }
    }
    files
}

/// A collection or field name as a file name that stays in its folder: names Directus
/// accepts (any alias field name) may hold `/` or be `..`. Ordinary names are unchanged, so
/// dumps stay as the original tool writes them.
pub fn file_stem(name: &str) -> String {
    match name {
        "" => "%00".to_string(),
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ => name.chars().fold(String::new(), |mut out, c| {
            // Characters no file name may hold on some system, `%` (so that the encoding reads
            // back unambiguously) and control characters; any other letter stays as it is.
            if c.is_control() || "/\\:*?\"<>|%".contains(c) {
                let mut bytes = [0; 4];
                for byte in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            } else {
                out.push(c);
            }
            out
        }),
    }
}

/// Reads the snapshot folder `dir` (relative to the source's root).
pub fn read(source: &dyn DumpSource, dir: &Path, split: bool) -> Result<Snapshot, DumpError> {
    if !split {
        let path = dir.join(SINGLE_FILE);
        let value = read_json(source, &path)?;
        check_shape(source, &path, &value, &["version"])?;
        return Ok(Snapshot::new(value));
    }
    let info_path = dir.join(INFO_FILE);
    let info = read_json(source, &info_path)?;
    check_shape(source, &info_path, &info, &["version"])?;
    let info = info.as_object().cloned().unwrap_or_default();
    let mut parts: [Vec<Compact>; 3] = Default::default();
    for (part, items) in PARTS.iter().zip(&mut parts) {
        for path in source.files_under(&dir.join(part))? {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let item = read_json(source, &path)?;
            let required: &[&str] = match *part {
                "collections" => &["collection"],
                _ => &["collection", "field"],
            };
            check_shape(source, &path, &item, required)?;
            items.push(Compact::new(&item));
        }
    }
    Ok(Snapshot::of_parts(info, parts))
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
    use crate::snapshot::hidden;
    use serde_json::json;

    fn sample() -> Snapshot {
        Snapshot::new(json!({
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
        let files = files(&snapshot, true);
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
        crate::dump::replace_dir(&dir.path().join("snapshot"), &files).unwrap();
        let back = read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap();
        assert_eq!(back.part("collections").len(), 2);
        assert_eq!(back.part("fields"), snapshot.part("fields"));
        assert_eq!(back.part("relations"), snapshot.part("relations"));
    }

    #[test]
    fn names_from_directus_never_leave_their_folder() {
        assert_eq!(file_stem("articles"), "articles");
        assert_eq!(file_stem("Émile_2"), "Émile_2");
        assert_eq!(file_stem("../../../../pwned"), "..%2F..%2F..%2F..%2Fpwned");
        assert_eq!(file_stem(".."), "%2E%2E");
        assert_eq!(file_stem("a%2Fb"), "a%252Fb");
        let snapshot = Snapshot::new(json!({
            "version": 1, "collections": [{"collection": "articles"}],
            "fields": [{"collection": "articles", "field": "../../../../pwned"},
                       {"collection": "articles", "field": ".."}],
            "relations": []
        }));
        for (path, _) in files(&snapshot, true) {
            assert!(
                path.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{}",
                path.display()
            );
            assert!(path.components().count() <= 3, "{}", path.display());
        }
    }

    #[test]
    fn malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(&sample(), true);
        crate::dump::replace_dir(&dir.path().join("snapshot"), &files).unwrap();
        std::fs::write(
            dir.path().join("snapshot/fields/articles/title.json"),
            "[1]",
        )
        .unwrap();
        let error = read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap_err();
        assert!(error.to_string().contains("title.json"), "{error}");
        std::fs::remove_file(dir.path().join("snapshot/info.json")).unwrap();
        let error = read(&DirSource::new(dir.path()), Path::new("snapshot"), true).unwrap_err();
        assert!(error.to_string().contains("info.json") && error.to_string().contains("missing"));
    }
}

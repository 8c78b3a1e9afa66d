//! Collection files: `collections/<name>.json`, a JSON array of items with `_syncId` last.

use super::{DumpError, DumpSource, parse_json};
use crate::json::Compact;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// Reads a collection file. A missing or malformed file is an error, never an empty list:
/// an empty list would make push delete every tracked item of the collection.
pub fn read(source: &dyn DumpSource, path: &Path) -> Result<Vec<Compact>, DumpError> {
    let bytes = source.read(path)?.ok_or_else(|| DumpError::Missing {
        path: source.display(path),
    })?;
    let value = parse_json(source, path, &bytes)?;
    let invalid = |message: String| DumpError::Invalid {
        path: source.display(path),
        message,
    };
    let Value::Array(items) = value else {
        return Err(invalid("expected a JSON array of items".into()));
    };
    let mut seen = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let sync_id = item
            .as_object()
            .ok_or_else(|| invalid(format!("item {index} is not a JSON object")))?
            .get("_syncId")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("item {index} has no string \"_syncId\"")))?;
        if !seen.insert(sync_id.to_string()) {
            return Err(invalid(format!("the _syncId {sync_id:?} appears twice")));
        }
    }
    Ok(Compact::all(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::{DirSource, write_file_atomic};

    #[test]
    fn rejects_files_that_would_delete_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let source = DirSource::new(dir.path());
        let error = read(&source, Path::new("collections/roles.json")).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("collections/roles.json is missing"),
            "{error}"
        );
        for (text, expected) in [
            ("{}", "expected a JSON array"),
            ("[1]", "item 0 is not a JSON object"),
            ("[{\"name\": \"x\"}]", "item 0 has no string \"_syncId\""),
            (
                "[{\"_syncId\": \"a\"}, {\"_syncId\": \"a\"}]",
                "appears twice",
            ),
            ("[{\"_syncId\": \"a\"", "not valid JSON"),
        ] {
            write_file_atomic(&dir.path().join("collections/roles.json"), text.as_bytes()).unwrap();
            let error = read(&source, Path::new("collections/roles.json"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("roles.json") && error.contains(expected),
                "{error}"
            );
        }
    }
}

//! Reading and editing a dump folder the way a user edits it by hand.

use std::path::Path;

use serde_json::Value;

use super::DirectusInstance;
use super::seed::all_collections;

/// An instance seeded with [`all_collections`] and a temp folder holding the dump pulled from
/// it: where the tests that edit a dump by hand start.
#[track_caller]
pub fn seeded_and_pulled(start: fn() -> DirectusInstance) -> (DirectusInstance, tempfile::TempDir) {
    let instance = start();
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    instance.ok(work.path(), &["pull"]);
    (instance, work)
}

/// The items of one tracked collection in the dump below `dir`.
#[track_caller]
pub fn collection_file(dir: &Path, name: &str) -> Vec<Value> {
    let path = dir.join(format!("directus-config/collections/{name}.json"));
    // `match`, not `unwrap_or_else(|e| panic!(..))`: a closure's panic would name this file,
    // not the test's line.
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    match serde_json::from_str(&text) {
        Ok(items) => items,
        Err(e) => panic!("{} is not a JSON array: {e}", path.display()),
    }
}

/// Replaces one collection's items in the dump below `dir`.
#[track_caller]
pub fn write_collection(dir: &Path, name: &str, items: &[Value]) {
    let path = dir.join(format!("directus-config/collections/{name}.json"));
    std::fs::write(path, serde_json::to_string_pretty(items).unwrap()).unwrap();
}

/// Every file below `root`, as paths relative to it, sorted.
#[track_caller]
pub fn files_below(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}

//! Dumps inside git trees: read one without a checkout, and build the tree of a pull.

use super::GitError;
use crate::dump::{DumpError, DumpSource, DumpWrite};
use crate::plan::json_equal;
use git2::{FileMode, ObjectType, Oid, Repository, Tree};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A dump read from a commit's tree, held in memory (dumps are small), so that it can be
/// used from any thread like a folder.
pub struct GitTreeSource {
    files: HashMap<PathBuf, Vec<u8>>,
    label: String,
}

fn walk(
    repo: &Repository,
    tree: &Tree,
    prefix: &Path,
    out: &mut Vec<(PathBuf, Oid, i32)>,
) -> Result<(), git2::Error> {
    for entry in tree.iter() {
        let name = entry.name().unwrap_or_default();
        let path = prefix.join(name);
        match entry.kind() {
            Some(ObjectType::Tree) => walk(repo, &repo.find_tree(entry.id())?, &path, out)?,
            Some(ObjectType::Blob) => out.push((path, entry.id(), entry.filemode())),
            _ => {}
        }
    }
    Ok(())
}

fn subtree<'r>(
    repo: &'r Repository,
    root: &Tree<'r>,
    path: &Path,
) -> Result<Option<Tree<'r>>, git2::Error> {
    if path.as_os_str().is_empty() {
        return Ok(Some(root.clone()));
    }
    match root.get_path(path) {
        Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
            Ok(Some(repo.find_tree(entry.id())?))
        }
        Ok(_) => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl GitTreeSource {
    pub fn load(
        repo: &Repository,
        root: &Tree,
        dump_path: &Path,
        rev: &str,
        label: String,
    ) -> Result<Self, GitError> {
        let dump = subtree(repo, root, dump_path)?.ok_or_else(|| GitError::NoDump {
            rev: rev.to_string(),
            path: dump_path.display().to_string(),
        })?;
        let mut entries = Vec::new();
        walk(repo, &dump, Path::new(""), &mut entries)?;
        let mut files = HashMap::new();
        for (path, oid, _) in entries {
            files.insert(path, repo.find_blob(oid)?.content().to_vec());
        }
        Ok(GitTreeSource { files, label })
    }
}

impl DumpSource for GitTreeSource {
    fn display(&self, path: &Path) -> String {
        format!("{}/{}", self.label.trim_end_matches('/'), path.display())
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, DumpError> {
        Ok(self.files.get(&crate::config::normalize(path)).cloned())
    }

    fn files_under(&self, dir: &Path) -> Result<Vec<PathBuf>, DumpError> {
        let dir = crate::config::normalize(dir);
        let mut files: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| p.starts_with(&dir))
            .cloned()
            .collect();
        files.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        Ok(files)
    }
}

/// One file a pull changed: its path in the dump, old and new contents (`None`: absent).
pub type FileChange = (PathBuf, Option<Vec<u8>>, Option<Vec<u8>>);

/// The files a pull changed in the dump.
#[derive(Debug, Default)]
pub struct DumpChanges {
    pub changed: Vec<FileChange>,
}

impl DumpChanges {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }

    /// `+1 roles, ~3 permissions, -1 flows, schema 2 fields`: items by SyncId per collection
    /// file, schema files by kind.
    pub fn summary(&self, collections_path: &Path, snapshot_path: &Path) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut schema: BTreeMap<&str, usize> = BTreeMap::new();
        let mut specs = false;
        for (path, old, new) in &self.changed {
            let path = crate::config::normalize(path);
            if let Ok(file) = path.strip_prefix(crate::config::normalize(collections_path))
                && let Some(name) = file.file_stem().and_then(|s| s.to_str())
                && file.components().count() == 1
            {
                let (added, changed, removed) = item_counts(old.as_deref(), new.as_deref());
                for (sign, count) in [('+', added), ('~', changed), ('-', removed)] {
                    if count > 0 {
                        parts.push(format!("{sign}{count} {name}"));
                    }
                }
            } else if let Ok(file) = path.strip_prefix(crate::config::normalize(snapshot_path)) {
                let kind = match file
                    .components()
                    .next()
                    .and_then(|c| c.as_os_str().to_str())
                {
                    Some("collections") => "collections",
                    Some("fields") => "fields",
                    Some("relations") => "relations",
                    _ => "changes",
                };
                *schema.entry(kind).or_default() += 1;
            } else {
                specs = true;
            }
        }
        // Many collections changed at once (a first pull): totals read better.
        if parts.len() > 6 {
            let mut totals = [0usize; 3];
            for (_, old, new) in &self.changed {
                let (a, c, r) = item_counts(old.as_deref(), new.as_deref());
                totals[0] += a;
                totals[1] += c;
                totals[2] += r;
            }
            let signed: Vec<String> = ["+", "~", "-"]
                .iter()
                .zip(totals)
                .filter(|(_, n)| *n > 0)
                .map(|(sign, n)| format!("{sign}{n}"))
                .collect();
            parts = vec![format!("{} items", signed.join(" "))];
        }
        let kinds: Vec<String> = ["collections", "fields", "relations"]
            .iter()
            .filter_map(|kind| {
                let n = *schema.get(kind)?;
                let noun = if n == 1 {
                    kind.trim_end_matches('s')
                } else {
                    kind
                };
                Some(format!("{n} {noun}"))
            })
            .collect();
        match (kinds.is_empty(), schema.is_empty()) {
            (false, _) => parts.push(format!("schema {}", kinds.join(", "))),
            (true, false) => parts.push("schema".into()),
            (true, true) => {}
        }
        if parts.is_empty() && specs {
            parts.push("specs".into());
        }
        parts.join(", ")
    }
}

/// Items added, changed and removed between two versions of a collection file.
fn item_counts(old: Option<&[u8]>, new: Option<&[u8]>) -> (usize, usize, usize) {
    let items = |bytes: Option<&[u8]>| -> HashMap<String, Value> {
        bytes
            .and_then(|b| serde_json::from_slice::<Vec<Value>>(b).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|item| Some((item.get("_syncId")?.as_str()?.to_string(), item)))
            .collect()
    };
    let (old, new) = (items(old), items(new));
    let added = new.keys().filter(|k| !old.contains_key(*k)).count();
    let removed = old.keys().filter(|k| !new.contains_key(*k)).count();
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| !json_equal(o, v)))
        .count();
    (added, changed, removed)
}

/// The root tree of `base` with the dump at `dump_path` updated by `write`, and what changed.
pub fn apply_write(
    repo: &Repository,
    base: Option<&Tree>,
    dump_path: &Path,
    write: &DumpWrite,
) -> Result<(Oid, DumpChanges), GitError> {
    let mut old: BTreeMap<PathBuf, (Oid, i32)> = BTreeMap::new();
    if let Some(base) = base
        && let Some(dump) = subtree(repo, base, dump_path)?
    {
        let mut entries = Vec::new();
        walk(repo, &dump, Path::new(""), &mut entries)?;
        old.extend(entries.into_iter().map(|(p, oid, mode)| (p, (oid, mode))));
    }
    let mut new = old.clone();
    let blob_mode = i32::from(FileMode::Blob);
    for (dir, files) in &write.dirs {
        let dir = crate::config::normalize(dir);
        new.retain(|path, _| !path.starts_with(&dir));
        for (path, content) in files {
            new.insert(dir.join(path), (repo.blob(content.as_bytes())?, blob_mode));
        }
    }
    for (path, content) in &write.files {
        new.insert(
            crate::config::normalize(path),
            (repo.blob(content.as_bytes())?, blob_mode),
        );
    }
    let mut changes = DumpChanges::default();
    let content = |oid: Oid| repo.find_blob(oid).map(|b| b.content().to_vec());
    for (path, (oid, _)) in &new {
        match old.get(path) {
            Some((old_oid, _)) if old_oid == oid => {}
            Some((old_oid, _)) => {
                changes
                    .changed
                    .push((path.clone(), Some(content(*old_oid)?), Some(content(*oid)?)))
            }
            None => changes
                .changed
                .push((path.clone(), None, Some(content(*oid)?))),
        }
    }
    for (path, (oid, _)) in &old {
        if !new.contains_key(path) {
            changes
                .changed
                .push((path.clone(), Some(content(*oid)?), None));
        }
    }
    let dump_tree = build_tree(repo, &new)?;
    let root = graft(repo, base, dump_path, dump_tree)?;
    Ok((root, changes))
}

/// A tree from a flat map of paths to blobs.
fn build_tree(
    repo: &Repository,
    files: &BTreeMap<PathBuf, (Oid, i32)>,
) -> Result<Oid, git2::Error> {
    let mut here: BTreeMap<String, (Oid, i32)> = BTreeMap::new();
    let mut below: BTreeMap<String, BTreeMap<PathBuf, (Oid, i32)>> = BTreeMap::new();
    for (path, entry) in files {
        let mut components = path.components();
        let first = components
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let rest = components.as_path();
        if rest.as_os_str().is_empty() {
            here.insert(first, *entry);
        } else {
            below
                .entry(first)
                .or_default()
                .insert(rest.to_path_buf(), *entry);
        }
    }
    let mut builder = repo.treebuilder(None)?;
    for (name, (oid, mode)) in here {
        builder.insert(name, oid, mode)?;
    }
    for (name, children) in below {
        let oid = build_tree(repo, &children)?;
        builder.insert(name, oid, i32::from(FileMode::Tree))?;
    }
    builder.write()
}

/// `base` with the tree at `path` replaced by `subtree` (parents rebuilt as needed).
fn graft(
    repo: &Repository,
    base: Option<&Tree>,
    path: &Path,
    subtree_oid: Oid,
) -> Result<Oid, git2::Error> {
    let mut components = path.components();
    let Some(first) = components.next() else {
        return Ok(subtree_oid);
    };
    let name = first.as_os_str().to_string_lossy().to_string();
    let rest = components.as_path();
    let child = match base.and_then(|b| b.get_name(&name)) {
        Some(entry) if entry.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(entry.id())?),
        _ => None,
    };
    let new_child = graft(repo, child.as_ref(), rest, subtree_oid)?;
    let mut builder = repo.treebuilder(base)?;
    builder.insert(name, new_child, i32::from(FileMode::Tree))?;
    builder.write()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, old: Option<&str>, new: Option<&str>) -> FileChange {
        let bytes = |s: Option<&str>| s.map(|s| s.as_bytes().to_vec());
        (PathBuf::from(path), bytes(old), bytes(new))
    }

    #[test]
    fn summary_counts_items_by_sync_id_and_schema_files_by_kind() {
        let changes = DumpChanges {
            changed: vec![
                change(
                    "collections/roles.json",
                    Some(r#"[{"_syncId":"a","name":"A"},{"_syncId":"b","name":"B"}]"#),
                    Some(r#"[{"_syncId":"a","name":"A2"},{"_syncId":"c","name":"C"}]"#),
                ),
                change("snapshot/fields/articles/title.json", None, Some("{}")),
                change("snapshot/fields/articles/body.json", Some("{}"), None),
                change("snapshot/relations/articles/author.json", None, Some("{}")),
                change("specs/item.graphql", Some("a"), Some("b")),
            ],
        };
        assert_eq!(
            changes.summary(Path::new("collections"), Path::new("snapshot")),
            "+1 roles, ~1 roles, -1 roles, schema 2 fields, 1 relation"
        );
        let specs_only = DumpChanges {
            changed: vec![change("specs/item.graphql", Some("a"), Some("b"))],
        };
        assert_eq!(
            specs_only.summary(Path::new("collections"), Path::new("snapshot")),
            "specs"
        );
    }
}

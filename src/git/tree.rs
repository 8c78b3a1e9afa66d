//! Dumps inside git trees: read one without a checkout, and build the tree of a pull.

use super::GitError;
use crate::dump::{DumpError, DumpFiles, DumpSource};
use git2::{FileMode, ObjectType, Oid, Repository, Tree};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A dump read from a commit's tree without a checkout. Each file is read from the object
/// database when asked for, so that a run holds only the parts it reads; the repository is
/// opened again behind a lock, so that the source can be used from any thread like a folder.
pub struct GitTreeSource {
    files: HashMap<PathBuf, Oid>,
    repo: Mutex<Repository>,
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

pub(super) fn subtree<'r>(
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
        let files = entries
            .into_iter()
            .map(|(path, oid, _)| (path, oid))
            .collect();
        let repo = Mutex::new(Repository::open(repo.path())?);
        Ok(GitTreeSource { files, repo, label })
    }
}

impl DumpSource for GitTreeSource {
    fn display(&self, path: &Path) -> String {
        format!("{}/{}", self.label.trim_end_matches('/'), path.display())
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, DumpError> {
        let Some(oid) = self.files.get(&crate::dump::normalize(path)) else {
            return Ok(None);
        };
        let repo = self
            .repo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let blob = repo.find_blob(*oid).map_err(|e| DumpError::Read {
            path: self.display(path),
            source: std::io::Error::other(e.message().to_string()),
        })?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Compares object ids: no blob is read.
    fn holds(&self, path: &Path, bytes: &[u8]) -> Result<bool, DumpError> {
        let Some(oid) = self.files.get(&crate::dump::normalize(path)) else {
            return Ok(false);
        };
        Ok(Oid::hash_object(ObjectType::Blob, bytes).is_ok_and(|hashed| hashed == *oid))
    }

    fn files_under(&self, dir: &Path) -> Result<Vec<PathBuf>, DumpError> {
        let dir = crate::dump::normalize(dir);
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

/// A pull's new tree: the root, whether the dump changed, and the dump's files before and
/// after (relative to the dump folder).
pub struct Written {
    pub root: Oid,
    pub changed: bool,
    pub before: Vec<PathBuf>,
    pub after: Vec<PathBuf>,
}

/// The root tree of `base` with the dump at `dump_path` updated by `write`. A file that
/// `.gitignore` ignores (`ignored`, given the dump-relative path) is left out unless the base
/// already tracks it, as `git add` does.
pub fn apply_write(
    repo: &Repository,
    base: Option<&Tree>,
    dump_path: &Path,
    write: &DumpFiles,
    ignored: &dyn Fn(&Path) -> bool,
) -> Result<Written, GitError> {
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
    let mut put = |path: PathBuf, content: &str| -> Result<(), git2::Error> {
        if !old.contains_key(&path) && ignored(&path) {
            tracing::debug!("{} is ignored by .gitignore: not committed", path.display());
            return Ok(());
        }
        new.insert(path, (repo.blob(content.as_bytes())?, blob_mode));
        Ok(())
    };
    for (dir, files) in &write.dirs {
        let dir = crate::dump::normalize(dir);
        for (path, content) in files {
            put(dir.join(path), content)?;
        }
    }
    for (path, content) in &write.files {
        put(crate::dump::normalize(path), content)?;
    }
    // A replaced folder keeps only what was just written into it.
    for (dir, files) in &write.dirs {
        let dir = crate::dump::normalize(dir);
        let kept: std::collections::HashSet<PathBuf> =
            files.iter().map(|(path, _)| dir.join(path)).collect();
        new.retain(|path, _| !path.starts_with(&dir) || kept.contains(path));
    }
    let changed = old.len() != new.len()
        || new
            .iter()
            .any(|(path, (oid, _))| old.get(path).is_none_or(|(old_oid, _)| old_oid != oid));
    let dump_tree = build_tree(repo, &new)?;
    let root = graft(repo, base, dump_path, dump_tree)?;
    Ok(Written {
        root,
        changed,
        before: old.into_keys().collect(),
        after: new.into_keys().collect(),
    })
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
pub(super) fn graft(
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

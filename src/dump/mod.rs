//! The dump: one in-memory model ([`Dump`]) with one layout ([`Layout`]) used both to read it
//! (from a folder or a git tree, through [`DumpSource`]) and to write it ([`DumpFiles`], to a
//! folder atomically or to a git tree), in the original tool's exact format.

pub mod collections;
mod model;
pub mod snapshot;
mod source;
mod summary;
mod validate;

use model::SPEC_FILES;
pub use model::{Dump, Layout, Selection};
pub use source::{DirSource, DumpSource};
pub use summary::{ChangedItem, Counts, Summary, changed_items};
pub use validate::is_sync_id;

use crate::json;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("{path} is missing")]
    Missing { path: String },
    #[error("{path} is not valid JSON: {message}")]
    Malformed { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Incomplete { path: String, message: String },
    #[error("{path} is not a file directus-sync writes, and pull replaces its folder whole")]
    Foreign { path: String },
}

impl DumpError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            DumpError::Missing { .. } => Some(
                "pull first, or point --dump-path (and --snapshot-path, --collections-path) at an existing dump",
            ),
            DumpError::Malformed { .. } | DumpError::Invalid { .. } => {
                Some("fix the file by hand, or restore it from git (git checkout -- <file>)")
            }
            DumpError::Foreign { .. } => Some(
                "move it out of the folder (nothing was written), or choose another --snapshot-path",
            ),
            _ => None,
        }
    }
}

/// What a pull writes, relative to the dump root: whole folders that are replaced (the
/// snapshot) and single files (collections, specs). Files of the dump not named here stay.
#[derive(Debug, Default)]
pub struct DumpFiles {
    pub dirs: Vec<(PathBuf, Vec<(PathBuf, String)>)>,
    pub files: Vec<(PathBuf, String)>,
}

impl DumpFiles {
    /// The text of the file at `path` (relative to the dump folder), when this writes one.
    pub fn text(&self, path: &Path) -> Option<&str> {
        let file = self.files.iter().find(|(p, _)| p == path);
        let in_dir = || {
            self.dirs.iter().find_map(|(dir, files)| {
                let inner = path.strip_prefix(dir).ok()?;
                files.iter().find(|(p, _)| p == inner)
            })
        };
        file.or_else(in_dir).map(|(_, text)| text.as_str())
    }

    /// The files of the folder `dir` this replaces, relative to it.
    pub fn dir(&self, dir: &Path) -> Option<&[(PathBuf, String)]> {
        self.dirs
            .iter()
            .find(|(d, _)| d == dir)
            .map(|(_, files)| files.as_slice())
    }

    /// Writes into the dump folder `root` on disk, each file and folder atomically.
    pub fn write_to(&self, root: &Path) -> Result<(), DumpError> {
        // Every replaced folder is checked before the first write.
        for (dir, _) in &self.dirs {
            check_only_ours(&root.join(dir), &snapshot::is_own_file)?;
        }
        for (dir, files) in &self.dirs {
            replace_dir(&root.join(dir), files)?;
        }
        for (path, content) in &self.files {
            write_file_atomic(&root.join(path), content.as_bytes())?;
        }
        Ok(())
    }
}

/// Removes `.` and `..` components so that one file reached by two spellings is seen once,
/// and paths print without `./` noise.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Parses a dump file that must exist and hold JSON.
pub fn read_json(source: &dyn DumpSource, path: &Path) -> Result<Value, DumpError> {
    let bytes = source.read(path)?.ok_or_else(|| DumpError::Missing {
        path: source.display(path),
    })?;
    parse_json(source, path, &bytes)
}

pub fn parse_json(source: &dyn DumpSource, path: &Path, bytes: &[u8]) -> Result<Value, DumpError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DumpError::Malformed {
        path: source.display(path),
        message: e.to_string(),
    })?;
    json::parse(text).map_err(|e| DumpError::Malformed {
        path: source.display(path),
        message: e.to_string(),
    })
}

/// Writes one file so that readers see the old or the new content, never half of it.
pub fn write_file_atomic(path: &Path, content: &[u8]) -> Result<(), DumpError> {
    let error = |source| DumpError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".directus-sync-")
        .tempfile_in(dir)
        .map_err(error)?;
    temp.write_all(content).map_err(error)?;
    temp.as_file().sync_all().map_err(error)?;
    temp.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Refuses to replace a folder holding anything the tool did not write there (a user's notes,
/// a link, a folder of another tool): the tool only ever removes what it created.
fn check_only_ours(dir: &Path, own: &dyn Fn(&Path) -> bool) -> Result<(), DumpError> {
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = match std::fs::read_dir(dir.join(&relative)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(DumpError::Read {
                    path: dir.join(&relative).display().to_string(),
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let child = relative.join(entry.file_name());
            let kind = entry.file_type().map_err(|source| DumpError::Read {
                path: entry.path().display().to_string(),
                source,
            })?;
            if kind.is_dir() {
                pending.push(child);
            } else if !kind.is_file() || !own(&child) {
                return Err(DumpError::Foreign {
                    path: entry.path().display().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Replaces the folder `dir` with exactly `files` (paths relative to `dir`). The new tree is
/// built beside the old one and swapped in with renames, so a failure leaves the old folder.
pub fn replace_dir(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), DumpError> {
    let error = |path: &Path| {
        let path = path.display().to_string();
        move |source| DumpError::Write { path, source }
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(error(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".directus-sync-new-")
        .tempdir_in(parent)
        .map_err(error(parent))?;
    for (relative, content) in files {
        let path = staging.path().join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(error(folder))?;
        }
        std::fs::write(&path, content).map_err(error(&path))?;
    }
    let staging = staging.keep();
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".directus-sync-old-")
            .tempdir_in(parent)
            .map_err(error(parent))?
            .keep();
        std::fs::remove_dir(&old).map_err(error(&old))?;
        std::fs::rename(dir, &old).map_err(error(dir))?;
        std::fs::rename(&staging, dir).map_err(error(dir))?;
        std::fs::remove_dir_all(&old).map_err(error(&old))?;
    } else {
        std::fs::rename(&staging, dir).map_err(error(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_swaps_the_whole_tree() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("snapshot");
        std::fs::create_dir_all(dir.join("fields/old")).unwrap();
        std::fs::write(dir.join("fields/old/x.json"), "{}").unwrap();
        replace_dir(&dir, &[(PathBuf::from("info.json"), "{}\n".into())]).unwrap();
        assert!(!dir.join("fields").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("info.json")).unwrap(),
            "{}\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging folders left behind");
    }

    #[test]
    fn errors_name_the_file() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("bad.json"), "{oops").unwrap();
        let source = DirSource::new(root.path());
        let error = read_json(&source, Path::new("bad.json")).unwrap_err();
        assert!(error.to_string().contains("bad.json"), "{error}");
        let error = read_json(&source, Path::new("gone.json")).unwrap_err();
        assert!(matches!(error, DumpError::Missing { .. }));
    }
}

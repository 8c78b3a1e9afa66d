use super::DumpError;
use std::path::{Path, PathBuf};

/// Where a dump is read from. Paths are relative to the dump's root folder.
pub trait DumpSource: Send + Sync {
    /// How to name `path` in a message (a file path, or `REF:path` for a git tree).
    fn display(&self, path: &Path) -> String;
    /// The file's bytes, or `None` when it does not exist.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, DumpError>;
    /// Every file below `dir`, recursively, relative to the root, in byte-wise order.
    /// A missing folder has no files.
    fn files_under(&self, dir: &Path) -> Result<Vec<PathBuf>, DumpError>;
    /// Whether the file at `path` exists and holds exactly `bytes`.
    fn holds(&self, path: &Path, bytes: &[u8]) -> Result<bool, DumpError> {
        Ok(self.read(path)?.as_deref() == Some(bytes))
    }
}

/// A dump in a folder of the file system (the working tree).
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSource { root: root.into() }
    }
}

impl DumpSource for DirSource {
    fn display(&self, path: &Path) -> String {
        self.root.join(path).display().to_string()
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, DumpError> {
        match std::fs::read(self.root.join(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(DumpError::Read {
                path: self.display(path),
                source,
            }),
        }
    }

    fn files_under(&self, dir: &Path) -> Result<Vec<PathBuf>, DumpError> {
        let mut files = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(relative) = pending.pop() {
            let entries = match std::fs::read_dir(self.root.join(&relative)) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(DumpError::Read {
                        path: self.display(&relative),
                        source,
                    });
                }
            };
            for entry in entries {
                let entry = entry.map_err(|source| DumpError::Read {
                    path: self.display(&relative),
                    source,
                })?;
                let child = relative.join(entry.file_name());
                if entry.path().is_dir() {
                    pending.push(child);
                } else {
                    files.push(child);
                }
            }
        }
        files.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        Ok(files)
    }
}

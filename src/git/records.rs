//! Deployment records: every push notes on the pushed commit which instance received it, when,
//! by whom and with what counts. Notes live under their own ref, so they never change commits.

use super::{DumpRepo, GitError};
use git2::Oid;
use serde::{Deserialize, Serialize};

pub const NOTES_REF: &str = "refs/notes/directus-sync";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Pull,
    Push,
}

/// One pull or push, as `log` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub kind: RecordKind,
    pub commit: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub environment: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub directus_version: Option<String>,
    /// The items a push created, updated and deleted (records written before schema changes
    /// were counted apart count those among them).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub counts: Option<crate::dump::Counts>,
    /// The schema changes a push applied.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub schema_changes: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<String>,
    /// Pushed from uncommitted files: the commit does not hold exactly what was deployed.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub uncommitted: bool,
    /// A pull's `Co-authored-by` people (`Name <email>`): who changed its items in Directus.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub authors: Vec<String>,
    /// When a pull read the instance (its activity log was read up to here).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl DumpRepo {
    /// Appends a push record to the note of `commit` (one JSON object per line), its URL
    /// masked: notes are pushed and shared like commits.
    pub fn add_record(&self, commit: Oid, record: &DeploymentRecord) -> Result<(), GitError> {
        // Adding a note rewrites the whole notes ref from what it read: two pushes noting at
        // once (to two instances, from one repository) would lose one of the notes.
        let _lock = NotesLock::take(self.repo.path())?;
        let mut text = self.note_text(commit).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let record = DeploymentRecord {
            url: crate::secret::mask_url(&record.url),
            ..record.clone()
        };
        text.push_str(&serde_json::to_string(&record).expect("records serialise"));
        text.push('\n');
        let signature = self.signature();
        self.repo
            .note(&signature, &signature, Some(NOTES_REF), commit, &text, true)?;
        Ok(())
    }

    fn note_text(&self, commit: Oid) -> Option<String> {
        let note = self.repo.find_note(Some(NOTES_REF), commit).ok()?;
        note.message().ok().map(|m| m.to_string())
    }

    /// Push records noted on `commit` (URLs masked, whoever wrote the note).
    pub fn push_records(&self, commit: Oid) -> Vec<DeploymentRecord> {
        self.note_text(commit)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<DeploymentRecord>(line).ok())
            .map(|record| DeploymentRecord {
                url: crate::secret::mask_url(&record.url),
                ..record
            })
            .collect()
    }

    /// Every pull (from commit trailers) and push (from notes) reachable from the local
    /// branches, newest first.
    pub fn records(&self) -> Result<Vec<DeploymentRecord>, GitError> {
        let mut walk = self.repo.revwalk()?;
        walk.push_glob("refs/heads/*")?;
        let mut records = Vec::new();
        let mut noted = std::collections::HashSet::new();
        for oid in walk {
            let oid = oid?;
            let commit = self.repo.find_commit(oid)?;
            if let Some(record) = pull_record(&commit) {
                records.push(record);
            }
            noted.insert(oid);
            records.extend(self.push_records(oid));
        }
        // Pushes of commits no branch reaches any more (a rollback to an old commit is still
        // reachable; a deleted branch's commits are not, but their notes still count).
        if let Ok(notes) = self.repo.notes(Some(NOTES_REF)) {
            for note in notes.flatten() {
                let (_, annotated) = note;
                if !noted.contains(&annotated) {
                    records.extend(self.push_records(annotated));
                }
            }
        }
        records.sort_by_key(|record| std::cmp::Reverse(record.at));
        Ok(records)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The record a pull commit carries in its trailers.
fn pull_record(commit: &git2::Commit) -> Option<DeploymentRecord> {
    let message = commit.message().ok()?.to_string();
    let trailer = |key: &str| {
        message
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{key}: ")))
            .map(str::to_string)
    };
    let url = crate::secret::mask_url(&trailer("Directus-Url")?);
    let at = trailer("Pulled-At")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))?;
    Some(DeploymentRecord {
        kind: RecordKind::Pull,
        commit: commit.id().to_string(),
        url,
        environment: trailer("Directus-Environment"),
        at,
        user: trailer("Directus-User").unwrap_or_default(),
        directus_version: trailer("Directus-Version"),
        counts: None,
        schema_changes: 0,
        summary: commit.summary().ok().flatten().map(|s| s.to_string()),
        uncommitted: false,
        authors: crate::audit::co_authors(&message),
        read_at: trailer("Directus-Read-At")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
    })
}

/// A lock file in `.git` held while a note is read, amended and written.
struct NotesLock(std::path::PathBuf);

impl NotesLock {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    /// Older than this, the lock was left by a killed run: no note takes that long.
    const STALE: std::time::Duration = std::time::Duration::from_secs(60);

    fn take(git_dir: &std::path::Path) -> Result<NotesLock, GitError> {
        let path = git_dir.join("directus-sync-notes.lock");
        let started = std::time::Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(NotesLock(path)),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|modified| modified.elapsed().ok())
                        .is_some_and(|age| age > Self::STALE);
                    if stale {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > Self::WAIT {
                        return Err(GitError::NotesBusy {
                            repo: git_dir.display().to_string(),
                            seconds: Self::WAIT.as_secs(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(error) => {
                    return Err(GitError::Git(git2::Error::from_str(&format!(
                        "cannot create {}: {error}",
                        path.display()
                    ))));
                }
            }
        }
    }
}

impl Drop for NotesLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Repository;

    /// Pushes to several instances from one repository, at once, each keep their note.
    #[test]
    fn notes_written_at_once_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let commits: Vec<Oid> = (0..2)
            .map(|n| {
                let message = format!("commit {n}");
                repo.commit(None, &signature, &signature, &message, &tree, &[])
                    .unwrap()
            })
            .collect();
        std::thread::scope(|s| {
            for writer in 0..8 {
                let (path, commit) = (dir.path(), commits[writer % 2]);
                s.spawn(move || {
                    let dump = DumpRepo {
                        repo: Repository::open(path).unwrap(),
                        dump_path: "directus-config".into(),
                    };
                    let record = DeploymentRecord {
                        kind: RecordKind::Push,
                        commit: commit.to_string(),
                        url: format!("http://instance-{writer}.example"),
                        environment: None,
                        at: chrono::Utc::now(),
                        user: "t@example.com".into(),
                        directus_version: None,
                        counts: None,
                        schema_changes: 0,
                        summary: None,
                        uncommitted: false,
                        authors: Vec::new(),
                        read_at: None,
                    };
                    dump.add_record(commit, &record).unwrap();
                });
            }
        });
        let dump = DumpRepo {
            repo: Repository::open(dir.path()).unwrap(),
            dump_path: "directus-config".into(),
        };
        let mut urls: Vec<String> = commits
            .iter()
            .flat_map(|commit| dump.push_records(*commit))
            .map(|record| record.url)
            .collect();
        urls.sort();
        let expected: Vec<String> = (0..8)
            .map(|writer| format!("http://instance-{writer}.example"))
            .collect();
        assert_eq!(urls, expected);
        assert!(!dir.path().join(".git/directus-sync-notes.lock").exists());
    }
}

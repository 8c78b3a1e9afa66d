//! The dump in git: reading it from any revision without a checkout, committing a pull's files
//! to any branch through the object database (the user's checkout and index stay as they
//! are), and deployment records as git notes.

mod records;
mod tree;

pub use records::{DeploymentRecord, NOTES_REF, RecordKind};
pub use tree::GitTreeSource;

use crate::dump::DumpFiles;
use git2::{Oid, Repository, Signature};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{rev:?} is not a revision of {repo}: {message}")]
    UnknownRevision {
        rev: String,
        repo: String,
        message: String,
    },
    #[error("{rev} has no dump at {path}/")]
    NoDump { rev: String, path: String },
    #[error("the dump folder {dump} is not inside the git work tree {repo}")]
    OutsideRepository { dump: String, repo: String },
    #[error("{path} is not in a git repository")]
    NoRepository { path: String },
    #[error("the dump folder {dump} holds the repository's .git folder (or is inside it)")]
    DumpHoldsGit { dump: String },
    #[error("the branch {branch} is checked out in the worktree {path}")]
    CheckedOutElsewhere { branch: String, path: String },
    #[error("another directus-sync has been writing the push notes of {repo} for {seconds} s")]
    NotesBusy { repo: String, seconds: u64 },
}

impl GitError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            GitError::UnknownRevision { .. } => {
                Some("use a branch, tag, commit SHA or an expression such as HEAD~1")
            }
            GitError::NoDump { .. } => {
                Some("check --dump-path, or pick a commit made by `directus-sync pull`")
            }
            GitError::NoRepository { .. } => {
                Some("start a history with `git init` in the project folder")
            }
            GitError::DumpHoldsGit { .. } => {
                Some("use a folder of its own for the dump, such as --dump-path ./directus-config")
            }
            GitError::CheckedOutElsewhere { .. } => {
                Some("pull there instead, or check out another branch in that worktree")
            }
            GitError::NotesBusy { .. } => Some(
                "if no other directus-sync runs in this repository, delete .git/directus-sync-notes.lock",
            ),
            _ => None,
        }
    }
}

/// How a dump commit relates to the rest of the history.
#[derive(Debug, Clone, Default)]
pub struct Lineage {
    /// Where the branch starts when it does not exist yet (a revision); `None`: HEAD.
    pub start: Option<String>,
    /// A commit the new one also descends from: the revision a push deployed, recorded on the
    /// environment's branch, which a later merge of that branch then takes as its base.
    pub merged: Option<Oid>,
}

/// A git repository holding a dump folder.
pub struct DumpRepo {
    pub repo: Repository,
    /// The dump folder, relative to the work tree root (empty when it is the root).
    pub dump_path: PathBuf,
}

/// What a commit of a pull says about where it came from.
#[derive(Debug, Clone, Default)]
pub struct PullInfo {
    pub url: String,
    pub version: String,
    pub vendor: String,
    pub user: String,
    pub pulled_at: chrono::DateTime<chrono::Utc>,
    /// When the instance was read: the next pull reads the activity log from here.
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    pub environment: Option<String>,
}

impl PullInfo {
    pub fn trailers(&self) -> String {
        let mut lines = vec![
            format!("Directus-Url: {}", crate::secret::mask_url(&self.url)),
            format!("Directus-Version: {}", self.version),
            format!("Directus-Vendor: {}", self.vendor),
            format!("Directus-User: {}", self.user),
            format!(
                "Pulled-At: {}",
                self.pulled_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            format!("Directus-Sync-Version: {}", env!("CARGO_PKG_VERSION")),
        ];
        if let Some(environment) = &self.environment {
            lines.push(format!("Directus-Environment: {environment}"));
        }
        if let Some(read_at) = &self.read_at {
            lines.push(format!(
                "Directus-Read-At: {}",
                read_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ));
        }
        lines.join("\n")
    }
}

impl DumpRepo {
    /// The repository whose work tree holds `dump_root`, if any.
    pub fn discover(dump_root: &Path) -> Result<Option<DumpRepo>, GitError> {
        let mut probe = dump_root.to_path_buf();
        while !probe.exists() {
            if !probe.pop() {
                return Ok(None);
            }
        }
        let repo = match Repository::discover(&probe) {
            Ok(repo) => repo,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(workdir) = repo.workdir() else {
            return Ok(None);
        };
        let workdir = workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_path_buf());
        let absolute = canonical_prefix(dump_root);
        let dump_path = absolute
            .strip_prefix(&workdir)
            .map_err(|_| GitError::OutsideRepository {
                dump: dump_root.display().to_string(),
                repo: workdir.display().to_string(),
            })?
            .to_path_buf();
        let git_dir = repo
            .path()
            .canonicalize()
            .unwrap_or_else(|_| repo.path().to_path_buf());
        if git_dir.starts_with(&absolute) || absolute.starts_with(&git_dir) {
            return Err(GitError::DumpHoldsGit {
                dump: dump_root.display().to_string(),
            });
        }
        Ok(Some(DumpRepo { repo, dump_path }))
    }

    pub fn require(dump_root: &Path) -> Result<DumpRepo, GitError> {
        DumpRepo::discover(dump_root)?.ok_or_else(|| GitError::NoRepository {
            path: dump_root.display().to_string(),
        })
    }

    /// The commit a revision names.
    pub fn commit(&self, rev: &str) -> Result<git2::Commit<'_>, GitError> {
        self.repo
            .revparse_single(rev)
            .and_then(|object| object.peel_to_commit())
            .map_err(|e| GitError::UnknownRevision {
                rev: rev.to_string(),
                repo: self.workdir_display(),
                message: e.message().to_string(),
            })
    }

    fn workdir_display(&self) -> String {
        self.repo
            .workdir()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// The dump the branch a pull commits to holds now (`None`: no such branch, or no dump
    /// in it yet).
    pub fn branch_source(&self, branch: &str) -> Option<GitTreeSource> {
        let reference = format!("refs/heads/{branch}");
        let commit = match self.repo.find_reference(&reference) {
            Ok(r) => r.peel_to_commit().ok()?,
            Err(_) => self.repo.head().ok()?.peel_to_commit().ok()?,
        };
        let label = format!("{branch}:{}", self.dump_path.display());
        GitTreeSource::load(
            &self.repo,
            &commit.tree().ok()?,
            &self.dump_path,
            branch,
            label,
        )
        .ok()
    }

    /// The dump as it is in a revision.
    pub fn source(&self, rev: &str) -> Result<GitTreeSource, GitError> {
        let commit = self.commit(rev)?;
        let label = format!("{rev}:{}", self.dump_path.display());
        GitTreeSource::load(&self.repo, &commit.tree()?, &self.dump_path, rev, label)
    }

    /// Whether `commit` changed `path` (a file or folder of the dump) against its first
    /// parent (a root commit changed whatever it holds).
    pub fn commit_changed(&self, commit: &str, path: &Path) -> bool {
        let full = self.dump_path.join(path);
        let id_at = |commit: &git2::Commit| {
            commit
                .tree()
                .ok()
                .and_then(|tree| tree.get_path(&full).ok().map(|entry| entry.id()))
        };
        let Ok(commit) = self.commit(commit) else {
            return false;
        };
        let before = commit.parent(0).ok().and_then(|parent| id_at(&parent));
        id_at(&commit) != before
    }

    /// The id of the dump folder's tree at `rev`: two revisions with one id hold one dump.
    pub fn dump_tree(&self, rev: &str) -> Option<Oid> {
        let tree = self.commit(rev).ok()?.tree().ok()?;
        tree::subtree(&self.repo, &tree, &self.dump_path)
            .ok()
            .flatten()
            .map(|t| t.id())
    }

    /// Files under the dump folder that differ from HEAD (modified, staged, new or deleted):
    /// a pull into the work tree would overwrite them.
    pub fn uncommitted_dump_files(&self) -> Result<Vec<String>, GitError> {
        let mut options = git2::StatusOptions::new();
        options.include_untracked(true).recurse_untracked_dirs(true);
        if !self.dump_path.as_os_str().is_empty() {
            options.pathspec(self.dump_path.as_os_str());
        }
        let statuses = self.repo.statuses(Some(&mut options))?;
        Ok(statuses
            .iter()
            .filter(|entry| !entry.status().is_ignored())
            .filter_map(|entry| entry.path().ok().map(str::to_string))
            .collect())
    }

    /// The checked-out branch, also when it has no commit yet (`git init`); `None` for a
    /// detached HEAD.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.repo.find_reference("HEAD").ok()?;
        let target = head.symbolic_target().ok().flatten()?.to_string();
        target.strip_prefix("refs/heads/").map(str::to_string)
    }

    /// Who commits, as git itself decides: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL` (or the
    /// committer's, for `committer`), then `user.name`/`user.email`, then a fixed name.
    pub fn signature_of(&self, role: &str) -> Signature<'static> {
        let variable = |what: &str| std::env::var(format!("GIT_{role}_{what}")).ok();
        if let (Some(name), Some(email)) = (variable("NAME"), variable("EMAIL"))
            && let Ok(signature) = Signature::now(&name, &email)
        {
            return signature;
        }
        self.repo
            .signature()
            .or_else(|_| Signature::now("directus-sync", "directus-sync@localhost"))
            .expect("a fixed signature is valid")
    }

    pub fn signature(&self) -> Signature<'static> {
        self.signature_of("AUTHOR")
    }

    /// Commits `write` applied to the dump of `branch` (created at `lineage.start` when
    /// missing), without touching the work tree. When `branch` is checked out, the index
    /// entries of the dump are refreshed from the work tree, where the caller wrote the same
    /// files. Returns the new commit, or `None` when nothing changed.
    pub fn commit_dump(
        &self,
        branch: &str,
        write: &DumpFiles,
        message: &str,
        lineage: &Lineage,
    ) -> Result<Option<Oid>, GitError> {
        let ignored = |path: &Path| {
            self.repo
                .is_path_ignored(self.dump_path.join(path))
                .unwrap_or(false)
        };
        let mut written = None;
        let oid = self.commit_on(branch, message, lineage, |base| {
            let write = tree::apply_write(&self.repo, base, &self.dump_path, write, &ignored)?;
            let root = (write.root, write.changed);
            written = Some(write);
            Ok(root)
        })?;
        if let (Some(_), Some(written)) = (oid, &written)
            && self.current_branch().as_deref() == Some(branch)
        {
            self.refresh_index(written)?;
        }
        Ok(oid)
    }

    /// Records on `branch` (an environment's) that `deployed` is live there: a commit holding
    /// the dump folder of `deployed`, descending from both the branch and `deployed`, so that
    /// the branch is the environment's deployment history and merging it back into the main
    /// line takes `deployed` as base. Never for a branch that is checked out (its work tree
    /// would no longer match). `changed_instance`: the push wrote something, which a commit
    /// records even when the branch held that dump already (a redeploy over drift, the first
    /// deployment). Returns the new commit, or `None` when the branch holds that dump,
    /// descends from `deployed`, and the push wrote nothing.
    pub fn record_deployment(
        &self,
        branch: &str,
        deployed: Oid,
        message: &str,
        lineage: &Lineage,
        changed_instance: bool,
    ) -> Result<Option<Oid>, GitError> {
        let deployed_tree = self.repo.find_commit(deployed)?.tree()?;
        let Some(dump) = tree::subtree(&self.repo, &deployed_tree, &self.dump_path)? else {
            return Ok(None);
        };
        let lineage = Lineage {
            merged: Some(deployed),
            ..lineage.clone()
        };
        self.commit_on(branch, message, &lineage, |base| {
            let before = match base {
                Some(base) => tree::subtree(&self.repo, base, &self.dump_path)?.map(|t| t.id()),
                None => None,
            };
            let root = tree::graft(&self.repo, base, &self.dump_path, dump.id())?;
            Ok((root, changed_instance || before != Some(dump.id())))
        })
    }

    /// Commits on `branch` (created per `lineage` when missing) the root tree `make_root`
    /// builds from the parent's tree, with `lineage.merged` as a second parent unless the
    /// branch already descends from it. `make_root` also says whether the dump changed.
    fn commit_on(
        &self,
        branch: &str,
        message: &str,
        lineage: &Lineage,
        make_root: impl FnOnce(Option<&git2::Tree>) -> Result<(Oid, bool), GitError>,
    ) -> Result<Option<Oid>, GitError> {
        let reference = format!("refs/heads/{branch}");
        let tip = match self.repo.find_reference(&reference) {
            Ok(r) => Some(r.peel_to_commit()?),
            Err(_) => None,
        };
        let parent = match &tip {
            Some(tip) => Some(tip.clone()),
            None => self.start_of_new_branch(lineage)?,
        };
        let base_tree = parent.as_ref().map(|c| c.tree()).transpose()?;
        let (root, changed) = make_root(base_tree.as_ref())?;
        let merged = lineage
            .merged
            .map(|oid| self.repo.find_commit(oid))
            .transpose()?
            .filter(|merged| {
                // Already in the branch's history: nothing to relate.
                parent.as_ref().is_none_or(|p| {
                    p.id() != merged.id()
                        && !self
                            .repo
                            .graph_descendant_of(p.id(), merged.id())
                            .unwrap_or(false)
                })
            });
        if !changed && merged.is_none() {
            // A branch that does not exist yet still gets created, at the parent.
            if tip.is_none()
                && let Some(parent) = &parent
            {
                self.repo.branch(branch, parent, false)?;
            }
            return Ok(None);
        }
        let tree = self.repo.find_tree(root)?;
        let (author, committer) = (self.signature(), self.signature_of("COMMITTER"));
        let parents: Vec<&git2::Commit> = parent.iter().chain(merged.iter()).collect();
        let oid = self.repo.commit(
            Some(&reference),
            &author,
            &committer,
            message,
            &tree,
            &parents,
        )?;
        Ok(Some(oid))
    }

    /// The main line: `configured`, or the first of `main` and `master` that exists (`None`:
    /// neither, HEAD then stands for it).
    pub fn main_line(&self, configured: Option<&str>) -> Option<String> {
        if let Some(branch) = configured {
            return Some(branch.to_string());
        }
        ["main", "master"]
            .into_iter()
            .find(|name| self.repo.find_branch(name, git2::BranchType::Local).is_ok())
            .map(str::to_string)
    }

    /// Where a branch created for an environment starts: the configured main line, so that
    /// the environment's history stays related to it (merging it back conflicts only where
    /// both sides changed the same item).
    fn start_of_new_branch(&self, lineage: &Lineage) -> Result<Option<git2::Commit<'_>>, GitError> {
        if let Some(oid) = lineage.merged {
            return Ok(Some(self.repo.find_commit(oid)?));
        }
        match &lineage.start {
            Some(rev) => Ok(Some(self.commit(rev)?)),
            None => Ok(self.repo.head().ok().and_then(|h| h.peel_to_commit().ok())),
        }
    }

    /// After a commit of the checked-out branch: the index entries of the files the pull
    /// committed are those of the work tree (which the pull just wrote), so `git status` shows
    /// them clean. Nothing else is staged or unstaged: not the user's other changes, not
    /// untracked files in the dump folder.
    fn refresh_index(&self, written: &tree::Written) -> Result<(), GitError> {
        let mut index = self.repo.index()?;
        for path in &written.before {
            if !written.after.contains(path) {
                index.remove_path(&self.dump_path.join(path))?;
            }
        }
        for path in &written.after {
            index.add_path(&self.dump_path.join(path))?;
        }
        index.write()?;
        Ok(())
    }

    /// Refuses a branch that another worktree has checked out: moving it would leave that
    /// checkout behind its branch.
    pub fn check_not_checked_out_elsewhere(&self, branch: &str) -> Result<(), GitError> {
        let reference = format!("refs/heads/{branch}");
        let mut checkouts: Vec<(PathBuf, Repository)> = Vec::new();
        if self.repo.is_worktree()
            && let Ok(main) = Repository::open(self.repo.commondir())
        {
            checkouts.push((main.workdir().unwrap_or(main.path()).to_path_buf(), main));
        }
        for name in self.repo.worktrees()?.iter().flatten().flatten() {
            if let Ok(worktree) = self.repo.find_worktree(name)
                && let Ok(repo) = Repository::open_from_worktree(&worktree)
            {
                checkouts.push((worktree.path().to_path_buf(), repo));
            }
        }
        let here = self.repo.workdir().map(Path::to_path_buf);
        for (path, repo) in checkouts {
            if Some(&path) == here.as_ref() {
                continue;
            }
            let head = repo.find_reference("HEAD").ok();
            let target = head
                .as_ref()
                .and_then(|h| h.symbolic_target().ok().flatten());
            if target == Some(reference.as_str()) {
                return Err(GitError::CheckedOutElsewhere {
                    branch: branch.to_string(),
                    path: path.display().to_string(),
                });
            }
        }
        Ok(())
    }
}

/// The canonical form of a path that may not exist yet: canonicalise the longest existing
/// prefix and append the rest.
fn canonical_prefix(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for part in rest.into_iter().rev() {
        out.push(part);
    }
    out
}

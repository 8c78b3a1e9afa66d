//! `pull`: reads an instance into the dump, writes it, and commits it with the instance's
//! metadata. Instance → [`Dump`] → files and commit.

use super::{CommandError, Context, ExitCode, Target};
use crate::audit::{Attribution, ItemAttribution};
use crate::collections::CollectionSpec;
use crate::dump::{Dump, DumpFiles, Summary, changed_items};
use crate::git::{DumpRepo, PullInfo, RecordKind};
use crate::hooks::HookName;
use crate::idmap::IdMapRow;
use crate::instance::Instance;
use crate::json::Compact;
use crate::snapshot::Snapshot;
use crate::specs::Specs;
use crate::values::{Hidden, Placeholders};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Work with a Directus version other than 10.x, and overwrite uncommitted changes in the
    /// dump folder
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Summary line of the commit (default: what changed, per collection)
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub message: Option<String>,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let destination = Destination::choose(context, args.force)?;
    let target = context.connect(args.force).await?;
    // Before reading: an edit made while the instance is read is in the next pull's window.
    let read_at = chrono::Utc::now();
    let (snapshot, instance) = read_instance(context, &target).await?;
    track_new_items(context, &target, &instance).await?;
    // Only now: tracking may have created the tool's own collections (the lock, the id-map
    // store), which are part of the instance's API from then on.
    let specs = read_specs(context, &target).await?;
    let dump = to_dump(context, &target, instance, snapshot, specs).await?;
    let attribution = attribute(context, &target, &destination, &dump).await?;
    let pulled = Pulled {
        read_at,
        attribution,
    };
    destination.save(context, args, &target, &dump, &pulled)?;
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// Where the dump goes: the folder (and its checked-out branch), or only another branch.
struct Destination {
    root: PathBuf,
    repo: Option<DumpRepo>,
    current_branch: Option<String>,
    /// A branch other than the checked-out one, written through git only: the user's files,
    /// index and uncommitted work stay as they are.
    other_branch: Option<String>,
}

/// What the commit says about the pull beyond the dump: when the instance was read, and who
/// changed which item since the previous pull.
struct Pulled {
    read_at: chrono::DateTime<chrono::Utc>,
    attribution: Attribution,
}

impl Destination {
    /// The branch the commit goes to, if the pull commits.
    fn branch(&self, context: &Context) -> Option<&str> {
        match (&self.repo, context.options.commit) {
            (Some(_), true) => self.other_branch.as_ref().or(self.current_branch.as_ref()),
            _ => None,
        }
        .map(String::as_str)
    }

    /// Checks, before anything is read, that the dump can be saved where the options say.
    fn choose(context: &Context, force: bool) -> Result<Destination, CommandError> {
        let options = &context.options;
        let repo = context.repo()?;
        let current_branch = repo.as_ref().and_then(|r| r.current_branch());
        let other_branch = options
            .branch
            .clone()
            .filter(|branch| current_branch.as_ref() != Some(branch));
        if other_branch.is_some() && (repo.is_none() || !options.commit) {
            return Err(CommandError::user(match repo {
                None => "--branch needs the dump folder to be inside a git repository",
                Some(_) => "--branch commits through git; it cannot be combined with --no-commit",
            }));
        }
        if let (Some(repo), Some(branch)) = (&repo, &other_branch) {
            repo.check_not_checked_out_elsewhere(branch)?;
        }
        // With or without a commit, writing the folder would overwrite the user's edits.
        if other_branch.is_none()
            && let Some(repo) = &repo
        {
            let dirty = repo.uncommitted_dump_files()?;
            if !dirty.is_empty() && !force {
                let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
                let more = match dirty.len() > 5 {
                    true => format!(" and {} more", dirty.len() - 5),
                    false => String::new(),
                };
                return Err(CommandError::user(format!(
                    "the dump folder has uncommitted changes a pull would overwrite: {}{more}",
                    shown.join(", "),
                ))
                .hint("commit or stash them first, pull into another branch with --branch, or pass --force"));
            }
        }
        Ok(Destination {
            root: context.dump_root(),
            repo,
            current_branch,
            other_branch,
        })
    }

    /// Writes the files and commits them (or commits them to the other branch only).
    fn save(
        &self,
        context: &Context,
        args: &Args,
        target: &Target,
        dump: &Dump,
        pulled: &Pulled,
    ) -> Result<(), CommandError> {
        let options = &context.options;
        let files = dump.files(&context.layout());
        let commit = |repo: &DumpRepo, branch: &str| -> Result<(), CommandError> {
            let message =
                commit_message(context, args, target, repo, branch, (dump, &files), pulled);
            match repo.commit_dump(branch, &files, &message, &context.lineage(repo, None))? {
                Some(oid) => tracing::info!("committed {} on {branch}", &oid.to_string()[..10]),
                None => {
                    tracing::info!("no change since the last commit on {branch}; nothing committed")
                }
            }
            Ok(())
        };
        if let (Some(repo), Some(branch)) = (&self.repo, &self.other_branch) {
            return commit(repo, branch);
        }
        files.write_to(&self.root)?;
        tracing::info!("saved the dump in {}", self.root.display());
        match (&self.repo, &self.current_branch) {
            (Some(repo), Some(branch)) if options.commit => commit(repo, branch)?,
            (Some(_), None) if options.commit => tracing::warn!(
                "HEAD is detached: the dump was written but not committed (use --branch)"
            ),
            (None, _) if options.commit => tracing::info!(
                "{} is not in a git repository; run `git init` there to keep a history of every pull",
                self.root.display()
            ),
            _ => {}
        }
        Ok(())
    }
}

/// The schema and the tracked collections, read concurrently.
async fn read_instance(
    context: &Context,
    target: &Target,
) -> Result<(Option<Snapshot>, Instance), CommandError> {
    let snapshot = async {
        match context.options.snapshot {
            true => Snapshot::fetch(&target.client).await.map(Some),
            false => Ok(None),
        }
    };
    let collections = context.specs();
    Ok(tokio::try_join!(snapshot, target.read(&collections))?)
}

async fn read_specs(context: &Context, target: &Target) -> Result<Option<Specs>, CommandError> {
    match context.options.specs {
        true => Ok(Some(Specs::fetch(&target.client).await?)),
        false => Ok(None),
    }
}

/// Every untracked item gets its SyncId before any relation is mapped, so that relations
/// between the pulled collections resolve whatever their order. The rows are written under
/// the instance's lock, taken only when there are any.
async fn track_new_items(
    context: &Context,
    target: &Target,
    instance: &Instance,
) -> Result<(), CommandError> {
    let mut rows = Vec::new();
    for spec in context.specs() {
        for live in instance.live_items(spec) {
            if live.sync_id.is_some() {
                continue;
            }
            let sync_id = match spec.keeps_ids(&context.options.preserve_ids) {
                true => live.local_id.clone(),
                false => uuid::Uuid::new_v4().to_string(),
            };
            rows.push(IdMapRow {
                table: spec.name.to_string(),
                sync_id,
                local_id: live.local_id,
            });
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let write = async {
        // A push may have tracked some of these items since the instance was read.
        let id_map = target.ids.reload(&target.client).await?;
        rows.retain(|row| id_map.sync_id(&row.table, &row.local_id).is_none());
        let count = rows.len();
        target.ids.record(&target.client, rows).await?;
        if count > 0 {
            tracing::info!(
                "tracking {}",
                crate::text::count(count, "new item", "new items")
            );
        }
        Ok(())
    };
    target
        .locked("pull", context.options.lock_wait, write)
        .await
}

/// The dump of what was read: `onDump`, then ignored fields and relations mapped, sorted,
/// then `onSave` (snapshot and collections), as the original tool does. Each item read
/// becomes its dump item in place: the instance is used up, so that no item is held twice.
async fn to_dump(
    context: &Context,
    target: &Target,
    mut instance: Instance,
    snapshot: Option<Snapshot>,
    specs: Option<Specs>,
) -> Result<Dump, CommandError> {
    let hooks = &context.hooks;
    // The rows tracking just wrote are in the owner's map, not in the one read with the items.
    let id_map = target.ids.with(Clone::clone);
    drop(std::mem::take(&mut instance.id_map));
    let mut collections = Vec::new();
    let mut placeholders = Placeholders::new(context.options.secrets.effective());
    let mut suspicious = Vec::new();
    for spec in context.specs() {
        let tracked = instance.take_items(spec).into_iter().filter_map(|read| {
            let sync_id = id_map.sync_id(spec.name, &read.local_id)?;
            Some(spec.start_dump(read.raw.value(), &sync_id))
        });
        // Secrets become placeholders before anything else sees the dump item (`onSave`,
        // the files, the commit).
        let mut finish = |item| {
            let mut item = spec.finish_dump(item, &id_map);
            placeholders.hide(spec.name, &mut item);
            for place in crate::values::secrets::suspicious(&item) {
                suspicious.push(Suspicious::of(spec, &item, place));
            }
            Compact::new(&item)
        };
        // Only an `onDump` hook needs the collection's items parsed all at once.
        let mut items: Vec<Compact> = match hooks.has(spec.name, HookName::OnDump) {
            true => {
                let dumped = hooks
                    .run_items(spec.name, HookName::OnDump, tracked.collect())
                    .await?;
                dumped.into_iter().map(&mut finish).collect()
            }
            false => tracked.map(&mut finish).collect(),
        };
        spec.sort(&mut items);
        tracing::debug!("{}: {} items", spec.name, items.len());
        collections.push((spec, items));
    }
    report_secrets(placeholders.finish(), &suspicious);
    let mut dump = Dump {
        snapshot,
        collections,
        specs,
    };
    if dump.snapshot.is_none() {
        tracing::debug!("snapshot is disabled");
    }
    hooks.run_on_dump(HookName::OnSave, &mut dump).await?;
    Ok(dump)
}

/// A value that looks like a key or a token, outside the secret paths: where it is.
struct Suspicious {
    /// `operations "Call CRM" (5b0c7a1e…)`.
    item: String,
    /// `options.headers[1].value`.
    place: String,
}

impl Suspicious {
    fn of(spec: &CollectionSpec, item: &serde_json::Value, place: String) -> Suspicious {
        let sync_id = item.get("_syncId").and_then(|id| id.as_str()).unwrap_or("");
        let short: String = sync_id.chars().take(8).collect();
        let label = spec.label(item, &|_, _| None).to_string();
        let item = match spec.id_policy {
            crate::collections::IdPolicy::Singleton => spec.name.to_string(),
            _ => format!("{} {label} ({short}…)", spec.name),
        };
        Suspicious { item, place }
    }
}

/// Says which secrets the dump holds as placeholders (their names: the variables a push
/// reads them from), and warns about values that look like keys but are committed as they
/// are. Never a value.
fn report_secrets(hidden: Hidden, suspicious: &[Suspicious]) {
    if !hidden.names.is_empty() {
        tracing::info!(
            "kept {} out of the dump, as placeholders a push fills from the environment: {}",
            crate::text::count(hidden.names.len(), "secret", "secrets"),
            hidden.names.join(", ")
        );
    }
    for warning in &hidden.warnings {
        tracing::warn!("{warning}");
    }
    for found in suspicious {
        tracing::warn!(
            "{} {}: looks like a key or a token, and is committed as it is; declare it \
             under `secrets:` (a path such as {}.{}) to keep it out of git",
            found.item,
            found.place,
            found.item.split(' ').next().unwrap_or_default(),
            found.place
        );
    }
}

/// `pull <host>: <what changed>` (or `--message`), then the trailers naming the instance.
fn commit_message(
    context: &Context,
    args: &Args,
    target: &Target,
    repo: &DumpRepo,
    branch: &str,
    (dump, files): (&Dump, &DumpFiles),
    pulled: &Pulled,
) -> String {
    let info = PullInfo {
        url: context.instance_url(),
        version: target.server.version.clone(),
        vendor: dump
            .snapshot
            .as_ref()
            .and_then(Snapshot::vendor)
            .unwrap_or("unknown")
            .to_string(),
        user: target.me.email.clone(),
        pulled_at: chrono::Utc::now(),
        read_at: Some(pulled.read_at),
        environment: context.options.environment.clone(),
    };
    let summary = args.message.clone().unwrap_or_else(|| {
        let what = match repo.branch_source(branch) {
            Some(before) => Summary::since(&before, &context.layout(), dump, files),
            None => Summary::between(None, dump),
        };
        format!("pull {}: {what}", host_of(&info.url))
    });
    let body = match pulled.attribution.body() {
        Some(body) => format!("{body}\n\n"),
        None => String::new(),
    };
    let co_authors: String = pulled
        .attribution
        .people()
        .iter()
        .map(|person| format!("\n{}{person}", crate::audit::CO_AUTHORED_BY))
        .collect();
    format!("{summary}\n\n{body}{}{co_authors}\n", info.trailers())
}

/// Who changed each item the pull changes, from the instance's activity log since the
/// previous pull of this instance (its commit's read time); nothing on a first pull, without
/// a commit, or with `--no-attribution`. One request, whatever the number of items.
async fn attribute(
    context: &Context,
    target: &Target,
    destination: &Destination,
    dump: &Dump,
) -> Result<Attribution, CommandError> {
    let (Some(repo), Some(branch)) = (&destination.repo, destination.branch(context)) else {
        return Ok(Attribution::default());
    };
    if !context.options.attribution {
        return Ok(Attribution::default());
    }
    let url = context.instance_url();
    let since = repo
        .records()?
        .into_iter()
        .filter(|record| record.kind == RecordKind::Pull && record.url == url)
        .map(|record| record.read_at.unwrap_or(record.at))
        .max();
    let (Some(since), Some(before)) = (since, repo.branch_source(branch)) else {
        return Ok(Attribution::default());
    };
    let layout = context.layout();
    let changed = changed_items(&before, &layout, dump, &dump.files(&layout));
    let mut tables: Vec<String> = changed
        .iter()
        .map(|item| format!("directus_{}", item.collection))
        .collect();
    tables.dedup();
    let activity = crate::audit::read_since(&target.client, since, &tables).await?;
    let id_map = target.ids.with(Clone::clone);
    // Labels name related items (a permission's role) by their label in the new dump.
    let names = |collection: &str, sync_id: &str| {
        let spec = crate::collections::spec(collection)?;
        dump.items(collection)
            .iter()
            .map(|item| item.value())
            .find(|item| item.get("_syncId").and_then(|id| id.as_str()) == Some(sync_id))
            .map(|item| spec.label(&item, &|_, _| None).as_str().to_string())
    };
    let items = changed
        .into_iter()
        .map(|changed| {
            let spec = crate::collections::spec(changed.collection).expect("a tracked collection");
            let table = format!("directus_{}", changed.collection);
            let on_item = activity.iter().filter(|activity| {
                activity.collection == table
                    && (id_map.sync_id(spec.name, &activity.item).as_deref()
                        == Some(changed.sync_id.as_str())
                        || spec.keeps_ids(&context.options.preserve_ids)
                            && activity.item == changed.sync_id)
            });
            ItemAttribution {
                collection: changed.collection.to_string(),
                label: spec.label(&changed.item, &names).to_string(),
                entries: Attribution::entries(on_item),
                sync_id: changed.sync_id,
            }
        })
        .collect();
    Ok(Attribution {
        since: Some(since),
        items,
    })
}

/// `host:port` of a URL, for summary lines.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| url.to_string())
}

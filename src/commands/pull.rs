use super::{Context, dump_repo, hook_error, hook_items, instance_url};
use crate::cli::{CommandError, ExitCode, PullArgs};
use crate::dump::{self, json::to_dump_string};
use crate::git::PullInfo;
use crate::hooks::HookName;
use crate::idmap::IdMapRow;
use crate::snapshot::Snapshot;
use crate::specs::Specs;
use serde_json::{Value, json};

pub async fn run(context: &Context, args: &PullArgs) -> Result<ExitCode, CommandError> {
    let options = &context.options;
    let root = context.dump_root();
    let repo = dump_repo(&root)?;
    let current_branch = repo.as_ref().and_then(|r| r.current_branch());
    // A branch other than the checked-out one is written through git only: the user's files,
    // index and uncommitted work stay as they are.
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

    if other_branch.is_none()
        && options.commit
        && let Some(repo) = &repo
    {
        let dirty = repo.uncommitted_dump_files()?;
        if !dirty.is_empty() && !args.force {
            let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
            return Err(CommandError::user(format!(
                "the dump folder has uncommitted changes a pull would overwrite: {}{}",
                shown.join(", "),
                if dirty.len() > 5 { format!(" and {} more", dirty.len() - 5) } else { String::new() }
            ))
            .hint("commit or stash them first, pull into another branch with --branch, or pass --force"));
        }
    }
    let connection = context.connect(args.force).await?;
    let client = &connection.client;
    let specs = context.specs();

    let fetch_snapshot = async {
        match options.snapshot {
            true => Snapshot::fetch(client).await.map(Some),
            false => Ok(None),
        }
    };
    let fetch_specs = async {
        match options.specs {
            true => Specs::fetch(client).await.map(Some),
            false => Ok(None),
        }
    };
    let mut queries = std::collections::HashMap::new();
    for spec in &specs {
        if context.hooks.has(spec.name, HookName::OnQuery) {
            let query = json!({"limit": -1});
            let query = context
                .hooks
                .run(spec.name, HookName::OnQuery, query)
                .await
                .map_err(hook_error)?;
            queries.insert(spec.name, query);
        }
    }
    let read_instance = connection.read_instance_with(&specs, &queries);
    let (snapshot, api_specs, mut instance) =
        tokio::try_join!(fetch_snapshot, fetch_specs, read_instance)?;

    // Every untracked item gets its SyncId before any relation is mapped, so that relations
    // between the pulled collections resolve whatever their order.
    let mut new_rows = Vec::new();
    for spec in &specs {
        for live in instance.live_items(spec) {
            if live.sync_id.is_some() {
                continue;
            }
            let sync_id = match spec.keeps_ids(&options.preserve_ids) {
                true => live.local_id.clone(),
                false => uuid::Uuid::new_v4().to_string(),
            };
            instance.id_map.insert(spec.name, &sync_id, &live.local_id);
            new_rows.push(IdMapRow {
                table: spec.name.to_string(),
                sync_id,
                local_id: live.local_id,
            });
        }
    }
    if !new_rows.is_empty() {
        instance.store.ensure(client).await?;
        connection.set_store(instance.store.clone());
        instance.store.insert(client, &new_rows).await?;
        tracing::info!("tracking {} new items", new_rows.len());
    }

    let vendor = snapshot
        .as_ref()
        .and_then(|s| s.0.get("vendor"))
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_string();
    let mut output = dump::DumpWrite::default();
    let hooks = &context.hooks;
    for spec in &specs {
        let tracked: Vec<_> = instance
            .live_items(spec)
            .iter()
            .filter_map(|live| Some(spec.start_dump(&live.raw, live.sync_id.as_deref()?)))
            .collect();
        let dumped = hooks
            .run(spec.name, HookName::OnDump, Value::Array(tracked))
            .await
            .map_err(hook_error)?;
        let mut items: Vec<_> = hook_items(spec.name, HookName::OnDump, dumped)?
            .into_iter()
            .map(|item| spec.finish_dump(item, &instance.id_map))
            .collect();
        spec.sort(&mut items);
        let saved = hooks
            .run(spec.name, HookName::OnSave, Value::Array(items))
            .await
            .map_err(hook_error)?;
        let items = hook_items(spec.name, HookName::OnSave, saved)?;
        tracing::debug!("{}: {} items", spec.name, items.len());
        let path = options.collections_path.join(format!("{}.json", spec.name));
        output.files.push((path, to_dump_string(&items)));
    }
    match snapshot {
        Some(snapshot) => {
            let saved = hooks
                .run("snapshot", HookName::OnSave, snapshot.0)
                .await
                .map_err(hook_error)?;
            let files = Snapshot(saved).to_files(options.split);
            output.dirs.push((options.snapshot_path.clone(), files));
        }
        None => tracing::debug!("snapshot is disabled"),
    }
    if let Some(api_specs) = api_specs {
        for (name, content) in api_specs.to_files() {
            output.files.push((options.specs_path.join(name), content));
        }
    }

    let info = PullInfo {
        url: instance_url(options),
        version: connection.server.version.clone(),
        vendor,
        user: connection.me.email.clone(),
        pulled_at: chrono::Utc::now(),
        environment: options.environment.clone(),
    };
    let message = |changes: &crate::git::DumpChanges| {
        let summary = args.message.clone().unwrap_or_else(|| {
            let what = changes.summary(&options.collections_path, &options.snapshot_path);
            format!("pull {}: {what}", host_of(&info.url))
        });
        format!("{summary}\n\n{}\n", info.trailers())
    };
    match (&repo, other_branch) {
        (Some(repo), Some(branch)) => {
            report_commit(repo.commit_dump(&branch, &output, message)?, &branch);
        }
        (repo, None) => {
            output.write_to(&root)?;
            tracing::info!("saved the dump in {}", root.display());
            match (repo, current_branch) {
                (Some(repo), Some(branch)) if options.commit => {
                    report_commit(repo.commit_dump(&branch, &output, message)?, &branch);
                }
                (Some(_), None) if options.commit => tracing::warn!(
                    "HEAD is detached: the dump was written but not committed (use --branch)"
                ),
                (None, _) if options.commit => tracing::info!(
                    "{} is not in a git repository; run `git init` there to keep a history of every pull",
                    root.display()
                ),
                _ => {}
            }
        }
        (None, Some(_)) => unreachable!("checked before connecting"),
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

fn report_commit(commit: Option<git2::Oid>, branch: &str) {
    match commit {
        Some(oid) => tracing::info!("committed {} on {branch}", &oid.to_string()[..10]),
        None => tracing::info!("no change since the last commit on {branch}; nothing committed"),
    }
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

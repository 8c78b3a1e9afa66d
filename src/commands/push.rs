use super::{Context, LoadedDump, dump_repo, instance_url, plan_for, schema_diff};
use crate::cli::{CommandError, ErrorKind, ExitCode, PushArgs};
use crate::git::{DeploymentRecord, DumpRepo, RecordKind};
use crate::hooks::HookName;
use crate::instance::Instance;
use crate::plan::{Action, Applied, Plan};

pub async fn run(context: &Context, args: &PushArgs) -> Result<ExitCode, CommandError> {
    let source = context.dump_source(args.revision.as_deref())?;
    let dump = context.load_dump(source.as_ref()).await?;
    let repo = dump_repo(&context.dump_root())?;
    let connection = context.connect(args.force).await?;
    let specs = context.specs();
    let read_instance = connection.read_instance(&specs);
    let (schema, instance) =
        tokio::try_join!(schema_diff(&connection, &dump, args.force), read_instance)?;
    let plan = plan_for(&specs, &dump, &instance, schema);
    print!("{}", plan.render_text(context.color()));
    if !plan.unresolved.is_empty() {
        return Err(CommandError::user(format!(
            "the dump refers to {} items that exist neither in the dump nor on the instance; nothing was changed",
            plan.unresolved.len()
        ))
        .hint("pull the referenced collections too, or fix the references listed above with '!'"));
    }
    if let Some(repo) = &repo
        && !args.force
    {
        check_drift(context, repo, &connection, &instance).await?;
    }
    if args.dry_run {
        context.finish(&connection);
        return Ok(ExitCode::Success);
    }
    let counts = plan.counts();
    if plan.has_writes() {
        converge(context, args, source.as_ref(), &connection, plan, instance).await?;
    } else {
        tracing::info!("the instance already matches the dump");
    }
    if let Some(repo) = &repo {
        record(context, repo, args, &dump, counts, &connection).await?;
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

/// Applies the plan, reads the instance back and applies what still differs, until the
/// instance matches the dump. Normally one round; a round that changes nothing, or
/// `--max-push-retries` rounds (0: no limit), end with an error naming what does not converge.
async fn converge(
    context: &Context,
    args: &PushArgs,
    source: &dyn crate::dump::DumpSource,
    connection: &super::Connection,
    mut plan: Plan,
    mut instance: Instance,
) -> Result<(), CommandError> {
    let limit = context.options.max_push_retries;
    let mut round = 1;
    let mut total = Applied::default();
    loop {
        let progress = crate::cli::logging::progress(plan.steps(), "pushing");
        let applied = plan
            .apply(
                &connection.client,
                &mut instance,
                &context.options.preserve_ids,
                &progress,
            )
            .await;
        progress.finish_and_clear();
        connection.set_store(instance.store.clone());
        let applied = applied.map_err(|error| {
            let mut applied = total;
            applied += error.applied;
            CommandError::new(ErrorKind::Server, error)
                .hint(format!("applied before the failure: {applied}"))
                .hint("fix the cause and push again: the next push continues from here")
        })?;
        tracing::info!("applied: {applied}");
        total += applied;
        let (after, read_back) = context.plan(connection, args.force, source).await?;
        if after.is_empty() {
            return Ok(());
        }
        let remaining = after.render_text(false);
        if remaining == plan.render_text(false) || (limit != 0 && round >= limit) {
            return Err(CommandError::user(format!(
                "the instance still differs from the dump after {round} rounds:\n{}",
                remaining.trim_end()
            ))
            .hint("Directus did not keep these values; check them in the admin app"));
        }
        tracing::info!(
            "round {round} left {} changes; applying them",
            after.counts().total()
        );
        (plan, instance, round) = (after, read_back, round + 1);
    }
}

/// Notes the push on the pushed commit (HEAD for the working tree).
async fn record(
    context: &Context,
    repo: &DumpRepo,
    args: &PushArgs,
    dump: &LoadedDump,
    counts: crate::plan::Counts,
    connection: &super::Connection,
) -> Result<(), CommandError> {
    let revision = args.revision.as_deref().unwrap_or("HEAD");
    let Ok(commit) = repo.commit(revision) else {
        tracing::debug!("no commit to record the push on");
        return Ok(());
    };
    let uncommitted = match (&args.revision, repo.source("HEAD")) {
        (Some(_), _) => false,
        (None, Ok(head)) => context
            .load_dump(&head)
            .await
            .map_or(true, |committed| !committed.same_as(dump)),
        (None, Err(_)) => true,
    };
    let record = DeploymentRecord {
        kind: RecordKind::Push,
        commit: commit.id().to_string(),
        url: instance_url(&context.options),
        environment: context.options.environment.clone(),
        at: chrono::Utc::now(),
        user: connection.me.email.clone(),
        directus_version: Some(connection.server.version.clone()),
        counts: Some(counts),
        summary: None,
        uncommitted,
    };
    repo.add_record(commit.id(), &record)?;
    tracing::debug!("recorded the push on {}", &record.commit[..10]);
    Ok(())
}

/// Stops when the instance changed since the last commit pulled from or pushed to it: a
/// push would silently undo those changes.
async fn check_drift(
    context: &Context,
    repo: &DumpRepo,
    connection: &super::Connection,
    instance: &Instance,
) -> Result<(), CommandError> {
    let url = instance_url(&context.options);
    let Some(last) = repo.records()?.into_iter().find(|r| r.url == url) else {
        tracing::debug!("no earlier pull or push of {url}: nothing to check drift against");
        return Ok(());
    };
    if last.uncommitted {
        tracing::debug!("the last push to {url} came from uncommitted files: drift not checked");
        return Ok(());
    }
    let Ok(source) = repo.source(&last.commit) else {
        return Ok(());
    };
    let Ok(recorded) = context.load_dump(&source).await else {
        tracing::debug!(
            "the dump of {} cannot be read: drift not checked",
            &last.commit[..10]
        );
        return Ok(());
    };
    let specs = context.specs();
    let schema = schema_diff(connection, &recorded, false)
        .await
        .ok()
        .flatten();
    let drift = plan_for(&specs, &recorded, instance, schema);
    let mut lines = drift_lines(&drift);
    let role_name = |sync_id: &str| role_names(instance, sync_id);
    for spec in &specs {
        if context.hooks.has(spec.name, HookName::OnQuery) {
            // Items an onQuery hook leaves out are untracked on purpose, not drift.
            continue;
        }
        let adopted = |local: &str| {
            drift.collections.iter().any(|c| {
                c.items.iter().any(|i| matches!(&i.action, Action::Update { local_id, adopt: true, .. } if local_id == local))
            })
        };
        for live in instance.live_items(spec) {
            if live.sync_id.is_none() && !adopted(&live.local_id) {
                let item = spec.to_dump(&live.raw, "", &instance.id_map);
                lines.push(format!(
                    "+ {} {}: created on the instance",
                    spec.name,
                    spec.label(&item, &role_name)
                ));
            }
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let verb = match last.kind {
        RecordKind::Pull => "pulled",
        RecordKind::Push => "pushed",
    };
    Err(CommandError::user(format!(
        "{url} changed since {} was {verb} ({}):\n  {}",
        &last.commit[..10],
        last.at.format("%Y-%m-%d %H:%M UTC"),
        lines.join("\n  ")
    ))
    .hint("pull those changes first (and merge them), or push with --force to overwrite them"))
}

/// A role's name by SyncId (or by id, for roles the id map does not know).
fn role_names(instance: &Instance, id: &str) -> Option<String> {
    let local = instance
        .id_map
        .local_id("roles", id)
        .unwrap_or_else(|| id.to_string());
    instance.items.get("roles")?.iter().find_map(|role| {
        (crate::idmap::id_string(&role["id"]).as_deref() == Some(local.as_str()))
            .then(|| role["name"].as_str().map(str::to_string))
            .flatten()
    })
}

/// The drift plan read backwards: what someone changed on the instance.
fn drift_lines(drift: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(schema) = &drift.schema {
        for (part, changes) in schema.changes().parts() {
            for change in changes {
                lines.push(format!(
                    "~ schema {part} {}: changed on the instance",
                    change.name
                ));
            }
        }
    }
    for collection in &drift.collections {
        let name = collection.spec.name;
        for change in &collection.items {
            let line = match &change.action {
                Action::Create => format!("- {name} {}: deleted on the instance", change.label),
                Action::Delete { .. } => {
                    format!("+ {name} {}: created on the instance", change.label)
                }
                Action::Update { changes, .. } if !changes.is_empty() => {
                    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                    format!(
                        "~ {name} {}: {} changed on the instance",
                        change.label,
                        fields.join(", ")
                    )
                }
                Action::Update { .. } => continue,
            };
            lines.push(line);
        }
    }
    lines
}

//! Saved plans: `diff --out FILE` writes the plan it shows, with a fingerprint of the live
//! state it was computed against; `push --plan FILE` applies exactly that plan, after fresh
//! reads of the instance (before the lock, and again under it) give the same fingerprint.
//! Nothing is computed again from a dump: what was reviewed is what is applied, or nothing.

use super::{CommandError, Comparison, Context, ExitCode, Target};
use crate::collections::CollectionSpec;
use crate::instance::Instance;
use crate::plan::saved::{Header, Origin};
use crate::plan::{Fingerprint, Plan, SavedPlan};
use crate::snapshot::Snapshot;
use crate::ui;
use crate::values::ValuesError;
use std::path::Path;

/// The live schema, read before the comparison whose plan will be saved: a schema changed
/// in between makes the fingerprint older than the plan, which only ever refuses a push.
pub async fn schema_before(
    dump: &crate::dump::Dump,
    target: &Target,
) -> Result<Option<Snapshot>, CommandError> {
    // As the comparison does: the schema counts when the dump has one.
    match dump.snapshot.is_some() {
        true => Ok(Some(Snapshot::fetch(&target.client).await?)),
        false => Ok(None),
    }
}

/// Writes `comparison`'s plan to `out`. A plan push would refuse (unresolved references,
/// values the instance would not keep) is not saved.
pub fn save(
    context: &Context,
    dump: &crate::dump::Dump,
    comparison: &Comparison,
    schema: Option<&Snapshot>,
    revision: Option<&str>,
    out: &Path,
) -> Result<(), CommandError> {
    let plan = &comparison.plan;
    if !plan.unresolved.is_empty() || !plan.invalid.is_empty() {
        return Err(CommandError::user(format!(
            "the plan is not saved to {}: push would refuse it (the lines marked '!' above)",
            out.display()
        ))
        .hint("fix the dump, then run `diff --out` again"));
    }
    let specs: Vec<&'static CollectionSpec> = plan.collections.iter().map(|c| c.spec).collect();
    let header = Header {
        instance: context.instance_url(),
        dump: origin(context, revision)?,
        fingerprint: Fingerprint::of(schema, &comparison.instance, &specs),
        text: plan.render_text(false),
        target_schema: dump.snapshot.as_ref().map(Snapshot::to_value),
    };
    let saved = SavedPlan::of(plan, header);
    let text = saved.to_text(&plan.masks);
    crate::dump::write_file_atomic(&context_path(context, out), text.as_bytes())?;
    tracing::info!("saved the plan to {}", out.display());
    Ok(())
}

fn context_path(context: &Context, path: &Path) -> std::path::PathBuf {
    match path.is_absolute() {
        true => path.to_path_buf(),
        false => context.cwd().join(path),
    }
}

/// The commit the dump was read from, and whether the working tree's files were as committed.
fn origin(context: &Context, revision: Option<&str>) -> Result<Origin, CommandError> {
    let Some(repo) = context.repo()? else {
        return Ok(Origin {
            revision: revision.map(str::to_string),
            commit: None,
            uncommitted: true,
        });
    };
    let commit = repo
        .commit(revision.unwrap_or("HEAD"))
        .ok()
        .map(|c| c.id().to_string());
    let uncommitted = match revision {
        Some(_) => false,
        None => commit.is_none() || !repo.uncommitted_dump_files()?.is_empty(),
    };
    Ok(Origin {
        revision: revision.map(str::to_string),
        commit,
        uncommitted,
    })
}

/// What `push --plan` is told.
pub struct Apply<'a> {
    pub path: &'a Path,
    pub force: bool,
    pub dry_run: bool,
}

/// `push --plan FILE`: reads and fills the plan, checks the instance is the one and in the
/// state it was made against, then applies it under the lock, checking the state once more.
pub async fn push(context: &Context, args: Apply<'_>) -> Result<ExitCode, CommandError> {
    let saved = read(context, args.path)?;
    let specs = saved.specs()?;
    let mut plan = fill(context, &saved)?;
    let target = context.connect(args.force).await?;
    same_instance(context, &saved, args.path)?;
    ui::print(&saved.text)?;
    fresh_state(&target, &saved, &specs, args.path).await?;
    if args.dry_run {
        context.finish(&target);
        tracing::info!("dry run: the instance is as the plan expects; nothing was written");
        return Ok(ExitCode::Success);
    }
    super::push::consent_to_data_loss(context, &saved.data_loss)?;
    if !plan.has_writes() {
        tracing::info!("the plan changes nothing");
        context.finish(&target);
        return Ok(ExitCode::Success);
    }
    let write = async {
        target.clear_cache().await?;
        let instance = fresh_state(&target, &saved, &specs, args.path).await?;
        if let Some(schema) = &saved.schema {
            plan.schema = Some(renew_schema_hash(&target, schema, &args).await?);
        }
        apply(context, &target, &plan, &instance).await
    };
    target
        .locked("push", context.options.lock_wait, write)
        .await?;
    record(context, &saved, &plan, &target)?;
    context.finish(&target);
    Ok(ExitCode::Success)
}

fn read(context: &Context, path: &Path) -> Result<SavedPlan, CommandError> {
    let text = std::fs::read_to_string(context_path(context, path)).map_err(|e| {
        CommandError::user(format!("cannot read the plan file {}: {e}", path.display()))
    })?;
    Ok(SavedPlan::parse(&text)?)
}

/// The plan with this run's secrets in place of its placeholders; every unset variable is
/// named before anything is read from or written to the instance.
fn fill(context: &Context, saved: &SavedPlan) -> Result<Plan, CommandError> {
    let mut missing = std::collections::BTreeSet::new();
    let plan = saved.to_plan(&context.variables, context.masks(), &mut missing)?;
    match missing.is_empty() {
        true => Ok(plan),
        false => Err(ValuesError::MissingSecrets {
            names: missing.into_iter().collect(),
        }
        .into()),
    }
}

fn same_instance(context: &Context, saved: &SavedPlan, path: &Path) -> Result<(), CommandError> {
    let url = context.instance_url();
    match saved.instance == url {
        true => Ok(()),
        false => Err(CommandError::user(format!(
            "the plan in {} was made for {}, not {url}; nothing was changed",
            path.display(),
            saved.instance
        ))
        .hint("make a plan for this instance with `diff --out`")),
    }
}

/// Reads the instance afresh and refuses when it no longer is what the plan was made against.
async fn fresh_state(
    target: &Target,
    saved: &SavedPlan,
    specs: &[&'static CollectionSpec],
    path: &Path,
) -> Result<Instance, CommandError> {
    let schema = async {
        // The schema counts when the plan compared it (`snapshot: false` plans leave it out).
        match saved.fingerprint.schema.is_some() {
            true => Snapshot::fetch(&target.client).await.map(Some),
            false => Ok(None),
        }
    };
    let (schema, instance) = tokio::try_join!(schema, target.read(specs))?;
    let now = Fingerprint::of(schema.as_ref(), &instance, specs);
    let changed = saved.fingerprint.differences(&now);
    if changed.is_empty() {
        return Ok(instance);
    }
    Err(CommandError::user(format!(
        "the instance changed since the plan was made ({}); nothing was changed",
        changed.join(", ")
    ))
    .hint(format!(
        "make the plan again with `diff --out {}`, review it, and push that one",
        path.display()
    )))
}

/// The saved schema diff with Directus' hash of the schema as it is now (see
/// [`crate::plan::saved`]): asked for again from the dump's snapshot, and refused unless it
/// is the saved diff.
async fn renew_schema_hash(
    target: &Target,
    saved: &crate::plan::saved::SavedSchema,
    args: &Apply<'_>,
) -> Result<crate::snapshot::SchemaDiff, CommandError> {
    let fresh = Snapshot::new(saved.target.clone())
        .diff(&target.client, args.force)
        .await?;
    match fresh.diff {
        Some(diff) if crate::json::json_equal(&diff.diff.to_value(), &saved.diff) => Ok(diff),
        _ => Err(CommandError::user(
            "the instance changed since the plan was made (the schema); nothing was changed",
        )
        .hint(format!(
            "make the plan again with `diff --out {}`, review it, and push that one",
            args.path.display()
        ))),
    }
}

async fn apply(
    context: &Context,
    target: &Target,
    plan: &Plan,
    instance: &Instance,
) -> Result<(), CommandError> {
    let applied = target
        .apply(plan, instance, &context.options.preserve_ids)
        .await;
    match applied {
        Ok((applied, timings)) => {
            tracing::info!("applied: {applied}");
            tracing::info!("applied in {timings}");
            target.clear_cache().await?;
            Ok(())
        }
        Err(error) => {
            let applied = error.applied;
            Err(CommandError::new(super::ErrorKind::Server, error)
                .hint(format!("applied before the failure: {applied}"))
                .hint("the instance is part way: make a new plan with `diff --out` and push it"))
        }
    }
}

/// Notes the push on the commit the plan's dump came from, as `push` does, so that the next
/// push's drift guard measures from it.
fn record(
    context: &Context,
    saved: &SavedPlan,
    plan: &Plan,
    target: &Target,
) -> Result<(), CommandError> {
    let (Some(repo), Some(commit)) = (context.repo()?, &saved.dump.commit) else {
        return Ok(());
    };
    let Ok(commit) = repo.commit(commit) else {
        tracing::debug!("the plan's commit is not in this repository: push not recorded");
        return Ok(());
    };
    let totals = plan.totals();
    let record =
        super::push::push_record(context, target, commit.id(), totals, saved.dump.uncommitted);
    repo.add_record(commit.id(), &record)?;
    if let Some(branch) = &context.options.branch {
        tracing::warn!(
            "push --plan does not move {branch}; a `pull` of this instance records what is live"
        );
    }
    Ok(())
}

//! `push [REF]`: applies the differences between a dump and the instance, in a safe order,
//! until a fresh read of the instance matches the dump; then notes the push in git. The
//! writes happen under the instance's lock, taken only when there is something to write.

use super::{CommandError, Comparison, Context, ErrorKind, ExitCode, Target};
use crate::dump::{Dump, DumpSource};
use crate::git::{DeploymentRecord, DumpRepo, RecordKind};
use crate::plan::{Action, Applied, Plan, Totals};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Apply even when the dump's Directus version or database vendor differ from the
    /// instance's, or when the instance drifted since it was last pulled or pushed
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Push this git revision's dump (branch, tag, SHA; an older commit rolls back)
    #[arg(value_name = "REF", conflicts_with = "plan")]
    pub revision: Option<String>,
    /// Apply exactly the plan `diff --out` saved in FILE, refused when the instance changed
    /// since it was made (the dump is not read)
    #[arg(long, value_name = "FILE")]
    pub plan: Option<std::path::PathBuf>,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    if let Some(path) = &args.plan {
        let apply = super::saved_plan::Apply {
            path,
            force: args.force,
            dry_run: args.dry_run,
        };
        return super::saved_plan::push(context, apply).await;
    }
    let source = context.source(args.revision.as_deref())?;
    let dump = context.load_dump(source.as_ref()).await?;
    let repo = context.repo()?;
    let target = context.connect(args.force).await?;
    let comparison = target.compare(&dump, args.force).await?;
    ui::print(&comparison.plan.render_text(ui::color()))?;
    comparison.plan.note_left_out();
    check(context, args, repo.as_ref(), &target, &comparison).await?;
    if args.dry_run {
        context.finish(&target);
        // Last, so that a dry run's output never reads as a push's.
        tracing::info!("dry run: nothing was written");
        return Ok(ExitCode::Success);
    }
    let losses: Vec<String> = comparison
        .plan
        .data_loss
        .iter()
        .map(|l| l.describe())
        .collect();
    consent_to_data_loss(context, &losses)?;
    let wrote = comparison.plan.has_writes();
    let totals = match wrote {
        true => {
            // Only what was shown is kept: the plan is computed again under the lock.
            let shown = Shown::of(&comparison.plan);
            drop(comparison);
            let write = write(context, args, repo.as_ref(), &dump, &target, shown);
            target
                .locked("push", context.options.lock_wait, write)
                .await?
        }
        false => {
            tracing::info!("the instance already matches the dump");
            comparison.plan.totals()
        }
    };
    if let Some(repo) = &repo {
        let pushed = Pushed {
            source: source.as_ref(),
            dump: &dump,
        };
        record(context, repo, args, &pushed, (totals, wrote), &target).await?;
    }
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// What must hold before a plan is applied: every reference resolves, every value can be
/// kept, and (unless `--force`) the instance did not change since it was last pulled or pushed.
async fn check(
    context: &Context,
    args: &Args,
    repo: Option<&DumpRepo>,
    target: &Target,
    comparison: &Comparison,
) -> Result<(), CommandError> {
    refuse_unresolved(&comparison.plan)?;
    if let Some(repo) = repo
        && !args.force
    {
        check_drift(context, args, repo, target, comparison).await?;
    }
    Ok(())
}

/// The write phase, under the instance's lock. The plan shown was computed before the lock
/// was taken, and another run may have written since (while this one waited for the lock, or
/// just before it took it): the instance is read again, and a plan that changed is shown and
/// checked again before anything is written. Returns the counts of the plan applied.
async fn write(
    context: &Context,
    args: &Args,
    repo: Option<&DumpRepo>,
    dump: &Dump,
    target: &Target,
    shown: Shown,
) -> Result<Totals, CommandError> {
    target.clear_cache().await?;
    let comparison = target.compare(dump, args.force).await?;
    if PlanText::of(&comparison.plan) != shown.text {
        if !comparison.plan.has_writes() {
            tracing::info!(
                "another run made these changes meanwhile: the instance already matches the dump"
            );
            return Ok(comparison.plan.totals());
        }
        tracing::warn!("the instance changed since the plan above was computed; it now is:");
        ui::print(&comparison.plan.render_text(ui::color()))?;
        check(context, args, repo, target, &comparison).await?;
        consent_again(context, &shown, &comparison.plan)?;
    }
    let totals = comparison.plan.totals();
    converge(context, args, dump, target, comparison).await?;
    Ok(totals)
}

/// What the user saw of a plan, and agreed to: its text and the losses it names.
struct Shown {
    text: PlanText,
    data_loss: Vec<String>,
}

impl Shown {
    fn of(plan: &Plan) -> Shown {
        Shown {
            text: PlanText::of(plan),
            data_loss: plan.data_loss.iter().map(|l| l.describe()).collect(),
        }
    }
}

/// Deleting what git cannot give back needs `--allow-data-loss`, or a yes at a prompt when
/// someone is at the terminal. Otherwise push stops before its first write.
pub(super) fn consent_to_data_loss(
    context: &Context,
    losses: &[String],
) -> Result<(), CommandError> {
    if losses.is_empty() || context.options.allow_data_loss {
        return Ok(());
    }
    if ui::interactive() {
        let question = format!(
            "This push deletes what git cannot give back:\n  {}\nApply it? [y/N] ",
            losses.join("\n  ")
        );
        if ui::confirm(&question)? {
            return Ok(());
        }
        return Err(CommandError::user("push cancelled; nothing was changed"));
    }
    Err(data_loss_refused(losses))
}

/// For a plan computed again under the lock: the losses agreed to before need no new consent;
/// any other stops the push. Never a question at a prompt while the lock is held: the run
/// cannot renew its lock while it waits for the answer.
fn consent_again(context: &Context, shown: &Shown, fresh: &Plan) -> Result<(), CommandError> {
    if context.options.allow_data_loss {
        return Ok(());
    }
    let new: Vec<String> = fresh
        .data_loss
        .iter()
        .map(|l| l.describe())
        .filter(|loss| !shown.data_loss.contains(loss))
        .collect();
    match new.is_empty() {
        true => Ok(()),
        false => Err(data_loss_refused(&new)),
    }
}

fn data_loss_refused(losses: &[String]) -> CommandError {
    CommandError::user(format!(
        "this push deletes what git cannot give back; nothing was changed:\n  {}",
        losses.join("\n  ")
    ))
    .hint("review the lines marked '!' above, then push again with --allow-data-loss (allowDataLoss: true)")
}

fn refuse_unresolved(plan: &Plan) -> Result<(), CommandError> {
    if !plan.invalid.is_empty() {
        return Err(CommandError::user(format!(
            "the dump holds {} the instance would not keep; nothing was changed",
            crate::text::count(plan.invalid.len(), "value", "values")
        ))
        .hint("fix the items listed above with '!' in the dump"));
    }
    if plan.unresolved.is_empty() {
        return Ok(());
    }
    Err(CommandError::user(format!(
        "the dump refers to {} found neither in the dump nor on the instance; nothing was changed",
        crate::text::count(plan.unresolved.len(), "item", "items")
    ))
    .hint("pull the referenced collections too, or fix the references listed above with '!'"))
}

/// A plan's text, kept as its hash: plans are compared by what they say, and the text of a
/// first push of a large instance is megabytes.
#[derive(PartialEq, Eq, Hash)]
struct PlanText(u64);

impl PlanText {
    fn of(plan: &Plan) -> PlanText {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        plan.render_text(false).hash(&mut hasher);
        PlanText(hasher.finish())
    }
}

/// Applies the plan, reads the instance back and applies what still differs, until the
/// instance matches the dump. Normally one round; a round that changes nothing, or
/// `--max-push-retries` rounds (0: no limit), end with an error naming what does not converge.
async fn converge(
    context: &Context,
    args: &Args,
    dump: &Dump,
    target: &Target,
    mut comparison: Comparison,
) -> Result<(), CommandError> {
    let limit = context.options.max_push_retries;
    let mut round = 1;
    let mut total = Applied::default();
    // A remainder seen before means the rounds go in circles: no more round will help.
    let mut seen = std::collections::HashSet::new();
    seen.insert(PlanText::of(&comparison.plan));
    loop {
        let Comparison { plan, instance } = &comparison;
        let applied = target
            .apply(plan, instance, &context.options.preserve_ids)
            .await;
        let (applied, timings) = match applied {
            Ok(applied) => applied,
            Err(error) => return Err(failure(args, dump, target, plan, total, error).await),
        };
        for changes in &plan.collections {
            let counts = changes.counts();
            if counts.total() > 0 {
                tracing::info!(
                    "{}: {} created, {} updated, {} deleted",
                    changes.spec.name,
                    counts.create,
                    counts.update,
                    counts.delete
                );
            }
        }
        tracing::info!("applied: {applied}");
        tracing::info!("applied in {timings}");
        total += applied;
        // The plan and the state it was made from are done with: the read-back holds the
        // instance's new state.
        drop(comparison);
        let started = std::time::Instant::now();
        target.clear_cache().await?;
        let after = target.compare(dump, args.force).await?;
        tracing::info!("read back in {:.2} s", started.elapsed().as_secs_f64());
        if after.plan.is_empty() {
            return Ok(());
        }
        if !seen.insert(PlanText::of(&after.plan)) || (limit != 0 && round >= limit) {
            return Err(CommandError::user(format!(
                "the instance still differs from the dump after {round} rounds:\n{}",
                after.plan.render_text(false).trim_end()
            ))
            .hint("Directus did not keep these values; check them in the admin app"));
        }
        tracing::info!(
            "round {round} left {} changes; applying them",
            after.plan.totals().total()
        );
        (comparison, round) = (after, round + 1);
    }
}

/// What to say when applying failed. A schema apply that Directus refused as a whole names
/// no field (SQLite says `SQLITE_ERROR`): the changes are then applied one at a time to find
/// the one it refuses.
async fn failure(
    args: &Args,
    dump: &Dump,
    target: &Target,
    plan: &Plan,
    mut applied: Applied,
    error: crate::plan::ApplyError,
) -> CommandError {
    const CANNOT: &str = "a change Directus cannot make in place (a primary key's type, a type \
                          the data does not fit) needs another way: a new field, or the admin app";
    applied += error.applied;
    if !error.step.starts_with(crate::plan::SCHEMA_STEP) {
        return CommandError::new(ErrorKind::Server, error)
            .hint(format!("applied before the failure: {applied}"))
            .hint("fix the cause and push again: the next push continues from here");
    }
    let several = plan.schema.as_ref().is_some_and(|s| s.changes().len() > 1);
    let refused = match (&dump.snapshot, several) {
        (Some(snapshot), true) => {
            tracing::info!("applying the schema changes one at a time to find the one refused");
            snapshot.find_refused(&target.client, args.force).await
        }
        _ => Ok(None),
    };
    match refused {
        Ok(Some(refused)) => CommandError::new(
            ErrorKind::Server,
            anyhow::anyhow!(
                "applying the schema: Directus refused the {}: {}",
                refused.change,
                refused.error
            ),
        )
        .hint(format!(
            "applied before the failure: {applied}; then {} schema changes one at a time",
            refused.applied
        ))
        .hint(format!("Directus undid the {}; {CANNOT}", refused.change)),
        Ok(None) if several => CommandError::new(ErrorKind::Server, error)
            .hint(format!("applied before the failure: {applied}"))
            .hint("applied a change at a time, the whole schema went in: push again"),
        Ok(None) | Err(_) => CommandError::new(ErrorKind::Server, error)
            .hint(format!("applied before the failure: {applied}"))
            .hint(format!(
                "Directus undid the whole schema change (on MariaDB and MySQL, what it altered \
                 before the failure stays); {CANNOT}"
            )),
    }
}

/// The dump pushed, and where it was read from.
struct Pushed<'a> {
    source: &'a dyn DumpSource,
    /// Fitted to the environment: its values, and its secrets filled.
    dump: &'a Dump,
}

/// Notes the push on the pushed commit (HEAD for the working tree).
async fn record(
    context: &Context,
    repo: &DumpRepo,
    args: &Args,
    pushed: &Pushed<'_>,
    (totals, wrote): (Totals, bool),
    target: &Target,
) -> Result<(), CommandError> {
    let dump = pushed.dump;
    let revision = args.revision.as_deref().unwrap_or("HEAD");
    let Ok(commit) = repo.commit(revision) else {
        tracing::debug!("no commit to record the push on");
        return Ok(());
    };
    // Files as committed are the dump as committed: only edited files need a second dump.
    let edited = !as_committed(repo);
    let uncommitted = match (&args.revision, repo.source("HEAD")) {
        (Some(_), _) => false,
        (None, Ok(_)) if !edited => false,
        (None, Ok(head)) => context
            .load_dump(&head)
            .await
            .map_or(true, |committed| !committed.same_as(dump)),
        (None, Err(_)) => true,
    };
    let record = push_record(context, target, commit.id(), totals, uncommitted);
    repo.add_record(commit.id(), &record)?;
    tracing::debug!("recorded the push on {}", &record.commit[..10]);
    if let Some(branch) = &context.options.branch {
        // Files not committed are committed as they are, placeholders and all: the dump
        // pushed holds the environment's secrets.
        let files = match record.uncommitted {
            true => Some(context.read_dump(pushed.source).await?),
            false => None,
        };
        let deployment = Deployment {
            pushed: commit.id(),
            wrote,
            record: &record,
        };
        record_on_branch(context, repo, branch, args, files.as_ref(), &deployment)?;
    }
    Ok(())
}

/// A push that went through, to record.
struct Deployment<'a> {
    pushed: git2::Oid,
    /// It changed the instance: a commit records it even when the branch held its dump.
    wrote: bool,
    record: &'a DeploymentRecord,
}

/// An environment's branch is what is live there: after a push, it holds the dump pushed,
/// in a commit that also descends from the pushed commit (see `DumpRepo::record_deployment`).
fn record_on_branch(
    context: &Context,
    repo: &DumpRepo,
    branch: &str,
    args: &Args,
    uncommitted: Option<&Dump>,
    deployment: &Deployment,
) -> Result<(), CommandError> {
    let Deployment {
        pushed,
        wrote,
        record,
    } = *deployment;
    if repo.current_branch().as_deref() == Some(branch) {
        tracing::warn!(
            "{branch} is checked out, so it was not moved to what was pushed; `pull` records it"
        );
        return Ok(());
    }
    repo.check_not_checked_out_elsewhere(branch)?;
    let from = args.revision.as_deref().unwrap_or("the working tree");
    let short = &record.commit[..10];
    let environment = record.environment.as_deref().unwrap_or(branch);
    let summary = match record.uncommitted {
        true => format!("deploy {from} (uncommitted files on {short}) to {environment}"),
        false => format!("deploy {from}@{short} to {environment}"),
    };
    let message = format!(
        "{summary}\n\nPushed-From: {}\nDirectus-Url: {}\n{}Directus-User: {}\nPushed-At: {}\nDirectus-Sync-Version: {}\n",
        record.commit,
        record.url,
        record
            .environment
            .as_ref()
            .map(|e| format!("Directus-Environment: {e}\n"))
            .unwrap_or_default(),
        record.user,
        record.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        env!("CARGO_PKG_VERSION"),
    );
    let lineage = context.lineage(repo, Some(pushed));
    let committed = match uncommitted {
        Some(dump) => {
            repo.commit_dump(branch, &dump.files(&context.layout()), &message, &lineage)?
        }
        None => repo.record_deployment(branch, pushed, &message, &lineage, wrote)?,
    };
    match committed {
        Some(oid) => tracing::info!(
            "recorded the deployment on {branch} ({})",
            &oid.to_string()[..10]
        ),
        None => tracing::debug!("{branch} already holds what was pushed"),
    }
    Ok(())
}

/// Stops when the instance changed since the last commit pulled from or pushed to it: a
/// push would silently undo those changes.
async fn check_drift(
    context: &Context,
    args: &Args,
    repo: &DumpRepo,
    target: &Target,
    live: &Comparison,
) -> Result<(), CommandError> {
    let url = context.instance_url();
    let Some(last) = repo.records()?.into_iter().find(|r| r.url == url) else {
        tracing::debug!("no earlier pull or push of {url}: nothing to check drift against");
        return Ok(());
    };
    if last.uncommitted {
        tracing::debug!("the last push to {url} came from uncommitted files: drift not checked");
        return Ok(());
    }
    // The dump last recorded is often the one pushed (a push of what was just pulled): its
    // comparison with the instance is the one made already.
    let computed;
    let drift =
        match pushed_tree(repo, args).is_some_and(|t| repo.dump_tree(&last.commit) == Some(t)) {
            true => &live.plan,
            false => {
                let Some(recorded) = recorded_dump(context, repo, &last.commit).await else {
                    return Ok(());
                };
                computed = match target.compare_with(&recorded, false, &live.instance).await {
                    Ok(drift) => drift,
                    Err(error) => {
                        tracing::debug!("drift not checked: {}", error.message());
                        return Ok(());
                    }
                };
                &computed
            }
        };
    let mut lines = drift_lines(drift);
    lines.extend(untracked_lines(context, drift, live));
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

/// The tree of the dump folder pushed, when it is a commit's: `REF`, or HEAD when the files
/// are as committed.
fn pushed_tree(repo: &DumpRepo, args: &Args) -> Option<git2::Oid> {
    match &args.revision {
        Some(revision) => repo.dump_tree(revision),
        None => as_committed(repo).then(|| repo.dump_tree("HEAD")).flatten(),
    }
}

/// Whether the dump folder's files are HEAD's, untouched.
fn as_committed(repo: &DumpRepo) -> bool {
    repo.uncommitted_dump_files()
        .is_ok_and(|files| files.is_empty())
}

async fn recorded_dump(context: &Context, repo: &DumpRepo, commit: &str) -> Option<Dump> {
    let source = repo.source(commit).ok()?;
    match context.load_dump(&source as &dyn DumpSource).await {
        Ok(dump) => Some(dump),
        Err(error) => {
            tracing::debug!(
                "the dump of {} cannot be read ({}): drift not checked",
                &commit[..10],
                error.message()
            );
            None
        }
    }
}

/// Items created on the instance that no SyncId tracks yet.
fn untracked_lines(context: &Context, drift: &Plan, live: &Comparison) -> Vec<String> {
    let instance = &live.instance;
    let adopted = |local: &str| {
        drift.collections.iter().any(|c| {
            c.items.iter().any(
                |i| matches!(&i.action, Action::Update { local_id, adopt: true, .. } if local_id == local),
            )
        })
    };
    let mut lines = Vec::new();
    for (spec, _) in live.plan.collections.iter().map(|c| (c.spec, ())) {
        if context
            .hooks
            .has(spec.name, crate::hooks::HookName::OnQuery)
        {
            // Items an onQuery hook leaves out are untracked on purpose, not drift.
            continue;
        }
        for item in instance.live_items(spec) {
            if item.sync_id.is_none() && !adopted(&item.local_id) {
                let dumped = spec.to_dump(item.raw.value(), "", &instance.id_map);
                lines.push(format!(
                    "+ {} {}: created on the instance",
                    spec.name,
                    spec.label(&dumped, &|target, id| instance.name_of(target, id))
                ));
            }
        }
    }
    lines
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

/// The record of a push of `commit` that applied `totals`.
pub(super) fn push_record(
    context: &Context,
    target: &Target,
    commit: git2::Oid,
    totals: Totals,
    uncommitted: bool,
) -> DeploymentRecord {
    DeploymentRecord {
        kind: RecordKind::Push,
        commit: commit.to_string(),
        url: context.instance_url(),
        environment: context.options.environment.clone(),
        at: chrono::Utc::now(),
        user: target.me.email.clone(),
        directus_version: Some(target.server.version.clone()),
        counts: Some(totals.items),
        schema_changes: totals.schema,
        summary: None,
        uncommitted,
        authors: Vec::new(),
        read_at: None,
    }
}

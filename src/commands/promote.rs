//! `promote FROM TO`: what is live on one environment goes to the next, as `push --env TO
//! <FROM's branch>` does: the plan, the drift guard, the push, the records. The dump of FROM's
//! branch is fitted to TO on the way: TO's `values:` over it, TO's secrets filled, TO's
//! `owned:` fields left as they are.

use super::{CommandError, Context, ExitCode, push};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment whose branch is promoted (its `branch:`; the main branch when it has
    /// none)
    #[arg(value_name = "FROM")]
    pub from: String,
    /// The environment it goes to
    #[arg(value_name = "TO")]
    pub to: String,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Push even when TO changed since its last deployment (drift), or its Directus version or
    /// database vendor differ from the dump's
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    if let Some(other) = context
        .options
        .environment
        .as_ref()
        .filter(|e| **e != args.to)
    {
        return Err(CommandError::user(format!(
            "promote goes to {}, not to --env {other}",
            args.to
        ))
        .hint("leave --env out: promote names both environments"));
    }
    let revision = branch_of(context, &args.from)?;
    let to = context.for_environment(Some(&args.to))?;
    tracing::info!("promoting {} ({revision}) to {}", args.from, args.to);
    let push = push::Args {
        force: args.force,
        plan: None,
        revision: Some(revision),
        dry_run: args.dry_run,
    };
    push::run(&to, &push).await
}

/// What is live on `environment`: its branch, or the main line for an environment that has
/// none (it is pulled into the branch checked out, normally main).
fn branch_of(context: &Context, environment: &str) -> Result<String, CommandError> {
    let from = context.for_environment(Some(environment))?;
    if let Some(branch) = &from.options.branch {
        return Ok(branch.clone());
    }
    let repo = crate::git::DumpRepo::require(&from.dump_root())?;
    repo.main_line(from.options.main_branch.as_deref())
        .ok_or_else(|| {
            CommandError::user(format!(
                "{environment} has no branch, and the repository no main branch to promote"
            ))
            .hint(format!(
                "give environments.{environment} a branch, or set mainBranch"
            ))
        })
}

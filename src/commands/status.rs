//! `status`: whether each environment's live instance matches the dump on its branch.

use super::{CommandError, Context, ExitCode};
use crate::git::DumpRepo;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit with 2 when an environment differs from its branch
    #[arg(long)]
    pub exit_code: bool,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let mut differs = false;
    for (name, environment) in environments(context)? {
        let branch = environment
            .options
            .branch
            .clone()
            .or_else(|| repo.current_branch())
            .unwrap_or_else(|| "HEAD".into());
        let source = repo.source(&branch)?;
        let dump = environment.load_dump(&source).await?;
        let target = environment.connect(false).await?;
        let plan = target.compare(&dump, false).await?.plan;
        let counts = plan.counts();
        let state = if plan.is_empty() {
            "in sync".to_string()
        } else {
            differs = true;
            format!(
                "differs: {} to create, {} to update, {} to delete on push",
                counts.create, counts.update, counts.delete
            )
        };
        let commit = repo.commit(&branch)?.id().to_string();
        ui::print(&format!(
            "{name}  {}  {branch}@{}  {state}\n",
            target.client.base_url(),
            &commit[..10]
        ))?;
    }
    Ok(match args.exit_code && differs {
        true => ExitCode::Changes,
        false => ExitCode::Success,
    })
}

/// The environment picked with `--env`, else every environment of the config file, else the
/// options as given (`-`).
fn environments(context: &Context) -> Result<Vec<(String, Context)>, CommandError> {
    let options = &context.options;
    match (&options.environment, options.environment_names.is_empty()) {
        (Some(name), _) => Ok(vec![(name.clone(), context.for_environment(Some(name))?)]),
        (None, true) => Ok(vec![("-".into(), context.for_environment(None)?)]),
        (None, false) => options
            .environment_names
            .iter()
            .map(|name| Ok((name.clone(), context.for_environment(Some(name))?)))
            .collect(),
    }
}

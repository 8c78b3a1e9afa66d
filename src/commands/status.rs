//! `status`: whether each environment's live instance matches the dump on its branch. Every
//! environment gets its line, in the config file's order, whatever happens to the others.

use super::{CommandError, Context, ExitCode};
use crate::git::DumpRepo;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit with 2 when an environment differs from its branch (1 when one cannot be checked)
    #[arg(long)]
    pub exit_code: bool,
}

/// One environment's line.
struct Line {
    name: String,
    url: String,
    at: String,
    state: Result<Option<String>, String>,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let mut lines = Vec::new();
    for (name, environment) in environments(context)? {
        lines.push(check(&repo, name, &environment).await);
    }
    let width = |f: fn(&Line) -> &str| lines.iter().map(|l| f(l).chars().count()).max();
    let widths = [
        width(|l| &l.name).unwrap_or(0),
        width(|l| &l.url).unwrap_or(0),
        width(|l| &l.at).unwrap_or(0),
    ];
    let mut text = String::new();
    for line in &lines {
        let state = match &line.state {
            Ok(None) => "in sync".to_string(),
            Ok(Some(differs)) => differs.clone(),
            Err(error) => format!("error: {error}"),
        };
        text.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {state}\n",
            line.name,
            line.url,
            line.at,
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        ));
    }
    ui::print(&text)?;
    let failed = lines.iter().any(|l| l.state.is_err());
    let differs = lines.iter().any(|l| matches!(l.state, Ok(Some(_))));
    if failed {
        return Err(CommandError::user(
            "some environments could not be checked (see above)",
        ));
    }
    Ok(match args.exit_code && differs {
        true => ExitCode::Changes,
        false => ExitCode::Success,
    })
}

/// Compares one environment's instance with its branch; a failure is that line's state.
async fn check(repo: &DumpRepo, name: String, environment: &Context) -> Line {
    let branch = environment
        .options
        .branch
        .clone()
        .or_else(|| repo.current_branch())
        .unwrap_or_else(|| "HEAD".into());
    let mut line = Line {
        name,
        url: environment.instance_url(),
        at: branch.clone(),
        state: Ok(None),
    };
    let Ok(commit) = repo.commit(&branch) else {
        line.state = Err(format!(
            "the branch {branch} does not exist yet (pull{} creates it)",
            match &environment.options.environment {
                Some(env) => format!(" --env {env}"),
                None => String::new(),
            }
        ));
        return line;
    };
    line.at = format!("{branch}@{}", &commit.id().to_string()[..10]);
    line.state = async {
        let source = repo.source(&branch)?;
        let dump = environment.load_dump(&source).await?;
        let target = environment.connect(false).await?;
        let plan = target.compare(&dump, false).await?.plan;
        Ok::<_, CommandError>(
            (!plan.is_empty()).then(|| format!("differs: {} on push", plan.totals())),
        )
    }
    .await
    .map_err(|error| error.message());
    line
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

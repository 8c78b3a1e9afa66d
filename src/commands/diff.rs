//! `diff [REF]`: what a push of the working tree or of a revision would change. Writes nothing
//! to the instance; `--out` saves the plan for `push --plan`.

use super::{CommandError, Context, ExitCode};
use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Compare even when the dump's Directus version or database vendor differ from the instance's
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Exit with 2 when there are changes, 0 when there are none (1 stays an error)
    #[arg(long)]
    pub exit_code: bool,
    /// Also save the plan to this file, for `push --plan` (secrets as their placeholders)
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Compare this git revision's dump (branch, tag, SHA, HEAD~1) instead of the working tree
    #[arg(value_name = "REF")]
    pub revision: Option<String>,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let source = context.source(args.revision.as_deref())?;
    let target = context.connect(args.force).await?;
    let dump = context.load_dump(source.as_ref()).await?;
    let schema = match &args.out {
        Some(_) => super::saved_plan::schema_before(&dump, &target).await?,
        None => None,
    };
    let comparison = target.compare(&dump, args.force).await?;
    let plan = &comparison.plan;
    plan.note_left_out();
    match args.format {
        OutputFormat::Text => ui::print(&plan.render_text(ui::color()))?,
        OutputFormat::Json => ui::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&plan.to_json()).map_err(CommandError::internal)?
        ))?,
    }
    if let Some(out) = &args.out {
        let revision = args.revision.as_deref();
        super::saved_plan::save(context, &dump, &comparison, schema.as_ref(), revision, out)?;
    }
    context.finish(&target);
    Ok(match args.exit_code && !plan.is_empty() {
        true => ExitCode::Changes,
        false => ExitCode::Success,
    })
}

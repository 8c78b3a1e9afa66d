//! `diff [REF]`: what a push of the working tree or of a revision would change. Writes nothing
//! to the instance; `--out` saves the plan for `push --plan`.

use super::{CommandError, Context, ExitCode};
use crate::dump::Dump;
use crate::json::Compact;
use crate::plan::FlowItems;
use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// `diff`'s formats: those of [`OutputFormat`] and Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    /// For a pull-request comment: summary table, sections per collection, flows as Mermaid
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Compare even when the dump's Directus version or database vendor differ from the instance's
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
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
        DiffFormat::Text => ui::print(&plan.render_text(ui::color()))?,
        DiffFormat::Markdown => {
            let (flows, operations) = (
                dump_values(&dump, "flows"),
                dump_values(&dump, "operations"),
            );
            let items = FlowItems {
                flows: &flows,
                operations: &operations,
            };
            ui::print(&plan.render_markdown(items))?
        }
        DiffFormat::Json => ui::print(&format!(
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

/// One collection of the dump as JSON values.
pub(super) fn dump_values(dump: &Dump, name: &str) -> Vec<serde_json::Value> {
    Compact::values(dump.items(name))
}

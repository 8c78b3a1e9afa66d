//! `log`: pulls (commit trailers) and pushes (notes), newest first.

use super::{CommandError, Context, ExitCode, diff::OutputFormat};
use crate::git::{DumpRepo, RecordKind};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// At most this many entries
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `--env` keeps that environment's records.
pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let url = context.instance_url();
    let mut records: Vec<_> = repo
        .records()?
        .into_iter()
        .filter(|r| match &context.options.environment {
            Some(env) => r.environment.as_deref() == Some(env) || r.url == url,
            None => true,
        })
        .collect();
    if let Some(limit) = args.limit {
        records.truncate(limit);
    }
    let text = match args.format {
        OutputFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&records).map_err(CommandError::internal)?
        ),
        OutputFormat::Text => records
            .iter()
            .map(|record| {
                let kind = match record.kind {
                    RecordKind::Pull => "pull",
                    RecordKind::Push => "push",
                };
                let what = match (&record.counts, &record.summary) {
                    (Some(counts), _) => crate::plan::Totals {
                        schema: record.schema_changes,
                        items: *counts,
                    }
                    .to_string(),
                    (None, Some(summary)) => summary.clone(),
                    (None, None) => String::new(),
                };
                format!(
                    "{}  {kind}  {}  {}  {}{}  {what}  ({})\n",
                    record.at.format("%Y-%m-%d %H:%M:%S"),
                    &record.commit[..10],
                    record.environment.as_deref().unwrap_or("-"),
                    record.url,
                    if record.uncommitted {
                        " (uncommitted files)"
                    } else {
                        ""
                    },
                    record.user
                )
            })
            .collect(),
    };
    ui::print(&text)?;
    Ok(ExitCode::Success)
}

use super::{Context, instance_url};
use crate::cli::{CommandError, ExitCode, LogArgs, OutputFormat};
use crate::git::{DumpRepo, RecordKind};

/// Pulls (commit trailers) and pushes (notes), newest first; `--env` keeps that environment's.
pub async fn run(context: &Context, args: &LogArgs) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let url = instance_url(&context.options);
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
    match args.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&records).expect("records serialise")
        ),
        OutputFormat::Text => {
            for record in &records {
                let kind = match record.kind {
                    RecordKind::Pull => "pull",
                    RecordKind::Push => "push",
                };
                let what = match (&record.counts, &record.summary) {
                    (Some(c), _) => format!(
                        "{} to create, {} to update, {} to delete",
                        c.create, c.update, c.delete
                    ),
                    (None, Some(summary)) => summary.clone(),
                    (None, None) => String::new(),
                };
                println!(
                    "{}  {kind}  {}  {}  {}{}  {what}  ({})",
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
                );
            }
        }
    }
    Ok(ExitCode::Success)
}

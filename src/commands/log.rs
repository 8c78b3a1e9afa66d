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
    /// Only records at or after this time (`2026-12-01`, or RFC 3339 `2026-12-01T10:00:00Z`)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only records before this time (a date means its start)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only pulls whose commit changed this tracked collection (or schema part: `fields`,
    /// `collections`, `relations`); pushes record no collections and are left out
    #[arg(long, value_name = "NAME")]
    pub collection: Option<String>,
    /// Only records that name this person (part of a name or email, any case): a pull's
    /// attributed people, or the user a record was made as
    #[arg(long, value_name = "WHO")]
    pub author: Option<String>,
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("expected a date (2026-12-01) or an RFC 3339 time, got {text:?}"))
}

/// The dump path a collection (or schema part) lives at, for `--collection`.
fn collection_path(context: &Context, name: &str) -> Result<std::path::PathBuf, CommandError> {
    let layout = context.layout();
    if crate::collections::spec(name).is_some() {
        return Ok(layout.collection_file(name));
    }
    match name {
        "collections" | "fields" | "relations" => Ok(layout.snapshot.join(name)),
        other => Err(CommandError::user(format!(
            "--collection {other:?} is neither a tracked collection nor a schema part"
        ))
        .hint(format!(
            "use one of {}, or collections, fields, relations",
            crate::collections::names().join(", ")
        ))),
    }
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
        .filter(|r| args.since.is_none_or(|since| r.at >= since))
        .filter(|r| args.until.is_none_or(|until| r.at < until))
        .filter(|r| match &args.author {
            Some(who) => {
                let who = who.to_lowercase();
                std::iter::once(&r.user)
                    .chain(&r.authors)
                    .any(|name| name.to_lowercase().contains(&who))
            }
            None => true,
        })
        .collect();
    if let Some(collection) = &args.collection {
        let dir = collection_path(context, collection)?;
        records.retain(|r| r.kind == RecordKind::Pull && repo.commit_changed(&r.commit, &dir));
    }
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

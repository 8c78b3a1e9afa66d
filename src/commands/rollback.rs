//! `rollback`: pushes an environment's previous deployment again, as the push records in git
//! tell it (`log --env NAME` lists them), with every guard of `push`.

use super::{CommandError, Context, ExitCode, push};
use crate::git::{DeploymentRecord, DumpRepo, RecordKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Roll back to this revision instead of an earlier deployment
    #[arg(long = "to", value_name = "REVISION", conflicts_with = "steps")]
    pub revision: Option<String>,
    /// Go back this many deployments (distinct commits pushed to the instance)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub steps: usize,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Push even when the instance changed since its last deployment (drift), or its Directus
    /// version or database vendor differ from the dump's
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(context: &Context, args: &Args) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let url = context.instance_url();
    let records = repo.records()?;
    let revision = match &args.revision {
        Some(revision) => revision.clone(),
        None => {
            let (current, previous) = deployments_back(&records, &url, args.steps)?;
            tracing::info!(
                "rolling {url} back from {} (pushed {}) to {} (pushed {})",
                &current.commit[..10],
                current.at.format("%Y-%m-%d %H:%M UTC"),
                &previous.commit[..10],
                previous.at.format("%Y-%m-%d %H:%M UTC"),
            );
            previous.commit.clone()
        }
    };
    let push = push::Args {
        force: args.force,
        plan: None,
        revision: Some(revision),
        dry_run: args.dry_run,
    };
    push::run(context, &push).await
}

/// The instance's current deployment and the one `steps` distinct commits before it, from
/// push records newest first. Pushes of uncommitted files are no state to go back to.
fn deployments_back<'a>(
    records: &'a [DeploymentRecord],
    url: &str,
    steps: usize,
) -> Result<(&'a DeploymentRecord, &'a DeploymentRecord), CommandError> {
    let mut deployments: Vec<&DeploymentRecord> = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.kind == RecordKind::Push && r.url == url)
    {
        let known = deployments.iter().any(|d| d.commit == record.commit);
        if !known && (deployments.is_empty() || !record.uncommitted) {
            deployments.push(record);
        }
    }
    match (deployments.first(), deployments.get(steps.max(1))) {
        (Some(current), Some(previous)) => Ok((current, previous)),
        _ => Err(CommandError::user(format!(
            "{} of {url} recorded in git: there is no deployment {} back to return to",
            match deployments.len() {
                0 => "no push".to_string(),
                1 => "one push".to_string(),
                n => format!("{n} pushes of distinct commits"),
            },
            steps.max(1)
        ))
        .hint("see `directus-sync log --env NAME`, or name the revision with --to REVISION")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(commit: &str, minutes: i64, uncommitted: bool) -> DeploymentRecord {
        DeploymentRecord {
            kind: RecordKind::Push,
            commit: commit.repeat(10),
            url: "http://prod".into(),
            environment: Some("prod".into()),
            at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(minutes),
            user: "admin@example.com".into(),
            directus_version: None,
            counts: None,
            schema_changes: 0,
            summary: None,
            uncommitted,
            authors: Vec::new(),
            read_at: None,
        }
    }

    #[test]
    fn the_previous_deployment_is_the_last_other_commit_pushed() {
        // Newest first: c pushed twice, b from uncommitted files, a.
        let records = vec![
            push("c", 5, false),
            push("c", 4, false),
            push("b", 3, true),
            push("a", 2, false),
            DeploymentRecord {
                url: "http://staging".into(),
                ..push("s", 6, false)
            },
        ];
        let (current, previous) = deployments_back(&records, "http://prod", 1).unwrap();
        assert_eq!(
            (current.at.timestamp(), previous.commit.as_str()),
            (300, "aaaaaaaaaa")
        );
        let error = deployments_back(&records, "http://prod", 2).unwrap_err();
        assert!(
            error.message().contains("2 pushes of distinct commits"),
            "{}",
            error.message()
        );
        assert!(deployments_back(&records, "http://other", 1).is_err());
    }
}

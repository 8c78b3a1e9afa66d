//! `helpers`: maintenance of the id map and of duplicated permissions, over plain REST, and
//! of the instance's lock. The helpers that write hold the lock while they do. And one for
//! pipelines that start Directus: waiting until it answers.

use super::{CommandError, Context, ExitCode};
use crate::collections::{self, spec};
use crate::idmap::{IdMap, IdMapRow, IdMapStore, extension_installed, id_string};
use crate::instance::read_collection;
use crate::json::Compact;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Forget the SyncId of one item (the item stays in Directus)
    Untrack(UntrackArgs),
    /// Delete permissions that repeat the same role, collection and action
    RemovePermissionDuplicates(RemoveDuplicatesArgs),
    /// Copy SyncIds between the directus-extension-sync table and the tool's own collection
    MigrateIdMap(MigrateArgs),
    /// Release the instance's lock, whoever holds it (when the run holding it is gone)
    Unlock,
    /// List the values of the dump that are secrets in plain text, or look like keys or
    /// tokens; exits 2 when there are any (reads the dump only)
    ScanSecrets(ScanArgs),
    /// Wait until the instance answers `/server/health` (for pipelines that start Directus)
    WaitServerReady(WaitArgs),
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// How long to wait before giving up, in seconds
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan this git revision's dump instead of the working tree
    #[arg(value_name = "REF")]
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct UntrackArgs {
    /// Collection of the item
    #[arg(long)]
    pub collection: String,
    /// Local id of the item in this instance
    #[arg(long, required_unless_present = "sync_id", conflicts_with = "sync_id")]
    pub id: Option<String>,
    /// SyncId of the item, as written in the dump
    #[arg(long)]
    pub sync_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keep {
    First,
    Last,
}

#[derive(Debug, Args)]
pub struct RemoveDuplicatesArgs {
    /// Which permission of each duplicated group survives
    #[arg(long, value_enum, default_value = "last")]
    pub keep: Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Extension,
    Collection,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Where the SyncIds go
    #[arg(long, value_enum)]
    pub to: StoreKind,
}

pub async fn run(context: &Context, command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Untrack(args) => untrack(context, args).await,
        Command::RemovePermissionDuplicates(args) => remove_duplicates(context, args).await,
        Command::MigrateIdMap(args) => migrate(context, args).await,
        Command::Unlock => unlock(context).await,
        Command::ScanSecrets(args) => scan_secrets(context, args).await,
        Command::WaitServerReady(args) => wait_server_ready(context, args).await,
    }
}

/// Names the places of the dump that hold a secret as it is: where a `secrets:` path (or a
/// built-in one) reaches a value that is no placeholder (a dump pulled before it was declared,
/// or by the original tool: pull again to replace them), and values that look like keys or
/// tokens outside those paths. Never the values; nothing is connected to.
async fn scan_secrets(context: &Context, args: &ScanArgs) -> Result<ExitCode, CommandError> {
    use crate::values::secrets::{exposed, suspicious};
    let source = context.source(args.revision.as_deref())?;
    let dump = context.read_dump(source.as_ref()).await?;
    let rules = context.options.secrets.effective();
    let mut lines = Vec::new();
    for (spec, items) in &dump.collections {
        for item in items.iter().map(Compact::value) {
            let sync_id = item.get("_syncId").and_then(Value::as_str).unwrap_or("");
            let name = match spec.id_policy {
                collections::IdPolicy::Singleton => spec.name.to_string(),
                _ => format!(
                    "{} {} ({sync_id})",
                    spec.name,
                    spec.label(&item, &|_, _| None)
                ),
            };
            for place in exposed(&rules, spec.name, &item) {
                lines.push(format!("{name}: {place}: a secret, in plain text"));
            }
            for place in suspicious(&item) {
                lines.push(format!(
                    "{name}: {place}: looks like a key or a token, undeclared"
                ));
            }
        }
    }
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    crate::ui::print(&out)?;
    tracing::info!(
        "{} in {}",
        crate::text::count(lines.len(), "finding", "findings"),
        source.display(std::path::Path::new(""))
    );
    Ok(match lines.is_empty() {
        true => ExitCode::Success,
        false => ExitCode::Changes,
    })
}

/// Deletes the lock a run left behind, and says whose it was.
async fn unlock(context: &Context) -> Result<ExitCode, CommandError> {
    let target = context.connect(false).await?;
    match crate::lock::unlock(&target.client).await? {
        Some(lock) => tracing::info!("released the lock of {}: {lock}", target.client.base_url()),
        None => tracing::info!("{} was not locked", target.client.base_url()),
    }
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// Forgets the SyncId of one item: the item stays, and the next pull tracks it afresh.
async fn untrack(context: &Context, args: &UntrackArgs) -> Result<ExitCode, CommandError> {
    if spec(&args.collection).is_none() {
        return Err(CommandError::user(format!(
            "unknown collection {:?}; expected one of {}",
            args.collection,
            collections::names().join(", ")
        )));
    }
    let target = context.connect(false).await?;
    let client = &target.client;
    let id_map = target.ids.reload(client).await?;
    let table = args.collection.as_str();
    let found = match (&args.id, &args.sync_id) {
        (Some(local_id), _) => id_map
            .sync_id(table, local_id)
            .map(|sync_id| (sync_id, local_id.clone())),
        (None, Some(sync_id)) => id_map
            .local_id(table, sync_id)
            .map(|local_id| (sync_id.clone(), local_id)),
        (None, None) => None,
    };
    match found {
        Some((sync_id, local_id)) => {
            let row = IdMapRow {
                table: table.to_string(),
                sync_id: sync_id.clone(),
                local_id: local_id.clone(),
            };
            let forget = async { Ok(target.ids.forget(client, &[row]).await?) };
            target
                .locked("helpers untrack", context.options.lock_wait, forget)
                .await?;
            tracing::info!("untracked {table} {local_id} (SyncId {sync_id})");
        }
        None => tracing::info!(
            "{table} {} was not tracked; nothing to do",
            args.id
                .as_deref()
                .or(args.sync_id.as_deref())
                .unwrap_or_default()
        ),
    }
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// Copies every id-map row the target store lacks, so that a team can drop (or adopt) the
/// extension without losing identities. Rows already in the target win over copies.
async fn migrate(context: &Context, args: &MigrateArgs) -> Result<ExitCode, CommandError> {
    // Both stores may exist while rows move between them: no store is picked here.
    let target = context
        .connect_with(false, crate::idmap::IdMapMode::Collection)
        .await?;
    let client = &target.client;
    if !extension_installed(client).await? {
        return Err(CommandError::user(
            "directus-extension-sync does not answer on this instance: there is nothing to migrate from or to",
        ));
    }
    let copy = async {
        let collection = IdMapStore::collection(client).await?;
        let (source, mut to) = match args.to {
            StoreKind::Collection => (IdMapStore::Extension, collection),
            StoreKind::Extension => (collection, IdMapStore::Extension),
        };
        let tables = collections::names();
        let rows = source.load(client, &tables).await?;
        to.ensure(client).await?;
        let existing = IdMap::new(None, to.load(client, &tables).await?);
        let mut copies = Vec::new();
        let mut conflicts = 0;
        for row in rows {
            match (
                existing.local_id(&row.table, &row.sync_id),
                existing.sync_id(&row.table, &row.local_id),
            ) {
                (None, None) => copies.push(row),
                (Some(local), _) if local == row.local_id => {}
                _ => {
                    conflicts += 1;
                    tracing::warn!(
                        "{} {}: the target maps it differently; kept the target's row",
                        row.table,
                        row.sync_id
                    );
                }
            }
        }
        to.insert(client, &copies).await?;
        tracing::info!(
            "copied {} id-map rows to {} ({} already there, {conflicts} conflicting)",
            copies.len(),
            to.describe(),
            existing.len()
        );
        Ok(())
    };
    target
        .locked("helpers migrate-id-map", context.options.lock_wait, copy)
        .await?;
    if args.to == StoreKind::Collection {
        tracing::info!(
            "use --id-map collection (or idMap: collection) until the extension is removed"
        );
    }
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// Permissions sharing role, collection and action, grouped in the order first seen; each
/// group's rows ordered by id.
fn duplicate_groups(permissions: &[Value]) -> Vec<((Value, Value, Value), Vec<u64>)> {
    let mut groups: Vec<((Value, Value, Value), Vec<u64>)> = Vec::new();
    for permission in permissions {
        let Some(id) = permission.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let field = |name: &str| permission.get(name).cloned().unwrap_or(Value::Null);
        let key = (field("role"), field("collection"), field("action"));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((key, vec![id])),
        }
    }
    groups.retain(|(_, ids)| ids.len() > 1);
    groups.iter_mut().for_each(|(_, ids)| ids.sort_unstable());
    groups
}

/// Deletes all but one permission of each duplicated group, over plain REST (the extension's
/// helper fails on Directus 10). The survivor keeps a SyncId if any of its group had one.
async fn remove_duplicates(
    context: &Context,
    args: &RemoveDuplicatesArgs,
) -> Result<ExitCode, CommandError> {
    let target = context.connect(false).await?;
    let client = &target.client;
    let permissions_spec = spec("permissions").expect("permissions are tracked");
    let permissions = Compact::values(&read_collection(client, permissions_spec, None).await?);
    let groups = duplicate_groups(&permissions);
    if groups.is_empty() {
        tracing::info!("no duplicated permissions");
        context.finish(&target);
        return Ok(ExitCode::Success);
    }
    let id_map = target.ids.reload(client).await?;
    let mut doomed = Vec::new();
    let mut stale_rows = Vec::new();
    let mut new_rows = Vec::new();
    for ((role, collection, action), ids) in &groups {
        let keep = match args.keep {
            Keep::First => ids[0],
            Keep::Last => ids[ids.len() - 1],
        };
        let removed: Vec<u64> = ids.iter().copied().filter(|id| *id != keep).collect();
        let row_of = |id: u64| {
            id_map
                .sync_id("permissions", &id.to_string())
                .map(|sync_id| IdMapRow {
                    table: "permissions".into(),
                    sync_id,
                    local_id: id.to_string(),
                })
        };
        let removed_rows: Vec<IdMapRow> = removed.iter().filter_map(|id| row_of(*id)).collect();
        if row_of(keep).is_none()
            && let Some(inherited) = removed_rows.first()
        {
            new_rows.push(IdMapRow {
                local_id: keep.to_string(),
                ..inherited.clone()
            });
        }
        stale_rows.extend(removed_rows);
        tracing::info!(
            "deleting {} duplicated permissions for role {}, collection {}, action {} (keeping {keep})",
            removed.len(),
            role.as_str().unwrap_or("null"),
            id_string(collection).unwrap_or_default(),
            id_string(action).unwrap_or_default()
        );
        doomed.extend(removed);
    }
    let delete = async {
        for chunk in doomed.chunks(client.batch_size()) {
            client.delete("/permissions", Some(&json!(chunk))).await?;
        }
        target.ids.forget(client, &stale_rows).await?;
        target.ids.record(client, new_rows).await?;
        Ok(())
    };
    let purpose = "helpers remove-permission-duplicates";
    target
        .locked(purpose, context.options.lock_wait, delete)
        .await?;
    context.finish(&target);
    Ok(ExitCode::Success)
}

/// Asks `/server/health` twice a second until Directus answers it with a success, or the
/// timeout passes. No login: a server still starting has no users to log in with.
async fn wait_server_ready(context: &Context, args: &WaitArgs) -> Result<ExitCode, CommandError> {
    use std::time::{Duration, Instant};
    let base = context.options.url()?;
    // `join` replaces the last segment of a base without a trailing slash (`/directus`).
    let url = url::Url::parse(&format!("{}/", base.trim_end_matches('/')))
        .and_then(|base| base.join("server/health"))
        .map_err(|e| CommandError::user(format!("the Directus URL is not a URL: {e}")))?;
    let shown = crate::secret::mask_url(base.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(CommandError::internal)?;
    let timeout = Duration::from_secs(args.timeout);
    let started = Instant::now();
    loop {
        let last = match http.get(url.clone()).send().await {
            Ok(answer) if answer.status().is_success() => {
                tracing::info!(
                    "Directus at {shown} is ready (after {:.1} s)",
                    started.elapsed().as_secs_f64()
                );
                return Ok(ExitCode::Success);
            }
            Ok(answer) => format!("it answered {}", answer.status()),
            Err(error) if error.is_timeout() => "no answer within 5 s".to_string(),
            Err(error) if error.is_connect() => "nothing accepts connections there".to_string(),
            Err(error) => error.without_url().to_string(),
        };
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(CommandError::new(
                super::ErrorKind::Server,
                anyhow::anyhow!(
                    "Directus at {shown} was not ready after {} s: {last}",
                    args.timeout
                ),
            )
            .hint(
                "check that it started (its log) and the URL; a first start that migrates \
                   the database may need a longer --timeout",
            ));
        }
        tracing::debug!("{shown}/server/health: {last}; asking again");
        tokio::time::sleep((timeout - waited).min(Duration::from_millis(500))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_duplicates_in_first_seen_order() {
        let permissions = vec![
            json!({"id": 5, "role": "r", "collection": "a", "action": "read"}),
            json!({"id": 2, "role": null, "collection": "a", "action": "read"}),
            json!({"id": 3, "role": "r", "collection": "a", "action": "read"}),
            json!({"id": 4, "role": null, "collection": "a", "action": "read"}),
            json!({"id": 6, "role": "r", "collection": "b", "action": "read"}),
            json!({"role": "r", "collection": "a", "action": "read"}),
        ];
        let groups = duplicate_groups(&permissions);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1, vec![3, 5]);
        assert_eq!(groups[1].1, vec![2, 4]);
    }
}

//! The instance a command talks to, and the one comparison of a dump with it that diff, push,
//! status and the drift guard all use.

use super::CommandError;
use crate::collections::{self, CollectionSpec};
use crate::config::Options;
use crate::directus::{Client, DirectusError, Me, Request, ServerInfo};
use crate::dump::Dump;
use crate::idmap::{IdMapMode, IdMapOwner, IdMapStore};
use crate::instance::Instance;
use crate::plan::{Applied, ApplyError, FieldTypes, Plan, Timings, build_collections};
use crate::snapshot::SchemaComparison;
use crate::values::{Masks, Owned};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;

/// An authenticated client to an instance whose version was checked, and the owner of its id
/// map for this run.
pub struct Target {
    pub client: Client,
    pub server: ServerInfo,
    pub me: Me,
    pub ids: IdMapOwner,
    /// What `onQuery` hooks made of each collection's query; every read uses it.
    pub queries: HashMap<&'static str, Value>,
    /// The fields that belong to the instance (`owned:`): every comparison leaves them out.
    pub owned: Owned,
    /// What the plans of this instance print instead of secrets.
    pub masks: Masks,
}

async fn clear_cache(client: &Client) -> Result<Value, DirectusError> {
    client
        .json(Request::new(Method::POST, "/utils/cache/clear").query("system", "true"))
        .await
}

/// A plan and the live state it was computed from.
pub struct Comparison {
    pub plan: Plan,
    pub instance: Instance,
}

impl Target {
    /// Logs in, checks that the server is a Directus 10 (unless `force`), clears its caches so
    /// that every read sees the current configuration, and finds where it keeps SyncIds.
    pub async fn connect(
        options: &Options,
        force: bool,
        id_map: IdMapMode,
    ) -> Result<Target, CommandError> {
        let client = Client::new(options.url()?, options.credentials()?)?;
        let server = client.server_info().await?;
        if server.major() != Some(10) {
            if !force {
                return Err(DirectusError::UnsupportedVersion {
                    version: server.version,
                }
                .into());
            }
            tracing::warn!(
                "Directus {} is not 10.x; continuing because of --force",
                server.version
            );
        }
        tracing::debug!(
            "connected to Directus {} at {}",
            server.version,
            crate::secret::mask_url(client.base_url())
        );
        let clear_cache = clear_cache(&client);
        let select_store = async {
            IdMapStore::select(&client, id_map)
                .await
                .map_err(CommandError::from)
        };
        let clear_and_ask =
            async { Ok::<_, CommandError>(tokio::try_join!(clear_cache, client.me())?) };
        let ((_, me), store) = tokio::try_join!(clear_and_ask, select_store)?;
        tracing::debug!("SyncIds are kept in {}", store.describe());
        let placeholder = collections::runner_placeholder(me.role.as_deref());
        let ids = IdMapOwner::new(store, placeholder, collections::names());
        Ok(Target {
            client,
            server,
            me,
            ids,
            queries: HashMap::new(),
            owned: Owned::default(),
            masks: Masks::default(),
        })
    }

    /// Forgets what Directus cached: with `CACHE_ENABLED` (and no auto purge) a read after our
    /// own writes would otherwise see the state before them.
    pub async fn clear_cache(&self) -> Result<(), DirectusError> {
        clear_cache(&self.client).await.map(|_| ())
    }

    /// Runs `work` holding the instance's lock ([`crate::lock`]) for `purpose`, waiting up to
    /// `wait_seconds` (`--lock-wait`) for another run to give it back. The id-map store is
    /// looked at again first: the previous holder may have created it.
    pub async fn locked<T>(
        &self,
        purpose: &'static str,
        wait_seconds: u32,
        work: impl std::future::Future<Output = Result<T, CommandError>>,
    ) -> Result<T, CommandError> {
        let claim = crate::lock::Claim {
            user: self.me.email.clone(),
            purpose,
            wait: std::time::Duration::from_secs(wait_seconds.into()),
        };
        let work = async {
            self.ids.refresh_store(&self.client).await?;
            work.await
        };
        crate::lock::hold(&self.client, &claim, work).await
    }

    /// The fields (and their types) of the collections a plan creates or updates items in:
    /// one request per such collection, none for a plan without writes.
    async fn field_types(
        &self,
        changes: &[crate::plan::CollectionChanges],
    ) -> Result<HashMap<&'static str, FieldTypes>, DirectusError> {
        let written = changes.iter().filter(|c| {
            c.items
                .iter()
                .any(|i| !matches!(i.action, crate::plan::Action::Delete { .. }))
        });
        let reads = written.map(|c| async move {
            let path = crate::directus::path(&["fields", c.spec.table])?;
            let fields = self.client.get_list(path).await?;
            let types: FieldTypes = fields
                .iter()
                .filter_map(|f| {
                    let name = f.get("field")?.as_str()?.to_string();
                    let kind = f.get("type")?.as_str().unwrap_or("unknown").to_string();
                    Some((name, kind))
                })
                .collect();
            Ok::<_, DirectusError>((c.spec.name, types))
        });
        Ok(futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .collect())
    }

    /// The live state of `specs`, each read with its `onQuery` query.
    pub async fn read(&self, specs: &[&'static CollectionSpec]) -> Result<Instance, DirectusError> {
        Instance::read(&self.client, specs, &self.ids, &self.queries).await
    }

    /// Applies `plan` (made from `instance`) with a progress bar, cleared before any result
    /// line, which would otherwise land on its last frame.
    pub async fn apply(
        &self,
        plan: &Plan,
        instance: &Instance,
        preserve: &collections::PreserveIds,
    ) -> Result<(Applied, Timings), ApplyError> {
        let progress = crate::ui::Progress::new(plan.steps(), "pushing");
        let applied = plan
            .apply(&self.client, &self.ids, instance, preserve, &progress)
            .await;
        drop(progress);
        applied
    }

    /// What a push of `dump` would change: Directus' schema diff and the item plan, from one
    /// fresh read of the instance.
    pub async fn compare(&self, dump: &Dump, force: bool) -> Result<Comparison, CommandError> {
        let specs: Vec<_> = dump.collections.iter().map(|(spec, _)| *spec).collect();
        let (schema, instance) =
            tokio::try_join!(self.schema_diff(dump, force), self.read(&specs))?;
        let plan = self.plan(dump, schema, &instance).await?;
        Ok(Comparison { plan, instance })
    }

    /// What a push of `dump` would change on the `instance` already read (a dump compared
    /// with the state another comparison read).
    pub async fn compare_with(
        &self,
        dump: &Dump,
        force: bool,
        instance: &Instance,
    ) -> Result<Plan, CommandError> {
        let schema = self.schema_diff(dump, force).await?;
        self.plan(dump, schema, instance).await
    }

    async fn schema_diff(
        &self,
        dump: &Dump,
        force: bool,
    ) -> Result<SchemaComparison, DirectusError> {
        match &dump.snapshot {
            Some(snapshot) => snapshot.diff(&self.client, force).await,
            None => Ok(Default::default()),
        }
    }

    async fn plan(
        &self,
        dump: &Dump,
        schema: SchemaComparison,
        instance: &Instance,
    ) -> Result<Plan, CommandError> {
        let specs: Vec<_> = dump.collections.iter().map(|(spec, _)| *spec).collect();
        let (collections, unresolved) = build_collections(&specs, dump, instance, &self.owned);
        let types = self.field_types(&collections).await?;
        let invalid = crate::plan::check_values(&collections, &types);
        let mut plan = Plan {
            schema: schema.diff,
            left_out: schema.left_out,
            collections,
            unresolved,
            invalid,
            data_loss: Vec::new(),
            masks: self.masks.clone(),
        };
        plan.data_loss = crate::plan::loss::assess(&self.client, &plan).await?;
        plan.left_out.extend(never_deleted(dump, instance));
        Ok(plan)
    }
}

/// Collections whose items a push never deletes (the settings singleton), that the dump has
/// none of while the instance has: the instance keeps them as they are, which a rollback to a
/// dump from before they existed must say.
fn never_deleted(dump: &Dump, instance: &Instance) -> Vec<String> {
    dump.collections
        .iter()
        .filter(|(spec, items)| {
            !spec.deletable && items.is_empty() && !instance.live_items(spec).is_empty()
        })
        .map(|(spec, _)| {
            format!(
                "{}: the dump has none, and a push never deletes them: the instance keeps its own",
                spec.name
            )
        })
        .collect()
}

//! Executes a plan: schema first, then creates and updates in dependency order, then deletes
//! in reverse order, each as batched requests. Id-map rows are written as soon as the ids are
//! known, so that a push that fails midway leaves a state the next push converges from.
//! Unique links (operations' `resolve`, `reject`) are written in the waves [`super::links`]
//! orders: a delete whose item holds a target another item takes may go early.

use super::links::{LinkSchedule, Wave, link_input, schedule};
use super::{Action, CollectionChanges, FieldChange, ItemChange, Plan};
use crate::collections::PreserveIds;
use crate::collections::{CollectionSpec, IdPolicy, get_path_mut};
use crate::directus::{Client, DirectusError, Request};
use crate::idmap::{IdMapOwner, IdMapRow, id_string};
use crate::instance::Instance;
use crate::json::Compact;
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

/// What a push has done so far.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Applied {
    pub schema: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

impl std::ops::AddAssign for Applied {
    fn add_assign(&mut self, other: Applied) {
        self.schema += other.schema;
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schema = match self.schema {
            1 => "schema change",
            _ => "schema changes",
        };
        write!(
            f,
            "{} {schema}, {} created, {} updated, {} deleted",
            self.schema, self.created, self.updated, self.deleted
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{step}")]
pub struct ApplyError {
    pub step: String,
    pub applied: Applied,
    #[source]
    pub source: DirectusError,
}

/// A relation field set to `null` on create or update, to be set once its target exists.
struct FollowUp {
    local_id: String,
    field: String,
    value: Value,
}

impl FollowUp {
    /// The follow-ups of one item from the `(field, dump value)` pairs its payload deferred.
    fn of(
        local_id: &str,
        deferred: Vec<(String, Value)>,
    ) -> impl Iterator<Item = FollowUp> + use<> {
        let local_id = local_id.to_string();
        deferred.into_iter().map(move |(field, value)| FollowUp {
            local_id: local_id.clone(),
            field,
            value,
        })
    }
}

struct Executor<'a> {
    client: &'a Client,
    /// Told of every id-map row written; its rows resolve references as they appear.
    ids: &'a IdMapOwner,
    /// The live state the plan was built from.
    instance: &'a Instance,
    preserve: &'a PreserveIds,
    applied: Applied,
    progress: &'a dyn super::Progress,
    /// Items deleted early to free a unique link's target: `(collection, local id)`.
    deleted: HashSet<(&'static str, String)>,
    timings: Timings,
}

/// Where the time of an apply went: per part (the schema, each collection's writes), and the
/// id-map writes among them, so that a slow push says why.
#[derive(Debug, Default)]
pub struct Timings {
    total: Duration,
    parts: Vec<(&'static str, Duration)>,
    id_map: Duration,
}

impl Timings {
    fn add(&mut self, part: &'static str, took: Duration) {
        match self.parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, total)) => *total += took,
            None => self.parts.push((part, took)),
        }
    }
}

impl fmt::Display for Timings {
    /// `87.68 s: schema 7.38 s, permissions 48.29 s (id-map writes 33.29 s)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(part, took)| format!("{part} {:.2} s", took.as_secs_f64()))
            .collect();
        write!(f, "{:.2} s: {}", self.total.as_secs_f64(), parts.join(", "))?;
        // Shown when it prints as more than nothing.
        if self.id_map >= Duration::from_millis(5) {
            write!(f, " (id-map writes {:.2} s)", self.id_map.as_secs_f64())?;
        }
        Ok(())
    }
}

impl Plan {
    /// Steps `apply` reports to its progress bar: one per item, one for the schema.
    pub fn steps(&self) -> u64 {
        let items: usize = self.collections.iter().map(|c| c.items.len()).sum();
        (items + usize::from(self.schema.is_some())) as u64
    }

    /// Executes the plan against the instance `instance` was read from; id-map rows go to
    /// `ids`, the run's one owner of them.
    pub async fn apply(
        &self,
        client: &Client,
        ids: &IdMapOwner,
        instance: &Instance,
        preserve: &PreserveIds,
        progress: &dyn super::Progress,
    ) -> Result<(Applied, Timings), ApplyError> {
        let mut executor = Executor {
            client,
            ids,
            instance,
            preserve,
            applied: Applied::default(),
            progress,
            deleted: HashSet::new(),
            timings: Timings::default(),
        };
        let started = Instant::now();
        executor.run(self).await?;
        executor.timings.total = started.elapsed();
        Ok((executor.applied, executor.timings))
    }
}

impl Executor<'_> {
    fn fail<S: Into<String>>(&self, step: S) -> impl FnOnce(DirectusError) -> ApplyError + use<S> {
        let (step, applied) = (step.into(), self.applied);
        move |source| ApplyError {
            step,
            applied,
            source,
        }
    }

    async fn run(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        if let Some(schema) = &plan.schema {
            self.progress.stage("schema");
            let started = Instant::now();
            schema
                .apply(self.client)
                .await
                .map_err(self.fail(schema_step(schema)))?;
            self.timings.add("schema", started.elapsed());
            self.applied.schema = schema.changes().len();
            self.progress.advance(1);
            tracing::info!("schema: applied {} changes", self.applied.schema);
        }
        let any_items = plan.collections.iter().any(|c| !c.items.is_empty());
        if any_items {
            self.progress.stage("id map");
            self.ids
                .ensure_store(self.client)
                .await
                .map_err(self.fail("creating the id-map collection"))?;
        }
        let dangling: Vec<IdMapRow> = plan
            .collections
            .iter()
            .flat_map(|c| c.dangling.iter().cloned())
            .collect();
        if !dangling.is_empty() {
            self.remove_rows(&dangling, "removing dangling id-map rows")
                .await?;
            tracing::info!(
                "removed {}",
                crate::text::count(
                    dangling.len(),
                    "dangling id-map row",
                    "dangling id-map rows"
                )
            );
        }
        self.move_sync_ids(plan).await?;

        let mut follow_ups = Vec::new();
        for changes in &plan.collections {
            if changes.items.is_empty() {
                continue;
            }
            self.progress.stage(changes.spec.name);
            let started = Instant::now();
            let links = self.link_schedule(changes);
            let step = format!(
                "{}: deleting items whose links others take",
                changes.spec.name
            );
            self.delete_items(changes, &links.delete_first, &step)
                .await?;
            let mut pending = self.create(changes, &links.defer).await?;
            pending.extend(self.update(changes, &links).await?);
            self.timings.add(changes.spec.name, started.elapsed());
            follow_ups.push((changes.spec, pending));
        }
        for (spec, pending) in follow_ups {
            let started = Instant::now();
            self.finish_follow_ups(spec, pending).await?;
            self.timings.add(spec.name, started.elapsed());
        }
        for changes in plan.collections.iter().rev() {
            let started = Instant::now();
            self.delete(changes).await?;
            if changes.counts().delete > 0 {
                self.timings.add(changes.spec.name, started.elapsed());
            }
        }
        Ok(())
    }

    async fn insert_rows(&mut self, rows: Vec<IdMapRow>, step: &str) -> Result<(), ApplyError> {
        let started = Instant::now();
        let written = self.ids.record(self.client, rows).await;
        self.timings.id_map += started.elapsed();
        written.map_err(self.fail(step))
    }

    async fn remove_rows(&mut self, rows: &[IdMapRow], step: &str) -> Result<(), ApplyError> {
        let started = Instant::now();
        let removed = self.ids.forget(self.client, rows).await;
        self.timings.id_map += started.elapsed();
        removed.map_err(self.fail(step))
    }

    /// Items the dump names by a new SyncId keep their local id: the old row goes, the new
    /// one comes, for every collection before any item is written, so that every payload
    /// resolves the new SyncIds. A push stopped after this converges on the next run, which
    /// finds the items tracked under their new SyncIds.
    async fn move_sync_ids(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let mut old_rows = Vec::new();
        let mut new_rows = Vec::new();
        for changes in &plan.collections {
            for change in &changes.items {
                if let Action::Update {
                    local_id,
                    moved_from: Some(old),
                    ..
                } = &change.action
                {
                    old_rows.push(row(changes.spec, old, local_id));
                    new_rows.push(row(changes.spec, &change.sync_id, local_id));
                }
            }
        }
        if old_rows.is_empty() {
            return Ok(());
        }
        let step = "moving SyncIds";
        // The old row first: the extension's table allows one row per local id.
        self.remove_rows(&old_rows, step).await?;
        self.insert_rows(new_rows, step).await?;
        tracing::info!(
            "moved {} to new SyncIds",
            crate::text::count(old_rows.len(), "item", "items")
        );
        Ok(())
    }

    /// When to write the unique links (operations' `resolve`, `reject`) so that no target is
    /// ever held twice, with the fewest writes (see [`super::links`]).
    fn link_schedule(&self, changes: &CollectionChanges) -> LinkSchedule {
        if changes.spec.unique_links.is_empty() {
            return LinkSchedule::default();
        }
        let links = schedule(&link_input(changes.spec, changes, self.instance));
        if !links.waves.is_empty() || !links.delete_first.is_empty() {
            tracing::debug!(
                "{}: unique links in {} waves, {} cleared first, {} deleted first, {} linked after create",
                changes.spec.name,
                links.waves.len(),
                links.clears(),
                links.delete_first.len(),
                links.defer.len()
            );
        }
        links
    }

    /// Maps a dump item (or a part of one) to a payload; relation fields whose target does not
    /// exist yet are sent as `null` and returned as follow-ups.
    fn payload(
        &self,
        spec: &CollectionSpec,
        item: &Value,
        local_id: Option<&str>,
    ) -> (Value, Vec<(String, Value)>) {
        let (mut payload, unresolved) = self.ids.with(|id_map| spec.to_local(item, id_map));
        let mut deferred = Vec::new();
        for missing in unresolved {
            let field = missing.relation.path[0].to_string();
            if deferred.iter().any(|(f, _)| *f == field) {
                continue;
            }
            let value = item.get(&field).cloned().unwrap_or(Value::Null);
            if missing.relation.path.len() == 1 {
                if let Some(slot) = get_path_mut(&mut payload, missing.relation.path) {
                    *slot = Value::Null;
                }
            } else if let Some(object) = payload.as_object_mut() {
                // A nested reference: send the object without it, set it whole later.
                object.shift_remove(&field);
            }
            deferred.push((field, value));
        }
        if let (Some(local_id), Some(object)) = (local_id, payload.as_object_mut()) {
            object.insert("id".into(), spec_id(spec, local_id));
        }
        (payload, deferred)
    }

    /// `defer`: `(index among the creates, field)` of unique links whose target is still held
    /// when the items are created: sent as `null`, set as follow-ups.
    async fn create(
        &mut self,
        changes: &CollectionChanges,
        defer: &[(usize, String)],
    ) -> Result<Vec<FollowUp>, ApplyError> {
        let spec = changes.spec;
        let creates: Vec<&ItemChange> = changes
            .items
            .iter()
            .filter(|c| matches!(c.action, Action::Create))
            .collect();
        if creates.is_empty() {
            return Ok(Vec::new());
        }
        let step = format!("{}: creating {} items", spec.name, creates.len());
        if spec.id_policy == IdPolicy::Singleton {
            return self.create_singleton(spec, &creates, defer, &step).await;
        }
        let chosen_ids = self.choose_ids(spec, &creates);
        // Payloads first: references to items of this very batch are then unresolved, sent
        // as null and linked afterwards, so that no item points at one not created yet.
        let (payloads, deferred): (Vec<Compact>, Vec<_>) = creates
            .iter()
            .enumerate()
            .map(|(index, change)| {
                let local_id = chosen_ids.as_ref().map(|ids| ids[index].as_str());
                let (payload, deferred) = self.create_payload(spec, change, index, local_id, defer);
                (Compact::new(&payload), deferred)
            })
            .unzip();
        if let Some(ids) = &chosen_ids {
            self.insert_rows(create_rows(spec, &creates, ids), &step)
                .await?;
        }
        let created_ids = self
            .send_creates(spec, &creates, payloads, chosen_ids.is_none(), &step)
            .await?;
        let local_ids = chosen_ids.unwrap_or(created_ids);
        Ok(local_ids
            .into_iter()
            .zip(deferred)
            .flat_map(|(local_id, deferred)| FollowUp::of(&local_id, deferred))
            .collect())
    }

    /// A singleton exists already and is written in place: its id is the one Directus
    /// answers with, known only after the write.
    async fn create_singleton(
        &mut self,
        spec: &CollectionSpec,
        creates: &[&ItemChange],
        defer: &[(usize, String)],
        step: &str,
    ) -> Result<Vec<FollowUp>, ApplyError> {
        let mut follow_ups = Vec::new();
        for (index, change) in creates.iter().enumerate() {
            let (payload, deferred) = self.create_payload(spec, change, index, None, defer);
            let saved = self
                .client
                .patch(spec.endpoint, &payload)
                .await
                .map_err(self.fail(step))?;
            let local_id = saved
                .get("id")
                .and_then(id_string)
                .unwrap_or_else(|| "1".into());
            self.insert_rows(vec![row(spec, &change.sync_id, &local_id)], step)
                .await?;
            follow_ups.extend(FollowUp::of(&local_id, deferred));
            self.applied.created += 1;
            self.progress.advance(1);
        }
        Ok(follow_ups)
    }

    /// Ids we choose are recorded before the items exist: if the push dies in between, the
    /// rows are dangling and the next push removes them and creates again, never twice.
    /// `None`: the database generates them.
    fn choose_ids(&self, spec: &CollectionSpec, creates: &[&ItemChange]) -> Option<Vec<String>> {
        match spec.id_policy {
            IdPolicy::Generated => None,
            _ if spec.keeps_ids(self.preserve) => {
                Some(creates.iter().map(|c| c.sync_id.clone()).collect())
            }
            _ => Some(
                creates
                    .iter()
                    .map(|_| uuid::Uuid::new_v4().to_string())
                    .collect(),
            ),
        }
    }

    /// The payload of the create at `index`, with the unique links `defer` names held back
    /// as well: their targets are not free yet.
    fn create_payload(
        &self,
        spec: &CollectionSpec,
        change: &ItemChange,
        index: usize,
        local_id: Option<&str>,
        defer: &[(usize, String)],
    ) -> (Value, Vec<(String, Value)>) {
        let item = change.item.value();
        let (mut payload, mut deferred) = self.payload(spec, &item, local_id);
        defer_links(&mut payload, &mut deferred, &item, index, defer);
        (payload, deferred)
    }

    /// Sends the creates in batches and returns the ids of the items created. Generated ids
    /// are recorded after each batch, so that a push that fails midway leaves a row for every
    /// item it created.
    async fn send_creates(
        &mut self,
        spec: &CollectionSpec,
        creates: &[&ItemChange],
        payloads: Vec<Compact>,
        generated: bool,
        step: &str,
    ) -> Result<Vec<String>, ApplyError> {
        let mut created_ids: Vec<String> = Vec::new();
        for chunk in self.client.compact_chunks(payloads) {
            let count = chunk.len();
            let body = Value::Array(Compact::values(&chunk));
            let saved = self
                .client
                .json(
                    Request::new(Method::POST, spec.endpoint)
                        .query("fields", spec.id_fields)
                        .body(&body),
                )
                .await
                .map_err(self.fail(step))?;
            let mut ids = returned_ids(&saved);
            if generated {
                ids = generated_ids(spec, ids, count).map_err(self.fail(step))?;
                let start = created_ids.len();
                let batch = &creates[start..start + count];
                self.insert_rows(create_rows(spec, batch, &ids), step)
                    .await?;
            }
            created_ids.extend(ids);
            self.applied.created += count;
            self.progress.advance(count as u64);
        }
        Ok(created_ids)
    }

    /// Updates in one request, except fields that go first (`update_first`) and unique links,
    /// which go in the waves of `links`; other updates ride with the first wave.
    async fn update(
        &mut self,
        changes: &CollectionChanges,
        links: &LinkSchedule,
    ) -> Result<Vec<FollowUp>, ApplyError> {
        let spec = changes.spec;
        let step = format!("{}: updating", spec.name);
        let wave_of: HashMap<&str, usize> = links
            .waves
            .iter()
            .enumerate()
            .flat_map(|(i, w)| w.updates.iter().map(move |id| (id.as_str(), i)))
            .collect();
        let mut batches = UpdateBatches {
            adopted: Vec::new(),
            first_pass: Vec::new(),
            waves: wave_clears(spec, links),
            follow_ups: Vec::new(),
        };
        for change in &changes.items {
            self.add_update(spec, change, &wave_of, &mut batches);
        }
        self.insert_rows(batches.adopted, &step).await?;
        self.patch_batch(spec, batches.first_pass, &step).await?;
        self.send_waves(changes, links, batches.waves, &step)
            .await?;
        Ok(batches.follow_ups)
    }

    /// Puts one planned update into the requests that carry it: `update_first` fields into
    /// the first pass, the rest into the wave that frees the targets of its unique links.
    fn add_update(
        &mut self,
        spec: &CollectionSpec,
        change: &ItemChange,
        wave_of: &HashMap<&str, usize>,
        batches: &mut UpdateBatches,
    ) {
        let Action::Update {
            local_id,
            changes: fields,
            adopt,
            moved_from,
        } = &change.action
        else {
            return;
        };
        if *adopt {
            batches.adopted.push(row(spec, &change.sync_id, local_id));
        }
        if fields.is_empty() {
            if moved_from.is_some() {
                // Only its SyncId changed, which `move_sync_ids` wrote.
                self.applied.updated += 1;
                self.progress.advance(1);
            }
            return;
        }
        let (early, late) = split_first(spec, fields);
        let wave = wave_of.get(local_id.as_str()).copied().unwrap_or(0);
        for (pass, part) in [
            (&mut batches.first_pass, early),
            (&mut batches.waves[wave], late),
        ] {
            if part.is_empty() {
                continue;
            }
            let partial: Map<String, Value> = part
                .iter()
                .map(|f| (f.field.clone(), f.new.clone()))
                .collect();
            let (payload, deferred) = self.payload(spec, &Value::Object(partial), Some(local_id));
            pass.push(payload);
            batches.follow_ups.extend(FollowUp::of(local_id, deferred));
        }
        self.applied.updated += 1;
        self.progress.advance(1);
    }

    /// Each wave's updates take targets that earlier waves, and their deletes, let go of: so
    /// the waves go strictly in order, each followed by its deletes.
    async fn send_waves(
        &mut self,
        changes: &CollectionChanges,
        links: &LinkSchedule,
        waves: Vec<Vec<Value>>,
        step: &str,
    ) -> Result<(), ApplyError> {
        for (index, payloads) in waves.into_iter().enumerate() {
            let step = match links.waves.len() {
                0 | 1 => step.to_string(),
                count => format!("{step} (links, step {} of {count})", index + 1),
            };
            self.patch_batch(changes.spec, payloads, &step).await?;
            if let Some(wave) = links.waves.get(index) {
                self.delete_items(changes, &wave.deletes, &step).await?;
            }
        }
        Ok(())
    }

    async fn patch_batch(
        &self,
        spec: &CollectionSpec,
        payloads: Vec<Value>,
        step: &str,
    ) -> Result<(), ApplyError> {
        if payloads.is_empty() {
            return Ok(());
        }
        if spec.id_policy == IdPolicy::Singleton {
            for mut payload in payloads {
                if let Some(object) = payload.as_object_mut() {
                    object.shift_remove("id");
                }
                self.client
                    .patch(spec.endpoint, &payload)
                    .await
                    .map_err(self.fail(step))?;
            }
            return Ok(());
        }
        for chunk in self.client.chunks(payloads) {
            let body = Value::Array(chunk);
            self.client
                .json(
                    Request::new(Method::PATCH, spec.endpoint)
                        .query("fields", spec.id_fields)
                        .body(&body),
                )
                .await
                .map_err(self.fail(step))?;
        }
        Ok(())
    }

    async fn finish_follow_ups(
        &mut self,
        spec: &CollectionSpec,
        pending: Vec<FollowUp>,
    ) -> Result<(), ApplyError> {
        if pending.is_empty() {
            return Ok(());
        }
        self.progress.stage(spec.name);
        let step = format!("{}: linking", spec.name);
        let mut payloads: Vec<Value> = Vec::new();
        for follow_up in pending {
            let partial = json!({ follow_up.field.clone(): follow_up.value });
            let (payload, deferred) = self.payload(spec, &partial, Some(&follow_up.local_id));
            if let Some((field, value)) = deferred.first() {
                return Err(self.fail(step)(DirectusError::InvalidResponse {
                    method: Method::PATCH,
                    path: spec.endpoint.into(),
                    detail: format!("{field} still refers to a missing item: {value}"),
                }));
            }
            payloads.push(payload);
        }
        self.patch_batch(spec, payloads, &step).await
    }

    /// Deletes the given items of `changes` in one request (they may point at each other: one
    /// statement deletes them together), and their id-map rows.
    async fn delete_items(
        &mut self,
        changes: &CollectionChanges,
        local_ids: &[String],
        step: &str,
    ) -> Result<(), ApplyError> {
        if local_ids.is_empty() {
            return Ok(());
        }
        let spec = changes.spec;
        let keys: Vec<Value> = local_ids.iter().map(|id| spec_id(spec, id)).collect();
        self.client
            .delete(spec.endpoint, Some(&Value::Array(keys)))
            .await
            .map_err(self.fail(step))?;
        self.applied.deleted += local_ids.len();
        self.progress.advance(local_ids.len() as u64);
        let rows: Vec<IdMapRow> = changes
            .items
            .iter()
            .filter_map(|c| match &c.action {
                Action::Delete { local_id } if local_ids.contains(local_id) => {
                    Some(row(spec, &c.sync_id, local_id))
                }
                _ => None,
            })
            .collect();
        self.remove_rows(&rows, step).await?;
        self.deleted
            .extend(local_ids.iter().map(|id| (spec.name, id.clone())));
        Ok(())
    }

    async fn delete(&mut self, changes: &CollectionChanges) -> Result<(), ApplyError> {
        let spec = changes.spec;
        let deletes: Vec<(&str, &str)> = changes
            .items
            .iter()
            .filter_map(|c| match &c.action {
                Action::Delete { local_id } => Some((c.sync_id.as_str(), local_id.as_str())),
                _ => None,
            })
            .filter(|(_, local_id)| !self.deleted.contains(&(spec.name, local_id.to_string())))
            .collect();
        if deletes.is_empty() {
            return Ok(());
        }
        self.progress.stage(spec.name);
        let step = format!("{}: deleting {} items", spec.name, deletes.len());
        let keys: Vec<Value> = deletes
            .iter()
            .map(|(_, local)| spec_id(spec, local))
            .collect();
        // One request: when Directus caps batches, the client splits it in an order that the
        // items' links to each other (an operation chain, nested folders) allow.
        self.client
            .delete(spec.endpoint, Some(&Value::Array(keys)))
            .await
            .map_err(self.fail(step.clone()))?;
        self.applied.deleted += deletes.len();
        self.progress.advance(deletes.len() as u64);
        let rows: Vec<IdMapRow> = deletes
            .iter()
            .map(|(sync_id, local_id)| row(spec, sync_id, local_id))
            .collect();
        self.remove_rows(&rows, &step).await
    }
}

/// Unique links of created item `index` that `defer` names: sent as `null`, linked later.
fn defer_links(
    payload: &mut Value,
    deferred: &mut Vec<(String, Value)>,
    item: &Value,
    index: usize,
    defer: &[(usize, String)],
) {
    for (_, field) in defer.iter().filter(|(i, _)| *i == index) {
        if deferred.iter().any(|(f, _)| f == field) {
            continue;
        }
        if let Some(slot) = payload.get_mut(field) {
            *slot = Value::Null;
        }
        deferred.push((
            field.clone(),
            item.get(field).cloned().unwrap_or(Value::Null),
        ));
    }
}

/// A collection's updates sorted into the requests that carry them, which go in this order.
struct UpdateBatches {
    /// Id-map rows of untracked items taken over: recorded before their updates, so that a
    /// push stopped midway still tracks them.
    adopted: Vec<IdMapRow>,
    /// Fields that go before the rest (`update_first`).
    first_pass: Vec<Value>,
    /// One request per link wave (one at least): its clears, then its updates.
    waves: Vec<Vec<Value>>,
    follow_ups: Vec<FollowUp>,
}

/// Every update rides in a wave, so there is one even without unique links; each opens with
/// its clears, which must let go before the wave's updates take.
fn wave_clears(spec: &CollectionSpec, links: &LinkSchedule) -> Vec<Vec<Value>> {
    let mut waves: Vec<Vec<Value>> = links
        .waves
        .iter()
        .map(|wave| clear_payloads(spec, wave))
        .collect();
    if waves.is_empty() {
        waves.push(Vec::new());
    }
    waves
}

/// An item cleared of two fields in one wave is one payload: one write, as
/// [`LinkSchedule::clears`] counts it.
fn clear_payloads(spec: &CollectionSpec, wave: &Wave) -> Vec<Value> {
    let mut cleared: Vec<(&str, Map<String, Value>)> = Vec::new();
    for (item, field) in &wave.clears {
        let position = match cleared.iter().position(|(i, _)| i == item) {
            Some(position) => position,
            None => {
                let mut payload = Map::new();
                payload.insert("id".into(), spec_id(spec, item));
                cleared.push((item, payload));
                cleared.len() - 1
            }
        };
        cleared[position].1.insert(field.clone(), Value::Null);
    }
    cleared
        .into_iter()
        .map(|(_, payload)| Value::Object(payload))
        .collect()
}

/// An update's `update_first` fields and the rest. Split only when there is a rest: a lone
/// field needs no request of its own.
fn split_first<'a>(
    spec: &CollectionSpec,
    fields: &'a [FieldChange],
) -> (Vec<&'a FieldChange>, Vec<&'a FieldChange>) {
    let split = fields.len() > 1
        && fields
            .iter()
            .any(|f| spec.update_first.contains(&f.field.as_str()));
    fields
        .iter()
        .partition(|f| split && spec.update_first.contains(&f.field.as_str()))
}

/// Database-generated keys grow in creation order, which is the order sent: sorted, the ids
/// of a batch pair up with its items. An answer with another count cannot be paired.
fn generated_ids(
    spec: &CollectionSpec,
    mut ids: Vec<String>,
    count: usize,
) -> Result<Vec<String>, DirectusError> {
    if ids.len() != count {
        return Err(DirectusError::InvalidResponse {
            method: Method::POST,
            path: spec.endpoint.into(),
            detail: format!("{count} items sent, {} ids returned", ids.len()),
        });
    }
    ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
    Ok(ids)
}

/// The ids in Directus' answer to a batch create: `fields` asks for them alone.
fn returned_ids(saved: &Value) -> Vec<String> {
    saved
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(id_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The step of a schema apply, naming what it changes: Directus' error for it seldom says
/// which field it was about.
fn schema_step(schema: &crate::snapshot::SchemaDiff) -> String {
    const SHOWN: usize = 5;
    let changes = schema.changes();
    let names: Vec<String> = changes
        .parts()
        .iter()
        .flat_map(|(part, changes)| changes.iter().map(move |c| format!("{part} {}", c.name)))
        .collect();
    let more = match names.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "{} ({}{more})",
        SCHEMA_STEP,
        names
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// How the step of a schema apply starts.
pub const SCHEMA_STEP: &str = "applying the schema";

/// The id-map rows of `creates` under `ids`, paired in order.
fn create_rows(spec: &CollectionSpec, creates: &[&ItemChange], ids: &[String]) -> Vec<IdMapRow> {
    creates
        .iter()
        .zip(ids)
        .map(|(c, id)| row(spec, &c.sync_id, id))
        .collect()
}

fn row(spec: &CollectionSpec, sync_id: &str, local_id: &str) -> IdMapRow {
    IdMapRow {
        table: spec.name.to_string(),
        sync_id: sync_id.to_string(),
        local_id: local_id.to_string(),
    }
}

/// A local id as Directus expects it in a body: integer keys as numbers.
fn spec_id(spec: &CollectionSpec, local_id: &str) -> Value {
    match (spec.id_policy, local_id.parse::<u64>()) {
        (IdPolicy::Generated | IdPolicy::Singleton, Ok(number)) => json!(number),
        _ => json!(local_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_name_each_part_once_and_the_id_map_when_it_took_time() {
        let mut timings = Timings {
            total: Duration::from_millis(3_500),
            ..Timings::default()
        };
        timings.add("schema", Duration::from_millis(1_000));
        timings.add("permissions", Duration::from_millis(2_000));
        timings.add("permissions", Duration::from_millis(250));
        timings.id_map = Duration::from_millis(2);
        assert_eq!(
            timings.to_string(),
            "3.50 s: schema 1.00 s, permissions 2.25 s"
        );
        timings.id_map = Duration::from_millis(1_200);
        assert_eq!(
            timings.to_string(),
            "3.50 s: schema 1.00 s, permissions 2.25 s (id-map writes 1.20 s)"
        );
    }
}

use super::IdMapMode;
use super::{IdMapRow, id_string};
use crate::directus::{Client, DirectusError, Request};
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// The collection we keep SyncIds in when the server has no `directus-extension-sync`
/// (Directus forbids the `directus_` prefix for user collections).
pub const STORE_COLLECTION: &str = "sync_id_map";
/// The extension's own table.
const EXTENSION_TABLE: &str = "directus_sync_id_map";
/// The columns that make our rows unique as the extension's table makes its rows: one
/// `table/sync_id` and one `table/local_id` per row (Directus cannot create a unique index over
/// two columns; table names hold no `/`). Written with every row.
const SYNC_KEY: &str = "sync_key";
const LOCAL_KEY: &str = "local_key";

fn sync_key(row: &IdMapRow) -> String {
    format!("{}/{}", row.table, row.sync_id)
}

fn local_key(row: &IdMapRow) -> String {
    format!("{}/{}", row.table, row.local_id)
}
/// The extension's id-map routes: `/directus-extension-sync/table/<table>[/sync_id/<id>]`.
fn extension_route(table: &str, sync_id: Option<&str>) -> Result<String, DirectusError> {
    let mut segments = vec!["directus-extension-sync", "table", table];
    if let Some(sync_id) = sync_id {
        segments.extend(["sync_id", sync_id]);
    }
    crate::directus::path(&segments)
}

#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error(transparent)]
    Directus(#[from] DirectusError),
    #[error("--id-map extension: directus-extension-sync does not answer on this instance")]
    ExtensionMissing,
    #[error(
        "this instance keeps SyncIds in the table of directus-extension-sync, but the extension \
         does not answer (not loaded, or removed); reading another store would track every \
         item afresh and create duplicates"
    )]
    ExtensionVanished,
    #[error(
        "this instance has both id-map stores (directus-extension-sync's table and the {STORE_COLLECTION} \
         collection): which one holds its SyncIds is ambiguous"
    )]
    BothStores,
}

impl IdMapError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            IdMapError::ExtensionMissing => Some(
                "install directus-extension-sync, or use --id-map collection (no server install needed)",
            ),
            IdMapError::ExtensionVanished => Some(
                "check that the extension loads (Directus' log), or copy its rows with `helpers migrate-id-map --to collection` before using --id-map collection",
            ),
            IdMapError::BothStores => Some(
                "pass --id-map extension or --id-map collection (idMap in the config file); `helpers migrate-id-map` copies rows between them",
            ),
            IdMapError::Directus(error) => error.hint(),
        }
    }
}

/// Whether `directus-extension-sync` answers (its id-map routes say "No id map found" for an
/// unknown SyncId; without it Directus answers ROUTE_NOT_FOUND).
pub async fn extension_installed(client: &Client) -> Result<bool, DirectusError> {
    let ping = extension_route("__ping_test__", Some("__ping_test__"))?;
    match client.get(&ping).await {
        Ok(_) => Ok(true),
        Err(DirectusError::Api {
            status: StatusCode::NOT_FOUND,
            message,
            ..
        }) => Ok(message == "No id map found"),
        Err(DirectusError::Forbidden { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// How far our collection is set up on an instance, from one read of its fields.
async fn collection_setup(client: &Client) -> Result<Setup, DirectusError> {
    let path = crate::directus::path(&["fields", STORE_COLLECTION])?;
    match client.get_list(path).await {
        Ok(fields) => {
            let has = |name: &str| {
                fields
                    .iter()
                    .any(|f| f.get("field").and_then(Value::as_str) == Some(name))
            };
            // A collection has at least its primary key: no field, no collection.
            Ok(match (has("id"), has(SYNC_KEY) && has(LOCAL_KEY)) {
                (false, _) => Setup::Missing,
                (true, true) => Setup::Ready,
                (true, false) => Setup::WithoutKeys,
            })
        }
        // Directus answers 403 for a collection it does not know.
        Err(DirectusError::Forbidden { .. })
        | Err(DirectusError::Api {
            status: StatusCode::NOT_FOUND,
            ..
        }) => Ok(Setup::Missing),
        Err(other) => Err(other),
    }
}

fn row_of(item: &Value, path: &str) -> Result<IdMapRow, DirectusError> {
    let text = |key: &str| item.get(key).and_then(id_string);
    match (text("table"), text("sync_id"), text("local_id")) {
        (Some(table), Some(sync_id), Some(local_id)) => Ok(IdMapRow {
            table,
            sync_id,
            local_id,
        }),
        _ => Err(DirectusError::InvalidResponse {
            method: Method::GET,
            path: path.to_string(),
            detail: format!("an id-map row lacks table, sync_id or local_id: {item}"),
        }),
    }
}

/// Where this instance keeps its id map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMapStore {
    /// `directus-extension-sync` is installed: its routes write (so the activity log stays as
    /// the original tool left it); its table is read in one request through the items API.
    Extension,
    /// A hidden collection of ours, read and written in batches through the items API.
    Collection(Setup),
}

/// How far our collection is set up on an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Missing,
    /// Created by an earlier version, without the unique keys: the first write adds them.
    /// Reads need none of them.
    WithoutKeys,
    Ready,
}

impl IdMapStore {
    /// The store `mode` asks for on this instance. `auto` never switches silently: an
    /// instance whose extension table exists but whose extension does not answer, or that has
    /// both stores, is an error rather than a fresh, empty id map.
    pub async fn select(client: &Client, mode: IdMapMode) -> Result<IdMapStore, IdMapError> {
        match mode {
            IdMapMode::Collection => Ok(IdMapStore::collection(client).await?),
            IdMapMode::Extension => match extension_installed(client).await? {
                true => Ok(IdMapStore::Extension),
                false => Err(IdMapError::ExtensionMissing),
            },
            IdMapMode::Auto => {
                let (extension, ours, theirs) = tokio::try_join!(
                    extension_installed(client),
                    collection_setup(client),
                    client.collection_exists(EXTENSION_TABLE),
                )?;
                match (extension, ours, theirs) {
                    (true, Setup::Missing, _) => Ok(IdMapStore::Extension),
                    (true, _, _) => Err(IdMapError::BothStores),
                    (false, _, true) => Err(IdMapError::ExtensionVanished),
                    (false, setup, false) => Ok(IdMapStore::Collection(setup)),
                }
            }
        }
    }

    /// Our collection store, whether or not it exists yet.
    pub async fn collection(client: &Client) -> Result<IdMapStore, DirectusError> {
        Ok(IdMapStore::Collection(collection_setup(client).await?))
    }

    /// Names of the collections that hold id maps, to keep out of snapshots and schema diffs.
    pub fn hidden_collections() -> [&'static str; 2] {
        [EXTENSION_TABLE, STORE_COLLECTION]
    }

    pub fn describe(&self) -> &'static str {
        match self {
            IdMapStore::Extension => "the directus-extension-sync table",
            IdMapStore::Collection(_) => "the sync_id_map collection",
        }
    }

    /// Every row, for every table, in one request (a missing store has none).
    /// `tables`: the tracked collections, for the extension's routes, which answer one table
    /// at a time.
    pub async fn load(
        &self,
        client: &Client,
        tables: &[&str],
    ) -> Result<Vec<IdMapRow>, DirectusError> {
        let collection = match self {
            IdMapStore::Extension => EXTENSION_TABLE,
            IdMapStore::Collection(Setup::Missing) => return Ok(Vec::new()),
            IdMapStore::Collection(_) => STORE_COLLECTION,
        };
        let path = format!("/items/{collection}");
        let fields = vec![("fields".into(), "table,sync_id,local_id".into())];
        // Rows are kept as compact text and parsed one at a time: a tree per row of a large
        // instance's id map takes many times the rows themselves.
        let items = match client.list_compact(&path, fields).await {
            Ok(items) => items,
            // Directus only serves the extension's table once its schema cache knows it;
            // the extension's own routes always answer, one table at a time.
            Err(DirectusError::Forbidden { .. }) if *self == IdMapStore::Extension => {
                let lists = try_join_all(tables.iter().map(|table| async move {
                    client.get_list(extension_route(table, None)?).await
                }))
                .await?;
                let items = lists.into_iter().flatten();
                return items.map(|item| row_of(&item, &path)).collect();
            }
            Err(other) => return Err(other),
        };
        items
            .into_iter()
            .map(|item| row_of(&item.value(), &path))
            .collect()
    }

    /// Looks again at how far our collection is set up, unless it is ready: the run that held
    /// the instance's lock before may have created it or given it its keys since.
    pub async fn refresh(&mut self, client: &Client) -> Result<(), DirectusError> {
        if let IdMapStore::Collection(setup) = self
            && *setup != Setup::Ready
        {
            *setup = collection_setup(client).await?;
        }
        Ok(())
    }

    /// Makes the store ready for writes (pull and push; diff never writes): creates our
    /// collection when it is missing, or gives one of an earlier version its unique keys.
    pub async fn ensure(&mut self, client: &Client) -> Result<(), DirectusError> {
        match self {
            IdMapStore::Extension | IdMapStore::Collection(Setup::Ready) => return Ok(()),
            IdMapStore::Collection(Setup::Missing) => create_collection(client).await?,
            IdMapStore::Collection(Setup::WithoutKeys) => add_keys(client).await?,
        }
        *self = IdMapStore::Collection(Setup::Ready);
        Ok(())
    }

    pub async fn insert(&self, client: &Client, rows: &[IdMapRow]) -> Result<(), DirectusError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            IdMapStore::Extension => {
                // One request per row: built as they are sent and their answers dropped, so a
                // first pull of tens of thousands of rows holds a few at a time.
                one_request_per_row(client, rows, |row| async move {
                    let path = extension_route(&row.table, None)?;
                    let body = json!({"local_id": row.local_id, "sync_id": row.sync_id});
                    client.post(&path, &body).await
                })
                .await?;
            }
            IdMapStore::Collection { .. } => {
                let path = format!("/items/{STORE_COLLECTION}");
                // Payloads are built a request's worth at a time: a first push or pull of a
                // large instance records tens of thousands of rows.
                for rows in rows.chunks(client.rows_per_request(ROWS_PER_REQUEST)) {
                    let values: Vec<Value> = rows
                        .iter()
                        .map(|r| {
                            json!({"table": r.table, "sync_id": r.sync_id, "local_id": r.local_id,
                                   SYNC_KEY: sync_key(r), LOCAL_KEY: local_key(r)})
                        })
                        .collect();
                    for chunk in client.chunks_of_rows(values, ROWS_PER_REQUEST) {
                        let body = Value::Array(chunk);
                        client
                            .json(
                                Request::new(Method::POST, &path)
                                    .query("fields", "id")
                                    .body(&body),
                            )
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    pub async fn delete(&self, client: &Client, rows: &[IdMapRow]) -> Result<(), DirectusError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            IdMapStore::Extension => {
                one_request_per_row(client, rows, |row| async move {
                    let path = extension_route(&row.table, Some(&row.sync_id))?;
                    client.delete(&path, None).await
                })
                .await?;
            }
            IdMapStore::Collection { .. } => {
                let path = format!("/items/{STORE_COLLECTION}");
                let mut by_table: Vec<(&str, Vec<&str>)> = Vec::new();
                for row in rows {
                    match by_table.iter_mut().find(|(t, _)| *t == row.table) {
                        Some((_, ids)) => ids.push(&row.sync_id),
                        None => by_table.push((&row.table, vec![&row.sync_id])),
                    }
                }
                for (table, sync_ids) in by_table {
                    for ids in sync_ids.chunks(client.batch_size()) {
                        let body = json!({"query": {"filter": {"_and": [
                            {"table": {"_eq": table}}, {"sync_id": {"_in": ids}}
                        ]}, "limit": -1}});
                        client.delete(&path, Some(&body)).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Sends one request per row, as many at a time as the client keeps in flight.
async fn one_request_per_row<'a, F, Fut>(
    client: &Client,
    rows: &'a [IdMapRow],
    request: F,
) -> Result<(), DirectusError>
where
    F: Fn(&'a IdMapRow) -> Fut,
    Fut: std::future::Future<Output = Result<Value, DirectusError>>,
{
    stream::iter(rows)
        .map(request)
        .buffer_unordered(client.concurrency())
        .try_for_each(|_answer| async { Ok(()) })
        .await
}

/// Id-map rows per write: a row is about 150 bytes, so a thousand stay far below Directus'
/// default `MAX_PAYLOAD_SIZE` (1 MB); measured against 13,540 rows on SQLite, 1,000 per request
/// take two thirds of the time 100 per request take.
const ROWS_PER_REQUEST: usize = 1000;

fn key_field(name: &str, note: &str) -> Value {
    json!({"field": name, "type": "string", "meta": {"readonly": true, "hidden": true, "note": note},
           "schema": {"is_nullable": true, "is_unique": true, "max_length": 255}})
}

fn key_fields() -> [Value; 2] {
    [
        key_field(SYNC_KEY, "table/sync_id: one row per SyncId"),
        key_field(LOCAL_KEY, "table/local_id: one row per item"),
    ]
}

async fn create_collection(client: &Client) -> Result<(), DirectusError> {
    let text_field = |name: &str| {
        json!({"field": name, "type": "string", "meta": {"readonly": true},
               "schema": {"is_nullable": false, "max_length": 255}})
    };
    let [sync_key_field, local_key_field] = key_fields();
    let body = json!({
        "collection": STORE_COLLECTION,
        "meta": {
            "hidden": true,
            "icon": "sync",
            "note": "directus-sync: the SyncIds of tracked configuration items. Do not edit.",
            // Bookkeeping, not content: no activity or revisions for it.
            "accountability": null
        },
        "schema": {},
        "fields": [
            {"field": "id", "type": "integer", "meta": {"hidden": true},
             "schema": {"is_primary_key": true, "has_auto_increment": true}},
            text_field("table"),
            text_field("sync_id"),
            text_field("local_id"),
            sync_key_field,
            local_key_field,
            {"field": "created_at", "type": "timestamp", "meta": {"special": ["date-created"], "readonly": true}}
        ]
    });
    client.post("/collections", &body).await?;
    tracing::info!("created the hidden collection {STORE_COLLECTION} to keep SyncIds");
    Ok(())
}

/// Gives a store of an earlier version its unique keys: the two fields, then the keys of
/// every row. Where rows repeat a key, the newest keeps it, as reads let the row read last
/// win (rows come in id order); the older ones stay without that key, and reads ignore
/// them as before.
async fn add_keys(client: &Client) -> Result<(), DirectusError> {
    let fields_path = crate::directus::path(&["fields", STORE_COLLECTION])?;
    for field in key_fields() {
        client.post(&fields_path, &field).await?;
    }
    let path = format!("/items/{STORE_COLLECTION}");
    let fields = vec![("fields".into(), "id,table,sync_id,local_id".into())];
    let mut items = client.list(&path, fields).await?;
    items.sort_by_key(|item| std::cmp::Reverse(item.get("id").and_then(Value::as_i64)));
    let (updates, repeated) = keys_of(&items, &path)?;
    let given = updates.len();
    for chunk in client.chunks(updates) {
        let body = Value::Array(chunk);
        client
            .json(
                Request::new(Method::PATCH, &path)
                    .query("fields", "id")
                    .body(&body),
            )
            .await?;
    }
    tracing::info!(
        "gave the {} rows of {STORE_COLLECTION} unique keys ({SYNC_KEY}, {LOCAL_KEY})",
        given
    );
    if repeated > 0 {
        tracing::warn!(
            "{repeated} rows of {STORE_COLLECTION} repeat the SyncId or the item of a newer row: \
             they stay without that key, and the newer rows are the ones read"
        );
    }
    Ok(())
}

/// The key updates of `items` (newest first: each key goes to the first row that has it), and
/// how many rows repeat a key of a newer one.
fn keys_of(items: &[Value], path: &str) -> Result<(Vec<Value>, usize), DirectusError> {
    let (mut sync_keys, mut local_keys) = (HashSet::new(), HashSet::new());
    let mut updates = Vec::new();
    let mut repeated = 0;
    for item in items {
        let row = row_of(item, path)?;
        let mut update = Map::new();
        update.insert("id".into(), item.get("id").cloned().unwrap_or(Value::Null));
        for (name, key, seen) in [
            (SYNC_KEY, sync_key(&row), &mut sync_keys),
            (LOCAL_KEY, local_key(&row), &mut local_keys),
        ] {
            if seen.insert(key.clone()) {
                update.insert(name.into(), Value::String(key));
            }
        }
        if update.len() < 3 {
            repeated += 1;
        }
        if update.len() > 1 {
            updates.push(Value::Object(update));
        }
    }
    Ok((updates, repeated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_filled_keys_go_to_the_newest_row() {
        let items = [
            json!({"id": 3, "table": "roles", "sync_id": "s1", "local_id": "b"}),
            json!({"id": 2, "table": "roles", "sync_id": "s1", "local_id": "a"}),
            json!({"id": 1, "table": "flows", "sync_id": "s1", "local_id": "a"}),
        ];
        let (updates, repeated) = keys_of(&items, "/items/sync_id_map").unwrap();
        assert_eq!(
            updates,
            [
                json!({"id": 3, "sync_key": "roles/s1", "local_key": "roles/b"}),
                json!({"id": 2, "local_key": "roles/a"}),
                json!({"id": 1, "sync_key": "flows/s1", "local_key": "flows/a"}),
            ]
        );
        assert_eq!(repeated, 1);
    }
}

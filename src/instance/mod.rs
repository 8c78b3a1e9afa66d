//! The live state of an instance: the tracked collections' items, the id map and the admin
//! role, read concurrently in one request per collection.

use crate::collections::{CollectionSpec, IdPolicy};
use crate::directus::{Client, DirectusError};
use crate::idmap::{IdMap, IdMapStore, id_string};
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::HashMap;

pub struct Instance {
    pub store: IdMapStore,
    pub id_map: IdMap,
    /// Raw items (with their `id`) of each collection read, in the server's order.
    pub items: HashMap<&'static str, Vec<Value>>,
}

/// One live item in dump form, with its local id and whether the id map knows it.
#[derive(Debug, Clone)]
pub struct LiveItem {
    pub local_id: String,
    pub sync_id: Option<String>,
    pub raw: Value,
}

impl Instance {
    /// `admin_role`: the role of the user running the tool (see [`crate::directus::Me`]).
    pub async fn read(
        client: &Client,
        specs: &[&'static CollectionSpec],
        admin_role: Option<String>,
        store: IdMapStore,
        queries: &HashMap<&'static str, Value>,
    ) -> Result<Instance, DirectusError> {
        let (rows, lists) = tokio::try_join!(
            store.load(client),
            try_join_all(specs.iter().map(|spec| read_collection(
                client,
                spec,
                queries.get(spec.name)
            ))),
        )?;
        let mut items = HashMap::new();
        for (spec, mut list) in specs.iter().zip(lists) {
            if spec.name == "roles" {
                // The role of the user running the tool stands for "the admin role" on every
                // instance; it is never synced as an item.
                list.retain(|item| item.get("id").and_then(id_string) != admin_role);
            }
            items.insert(spec.name, list);
        }
        tracing::debug!("read {} id-map rows from {}", rows.len(), store.describe());
        Ok(Instance {
            store,
            id_map: IdMap::new(admin_role, rows),
            items,
        })
    }

    /// The live items of a collection with their SyncIds (when tracked).
    pub fn live_items(&self, spec: &CollectionSpec) -> Vec<LiveItem> {
        self.items
            .get(spec.name)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|raw| {
                        let local_id = raw.get("id").and_then(id_string)?;
                        Some(LiveItem {
                            sync_id: self.id_map.sync_id(spec.name, &local_id),
                            local_id,
                            raw: raw.clone(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Every item of one collection, as Directus stores them. `query` is the result of an
/// `onQuery` hook: its filter, fields, sort... apply, with the collection's own rules on top
/// (presets keep excluding user presets; settings ignore filters).
pub async fn read_collection(
    client: &Client,
    spec: &CollectionSpec,
    query: Option<&Value>,
) -> Result<Vec<Value>, DirectusError> {
    if spec.id_policy == IdPolicy::Singleton {
        // Before anyone saves settings, Directus answers defaults with `id: null`: no item.
        let item = client.get(spec.endpoint).await?;
        let exists = item.get("id").is_some_and(|id| !id.is_null());
        return Ok(if exists { vec![item] } else { Vec::new() });
    }
    let mut params = query.map(query_params).unwrap_or_default();
    if let Some(filter) = spec.filter {
        let filter = match params.iter().position(|(key, _)| key == "filter") {
            Some(index) => {
                let hooked: Value =
                    serde_json::from_str(&params.remove(index).1).unwrap_or(Value::Null);
                serde_json::json!({"_and": [hooked, filter()]})
            }
            None => filter(),
        };
        params.push(("filter".into(), filter.to_string()));
    }
    let mut items = client.list(spec.endpoint, params).await?;
    if spec.name == "permissions" {
        items = split_merged_permissions(client, items).await?;
    }
    // Directus 10 lists synthetic system permissions without an id: they are not rows.
    items.retain(|item| item.get("id").is_some_and(|id| !id.is_null()));
    Ok(items)
}

/// A query object as the JS SDK sends it: lists comma-joined, objects as JSON. Paging keys are
/// left to [`Client::list`], which reads everything.
fn query_params(query: &Value) -> Vec<(String, String)> {
    let Some(object) = query.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, value)| {
            !matches!(key.as_str(), "limit" | "offset" | "page" | "meta") && !value.is_null()
        })
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) if items.iter().all(Value::is_string) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect()
}

/// Directus 10 merges permissions that share role, collection and action into one entry
/// without an id when the reader has app access (directus/directus#21965), hiding the
/// duplicates. Aggregates are not merged: each hidden row is found as the smallest id above the
/// last one found, then read by id.
async fn split_merged_permissions(
    client: &Client,
    items: Vec<Value>,
) -> Result<Vec<Value>, DirectusError> {
    use crate::directus::Request;
    use reqwest::Method;
    use serde_json::json;

    let (mut rows, merged): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|item| {
        item.get("id").is_some_and(|id| !id.is_null())
            || item.get("system").and_then(Value::as_bool) == Some(true)
    });
    for group in merged {
        let role = match group.get("role") {
            Some(Value::String(role)) => json!({"_eq": role}),
            _ => json!({"_null": true}),
        };
        tracing::debug!(
            "reading merged duplicate permissions of {} {} one by one",
            group["collection"],
            group["action"]
        );
        let mut last = 0;
        loop {
            let filter = json!({"_and": [
                {"role": role},
                {"collection": {"_eq": group.get("collection")}},
                {"action": {"_eq": group.get("action")}},
                {"id": {"_gt": last}}
            ]});
            let request = Request::new(Method::GET, "/permissions")
                .query("aggregate[min]", "id")
                .query("filter", filter.to_string());
            let answer = client.json(request).await?;
            let next = answer
                .as_array()
                .and_then(|a| a.iter().find_map(|r| r.pointer("/min/id")))
                .and_then(|id| id.as_u64().or_else(|| id.as_str()?.parse().ok()));
            let Some(id) = next else { break };
            rows.push(client.get(&format!("/permissions/{id}")).await?);
            last = id;
        }
    }
    Ok(rows)
}

//! The live state of an instance, read-only: the tracked collections' items and the id map as
//! read, concurrently, in one request per collection.

use crate::collections::{CollectionSpec, IdPolicy};
use crate::directus::{Client, DirectusError};
use crate::idmap::{IdMap, IdMapOwner, id_string};
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct Instance {
    /// The rows as read with the items; writes go to the [`IdMapOwner`].
    pub id_map: IdMap,
    /// Raw items (with their `id`) of each collection read, in the server's order.
    pub items: HashMap<&'static str, Vec<Value>>,
    /// Tracked items an `onQuery` filter left out: they exist, so their id-map rows are not
    /// dangling, and push leaves them alone.
    pub hidden: HashMap<&'static str, HashSet<String>>,
    /// The local ids of `items`, built on first use: plans ask about every id-map row.
    ids: std::sync::OnceLock<HashMap<&'static str, HashSet<String>>>,
}

/// One live item in dump form, with its local id and whether the id map knows it.
#[derive(Debug, Clone)]
pub struct LiveItem<'a> {
    pub local_id: String,
    pub sync_id: Option<String>,
    pub raw: &'a Value,
}

impl Instance {
    /// `queries`: what `onQuery` hooks made of each collection's query.
    pub async fn read(
        client: &Client,
        specs: &[&'static CollectionSpec],
        ids: &IdMapOwner,
        queries: &HashMap<&'static str, Value>,
    ) -> Result<Instance, DirectusError> {
        let (id_map, lists) = tokio::try_join!(
            ids.reload(client),
            try_join_all(specs.iter().map(|spec| read_collection(
                client,
                spec,
                queries.get(spec.name)
            ))),
        )?;
        let mut items = HashMap::new();
        for (spec, mut list) in specs.iter().zip(lists) {
            if let Some(placeholder) = spec.runner_placeholder {
                list.retain(|item| {
                    let id = item.get("id").and_then(id_string).unwrap_or_default();
                    id_map.sync_id(spec.name, &id).as_deref() != Some(placeholder)
                });
            }
            items.insert(spec.name, list);
        }
        let filtered = specs.iter().filter(|spec| {
            queries.contains_key(spec.name) && spec.id_policy != IdPolicy::Singleton
        });
        let hidden = try_join_all(filtered.map(|spec| {
            let read = &items[spec.name];
            async {
                Ok::<_, DirectusError>((spec.name, hidden_ids(client, spec, &id_map, read).await?))
            }
        }))
        .await?
        .into_iter()
        .collect();
        Ok(Instance::new(id_map, items, hidden))
    }

    /// A live state as read (or, in tests, as made up).
    pub fn new(
        id_map: IdMap,
        items: HashMap<&'static str, Vec<Value>>,
        hidden: HashMap<&'static str, HashSet<String>>,
    ) -> Instance {
        Instance {
            id_map,
            items,
            hidden,
            ids: Default::default(),
        }
    }

    /// Whether the item `local_id` of `collection` exists on the instance (read, or left out
    /// by an `onQuery` filter).
    pub fn exists(&self, collection: &str, local_id: &str) -> bool {
        let ids = self.ids.get_or_init(|| {
            self.items
                .iter()
                .map(|(name, items)| {
                    let ids = items
                        .iter()
                        .filter_map(|item| item.get("id").and_then(id_string))
                        .collect();
                    (*name, ids)
                })
                .collect()
        });
        let read = ids
            .get(collection)
            .is_some_and(|ids| ids.contains(local_id));
        read || self
            .hidden
            .get(collection)
            .is_some_and(|hidden| hidden.contains(local_id))
    }

    /// The live items of a collection with their SyncIds (when tracked).
    pub fn live_items(&self, spec: &CollectionSpec) -> Vec<LiveItem<'_>> {
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
                            raw,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Instance {
    /// The raw items of a collection, taken out of this state (pull turns them into the dump).
    pub fn take_items(&mut self, spec: &CollectionSpec) -> Vec<Value> {
        self.ids.take();
        self.items.remove(spec.name).unwrap_or_default()
    }

    /// How diff lines name the item `sync_id` of `collection` (a role's name), when its
    /// collection names items by a field.
    pub fn name_of(&self, collection: &str, sync_id: &str) -> Option<String> {
        if self.id_map.is_placeholder(collection, sync_id) {
            return Some("admin".to_string());
        }
        let spec = crate::collections::spec(collection)?;
        let crate::collections::Label::Field(field) = spec.label else {
            return None;
        };
        let local = self.id_map.local_id(collection, sync_id)?;
        self.items.get(collection)?.iter().find_map(|item| {
            (item.get("id").and_then(id_string).as_deref() == Some(local.as_str()))
                .then(|| item.get(field)?.as_str().map(str::to_string))
                .flatten()
        })
    }
}

/// The tracked items of a collection read through an `onQuery` filter that the filter left
/// out, asked for by id (in chunks, so that no URL grows too long).
async fn hidden_ids(
    client: &Client,
    spec: &CollectionSpec,
    id_map: &IdMap,
    read: &[Value],
) -> Result<HashSet<String>, DirectusError> {
    let seen: HashSet<String> = read
        .iter()
        .filter_map(|item| item.get("id").and_then(id_string))
        .collect();
    let missing: Vec<String> = id_map
        .rows(spec.name)
        .into_iter()
        .map(|row| row.local_id)
        .filter(|id| !seen.contains(id))
        .collect();
    let mut hidden = HashSet::new();
    for chunk in missing.chunks(100) {
        let filter = serde_json::json!({"id": {"_in": chunk}});
        let params = vec![
            ("filter".to_string(), filter.to_string()),
            ("fields".to_string(), "id".to_string()),
        ];
        let found = client.list(spec.endpoint, params).await?;
        hidden.extend(
            found
                .iter()
                .filter_map(|item| item.get("id").and_then(id_string)),
        );
    }
    Ok(hidden)
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
    if !spec.merged_duplicates {
        return client.list(spec.endpoint, params).await;
    }
    // Directus 10 merges permission rows after reading a page: the count is checked on the
    // rows recovered.
    let (items, total) = client.list_as_served(spec.endpoint, &params).await?;
    let mut items = split_merged_duplicates(client, spec, items).await?;
    // It also lists synthetic system permissions without an id: they are not rows.
    items.retain(|item| item.get("id").is_some_and(|id| !id.is_null()));
    match total {
        Some(total) if items.len() as u64 != total => Err(crate::directus::short_list(
            spec.endpoint,
            items.len(),
            total,
        )),
        _ => Ok(items),
    }
}

/// A query object as query-string parameters. Paging keys are left to [`Client::list`], which
/// reads everything.
fn query_params(query: &Value) -> Vec<(String, String)> {
    let Some(object) = query.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter(|(key, value)| {
            !matches!(key.as_str(), "limit" | "offset" | "page" | "meta") && !value.is_null()
        })
        .map(|(key, value)| (key.clone(), crate::directus::query_param(value)))
        .collect()
}

/// Directus 10 merges items that share the natural key (permissions: role, collection, action)
/// into one entry without an id when the reader has app access (directus/directus#21965),
/// hiding the duplicates. Aggregates are not merged: each hidden row is found as the smallest
/// id above the last one found, then read by id.
async fn split_merged_duplicates(
    client: &Client,
    spec: &CollectionSpec,
    items: Vec<Value>,
) -> Result<Vec<Value>, DirectusError> {
    use crate::collections::NaturalKey;
    use crate::directus::Request;
    use reqwest::Method;
    use serde_json::json;

    let NaturalKey::Fields(key) = spec.natural_key else {
        return Ok(items);
    };
    let (mut rows, merged): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|item| {
        item.get("id").is_some_and(|id| !id.is_null())
            || item.get("system").and_then(Value::as_bool) == Some(true)
    });
    for group in merged {
        let mut conditions: Vec<Value> = key
            .iter()
            .map(|field| match group.get(*field) {
                Some(Value::Null) | None => json!({*field: {"_null": true}}),
                Some(value) => json!({*field: {"_eq": value}}),
            })
            .collect();
        let shown = Value::Array(conditions.clone()).to_string();
        tracing::debug!(
            "{}: reading merged duplicates of {shown} one by one",
            spec.name
        );
        let mut last = 0;
        loop {
            conditions.truncate(key.len());
            conditions.push(json!({"id": {"_gt": last}}));
            let filter = json!({ "_and": conditions });
            let request = Request::new(Method::GET, spec.endpoint)
                .query("aggregate[min]", "id")
                .query("filter", filter.to_string());
            let answer = client.json(request).await?;
            let next = answer
                .as_array()
                .and_then(|a| a.iter().find_map(|r| r.pointer("/min/id")))
                .and_then(|id| id.as_u64().or_else(|| id.as_str()?.parse().ok()));
            let Some(id) = next else { break };
            let path = format!(
                "{}{}",
                spec.endpoint,
                crate::directus::path(&[&id.to_string()])?
            );
            rows.push(client.get(&path).await?);
            last = id;
        }
    }
    Ok(rows)
}

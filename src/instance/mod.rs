//! The live state of an instance, read-only: the tracked collections' items and the id map as
//! read, concurrently, in one request per collection.

use crate::collections::{CollectionSpec, IdPolicy};
use crate::directus::{Client, DirectusError};
use crate::idmap::{IdMap, IdMapOwner, id_string};
use crate::json::Compact;
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default)]
pub struct Instance {
    /// The rows as read with the items; writes go to the [`IdMapOwner`].
    pub id_map: IdMap,
    /// Raw items (with their `id`) of each collection read, in the server's order.
    items: HashMap<&'static str, Vec<ReadItem>>,
    /// Tracked items an `onQuery` filter left out: they exist, so their id-map rows are not
    /// dangling, and push leaves them alone.
    pub hidden: HashMap<&'static str, HashSet<String>>,
    /// The local ids of `items`, built on first use: plans ask about every id-map row.
    ids: std::sync::OnceLock<HashMap<&'static str, HashSet<String>>>,
}

/// One item as read: its local id, and the item (with its `id`) as Directus sent it, held
/// compact until worked on.
#[derive(Debug, Clone)]
pub struct ReadItem {
    pub local_id: String,
    pub raw: Compact,
}

impl ReadItem {
    /// `None` for a row without an id (nothing a push could address).
    fn of(raw: Compact) -> Option<ReadItem> {
        Some(ReadItem {
            local_id: id_string(&raw.field("id")?)?,
            raw,
        })
    }
}

/// One live item, with its local id and whether the id map knows it.
#[derive(Debug, Clone)]
pub struct LiveItem<'a> {
    pub local_id: String,
    pub sync_id: Option<String>,
    pub raw: &'a Compact,
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
            try_join_all(specs.iter().map(|spec| async {
                let list = read_collection(client, spec, queries.get(spec.name)).await?;
                let list: Vec<ReadItem> = list.into_iter().filter_map(ReadItem::of).collect();
                Ok::<_, DirectusError>(list)
            })),
        )?;
        let mut items = HashMap::new();
        for (spec, mut list) in specs.iter().zip(lists) {
            if let Some(placeholder) = spec.runner_placeholder {
                list.retain(|item| {
                    id_map.sync_id(spec.name, &item.local_id).as_deref() != Some(placeholder)
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
        Ok(Instance {
            id_map,
            items,
            hidden,
            ids: Default::default(),
        })
    }

    /// A live state as made up (in tests).
    pub fn new(
        id_map: IdMap,
        items: HashMap<&'static str, Vec<Value>>,
        hidden: HashMap<&'static str, HashSet<String>>,
    ) -> Instance {
        let items = items
            .into_iter()
            .map(|(name, list)| {
                let list = list.iter().map(Compact::new).filter_map(ReadItem::of);
                (name, list.collect())
            })
            .collect();
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
                    let ids = items.iter().map(|item| item.local_id.clone()).collect();
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
                    .map(|item| LiveItem {
                        sync_id: self.id_map.sync_id(spec.name, &item.local_id),
                        local_id: item.local_id.clone(),
                        raw: &item.raw,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Instance {
    /// Whether the collection was read.
    pub fn has_read(&self, collection: &str) -> bool {
        self.items.contains_key(collection)
    }

    /// The items of a collection as read, each with its local id.
    pub fn read_items(&self, collection: &str) -> &[ReadItem] {
        self.items
            .get(collection)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The raw items of a collection, taken out of this state (pull turns them into the dump).
    pub fn take_items(&mut self, spec: &CollectionSpec) -> Vec<ReadItem> {
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
        let item = self
            .read_items(collection)
            .iter()
            .find(|item| item.local_id == local)?;
        item.raw.field(field)?.as_str().map(str::to_string)
    }
}

/// The tracked items of a collection read through an `onQuery` filter that the filter left
/// out, asked for by id (in chunks, so that no URL grows too long).
async fn hidden_ids(
    client: &Client,
    spec: &CollectionSpec,
    id_map: &IdMap,
    read: &[ReadItem],
) -> Result<HashSet<String>, DirectusError> {
    let seen: HashSet<&str> = read.iter().map(|item| item.local_id.as_str()).collect();
    let missing: Vec<String> = id_map
        .rows(spec.name)
        .into_iter()
        .map(|row| row.local_id)
        .filter(|id| !seen.contains(id.as_str()))
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
) -> Result<Vec<Compact>, DirectusError> {
    if spec.id_policy == IdPolicy::Singleton {
        // Before anyone saves settings, Directus answers defaults with `id: null`: no item.
        let item = client.get(spec.endpoint).await?;
        let exists = item.get("id").is_some_and(|id| !id.is_null());
        return Ok(if exists {
            vec![Compact::new(&item)]
        } else {
            Vec::new()
        });
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
        return client.list_compact(spec.endpoint, params).await;
    }
    // Directus 10 merges permission rows after reading a page: the count is checked on the
    // rows recovered.
    let (items, total) = client.list_as_served(spec.endpoint, &params).await?;
    let mut items = split_merged_duplicates(client, spec, items).await?;
    // It also lists synthetic system permissions without an id: they are not rows.
    items.retain(|item| item.field("id").is_some_and(|id| !id.is_null()));
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
    items: Vec<Compact>,
) -> Result<Vec<Compact>, DirectusError> {
    use crate::collections::NaturalKey;
    use crate::directus::Request;
    use reqwest::Method;
    use serde_json::json;

    let NaturalKey::Fields(key) = spec.natural_key else {
        return Ok(items);
    };
    let (mut rows, merged): (Vec<Compact>, Vec<Compact>) = items.into_iter().partition(|item| {
        item.field("id").is_some_and(|id| !id.is_null())
            || item.field("system").and_then(|system| system.as_bool()) == Some(true)
    });
    for group in merged.iter().map(Compact::value) {
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
            rows.push(Compact::new(&client.get(&path).await?));
            last = id;
        }
    }
    Ok(rows)
}

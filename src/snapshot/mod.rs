//! The schema snapshot: fetched from `/schema/snapshot`, diffed and applied by Directus. Its
//! files in the dump are `dump::snapshot`'s business.

mod changes;

pub use changes::{SchemaChange, SchemaChangeKind, SchemaChanges};

use crate::directus::{Client, DirectusError, Request};
use reqwest::Method;
use serde_json::Value;

/// Id-map tables are instance bookkeeping, never schema to sync (pushing the extension's
/// table to an instance without the extension fails; reference P12).
pub fn hidden() -> [&'static str; 2] {
    crate::idmap::IdMapStore::hidden_collections()
}

/// The lists of a snapshot; the other keys (`version`, `directus`, `vendor`) describe it.
pub const PARTS: [&str; 3] = ["collections", "fields", "relations"];

/// A schema snapshot as Directus shapes it: `{version, directus, vendor, collections, fields,
/// relations}`. Kept as JSON so that fields Directus adds later survive a round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot(pub Value);

impl Snapshot {
    pub async fn fetch(client: &Client) -> Result<Snapshot, DirectusError> {
        let value = client.get("/schema/snapshot").await?;
        let mut snapshot = Snapshot(value);
        snapshot.hide_collections(&hidden());
        Ok(snapshot)
    }

    /// The entries of one of [`PARTS`].
    pub fn part(&self, name: &str) -> &[Value] {
        self.0
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Drops collections (with their fields and relations) that must never be synced.
    pub fn hide_collections(&mut self, hidden: &[&str]) {
        let Some(object) = self.0.as_object_mut() else {
            return;
        };
        for part in PARTS {
            if let Some(Value::Array(items)) = object.get_mut(part) {
                items.retain(|item| !mentions_hidden(item, hidden));
            }
        }
    }

    /// Asks Directus what applying this snapshot would change. `None`: nothing.
    pub async fn diff(
        &self,
        client: &Client,
        force: bool,
    ) -> Result<Option<SchemaDiff>, DirectusError> {
        // Without `force` first: Directus then says whether the Directus version or the
        // database vendor differs, and only a vendor change makes column types differ.
        let (response, cross_vendor) = match self.request_diff(client, false).await {
            Ok(response) => (response, false),
            Err(DirectusError::Api {
                status: reqwest::StatusCode::BAD_REQUEST,
                message,
                ..
            }) if force && message.contains("does not match the current instance") => {
                let cross_vendor = message.contains("vendor");
                (self.request_diff(client, true).await?, cross_vendor)
            }
            Err(other) => return Err(other),
        };
        let Some(mut diff) = response.get("diff").cloned() else {
            return Ok(None);
        };
        let hash = response.get("hash").cloned().unwrap_or(Value::Null);
        if let Some(object) = diff.as_object_mut() {
            for part in PARTS {
                if let Some(Value::Array(items)) = object.get_mut(part) {
                    items.retain(|item| !mentions_hidden(item, &hidden()));
                    if cross_vendor {
                        drop_vendor_differences(part, items);
                    }
                }
            }
        }
        let schema_diff = SchemaDiff { hash, diff };
        Ok((!schema_diff.changes().is_empty()).then_some(schema_diff))
    }

    async fn request_diff(&self, client: &Client, force: bool) -> Result<Value, DirectusError> {
        let mut request = Request::new(Method::POST, "/schema/diff").upload(&self.0);
        if force {
            // Directus treats the mere presence of `force` as true.
            request = request.query("force", "true");
        }
        client.json(request).await
    }
}

/// Column details each database spells its own way (`varchar` and `character varying`, a
/// float's precision, generated constraint names...). Across vendors they are not changes to
/// make: Directus cannot apply them (it would alter primary and foreign keys) and they would
/// reappear after every push.
const VENDOR_SPECIFIC: [&str; 6] = [
    "data_type",
    "max_length",
    "numeric_precision",
    "numeric_scale",
    "constraint_name",
    "is_unique",
];

fn drop_vendor_differences(part: &str, entries: &mut Vec<Value>) {
    let before = entries.len();
    for entry in entries.iter_mut() {
        if let Some(Value::Array(records)) = entry.get_mut("diff") {
            records.retain(|record| {
                let path: Vec<&str> = record
                    .get("path")
                    .and_then(Value::as_array)
                    .map(|p| p.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let edit = record.get("kind").and_then(Value::as_str) == Some("E");
                !(edit
                    && path.len() == 2
                    && path[0] == "schema"
                    && VENDOR_SPECIFIC.contains(&path[1]))
            });
        }
    }
    entries.retain(|entry| {
        entry
            .get("diff")
            .and_then(Value::as_array)
            .is_none_or(|records| !records.is_empty())
    });
    if entries.len() < before {
        tracing::debug!(
            "left out {} {part} whose only differences are the database vendor's column details",
            before - entries.len()
        );
    }
}

/// Directus' answer to `/schema/diff`, sent back unchanged to `/schema/apply`.
#[derive(Debug, Clone)]
pub struct SchemaDiff {
    pub hash: Value,
    pub diff: Value,
}

impl SchemaDiff {
    pub fn changes(&self) -> SchemaChanges {
        SchemaChanges::from_diff(&self.diff)
    }

    pub async fn apply(&self, client: &Client) -> Result<(), DirectusError> {
        let body = serde_json::json!({"hash": self.hash, "diff": self.diff});
        client
            .json(Request::new(Method::POST, "/schema/apply").upload(&body))
            .await?;
        Ok(())
    }
}

fn mentions_hidden(item: &Value, hidden: &[&str]) -> bool {
    ["collection", "related_collection"].iter().any(|key| {
        item.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|name| hidden.contains(&name))
    })
}

//! SyncIds: the instance-independent names of tracked items, and where each instance keeps the
//! mapping to its own ids (the `directus-extension-sync` table, or a collection of ours).

mod owner;
mod store;

pub use owner::IdMapOwner;
pub use store::{IdMapError, IdMapStore, STORE_COLLECTION, extension_installed};

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Where SyncIds are kept on the instance (`--id-map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum IdMapMode {
    /// The extension's table when `directus-extension-sync` answers, else our collection.
    #[default]
    Auto,
    /// `directus-extension-sync` must be installed.
    Extension,
    /// A hidden collection the tool creates itself; no server install needed.
    Collection,
}

/// One mapping row: in `table` (a tracked collection name), `sync_id` is `local_id` here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdMapRow {
    pub table: String,
    pub sync_id: String,
    pub local_id: String,
}

/// An item that stands under the same SyncId on every instance without a row: the role of the
/// user running the tool is `__admin__` everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub table: &'static str,
    pub sync_id: &'static str,
    pub local_id: String,
}

/// All rows of one instance, indexed both ways, and its placeholder. A copy shares the rows
/// until one side changes them: the owner and every reader of a run look at one set of rows
/// (tens of thousands at scale), not one each.
#[derive(Debug, Default, Clone)]
pub struct IdMap {
    placeholder: Option<Placeholder>,
    rows: Arc<Rows>,
}

/// Per table, sync id → local id and local id → sync id (looked up without building a key).
#[derive(Debug, Default, Clone)]
struct Rows {
    by_sync: HashMap<String, HashMap<String, String>>,
    by_local: HashMap<String, HashMap<String, String>>,
}

/// Ids arrive as JSON strings or numbers; rows keep them as strings.
pub fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl IdMap {
    pub fn new(
        placeholder: Option<Placeholder>,
        rows: impl IntoIterator<Item = IdMapRow>,
    ) -> IdMap {
        let mut map = IdMap {
            placeholder,
            ..IdMap::default()
        };
        for row in rows {
            map.insert(&row.table, &row.sync_id, &row.local_id);
        }
        map
    }

    /// Whether `sync_id` is the placeholder of `table` (it has no row and no live item).
    pub fn is_placeholder(&self, table: &str, sync_id: &str) -> bool {
        self.placeholder
            .as_ref()
            .is_some_and(|p| p.table == table && p.sync_id == sync_id)
    }

    pub fn insert(&mut self, table: &str, sync_id: &str, local_id: &str) {
        let rows = Arc::make_mut(&mut self.rows);
        let by_sync = rows.by_sync.entry(table.to_string()).or_default();
        by_sync.insert(sync_id.into(), local_id.into());
        let by_local = rows.by_local.entry(table.to_string()).or_default();
        by_local.insert(local_id.into(), sync_id.into());
    }

    pub fn remove(&mut self, table: &str, sync_id: &str) {
        if !self
            .rows
            .by_sync
            .get(table)
            .is_some_and(|t| t.contains_key(sync_id))
        {
            return;
        }
        let rows = Arc::make_mut(&mut self.rows);
        let local = rows.by_sync.get_mut(table).and_then(|t| t.remove(sync_id));
        if let (Some(local), Some(by_local)) = (local, rows.by_local.get_mut(table)) {
            by_local.remove(&local);
        }
    }

    pub fn sync_id(&self, table: &str, local_id: &str) -> Option<String> {
        if let Some(p) = &self.placeholder
            && p.table == table
            && p.local_id == local_id
        {
            return Some(p.sync_id.to_string());
        }
        self.rows.by_local.get(table)?.get(local_id).cloned()
    }

    pub fn local_id(&self, table: &str, sync_id: &str) -> Option<String> {
        if self.is_placeholder(table, sync_id) {
            return self.placeholder.as_ref().map(|p| p.local_id.clone());
        }
        self.rows.by_sync.get(table)?.get(sync_id).cloned()
    }

    /// How many rows, over every table.
    pub fn len(&self) -> usize {
        self.rows.by_sync.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every row of `table`, as (sync id, local id).
    pub fn rows(&self, table: &str) -> Vec<IdMapRow> {
        let mut rows: Vec<IdMapRow> = self
            .rows
            .by_sync
            .get(table)
            .into_iter()
            .flatten()
            .map(|(s, l)| IdMapRow {
                table: table.to_string(),
                sync_id: s.clone(),
                local_id: l.clone(),
            })
            .collect();
        rows.sort_by(|a, b| a.sync_id.cmp(&b.sync_id));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_role_is_a_placeholder_both_ways() {
        let admin = Placeholder {
            table: "roles",
            sync_id: "__admin__",
            local_id: "admin-uuid".into(),
        };
        let map = IdMap::new(
            Some(admin),
            [IdMapRow {
                table: "roles".into(),
                sync_id: "s1".into(),
                local_id: "l1".into(),
            }],
        );
        assert_eq!(
            map.sync_id("roles", "admin-uuid").as_deref(),
            Some("__admin__")
        );
        assert_eq!(
            map.local_id("roles", "__admin__").as_deref(),
            Some("admin-uuid")
        );
        assert_eq!(map.local_id("roles", "s1").as_deref(), Some("l1"));
        assert_eq!(map.sync_id("flows", "l1"), None);
        assert_eq!(map.rows("roles").len(), 1);
    }
}

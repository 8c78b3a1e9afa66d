//! SyncIds: the instance-independent names of tracked items, and where each instance keeps the
//! mapping to its own ids (the `directus-extension-sync` table, or a collection of ours).

mod store;

pub use store::{IdMapError, IdMapStore, STORE_COLLECTION, extension_installed};

use crate::collections::ADMIN_ROLE_SYNC_ID;
use serde_json::Value;
use std::collections::HashMap;

/// One mapping row: in `table` (a tracked collection name), `sync_id` is `local_id` here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdMapRow {
    pub table: String,
    pub sync_id: String,
    pub local_id: String,
}

/// All rows of one instance, indexed both ways; the admin role is a placeholder with no row.
#[derive(Debug, Default, Clone)]
pub struct IdMap {
    admin_role: Option<String>,
    by_sync: HashMap<(String, String), String>,
    by_local: HashMap<(String, String), String>,
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
    pub fn new(admin_role: Option<String>, rows: impl IntoIterator<Item = IdMapRow>) -> IdMap {
        let mut map = IdMap {
            admin_role,
            ..IdMap::default()
        };
        for row in rows {
            map.insert(&row.table, &row.sync_id, &row.local_id);
        }
        map
    }

    pub fn admin_role(&self) -> Option<&str> {
        self.admin_role.as_deref()
    }

    pub fn insert(&mut self, table: &str, sync_id: &str, local_id: &str) {
        self.by_sync
            .insert((table.into(), sync_id.into()), local_id.into());
        self.by_local
            .insert((table.into(), local_id.into()), sync_id.into());
    }

    pub fn remove(&mut self, table: &str, sync_id: &str) {
        if let Some(local) = self.by_sync.remove(&(table.into(), sync_id.into())) {
            self.by_local.remove(&(table.into(), local));
        }
    }

    pub fn sync_id(&self, table: &str, local_id: &str) -> Option<String> {
        if table == "roles" && self.admin_role.as_deref() == Some(local_id) {
            return Some(ADMIN_ROLE_SYNC_ID.to_string());
        }
        self.by_local.get(&(table.into(), local_id.into())).cloned()
    }

    pub fn local_id(&self, table: &str, sync_id: &str) -> Option<String> {
        if table == "roles" && sync_id == ADMIN_ROLE_SYNC_ID {
            return self.admin_role.clone();
        }
        self.by_sync.get(&(table.into(), sync_id.into())).cloned()
    }

    /// Every row of `table`, as (sync id, local id).
    pub fn rows(&self, table: &str) -> Vec<IdMapRow> {
        let mut rows: Vec<IdMapRow> = self
            .by_sync
            .iter()
            .filter(|((t, _), _)| t == table)
            .map(|((t, s), l)| IdMapRow {
                table: t.clone(),
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
        let map = IdMap::new(
            Some("admin-uuid".into()),
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

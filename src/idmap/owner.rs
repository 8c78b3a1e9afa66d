//! The one owner of an instance's id map during a run: it knows where the rows are kept, holds
//! the rows read last, and is told of every row a pull or push writes, so that later reads of
//! the same run see them. Everything else gets a read-only [`IdMap`] from it.

use super::{IdMap, IdMapRow, IdMapStore, Placeholder};
use crate::directus::{Client, DirectusError};
use std::sync::Mutex;

pub struct IdMapOwner {
    /// The tracked tables (for stores that are read table by table).
    tables: Vec<&'static str>,
    state: Mutex<State>,
}

struct State {
    store: IdMapStore,
    map: IdMap,
}

impl IdMapOwner {
    pub fn new(
        store: IdMapStore,
        placeholder: Option<Placeholder>,
        tables: Vec<&'static str>,
    ) -> IdMapOwner {
        IdMapOwner {
            tables,
            state: Mutex::new(State {
                store,
                map: IdMap::new(placeholder, []),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn store(&self) -> IdMapStore {
        self.lock().store.clone()
    }

    pub fn describe(&self) -> &'static str {
        self.lock().store.describe()
    }

    /// Reads every row afresh; returns the map as read.
    pub async fn reload(&self, client: &Client) -> Result<IdMap, DirectusError> {
        let store = self.store();
        let rows = store.load(client, &self.tables).await?;
        tracing::debug!("read {} id-map rows from {}", rows.len(), store.describe());
        let mut state = self.lock();
        state.map = IdMap::new(state.map.placeholder.clone(), rows);
        Ok(state.map.clone())
    }

    /// A look at the current rows.
    pub fn with<R>(&self, look: impl FnOnce(&IdMap) -> R) -> R {
        look(&self.lock().map)
    }

    /// Looks again at the store's setup, which another writer may have changed since this run
    /// looked ([`IdMapStore::refresh`]).
    pub async fn refresh_store(&self, client: &Client) -> Result<(), DirectusError> {
        let mut store = self.store();
        store.refresh(client).await?;
        self.lock().store = store;
        Ok(())
    }

    /// Creates the store when it is missing (pull and push; diff never writes).
    pub async fn ensure_store(&self, client: &Client) -> Result<(), DirectusError> {
        let mut store = self.store();
        store.ensure(client).await?;
        self.lock().store = store;
        Ok(())
    }

    /// Writes rows to the store, then to the map.
    pub async fn record(&self, client: &Client, rows: Vec<IdMapRow>) -> Result<(), DirectusError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.ensure_store(client).await?;
        self.store().insert(client, &rows).await?;
        let mut state = self.lock();
        for row in rows {
            state.map.insert(&row.table, &row.sync_id, &row.local_id);
        }
        Ok(())
    }

    /// Removes rows from the store, then from the map.
    pub async fn forget(&self, client: &Client, rows: &[IdMapRow]) -> Result<(), DirectusError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.store().delete(client, rows).await?;
        let mut state = self.lock();
        for row in rows {
            state.map.remove(&row.table, &row.sync_id);
        }
        Ok(())
    }
}

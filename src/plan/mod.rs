//! What a push would change: built from a dump and the live instance, rendered by `diff`,
//! executed by `push`.

mod render;

use crate::snapshot::{SchemaChangeKind, SchemaDiff};
use serde::Serialize;

#[derive(Debug, Default)]
pub struct Plan {
    /// Directus' own schema diff, `None` when the schema matches or is not compared.
    pub schema: Option<SchemaDiff>,
}

/// The counts of the summary line `N to create, N to update, N to delete`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.create + self.update + self.delete
    }
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        if let Some(schema) = &self.schema {
            let changes = schema.changes();
            counts.create += changes.count(SchemaChangeKind::Create);
            counts.update += changes.count(SchemaChangeKind::Update);
            counts.delete += changes.count(SchemaChangeKind::Delete);
        }
        counts
    }

    pub fn is_empty(&self) -> bool {
        self.counts().total() == 0
    }
}

//! What a push would change: built from a dump and the live instance, rendered by `diff`,
//! executed by `push`.

mod apply;
pub mod build;
pub mod links;
pub mod loss;
mod progress;
mod render;
mod render_markdown;
pub mod saved;

#[cfg(test)]
mod link_tests;
#[cfg(test)]
mod render_markdown_tests;
#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;

pub use apply::{Applied, ApplyError, SCHEMA_STEP, Timings};
pub use build::{FieldTypes, build_collections, check_values};
pub use loss::DataLoss;
pub use progress::Progress;
pub use render_markdown::FlowItems;
pub use saved::{Fingerprint, SavedPlan, SavedPlanError};

use crate::collections::{CollectionSpec, ItemLabel};
use crate::idmap::IdMapRow;
use crate::json::Compact;
use crate::snapshot::SchemaDiff;
use crate::values::Masks;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct Plan {
    /// Directus' own schema diff, `None` when the schema matches or is not compared.
    pub schema: Option<SchemaDiff>,
    /// Differences a push cannot make on this instance: schema details Directus reports but
    /// cannot change (see `SchemaComparison::left_out`), items it never deletes. Noted, never
    /// applied.
    pub left_out: Vec<String>,
    /// One entry per collection compared, in push order.
    pub collections: Vec<CollectionChanges>,
    /// References in the dump that nothing on the instance or in the dump satisfies.
    pub unresolved: Vec<String>,
    /// Values in the dump that the instance would not keep (push refuses to start).
    pub invalid: Vec<String>,
    /// What applying the plan would destroy that git cannot give back (push asks first).
    pub data_loss: Vec<DataLoss>,
    /// What its text and JSON show instead of secrets: the dump's values were filled from
    /// the environment, and the instance's values at secret paths are secrets too.
    pub masks: Masks,
}

#[derive(Debug)]
pub struct CollectionChanges {
    pub spec: &'static CollectionSpec,
    pub items: Vec<ItemChange>,
    /// Id-map rows whose item no longer exists on the instance; push removes them.
    pub dangling: Vec<IdMapRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemChange {
    #[serde(rename = "syncId")]
    pub sync_id: String,
    pub label: ItemLabel,
    /// For creates: the fields that tell what the item does, as text (see
    /// [`CollectionSpec::create_details`]).
    #[serde(skip)]
    pub details: Vec<(&'static str, String)>,
    /// The dump item (create, update) or the live item in dump form (delete).
    #[serde(skip)]
    pub item: Compact,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    Create,
    Update {
        #[serde(rename = "localId")]
        local_id: String,
        changes: Vec<FieldChange>,
        /// An untracked live item taken over (same preserved id, the settings row, or a
        /// permission with the same role, collection and action) instead of creating a twin.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        adopt: bool,
        /// The SyncId the live item had: the dump names it by another one now (same
        /// [`CollectionSpec::identity`]), so its id-map row moves instead of the item being
        /// deleted and created again.
        #[serde(rename = "movedFrom", skip_serializing_if = "Option::is_none")]
        moved_from: Option<String>,
    },
    Delete {
        #[serde(rename = "localId")]
        local_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<Value>,
    pub new: Value,
    /// The names of the items `old` and `new` point at when the field is a relation (an
    /// operation's `resolve`): reviewers know operations and roles by name, not by SyncId.
    #[serde(skip)]
    pub targets: [Option<String>; 2],
}

impl FieldChange {
    pub fn new(field: impl Into<String>, old: Option<Value>, new: Value) -> FieldChange {
        FieldChange {
            field: field.into(),
            old,
            new,
            targets: [None, None],
        }
    }
}

pub use crate::dump::Counts;

/// What a plan changes: schema changes (collections, fields, relations, as Directus' diff
/// lists them) apart from items, because push reports them apart (`Applied`) and a field
/// is no item to create.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub schema: usize,
    pub items: Counts,
}

impl Totals {
    pub fn total(&self) -> usize {
        self.schema + self.items.total()
    }
}

impl std::fmt::Display for Totals {
    /// `2 schema changes; 1 to create, 0 to update, 0 to delete`. The items' part is always
    /// there and always last: scripts look for the line ending `… to delete`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.schema {
            0 => {}
            1 => f.write_str("1 schema change; ")?,
            n => write!(f, "{n} schema changes; ")?,
        }
        let Counts {
            create,
            update,
            delete,
        } = self.items;
        write!(
            f,
            "{create} to create, {update} to update, {delete} to delete"
        )
    }
}

impl Action {
    /// Adds this action to the summary line's counts (taking over an item is no update; a
    /// new SyncId is).
    fn count(&self, counts: &mut Counts) {
        match self {
            Action::Create => counts.create += 1,
            Action::Update {
                changes,
                moved_from,
                ..
            } if !changes.is_empty() || moved_from.is_some() => counts.update += 1,
            Action::Update { .. } => {}
            Action::Delete { .. } => counts.delete += 1,
        }
    }
}

impl CollectionChanges {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        self.items
            .iter()
            .for_each(|item| item.action.count(&mut counts));
        counts
    }
}

impl Plan {
    /// The items to create, update and delete, in every collection; schema changes are
    /// counted apart ([`Plan::totals`]).
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for collection in &self.collections {
            counts += collection.counts();
        }
        counts
    }

    /// Schema changes and item counts, as the plan's last line and the push's `applied:`
    /// line both count them.
    pub fn totals(&self) -> Totals {
        Totals {
            schema: self.schema.as_ref().map_or(0, |s| s.changes().len()),
            items: self.counts(),
        }
    }

    /// No configuration change (taking over untracked items or clearing dangling id-map rows
    /// is bookkeeping, not a change of the instance's configuration).
    pub fn is_empty(&self) -> bool {
        self.totals().total() == 0
    }

    /// Anything at all for push to write, bookkeeping included.
    pub fn has_writes(&self) -> bool {
        self.schema.is_some()
            || self
                .collections
                .iter()
                .any(|c| !c.items.is_empty() || !c.dangling.is_empty())
    }
}

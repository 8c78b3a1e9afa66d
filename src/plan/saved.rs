//! A plan saved to a file (`diff --out`) and applied later as it is (`push --plan`): the
//! changes, what they were shown as, and a fingerprint of the live state they were computed
//! against, so that applying them to a state that moved on is refused instead of guessed at.
//!
//! No secret is ever in the file: the dump's secrets go in as their placeholders (`${NAME}`)
//! and are filled from the environment of the run that applies the plan; values at secret
//! paths the run has no name for (the instance's own keys, in items to delete) go in as `***`.
//! Old values are not kept at all: a plan applies new values, and its text shows the old ones.

use super::{Action, CollectionChanges, FieldChange, ItemChange, Plan};
use crate::collections::{self, CollectionSpec, ItemLabel};
use crate::idmap::IdMapRow;
use crate::instance::Instance;
use crate::json::Compact;
use crate::snapshot::{SchemaDiff, Snapshot};
use crate::values::{Masks, Variables};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The version of the file's layout; a file of another is refused, never half read.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("the plan file is not a plan of this tool")]
    Parse(#[source] serde_json::Error),
    #[error("the plan file has format {found}; this version reads format {FORMAT}")]
    Format { found: u32 },
    #[error("the plan file names collection {0:?}, which this version does not track")]
    UnknownCollection(String),
}

impl SavedPlanError {
    pub fn hint(&self) -> Option<&'static str> {
        Some("make the plan again with `diff --out` using this version of directus-sync")
    }
}

/// Hashes of what a plan depends on, as read from the instance: its schema, each compared
/// collection's items, and the id map. Equal fingerprints mean the plan still says exactly
/// what a push would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fingerprint {
    /// `None` when the schema is not compared (`snapshot: false`).
    pub schema: Option<String>,
    pub collections: BTreeMap<String, String>,
    pub id_map: String,
}

fn hash(text: &str) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map_or_else(|_| String::new(), |oid| oid.to_string())
}

impl Fingerprint {
    /// Of the schema `snapshot` (the tool's own collections already hidden, as
    /// [`Snapshot::fetch`] gives it: the lock and id-map collections may appear when a push
    /// starts) and the items of `specs` in `instance`.
    pub fn of(
        snapshot: Option<&Snapshot>,
        instance: &Instance,
        specs: &[&'static CollectionSpec],
    ) -> Fingerprint {
        let schema = snapshot.map(|s| hash(&s.to_value().to_string()));
        let collections = specs
            .iter()
            .map(|spec| {
                let mut items: Vec<(&str, &str)> = instance
                    .read_items(spec.name)
                    .iter()
                    .map(|item| (item.local_id.as_str(), item.raw.text()))
                    .collect();
                // The server's order is no content: two reads may list the same items apart.
                items.sort_unstable();
                let mut text = String::new();
                for (id, raw) in items {
                    text.push_str(id);
                    text.push('\t');
                    text.push_str(raw);
                    text.push('\n');
                }
                let hidden: BTreeSet<&String> = instance
                    .hidden
                    .get(spec.name)
                    .into_iter()
                    .flatten()
                    .collect();
                for id in hidden {
                    text.push_str(&format!("hidden\t{id}\n"));
                }
                (spec.name.to_string(), hash(&text))
            })
            .collect();
        let mut rows = String::new();
        for table in collections::names() {
            for row in instance.id_map.rows(table) {
                rows.push_str(&format!(
                    "{}\t{}\t{}\n",
                    row.table, row.sync_id, row.local_id
                ));
            }
        }
        Fingerprint {
            schema,
            collections,
            id_map: hash(&rows),
        }
    }

    /// What differs from `now`, in words: `the schema`, `collection flows`, `the id map`.
    pub fn differences(&self, now: &Fingerprint) -> Vec<String> {
        let mut parts = Vec::new();
        if self.schema != now.schema {
            parts.push("the schema".to_string());
        }
        let names: BTreeSet<&String> = self
            .collections
            .keys()
            .chain(now.collections.keys())
            .collect();
        for name in names {
            if self.collections.get(name) != now.collections.get(name) {
                parts.push(format!("collection {name}"));
            }
        }
        if self.id_map != now.id_map {
            parts.push("the id map".to_string());
        }
        parts
    }
}

/// Where the dump of a plan came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Origin {
    /// The revision given to `diff` (`None`: the working tree).
    pub revision: Option<String>,
    /// The commit of that revision (HEAD for the working tree), when there is a repository.
    pub commit: Option<String>,
    /// The working tree's dump files differed from HEAD's.
    pub uncommitted: bool,
}

/// A plan as its file holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    pub format: u32,
    pub tool_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The instance's URL, masked: a plan applies to the instance it was made against.
    pub instance: String,
    pub dump: Origin,
    pub fingerprint: Fingerprint,
    /// The plan as `diff` showed it (secrets masked), shown again by the push that applies it.
    pub text: String,
    /// What the plan destroys that git cannot give back; applying it needs consent.
    pub data_loss: Vec<String>,
    pub schema: Option<SavedSchema>,
    pub collections: Vec<SavedCollection>,
}

/// Directus' hash of a schema covers the tool's own collections too, which the push's lock
/// may create before anything is applied: with the dump's schema at hand, the push asks for
/// the diff again under the lock and applies it with the fresh hash only when it is the diff
/// saved, change for change.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSchema {
    /// Directus' hash of the schema the diff was made from: `/schema/apply` checks it too.
    pub hash: Value,
    pub diff: Value,
    /// The dump's schema snapshot the diff leads to (see above).
    pub target: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedCollection {
    pub collection: String,
    pub items: Vec<SavedItem>,
    pub dangling: Vec<SavedRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedRow {
    pub sync_id: String,
    pub local_id: String,
}

// No `deny_unknown_fields`: serde cannot have it with a flattened field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedItem {
    pub sync_id: String,
    pub label: String,
    pub label_text: String,
    #[serde(flatten)]
    pub action: SavedAction,
    /// The dump item (create, update) or the live item in dump form (delete).
    pub item: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum SavedAction {
    Create,
    #[serde(rename_all = "camelCase")]
    Update {
        local_id: String,
        changes: Vec<SavedField>,
        #[serde(default)]
        adopt: bool,
        #[serde(default)]
        moved_from: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Delete {
        local_id: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedField {
    pub field: String,
    pub new: Value,
}

/// What a saved plan says besides its changes.
pub struct Header {
    pub instance: String,
    pub dump: Origin,
    pub fingerprint: Fingerprint,
    pub text: String,
    /// The dump's schema snapshot, when the schema was compared.
    pub target_schema: Option<Value>,
}

/// An item to delete, as a file may hold it: every field through the masks, values at secret
/// paths no placeholder names as `***` (a delete needs the item's links, never its secrets).
fn masked(masks: &Masks, collection: &str, item: &Value) -> Value {
    match item {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(field, value)| {
                    let shown = masks.show(collection, Some(item), field, value);
                    (field.clone(), shown)
                })
                .collect(),
        ),
        other => {
            let mut other = other.clone();
            masks.scrub(&mut other);
            other
        }
    }
}

impl SavedPlan {
    /// `plan` with its secrets back to placeholders.
    pub fn of(plan: &Plan, header: Header) -> SavedPlan {
        let masks = &plan.masks;
        let scrubbed = |value: &Value| {
            let mut value = value.clone();
            masks.scrub(&mut value);
            value
        };
        let collections = plan
            .collections
            .iter()
            .filter(|c| !c.items.is_empty() || !c.dangling.is_empty())
            .map(|c| SavedCollection {
                collection: c.spec.name.to_string(),
                items: c
                    .items
                    .iter()
                    .map(|change| {
                        let item = change.item.value();
                        let (action, item) = match &change.action {
                            Action::Create => (SavedAction::Create, scrubbed(&item)),
                            Action::Update {
                                local_id,
                                changes,
                                adopt,
                                moved_from,
                            } => (
                                SavedAction::Update {
                                    local_id: local_id.clone(),
                                    changes: changes
                                        .iter()
                                        .map(|f| SavedField {
                                            field: f.field.clone(),
                                            new: scrubbed(&f.new),
                                        })
                                        .collect(),
                                    adopt: *adopt,
                                    moved_from: moved_from.clone(),
                                },
                                scrubbed(&item),
                            ),
                            Action::Delete { local_id } => (
                                SavedAction::Delete {
                                    local_id: local_id.clone(),
                                },
                                masked(masks, c.spec.name, &item),
                            ),
                        };
                        SavedItem {
                            sync_id: change.sync_id.clone(),
                            label: change.label.as_str().to_string(),
                            label_text: change.label.to_string(),
                            action,
                            item,
                        }
                    })
                    .collect(),
                dangling: c
                    .dangling
                    .iter()
                    .map(|row| SavedRow {
                        sync_id: row.sync_id.clone(),
                        local_id: row.local_id.clone(),
                    })
                    .collect(),
            })
            .collect();
        SavedPlan {
            format: FORMAT,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: chrono::Utc::now(),
            instance: header.instance,
            dump: header.dump,
            fingerprint: header.fingerprint,
            text: header.text,
            data_loss: plan.data_loss.iter().map(|l| l.describe()).collect(),
            schema: plan.schema.as_ref().map(|s| SavedSchema {
                hash: s.hash.clone(),
                diff: s.diff.to_value(),
                target: header.target_schema.clone().unwrap_or_default(),
            }),
            collections,
        }
    }

    /// The file's text: pretty JSON, every secret the masks know replaced by its placeholder
    /// once more (a secret inside a schema note or a label is a secret too).
    pub fn to_text(&self, masks: &Masks) -> String {
        let text = serde_json::to_string_pretty(self).expect("a saved plan serialises");
        format!("{}\n", masks.scrub_text(&text))
    }

    pub fn parse(text: &str) -> Result<SavedPlan, SavedPlanError> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = serde_json::from_str(text).map_err(SavedPlanError::Parse)?;
        if version.format != FORMAT {
            return Err(SavedPlanError::Format {
                found: version.format,
            });
        }
        serde_json::from_str(text).map_err(SavedPlanError::Parse)
    }

    /// The collections the plan compared (the fingerprint's), in push order.
    pub fn specs(&self) -> Result<Vec<&'static CollectionSpec>, SavedPlanError> {
        let names: Vec<&String> = self
            .fingerprint
            .collections
            .keys()
            .chain(self.collections.iter().map(|c| &c.collection))
            .collect();
        for name in &names {
            collections::spec(name)
                .ok_or_else(|| SavedPlanError::UnknownCollection(name.to_string()))?;
        }
        Ok(collections::COLLECTIONS
            .iter()
            .filter(|spec| names.iter().any(|name| *name == spec.name))
            .collect())
    }

    /// The plan to apply, its placeholders filled from `variables`; the names of unset
    /// variables go to `missing` (nothing may be applied then).
    pub fn to_plan(
        &self,
        variables: &Variables,
        masks: Masks,
        missing: &mut BTreeSet<String>,
    ) -> Result<Plan, SavedPlanError> {
        let filled = |value: &Value, missing: &mut BTreeSet<String>| {
            let mut value = value.clone();
            variables.fill(&mut value, missing);
            value
        };
        let mut collections = Vec::new();
        // Push order, whatever the file's order.
        for spec in self.specs()? {
            let Some(saved) = self.collections.iter().find(|c| c.collection == spec.name) else {
                continue;
            };
            let items = saved
                .items
                .iter()
                .map(|saved| {
                    let action = match &saved.action {
                        SavedAction::Create => Action::Create,
                        SavedAction::Update {
                            local_id,
                            changes,
                            adopt,
                            moved_from,
                        } => Action::Update {
                            local_id: local_id.clone(),
                            changes: changes
                                .iter()
                                .map(|f| FieldChange::new(&f.field, None, filled(&f.new, missing)))
                                .collect(),
                            adopt: *adopt,
                            moved_from: moved_from.clone(),
                        },
                        SavedAction::Delete { local_id } => Action::Delete {
                            local_id: local_id.clone(),
                        },
                    };
                    let item = match action {
                        Action::Delete { .. } => saved.item.clone(),
                        _ => filled(&saved.item, missing),
                    };
                    ItemChange {
                        sync_id: saved.sync_id.clone(),
                        label: ItemLabel::saved(saved.label.clone(), saved.label_text.clone()),
                        details: Vec::new(),
                        item: Compact::new(&item),
                        action,
                    }
                })
                .collect();
            let dangling = saved
                .dangling
                .iter()
                .map(|row| IdMapRow {
                    table: spec.name.to_string(),
                    sync_id: row.sync_id.clone(),
                    local_id: row.local_id.clone(),
                })
                .collect();
            collections.push(CollectionChanges {
                spec,
                items,
                dangling,
            });
        }
        Ok(Plan {
            schema: self
                .schema
                .as_ref()
                .map(|s| SchemaDiff::new(s.hash.clone(), s.diff.clone())),
            collections,
            masks,
            ..Plan::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idmap::IdMap;
    use serde_json::json;
    use std::collections::HashMap;

    const SECRET: &str = "pk.unit-SECRET-value-4411";
    const VARIABLE: &str = "DIRECTUS_SECRET_SETTINGS_MAPBOX_KEY";

    fn variables(value: &str) -> Variables {
        Variables::new([(VARIABLE.to_string(), value.to_string())], BTreeSet::new())
    }

    fn instance(description: &str, rows: &[(&str, &str)]) -> Instance {
        let roles = vec![
            json!({"id": "r2", "name": "Viewer", "description": description}),
            json!({"id": "r1", "name": "Editor"}),
        ];
        let rows = rows.iter().map(|(sync, local)| IdMapRow {
            table: "roles".into(),
            sync_id: sync.to_string(),
            local_id: local.to_string(),
        });
        Instance::new(
            IdMap::new(None, rows),
            HashMap::from([("roles", roles)]),
            HashMap::new(),
        )
    }

    fn roles() -> &'static CollectionSpec {
        collections::spec("roles").unwrap()
    }

    /// A plan updating a setting to the secret and deleting a role.
    fn plan() -> Plan {
        let settings = collections::spec("settings").unwrap();
        let item = json!({"_syncId": "s", "mapbox_key": SECRET, "project_name": "CMS"});
        let update = ItemChange {
            sync_id: "s".into(),
            label: ItemLabel::saved("settings".into(), "settings".into()),
            details: Vec::new(),
            item: Compact::new(&item),
            action: Action::Update {
                local_id: "1".into(),
                changes: vec![FieldChange::new(
                    "mapbox_key",
                    Some(json!("pk.old-SECRET-value-9000")),
                    json!(SECRET),
                )],
                adopt: false,
                moved_from: None,
            },
        };
        let delete = ItemChange {
            sync_id: "viewer".into(),
            label: ItemLabel::saved("Viewer".into(), "\"Viewer\"".into()),
            details: Vec::new(),
            item: Compact::new(&json!({"_syncId": "viewer", "name": "Viewer"})),
            action: Action::Delete {
                local_id: "r2".into(),
            },
        };
        Plan {
            collections: vec![
                CollectionChanges {
                    spec: roles(),
                    items: vec![delete],
                    dangling: Vec::new(),
                },
                CollectionChanges {
                    spec: settings,
                    items: vec![update],
                    dangling: Vec::new(),
                },
            ],
            masks: variables(SECRET).masks(&[]),
            ..Plan::default()
        }
    }

    fn header() -> Header {
        Header {
            instance: "http://localhost:8055".into(),
            dump: Origin {
                revision: None,
                commit: None,
                uncommitted: true,
            },
            fingerprint: Fingerprint::of(None, &instance("", &[("viewer", "r2")]), &[roles()]),
            text: String::new(),
            target_schema: None,
        }
    }

    #[test]
    fn a_saved_plan_holds_placeholders_and_is_filled_when_applied() {
        let plan = plan();
        let saved = SavedPlan::of(&plan, header());
        let text = saved.to_text(&plan.masks);
        assert!(
            !text.contains(SECRET) && !text.contains("SECRET-value-9000"),
            "{text}"
        );
        assert!(text.contains(&format!("${{{VARIABLE}}}")), "{text}");

        let read = SavedPlan::parse(&text).unwrap();
        let rotated = "pk.rotated-SECRET-value-7777";
        let mut missing = BTreeSet::new();
        let applied = read
            .to_plan(&variables(rotated), Masks::default(), &mut missing)
            .unwrap();
        assert!(missing.is_empty());
        // Push order (roles before settings), the new value filled from this run's variables.
        let names: Vec<&str> = applied.collections.iter().map(|c| c.spec.name).collect();
        assert_eq!(names, ["roles", "settings"]);
        let Action::Update { changes, .. } = &applied.collections[1].items[0].action else {
            panic!("an update");
        };
        assert_eq!(changes[0].new, json!(rotated));
        assert_eq!(changes[0].old, None);
        assert_eq!(
            applied.collections[1].items[0].item.field("mapbox_key"),
            Some(json!(rotated))
        );
        assert_eq!(
            applied.collections[0].items[0].label.to_string(),
            "\"Viewer\""
        );

        let unset = Variables::new([], BTreeSet::new());
        read.to_plan(&unset, Masks::default(), &mut missing)
            .unwrap();
        assert_eq!(missing, BTreeSet::from([VARIABLE.to_string()]));
    }

    #[test]
    fn a_file_of_another_format_or_collection_is_refused() {
        let plan = plan();
        let text = SavedPlan::of(&plan, header()).to_text(&plan.masks);
        let other = text.replacen("\"format\": 1", "\"format\": 2", 1);
        assert!(matches!(
            SavedPlan::parse(&other),
            Err(SavedPlanError::Format { found: 2 })
        ));
        let unknown = SavedPlan::parse(&text.replace("\"roles\"", "\"widgets\"")).unwrap();
        assert!(
            matches!(unknown.specs(), Err(SavedPlanError::UnknownCollection(name)) if name == "widgets")
        );
    }

    #[test]
    fn fingerprints_name_what_changed_and_ignore_the_order_read() {
        let before = Fingerprint::of(None, &instance("", &[("viewer", "r2")]), &[roles()]);
        // The same items, listed the other way round by the server.
        let roles_read = vec![
            json!({"id": "r1", "name": "Editor"}),
            json!({"id": "r2", "name": "Viewer", "description": ""}),
        ];
        let id_map = instance("", &[("viewer", "r2")]).id_map.clone();
        let reordered = Instance::new(
            id_map,
            HashMap::from([("roles", roles_read)]),
            HashMap::new(),
        );
        assert_eq!(
            before.differences(&Fingerprint::of(None, &reordered, &[roles()])),
            Vec::<String>::new()
        );
        let edited = Fingerprint::of(None, &instance("edited", &[("viewer", "r2")]), &[roles()]);
        assert_eq!(before.differences(&edited), ["collection roles"]);
        let retracked = Fingerprint::of(None, &instance("", &[("other", "r2")]), &[roles()]);
        assert_eq!(before.differences(&retracked), ["the id map"]);
    }
}

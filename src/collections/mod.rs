//! The ten tracked collections as data: one [`CollectionSpec`] each, read by one generic engine
//! (`instance` reads, `plan` compares and applies). Adding a collection is adding an entry here.

mod collation;
mod transform;

pub use collation::{collate, natural};
pub use transform::Unresolved;

use crate::json::Compact;
use serde_json::Value;

/// `--preserve-ids`: `*`/`all`, or a list of collections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PreserveIds {
    All,
    #[default]
    None,
    Some(Vec<String>),
}

impl PreserveIds {
    pub fn parse_list(values: &[String]) -> Self {
        match values {
            [] => PreserveIds::None,
            [one] if one == "*" || one == "all" => PreserveIds::All,
            many => PreserveIds::Some(many.to_vec()),
        }
    }

    pub fn includes(&self, collection: &str) -> bool {
        match self {
            PreserveIds::All => true,
            PreserveIds::None => false,
            PreserveIds::Some(list) => list.iter().any(|c| c == collection),
        }
    }
}

/// Config files say `preserveIds: "*"` or `preserveIds: [roles, flows]`.
impl<'de> serde::Deserialize<'de> for PreserveIds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => PreserveIds::parse_list(&[one]),
            OneOrMany::Many(many) => PreserveIds::parse_list(&many),
        })
    }
}

/// The names of the tracked collections, in the order the original tool lists them.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COLLECTIONS.iter().map(|spec| spec.name).collect();
    names.sort_unstable();
    names
}

/// How the primary key of a collection relates to its SyncId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPolicy {
    /// The local id is the SyncId everywhere (flows keep webhook URLs, folders keep file fields).
    AlwaysPreserved,
    /// UUID keys: preserved with `--preserve-ids`, otherwise we pick fresh UUIDs on create.
    Uuid,
    /// Integer keys chosen by the database (permissions, presets).
    Generated,
    /// One row, no meaningful key (settings).
    Singleton,
}

/// A field holding the id of another tracked item, written as a SyncId in the dump.
#[derive(Debug, Clone, Copy)]
pub struct Relation {
    /// The field, or a path into a JSON field (`["options", "flow"]`).
    pub path: &'static [&'static str],
    pub target: &'static str,
    /// The item can be created with this field `null` and patched once the target exists:
    /// this is how cycles (flow ↔ operation) and chains inside one collection resolve.
    pub nullable_on_create: bool,
}

/// How an item is named in diff output.
#[derive(Debug, Clone, Copy)]
pub enum Label {
    /// The value of one field, quoted.
    Field(&'static str),
    /// `<role> <collection>.<action>`.
    Permission,
    /// `<language> <key>`.
    Translation,
    /// `<bookmark or collection>`.
    Preset,
    Singleton,
}

/// An item's name as the diff shows it. Text quotes the names people typed (`"Editor"`,
/// `fr-FR "hi"`), so that a name with spaces reads as one; JSON and sorting take the plain
/// words, which programs compare without unquoting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemLabel {
    plain: String,
    text: String,
}

impl ItemLabel {
    /// From its words, each `(word, typed by people)`.
    fn of(parts: Vec<(String, bool)>) -> ItemLabel {
        let join = |quote: bool| {
            parts
                .iter()
                .map(|(part, name)| match quote && *name {
                    true => format!("{part:?}"),
                    false => part.clone(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        ItemLabel {
            plain: join(false),
            text: join(true),
        }
    }

    /// As a saved plan holds it: its words, and its text.
    pub fn saved(plain: String, text: String) -> ItemLabel {
        ItemLabel { plain, text }
    }

    /// The words without quotes.
    pub fn as_str(&self) -> &str {
        &self.plain
    }
}

impl std::fmt::Display for ItemLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for ItemLabel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.plain)
    }
}

/// How items are ordered in the dump file.
#[derive(Debug, Clone, Copy)]
pub enum SortKey {
    SyncId,
    /// `key`, ties broken by SyncId (the original tool left ties to the API's order).
    OperationKey,
    /// `<role>-<collection>-<action>` like the original tool.
    PermissionTriple,
}

/// Which live item an untracked dump item may take over instead of creating a twin.
#[derive(Debug, Clone, Copy)]
pub enum NaturalKey {
    None,
    /// An untracked item whose id equals the SyncId (preserved ids, RECORD_NOT_UNIQUE of P6).
    Id,
    /// The singleton row.
    Singleton,
    /// Items equal on these (SyncId-mapped) fields: permissions by role, collection, action,
    /// which Directus merges anyway (directus/directus#21965).
    Fields(&'static [&'static str]),
}

#[derive(Debug)]
pub struct CollectionSpec {
    pub name: &'static str,
    /// Directus' own name of the collection (`GET /fields/<table>`).
    pub table: &'static str,
    pub endpoint: &'static str,
    /// Removed from pulled items and from live items before comparing.
    pub ignored_fields: &'static [&'static str],
    pub relations: &'static [Relation],
    pub id_policy: IdPolicy,
    pub sort: SortKey,
    pub label: Label,
    pub natural_key: NaturalKey,
    /// Extra filter on every read (presets: no user presets).
    pub filter: Option<fn() -> Value>,
    /// Settings are never deleted.
    pub deletable: bool,
    /// Fields that must be changed in a request of their own before the rest (translations:
    /// `key` and `language` together trip Directus' duplicate check).
    pub update_first: &'static [&'static str],
    /// Fields with a unique constraint that point at items of the same collection
    /// (operations' `resolve` and `reject`): cleared before they are reassigned.
    pub unique_links: &'static [&'static str],
    /// `fields` to ask for when only ids are wanted back. Directus 10 merges permissions that
    /// share role, collection and action when those are not read, losing their ids
    /// (directus/directus#21965).
    pub id_fields: &'static str,
    /// Directus 10 lists items sharing the natural key merged into one entry without an id;
    /// reading recovers the hidden rows one by one (directus/directus#21965).
    pub merged_duplicates: bool,
    /// The item of the user running the tool (their role) is never synced: it stands under
    /// this SyncId on every instance (`__admin__`).
    pub runner_placeholder: Option<&'static str>,
    /// Users belong to items of this collection through `(endpoint, field)`: deleting such an
    /// item (a role) takes it from them, which git cannot give back.
    pub members: Option<(&'static str, &'static str)>,
    /// Fields (in dump form: relations as SyncIds) that name the same item across SyncIds. A
    /// tracked live item the dump no longer has and a dump item the instance does not have
    /// yet that agree on them, each the only one with these values on its side, are one
    /// item whose SyncId changed: it is updated in place, never deleted and created again
    /// (deleting a role suspends its users). Empty: SyncIds alone say which item is which.
    pub identity: &'static [&'static str],
    /// Fields a diff shows under an item it would create, to tell what the item does (a
    /// permission's filter, a flow's trigger); the label alone names it.
    pub shown_on_create: &'static [&'static str],
}

const AUDIT: [&str; 2] = ["date_created", "user_created"];

const fn relation(path: &'static [&'static str], target: &'static str) -> Relation {
    Relation {
        path,
        target,
        nullable_on_create: false,
    }
}

const fn deferrable(path: &'static [&'static str], target: &'static str) -> Relation {
    Relation {
        path,
        target,
        nullable_on_create: true,
    }
}

const BASE: CollectionSpec = CollectionSpec {
    name: "",
    table: "",
    endpoint: "",
    ignored_fields: &AUDIT,
    relations: &[],
    id_policy: IdPolicy::Uuid,
    sort: SortKey::SyncId,
    label: Label::Field("name"),
    natural_key: NaturalKey::Id,
    filter: None,
    deletable: true,
    update_first: &[],
    unique_links: &[],
    id_fields: "id",
    merged_duplicates: false,
    runner_placeholder: None,
    members: None,
    identity: &[],
    shown_on_create: &[],
};

/// In push order: every collection comes after the collections its relations point to
/// (flows ↔ operations is broken by creating flows with `operation: null`). Deletes run in
/// reverse.
pub static COLLECTIONS: [CollectionSpec; 10] = [
    CollectionSpec {
        name: "roles",
        table: "directus_roles",
        endpoint: "/roles",
        ignored_fields: &["users"],
        runner_placeholder: Some(ADMIN_ROLE_SYNC_ID),
        members: Some(("/users", "role")),
        identity: &["name"],
        shown_on_create: &["admin_access", "app_access"],
        ..BASE
    },
    CollectionSpec {
        name: "folders",
        table: "directus_folders",
        endpoint: "/folders",
        ignored_fields: &[],
        relations: &[deferrable(&["parent"], "folders")],
        id_policy: IdPolicy::AlwaysPreserved,
        shown_on_create: &["parent"],
        ..BASE
    },
    CollectionSpec {
        name: "translations",
        table: "directus_translations",
        endpoint: "/translations",
        ignored_fields: &[],
        label: Label::Translation,
        update_first: &["key"],
        identity: &["language", "key"],
        shown_on_create: &["value"],
        ..BASE
    },
    CollectionSpec {
        name: "flows",
        table: "directus_flows",
        endpoint: "/flows",
        ignored_fields: &["date_created", "user_created", "operations"],
        relations: &[deferrable(&["operation"], "operations")],
        id_policy: IdPolicy::AlwaysPreserved,
        shown_on_create: &["trigger", "status"],
        ..BASE
    },
    CollectionSpec {
        name: "operations",
        table: "directus_operations",
        endpoint: "/operations",
        relations: &[
            relation(&["flow"], "flows"),
            deferrable(&["resolve"], "operations"),
            deferrable(&["reject"], "operations"),
            deferrable(&["options", "flow"], "flows"),
        ],
        sort: SortKey::OperationKey,
        unique_links: &["resolve", "reject"],
        identity: &["flow", "key"],
        shown_on_create: &["type", "resolve", "reject"],
        ..BASE
    },
    CollectionSpec {
        name: "permissions",
        table: "directus_permissions",
        endpoint: "/permissions",
        ignored_fields: &[],
        relations: &[relation(&["role"], "roles")],
        id_policy: IdPolicy::Generated,
        sort: SortKey::PermissionTriple,
        label: Label::Permission,
        natural_key: NaturalKey::Fields(&["role", "collection", "action"]),
        id_fields: "id,role,collection,action",
        merged_duplicates: true,
        identity: &["role", "collection", "action"],
        shown_on_create: &["fields", "permissions", "validation", "presets"],
        ..BASE
    },
    CollectionSpec {
        name: "presets",
        table: "directus_presets",
        endpoint: "/presets",
        ignored_fields: &["user"],
        relations: &[relation(&["role"], "roles")],
        id_policy: IdPolicy::Generated,
        label: Label::Preset,
        natural_key: NaturalKey::None,
        filter: Some(|| serde_json::json!({"user": {"_null": true}})),
        // Presets have no natural key and the database numbers them: a push killed between
        // creating one and recording its id leaves it untracked. The same preset everywhere
        // is the same preset, so the next push takes it over instead of creating a twin.
        identity: &[
            "bookmark",
            "role",
            "collection",
            "search",
            "layout",
            "layout_query",
            "layout_options",
            "refresh_interval",
            "filter",
            "icon",
            "color",
        ],
        shown_on_create: &["collection", "layout", "bookmark"],
        ..BASE
    },
    CollectionSpec {
        name: "dashboards",
        table: "directus_dashboards",
        endpoint: "/dashboards",
        ignored_fields: &["date_created", "user_created", "panels"],
        ..BASE
    },
    CollectionSpec {
        name: "panels",
        table: "directus_panels",
        endpoint: "/panels",
        relations: &[relation(&["dashboard"], "dashboards")],
        shown_on_create: &["type", "dashboard"],
        ..BASE
    },
    CollectionSpec {
        name: "settings",
        table: "directus_settings",
        endpoint: "/settings",
        ignored_fields: &[
            "project_logo",
            "public_foreground",
            "public_background",
            "public_favicon",
            "project_url",
        ],
        relations: &[
            deferrable(&["public_registration_role"], "roles"),
            deferrable(&["storage_default_folder"], "folders"),
        ],
        id_policy: IdPolicy::Singleton,
        label: Label::Singleton,
        natural_key: NaturalKey::Singleton,
        deletable: false,
        ..BASE
    },
];

pub fn spec(name: &str) -> Option<&'static CollectionSpec> {
    COLLECTIONS.iter().find(|spec| spec.name == name)
}

/// The SyncId that stands for the role of the user running the tool, on every instance.
pub const ADMIN_ROLE_SYNC_ID: &str = "__admin__";

/// The placeholder of the collection that has one, for the user running the tool, whose
/// item there is `runner_item` (their role).
pub fn runner_placeholder(runner_item: Option<&str>) -> Option<crate::idmap::Placeholder> {
    let spec = COLLECTIONS
        .iter()
        .find(|spec| spec.runner_placeholder.is_some())?;
    Some(crate::idmap::Placeholder {
        table: spec.name,
        sync_id: spec.runner_placeholder?,
        local_id: runner_item?.to_string(),
    })
}

impl CollectionSpec {
    pub fn keeps_ids(&self, preserve: &PreserveIds) -> bool {
        match self.id_policy {
            IdPolicy::AlwaysPreserved => true,
            IdPolicy::Uuid => preserve.includes(self.name),
            IdPolicy::Generated | IdPolicy::Singleton => false,
        }
    }

    /// The diff label of an item (already in dump form). `names(target, sync_id)` names the
    /// item `sync_id` of the collection `target` a relation points at (a role's name).
    pub fn label(&self, item: &Value, names: &dyn Fn(&str, &str) -> Option<String>) -> ItemLabel {
        let text = |field: &str| match item.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        // The item a relation field points at, by name when `names` knows it, else by SyncId.
        let target = |field: &str, none: &str| match item.get(field) {
            Some(Value::String(id)) => self
                .relations
                .iter()
                .find(|relation| relation.path == [field])
                .and_then(|relation| names(relation.target, id))
                .unwrap_or_else(|| id.clone()),
            _ => none.to_string(),
        };
        let word = |text: String| (text, false);
        let name = |text: String| (text, true);
        ItemLabel::of(match self.label {
            Label::Field(field) => vec![name(text(field))],
            Label::Permission => vec![
                word(target("role", "public")),
                word(format!("{}.{}", text("collection"), text("action"))),
            ],
            Label::Translation => vec![word(text("language")), name(text("key"))],
            Label::Preset => {
                let bookmark = text("bookmark");
                let mut parts = vec![word(target("role", "global")), word(text("collection"))];
                if !bookmark.is_empty() {
                    parts.push(name(bookmark));
                }
                parts
            }
            Label::Singleton => vec![word(self.name.to_string())],
        })
    }

    /// The [`CollectionSpec::shown_on_create`] fields an item has (null ones say nothing), as
    /// text: a relation by the name of the item it points at when `names` knows it (quoted,
    /// like labels), else by SyncId.
    pub fn create_details(
        &self,
        item: &Value,
        names: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Vec<(&'static str, String)> {
        self.shown_on_create
            .iter()
            .filter_map(|field| {
                let value = item.get(*field).filter(|value| !value.is_null())?;
                let text = match (self.target_name(field, value, names), value) {
                    (Some(name), _) => format!("{name:?}"),
                    (None, Value::String(id)) if self.relation_at(field).is_some() => id.clone(),
                    (None, value) => value.to_string(),
                };
                Some((*field, text))
            })
            .collect()
    }

    /// The name of the item a value of `field` points at, when the field is a relation to
    /// an item that has one.
    pub fn target_name(
        &self,
        field: &str,
        value: &Value,
        names: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Option<String> {
        let id = value.as_str()?;
        names(self.relation_at(field)?.target, id)
    }

    fn relation_at(&self, field: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.path == [field])
    }

    /// The order of items in the dump file (a stable sort: equal keys keep their order).
    pub fn sort(&self, items: &mut Vec<Compact>) {
        let mut keyed: Vec<((String, String), Compact)> = items
            .drain(..)
            .map(|item| (self.sort_key(&item.value()), item))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| collate(&a.0, &b.0).then_with(|| collate(&a.1, &b.1)));
        items.extend(keyed.into_iter().map(|(_, item)| item));
    }

    fn sort_key(&self, item: &Value) -> (String, String) {
        let text = |field: &str| match item.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "null".to_string(),
            Some(other) => other.to_string(),
        };
        let sync_id = text("_syncId");
        match self.sort {
            SortKey::SyncId => (sync_id, String::new()),
            SortKey::OperationKey => (text("key"), sync_id),
            SortKey::PermissionTriple => (
                format!("{}-{}-{}", text("role"), text("collection"), text("action")),
                sync_id,
            ),
        }
    }
}

/// The value at `path` inside `item`.
pub fn get_path<'a>(item: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(item, |value, key| value.get(*key))
}

pub fn get_path_mut<'a>(item: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(item, |value, key| value.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relations_point_backwards_in_push_order_unless_deferrable() {
        for (index, spec) in COLLECTIONS.iter().enumerate() {
            for relation in spec.relations {
                let target = COLLECTIONS
                    .iter()
                    .position(|s| s.name == relation.target)
                    .unwrap();
                assert!(
                    target < index || relation.nullable_on_create,
                    "{}.{:?} points at {} which is pushed later",
                    spec.name,
                    relation.path,
                    relation.target
                );
            }
        }
    }

    #[test]
    fn identity_relations_point_backwards_in_push_order() {
        // The plan finds SyncId moves collection by collection in push order: an identity
        // field that is a relation must see the moves of its target's collection already.
        for (index, spec) in COLLECTIONS.iter().enumerate() {
            for field in spec.identity {
                let Some(relation) = spec.relations.iter().find(|r| r.path == [*field]) else {
                    continue;
                };
                let target = COLLECTIONS
                    .iter()
                    .position(|s| s.name == relation.target)
                    .unwrap();
                assert!(target < index, "{}.{field}", spec.name);
            }
        }
    }

    #[test]
    fn permissions_sort_like_locale_compare() {
        let spec = spec("permissions").unwrap();
        let mut items = Compact::all(vec![
            json!({"role": "r", "collection": "foo", "action": "read", "_syncId": "1"}),
            json!({"role": "r", "collection": "foo_bar", "action": "create", "_syncId": "2"}),
            json!({"role": null, "collection": "a", "action": "read", "_syncId": "3"}),
        ]);
        spec.sort(&mut items);
        let ids: Vec<_> = items
            .iter()
            .map(|i| i.field("_syncId").unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["3", "2", "1"]);
    }

    #[test]
    fn creates_show_their_fields_and_name_their_links() {
        let names = |target: &str, id: &str| {
            (target == "operations" && id == "o-mail").then(|| "Send mail".to_string())
        };
        let operation = json!({"key": "log", "type": "log", "resolve": "o-mail",
                               "reject": "o-unknown", "options": {}, "flow": "f"});
        assert_eq!(
            spec("operations")
                .unwrap()
                .create_details(&operation, &names),
            [
                ("type", "\"log\"".to_string()),
                ("resolve", "\"Send mail\"".to_string()),
                ("reject", "o-unknown".to_string()),
            ]
        );
        let permission = json!({"role": "r", "fields": ["*"], "permissions": null});
        assert_eq!(
            spec("permissions")
                .unwrap()
                .create_details(&permission, &names),
            [("fields", "[\"*\"]".to_string())]
        );
    }

    #[test]
    fn labels() {
        let roles = |target: &str, id: &str| {
            (target == "roles" && id == "r1").then(|| "Editor".to_string())
        };
        let permission = json!({"role": "r1", "collection": "articles", "action": "read"});
        assert_eq!(
            spec("permissions")
                .unwrap()
                .label(&permission, &roles)
                .to_string(),
            "Editor articles.read"
        );
        let public = json!({"role": null, "collection": "articles", "action": "read"});
        assert_eq!(
            spec("permissions").unwrap().label(&public, &roles).as_str(),
            "public articles.read"
        );
        let flow = spec("flows")
            .unwrap()
            .label(&json!({"name": "Old"}), &roles);
        assert_eq!(flow.to_string(), "\"Old\"");
        assert_eq!(flow.as_str(), "Old");
        let translation = json!({"language": "fr-FR", "key": "a b"});
        let translation = spec("translations").unwrap().label(&translation, &roles);
        assert_eq!(translation.to_string(), "fr-FR \"a b\"");
        assert_eq!(
            serde_json::to_value(&translation).unwrap(),
            json!("fr-FR a b")
        );
    }
}

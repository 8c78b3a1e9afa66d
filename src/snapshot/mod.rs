//! The schema snapshot: fetched from `/schema/snapshot`, diffed and applied by Directus. Its
//! files in the dump are `dump::snapshot`'s business.

mod changes;

pub use changes::{SchemaChange, SchemaChangeKind, SchemaChanges, SchemaEdit};

use crate::directus::{Client, DirectusError, Request};
use crate::json::Compact;
use reqwest::Method;
use serde_json::{Map, Value};

/// The collections the tool keeps on an instance for itself (where SyncIds are kept, the
/// lock) are bookkeeping, never schema to sync (pushing the extension's table to an instance
/// without the extension fails; reference P12).
pub fn hidden() -> [&'static str; 3] {
    let [extension_table, store] = crate::idmap::IdMapStore::hidden_collections();
    [extension_table, store, crate::lock::COLLECTION]
}

/// The lists of a snapshot; the other keys (`version`, `directus`, `vendor`) describe it.
pub const PARTS: [&str; 3] = ["collections", "fields", "relations"];

/// A JSON object holding the three schema lists, a snapshot or a diff: its other keys in their
/// order, and each list's entries as compact text (a large schema holds thousands of fields,
/// each only worked on alone).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaLists {
    /// The object's keys in Directus' order. A list's key keeps its place here with an empty
    /// list: its entries are in `parts`.
    head: Map<String, Value>,
    /// The entries of each of [`PARTS`].
    parts: [Vec<Compact>; 3],
}

impl SchemaLists {
    /// The lists of a JSON value (anything but an object has none).
    pub fn new(value: Value) -> SchemaLists {
        let head = match value {
            Value::Object(head) => head,
            _ => Map::new(),
        };
        let mut lists = SchemaLists {
            head,
            parts: Default::default(),
        };
        for (index, part) in PARTS.iter().enumerate() {
            if let Some(Value::Array(entries)) = lists.head.get_mut(*part) {
                lists.parts[index] = std::mem::take(entries).iter().map(Compact::new).collect();
            }
        }
        lists
    }

    /// The object as one JSON value.
    pub fn to_value(&self) -> Value {
        let mut value = self.head.clone();
        for (index, part) in PARTS.iter().enumerate() {
            if let Some(Value::Array(entries)) = value.get_mut(*part) {
                *entries = Compact::values(&self.parts[index]);
            }
        }
        Value::Object(value)
    }

    /// The entries of one of [`PARTS`].
    pub fn part(&self, name: &str) -> &[Compact] {
        PARTS
            .iter()
            .position(|part| *part == name)
            .map(|index| self.parts[index].as_slice())
            .unwrap_or_default()
    }

    /// Keeps the entries of every part that `keep` keeps, in their order; `keep` may edit them.
    fn retain_entries(&mut self, mut keep: impl FnMut(&mut Value) -> bool) {
        for entries in &mut self.parts {
            let kept = std::mem::take(entries).into_iter().filter_map(|entry| {
                let mut value = entry.value();
                keep(&mut value).then(|| Compact::new(&value))
            });
            *entries = kept.collect();
        }
    }
}

/// A schema snapshot as Directus shapes it: `{version, directus, vendor, collections, fields,
/// relations}`. Kept as JSON so that fields Directus adds later survive a round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot(SchemaLists);

impl Snapshot {
    pub async fn fetch(client: &Client) -> Result<Snapshot, DirectusError> {
        let mut snapshot: Snapshot = client.get_data("/schema/snapshot").await?;
        snapshot.hide_collections(&hidden());
        Ok(snapshot)
    }

    /// A snapshot of its JSON value.
    pub fn new(value: Value) -> Snapshot {
        Snapshot(SchemaLists::new(value))
    }

    /// The snapshot of `info` (the keys that describe it) followed by its parts.
    pub fn of_parts(mut info: Map<String, Value>, parts: [Vec<Compact>; 3]) -> Snapshot {
        for part in PARTS {
            info.insert(part.to_string(), Value::Array(Vec::new()));
        }
        Snapshot(SchemaLists { head: info, parts })
    }

    /// The whole snapshot as one JSON value (hooks see it so).
    pub fn to_value(&self) -> Value {
        self.0.to_value()
    }

    /// The keys that describe the snapshot (`version`, `directus`, `vendor`...), without the
    /// parts.
    pub fn info(&self) -> Map<String, Value> {
        self.0
            .head
            .iter()
            .filter(|(key, _)| !PARTS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// The database the snapshot was taken of (`sqlite`, `postgres`...).
    pub fn vendor(&self) -> Option<&str> {
        self.0.head.get("vendor").and_then(Value::as_str)
    }

    /// The entries of one of [`PARTS`].
    pub fn part(&self, name: &str) -> &[Compact] {
        self.0.part(name)
    }

    /// Drops collections (with their fields and relations) that must never be synced.
    pub fn hide_collections(&mut self, hidden: &[&str]) {
        self.0
            .retain_entries(|entry| !mentions_hidden(entry, hidden));
    }

    /// Asks Directus what applying this snapshot would change, without the differences it
    /// cannot make on this instance (see [`SchemaComparison::left_out`]).
    pub async fn diff(
        &self,
        client: &Client,
        force: bool,
    ) -> Result<SchemaComparison, DirectusError> {
        // Without `force` first: Directus then says whether the Directus version or the
        // database vendor differs, and only a vendor change makes column types differ.
        let own_vendor = self.vendor();
        let (response, target_vendor) = match self.request_diff(client, false).await {
            Ok(response) => (response, own_vendor.map(str::to_string)),
            Err(DirectusError::Api {
                status: reqwest::StatusCode::BAD_REQUEST,
                message,
                ..
            }) if force && message.contains("does not match the current instance") => {
                let vendor = instance_vendor(&message).or(own_vendor.map(str::to_string));
                (self.request_diff(client, true).await?, vendor)
            }
            Err(other) => return Err(other),
        };
        let Some(DiffAnswer {
            hash,
            diff: Some(mut diff),
        }) = response
        else {
            return Ok(SchemaComparison::default());
        };
        let target = Target {
            vendor: target_vendor.as_deref(),
            dump_vendor: own_vendor,
            cross_vendor: target_vendor.as_deref() != own_vendor,
        };
        let (mut left_out, mut spelt) = (Vec::new(), 0);
        diff.retain_entries(|entry| {
            if mentions_hidden(entry, &hidden()) {
                return false;
            }
            match leave_out_unchangeable(entry, &target) {
                Left::Nothing => {}
                Left::Named(line) => left_out.push(line),
                Left::Spelling => spelt += 1,
            }
            has_records(entry)
        });
        if spelt > 0 {
            tracing::debug!(
                "left out {spelt} schema entries whose only differences are the database vendor's column details"
            );
        }
        let schema_diff = SchemaDiff { hash, diff };
        Ok(SchemaComparison {
            diff: (!schema_diff.changes().is_empty()).then_some(schema_diff),
            left_out,
        })
    }

    /// `None`: Directus sees no difference.
    async fn request_diff(
        &self,
        client: &Client,
        force: bool,
    ) -> Result<Option<DiffAnswer>, DirectusError> {
        let text = serde_json::to_string(self).expect("a snapshot serialises");
        let mut request = Request::new(Method::POST, "/schema/diff").upload(&text);
        if force {
            // Directus treats the mere presence of `force` as true.
            request = request.query("force", "true");
        }
        client.data_of(&request).await
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

/// Field types a database cannot keep: Directus creates the column for the dump's type
/// (first) but reads it back as another (second), as its `getLocalType` maps the column.
/// A uuid without the `uuid` special is a `char(36)` on SQLite and MySQL, read as `string`;
/// SQLite has no `timestamp` column, only `datetime`, read as `dateTime`.
fn types_read_back_as(vendor: &str) -> &'static [(&'static str, &'static str)] {
    match vendor {
        "sqlite" => &[("uuid", "string"), ("timestamp", "dateTime")],
        "mysql" | "mariadb" => &[("uuid", "string")],
        _ => &[],
    }
}

/// The other way round: types a dump from `vendor` names for what a database with native
/// uuids keeps as `uuid` (first: the dump's, second: the target's). A many-to-one to a uuid
/// key pulled from SQLite or MySQL is a `string`; PostgreSQL must give the column the key's
/// own type.
fn types_written_as(vendor: &str) -> &'static [(&'static str, &'static str)] {
    match vendor {
        "sqlite" | "mysql" | "mariadb" => &[("string", "uuid")],
        _ => &[],
    }
}

/// The instance a diff was made against, and the dump's vendor, as far as the diff's records
/// depend on them.
struct Target<'a> {
    vendor: Option<&'a str>,
    dump_vendor: Option<&'a str>,
    cross_vendor: bool,
}

impl Target<'_> {
    /// Why Directus cannot make the difference `record` (one deep-diff record of `entry`),
    /// if it cannot.
    fn cannot_make(&self, entry: &Value, record: &Value) -> Option<Unchangeable> {
        if record.get("kind").and_then(Value::as_str) != Some("E") {
            return None;
        }
        let path: Vec<&str> = record
            .get("path")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("null");
        let (live, wanted) = (text("lhs"), text("rhs"));
        match path.as_slice() {
            ["schema", detail] if self.cross_vendor && VENDOR_SPECIFIC.contains(detail) => {
                Some(Unchangeable::Spelling)
            }
            // Directus derives the column type from the field type: with the same field
            // type on both sides, the column type (`char` for a re-created `varchar`, say)
            // is the database's spelling, not something a push can set.
            ["schema", "data_type"] if !changes_type(entry) => Some(Unchangeable::Other(format!(
                "column type {live} (the dump has {wanted}) follows from the field type"
            ))),
            ["type"] => {
                let vendor = self.vendor?;
                if types_read_back_as(vendor).contains(&(wanted, live)) {
                    return Some(Unchangeable::Other(format!(
                        "{vendor} keeps a {wanted} field as {live}"
                    )));
                }
                let dump_vendor = self.dump_vendor.filter(|_| self.cross_vendor)?;
                types_written_as(dump_vendor)
                    .contains(&(wanted, live))
                    .then(|| {
                        Unchangeable::Other(format!(
                            "a {live} column, which {dump_vendor} dumps as {wanted}"
                        ))
                    })
            }
            _ => None,
        }
    }
}

enum Unchangeable {
    /// A column detail another database spells differently: expected on every cross-vendor
    /// push, counted rather than listed.
    Spelling,
    Other(String),
}

fn changes_type(entry: &Value) -> bool {
    entry
        .get("diff")
        .and_then(Value::as_array)
        .is_some_and(|records| {
            records.iter().any(|record| {
                record.pointer("/path/0").and_then(Value::as_str) == Some("type")
                    && record.get("path").and_then(Value::as_array).map(Vec::len) == Some(1)
            })
        })
}

/// What [`leave_out_unchangeable`] left out of an entry.
#[derive(Debug, PartialEq)]
enum Left {
    Nothing,
    /// Worth naming: one line for the entry.
    Named(String),
    /// Only the other database's spellings.
    Spelling,
}

/// Removes from a diff entry the records Directus cannot make on `target` (an entry left
/// without records is no change to make: see [`has_records`]).
fn leave_out_unchangeable(entry: &mut Value, target: &Target) -> Left {
    let snapshot = entry.clone();
    let mut reasons = Vec::new();
    let mut spelling = false;
    if let Some(Value::Array(records)) = entry.get_mut("diff") {
        records.retain(|record| match target.cannot_make(&snapshot, record) {
            Some(Unchangeable::Spelling) => {
                spelling = true;
                false
            }
            Some(Unchangeable::Other(reason)) => {
                reasons.push(reason);
                false
            }
            None => true,
        });
    }
    if !reasons.is_empty() {
        reasons.dedup();
        Left::Named(format!(
            "{}: {}",
            changes::entry_name(entry),
            reasons.join("; ")
        ))
    } else if spelling {
        Left::Spelling
    } else {
        Left::Nothing
    }
}

/// Whether a diff entry still holds a change (an entry without a `diff` list is kept as
/// Directus sent it).
fn has_records(entry: &Value) -> bool {
    entry
        .get("diff")
        .and_then(Value::as_array)
        .is_none_or(|records| !records.is_empty())
}

/// The vendor Directus names in its "does not match" refusal: "... the current instance's
/// vendor postgres. You can bypass ...".
fn instance_vendor(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("current instance's vendor ")?;
    let vendor: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!vendor.is_empty()).then_some(vendor)
}

/// What `/schema/diff` said, once the differences Directus cannot make are left out.
#[derive(Debug, Clone, Default)]
pub struct SchemaComparison {
    /// `None`: nothing to apply.
    pub diff: Option<SchemaDiff>,
    /// Differences Directus reports but cannot make on this instance (column spellings,
    /// types the database reads back as others): one line per field, never changes to make.
    pub left_out: Vec<String>,
}

/// Directus' answer to `/schema/diff` (its `data`).
#[derive(serde::Deserialize)]
struct DiffAnswer {
    #[serde(default)]
    hash: Value,
    diff: Option<SchemaLists>,
}

/// Directus' answer to `/schema/diff`, sent back unchanged to `/schema/apply`.
#[derive(Debug, Clone)]
pub struct SchemaDiff {
    pub hash: Value,
    pub diff: SchemaLists,
}

impl SchemaDiff {
    /// A diff of its JSON value (`{collections, fields, relations}`).
    pub fn new(hash: Value, diff: Value) -> SchemaDiff {
        SchemaDiff {
            hash,
            diff: SchemaLists::new(diff),
        }
    }

    pub fn changes(&self) -> SchemaChanges {
        SchemaChanges::from_diff(&self.diff)
    }

    pub async fn apply(&self, client: &Client) -> Result<(), DirectusError> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            hash: &'a Value,
            diff: &'a SchemaLists,
        }
        let body = Body {
            hash: &self.hash,
            diff: &self.diff,
        };
        let body = serde_json::to_string(&body).expect("a diff serialises");
        client
            .json(Request::new(Method::POST, "/schema/apply").upload(&body))
            .await?;
        Ok(())
    }
}

/// The change Directus refused when a whole schema diff failed, found by applying the diff
/// a change at a time.
#[derive(Debug)]
pub struct Refused {
    /// Changes applied one at a time before it.
    pub applied: usize,
    /// `field articles.id`, say.
    pub change: String,
    pub error: DirectusError,
}

impl Snapshot {
    /// After `/schema/apply` refused a diff of several changes, with no word of which one
    /// (SQLite says `SQLITE_ERROR`): applies what still differs a change at a time, each from
    /// a fresh diff (the hash Directus checks changes with every apply), until one is
    /// refused. A new collection goes with its fields and relations, which Directus creates
    /// together. `None`: every change went in this time.
    pub async fn find_refused(
        &self,
        client: &Client,
        force: bool,
    ) -> Result<Option<Refused>, DirectusError> {
        let mut applied = 0;
        loop {
            let Some(diff) = self.diff(client, force).await?.diff else {
                return Ok(None);
            };
            let Some((change, single)) = diff.first_change() else {
                return Ok(None);
            };
            match single.apply(client).await {
                Ok(()) => applied += 1,
                Err(error) => {
                    return Ok(Some(Refused {
                        applied,
                        change,
                        error,
                    }));
                }
            }
        }
    }
}

impl SchemaDiff {
    /// The first change of the diff, named, as a diff of its own: a collection with the
    /// fields and relations of the diff that belong to it, else a field, else a relation.
    fn first_change(&self) -> Option<(String, SchemaDiff)> {
        let entries = |part: &str| self.diff.part(part).iter().map(Compact::value);
        let of = |entry: &Value| entry.get("collection").cloned();
        let (name, diff) = if let Some(collection) = entries("collections").next() {
            let same = |entry: &Value| of(entry) == of(&collection);
            let name = format!("collection {}", changes::entry_name(&collection));
            let fields: Vec<Value> = entries("fields").filter(same).collect();
            let relations: Vec<Value> = entries("relations").filter(same).collect();
            let diff = serde_json::json!({"collections": [collection], "fields": fields, "relations": relations});
            (name, diff)
        } else if let Some(field) = entries("fields").next() {
            let name = format!("field {}", changes::entry_name(&field));
            (
                name,
                serde_json::json!({"collections": [], "fields": [field], "relations": []}),
            )
        } else {
            let relation = entries("relations").next()?;
            let name = format!("relation {}", changes::entry_name(&relation));
            (
                name,
                serde_json::json!({"collections": [], "fields": [], "relations": [relation]}),
            )
        };
        Some((name, SchemaDiff::new(self.hash.clone(), diff)))
    }
}

impl serde::Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Snapshot {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SchemaLists::deserialize(deserializer).map(Snapshot)
    }
}

impl serde::Serialize for SchemaLists {
    /// As Directus shapes it: the keys in its order, each part's entries in its place.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.head.len()))?;
        for (key, value) in &self.head {
            match PARTS.iter().position(|part| part == key) {
                Some(index) if value.is_array() => map.serialize_entry(key, &self.parts[index])?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for SchemaLists {
    /// Each entry of a part is compacted as soon as it is read.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = SchemaLists;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object with schema lists")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SchemaLists, A::Error> {
                let mut snapshot = SchemaLists::default();
                while let Some(key) = map.next_key::<String>()? {
                    match PARTS.iter().position(|part| *part == key) {
                        Some(index) => {
                            snapshot.parts[index] =
                                map.next_value_seed(crate::json::CompactItems)?;
                            snapshot.head.insert(key, Value::Array(Vec::new()));
                        }
                        None => {
                            let value = map.next_value_seed(crate::json::ANSWER)?;
                            snapshot.head.insert(key, value);
                        }
                    }
                }
                Ok(snapshot)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

fn mentions_hidden(item: &Value, hidden: &[&str]) -> bool {
    ["collection", "related_collection"].iter().any(|key| {
        item.get(*key)
            .and_then(Value::as_str)
            .is_some_and(|name| hidden.contains(&name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_snapshot_read_entry_by_entry_is_the_snapshot_of_its_value() {
        let value = json!({"version": 1, "collections": [{"collection": "a", "meta": null}],
            "directus": "10.13.1", "fields": [{"collection": "a", "field": "id"}],
            "relations": [], "extra": {"kept": true}});
        let read: Snapshot = serde_json::from_str(&value.to_string()).unwrap();
        assert_eq!(read, Snapshot::new(value.clone()));
        assert_eq!(read.to_value(), value);
        // Serialised in Directus' key order, each part in its place.
        assert_eq!(serde_json::to_string(&read).unwrap(), value.to_string());
        assert_eq!(read.part("fields").len(), 1);
    }

    fn edit(path: &[&str], live: &str, wanted: &str) -> Value {
        json!({"kind": "E", "path": path, "lhs": live, "rhs": wanted})
    }

    fn field(records: Vec<Value>) -> Value {
        json!({"collection": "things", "field": "ref", "diff": records})
    }

    fn target<'a>(vendor: &'a str, dump_vendor: &'a str) -> Target<'a> {
        Target {
            vendor: Some(vendor),
            dump_vendor: Some(dump_vendor),
            cross_vendor: vendor != dump_vendor,
        }
    }

    fn left(entries: Vec<Value>, target: &Target) -> (Vec<Value>, Vec<String>, usize) {
        let (mut named, mut spelt) = (Vec::new(), 0);
        let mut kept = Vec::new();
        for mut entry in entries {
            match leave_out_unchangeable(&mut entry, target) {
                Left::Nothing => {}
                Left::Named(line) => named.push(line),
                Left::Spelling => spelt += 1,
            }
            if has_records(&entry) {
                kept.push(entry);
            }
        }
        (kept, named, spelt)
    }

    #[test]
    fn a_column_type_alone_is_never_a_change_to_make() {
        let char_for_varchar = field(vec![edit(&["schema", "data_type"], "varchar", "char")]);
        let (kept, named, _) = left(vec![char_for_varchar], &target("sqlite", "sqlite"));
        assert!(kept.is_empty());
        assert_eq!(
            named,
            ["things.ref: column type varchar (the dump has char) follows from the field type"]
        );
    }

    #[test]
    fn a_new_field_type_keeps_its_column_type() {
        let retyped = field(vec![
            edit(&["type"], "string", "text"),
            edit(&["schema", "data_type"], "varchar", "text"),
        ]);
        let (kept, named, _) = left(vec![retyped.clone()], &target("sqlite", "sqlite"));
        assert_eq!(kept, [retyped]);
        assert!(named.is_empty());
    }

    #[test]
    fn types_a_database_cannot_keep() {
        let sqlite = target("sqlite", "postgres");
        for (live, wanted) in [("string", "uuid"), ("dateTime", "timestamp")] {
            let (kept, named, _) = left(vec![field(vec![edit(&["type"], live, wanted)])], &sqlite);
            assert!(kept.is_empty(), "{wanted} → {live}");
            assert_eq!(
                named,
                [format!(
                    "things.ref: sqlite keeps a {wanted} field as {live}"
                )]
            );
        }
        let postgres = target("postgres", "sqlite");
        let (kept, _, _) = left(
            vec![field(vec![edit(&["type"], "uuid", "string")])],
            &postgres,
        );
        assert!(kept.is_empty(), "a uuid column SQLite dumps as string");

        // The same pairs are real changes where the database can make them.
        let same = target("postgres", "postgres");
        for (live, wanted) in [
            ("string", "uuid"),
            ("uuid", "string"),
            ("dateTime", "timestamp"),
        ] {
            let entry = field(vec![edit(&["type"], live, wanted)]);
            let (kept, named, _) = left(vec![entry.clone()], &same);
            assert_eq!(kept, [entry], "{live} → {wanted} on postgres");
            assert!(named.is_empty());
        }
        let entry = field(vec![edit(&["type"], "string", "integer")]);
        let (kept, _, _) = left(vec![entry.clone()], &sqlite);
        assert_eq!(kept, [entry], "a real type change stays");
    }

    #[test]
    fn cross_vendor_spellings_are_counted_not_named() {
        let entries = vec![
            field(vec![edit(&["schema", "max_length"], "null", "36")]),
            field(vec![
                edit(&["schema", "numeric_precision"], "24", "null"),
                edit(&["meta", "note"], "old", "new"),
            ]),
        ];
        let (kept, named, spelt) = left(entries, &target("postgres", "sqlite"));
        assert_eq!(kept, [field(vec![edit(&["meta", "note"], "old", "new")])]);
        assert!(named.is_empty());
        assert_eq!(spelt, 2);
        let same = field(vec![edit(&["schema", "max_length"], "100", "200")]);
        let (kept, _, _) = left(vec![same.clone()], &target("sqlite", "sqlite"));
        assert_eq!(kept, [same], "a length is a change on the same database");
    }

    #[test]
    fn the_vendor_directus_names_in_its_refusal() {
        let message = "Invalid payload. Provided snapshot's vendor sqlite does not match the \
                       current instance's vendor postgres. You can bypass this check by passing \
                       the \"force\" query parameter.";
        assert_eq!(instance_vendor(message).as_deref(), Some("postgres"));
        assert_eq!(
            instance_vendor("Provided snapshot's directus version 10.12.0 does not match"),
            None
        );
    }
}

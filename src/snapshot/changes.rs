//! A readable summary of Directus' schema diff (deep-diff records per collection, field and
//! relation).

use super::SchemaLists;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaChangeKind {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaChange {
    pub kind: SchemaChangeKind,
    /// `collection`, `collection.field` or `collection.field` (relations).
    pub name: String,
    /// For updates: the changed paths, e.g. `meta.note`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// For updates: each change with its values, in Directus' order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<SchemaEdit>,
}

/// One deep-diff record of an update: `old` is `None` where the path was unset (a new key),
/// `new` is `None` where it goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaEdit {
    /// `meta.note`; an element of a list as `meta.options.choices[2]`.
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SchemaChanges {
    pub collections: Vec<SchemaChange>,
    pub fields: Vec<SchemaChange>,
    pub relations: Vec<SchemaChange>,
}

impl SchemaChanges {
    pub fn from_diff(diff: &SchemaLists) -> SchemaChanges {
        let part = |name: &str| -> Vec<SchemaChange> {
            let entries = diff.part(name).iter();
            entries.map(|entry| change_of(&entry.value())).collect()
        };
        SchemaChanges {
            collections: part("collections"),
            fields: part("fields"),
            relations: part("relations"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        self.collections.len() + self.fields.len() + self.relations.len()
    }

    pub fn parts(&self) -> [(&'static str, &[SchemaChange]); 3] {
        [
            ("collection", &self.collections),
            ("field", &self.fields),
            ("relation", &self.relations),
        ]
    }

    pub fn count(&self, kind: SchemaChangeKind) -> usize {
        self.parts()
            .iter()
            .flat_map(|(_, changes)| changes.iter())
            .filter(|c| c.kind == kind)
            .count()
    }
}

/// `collection` or `collection.field`: how an entry of a schema diff is named to people.
pub(super) fn entry_name(entry: &Value) -> String {
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    match (text("collection"), text("field")) {
        (Some(c), Some(f)) => format!("{c}.{f}"),
        (Some(c), None) => c.to_string(),
        _ => "?".to_string(),
    }
}

fn change_of(entry: &Value) -> SchemaChange {
    let name = entry_name(entry);
    let records = entry
        .get("diff")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let whole = |kind: &str| {
        records.len() == 1
            && records[0].get("kind").and_then(Value::as_str) == Some(kind)
            && records[0]
                .get("path")
                .is_none_or(|p| p.as_array().is_none_or(Vec::is_empty))
    };
    let kind = if whole("N") {
        SchemaChangeKind::Create
    } else if whole("D") {
        SchemaChangeKind::Delete
    } else {
        SchemaChangeKind::Update
    };
    let mut paths: Vec<String> = Vec::new();
    let mut edits = Vec::new();
    if kind == SchemaChangeKind::Update {
        for record in records {
            let path = record
                .get("path")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .map(|s| match s {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default();
            edits.push(edit_of(record, &path));
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    SchemaChange {
        kind,
        name,
        paths,
        edits,
    }
}

/// The values of one deep-diff record: `E` edits, `N` adds, `D` removes, `A` changes the
/// element `index` of a list, described by its own record under `item`.
fn edit_of(record: &Value, path: &str) -> SchemaEdit {
    match (
        record.get("kind").and_then(Value::as_str),
        record.get("item"),
    ) {
        (Some("A"), Some(item)) => {
            let index = record
                .get("index")
                .map(Value::to_string)
                .unwrap_or_default();
            edit_of(item, &format!("{path}[{index}]"))
        }
        _ => SchemaEdit {
            path: path.to_string(),
            old: record.get("lhs").cloned(),
            new: record.get("rhs").cloned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_deep_diff_records() {
        let diff = json!({
            "collections": [{"collection": "articles", "diff": [{"kind": "N", "rhs": {}}]}],
            "fields": [
                {"collection": "articles", "field": "title", "diff": [{"kind": "N", "rhs": {}}]},
                {"collection": "old", "field": "x", "diff": [{"kind": "D", "lhs": {}}]},
                {"collection": "a", "field": "b", "diff": [
                    {"kind": "E", "path": ["meta", "note"], "lhs": null, "rhs": "n"},
                    {"kind": "E", "path": ["schema", "max_length"], "lhs": 1, "rhs": 2}]}
            ],
            "relations": []
        });
        let changes = SchemaChanges::from_diff(&SchemaLists::new(diff.clone()));
        assert_eq!(changes.len(), 4);
        assert_eq!(changes.collections[0].kind, SchemaChangeKind::Create);
        assert_eq!(changes.fields[1].kind, SchemaChangeKind::Delete);
        assert_eq!(changes.fields[2].paths, ["meta.note", "schema.max_length"]);
        assert_eq!(
            changes.fields[2].edits,
            [
                SchemaEdit {
                    path: "meta.note".into(),
                    old: Some(Value::Null),
                    new: Some(json!("n")),
                },
                SchemaEdit {
                    path: "schema.max_length".into(),
                    old: Some(json!(1)),
                    new: Some(json!(2)),
                },
            ]
        );
        assert_eq!(changes.count(SchemaChangeKind::Create), 2);
    }

    #[test]
    fn list_elements_and_new_keys_keep_their_values() {
        let diff = json!({"fields": [{"collection": "a", "field": "b", "diff": [
            {"kind": "A", "path": ["meta", "options", "choices"], "index": 2,
             "item": {"kind": "N", "rhs": {"text": "Draft"}}},
            {"kind": "N", "path": ["meta", "note"], "rhs": "new"},
            {"kind": "D", "path": ["meta", "translations"], "lhs": []}]}]});
        let change = &SchemaChanges::from_diff(&SchemaLists::new(diff.clone())).fields[0];
        assert_eq!(change.kind, SchemaChangeKind::Update);
        let edits: Vec<(&str, Option<&Value>, Option<&Value>)> = change
            .edits
            .iter()
            .map(|e| (e.path.as_str(), e.old.as_ref(), e.new.as_ref()))
            .collect();
        assert_eq!(
            edits,
            [
                (
                    "meta.options.choices[2]",
                    None,
                    Some(&json!({"text": "Draft"}))
                ),
                ("meta.note", None, Some(&json!("new"))),
                ("meta.translations", Some(&json!([])), None),
            ]
        );
    }
}

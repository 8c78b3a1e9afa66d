//! What a plan would destroy that git cannot give back: the content of dropped collections and
//! fields, and the role of users whose role is deleted (Directus suspends them). Found from
//! the plan and counted on the instance, so that push can ask for consent first.

use super::{Action, Plan};
use crate::directus::{Client, DirectusError, Request};
use crate::json::Compact;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DataLoss {
    /// The collection's table goes, with every row.
    #[serde(rename_all = "camelCase")]
    DropCollection { collection: String, rows: u64 },
    /// The column goes, with every value in it.
    #[serde(rename_all = "camelCase")]
    DropField {
        collection: String,
        field: String,
        rows: u64,
    },
    /// Users of a deleted role lose it: Directus suspends them.
    #[serde(rename_all = "camelCase")]
    DeleteRole {
        #[serde(rename = "syncId")]
        sync_id: String,
        role: String,
        users: Vec<String>,
    },
}

impl DataLoss {
    /// The tracked item whose deletion is this loss, as (collection, SyncId): how a
    /// renderer flags the item's own line without knowing which collections lose data.
    pub fn deleted_item(&self) -> Option<(&'static str, &str)> {
        match self {
            DataLoss::DeleteRole { sync_id, .. } => Some(("roles", sync_id)),
            DataLoss::DropCollection { .. } | DataLoss::DropField { .. } => None,
        }
    }

    /// One line for the plan's text.
    pub fn describe(&self) -> String {
        let rows = |n: u64| match n {
            1 => "1 row".to_string(),
            n => format!("{n} rows"),
        };
        match self {
            DataLoss::DropCollection {
                collection,
                rows: n,
            } => {
                format!("dropping collection {collection} deletes its {}", rows(*n))
            }
            DataLoss::DropField {
                collection,
                field,
                rows: n,
            } => format!(
                "dropping field {collection}.{field} deletes its values in {}",
                rows(*n)
            ),
            DataLoss::DeleteRole { role, users, .. } => {
                let shown: Vec<&str> = users.iter().take(5).map(String::as_str).collect();
                let more = match users.len() > 5 {
                    true => format!(" and {} more", users.len() - 5),
                    false => String::new(),
                };
                format!(
                    "deleting role {role:?} suspends {} user{}: {}{more}",
                    users.len(),
                    if users.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                )
            }
        }
    }
}

/// Schema deletions, as `(collection, Some(field) | None)` with whether a column goes.
fn dropped(plan: &Plan) -> Vec<(String, Option<String>)> {
    let Some(schema) = &plan.schema else {
        return Vec::new();
    };
    // One entry parsed at a time: a first push creates every field, megabytes as trees.
    let entries = |part: &str| schema.diff.part(part).iter().map(Compact::value);
    let deleted = |entry: &Value| {
        let records = entry.get("diff").and_then(Value::as_array);
        records.is_some_and(|r| {
            r.len() == 1
                && r[0].get("kind").and_then(Value::as_str) == Some("D")
                && r[0]
                    .get("path")
                    .is_none_or(|p| p.as_array().is_none_or(Vec::is_empty))
        })
    };
    let text =
        |entry: &Value, key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    let collections: Vec<String> = entries("collections")
        .filter(|e| deleted(e))
        // A collection without a table (a folder of the admin app) holds no rows.
        .filter(|e| {
            e.pointer("/diff/0/lhs/schema")
                .is_some_and(|s| !s.is_null())
        })
        .filter_map(|e| text(&e, "collection"))
        .collect();
    let mut out: Vec<(String, Option<String>)> =
        collections.iter().map(|c| (c.clone(), None)).collect();
    for entry in entries("fields") {
        let (Some(collection), Some(field)) = (text(&entry, "collection"), text(&entry, "field"))
        else {
            continue;
        };
        // Alias fields (o2m, presentation) have no column; a dropped table counts once.
        let column = match deleted(&entry) {
            true => entry
                .pointer("/diff/0/lhs/schema")
                .is_some_and(|s| !s.is_null()),
            false => loses_its_column(&entry),
        };
        if column && !collections.contains(&collection) {
            out.push((collection, Some(field)));
        }
    }
    out
}

/// An update of a field that takes its column away: `schema` removed, or set to `null`
/// (the field becomes an alias and Directus drops the column with its values).
fn loses_its_column(entry: &Value) -> bool {
    let records = entry.get("diff").and_then(Value::as_array);
    records.into_iter().flatten().any(|record| {
        let path: Vec<&str> = record
            .get("path")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let kind = record.get("kind").and_then(Value::as_str);
        let had_column = record.get("lhs").is_some_and(|lhs| !lhs.is_null());
        path == ["schema"]
            && had_column
            && (kind == Some("D")
                || (kind == Some("E") && record.get("rhs").is_some_and(Value::is_null)))
    })
}

/// The REST endpoint of a collection's items (`directus_users` is served at `/users`).
fn items_endpoint(collection: &str) -> Result<String, DirectusError> {
    match collection.strip_prefix("directus_") {
        Some(system) => crate::directus::path(&[system]),
        None => crate::directus::path(&["items", collection]),
    }
}

async fn count(
    client: &Client,
    collection: &str,
    field: Option<&str>,
) -> Result<u64, DirectusError> {
    let endpoint = items_endpoint(collection)?;
    let request =
        Request::new(Method::GET, &endpoint).query("aggregate[count]", field.unwrap_or("*"));
    let answer = client.json(request).await?;
    let value = answer
        .as_array()
        .and_then(|rows| rows.first())
        .and_then(|row| row.get("count"))
        .map(|count| match (count, field) {
            (Value::Object(per_field), Some(field)) => {
                per_field.get(field).cloned().unwrap_or(Value::Null)
            }
            (other, _) => other.clone(),
        })
        .unwrap_or(Value::Null);
    Ok(value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0))
}

/// Finds and counts what `plan` would destroy on the instance it was built against.
pub async fn assess(client: &Client, plan: &Plan) -> Result<Vec<DataLoss>, DirectusError> {
    let mut losses = Vec::new();
    for (collection, field) in dropped(plan) {
        let rows = count(client, &collection, field.as_deref()).await?;
        losses.push(match field {
            None => DataLoss::DropCollection { collection, rows },
            Some(field) => DataLoss::DropField {
                collection,
                field,
                rows,
            },
        });
    }
    for changes in &plan.collections {
        let Some((endpoint, field)) = changes.spec.members else {
            continue;
        };
        let deleted: Vec<(&str, &str, &str)> = changes
            .items
            .iter()
            .filter_map(|change| match &change.action {
                Action::Delete { local_id } => Some((
                    local_id.as_str(),
                    change.sync_id.as_str(),
                    change.label.as_str(),
                )),
                _ => None,
            })
            .collect();
        if deleted.is_empty() {
            continue;
        }
        let ids: Vec<&str> = deleted.iter().map(|(id, _, _)| *id).collect();
        let filter = json!({ field: {"_in": ids} });
        let mut request = Request::new(Method::GET, endpoint);
        request.query = vec![
            ("filter".into(), filter.to_string()),
            ("fields".into(), format!("email,{field}")),
            ("limit".into(), "-1".into()),
        ];
        let members = client.json(request).await?;
        for (local_id, sync_id, label) in deleted {
            let users: Vec<String> = members
                .as_array()
                .into_iter()
                .flatten()
                .filter(|user| crate::idmap::id_string(&user[field]).as_deref() == Some(local_id))
                .map(|user| user["email"].as_str().unwrap_or("(no email)").to_string())
                .collect();
            if !users.is_empty() {
                losses.push(DataLoss::DeleteRole {
                    sync_id: sync_id.to_string(),
                    role: label.to_string(),
                    users,
                });
            }
        }
    }
    Ok(losses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::SchemaDiff;

    fn plan(diff: Value) -> Plan {
        Plan {
            schema: Some(SchemaDiff::new(Value::Null, diff)),
            ..Plan::default()
        }
    }

    #[test]
    fn dropped_tables_and_columns_count_aliases_do_not() {
        let diff = json!({
            "collections": [
                {"collection": "old", "diff": [{"kind": "D", "lhs": {"collection": "old", "schema": {"name": "old"}}}]},
                {"collection": "folder", "diff": [{"kind": "D", "lhs": {"collection": "folder", "schema": null}}]}
            ],
            "fields": [
                {"collection": "old", "field": "id", "diff": [{"kind": "D", "lhs": {"schema": {"name": "id"}}}]},
                {"collection": "articles", "field": "body", "diff": [{"kind": "D", "lhs": {"schema": {"name": "body"}}}]},
                {"collection": "articles", "field": "tags", "diff": [{"kind": "D", "lhs": {"schema": null}}]},
                {"collection": "authors", "field": "name", "diff": [{"kind": "E", "path": ["schema"], "lhs": {"name": "name"}, "rhs": null}]},
                {"collection": "articles", "field": "rating", "diff": [{"kind": "D", "path": ["schema"], "lhs": {"name": "rating"}}]},
                {"collection": "articles", "field": "title", "diff": [{"kind": "E", "path": ["schema", "max_length"], "lhs": 255, "rhs": 100}]}
            ],
            "relations": []
        });
        assert_eq!(
            dropped(&plan(diff)),
            [
                ("old".to_string(), None),
                ("articles".to_string(), Some("body".to_string())),
                ("authors".to_string(), Some("name".to_string())),
                ("articles".to_string(), Some("rating".to_string())),
            ]
        );
    }
}

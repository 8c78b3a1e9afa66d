//! The OpenAPI spec of an instance as the dump keeps it: without the hidden collections, without
//! the instance's URL, and with the parts Directus lists per collection or per column sorted.

use crate::collections::collate;
use crate::json::to_dump_string;
use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Written instead of each `servers[].url`: Directus puts the URL the request came to (or
/// `PUBLIC_URL`) there, so every environment's spec would differ from every other's. A
/// reserved `.example` name, so that no tool reading the file reaches a real host.
pub const SERVER_URL: &str = "http://directus.example";

/// The spec Directus served (`GET /server/specs/oas`), normalised and in the dump's JSON
/// format; `None` when it is not JSON. At scale the spec is the largest response of a pull
/// (megabytes of text, ten times that as a tree): it is taken apart only at its top levels,
/// and each path and schema is parsed, normalised and written on its own, so that no tree
/// of the whole spec is ever held. Anything that is not an OpenAPI object is written as it is.
pub fn normalized(served: &str, hidden: &[&str]) -> Option<String> {
    let Ok(root) = serde_json::from_str::<Entries>(served) else {
        return crate::json::parse_answer(served)
            .ok()
            .map(|value| to_dump_string(&value));
    };
    let mut tags = root.get("tags").and_then(|raw| parse(raw));
    let hidden_tags = tags
        .as_mut()
        .map(|tags| remove_tags(tags, hidden))
        .unwrap_or_default();
    let components = root.get("components").and_then(|raw| entries(raw));
    let schemas = components
        .as_ref()
        .and_then(|components| entries(components.get("schemas")?));
    // The `$ref`s of the schemas removed, to drop wherever they appear.
    let mut removed = HashSet::new();
    let kept_schemas = schemas.map(|schemas| {
        let mut kept: Vec<(&str, &RawValue)> = Vec::new();
        for (name, raw) in &schemas {
            let gone = hidden_tags.contains(name)
                || parse(raw).is_some_and(|schema| is_hidden_collection(&schema, hidden));
            if gone {
                removed.insert(format!("{SCHEMAS_REF}{name}"));
            } else {
                kept.push((name, raw));
            }
        }
        kept.sort_by(|a, b| collate(a.0, b.0));
        kept.into_iter()
            .map(|(name, raw)| (name.to_string(), raw))
            .collect::<Vec<_>>()
    });
    if let Some(tags) = &mut tags {
        drop_refs(tags, &removed);
    }

    let mut out = String::with_capacity(served.len() * 2);
    let value = |out: &mut String, raw: &RawValue, depth: usize| match parse(raw) {
        Some(mut value) => {
            drop_refs(&mut value, &removed);
            write_at(out, &value, depth);
        }
        None => out.push_str(raw.get()),
    };
    let top: Vec<(&str, &RawValue)> = root.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    write_object(&mut out, 0, &top, |out, key, raw, depth| match key {
        "tags" if tags.is_some() => write_at(out, tags.as_ref().expect("tags"), depth),
        "servers" => match parse(raw) {
            Some(mut servers) => {
                replace_urls(&mut servers);
                drop_refs(&mut servers, &removed);
                write_at(out, &servers, depth);
            }
            None => out.push_str(raw.get()),
        },
        "paths" => match entries(raw) {
            Some(paths) => {
                let mut kept: Vec<(&str, &RawValue)> = paths
                    .iter()
                    .filter(|(path, _)| !hidden.iter().any(|c| is_items_path(path, c)))
                    .map(|(path, raw)| (path.as_str(), *raw))
                    .collect();
                kept.sort_by(|a, b| collate(a.0, b.0));
                write_object(out, depth, &kept, |out, _, raw, depth| {
                    value(out, raw, depth)
                });
            }
            None => value(out, raw, depth),
        },
        "components" => match (&components, &kept_schemas) {
            (Some(components), Some(schemas)) => {
                let inner: Vec<(&str, &RawValue)> =
                    components.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                write_object(out, depth, &inner, |out, key, raw, depth| match key {
                    "schemas" => {
                        let schemas: Vec<(&str, &RawValue)> =
                            schemas.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                        write_object(out, depth, &schemas, |out, _, raw, depth| {
                            match parse(raw) {
                                Some(mut schema) => {
                                    sort_schema(&mut schema);
                                    drop_refs(&mut schema, &removed);
                                    write_at(out, &schema, depth);
                                }
                                None => out.push_str(raw.get()),
                            }
                        });
                    }
                    _ => value(out, raw, depth),
                });
            }
            _ => value(out, raw, depth),
        },
        _ => value(out, raw, depth),
    });
    out.push('\n');
    Some(out)
}

const SCHEMAS_REF: &str = "#/components/schemas/";

/// An object's entries in their order, each value still text.
type Entries<'a> = IndexMap<String, &'a RawValue>;

fn entries(raw: &RawValue) -> Option<Entries<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// A piece of what Directus served, read as it reads its own answers.
fn parse(raw: &RawValue) -> Option<Value> {
    crate::json::parse_answer(raw.get()).ok()
}

fn replace_urls(servers: &mut Value) {
    if let Value::Array(servers) = servers {
        for server in servers.iter_mut().filter_map(Value::as_object_mut) {
            if server.contains_key("url") {
                server.insert("url".into(), SERVER_URL.into());
            }
        }
    }
}

/// `value` as [`to_dump_string`] writes it, nested `depth` levels deep (no final newline).
fn write_at(out: &mut String, value: &Value, depth: usize) {
    let text = to_dump_string(value);
    for (index, line) in text.trim_end_matches('\n').split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
            indent(out, depth);
        }
        out.push_str(line);
    }
}

fn indent(out: &mut String, depth: usize) {
    (0..depth).for_each(|_| out.push_str("  "));
}

/// An object as [`to_dump_string`] writes it at `depth`, each entry's value written by
/// `value(out, key, raw, depth)`.
fn write_object(
    out: &mut String,
    depth: usize,
    entries: &[(&str, &RawValue)],
    mut value: impl FnMut(&mut String, &str, &RawValue, usize),
) {
    if entries.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (index, (key, raw)) in entries.iter().enumerate() {
        indent(out, depth + 1);
        write_at(out, &Value::String(key.to_string()), depth + 1);
        out.push_str(": ");
        value(out, key, raw, depth + 1);
        if index + 1 < entries.len() {
            out.push(',');
        }
        out.push('\n');
    }
    indent(out, depth);
    out.push('}');
}

/// Drops the tags of hidden collections (`x-collection`) and sorts the others by name, since
/// Directus lists them in the order of the instance's collections. Returns the dropped names,
/// which are also the names of their schemas (`ItemsSyncIDMap`).
fn remove_tags(tags: &mut Value, hidden: &[&str]) -> HashSet<String> {
    let mut removed = HashSet::new();
    let Value::Array(tags) = tags else {
        return removed;
    };
    tags.retain(|tag| {
        let gone = is_hidden_collection(tag, hidden);
        if gone && let Some(name) = tag.get("name").and_then(Value::as_str) {
            removed.insert(name.to_string());
        }
        !gone
    });
    let name = |tag: &Value| {
        tag.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    tags.sort_by(|a, b| collate(&name(a), &name(b)));
    removed
}

fn is_hidden_collection(value: &Value, hidden: &[&str]) -> bool {
    value
        .get("x-collection")
        .and_then(Value::as_str)
        .is_some_and(|collection| hidden.contains(&collection))
}

/// `/items/<collection>` and the paths below it.
fn is_items_path(path: &str, collection: &str) -> bool {
    path.strip_prefix("/items/")
        .and_then(|rest| rest.strip_prefix(collection))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Removes every `{"$ref": …}` to a removed schema: a relation of another collection to a
/// hidden one keeps its other `oneOf` choices.
fn drop_refs(value: &mut Value, removed: &HashSet<String>) {
    if removed.is_empty() {
        return;
    }
    let is_removed = |value: &Value| {
        value
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|reference| removed.contains(reference))
    };
    match value {
        Value::Object(object) => {
            object.retain(|_, v| !is_removed(v));
            object.values_mut().for_each(|v| drop_refs(v, removed));
        }
        Value::Array(items) => {
            items.retain(|v| !is_removed(v));
            items.iter_mut().for_each(|v| drop_refs(v, removed));
        }
        _ => {}
    }
}

/// A schema's `properties` follow the collection's columns, and the `$ref` choices of a
/// many-to-any `oneOf` the instance's collections: both sorted, nested schemas too.
fn sort_schema(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        sort(properties);
        properties.values_mut().for_each(sort_schema);
    }
    if let Some(items) = object.get_mut("items") {
        sort_schema(items);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(choices)) = object.get_mut(key) {
            // Stable: the choices that are not references keep their place, first.
            let reference = |v: &Value| v.get("$ref").and_then(Value::as_str).map(str::to_string);
            choices.sort_by(|a, b| match (reference(a), reference(b)) {
                (Some(a), Some(b)) => collate(&a, &b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            });
            choices.iter_mut().for_each(sort_schema);
        }
    }
}

fn sort(map: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    entries.sort_by(|a, b| collate(&a.0, &b.0));
    map.extend(entries);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items_paths(collection: &str, tag: &str) -> Value {
        let reference = json!({"$ref": format!("#/components/schemas/{tag}")});
        json!({
            format!("/items/{collection}"): {
                "get": {"tags": [tag], "operationId": format!("read{tag}"),
                        "responses": {"200": {"content": {"application/json": {"schema":
                            {"properties": {"data": {"items": reference}}}}}}}},
            },
            format!("/items/{collection}/{{id}}"): {
                "delete": {"tags": [tag], "operationId": format!("deleteSingle{tag}")},
            },
        })
    }

    /// `GET /server/specs/oas` of an instance whose `sync_id_map` was created before
    /// `articles`, cut down; `articles.map` is a many-to-one to the id map.
    fn served() -> Value {
        let mut paths =
            json!({"/server/ping": {"get": {"tags": ["Server"], "operationId": "ping"}}});
        for (collection, tag) in [
            ("sync_id_map", "ItemsSyncIDMap"),
            ("sync_id_map_notes", "ItemsSyncIDMapNotes"),
            ("articles", "ItemsArticles"),
        ] {
            let extra = items_paths(collection, tag);
            paths
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
        }
        json!({
            "openapi": "3.0.1",
            "info": {"title": "Dynamic API Specification", "version": "10.13.1"},
            "servers": [{"url": "http://127.0.0.1:8055", "description": "Your current Directus instance."}],
            "paths": paths,
            "tags": [
                {"name": "Server"},
                {"name": "ItemsSyncIDMap", "x-collection": "sync_id_map"},
                {"name": "ItemsSyncIDMapNotes", "x-collection": "sync_id_map_notes"},
                {"name": "ItemsArticles", "x-collection": "articles", "description": "Blog posts"},
            ],
            "components": {
                "schemas": {
                    "Query": {"type": "object"},
                    "ItemsSyncIDMap": {"type": "object", "properties": {"id": {"type": "integer"}},
                                       "x-collection": "sync_id_map"},
                    "ItemsSyncIDMapNotes": {"type": "object", "properties": {"id": {"type": "integer"}},
                                            "x-collection": "sync_id_map_notes"},
                    "ItemsArticles": {"type": "object", "x-collection": "articles", "properties": {
                        "title": {"nullable": true, "type": "string"},
                        "id": {"nullable": false, "type": "string", "format": "uuid"},
                        "map": {"nullable": true, "oneOf": [{"type": "integer"},
                                                            {"$ref": "#/components/schemas/ItemsSyncIDMap"}]},
                        "any": {"type": "array", "items": {"oneOf": [
                            {"type": "string"},
                            {"$ref": "#/components/schemas/ItemsSyncIDMapNotes"},
                            {"$ref": "#/components/schemas/ItemsArticles"}]}},
                    }},
                },
                "parameters": {"Meta": {"name": "meta"}},
            },
        })
    }

    #[test]
    fn hidden_collections_and_the_url_leave_no_trace() {
        let spec = normalized(
            &served().to_string(),
            &["sync_id_map", "directus_sync_id_map"],
        );
        insta::assert_snapshot!(spec.unwrap(), @r##"
        {
          "openapi": "3.0.1",
          "info": {
            "title": "Dynamic API Specification",
            "version": "10.13.1"
          },
          "servers": [
            {
              "url": "http://directus.example",
              "description": "Your current Directus instance."
            }
          ],
          "paths": {
            "/items/articles": {
              "get": {
                "tags": [
                  "ItemsArticles"
                ],
                "operationId": "readItemsArticles",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "properties": {
                            "data": {
                              "items": {
                                "$ref": "#/components/schemas/ItemsArticles"
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            },
            "/items/articles/{id}": {
              "delete": {
                "tags": [
                  "ItemsArticles"
                ],
                "operationId": "deleteSingleItemsArticles"
              }
            },
            "/items/sync_id_map_notes": {
              "get": {
                "tags": [
                  "ItemsSyncIDMapNotes"
                ],
                "operationId": "readItemsSyncIDMapNotes",
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "properties": {
                            "data": {
                              "items": {
                                "$ref": "#/components/schemas/ItemsSyncIDMapNotes"
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            },
            "/items/sync_id_map_notes/{id}": {
              "delete": {
                "tags": [
                  "ItemsSyncIDMapNotes"
                ],
                "operationId": "deleteSingleItemsSyncIDMapNotes"
              }
            },
            "/server/ping": {
              "get": {
                "tags": [
                  "Server"
                ],
                "operationId": "ping"
              }
            }
          },
          "tags": [
            {
              "name": "ItemsArticles",
              "x-collection": "articles",
              "description": "Blog posts"
            },
            {
              "name": "ItemsSyncIDMapNotes",
              "x-collection": "sync_id_map_notes"
            },
            {
              "name": "Server"
            }
          ],
          "components": {
            "schemas": {
              "ItemsArticles": {
                "type": "object",
                "x-collection": "articles",
                "properties": {
                  "any": {
                    "type": "array",
                    "items": {
                      "oneOf": [
                        {
                          "type": "string"
                        },
                        {
                          "$ref": "#/components/schemas/ItemsArticles"
                        },
                        {
                          "$ref": "#/components/schemas/ItemsSyncIDMapNotes"
                        }
                      ]
                    }
                  },
                  "id": {
                    "nullable": false,
                    "type": "string",
                    "format": "uuid"
                  },
                  "map": {
                    "nullable": true,
                    "oneOf": [
                      {
                        "type": "integer"
                      }
                    ]
                  },
                  "title": {
                    "nullable": true,
                    "type": "string"
                  }
                }
              },
              "ItemsSyncIDMapNotes": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer"
                  }
                },
                "x-collection": "sync_id_map_notes"
              },
              "Query": {
                "type": "object"
              }
            },
            "parameters": {
              "Meta": {
                "name": "meta"
              }
            }
          }
        }
        "##);
    }

    #[test]
    fn the_order_of_creation_does_not_show() {
        let one = served();
        let mut other = served();
        for key in ["paths", "tags"] {
            let reversed = match &other[key] {
                Value::Object(map) => Value::Object(map.clone().into_iter().rev().collect()),
                Value::Array(list) => Value::Array(list.iter().rev().cloned().collect()),
                _ => unreachable!(),
            };
            other[key] = reversed;
        }
        let properties = &mut other["components"]["schemas"]["ItemsArticles"]["properties"];
        *properties = Value::Object(
            properties
                .as_object()
                .unwrap()
                .clone()
                .into_iter()
                .rev()
                .collect(),
        );
        other["servers"][0]["url"] = "https://prod.example.com/directus".into();
        let one = normalized(&one.to_string(), &["sync_id_map"]).unwrap();
        assert_eq!(
            one,
            normalized(&other.to_string(), &["sync_id_map"]).unwrap()
        );
    }

    /// Written piece by piece, the spec has the bytes `to_dump_string` gives the whole tree,
    /// and a normalised spec stays as it is.
    #[test]
    fn the_pieces_are_written_as_the_whole_would_be() {
        let mut spec = served();
        spec["paths"]["/items/articles"]["get"]["x-\"quoted\" é"] =
            json!([[], {}, [1.5, -0.0, 1e21]]);
        spec["components"]["responses"] = json!({});
        spec["x-empty"] = json!({});
        let once = normalized(&spec.to_string(), &["sync_id_map"]).unwrap();
        let tree = crate::json::parse(&once).unwrap();
        assert_eq!(once, to_dump_string(&tree));
        assert_eq!(
            normalized(&tree.to_string(), &["sync_id_map"]).unwrap(),
            once
        );
        let empty = json!({"paths": {}, "components": {"schemas": {}}});
        assert_eq!(
            normalized(&empty.to_string(), &[]).unwrap(),
            to_dump_string(&empty)
        );
    }

    #[test]
    fn anything_else_is_left_alone() {
        let text = normalized("\"not a spec\"", &["sync_id_map"]);
        assert_eq!(text.as_deref(), Some("\"not a spec\"\n"));
        assert_eq!(normalized("<html>", &["sync_id_map"]), None);
        assert!(is_items_path("/items/sync_id_map/{id}", "sync_id_map"));
        assert!(!is_items_path("/items/sync_id_map_notes", "sync_id_map"));
        assert!(!is_items_path("/utils/sync_id_map", "sync_id_map"));
    }
}

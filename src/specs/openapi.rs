//! The OpenAPI spec of an instance as the dump keeps it: without the hidden collections, without
//! the instance's URL, and with the parts Directus lists per collection or per column sorted.

use crate::collections::collate;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Written instead of each `servers[].url`: Directus puts the URL the request came to (or
/// `PUBLIC_URL`) there, so every environment's spec would differ from every other's. A
/// reserved `.example` name, so that no tool reading the file reaches a real host.
pub const SERVER_URL: &str = "http://directus.example";

/// Rewrites `spec` (`GET /server/specs/oas`) in place; anything that is not an OpenAPI object
/// is left as it is.
pub fn normalize(spec: &mut Value, hidden: &[&str]) {
    let Some(root) = spec.as_object_mut() else {
        return;
    };
    let tags = remove_tags(root, hidden);
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        paths.retain(|path, _| !hidden.iter().any(|c| is_items_path(path, c)));
        sort(paths);
    }
    let mut removed = HashSet::new();
    if let Some(Value::Object(schemas)) = root
        .get_mut("components")
        .and_then(|components| components.get_mut("schemas"))
    {
        schemas.retain(|name, schema| {
            let gone = tags.contains(name) || is_hidden_collection(schema, hidden);
            if gone {
                removed.insert(format!("#/components/schemas/{name}"));
            }
            !gone
        });
        sort(schemas);
        schemas.values_mut().for_each(sort_schema);
    }
    drop_refs(spec, &removed);
    if let Some(Value::Array(servers)) = spec.get_mut("servers") {
        for server in servers.iter_mut().filter_map(Value::as_object_mut) {
            if server.contains_key("url") {
                server.insert("url".into(), SERVER_URL.into());
            }
        }
    }
}

/// Drops the tags of hidden collections (`x-collection`) and sorts the others by name, since
/// Directus lists them in the order of the instance's collections. Returns the dropped names,
/// which are also the names of their schemas (`ItemsSyncIDMap`).
fn remove_tags(root: &mut Map<String, Value>, hidden: &[&str]) -> HashSet<String> {
    let mut removed = HashSet::new();
    let Some(Value::Array(tags)) = root.get_mut("tags") else {
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
        let mut spec = served();
        normalize(&mut spec, &["sync_id_map", "directus_sync_id_map"]);
        insta::assert_snapshot!(crate::json::to_dump_string(&spec), @r##"
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
        let mut one = served();
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
        normalize(&mut one, &["sync_id_map"]);
        normalize(&mut other, &["sync_id_map"]);
        assert_eq!(
            crate::json::to_dump_string(&one),
            crate::json::to_dump_string(&other)
        );
    }

    #[test]
    fn anything_else_is_left_alone() {
        let mut text = json!("not a spec");
        normalize(&mut text, &["sync_id_map"]);
        assert_eq!(text, json!("not a spec"));
        assert!(is_items_path("/items/sync_id_map/{id}", "sync_id_map"));
        assert!(!is_items_path("/items/sync_id_map_notes", "sync_id_map"));
        assert!(!is_items_path("/utils/sync_id_map", "sync_id_map"));
    }
}

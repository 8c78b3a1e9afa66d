//! Known configurations to start tests from, written through Directus' REST API.

use super::DirectusInstance;
use serde_json::{Value, json};

/// A custom collection with several field types and a many-to-one relation.
pub fn blog_schema(instance: &DirectusInstance) {
    instance.post(
        "/collections",
        &json!({"collection": "authors", "schema": {}, "meta": {"icon": "person"},
                "fields": [{"field": "id", "type": "integer", "meta": {"hidden": true},
                            "schema": {"is_primary_key": true, "has_auto_increment": true}},
                           {"field": "name", "type": "string"}]}),
    );
    instance.post(
        "/collections",
        &json!({"collection": "articles", "schema": {}, "meta": {"note": "Blog posts"},
                "fields": [{"field": "id", "type": "uuid", "meta": {"special": ["uuid"], "hidden": true},
                            "schema": {"is_primary_key": true}},
                           {"field": "title", "type": "string", "schema": {"max_length": 200}}]}),
    );
    for field in [
        json!({"field": "body", "type": "text", "meta": {"interface": "input-rich-text-html"}}),
        json!({"field": "published", "type": "boolean", "schema": {"default_value": false}}),
        json!({"field": "rating", "type": "float"}),
        json!({"field": "published_at", "type": "timestamp"}),
        json!({"field": "tags", "type": "json", "meta": {"special": ["cast-json"], "interface": "tags"}}),
        json!({"field": "author", "type": "integer", "meta": {"interface": "select-dropdown-m2o"}}),
    ] {
        instance.post("/fields/articles", &field);
    }
    instance.post(
        "/relations",
        &json!({"collection": "articles", "field": "author", "related_collection": "authors",
                "schema": {"on_delete": "SET NULL"}}),
    );
}

fn id(item: &Value) -> String {
    match &item["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Items in all ten tracked collections: two roles with permissions, a public permission, a
/// flow with a three-operation resolve chain and a reject branch, nested folders, a dashboard
/// with panels, a role preset, a global bookmark, translations and settings pointing at a role
/// and a folder.
pub fn all_collections(instance: &DirectusInstance) {
    blog_schema(instance);
    let editor = id(&instance.post(
        "/roles",
        &json!({"name": "Editor", "icon": "edit", "description": "Writes articles", "app_access": true}),
    ));
    let viewer = id(&instance.post("/roles", &json!({"name": "Viewer", "icon": "visibility"})));
    instance.post(
        "/permissions",
        &json!([
            {"role": editor, "collection": "articles", "action": "read", "fields": ["*"], "permissions": {}},
            {"role": editor, "collection": "articles", "action": "update", "fields": ["title", "body"],
             "permissions": {"published": {"_eq": false}}, "validation": {"title": {"_nnull": true}}},
            {"role": viewer, "collection": "articles", "action": "read", "fields": ["title"], "permissions": {}},
            {"role": viewer, "collection": "authors", "action": "read", "fields": ["*"], "permissions": {}},
            {"role": null, "collection": "articles", "action": "read", "fields": ["id", "title"],
             "permissions": {"published": {"_eq": true}}}
        ]),
    );
    let flow = id(&instance.post(
        "/flows",
        &json!({"name": "Notify editors", "icon": "bolt", "status": "active", "trigger": "manual",
                "accountability": "all", "options": {"collections": ["articles"]}}),
    ));
    let operation = |name: &str, key: &str, x: i64, resolve: Option<&str>, reject: Option<&str>| {
        id(&instance.post(
            "/operations",
            &json!({"name": name, "key": key, "type": "log", "position_x": x, "position_y": 1,
                    "options": {"message": format!("{name} ran")}, "flow": flow,
                    "resolve": resolve, "reject": reject}),
        ))
    };
    let third = operation("Log done", "log_done", 55, None, None);
    let second = operation("Log middle", "log_middle", 37, Some(&third), None);
    let failed = operation("Log failure", "log_failure", 37, None, None);
    let first = operation("Log start", "log_start", 19, Some(&second), Some(&failed));
    instance.patch(&format!("/flows/{flow}"), &json!({"operation": first}));
    // A second flow that another flow's operation triggers by id (a nested reference).
    let callee = id(&instance.post(
        "/flows",
        &json!({"name": "Callee", "status": "active", "trigger": "operation", "accountability": "all", "options": {}}),
    ));
    let caller = id(&instance.post(
        "/flows",
        &json!({"name": "Caller", "status": "active", "trigger": "manual", "accountability": "all", "options": {}}),
    ));
    let trigger = id(&instance.post(
        "/operations",
        &json!({"name": "Run callee", "key": "run_callee", "type": "trigger", "position_x": 19, "position_y": 1,
                "options": {"flow": callee, "payload": "{{ $trigger }}"}, "flow": caller}),
    ));
    instance.patch(&format!("/flows/{caller}"), &json!({"operation": trigger}));
    // A flow id computed at run time (reference P4): a template, never an id to map.
    instance.post(
        "/operations",
        &json!({"name": "Run dynamic", "key": "run_dynamic", "type": "trigger", "position_x": 37, "position_y": 1,
                "options": {"flow": "{{ $trigger.flow }}"}, "flow": callee}),
    );

    let images = id(&instance.post("/folders", &json!({"name": "Images"})));
    let logos = id(&instance.post("/folders", &json!({"name": "Logos", "parent": images})));
    instance.post("/folders", &json!({"name": "Old logos", "parent": logos}));

    let dashboard = id(&instance.post(
        "/dashboards",
        &json!({"name": "Stats", "icon": "insights", "note": "Numbers"}),
    ));
    for (name, x) in [("Articles", 1), ("Authors", 13)] {
        instance.post(
            "/panels",
            &json!({"dashboard": dashboard, "name": name, "type": "metric", "position_x": x, "position_y": 1,
                    "width": 12, "height": 6, "show_header": true,
                    "options": {"collection": name.to_lowercase(), "function": "count", "field": "id"}}),
        );
    }
    instance.post(
        "/presets",
        &json!([
            {"role": editor, "collection": "articles", "layout": "tabular",
             "layout_query": {"tabular": {"sort": ["-published_at"]}}},
            {"bookmark": "Published", "collection": "articles", "filter": {"published": {"_eq": true}}},
            {"collection": "authors", "layout": "cards"}
        ]),
    );
    instance.post(
        "/translations",
        &json!([
            {"language": "en-US", "key": "greeting", "value": "Hello"},
            {"language": "fr-FR", "key": "greeting", "value": "Bonjour"},
            {"language": "en-US", "key": "farewell", "value": "Goodbye"}
        ]),
    );
    instance.patch(
        "/settings",
        &json!({"project_name": "Seeded", "project_color": "#112233", "public_registration": true,
                "public_registration_role": viewer, "storage_default_folder": images,
                "custom_aspect_ratios": [{"text": "Wide", "value": 2.5}]}),
    );
}

/// How many activity rows the instance has: a push that changes nothing writes none.
#[track_caller]
pub fn activity_count(instance: &DirectusInstance) -> u64 {
    activity_count_where(instance, "")
}

/// How many activity rows match `filter`, query parameters such as
/// `filter[action][_eq]=update&filter[collection][_eq]=directus_operations` (empty: all rows).
#[track_caller]
pub fn activity_count_where(instance: &DirectusInstance, filter: &str) -> u64 {
    let separator = if filter.is_empty() { "" } else { "&" };
    let result = instance.get(&format!("/activity?aggregate[count]=id{separator}{filter}"));
    let count = &result[0]["count"]["id"];
    // A number, or a string on databases whose count is a bigint.
    match count
        .as_u64()
        .or_else(|| count.as_str().and_then(|s| s.parse().ok()))
    {
        Some(count) => count,
        None => panic!("unexpected aggregate answer: {result}"),
    }
}

/// An active user of `role` (an admin-app login); returns the user's id.
#[track_caller]
pub fn user_with_role(instance: &DirectusInstance, email: &str, role: &Value) -> String {
    let user = instance.post(
        "/users",
        &json!({"email": email, "password": "pw-12345678", "role": role, "status": "active"}),
    );
    user["id"].as_str().unwrap().to_string()
}

/// `count` collections built the way the admin app and scripts build them over REST, with the
/// field types whose columns each database reads back its own way: a uuid primary key, a plain
/// uuid, a many-to-one to `directus_users` and to the previous collection (uuids without the
/// `uuid` special: `char(36)` on SQLite and MySQL, read back as `string`), a `timestamp`
/// (SQLite's `datetime`, read back as `dateTime`), a `dateTime`, a string and a JSON field.
pub fn uuid_collections(instance: &DirectusInstance, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|c| format!("catalog_{c:02}")).collect();
    for (index, name) in names.iter().enumerate() {
        let mut fields = vec![
            json!({"field": "id", "type": "uuid", "meta": {"hidden": true, "special": ["uuid"]},
                   "schema": {"is_primary_key": true}}),
            json!({"field": "reference", "type": "uuid"}),
            json!({"field": "owner", "type": "uuid",
                   "meta": {"interface": "select-dropdown-m2o", "special": ["m2o"]}}),
            json!({"field": "created", "type": "timestamp", "meta": {"special": ["date-created"]}}),
            json!({"field": "starts", "type": "dateTime"}),
            json!({"field": "title", "type": "string", "schema": {"max_length": 120}}),
            json!({"field": "extra", "type": "json", "meta": {"special": ["cast-json"]}}),
        ];
        if index > 0 {
            fields.push(json!({"field": "parent", "type": "uuid",
                               "meta": {"interface": "select-dropdown-m2o", "special": ["m2o"]}}));
        }
        instance.post(
            "/collections",
            &json!({"collection": name, "schema": {}, "meta": {"icon": "inventory_2"}, "fields": fields}),
        );
        instance.post(
            "/relations",
            &json!({"collection": name, "field": "owner", "related_collection": "directus_users",
                    "schema": {"on_delete": "SET NULL"}}),
        );
        if index > 0 {
            instance.post(
                "/relations",
                &json!({"collection": name, "field": "parent", "related_collection": names[index - 1],
                        "schema": {"on_delete": "SET NULL"}}),
            );
        }
    }
    names
}

/// `roles` roles, each with the four CRUD permissions on every collection of `collections`.
pub fn roles_with_permissions(instance: &DirectusInstance, roles: usize, collections: &[String]) {
    let roles: Vec<Value> = (0..roles)
        .map(|r| json!({"name": format!("Team {r:02}"), "icon": "group"}))
        .collect();
    // In batches that Directus answers whole even with a low QUERY_LIMIT_MAX.
    let created: Vec<Value> = roles
        .chunks(25)
        .flat_map(|batch| {
            let answer = instance.post("/roles", &Value::Array(batch.to_vec()));
            answer.as_array().expect("the roles created").clone()
        })
        .collect();
    let mut permissions = Vec::new();
    for role in &created {
        for collection in collections {
            for action in ["create", "read", "update", "delete"] {
                permissions.push(json!({"role": role["id"], "collection": collection,
                                        "action": action, "fields": ["*"], "permissions": {}}));
            }
        }
    }
    for batch in permissions.chunks(25) {
        instance.post("/permissions", &Value::Array(batch.to_vec()));
    }
}

/// POSTs `items` to `path` in arrays of at most 100 (Directus answers each whole with its
/// default QUERY_LIMIT_DEFAULT); items later in `items` may point at earlier ones.
#[track_caller]
fn post_batches(instance: &DirectusInstance, path: &str, items: &[Value]) {
    for batch in items.chunks(100) {
        instance.post(path, &Value::Array(batch.to_vec()));
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What [`mixed`] made, per 1× (`size` 1); everything scales linearly with `size`.
pub const MIXED_COLLECTIONS: usize = 40;
pub const MIXED_ROLES: usize = 10;
/// Collections each role has the four CRUD permissions on (all of them at 1×).
pub const MIXED_COLLECTIONS_PER_ROLE: usize = 40;
pub const MIXED_FLOWS: usize = 40;
pub const MIXED_CHAIN: usize = 5;
pub const MIXED_DASHBOARDS: usize = 10;
pub const MIXED_PANELS: usize = 10;
pub const MIXED_FOLDERS: usize = 20;
pub const MIXED_TRANSLATION_KEYS: usize = 400;
pub const MIXED_LANGUAGES: [&str; 3] = ["en-US", "fr-FR", "de-DE"];

/// A realistic mix of configuration, scaled linearly by `size` (1: about 3,400 items in the
/// ten tracked collections, 40 collections, 600 fields; 4: 13,600 items, 160 collections,
/// 2,400 fields):
/// - 40 custom collections `mixed_000`… with 15 typed fields each (integer or uuid primary
///   key, string, code string (unique in every fourth collection), text, integer, decimal,
///   float, boolean, dateTime, timestamp, json, uuid, a status dropdown, a many-to-one to
///   `directus_users` and one to the previous collection, whose primary key type it
///   follows), every tenth of those many-to-ones with its one-to-many alias on the other
///   side;
/// - 10 roles, each with create / read / update / delete on 40 collections (fields, filters,
///   validation and presets varying), plus 20 public read permissions: 1,620 permissions;
/// - 40 flows (manual, event, webhook, schedule and operation triggers), each with a chain of
///   5 operations linked by `resolve`, every fifth chain ending in a `trigger` of the next
///   flow: 200 operations;
/// - 10 dashboards × 10 panels; 20 folders three levels deep; 200 presets (a default per
///   collection, role presets, role and global bookmarks); 1,200 translations (400 keys × 3
///   languages); settings pointing at a role and a folder.
///
/// Built in few requests: the schema through `/schema/apply` of snapshots built here (four
/// times faster than a `POST /collections` and `/relations` each at 4×, and the same schema:
/// [`mixed_schema_over_rest`]), items in arrays of 100 with ids chosen here (so no answer
/// has to be matched back to what was sent). Prints each phase's time on stderr. Returns
/// the collections' names.
pub fn mixed(instance: &DirectusInstance, size: usize) -> Vec<String> {
    assert!(size >= 1, "mixed: size must be at least 1");
    // Each phase's time on stderr: where seeding a big instance spends it.
    let mut last = std::time::Instant::now();
    let mut phase = |what: &str| {
        eprintln!(
            "  mixed×{size}: {what} in {:.2} s",
            last.elapsed().as_secs_f64()
        );
        last = std::time::Instant::now();
    };
    let collections = mixed_collections(instance, MIXED_COLLECTIONS * size);
    phase("collections, fields and relations");
    let roles = mixed_roles(instance, MIXED_ROLES * size, &collections);
    phase("roles and permissions");
    mixed_flows(instance, MIXED_FLOWS * size, &collections);
    phase("flows and operations");
    mixed_dashboards(instance, MIXED_DASHBOARDS * size, &collections);
    let folders = mixed_folders(instance, size);
    mixed_presets(instance, &roles, &collections);
    phase("dashboards, panels, folders and presets");
    let translations: Vec<Value> = (0..MIXED_TRANSLATION_KEYS * size)
        .flat_map(|k| {
            MIXED_LANGUAGES.iter().map(move |language| {
                json!({"language": language, "key": format!("mixed.key_{k:05}"),
                       "value": format!("{language} text {k}: {}", "lorem ipsum ".repeat(k % 4 + 1).trim_end())})
            })
        })
        .collect();
    post_batches(instance, "/translations", &translations);
    phase("translations");
    instance.patch(
        "/settings",
        &json!({"project_name": format!("Mixed ×{size}"), "project_color": "#6644FF",
                "project_descriptor": "Bench configuration", "default_language": "en-US",
                "public_registration": false, "public_registration_role": roles[0],
                "storage_default_folder": folders[0], "auth_login_attempts": 25,
                "custom_aspect_ratios": [{"text": "Wide", "value": 2.5}],
                "module_bar": [{"type": "module", "id": "content", "enabled": true},
                               {"type": "module", "id": "insights", "enabled": true},
                               {"type": "module", "id": "settings", "enabled": true, "locked": true}]}),
    );
    collections
}

/// Whether collection `index` of [`mixed`] has an integer primary key (else a uuid).
fn integer_key(index: usize) -> bool {
    index % 2 == 1
}

/// Whether collection `index`'s many-to-one `parent` has a one-to-many alias `children` on
/// the previous collection.
fn has_children_alias(index: usize) -> bool {
    index % 10 == 5
}

fn mixed_names(count: usize) -> Vec<String> {
    (0..count).map(|c| format!("mixed_{c:03}")).collect()
}

/// [`mixed`]'s collections, fields and relations, through [`mixed_schema_by_apply`].
fn mixed_collections(instance: &DirectusInstance, count: usize) -> Vec<String> {
    mixed_schema_by_apply(instance, count);
    mixed_names(count)
}

/// [`mixed`]'s `count` collections built the way the admin app and scripts build them: a
/// `POST /collections` with its fields, then a `POST /relations` per many-to-one (one or
/// two requests per collection, each reloading a schema that grows with every collection).
pub fn mixed_schema_over_rest(instance: &DirectusInstance, count: usize) {
    let (collections, relations) = mixed_schema(count);
    for collection in &collections {
        instance.post("/collections", collection);
    }
    for relation in &relations {
        instance.post("/relations", relation);
    }
}

/// The same schema as [`mixed_schema_over_rest`], through `POST /schema/diff` and
/// `POST /schema/apply` of snapshots built here, 20 collections (with their fields and
/// relations) at a time: Directus makes them with the same services in one transaction per
/// apply (its default 1 MB MAX_PAYLOAD_SIZE bounds what a request may carry). Each part's
/// snapshot lacks what exists already, so only the diff's additions are applied.
pub fn mixed_schema_by_apply(instance: &DirectusInstance, count: usize) {
    let (collections, relations) = mixed_schema(count);
    for part in collections.chunks(20) {
        let mut snapshot_collections = Vec::new();
        let mut snapshot_fields = Vec::new();
        for collection in part {
            let name = &collection["collection"];
            snapshot_collections.push(json!({"collection": name, "meta": collection["meta"],
                                             "schema": {"name": name}}));
            for field in collection["fields"].as_array().expect("fields") {
                let schema = if field["type"] == "alias" {
                    Value::Null
                } else {
                    field.get("schema").cloned().unwrap_or_else(|| json!({}))
                };
                snapshot_fields.push(json!({"collection": name, "field": field["field"],
                                            "type": field["type"], "meta": field["meta"],
                                            "schema": schema}));
            }
        }
        let snapshot_relations: Vec<Value> = relations
            .iter()
            .filter(|relation| {
                part.iter()
                    .any(|c| c["collection"] == relation["collection"])
            })
            .map(|relation| {
                json!({"collection": relation["collection"], "field": relation["field"],
                       "related_collection": relation["related_collection"],
                       "meta": relation.get("meta").cloned().unwrap_or(Value::Null),
                       "schema": relation["schema"]})
            })
            .collect();
        let snapshot = json!({"version": 1, "directus": "10.13.1", "vendor": instance.vendor(),
                              "collections": snapshot_collections, "fields": snapshot_fields,
                              "relations": snapshot_relations});
        let mut diff = instance.post("/schema/diff", &snapshot);
        for key in ["collections", "fields", "relations"] {
            let entries = diff["diff"][key].as_array_mut().expect("a schema diff");
            // What the instance has and this part's snapshot lacks: kept.
            entries.retain(|entry| entry["diff"][0]["kind"] == "N");
        }
        instance.post("/schema/apply", &diff);
    }
}

/// The schema of [`mixed`]'s `count` collections: the `POST /collections` payloads (each
/// with its fields) and the `POST /relations` ones, in creation order.
fn mixed_schema(count: usize) -> (Vec<Value>, Vec<Value>) {
    const ICONS: [&str; 5] = ["inventory_2", "article", "shopping_cart", "event", "person"];
    let names = mixed_names(count);
    let mut collections = Vec::new();
    let mut relations = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let id = if integer_key(index) {
            json!({"field": "id", "type": "integer",
                   "meta": {"hidden": true, "readonly": true, "interface": "input"},
                   "schema": {"is_primary_key": true, "has_auto_increment": true}})
        } else {
            json!({"field": "id", "type": "uuid",
                   "meta": {"hidden": true, "readonly": true, "interface": "input", "special": ["uuid"]},
                   "schema": {"is_primary_key": true}})
        };
        let mut fields = vec![
            id,
            json!({"field": "name", "type": "string",
                   "meta": {"interface": "input", "required": true, "width": "half", "sort": 2},
                   "schema": {"max_length": 120}}),
            json!({"field": "code", "type": "string",
                   "meta": {"interface": "input", "width": "half", "sort": 3,
                            "options": {"font": "monospace", "trim": true}},
                   "schema": {"max_length": 32, "is_unique": index % 4 == 0}}),
            json!({"field": "description", "type": "text",
                   "meta": {"interface": "input-multiline", "note": "Shown in lists", "sort": 4}}),
            json!({"field": "quantity", "type": "integer",
                   "meta": {"interface": "input", "width": "half", "sort": 5},
                   "schema": {"default_value": 0}}),
            json!({"field": "price", "type": "decimal",
                   "meta": {"interface": "input", "width": "half", "sort": 6,
                            "display": "formatted-value", "display_options": {"prefix": "€ "}},
                   "schema": {"numeric_precision": 10, "numeric_scale": 2}}),
            json!({"field": "ratio", "type": "float",
                   "meta": {"interface": "slider", "width": "half", "sort": 7,
                            "options": {"minValue": 0, "maxValue": 1, "stepInterval": 0.05}}}),
            json!({"field": "active", "type": "boolean",
                   "meta": {"interface": "boolean", "special": ["cast-boolean"], "width": "half", "sort": 8},
                   "schema": {"default_value": true}}),
            json!({"field": "starts_at", "type": "dateTime",
                   "meta": {"interface": "datetime", "width": "half", "sort": 9}}),
            json!({"field": "created_at", "type": "timestamp",
                   "meta": {"interface": "datetime", "special": ["date-created"], "readonly": true,
                            "width": "half", "sort": 10, "display": "datetime",
                            "display_options": {"relative": true}}}),
            json!({"field": "data", "type": "json",
                   "meta": {"interface": "input-code", "special": ["cast-json"], "sort": 11,
                            "options": {"language": "json"}}}),
            json!({"field": "reference", "type": "uuid",
                   "meta": {"interface": "input", "width": "half", "sort": 12}}),
            json!({"field": "owner", "type": "uuid",
                   "meta": {"interface": "select-dropdown-m2o", "special": ["m2o"], "width": "half",
                            "sort": 13, "display": "user"}}),
            json!({"field": "status", "type": "string",
                   "meta": {"interface": "select-dropdown", "width": "half", "sort": 14,
                            "options": {"choices": [{"text": "Draft", "value": "draft"},
                                                    {"text": "Published", "value": "published"},
                                                    {"text": "Archived", "value": "archived"}]},
                            "display": "labels"},
                   "schema": {"default_value": "draft", "max_length": 20}}),
        ];
        if index > 0 {
            let kind = if integer_key(index - 1) {
                "integer"
            } else {
                "uuid"
            };
            fields.push(json!({"field": "parent", "type": kind,
                               "meta": {"interface": "select-dropdown-m2o", "special": ["m2o"], "sort": 15,
                                        "options": {"template": "{{name}}"}}}));
        } else {
            fields.push(json!({"field": "notes", "type": "text",
                               "meta": {"interface": "input-rich-text-md", "sort": 15}}));
        }
        if index + 1 < count && has_children_alias(index + 1) {
            fields.push(json!({"field": "children", "type": "alias",
                               "meta": {"interface": "list-o2m", "special": ["o2m"], "sort": 16,
                                        "options": {"template": "{{name}}"}}}));
        }
        collections.push(json!({"collection": name, "schema": {},
                    "meta": {"icon": ICONS[index % ICONS.len()], "note": format!("Mixed collection {index}"),
                             "display_template": "{{name}} ({{code}})", "sort": index + 1,
                             "archive_field": "status", "archive_value": "archived",
                             "unarchive_value": "draft", "sort_field": null},
                    "fields": fields}));
        relations.push(
            json!({"collection": name, "field": "owner", "related_collection": "directus_users",
                              "schema": {"on_delete": "SET NULL"}}),
        );
        if index > 0 {
            let mut relation = json!({"collection": name, "field": "parent",
                                      "related_collection": names[index - 1],
                                      "schema": {"on_delete": "SET NULL"}});
            if has_children_alias(index) {
                relation["meta"] = json!({"one_field": "children"});
            }
            relations.push(relation);
        }
    }
    (collections, relations)
}

/// Roles (ids chosen here) with their permissions; returns the roles' ids.
fn mixed_roles(instance: &DirectusInstance, count: usize, collections: &[String]) -> Vec<String> {
    let ids: Vec<String> = (0..count).map(|_| new_id()).collect();
    let roles: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(r, id)| {
            let icon = ["group", "badge", "support_agent"][r % 3];
            json!({"id": id, "name": format!("Mixed role {r:03}"), "icon": icon,
                   "description": format!("Role {r} of the bench"), "app_access": r % 3 != 2,
                   "admin_access": false, "enforce_tfa": r % 7 == 6,
                   "ip_access": if r % 5 == 4 { json!(["127.0.0.1", "10.0.0.0/8"]) } else { Value::Null }})
        })
        .collect();
    post_batches(instance, "/roles", &roles);

    const SOME_FIELDS: [&str; 6] = ["name", "code", "description", "quantity", "price", "status"];
    let per_role = MIXED_COLLECTIONS_PER_ROLE.min(collections.len());
    let mut permissions = Vec::new();
    for (r, role) in ids.iter().enumerate() {
        for j in 0..per_role {
            let collection = &collections[(r * 4 + j) % collections.len()];
            let k = r + j;
            permissions.push(json!({
                "role": role, "collection": collection, "action": "create",
                "fields": if k % 3 == 0 { json!(["*"]) } else { json!(SOME_FIELDS) },
                "permissions": {},
                "validation": if k % 2 == 0 { json!({"name": {"_nnull": true}}) } else { json!({}) },
                "presets": if k % 4 == 0 { json!({"status": "draft"}) } else { Value::Null },
            }));
            permissions.push(json!({
                "role": role, "collection": collection, "action": "read",
                "fields": if k % 4 == 0 { json!(["id", "name", "status"]) } else { json!(["*"]) },
                "permissions": match k % 3 {
                    0 => json!({}),
                    1 => json!({"status": {"_neq": "archived"}}),
                    _ => json!({"_and": [{"owner": {"_eq": "$CURRENT_USER"}}, {"active": {"_eq": true}}]}),
                },
                "validation": {},
            }));
            permissions.push(json!({
                "role": role, "collection": collection, "action": "update",
                "fields": if k % 2 == 0 { json!(["name", "description", "status", "data"]) } else { json!(["*"]) },
                "permissions": if k % 3 == 1 { json!({"owner": {"_eq": "$CURRENT_USER"}}) } else { json!({}) },
                "validation": if k % 5 == 0 { json!({"quantity": {"_gte": 0}}) } else { json!({}) },
            }));
            permissions.push(json!({
                "role": role, "collection": collection, "action": "delete",
                "fields": ["*"],
                "permissions": if k % 2 == 1 { json!({"status": {"_eq": "archived"}}) } else { json!({}) },
                "validation": {},
            }));
        }
    }
    // Public: read on every other collection.
    for collection in collections.iter().step_by(2) {
        permissions.push(json!({
            "role": null, "collection": collection, "action": "read",
            "fields": ["id", "name", "status"],
            "permissions": {"status": {"_eq": "published"}}, "validation": {},
        }));
    }
    post_batches(instance, "/permissions", &permissions);
    ids
}

/// Flows (ids chosen here) with their operation chains, and every flow's `operation` set to
/// the first of its chain.
fn mixed_flows(instance: &DirectusInstance, count: usize, collections: &[String]) {
    let ids: Vec<String> = (0..count).map(|_| new_id()).collect();
    let flows: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(f, id)| {
            let collection = &collections[f % collections.len()];
            let (trigger, status, options) = match f % 5 {
                0 => ("manual", "active",
                      json!({"collections": [collection], "location": "item", "requireConfirmation": f % 2 == 0})),
                1 => ("event", "active",
                      json!({"type": "action", "scope": ["items.create", "items.update"], "collections": [collection]})),
                2 => ("webhook", "active", json!({"method": "POST", "async": f % 2 == 0})),
                // Inactive: nothing runs while the bench does.
                3 => ("schedule", "inactive", json!({"cron": format!("{} */6 * * *", f % 60)})),
                // Run by the last operation of the flow before it.
                _ => ("operation", "active", json!({"return": "$last"})),
            };
            json!({"id": id, "name": format!("Mixed flow {f:03}"), "icon": "bolt", "color": "#2ECDA7",
                   "description": format!("A {trigger} flow"), "status": status, "trigger": trigger,
                   "accountability": if f % 3 == 0 { "activity" } else { "all" }, "options": options})
        })
        .collect();
    post_batches(instance, "/flows", &flows);

    // Chains from their end: an operation's `resolve` must exist before it does.
    let op_ids: Vec<Vec<String>> = (0..count)
        .map(|_| (0..MIXED_CHAIN).map(|_| new_id()).collect())
        .collect();
    let mut operations = Vec::new();
    for step in (0..MIXED_CHAIN).rev() {
        for (f, flow) in ids.iter().enumerate() {
            let collection = &collections[f % collections.len()];
            let last = step + 1 == MIXED_CHAIN;
            let (kind, options) = match step {
                0 => (
                    "condition",
                    json!({"filter": {"$trigger": {"payload": {"status": {"_eq": "published"}}}}}),
                ),
                1 => (
                    "transform",
                    json!({"json": {"flow": f, "step": step, "source": "{{$trigger.key}}"}}),
                ),
                2 => (
                    "item-read",
                    json!({"collection": collection, "permissions": "$trigger",
                                          "query": {"limit": 1, "sort": ["-created_at"]}}),
                ),
                _ if last && f % 5 == 3 && f + 1 < count => (
                    "trigger",
                    json!({"flow": ids[f + 1], "payload": "{{$last}}"}),
                ),
                _ => (
                    "log",
                    json!({"message": format!("flow {f} step {step}: {{{{$last}}}}")}),
                ),
            };
            operations.push(json!({
                "id": op_ids[f][step], "name": format!("Step {step}"), "key": format!("step_{step}"),
                "type": kind, "position_x": 19 + 18 * step, "position_y": 1 + (f % 3) * 2,
                "options": options, "flow": flow,
                "resolve": if last { Value::Null } else { json!(op_ids[f][step + 1]) },
            }));
        }
    }
    post_batches(instance, "/operations", &operations);
    let firsts: Vec<Value> = ids
        .iter()
        .zip(&op_ids)
        .map(|(flow, ops)| json!({"id": flow, "operation": ops[0]}))
        .collect();
    for batch in firsts.chunks(100) {
        instance.patch("/flows", &Value::Array(batch.to_vec()));
    }
}

fn mixed_dashboards(instance: &DirectusInstance, count: usize, collections: &[String]) {
    let ids: Vec<String> = (0..count).map(|_| new_id()).collect();
    let dashboards: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(d, id)| {
            json!({"id": id, "name": format!("Mixed dashboard {d:03}"), "icon": "insights",
                   "note": format!("Dashboard {d}"), "color": if d % 2 == 0 { json!("#FFA439") } else { Value::Null }})
        })
        .collect();
    post_batches(instance, "/dashboards", &dashboards);
    let mut panels = Vec::new();
    for (d, dashboard) in ids.iter().enumerate() {
        for p in 0..MIXED_PANELS {
            let collection = &collections[(d * MIXED_PANELS + p) % collections.len()];
            let (kind, options) = match p % 5 {
                0 => (
                    "metric",
                    json!({"collection": collection, "field": "id", "function": "count",
                                       "filter": {"status": {"_eq": "published"}}}),
                ),
                1 => (
                    "list",
                    json!({"collection": collection, "displayTemplate": "{{name}}", "limit": 5,
                                     "sortField": "created_at", "sortDirection": "desc"}),
                ),
                2 => (
                    "time-series",
                    json!({"collection": collection, "function": "count", "precision": "day",
                                            "dateField": "created_at", "valueField": "id", "range": "1 week"}),
                ),
                3 => (
                    "bar-chart",
                    json!({"collection": collection, "xAxis": "status", "yAxis": "quantity",
                                          "function": "sum", "horizontal": p % 2 == 0}),
                ),
                _ => (
                    "label",
                    json!({"text": format!("Dashboard {d}, panel {p}"), "color": "#A2B5CD"}),
                ),
            };
            panels.push(json!({
                "id": new_id(), "dashboard": dashboard, "name": format!("Panel {p:02}"), "type": kind,
                "icon": "insert_chart", "note": if p % 3 == 0 { json!(format!("Note {p}")) } else { Value::Null },
                "position_x": 1 + 12 * (p % 4), "position_y": 1 + 8 * (p / 4), "width": 12, "height": 8,
                "show_header": kind != "label", "options": options,
            }));
        }
    }
    post_batches(instance, "/panels", &panels);
}

/// 20 folders per `size`: 5 top-level ones, 10 inside those, 5 inside the second level.
/// Returns their ids, top-level ones first.
fn mixed_folders(instance: &DirectusInstance, size: usize) -> Vec<String> {
    let roots: Vec<String> = (0..5 * size).map(|_| new_id()).collect();
    let middle: Vec<String> = (0..10 * size).map(|_| new_id()).collect();
    let leaves: Vec<String> = (0..5 * size).map(|_| new_id()).collect();
    let level = |ids: &[String], parents: Option<&[String]>, label: &str| -> Vec<Value> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                json!({"id": id, "name": format!("{label} {i:03}"),
                       "parent": parents.map(|parents| &parents[i % parents.len()])})
            })
            .collect()
    };
    post_batches(instance, "/folders", &level(&roots, None, "Library"));
    post_batches(instance, "/folders", &level(&middle, Some(&roots), "Shelf"));
    post_batches(instance, "/folders", &level(&leaves, Some(&middle), "Box"));
    roots.into_iter().chain(middle).chain(leaves).collect()
}

/// A default per collection, 8 presets per role, and 2 bookmarks per collection (a third of
/// them a role's): 200 per 40 collections and 10 roles.
fn mixed_presets(instance: &DirectusInstance, roles: &[String], collections: &[String]) {
    let mut presets = Vec::new();
    for (c, collection) in collections.iter().enumerate() {
        presets.push(json!({
            "collection": collection, "layout": "tabular",
            "layout_query": {"tabular": {"fields": ["name", "status", "price"], "sort": ["-created_at"], "limit": 25}},
            "layout_options": {"tabular": {"widths": {"name": 160 + c % 5 * 20}}},
        }));
    }
    for (r, role) in roles.iter().enumerate() {
        for j in 0..8 {
            let collection = &collections[(r * 4 + j) % collections.len()];
            presets.push(if j % 2 == 0 {
                json!({"role": role, "collection": collection, "layout": "cards",
                       "layout_query": {"cards": {"sort": ["name"], "limit": 50, "page": 1}},
                       "layout_options": {"cards": {"title": "{{name}}", "subtitle": "{{code}}", "size": 4}}})
            } else {
                json!({"role": role, "collection": collection, "layout": "tabular", "search": format!("term {j}"),
                       "layout_query": {"tabular": {"fields": ["name", "quantity"], "sort": ["name"]}},
                       "refresh_interval": 60})
            });
        }
    }
    for b in 0..collections.len() * 2 {
        let collection = &collections[b % collections.len()];
        presets.push(json!({
            "bookmark": format!("Bookmark {b:04}"), "collection": collection,
            "role": if b % 3 == 0 { json!(roles[b % roles.len()]) } else { Value::Null },
            "icon": "bookmark", "color": "#3399FF", "layout": "tabular",
            "filter": if b % 2 == 0 { json!({"status": {"_eq": "published"}}) } else { json!({"price": {"_gt": b}}) },
            "layout_query": {"tabular": {"page": 1, "sort": ["name"], "fields": ["name", "status"]}},
        }));
    }
    post_batches(instance, "/presets", &presets);
}

/// How many items each tracked collection has as a dump holds them (roles: those without
/// admin access, the Administrator role being the runner's; presets: those of no user), then
/// the custom collections, their fields and their relations.
pub fn tracked_counts(instance: &DirectusInstance) -> Vec<(&'static str, u64)> {
    let count = |path: &str| {
        let result = instance.get(path);
        let count = &result[0]["count"];
        count
            .as_u64()
            .or_else(|| count.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("unexpected aggregate answer from {path}: {result}"))
    };
    let mut counts: Vec<(&'static str, u64)> = [
        ("roles", "/roles?filter[admin_access][_eq]=false&"),
        ("permissions", "/permissions?"),
        ("flows", "/flows?"),
        ("operations", "/operations?"),
        ("dashboards", "/dashboards?"),
        ("panels", "/panels?"),
        ("folders", "/folders?"),
        ("translations", "/translations?"),
    ]
    .into_iter()
    .map(|(name, query)| (name, count(&format!("{query}aggregate[count]=*"))))
    .collect();
    counts.push((
        "presets",
        count("/presets?aggregate[count]=*&filter[user][_null]=true"),
    ));
    counts.push(("settings", 1));
    let custom = |items: &Value| {
        items
            .as_array()
            .expect("an array")
            .iter()
            .filter(|item| {
                !item["collection"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("directus_"))
            })
            .count() as u64
    };
    counts.push((
        "(custom collections)",
        custom(&instance.get("/collections")),
    ));
    counts.push(("(their fields)", custom(&instance.get("/fields"))));
    counts.push(("(their relations)", custom(&instance.get("/relations"))));
    counts
}

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

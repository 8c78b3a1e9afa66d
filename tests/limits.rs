//! Production instances run with limits the tool must survive: `MAX_BATCH_MUTATION` (batches
//! above it are refused with HTTP 400) and the rate limiter (HTTP 429 with `Retry-After`).

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::thread;
use support::DirectusInstance;
use support::cli::{Outcome, plan_has};
use support::dump::{collection_file, write_collection};
use support::seed::all_collections;

const TRACKED: [&str; 10] = [
    "roles",
    "permissions",
    "flows",
    "operations",
    "folders",
    "dashboards",
    "panels",
    "presets",
    "translations",
    "settings",
];

fn rate_limiter() -> [(&'static str, &'static str); 3] {
    [
        ("RATE_LIMITER_ENABLED", "true"),
        ("RATE_LIMITER_POINTS", "30"),
        ("RATE_LIMITER_DURATION", "1"),
    ]
}

/// A plain instance and one with `env`, started side by side.
fn plain_and_limited(
    with_extension: bool,
    env: &[(&str, &str)],
) -> (DirectusInstance, DirectusInstance) {
    thread::scope(|s| {
        let plain = s.spawn(move || match with_extension {
            true => DirectusInstance::start(),
            false => DirectusInstance::start_without_extension(),
        });
        let limited = s.spawn(move || match with_extension {
            true => DirectusInstance::start_with_env(env),
            false => DirectusInstance::start_without_extension_with_env(env),
        });
        let join = |h: thread::ScopedJoinHandle<'_, DirectusInstance>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        (join(plain), join(limited))
    })
}

fn id(item: &Value) -> Value {
    item["id"].clone()
}

/// [`all_collections`] and then many items: 40 translations, 12 roles with 3 permissions
/// each, a flow with a chain of 12 operations (each resolving to the next) and a chain of 12
/// nested folders.
fn many_items(instance: &DirectusInstance) {
    all_collections(instance);
    let translations: Vec<Value> = (0..40)
        .map(|i| json!({"language": "en-US", "key": format!("bulk_{i:02}"), "value": format!("Bulk {i}")}))
        .collect();
    instance.post("/translations", &Value::Array(translations));
    let roles: Vec<Value> = (0..12)
        .map(|i| json!({"name": format!("Bulk role {i:02}"), "icon": "person"}))
        .collect();
    let roles = instance.post("/roles", &Value::Array(roles));
    let permissions: Vec<Value> = roles
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|role| {
            ["create", "read", "update"].map(|action| {
                json!({"role": id(role), "collection": "articles", "action": action,
                       "fields": ["*"], "permissions": {}})
            })
        })
        .collect();
    instance.post("/permissions", &Value::Array(permissions));
    let flow = instance.post(
        "/flows",
        &json!({"name": "Bulk chain", "status": "active", "trigger": "manual",
                "accountability": "all", "options": {}}),
    );
    let mut next = Value::Null;
    for i in (0..12).rev() {
        next = id(&instance.post(
            "/operations",
            &json!({"name": format!("Bulk step {i:02}"), "key": format!("bulk_step_{i:02}"),
                    "type": "log", "position_x": 1 + 18 * i, "position_y": 20,
                    "options": {"message": format!("step {i}")}, "flow": id(&flow),
                    "resolve": next}),
        ));
    }
    instance.patch(
        &format!("/flows/{}", flow["id"].as_str().unwrap()),
        &json!({"operation": next}),
    );
    let mut parent = Value::Null;
    for i in 0..12 {
        parent = id(&instance.post(
            "/folders",
            &json!({"name": format!("Bulk folder {i:02}"), "parent": parent}),
        ));
    }
}

fn sorted(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| a["_syncId"].as_str().cmp(&b["_syncId"].as_str()));
    items
}

/// Every tracked collection of the dump in `pulled` holds the same items as in `expected`.
#[track_caller]
fn same_items(expected: &Path, pulled: &Path) {
    for name in TRACKED {
        assert_eq!(
            sorted(collection_file(pulled, name)),
            sorted(collection_file(expected, name)),
            "{name} differs"
        );
    }
}

fn max_batch_mutation(with_extension: bool) {
    let (a, b) = plain_and_limited(with_extension, &[("MAX_BATCH_MUTATION", "10")]);
    many_items(&a);
    let from_a = tempfile::tempdir().unwrap();
    a.ok(from_a.path(), &["pull"]);
    assert_eq!(collection_file(from_a.path(), "translations").len(), 43);
    assert!(collection_file(from_a.path(), "permissions").len() >= 41);

    // The limit is real, and this is how Directus 10.13.1 refuses a batch above it.
    let eleven: Vec<Value> = (0..11)
        .map(|i| json!({"language": "de-DE", "key": format!("probe_{i}"), "value": "x"}))
        .collect();
    let (status, body) = b.request("POST", "/translations", Some(&Value::Array(eleven)));
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains(r#""message":"Invalid payload. Exceeded max batch mutation limit of 10.""#)
            && body.contains(r#""code":"INVALID_PAYLOAD""#),
        "{body}"
    );

    // Creates (and, without the extension, the id-map rows) in batches the server accepts.
    let push = b.ok(from_a.path(), &["push"]);
    assert!(
        push.stderr.contains(
            "Directus refused a batch for MAX_BATCH_MUTATION: sending at most 10 items per request"
        ),
        "{push}"
    );
    b.ok(from_a.path(), &["diff", "--exit-code"]);
    let from_b = tempfile::tempdir().unwrap();
    b.ok(from_b.path(), &["pull"]);
    same_items(from_a.path(), from_b.path());

    // Deletes of many items: 35 translations, 8 roles with their 24 permissions, the flow with
    // its chain of 12 operations, the chain of 12 folders.
    let dir = from_a.path();
    let mut translations = collection_file(dir, "translations");
    translations.retain(|t| {
        !t["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("bulk_") && k < "bulk_35")
    });
    assert_eq!(translations.len(), 8);
    write_collection(dir, "translations", &translations);
    let mut roles = collection_file(dir, "roles");
    let doomed: Vec<Value> = roles
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n < "Bulk role 08" && n.starts_with("Bulk"))
        })
        .map(|r| r["_syncId"].clone())
        .collect();
    assert_eq!(doomed.len(), 8);
    roles.retain(|r| !doomed.contains(&r["_syncId"]));
    write_collection(dir, "roles", &roles);
    let mut permissions = collection_file(dir, "permissions");
    permissions.retain(|p| !doomed.contains(&p["role"]));
    write_collection(dir, "permissions", &permissions);
    let mut flows = collection_file(dir, "flows");
    let chain = flows.iter().find(|f| f["name"] == "Bulk chain").unwrap()["_syncId"].clone();
    flows.retain(|f| f["_syncId"] != chain);
    write_collection(dir, "flows", &flows);
    let mut operations = collection_file(dir, "operations");
    operations.retain(|o| o["flow"] != chain);
    write_collection(dir, "operations", &operations);
    let mut folders = collection_file(dir, "folders");
    folders.retain(|f| !f["name"].as_str().unwrap().starts_with("Bulk folder"));
    write_collection(dir, "folders", &folders);

    let plan = b.run(dir, &["diff", "--exit-code"]).exits(2).stdout;
    assert!(plan.contains("to delete"), "{plan}");
    b.ok(dir, &["push"]);
    b.ok(dir, &["diff", "--exit-code"]);
    b.ok(from_b.path(), &["pull"]);
    same_items(dir, from_b.path());
    assert_eq!(collection_file(from_b.path(), "translations").len(), 8);
    let left = b.get("/operations?limit=-1&fields=id&filter[key][_starts_with]=bulk_step");
    assert_eq!(left, json!([]), "the chain of operations is gone");
    // Each operation and folder went before the one it points at: no delete failed.
    let log = b.log_tail();
    assert!(!log.contains("SQLITE_CONSTRAINT"), "{log}");
}

#[test]
fn max_batch_mutation_with_extension() {
    max_batch_mutation(true)
}

#[test]
fn max_batch_mutation_without_extension() {
    max_batch_mutation(false)
}

/// Spends the rate limiter's points of this second (from the test's own address, the CLI's
/// too), so that the next run starts out refused. Panics when the limiter never refuses.
#[track_caller]
fn exhaust(instance: &DirectusInstance) {
    for _ in 0..200 {
        if instance.request("GET", "/server/ping", None).0 == 429 {
            return;
        }
    }
    panic!("the rate limiter never answered 429");
}

#[track_caller]
fn quiet_ok(instance: &DirectusInstance, dir: &Path, args: &[&str]) -> Outcome {
    exhaust(instance);
    let outcome = instance.ok(dir, args);
    // The closing line counts requests: a run of 429 of them is no refusal.
    let refused = outcome
        .stderr
        .lines()
        .any(|line| !line.starts_with("done in ") && line.contains("429"));
    assert!(!refused, "{args:?}\n{outcome}");
    outcome
}

#[test]
fn rate_limited_pull_diff_and_push() {
    let (a, b) = plain_and_limited(true, &rate_limiter());
    many_items(&a);
    let from_a = tempfile::tempdir().unwrap();
    a.ok(from_a.path(), &["pull"]);

    // How Directus 10.13.1 refuses: 429 with `Retry-After` in whole seconds.
    exhaust(&b);
    let (status, body) = b.request("GET", "/server/ping", None);
    assert_eq!(status, 429);
    assert!(body.contains("REQUESTS_EXCEEDED"), "{body}");

    for _ in 0..3 {
        quiet_ok(&b, from_a.path(), &["push"]);
    }
    for _ in 0..3 {
        let diff = quiet_ok(&b, from_a.path(), &["diff", "--exit-code"]);
        assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");
    }
    let from_b = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        quiet_ok(&b, from_b.path(), &["pull"]);
    }
    same_items(from_a.path(), from_b.path());

    // The retries were real: `--debug` shows them.
    exhaust(&b);
    let debug = b.ok(from_b.path(), &["pull", "--debug"]);
    assert!(
        debug
            .stderr
            .contains("answered 429 Too Many Requests; retrying in"),
        "{debug}"
    );

    // Logins are retried too, and the password never shows.
    exhaust(&b);
    let login = Outcome::of(
        b.cli(from_a.path())
            .env_remove("DIRECTUS_TOKEN")
            .env("DIRECTUS_ADMIN_EMAIL", b.email())
            .env("DIRECTUS_ADMIN_PASSWORD", b.password())
            .args(["diff", "--exit-code", "--debug"]),
    )
    .exits(0);
    assert!(
        login
            .stderr
            .contains("POST /auth/login answered 429 Too Many Requests; retrying in"),
        "{login}"
    );
    assert!(!login.stderr.contains(b.password()), "{login}");
}

/// With `CACHE_ENABLED`, Directus answers GETs from its cache (with no auto purge, even after
/// writes): a push must judge what it wrote on fresh reads, or it re-applies, reports values
/// Directus "did not keep" and stops; a push that also changes the schema must not take the
/// rows it just wrote for dangling ones.
fn a_caching_instance_converges_on_fresh_reads(auto_purge: &str) {
    let instance = DirectusInstance::start_without_extension_with_env(&[
        ("CACHE_ENABLED", "true"),
        ("CACHE_STORE", "memory"),
        ("CACHE_AUTO_PURGE", auto_purge),
        ("CACHE_TTL", "30m"),
    ]);
    all_collections(&instance);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    instance.ok(dir, &["pull"]);

    // Someone deletes a translation in the admin app; the cache still lists it for a while.
    let translations = instance.get("/translations?fields=id,key&sort=key");
    let doomed = translations[0]["id"].as_str().unwrap().to_string();
    instance.delete(&format!("/translations/{doomed}"));
    // The dump also gains a field.
    let fields = dir.join("directus-config/snapshot/fields/articles");
    let title = std::fs::read_to_string(fields.join("title.json")).unwrap();
    std::fs::write(
        fields.join("subtitle.json"),
        title.replace("\"title\"", "\"subtitle\""),
    )
    .unwrap();

    let push = instance.ok(dir, &["push"]);
    assert!(
        plan_has(&push.stdout, "schema fields", "+ articles.subtitle")
            && push
                .stdout
                .ends_with("1 schema change; 1 to create, 0 to update, 0 to delete\n"),
        "{push}"
    );
    assert!(!push.stderr.contains("round 1 left"), "one round: {push}");
    instance.ok(dir, &["diff", "--exit-code"]);
    let again = instance.ok(dir, &["push"]);
    assert_eq!(again.stdout, "0 to create, 0 to update, 0 to delete\n");
    instance.post("/utils/cache/clear", &json!({}));
    assert_eq!(
        instance
            .get("/translations?fields=key&sort=key")
            .as_array()
            .unwrap()
            .len(),
        translations.as_array().unwrap().len(),
        "the translation is back, once"
    );
    let pulled = tempfile::tempdir().unwrap();
    instance.ok(pulled.path(), &["pull"]);
    same_items(dir, pulled.path());
}

#[test]
fn a_caching_instance_without_auto_purge_converges_on_fresh_reads() {
    a_caching_instance_converges_on_fresh_reads("false");
}

#[test]
fn a_caching_instance_with_auto_purge_converges_on_fresh_reads() {
    a_caching_instance_converges_on_fresh_reads("true");
}

/// `collections` collections of `fields` fields each, created over REST.
fn wide_schema(instance: &DirectusInstance, collections: usize, fields: usize) {
    for c in 0..collections {
        let mut all = vec![
            json!({"field": "id", "type": "integer", "meta": {"hidden": true},
                                  "schema": {"is_primary_key": true, "has_auto_increment": true}}),
        ];
        all.extend((1..fields).map(|f| {
            json!({"field": format!("field_{f:02}"), "type": "string",
                   "meta": {"note": format!("Field {f} of collection {c}"), "interface": "input"}})
        }));
        instance.post(
            "/collections",
            &json!({"collection": format!("wide_{c:02}"), "schema": {}, "meta": {"icon": "table"},
                    "fields": all}),
        );
    }
}

/// `MAX_PAYLOAD_SIZE` caps every JSON body: the snapshot of 30 collections × 20 fields (about
/// 700 kB) is diffed and applied as an upload, and item batches above the cap are sent in
/// smaller parts.
#[test]
fn a_schema_larger_than_max_payload_size_pushes() {
    let (a, b) = plain_and_limited(false, &[("MAX_PAYLOAD_SIZE", "100kb")]);
    wide_schema(&a, 30, 20);
    // 150 translations of 1 kB: a batch of 100 is a 100 kB body.
    let long = "x".repeat(1000);
    let translations: Vec<Value> = (0..150)
        .map(|t| json!({"language": "en-US", "key": format!("long_{t:03}"), "value": long}))
        .collect();
    a.post("/translations", &Value::Array(translations));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    a.ok(dir, &["pull"]);
    let snapshot_bytes: u64 = walk_bytes(&dir.join("directus-config/snapshot"));
    assert!(
        snapshot_bytes > 300_000,
        "{snapshot_bytes} bytes of snapshot"
    );

    let diff = b.ok(dir, &["diff"]);
    assert!(
        plan_has(&diff.stdout, "schema fields", "+ wide_29.field_19"),
        "{diff}"
    );
    let push = b.ok(dir, &["push"]);
    // 30 collections, 600 fields, 150 translations.
    assert!(
        push.stdout
            .ends_with("630 schema changes; 150 to create, 0 to update, 0 to delete\n"),
        "{push}"
    );
    assert!(!push.stderr.contains("round 1 left"), "one round: {push}");
    assert!(
        push.stderr
            .contains("Directus refused a batch for MAX_PAYLOAD_SIZE: sending at most 50 items"),
        "{push}"
    );
    b.ok(dir, &["diff", "--exit-code"]);
    let pulled = tempfile::tempdir().unwrap();
    b.ok(pulled.path(), &["pull"]);
    same_items(dir, pulled.path());
    let fields = b.get("/fields?limit=-1");
    let wide = fields
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["collection"]
                .as_str()
                .is_some_and(|c| c.starts_with("wide_"))
        })
        .count();
    assert_eq!(wide, 30 * 20);
}

fn walk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            match entry.file_type().unwrap().is_dir() {
                true => walk_bytes(&entry.path()),
                false => entry.metadata().unwrap().len(),
            }
        })
        .sum()
}

/// With `QUERY_LIMIT_MAX`, Directus answers at most that many items per read, whatever the
/// limit asked: every list is read in pages and checked against Directus' count, so a pull
/// sees every role and a push deletes exactly the roles the dump dropped.
#[test]
fn query_limit_max_pages_every_read() {
    let env = [("QUERY_LIMIT_MAX", "50")];
    let (a, b) = thread::scope(|s| {
        let a = s.spawn(|| DirectusInstance::start_without_extension_with_env(&env));
        let b = s.spawn(|| DirectusInstance::start_without_extension_with_env(&env));
        (a.join().unwrap(), b.join().unwrap())
    });
    support::seed::blog_schema(&a);
    support::seed::roles_with_permissions(&a, 120, &["articles".to_string()]);
    assert_eq!(
        a.get("/roles?fields=id&limit=-1").as_array().unwrap().len(),
        50,
        "Directus caps every page at 50"
    );
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    a.ok(dir, &["pull"]);
    let roles = collection_file(dir, "roles");
    // The runner's own role is never synced.
    assert_eq!(roles.len(), 120);
    assert_eq!(collection_file(dir, "permissions").len(), 480);

    let push = b.ok(dir, &["push"]);
    assert!(
        push.stdout
            .ends_with("13 schema changes; 600 to create, 0 to update, 0 to delete\n"),
        "{push}"
    );
    let pulled = tempfile::tempdir().unwrap();
    b.ok(pulled.path(), &["pull"]);
    same_items(dir, pulled.path());

    // The dump drops 70 roles and their permissions: exactly those go.
    let (dropped, kept): (Vec<Value>, Vec<Value>) = roles.into_iter().partition(|role| {
        role["name"]
            .as_str()
            .and_then(|name| name.strip_prefix("Team "))
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n < 70)
    });
    assert_eq!(dropped.len(), 70);
    write_collection(dir, "roles", &kept);
    let dropped: Vec<&Value> = dropped.iter().map(|role| &role["_syncId"]).collect();
    let permissions: Vec<Value> = collection_file(dir, "permissions")
        .into_iter()
        .filter(|p| !dropped.contains(&&p["role"]))
        .collect();
    assert_eq!(permissions.len(), 200);
    write_collection(dir, "permissions", &permissions);
    let push = b.ok(dir, &["push"]);
    assert!(
        push.stdout
            .ends_with("0 to create, 0 to update, 350 to delete\n"),
        "{push}"
    );
    b.ok(dir, &["diff", "--exit-code"]);
    let count = |endpoint: &str, filter: &str| {
        let answer = b.get(&format!("{endpoint}?aggregate[count]=id{filter}"));
        answer[0]["count"]["id"]
            .as_u64()
            .or_else(|| answer[0]["count"]["id"].as_str()?.parse().ok())
            .unwrap_or_else(|| panic!("a count: {answer}"))
    };
    assert_eq!(count("/roles", ""), 51, "50 roles and the administrators'");
    assert_eq!(count("/permissions", "&filter[role][_nnull]=true"), 200);
}

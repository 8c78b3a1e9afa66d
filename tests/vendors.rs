//! A dump pulled from SQLite, pushed to Directus on PostgreSQL and on MariaDB: Directus refuses
//! the foreign snapshot without `--force`, applies it with it, and the ten collections then hold
//! exactly the same items (same SyncIds, same content) as on SQLite.
//!
//! Across vendors Directus reports column details that each database spells its own way
//! (PostgreSQL: `uuid` for `char(36)`, `character varying`, `real` with precision 24,
//! `timestamp with time zone`, generated constraint names; MariaDB: `int unsigned`, `longtext`
//! for JSON, text lengths, `is_unique` on keys). It cannot apply them (it would alter primary
//! and foreign keys), so `--force` across vendors leaves them out and the push converges.
//!
//! Needs the PostgreSQL and MariaDB servers of this machine (see `support::Server`): an
//! unreachable one fails its test with how to start it.

mod support;

use std::path::Path;
use std::time::Instant;

use directus_sync::collections::names as tracked_collections;
use support::DirectusInstance;
use support::cli::plan_has;
use support::seed::{activity_count, all_collections};

#[test]
fn a_sqlite_dump_pushed_to_postgres() {
    sqlite_dump_pushed_to(DirectusInstance::start_postgres);
}

#[test]
fn a_sqlite_dump_pushed_to_mariadb() {
    sqlite_dump_pushed_to(DirectusInstance::start_mariadb);
}

fn read(dir: &Path, file: &str) -> String {
    let path = dir.join("directus-config").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What B holds apart from activity: its collections and roles.
fn state(instance: &DirectusInstance) -> (serde_json::Value, serde_json::Value) {
    (
        instance.get("/collections?fields=collection&sort=collection&limit=-1"),
        instance.get("/roles?fields=id,name&sort=id&limit=-1"),
    )
}

fn sqlite_dump_pushed_to(start_vendor: fn() -> DirectusInstance) {
    let started = Instant::now();
    let (a, b) = support::start_two(DirectusInstance::start, start_vendor);
    let vendor = b.vendor();
    eprintln!(
        "sqlite and {vendor} instances started in {:.2?}",
        started.elapsed()
    );
    all_collections(&a);
    let from_a = tempfile::tempdir().unwrap();
    let from_b = tempfile::tempdir().unwrap();
    a.ok(from_a.path(), &["pull"]);
    assert!(
        read(from_a.path(), "snapshot/info.json").contains("\"vendor\": \"sqlite\""),
        "the dump comes from SQLite"
    );

    // Without --force, Directus refuses the foreign snapshot before anything is written.
    let activity_before = activity_count(&b);
    let state_before = state(&b);
    for command in ["diff", "push"] {
        let refused = b.run(from_a.path(), &[command]).exits(1);
        let mut lines = refused.stderr.lines();
        let error = lines.next().unwrap_or_default();
        assert!(
            error.starts_with("error: ")
                && error.contains(&format!(
                    "vendor sqlite does not match the current instance's vendor {vendor}"
                )),
            "{command}: {refused}"
        );
        assert!(
            lines.all(|line| line.starts_with("hint: ")),
            "{command}: one error line: {refused}"
        );
        assert_eq!(refused.stdout, "", "{command}: no plan printed");
    }
    assert_eq!(activity_count(&b), activity_before, "nothing written");
    assert_eq!(state(&b), state_before, "nothing changed");

    // With --force, the whole dump goes in at the first round.
    let forced = b.run(from_a.path(), &["push", "--force"]);
    assert!(
        forced
            .stdout
            .ends_with("13 schema changes; 29 to create, 0 to update, 0 to delete\n"),
        "{forced}"
    );
    assert!(
        forced
            .stderr
            .contains("applied: 13 schema changes, 29 created, 0 updated, 0 deleted"),
        "{forced}"
    );
    assert_eq!(forced.code, 0, "{forced}");
    assert!(
        !forced.stderr.contains("round 1 left"),
        "one round: {forced}"
    );

    // Nothing is left to do, items and schema alike.
    let diff = b
        .run(from_a.path(), &["diff", "--force", "--exit-code"])
        .exits(0);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");

    // Pulled back from B, every collection file is byte for byte A's.
    b.ok(from_b.path(), &["pull"]);
    assert!(
        read(from_b.path(), "snapshot/info.json").contains(&format!("\"vendor\": \"{vendor}\"")),
        "B's own snapshot names its vendor"
    );
    for name in tracked_collections() {
        let file = format!("collections/{name}.json");
        assert_eq!(
            read(from_a.path(), &file),
            read(from_b.path(), &file),
            "{file} differs between sqlite and {vendor}"
        );
    }

    // B's own dump matches B and pushes as a no-op: no activity row.
    let same = b.ok(from_b.path(), &["diff", "--exit-code"]).stdout;
    assert_eq!(same, "0 to create, 0 to update, 0 to delete\n");
    let activity_before = activity_count(&b);
    let plan = b.ok(from_b.path(), &["push"]).stdout;
    assert_eq!(plan, "0 to create, 0 to update, 0 to delete\n");
    assert_eq!(
        activity_count(&b),
        activity_before,
        "no activity rows written"
    );

    // Dropping the instance drops its database.
    let (server, database) = (b.server().unwrap(), b.database().unwrap().to_owned());
    assert!(server.has_database(&database));
    drop(b);
    assert!(
        !server.has_database(&database),
        "{database} still on {}",
        server.name()
    );
    eprintln!("{vendor} test done in {:.2?}", started.elapsed());
}

/// Collections built over REST on `from`, pushed with `--force` into an empty `to`: every
/// field lands at the first push, which exits 0 although some fields keep differing in what
/// only the target's database decides (`uuid` kept as `string` and `timestamp` as `dateTime`
/// on SQLite; column spellings everywhere); diff then lists no change.
fn uuid_schema_pushed(from: fn() -> DirectusInstance, to: fn() -> DirectusInstance) {
    let started = Instant::now();
    let (a, b) = support::start_two(from, to);
    let collections = support::seed::uuid_collections(&a, 6);
    support::seed::roles_with_permissions(&a, 2, &collections);
    let work = tempfile::tempdir().unwrap();
    a.ok(work.path(), &["pull"]);
    let push = b.run(work.path(), &["push", "--force"]);
    assert_eq!(push.code, 0, "{push}");
    assert!(
        plan_has(&push.stdout, "schema fields", "+ catalog_05.parent"),
        "the whole schema is created: {push}"
    );
    let diff = b
        .run(work.path(), &["diff", "--force", "--exit-code"])
        .exits(0);
    assert_eq!(diff.stdout, "0 to create, 0 to update, 0 to delete\n");
    let again = b.ok(work.path(), &["push", "--force"]);
    assert_eq!(again.stdout, "0 to create, 0 to update, 0 to delete\n");
    let from_b = tempfile::tempdir().unwrap();
    b.ok(from_b.path(), &["pull"]);
    for name in tracked_collections() {
        let file = format!("collections/{name}.json");
        assert_eq!(
            read(work.path(), &file),
            read(from_b.path(), &file),
            "{file} differs between {} and {}",
            a.vendor(),
            b.vendor()
        );
    }
    eprintln!(
        "{} → {} done in {:.2?}",
        a.vendor(),
        b.vendor(),
        started.elapsed()
    );
}

#[test]
fn a_postgres_dump_of_rest_built_collections_pushed_to_sqlite() {
    uuid_schema_pushed(DirectusInstance::start_postgres, DirectusInstance::start);
}

#[test]
fn a_sqlite_dump_of_rest_built_collections_pushed_to_postgres() {
    uuid_schema_pushed(DirectusInstance::start, DirectusInstance::start_postgres);
}

#[test]
fn a_sqlite_dump_of_rest_built_collections_pushed_to_mariadb() {
    uuid_schema_pushed(DirectusInstance::start, DirectusInstance::start_mariadb);
}

#[test]
fn a_mariadb_dump_of_rest_built_collections_pushed_to_postgres() {
    uuid_schema_pushed(
        DirectusInstance::start_mariadb,
        DirectusInstance::start_postgres,
    );
}

#[test]
fn a_postgres_dump_of_rest_built_collections_pushed_to_mariadb() {
    uuid_schema_pushed(
        DirectusInstance::start_postgres,
        DirectusInstance::start_mariadb,
    );
}

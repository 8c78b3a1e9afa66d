//! A push killed at any point converges on the next push: no duplicate, no orphan, in both
//! id-map stores. A fault-injecting proxy in front of a real Directus holds the answer to a
//! chosen request after Directus carried it out; the push is then killed with SIGKILL (or
//! Directus is killed and restarted), in the windows where a write happened but the tool
//! does not know it: the schema applied, id-map rows written, items created whose generated
//! ids were never recorded (permissions, presets), links set.

mod support;

in_both_id_map_stores!(
    a_push_killed_at_every_step_converges_on_the_next,
    a_push_during_which_directus_restarts_converges_on_the_next
);

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::DirectusInstance;
use support::dump::files_below;
use support::proxy::{Proxy, Trap};
use support::seed::all_collections;

const HOLD_TIMEOUT: Duration = Duration::from_secs(60);

fn push_through(proxy: &Proxy, target: &DirectusInstance, dir: &Path) -> Child {
    target
        .cli_command(dir)
        .env("DIRECTUS_URL", proxy.url())
        .arg("push")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn directus-sync push")
}

/// Where the id-map rows of `target` are written.
fn id_map_write(target: &DirectusInstance) -> Trap {
    match target.with_extension() {
        true => Trap::new("POST", "/directus-extension-sync/table/"),
        false => Trap::new("POST", "/items/sync_id_map"),
    }
}

/// The target holds exactly the dump: a pull of it gives the same collection files (every
/// item once, with its SyncId, nothing untracked), and diff finds nothing to do.
#[track_caller]
fn holds_exactly(target: &DirectusInstance, dump: &Path) {
    let diff = target.run(dump, &["diff", "--exit-code"]);
    assert_eq!(
        (diff.code, diff.stdout.as_str()),
        (0, "0 to create, 0 to update, 0 to delete\n"),
        "{diff}"
    );
    let pulled = tempfile::tempdir().unwrap();
    target.ok(pulled.path(), &["pull"]);
    let collections = |dir: &Path| {
        files_below(&dir.join("directus-config"))
            .into_iter()
            .filter(|f| f.starts_with("collections/"))
            .collect::<Vec<_>>()
    };
    assert_eq!(collections(pulled.path()), collections(dump));
    for file in collections(dump) {
        let read = |dir: &Path| std::fs::read_to_string(dir.join("directus-config").join(&file));
        assert_eq!(
            read(pulled.path()).unwrap(),
            read(dump).unwrap(),
            "{file}: the target holds something else than the dump"
        );
    }
}

fn a_push_killed_at_every_step_converges_on_the_next(start: fn() -> DirectusInstance) {
    let started = Instant::now();
    let (source, target) = support::start_two(start, start);
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    source.ok(dir, &["pull"]);
    let proxy = Proxy::start(target.port());

    // In push order: each push goes on from where the one before was killed.
    let traps = [
        Trap::new("POST", "/schema/apply"),
        id_map_write(&target),
        Trap::new("POST", "/roles"),
        Trap::new("POST", "/operations"),
        Trap::new("PATCH", "/flows"),
        Trap::new("POST", "/permissions"),
        id_map_write(&target),
        Trap::new("POST", "/presets"),
        Trap::new("POST", "/panels"),
    ];
    for trap in traps {
        proxy.hold(trap);
        let mut push = push_through(&proxy, &target, dir);
        let held = proxy.wait_until_held(HOLD_TIMEOUT);
        push.kill().expect("SIGKILL the push");
        push.wait().unwrap();
        proxy.let_go();
        eprintln!("killed a push after Directus answered {held}");
    }
    let last = target.run(dir, &["push"]);
    assert_eq!(last.code, 0, "{last}");
    holds_exactly(&target, dir);
    eprintln!("killed 9 pushes and converged in {:.1?}", started.elapsed());
}

fn a_push_during_which_directus_restarts_converges_on_the_next(start: fn() -> DirectusInstance) {
    let (source, mut target) = support::start_two(start, start);
    all_collections(&source);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    source.ok(dir, &["pull"]);
    let proxy = Proxy::start(target.port());

    proxy.hold(Trap::new("POST", "/permissions"));
    let push = push_through(&proxy, &target, dir);
    proxy.wait_until_held(HOLD_TIMEOUT);
    let with_extension = target.with_extension();
    target.restart(with_extension);
    proxy.let_go();
    let failed = push.wait_with_output().unwrap();
    assert!(
        !failed.status.success(),
        "the push saw its connection cut and failed"
    );
    let again = target.run(dir, &["push"]);
    assert_eq!(again.code, 0, "{again}");
    holds_exactly(&target, dir);
}

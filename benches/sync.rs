//! Benchmark (not a test): wall time, CPU time, peak RSS and request counts of `pull`, `diff`
//! and `push` against real Directus 10.13.1 instances, for the closing notes of issues.
//!
//! Run with `scripts/bench` (installs tests/directus/node_modules when missing) or
//! `cargo bench --bench sync -- ARGS`. Arguments:
//! - scenario names: `seeded`, `big`, `big-noext`, `wide`, `wide-noext`, `wide4`, `wide4-noext`
//!   (4×: 13,540 items, 160 collections; only when named). Default (no names, no `--size`):
//!   all but the 4× ones.
//! - `--size LIST` (`--size 1,4`, `--size 4`): the `mixed` scenario (`support::seed::mixed`:
//!   roles × permissions, flows with operation chains, dashboards with panels, folders,
//!   presets, translations and typed custom collections with relations; per 1× about 3,400
//!   items, 40 collections, 600 fields) at each size, in both id-map stores (`mixed×1` with
//!   the extension, `mixed×1-noext` without), after the named scenarios if any. When more
//!   than one size ran, a ratio table follows the figures: each size's wall, CPU, RSS and
//!   requests divided by the smallest size's, per store and step; a steady pull, a diff or a
//!   no-op push whose requests grow more than 1.2× is flagged `REGRESSION?`.
//! - `--store ext|noext`: the `mixed` runs in that store only.
//! - `--serve SIZE` (with `--store noext` for an instance without the extension): starts one
//!   instance, seeds `mixed(SIZE)`, prints its URL, token, an `export DIRECTUS_URL=…
//!   DIRECTUS_TOKEN=…` line, the seeding time and item counts, then keeps it running until
//!   Ctrl-C or until stdin closes: for profiling the CLI by hand against a big instance.
//!
//! Each scenario runs on fresh instances A and B: pull A twice (first, then steady state),
//! diff A, push the dump to B twice (first, then no-op), diff B, then pull B into a second
//! folder (a check: its collection files must equal A's). Seeding and instance start-up are
//! timed separately and are not part of the figures. Correctness problems are printed loudly,
//! collected, and make the bench exit with status 1 at the end.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::DirectusInstance;

const NO_CHANGES: &str = "0 to create, 0 to update, 0 to delete\n";

/// One timed CLI run.
struct Row {
    scenario: String,
    step: &'static str,
    items: usize,
    wall: Duration,
    /// From the closing line `done in X.XX s (N requests to Directus, W s waiting for it)`.
    requests: Option<u64>,
    /// The time the run waited for Directus, from the same line: the rest of the wall time
    /// is the tool's own part.
    waiting: Option<f64>,
    /// What a push said of its time: its `applied in …` and `read back in …` lines.
    parts: Vec<String>,
    usage: Usage,
    /// Last line of stdout for diff and push (the plan summary).
    summary: String,
}

#[derive(Default)]
struct Bench {
    rows: Vec<Row>,
    setup: Vec<(String, &'static str, Duration)>,
    failures: Vec<String>,
    /// The `mixed` scenarios that ran: name, size, with the extension.
    mixed: Vec<(String, usize, bool)>,
    /// Items per collection of the instances seeded with `mixed`, by scenario.
    seeded: Vec<(String, Vec<(&'static str, u64)>)>,
}

/// Steps whose request count must not grow with the configuration's size.
const FLAT_STEPS: [&str; 4] = ["pull A (steady)", "diff A", "push B (no-op)", "diff B"];
/// A requests ratio above this, on one of [`FLAT_STEPS`], is flagged.
const FLAT_LIMIT: f64 = 1.2;

/// What the process used, from `wait4`: user + system CPU, and its peak resident memory.
#[derive(Clone, Copy, Default)]
struct Usage {
    cpu: Duration,
    peak_rss_kib: u64,
}

/// Runs `cmd` to its end with its output in temp files (no pipe to drain while waiting), and
/// reaps it with `wait4` for its own resource usage, which `std` does not give.
// The child is reaped by `wait4` below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut std::process::Command) -> (Output, Usage) {
    let stdout = tempfile::tempfile().unwrap();
    let stderr = tempfile::tempfile().unwrap();
    let child = cmd
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap())
        .spawn()
        .expect("run directus-sync");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: `pid` is our child, not reaped yet (std's Child never waited on it).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    let read = |mut file: std::fs::File| {
        use std::io::{Read, Seek};
        let mut text = String::new();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut text).unwrap();
        text
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (
        Output {
            code,
            stdout: read(stdout),
            stderr: read(stderr),
        },
        Usage {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            peak_rss_kib: usage.ru_maxrss as u64,
        },
    )
}

/// What one CLI run printed.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Bench {
    fn fail(&mut self, what: String) {
        eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!("!!! BENCH CORRECTNESS FAILURE");
        eprintln!("{what}");
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        self.failures.push(what);
    }

    /// Times `f` as set-up (instance start, seeding): printed apart from the figures.
    fn setup<T>(&mut self, scenario: &str, what: &'static str, f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let value = f();
        let took = started.elapsed();
        eprintln!("[{scenario}] {what}: {:.2} s", took.as_secs_f64());
        self.setup.push((scenario.to_string(), what, took));
        value
    }

    /// Runs `directus-sync <args>` in `dir` against `instance`, records a row, and checks the
    /// exit code and (when given) stdout.
    fn run(
        &mut self,
        scenario: &str,
        step: &'static str,
        instance: &DirectusInstance,
        dir: &Path,
        args: &[&str],
        expect_stdout: Option<&str>,
    ) -> Output {
        let started = Instant::now();
        let (out, usage) = run_measured(instance.cli_command(dir).args(args));
        let wall = started.elapsed();
        let (_, requests, waiting) = closing_line(&out.stderr);
        let parts = out
            .stderr
            .lines()
            .filter(|line| line.contains("applied in ") || line.contains("read back in "))
            .map(|line| line.trim().to_string())
            .collect();
        let row = Row {
            scenario: scenario.to_string(),
            step,
            items: dump_items(dir),
            wall,
            requests,
            waiting,
            parts,
            usage,
            summary: out.stdout.lines().last().unwrap_or("").to_string(),
        };
        eprintln!(
            "[{scenario}] {step}: {:.2} s wall, {:.2} s CPU, {:.1} MiB peak, {} requests{}",
            wall.as_secs_f64(),
            usage.cpu.as_secs_f64(),
            usage.peak_rss_kib as f64 / 1024.0,
            requests.map_or("?".into(), |n| n.to_string()),
            if row.summary.is_empty() {
                String::new()
            } else {
                format!(", {}", row.summary)
            }
        );
        self.rows.push(row);

        let mut problems = Vec::new();
        if out.code != Some(0) {
            problems.push(format!("exit code {:?}, expected 0", out.code));
        }
        if let Some(expected) = expect_stdout
            && out.stdout != expected
        {
            problems.push(format!("stdout is not {expected:?}"));
        }
        if requests.is_none() {
            problems.push("no closing line `done in X s (N requests to Directus)`".into());
        }
        if out.stderr.contains("still differs") {
            problems.push("push read-back: the instance still differs from the dump".into());
        }
        if !problems.is_empty() {
            self.fail(format!(
                "[{scenario}] {step}: `directus-sync {}` against {}: {}\n--- stdout ---\n{}--- stderr ---\n{}",
                args.join(" "),
                instance.url(),
                problems.join("; "),
                out.stdout,
                out.stderr
            ));
        }
        out
    }

    /// The whole pull / diff / push sequence on seeded instances A and B.
    fn sequence(&mut self, scenario: &str, a: &DirectusInstance, b: &DirectusInstance) {
        let from_a = tempfile::tempdir().unwrap();
        let from_b = tempfile::tempdir().unwrap();
        let (from_a, from_b) = (from_a.path(), from_b.path());
        self.run(scenario, "pull A (first)", a, from_a, &["pull"], None);
        self.run(scenario, "pull A (steady)", a, from_a, &["pull"], None);
        self.run(
            scenario,
            "diff A",
            a,
            from_a,
            &["diff", "--exit-code"],
            Some(NO_CHANGES),
        );
        let first = self.run(scenario, "push B (first)", b, from_a, &["push"], None);
        let expected_creates = dump_items(from_a);
        let created = plan_counts(&first.stdout);
        // Settings exist on B already: every other item is a create.
        if created.is_none_or(|(c, _, d)| c + 1 < expected_creates || d != 0) {
            self.fail(format!(
                "[{scenario}] push B (first): expected about {expected_creates} creates, \
                 got {created:?}\n--- stdout ---\n{}--- stderr ---\n{}",
                first.stdout, first.stderr
            ));
        }
        self.run(
            scenario,
            "push B (no-op)",
            b,
            from_a,
            &["push"],
            Some(NO_CHANGES),
        );
        self.run(
            scenario,
            "diff B",
            b,
            from_a,
            &["diff", "--exit-code"],
            Some(NO_CHANGES),
        );
        self.run(scenario, "pull B (check)", b, from_b, &["pull"], None);
        for file in collection_files(from_a) {
            let left = std::fs::read_to_string(from_a.join(&file)).unwrap_or_default();
            let right = std::fs::read_to_string(from_b.join(&file)).unwrap_or_default();
            if left != right {
                self.fail(format!(
                    "[{scenario}] {file} differs between the dump of A and the pull of B\n\
                     --- A ({} bytes) ---\n{}\n--- B ({} bytes) ---\n{}",
                    left.len(),
                    clip(&left),
                    right.len(),
                    clip(&right)
                ));
            }
        }
    }

    fn print(&self, total: Duration) {
        let width = self
            .rows
            .iter()
            .map(|row| row.scenario.chars().count())
            .max()
            .unwrap_or(0)
            .max(10);
        println!();
        println!("directus-sync bench (Directus 10.13.1, SQLite, one CLI process per step)");
        println!("items: items in the dump's collection files (schema and specs not counted);");
        println!("wall s: around the process; CPU s and peak RSS: the process' own (wait4);");
        println!(
            "requests, waiting s (for Directus; the rest of wall is the tool's own): its closing line"
        );
        println!();
        println!(
            "| {:<width$} | {:<15} | {:>5} | {:>8} | {:>9} | {:>6} | {:>8} | {:>8} | {:<40} |",
            "scenario",
            "step",
            "items",
            "wall s",
            "waiting s",
            "CPU s",
            "RSS MiB",
            "requests",
            "plan (stdout, last line)"
        );
        println!(
            "|{:-<w$}|{:-<17}|{:->7}|{:->10}|{:->11}|{:->8}|{:->10}|{:->10}|{:-<42}|",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            w = width + 2
        );
        for row in &self.rows {
            println!(
                "| {:<width$} | {:<15} | {:>5} | {:>8.2} | {:>9} | {:>6.2} | {:>8.1} | {:>8} | {:<40} |",
                row.scenario,
                row.step,
                row.items,
                row.wall.as_secs_f64(),
                row.waiting.map_or("?".into(), |w| format!("{w:.2}")),
                row.usage.cpu.as_secs_f64(),
                row.usage.peak_rss_kib as f64 / 1024.0,
                row.requests.map_or("?".into(), |n| n.to_string()),
                row.summary
            );
        }
        let pushes: Vec<&Row> = self
            .rows
            .iter()
            .filter(|row| !row.parts.is_empty())
            .collect();
        if !pushes.is_empty() {
            println!();
            println!("Where the pushes' time went (their own lines):");
            for row in pushes {
                println!("  {} {}:", row.scenario, row.step);
                for part in &row.parts {
                    println!("    {part}");
                }
            }
        }
        let flagged = self.print_ratios();
        println!();
        println!("Set-up (not part of the figures):");
        for (scenario, what, took) in &self.setup {
            println!("  {scenario:<13} {what:<28} {:>7.2} s", took.as_secs_f64());
        }
        for (scenario, counts) in &self.seeded {
            println!("  {scenario:<13} seeded: {}", format_counts(counts));
        }
        println!();
        println!("Whole bench: {:.1} s", total.as_secs_f64());
        if flagged > 0 {
            println!(
                "Request counts: {flagged} REGRESSION? row(s): a steady pull, diff or no-op push \
                 whose requests grow with the configuration (ratio table above)"
            );
        }
        if self.failures.is_empty() {
            println!("Correctness checks: all passed");
        } else {
            println!(
                "Correctness checks: {} FAILED (details above on stderr):",
                self.failures.len()
            );
            for failure in &self.failures {
                println!("  - {}", failure.lines().next().unwrap_or(""));
            }
        }
    }

    /// The rows of scenario `name`, step `step`.
    fn row(&self, name: &str, step: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|row| row.scenario == name && row.step == step)
    }

    /// When the `mixed` scenario ran at more than one size in a store: each larger size's
    /// figures divided by the smallest size's, per store and step. Returns how many rows it
    /// flagged `REGRESSION?`.
    fn print_ratios(&self) -> usize {
        let mut flagged = 0;
        let mut header = false;
        for with_extension in [true, false] {
            let mut runs: Vec<&(String, usize, bool)> = self
                .mixed
                .iter()
                .filter(|(_, _, ext)| *ext == with_extension)
                .collect();
            runs.sort_by_key(|(_, size, _)| *size);
            let Some(((base_name, base_size, _), larger)) = runs.split_first() else {
                continue;
            };
            if larger.is_empty() {
                continue;
            }
            if !header {
                header = true;
                println!();
                println!(
                    "Ratios of the mixed scenarios: size k over size {base_size}, per store and step \
                     (requests of a steady pull, a diff and a no-op push should stay near 1.00)"
                );
                println!();
                println!(
                    "| {:<5} | {:<15} | {:<6} | {:>6} | {:>6} | {:>6} | {:>8} | {:<12} |",
                    "store", "step", "sizes", "wall", "CPU", "RSS", "requests", ""
                );
                println!(
                    "|{:-<7}|{:-<17}|{:-<8}|{:->8}|{:->8}|{:->8}|{:->10}|{:-<14}|",
                    "", "", "", "", "", "", "", ""
                );
            }
            let store = if with_extension { "ext" } else { "noext" };
            let steps: Vec<&'static str> = self
                .rows
                .iter()
                .filter(|row| &row.scenario == base_name)
                .map(|row| row.step)
                .collect();
            for (name, size, _) in larger {
                for step in &steps {
                    let (Some(base), Some(row)) = (self.row(base_name, step), self.row(name, step))
                    else {
                        continue;
                    };
                    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
                    let show = |r: Option<f64>, digits: usize| {
                        r.map_or("-".to_string(), |r| format!("{r:.digits$}"))
                    };
                    let wall = ratio(row.wall.as_secs_f64(), base.wall.as_secs_f64());
                    let cpu = ratio(row.usage.cpu.as_secs_f64(), base.usage.cpu.as_secs_f64());
                    let rss = ratio(
                        row.usage.peak_rss_kib as f64,
                        base.usage.peak_rss_kib as f64,
                    );
                    let requests = match (row.requests, base.requests) {
                        (Some(a), Some(b)) => ratio(a as f64, b as f64),
                        _ => None,
                    };
                    let flag =
                        FLAT_STEPS.contains(step) && requests.is_some_and(|r| r > FLAT_LIMIT);
                    if flag {
                        flagged += 1;
                        eprintln!(
                            "!!! REGRESSION? [{name}] {step}: {} requests at {size}× against {} at \
                             {base_size}× (ratio {}, limit {FLAT_LIMIT})",
                            row.requests.unwrap_or(0),
                            base.requests.unwrap_or(0),
                            show(requests, 2)
                        );
                    }
                    println!(
                        "| {:<5} | {:<15} | {:<6} | {:>6} | {:>6} | {:>6} | {:>8} | {:<12} |",
                        store,
                        step,
                        format!("{size}×/{base_size}×"),
                        show(wall, 2),
                        show(cpu, 2),
                        show(rss, 2),
                        show(requests, 2),
                        if flag { "REGRESSION?" } else { "" }
                    );
                }
            }
        }
        flagged
    }
}

/// `roles 11, permissions 1620, …` (with a total of the tracked collections' items).
fn format_counts(counts: &[(&str, u64)]) -> String {
    let total: u64 = counts
        .iter()
        .filter(|(name, _)| !name.starts_with('('))
        .map(|(_, n)| n)
        .sum();
    let parts: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    format!(
        "{} (items in tracked collections: {total})",
        parts.join(", ")
    )
}

/// `(seconds, requests, waiting seconds)` from the last closing line
/// `done in X.XX s (N requests to Directus, W.WW s waiting for it)`.
fn closing_line(stderr: &str) -> (Option<f64>, Option<u64>, Option<f64>) {
    stderr
        .lines()
        .rev()
        .find_map(|line| {
            let rest = &line[line.find("done in ")? + "done in ".len()..];
            let (secs, rest) = rest.split_once(" s (")?;
            let (requests, rest) = rest.split_once(" requests")?;
            let waiting = rest
                .strip_prefix(" to Directus, ")
                .and_then(|rest| rest.split_once(" s waiting"))
                .and_then(|(waiting, _)| waiting.trim().parse().ok());
            Some((
                secs.trim().parse().ok(),
                requests.trim().parse().ok(),
                waiting,
            ))
        })
        .unwrap_or((None, None, None))
}

/// `(create, update, delete)` of the items from a plan's summary line (schema changes, when
/// there are any, come before a `; `).
fn plan_counts(stdout: &str) -> Option<(usize, usize, usize)> {
    let line = stdout.lines().rev().find(|l| l.contains(" to create, "))?;
    let items = line.rsplit_once("; ").map_or(line, |(_, items)| items);
    let mut numbers = items
        .split(", ")
        .map(|part| part.split_whitespace().next()?.parse().ok());
    Some((numbers.next()??, numbers.next()??, numbers.next()??))
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(3000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Paths (relative to the dump folder) of the tracked collections' files.
fn collection_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("directus-config/collections"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".json"))
                .map(|name| format!("directus-config/collections/{name}"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Items in the dump's collection files (0 before the first pull).
fn dump_items(dir: &Path) -> usize {
    collection_files(dir)
        .iter()
        .filter_map(|file| std::fs::read_to_string(dir.join(file)).ok())
        .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
        .map(|json| json.as_array().map_or(0, Vec::len))
        .sum()
}

fn id(item: &Value) -> Value {
    item["id"].clone()
}

fn ids(items: &Value) -> Vec<Value> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {items}"))
        .iter()
        .map(id)
        .collect()
}

const BIG_COLLECTIONS: usize = 10;
const BIG_ROLES: usize = 50;
const BIG_FLOWS: usize = 100;
const BIG_CHAIN: usize = 5;
const BIG_PANELS: usize = 20;
const BIG_TRANSLATIONS: usize = 30;

/// 10 collections; 50 roles × 40 permissions (10 collections × 4 actions, no duplicates);
/// 100 flows × 5 operations chained by `resolve`; a dashboard with 20 panels; 30 translations.
fn seed_big(instance: &DirectusInstance) {
    for c in 0..BIG_COLLECTIONS {
        instance.post(
            "/collections",
            &json!({"collection": format!("bench_{c:02}"), "schema": {}, "meta": {"icon": "box"},
                    "fields": [{"field": "id", "type": "integer", "meta": {"hidden": true},
                                "schema": {"is_primary_key": true, "has_auto_increment": true}},
                               {"field": "name", "type": "string"}]}),
        );
    }
    let roles: Vec<Value> = (0..BIG_ROLES)
        .map(|r| json!({"name": format!("Role {r:02}"), "icon": "group", "app_access": r % 2 == 0}))
        .collect();
    let roles = ids(&instance.post("/roles", &Value::Array(roles)));
    let mut permissions = Vec::new();
    for (r, role) in roles.iter().enumerate() {
        for c in 0..BIG_COLLECTIONS {
            for action in ["create", "read", "update", "delete"] {
                permissions.push(json!({
                    "role": role, "collection": format!("bench_{c:02}"), "action": action,
                    "fields": if action == "delete" { Value::Null } else { json!(["*"]) },
                    "permissions": if action == "read" { json!({}) } else { json!({"id": {"_gt": r}}) },
                    "validation": if action == "create" { json!({"name": {"_nnull": true}}) } else { Value::Null },
                }));
            }
        }
    }
    assert_eq!(permissions.len(), BIG_ROLES * BIG_COLLECTIONS * 4);
    for batch in permissions.chunks(200) {
        instance.post("/permissions", &Value::Array(batch.to_vec()));
    }

    let flows: Vec<Value> = (0..BIG_FLOWS)
        .map(|f| {
            json!({"name": format!("Flow {f:03}"), "icon": "bolt", "status": "active",
                   "trigger": "manual", "accountability": "all",
                   "options": {"collections": [format!("bench_{:02}", f % BIG_COLLECTIONS)]}})
        })
        .collect();
    let flows = ids(&instance.post("/flows", &Value::Array(flows)));
    // Chains built from their end: step k resolves to step k + 1 of the same flow.
    let mut next: Vec<Value> = vec![Value::Null; BIG_FLOWS];
    for step in (0..BIG_CHAIN).rev() {
        let batch: Vec<Value> = flows
            .iter()
            .zip(&next)
            .map(|(flow, resolve)| {
                json!({"name": format!("Step {step}"), "key": format!("step_{step}"), "type": "log",
                       "position_x": 19 + 18 * step, "position_y": 1,
                       "options": {"message": format!("step {step} ran")},
                       "flow": flow, "resolve": resolve})
            })
            .collect();
        // Directus answers a batch in its own order (by id), not in the order sent.
        let created = instance.post("/operations", &Value::Array(batch));
        let by_flow: HashMap<&str, &Value> = created
            .as_array()
            .expect("an array of operations")
            .iter()
            .map(|op| (op["flow"].as_str().expect("flow ids are UUIDs"), &op["id"]))
            .collect();
        next = flows
            .iter()
            .map(|flow| by_flow[flow.as_str().unwrap()].clone())
            .collect();
    }
    for (flow, first) in flows.iter().zip(&next) {
        let flow = flow.as_str().expect("flow ids are UUIDs");
        instance.patch(&format!("/flows/{flow}"), &json!({"operation": first}));
    }

    // Each flow's chain stays inside the flow (what Directus' flow loader requires).
    let loaded =
        instance.get("/flows?fields=id,operation,operations.id,operations.resolve&limit=-1");
    for flow in loaded.as_array().expect("an array of flows") {
        let ops = flow["operations"].as_array().expect("operations of a flow");
        assert_eq!(ops.len(), BIG_CHAIN, "operations of flow {}", flow["id"]);
        for op in ops {
            assert!(
                op["resolve"].is_null() || ops.iter().any(|other| other["id"] == op["resolve"]),
                "flow {} has a resolve pointing outside it: {op}",
                flow["id"]
            );
        }
    }

    let dashboard = id(&instance.post(
        "/dashboards",
        &json!({"name": "Bench", "icon": "insights", "note": "Many panels"}),
    ));
    let panels: Vec<Value> = (0..BIG_PANELS)
        .map(|p| {
            json!({"dashboard": dashboard, "name": format!("Panel {p:02}"), "type": "metric",
                   "position_x": 1 + 12 * (p % 4), "position_y": 1 + 6 * (p / 4),
                   "width": 12, "height": 6, "show_header": true,
                   "options": {"collection": format!("bench_{:02}", p % BIG_COLLECTIONS),
                               "function": "count", "field": "id"}})
        })
        .collect();
    instance.post("/panels", &Value::Array(panels));
    let translations: Vec<Value> = (0..BIG_TRANSLATIONS)
        .map(|t| {
            let language = if t % 2 == 0 { "en-US" } else { "fr-FR" };
            json!({"language": language, "key": format!("key_{:02}", t / 2), "value": format!("Text {t}")})
        })
        .collect();
    instance.post("/translations", &Value::Array(translations));
}

const WIDE_COLLECTIONS: usize = 40;
const WIDE_ROLES: usize = 20;
const WIDE_TRANSLATIONS: usize = 180;

/// 40 collections built over REST with uuid, many-to-one and timestamp fields (the columns
/// SQLite reads back as other types); 20 roles × 160 permissions; 180 translations: 3,400
/// items.
fn seed_wide(instance: &DirectusInstance) {
    seed_wide_times(instance, 1);
}

/// [`seed_wide`] four times wider: 160 collections (1,280 fields), 20 roles × 640
/// permissions, 720 translations: 13,540 items.
fn seed_wide4(instance: &DirectusInstance) {
    seed_wide_times(instance, 4);
}

fn seed_wide_times(instance: &DirectusInstance, times: usize) {
    let collections = support::seed::uuid_collections(instance, WIDE_COLLECTIONS * times);
    support::seed::roles_with_permissions(instance, WIDE_ROLES, &collections);
    let translations: Vec<Value> = (0..WIDE_TRANSLATIONS * times)
        .map(|t| json!({"language": "en-US", "key": format!("wide_{t:04}"), "value": format!("Text {t}")}))
        .collect();
    for batch in translations.chunks(200) {
        instance.post("/translations", &Value::Array(batch.to_vec()));
    }
}

fn start_two(with_extension: bool) -> (DirectusInstance, DirectusInstance) {
    let start = if with_extension {
        DirectusInstance::start
    } else {
        DirectusInstance::start_without_extension
    };
    std::thread::scope(|s| {
        let a = s.spawn(start);
        let b = s.spawn(start);
        (a.join().unwrap(), b.join().unwrap())
    })
}

struct Scenario {
    name: &'static str,
    /// Instances with `directus-extension-sync` (its id-map table) or without (the tool's own
    /// id-map collection).
    with_extension: bool,
    seed: fn(&DirectusInstance),
    /// Run without being named (the 4× scenarios take many minutes).
    by_default: bool,
}

const SCENARIOS: [Scenario; 7] = [
    Scenario {
        name: "seeded",
        with_extension: true,
        seed: support::seed::all_collections,
        by_default: true,
    },
    Scenario {
        name: "big",
        with_extension: true,
        seed: seed_big,
        by_default: true,
    },
    Scenario {
        name: "big-noext",
        with_extension: false,
        seed: seed_big,
        by_default: true,
    },
    Scenario {
        name: "wide",
        with_extension: true,
        seed: seed_wide,
        by_default: true,
    },
    Scenario {
        name: "wide-noext",
        with_extension: false,
        seed: seed_wide,
        by_default: true,
    },
    Scenario {
        name: "wide4",
        with_extension: true,
        seed: seed_wide4,
        by_default: false,
    },
    Scenario {
        name: "wide4-noext",
        with_extension: false,
        seed: seed_wide4,
        by_default: false,
    },
];

impl Scenario {
    fn run(&self, bench: &mut Bench) {
        run_scenario(bench, self.name, self.with_extension, &self.seed);
    }
}

/// Starts instances A and B, seeds A with `seed`, and runs [`Bench::sequence`].
fn run_scenario(
    bench: &mut Bench,
    name: &str,
    with_extension: bool,
    seed: &dyn Fn(&DirectusInstance),
) {
    eprintln!("\n=== scenario {name} ===");
    let (a, b) = bench.setup(name, "start instances A and B", || {
        start_two(with_extension)
    });
    bench.setup(name, "seed A", || seed(&a));
    bench.sequence(name, &a, &b);
}

/// The `mixed` scenario at `size` in one store: `mixed×4`, `mixed×4-noext`.
fn run_mixed(bench: &mut Bench, size: usize, with_extension: bool) {
    let name = format!("mixed×{size}{}", if with_extension { "" } else { "-noext" });
    eprintln!("\n=== scenario {name} ===");
    let (a, b) = bench.setup(&name, "start instances A and B", || {
        start_two(with_extension)
    });
    bench.setup(&name, "seed A", || support::seed::mixed(&a, size));
    let counts = support::seed::tracked_counts(&a);
    eprintln!("[{name}] seeded: {}", format_counts(&counts));
    bench.seeded.push((name.clone(), counts));
    bench.mixed.push((name.clone(), size, with_extension));
    bench.sequence(&name, &a, &b);
}

/// What the command line asks for.
#[derive(Default)]
struct Args {
    /// Named scenarios (none: the default ones, unless `--size` or `--serve` is given).
    names: Vec<String>,
    /// `--size LIST`: sizes of the `mixed` scenario, ascending.
    sizes: Vec<usize>,
    /// `--store ext|noext`: `Some(true)` with the extension only, `Some(false)` without.
    store: Option<bool>,
    /// `--serve SIZE`.
    serve: Option<usize>,
}

const USAGE: &str = "usage: scripts/bench [SCENARIO...] [--size N[,N...]] [--store ext|noext]
       scripts/bench --serve N [--store ext|noext]
scenarios: seeded, big, big-noext, wide, wide-noext (these five are the default, run when
           neither a name nor --size is given), wide4, wide4-noext (4x, only when named);
--size: the mixed scenario (about 3,400 items, 40 collections, 600 fields per 1x) at each size,
        in both stores unless --store picks one; with several sizes, a table of ratios;
--serve: one instance seeded with mixed(N) (0: empty), kept running until Ctrl-C or stdin closes.";

fn parse_sizes(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let number = part
                .strip_suffix('x')
                .or_else(|| part.strip_suffix('×'))
                .unwrap_or(part);
            match number.parse::<usize>() {
                Ok(size) if size >= 1 => Ok(size),
                _ => Err(format!("not a size (a whole number from 1): {part:?}")),
            }
        })
        .collect()
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // `--size 4` or `--size=4`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            // What `cargo bench` passes to a harness=false bench.
            "--bench" => {}
            "--size" | "--sizes" => parsed.sizes.extend(parse_sizes(&value("--size")?)?),
            "--store" => {
                parsed.store = Some(match value("--store")?.as_str() {
                    "ext" => true,
                    "noext" => false,
                    other => return Err(format!("--store is ext or noext, not {other:?}")),
                })
            }
            // 0 serves an empty instance: the target of a first push profiled by hand.
            "--serve" => match value("--serve")?.as_str() {
                "0" => parsed.serve = Some(0),
                size => match parse_sizes(size)?.as_slice() {
                    [size] => parsed.serve = Some(*size),
                    _ => return Err("--serve takes one size".into()),
                },
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other if other.starts_with('-') => eprintln!("(ignoring the argument {other:?})"),
            name => {
                if !SCENARIOS.iter().any(|s| s.name == name) {
                    let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                    return Err(format!(
                        "unknown scenario {name:?}; known: {} (and --size N for mixed×N)",
                        names.join(", ")
                    ));
                }
                parsed.names.push(name.to_string());
            }
        }
    }
    parsed.sizes.sort_unstable();
    parsed.sizes.dedup();
    if parsed.serve.is_some() && (!parsed.names.is_empty() || !parsed.sizes.is_empty()) {
        return Err("--serve runs no scenario: give it alone (with --store)".into());
    }
    Ok(parsed)
}

/// Set by SIGINT / SIGTERM while `--serve` waits.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// `--serve SIZE`: one instance seeded with `mixed(size)`, kept until Ctrl-C or until stdin
/// closes; dropping it then stops node and removes its folder.
fn serve(size: usize, with_extension: bool) {
    // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
    unsafe {
        let handler = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    let store = if with_extension {
        "with directus-extension-sync"
    } else {
        "without the extension (the tool's own id-map collection)"
    };
    eprintln!("starting Directus 10.13.1 {store}…");
    let started = Instant::now();
    let instance = if with_extension {
        DirectusInstance::start()
    } else {
        DirectusInstance::start_without_extension()
    };
    let start_time = started.elapsed();
    eprintln!(
        "started in {:.2} s; seeding mixed×{size}…",
        start_time.as_secs_f64()
    );
    let started = Instant::now();
    if size > 0 {
        support::seed::mixed(&instance, size);
    }
    let seed_time = started.elapsed();
    let counts = support::seed::tracked_counts(&instance);
    println!();
    println!("Directus 10.13.1 {store}, seeded with mixed×{size}");
    println!("  URL:     {}", instance.url());
    println!("  token:   {}", instance.token());
    println!("  folder:  {} (directus.log)", instance.dir().display());
    println!(
        "  started in {:.2} s, seeded in {:.2} s",
        start_time.as_secs_f64(),
        seed_time.as_secs_f64()
    );
    println!("  items:   {}", format_counts(&counts));
    println!();
    println!(
        "export DIRECTUS_URL={} DIRECTUS_TOKEN={}",
        instance.url(),
        instance.token()
    );
    println!();
    println!("Running until Ctrl-C or until stdin closes (Ctrl-D).");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let (closed, stdin_closed) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        let _ = closed.send(());
    });
    while !STOP.load(Ordering::SeqCst) {
        match stdin_closed.recv_timeout(Duration::from_millis(200)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    eprintln!("stopping Directus at {}", instance.url());
    drop(instance);
}

fn main() {
    // Always the binary cargo built alongside this bench (same profile).
    let binary = env!("CARGO_BIN_EXE_directus-sync");
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("CARGO_BIN_EXE_directus-sync", binary) };

    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("{why}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Some(size) = args.serve {
        serve(size, args.store.unwrap_or(true));
        return;
    }
    eprintln!("directus-sync binary: {binary}");

    let started = Instant::now();
    let mut bench = Bench::default();
    let template = bench.setup("-", "template database", support::template_db);
    if template.build_time.is_none() {
        eprintln!("(template database reused from the cache)");
    }
    let by_default = args.names.is_empty() && args.sizes.is_empty();
    for scenario in &SCENARIOS {
        let named = args.names.iter().any(|s| s == scenario.name);
        if named || (by_default && scenario.by_default) {
            scenario.run(&mut bench);
        }
    }
    for &size in &args.sizes {
        for with_extension in [true, false] {
            if args.store.is_none_or(|store| store == with_extension) {
                run_mixed(&mut bench, size, with_extension);
            }
        }
    }
    bench.print(started.elapsed());
    if !bench.failures.is_empty() {
        std::process::exit(1);
    }
}

//! Test harness: real Directus 10.13.1 instances for the integration tests.
//!
//! Every integration test file does `mod support;` and then
//! `let inst = DirectusInstance::start();`. Each instance is a `node` process
//! running the npm package pinned in `tests/directus/package-lock.json`, on its
//! own free port, on its own copy of a bootstrapped SQLite template database.
//! Dropping the instance kills the process and removes its temp folder.
//!
//! `DirectusInstance::start_postgres()` / `start_mariadb()` run Directus on a
//! fresh database of the PostgreSQL / MariaDB server on this machine instead
//! ([`Server`]); dropping them also drops that database.
//!
//! `instance.ok(dir, args)` / `instance.run(dir, args)` run the CLI against it
//! ([`cli`]); [`dump`] reads and edits the dump folder it writes; [`seed`] fills
//! an instance with known configurations. The CLI, and `git` through [`git`], run in
//! a [`hermetic`] environment: nothing of the developer's shell, `~/.gitconfig` or
//! locale reaches them. [`mermaid`] runs Mermaid's own parser on the diagrams it prints.
//!
//! `scripts/test` installs `tests/directus/node_modules` and `tests/mermaid/node_modules`
//! (`npm ci`) before `cargo test`; without them every start, or every Mermaid check,
//! panics with a hint.
//!
//! Environment knobs:
//! - `DIRECTUS_TEST_INSTANCES` (default 2): how many tests may hold live
//!   instances at once in one test binary (see [`Permit`]).

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod cli;
pub mod dump;
pub mod mermaid;
pub mod proxy;
pub mod seed;

/// Declares each listed test twice: against instances with `directus-extension-sync` and
/// against instances without it, where the tool keeps SyncIds in a collection of its own.
/// Each body is a `fn(start: fn() -> DirectusInstance)`.
#[macro_export]
macro_rules! in_both_id_map_stores {
    ($($name:ident),* $(,)?) => {
        mod with_extension {
            $(#[test]
            fn $name() {
                super::$name(super::support::DirectusInstance::start)
            })*
        }
        mod without_extension {
            $(#[test]
            fn $name() {
                super::$name(super::support::DirectusInstance::start_without_extension)
            })*
        }
    };
}

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use serde_json::Value;

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "directus-sync-test-password";
/// Static token of the admin user, written by `bootstrap` (10.13.1 honours
/// `ADMIN_TOKEN`: it passes it to `UsersService.createOne`).
const ADMIN_TOKEN: &str = "directus-sync-test-admin-token";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `tests/directus`: the npm project holding the pinned Directus and extension.
pub fn directus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/directus")
}

fn directus_cli_js() -> PathBuf {
    let cli = directus_dir().join("node_modules/directus/cli.js");
    assert!(
        cli.exists(),
        "{} is missing: run `scripts/test` (or `npm ci` in tests/directus) first",
        cli.display()
    );
    cli
}

/// Environment shared by `bootstrap` and `start`. The node process gets ONLY
/// this (plus PATH/HOME): Directus reads lots of env vars (DB_*, PORT, KEY,
/// ...), so nothing from the developer's shell may leak in. `db` is the
/// database's `DB_*` variables ([`Storage::env`]).
fn base_command(cwd: &Path, db: &[(&str, OsString)]) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(directus_cli_js()).current_dir(cwd).env_clear();
    for keep in ["PATH", "HOME", "TMPDIR", "LANG"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.envs([
        ("KEY", "directus-sync-test-key"),
        ("SECRET", "directus-sync-test-secret"),
        ("LOG_LEVEL", "warn"),
        ("LOG_STYLE", "raw"),
        ("TELEMETRY", "false"),
    ]);
    cmd.envs(db.iter().map(|(k, v)| (k, v)));
    cmd
}

/// `directus bootstrap` on the database `db` describes: system tables and the
/// admin user with its static token. Panics with node's output on failure.
fn bootstrap(db: &[(&str, OsString)]) {
    // cwd without package.json: the CLI then loads no extensions.
    let cwd = tempfile::tempdir().unwrap();
    let out = base_command(cwd.path(), db)
        .arg("bootstrap")
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .expect("spawn node (is Node.js installed?)");
    assert!(
        out.status.success(),
        "directus bootstrap failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// Template database: bootstrapped once, copied per instance.
// ---------------------------------------------------------------------------

/// The bootstrapped SQLite template (system tables + admin user with static token).
pub struct TemplateDb {
    pub path: PathBuf,
    /// How long this process spent building it; `None` when it was reused
    /// from the cache (built earlier or by a parallel test process).
    pub build_time: Option<Duration>,
}

fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => manifest.join(dir), // join keeps an absolute dir as is
        None => manifest.join("target"),
    }
}

/// Returns the template, building it on first use. Cached under
/// `target/directus-template/<hash>.sqlite`, the hash covering the lockfile
/// (a Directus upgrade rebuilds it) and the admin credentials. An exclusive
/// file lock makes parallel threads and parallel test processes (nextest)
/// build it only once.
pub fn template_db() -> &'static TemplateDb {
    static TEMPLATE: OnceLock<TemplateDb> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let lock_json = directus_dir().join("package-lock.json");
        let lockfile = fs::read(&lock_json)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", lock_json.display()));
        let mut hasher = DefaultHasher::new();
        (lockfile, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN).hash(&mut hasher);
        let key = format!("{:016x}", hasher.finish());

        let dir = target_dir().join("directus-template");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{key}.sqlite"));
        let lock = File::create(dir.join(format!("{key}.lock"))).unwrap();
        lock.lock().expect("lock the template build"); // released on drop
        if path.exists() {
            return TemplateDb {
                path,
                build_time: None,
            };
        }
        let started = Instant::now();
        // Build beside the final path, then rename: a crashed build never
        // leaves a half-made template behind.
        let building = dir.join(format!("{key}.building.sqlite"));
        let _ = fs::remove_file(&building);
        bootstrap(&Storage::Sqlite(building.clone()).env());
        assert!(building.exists(), "directus bootstrap wrote no database");
        fs::rename(&building, &path).unwrap();
        TemplateDb {
            path,
            build_time: Some(started.elapsed()),
        }
    })
}

// ---------------------------------------------------------------------------
// Database servers: PostgreSQL and MariaDB on this machine.
// ---------------------------------------------------------------------------

/// A database server the vendor tests run Directus on: a fresh database per
/// instance, created before `bootstrap` and dropped with the instance. No
/// silent skip: an unreachable server fails the test with how to start it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL at 127.0.0.1:5432, user `postgres`, trust auth.
    Postgres,
    /// MariaDB at 127.0.0.1:3306, user `root`, no password (Directus' `mysql` client).
    MariaDb,
}

const SERVER_HOST: &str = "127.0.0.1";

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Postgres => "PostgreSQL",
            Server::MariaDb => "MariaDB",
        }
    }

    pub fn port(self) -> u16 {
        match self {
            Server::Postgres => 5432,
            Server::MariaDb => 3306,
        }
    }

    /// Directus' `DB_CLIENT` for it.
    pub fn db_client(self) -> &'static str {
        match self {
            Server::Postgres => "pg",
            Server::MariaDb => "mysql",
        }
    }

    fn user(self) -> &'static str {
        match self {
            Server::Postgres => "postgres",
            Server::MariaDb => "root",
        }
    }

    fn start_hint(self) -> &'static str {
        match self {
            Server::Postgres => {
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            }
            Server::MariaDb => {
                "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
            }
        }
    }

    /// Panics, saying how to start it, when nothing listens on its port.
    fn ensure_reachable(self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port()));
        if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
            panic!(
                "{} is not reachable at {addr} ({e}); the {} tests need it running: start it with\n    {}",
                self.name(),
                self.name(),
                self.start_hint()
            );
        }
    }

    /// Runs one SQL statement as the admin user; returns the first column of
    /// each row. Uses `psql` / `mariadb` when installed, else node with the
    /// driver Directus ships (`pg` / `mysql`).
    fn sql(self, statement: &str) -> Result<Vec<String>, String> {
        let mut cmd = match self {
            Server::Postgres => {
                let mut cmd = Command::new("psql");
                cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
                    .args(["-h", SERVER_HOST, "-p", &self.port().to_string()])
                    .args(["-U", self.user(), "-d", "postgres", "-c", statement]);
                cmd
            }
            Server::MariaDb => {
                let mut cmd = Command::new("mariadb");
                // --no-defaults: no ~/.my.cnf steering the test.
                cmd.args(["--no-defaults", "-N", "-B"])
                    .args(["-h", SERVER_HOST, "-P", &self.port().to_string()])
                    .args(["-u", self.user(), "-e", statement]);
                cmd
            }
        };
        let out = match cmd.stdin(Stdio::null()).output() {
            Err(e) if e.kind() == ErrorKind::NotFound => self.node_sql(statement),
            other => other,
        }
        .map_err(|e| format!("cannot run the {} client: {e}", self.name()))?;
        if !out.status.success() {
            return Err(format!(
                "{statement}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|line| !line.is_empty())
            .collect())
    }

    fn node_sql(self, statement: &str) -> std::io::Result<std::process::Output> {
        const PG: &str = r#"
            const { Client } = require(process.env.DRIVER);
            const client = new Client({ host: process.env.HOST, port: +process.env.PORT,
                                        user: process.env.USER_NAME, database: 'postgres' });
            client.connect()
                .then(() => client.query(process.env.SQL))
                .then((result) => {
                    for (const row of result.rows ?? []) console.log(Object.values(row)[0]);
                    return client.end();
                })
                .catch((e) => { console.error(e.message); process.exit(1); });
        "#;
        const MYSQL: &str = r#"
            const mysql = require(process.env.DRIVER);
            const connection = mysql.createConnection({ host: process.env.HOST, port: +process.env.PORT,
                                                        user: process.env.USER_NAME, password: '' });
            connection.query(process.env.SQL, (e, rows) => {
                if (e) { console.error(e.message); process.exit(1); }
                if (Array.isArray(rows)) for (const row of rows) console.log(Object.values(row)[0]);
                connection.end();
            });
        "#;
        let (script, driver) = match self {
            Server::Postgres => (PG, "pg"),
            Server::MariaDb => (MYSQL, "mysql"),
        };
        Command::new("node")
            .args(["-e", script])
            .env("DRIVER", directus_dir().join("node_modules").join(driver))
            .env("HOST", SERVER_HOST)
            .env("PORT", self.port().to_string())
            .env("USER_NAME", self.user())
            .env("SQL", statement)
            .stdin(Stdio::null())
            .output()
    }

    fn sql_or_panic(self, statement: &str) -> Vec<String> {
        self.sql(statement)
            .unwrap_or_else(|e| panic!("{} at {SERVER_HOST}:{}: {e}", self.name(), self.port()))
    }

    fn create_database(self, name: &str) {
        self.sql_or_panic(&match self {
            Server::Postgres => format!("CREATE DATABASE {name}"),
            Server::MariaDb => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        });
    }

    fn drop_database(self, name: &str) -> Result<(), String> {
        self.sql(&match self {
            // FORCE: a connection node left behind must not keep it alive.
            Server::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Server::MariaDb => format!("DROP DATABASE IF EXISTS {name}"),
        })
        .map(drop)
    }

    /// Whether the server has a database of that name (to check that an
    /// instance's drop dropped its database).
    pub fn has_database(self, name: &str) -> bool {
        self.sql_or_panic(self.list_databases())
            .iter()
            .any(|db| db == name)
    }

    fn list_databases(self) -> &'static str {
        match self {
            Server::Postgres => "SELECT datname FROM pg_database",
            Server::MariaDb => "SHOW DATABASES",
        }
    }

    /// Drops the databases a killed test process of this machine left behind
    /// (its pid is gone, or is ours: we have created none yet). Once per
    /// server and process, before its first database.
    fn drop_leftovers(self) {
        static DONE: [OnceLock<()>; 2] = [OnceLock::new(), OnceLock::new()];
        DONE[self as usize].get_or_init(|| {
            let prefix = database_prefix();
            for name in self.sql_or_panic(self.list_databases()) {
                let Some(pid) = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|pid| pid.parse::<u32>().ok())
                else {
                    continue;
                };
                if pid == std::process::id() || !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = self.drop_database(&name);
                }
            }
        });
    }
}

/// `dstest_<host>_`: the machine's part of the database names. A server shared
/// by several machines (CI containers) thus only ever sees a machine drop its
/// own leftovers.
fn database_prefix() -> String {
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    let hash = host.trim().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("dstest_{:08x}_", hash as u32)
}

/// A database of its own on a [`Server`]; dropping it drops the database.
struct ServerDb {
    server: Server,
    name: String,
}

impl ServerDb {
    /// `dstest_<host>_<pid>_<n>`, new on `server`.
    fn create(server: Server) -> ServerDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        server.ensure_reachable();
        server.drop_leftovers();
        let name = format!(
            "{}{}_{}",
            database_prefix(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        server.create_database(&name);
        ServerDb { server, name }
    }
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        if let Err(e) = self.server.drop_database(&self.name) {
            eprintln!(
                "could not drop {} database {}: {e}",
                self.server.name(),
                self.name
            );
        }
    }
}

/// Where an instance keeps its data.
enum Storage {
    Sqlite(PathBuf),
    Server(ServerDb),
}

impl Storage {
    /// Its `DB_*` environment variables for Directus.
    fn env(&self) -> Vec<(&'static str, OsString)> {
        match self {
            Storage::Sqlite(path) => vec![
                ("DB_CLIENT", "sqlite3".into()),
                ("DB_FILENAME", path.into()),
            ],
            Storage::Server(db) => vec![
                ("DB_CLIENT", db.server.db_client().into()),
                ("DB_HOST", SERVER_HOST.into()),
                ("DB_PORT", db.server.port().to_string().into()),
                ("DB_DATABASE", db.name.clone().into()),
                ("DB_USER", db.server.user().into()),
                // Directus' mysql client insists on the variable, even empty.
                ("DB_PASSWORD", "".into()),
            ],
        }
    }
}

// ---------------------------------------------------------------------------
// Bounded parallelism.
// ---------------------------------------------------------------------------

/// Held by every instance. At most `DIRECTUS_TEST_INSTANCES` (default 2)
/// TESTS hold live instances at once; a test waits for its first instance
/// only. Why tests and not instances: a test needing a source and a target
/// would deadlock against another test holding one instance and waiting for
/// its second. A test is its libtest thread, which libtest names after the
/// test; helper threads a test spawns (`thread::scope`, unnamed) neither wait
/// nor count, since their test already got its turn (or runs no Directus of
/// its own, which is no load worth bounding). So at most
/// N × (instances per test) nodes run at once.
struct Permit {
    /// `None` for a helper thread's permit (not counted).
    thread: Option<ThreadId>,
}

struct Slots {
    /// Test threads holding instances, with how many each holds.
    held: Mutex<HashMap<ThreadId, usize>>,
    freed: Condvar,
    max: usize,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| Slots {
        held: Mutex::new(HashMap::new()),
        freed: Condvar::new(),
        max: std::env::var("DIRECTUS_TEST_INSTANCES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2usize)
            .max(1),
    })
}

fn lock_slots(s: &Slots) -> MutexGuard<'_, HashMap<ThreadId, usize>> {
    // A panicking test must not poison the harness for all the others.
    s.held.lock().unwrap_or_else(|e| e.into_inner())
}

impl Permit {
    fn acquire() -> Permit {
        let current = thread::current();
        if current.name().is_none() {
            return Permit { thread: None };
        }
        let thread = current.id();
        let s = slots();
        let mut held = lock_slots(s);
        while !held.contains_key(&thread) && held.len() >= s.max {
            held = s.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held.entry(thread).or_insert(0) += 1;
        Permit {
            thread: Some(thread),
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(thread) = self.thread else { return };
        let s = slots();
        let mut held = lock_slots(s);
        if let Some(n) = held.get_mut(&thread) {
            *n -= 1;
            if *n == 0 {
                held.remove(&thread);
            }
        }
        s.freed.notify_all();
    }
}

// ---------------------------------------------------------------------------
// Process spawning tied to the test process' life.
// ---------------------------------------------------------------------------

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `cmd` so that node dies with the test binary: PR_SET_PDEATHSIG
/// kills the child when the THREAD that forked it exits, and test threads end
/// after each test, so all forks happen on one spawner thread that lives as
/// long as the process (an instance kept in a `static` survives its test).
fn spawn_tied(mut cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        thread::Builder::new()
            .name("directus-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .unwrap();
        Mutex::new(tx)
    });
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl/getppid/_exit are async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(1); // the test process died before prctl
                }
            }
            Ok(())
        });
    }
    // Own process group, so Drop can kill anything node may have started.
    cmd.process_group(0);
    let (tx, rx) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, tx))
        .unwrap();
    rx.recv().unwrap()
}

// ---------------------------------------------------------------------------
// The instance.
// ---------------------------------------------------------------------------

/// A running Directus 10.13.1; dropping it stops the process (kill + wait),
/// drops its database (PostgreSQL, MariaDB) and removes its temp folder.
pub struct DirectusInstance {
    child: Child,
    port: u16,
    url: String,
    with_extension: bool,
    agent: ureq::Agent,
    // Dropped after `Drop::drop` killed node: the database goes, then the
    // folder, then the slot.
    storage: Storage,
    dir: tempfile::TempDir,
    _permit: Permit,
    /// Directus environment variables of `start_with_env`, on top of (and winning over) the
    /// harness' own; `restart` keeps them.
    extra_env: Vec<(String, String)>,
}

impl DirectusInstance {
    /// Starts an instance with the `directus-extension-sync` endpoint loaded.
    pub fn start() -> DirectusInstance {
        Self::launch(true)
    }

    /// Starts an instance with no extension at all (the id-map routes give
    /// Directus' ROUTE_NOT_FOUND).
    pub fn start_without_extension() -> DirectusInstance {
        Self::launch(false)
    }

    /// Starts an instance (with the extension) on a fresh PostgreSQL database.
    pub fn start_postgres() -> DirectusInstance {
        Self::launch_on(Server::Postgres, true)
    }

    /// Starts an instance (with the extension) on a fresh MariaDB database.
    pub fn start_mariadb() -> DirectusInstance {
        Self::launch_on(Server::MariaDb, true)
    }

    /// Starts an instance on a fresh database of `server`, bootstrapped for
    /// it (seconds: no template to copy).
    pub fn start_on(server: Server, with_extension: bool) -> DirectusInstance {
        Self::launch_on(server, with_extension)
    }

    /// Starts an instance (with the extension) whose Directus also gets `env`, e.g.
    /// `&[("MAX_BATCH_MUTATION", "10")]` or the rate limiter's variables; they win over the
    /// harness' defaults (`RATE_LIMITER_ENABLED=false`...).
    pub fn start_with_env(env: &[(&str, &str)]) -> DirectusInstance {
        Self::launch_with_env(true, env)
    }

    /// [`start_with_env`](Self::start_with_env) without the extension.
    pub fn start_without_extension_with_env(env: &[(&str, &str)]) -> DirectusInstance {
        Self::launch_with_env(false, env)
    }

    fn launch_with_env(with_extension: bool, env: &[(&str, &str)]) -> DirectusInstance {
        let template = template_db();
        let permit = Permit::acquire();
        let dir = instance_dir();
        let db = dir.path().join("data.sqlite");
        fs::copy(&template.path, &db).unwrap();
        let env = env
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Self::serve_with_env(Storage::Sqlite(db), dir, with_extension, permit, env)
    }

    fn launch(with_extension: bool) -> DirectusInstance {
        let template = template_db();
        let permit = Permit::acquire();
        let dir = instance_dir();
        let db = dir.path().join("data.sqlite");
        fs::copy(&template.path, &db).unwrap();
        Self::serve(Storage::Sqlite(db), dir, with_extension, permit)
    }

    fn launch_on(server: Server, with_extension: bool) -> DirectusInstance {
        let permit = Permit::acquire();
        let dir = instance_dir();
        // Created first: a failing bootstrap or start drops it again.
        let storage = Storage::Server(ServerDb::create(server));
        bootstrap(&storage.env());
        Self::serve(storage, dir, with_extension, permit)
    }

    /// Starts node on `storage` (bootstrapped) and waits until it answers.
    fn serve(
        storage: Storage,
        dir: tempfile::TempDir,
        with_extension: bool,
        permit: Permit,
    ) -> DirectusInstance {
        Self::serve_with_env(storage, dir, with_extension, permit, Vec::new())
    }

    /// [`serve`](Self::serve) with extra Directus environment variables.
    fn serve_with_env(
        storage: Storage,
        dir: tempfile::TempDir,
        with_extension: bool,
        permit: Permit,
        extra_env: Vec<(String, String)>,
    ) -> DirectusInstance {
        fs::create_dir_all(dir.path().join("extensions")).unwrap();
        fs::create_dir_all(dir.path().join("uploads")).unwrap();
        let cwd = instance_cwd(dir.path(), with_extension);
        let agent = new_agent();
        let db_env = storage.env();

        // The free port is released before node binds it; on the rare race
        // with another process, node exits with EADDRINUSE: try another port.
        let log_path = dir.path().join("directus.log");
        for attempt in 1.. {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let log = File::create(&log_path).unwrap();
            let mut cmd = start_command(&cwd, &db_env, dir.path(), port, &url, log);
            cmd.envs(extra_env.iter().map(|(k, v)| (k, v)));
            let mut child = spawn_tied(cmd).expect("spawn node (is Node.js installed?)");
            match wait_ready(&agent, &url, &mut child) {
                Ok(()) => {
                    return DirectusInstance {
                        child,
                        port,
                        url,
                        with_extension,
                        agent,
                        storage,
                        dir,
                        _permit: permit,
                        extra_env,
                    };
                }
                Err(why) => {
                    kill(&mut child);
                    let tail = log_tail(&log_path);
                    if attempt < 5 && tail.contains("EADDRINUSE") {
                        continue;
                    }
                    panic!(
                        "Directus at {url} did not start: {why}\n--- {} (tail) ---\n{tail}",
                        log_path.display()
                    );
                }
            }
        }
        unreachable!()
    }

    /// Stops node (its whole process group) and starts it again on the same port, database
    /// and folder, with or without `directus-extension-sync`: an instance whose extension was
    /// installed or removed, its data untouched. The log goes on in the same `directus.log`.
    #[track_caller]
    pub fn restart(&mut self, with_extension: bool) {
        kill(&mut self.child);
        let cwd = instance_cwd(self.dir.path(), with_extension);
        let db_env = self.storage.env();
        let log_path = self.dir.path().join("directus.log");
        // Pooled connections went with the old process.
        self.agent = new_agent();
        // The port was ours a moment ago; another process may grab it in between, rarely:
        // then there is no other port to go to (the URL is the instance's identity).
        for attempt in 1.. {
            let log = match File::options().append(true).create(true).open(&log_path) {
                Ok(log) => log,
                Err(e) => panic!("cannot open {}: {e}", log_path.display()),
            };
            let mut cmd = start_command(&cwd, &db_env, self.dir.path(), self.port, &self.url, log);
            cmd.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
            let mut child = match spawn_tied(cmd) {
                Ok(child) => child,
                Err(e) => panic!("spawn node again: {e}"),
            };
            match wait_ready(&self.agent, &self.url, &mut child) {
                Ok(()) => {
                    self.child = child;
                    self.with_extension = with_extension;
                    return;
                }
                Err(why) => {
                    kill(&mut child);
                    let tail = log_tail(&log_path);
                    if attempt < 10 && tail.contains("EADDRINUSE") {
                        thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                    panic!(
                        "Directus at {} did not restart: {why}\n--- {} (tail) ---\n{tail}",
                        self.url,
                        log_path.display()
                    );
                }
            }
        }
    }

    /// The database server it runs on; `None` for SQLite.
    pub fn server(&self) -> Option<Server> {
        match &self.storage {
            Storage::Sqlite(_) => None,
            Storage::Server(db) => Some(db.server),
        }
    }

    /// The `vendor` Directus writes into its schema snapshots: `sqlite`,
    /// `postgres` or `mysql` (MariaDB).
    pub fn vendor(&self) -> &'static str {
        match self.server() {
            None => "sqlite",
            Some(Server::Postgres) => "postgres",
            Some(Server::MariaDb) => "mysql",
        }
    }

    /// Name of its database on the server; `None` for SQLite.
    pub fn database(&self) -> Option<&str> {
        match &self.storage {
            Storage::Sqlite(_) => None,
            Storage::Server(db) => Some(&db.name),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Static token of the admin user.
    pub fn token(&self) -> &str {
        ADMIN_TOKEN
    }

    pub fn email(&self) -> &str {
        ADMIN_EMAIL
    }

    pub fn password(&self) -> &str {
        ADMIN_PASSWORD
    }

    pub fn with_extension(&self) -> bool {
        self.with_extension
    }

    /// Process id of node (to check that drop really ended it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The instance's temp folder (SQLite database, uploads, `directus.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Last lines of the Directus process' stdout/stderr.
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir.path().join("directus.log"))
    }

    // -- REST helpers (blocking, admin token) --------------------------------

    /// Any request; returns status and raw body, never panics on status.
    /// `path` starts with `/`, e.g. `/collections?limit=-1`.
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let result = match (method, body) {
            ("GET", None) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", None) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            ("DELETE", Some(b)) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .force_send_body()
                .send_json(b),
            ("POST", b) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_json(b.unwrap_or(&Value::Null)),
            ("PATCH", b) => self
                .agent
                .patch(&url)
                .header("Authorization", &auth)
                .send_json(b.unwrap_or(&Value::Null)),
            _ => panic!("unsupported request {method} {path}"),
        };
        // `match`, not `unwrap_or_else(|e| panic!(..))`: a closure's panic would name this
        // file, not the test's line.
        let mut resp = match result {
            Ok(resp) => resp,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string();
        let text = match body {
            Ok(text) => text,
            Err(e) => panic!("{method} {path}: reading body: {e}"),
        };
        (status, text)
    }

    /// Like [`request`](Self::request) but panics (with method, path, status
    /// and body) on a non-2xx answer; returns the `data` member (or `Null`
    /// for an empty body, e.g. 204).
    #[track_caller]
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, text) = self.request(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {text}"
        );
        if text.trim().is_empty() {
            return Value::Null;
        }
        let mut json: Value = match serde_json::from_str(&text) {
            Ok(json) => json,
            Err(e) => panic!("{method} {path}: not JSON ({e}): {text}"),
        };
        json.get_mut("data").map(Value::take).unwrap_or(json)
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Value {
        self.call("GET", path, None)
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> Value {
        self.call("POST", path, Some(body))
    }

    #[track_caller]
    pub fn patch(&self, path: &str, body: &Value) -> Value {
        self.call("PATCH", path, Some(body))
    }

    #[track_caller]
    pub fn delete(&self, path: &str) {
        self.call("DELETE", path, None);
    }

    // -- the CLI under test --------------------------------------------------

    /// `directus-sync` run in `dir` against this instance: [`bin`]'s hermetic environment plus
    /// `DIRECTUS_URL` and `DIRECTUS_TOKEN`. `NODE_PATH` lets JS config files
    /// `require('@directus/sdk')` as users' projects do.
    pub fn cli(&self, dir: impl AsRef<Path>) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.cli_command(dir))
    }

    /// [`cli`](Self::cli) as a plain [`Command`], for tests that spawn it and talk to its pipes.
    pub fn cli_command(&self, dir: impl AsRef<Path>) -> Command {
        let mut cmd = bin_command();
        cmd.current_dir(dir.as_ref())
            .env("DIRECTUS_URL", &self.url)
            .env("DIRECTUS_TOKEN", ADMIN_TOKEN)
            .env("NODE_PATH", directus_dir().join("node_modules"));
        cmd
    }
}

/// Starts two instances side by side: a start takes seconds, mostly waiting on node.
pub fn start_two(
    a: fn() -> DirectusInstance,
    b: fn() -> DirectusInstance,
) -> (DirectusInstance, DirectusInstance) {
    thread::scope(|s| {
        let a = s.spawn(a);
        let b = s.spawn(b);
        // A start that panicked fails the test with its own message.
        let join = |h: thread::ScopedJoinHandle<'_, DirectusInstance>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        (join(a), join(b))
    })
}

impl Drop for DirectusInstance {
    fn drop(&mut self) {
        kill(&mut self.child);
        if thread::panicking() {
            eprintln!(
                "--- Directus {} log (tail) ---\n{}",
                self.url,
                self.log_tail()
            );
        }
    }
}

/// The `directus-sync` binary in a hermetic environment ([`hermetic`]).
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::from_std(bin_command())
}

/// [`bin`] as a plain [`Command`], for tests that spawn it and talk to its pipes.
pub fn bin_command() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("directus-sync"));
    hermetic(&mut cmd);
    cmd
}

/// `git ARGS` run in `dir` in the same hermetic environment as the binary; panics with git's
/// stderr when it fails, returns its stdout.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    hermetic(&mut cmd);
    let output = match cmd.current_dir(dir).args(args).output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run git {args:?} (is git installed?): {e}"),
    };
    assert!(
        output.status.success(),
        "git {args:?} in {} failed ({}): {}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git's output is UTF-8")
}

/// Author and committer of every commit the tests make with the `git` command line.
pub const GIT_USER_NAME: &str = "Test User";
pub const GIT_USER_EMAIL: &str = "test.user@example.com";
/// Author and committer date of those commits (libgit2's own commits, made by the binary,
/// keep the current time: `Signature::now`).
pub const GIT_DATE: &str = "2001-02-03T04:05:06+00:00";

/// Makes `cmd` (the binary or `git`) independent of the developer's shell and files, the way
/// jj's test environment does, short of `env_clear` (node needs `PATH`, JS config files
/// `NODE_PATH`):
/// - every inherited `DIRECTUS_*` and `GIT_*` variable is removed, and `XDG_CONFIG_HOME`;
/// - `HOME` is an empty folder of this test process, so neither git nor libgit2 (the git2
///   crate, which reads `$HOME/.gitconfig` and `$XDG_CONFIG_HOME/git/config`) sees the
///   developer's configuration;
/// - `GIT_CONFIG_GLOBAL` / `GIT_CONFIG_SYSTEM` are `/dev/null` and `GIT_CONFIG_NOSYSTEM=1`
///   for the git command line; a fixed author, committer and date;
/// - `NO_COLOR=1`, `TZ=UTC`, `LANG=C` (and no `LC_*`).
pub fn hermetic(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("DIRECTUS_")
            || name.starts_with("GIT_")
            || name.starts_with("LC_")
            || name == "XDG_CONFIG_HOME"
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", test_home())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", GIT_USER_NAME)
        .env("GIT_AUTHOR_EMAIL", GIT_USER_EMAIL)
        .env("GIT_AUTHOR_DATE", GIT_DATE)
        .env("GIT_COMMITTER_NAME", GIT_USER_NAME)
        .env("GIT_COMMITTER_EMAIL", GIT_USER_EMAIL)
        .env("GIT_COMMITTER_DATE", GIT_DATE)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env("LANG", "C");
}

/// The `HOME` of every command [`hermetic`] prepares: one empty folder per test process,
/// under cargo's `target/tmp` (nothing writes into it: git's global config is `/dev/null`).
fn test_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("home-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("create the tests' HOME")
    })
    .path()
}

/// The working directory node runs in. Directus loads npm extensions only from the
/// package.json (and node_modules) of its working directory, and skips all of them when there
/// is none: tests/directus has the extension, the instance's folder gets an empty package.json.
fn instance_cwd(dir: &Path, with_extension: bool) -> PathBuf {
    if with_extension {
        return directus_dir();
    }
    fs::write(
        dir.join("package.json"),
        r#"{"name":"instance","private":true}"#,
    )
    .unwrap();
    dir.to_path_buf()
}

/// The HTTP client of the REST helpers: statuses are answers, not errors.
fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// `directus start` on `db_env` at `url` (port `port`), with the instance folder `dir`
/// holding uploads and the (empty) extensions folder, and its output into `log`.
fn start_command(
    cwd: &Path,
    db_env: &[(&str, OsString)],
    dir: &Path,
    port: u16,
    url: &str,
    log: File,
) -> Command {
    let mut cmd = base_command(cwd, db_env);
    cmd.arg("start")
        .envs([
            ("HOST", "127.0.0.1"),
            ("STORAGE_LOCATIONS", "local"),
            ("CACHE_ENABLED", "false"),
            ("RATE_LIMITER_ENABLED", "false"),
            // Its default answers 503 "Under pressure" to busy tests.
            ("PRESSURE_LIMITER_ENABLED", "false"),
            ("WEBSOCKETS_ENABLED", "false"),
            ("SERVE_APP", "false"), // no admin app needed: faster, quieter
            ("EMAIL_VERIFY_SETUP", "false"),
            ("EXTENSIONS_AUTO_RELOAD", "false"),
        ])
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", url)
        .env("EXTENSIONS_PATH", dir.join("extensions"))
        .env("STORAGE_LOCAL_ROOT", dir.join("uploads"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    cmd
}

fn instance_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("directus-test-")
        .tempdir()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Polls `GET /server/ping` until it answers `pong`.
fn wait_ready(agent: &ureq::Agent, url: &str, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let ping = format!("{url}/server/ping");
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("node exited early ({status})"));
        }
        if let Ok(mut resp) = agent
            .get(&ping)
            .config()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .call()
            && resp.status() == 200
            && resp.body_mut().read_to_string().is_ok_and(|b| b == "pong")
        {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!("no pong within {START_TIMEOUT:?}"))
}

/// Kills node's whole process group and reaps it (idempotent).
fn kill(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: plain syscall; the group id is node's pid (process_group(0)).
        unsafe {
            libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

fn log_tail(path: &Path) -> String {
    const TAIL: u64 = 8 * 1024;
    let Ok(mut file) = File::open(path) else {
        return String::from("(no log)");
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

//! One module per command; each composes the domain modules and never talks HTTP or touches
//! files on its own.

mod diff;
mod helpers;
mod log;
mod pull;
mod push;
mod status;

use crate::cli::{Cli, Command, CommandError, ErrorKind, ExitCode, logging};
use crate::collections::{COLLECTIONS, CollectionSpec};
use crate::config::{Options, Overrides};
use crate::directus::{Client, DirectusError, Me, Request, ServerInfo};
use crate::dump::{self, DirSource, DumpSource};
use crate::git::{DumpRepo, GitError};
use crate::hooks::{HookClient, HookError, HookName, Hooks};
use crate::idmap::{IdMapError, IdMapStore};
use crate::instance::Instance;
use crate::plan::{Plan, build::DumpItems, build_collections};
use crate::snapshot::Snapshot;
use reqwest::Method;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<ExitCode, CommandError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CommandError::user(format!("cannot read the current directory: {e}")))?;
    let overrides = cli.overrides(matches);
    let config_path = cli.global.config_path.clone();
    let (options, warnings) = Options::resolve(&cwd, config_path.as_deref(), overrides.clone())?;
    logging::init(options.debug);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    match &options.config_file {
        Some(path) => tracing::debug!("loaded config file {}", path.display()),
        None => tracing::debug!("no config file found in {}", cwd.display()),
    }
    let config_dir = options
        .config_file
        .as_ref()
        .and_then(|file| file.parent())
        .map_or_else(|| cwd.clone(), Path::to_path_buf);
    let hooks = Hooks::from_config(options.hooks.as_ref(), config_dir)
        .map_err(|e| CommandError::new(ErrorKind::Config, e))?;
    tracing::debug!("effective options: {}", options.describe());
    let context = Context {
        options,
        cwd,
        config_path,
        overrides,
        hooks,
        started: Instant::now(),
    };
    match &cli.command {
        Command::Pull(args) => pull::run(&context, args).await,
        Command::Diff(args) => diff::run(&context, args).await,
        Command::Push(args) => push::run(&context, args).await,
        Command::Log(args) => log::run(&context, args).await,
        Command::Status(args) => status::run(&context, args).await,
        Command::Helpers(command) => helpers::run(&context, command).await,
    }
}

/// What every command knows: the effective options and where it runs.
pub struct Context {
    pub options: Options,
    pub cwd: PathBuf,
    config_path: Option<PathBuf>,
    overrides: Overrides,
    pub hooks: Hooks,
    started: Instant,
}

/// An authenticated client to an instance whose version was checked.
pub struct Connection {
    pub client: Client,
    pub server: ServerInfo,
    pub me: Me,
    /// Where this instance keeps SyncIds; a push or pull may create the store midway.
    store: std::sync::Mutex<IdMapStore>,
}

impl Connection {
    /// The live state of the collections of this run.
    pub async fn read_instance(
        &self,
        specs: &[&'static CollectionSpec],
    ) -> Result<Instance, DirectusError> {
        self.read_instance_with(specs, &HashMap::new()).await
    }

    /// The live state, each collection read with the query an `onQuery` hook gave.
    pub async fn read_instance_with(
        &self,
        specs: &[&'static CollectionSpec],
        queries: &HashMap<&'static str, serde_json::Value>,
    ) -> Result<Instance, DirectusError> {
        let (role, store) = (self.me.role.clone(), self.store());
        Instance::read(&self.client, specs, role, store, queries).await
    }

    pub fn store(&self) -> IdMapStore {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// After a command created the store: later reads of this run must see its rows.
    pub fn set_store(&self, store: IdMapStore) {
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = store;
    }
}

/// A dump read and checked, ready to be compared with instances.
pub struct LoadedDump {
    pub snapshot: Option<Snapshot>,
    pub items: DumpItems,
}

impl LoadedDump {
    /// The same configuration (key order and formatting aside).
    pub fn same_as(&self, other: &LoadedDump) -> bool {
        let by_sync_id = |items: &[serde_json::Value]| {
            let mut sorted = items.to_vec();
            sorted.sort_by(|a, b| a["_syncId"].as_str().cmp(&b["_syncId"].as_str()));
            serde_json::Value::Array(sorted)
        };
        let snapshots = match (&self.snapshot, &other.snapshot) {
            (Some(a), Some(b)) => crate::plan::json_equal(&a.0, &b.0),
            (None, None) => true,
            _ => false,
        };
        snapshots
            && self.items.len() == other.items.len()
            && self.items.iter().all(|(name, items)| {
                other.items.get(name).is_some_and(|theirs| {
                    crate::plan::json_equal(&by_sync_id(items), &by_sync_id(theirs))
                })
            })
    }
}

impl From<GitError> for CommandError {
    fn from(error: GitError) -> Self {
        let hint = error.hint();
        let kind = match error {
            GitError::Git(_) => ErrorKind::Internal,
            _ => ErrorKind::User,
        };
        CommandError::hinted(kind, error, hint)
    }
}

impl From<IdMapError> for CommandError {
    fn from(error: IdMapError) -> Self {
        match error {
            IdMapError::Directus(error) => error.into(),
            missing @ IdMapError::ExtensionMissing => CommandError::new(ErrorKind::Config, missing)
                .hint("install directus-extension-sync, or use --id-map collection (no server install needed)"),
        }
    }
}

impl Context {
    pub fn dump_root(&self) -> PathBuf {
        crate::config::normalize(&self.cwd.join(&self.options.dump_path))
    }

    /// The options of another environment of the same config file.
    pub fn options_for(&self, environment: &str) -> Result<Options, CommandError> {
        let overrides = Overrides {
            environment: Some(environment.to_string()),
            ..self.overrides.clone()
        };
        Ok(Options::resolve(&self.cwd, self.config_path.as_deref(), overrides)?.0)
    }

    /// The dump in the working tree, or in a git revision.
    pub fn dump_source(&self, revision: Option<&str>) -> Result<Box<dyn DumpSource>, CommandError> {
        match revision {
            None => Ok(Box::new(DirSource::new(self.dump_root()))),
            Some(rev) => Ok(Box::new(DumpRepo::require(&self.dump_root())?.source(rev)?)),
        }
    }

    /// Logs in, checks that the server is a Directus 10 and clears its caches so that every
    /// read sees the current configuration.
    pub async fn connect(&self, force: bool) -> Result<Connection, CommandError> {
        let connection = connect(&self.options, force).await?;
        self.hooks.set_client(HookClient {
            url: connection.client.base_url().to_string(),
            token: connection.client.bearer_token().await?,
        });
        Ok(connection)
    }

    /// The collections of this run, in push order.
    pub fn specs(&self) -> Vec<&'static CollectionSpec> {
        specs_of(&self.options)
    }

    /// Reads and checks every file of the dump before anything is compared.
    pub async fn load_dump(&self, source: &dyn DumpSource) -> Result<LoadedDump, CommandError> {
        load_dump(&self.options, &self.hooks, source).await
    }

    /// Builds the plan that turns the instance into the dump.
    pub async fn plan(
        &self,
        connection: &Connection,
        force: bool,
        source: &dyn DumpSource,
    ) -> Result<(Plan, Instance), CommandError> {
        let dump = self.load_dump(source).await?;
        let specs = self.specs();
        let instance = connection.read_instance(&specs);
        let (schema, instance) = tokio::try_join!(schema_diff(connection, &dump, force), instance)?;
        let plan = plan_for(&specs, &dump, &instance, schema);
        Ok((plan, instance))
    }

    /// Colors on stdout only for a terminal, and never with `NO_COLOR`.
    pub fn color(&self) -> bool {
        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
    }

    /// The closing line: how long the command took and how many requests it sent.
    pub fn finish(&self, connection: &Connection) {
        tracing::info!(
            "done in {:.2} s ({} requests to Directus)",
            self.started.elapsed().as_secs_f64(),
            connection.client.request_count()
        );
    }
}

pub async fn connect(options: &Options, force: bool) -> Result<Connection, CommandError> {
    let client = Client::new(options.url()?, options.credentials()?)?;
    let server = client.server_info().await?;
    if server.major() != Some(10) {
        if !force {
            return Err(DirectusError::UnsupportedVersion {
                version: server.version,
            }
            .into());
        }
        tracing::warn!(
            "Directus {} is not 10.x; continuing because of --force",
            server.version
        );
    }
    tracing::debug!(
        "connected to Directus {} at {}",
        server.version,
        client.base_url()
    );
    let clear_cache =
        client.json(Request::new(Method::POST, "/utils/cache/clear").query("system", "true"));
    let select_store = async {
        IdMapStore::select(&client, options.id_map)
            .await
            .map_err(CommandError::from)
    };
    let clear_and_ask =
        async { Ok::<_, CommandError>(tokio::try_join!(clear_cache, client.me())?) };
    let ((_, me), store) = tokio::try_join!(clear_and_ask, select_store)?;
    tracing::debug!("SyncIds are kept in {}", store.describe());
    Ok(Connection {
        client,
        server,
        me,
        store: std::sync::Mutex::new(store),
    })
}

pub fn specs_of(options: &Options) -> Vec<&'static CollectionSpec> {
    let selected = options.collections();
    COLLECTIONS
        .iter()
        .filter(|spec| selected.contains(&spec.name))
        .collect()
}

/// Reads a dump and runs the `onLoad` hooks on it.
pub async fn load_dump(
    options: &Options,
    hooks: &Hooks,
    source: &dyn DumpSource,
) -> Result<LoadedDump, CommandError> {
    let snapshot = match options.snapshot {
        true => {
            let read = Snapshot::read(source, &options.snapshot_path, options.split)?;
            let hooked = hooks
                .run("snapshot", HookName::OnLoad, read.0)
                .await
                .map_err(hook_error)?;
            Some(Snapshot(hooked))
        }
        false => {
            tracing::debug!("snapshot is disabled");
            None
        }
    };
    let mut items = HashMap::new();
    for spec in specs_of(options) {
        let list = dump::collections::read(source, &options.collections_path, spec.name)?;
        let list = hooks
            .run(spec.name, HookName::OnLoad, serde_json::Value::Array(list))
            .await
            .map_err(hook_error)?;
        items.insert(spec.name, hook_items(spec.name, HookName::OnLoad, list)?);
    }
    Ok(LoadedDump { snapshot, items })
}

pub fn hook_error(error: HookError) -> CommandError {
    CommandError::new(ErrorKind::User, error)
        .hint("nothing was written; fix the hook and run again")
}

/// A collection hook must give back a list of items.
pub fn hook_items(
    collection: &str,
    hook: HookName,
    value: serde_json::Value,
) -> Result<Vec<serde_json::Value>, CommandError> {
    match value {
        serde_json::Value::Array(items) => Ok(items),
        other => Err(hook_error(HookError::Failed {
            scope: collection.to_string(),
            name: hook.as_str(),
            message: format!("expected a list of items back, got {}", short_json(&other)),
        })),
    }
}

fn short_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

pub async fn schema_diff(
    connection: &Connection,
    dump: &LoadedDump,
    force: bool,
) -> Result<Option<crate::snapshot::SchemaDiff>, DirectusError> {
    match &dump.snapshot {
        Some(snapshot) => snapshot.diff(&connection.client, force).await,
        None => Ok(None),
    }
}

pub fn plan_for(
    specs: &[&'static CollectionSpec],
    dump: &LoadedDump,
    instance: &Instance,
    schema: Option<crate::snapshot::SchemaDiff>,
) -> Plan {
    let (collections, unresolved) = build_collections(specs, &dump.items, instance);
    Plan {
        schema,
        collections,
        unresolved,
    }
}

/// The instance's URL as records name it (no trailing slash).
pub fn instance_url(options: &Options) -> String {
    options
        .directus_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string()
}

/// The repository holding the dump, when there is one.
pub fn dump_repo(dump_root: &Path) -> Result<Option<DumpRepo>, CommandError> {
    Ok(DumpRepo::discover(dump_root)?)
}

//! One module per command; each composes the domain modules and never talks HTTP or touches
//! files on its own.

mod diff;
mod helpers;
mod pull;
mod push;

use crate::cli::{Cli, Command, CommandError, ExitCode, logging};
use crate::collections::{COLLECTIONS, CollectionSpec};
use crate::config::Options;
use crate::directus::{Client, DirectusError, Request, ServerInfo};
use crate::dump::{self, DirSource};
use crate::instance::Instance;
use crate::plan::{Plan, build_collections};
use crate::snapshot::Snapshot;
use reqwest::Method;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<ExitCode, CommandError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CommandError::user(format!("cannot read the current directory: {e}")))?;
    let (options, warnings) = Options::resolve(
        &cwd,
        cli.global.config_path.as_deref(),
        cli.option_overrides(),
    )?;
    logging::init(options.debug);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    match &options.config_file {
        Some(path) => tracing::debug!("loaded config file {}", path.display()),
        None => tracing::debug!("no config file found in {}", cwd.display()),
    }
    let context = Context {
        options,
        cwd,
        started: Instant::now(),
    };
    match &cli.command {
        Command::Pull(args) => pull::run(&context, args).await,
        Command::Diff(args) => diff::run(&context, args).await,
        Command::Push(args) => push::run(&context, args).await,
        Command::Helpers(command) => helpers::run(&context, command).await,
    }
}

/// What every command knows: the effective options and where it runs.
pub struct Context {
    pub options: Options,
    pub cwd: PathBuf,
    started: Instant,
}

/// An authenticated client to an instance whose version was checked.
pub struct Connection {
    pub client: Client,
    pub server: ServerInfo,
}

impl Context {
    pub fn dump_root(&self) -> PathBuf {
        crate::config::normalize(&self.cwd.join(&self.options.dump_path))
    }

    pub fn dump_source(&self) -> DirSource {
        DirSource::new(self.dump_root())
    }

    /// Logs in, checks that the server is a Directus 10 and clears its caches so that every
    /// read sees the current configuration.
    pub async fn connect(&self, force: bool) -> Result<Connection, CommandError> {
        let client = Client::new(self.options.url()?, self.options.credentials()?)?;
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
        client
            .json(Request::new(Method::POST, "/utils/cache/clear").query("system", "true"))
            .await?;
        Ok(Connection { client, server })
    }

    /// The collections of this run, in push order.
    pub fn specs(&self) -> Vec<&'static CollectionSpec> {
        let selected = self.options.collections();
        COLLECTIONS
            .iter()
            .filter(|spec| selected.contains(&spec.name))
            .collect()
    }

    /// Builds the plan that turns the instance into the dump. Every dump file is read and
    /// checked before anything is compared.
    pub async fn plan(
        &self,
        connection: &Connection,
        force: bool,
    ) -> Result<(Plan, Instance), CommandError> {
        let source = self.dump_source();
        let specs = self.specs();
        let snapshot = match self.options.snapshot {
            true => Some(Snapshot::read(
                &source,
                &self.options.snapshot_path,
                self.options.split,
            )?),
            false => {
                tracing::debug!("snapshot is disabled");
                None
            }
        };
        let mut dump_items = HashMap::new();
        for spec in &specs {
            let items =
                dump::collections::read(&source, &self.options.collections_path, spec.name)?;
            dump_items.insert(spec.name, items);
        }
        let client = &connection.client;
        let schema_diff = async {
            match &snapshot {
                Some(snapshot) => snapshot.diff(client, force).await,
                None => Ok(None),
            }
        };
        let (schema, instance) = tokio::try_join!(schema_diff, Instance::read(client, &specs))?;
        let (collections, unresolved) = build_collections(&specs, &dump_items, &instance);
        let plan = Plan {
            schema,
            collections,
            unresolved,
        };
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

//! One module per command, each owning its arguments (`Args`) and reading top to bottom as a
//! few named steps. What several commands share is here: the [`Context`] of a run (options,
//! hooks, where the dump is) and, in [`target`], the connected instance and the one comparison
//! of a dump with it.

pub mod diff;
mod error;
pub mod helpers;
pub mod log;
pub mod pull;
pub mod push;
pub mod rollback;
pub mod status;
mod target;

pub use error::{CommandError, ErrorKind, ExitCode};
pub use target::{Comparison, Target};

use crate::collections::{COLLECTIONS, CollectionSpec};
use crate::config::{Options, Overrides};
use crate::dump::{DirSource, Dump, DumpSource, Layout, Selection};
use crate::git::DumpRepo;
use crate::hooks::{HookClient, HookName, Hooks};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What every command knows: the effective options, the hooks, and where it runs.
pub struct Context {
    pub options: Options,
    pub hooks: Hooks,
    cwd: PathBuf,
    config_path: Option<PathBuf>,
    overrides: Overrides,
    started: Instant,
}

impl Context {
    /// Resolves the options (config file, environment, command line) and loads the hooks.
    pub fn new(
        config_path: Option<PathBuf>,
        overrides: Overrides,
    ) -> Result<Context, CommandError> {
        let cwd = std::env::current_dir()
            .map_err(|e| CommandError::user(format!("cannot read the current directory: {e}")))?;
        let (context, warnings) = Context::resolve(cwd, config_path, overrides)?;
        crate::ui::logging::init(context.options.debug);
        for warning in warnings {
            tracing::warn!("{warning}");
        }
        match &context.options.config_file {
            Some(path) => tracing::debug!("loaded config file {}", path.display()),
            None => tracing::debug!("no config file found in {}", context.cwd.display()),
        }
        tracing::debug!("effective options: {}", context.options.describe());
        Ok(context)
    }

    /// The context and the config file's warnings (loops, missing parents).
    fn resolve(
        cwd: PathBuf,
        config_path: Option<PathBuf>,
        overrides: Overrides,
    ) -> Result<(Context, Vec<String>), CommandError> {
        let (options, warnings) =
            Options::resolve(&cwd, config_path.as_deref(), overrides.clone())?;
        let config_dir = options
            .config_file
            .as_ref()
            .and_then(|file| file.parent())
            .map_or_else(|| cwd.clone(), Path::to_path_buf);
        let hidden = options.secret_variables.clone();
        let hooks = Hooks::from_config(options.hooks.as_ref(), config_dir, hidden)
            .map_err(|e| CommandError::new(ErrorKind::Config, e))?;
        let context = Context {
            options,
            hooks,
            cwd,
            config_path,
            overrides,
            started: Instant::now(),
        };
        Ok((context, warnings))
    }

    /// The same run for another environment of the config file (`None`: no environment).
    pub fn for_environment(&self, environment: Option<&str>) -> Result<Context, CommandError> {
        let overrides = Overrides {
            environment: environment.map(str::to_string),
            ..self.overrides.clone()
        };
        // The warnings were shown for this run's own options already.
        Ok(Context::resolve(self.cwd.clone(), self.config_path.clone(), overrides)?.0)
    }

    pub fn dump_root(&self) -> PathBuf {
        crate::config::normalize(&self.cwd.join(&self.options.dump_path))
    }

    pub fn layout(&self) -> Layout {
        use crate::config::normalize;
        Layout {
            collections: normalize(&self.options.collections_path),
            snapshot: normalize(&self.options.snapshot_path),
            specs: normalize(&self.options.specs_path),
            split: self.options.split,
        }
    }

    /// The collections of this run, in push order.
    pub fn specs(&self) -> Vec<&'static CollectionSpec> {
        let selected = self.options.collections();
        COLLECTIONS
            .iter()
            .filter(|spec| selected.contains(&spec.name))
            .collect()
    }

    pub fn selection(&self) -> Selection {
        Selection {
            snapshot: self.options.snapshot,
            collections: self.specs(),
            specs: self.options.specs,
        }
    }

    /// The repository holding the dump, when there is one.
    pub fn repo(&self) -> Result<Option<DumpRepo>, CommandError> {
        Ok(DumpRepo::discover(&self.dump_root())?)
    }

    /// How a dump commit on an environment's branch relates to the main line (see
    /// [`Lineage`](crate::git::Lineage)).
    pub fn lineage(&self, repo: &DumpRepo, merged: Option<git2::Oid>) -> crate::git::Lineage {
        crate::git::Lineage {
            start: repo.main_line(self.options.main_branch.as_deref()),
            merged,
        }
    }

    /// The dump in the working tree, or in a git revision.
    pub fn source(&self, revision: Option<&str>) -> Result<Box<dyn DumpSource>, CommandError> {
        match revision {
            None => Ok(Box::new(DirSource::new(self.dump_root()))),
            Some(rev) => Ok(Box::new(DumpRepo::require(&self.dump_root())?.source(rev)?)),
        }
    }

    /// Reads and checks every file of the dump, then runs the `onLoad` hooks on it.
    pub async fn load_dump(&self, source: &dyn DumpSource) -> Result<Dump, CommandError> {
        if !self.options.snapshot {
            tracing::debug!("snapshot is disabled");
        }
        let layout = self.layout();
        let mut dump = Dump::read(source, &layout, &self.selection())?;
        self.hooks.run_on_dump(HookName::OnLoad, &mut dump).await?;
        dump.check(source, &layout)?;
        Ok(dump)
    }

    /// Logs in, checks that the server is a Directus 10, and gives the hooks their client.
    pub async fn connect(&self, force: bool) -> Result<Target, CommandError> {
        self.connect_with(force, self.options.id_map).await
    }

    /// [`connect`](Self::connect) with another id-map store than the options say.
    pub async fn connect_with(
        &self,
        force: bool,
        id_map: crate::idmap::IdMapMode,
    ) -> Result<Target, CommandError> {
        let mut target = Target::connect(&self.options, force, id_map)
            .await
            .map_err(|error| match error.is_about_the_url() {
                true => error.hint(format!("the URL comes from {}", self.options.url_source)),
                false => error,
            })?;
        self.hooks.set_client(HookClient {
            url: target.client.base_url().to_string(),
            token: target.client.bearer_token().await?,
        });
        for spec in self.specs() {
            if self.hooks.has(spec.name, HookName::OnQuery) {
                let query = serde_json::json!({"limit": -1});
                let query = self.hooks.run(spec.name, HookName::OnQuery, query).await?;
                target.queries.insert(spec.name, query);
            }
        }
        Ok(target)
    }

    /// The closing line: how long the command took, how many requests it sent, and how much
    /// of the time went to waiting for their answers (the rest is the tool's own part).
    pub fn finish(&self, target: &Target) {
        tracing::info!(
            "done in {:.2} s ({} requests to Directus, {:.2} s waiting for it)",
            self.started.elapsed().as_secs_f64(),
            target.client.request_count(),
            target.client.waiting().as_secs_f64()
        );
    }

    /// The instance's URL as records and status lines name it (masked, no trailing slash).
    pub fn instance_url(&self) -> String {
        let url = self.options.directus_url.as_ref().map(|url| url.expose());
        crate::secret::mask_url(url.unwrap_or_default().trim_end_matches('/'))
    }
}

//! One module per command, each owning its arguments (`Args`) and reading top to bottom as a
//! few named steps. What several commands share is here: the [`Context`] of a run (options,
//! hooks, where the dump is) and, in [`target`], the connected instance and the one comparison
//! of a dump with it.

pub mod diff;
mod error;
pub mod helpers;
pub mod history;
pub mod log;
pub mod promote;
pub mod pull;
pub mod push;
pub mod rollback;
mod saved_plan;
pub mod show;
pub mod status;
mod target;

pub use error::{CommandError, ErrorKind, ExitCode};
pub use target::{Comparison, Target};

use crate::collections::{COLLECTIONS, CollectionSpec};
use crate::config::{Options, Overrides};
use crate::dump::{DirSource, Dump, DumpSource, Layout, Selection};
use crate::git::DumpRepo;
use crate::hooks::{HookClient, HookName, Hooks};
use crate::json::Compact;
use crate::values::{Masks, ValuesError, Variables};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The variables placeholders may name, the first source that sets one winning: with `--env
/// NAME`, the file `.env.NAME` next to the config file (one process environment holds one
/// value per variable, and `status` or a promotion needs each environment's own); then the
/// process's environment (which holds `./.env` already); then a `.env` next to the config.
fn read_variables(options: &Options, config_dir: &Path) -> Variables {
    let file = |name: String| {
        dotenvy::from_path_iter(config_dir.join(name))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
    };
    let own = options
        .environment
        .iter()
        .flat_map(|environment| file(format!(".env.{environment}")));
    // `vars_os`: `vars` panics on a variable that is not UTF-8, which is none of ours.
    let process = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    Variables::new(
        own.chain(process).chain(file(".env".into())),
        options.secrets.given_names(),
    )
}

/// What every command knows: the effective options, the hooks, the variables secrets are
/// read from, and where it runs.
pub struct Context {
    pub options: Options,
    pub hooks: Hooks,
    pub variables: Variables,
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
        let variables = read_variables(&options, &config_dir);
        let mut hidden = options.secret_variables.clone();
        hidden.extend(variables.names());
        let hooks = Hooks::from_config(options.hooks.as_ref(), config_dir, hidden)
            .map_err(|e| CommandError::new(ErrorKind::Config, e))?;
        let context = Context {
            options,
            hooks,
            variables,
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

    /// Where the command runs: relative paths given to it start here.
    pub fn cwd(&self) -> &Path {
        &self.cwd
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

    /// The dump as this run's instance must be: read and checked ([`read_dump`]), then
    /// fitted to the environment ([`fit_to_environment`]).
    ///
    /// [`read_dump`]: Self::read_dump
    /// [`fit_to_environment`]: Self::fit_to_environment
    pub async fn load_dump(&self, source: &dyn DumpSource) -> Result<Dump, CommandError> {
        let mut dump = self.read_dump(source).await?;
        self.fit_to_environment(&mut dump)?;
        Ok(dump)
    }

    /// Reads and checks every file of the dump, then runs the `onLoad` hooks on it: the dump
    /// as its files hold it, placeholders and all (what may be committed).
    pub async fn read_dump(&self, source: &dyn DumpSource) -> Result<Dump, CommandError> {
        if !self.options.snapshot {
            tracing::debug!("snapshot is disabled");
        }
        let layout = self.layout();
        let mut dump = Dump::read(source, &layout, &self.selection())?;
        self.hooks.run_on_dump(HookName::OnLoad, &mut dump).await?;
        dump.check(source, &layout)?;
        Ok(dump)
    }

    /// Puts the environment's `values:` over the dump, then fills every placeholder from its
    /// variable. Every unset variable is named in one error, before anything is compared or
    /// written. After this the dump holds secrets: it is compared and pushed, never written
    /// to a file nor printed (plans print through [`Masks`]).
    fn fit_to_environment(&self, dump: &mut Dump) -> Result<(), CommandError> {
        let values = &self.options.values;
        let mut missing = std::collections::BTreeSet::new();
        for (spec, items) in &mut dump.collections {
            let covered = values.covers(spec.name);
            for item in items.iter_mut() {
                // Most items have neither: they are not parsed.
                if !covered && !item.text().contains("${") {
                    continue;
                }
                let mut value = item.value();
                let chosen = values.apply(spec.name, &mut value);
                let filled = self.variables.fill(&mut value, &mut missing);
                if chosen || filled {
                    *item = Compact::new(&value);
                }
            }
        }
        match missing.is_empty() {
            true => Ok(()),
            false => Err(ValuesError::MissingSecrets {
                names: missing.into_iter().collect(),
            }
            .into()),
        }
    }

    /// What diff and push print instead of this run's secrets.
    pub fn masks(&self) -> Masks {
        self.variables.masks(&self.options.secrets.effective())
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
        target.owned = self.options.owned.clone();
        target.masks = self.masks();
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

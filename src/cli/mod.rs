//! The command line: clap definitions, logging set-up and the mapping of errors to exit codes.

mod error;
pub(crate) mod logging;

pub use error::{CommandError, ErrorKind, ExitCode};

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use crate::config::{FileOptions, Overrides, StringOrList};
use clap::{CommandFactory, FromArgMatches};

#[derive(Debug, Parser)]
#[command(
    name = "directus-sync",
    version,
    about = "Keep the configuration of Directus instances under version control",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (JSON, YAML, or JS run by node); default: ./directus-sync.config.{js,cjs,json,yaml,yml}
    #[arg(short = 'c', long, global = true, value_name = "PATH")]
    pub config_path: Option<PathBuf>,
    /// Log debug details
    #[arg(short = 'd', long, global = true)]
    pub debug: bool,
    /// Base URL of the Directus instance
    #[arg(
        short = 'u',
        long,
        env = "DIRECTUS_URL",
        global = true,
        value_name = "URL"
    )]
    pub directus_url: Option<String>,
    /// Static token of an admin user (wins over email and password)
    #[arg(
        short = 't',
        long,
        env = "DIRECTUS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub directus_token: Option<String>,
    /// Email of an admin user
    #[arg(short = 'e', long, env = "DIRECTUS_ADMIN_EMAIL", global = true)]
    pub directus_email: Option<String>,
    /// Password of that admin user
    #[arg(
        short = 'p',
        long,
        env = "DIRECTUS_ADMIN_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub directus_password: Option<String>,
    /// Environment from the config file's `environments:` (URL, credentials, branch)
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub environment: Option<String>,
    /// Where the instance keeps SyncIds: the directus-extension-sync table, or a hidden
    /// collection the tool creates (auto: the extension when installed)
    #[arg(long, global = true, value_enum, value_name = "STORE")]
    pub id_map: Option<crate::config::IdMapMode>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the schema, specs and tracked collections of an instance into the dump
    Pull(PullArgs),
    /// Show what a push would change on the instance (changes nothing)
    Diff(DiffArgs),
    /// Apply the dump to the instance: only the differences, in a safe order
    Push(PushArgs),
    /// List pulls and pushes recorded in git, newest first
    Log(LogArgs),
    /// Tell, per environment, whether the live instance matches its branch
    Status(StatusArgs),
    /// Maintenance helpers
    #[command(subcommand)]
    Helpers(HelpersCommand),
}

#[derive(Debug, Subcommand)]
pub enum HelpersCommand {
    /// Forget the SyncId of one item (the item stays in Directus)
    Untrack(UntrackArgs),
    /// Delete permissions that repeat the same role, collection and action
    RemovePermissionDuplicates(RemoveDuplicatesArgs),
    /// Copy SyncIds between the directus-extension-sync table and the tool's own collection
    MigrateIdMap(MigrateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Extension,
    Collection,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Where the SyncIds go
    #[arg(long, value_enum)]
    pub to: StoreKind,
}

/// Comma-separated lists; each part trimmed (`-x "roles, permissions"` works).
fn comma_list(value: &str) -> Result<String, String> {
    Ok(value.trim().to_string())
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Base folder of the dump
    #[arg(long, value_name = "PATH")]
    pub dump_path: Option<PathBuf>,
    /// Folder of the collection files, relative to the dump path
    #[arg(long, value_name = "PATH")]
    pub collections_path: Option<PathBuf>,
    /// Collections to skip (comma-separated)
    #[arg(short = 'x', long, value_delimiter = ',', value_parser = comma_list, value_name = "LIST")]
    pub exclude_collections: Option<Vec<String>>,
    /// Collections to process, all others skipped (comma-separated)
    #[arg(short = 'o', long, value_delimiter = ',', value_parser = comma_list, value_name = "LIST")]
    pub only_collections: Option<Vec<String>>,
    /// Folder of the schema files, relative to the dump path
    #[arg(long, value_name = "PATH")]
    pub snapshot_path: Option<PathBuf>,
    /// Skip the schema
    #[arg(long)]
    pub no_snapshot: bool,
    /// Keep the schema in one snapshot.json instead of one file per collection, field, relation
    #[arg(long)]
    pub no_split: bool,
    /// Skip the ten tracked collections (schema and specs only)
    #[arg(long)]
    pub no_collections: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub dump: DumpArgs,
    /// Collections whose ids become their SyncIds: a list, or "*" / "all"
    #[arg(long, value_delimiter = ',', value_parser = comma_list, value_name = "LIST")]
    pub preserve_ids: Option<Vec<String>>,
    /// Folder of the GraphQL and OpenAPI specs, relative to the dump path
    #[arg(long, value_name = "PATH")]
    pub specs_path: Option<PathBuf>,
    /// Skip the GraphQL and OpenAPI specs
    #[arg(long)]
    pub no_specs: bool,
    /// Work with a Directus version other than 10.x, and overwrite uncommitted changes in the
    /// dump folder
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Write the files only; do not commit them
    #[arg(long)]
    pub no_commit: bool,
    /// Summary line of the commit (default: what changed, per collection)
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub message: Option<String>,
    /// Commit to this branch (created from HEAD when missing) without touching the checkout
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub dump: DumpArgs,
    /// Compare even when the dump's Directus version or database vendor differ from the instance's
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Exit with 2 when there are changes, 0 when there are none (1 stays an error)
    #[arg(long)]
    pub exit_code: bool,
    /// Compare this git revision's dump (branch, tag, SHA, HEAD~1) instead of the working tree
    #[arg(value_name = "REF")]
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub dump: DumpArgs,
    /// Collections whose SyncIds become their ids on create: a list, or "*" / "all"
    #[arg(long, value_delimiter = ',', value_parser = comma_list, value_name = "LIST")]
    pub preserve_ids: Option<Vec<String>>,
    /// Apply even when the dump's Directus version or database vendor differ from the
    /// instance's, or when the instance drifted since it was last pulled or pushed
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Push this git revision's dump (branch, tag, SHA; an older commit rolls back)
    #[arg(value_name = "REF")]
    pub revision: Option<String>,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Rounds of apply-and-read-back before giving up on values that do not stick (0: no limit)
    #[arg(long, value_name = "N")]
    pub max_push_retries: Option<u32>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Base folder of the dump (finds the repository)
    #[arg(long, value_name = "PATH")]
    pub dump_path: Option<PathBuf>,
    /// At most this many entries
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub dump: DumpArgs,
    /// Exit with 2 when an environment differs from its branch
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct UntrackArgs {
    /// Collection of the item
    #[arg(long)]
    pub collection: String,
    /// Local id of the item in this instance
    #[arg(long, required_unless_present = "sync_id", conflicts_with = "sync_id")]
    pub id: Option<String>,
    /// SyncId of the item, as written in the dump
    #[arg(long)]
    pub sync_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keep {
    First,
    Last,
}

#[derive(Debug, Args)]
pub struct RemoveDuplicatesArgs {
    /// Which permission of each duplicated group survives
    #[arg(long, value_enum, default_value = "last")]
    pub keep: Keep,
}

impl Cli {
    /// The layers above the config file. clap merges environment variables into the flags;
    /// `matches` tells which values came from the environment, so that an `--env` section of
    /// the config file can sit between the two.
    pub fn overrides(&self, matches: &clap::ArgMatches) -> Overrides {
        let mut from_command_line = self.option_layer();
        let mut from_env_vars = FileOptions::default();
        let from_env = |id: &str| {
            matches!(
                matches.value_source(id),
                Some(clap::parser::ValueSource::EnvVariable)
            )
        };
        if from_env("directus_url") {
            from_env_vars.directus_url = from_command_line.directus_url.take();
        }
        if from_env("directus_token") {
            from_env_vars.directus_token = from_command_line.directus_token.take();
        }
        if from_env("directus_email") {
            from_env_vars.directus_email = from_command_line.directus_email.take();
        }
        if from_env("directus_password") {
            from_env_vars.directus_password = from_command_line.directus_password.take();
        }
        Overrides {
            environment: self.global.environment.clone(),
            from_env_vars,
            from_command_line,
        }
    }

    /// The command line and environment as one options layer, above the config file.
    fn option_layer(&self) -> FileOptions {
        let global = &self.global;
        let mut layer = FileOptions {
            debug: global.debug.then_some(true),
            id_map: global.id_map,
            directus_url: global.directus_url.clone(),
            directus_token: global.directus_token.clone(),
            directus_email: global.directus_email.clone(),
            directus_password: global.directus_password.clone(),
            ..FileOptions::default()
        };
        let dump = match &self.command {
            Command::Pull(args) => {
                layer.commit = args.no_commit.then_some(false);
                layer.branch = args.branch.clone();
                layer.preserve_ids = args.preserve_ids.clone().map(StringOrList::Many);
                layer.specs_path = args.specs_path.clone();
                layer.specs = args.no_specs.then_some(false);
                Some(&args.dump)
            }
            Command::Diff(args) => Some(&args.dump),
            Command::Push(args) => {
                layer.preserve_ids = args.preserve_ids.clone().map(StringOrList::Many);
                layer.max_push_retries = args.max_push_retries;
                Some(&args.dump)
            }
            Command::Log(args) => {
                layer.dump_path = args.dump_path.clone();
                None
            }
            Command::Status(args) => Some(&args.dump),
            Command::Helpers(_) => None,
        };
        if let Some(dump) = dump {
            layer.dump_path = dump.dump_path.clone();
            layer.collections_path = dump.collections_path.clone();
            layer.exclude_collections = dump.exclude_collections.clone();
            layer.only_collections = dump.only_collections.clone();
            layer.snapshot_path = dump.snapshot_path.clone();
            layer.snapshot = dump.no_snapshot.then_some(false);
            layer.split = dump.no_split.then_some(false);
            layer.collections = dump.no_collections.then_some(false);
        }
        layer
    }
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    // `.env` fills only what the environment lacks, as in the original tool.
    let _ = dotenvy::dotenv();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let _ = error.print();
            // Usage errors exit 1, never 2: 2 means "changes found" for `diff --exit-code`.
            let code = if error.use_stderr() { 1 } else { 0 };
            return std::process::ExitCode::from(code);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    match runtime.block_on(crate::commands::run(cli, &matches)) {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(error) => {
            error.print();
            std::process::ExitCode::from(ExitCode::Error as u8)
        }
    }
}

//! The command line: parses it, hands each command its arguments, and turns the outcome into
//! the process exit code. Commands own their arguments (`commands::<name>::Args`); the options
//! shared through config files come from one table (`config::options`).

use crate::commands::{self, CommandError, Context, ExitCode};
use crate::config::{Layer, Overrides};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

pub mod shell;

#[derive(Debug, Parser)]
#[command(
    name = "directus-sync",
    version,
    about = "Keep the configuration of Directus instances under version control",
    propagate_version = true
)]
pub struct Cli {
    /// Config file (JSON, YAML, or JS run by node); default: ./directus-sync.config.{js,cjs,json,yaml,yml}
    #[arg(short = 'c', long, global = true, value_name = "PATH")]
    pub config_path: Option<PathBuf>,
    /// Environment from the config file's `environments:` (URL, credentials, branch)
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub environment: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the schema, specs and tracked collections of an instance into the dump
    Pull(commands::pull::Args),
    /// Show what a push would change on the instance (changes nothing)
    Diff(commands::diff::Args),
    /// Apply the dump to the instance: only the differences, in a safe order
    Push(commands::push::Args),
    /// List pulls and pushes recorded in git, newest first
    Log(commands::log::Args),
    /// One item's versions across the commits of a branch, newest first, with who changed it
    History(commands::history::Args),
    /// Tell, per environment, whether the live instance matches its branch
    Status(commands::status::Args),
    /// Push an instance's previous deployment again (from the push records in git)
    Rollback(commands::rollback::Args),
    /// Push what is live on one environment (its branch) to another, with that one's values
    /// and secrets
    Promote(commands::promote::Args),
    /// Draw a flow of the dump (working tree or a revision) as Mermaid or dot
    #[command(subcommand)]
    Show(commands::show::Command),
    /// Maintenance helpers
    #[command(subcommand)]
    Helpers(commands::helpers::Command),
    /// Print the shell's completion script (e.g. `source <(directus-sync completions bash)`)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of the command, or of a subcommand (`man push`)
    Man {
        /// The subcommand, e.g. `push` or `helpers wait-server-ready`
        #[arg(value_name = "COMMAND")]
        path: Vec<String>,
    },
}

/// The whole command line, config options included: what is parsed, completed and documented.
pub fn command() -> clap::Command {
    crate::config::options::add_arguments(Cli::command())
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    // `.env` fills only what the environment lacks, as in the original tool.
    let _ = dotenvy::dotenv();
    let parsed = command()
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
    // Neither reads a config file nor connects: they work anywhere, even before a config exists.
    if let Some(code) = print_shell_integration(&cli.command) {
        return code;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let code = match runtime.block_on(run(cli, &matches)) {
        Ok(code) => code,
        Err(error) => error.report(),
    };
    std::process::ExitCode::from(code as u8)
}

async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<ExitCode, CommandError> {
    let (typed, from_env) = Layer::from_matches(leaf(matches))
        .map_err(|e| CommandError::from(crate::config::ConfigError::InvalidFlag(e)))?;
    let overrides = Overrides {
        environment: cli.environment.clone(),
        from_env_vars: from_env,
        from_command_line: typed,
    };
    let context = Context::new(cli.config_path.clone(), overrides)?;
    let outcome = match &cli.command {
        Command::Pull(args) => commands::pull::run(&context, args).await,
        Command::Diff(args) => commands::diff::run(&context, args).await,
        Command::Push(args) => commands::push::run(&context, args).await,
        Command::Log(args) => commands::log::run(&context, args).await,
        Command::History(args) => commands::history::run(&context, args).await,
        Command::Status(args) => commands::status::run(&context, args).await,
        Command::Rollback(args) => commands::rollback::run(&context, args).await,
        Command::Promote(args) => commands::promote::run(&context, args).await,
        Command::Show(command) => commands::show::run(&context, command).await,
        Command::Helpers(command) => commands::helpers::run(&context, command).await,
        Command::Completions { .. } | Command::Man { .. } => unreachable!("printed before"),
    };
    // An error's words may hold what it was about: a secret is named, never printed.
    let masks = context.masks();
    outcome.map_err(|error| {
        error.scrubbed(&|text| match masks.scrub_text(text) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(scrubbed) => Some(scrubbed),
        })
    })
}

/// `completions` and `man`: the exit code once printed, `None` for every other command.
fn print_shell_integration(command: &Command) -> Option<std::process::ExitCode> {
    let out = match command {
        Command::Completions { shell } => Ok(shell::completions(self::command(), *shell)),
        Command::Man { path } => shell::man_page(self::command(), path),
        _ => return None,
    };
    let printed = out
        .map_err(|message| format!("error: {message}"))
        .and_then(|bytes| {
            crate::ui::print(&String::from_utf8_lossy(&bytes)).map_err(|e| format!("error: {e}"))
        });
    Some(match printed {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            std::process::ExitCode::from(1)
        }
    })
}

/// The matches of the innermost subcommand: clap copies global flags down to it.
fn leaf(matches: &clap::ArgMatches) -> &clap::ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) => leaf(sub),
        None => matches,
    }
}

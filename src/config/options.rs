//! Every option, declared once. One line of the table below gives an option its field and type,
//! default, config-file key (also its key under `environments:`), command-line flag and the
//! commands that take it, environment variable, and help text. From the table come the layer
//! type that every source produces ([`Layer`]), the effective [`Options`], the clap arguments
//! ([`add_arguments`]) and the `--debug` line ([`Options::describe`]).

use super::{IdMapMode, PreserveIds};
use crate::secret::{MaskedUrl, Secret};
use crate::values::{Owned, PathValues, SecretRules};
use clap::parser::ValueSource;
use serde_json::Value;
use std::path::PathBuf;

/// How an option appears on the command line.
#[derive(Debug, Clone, Copy)]
pub enum Flag {
    /// Only in config files.
    None,
    /// `--name VALUE` (a list option takes comma-separated values).
    Value(&'static str),
    /// `--name` sets `true`.
    Switch(&'static str),
    /// `--no-name` sets `false`.
    Negate(&'static str),
}

/// Which commands take the flag.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Before or after any subcommand.
    Global,
    Commands(&'static [&'static str]),
}

const DUMP: Scope = Scope::Commands(&[
    "pull",
    "diff",
    "push",
    "rollback",
    "promote",
    "status",
    "helpers scan-secrets",
]);
const PULL_PUSH: Scope = Scope::Commands(&["pull", "push", "rollback", "promote"]);
const PULL: Scope = Scope::Commands(&["pull"]);
// A rollback is a push of an earlier deployment, a promotion one of another environment's.
const PUSH: Scope = Scope::Commands(&["push", "rollback", "promote"]);
/// The commands that write, and so take the instance's lock (a subcommand after a space).
const WRITERS: Scope = Scope::Commands(&[
    "pull",
    "push",
    "rollback",
    "promote",
    "helpers untrack",
    "helpers remove-permission-duplicates",
    "helpers migrate-id-map",
]);

/// One row of the table, as data for clap and for messages.
#[derive(Debug)]
pub struct Declaration {
    pub field: &'static str,
    pub key: &'static str,
    pub flag: Flag,
    pub short: Option<char>,
    pub scope: Scope,
    pub env: Option<&'static str>,
    /// Under `environments.<name>`, this key names an environment variable holding the value
    /// (`tokenEnv: PROD_TOKEN`), so that the config file can live in git.
    pub via_env: Option<&'static str>,
    pub value_name: &'static str,
    pub help: &'static str,
    pub secret: bool,
}

/// What an option's type must do to be in the table.
pub trait OptionValue: Sized {
    /// Masked in messages and in clap's help (`hide_env_values`).
    const SECRET: bool = false;
    /// From the command line's words (a list option gets one word per comma-separated part).
    fn from_words(words: Vec<String>) -> Result<Self, String>;
    /// For the `--debug` line.
    fn describe(&self) -> String;
    /// A blank value (`DIRECTUS_TOKEN=""`) leaves the lower layers' value, as in the original.
    fn is_blank(&self) -> bool {
        false
    }
    /// This layer's value over a lower layer's: it replaces it, except for the options whose
    /// entries add up (`secrets`, `owned`, `values`: an environment's come on top of the
    /// file's).
    fn over(self, _lower: Self) -> Self {
        self
    }
}

fn one(words: Vec<String>) -> Result<String, String> {
    words
        .into_iter()
        .next()
        .ok_or_else(|| "a value is required".to_string())
}

impl OptionValue for bool {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        match one(words)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("expected true or false, got {other:?}")),
        }
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl OptionValue for u32 {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        let word = one(words)?;
        word.parse()
            .map_err(|_| format!("expected a whole number, got {word:?}"))
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl OptionValue for PathBuf {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        one(words).map(PathBuf::from)
    }
    fn describe(&self) -> String {
        format!("{:?}", self.display().to_string())
    }
}

impl OptionValue for Option<String> {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        one(words).map(Some)
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    fn is_blank(&self) -> bool {
        self.as_deref().is_some_and(|s| s.trim().is_empty())
    }
}

impl OptionValue for Option<MaskedUrl> {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        one(words).map(|word| Some(MaskedUrl::new(word)))
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    fn is_blank(&self) -> bool {
        self.as_ref()
            .is_some_and(|url| url.expose().trim().is_empty())
    }
}

impl OptionValue for Option<Secret> {
    const SECRET: bool = true;
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        one(words).map(|word| Some(Secret::new(word)))
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    fn is_blank(&self) -> bool {
        self.as_ref().is_some_and(Secret::is_empty)
    }
}

impl OptionValue for Vec<String> {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        Ok(words
            .into_iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect())
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl OptionValue for PreserveIds {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        Ok(PreserveIds::parse_list(&Vec::<String>::from_words(words)?))
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl OptionValue for IdMapMode {
    fn from_words(words: Vec<String>) -> Result<Self, String> {
        let word = one(words)?;
        <IdMapMode as clap::ValueEnum>::from_str(&word, true)
            .map_err(|_| format!("expected auto, extension or collection, got {word:?}"))
    }
    fn describe(&self) -> String {
        format!("{self:?}").to_lowercase()
    }
}

impl OptionValue for Option<Value> {
    fn from_words(_: Vec<String>) -> Result<Self, String> {
        Err("only config files set this".into())
    }
    fn describe(&self) -> String {
        match self {
            Some(_) => "set".into(),
            None => "none".into(),
        }
    }
}

/// Only config files set the options about values: they are paths, not words for a flag.
fn config_only<T>() -> Result<T, String> {
    Err("only config files set this".into())
}

impl OptionValue for SecretRules {
    fn from_words(_: Vec<String>) -> Result<Self, String> {
        config_only()
    }
    fn describe(&self) -> String {
        SecretRules::describe(self)
    }
    fn over(self, lower: Self) -> Self {
        SecretRules::over(self, lower)
    }
}

impl OptionValue for Owned {
    fn from_words(_: Vec<String>) -> Result<Self, String> {
        config_only()
    }
    fn describe(&self) -> String {
        let paths: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        format!("{paths:?}")
    }
    fn over(self, lower: Self) -> Self {
        Owned::over(self, lower)
    }
}

impl OptionValue for PathValues {
    fn from_words(_: Vec<String>) -> Result<Self, String> {
        config_only()
    }
    /// The paths only: a value may be long.
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths().map(ToString::to_string).collect();
        format!("{paths:?}")
    }
    fn over(self, lower: Self) -> Self {
        PathValues::over(self, lower)
    }
}

macro_rules! declare_options {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $default:expr, $key:literal, $flag:expr, $short:expr, $scope:expr,
            env $env:expr, via $via:expr, $value_name:literal;
    )*) => {
        /// One layer of options: a config file, an `environments:` entry, the environment
        /// variables or the command line. Higher layers win key by key.
        #[derive(Debug, Default, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(#[serde(rename = $key, default)] pub $field: Option<$ty>,)*
        }

        impl Layer {
            /// `self` wins over `lower` key by key.
            pub fn over(self, lower: Layer) -> Layer {
                Layer { $($field: self.$field.or(lower.$field)),* }
            }

            /// The options of a parsed command line: (typed on the command line, read by clap
            /// from environment variables). `matches` are the subcommand's own.
            pub fn from_matches(matches: &clap::ArgMatches) -> Result<(Layer, Layer), String> {
                let (mut typed, mut from_env) = (Layer::default(), Layer::default());
                let declarations = DECLARATIONS.iter();
                $(
                    let declaration = declarations.clone().find(|d| d.field == stringify!($field))
                        .expect("every field is declared");
                    if let Some((words, source)) = words_of(matches, declaration) {
                        let value = <$ty as OptionValue>::from_words(words)
                            .map_err(|e| format!("{}: {e}", flag_name(declaration)))?;
                        match source {
                            ValueSource::EnvVariable => from_env.$field = Some(value),
                            _ => typed.$field = Some(value),
                        }
                    }
                )*
                Ok((typed, from_env))
            }
        }

        /// The effective options of one run.
        #[derive(Debug, Clone)]
        pub struct Options {
            /// The config file read, if any.
            pub config_file: Option<PathBuf>,
            /// The `--env` picked, if any.
            pub environment: Option<String>,
            /// The names under `environments:` in the config file, in the file's order.
            pub environment_names: Vec<String>,
            /// The environment variables holding this config's secrets ([`secret_variables`]):
            /// hooks never see them.
            pub secret_variables: Vec<String>,
            /// Keys of the `--env` section that named a variable that is not set
            /// (`tokenEnv names PROD_TOKEN`): said when credentials are then missing.
            pub unset_variables: Vec<String>,
            /// Where the URL in effect was set (`environments.prod.directusUrl of config file
            /// …`), for hints about it.
            pub url_source: String,
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        impl Default for Options {
            fn default() -> Self {
                Options {
                    config_file: None,
                    environment: None,
                    environment_names: Vec::new(),
                    secret_variables: secret_variables(&serde_json::Map::new()),
                    unset_variables: Vec::new(),
                    url_source: "--directus-url / DIRECTUS_URL".into(),
                    $($field: $default,)*
                }
            }
        }

        impl Options {
            /// Puts a layer over these options.
            pub fn apply(&mut self, layer: Layer) {
                $(
                    if let Some(value) = layer.$field
                        && !OptionValue::is_blank(&value)
                    {
                        let lower = std::mem::take(&mut self.$field);
                        self.$field = OptionValue::over(value, lower);
                    }
                )*
            }

            /// Every option for `--debug`, secrets masked.
            pub fn describe(&self) -> String {
                let parts: Vec<String> = vec![
                    $(format!("{} {}", $key, OptionValue::describe(&self.$field)),)*
                ];
                parts.join(", ")
            }
        }

        /// The table as data.
        pub static DECLARATIONS: &[Declaration] = &[
            $(Declaration {
                field: stringify!($field),
                key: $key,
                flag: $flag,
                short: $short,
                scope: $scope,
                env: $env,
                via_env: $via,
                value_name: $value_name,
                help: concat!($($doc, "\n",)* ""),
                secret: <$ty as OptionValue>::SECRET,
            },)*
        ];
    };
}

declare_options! {
    /// Log debug details
    debug: bool = false, "debug", Flag::Switch("debug"), Some('d'), Scope::Global,
        env None, via None, "";
    /// Base URL of the Directus instance
    directus_url: Option<MaskedUrl> = None, "directusUrl", Flag::Value("directus-url"), Some('u'),
        Scope::Global, env Some("DIRECTUS_URL"), via None, "URL";
    /// Static token of an admin user (wins over email and password)
    directus_token: Option<Secret> = None, "directusToken", Flag::Value("directus-token"),
        Some('t'), Scope::Global, env Some("DIRECTUS_TOKEN"), via Some("tokenEnv"), "TOKEN";
    /// Email of an admin user
    directus_email: Option<String> = None, "directusEmail", Flag::Value("directus-email"),
        Some('e'), Scope::Global, env Some("DIRECTUS_ADMIN_EMAIL"), via Some("emailEnv"), "EMAIL";
    /// Password of that admin user
    directus_password: Option<Secret> = None, "directusPassword", Flag::Value("directus-password"),
        Some('p'), Scope::Global, env Some("DIRECTUS_ADMIN_PASSWORD"), via Some("passwordEnv"),
        "PASSWORD";
    /// Where the instance keeps SyncIds: the directus-extension-sync table, or a hidden
    /// collection the tool creates (auto: the extension when installed)
    id_map: IdMapMode = IdMapMode::Auto, "idMap", Flag::Value("id-map"), None, Scope::Global,
        env None, via None, "STORE";
    /// Base folder of the dump
    dump_path: PathBuf = PathBuf::from("./directus-config"), "dumpPath", Flag::Value("dump-path"),
        None, Scope::Commands(&["pull", "diff", "push", "promote", "status", "log", "history",
        "helpers scan-secrets"]), env None, via None,
        "PATH";
    /// Folder of the collection files, relative to the dump path
    collections_path: PathBuf = PathBuf::from("collections"), "collectionsPath",
        Flag::Value("collections-path"), None, DUMP, env None, via None, "PATH";
    /// Folder of the schema files, relative to the dump path
    snapshot_path: PathBuf = PathBuf::from("snapshot"), "snapshotPath",
        Flag::Value("snapshot-path"), None, DUMP, env None, via None, "PATH";
    /// Folder of the GraphQL and OpenAPI specs, relative to the dump path
    specs_path: PathBuf = PathBuf::from("specs"), "specsPath", Flag::Value("specs-path"), None,
        PULL, env None, via None, "PATH";
    /// Collections to process, all others skipped (comma-separated)
    only_collections: Vec<String> = Vec::new(), "onlyCollections",
        Flag::Value("only-collections"), Some('o'), DUMP, env None, via None, "LIST";
    /// Collections to skip (comma-separated)
    exclude_collections: Vec<String> = Vec::new(), "excludeCollections",
        Flag::Value("exclude-collections"), Some('x'), DUMP, env None, via None, "LIST";
    /// Collections whose ids become their SyncIds: a list, or "*" / "all"
    preserve_ids: PreserveIds = PreserveIds::None, "preserveIds", Flag::Value("preserve-ids"),
        None, PULL_PUSH, env None, via None, "LIST";
    /// Skip the schema
    snapshot: bool = true, "snapshot", Flag::Negate("no-snapshot"), None, DUMP, env None,
        via None, "";
    /// Keep the schema in one snapshot.json instead of one file per collection, field, relation
    split: bool = true, "split", Flag::Negate("no-split"), None, DUMP, env None, via None, "";
    /// Skip the GraphQL and OpenAPI specs
    specs: bool = true, "specs", Flag::Negate("no-specs"), None, PULL, env None, via None, "";
    /// Skip the ten tracked collections (schema and specs only)
    collections: bool = true, "collections", Flag::Negate("no-collections"), None, DUMP,
        env None, via None, "";
    /// Rounds of apply-and-read-back before giving up on values that do not stick (0: no limit)
    max_push_retries: u32 = 20, "maxPushRetries", Flag::Value("max-push-retries"), None, PUSH,
        env None, via None, "N";
    /// Apply changes that delete what git cannot give back: dropped collections and fields
    /// with their content, roles that still have users
    allow_data_loss: bool = false, "allowDataLoss", Flag::Switch("allow-data-loss"), None, PUSH,
        env None, via None, "";
    /// Seconds to wait for the instance's lock while another run writes to it
    lock_wait: u32 = 30, "lockWait", Flag::Value("lock-wait"), None, WRITERS, env None,
        via None, "SECONDS";
    /// Write the files only; do not commit them
    commit: bool = true, "commit", Flag::Negate("no-commit"), None, PULL, env None, via None, "";
    /// Name in each pull commit who changed each item in Directus, and when (from the
    /// instance's activity log), with `Co-authored-by` trailers; off for privacy
    attribution: bool = true, "attribution", Flag::Negate("no-attribution"), None, PULL,
        env None, via None, "";
    /// Commit to this branch (created from the main branch when missing) without touching
    /// the checkout
    branch: Option<String> = None, "branch", Flag::Value("branch"), None, PULL, env None,
        via None, "BRANCH";
    /// The branch environments' branches start from and are merged back into (default: main,
    /// else master, else HEAD)
    main_branch: Option<String> = None, "mainBranch", Flag::Value("main-branch"), None,
        PULL_PUSH, env None, via None, "BRANCH";
    /// Hooks by collection (`onQuery`, `onDump`, `onSave`, `onLoad`) and for the snapshot
    hooks: Option<Value> = None, "hooks", Flag::None, None, Scope::Global, env None, via None, "";
    /// Values kept out of the dump, by path (`settings.mapbox_key`): a list, or a map of paths
    /// to the variable each is read from; on top of the built-in ones. Each level's add up.
    secrets: SecretRules = SecretRules::default(), "secrets", Flag::None, None, Scope::Global,
        env None, via None, "";
    /// Fields that belong to each instance, by path: never pushed, never compared. The
    /// file's and the environment's add up.
    owned: Owned = Owned::default(), "owned", Flag::None, None, Scope::Global, env None,
        via None, "";
    /// The value each path must have on the instance (under `environments.<name>`), over what
    /// the dump says
    values: PathValues = PathValues::default(), "values", Flag::None, None, Scope::Global,
        env None, via None, "";
}

fn flag_name(declaration: &Declaration) -> String {
    match declaration.flag {
        Flag::Value(long) | Flag::Switch(long) | Flag::Negate(long) => format!("--{long}"),
        Flag::None => declaration.key.to_string(),
    }
}

/// The words a flag was given and where they came from; `None` when it was not given (or the
/// command does not take it).
fn words_of(
    matches: &clap::ArgMatches,
    declaration: &Declaration,
) -> Option<(Vec<String>, ValueSource)> {
    let id = declaration.field;
    // Asking about an argument the command does not define is a bug clap asserts on.
    if !matches.try_contains_id(id).unwrap_or(false) {
        return None;
    }
    let source = matches.value_source(id)?;
    if source == ValueSource::DefaultValue {
        return None;
    }
    let words = match declaration.flag {
        Flag::None => return None,
        Flag::Switch(_) => vec!["true".to_string()],
        Flag::Negate(_) => vec!["false".to_string()],
        Flag::Value(_) => matches
            .try_get_many::<String>(id)
            .ok()
            .flatten()?
            .cloned()
            .collect(),
    };
    Some((words, source))
}

fn argument(declaration: &Declaration) -> Option<clap::Arg> {
    use clap::{Arg, ArgAction};
    let mut help = declaration.help.trim().lines();
    let first_line = help.next().unwrap_or_default().to_string();
    let long_help: Vec<&str> = std::iter::once(first_line.as_str()).chain(help).collect();
    let mut arg = Arg::new(declaration.field)
        .help(first_line.clone())
        .long_help(long_help.join(" "));
    arg = match declaration.flag {
        Flag::None => return None,
        Flag::Value(long) => {
            let arg = arg
                .long(long)
                .value_name(declaration.value_name)
                .num_args(1)
                .allow_hyphen_values(false);
            match declaration.value_name {
                "LIST" => arg.value_delimiter(',').action(ArgAction::Append),
                _ => arg.action(ArgAction::Set),
            }
        }
        Flag::Switch(long) | Flag::Negate(long) => arg.long(long).action(ArgAction::SetTrue),
    };
    if let Some(short) = declaration.short {
        arg = arg.short(short);
    }
    if let Some(env) = declaration.env {
        arg = arg.env(env).hide_env_values(declaration.secret);
    }
    if matches!(declaration.scope, Scope::Global) {
        arg = arg.global(true);
    }
    Some(arg)
}

/// Adds every declared flag to the commands that take it.
pub fn add_arguments(mut command: clap::Command) -> clap::Command {
    for declaration in DECLARATIONS {
        let Some(arg) = argument(declaration) else {
            continue;
        };
        match declaration.scope {
            Scope::Global => command = command.arg(arg),
            Scope::Commands(names) => {
                for name in names {
                    command = add_to(command, name.split(' '), &arg);
                }
            }
        }
    }
    command
}

/// Adds `arg` to the subcommand at `path` (`["helpers", "untrack"]`) of `command`.
fn add_to<'a>(
    command: clap::Command,
    mut path: impl Iterator<Item = &'a str>,
    arg: &clap::Arg,
) -> clap::Command {
    match path.next() {
        None => command.arg(arg.clone()),
        Some(name) => command.mut_subcommand(name, |sub| add_to(sub, path, arg)),
    }
}

/// An `environments:` entry as a layer: the keys of the table, plus `tokenEnv`-style keys that
/// name the environment variable holding a value (`lookup` reads them). A value written
/// directly wins over one named this way.
/// Also returns, for messages, the keys that named a variable that is not set
/// (`tokenEnv names PROD_TOKEN`).
pub fn environment_layer(
    entry: &serde_json::Map<String, Value>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Layer, Vec<String>), String> {
    let mut entry = entry.clone();
    let mut unset = Vec::new();
    for declaration in DECLARATIONS {
        let Some(via) = declaration.via_env else {
            continue;
        };
        let Some(named) = entry.remove(via) else {
            continue;
        };
        let variable = named
            .as_str()
            .ok_or_else(|| format!("{via} must name an environment variable"))?;
        if !entry.contains_key(declaration.key) {
            match lookup(variable) {
                Some(value) => {
                    entry.insert(declaration.key.to_string(), Value::String(value));
                }
                None => unset.push(format!("{via} names {variable}")),
            }
        }
    }
    Ok((layer_from(Value::Object(entry))?, unset))
}

/// A layer from a config file's object of options; an error names the key it is about
/// (`collections: invalid type: sequence, expected a boolean`).
pub fn layer_from(value: Value) -> Result<Layer, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        match path.as_str() {
            "" | "." => error.inner().to_string(),
            _ => format!("{path}: {}", error.inner()),
        }
    })
}

/// The environment variables that hold secrets of a config with these `environments:`: those
/// the secret options are read from (`DIRECTUS_TOKEN`, `DIRECTUS_ADMIN_PASSWORD`), and those
/// every entry names for them (`tokenEnv`, `passwordEnv`), sorted.
pub fn secret_variables(environments: &serde_json::Map<String, Value>) -> Vec<String> {
    let secret = || DECLARATIONS.iter().filter(|d| d.secret);
    let mut names: Vec<String> = secret().filter_map(|d| d.env).map(str::to_string).collect();
    for entry in environments.values().filter_map(Value::as_object) {
        for via in secret().filter_map(|d| d.via_env) {
            if let Some(Value::String(name)) = entry.get(via) {
                names.push(name.clone());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn command() -> clap::Command {
        add_arguments(
            clap::Command::new("directus-sync")
                .subcommand(clap::Command::new("pull"))
                .subcommand(clap::Command::new("diff"))
                .subcommand(clap::Command::new("push"))
                .subcommand(clap::Command::new("rollback"))
                .subcommand(clap::Command::new("promote"))
                .subcommand(clap::Command::new("status"))
                .subcommand(clap::Command::new("log"))
                .subcommand(clap::Command::new("history"))
                .subcommand(
                    clap::Command::new("helpers")
                        .subcommand(clap::Command::new("untrack"))
                        .subcommand(clap::Command::new("remove-permission-duplicates"))
                        .subcommand(clap::Command::new("migrate-id-map"))
                        .subcommand(clap::Command::new("scan-secrets")),
                ),
        )
    }

    fn layers(args: &[&str]) -> (Layer, Layer) {
        let matches = command().try_get_matches_from(args).unwrap();
        let (_, sub) = matches.subcommand().unwrap();
        Layer::from_matches(sub).unwrap()
    }

    #[test]
    fn flags_come_from_the_table() {
        let (typed, _) = layers(&[
            "directus-sync",
            "pull",
            "-x",
            "roles, permissions",
            "--no-specs",
            "--preserve-ids",
            "*",
            "-d",
            "--dump-path",
            "out",
        ]);
        assert_eq!(
            typed.exclude_collections,
            Some(vec!["roles".into(), "permissions".into()])
        );
        assert_eq!(typed.specs, Some(false));
        assert_eq!(typed.preserve_ids, Some(PreserveIds::All));
        assert_eq!(typed.debug, Some(true));
        assert_eq!(typed.dump_path, Some(PathBuf::from("out")));
        assert_eq!(typed.snapshot, None);
        assert!(
            command()
                .try_get_matches_from(["directus-sync", "diff", "--no-specs"])
                .is_err(),
            "diff does not take --no-specs"
        );
    }

    #[test]
    fn subcommands_of_subcommands_take_their_flags() {
        let matches = command()
            .try_get_matches_from([
                "directus-sync",
                "helpers",
                "migrate-id-map",
                "--lock-wait",
                "5",
            ])
            .unwrap();
        let (_, helpers) = matches.subcommand().unwrap();
        let (_, migrate) = helpers.subcommand().unwrap();
        let (typed, _) = Layer::from_matches(migrate).unwrap();
        assert_eq!(typed.lock_wait, Some(5));
        assert_eq!(
            layers(&["directus-sync", "push", "--lock-wait", "0"])
                .0
                .lock_wait,
            Some(0)
        );
        for readers in [&["diff"][..], &["helpers"]] {
            let args = [&["directus-sync"][..], readers, &["--lock-wait", "5"]].concat();
            assert!(command().try_get_matches_from(args).is_err(), "{readers:?}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let mut options = Options::default();
        options.apply(Layer {
            directus_token: Some(Some(Secret::new("s3cret"))),
            ..Layer::default()
        });
        assert!(!options.describe().contains("s3cret"));
        assert!(!format!("{options:?}").contains("s3cret"));
        assert!(options.describe().contains("directusToken Some(***)"));
        options.apply(Layer {
            directus_url: Some(Some(MaskedUrl::new("http://admin:hunter2@cms:8055/"))),
            ..Layer::default()
        });
        assert!(
            options
                .describe()
                .contains(r#"directusUrl Some("http://***@cms:8055/")"#),
            "{}",
            options.describe()
        );
        assert!(!format!("{options:?} {}", options.describe()).contains("hunter2"));
    }

    #[test]
    fn secret_variables_are_the_tools_and_those_environments_name() {
        let environments = json!({
            "dev": {"tokenEnv": "DEV_TOKEN", "emailEnv": "DEV_EMAIL"},
            "prod": {"emailEnv": "PROD_EMAIL", "passwordEnv": "PROD_PASSWORD", "tokenEnv": "DEV_TOKEN"},
            "odd": "not an object",
        });
        assert_eq!(
            secret_variables(environments.as_object().unwrap()),
            [
                "DEV_TOKEN",
                "DIRECTUS_ADMIN_PASSWORD",
                "DIRECTUS_TOKEN",
                "PROD_PASSWORD"
            ]
        );
    }

    #[test]
    fn environment_entries_read_secrets_from_named_variables() {
        let entry =
            json!({"directusUrl": "http://prod", "tokenEnv": "PROD_TOKEN", "branch": "env/prod"});
        let lookup = |name: &str| (name == "PROD_TOKEN").then(|| "t0k3n".to_string());
        let (layer, _) = environment_layer(entry.as_object().unwrap(), &lookup).unwrap();
        assert_eq!(layer.directus_token.unwrap().unwrap().expose(), "t0k3n");
        assert_eq!(layer.branch.unwrap().as_deref(), Some("env/prod"));
        let typo = json!({"directusUrll": "x"});
        assert!(environment_layer(typo.as_object().unwrap(), &lookup).is_err());
    }

    #[test]
    fn blank_values_leave_lower_layers() {
        let mut options = Options::default();
        options.apply(Layer {
            directus_email: Some(Some("a@b.c".into())),
            ..Layer::default()
        });
        options.apply(Layer {
            directus_email: Some(Some(String::new())),
            ..Layer::default()
        });
        assert_eq!(options.directus_email.as_deref(), Some("a@b.c"));
    }
}

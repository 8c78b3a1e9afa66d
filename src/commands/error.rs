//! Errors as the user sees them: one line saying what failed, then hints, and an exit code.
//! Domain modules have their own `thiserror` enums; they become a [`CommandError`] here, and
//! [`ErrorKind::exit_code`] is the one place that decides the process's exit code.

use crate::config::ConfigError;
use crate::directus::DirectusError;
use crate::dump::DumpError;
use crate::git::GitError;
use crate::hooks::HookError;
use crate::idmap::IdMapError;
use crate::lock::LockError;
use crate::values::ValuesError;

/// Exit codes: `diff --exit-code` uses 2 for "changes found", so errors never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    /// Bad input, a config problem, or Directus refused or failed: fix and run again.
    Error = 1,
    Changes = 2,
    /// A bug of ours (EX_SOFTWARE).
    Internal = 70,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: options, dump files, refs.
    User,
    /// Config files.
    Config,
    /// Directus or the network.
    Server,
    /// Another run holds the instance's lock: try again later.
    Locked,
    /// A bug of ours.
    Internal,
    /// Whoever reads our output stopped (`diff | head -1`): not a failure.
    BrokenPipe,
}

impl ErrorKind {
    pub fn exit_code(self) -> ExitCode {
        match self {
            ErrorKind::User | ErrorKind::Config | ErrorKind::Server | ErrorKind::Locked => {
                ExitCode::Error
            }
            ErrorKind::Internal => ExitCode::Internal,
            ErrorKind::BrokenPipe => ExitCode::Success,
        }
    }
}

#[derive(Debug)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub error: anyhow::Error,
    pub hints: Vec<String>,
    /// Where an internal error was raised, to name in its message.
    location: Option<&'static std::panic::Location<'static>>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            kind,
            error: error.into(),
            hints: Vec::new(),
            location: None,
        }
    }

    pub fn user(message: impl std::fmt::Display) -> Self {
        CommandError::new(ErrorKind::User, anyhow::anyhow!("{message}"))
    }

    /// A bug of ours: the message names the place in the code.
    #[track_caller]
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            location: Some(std::panic::Location::caller()),
            ..CommandError::new(ErrorKind::Internal, error)
        }
    }

    /// An error of a domain module, with the hint it offers (if any).
    pub fn hinted(
        kind: ErrorKind,
        error: impl Into<anyhow::Error>,
        hint: Option<&'static str>,
    ) -> Self {
        let mut command_error = CommandError::new(kind, error);
        command_error.hints.extend(hint.map(str::to_string));
        command_error
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The same error with its message and hints passed through `scrub` (secret values
    /// replaced by their placeholders): Directus words some refusals with the value it
    /// refused. Unchanged when `scrub` finds nothing.
    pub fn scrubbed(self, scrub: &dyn Fn(&str) -> Option<String>) -> CommandError {
        let message = format!("{:#}", self.error);
        let hints: Vec<Option<String>> = self.hints.iter().map(|h| scrub(h)).collect();
        let scrubbed = scrub(&message);
        if scrubbed.is_none() && hints.iter().all(Option::is_none) {
            return self;
        }
        CommandError {
            kind: self.kind,
            error: anyhow::anyhow!(scrubbed.unwrap_or(message)),
            hints: self
                .hints
                .into_iter()
                .zip(hints)
                .map(|(hint, scrubbed)| scrubbed.unwrap_or(hint))
                .collect(),
            location: self.location,
        }
    }

    /// Whether the instance's address looks wrong: nothing answers there, or not Directus.
    pub fn is_about_the_url(&self) -> bool {
        matches!(
            self.error.downcast_ref::<DirectusError>(),
            Some(
                DirectusError::Unreachable { .. }
                    | DirectusError::NotDirectus { .. }
                    | DirectusError::InvalidUrl { .. }
            )
        )
    }

    /// Prints the error and its hints on stderr; returns the exit code.
    pub fn report(&self) -> ExitCode {
        if self.kind != ErrorKind::BrokenPipe {
            eprintln!("error: {}", self.message());
            for hint in &self.hints {
                eprintln!("hint: {hint}");
            }
        }
        self.kind.exit_code()
    }

    pub fn message(&self) -> String {
        let message = format!("{:#}", self.error);
        match (self.kind, self.location) {
            (ErrorKind::Internal, Some(at)) => format!(
                "internal error at {}:{}: {message} (a bug of directus-sync; please report it)",
                at.file(),
                at.line()
            ),
            (ErrorKind::Internal, None) => {
                format!("internal error: {message} (a bug of directus-sync; please report it)")
            }
            _ => message,
        }
    }
}

impl From<DirectusError> for CommandError {
    fn from(error: DirectusError) -> Self {
        let hint = error.hint();
        CommandError::hinted(ErrorKind::Server, error, hint)
    }
}

impl From<ConfigError> for CommandError {
    fn from(error: ConfigError) -> Self {
        CommandError::new(ErrorKind::Config, error)
    }
}

impl From<DumpError> for CommandError {
    fn from(error: DumpError) -> Self {
        let hint = error.hint();
        CommandError::hinted(ErrorKind::User, error, hint)
    }
}

impl From<GitError> for CommandError {
    #[track_caller]
    fn from(error: GitError) -> Self {
        let hint = error.hint();
        match error {
            GitError::Git(_) => CommandError::internal(error),
            _ => CommandError::hinted(ErrorKind::User, error, hint),
        }
    }
}

impl From<IdMapError> for CommandError {
    fn from(error: IdMapError) -> Self {
        match error {
            IdMapError::Directus(error) => error.into(),
            other => {
                let hint = other.hint();
                CommandError::hinted(ErrorKind::Config, other, hint)
            }
        }
    }
}

impl From<LockError> for CommandError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::Directus(error) => error.into(),
            held @ LockError::Held { .. } => {
                let hint = held.hint();
                CommandError::hinted(ErrorKind::Locked, held, hint)
            }
        }
    }
}

impl From<crate::plan::SavedPlanError> for CommandError {
    fn from(error: crate::plan::SavedPlanError) -> Self {
        let hint = error.hint();
        CommandError::hinted(ErrorKind::User, error, hint)
    }
}

impl From<ValuesError> for CommandError {
    fn from(error: ValuesError) -> Self {
        let hint = error.hint();
        CommandError::hinted(ErrorKind::User, error, hint)
    }
}

impl From<HookError> for CommandError {
    fn from(error: HookError) -> Self {
        CommandError::new(ErrorKind::User, error)
            .hint("nothing was written; fix the hook and run again")
    }
}

impl From<std::io::Error> for CommandError {
    #[track_caller]
    fn from(error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::BrokenPipe => CommandError::new(ErrorKind::BrokenPipe, error),
            _ => CommandError::internal(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_exit_codes() {
        assert_eq!(ErrorKind::User.exit_code(), ExitCode::Error);
        assert_eq!(ErrorKind::Server.exit_code(), ExitCode::Error);
        assert_eq!(ErrorKind::Locked.exit_code(), ExitCode::Error);
        assert_eq!(ErrorKind::Internal.exit_code(), ExitCode::Internal);
        assert_eq!(ErrorKind::BrokenPipe.exit_code(), ExitCode::Success);
        let pipe = CommandError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(pipe.kind, ErrorKind::BrokenPipe);
    }

    #[test]
    fn credentials_in_a_url_are_a_config_error() {
        let error = CommandError::from(ConfigError::CredentialsInUrl {
            origin: "--directus-url".into(),
            url: "http://***@host".into(),
            instead: "pass a token",
        });
        assert_eq!(error.kind, ErrorKind::Config);
        assert_eq!(error.kind.exit_code(), ExitCode::Error);
        assert!(error.hints.is_empty(), "one line says it all");
    }

    #[test]
    fn scrubbed_errors_keep_their_kind_and_lose_the_secret() {
        let scrub = |text: &str| {
            text.contains("s3cret")
                .then(|| text.replace("s3cret", "${S}"))
        };
        let error = CommandError::user("Value \"s3cret\" has to be unique").hint("not s3cret");
        let scrubbed = error.scrubbed(&scrub);
        assert_eq!(scrubbed.kind, ErrorKind::User);
        assert_eq!(scrubbed.message(), "Value \"${S}\" has to be unique");
        assert_eq!(scrubbed.hints, ["not ${S}"]);
        let plain = CommandError::user("nothing secret").scrubbed(&scrub);
        assert_eq!(plain.message(), "nothing secret");
    }

    #[test]
    fn internal_errors_name_where() {
        let error = CommandError::internal(anyhow::anyhow!("boom"));
        let message = error.message();
        assert!(
            message.starts_with("internal error at src/commands/error.rs:")
                && message.contains("boom"),
            "{message}"
        );
    }
}

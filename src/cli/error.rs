//! Errors as the user sees them: one line saying what failed, then hints, and an exit code.

use crate::config::ConfigError;
use crate::directus::DirectusError;
use crate::dump::DumpError;

/// Exit codes: `diff --exit-code` uses 2 for "changes found", so errors never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    Success = 0,
    Error = 1,
    Changes = 2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: options, dump files, refs.
    User,
    /// Config files.
    Config,
    /// Directus or the network.
    Server,
    /// A bug of ours.
    Internal,
}

#[derive(Debug)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub error: anyhow::Error,
    pub hints: Vec<String>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            kind,
            error: error.into(),
            hints: Vec::new(),
        }
    }

    pub fn user(message: impl std::fmt::Display) -> Self {
        CommandError::new(ErrorKind::User, anyhow::anyhow!("{message}"))
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn print(&self) {
        let mut message = format!("{:#}", self.error);
        if self.kind == ErrorKind::Internal {
            message = format!("internal error: {message}");
        }
        eprintln!("error: {message}");
        for hint in &self.hints {
            eprintln!("hint: {hint}");
        }
    }
}

impl CommandError {
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

impl From<anyhow::Error> for CommandError {
    fn from(error: anyhow::Error) -> Self {
        CommandError::new(ErrorKind::Internal, error)
    }
}

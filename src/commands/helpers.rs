use super::Context;
use crate::cli::{CommandError, ExitCode, HelpersCommand};

pub async fn run(_context: &Context, command: &HelpersCommand) -> Result<ExitCode, CommandError> {
    let name = match command {
        HelpersCommand::Untrack(_) => "helpers untrack",
        HelpersCommand::RemovePermissionDuplicates(_) => "helpers remove-permission-duplicates",
    };
    Err(CommandError::user(format!("{name} is not implemented yet")))
}

//! `show flow <name|syncId> [--format mermaid|dot] [REF]`: draws a flow of the dump in the
//! working tree or of a revision. Reads the dump only.

use super::{CommandError, Context, ExitCode};
use crate::flows::Flow;
use crate::ui;
use std::collections::HashSet;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Draw a flow: its trigger, operations and resolve/reject paths
    Flow(FlowArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Picture {
    Mermaid,
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct FlowArgs {
    /// The flow's name or SyncId
    pub flow: String,
    /// Drawing language
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: Picture,
    /// Draw the flow as this git revision's dump has it instead of the working tree
    #[arg(value_name = "REF")]
    pub revision: Option<String>,
}

pub async fn run(context: &Context, command: &Command) -> Result<ExitCode, CommandError> {
    let Command::Flow(args) = command;
    let source = context.source(args.revision.as_deref())?;
    let dump = context.read_dump(source.as_ref()).await?;
    let flows = super::diff::dump_values(&dump, "flows");
    let operations = super::diff::dump_values(&dump, "operations");
    let flow = match Flow::find(&flows, &args.flow).as_slice() {
        [one] => Flow::from_dump(&flows, &operations, one),
        [] => None,
        many => {
            return Err(CommandError::user(format!(
                "{} flows are called {:?}: {}",
                many.len(),
                args.flow,
                many.join(", ")
            ))
            .hint("name the flow by its SyncId"));
        }
    };
    let Some(flow) = flow else {
        return Err(CommandError::user(format!(
            "no flow called {:?} in the dump (by name or SyncId)",
            args.flow
        ))
        .hint(known_flows(&flows)));
    };
    let none = HashSet::new();
    let text = match args.format {
        Picture::Mermaid => flow.mermaid(&none),
        Picture::Dot => flow.dot(&none),
    };
    ui::print(&text)?;
    Ok(ExitCode::Success)
}

/// The hint of an unknown flow: the names the dump has, so a typo is seen at once.
fn known_flows(flows: &[serde_json::Value]) -> String {
    let mut names: Vec<&str> = flows
        .iter()
        .filter_map(|flow| flow.get("name").and_then(serde_json::Value::as_str))
        .collect();
    names.sort_unstable();
    match names.as_slice() {
        [] => "the dump has no flows".to_string(),
        names => format!("the dump's flows: {}", names.join(", ")),
    }
}

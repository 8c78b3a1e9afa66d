use super::Context;
use crate::cli::{CommandError, DiffArgs, ExitCode, OutputFormat};

pub async fn run(context: &Context, args: &DiffArgs) -> Result<ExitCode, CommandError> {
    let source = context.dump_source(args.revision.as_deref())?;
    let connection = context.connect(args.force).await?;
    let (plan, _) = context
        .plan(&connection, args.force, source.as_ref())
        .await?;
    match args.format {
        OutputFormat::Text => print!("{}", plan.render_text(context.color())),
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan.to_json()).expect("plans serialise")
        ),
    }
    context.finish(&connection);
    let code = if args.exit_code && !plan.is_empty() {
        ExitCode::Changes
    } else {
        ExitCode::Success
    };
    Ok(code)
}

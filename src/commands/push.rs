use super::Context;
use crate::cli::{CommandError, ExitCode, PushArgs};

pub async fn run(context: &Context, args: &PushArgs) -> Result<ExitCode, CommandError> {
    let connection = context.connect(args.force).await?;
    let plan = context.plan(&connection, args.force).await?;
    if args.dry_run {
        print!("{}", plan.render_text());
        context.finish(&connection);
        return Ok(ExitCode::Success);
    }
    match &plan.schema {
        Some(schema) => {
            schema.apply(&connection.client).await?;
            let changes = schema.changes();
            tracing::info!("applied {} schema changes", changes.len());
        }
        None => tracing::info!("the schema is up to date"),
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

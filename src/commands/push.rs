use super::Context;
use crate::cli::{CommandError, ErrorKind, ExitCode, PushArgs};

pub async fn run(context: &Context, args: &PushArgs) -> Result<ExitCode, CommandError> {
    let connection = context.connect(args.force).await?;
    let (plan, mut instance) = context.plan(&connection, args.force).await?;
    print!("{}", plan.render_text(context.color()));
    if !plan.unresolved.is_empty() {
        return Err(CommandError::user(format!(
            "the dump refers to {} items that exist neither in the dump nor on the instance; nothing was changed",
            plan.unresolved.len()
        ))
        .hint("pull the referenced collections too, or fix the references listed above with '!'"));
    }
    if args.dry_run {
        context.finish(&connection);
        return Ok(ExitCode::Success);
    }
    if !plan.has_writes() {
        tracing::info!("the instance already matches the dump");
        context.finish(&connection);
        return Ok(ExitCode::Success);
    }
    let applied = plan
        .apply(
            &connection.client,
            &mut instance,
            &context.options.preserve_ids,
        )
        .await
        .map_err(|error| {
            let applied = error.applied;
            CommandError::new(ErrorKind::Server, error)
                .hint(format!("applied before the failure: {applied}"))
                .hint("fix the cause and push again: the next push continues from here")
        })?;
    tracing::info!("applied: {applied}");

    // Read back: what Directus stored must now match the dump.
    let (after, _) = context.plan(&connection, args.force).await?;
    if !after.is_empty() {
        tracing::warn!(
            "the instance still differs from the dump after the push:\n{}",
            after.render_text(false).trim_end()
        );
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

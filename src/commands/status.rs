use super::{Context, connect, load_dump, plan_for, schema_diff, specs_of};
use crate::cli::{CommandError, ExitCode, StatusArgs};
use crate::config::Options;
use crate::git::DumpRepo;

/// Whether each environment's live instance matches the dump on its branch.
pub async fn run(context: &Context, args: &StatusArgs) -> Result<ExitCode, CommandError> {
    let repo = DumpRepo::require(&context.dump_root())?;
    let targets: Vec<(String, Options)> = match (
        &context.options.environment,
        context.options.environment_names.is_empty(),
    ) {
        (Some(name), _) => vec![(name.clone(), context.options.clone())],
        (None, true) => vec![("-".into(), context.options.clone())],
        (None, false) => context
            .options
            .environment_names
            .iter()
            .map(|name| Ok((name.clone(), context.options_for(name)?)))
            .collect::<Result<_, CommandError>>()?,
    };
    let mut differs = false;
    for (name, options) in targets {
        let branch = options
            .branch
            .clone()
            .or_else(|| repo.current_branch())
            .unwrap_or_else(|| "HEAD".into());
        let source = repo.source(&branch)?;
        let dump = load_dump(&options, &context.hooks, &source).await?;
        let connection = connect(&options, false).await?;
        let specs = specs_of(&options);
        let read = connection.read_instance(&specs);
        let (schema, instance) = tokio::try_join!(schema_diff(&connection, &dump, false), read)?;
        let plan = plan_for(&specs, &dump, &instance, schema);
        let counts = plan.counts();
        let state = if plan.is_empty() {
            "in sync".to_string()
        } else {
            differs = true;
            format!(
                "differs: {} to create, {} to update, {} to delete on push",
                counts.create, counts.update, counts.delete
            )
        };
        let commit = repo.commit(&branch)?.id().to_string();
        println!(
            "{name}  {}  {branch}@{}  {state}",
            connection.client.base_url(),
            &commit[..10]
        );
    }
    Ok(if args.exit_code && differs {
        ExitCode::Changes
    } else {
        ExitCode::Success
    })
}

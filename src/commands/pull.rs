use super::Context;
use crate::cli::{CommandError, ExitCode, PullArgs};
use crate::dump;
use crate::snapshot::Snapshot;
use crate::specs::Specs;

pub async fn run(context: &Context, args: &PullArgs) -> Result<ExitCode, CommandError> {
    let options = &context.options;
    let connection = context.connect(args.force).await?;
    let client = &connection.client;
    let root = context.dump_root();

    let fetch_snapshot = async {
        match options.snapshot {
            true => Snapshot::fetch(client).await.map(Some),
            false => Ok(None),
        }
    };
    let fetch_specs = async {
        match options.specs {
            true => Specs::fetch(client).await.map(Some),
            false => Ok(None),
        }
    };
    let (snapshot, specs) = tokio::try_join!(fetch_snapshot, fetch_specs)?;

    match snapshot {
        Some(snapshot) => {
            let dir = root.join(&options.snapshot_path);
            let files = snapshot.to_files(options.split);
            dump::replace_dir(&dir, &files)?;
            tracing::info!(
                "saved the schema: {} files in {}",
                files.len(),
                dir.display()
            );
        }
        None => tracing::debug!("snapshot is disabled"),
    }
    if let Some(specs) = specs {
        let dir = root.join(&options.specs_path);
        for (name, content) in specs.to_files() {
            dump::write_file_atomic(&dir.join(name), content.as_bytes())?;
        }
        tracing::info!("saved the GraphQL and OpenAPI specs in {}", dir.display());
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

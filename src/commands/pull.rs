use super::Context;
use crate::cli::{CommandError, ExitCode, PullArgs};
use crate::dump;
use crate::idmap::IdMapRow;
use crate::instance::Instance;
use crate::snapshot::Snapshot;
use crate::specs::Specs;

pub async fn run(context: &Context, args: &PullArgs) -> Result<ExitCode, CommandError> {
    let options = &context.options;
    let connection = context.connect(args.force).await?;
    let client = &connection.client;
    let root = context.dump_root();
    let specs = context.specs();

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
    let (snapshot, api_specs, mut instance) =
        tokio::try_join!(fetch_snapshot, fetch_specs, Instance::read(client, &specs))?;

    // Every untracked item gets its SyncId before any relation is mapped, so that relations
    // between the pulled collections resolve whatever their order.
    let mut new_rows = Vec::new();
    for spec in &specs {
        for live in instance.live_items(spec) {
            if live.sync_id.is_some() {
                continue;
            }
            let sync_id = match spec.keeps_ids(&options.preserve_ids) {
                true => live.local_id.clone(),
                false => uuid::Uuid::new_v4().to_string(),
            };
            instance.id_map.insert(spec.name, &sync_id, &live.local_id);
            new_rows.push(IdMapRow {
                table: spec.name.to_string(),
                sync_id,
                local_id: live.local_id,
            });
        }
    }
    if !new_rows.is_empty() {
        instance.store.ensure(client).await?;
        instance.store.insert(client, &new_rows).await?;
        tracing::info!("tracking {} new items", new_rows.len());
    }

    let collections_dir = root.join(&options.collections_path);
    for spec in &specs {
        let mut items: Vec<_> = instance
            .live_items(spec)
            .iter()
            .filter_map(|live| {
                let sync_id = live.sync_id.as_deref()?;
                Some(spec.to_dump(&live.raw, sync_id, &instance.id_map))
            })
            .collect();
        spec.sort(&mut items);
        dump::collections::write(&collections_dir, spec.name, &items)?;
        tracing::debug!("{}: saved {} items", spec.name, items.len());
    }
    tracing::info!(
        "saved {} collections in {}",
        specs.len(),
        collections_dir.display()
    );

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
    if let Some(api_specs) = api_specs {
        let dir = root.join(&options.specs_path);
        for (name, content) in api_specs.to_files() {
            dump::write_file_atomic(&dir.join(name), content.as_bytes())?;
        }
        tracing::info!("saved the GraphQL and OpenAPI specs in {}", dir.display());
    }
    context.finish(&connection);
    Ok(ExitCode::Success)
}

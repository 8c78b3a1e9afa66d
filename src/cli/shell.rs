//! What the shell and `man` know of the command: completion scripts (clap_complete) and
//! manual pages (clap_mangen), both made from the same definition the command line parses
//! with, config options included, so they never lag behind it.

use clap::Command;

/// The completion script of `shell` for `command`.
pub fn completions(command: Command, shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = command;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "directus-sync", &mut out);
    match shell {
        clap_complete::Shell::Bash => bash_states_agree(out),
        _ => out,
    }
}

/// clap_complete's bash script spells the states of a hyphenated command two ways: its loop
/// arrives at `directus__sync__subcmd__push`, its `case` arms say
/// `directus__subcmd__sync__subcmd__push`, so nothing after a subcommand ever completed
/// (clap-rs/clap#6421). The arms are respelled as the loop spells them.
fn bash_states_agree(script: Vec<u8>) -> Vec<u8> {
    String::from_utf8_lossy(&script)
        .replace("directus__subcmd__sync", "directus__sync")
        .into_bytes()
}

/// The manual page (roff) of `command`, or of one of its subcommands (`push`,
/// `helpers wait-server-ready`), named as `man` names them (`directus-sync-push`).
pub fn man_page(command: Command, path: &[String]) -> Result<Vec<u8>, String> {
    let mut command = command;
    command.build();
    let mut page = command;
    let mut name = String::from("directus-sync");
    for part in path {
        let Some(sub) = page.find_subcommand(part).cloned() else {
            return Err(format!("{name} has no subcommand {part:?}"));
        };
        name = format!("{name}-{part}");
        page = sub.name(name.clone());
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

//! What shells, `man` and pipelines use (issue #15): completion scripts for every shell, the
//! manual pages, and `helpers wait-server-ready`.

mod support;

use support::cli::Outcome;
use support::{DirectusInstance, bin};

#[track_caller]
fn completions(shell: &str) -> String {
    let outcome = Outcome::of(bin().args(["completions", shell])).exits(0);
    assert!(outcome.stderr.is_empty(), "{outcome}");
    outcome.stdout
}

/// Every shell's script names the commands and options of every level, new ones included.
#[test]
fn completions_are_generated_for_each_shell() {
    let marks = [
        ("bash", "complete -F _directus__sync"),
        ("zsh", "#compdef directus-sync"),
        ("fish", "complete -c directus-sync"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'directus-sync'",
        ),
    ];
    for (shell, mark) in marks {
        let script = completions(shell);
        assert!(script.contains(mark), "{shell}: no {mark:?} in\n{script}");
        for word in ["wait-server-ready", "completions"] {
            assert!(script.contains(word), "{shell}: {word} is not completed");
        }
        for option in ["plan", "out", "timeout", "directus-url"] {
            // fish names long options by `-l NAME`.
            let word = match shell {
                "fish" => format!("-l {option}"),
                _ => format!("--{option}"),
            };
            assert!(script.contains(&word), "{shell}: {word} is not completed");
        }
    }
    let unknown = Outcome::of(bin().args(["completions", "tcsh"])).exits(1);
    assert!(unknown.stderr.contains("invalid value 'tcsh'"), "{unknown}");
}

/// What bash offers at `WORDS…<TAB>`, the script loaded as `source <(directus-sync completions
/// bash)` loads it.
fn bash_offers(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let program = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_directus__sync directus-sync {:?} {:?}\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Bash completes subcommands and, below them, their own options (which clap_complete's script
/// for a hyphenated name does not do unaided).
#[test]
fn bash_completes_subcommands_and_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("directus-sync.bash");
    std::fs::write(&script, completions("bash")).unwrap();
    assert_eq!(
        bash_offers(&script, &["directus-sync", "pu"]),
        ["pull", "push"]
    );
    assert_eq!(
        bash_offers(&script, &["directus-sync", "push", "--pl"]),
        ["--plan"]
    );
    assert_eq!(
        bash_offers(&script, &["directus-sync", "helpers", "wait"]),
        ["wait-server-ready"]
    );
    assert_eq!(
        bash_offers(
            &script,
            &["directus-sync", "helpers", "wait-server-ready", "--ti"]
        ),
        ["--timeout"]
    );
    // With nothing typed, the options come too; the values are the shells.
    let offered = bash_offers(&script, &["directus-sync", "completions", ""]);
    let shells: Vec<&String> = offered.iter().filter(|w| !w.starts_with('-')).collect();
    assert_eq!(shells, ["bash", "elvish", "fish", "powershell", "zsh"]);
}

/// `man` prints roff that groff formats without a warning, for the command and a subcommand.
#[test]
fn man_pages_render() {
    for (args, name, option) in [
        (&["man"][..], "directus-sync", "completions"),
        (&["man", "push"][..], "directus-sync-push", "--plan"),
        (
            &["man", "helpers", "wait-server-ready"][..],
            "directus-sync-helpers-wait-server-ready",
            "--timeout",
        ),
    ] {
        let roff = Outcome::of(bin().args(args)).exits(0).stdout;
        assert!(roff.contains(&format!(".TH {name} 1")), "{args:?}:\n{roff}");
        let mut groff = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-rLL=200n"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("groff runs");
        use std::io::Write;
        groff
            .stdin
            .take()
            .unwrap()
            .write_all(roff.as_bytes())
            .unwrap();
        let output = groff.wait_with_output().unwrap();
        let (page, warnings) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(
            output.status.success() && warnings.is_empty(),
            "{args:?}: {warnings}"
        );
        // groff draws bold by overstriking; the words are what is left without it.
        let page: String = strip_overstrike(&page);
        assert!(
            page.contains("NAME") && page.contains(name),
            "{args:?}:\n{page}"
        );
        assert!(page.contains(option), "{args:?}: no {option} in\n{page}");
    }
    let unknown = Outcome::of(bin().args(["man", "nope"])).exits(1);
    assert!(
        unknown
            .stderr
            .contains("directus-sync has no subcommand \"nope\""),
        "{unknown}"
    );
}

fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    out.into_iter()
        .collect::<String>()
        .replace(['\u{2010}', '\u{2212}'], "-")
}

/// Against a port nothing listens on, the wait ends at its timeout with a message saying so.
#[test]
fn wait_server_ready_gives_up_at_its_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let outcome = Outcome::of(bin().args([
        "helpers",
        "wait-server-ready",
        "--timeout",
        "2",
        "--directus-url",
        &url,
    ]))
    .exits(1);
    let waited = started.elapsed();
    assert!(
        outcome.stderr.contains(&format!(
            "Directus at {url} was not ready after 2 s: nothing accepts connections there"
        )),
        "{outcome}"
    );
    assert!(outcome.stderr.contains("--timeout"), "{outcome}");
    assert!(
        waited.as_secs_f64() >= 2.0 && waited.as_secs_f64() < 6.0,
        "{waited:?}"
    );
}

/// A running Directus is ready at once, without credentials.
#[test]
fn wait_server_ready_returns_once_directus_answers() {
    let instance = DirectusInstance::start();
    let outcome = Outcome::of(bin().args([
        "helpers",
        "wait-server-ready",
        "--timeout",
        "30",
        "--directus-url",
        instance.url(),
    ]))
    .exits(0);
    assert!(
        outcome.stderr.contains(&format!(
            "Directus at {} is ready",
            instance.url().trim_end_matches('/')
        )),
        "{outcome}"
    );
}

//! Mermaid's own parser on what the tool prints: `tests/mermaid/check.mjs` runs the pinned
//! `mermaid` npm package (the renderer GitHub and GitLab use) in Node, no browser needed.
//! `scripts/test` installs it (`npm ci` in tests/mermaid) before `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/mermaid`: the npm project holding the pinned Mermaid and its checker.
pub fn mermaid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid")
}

/// What to hand the parser: one diagram, or Markdown whose ```mermaid blocks are checked
/// (Markdown without a block is rejected).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Diagram(&'a str),
    Markdown(&'a str),
}

/// Parses every diagram of `sources` in one Node process: `Ok(n)` when all `n` diagrams
/// parse, `Err(the checker's report)` naming each one Mermaid rejects and why.
pub fn parse(sources: &[Source<'_>]) -> Result<usize, String> {
    let dir = mermaid_dir();
    assert!(
        dir.join("node_modules/mermaid").exists(),
        "{} is missing: run `scripts/test` (or `npm ci` in tests/mermaid) first",
        dir.join("node_modules").display()
    );
    let files = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let (name, text) = match source {
            Source::Diagram(text) => (format!("{i}.mmd"), text),
            Source::Markdown(text) => (format!("{i}.md"), text),
        };
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("check.mjs"))
        .args(&paths)
        .current_dir(&dir)
        .env_clear();
    for keep in ["PATH", "HOME", "TMPDIR"] {
        if let Some(value) = std::env::var_os(keep) {
            cmd.env(keep, value);
        }
    }
    let out = cmd.output().expect("spawn node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.success() {
        true => Ok(stdout.lines().filter(|l| l.starts_with("ok ")).count()),
        false => Err(format!("{}\n{stderr}{stdout}", out.status)),
    }
}

/// Panics with the parser's report unless every diagram of `sources` parses; returns how
/// many diagrams were checked.
#[track_caller]
pub fn assert_parses(sources: &[Source<'_>]) -> usize {
    match parse(sources) {
        Ok(count) => count,
        Err(report) => panic!("Mermaid rejects what the tool printed:\n{report}"),
    }
}

//! What the user sees: logs and progress on stderr, data on stdout. Stdout is written through
//! [`print`], so that a reader who stops early (`diff | head -1`) ends the command quietly.

pub mod logging;

use std::io::{IsTerminal, Write};

/// Writes data to stdout. A closed pipe comes back as `ErrorKind::BrokenPipe`, which commands
/// pass up with `?` and which ends the process quietly.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Colors on stdout only for a terminal, and never with `NO_COLOR`.
pub fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Someone is at the terminal to answer a question (and CI is not running us).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
}

/// Asks a yes/no question on stderr; only `y` or `yes` is a yes.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    let mut err = std::io::stderr().lock();
    err.write_all(question.as_bytes())?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// A progress bar on stderr for long work; invisible when stderr is not a terminal, so logs
/// and CI output stay clean. Log lines written while it runs go above it ([`suspend`]); it
/// is cleared when dropped, before the command prints its results.
pub struct Progress(indicatif::ProgressBar);

/// The bar being drawn, if any. Log lines are written to the same terminal: without lifting
/// the bar first they would land on its last frame (`⠄ settings [====] 12/12  roles: …`).
static ACTIVE: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Runs `write` with the progress bar, if one is drawn, off the screen, and draws it again
/// below what `write` wrote.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().ok().and_then(|active| active.clone());
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

impl Progress {
    pub fn new(total: u64, message: &str) -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
        }
        Progress(bar)
    }
}

impl crate::plan::Progress for Progress {
    fn advance(&self, steps: u64) {
        self.0.inc(steps);
    }

    fn stage(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
}

impl Drop for Progress {
    /// The bar is gone before anything else is printed.
    fn drop(&mut self) {
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
        self.0.finish_and_clear();
    }
}

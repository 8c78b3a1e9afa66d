//! Running the `directus-sync` binary and keeping what it answered.

use std::fmt;
use std::path::Path;

use super::DirectusInstance;

/// What one run of the CLI answered. Displays as its exit code and both streams, for assertion
/// messages.
pub struct Outcome {
    /// The exit code; -1 when a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Runs `cmd` to its end, whatever its exit code.
    #[track_caller]
    #[must_use = "check the exit code, e.g. with `.exits(N)`"]
    pub fn of(cmd: &mut assert_cmd::Command) -> Outcome {
        let started = std::time::Instant::now();
        let output = cmd.output().expect("run directus-sync");
        let outcome = Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        // `DS_TEST_TIMINGS=1 cargo test -- --nocapture`: a line per run, for closing notes.
        if std::env::var_os("DS_TEST_TIMINGS").is_some() {
            let args: Vec<String> = cmd
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprintln!(
                "[timing] {}: directus-sync {}: exit {}, {:.2} s, {} requests",
                std::thread::current().name().unwrap_or("?"),
                args.join(" "),
                outcome.code,
                started.elapsed().as_secs_f64(),
                outcome.requests()
            );
        }
        outcome
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn exits(self, code: i32) -> Outcome {
        assert_eq!(self.code, code, "{self}");
        self
    }

    /// How many requests the run sent, from the closing stderr line
    /// `done in X.XX s (N requests to Directus)`; 0 when there is none.
    pub fn requests(&self) -> usize {
        self.stderr
            .lines()
            .filter_map(|line| {
                line.split_once(" s (")?
                    .1
                    .split_once(" requests")?
                    .0
                    .parse()
                    .ok()
            })
            .next_back()
            .unwrap_or(0)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Every command of a walkthrough and what it printed, for the docs: written to the file named
/// by the variable `var` (if set) by [`save`](Self::save).
pub struct Transcript {
    var: &'static str,
    text: std::cell::RefCell<String>,
}

impl Transcript {
    pub fn new(var: &'static str) -> Transcript {
        Transcript {
            var,
            text: Default::default(),
        }
    }

    /// Records a run of `directus-sync ARGS`.
    pub fn command(&self, args: &[&str], outcome: &Outcome) {
        self.text.borrow_mut().push_str(&format!(
            "$ directus-sync {}\n{}{}",
            args.join(" "),
            outcome.stdout,
            outcome.stderr
        ));
    }

    /// Records a run of `git ARGS`.
    pub fn git(&self, args: &[&str], out: &str) {
        self.text
            .borrow_mut()
            .push_str(&format!("$ git {}\n{out}", args.join(" ")));
    }

    pub fn save(&self) {
        if let Ok(path) = std::env::var(self.var) {
            std::fs::write(path, self.text.borrow().as_bytes()).unwrap();
        }
    }
}

impl DirectusInstance {
    /// The CLI run in `dir` against this instance with `args`, whatever its exit code.
    #[track_caller]
    #[must_use = "check the exit code, e.g. with `.exits(N)`, or use `ok`"]
    pub fn run(&self, dir: impl AsRef<Path>, args: &[&str]) -> Outcome {
        Outcome::of(self.cli(dir).args(args))
    }

    /// Like [`run`](Self::run), but the run must succeed.
    #[track_caller]
    pub fn ok(&self, dir: impl AsRef<Path>, args: &[&str]) -> Outcome {
        let outcome = self.run(dir, args);
        assert_eq!(outcome.code, 0, "{args:?}\n{outcome}");
        outcome
    }
}

/// Whether the plan `text` (`diff` or `push` output) lists a line starting with `line` (its
/// sign and label, `+ "Editor"`, without the indentation) under the header of `group`
/// (`roles`, `schema fields`).
pub fn plan_has(text: &str, group: &str, line: &str) -> bool {
    let mut current = None;
    text.lines().any(|l| {
        if !l.starts_with(' ') {
            current = Some(l.split(" (").next().unwrap_or(l));
            return false;
        }
        current == Some(group) && l.trim_start().starts_with(line)
    })
}

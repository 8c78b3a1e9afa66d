//! Shell-command hooks for JSON and YAML configs: JSON in on stdin, JSON out on stdout.

use super::HookEnv;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub fn run(
    command: &str,
    input: &Value,
    env: &HookEnv,
    scope: &str,
    hook: &str,
    dir: &Path,
) -> Result<Value, String> {
    let mut shell = Command::new("sh");
    env.apply(&mut shell);
    let mut child = shell
        .args(["-c", command])
        .current_dir(dir)
        .env("DIRECTUS_SYNC_COLLECTION", scope)
        .env("DIRECTUS_SYNC_HOOK", hook)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let payload = serde_json::to_vec(input).expect("JSON values serialise");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Write from a thread: a command that prints before reading all its input must not
    // deadlock against us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&payload);
    });
    let output = child
        .wait_with_output()
        .map_err(|e| format!("`{command}` did not finish: {e}"))?;
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if !output.status.success() {
        return Err(format!(
            "`{command}` exited with {}: {stderr}",
            output.status
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "`{command}` printed no valid JSON ({e}){}",
            if stderr.is_empty() {
                String::new()
            } else {
                format!("; stderr: {stderr}")
            }
        )
    })
}

//! The node process that evaluates JavaScript config files and runs their hook functions. One
//! per run, started on first use; requests are answered in order, one at a time.

use super::HookEnv;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

const BRIDGE: &str = include_str!("bridge.js");

struct Bridge {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

static BRIDGE_PROCESS: OnceLock<Mutex<Result<Bridge, String>>> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("node is not available ({0})")]
    Unavailable(String),
    #[error("{0}")]
    Failed(String),
}

/// Starts node without the variables named in `hidden`.
fn start(hidden: &[String]) -> Result<Bridge, String> {
    let mut node = Command::new("node");
    for name in hidden {
        node.env_remove(name);
    }
    let mut child = node
        .args(["-e", BRIDGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    Ok(Bridge {
        child,
        stdin,
        stdout,
        next_id: 0,
    })
}

/// Sends one request and waits for its answer; starts the bridge, without the variables named
/// in `hidden`, if it does not run yet.
fn request(mut message: Value, hidden: &[String]) -> Result<Value, NodeError> {
    let lock = BRIDGE_PROCESS.get_or_init(|| Mutex::new(start(hidden)));
    let mut guard = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bridge = guard
        .as_mut()
        .map_err(|e| NodeError::Unavailable(e.clone()))?;
    bridge.next_id += 1;
    message["id"] = json!(bridge.next_id);
    let line = format!("{message}\n");
    let failed = |e: std::io::Error| NodeError::Failed(format!("the node bridge stopped: {e}"));
    bridge.stdin.write_all(line.as_bytes()).map_err(failed)?;
    bridge.stdin.flush().map_err(failed)?;
    let mut answer = String::new();
    if bridge.stdout.read_line(&mut answer).map_err(failed)? == 0 {
        let status = bridge.child.try_wait().ok().flatten();
        return Err(NodeError::Failed(format!(
            "the node bridge exited ({status:?})"
        )));
    }
    let answer: Value = serde_json::from_str(&answer)
        .map_err(|e| NodeError::Failed(format!("the node bridge answered garbage: {e}")))?;
    match answer.get("error") {
        Some(error) => Err(NodeError::Failed(
            error.as_str().unwrap_or_default().to_string(),
        )),
        None => Ok(answer.get("ok").cloned().unwrap_or(Value::Null)),
    }
}

/// The exported object of a `.js`/`.cjs` config file, functions replaced by markers. The
/// bridge that evaluates it (and later runs its hooks) starts without the variables in
/// `hidden`; the config itself may read any other, such as those its `tokenEnv` keys name.
pub fn evaluate_config(path: &Path, hidden: &[String]) -> Result<Value, NodeError> {
    request(json!({"op": "load", "file": path}), hidden)
}

/// Calls a hook function found in a config with `args` (the client comes last), in the
/// environment `env`.
pub fn call(
    function: &str,
    args: Vec<Value>,
    client: Value,
    env: &HookEnv,
) -> Result<Value, NodeError> {
    let message =
        json!({"op": "call", "fn": function, "args": args, "client": client, "env": env.to_json()});
    request(message, &env.hidden)
}

/// The marker `bridge.js` puts where a config has a function.
pub fn function_id(value: &Value) -> Option<&str> {
    value.get("__directusSyncFunction__")?.as_str()
}

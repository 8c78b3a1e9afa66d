//! A fault-injecting HTTP proxy in front of a real Directus: it forwards every request, one
//! connection per request, and can *hold* the answer to a chosen request after Directus has
//! carried it out. The CLI then waits for an answer that never comes, which opens the windows
//! a crash can hit: written, but not known to be written. The test kills the CLI (or
//! Directus) while the proxy holds, then lets the held connection go.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Which request to hold: the `nth` (from 1) whose method is `method` and whose path (without
/// the query) starts with `path`, counted from when the trap was set.
#[derive(Debug, Clone)]
pub struct Trap {
    pub method: &'static str,
    pub path: String,
    pub nth: usize,
}

impl Trap {
    pub fn new(method: &'static str, path: impl Into<String>) -> Trap {
        Trap {
            method,
            path: path.into(),
            nth: 1,
        }
    }
}

#[derive(Default)]
struct State {
    trap: Option<(Trap, usize)>,
    /// Requests seen, as `METHOD /path`, for messages.
    seen: Vec<String>,
}

pub struct Proxy {
    port: u16,
    state: Arc<Mutex<State>>,
    sprung: Receiver<String>,
    /// Dropping a sender lets the held connection go (closed without an answer).
    release: Arc<Mutex<Option<Sender<()>>>>,
}

impl Proxy {
    /// A proxy on a free local port forwarding to `127.0.0.1:<upstream>`.
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let release: Arc<Mutex<Option<Sender<()>>>> = Arc::new(Mutex::new(None));
        let (sprung_tx, sprung) = channel();
        let (thread_state, thread_release) = (state.clone(), release.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (state, release, sprung) = (
                    thread_state.clone(),
                    thread_release.clone(),
                    sprung_tx.clone(),
                );
                thread::spawn(move || {
                    let _ = forward(client, upstream, &state, &release, &sprung);
                });
            }
        });
        Proxy {
            port,
            state,
            sprung,
            release,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Holds the answer to the request `trap` names, from now on.
    pub fn hold(&self, trap: Trap) {
        self.state.lock().unwrap().trap = Some((trap, 0));
    }

    /// Waits until the trap held a request (`METHOD /path` of it); panics after `timeout`
    /// with the requests seen meanwhile.
    pub fn wait_until_held(&self, timeout: Duration) -> String {
        match self.sprung.recv_timeout(timeout) {
            Ok(request) => request,
            Err(_) => {
                let state = self.state.lock().unwrap();
                panic!(
                    "the trap {:?} never sprang; requests seen:\n{}",
                    state.trap,
                    state.seen.join("\n")
                )
            }
        }
    }

    /// Lets the held connection go: it is closed without an answer.
    pub fn let_go(&self) {
        self.release.lock().unwrap().take();
    }
}

fn forward(
    mut client: TcpStream,
    upstream: u16,
    state: &Mutex<State>,
    release: &Mutex<Option<Sender<()>>>,
    sprung: &Sender<String>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_string();
            head.extend_from_slice(line.as_bytes());
            continue;
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            content_length = value.trim().parse().unwrap_or(0);
        }
        // One request per connection: the answer then ends where the connection does.
        if lower.starts_with("connection:") || lower.starts_with("keep-alive:") {
            continue;
        }
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;

    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let held = {
        let mut state = state.lock().unwrap();
        state.seen.push(format!("{method} {path}"));
        match &mut state.trap {
            Some((trap, count)) if trap.method == method && path.starts_with(&trap.path) => {
                *count += 1;
                let spring = *count == trap.nth;
                if spring {
                    state.trap = None;
                }
                spring
            }
            _ => false,
        }
    };

    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.write_all(&head)?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    if held {
        // Directus did the work; its answer never reaches the CLI.
        let (tx, rx) = channel::<()>();
        *release.lock().unwrap() = Some(tx);
        let _ = sprung.send(format!("{method} {path}"));
        let _ = rx.recv();
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    client.write_all(&answer)?;
    client.shutdown(Shutdown::Write)
}

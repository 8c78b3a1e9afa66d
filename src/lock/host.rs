//! The host a run is on, and whether a process of it still runs: what lets a run take over at
//! once the lock of a run killed on the same host.

/// The host's name, for people reading who holds a lock.
pub fn name() -> String {
    let name = imp::name();
    match name.trim() {
        "" => "unknown host".to_string(),
        name => name.to_string(),
    }
}

/// What two runs share exactly when one can look up the other's pid: on Linux the host, its
/// boot and the pid namespace (containers on one host may share its name, never their pids);
/// elsewhere the host name.
pub fn id() -> String {
    imp::id(&name())
}

/// Whether process `pid` of this host (as [`id`] tells) has ended; `false` when that cannot be
/// told.
pub fn is_gone(pid: u32) -> bool {
    imp::is_gone(pid)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::fs;
    use std::io::ErrorKind;

    pub fn name() -> String {
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default()
    }

    pub fn id(name: &str) -> String {
        let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let namespace = fs::read_link("/proc/self/ns/pid")
            .map(|link| link.display().to_string())
            .unwrap_or_default();
        format!("{name} boot {} {namespace}", boot.trim())
    }

    pub fn is_gone(pid: u32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(error) => error.kind() == ErrorKind::NotFound,
            // `pid (name) S ...`: a zombie (Z) or dead (X) process has only its exit status
            // left; the name may hold spaces and parentheses, the state follows the last `)`.
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state == "Z" || state == "X"),
        }
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
mod imp {
    pub fn name() -> String {
        let mut buffer = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it.
        let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
        if status != 0 {
            return String::new();
        }
        let end = buffer.iter().position(|b| *b == 0).unwrap_or(buffer.len());
        String::from_utf8_lossy(&buffer[..end]).into_owned()
    }

    pub fn id(name: &str) -> String {
        name.to_string()
    }

    pub fn is_gone(pid: u32) -> bool {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let status = unsafe { libc::kill(pid, 0) };
        status != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }
}

#[cfg(not(unix))]
mod imp {
    pub fn name() -> String {
        std::env::var("COMPUTERNAME").unwrap_or_default()
    }

    pub fn id(name: &str) -> String {
        name.to_string()
    }

    pub fn is_gone(_pid: u32) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_an_ended_one_is_gone() {
        assert!(!is_gone(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_gone(pid));
        assert!(!name().is_empty() && id().contains(&name()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_killed_process_is_gone_before_it_is_reaped() {
        // As a run killed under a shell that has not waited for it yet.
        let mut zombie = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        zombie.kill().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !is_gone(zombie.id()) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            is_gone(zombie.id()),
            "a killed process is gone before it is reaped"
        );
        zombie.wait().unwrap();
    }
}

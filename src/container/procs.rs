//! A running container's processes, for `top`, `pause` and `unpause`.
//!
//! A container's processes are those in its PID 1's pid namespace: every
//! `/proc/P` whose `ns/pid` is that namespace. (A container sharing the
//! host's pid namespace has PID 1 and its descendants instead.) Rootless
//! the caller owns the container's user namespace, so it may read those
//! links and signal those processes whatever their uids.
//!
//! Pausing without a delegated freezer cgroup (cgroup v1 here, rootless):
//! SIGSTOP to every process, rescanning until no new one appears, then
//! waiting until each is stopped; SIGCONT resumes them.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[derive(Debug, thiserror::Error)]
pub enum ProcsError {
    #[error("reading the processes of the container: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Signal(String),
}

fn ns_of(pid: i32) -> std::io::Result<(u64, u64)> {
    let m = fs::metadata(format!("/proc/{pid}/ns/pid"))?;
    Ok((m.dev(), m.ino()))
}

fn all_pids() -> std::io::Result<Vec<i32>> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc")? {
        let e = e?;
        if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse().ok()) {
            out.push(pid);
        }
    }
    Ok(out)
}

fn ppid_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `T`, `Z`…).
pub fn state_of(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// Host pids of the container whose PID 1 is `pid1`, ascending.
pub fn container_pids(pid1: i32) -> Result<Vec<i32>, ProcsError> {
    let ns = ns_of(pid1)?;
    let all = all_pids()?;
    let own = ns_of(std::process::id() as i32)?;
    let mut found = BTreeSet::new();
    if ns == own {
        // The host's pid namespace: PID 1 and its descendants.
        found.insert(pid1);
        let parents: Vec<(i32, i32)> = all
            .iter()
            .filter_map(|&p| ppid_of(p).map(|pp| (p, pp)))
            .collect();
        loop {
            let before = found.len();
            for &(p, pp) in &parents {
                if found.contains(&pp) {
                    found.insert(p);
                }
            }
            if found.len() == before {
                break;
            }
        }
    } else {
        for p in all {
            if ns_of(p).is_ok_and(|n| n == ns) {
                found.insert(p);
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// SIGSTOP to every process of the container, until none is left running.
pub fn freeze(pid1: i32) -> Result<(), ProcsError> {
    let mut stopped = BTreeSet::new();
    for _ in 0..10 {
        let pids = container_pids(pid1)?;
        let new: Vec<i32> = pids.into_iter().filter(|p| !stopped.contains(p)).collect();
        if new.is_empty() {
            break;
        }
        for p in new {
            let _ = kill(Pid::from_raw(p), Signal::SIGSTOP);
            stopped.insert(p);
        }
    }
    // Wait until each has really stopped (or gone): `pause` returns frozen.
    let deadline = Instant::now() + Duration::from_secs(5);
    for &p in &stopped {
        while let Some(s) = state_of(p) {
            if matches!(s, 'T' | 't' | 'Z' | 'X') || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(())
}

/// SIGCONT to every process of the container.
pub fn thaw(pid1: i32) -> Result<(), ProcsError> {
    for p in container_pids(pid1)? {
        let _ = kill(Pid::from_raw(p), Signal::SIGCONT);
    }
    Ok(())
}

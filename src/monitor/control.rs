//! What other commands do to a container that a monitor looks after:
//! `stop`, `kill`, `rm -f`, `wait`. They act on the pids in its record and
//! tell the monitor their intent through `state.json` (`stop_requested`),
//! never through a socket: a monitor that was killed cannot block them.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::{MonitorError, signal_container, wait_for_exit};
use crate::container::create;
use crate::container::record::{self, ContainerStore, Status};
use crate::context::Context;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error("cannot kill container: {name}: container {id} is not running")]
    NotRunning { name: String, id: String },
    #[error(
        "cannot remove container \"/{0}\": container is running: stop the container before removing or force remove"
    )]
    Running(String),
    #[error("invalid signal: {0}")]
    InvalidSignal(String),
    #[error(transparent)]
    Remove(#[from] create::CreateError),
}

/// docker's signal names: `KILL`, `SIGKILL`, `sigkill`, `9`.
pub fn parse_signal(s: &str) -> Result<Signal, ControlError> {
    let invalid = || ControlError::InvalidSignal(s.to_string());
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| invalid());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

/// `stop`/`restart`'s grace period: `-t`, else `--stop-timeout`, else 10 s;
/// negative waits forever (None).
pub fn stop_timeout(flag: Option<i64>, configured: Option<i64>) -> Option<Duration> {
    let secs = flag.or(configured).unwrap_or(10);
    (secs >= 0).then(|| Duration::from_secs(secs as u64))
}

/// How long the monitor may take to write the exit once the container is gone.
const MONITOR_GRACE: Duration = Duration::from_secs(5);

/// Kills the container's processes with `sig`, waiting up to `timeout` (None:
/// forever), then SIGKILL; returns once the record says it exited. The
/// monitor is told first not to restart it. A stopped container is no error.
pub fn stop(
    ctx: &Context,
    id: &str,
    timeout: Option<Duration>,
    sig: Option<Signal>,
) -> Result<(), ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let state = containers.update_state(id, |s| s.stop_requested = true)?;
    let config = containers.read_config(id)?;
    let state = state.observed();
    if !state.status.is_running() {
        wait_for_exit(state.monitor_pid, state.monitor_start, MONITOR_GRACE);
        return Ok(());
    }
    let sig = match sig {
        Some(s) => s,
        None => config
            .stop_signal
            .as_deref()
            .map(parse_signal)
            .transpose()?
            .unwrap_or(Signal::SIGTERM),
    };
    let mut code = 128 + sig as i32;
    signal_container(&state, sig);
    crate::events::container(
        &ctx.paths.data,
        &config,
        "kill",
        &[("signal", &(sig as i32).to_string())],
    );
    if state.status == Status::Paused {
        // A stopped process would keep the signal pending: let it act on it.
        let _ = crate::container::procs::thaw(state.pid);
    }
    let gone = match timeout {
        Some(t) => wait_for_exit(state.pid, state.pid_start, t),
        None => wait_for_exit(
            state.pid,
            state.pid_start,
            Duration::from_secs(u32::MAX as u64),
        ),
    };
    if !gone {
        signal_container(&state, Signal::SIGKILL);
        crate::events::container(&ctx.paths.data, &config, "kill", &[("signal", "9")]);
        code = 128 + Signal::SIGKILL as i32;
        wait_for_exit(state.pid, state.pid_start, Duration::from_secs(30));
    }
    settle(&containers, id, &state, code);
    crate::events::container(&ctx.paths.data, &config, "stop", &[]);
    Ok(())
}

/// After the container's PID 1 is gone: waits for its monitor to record the
/// exit; if the monitor is gone too (killed), records it here.
fn settle(containers: &ContainerStore, id: &str, seen: &record::ContainerState, code: i32) {
    wait_for_exit(seen.monitor_pid, seen.monitor_start, MONITOR_GRACE);
    let _ = containers.update_state(id, |s| {
        if s.status.is_running() && s.pid == seen.pid {
            s.status = Status::Exited;
            s.pid = 0;
            s.exit_code = code;
            s.finished_at = Some(chrono::Utc::now());
        }
    });
}

/// `kill -s SIG`: the signal to the container's PID 1; it must be running.
pub fn kill(ctx: &Context, id: &str, sig: Signal) -> Result<(), ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let (config, state) = containers.load(id)?;
    if !state.status.is_running() {
        return Err(ControlError::NotRunning {
            name: config.name,
            id: id.to_string(),
        });
    }
    if sig == Signal::SIGKILL {
        // docker: a killed container counts as stopped by hand for its restart policy.
        containers.update_state(id, |s| s.stop_requested = true)?;
    }
    signal_container(&state, sig);
    crate::events::container(
        &ctx.paths.data,
        &config,
        "kill",
        &[("signal", &(sig as i32).to_string())],
    );
    if state.status == Status::Paused && sig != Signal::SIGSTOP {
        let _ = crate::container::procs::thaw(state.pid);
    }
    if sig == Signal::SIGKILL && wait_for_exit(state.pid, state.pid_start, Duration::from_secs(10))
    {
        settle(&containers, id, &state, 137);
    }
    Ok(())
}

/// `rm [-f] [-v]`: a running container is refused, or with `force` killed
/// at once; `volumes` also removes its anonymous volumes no other container uses.
pub fn remove(ctx: &Context, id: &str, force: bool, volumes: bool) -> Result<(), ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let (config, state) = containers.load(id)?;
    let live_monitor = record::process_alive(state.monitor_pid, state.monitor_start);
    if state.status.is_running() || (live_monitor && state.status != Status::Exited) {
        if !force {
            return Err(ControlError::Running(config.name));
        }
        containers.update_state(id, |s| s.stop_requested = true)?;
        signal_container(&state, Signal::SIGKILL);
        crate::events::container(&ctx.paths.data, &config, "kill", &[("signal", "9")]);
        wait_for_exit(state.pid, state.pid_start, Duration::from_secs(10));
        wait_for_exit(state.monitor_pid, state.monitor_start, MONITOR_GRACE);
    }
    create::remove_with(ctx, &config, volumes || config.auto_remove)?;
    Ok(())
}

/// `wait`: blocks until the container is not running; its exit code.
pub fn wait(ctx: &Context, id: &str) -> Result<i32, ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    loop {
        let state = containers.read_state(id)?.observed();
        let starting = state.status == Status::Created
            && record::process_alive(state.monitor_pid, state.monitor_start);
        if !state.status.is_running() && !starting {
            return Ok(state.exit_code);
        }
        if state.status == Status::Running {
            wait_for_exit(state.pid, state.pid_start, Duration::from_secs(1));
        }
        // Let the monitor write the exit (or the next start) before looking again.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `container prune`: removes every container that is not running (and
/// whose monitor is not starting it). `until` keeps containers created at
/// or after it; `labels` (docker's `label=k[=v]`, `label!=k[=v]`) must match.
/// Returns the ids removed and the bytes their writable layers held.
pub fn prune(
    ctx: &Context,
    until: Option<chrono::DateTime<chrono::Utc>>,
    labels: &[(bool, String, Option<String>)],
) -> Result<(Vec<String>, u64), ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let mut removed = Vec::new();
    let mut reclaimed = 0;
    for (config, state) in containers.list()? {
        let busy = state.status.is_running()
            || record::process_alive(state.monitor_pid, state.monitor_start);
        if busy || until.is_some_and(|t| config.created >= t) {
            continue;
        }
        let label_ok = labels.iter().all(|(want, k, v)| {
            let has = match v {
                Some(v) => config.labels.get(k) == Some(v),
                None => config.labels.contains_key(k),
            };
            has == *want
        });
        if !label_ok {
            continue;
        }
        let size = crate::container::view::dir_size(&containers.dir(&config.id).join("upper"));
        match create::remove(ctx, &config) {
            Ok(()) => {
                reclaimed += size;
                removed.push(config.id);
            }
            Err(create::CreateError::Record(record::RecordError::NotFound(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((removed, reclaimed))
}

/// A container `system boot` tried to start, and how it went.
pub type BootOutcome = (String, Result<(), MonitorError>);

/// `system boot`: no daemon survives a reboot, so this starts again the
/// containers docker's daemon would on its start: `always`, and
/// `unless-stopped` unless stopped by hand. Returns (name, outcome) per container.
pub fn boot(ctx: &Context) -> Result<Vec<BootOutcome>, ControlError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let mut started = Vec::new();
    for (config, state) in containers.list()? {
        let wanted = match config.restart_policy.name.as_str() {
            "always" => true,
            "unless-stopped" => !state.stop_requested,
            _ => false,
        };
        if !wanted
            || state.status.is_running()
            || record::process_alive(state.monitor_pid, state.monitor_start)
        {
            continue;
        }
        let result = match super::spawn_detached(&config.id) {
            Err(MonitorError::AlreadyRunning(_)) => Ok(()),
            other => other.map(|_| ()),
        };
        started.push((config.name, result));
    }
    Ok(started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_like_docker() {
        assert_eq!(parse_signal("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("SIGTERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("hup").unwrap(), Signal::SIGHUP);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("99").is_err());
    }
}

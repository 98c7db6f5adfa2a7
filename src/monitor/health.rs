//! Health checks, run by the monitor like docker's daemon runs them: no
//! timers outside it, no systemd. Each probe is `berth exec CONTAINER …`
//! started as a child of the monitor (the monitor itself must stay outside
//! the container's namespaces), its output read in the monitor's poll loop,
//! killed when it outlives the timeout. Results go to `state.json`'s
//! `health` as docker's `State.Health` (status, failing streak, last 5 probes).

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::container::record::{ContainerStore, Health, HealthLog, Healthcheck};

/// docker's defaults and limits.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;
const MAX_LOG_ENTRIES: usize = 5;
const MAX_OUTPUT: usize = 4096;

fn or_default(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

struct Probe {
    child: Child,
    output: OwnedFd,
    captured: Vec<u8>,
    begun: DateTime<Utc>,
    deadline: Instant,
}

/// One container run's health checks.
pub struct Checker {
    id: String,
    argv: Vec<String>,
    interval: Duration,
    timeout: Duration,
    start_period: Duration,
    start_interval: Duration,
    retries: u32,
    started: Instant,
    next: Instant,
    probe: Option<Probe>,
}

/// What a probe command is: `CMD args…` as is, `CMD-SHELL cmd` through `/bin/sh -c`.
pub fn probe_command(test: &[String]) -> Option<Vec<String>> {
    match test.split_first()? {
        (kind, rest) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        (kind, [cmd]) if kind == "CMD-SHELL" => {
            Some(vec!["/bin/sh".into(), "-c".into(), cmd.clone()])
        }
        _ => None,
    }
}

impl Checker {
    pub fn new(id: &str, check: &Healthcheck) -> Option<Checker> {
        let argv = probe_command(&check.test)?;
        let now = Instant::now();
        let mut c = Checker {
            id: id.to_string(),
            argv,
            interval: or_default(check.interval, DEFAULT_INTERVAL),
            timeout: or_default(check.timeout, DEFAULT_TIMEOUT),
            start_period: or_default(check.start_period, Duration::ZERO),
            start_interval: or_default(check.start_interval, DEFAULT_START_INTERVAL),
            retries: if check.retries > 0 {
                check.retries as u32
            } else {
                DEFAULT_RETRIES
            },
            started: now,
            next: now,
            probe: None,
        };
        c.next = now + c.current_interval(now);
        Some(c)
    }

    fn in_start_period(&self, now: Instant) -> bool {
        now.duration_since(self.started) < self.start_period
    }

    fn current_interval(&self, now: Instant) -> Duration {
        if self.in_start_period(now) {
            self.start_interval
        } else {
            self.interval
        }
    }

    /// Adds the running probe's output to poll; how long the loop may sleep.
    pub fn fds(&self, fds: &mut Vec<libc::pollfd>) -> i32 {
        let now = Instant::now();
        let wake = match &self.probe {
            Some(p) => {
                fds.push(libc::pollfd {
                    fd: p.output.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                p.deadline
            }
            None => self.next,
        };
        let ms = wake.saturating_duration_since(now).as_millis();
        // Rounded up: waking a millisecond early would just loop.
        (ms + 1).min(i32::MAX as u128) as i32
    }

    /// Called on every wake-up of the loop: collects the probe's output,
    /// records a finished (or timed-out) probe, starts the next one when due.
    pub fn tick(&mut self, containers: &ContainerStore) {
        let now = Instant::now();
        if let Some(p) = &mut self.probe {
            let mut buf = [0u8; 4096];
            let mut file = std::fs::File::from(p.output.try_clone().expect("dup"));
            let eof = loop {
                match file.read(&mut buf) {
                    Ok(0) => break true,
                    Ok(n) => {
                        if p.captured.len() < MAX_OUTPUT {
                            p.captured.extend_from_slice(&buf[..n]);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break false,
                }
            };
            let finished = if eof {
                p.child.wait().ok().map(|s| s.code().unwrap_or(-1))
            } else {
                None
            };
            let result = match finished {
                Some(code) => Some((code, String::from_utf8_lossy(&p.captured).into_owned())),
                None if now >= p.deadline => {
                    let _ = p.child.kill();
                    let _ = p.child.wait();
                    Some((
                        -1,
                        format!(
                            "Health check exceeded timeout ({})",
                            crate::format::units::go_duration(self.timeout)
                        ),
                    ))
                }
                None => None,
            };
            if let Some((code, mut output)) = result {
                output.truncate(floor_char_boundary(&output, MAX_OUTPUT));
                let begun = p.begun;
                self.probe = None;
                self.record(containers, begun, code, output, now);
                self.next = now + self.current_interval(now);
            }
        }
        if self.probe.is_none() && now >= self.next {
            self.start_probe(now);
        }
    }

    fn start_probe(&mut self, now: Instant) {
        let Ok((r, w)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else {
            self.next = now + self.current_interval(now);
            return;
        };
        let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
        let stderr = w.try_clone().map(Stdio::from).unwrap_or(Stdio::null());
        let spawned = Command::new(exe)
            .arg("exec")
            .arg(&self.id)
            .args(&self.argv)
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(stderr)
            .spawn();
        match spawned {
            Ok(child) => {
                let _ = crate::runtime::io::set_nonblocking(r.as_raw_fd());
                self.probe = Some(Probe {
                    child,
                    output: r,
                    captured: Vec::new(),
                    begun: Utc::now(),
                    deadline: now + self.timeout,
                });
            }
            Err(_) => self.next = now + self.current_interval(now),
        }
    }

    fn record(
        &self,
        containers: &ContainerStore,
        begun: DateTime<Utc>,
        code: i32,
        output: String,
        now: Instant,
    ) {
        let starting = self.in_start_period(now);
        let retries = self.retries;
        let mut changed = None;
        let _ = containers.update_state(&self.id, |s| {
            let health = s.health.get_or_insert_with(starting_health);
            let before = health.status.clone();
            apply_result(health, code, starting, retries);
            changed = Some(health.status.clone()).filter(|now| *now != before);
            health.log.push(HealthLog {
                start: begun,
                end: Utc::now(),
                exit_code: code,
                output,
            });
            let excess = health.log.len().saturating_sub(MAX_LOG_ENTRIES);
            health.log.drain(..excess);
        });
        if let (Some(status), Ok(config)) = (changed, containers.read_config(&self.id)) {
            let action = format!("health_status: {status}");
            crate::events::container(containers.data_dir(), &config, &action, &[]);
        }
    }

    /// The container exited: a probe still running goes with it.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.probe.take() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// A fresh container's health.
pub fn starting_health() -> Health {
    Health {
        status: "starting".into(),
        failing_streak: 0,
        log: Vec::new(),
    }
}

/// docker's rules: success makes it healthy and resets the streak; a
/// failure in the start period does not count; otherwise `retries`
/// failures in a row make it unhealthy.
pub fn apply_result(health: &mut Health, code: i32, in_start_period: bool, retries: u32) {
    if code == 0 {
        health.status = "healthy".into();
        health.failing_streak = 0;
    } else if !in_start_period {
        health.failing_streak += 1;
        if health.failing_streak >= retries {
            health.status = "unhealthy".into();
        }
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_commands_follow_docker() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            probe_command(&v(&["CMD-SHELL", "curl -f x || exit 1"])).unwrap(),
            v(&["/bin/sh", "-c", "curl -f x || exit 1"])
        );
        assert_eq!(probe_command(&v(&["CMD", "true"])).unwrap(), v(&["true"]));
        assert!(probe_command(&v(&["NONE"])).is_none());
        assert!(probe_command(&v(&["CMD"])).is_none());
    }

    #[test]
    fn health_goes_unhealthy_after_retries_and_back_on_success() {
        let mut h = starting_health();
        apply_result(&mut h, 1, true, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("starting", 0));
        apply_result(&mut h, 0, false, 2);
        assert_eq!(h.status, "healthy");
        apply_result(&mut h, 1, false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("healthy", 1));
        apply_result(&mut h, 1, false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("unhealthy", 2));
        apply_result(&mut h, 0, false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("healthy", 0));
    }
}

//! Detached containers and the commands that manage them later, root and
//! rootless: `run -d`, `create`, `start`, `stop`, `kill`, `restart`, `rm`,
//! `wait`, the monitor's restart policy, and what a killed monitor leaves.

mod support;

use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

fn busybox(reg: &Registry) -> String {
    fixtures::push_busybox(reg, "library/busybox", "latest");
    format!("{}/library/busybox", reg.addr())
}

fn stdout(env: &TestEnv, args: &[&str]) -> String {
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "berth {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn state(env: &TestEnv, id: &str) -> serde_json::Value {
    let path = env
        .data_dir()
        .join("containers")
        .join(id)
        .join("state.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// Gone, or a zombie nobody has reaped yet: either way it runs no more.
fn process_gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(") ")
                .is_none_or(|(_, rest)| rest.starts_with('Z'))
        })
        .unwrap_or(true)
}

fn log_lines(env: &TestEnv, id: &str) -> Vec<serde_json::Value> {
    let path = env.data_dir().join("containers").join(id).join("ctr.log");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_detached_prints_the_id_and_the_monitor_logs_and_records_the_exit() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let out = stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "bg",
                &image,
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ],
        );
        let id = out.trim_end();
        assert_eq!(out, format!("{id}\n"));
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        // `wait` prints the exit code once the monitor has recorded it.
        env.berth_cmd(["wait", "bg"])
            .assert()
            .success()
            .stdout("3\n");
        // The monitor goes away once it has recorded the exit: nothing of
        // berth stays behind for an exited container.
        wait_until("the monitor to finish", || {
            state(env, id)["monitor_pid"] == 0
        });
        let st = state(env, id);
        assert_eq!(st["status"], "exited");
        assert_eq!(st["exit_code"], 3);
        let lines = log_lines(env, id);
        let logged: Vec<(&str, &str)> = lines
            .iter()
            .map(|v| (v["stream"].as_str().unwrap(), v["log"].as_str().unwrap()))
            .collect();
        assert!(logged.contains(&("stdout", "out\n")), "{logged:?}");
        assert!(logged.contains(&("stderr", "err\n")), "{logged:?}");
        env.berth_cmd(["rm", "bg"])
            .assert()
            .success()
            .stdout("bg\n");
        assert!(!env.data_dir().join("containers").join(id).exists());
        env.berth_cmd(["rm", "bg"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such container: bg"));
        // docker's CLI: -f reports a missing container but succeeds.
        env.berth_cmd(["rm", "-f", "bg"])
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains("No such container: bg"));
    });
}

#[test]
fn foreground_runs_are_logged_too() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "--name",
            "fg",
            &image,
            "sh",
            "-c",
            "echo one; echo two >&2",
        ])
        .assert()
        .success()
        .stdout("one\n")
        .stderr("two\n");
        let id = std::fs::read_to_string(env.data_dir().join("names/fg")).unwrap();
        let lines = log_lines(env, &id);
        assert_eq!(lines.len(), 2, "{lines:?}");
    });
}

#[test]
fn stop_kill_and_rm_force_end_running_containers() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // PID 1 ignores SIGTERM (no handler): stop must escalate to SIGKILL.
        let id = stdout(
            env,
            &["run", "-d", "--name", "sleeper", &image, "sleep", "1000"],
        );
        let id = id.trim();
        assert_eq!(state(env, id)["status"], "running");
        let t = Instant::now();
        env.berth_cmd(["stop", "-t", "1", "sleeper"])
            .assert()
            .success()
            .stdout("sleeper\n");
        assert!(
            t.elapsed() >= Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
        assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
        let st = state(env, id);
        assert_eq!(st["status"], "exited");
        assert_eq!(st["exit_code"], 137);
        // Stopping a stopped container is fine; killing one is not.
        env.berth_cmd(["stop", "sleeper"]).assert().success();
        env.berth_cmd(["kill", "sleeper"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not running"));

        // A trap makes SIGTERM count: exit 143 at once.
        env.berth_cmd(["start", "sleeper"])
            .assert()
            .success()
            .stdout("sleeper\n");
        assert_eq!(state(env, id)["status"], "running");
        env.berth_cmd(["kill", "-s", "TERM", "sleeper"])
            .assert()
            .success();
        // PID 1 without a handler ignores it: still running.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(state(env, id)["status"], "running");
        env.berth_cmd(["kill", "sleeper"]).assert().success();
        assert_eq!(stdout(env, &["wait", "sleeper"]), "137\n");

        let trap = stdout(
            env,
            &[
                "run",
                "-d",
                &image,
                "sh",
                "-c",
                "trap 'exit 143' TERM; echo trapped; while :; do sleep 0.1; done",
            ],
        );
        // The signal must not come before the shell has its handler.
        wait_until("the TERM handler", || {
            stdout(env, &["logs", trap.trim()]).contains("trapped")
        });
        let t = Instant::now();
        env.berth_cmd(["stop", trap.trim()]).assert().success();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(state(env, trap.trim())["exit_code"], 143);

        // rm refuses a running container; rm -f kills it without waiting.
        let live = stdout(
            env,
            &["run", "-d", "--name", "live", &image, "sleep", "1000"],
        );
        env.berth_cmd(["rm", "live"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("container is running"));
        let pid = state(env, live.trim())["pid"].as_i64().unwrap();
        let t = Instant::now();
        env.berth_cmd(["rm", "-f", "live"]).assert().success();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(process_gone(pid as i32));
        assert!(!env.data_dir().join("containers").join(live.trim()).exists());
        // The name is free again.
        env.berth_cmd(["run", "--rm", "--name", "live", &image, "true"])
            .assert()
            .success();
    });
}

#[test]
fn create_then_start_and_wait_for_several() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let a = stdout(
            env,
            &["create", "--name", "ca", &image, "sh", "-c", "exit 4"],
        );
        assert_eq!(a.trim().len(), 64);
        assert_eq!(state(env, a.trim())["status"], "created");
        stdout(env, &["create", "--name", "cb", &image, "true"]);
        env.berth_cmd(["start", "ca", "cb"])
            .assert()
            .success()
            .stdout("ca\ncb\n");
        env.berth_cmd(["wait", "ca", "cb"])
            .assert()
            .success()
            .stdout("4\n0\n");
        // start -a attaches: output and exit code are the container's.
        stdout(
            env,
            &[
                "create",
                "--name",
                "cc",
                &image,
                "sh",
                "-c",
                "echo hi; exit 5",
            ],
        );
        env.berth_cmd(["start", "-a", "cc"])
            .assert()
            .code(5)
            .stdout("hi\n");
        // A command that is not there: start fails like run (127), the record stays "created".
        stdout(env, &["create", "--name", "bad", &image, "/nope"]);
        env.berth_cmd(["start", "bad"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("/nope"));
        env.berth_cmd(["run", "-d", &image, "/nope"])
            .assert()
            .code(127)
            .stderr(predicate::str::contains("/nope"));
        env.berth_cmd(["wait", "nosuch"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such container: nosuch"));
    });
}

#[test]
fn restart_policies_are_applied_by_the_monitor() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(
            env,
            &[
                "run",
                "-d",
                "--restart",
                "on-failure:2",
                &image,
                "sh",
                "-c",
                "echo try; exit 1",
            ],
        );
        let id = id.trim().to_string();
        wait_until("two restarts then exit", || {
            let st = state(env, &id);
            st["status"] == "exited" && st["monitor_pid"] == 0
        });
        let st = state(env, &id);
        assert_eq!(st["restart_count"], 2);
        assert_eq!(st["exit_code"], 1);
        let tries = log_lines(env, &id)
            .iter()
            .filter(|l| l["log"] == "try\n")
            .count();
        assert_eq!(tries, 3);

        // always: restarted after each exit until stopped by hand.
        let id = stdout(
            env,
            &[
                "run",
                "-d",
                "--restart",
                "always",
                &image,
                "sh",
                "-c",
                "sleep 0.2",
            ],
        );
        let id = id.trim().to_string();
        wait_until("a restart", || {
            state(env, &id)["restart_count"].as_u64().unwrap_or(0) >= 2
        });
        env.berth_cmd(["stop", "-t", "0", &id]).assert().success();
        let after = state(env, &id);
        assert_eq!(after["status"], "exited");
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(state(env, &id)["restart_count"], after["restart_count"]);
        assert_eq!(state(env, &id)["status"], "exited");

        env.berth_cmd(["run", "--rm", "--restart", "always", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("--restart and --rm"));
    });
}

#[test]
fn a_killed_monitor_leaves_a_truthful_record() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(
            env,
            &["run", "-d", "--name", "orphan", &image, "sleep", "1000"],
        );
        let id = id.trim().to_string();
        let st = state(env, &id);
        let monitor = st["monitor_pid"].as_i64().unwrap() as i32;
        let pid = st["pid"].as_i64().unwrap() as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(monitor),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        wait_until("the monitor to die", || {
            !std::path::Path::new(&format!("/proc/{monitor}")).exists()
        });
        // The container lives on: still running, and stop still works.
        env.berth_cmd(["stop", "-t", "0", "orphan"])
            .assert()
            .success();
        assert!(process_gone(pid));
        let st = state(env, &id);
        assert_eq!(st["status"], "exited");
        assert_eq!(st["exit_code"], 137);
        // And it can be started again, then removed by force.
        env.berth_cmd(["start", "orphan"]).assert().success();
        let monitor = state(env, &id)["monitor_pid"].as_i64().unwrap() as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(monitor),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        env.berth_cmd(["rm", "-f", "orphan"]).assert().success();
        assert!(!env.data_dir().join("containers").join(&id).exists());
    });
}

#[test]
fn two_runs_with_one_name_have_one_winner() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let children: Vec<_> = (0..4)
            .map(|_| {
                env.berth_std()
                    .args(["run", "-d", "--name", "same", &image, "sleep", "100"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let winners = outs.iter().filter(|o| o.status.success()).count();
        assert_eq!(winners, 1);
        for o in outs.iter().filter(|o| !o.status.success()) {
            assert_eq!(o.status.code(), Some(125));
            assert!(
                String::from_utf8_lossy(&o.stderr)
                    .contains("The container name \"/same\" is already in use"),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        env.berth_cmd(["rm", "-f", "same"]).assert().success();
    });
}

#[test]
fn attach_streams_output_and_stdin_and_returns_the_exit_code() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // Output that comes while attached, both streams, then the exit code.
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "ticker",
                &image,
                "sh",
                "-c",
                "sleep 1; echo late; echo oops >&2; exit 2",
            ],
        );
        env.berth_cmd(["attach", "ticker"])
            .assert()
            .code(2)
            .stdout("late\n")
            .stderr("oops\n");
        // `run -di` keeps stdin open for a later attach.
        stdout(
            env,
            &[
                "run",
                "-d",
                "-i",
                "--name",
                "talk",
                &image,
                "sh",
                "-c",
                "read line; echo got $line; exit 6",
            ],
        );
        env.berth_cmd(["attach", "talk"])
            .write_stdin("hello\n")
            .assert()
            .code(6)
            .stdout("got hello\n");
        env.berth_cmd(["attach", "talk"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("start it first"));
    });
}

#[test]
fn images_used_by_containers_keep_their_layers() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &["create", "--name", "user", &image, "echo", "still here"],
        );
        env.berth_cmd(["rmi", &image])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("(must force) - container"));
        env.berth_cmd(["image", "prune", "-a", "-f"])
            .assert()
            .success();
        env.berth_cmd(["image", "inspect", &image])
            .assert()
            .success();
        // Forced: the image record goes, the layers stay for the container.
        env.berth_cmd(["rmi", "-f", &image]).assert().success();
        env.berth_cmd(["image", "inspect", &image]).assert().code(1);
        env.berth_cmd(["start", "-a", "user"])
            .assert()
            .success()
            .stdout("still here\n");
        // A running container's image cannot go, even forced.
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &["run", "-d", "--name", "runner", &image, "sleep", "100"],
        );
        env.berth_cmd(["rmi", "-f", &image])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("cannot be forced"));
        env.berth_cmd(["rm", "-f", "runner", "user"])
            .assert()
            .success();
        env.berth_cmd(["rmi", &image]).assert().success();
    });
}

#[test]
fn container_group_prune_port_and_system_boot() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let done = stdout(env, &["container", "run", "--name", "done", &image, "true"]);
        assert_eq!(done, "");
        let keep = stdout(
            env,
            &[
                "container",
                "create",
                "--label",
                "keep=1",
                "--name",
                "kept",
                &image,
                "true",
            ],
        );
        let live = stdout(
            env,
            &[
                "container",
                "run",
                "-d",
                "--name",
                "live",
                &image,
                "sleep",
                "100",
            ],
        );
        let names = stdout(env, &["container", "ls", "-a", "--format", "{{.Names}}"]);
        for n in ["done", "kept", "live"] {
            assert!(names.lines().any(|l| l == n), "{names}");
        }
        assert_eq!(
            stdout(
                env,
                &["container", "inspect", "-f", "{{.State.Status}}", "live"]
            ),
            "running\n"
        );
        env.berth_cmd(["container", "port", "live"])
            .assert()
            .success()
            .stdout("");
        env.berth_cmd(["container", "port", "live", "80"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "No public port '80/tcp' published for live",
            ));
        // prune: stopped ones go (unless filtered out), running ones stay.
        let out = stdout(
            env,
            &["container", "prune", "-f", "--filter", "label!=keep"],
        );
        assert!(out.starts_with("Deleted Containers:\n"), "{out}");
        assert!(out.contains("Total reclaimed space:"), "{out}");
        let names = stdout(env, &["ps", "-a", "--format", "{{.Names}}"]);
        assert!(!names.lines().any(|l| l == "done"), "{names}");
        assert!(names.lines().any(|l| l == "kept"), "{names}");
        assert!(names.lines().any(|l| l == "live"), "{names}");
        assert!(!keep.is_empty() && !live.is_empty());
        env.berth_cmd(["container", "rm", "-f", "live", "kept"])
            .assert()
            .success();

        // system boot: `always` comes back even after a stop by hand,
        // `unless-stopped` only if it was not stopped by hand.
        stdout(
            env,
            &[
                "run",
                "-d",
                "--restart",
                "always",
                "--name",
                "alw",
                &image,
                "sleep",
                "100",
            ],
        );
        stdout(
            env,
            &[
                "run",
                "-d",
                "--restart",
                "unless-stopped",
                "--name",
                "uns",
                &image,
                "sleep",
                "100",
            ],
        );
        env.berth_cmd(["stop", "-t", "0", "alw", "uns"])
            .assert()
            .success();
        env.berth_cmd(["system", "boot"])
            .assert()
            .success()
            .stdout("alw\n");
        assert_eq!(
            stdout(env, &["inspect", "-f", "{{.State.Status}}", "alw", "uns"]),
            "running\nexited\n"
        );
        env.berth_cmd(["rm", "-f", "alw", "uns"]).assert().success();
    });
}

#[test]
fn health_checks_flip_healthy_and_unhealthy() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "doc",
                "--health-cmd",
                "echo probing; test -f /tmp/ok",
                "--health-interval",
                "200ms",
                "--health-retries",
                "2",
                &image,
                "sleep",
                "1000",
            ],
        );
        let status =
            |env: &TestEnv| stdout(env, &["inspect", "-f", "{{.State.Health.Status}}", "doc"]);
        assert_eq!(status(env), "starting\n");
        wait_until("failing probes", || status(env) == "unhealthy\n");
        env.berth_cmd(["exec", "doc", "touch", "/tmp/ok"])
            .assert()
            .success();
        wait_until("a passing probe", || status(env) == "healthy\n");
        let ps = stdout(env, &["ps", "--format", "{{.Names}} {{.Status}}"]);
        assert!(ps.contains("doc Up") && ps.contains("(healthy)"), "{ps}");
        assert_eq!(
            stdout(env, &["ps", "-q", "-f", "health=healthy"])
                .lines()
                .count(),
            1
        );
        let log = stdout(env, &["inspect", "-f", "{{json .State.Health.Log}}", "doc"]);
        assert!(log.contains("probing"), "{log}");
        env.berth_cmd(["exec", "doc", "rm", "/tmp/ok"])
            .assert()
            .success();
        wait_until("unhealthy again", || status(env) == "unhealthy\n");
        env.berth_cmd(["rm", "-f", "doc"]).assert().success();
        // --no-healthcheck: no Health at all.
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "nohc",
                "--no-healthcheck",
                &image,
                "sleep",
                "100",
            ],
        );
        assert_eq!(
            stdout(env, &["inspect", "-f", "{{json .State.Health}}", "nohc"]),
            "null\n"
        );
        env.berth_cmd(["rm", "-f", "nohc"]).assert().success();
    });
}

#[test]
fn a_paused_container_can_be_stopped() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "frozen",
                &image,
                "sh",
                "-c",
                "trap 'exit 143' TERM; while :; do sleep 0.1; done",
            ],
        );
        env.berth_cmd(["pause", "frozen"]).assert().success();
        let t = Instant::now();
        env.berth_cmd(["stop", "frozen"]).assert().success();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(stdout(env, &["wait", "frozen"]), "143\n");
        env.berth_cmd(["rm", "frozen"]).assert().success();
    });
}

#[test]
fn restart_and_concurrent_commands_on_one_container_never_hang() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(
            env,
            &["run", "-d", "--name", "again", &image, "sleep", "1000"],
        );
        let id = id.trim().to_string();
        let first_pid = state(env, &id)["pid"].clone();
        env.berth_cmd(["restart", "-t", "0", "again"])
            .assert()
            .success()
            .stdout("again\n");
        let st = state(env, &id);
        assert_eq!(st["status"], "running");
        assert_ne!(st["pid"], first_pid);

        // stop, rm -f and ps from three "shells" at once: all end, the container goes.
        let spawn = |args: &[&str]| {
            env.berth_std()
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let t = Instant::now();
        let children = vec![
            spawn(&["stop", "again"]),
            spawn(&["rm", "-f", "again"]),
            spawn(&["ps", "-a"]),
        ];
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
        // rm -f always wins; stop either stopped it or found it gone.
        assert!(
            outs[1].status.success(),
            "{}",
            String::from_utf8_lossy(&outs[1].stderr)
        );
        assert!(outs[2].status.success());
        if !outs[0].status.success() {
            assert!(
                String::from_utf8_lossy(&outs[0].stderr).contains("No such container"),
                "{}",
                String::from_utf8_lossy(&outs[0].stderr)
            );
        }
        assert!(!env.data_dir().join("containers").join(&id).exists());
        assert_eq!(stdout(env, &["ps", "-aq"]), "");
    });
}

#[test]
fn foreground_containers_get_health_checks_too() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let mut child = env
            .berth_std()
            .args([
                "run",
                "--name",
                "fghc",
                "--health-cmd",
                "true",
                "--health-interval",
                "100ms",
                &image,
                "sleep",
                "1000",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until("a healthy foreground container", || {
            env.berth_cmd(["inspect", "-f", "{{.State.Health.Status}}", "fghc"])
                .output()
                .is_ok_and(|o| o.stdout == b"healthy\n")
        });
        env.berth_cmd(["rm", "-f", "fghc"]).assert().success();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(137));
    });
}

#[test]
fn attach_to_a_terminal_detaches_with_the_detach_keys() {
    use std::io::Write;
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &["run", "-d", "-i", "-t", "--name", "tty1", &image, "sh"],
        );
        let berth = support::berth::berth_bin().display().to_string();
        // script(1) gives attach a terminal and passes our input through it.
        let mut child = env
            .std_command("script")
            .args([
                "-qec",
                &format!("{berth} attach --detach-keys ctrl-a,x tty1"),
                "/dev/null",
            ])
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(800));
        input.write_all(b"echo hi-$((6*7))\n").unwrap();
        std::thread::sleep(Duration::from_millis(500));
        input.write_all(b"\x01x").unwrap();
        let start = Instant::now();
        let out = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "attach did not detach"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        drop(input);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
        assert!(out.success(), "{out:?}: {text}");
        assert!(text.contains("hi-42"), "{text}");
        // Detached, not stopped: the shell still runs.
        assert_eq!(
            stdout(env, &["inspect", "-f", "{{.State.Status}}", "tty1"]),
            "running\n"
        );
        env.berth_cmd(["rm", "-f", "tty1"]).assert().success();
    });
}

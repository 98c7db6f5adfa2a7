//! `berth logs`, root and rootless, against containers run in the
//! foreground: separate streams, `--tail`, `-t`, `--since`/`--until`,
//! `--details`, `-f` on a live container, missing containers.

mod support;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

fn busybox(reg: &Registry) -> String {
    fixtures::push_busybox(reg, "library/busybox", "latest");
    format!("{}/library/busybox", reg.addr())
}

fn stdout_of(env: &TestEnv, args: &[&str]) -> String {
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "berth {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn logs_keeps_streams_apart_and_filters() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "--name",
            "two",
            &image,
            "sh",
            "-c",
            "echo out; sleep 0.1; echo err >&2; sleep 0.1; printf unfinished",
        ])
        .assert()
        .success();
        env.berth_cmd(["logs", "two"])
            .assert()
            .success()
            .stdout("out\nunfinished")
            .stderr("err\n");
        env.berth_cmd(["logs", "--tail", "1", "two"])
            .assert()
            .success()
            .stdout("unfinished")
            .stderr("");
        env.berth_cmd(["logs", "--tail=2", "two"])
            .assert()
            .success()
            .stdout("unfinished")
            .stderr("err\n");
        // -t: docker's fixed-width RFC3339Nano and one space.
        let out = env.berth_cmd(["logs", "-t", "two"]).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let re = regex_like_timestamp_line;
        let lines: Vec<&str> = stdout.split_inclusive('\n').collect();
        assert_eq!(lines.len(), 2, "{stdout:?}");
        assert!(re(lines[0], "out\n"), "{stdout:?}");
        assert!(re(lines[1], "unfinished"), "{stdout:?}");
        assert!(re(&String::from_utf8(out.stderr).unwrap(), "err\n"));
        // --details: no attributes, so just docker's separating space.
        env.berth_cmd(["logs", "--details", "two"])
            .assert()
            .success()
            .stdout(" out\n unfinished")
            .stderr(" err\n");
        // Time filters.
        for args in [
            &["logs", "--since", "2100-01-01T00:00:00Z", "two"][..],
            &["logs", "--since", "-1h", "two"],
            &["logs", "--until", "2000-01-01", "two"],
            &["logs", "--until", "946684800", "two"],
        ] {
            env.berth_cmd(args).assert().success().stdout("").stderr("");
        }
        for args in [
            &["logs", "--since", "1h", "two"][..],
            &["logs", "--since", "1000000000.5", "two"],
            &["logs", "--until", "-1m", "two"],
            &[
                "logs",
                "--since",
                "2000-01-02T03:04:05",
                "--until",
                "2100-01-01",
                "two",
            ],
        ] {
            env.berth_cmd(args)
                .assert()
                .success()
                .stdout("out\nunfinished")
                .stderr("err\n");
        }
        env.berth_cmd(["logs", "--since", "yesterday", "two"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("since"));
        // Not running: -f prints and ends.
        env.berth_cmd(["logs", "-f", "two"])
            .timeout(Duration::from_secs(10))
            .assert()
            .success()
            .stdout("out\nunfinished");
        env.berth_cmd(["logs", "nope"])
            .assert()
            .code(1)
            .stdout("")
            .stderr("Error: No such container: nope\n");
    });
}

/// `line` is `<RFC3339Nano fixed width, Z> <text>`.
fn regex_like_timestamp_line(line: &str, text: &str) -> bool {
    let Some((ts, rest)) = line.split_once(' ') else {
        return false;
    };
    let b = ts.as_bytes();
    rest == text
        && b.len() == 30
        && ts.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == '.',
            29 => c == 'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn logs_of_a_big_log_tail_and_count() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let out = env
            .berth_cmd(["run", "--name", "big", &image, "seq", "100000"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let started = Instant::now();
        env.berth_cmd(["logs", "--tail", "3", "big"])
            .assert()
            .success()
            .stdout("99998\n99999\n100000\n");
        assert!(started.elapsed() < Duration::from_secs(5));
        env.berth_cmd(["logs", "-n", "0", "big"])
            .assert()
            .success()
            .stdout("");
        let all = stdout_of(env, &["logs", "big"]);
        assert_eq!(all.lines().count(), 100_000);
        assert!(all.starts_with("1\n2\n3\n") && all.ends_with("\n100000\n"));
        let all = stdout_of(env, &["logs", "--tail", "all", "big"]);
        assert_eq!(all.lines().count(), 100_000);
    });
}

/// Waits until the container named `name` has a log file with something in it.
fn wait_for_log(env: &TestEnv, name: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let out = env.berth_cmd(["logs", name]).output().unwrap();
        if out.status.success() && !out.stdout.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("container {name} never logged anything");
}

#[test]
fn logs_follow_a_live_container_until_it_exits() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let mut run = env
            .berth_std()
            .args([
                "run",
                "--name",
                "live",
                &image,
                "sh",
                "-c",
                "for i in 1 2 3; do echo $i; sleep 1; done",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_log(env, "live");
        let mut logs = env
            .berth_std()
            .args(["logs", "-f", "-t", "live"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = logs.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            stdout.read_to_string(&mut s).unwrap();
            s
        });
        assert!(run.wait().unwrap().success());
        let run_ended = Instant::now();
        let status = loop {
            if let Some(status) = logs.try_wait().unwrap() {
                break status;
            }
            if run_ended.elapsed() > Duration::from_secs(10) {
                let _ = logs.kill();
                panic!("logs -f did not end after the container exited");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success());
        let out = reader.join().unwrap();
        let texts: Vec<&str> = out
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, t)| t))
            .collect();
        assert_eq!(texts, ["1", "2", "3"], "{out:?}");
        // Everything arrived, and once more after the fact.
        env.berth_cmd(["logs", "live"])
            .assert()
            .success()
            .stdout("1\n2\n3\n");
    });
}

#[test]
fn logs_follow_a_detached_container_from_its_tail() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "-d",
            "--name",
            "bg",
            &image,
            "sh",
            "-c",
            "echo a; echo b >&2; sleep 1; for i in 1 2 3; do echo $i; sleep 0.3; done",
        ])
        .assert()
        .success();
        wait_for_log(env, "bg");
        // Only the last line that is there, then everything new, then the end.
        let out = env
            .berth_cmd(["logs", "-f", "--tail", "1", "bg"])
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n3\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "b\n");
        env.berth_cmd(["logs", "bg"])
            .assert()
            .success()
            .stdout("a\n1\n2\n3\n")
            .stderr("b\n");
    });
}

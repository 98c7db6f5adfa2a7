//! `berth exec`, root and rootless: a process joins a running container's
//! namespaces, root, user, capabilities and environment; docker's exit codes
//! and messages; stdin streamed without copies; `-t`; `-d`; signals.

mod support;

use std::io::Write;
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

/// `berth exec ARGS…`: (exit code, stdout, stderr).
fn exec(env: &TestEnv, args: &[&str]) -> (i32, String, String) {
    let mut full = vec!["exec"];
    full.extend_from_slice(args);
    let out = env.berth_cmd(full).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// stdout of a successful `berth exec ARGS…`.
fn exec_ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = exec(env, args);
    assert_eq!(code, 0, "exec {args:?}: stdout {out:?} stderr {err:?}");
    out
}

/// Pulls busybox and starts `sleep 1000` detached as `name` with `extra` run flags.
fn start(env: &TestEnv, image: &str, name: &str, extra: &[&str]) -> String {
    env.berth_cmd(["pull", "-q", image]).assert().success();
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[image, "sleep", "1000"]);
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "run -d: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
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

fn cap_eff(status: &str) -> u64 {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .expect("a CapEff line")
        .trim();
    u64::from_str_radix(hex, 16).unwrap()
}

#[test]
fn exec_runs_in_the_containers_namespaces_with_dockers_exit_codes() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let id = start(env, &image, "ctr", &["--hostname", "box"]);
        // Exit codes: the command's own, 128+N for a signal, 126/127 as docker.
        assert_eq!(exec(env, &["ctr", "true"]).0, 0);
        assert_eq!(exec(env, &["ctr", "sh", "-c", "exit 3"]).0, 3);
        assert_eq!(exec(env, &["ctr", "sh", "-c", "kill -TERM $$"]).0, 143);
        let (code, _, err) = exec(env, &["ctr", "nosuchcmd"]);
        assert_eq!(code, 127, "{err}");
        assert!(
            err.contains("OCI runtime exec failed")
                && err.contains("exec: \"nosuchcmd\": executable file not found in $PATH"),
            "{err}"
        );
        let (code, _, err) = exec(env, &["ctr", "/etc/passwd"]);
        assert_eq!(code, 126, "{err}");
        assert!(err.contains("permission denied"), "{err}");
        // Everything after the container is the command, flags included.
        assert_eq!(
            exec_ok(env, &["ctr", "echo", "-n", "-la", "--tty"]),
            "-la --tty"
        );
        // UTS, PID and mount namespaces and the root are the container's.
        assert_eq!(exec_ok(env, &["ctr", "hostname"]), "box\n");
        assert_eq!(
            exec_ok(env, &["ctr", "cat", "/proc/1/cmdline"]),
            "sleep\x001000\x00"
        );
        assert_eq!(exec_ok(env, &["ctr", "readlink", "/proc/self/root"]), "/\n");
        assert_eq!(exec_ok(env, &["ctr", "cat", "/etc/hostname"]).trim(), "box");
        exec_ok(env, &["ctr", "sh", "-c", "echo kept > /tmp/f"]);
        assert_eq!(exec_ok(env, &["ctr", "cat", "/tmp/f"]), "kept\n");
        // By full id and by prefix too.
        assert_eq!(exec_ok(env, &[&id, "cat", "/tmp/f"]), "kept\n");
        assert_eq!(exec_ok(env, &[&id[..12], "cat", "/tmp/f"]), "kept\n");
        // The single-threaded helper berth falls back on takes the same arguments.
        assert_eq!(
            String::from_utf8(
                env.berth_cmd(["internal", "exec", "-w", "/etc", "ctr", "pwd"])
                    .assert()
                    .success()
                    .get_output()
                    .stdout
                    .clone()
            )
            .unwrap(),
            "/etc\n"
        );
        // Nothing but stdio is inherited.
        assert_eq!(
            exec_ok(env, &["ctr", "ls", "/proc/self/fd"]),
            "0\n1\n2\n3\n"
        );
    });
}

#[test]
fn exec_takes_env_workdir_user_and_capabilities() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        start(env, &image, "ctr", &["-e", "FROMRUN=1", "-w", "/tmp"]);
        // The container's environment and working directory by default.
        let out = exec_ok(env, &["ctr", "env"]);
        assert!(out.contains("FROMRUN=1\n"), "{out}");
        assert!(out.contains("HOME=/root\n"), "{out}");
        assert!(out.contains("PATH=/usr/local/sbin:"), "{out}");
        assert!(!out.contains("TERM="), "{out}");
        assert_eq!(exec_ok(env, &["ctr", "pwd"]), "/tmp\n");
        // -e sets and replaces, a bare name unsets; --env-file.
        let file = env.scratch_dir("envfile").join("env");
        env.write_file_owned(&file, b"# comment\nFROMFILE=yes\n", 0o644);
        let out = exec_ok(
            env,
            &[
                "-e",
                "FROMRUN=2",
                "-e",
                "NEW=x y",
                "--env-file",
                file.to_str().unwrap(),
                "-e",
                "HOME",
                "ctr",
                "env",
            ],
        );
        assert!(
            out.contains("FROMRUN=2\n") && !out.contains("FROMRUN=1"),
            "{out}"
        );
        assert!(out.contains("NEW=x y\n"), "{out}");
        assert!(out.contains("FROMFILE=yes\n"), "{out}");
        // The test environment has HOME: `-e HOME` passes ours.
        assert!(!out.contains("HOME=/root"), "{out}");
        // -w, also a directory that the container did not start in.
        assert_eq!(exec_ok(env, &["-w", "/etc", "ctr", "pwd"]), "/etc\n");
        let (code, _, err) = exec(env, &["-w", "/nonexistent", "ctr", "pwd"]);
        assert_eq!(code, 126, "{err}");
        assert!(err.contains("/nonexistent"), "{err}");
        // Users: the container's (root), by name, by ids; HOME follows.
        assert_eq!(
            exec_ok(env, &["ctr", "id"]),
            "uid=0(root) gid=0(root) groups=0(root)\n"
        );
        assert_eq!(
            exec_ok(env, &["-u", "nobody", "ctr", "id"]),
            "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
        );
        assert_eq!(
            exec_ok(env, &["-u", "1000:1000", "ctr", "id"]),
            "uid=1000(app) gid=1000(app) groups=1000(app)\n"
        );
        assert_eq!(
            exec_ok(env, &["-u", "app", "ctr", "sh", "-c", "echo $HOME"]),
            "/home/app\n"
        );
        let (code, _, err) = exec(env, &["-u", "nosuchuser", "ctr", "id"]);
        assert_eq!(code, 126, "{err}");
        assert!(err.contains("unable to find user nosuchuser"), "{err}");
        // Capabilities: the container's; all of them with --privileged.
        let pid1 = cap_eff(&exec_ok(env, &["ctr", "cat", "/proc/1/status"]));
        let mine = cap_eff(&exec_ok(env, &["ctr", "cat", "/proc/self/status"]));
        assert_eq!(mine, pid1);
        const CAP_SYS_ADMIN: u64 = 1 << 21;
        const CAP_CHOWN: u64 = 1;
        assert!(
            mine & CAP_CHOWN != 0 && mine & CAP_SYS_ADMIN == 0,
            "{mine:x}"
        );
        let privileged = cap_eff(&exec_ok(
            env,
            &["--privileged", "ctr", "cat", "/proc/self/status"],
        ));
        assert!(privileged & CAP_SYS_ADMIN != 0, "{privileged:x}");
        assert_eq!(privileged & pid1, pid1);
        // A non-root user has no effective capabilities (execve clears them).
        let nobody = cap_eff(&exec_ok(
            env,
            &["-u", "nobody", "ctr", "cat", "/proc/self/status"],
        ));
        assert_eq!(nobody, 0);
    });
}

#[test]
fn exec_into_a_missing_or_stopped_container_fails_with_exit_1() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["exec", "nosuch", "true"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such container: nosuch"));
        let id = start(env, &image, "ctr", &[]);
        env.berth_cmd(["kill", "ctr"]).assert().success();
        env.berth_cmd(["wait", "ctr"]).assert().success();
        env.berth_cmd(["exec", "ctr", "true"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "container {id} is not running"
            )));
        env.berth_cmd(["create", "--name", "fresh", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["exec", "fresh", "true"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not running"));
        // No command: a usage error.
        env.berth_cmd(["exec", "ctr"]).assert().failure();
    });
}

#[test]
fn exec_i_streams_stdin_to_eof_and_t_gives_a_terminal() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        start(env, &image, "ctr", &["--hostname", "box"]);
        // 100 MB through -i: streamed (no buffering of the whole), EOF arrives.
        let data: Vec<u8> = (0..100 * 1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let expected = support::sha256_hex(&data);
        let mut child = env
            .berth_std()
            .args([
                "exec",
                "-i",
                "ctr",
                "sh",
                "-c",
                "cat > /tmp/big && sha256sum /tmp/big",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            stdin.write_all(&data).unwrap();
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(&expected), "{text} vs {expected}");
        // Without -i stdin is /dev/null, even when the caller has input.
        env.berth_cmd(["exec", "ctr", "cat"])
            .write_stdin("ignored")
            .assert()
            .success()
            .stdout("");
        // -t: a pty of the container's devpts, stderr merged, TERM set.
        let out = env
            .berth_cmd([
                "exec",
                "-t",
                "ctr",
                "sh",
                "-c",
                "tty; echo $TERM; echo err >&2",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("/dev/pts/"), "{text}");
        assert!(text.contains("xterm\r\nerr\r\n"), "{text}");
        // The slave belongs to the exec'd user.
        let out = env
            .berth_cmd([
                "exec",
                "-t",
                "-u",
                "1000:1000",
                "ctr",
                "sh",
                "-c",
                "stat -c %u $(tty)",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1000\r\n");
        // -it under a real terminal: input reaches the command, its code is ours.
        let berth = support::berth::berth_bin().display().to_string();
        let (code, text) = under_script(
            env,
            &format!(
                "printf 'echo hi from $(hostname)\\nexit 5\\n' | {berth} exec -i ctr sh; echo status=$?; {berth} exec -it ctr sh -c 'tty; exit 5'"
            ),
        );
        assert_eq!(code, Some(5), "{text}");
        assert!(text.contains("hi from box"), "{text}");
        assert!(text.contains("status=5\n"), "{text}");
        assert!(text.contains("/dev/pts/"), "{text}");
        // -it with a non-terminal stdin: docker's error.
        env.berth_cmd(["exec", "-it", "ctr", "true"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("the input device is not a TTY"));
    });
}

/// Runs `cmdline` under script(1): a pty as its terminal.
fn under_script(env: &TestEnv, cmdline: &str) -> (Option<i32>, String) {
    let out = env
        .command("script")
        .args(["-qec", cmdline, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

#[test]
fn exec_d_returns_at_once_and_signals_are_forwarded() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        start(env, &image, "ctr", &[]);
        let began = Instant::now();
        env.berth_cmd([
            "exec",
            "-d",
            "ctr",
            "sh",
            "-c",
            "sleep 1; echo done > /tmp/d",
        ])
        .assert()
        .success()
        .stdout("");
        assert!(began.elapsed() < Duration::from_millis(900));
        assert_eq!(
            exec(env, &["ctr", "cat", "/tmp/d"]).0,
            1,
            "-d must not wait for the command"
        );
        wait_until("the detached command", || {
            exec(env, &["ctr", "cat", "/tmp/d"]).1 == "done\n"
        });
        // A signal to berth exec reaches the command.
        let mut child = env
            .berth_std()
            .args([
                "exec",
                "ctr",
                "sh",
                "-c",
                "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut stdout, &mut buf).unwrap();
        assert_eq!(&buf, b"ready\n");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert_eq!(rest, "got TERM\n");
        assert_eq!(status.code(), Some(7));
    });
}

//! `berth run` in the foreground, root and rootless, end to end: pull, create, run, exit code, --rm.

mod support;

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, ImageConfig};
use support::registry::{Registry, RegistryAuth};

fn busybox(reg: &Registry) -> String {
    fixtures::push_busybox(reg, "library/busybox", "latest");
    format!("{}/library/busybox", reg.addr())
}

fn run(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    env.berth_cmd(full).output().unwrap()
}

#[test]
fn run_pulls_a_missing_image_and_keeps_stdout_for_the_container() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let out = run(env, &["--rm", &image, "echo", "hello"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("Unable to find image") && stderr.contains("Pull complete"),
            "{stderr}"
        );
        // Present now: no pull output at all.
        let out = run(env, &["--rm", &image, "echo", "again"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "again\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    });
}

#[test]
fn exit_codes_follow_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["run", "--rm", &image, "true"])
            .assert()
            .code(0);
        env.berth_cmd(["run", "--rm", &image, "sh", "-c", "exit 3"])
            .assert()
            .code(3);
        env.berth_cmd(["run", "--rm", &image, "/no/such/command"])
            .assert()
            .code(127)
            .stderr(predicate::str::contains("/no/such/command"));
        env.berth_cmd(["run", "--rm", &image, "/etc/passwd"])
            .assert()
            .code(126);
        // PID 1 ignores signals from inside its namespace (as in docker): kill it from outside.
        let mut child = env
            .berth_std()
            .args(["run", "--rm", &image, "sleep", "30"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = wait_for_running_pid(env);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(137));
        env.berth_cmd([
            "run",
            "--rm",
            "--pull",
            "never",
            "no-such-image-here:1",
            "true",
        ])
        .assert()
        .code(125)
        .stderr(predicate::str::contains(
            "No such image: no-such-image-here:1",
        ));
        env.berth_cmd(["run", "--rm", "--no-such-flag", &image])
            .assert()
            .code(125);
        // Everything after the image is the container's, even what looks like berth's flags.
        env.berth_cmd(["run", "--rm", &image, "echo", "--rm", "-it"])
            .assert()
            .success()
            .stdout("--rm -it\n");
    });
}

/// The host pid of the one running container's process, from its state file.
fn wait_for_running_pid(env: &TestEnv) -> i32 {
    let containers = env.data_dir().join("containers");
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        for e in std::fs::read_dir(&containers)
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(bytes) = std::fs::read(e.path().join("state.json"))
                && let Ok(state) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && state["status"] == "running"
                && let Some(pid) = state["pid"].as_i64()
                && pid > 0
            {
                // Give the container a moment to exec its command.
                std::thread::sleep(std::time::Duration::from_millis(100));
                return pid as i32;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("no running container appeared");
}

#[test]
fn stdout_and_stderr_stay_separate_and_stdin_streams() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["run", "--rm", &image, "sh", "-c", "echo out; echo err >&2"])
            .assert()
            .success()
            .stdout("out\n")
            .stderr("err\n");
        let input: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
        let out = env
            .berth_cmd(["run", "--rm", "-i", &image, "sha256sum"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(out.status.success());
        let want = support::sha256_hex(&input);
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(&want));
    });
}

#[test]
fn env_workdir_user_entrypoint_and_hostname() {
    let reg = Registry::start(RegistryAuth::None);
    let cfg = ImageConfig::busybox().env("FROM_IMAGE=1").workdir("/srv");
    fixtures::push_busybox_with(&reg, "cfg", "1", None, &cfg);
    let image = format!("{}/cfg:1", reg.addr());
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "--rm",
            "-e",
            "A=1",
            "--env=B=2",
            &image,
            "sh",
            "-c",
            "echo $FROM_IMAGE$A$B; pwd",
        ])
        .assert()
        .success()
        .stdout("112\n/srv\n");
        env.berth_cmd(["run", "--rm", "-w", "/new/dir", &image, "pwd"])
            .assert()
            .success()
            .stdout("/new/dir\n");
        env.berth_cmd(["run", "--rm", "-u", "1000:1000", &image, "id"])
            .assert()
            .success()
            .stdout(predicate::str::starts_with("uid=1000(app) gid=1000(app)"));
        env.berth_cmd(["run", "--rm", "-u", "app", &image, "sh", "-c", "echo $HOME"])
            .assert()
            .success()
            .stdout("/home/app\n");
        env.berth_cmd([
            "run",
            "--rm",
            "--entrypoint",
            "echo",
            &image,
            "from",
            "entrypoint",
        ])
        .assert()
        .success()
        .stdout("from entrypoint\n");
        env.berth_cmd([
            "run",
            "--rm",
            "--hostname",
            "box1",
            &image,
            "sh",
            "-c",
            "hostname; cat /etc/hostname",
        ])
        .assert()
        .success()
        .stdout("box1\nbox1\n");
        env.berth_cmd(["run", "--rm", "-u", "nobody-here", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("unable to find user nobody-here"));
    });
}

#[test]
fn binds_rw_ro_tmpfs_and_read_only_rootfs() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let host = env.scratch_dir("shared");
        env.write_file_owned(&host.join("in.txt"), b"from host\n", 0o644);
        let bind = format!("{}:/data", host.display());
        env.berth_cmd([
            "run",
            "--rm",
            "-v",
            &bind,
            &image,
            "sh",
            "-c",
            "cat /data/in.txt; echo new > /data/out.txt",
        ])
        .assert()
        .success()
        .stdout("from host\n");
        assert_eq!(
            std::fs::read_to_string(host.join("out.txt")).unwrap(),
            "new\n"
        );
        let ro = format!("{}:/data:ro", host.display());
        env.berth_cmd([
            "run",
            "--rm",
            "-v",
            &ro,
            &image,
            "sh",
            "-c",
            "echo x > /data/nope",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("Read-only file system"));
        // -v creates a missing host directory; --mount refuses it.
        let missing = env.scratch_dir("made").join("by-docker-rule");
        env.berth_cmd([
            "run",
            "--rm",
            "-v",
            &format!("{}:/m", missing.display()),
            &image,
            "true",
        ])
        .assert()
        .success();
        assert!(missing.is_dir());
        let absent = env.scratch_dir("x").join("absent");
        env.berth_cmd([
            "run",
            "--rm",
            "--mount",
            &format!("type=bind,src={},dst=/m", absent.display()),
            &image,
            "true",
        ])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("bind source path does not exist"));
        env.berth_cmd([
            "run",
            "--rm",
            "--tmpfs",
            "/scratch",
            &image,
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("tmpfs"));
        env.berth_cmd(["run", "--rm", "--read-only", &image, "touch", "/file"])
            .assert()
            .failure()
            .stderr(predicate::str::contains("Read-only file system"));
    });
}

#[test]
fn rm_leaves_nothing_and_without_rm_the_record_stays() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let containers = env.data_dir().join("containers");
        env.berth_cmd(["run", "--rm", &image, "sh", "-c", "echo data > /written"])
            .assert()
            .success();
        env.berth_cmd(["run", "--rm", &image, "/no/such/command"])
            .assert()
            .code(127);
        let left: Vec<_> = std::fs::read_dir(&containers)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // Without --rm the container's record and its written file stay (later: ps -a, rm).
        env.berth_cmd([
            "run",
            "--name",
            "keeper",
            &image,
            "sh",
            "-c",
            "echo data > /written",
        ])
        .assert()
        .success();
        let dirs: Vec<_> = std::fs::read_dir(&containers)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(dirs.len(), 1);
        assert_eq!(
            std::fs::read_to_string(dirs[0].join("upper/written")).unwrap(),
            "data\n"
        );
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dirs[0].join("state.json")).unwrap()).unwrap();
        assert_eq!(state["status"], "exited");
        assert_eq!(state["exit_code"], 0);
        // The name is taken.
        env.berth_cmd(["run", "--name", "keeper", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains(
                "The container name \"/keeper\" is already in use",
            ));
    });
}

#[test]
fn unimplemented_run_modes_say_so() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["run", "--log-driver", "syslog", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("not implemented"));
    });
}

#[test]
fn capabilities_network_none_and_generated_etc_files() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // docker's default capability set, and what --cap-drop/--cap-add do to it.
        let caps = |extra: &[&str]| {
            let mut args = vec!["run", "--rm"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&[
                &image,
                "grep",
                "-E",
                "^Cap(Eff|Bnd|Inh|Amb)",
                "/proc/self/status",
            ]);
            let out = env.berth_cmd(args).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let default = caps(&[]);
        assert!(default.contains("CapEff:\t00000000a80425fb"), "{default}");
        assert!(default.contains("CapBnd:\t00000000a80425fb"), "{default}");
        assert!(default.contains("CapInh:\t0000000000000000"), "{default}");
        assert!(default.contains("CapAmb:\t0000000000000000"), "{default}");
        assert!(caps(&["--cap-drop", "ALL"]).contains("CapEff:\t0000000000000000"));
        // NET_ADMIN is bit 12.
        assert!(caps(&["--cap-add", "NET_ADMIN"]).contains("CapEff:\t00000000a80435fb"));

        env.berth_cmd([
            "run",
            "--rm",
            "--network",
            "none",
            &image,
            "ls",
            "/sys/class/net",
        ])
        .assert()
        .success()
        .stdout("lo\n");
        env.berth_cmd([
            "run",
            "--rm",
            "--network",
            "none",
            "--hostname",
            "web",
            &image,
            "cat",
            "/etc/hosts",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("127.0.0.1\tlocalhost").and(predicate::str::contains("web")),
        );
        env.berth_cmd(["run", "--rm", &image, "test", "-s", "/etc/resolv.conf"])
            .assert()
            .success();
        env.berth_cmd(["run", "--rm", "--network", "container:x", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("No such container: x"));
    });
}

#[test]
fn a_container_that_fails_to_start_leaves_nothing_behind() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let containers = env.data_dir().join("containers");
        for args in [
            vec![
                "run",
                "--name",
                "bad1",
                "-u",
                "no-such-user",
                &image,
                "true",
            ],
            vec![
                "run",
                "--rm",
                "--name",
                "bad2",
                "--ulimit",
                "nofile=99999999:99999999",
                &image,
                "true",
            ],
        ] {
            env.berth_cmd(args).assert().code(125);
        }
        let left: Vec<_> = std::fs::read_dir(&containers)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // The names are free again.
        env.berth_cmd(["run", "--rm", "--name", "bad1", &image, "true"])
            .assert()
            .success();
    });
}

/// `script` running `cmdline` on a fresh pty; its output with the pty's CRs removed.
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
fn tty_gives_the_container_a_terminal_of_its_own() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // -t without -i works with any stdin: the output goes through the pty.
        let out = run(env, &["--rm", "-t", &image, "tty"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text} {:?}", out.stderr);
        assert_eq!(text, "/dev/pts/0\r\n");
        let out = run(
            env,
            &[
                "--rm",
                "-t",
                "-u",
                "1000:1000",
                &image,
                "sh",
                "-c",
                "test -t 0 && test -t 1 && test -t 2 && echo $TERM && ls -ln $(tty)",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.starts_with("xterm\r\n"), "{text}");
        // runc's fixStdioPermissions: the slave belongs to the process's user.
        assert!(text.contains(" 1000 "), "{text}");
        // Without -t, no terminal.
        env.berth_cmd(["run", "--rm", &image, "test", "-t", "1"])
            .assert()
            .code(1);
        env.berth_cmd(["run", "--rm", "-t", &image, "test", "-t", "1"])
            .assert()
            .code(0);
        // stderr is merged into the terminal.
        let out = run(env, &["--rm", "-t", &image, "sh", "-c", "echo oops >&2"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "oops\r\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        // Exit codes pass through.
        env.berth_cmd(["run", "--rm", "-t", &image, "sh", "-c", "exit 5"])
            .assert()
            .code(5);
        env.berth_cmd(["run", "--rm", "-t", &image, "/no/such/command"])
            .assert()
            .code(127);
    });
}

#[test]
fn tty_with_interactive_needs_a_terminal_on_stdin() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // docker's CheckTty: exit 1, nothing created.
        env.berth_cmd(["run", "--rm", "-it", &image, "true"])
            .write_stdin("echo hi\n")
            .assert()
            .code(1)
            .stdout("")
            .stderr("the input device is not a TTY\n");
        env.berth_cmd([
            "run", "--rm", "-i", "-t", "--pull", "never", "nope:1", "true",
        ])
        .write_stdin("")
        .assert()
        .code(1);
    });
}

#[test]
fn interactive_tty_propagates_the_window_size_and_forwards_input() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let berth = support::berth::berth_bin().display().to_string();
        let (code, text) = under_script(
            env,
            &format!("stty cols 100 rows 30; {berth} run --rm -it {image} stty size"),
        );
        assert_eq!(code, Some(0), "{text}");
        // (script may type a byte of its own into the terminal when its stdin ends.)
        assert!(text.lines().any(|l| l.ends_with("30 100")), "{text:?}");
        // The caller's terminal is back in cooked mode afterwards.
        let (code, text) = under_script(
            env,
            &format!("{berth} run --rm -it {image} sh -c 'exit 4'; echo status=$?; stty -a"),
        );
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("status=4"), "{text}");
        let words: Vec<&str> = text.split_whitespace().collect();
        for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
            assert!(words.contains(&flag), "{flag} not restored: {text}");
        }
        // Input reaches the container through the pty; Ctrl-C becomes SIGINT
        // for its foreground process group.
        use std::io::Write as _;
        let cmdline = format!(
            "{berth} run --rm -i -t {image} sh -c \
             'trap \"echo got-int; exit 9\" INT; read l; echo read=$l; sleep 20 & wait'"
        );
        let mut child = env
            .std_command("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .env("TERM", "xterm")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(2));
        stdin.write_all(b"hello\r").unwrap();
        std::thread::sleep(std::time::Duration::from_secs(1));
        stdin.write_all(b"\x03").unwrap();
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert!(
            started.elapsed().as_secs() < 15,
            "Ctrl-C did not end it: {text}"
        );
        assert!(text.contains("read=hello"), "{text}");
        assert!(text.contains("got-int"), "{text}");
        assert_eq!(out.status.code(), Some(9), "{text}");
    });
}

#[test]
fn tty_follows_a_resize_of_the_callers_terminal() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let berth = support::berth::berth_bin().display().to_string();
        let cmdline = format!(
            "stty cols 100 rows 30; {berth} run --rm -t {image} sh -c \
             'stty size; for i in $(seq 40); do s=$(stty size); \
             if [ \"$s\" = \"40 120\" ]; then echo $s; exit 0; fi; sleep 1; done'"
        );
        let child = env
            .std_command("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = wait_for_running_pid(env);
        std::thread::sleep(std::time::Duration::from_millis(500));
        // berth is the container's parent; its stdout is script's terminal.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let ppid = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap();
        let tty = std::fs::read_link(format!("/proc/{ppid}/fd/1")).unwrap();
        // Resizing that terminal sends berth SIGWINCH.
        env.command("stty")
            .args(["-F", tty.to_str().unwrap(), "cols", "120", "rows", "40"])
            .assert()
            .success();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert!(text.contains("30 100\n"), "{text:?}");
        assert!(text.contains("40 120"), "{text:?}");
    });
}

#[test]
fn init_runs_the_command_under_a_static_init() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // PID 1 is the init; the command is its child and still sees its own exit code through it.
        env.berth_cmd([
            "run",
            "--rm",
            "--init",
            &image,
            "sh",
            "-c",
            "cat /proc/1/comm; exit 4",
        ])
        .assert()
        .code(4)
        .stdout(predicate::str::contains("init").or(predicate::str::contains("tini")));
    });
}

#[test]
fn seccomp_default_profile_unconfined_and_privileged() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let status = |extra: &[&str]| {
            let mut args = vec!["--rm"];
            args.extend_from_slice(extra);
            args.extend([image.as_str(), "grep", "Seccomp:", "/proc/self/status"]);
            let out = run(env, &args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(status(&[]), "Seccomp:\t2\n");
        assert_eq!(
            status(&["--security-opt", "seccomp=unconfined"]),
            "Seccomp:\t0\n"
        );
        // --privileged: no seccomp, and every capability berth itself has (docker's rule;
        // as root here that excludes CAP_SYS_RESOURCE, which must not make it fail).
        assert_eq!(status(&["--privileged"]), "Seccomp:\t0\n");
        env.berth_cmd([
            "run",
            "--rm",
            "--privileged",
            &image,
            "grep",
            "CapEff",
            "/proc/self/status",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("CapEff:\t000001ff"));
        // Ordinary work is unaffected (sh forks, sleep, hashing, listing).
        let out = run(
            env,
            &[
                "--rm",
                &image,
                "sh",
                "-c",
                "ls / >/dev/null && echo x | sha256sum && sleep 0.1 && (echo sub) && echo ok",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.ends_with("sub\nok\n"), "{stdout}");
    });
}

#[test]
fn seccomp_blocks_new_user_namespaces_as_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        // unshare(CLONE_NEWUSER) needs no capability: only docker's profile
        // (unshare is allowed with CAP_SYS_ADMIN only) refuses it.
        let out = run(env, &["--rm", &image, "unshare", "-U", "true"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Operation not permitted"), "{stderr}");
        let out = run(
            env,
            &[
                "--rm",
                "--security-opt",
                "seccomp=unconfined",
                &image,
                "unshare",
                "-U",
                "true",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

#[test]
fn twenty_runs_at_once_all_succeed_and_leave_nothing() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let children: Vec<_> = (0..20)
            .map(|i| {
                env.berth_std()
                    .args(["run", "--rm", &image, "echo", &i.to_string()])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "run {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{i}\n"));
        }
        let left: Vec<_> = std::fs::read_dir(env.data_dir().join("containers"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    });
}

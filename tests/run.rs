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
        env.berth_cmd(["run", "-d", &image, "true"])
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
        env.berth_cmd(["run", "--rm", "--network", "bridge", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("not implemented"));
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
        // As root here berth lacks CAP_SYS_RESOURCE, so --privileged (every
        // capability) cannot start: rootless it gets all of them in its userns.
        if env.mode() == support::berth::Mode::Rootless {
            assert_eq!(status(&["--privileged"]), "Seccomp:\t0\n");
        }
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

//! What rootless users hit first, end to end: the build-in-container pattern
//! (`-u "$(id -u):$(id -g)"` keeps the caller's ids), `--userns=keep-id`,
//! `--security-opt seccomp=FILE`, `--sig-proxy=false`, and the single-id
//! fallback for a user without /etc/subuid ranges.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use support::berth::{Mode, TestEnv, for_each_mode, nosub_user};
use support::fixtures::{self, ImageConfig};
use support::registry::{Registry, RegistryAuth};
use support::tarball::TarWriter;

fn busybox(reg: &Registry) -> String {
    fixtures::push_busybox(reg, "library/busybox", "latest");
    format!("{}/library/busybox", reg.addr())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn build_in_container_pattern_leaves_files_owned_by_the_caller() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let src = env.scratch_dir("src");
        env.write_file_owned(&src.join("in.txt"), b"source\n", 0o644);
        let user = format!("{}:{}", env.uid(), env.gid());
        let volume = format!("{}:/src", src.display());
        let out = env
            .berth_cmd([
                "run",
                "--rm",
                "-v",
                &volume,
                "-w",
                "/src",
                "-u",
                &user,
                &image,
                "sh",
                "-c",
                "cat in.txt >/dev/null && touch out && mkdir outdir && id -u && id -g && \
                 head -n1 /etc/passwd",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        assert_eq!(
            lines[..2],
            [env.uid().to_string(), env.gid().to_string()],
            "{lines:?}"
        );
        assert!(lines[2].starts_with("root:"), "{lines:?}");
        for made in ["out", "outdir"] {
            let m = std::fs::metadata(src.join(made)).unwrap();
            assert_eq!((m.uid(), m.gid()), (env.uid(), env.gid()), "{made}");
        }

        // Container root is still root (rootless: the standard mapping).
        let out = env
            .berth_cmd(["run", "--rm", "-u", "0", &image, "id", "-u"])
            .output()
            .unwrap();
        assert_eq!(text(&out.stdout), "0\n", "{}", text(&out.stderr));
    });
}

#[test]
fn userns_keep_id_runs_as_the_caller() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let src = env.scratch_dir("work");
        let volume = format!("{}:/work", src.display());
        let out = env
            .berth_cmd([
                "run",
                "--rm",
                "--userns=keep-id",
                "-v",
                &volume,
                &image,
                "sh",
                "-c",
                "id -u && touch /work/made && ls /etc/passwd",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{}\n/etc/passwd\n", env.uid()));
        assert_eq!(
            std::fs::metadata(src.join("made")).unwrap().uid(),
            env.uid()
        );
        // docker's values are accepted; anything else is berth's error.
        for v in ["--userns=host", "--userns="] {
            env.berth_cmd(["run", "--rm", v, &image, "true"])
                .assert()
                .code(0);
        }
        env.berth_cmd(["run", "--rm", "--userns=private", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicates::str::contains("--userns"));
    });
}

const NO_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
     "comment": "no new directories"}
  ]
}"#;

fn container_dirs(env: &TestEnv) -> usize {
    std::fs::read_dir(env.data_dir().join("containers"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn seccomp_profile_from_a_file() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let dir = env.scratch_dir("profiles");
        let profile = dir.join("no-mkdir.json");
        env.write_file_owned(&profile, NO_MKDIR.as_bytes(), 0o644);
        let opt = format!("seccomp={}", profile.display());
        env.berth_cmd(["run", "--rm", "--security-opt", &opt, &image, "true"])
            .assert()
            .code(0);
        let out = env
            .berth_cmd([
                "run",
                "--rm",
                "--security-opt",
                &opt,
                &image,
                "mkdir",
                "/tmp/d",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("Operation not permitted"),
            "{}",
            text(&out.stderr)
        );
        env.berth_cmd([
            "run",
            "--rm",
            "--security-opt",
            "seccomp=unconfined",
            &image,
            "mkdir",
            "/tmp/d",
        ])
        .assert()
        .code(0);

        // Broken profiles: berth's error (125), naming the file; nothing left.
        let before = container_dirs(env);
        let broken = dir.join("broken.json");
        env.write_file_owned(&broken, b"{\"defaultAction\": ", 0o644);
        let unknown = dir.join("unknown.json");
        env.write_file_owned(
            &unknown,
            br#"{"defaultAction": "SCMP_ACT_SOMETIMES"}"#,
            0o644,
        );
        let missing = dir.join("missing.json");
        for (file, what) in [
            (&broken, "EOF"),
            (&unknown, "SCMP_ACT_SOMETIMES"),
            (&missing, "No such file"),
        ] {
            let out = env
                .berth_cmd([
                    "run",
                    "--rm",
                    "--name",
                    "seccomp-broken",
                    "--security-opt",
                    &format!("seccomp={}", file.display()),
                    &image,
                    "true",
                ])
                .output()
                .unwrap();
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(125), "{err}");
            assert!(
                err.contains(&file.display().to_string()) && err.contains(what),
                "{err}"
            );
        }
        assert_eq!(container_dirs(env), before);
        // The name was freed again.
        env.berth_cmd(["run", "--rm", "--name", "seccomp-broken", &image, "true"])
            .assert()
            .code(0);
    });
}

/// Starts `berth run ARGS… sh -c SCRIPT` where SCRIPT prints `ready` once
/// its TERM trap is set; returns the child after `ready` was read.
fn start_trapping(env: &TestEnv, args: &[&str]) -> std::process::Child {
    let mut child = env
        .berth_std()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    child
}

#[test]
fn sig_proxy_false_does_not_forward_signals() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    let script = "trap 'exit 7' TERM; echo ready; sleep 3 & wait; exit 0";
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let term = |child: &std::process::Child| {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::SIGTERM,
            )
            .unwrap();
        };
        // Default: SIGTERM to berth reaches the container's trap.
        let mut child = start_trapping(env, &["run", "--rm", &image, "sh", "-c", script]);
        term(&child);
        assert_eq!(child.wait().unwrap().code(), Some(7));

        // --sig-proxy=false: the container does not see it and ends on its own;
        // berth still waits for it (and removes it: --rm).
        let t = Instant::now();
        let mut child = start_trapping(
            env,
            &[
                "run",
                "--rm",
                "--sig-proxy=false",
                &image,
                "sh",
                "-c",
                script,
            ],
        );
        term(&child);
        assert_eq!(child.wait().unwrap().code(), Some(0));
        assert!(t.elapsed() >= Duration::from_secs(2));
        assert_eq!(container_dirs(env), 0);
    });
}

#[test]
fn user_without_subuids_gets_a_single_id_namespace_and_a_warning() {
    let Some(user) = nosub_user() else {
        eprintln!("skipped: needs root to run as a second test user");
        return;
    };
    let reg = Registry::start(RegistryAuth::None);
    // busybox plus files owned by users the namespace cannot map.
    let mut extra = TarWriter::new();
    extra
        .dir("owned", 0o755, 0, 0)
        .file("owned/app.txt", 0o644, 1000, 1000, b"owned by app\n")
        .file("owned/nobody.txt", 0o600, 65534, 65534, b"nobody's\n");
    fixtures::push_busybox_with(
        &reg,
        "library/owned",
        "latest",
        Some(extra),
        &ImageConfig::busybox(),
    );
    let image = format!("{}/library/owned", reg.addr());
    let env = TestEnv::rootless_as(user);
    assert_eq!(env.mode(), Mode::Rootless);
    let out = env
        .berth_cmd(["run", "--rm", &image, "echo", "hi"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(text(&out.stdout), "hi\n");
    assert!(
        err.contains("WARNING") && err.contains("/etc/subuid") && err.contains("usermod"),
        "{err}"
    );
    // Once, although `run` re-executes itself after the pull.
    assert_eq!(err.matches("WARNING: no subordinate").count(), 1, "{err}");
    // Every file is root's (the caller's) in the container, and readable.
    let out = env
        .berth_cmd([
            "run",
            "--rm",
            &image,
            "sh",
            "-c",
            "stat -c '%u %n' /owned/app.txt /owned/nobody.txt && cat /owned/nobody.txt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "0 /owned/app.txt\n0 /owned/nobody.txt\nnobody's\n"
    );
    // The build-in-container pattern works too (the caller's uid, alone).
    let src = env.scratch_dir("src");
    let volume = format!("{}:/src", src.display());
    let ids = format!("{}:{}", env.uid(), env.gid());
    let out = env
        .berth_cmd([
            "run", "--rm", "-v", &volume, "-w", "/src", "-u", &ids, &image, "touch", "out",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::metadata(src.join("out")).unwrap().uid(), env.uid());
    // Another user cannot be named in a one-id namespace: a clear error.
    env.berth_cmd(["run", "--rm", "-u", "4242", &image, "true"])
        .assert()
        .code(125)
        .stderr(predicates::str::contains("/etc/subuid"));
    env.berth_cmd(["rmi", &image]).assert().success();
}

//! `cp`, `diff`, `rename`, `top`, `pause` and `unpause`, root and rootless,
//! on running and on created (never started) containers.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
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

/// berth with `input` on stdin.
fn with_stdin(env: &TestEnv, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut c = env.berth_std();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Entry names of a tar stream.
fn tar_names(bytes: &[u8]) -> Vec<String> {
    tar::Archive::new(bytes)
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect()
}

/// A tar with one file `name` (raw name bytes: `..` allowed) owned by uid/gid.
fn raw_tar(entries: &[(&str, &[u8], u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data, uid) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_uid(*uid);
        h.set_gid(*uid);
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend([0u8; 1024]);
    out
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

/// Copies in and out of `ctr` (running or created) and checks what arrived.
fn round_trips(env: &TestEnv, ctr: &str) {
    let src = env.scratch_dir(&format!("src-{ctr}"));
    env.write_file_owned(&src.join("file.txt"), b"hello\n", 0o640);
    env.write_file_owned(&src.join("sub/inner.txt"), b"inner\n", 0o644);
    let src_s = src.to_str().unwrap();

    // A file into an existing directory, then under a new name.
    env.berth_cmd(["cp", &format!("{src_s}/file.txt"), &format!("{ctr}:/tmp")])
        .assert()
        .success()
        .stdout("");
    env.berth_cmd([
        "cp",
        &format!("{src_s}/file.txt"),
        &format!("{ctr}:/tmp/renamed.txt"),
    ])
    .assert()
    .success();
    // A directory to a missing destination: created with the contents.
    env.berth_cmd(["cp", src_s, &format!("{ctr}:/copied")])
        .assert()
        .success();
    // A directory into an existing one, and its contents with `/.`.
    env.berth_cmd(["cp", src_s, &format!("{ctr}:/tmp")])
        .assert()
        .success();
    env.berth_cmd(["cp", &format!("{src_s}/."), &format!("{ctr}:/home")])
        .assert()
        .success();
    // Errors: a file into a missing directory asserted with `/`, a directory onto a file.
    env.berth_cmd([
        "cp",
        &format!("{src_s}/file.txt"),
        &format!("{ctr}:/nowhere/"),
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::starts_with("Error: "));
    env.berth_cmd(["cp", src_s, &format!("{ctr}:/etc/passwd")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot copy directory"));
    env.berth_cmd(["cp", "/does/not/exist", &format!("{ctr}:/tmp")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "lstat /does/not/exist: no such file or directory",
        ));

    // Out again, as the caller's files.
    let out = env.scratch_dir(&format!("out-{ctr}"));
    let out_s = out.to_str().unwrap();
    env.berth_cmd(["cp", &format!("{ctr}:/tmp/renamed.txt"), out_s])
        .assert()
        .success();
    let got = out.join("renamed.txt");
    assert_eq!(std::fs::read(&got).unwrap(), b"hello\n");
    let m = std::fs::metadata(&got).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o777), (env.uid(), 0o640));
    // COMPAT: `cp CTR:/dir/ ./new/` creates the missing destination directory.
    env.berth_cmd(["cp", &format!("{ctr}:/copied/"), &format!("{out_s}/new/")])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("new/sub/inner.txt")).unwrap(),
        b"inner\n"
    );
    assert_eq!(std::fs::read(out.join("new/file.txt")).unwrap(), b"hello\n");
    assert_eq!(
        std::fs::metadata(out.join("new/sub/inner.txt"))
            .unwrap()
            .uid(),
        env.uid()
    );
    // Into an existing directory: the source's name.
    env.berth_cmd(["cp", &format!("{ctr}:/tmp/src-{ctr}"), out_s])
        .assert()
        .success();
    assert!(out.join(format!("src-{ctr}/sub/inner.txt")).is_file());
    // Contents with `/.` into an existing directory.
    let flat = env.scratch_dir(&format!("flat-{ctr}"));
    env.berth_cmd(["cp", &format!("{ctr}:/home/."), flat.to_str().unwrap()])
        .assert()
        .success();
    assert!(flat.join("file.txt").is_file() && flat.join("sub/inner.txt").is_file());
    // Missing source in the container.
    env.berth_cmd(["cp", &format!("{ctr}:/no/such"), out_s])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Could not find the file /no/such"));
    // A directory onto a host file.
    env.berth_cmd(["cp", &format!("{ctr}:/copied"), got.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot copy directory"));

    // Tar streams both ways.
    let out_tar = env
        .berth_cmd(["cp", &format!("{ctr}:/copied"), "-"])
        .output()
        .unwrap();
    assert!(out_tar.status.success(), "{out_tar:?}");
    let names = tar_names(&out_tar.stdout);
    assert_eq!(names[0], "copied/", "{names:?}");
    assert!(names.contains(&"copied/file.txt".to_string()), "{names:?}");
    assert!(
        names.contains(&"copied/sub/inner.txt".to_string()),
        "{names:?}"
    );
    let input = raw_tar(&[("streamed.txt", b"from stdin\n", 0)]);
    let r = with_stdin(env, &["cp", "-", &format!("{ctr}:/tmp")], &input);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = with_stdin(env, &["cp", "-", &format!("{ctr}:/etc/passwd")], &input);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("must be a directory"),
        "{r:?}"
    );
    env.berth_cmd(["cp", &format!("{ctr}:/tmp/streamed.txt"), out_s])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(out.join("streamed.txt")).unwrap(),
        b"from stdin\n"
    );

    // A hostile stream: refused, nothing written outside the container.
    let evil = raw_tar(&[("../../../../../../escaped.txt", b"x", 0)]);
    let r = with_stdin(env, &["cp", "-", &format!("{ctr}:/tmp")], &evil);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert!(!Path::new("/escaped.txt").exists());
    // A symlink in the stream to an absolute path: followed only inside the container.
    let unique = format!("pwned-{ctr}-{}", std::process::id());
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "link", "/tmp").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, format!("link/{unique}"), &b"x\n"[..])
        .unwrap();
    let sneaky = b.into_inner().unwrap();
    let r = with_stdin(env, &["cp", "-", &format!("{ctr}:/home")], &sneaky);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        !Path::new("/tmp").join(&unique).exists(),
        "wrote through a symlink"
    );
    env.berth_cmd(["cp", &format!("{ctr}:/tmp/{unique}"), "-"])
        .assert()
        .success();
}

#[test]
fn cp_in_and_out_of_running_and_created_containers() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["run", "-d", "--name", "live", &image, "sleep", "1000"])
            .assert()
            .success();
        round_trips(env, "live");
        // What the running container sees.
        env.berth_cmd([
            "create",
            "--name",
            "made",
            &image,
            "sh",
            "-c",
            "cat /tmp/file.txt; ls /copied",
        ])
        .assert()
        .success();
        round_trips(env, "made");
        env.berth_cmd(["start", "-a", "made"])
            .assert()
            .success()
            .stdout("hello\nfile.txt\nsub\n");
        env.berth_cmd(["rm", "-f", "live", "made"])
            .assert()
            .success();
    });
}

#[test]
fn cp_in_gives_files_to_container_root_unless_archive_mode() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "create",
            "--name",
            "own",
            &image,
            "stat",
            "-c",
            "%n %u:%g",
            "/in/f",
            "/plain.txt",
            "/kept.txt",
        ])
        .assert()
        .success();
        let src = env.scratch_dir("owned");
        env.write_file_owned(&src.join("f"), b"f", 0o644);
        env.berth_cmd(["cp", src.to_str().unwrap(), "own:/in"])
            .assert()
            .success();
        let r = with_stdin(
            env,
            &["cp", "-", "own:/"],
            &raw_tar(&[("plain.txt", b"p", 1234)]),
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let r = with_stdin(
            env,
            &["cp", "-a", "-", "own:/"],
            &raw_tar(&[("kept.txt", b"k", 1234)]),
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        env.berth_cmd(["start", "-a", "own"])
            .assert()
            .success()
            .stdout("/in/f 0:0\n/plain.txt 0:0\n/kept.txt 1234:1234\n");
        // Out again: the caller's.
        let out = env.scratch_dir("owned-out");
        env.berth_cmd(["cp", "own:/kept.txt", out.to_str().unwrap()])
            .assert()
            .success();
        assert_eq!(
            std::fs::metadata(out.join("kept.txt")).unwrap().uid(),
            env.uid()
        );
        env.berth_cmd(["rm", "own"]).assert().success();
    });
}

#[test]
fn diff_lists_added_changed_and_deleted_files() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // A fresh container has no changes, whatever mount points the runtime made.
        env.berth_cmd(["run", "--name", "clean", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["diff", "clean"])
            .assert()
            .success()
            .stdout("");
        env.berth_cmd([
            "run",
            "--name",
            "dd",
            &image,
            "sh",
            "-c",
            "touch /new; rm /bin/ls; echo x >> /etc/passwd; mkdir -p /root/deep; chmod 700 /root/deep; touch /root/deep/f",
        ])
        .assert()
        .success();
        let out = stdout(env, &["diff", "dd"]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "C /bin",
                "D /bin/ls",
                "C /etc",
                "C /etc/passwd",
                "A /new",
                "C /root",
                "A /root/deep",
                "A /root/deep/f",
            ],
            "{out}"
        );
        env.berth_cmd(["diff", "nope"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such container: nope"));
        // Running containers too.
        env.berth_cmd([
            "run",
            "-d",
            "--name",
            "rr",
            &image,
            "sh",
            "-c",
            "touch /tmp/x; exec sleep 1000",
        ])
        .assert()
        .success();
        wait_until("the file", || {
            stdout(env, &["diff", "rr"]).contains("A /tmp/x")
        });
        env.berth_cmd(["rm", "-f", "dd", "rr", "clean"])
            .assert()
            .success();
    });
}

#[test]
fn rename_changes_the_name_and_refuses_one_in_use() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["create", "--name", "old", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["create", "--name", "other", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["rename", "old", "new"])
            .assert()
            .success()
            .stdout("");
        env.berth_cmd(["inspect", "-f", "{{.Name}}", "new"])
            .assert()
            .success()
            .stdout("/new\n");
        env.berth_cmd(["inspect", "old"]).assert().code(1);
        env.berth_cmd(["rename", "new", "other"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "Conflict. The container name \"/other\" is already in use",
            ));
        env.berth_cmd(["rename", "new", "new"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("same name"));
        env.berth_cmd(["rename", "new", "bad name"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("Invalid container name"));
        // The old name is free again.
        env.berth_cmd(["create", "--name", "old", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["rm", "old", "new", "other"])
            .assert()
            .success();
    });
}

#[test]
fn top_pause_and_unpause() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(env, &["run", "-d", "--name", "tp", &image, "sleep", "1000"]);
        let id = id.trim();
        let pid = state(env, id)["pid"].as_i64().unwrap() as i32;
        let top = stdout(env, &["top", "tp"]);
        let mut lines = top.lines();
        let header = lines.next().unwrap();
        assert!(header.starts_with("UID") && header.contains("PID"), "{top}");
        assert!(header.trim_end().ends_with("CMD"), "{top}");
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 1, "{top}");
        assert!(rows[0].contains("sleep 1000"), "{top}");
        assert!(rows[0].contains(&pid.to_string()), "{top}");
        let top = stdout(env, &["top", "tp", "-o", "pid,comm"]);
        assert_eq!(top.lines().count(), 2, "{top}");
        assert!(top.contains("sleep"), "{top}");

        env.berth_cmd(["unpause", "tp"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not paused"));
        env.berth_cmd(["pause", "tp"])
            .assert()
            .success()
            .stdout("tp\n");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(status.contains("State:\tT"), "{status}");
        assert_eq!(state(env, id)["status"], "paused");
        let ps = stdout(env, &["ps"]);
        assert!(ps.contains("(Paused)"), "{ps}");
        env.berth_cmd([
            "inspect",
            "-f",
            "{{.State.Paused}} {{.State.Running}}",
            "tp",
        ])
        .assert()
        .success()
        .stdout("true true\n");
        env.berth_cmd(["pause", "tp"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is already paused"));
        // cp works while paused.
        env.berth_cmd(["cp", "tp:/etc/passwd", "-"])
            .assert()
            .success();
        env.berth_cmd(["unpause", "tp"])
            .assert()
            .success()
            .stdout("tp\n");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(!status.contains("State:\tT"), "{status}");
        assert_eq!(state(env, id)["status"], "running");

        env.berth_cmd(["rm", "-f", "tp"]).assert().success();
        env.berth_cmd(["create", "--name", "idle", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["top", "idle"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not running"));
        env.berth_cmd(["pause", "idle"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not running"));
        env.berth_cmd(["rm", "idle"]).assert().success();
    });
}

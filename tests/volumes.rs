//! Volumes, root and rootless: `volume create|ls|inspect|rm|prune`, named
//! and anonymous volumes in `run`/`create`, copy-up of the image's files with
//! their owners, `rm -v` and `--rm`, in-use refusal, `--volumes-from`.

mod support;

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, ImageConfig};
use support::registry::{Registry, RegistryAuth};
use support::tarball::TarWriter;

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

fn volume_names(env: &TestEnv, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["volume", "ls", "-q"];
    args.extend_from_slice(filters);
    let mut names: Vec<String> = stdout(env, &args).lines().map(String::from).collect();
    names.sort();
    names
}

#[test]
fn named_volume_keeps_data_across_containers_and_rm() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "--name",
            "writer",
            "-v",
            "data:/data",
            &image,
            "sh",
            "-c",
            "echo kept > /data/f && id -u > /data/who",
        ])
        .assert()
        .success();
        // Inspect shows the mount as docker's volume MountPoint.
        let mounts = stdout(env, &["inspect", "-f", "{{json .Mounts}}", "writer"]);
        let mounts: serde_json::Value = serde_json::from_str(&mounts).unwrap();
        // (rootless, the runtime's own /sys bind is listed too)
        let m = mounts
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Destination"] == "/data")
            .unwrap();
        assert_eq!(m["Type"], "volume", "{mounts}");
        assert_eq!(m["Name"], "data");
        assert_eq!(m["Destination"], "/data");
        assert_eq!(m["Driver"], "local");
        assert_eq!(m["RW"], true);
        let mountpoint = env.data_dir().join("volumes/data/_data");
        assert_eq!(m["Source"], mountpoint.to_string_lossy().as_ref());
        env.berth_cmd(["rm", "-v", "writer"]).assert().success();
        // Named volumes survive `rm -v`.
        assert_eq!(volume_names(env, &[]), ["data"]);
        assert_eq!(
            std::fs::read_to_string(mountpoint.join("f")).unwrap(),
            "kept\n"
        );
        let out = stdout(
            env,
            &["run", "--rm", "-v", "data:/d", &image, "cat", "/d/f"],
        );
        assert_eq!(out, "kept\n");
        // `:ro` is read-only.
        env.berth_cmd(["run", "--rm", "-v", "data:/d:ro", &image, "touch", "/d/new"])
            .assert()
            .failure();
        env.berth_cmd([
            "run",
            "--rm",
            "--mount",
            "type=volume,src=data,dst=/d,readonly",
            &image,
            "cat",
            "/d/f",
        ])
        .assert()
        .success()
        .stdout("kept\n");

        // `volume create` twice is fine; inspect has docker's fields.
        assert_eq!(
            stdout(env, &["volume", "create", "--label", "a=b", "made"]),
            "made\n"
        );
        assert_eq!(stdout(env, &["volume", "create", "made"]), "made\n");
        let v: serde_json::Value =
            serde_json::from_str(&stdout(env, &["volume", "inspect", "made"])).unwrap();
        let v = &v[0];
        assert_eq!(v["Name"], "made");
        assert_eq!(v["Driver"], "local");
        assert_eq!(v["Scope"], "local");
        assert_eq!(v["Labels"]["a"], "b");
        assert!(v["Options"].is_object());
        assert!(v["CreatedAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            v["Mountpoint"],
            env.data_dir()
                .join("volumes/made/_data")
                .to_string_lossy()
                .as_ref()
        );
        // Plain `inspect` finds volumes too, and `--type volume`.
        assert_eq!(
            stdout(env, &["inspect", "-f", "{{.Driver}}", "made"]),
            "local\n"
        );
        assert_eq!(
            stdout(
                env,
                &["inspect", "--type", "volume", "-f", "{{.Name}}", "made"]
            ),
            "made\n"
        );
        env.berth_cmd(["volume", "inspect", "nope"])
            .assert()
            .code(1)
            .stdout("[]\n")
            .stderr(predicate::str::contains("No such volume: nope"));
        // A generated name: 64 hex.
        let generated = stdout(env, &["volume", "create"]);
        assert_eq!(generated.trim().len(), 64);
        assert!(generated.trim().bytes().all(|b| b.is_ascii_hexdigit()));
        // ls: docker's columns, filters, formats.
        let table = stdout(env, &["volume", "ls"]);
        assert!(table.starts_with("DRIVER    VOLUME NAME\n"), "{table}");
        assert!(table.contains("local     made\n"), "{table}");
        assert_eq!(volume_names(env, &["-f", "label=a=b"]), ["made"]);
        assert_eq!(volume_names(env, &["-f", "name=mad"]), ["made"]);
        assert_eq!(
            stdout(
                env,
                &[
                    "volume",
                    "ls",
                    "-f",
                    "name=made",
                    "--format",
                    "{{.Name}} {{.Label \"a\"}}"
                ]
            ),
            "made b\n"
        );
        let json = stdout(
            env,
            &["volume", "ls", "-f", "name=made", "--format", "json"],
        );
        let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(row["Name"], "made");
        assert_eq!(row["Labels"], "a=b");
        env.berth_cmd(["volume", "rm", "made", generated.trim(), "data"])
            .assert()
            .success();
        assert!(volume_names(env, &[]).is_empty());
        assert!(!mountpoint.exists());
    });
}

#[test]
fn volumes_in_use_are_never_removed() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(
            env,
            &[
                "create", "--name", "holder", "-v", "busy:/d", &image, "true",
            ],
        );
        let id = id.trim();
        assert_eq!(
            stdout(env, &["ps", "-a", "-q", "--no-trunc", "-f", "volume=busy"]),
            format!("{id}\n")
        );
        assert_eq!(stdout(env, &["ps", "-a", "-q", "-f", "volume=other"]), "");
        for args in [
            vec!["volume", "rm", "busy"],
            vec!["volume", "rm", "-f", "busy"],
        ] {
            env.berth_cmd(&args)
                .assert()
                .code(1)
                .stderr(predicate::str::contains(format!(
                    "volume is in use - [{id}]"
                )));
        }
        env.berth_cmd(["volume", "prune", "-a", "-f"])
            .assert()
            .success();
        assert_eq!(volume_names(env, &[]), ["busy"]);
        assert!(volume_names(env, &["-f", "dangling=true"]).is_empty());
        assert_eq!(volume_names(env, &["-f", "dangling=false"]), ["busy"]);
        // A running container too.
        let running = stdout(env, &["run", "-d", "-v", "busy:/d", &image, "sleep", "60"]);
        env.berth_cmd(["rm", "holder"]).assert().success();
        env.berth_cmd(["volume", "rm", "-f", "busy"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("volume is in use"));
        env.berth_cmd(["rm", "-f", running.trim()])
            .assert()
            .success();
        env.berth_cmd(["volume", "rm", "busy"])
            .assert()
            .success()
            .stdout("busy\n");
        // Missing: an error, but not with -f.
        env.berth_cmd(["volume", "rm", "busy"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such volume: busy"));
        env.berth_cmd(["volume", "rm", "-f", "busy"])
            .assert()
            .success();
    });
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_rm_flag_and_prune() {
    let reg = Registry::start(RegistryAuth::None);
    // An image with a VOLUME: docker gives it an anonymous volume.
    fixtures::push_busybox_with(
        &reg,
        "library/withvol",
        "latest",
        None,
        &ImageConfig::busybox().volume("/cache"),
    );
    let image = format!("{}/library/withvol", reg.addr());
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        stdout(
            env,
            &[
                "create", "--name", "ca", "-v", "/anon", "-v", "keep:/k", &image, "true",
            ],
        );
        let names = volume_names(env, &[]);
        assert_eq!(names.len(), 3, "{names:?}");
        let anon = volume_names(env, &["-f", "label=com.docker.volume.anonymous"]);
        assert_eq!(anon.len(), 2, "{anon:?}");
        env.berth_cmd(["rm", "-v", "ca"]).assert().success();
        assert_eq!(volume_names(env, &[]), ["keep"]);

        // `--rm` takes the anonymous ones with it.
        env.berth_cmd([
            "run", "--rm", "-v", "/anon", "-v", "keep:/k", &image, "true",
        ])
        .assert()
        .success();
        assert_eq!(volume_names(env, &[]), ["keep"]);

        // Plain `rm` keeps them: prune removes the anonymous, -a the rest.
        stdout(
            env,
            &["create", "--name", "cb", "-v", "/anon", &image, "true"],
        );
        env.berth_cmd(["rm", "cb"]).assert().success();
        assert_eq!(volume_names(env, &[]).len(), 3);
        assert_eq!(volume_names(env, &["-f", "dangling=true"]).len(), 3);
        let out = stdout(env, &["volume", "prune", "-f"]);
        assert!(out.starts_with("Deleted Volumes:\n"), "{out}");
        assert!(out.contains("Total reclaimed space:"), "{out}");
        assert_eq!(volume_names(env, &[]), ["keep"]);
        env.berth_cmd(["volume", "prune", "-f", "--filter", "label=nope"])
            .assert()
            .success();
        let out = stdout(env, &["volume", "prune", "-a", "-f"]);
        assert!(out.contains("keep\n"), "{out}");
        assert!(volume_names(env, &[]).is_empty());
    });
}

#[test]
fn a_new_volume_gets_the_image_files_with_their_owners_once() {
    let reg = Registry::start(RegistryAuth::None);
    let mut extra = TarWriter::new();
    extra
        .dir("app", 0o750, 1000, 1000)
        .dir("app/sub", 0o700, 1000, 1000)
        .file("app/sub/conf", 0o640, 1000, 1000, b"conf\n")
        .file("app/root.txt", 0o600, 0, 0, b"root's\n")
        .symlink("app/link", "sub/conf");
    fixtures::push_busybox_with(
        &reg,
        "library/app",
        "latest",
        Some(extra),
        &ImageConfig::busybox(),
    );
    let image = format!("{}/library/app", reg.addr());
    let busybox = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["pull", "-q", &busybox]).assert().success();
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-v",
                "appdata:/app",
                &image,
                "sh",
                "-c",
                "stat -c '%u:%g %a %n' /app /app/sub /app/sub/conf /app/root.txt; readlink /app/link; cat /app/link",
            ],
        );
        assert_eq!(
            out,
            "1000:1000 750 /app\n1000:1000 700 /app/sub\n1000:1000 640 /app/sub/conf\n0:0 600 /app/root.txt\nsub/conf\nconf\n"
        );
        // The image's user 1000 may write where the copy made it the owner.
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-u",
                "1000",
                "-v",
                "appdata:/app",
                &image,
                "sh",
                "-c",
                "echo mine > /app/sub/new && echo changed > /app/sub/conf && stat -c %u /app/sub/new",
            ],
        );
        assert_eq!(out, "1000\n");
        // Once: the changes stay, and the volume mounted elsewhere gets nothing new.
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-v",
                "appdata:/app",
                &image,
                "cat",
                "/app/sub/conf",
                "/app/sub/new",
            ],
        );
        assert_eq!(out, "changed\nmine\n");
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-v",
                "appdata:/etc/x",
                &busybox,
                "ls",
                "/etc/x",
            ],
        );
        assert_eq!(out, "link\nroot.txt\nsub\n");
        // nocopy: an empty volume.
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-v",
                "empty:/app:nocopy",
                &image,
                "ls",
                "-A",
                "/app",
            ],
        );
        assert_eq!(out, "");
        // Container root (the caller, rootless) writes to a fresh volume.
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "-v",
                "fresh:/data",
                &image,
                "sh",
                "-c",
                "echo ok > /data/f && cat /data/f",
            ],
        );
        assert_eq!(out, "ok\n");
        env.berth_cmd(["volume", "rm", "appdata", "empty", "fresh"])
            .assert()
            .success();
        assert!(volume_names(env, &[]).is_empty());
    });
}

#[test]
fn volumes_from_shares_volumes_and_binds() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let host = env.scratch_dir("host");
        let bind = format!("{}:/host", host.display());
        env.berth_cmd([
            "run",
            "--name",
            "src",
            "-v",
            "shared:/shared",
            "-v",
            &bind,
            &image,
            "sh",
            "-c",
            "echo from-src > /shared/f",
        ])
        .assert()
        .success();
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "--volumes-from",
                "src",
                &image,
                "sh",
                "-c",
                "cat /shared/f && test -d /host && echo bound",
            ],
        );
        assert_eq!(out, "from-src\nbound\n");
        env.berth_cmd([
            "run",
            "--rm",
            "--volumes-from",
            "src:ro",
            &image,
            "touch",
            "/shared/g",
        ])
        .assert()
        .failure();
        env.berth_cmd(["run", "--rm", "--volumes-from", "nope", &image, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("No such container: nope"));
        env.berth_cmd(["rm", "src"]).assert().success();
        env.berth_cmd(["volume", "rm", "shared"]).assert().success();
    });
}

#[test]
fn mount_volume_options_make_the_new_volume() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        // volume-opt: a tmpfs volume; volume-label on the new volume.
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "--mount",
                "type=volume,src=scratchvol,dst=/data,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-label=purpose=test",
                &img,
                "sh",
                "-c",
                "grep ' /data ' /proc/mounts",
            ],
        );
        assert!(out.contains("tmpfs"), "{out}");
        let inspect = stdout(
            env,
            &[
                "volume",
                "inspect",
                "-f",
                "{{.Options.type}} {{.Labels.purpose}}",
                "scratchvol",
            ],
        );
        assert_eq!(inspect.trim(), "tmpfs test");
        // Another driver than local: docker's refusal, nothing created.
        env.berth_cmd([
            "run",
            "--rm",
            "--mount",
            "type=volume,src=othervol,dst=/d,volume-driver=nfs",
            &img,
            "true",
        ])
        .assert()
        .code(125);
        env.berth_cmd(["volume", "inspect", "othervol"])
            .assert()
            .code(1);
        stdout(env, &["volume", "rm", "scratchvol"]);
    });
}

//! `ps` and container `inspect`, root and rootless: what a user sees for
//! exited and running containers, filters, formats, and inspect's fields.

mod support;

use std::process::{Child, Stdio};
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

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// `ps` with a format printing names only.
fn names(env: &TestEnv, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["ps", "--format", "{{.Names}}"];
    args.extend_from_slice(extra);
    stdout(env, &args).lines().map(String::from).collect()
}

/// Starts `run --name NAME IMAGE sleep 100` in the foreground, as a child,
/// and waits until `ps` shows it running.
fn start_live(env: &TestEnv, image: &str, name: &str) -> Child {
    let mut child = env
        .berth_std()
        .args(["run", "--name", name, image, "sleep", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if names(env, &[]).iter().any(|n| n == name) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{name} never showed in ps");
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn ps_shows_containers_like_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // Nothing yet: the header alone.
        assert_eq!(
            stdout(env, &["ps"]),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
        env.berth_cmd([
            "run",
            "--name",
            "bad",
            "--label",
            "tier=front",
            &image,
            "sh",
            "-c",
            "exit 3",
        ])
        .assert()
        .code(3);
        env.berth_cmd(["run", "--name", "good", "-l", "tier=back", &image, "true"])
            .assert()
            .success();
        let mut live = start_live(env, &image, "live");

        // Default: running only.
        let ps = stdout(env, &["ps"]);
        let ps = lines(&ps);
        assert_eq!(ps.len(), 2, "{ps:?}");
        for col in [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
        ] {
            assert!(ps[0].contains(col), "{}", ps[0]);
        }
        assert!(ps[1].contains("\"sleep 100\""), "{}", ps[1]);
        assert!(ps[1].contains("   Up "), "{}", ps[1]);
        assert!(ps[1].ends_with("live"), "{}", ps[1]);
        assert!(ps[1].contains("busybox"), "{}", ps[1]);
        assert!(is_hex(&ps[1][..12], 12), "{}", ps[1]);

        // -a: every container, newest first.
        let all = stdout(env, &["ps", "-a"]);
        let all = lines(&all);
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all[1].ends_with("live"));
        assert!(all[2].ends_with("good") && all[2].contains("Exited (0) "));
        assert!(all[3].ends_with("bad"), "{}", all[3]);
        assert!(all[3].contains("\"sh -c 'exit 3'\""), "{}", all[3]);
        assert!(
            all[3].contains("Exited (3) ") && all[3].contains(" ago"),
            "{}",
            all[3]
        );

        // Ids: short by default, full with --no-trunc.
        let q = stdout(env, &["ps", "-q"]);
        assert!(lines(&q).len() == 1 && is_hex(q.trim(), 12), "{q}");
        let q = stdout(env, &["ps", "-aq", "--no-trunc"]);
        let q = lines(&q);
        assert_eq!(q.len(), 3);
        assert!(q.iter().all(|id| is_hex(id, 64)), "{q:?}");
        assert!(q[0].starts_with(stdout(env, &["ps", "-q"]).trim()));
        let wide = stdout(env, &["ps", "-a", "--no-trunc"]);
        assert!(wide.contains(q[2]));

        // Templates.
        let st = stdout(env, &["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
        let st = lines(&st);
        assert!(st[0].starts_with("live Up "), "{st:?}");
        assert!(st[2].starts_with("bad Exited (3) "), "{st:?}");
        assert_eq!(
            stdout(
                env,
                &["ps", "-a", "--format", "{{.Names}}={{.Label \"tier\"}}"]
            ),
            "live=\ngood=back\nbad=front\n"
        );
        let t = stdout(env, &["ps", "--format", "table {{.Names}}\t{{.State}}"]);
        assert_eq!(t, "NAMES     STATE\nlive      running\n");
        let j = stdout(
            env,
            &["ps", "-a", "-f", "name=bad", "--format", "{{json .}}"],
        );
        let v: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
        assert_eq!(v["Names"], "bad");
        assert_eq!(v["State"], "exited");
        assert_eq!(v["Command"], "\"sh -c 'exit 3'\"");
        assert_eq!(v["Labels"], "tier=front");
        let obj = v.as_object().unwrap();
        for key in ["ID", "Image", "CreatedAt", "RunningFor", "Ports", "Size"] {
            assert!(obj[key].is_string(), "{key} in {j}");
        }
        let j2 = stdout(env, &["ps", "-a", "-f", "name=bad", "--format", "json"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&j2).unwrap()["Names"],
            "bad"
        );

        // Filters: same key ORed, different keys ANDed; status implies -a.
        assert_eq!(names(env, &["-f", "status=exited"]), ["good", "bad"]);
        assert_eq!(
            names(env, &["-f", "status=exited", "-f", "name=bad"]),
            ["bad"]
        );
        assert_eq!(
            names(env, &["-a", "-f", "name=bad", "-f", "name=good"]),
            ["good", "bad"]
        );
        assert_eq!(names(env, &["-a", "-f", "name=^/g"]), ["good"]);
        assert_eq!(
            names(env, &["-f", "status=running", "-f", "status=exited"]),
            ["live", "good", "bad"]
        );
        assert_eq!(names(env, &["-a", "-f", "exited=3"]), ["bad"]);
        assert_eq!(names(env, &["-a", "-f", "label=tier=front"]), ["bad"]);
        assert_eq!(names(env, &["-a", "-f", "label=tier"]), ["good", "bad"]);
        assert_eq!(names(env, &["-a", "-f", "before=good"]), ["bad"]);
        assert_eq!(names(env, &["-a", "-f", "since=bad"]), ["live", "good"]);
        assert_eq!(
            names(env, &["-a", "-f", "health=none", "-f", "name=live"]),
            ["live"]
        );
        assert_eq!(
            names(env, &["-a", "-f", &format!("ancestor={image}")]),
            ["live", "good", "bad"]
        );
        assert!(names(env, &["-a", "-f", "ancestor=nosuchimage"]).is_empty());
        env.berth_cmd(["ps", "-f", "status=bogus"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("invalid filter 'status=bogus'"));
        env.berth_cmd(["ps", "-f", "colour=red"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("invalid filter 'colour'"));

        // -n / -l: the newest, whatever their state.
        assert_eq!(names(env, &["-n", "2"]), ["live", "good"]);
        assert_eq!(names(env, &["-l"]), ["live"]);

        // --size adds SIZE.
        let s = stdout(env, &["ps", "-a", "-s"]);
        let s = lines(&s);
        assert!(s[0].ends_with("SIZE"), "{}", s[0]);
        assert!(s[3].contains("B (virtual "), "{}", s[3]);

        // Stop the live one from outside: 137, and ps says so.
        let pid: i32 = stdout(env, &["inspect", "-f", "{{.State.Pid}}", "live"])
            .trim()
            .parse()
            .unwrap();
        assert!(pid > 0);
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
        assert_eq!(live.wait().unwrap().code(), Some(137));
        assert!(stdout(env, &["ps", "-q"]).is_empty());
        let st = stdout(
            env,
            &["ps", "-a", "-f", "name=live", "--format", "{{.Status}}"],
        );
        assert!(st.starts_with("Exited (137) "), "{st}");
    });
}

#[test]
fn inspect_finds_containers_and_images() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd([
            "run",
            "--name",
            "bad",
            "-e",
            "A=1",
            "--label",
            "tier=front",
            &image,
            "sh",
            "-c",
            "exit 3",
        ])
        .assert()
        .code(3);
        let f = |name: &str, template: &str| stdout(env, &["inspect", "-f", template, name]);
        assert_eq!(
            f(
                "bad",
                "{{.State.Status}} {{.State.ExitCode}} {{.Name}} {{.Config.Tty}} {{.State.Running}}"
            ),
            "exited 3 /bad false false\n"
        );
        assert_eq!(
            f("bad", "{{json .Config.Cmd}}"),
            "[\"sh\",\"-c\",\"exit 3\"]\n"
        );
        assert_eq!(
            f("bad", "{{.Path}} {{json .Args}}"),
            "sh [\"-c\",\"exit 3\"]\n"
        );
        assert_eq!(f("bad", "{{index .Config.Labels \"tier\"}}"), "front\n");
        assert_eq!(f("bad", "{{.Config.Image}}"), format!("{image}\n"));
        assert!(f("bad", "{{json .Config.Env}}").contains("\"A=1\""));
        assert_eq!(f("bad", "{{.HostConfig.RestartPolicy.Name}}"), "no\n");

        // The whole object: docker's field order, ids and times.
        let text = stdout(env, &["inspect", "bad"]);
        assert!(text.starts_with("[\n    {\n        \"Id\": \""), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let c = &v[0];
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            &keys[..6],
            ["Id", "Created", "Path", "Args", "State", "Image"]
        );
        for k in [
            "HostConfig",
            "GraphDriver",
            "Mounts",
            "Config",
            "NetworkSettings",
        ] {
            assert!(keys.contains(&k), "{k} missing: {keys:?}");
        }
        let id = c["Id"].as_str().unwrap();
        assert!(is_hex(id, 64));
        assert!(c["Image"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(c["Name"], "/bad");
        let started = c["State"]["StartedAt"].as_str().unwrap();
        assert!(started.ends_with('Z') && started.contains('T'), "{started}");
        assert_ne!(started, "0001-01-01T00:00:00Z");
        assert!(c["State"].get("Health").is_none());
        assert!(c.get("SizeRw").is_none());

        // By id prefix, with sizes.
        let sized = stdout(env, &["inspect", "-s", &id[..8]]);
        let sized: serde_json::Value = serde_json::from_str(&sized).unwrap();
        assert_eq!(sized[0]["Id"], id);
        assert!(sized[0]["SizeRootFs"].as_u64().unwrap() > 0);

        // A container and an image in one call; --type narrows.
        let both = stdout(env, &["inspect", "bad", &image]);
        let both: serde_json::Value = serde_json::from_str(&both).unwrap();
        assert_eq!(both.as_array().unwrap().len(), 2);
        assert!(both[1]["RepoTags"].is_array());
        env.berth_cmd(["inspect", "--type", "image", "bad"])
            .assert()
            .code(1)
            .stdout("[]\n")
            .stderr("Error: No such object: bad\n");
        env.berth_cmd(["inspect", "--type", "container", &image])
            .assert()
            .code(1)
            .stdout("[]\n");

        // Missing: docker's `[]`, nothing with -f, exit 1; found ones still print.
        env.berth_cmd(["inspect", "nope"])
            .assert()
            .code(1)
            .stdout("[]\n")
            .stderr("Error: No such object: nope\n");
        env.berth_cmd(["inspect", "-f", "{{.State.Running}}", "nope"])
            .assert()
            .code(1)
            .stdout("")
            .stderr("Error: No such object: nope\n");
        env.berth_cmd(["inspect", "-f", "{{.Name}}", "bad", "nope"])
            .assert()
            .code(1)
            .stdout("/bad\n")
            .stderr("Error: No such object: nope\n");

        // -t is recorded.
        env.berth_cmd(["run", "-t", "--name", "tty", &image, "true"])
            .assert()
            .success();
        assert_eq!(f("tty", "{{.Config.Tty}}"), "true\n");
    });
}

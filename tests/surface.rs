//! The docker surface around the containers: `info`/`system info`,
//! `version --format`, the global flags (`--config`, `-H`/`DOCKER_HOST`,
//! `--context`, `--tls*`, `--root`/`--runroot`, `-D`, `--log-level`),
//! `system prune` and `events`.

mod support;

use predicates::prelude::*;
use support::berth::{TestEnv, berth_bin, for_each_mode};
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

#[test]
fn info_format_speaks_dockers_field_names() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let rootless = env.mode() == support::berth::Mode::Rootless;
        assert_eq!(
            stdout(env, &["info", "--format", "{{.Driver}}"]),
            "overlay2\n"
        );
        let opts = stdout(env, &["info", "--format", "{{json .SecurityOptions}}"]);
        let opts: Vec<String> = serde_json::from_str(&opts).unwrap();
        assert!(
            opts.contains(&"name=seccomp,profile=builtin".to_string()),
            "{opts:?}"
        );
        assert_eq!(
            opts.contains(&"name=rootless".to_string()),
            rootless,
            "{opts:?}"
        );
        assert_eq!(
            stdout(env, &["system", "info", "-f", "{{.DockerRootDir}}"]),
            format!("{}\n", env.data_dir().display())
        );
        let ncpu: usize = stdout(env, &["info", "-f", "{{.NCPU}}"])
            .trim()
            .parse()
            .unwrap();
        assert!(ncpu >= 1);
        let mem: u64 = stdout(env, &["info", "-f", "{{.MemTotal}}"])
            .trim()
            .parse()
            .unwrap();
        assert!(mem > 1 << 20, "{mem}");
        assert_eq!(
            stdout(env, &["info", "-f", "{{.ServerVersion}}"]),
            format!("{}\n", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            stdout(env, &["info", "-f", "{{.Containers}} {{.Images}}"]),
            "0 0\n"
        );

        env.berth_cmd(["pull", "-q", &image]).assert().success();
        env.berth_cmd(["create", "--name", "idle", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["run", "-d", "--name", "busy", &image, "sleep", "100"])
            .assert()
            .success();
        assert_eq!(
            stdout(
                env,
                &[
                    "info",
                    "-f",
                    "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}}"
                ]
            ),
            "2 1 0 1 1\n"
        );
        // `json` and `{{json .}}`: the whole object, ClientInfo included.
        let all: serde_json::Value =
            serde_json::from_str(&stdout(env, &["info", "--format", "json"])).unwrap();
        assert_eq!(all["Driver"], "overlay2");
        assert_eq!(all["OSType"], "linux");
        assert_eq!(all["LoggingDriver"], "json-file");
        assert_eq!(all["ClientInfo"]["Context"], "default");
        assert_eq!(all["Containers"], 2);
        let same: serde_json::Value =
            serde_json::from_str(&stdout(env, &["info", "--format", "{{json .}}"])).unwrap();
        assert_eq!(same["ID"], all["ID"], "the engine id is stable");

        // The text layout.
        let text = stdout(env, &["info"]);
        for needle in [
            "Client: berth\n Version:    ",
            "\n Context:    default\n Debug Mode: false\n\nServer:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n",
            "\n Storage Driver: overlay2\n",
            "\n Logging Driver: json-file\n",
            "\n Security Options:\n  seccomp\n   Profile: builtin\n",
            "\n OSType: linux\n",
            "\n Live Restore Enabled: false\n",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        assert!(
            text.contains(&format!(
                "\n Docker Root Dir: {}\n",
                env.data_dir().display()
            )),
            "{text}"
        );
        assert_eq!(text.contains("\n  rootless\n"), rootless, "{text}");
        env.berth_cmd(["rm", "-f", "busy", "idle"])
            .assert()
            .success();
    });
}

#[test]
fn version_format_speaks_dockers_field_names() {
    let version = env!("CARGO_PKG_VERSION");
    let b = || assert_cmd::Command::new(berth_bin());
    b().args([
        "version",
        "--format",
        "{{.Client.Version}} {{.Server.Version}}",
    ])
    .assert()
    .success()
    .stdout(format!("{version} {version}\n"));
    let out = b()
        .args(["version", "--format", "{{json .}}"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Client"]["ApiVersion"], v["Server"]["ApiVersion"]);
    assert_eq!(v["Server"]["Os"], "linux");
    assert_eq!(v["Server"]["Components"][0]["Name"], "Engine");
    // As `docker`: docker's release in both places, and docker's --version line.
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker");
    std::os::unix::fs::symlink(berth_bin(), &docker).unwrap();
    let out = assert_cmd::Command::new(&docker)
        .args(["version", "-f", "{{.Client.Version}}={{.Server.Version}}"])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let (c, srv) = s.trim().split_once('=').unwrap();
    assert_eq!(c, srv);
    assert_ne!(c, version);
    assert_cmd::Command::new(&docker)
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("Docker version {c}, build berth-{version}\n"));
}

#[test]
fn remote_daemons_contexts_and_tls_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let b = || {
        let mut c = assert_cmd::Command::new(berth_bin());
        c.env_clear()
            .env("HOME", tmp.path())
            .env("BERTH_ROOT", tmp.path().join("root"))
            .env("BERTH_RUNROOT", tmp.path().join("run"))
            .env("BERTH_CONFIG_DIR", tmp.path().join("config"));
        c
    };
    b().env("DOCKER_HOST", "tcp://10.1.2.3:2376")
        .args(["ps"])
        .assert()
        .code(125)
        .stdout("")
        .stderr(
            predicate::str::contains("DOCKER_HOST=tcp://10.1.2.3:2376")
                .and(predicate::str::contains("daemonless")),
        );
    b().args(["-H", "ssh://me@build-host", "images"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("-H ssh://me@build-host"));
    // The local engine's default sockets mean berth itself.
    for host in ["unix:///var/run/docker.sock", ""] {
        b().env("DOCKER_HOST", host)
            .args(["ps", "-q"])
            .assert()
            .success();
    }
    b().args(["-H", "unix:///var/run/docker.sock", "ps", "-q"])
        .assert()
        .success();
    b().env("DOCKER_CONTEXT", "remote")
        .args(["ps"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("DOCKER_CONTEXT remote"));
    b().args(["--context", "default", "ps", "-q"])
        .assert()
        .success();
    b().args(["-c", "other", "ps"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("--context other"));
    for flags in [
        &["--tlsverify"][..],
        &["--tls"],
        &["--tlscacert", "/ca.pem"],
        &["--tlscert", "/c.pem"],
        &["--tlskey", "/k.pem"],
    ] {
        b().args(flags)
            .arg("ps")
            .assert()
            .code(125)
            .stderr(predicate::str::contains(flags[0]).and(predicate::str::contains("daemonless")));
    }
    // Global flags go before the command, as docker's.
    b().args(["--log-level", "warn", "ps", "-q"])
        .assert()
        .success();
    b().args(["-l", "nonsense", "ps"]).assert().code(125);
    b().args(["-D", "info", "-f", "{{.ClientInfo.Debug}}"])
        .assert()
        .success()
        .stdout("true\n");
    b().args(["--debug", "info", "-f", "{{.ClientInfo.Debug}}"])
        .assert()
        .success()
        .stdout("true\n");
    b().args(["info", "-f", "{{.ClientInfo.Debug}}"])
        .assert()
        .success()
        .stdout("false\n");
}

#[test]
fn root_and_runroot_move_the_store() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let root = env.scratch_dir("altroot");
        let run = env.scratch_dir("altrun");
        let flags = [
            "--root".to_string(),
            root.to_string_lossy().into_owned(),
            "--runroot".to_string(),
            run.to_string_lossy().into_owned(),
        ];
        let with = |args: &[&str]| {
            let mut c = env.berth();
            c.args(&flags).args(args);
            c
        };
        with(&["pull", "-q", &image]).assert().success();
        with(&["run", "-d", "--name", "elsewhere", &image, "sleep", "100"])
            .assert()
            .success();
        assert!(root.join("storage").is_dir());
        assert!(root.join("containers").is_dir());
        with(&["info", "-f", "{{.DockerRootDir}} {{.ContainersRunning}}"])
            .assert()
            .success()
            .stdout(format!("{} 1\n", root.display()));
        // The default store knows nothing of it.
        assert_eq!(stdout(env, &["ps", "-aq"]), "");
        assert_eq!(stdout(env, &["images", "-q"]), "");
        with(&["exec", "elsewhere", "true"]).assert().success();
        with(&["stop", "-t", "1", "elsewhere"]).assert().success();
        with(&["rm", "elsewhere"]).assert().success();
    });
}

#[test]
fn config_dir_is_where_login_writes_credentials() {
    let reg = Registry::start(RegistryAuth::basic());
    let image = fixtures::push_busybox(&reg, "private/bb", "latest").reference();
    let (user, pass) = (
        reg.user().unwrap().to_string(),
        reg.password().unwrap().to_string(),
    );
    for_each_mode(|env| {
        let dir = env.scratch_dir("dockercfg");
        let d = dir.to_string_lossy().into_owned();
        let mut login = env.berth_cmd([
            "--config",
            &d,
            "login",
            "-u",
            &user,
            "--password-stdin",
            reg.addr(),
        ]);
        login.write_stdin(format!("{pass}\n")).assert().success();
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        assert!(cfg["auths"][reg.addr()]["auth"].is_string(), "{cfg}");
        // Only with --config DIR are those credentials used.
        env.berth_cmd(["pull", "-q", &image]).assert().failure();
        env.berth_cmd(["--config", &d, "pull", "-q", &image])
            .assert()
            .success();
        env.berth_cmd(["--config", &d, "logout", reg.addr()])
            .assert()
            .success();
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap();
        assert!(!cfg.contains(reg.addr()), "{cfg}");
    });
}

#[test]
fn system_prune_removes_what_docker_does_and_keeps_the_rest() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let done = stdout(env, &["create", "--name", "done", &image, "true"]);
        let done = done.trim();
        env.berth_cmd(["start", "-a", "done"]).assert().success();
        let live = stdout(
            env,
            &[
                "run", "-d", "--name", "live", "-v", "/inuse", &image, "sleep", "100",
            ],
        );
        let live = live.trim();
        env.berth_cmd(["create", "--name", "vol", "-v", "/orphan", &image, "true"])
            .assert()
            .success();
        let orphan = stdout(
            env,
            &["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "vol"],
        );
        let orphan = orphan.trim().to_string();
        let vol_id = stdout(env, &["inspect", "-f", "{{.Id}}", "vol"]);
        env.berth_cmd(["rm", "vol"]).assert().success();
        env.berth_cmd(["volume", "create", "named"])
            .assert()
            .success();
        env.berth_cmd(["network", "create", "unusednet"])
            .assert()
            .success();
        let dangling = stdout(env, &["commit", "done"]);
        let dangling = dangling.trim();
        assert!(dangling.starts_with("sha256:"), "{dangling}");

        let out = stdout(env, &["system", "prune", "-f"]);
        assert!(
            out.starts_with(&format!("Deleted Containers:\n{done}\n\n")),
            "{out}"
        );
        assert!(out.contains("\nDeleted Networks:\nunusednet\n\n"), "{out}");
        assert!(
            out.contains(&format!("\nDeleted Images:\ndeleted: {dangling}\n")),
            "{out}"
        );
        assert!(!out.contains("Deleted Volumes:"), "{out}");
        assert!(!out.contains(&vol_id.trim()[..12]), "{out}");
        assert!(
            out.lines()
                .last()
                .unwrap()
                .starts_with("Total reclaimed space: "),
            "{out}"
        );
        let names = stdout(env, &["ps", "-a", "--format", "{{.Names}}"]);
        assert_eq!(names, "live\n");
        assert_eq!(
            stdout(env, &["inspect", "-f", "{{.State.Running}}", "live"]),
            "true\n"
        );
        assert_eq!(
            stdout(env, &["network", "ls", "-q", "-f", "name=unusednet"]),
            ""
        );

        // --volumes: anonymous volumes nothing uses, never a named one nor one in use.
        env.berth_cmd(["system", "prune", "-f", "--volumes", "--filter", "until=1h"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "\"until\" filter is not supported",
            ));
        let out = stdout(env, &["system", "prune", "-f", "--volumes"]);
        assert!(
            out.starts_with(&format!("Deleted Volumes:\n{orphan}\n\n")),
            "{out}"
        );
        let vols = stdout(env, &["volume", "ls", "-q"]);
        assert!(vols.lines().any(|v| v == "named"), "{vols}");
        assert!(!vols.lines().any(|v| v == orphan), "{vols}");
        assert_eq!(vols.lines().count(), 2, "named + live's: {vols}");

        // -a: images in use stay; once unused they go, untagged first.
        let out = stdout(env, &["system", "prune", "-af"]);
        assert!(!out.contains("Deleted Images:"), "{out}");
        assert_eq!(stdout(env, &["images", "-q"]).lines().count(), 1);
        env.berth_cmd(["rm", "-f", live]).assert().success();
        let out = stdout(env, &["system", "prune", "-a", "-f", "--volumes"]);
        assert!(!out.contains("Deleted Containers:"), "{out}");
        assert!(out.contains("Deleted Images:\nuntagged: "), "{out}");
        assert!(out.contains("Deleted Volumes:\n"), "{out}");
        assert_eq!(stdout(env, &["images", "-q"]), "");
        assert_eq!(stdout(env, &["volume", "ls", "-q"]), "named\n");
        assert!(
            out.lines()
                .last()
                .unwrap()
                .starts_with("Total reclaimed space: "),
            "{out}"
        );
        assert!(
            !out.ends_with("Total reclaimed space: 0B\n"),
            "layers were freed: {out}"
        );
    });
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `events --since T0 --until now+1 ARGS…`: the past events, then it returns.
fn past_events(env: &TestEnv, t0: u64, args: &[&str]) -> String {
    let (since, until) = (t0.to_string(), (unix_now() + 1).to_string());
    let mut all = vec!["events", "--since", &since, "--until", &until];
    all.extend_from_slice(args);
    stdout(env, &all)
}

#[test]
fn events_are_recorded_as_commands_act_and_read_back_like_dockers() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let t0 = unix_now() - 1;
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let ev = stdout(env, &["create", "--name", "ev", &image, "true"]);
        let ev = ev.trim().to_string();
        env.berth_cmd(["start", "-a", "ev"]).assert().success();
        env.berth_cmd(["tag", &image, "extra:1"]).assert().success();
        env.berth_cmd(["rename", "ev", "ev2"]).assert().success();
        env.berth_cmd(["rm", "ev2"]).assert().success();
        env.berth_cmd(["volume", "create", "v1"]).assert().success();
        env.berth_cmd(["volume", "rm", "v1"]).assert().success();
        env.berth_cmd(["network", "create", "n1"])
            .assert()
            .success();
        env.berth_cmd(["network", "rm", "n1"]).assert().success();
        let live = stdout(
            env,
            &["run", "-d", "--name", "live", &image, "sleep", "100"],
        );
        let live = live.trim().to_string();
        // sleep as PID 1 ignores SIGTERM: stop has to SIGKILL it, as docker does.
        env.berth_cmd(["stop", "-t", "1", "live"])
            .assert()
            .success();
        env.berth_cmd(["rm", "live"]).assert().success();
        env.berth_cmd(["rmi", "extra:1"]).assert().success();

        let lines = past_events(
            env,
            t0,
            &[
                "--format",
                "{{.Type}} {{.Action}} {{index .Actor.Attributes \"name\"}}",
            ],
        );
        // As root a container's default network is the berth0 bridge: docker's
        // network connect/disconnect around start and die.
        let (connect, disconnect) = if env.mode() == support::berth::Mode::Root {
            ("network connect bridge\n", "network disconnect bridge\n")
        } else {
            ("", "")
        };
        let expected = format!(
            "image pull {image}:latest\n\
             container create ev\n{connect}container start ev\ncontainer die ev\n{disconnect}\
             image tag extra:1\ncontainer rename ev2\ncontainer destroy ev2\n\
             volume create \nvolume destroy \nnetwork create n1\nnetwork destroy n1\n\
             container create live\n{connect}container start live\ncontainer kill live\n\
             container kill live\ncontainer die live\n{disconnect}container stop live\n\
             container destroy live\nimage untag extra:1\n"
        );
        let expected: Vec<&str> = expected.lines().collect();
        let got: Vec<&str> = lines.lines().collect();
        assert_eq!(got, expected, "{lines}");

        // Filters: same key ORed, different keys ANDed.
        let dies = past_events(
            env,
            t0,
            &[
                "--filter",
                "type=container",
                "--filter",
                "event=die",
                "--format",
                "{{.Actor.ID}} {{.Actor.Attributes.exitCode}}",
            ],
        );
        assert_eq!(dies, format!("{ev} 0\n{live} 137\n"));
        let by_name = past_events(
            env,
            t0,
            &[
                "-f",
                "container=live",
                "-f",
                "event=kill",
                "-f",
                "event=stop",
                "--format",
                "{{.Action}} {{.Actor.Attributes.signal}}",
            ],
        );
        assert_eq!(by_name, "kill 15\nkill 9\nstop <no value>\n");
        let vols = past_events(
            env,
            t0,
            &[
                "-f",
                "type=volume",
                "-f",
                "type=network",
                "--format",
                "{{.Action}} {{.Actor.ID}}",
            ],
        );
        // (As root, the containers' connects to the default bridge are there too.)
        let vols: String = vols
            .lines()
            .filter(|l| !l.starts_with("connect ") && !l.starts_with("disconnect "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(vols.lines().count(), 4, "{vols}");
        assert!(vols.starts_with("create v1\ndestroy v1\ncreate "), "{vols}");

        // docker's JSON shape, legacy fields included for containers.
        let json = past_events(
            env,
            t0,
            &[
                "-f",
                "container=ev",
                "-f",
                "event=create",
                "--format",
                "{{json .}}",
            ],
        );
        let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(v["status"], "create");
        assert_eq!(v["id"], ev.as_str());
        assert_eq!(v["from"], image.as_str());
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Action"], "create");
        assert_eq!(v["Actor"]["ID"], ev.as_str());
        assert_eq!(v["Actor"]["Attributes"]["name"], "ev");
        assert_eq!(v["scope"], "local");
        assert!(v["timeNano"].as_i64().unwrap() / 1_000_000_000 == v["time"].as_i64().unwrap());

        // The default text line.
        let text = past_events(env, t0, &["-f", "container=ev", "-f", "event=create"]);
        let re = regex_lite(&text);
        assert!(re, "{text}");
        assert!(
            text.trim_end()
                .ends_with(&format!(" container create {ev} (image={image}, name=ev)")),
            "{text}"
        );

        // Without --since/--until it follows new events until interrupted.
        let mut follow = env
            .berth_std()
            .args([
                "events",
                "--filter",
                "type=container",
                "--format",
                "{{.Action}} {{.Actor.Attributes.name}}",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        env.berth_cmd(["create", "--name", "late", &image, "true"])
            .assert()
            .success();
        env.berth_cmd(["volume", "create", "ignored"])
            .assert()
            .success();
        env.berth_cmd(["rm", "late"]).assert().success();
        let mut out = follow.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 256];
            while !String::from_utf8_lossy(&buf).contains("destroy late\n") {
                match out.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !reader.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = follow.kill();
        let _ = follow.wait();
        let seen = reader.join().unwrap();
        assert_eq!(seen, "create late\ndestroy late\n");
    });
}

/// `2024-05-01T10:00:00.123456789Z container …` or with a `+02:00` offset.
fn regex_lite(line: &str) -> bool {
    let b = line.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[10] == b'T'
        && b[19] == b'.'
        && digits(20..29)
        && (line[29..].starts_with("Z ") || (matches!(b[29], b'+' | b'-') && b[35] == b' '))
}

#[test]
fn exec_and_health_checks_have_their_events() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let t0 = unix_now() - 1;
        env.berth_cmd([
            "run",
            "-d",
            "--name",
            "hc",
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
            &image,
            "sleep",
            "100",
        ])
        .assert()
        .success();
        env.berth_cmd(["exec", "hc", "true"]).assert().success();
        env.berth_cmd(["exec", "hc", "sh", "-c", "exit 3"])
            .assert()
            .code(3);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while stdout(env, &["inspect", "-f", "{{.State.Health.Status}}", "hc"]) != "healthy\n" {
            assert!(std::time::Instant::now() < deadline, "never healthy");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let execs = past_events(
            env,
            t0,
            &[
                "-f",
                "container=hc",
                "-f",
                "event=exec_create",
                "-f",
                "event=exec_die",
                "--format",
                "{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}",
            ],
        );
        // Health checks run as execs too, as in docker: follow ours by execID.
        let lines: Vec<Vec<&str>> = execs.lines().map(|l| l.split('|').collect()).collect();
        let ours: Vec<String> = ["exec_create: true", "exec_create: sh -c exit 3"]
            .iter()
            .map(|create| {
                let exec_id = lines.iter().find(|l| l[0] == *create).expect(&execs)[1];
                assert_eq!(exec_id.len(), 64, "{execs}");
                let die = lines
                    .iter()
                    .find(|l| l[0] == "exec_die" && l[1] == exec_id)
                    .expect(&execs);
                die[2].to_string()
            })
            .collect();
        assert_eq!(ours, ["0", "3"], "{execs}");
        let health = past_events(
            env,
            t0,
            &[
                "-f",
                "event=health_status",
                "--format",
                "{{.Action}} {{.Actor.Attributes.name}}",
            ],
        );
        assert_eq!(health, "health_status: healthy hc\n");
        env.berth_cmd(["rm", "-f", "hc"]).assert().success();
    });
}

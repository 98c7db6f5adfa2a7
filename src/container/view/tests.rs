use super::*;
use crate::container::record::{ContainerConfig, ContainerState, Health, RestartPolicy, Status};
use chrono::TimeZone;

fn at(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn config(args: &[&str]) -> ContainerConfig {
    ContainerConfig {
        id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        name: "web".into(),
        created: at(0),
        image: "busybox".into(),
        image_id: "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210".into(),
        spec: json!({
            "hostname": "0123456789ab",
            "root": {"path": "rootfs", "readonly": false},
            "process": {
                "args": args,
                "env": ["PATH=/bin", "A=1"],
                "cwd": "/",
                "user": {"uid": 0, "gid": 0},
                "capabilities": {"bounding": super::super::spec::DEFAULT_CAPABILITIES},
            },
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/data", "type": "bind", "source": "/srv/data",
                 "options": ["rbind", "ro", "rprivate"]},
                {"destination": "/etc/hosts", "type": "bind",
                 "source": "/var/lib/berth/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/hosts",
                 "options": ["rbind", "rprivate"]},
            ],
            "linux": {"maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]},
        }),
        layers: vec!["/store/layers/a/diff".into(), "/store/layers/b/diff".into()],
        auto_remove: false,
        labels: [("tier".to_string(), "front".to_string())].into(),
        tty: false,
        open_stdin: false,
        restart_policy: RestartPolicy::default(),
        stop_signal: None,
        stop_timeout: None,
        log_max_size: 0,
        log_max_file: 0,
        network_mode: "none".into(),
        network_helper: String::new(),
        port_bindings: Vec::new(),
        publish_all: false,
        exposed_ports: Vec::new(),
        healthcheck: None,
        volumes: vec![],
        networks: Vec::new(),
        command: vec![],
        mounts: vec![],
    }
}

fn state(status: Status) -> ContainerState {
    let mut s = ContainerState::created();
    s.status = status;
    s
}

#[test]
fn command_column_quotes_and_truncates_like_docker() {
    let cases: Vec<(Vec<&str>, bool)> = vec![
        (vec!["sh"], true),
        (vec!["sh", "-c", "exit 3"], true),
        (vec!["sh", "-c", "echo hello world; sleep 100"], true),
        (vec!["sh", "-c", "echo hello world; sleep 100"], false),
        (
            vec!["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"],
            true,
        ),
        (vec!["echo", "say \"hi\"\tnow"], false),
        (vec!["echo", "日本語のテキストです"], true),
        (vec![], true),
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|(args, trunc)| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            format!(
                "{args:?} trunc={trunc} => {}",
                command_column(&args, *trunc)
            )
        })
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn status_strings_with_fixed_times() {
    let now = at(3600 * 5);
    let mut cases = Vec::new();
    cases.push(("created", state(Status::Created)));
    let mut s = state(Status::Running);
    s.started_at = Some(now - chrono::Duration::seconds(5));
    cases.push(("running 5s", s.clone()));
    s.started_at = Some(now - chrono::Duration::seconds(70));
    cases.push(("running 70s", s.clone()));
    s.health = Some(Health {
        status: "healthy".into(),
        ..Default::default()
    });
    cases.push(("healthy", s.clone()));
    s.health = Some(Health {
        status: "starting".into(),
        ..Default::default()
    });
    cases.push(("starting", s.clone()));
    s.health = None;
    s.status = Status::Paused;
    cases.push(("paused", s.clone()));
    s.status = Status::Restarting;
    s.exit_code = 1;
    s.finished_at = Some(now - chrono::Duration::seconds(2));
    cases.push(("restarting", s.clone()));
    s.status = Status::Exited;
    s.exit_code = 0;
    s.finished_at = Some(now - chrono::Duration::minutes(2));
    cases.push(("exited 2m", s.clone()));
    s.exit_code = 137;
    s.finished_at = Some(now - chrono::Duration::hours(3));
    cases.push(("exited 3h", s.clone()));
    cases.push(("dead", state(Status::Dead)));
    let out: Vec<String> = cases
        .iter()
        .map(|(what, s)| {
            format!(
                "{what}: {:?} state={}",
                status_text(s, now),
                state_string(s)
            )
        })
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn ellipsis_counts_columns() {
    assert_eq!(ellipsis("abcdef", 6), "abcdef");
    assert_eq!(ellipsis("abcdefg", 6), "abcde…");
    assert_eq!(ellipsis("日本語", 4), "日…");
    assert_eq!(ellipsis("abc", 1), "a");
    assert_eq!(ellipsis("abc", 0), "");
}

#[test]
fn regex_subset_matches_like_go() {
    assert!(regex_match("web", "/my-web-1"));
    assert!(regex_match("^/web$", "/web"));
    assert!(!regex_match("^/web$", "/web2"));
    assert!(regex_match("^/w.b", "/wab"));
    assert!(regex_match("we+b", "/weeb"));
    assert!(regex_match("x?web", "/web"));
    assert!(regex_match("[0-9]+$", "/web12"));
    assert!(!regex_match("[^0-9]$", "/web12"));
    assert!(regex_match("db|web", "/web"));
    assert!(regex_match("\\d", "/a1"));
    assert!(regex_match("a.*z", "/abcz"));
    assert!(!regex_match("a.*z", "/abc"));
    // Unsupported syntax: a substring match.
    assert!(regex_match("(web)", "/(web)"));
}

#[test]
fn filters_parse_and_match() {
    let f =
        |args: &[&str]| PsFilters::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        f(&["status=nope"]).unwrap_err().to_string(),
        "invalid filter 'status=nope'"
    );
    assert_eq!(
        f(&["colour=red"]).unwrap_err().to_string(),
        "invalid filter 'colour'"
    );
    assert_eq!(
        f(&["health=meh"]).unwrap_err().to_string(),
        "Unrecognised filter value for health: meh"
    );
    assert!(f(&["exited=x"]).is_err());
    let c = config(&["sh"]);
    let mut s = state(Status::Exited);
    s.started_at = Some(at(1));
    s.finished_at = Some(at(2));
    s.exit_code = 3;
    let r = Resolved::default();
    let ok = |args: &[&str]| f(args).unwrap().matches(&c, &s, &r);
    assert!(ok(&["status=exited"]));
    assert!(ok(&["status=running", "status=exited"]));
    assert!(!ok(&["status=running"]));
    assert!(ok(&["name=we", "status=exited"]));
    assert!(!ok(&["name=db", "status=exited"]));
    assert!(ok(&["name=db", "name=web"]));
    assert!(ok(&["exited=3"]));
    assert!(!ok(&["exited=0"]));
    assert!(ok(&["label=tier", "label=tier=front"]));
    assert!(!ok(&["label=tier=back"]));
    assert!(ok(&["id=0123"]));
    assert!(ok(&["health=none"]));
    assert!(!ok(&["health=healthy"]));
    assert!(!ok(&["ancestor=busybox"]));
    let r = Resolved {
        ancestor_ids: [c.image_id.clone()].into(),
        before: Some(at(10)),
        since: Some(at(-10)),
    };
    assert!(
        f(&["ancestor=busybox", "before=x", "since=y"])
            .unwrap()
            .matches(&c, &s, &r)
    );
    let r = Resolved {
        before: Some(at(0)),
        ..Default::default()
    };
    assert!(!f(&["before=x"]).unwrap().matches(&c, &s, &r));
}

#[test]
fn image_column_follows_docker() {
    let mut c = config(&["sh"]);
    assert_eq!(image_column(&c, true, true), "busybox");
    assert_eq!(image_column(&c, false, true), "fedcba987654");
    assert_eq!(
        image_column(&c, false, false),
        "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
    );
    c.image = "docker.io/library/busybox:1.36".into();
    assert_eq!(image_column(&c, true, true), "busybox:1.36");
    assert_eq!(
        image_column(&c, true, false),
        "docker.io/library/busybox:1.36"
    );
    c.image = "localhost:5000/app@sha256:0000000000000000000000000000000000000000000000000000000000000000".into();
    assert_eq!(image_column(&c, true, true), "localhost:5000/app");
}

#[test]
fn ps_row_is_all_strings_with_sorted_keys() {
    let c = config(&["sh", "-c", "exit 3"]);
    let mut s = state(Status::Exited);
    s.started_at = Some(at(1));
    s.finished_at = Some(at(2));
    s.exit_code = 3;
    let row = PsRow {
        config: &c,
        state: &s,
        image_current: true,
        sizes: Some(Sizes {
            rw: 0,
            root_fs: 1_234_567,
        }),
    };
    let v = ps_row_json(&row, true, at(122));
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn inspect_has_docker_fields_in_order() {
    let mut c = config(&["sh", "-c", "exit 3"]);
    c.stop_signal = Some("SIGQUIT".into());
    let mut s = state(Status::Exited);
    s.started_at = Some(at(1));
    s.finished_at = Some(Utc.timestamp_opt(1_700_000_002, 120_000_000).unwrap());
    s.exit_code = 3;
    let image = json!({"config": {"Cmd": ["sh"], "Labels": {"org": "x"}}});
    let dir = Path::new("/var/lib/berth/containers/0123");
    let log = dir.join("ctr.log");
    let v = inspect(
        &c,
        &s,
        &InspectInputs {
            dir,
            log_path: &log,
            image_config: Some(&image),
            sizes: None,
        },
    );
    insta::assert_snapshot!(crate::format::template::json_indent(&v, "    "));
}

#[test]
fn entrypoint_is_split_from_the_command() {
    let args: Vec<String> = ["/entry.sh", "serve", "-v"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let image = json!({"config": {"Entrypoint": ["/entry.sh"], "Cmd": ["serve"]}});
    let (e, c) = entrypoint_and_cmd(&args, Some(&image));
    assert_eq!(e, json!(["/entry.sh"]));
    assert_eq!(c, json!(["serve", "-v"]));
    let (e, c) = entrypoint_and_cmd(&args, None);
    assert_eq!(e, Value::Null);
    assert_eq!(c, json!(args));
}

#[test]
fn init_wrapper_is_not_the_command() {
    let c = config(&["/sbin/docker-init", "--", "sleep", "1"]);
    assert_eq!(process_args(&c), ["sleep", "1"]);
}

#[test]
fn dir_size_counts_files_once() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    std::fs::write(d.path().join("a"), b"12345").unwrap();
    std::fs::write(d.path().join("sub/b"), b"123").unwrap();
    std::fs::hard_link(d.path().join("a"), d.path().join("sub/a2")).unwrap();
    std::fs::write(d.path().join("empty"), b"").unwrap();
    assert_eq!(dir_size(d.path()), 8);
}

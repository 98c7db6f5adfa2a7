//! build_spec against docker's behaviour.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::parse::Resource;
use super::spec::*;
use crate::userns::{IdMapping, IdRange};

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
    daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
    nobody:x:65534:65534:nobody:/home:/bin/false\n\
    app:x:1000:1000::/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\ntty:x:5:\nwheel:x:10:root\naudio:x:29:app\napp:x:1000:\n";

fn busybox() -> Value {
    json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"]
        }
    })
}

fn etc(path: &str) -> Option<String> {
    match path {
        "/etc/passwd" => Some(PASSWD.to_string()),
        "/etc/group" => Some(GROUP.to_string()),
        _ => None,
    }
}

fn etc_files() -> EtcFiles {
    EtcFiles {
        hosts: PathBuf::from("/run/c/hosts"),
        resolv_conf: PathBuf::from("/run/c/resolv.conf"),
        hostname: PathBuf::from("/run/c/hostname"),
        init: None,
    }
}

fn build_with<'a>(
    opts: &RunOptions,
    image: &'a Value,
    f: impl FnOnce(&mut SpecInputs<'a>),
) -> Result<Value, SpecError> {
    let mut inputs = SpecInputs {
        image_config: image,
        rootfs_etc: &etc,
        container_id: ID,
        rootless: false,
        id_mapping: None,
        etc_files: etc_files(),
        hard_limits: Limits::unlimited(),
    };
    f(&mut inputs);
    let spec = build_spec(opts, &inputs)?;
    Ok(serde_json::to_value(spec).unwrap())
}

fn build(opts: &RunOptions, image: &Value) -> Value {
    build_with(opts, image, |_| {}).unwrap()
}

fn opts() -> RunOptions {
    RunOptions::default()
}

fn sv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Capabilities are a HashSet and sysctls a HashMap in oci-spec: sort them
/// for stable snapshots.
fn normalize(mut v: Value) -> Value {
    if let Some(caps) = v
        .pointer_mut("/process/capabilities")
        .and_then(Value::as_object_mut)
    {
        for (_, set) in caps.iter_mut() {
            let mut s = strs(set);
            s.sort();
            *set = json!(s);
        }
    }
    if let Some(sys) = v
        .pointer_mut("/linux/sysctl")
        .and_then(Value::as_object_mut)
    {
        let mut pairs: Vec<(String, Value)> = sys.clone().into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        sys.clear();
        sys.extend(pairs);
    }
    // docker's seccomp allow-list: its count (tested in runtime::seccomp).
    if let Some(names) = v.pointer_mut("/linux/seccomp/syscalls/0/names") {
        let n = names.as_array().map_or(0, Vec::len);
        *names = json!(format!("<{n} syscalls>"));
    }
    v
}

#[test]
fn snapshot_plain_busybox_sh() {
    let spec = build(&opts(), &busybox());
    insta::assert_json_snapshot!("busybox_sh_root", normalize(spec));
}

#[test]
fn snapshot_rootless_busybox_sh() {
    let mapping = IdMapping {
        uids: vec![
            IdRange {
                container: 0,
                host: 1000,
                size: 1,
            },
            IdRange {
                container: 1,
                host: 100000,
                size: 65536,
            },
        ],
        gids: vec![
            IdRange {
                container: 0,
                host: 1000,
                size: 1,
            },
            IdRange {
                container: 1,
                host: 100000,
                size: 65536,
            },
        ],
    };
    let o = RunOptions {
        command: sv(&["sh"]),
        ..opts()
    };
    let spec = build_with(&o, &busybox(), |i| {
        i.rootless = true;
        i.id_mapping = Some(&mapping);
        i.hard_limits = Limits::unlimited().with(Resource::Nofile, 20000);
    })
    .unwrap();
    insta::assert_json_snapshot!("busybox_sh_rootless", normalize(spec));
}

#[test]
fn args_docker_rules() {
    let img = |entry: Value, cmd: Value| json!({"config": {"Entrypoint": entry, "Cmd": cmd}});
    type Case = (
        Value,
        Option<&'static str>,
        &'static [&'static str],
        Option<&'static [&'static str]>,
    );
    let table: Vec<Case> = vec![
        // image Cmd only
        (img(json!(null), json!(["sh"])), None, &[], Some(&["sh"])),
        // command replaces Cmd
        (
            img(json!(null), json!(["sh"])),
            None,
            &["ls", "-l"],
            Some(&["ls", "-l"]),
        ),
        // Entrypoint + Cmd
        (
            img(json!(["/ep", "a"]), json!(["c"])),
            None,
            &[],
            Some(&["/ep", "a", "c"]),
        ),
        // Entrypoint + command
        (
            img(json!(["/ep"]), json!(["c"])),
            None,
            &["x"],
            Some(&["/ep", "x"]),
        ),
        // --entrypoint drops the image's Cmd
        (
            img(json!(["/ep"]), json!(["c"])),
            Some("/bin/echo"),
            &[],
            Some(&["/bin/echo"]),
        ),
        (
            img(json!(null), json!(["c"])),
            Some("/bin/echo"),
            &["hi"],
            Some(&["/bin/echo", "hi"]),
        ),
        // --entrypoint "" clears it; the command runs alone
        (
            img(json!(["/ep"]), json!(["c"])),
            Some(""),
            &["ls"],
            Some(&["ls"]),
        ),
        // --entrypoint "" and no command: nothing left
        (img(json!(["/ep"]), json!(["c"])), Some(""), &[], None),
        // nothing at all
        (img(json!(null), json!(null)), None, &[], None),
        (json!({}), None, &[], None),
        // Entrypoint as a string (old images)
        (img(json!("/ep"), json!(null)), None, &[], Some(&["/ep"])),
        // an entrypoint with spaces is one word
        (
            img(json!(null), json!(null)),
            Some("a b"),
            &[],
            Some(&["a b"]),
        ),
    ];
    for (image, entry, cmd, want) in table {
        let o = RunOptions {
            entrypoint: entry.map(str::to_string),
            command: sv(cmd),
            ..opts()
        };
        let got = build_with(&o, &image, |_| {});
        match want {
            Some(w) => assert_eq!(
                strs(&got.unwrap()["process"]["args"]),
                sv(w),
                "{image} {entry:?} {cmd:?}"
            ),
            None => assert_eq!(got.unwrap_err().to_string(), "No command specified"),
        }
    }
}

#[test]
fn env_docker_rules() {
    let env_of = |img_env: Value, flags: &[&str], tty: bool, user: Option<&str>| {
        let image = json!({"config": {"Env": img_env, "Cmd": ["sh"]}});
        let o = RunOptions {
            env: sv(flags),
            tty,
            user: user.map(str::to_string),
            hostname: Some("h".into()),
            ..opts()
        };
        strs(&build(&o, &image)["process"]["env"])
    };
    // Image without PATH: docker's default.
    assert_eq!(
        env_of(json!(null), &[], false, None),
        sv(&[&format!("PATH={DEFAULT_PATH}"), "HOSTNAME=h", "HOME=/root"])
    );
    // Image PATH replaces the default in place; image vars follow flag vars.
    assert_eq!(
        env_of(
            json!(["PATH=/x", "A=img", "B=img"]),
            &["B=flag", "C=flag"],
            false,
            None
        ),
        sv(&[
            "PATH=/x",
            "HOSTNAME=h",
            "B=flag",
            "C=flag",
            "A=img",
            "HOME=/root"
        ])
    );
    // tty adds TERM; a flag can override TERM and HOSTNAME and HOME.
    assert_eq!(
        env_of(json!(null), &[], true, None),
        sv(&[
            &format!("PATH={DEFAULT_PATH}"),
            "HOSTNAME=h",
            "TERM=xterm",
            "HOME=/root"
        ])
    );
    assert_eq!(
        env_of(
            json!(null),
            &["TERM=dumb", "HOSTNAME=x", "HOME=/h"],
            true,
            None
        ),
        sv(&[
            &format!("PATH={DEFAULT_PATH}"),
            "HOSTNAME=x",
            "TERM=dumb",
            "HOME=/h"
        ])
    );
    // Image HOME wins over passwd.
    assert_eq!(
        env_of(json!(["HOME=/img"]), &[], false, None)
            .last()
            .unwrap(),
        "HOME=/img"
    );
    // HOME from passwd for the user; / for an unknown uid.
    assert_eq!(
        env_of(json!(null), &[], false, Some("app")).last().unwrap(),
        "HOME=/home/app"
    );
    assert_eq!(
        env_of(json!(null), &[], false, Some("4242"))
            .last()
            .unwrap(),
        "HOME=/"
    );
    // A bare NAME (unset in the caller's env) removes the image's NAME.
    assert_eq!(
        env_of(json!(["A=img", "B=img"]), &["A"], false, None),
        sv(&[
            &format!("PATH={DEFAULT_PATH}"),
            "HOSTNAME=h",
            "B=img",
            "HOME=/root"
        ])
    );
    // The last of duplicate flags wins.
    assert_eq!(
        env_of(json!(null), &["A=1", "A=2"], false, None),
        sv(&[
            &format!("PATH={DEFAULT_PATH}"),
            "HOSTNAME=h",
            "A=2",
            "HOME=/root"
        ])
    );
}

#[test]
fn cwd_rules() {
    let cwd = |img: Value, w: Option<&str>| {
        let image = json!({"config": {"WorkingDir": img, "Cmd": ["sh"]}});
        let o = RunOptions {
            workdir: w.map(str::to_string),
            ..opts()
        };
        build_with(&o, &image, |_| {}).map(|s| s["process"]["cwd"].as_str().unwrap().to_string())
    };
    assert_eq!(cwd(json!(null), None).unwrap(), "/");
    assert_eq!(cwd(json!(""), None).unwrap(), "/");
    assert_eq!(cwd(json!("/app"), None).unwrap(), "/app");
    assert_eq!(cwd(json!("/app"), Some("/src/")).unwrap(), "/src");
    assert_eq!(cwd(json!(null), Some("/a/../b")).unwrap(), "/b");
    assert_eq!(
        cwd(json!(null), Some("rel")).unwrap_err().to_string(),
        "the working directory 'rel' is invalid, it needs to be an absolute path"
    );
}

#[test]
fn hostname_rules() {
    let s = build(&opts(), &busybox());
    assert_eq!(s["hostname"], "0123456789ab");
    assert!(strs(&s["process"]["env"]).contains(&"HOSTNAME=0123456789ab".to_string()));
    let s = build(
        &RunOptions {
            hostname: Some("web".into()),
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(s["hostname"], "web");
    let s = build(
        &RunOptions {
            network: NetworkMode::Host,
            ..opts()
        },
        &busybox(),
    );
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(s["hostname"], host.as_str());
}

fn caps(s: &Value, set: &str) -> Vec<String> {
    sorted(strs(&s["process"]["capabilities"][set]))
}

#[test]
fn capabilities_docker_rules() {
    let default = sorted(sv(&DEFAULT_CAPABILITIES));
    let all = sorted(sv(&ALL_CAPABILITIES));
    let with = |add: &[&str], drop: &[&str], privileged: bool| {
        let o = RunOptions {
            cap_add: sv(add),
            cap_drop: sv(drop),
            privileged,
            ..opts()
        };
        build_with(&o, &busybox(), |_| {})
    };
    let s = with(&[], &[], false).unwrap();
    for set in ["bounding", "effective", "permitted"] {
        assert_eq!(caps(&s, set), default, "{set}");
    }
    assert!(s["process"]["capabilities"].get("inheritable").is_none());
    assert!(s["process"]["capabilities"].get("ambient").is_none());

    let mut plus = default.clone();
    plus.push("CAP_NET_ADMIN".into());
    plus.push("CAP_SYS_PTRACE".into());
    let s = with(
        &["NET_ADMIN", "cap_sys_ptrace", "CAP_NET_ADMIN"],
        &[],
        false,
    )
    .unwrap();
    assert_eq!(caps(&s, "bounding"), sorted(plus));

    let s = with(&[], &["CHOWN", "cap_kill"], false).unwrap();
    let minus: Vec<String> = default
        .iter()
        .filter(|c| *c != "CAP_CHOWN" && *c != "CAP_KILL")
        .cloned()
        .collect();
    assert_eq!(caps(&s, "effective"), minus);

    let s = with(&["NET_BIND_SERVICE"], &["ALL"], false).unwrap();
    assert_eq!(caps(&s, "bounding"), sv(&["CAP_NET_BIND_SERVICE"]));
    let s = with(&[], &["all"], false).unwrap();
    assert_eq!(caps(&s, "bounding"), Vec::<String>::new());

    let s = with(&["ALL"], &["SYS_ADMIN"], false).unwrap();
    let mut expect = all.clone();
    expect.retain(|c| c != "CAP_SYS_ADMIN");
    assert_eq!(caps(&s, "bounding"), expect);

    let s = with(&[], &["ALL"], true).unwrap();
    assert_eq!(caps(&s, "permitted"), all);

    assert_eq!(
        with(&["BOGUS"], &[], false).unwrap_err().to_string(),
        "unknown capability: \"BOGUS\""
    );
    // Non-root users get the same sets (docker ≥ 24; execve clears them).
    let s = build(
        &RunOptions {
            user: Some("app".into()),
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(caps(&s, "effective"), default);
}

#[test]
fn privileged_and_read_only() {
    let s = build(&opts(), &busybox());
    assert_eq!(strs(&s["linux"]["maskedPaths"]), sv(&MASKED_PATHS));
    assert_eq!(strs(&s["linux"]["readonlyPaths"]), sv(&READONLY_PATHS));
    assert_eq!(s["root"]["readonly"], false);

    let s = build(
        &RunOptions {
            privileged: true,
            ..opts()
        },
        &busybox(),
    );
    assert!(s["linux"].get("maskedPaths").is_none());
    assert!(s["linux"].get("readonlyPaths").is_none());
    let sys = s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == "/sys")
        .unwrap();
    assert!(!strs(&sys["options"]).contains(&"ro".to_string()));

    let s = build(
        &RunOptions {
            read_only: true,
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(s["root"]["readonly"], true);
    let hosts = s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == "/etc/hosts")
        .unwrap();
    assert_eq!(strs(&hosts["options"]), sv(&["rbind", "ro", "rprivate"]));
}

fn destinations(s: &Value) -> Vec<String> {
    s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap().to_string())
        .collect()
}

fn mount_of<'a>(s: &'a Value, dst: &str) -> &'a Value {
    s["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == dst)
        .unwrap()
}

#[test]
fn mounts_docker_order() {
    let o = RunOptions {
        binds: vec![
            BindMount {
                source: "/h/deep".into(),
                destination: "/a/b/c".into(),
                read_only: true,
                propagation: None,
            },
            BindMount {
                source: "/h/src".into(),
                destination: "/src".into(),
                read_only: false,
                propagation: Some("rslave".into()),
            },
        ],
        tmpfs: vec![TmpfsMount {
            destination: "/run".into(),
            options: sv(&["size=64m", "exec"]),
        }],
        shm_size: Some(1 << 20),
        ..opts()
    };
    let s = build(&o, &busybox());
    assert_eq!(
        destinations(&s),
        sv(&[
            "/proc",
            "/dev",
            "/dev/pts",
            "/sys",
            "/dev/mqueue",
            "/dev/shm",
            "/src",
            "/run",
            "/etc/resolv.conf",
            "/etc/hostname",
            "/etc/hosts",
            "/a/b/c",
        ])
    );
    assert_eq!(
        strs(&mount_of(&s, "/src")["options"]),
        sv(&["rbind", "rslave"])
    );
    assert_eq!(
        strs(&mount_of(&s, "/a/b/c")["options"]),
        sv(&["rbind", "ro", "rprivate"])
    );
    assert_eq!(mount_of(&s, "/a/b/c")["source"], "/h/deep");
    assert_eq!(
        strs(&mount_of(&s, "/run")["options"]),
        sv(&["nosuid", "nodev", "rprivate", "size=64m", "exec"])
    );
    assert_eq!(
        strs(&mount_of(&s, "/dev/shm")["options"]),
        sv(&["nosuid", "noexec", "nodev", "mode=1777", "size=1048576"])
    );
    assert_eq!(mount_of(&s, "/etc/hosts")["source"], "/run/c/hosts");
}

#[test]
fn user_mounts_replace_defaults() {
    // A user /dev/shm replaces docker's; a user /etc/hosts replaces the
    // generated one; a user /dev drops every default under /dev.
    let o = RunOptions {
        binds: vec![BindMount {
            source: "/h/hosts".into(),
            destination: "/etc/hosts".into(),
            read_only: true,
            propagation: None,
        }],
        tmpfs: vec![TmpfsMount {
            destination: "/dev/shm".into(),
            options: vec![],
        }],
        ..opts()
    };
    let s = build(&o, &busybox());
    let d = destinations(&s);
    assert_eq!(d.iter().filter(|x| *x == "/dev/shm").count(), 1);
    assert_eq!(mount_of(&s, "/dev/shm")["source"], "tmpfs");
    assert_eq!(mount_of(&s, "/etc/hosts")["source"], "/h/hosts");

    let o = RunOptions {
        tmpfs: vec![TmpfsMount {
            destination: "/dev".into(),
            options: vec![],
        }],
        ..opts()
    };
    let d = destinations(&build(&o, &busybox()));
    assert!(!d.iter().any(|x| x.starts_with("/dev/")), "{d:?}");
}

#[test]
fn init_wraps_the_command() {
    let o = RunOptions {
        init: true,
        ..opts()
    };
    let s = build_with(&o, &busybox(), |i| {
        i.etc_files.init = Some("/usr/libexec/berth-init".into())
    })
    .unwrap();
    assert_eq!(
        strs(&s["process"]["args"]),
        sv(&["/sbin/docker-init", "--", "sh"])
    );
    let m = mount_of(&s, "/sbin/docker-init");
    assert_eq!(m["source"], "/usr/libexec/berth-init");
    assert_eq!(strs(&m["options"]), sv(&["bind", "ro"]));
    assert!(matches!(
        build_with(&o, &busybox(), |_| {}),
        Err(SpecError::Unsupported(_))
    ));
}

#[test]
fn namespaces_and_network() {
    let types = |s: &Value| -> Vec<String> {
        s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect()
    };
    let s = build(&opts(), &busybox());
    assert_eq!(types(&s), sv(&["mount", "network", "uts", "pid", "ipc"]));
    assert!(s["linux"].get("uidMappings").is_none());
    assert_eq!(
        s["linux"]["sysctl"]["net.ipv4.ip_unprivileged_port_start"],
        "0"
    );
    assert_eq!(
        s["linux"]["sysctl"]["net.ipv4.ping_group_range"],
        "0 2147483647"
    );

    let s = build(
        &RunOptions {
            network: NetworkMode::Host,
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(types(&s), sv(&["mount", "uts", "pid", "ipc"]));
    assert!(s["linux"]["sysctl"].as_object().unwrap().is_empty());
    assert_eq!(mount_of(&s, "/sys")["type"], "sysfs");

    let mapping = IdMapping {
        uids: vec![
            IdRange {
                container: 0,
                host: 1000,
                size: 1,
            },
            IdRange {
                container: 1,
                host: 100000,
                size: 65536,
            },
        ],
        gids: vec![
            IdRange {
                container: 0,
                host: 1000,
                size: 1,
            },
            IdRange {
                container: 1,
                host: 100000,
                size: 65536,
            },
        ],
    };
    let rootless = |o: &RunOptions| {
        build_with(o, &busybox(), |i| {
            i.rootless = true;
            i.id_mapping = Some(&mapping);
        })
    };
    let s = rootless(&opts()).unwrap();
    assert_eq!(
        types(&s),
        sv(&["mount", "network", "uts", "pid", "ipc", "user"])
    );
    assert_eq!(
        s["linux"]["uidMappings"],
        json!([{"hostID": 1000, "containerID": 0, "size": 1}, {"hostID": 100000, "containerID": 1, "size": 65536}])
    );
    assert!(
        s["linux"]["sysctl"]
            .get("net.ipv4.ping_group_range")
            .is_none()
    );
    // Rootless + host network: sysfs can't be mounted, the host's is bound.
    let s = rootless(&RunOptions {
        network: NetworkMode::Host,
        ..opts()
    })
    .unwrap();
    assert_eq!(mount_of(&s, "/sys")["type"], "bind");
    assert_eq!(
        strs(&mount_of(&s, "/sys")["options"]),
        sv(&["rbind", "nosuid", "noexec", "nodev", "ro"])
    );
}

#[test]
fn users_in_the_spec() {
    let user = |u: Option<&str>, image_user: &str, add: &[&str]| {
        let image = json!({"config": {"Cmd": ["sh"], "User": image_user}});
        let o = RunOptions {
            user: u.map(str::to_string),
            group_add: sv(add),
            ..opts()
        };
        build_with(&o, &image, |_| {}).map(|s| s["process"]["user"].clone())
    };
    assert_eq!(
        user(None, "", &[]).unwrap(),
        json!({"uid": 0, "gid": 0, "additionalGids": [0, 10]})
    );
    assert_eq!(
        user(None, "app", &[]).unwrap(),
        json!({"uid": 1000, "gid": 1000, "additionalGids": [1000, 29]})
    );
    assert_eq!(
        user(Some("0"), "app", &[]).unwrap(),
        json!({"uid": 0, "gid": 0, "additionalGids": [0, 10]})
    );
    assert_eq!(
        user(Some("4242:4242"), "", &["audio", "77"]).unwrap(),
        json!({"uid": 4242, "gid": 4242, "additionalGids": [4242, 29, 77]})
    );
    assert_eq!(
        user(Some("x"), "", &[]).unwrap_err().to_string(),
        "unable to find user x: no matching entries in passwd file"
    );

    // Rootless, single mapping: root works (wheel dropped), others don't
    // (the caller is 1234: `app` is not the caller's own uid).
    let single = IdMapping {
        uids: vec![IdRange {
            container: 0,
            host: 1234,
            size: 1,
        }],
        gids: vec![IdRange {
            container: 0,
            host: 1234,
            size: 1,
        }],
    };
    let with_single = |u: &str| {
        let o = RunOptions {
            user: Some(u.into()),
            ..opts()
        };
        build_with(&o, &busybox(), |i| {
            i.rootless = true;
            i.id_mapping = Some(&single);
        })
    };
    let s = with_single("root").unwrap();
    assert_eq!(s["process"]["user"]["additionalGids"], json!([0]));
    // devpts can't name gid 5 in this namespace.
    assert!(!strs(&mount_of(&s, "/dev/pts")["options"]).contains(&"gid=5".to_string()));
    let e = with_single("app").unwrap_err().to_string();
    assert!(
        e.starts_with("uid 1000 is not mapped in the rootless user namespace (mapped: 0)"),
        "{e}"
    );
    assert!(e.contains("/etc/subuid"), "{e}");
}

#[test]
fn rlimits_clamped_and_checked() {
    let rl = |ulimits: &[&str], hard: u64| {
        let o = RunOptions {
            ulimits: sv(ulimits),
            ..opts()
        };
        build_with(&o, &busybox(), |i| {
            i.hard_limits = Limits::unlimited().with(Resource::Nofile, hard)
        })
        .map(|s| s["process"]["rlimits"].clone())
    };
    assert_eq!(
        rl(&[], 20000).unwrap(),
        json!([{"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}])
    );
    assert_eq!(
        rl(&[], u64::MAX).unwrap(),
        json!([{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576}])
    );
    assert_eq!(
        rl(&["nofile=1024:2048", "nproc=50"], 20000).unwrap(),
        json!([
            {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024},
            {"type": "RLIMIT_NPROC", "hard": 50, "soft": 50}
        ])
    );
    let e = rl(&["nofile=30000"], 20000).unwrap_err();
    assert!(matches!(
        e,
        SpecError::UlimitAboveHard {
            name: "nofile",
            max: 20000,
            ..
        }
    ));
    assert!(
        e.to_string()
            .starts_with("--ulimit nofile=30000:30000: berth's own hard limit for nofile is 20000"),
        "{e}"
    );
    assert!(rl(&["nofile=20000"], 20000).is_ok());
    assert!(rl(&["bogus=1"], 20000).is_err());
}

#[test]
fn security_options() {
    let s = build(&opts(), &busybox());
    assert!(s["process"].get("noNewPrivileges").is_none());
    assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(s["linux"]["seccomp"]["defaultErrnoRet"], 1);
    let s = build(
        &RunOptions {
            privileged: true,
            ..opts()
        },
        &busybox(),
    );
    assert!(s["linux"].get("seccomp").is_none());
    let s = build(
        &RunOptions {
            security_opt: sv(&["no-new-privileges"]),
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(s["process"]["noNewPrivileges"], true);
    let s = build(
        &RunOptions {
            security_opt: sv(&["seccomp=unconfined"]),
            ..opts()
        },
        &busybox(),
    );
    assert!(s["linux"].get("seccomp").is_none());
    let e = build_with(
        &RunOptions {
            security_opt: sv(&["seccomp=/p.json"]),
            ..opts()
        },
        &busybox(),
        |_| {},
    );
    let e = e.unwrap_err().to_string();
    assert!(
        e.starts_with("opening seccomp profile (/p.json) failed"),
        "{e}"
    );
    assert!(
        build_with(
            &RunOptions {
                security_opt: sv(&["bogus"]),
                ..opts()
            },
            &busybox(),
            |_| {}
        )
        .is_err()
    );
}

#[test]
fn tty_sets_terminal() {
    let s = build(
        &RunOptions {
            tty: true,
            interactive: true,
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(s["process"]["terminal"], true);
    let s = build(&opts(), &busybox());
    assert_eq!(s["process"]["terminal"], false);
}

#[test]
fn spec_round_trips_through_json() {
    let s = build(&opts(), &busybox());
    let back: oci_spec::runtime::Spec = serde_json::from_value(s.clone()).unwrap();
    assert_eq!(normalize(serde_json::to_value(back).unwrap()), normalize(s));
}

proptest::proptest! {
    #[test]
    fn build_spec_never_panics(
        user in proptest::option::of(".{0,12}"),
        workdir in proptest::option::of(".{0,12}"),
        entry in proptest::option::of(".{0,8}"),
        env in proptest::collection::vec(".{0,10}", 0..4),
        caps in proptest::collection::vec("[a-zA-Z_]{0,12}", 0..3),
        ulimits in proptest::collection::vec(".{0,14}", 0..2),
        id in "[0-9a-f]{0,64}",
    ) {
        let o = RunOptions { user, workdir, entrypoint: entry, env, cap_add: caps, ulimits, ..opts() };
        let image = busybox();
        let inputs = SpecInputs {
            image_config: &image,
            rootfs_etc: &etc,
            container_id: &id,
            rootless: false,
            id_mapping: None,
            etc_files: etc_files(),
            hard_limits: Limits::current(),
        };
        let _ = build_spec(&o, &inputs);
    }
}

fn standard_mapping(own: u32) -> IdMapping {
    let ranges = vec![
        IdRange {
            container: 0,
            host: own,
            size: 1,
        },
        IdRange {
            container: 1,
            host: 100000,
            size: 65536,
        },
    ];
    IdMapping {
        uids: ranges.clone(),
        gids: ranges,
    }
}

fn rootless_with(o: &RunOptions, m: &IdMapping) -> Result<Value, SpecError> {
    build_with(o, &busybox(), |i| {
        i.rootless = true;
        i.id_mapping = Some(m);
    })
}

#[test]
fn keep_id_when_the_user_is_the_caller() {
    let m = standard_mapping(1000);
    let keep = json!([
        {"containerID": 0, "hostID": 100000, "size": 1000},
        {"containerID": 1000, "hostID": 1000, "size": 1},
        {"containerID": 1001, "hostID": 101000, "size": 64536},
    ]);
    let standard = json!([
        {"containerID": 0, "hostID": 1000, "size": 1},
        {"containerID": 1, "hostID": 100000, "size": 65536},
    ]);
    // `-u "$(id -u):$(id -g)"`, numeric or by name: the caller keeps its ids.
    for u in ["1000:1000", "1000", "app"] {
        let s = rootless_with(
            &RunOptions {
                user: Some(u.into()),
                ..opts()
            },
            &m,
        )
        .unwrap();
        assert_eq!(s["linux"]["uidMappings"], keep, "{u}");
        assert_eq!(s["linux"]["gidMappings"], keep, "{u}");
        assert_eq!(s["process"]["user"]["uid"], 1000);
    }
    // Another user, or the image's USER equal to the caller's uid: standard.
    for (u, image_user) in [("0", ""), ("4242", ""), ("", "app")] {
        let image = json!({"config": {"Cmd": ["sh"], "User": image_user}});
        let o = RunOptions {
            user: Some(u.into()).filter(|u: &String| !u.is_empty()),
            ..opts()
        };
        let s = build_with(&o, &image, |i| {
            i.rootless = true;
            i.id_mapping = Some(&m);
        })
        .unwrap();
        assert_eq!(s["linux"]["uidMappings"], standard, "{u} {image_user}");
    }
    // Explicit --userns=keep-id: runs as the caller unless -u says otherwise.
    let s = rootless_with(
        &RunOptions {
            userns: Some("keep-id".into()),
            ..opts()
        },
        &m,
    )
    .unwrap();
    assert_eq!(s["linux"]["uidMappings"], keep);
    assert_eq!(s["process"]["user"]["uid"], 1000);
    assert_eq!(s["process"]["user"]["gid"], 1000);
    let s = rootless_with(
        &RunOptions {
            userns: Some("keep-id".into()),
            user: Some("0".into()),
            ..opts()
        },
        &m,
    )
    .unwrap();
    assert_eq!(s["linux"]["uidMappings"], keep);
    assert_eq!(s["process"]["user"]["uid"], 0);
    // keep-id:uid=…,gid=…: the caller appears as those ids.
    let s = rootless_with(
        &RunOptions {
            userns: Some("keep-id:uid=5,gid=6".into()),
            ..opts()
        },
        &m,
    )
    .unwrap();
    assert_eq!(
        s["linux"]["uidMappings"],
        json!([
            {"containerID": 0, "hostID": 100000, "size": 5},
            {"containerID": 5, "hostID": 1000, "size": 1},
            {"containerID": 6, "hostID": 100005, "size": 65531},
        ])
    );
    assert_eq!(s["process"]["user"]["uid"], 5);
    assert_eq!(s["process"]["user"]["gid"], 6);
    // `host` and "" are the default; other values are refused.
    for v in ["", "host"] {
        let s = rootless_with(
            &RunOptions {
                userns: Some(v.into()),
                ..opts()
            },
            &m,
        )
        .unwrap();
        assert_eq!(s["linux"]["uidMappings"], standard);
    }
    assert!(
        rootless_with(
            &RunOptions {
                userns: Some("private".into()),
                ..opts()
            },
            &m,
        )
        .is_err()
    );
    // As root: nothing to keep, no mappings.
    let s = build(
        &RunOptions {
            userns: Some("keep-id".into()),
            ..opts()
        },
        &busybox(),
    );
    assert!(s["linux"].get("uidMappings").is_none());
    assert_eq!(s["process"]["user"]["uid"], 0);
    // Single-id fallback + the caller's own uid: only it is mapped.
    let one = vec![IdRange {
        container: 0,
        host: 1000,
        size: 1,
    }];
    let single = IdMapping {
        uids: one.clone(),
        gids: one,
    };
    let s = rootless_with(
        &RunOptions {
            user: Some("1000:1000".into()),
            ..opts()
        },
        &single,
    )
    .unwrap();
    assert_eq!(
        s["linux"]["uidMappings"],
        json!([{"containerID": 1000, "hostID": 1000, "size": 1}])
    );
}

#[test]
fn sig_proxy_annotation() {
    let s = build(&opts(), &busybox());
    assert!(
        s.get("annotations")
            .is_none_or(|a| a.get(SIG_PROXY_ANNOTATION).is_none())
    );
    let s = build(
        &RunOptions {
            no_sig_proxy: true,
            ..opts()
        },
        &busybox(),
    );
    assert_eq!(s["annotations"][SIG_PROXY_ANNOTATION], "false");
}

#[test]
fn seccomp_profile_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("p.json");
    std::fs::write(
        &good,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#,
    )
    .unwrap();
    let with = |path: &std::path::Path, privileged: bool| {
        build_with(
            &RunOptions {
                security_opt: vec![format!("seccomp={}", path.display())],
                privileged,
                ..opts()
            },
            &busybox(),
            |_| {},
        )
    };
    let s = with(&good, false).unwrap();
    assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
    assert_eq!(
        s["linux"]["seccomp"]["syscalls"][0]["names"],
        json!(["mkdir", "mkdirat"])
    );
    // docker: --privileged means no seccomp at all.
    assert!(with(&good, true).unwrap()["linux"].get("seccomp").is_none());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"defaultAction\": \"SCMP_ACT_MAYBE\"}").unwrap();
    let e = with(&bad, false).unwrap_err().to_string();
    assert!(
        e.contains(&bad.display().to_string()) && e.contains("SCMP_ACT_MAYBE"),
        "{e}"
    );
}

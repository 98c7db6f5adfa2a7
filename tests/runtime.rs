//! berth's own runtime through `berth internal run-plan PLAN.json`, as root
//! and rootless: busybox pulled from a test registry, a plan built here
//! (layers from the store, upper/work/merged in the env's scratch dir).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::IdMap;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, PushedImage};
use support::registry::{Registry, RegistryAuth};

const DOCKER_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];
/// /proc/self/status CapEff of a root process with docker's default set.
const DOCKER_CAPEFF: &str = "00000000a80425fb";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An image pulled into an env, ready to make plans from.
struct Bed<'a> {
    env: &'a TestEnv,
    /// Layer diff dirs, top first.
    lower: Vec<PathBuf>,
    count: std::cell::Cell<u32>,
}

impl<'a> Bed<'a> {
    fn new(env: &'a TestEnv, img: &PushedImage) -> Bed<'a> {
        let out = env
            .berth_cmd(["pull", "-q", &img.reference()])
            .output()
            .unwrap();
        assert!(out.status.success(), "pull: {}", text(&out.stderr));
        let lower = img
            .diff_ids
            .iter()
            .rev()
            .map(|d| {
                env.data_dir()
                    .join("storage/layers")
                    .join(d.strip_prefix("sha256:").unwrap())
                    .join("diff")
            })
            .collect();
        Bed {
            env,
            lower,
            count: 0.into(),
        }
    }

    /// docker's default spec for `args` (network none: a netns of its own).
    fn spec(&self, args: &[&str]) -> Value {
        let mut ns: Vec<Value> = ["pid", "network", "ipc", "uts", "mount"]
            .iter()
            .map(|t| json!({ "type": t }))
            .collect();
        let mut linux = json!({
            "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        });
        if let IdMap::Rootless {
            uid,
            gid,
            subuid,
            subgid,
            count,
        } = self.env.id_map()
        {
            ns.push(json!({ "type": "user" }));
            let map = |own: u32, sub: u32| {
                json!([
                    { "containerID": 0, "hostID": own, "size": 1 },
                    { "containerID": 1, "hostID": sub, "size": count },
                ])
            };
            linux["uidMappings"] = map(uid, subuid);
            linux["gidMappings"] = map(gid, subgid);
        }
        linux["namespaces"] = Value::Array(ns);
        json!({
            "ociVersion": "1.0.2",
            "process": {
                "terminal": false,
                "user": { "uid": 0, "gid": 0 },
                "args": args,
                "env": [fixtures::DEFAULT_PATH, "HOSTNAME=box"],
                "cwd": "/",
                "capabilities": {
                    "bounding": DOCKER_CAPS, "effective": DOCKER_CAPS, "permitted": DOCKER_CAPS,
                },
                "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1048576u64, "soft": 1048576u64 }],
            },
            "root": { "path": "rootfs", "readonly": false },
            "hostname": "box",
            "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc",
                  "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                  "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                  "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
                { "destination": "/sys", "type": "sysfs", "source": "sysfs",
                  "options": ["nosuid", "noexec", "nodev", "ro"] },
                { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                  "options": ["ro", "nosuid", "noexec", "nodev"] },
                { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                  "options": ["nosuid", "noexec", "nodev"] },
                { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                  "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"] },
            ],
            "linux": linux,
        })
    }

    /// Writes a plan for `spec` with fresh upper/work/merged dirs; returns
    /// (plan path, upper dir).
    fn plan(&self, spec: Value) -> (PathBuf, PathBuf) {
        let n = self.count.get();
        self.count.set(n + 1);
        let dir = self.env.scratch_dir(&format!("ctr{n}"));
        let [upper, work, merged] =
            ["upper", "work", "merged"].map(|d| self.env.scratch_dir(&format!("ctr{n}/{d}")));
        let plan = json!({
            "spec": spec,
            "rootfs": { "lower": self.lower, "upper": upper, "work": work, "merged": merged },
        });
        let path = dir.join("plan.json");
        self.env
            .write_file_owned(&path, plan.to_string().as_bytes(), 0o644);
        (path, upper)
    }

    fn run_spec(&self, spec: Value) -> Output {
        let (plan, _) = self.plan(spec);
        self.run_plan(&plan)
    }

    fn run_plan(&self, plan: &Path) -> Output {
        self.env
            .berth_cmd(["internal".as_ref(), "run-plan".as_ref(), plan.as_os_str()])
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_spec(self.spec(args))
    }

    /// Runs `args`, asserts exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: stdout {:?} stderr {:?}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

fn busybox(reg: &Registry) -> PushedImage {
    fixtures::push_busybox(reg, "library/busybox", "latest")
}

#[test]
fn exit_codes_and_stdio() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        let bed = Bed::new(env, &img);
        let code = |args: &[&str]| bed.run(args).status.code();
        assert_eq!(code(&["true"]), Some(0));
        assert_eq!(code(&["sh", "-c", "exit 3"]), Some(3));
        let out = bed.run(&["/etc/passwd"]);
        assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("permission denied"),
            "{}",
            text(&out.stderr)
        );
        let out = bed.run(&["no-such-command"]);
        assert_eq!(out.status.code(), Some(127));
        assert!(
            text(&out.stderr).contains("executable file not found in $PATH"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(code(&["/no/such/file"]), Some(127));
        // stdout and stderr stay separate.
        let out = bed.run(&["sh", "-c", "echo out; echo err >&2"]);
        assert_eq!(text(&out.stdout), "out\n");
        assert_eq!(text(&out.stderr), "err\n");
        // stdin is the caller's.
        let (plan, _) = bed.plan(bed.spec(&["sh", "-c", "tr a-z A-Z"]));
        let mut child = env
            .berth_std()
            .args(["internal".as_ref(), "run-plan".as_ref(), plan.as_os_str()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(text(&out.stdout), "HELLO\n");
        // A setup error is berth's (125) and says what failed.
        let mut spec = bed.spec(&["true"]);
        spec["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/data", "type": "bind", "source": "/no/such/source", "options": ["rbind"],
        }));
        let out = bed.run_spec(spec);
        assert_eq!(out.status.code(), Some(125));
        assert!(
            text(&out.stderr).contains("/no/such/source"),
            "{}",
            text(&out.stderr)
        );
    });
}

/// The host pid of the container (the only child of berth).
fn container_pid(berth_pid: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{berth_pid}/task/{berth_pid}/children"))
                .unwrap_or_default();
        if let Some(p) = children.split_whitespace().next() {
            return p.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "no container process");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn signals_are_forwarded_and_reported() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        let bed = Bed::new(env, &img);
        let spawn = |args: &[&str]| {
            let (plan, _) = bed.plan(bed.spec(args));
            let mut child = env
                .berth_std()
                .args(["internal".as_ref(), "run-plan".as_ref(), plan.as_os_str()])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line, "ready\n");
            child
        };
        // Forwarded: SIGTERM sent to berth reaches the container's trap.
        let child = spawn(&[
            "sh",
            "-c",
            "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ]);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(42));
        // Death by a signal: 128+N. (PID 1 ignores signals it has no handler
        // for when they come from inside its namespace, so `kill -9 $$`
        // inside would do nothing, as in docker: kill it from the host.)
        let child = spawn(&["sh", "-c", "echo ready; exec sleep 60"]);
        let ctr = container_pid(child.id());
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(ctr as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(137));
    });
}

#[test]
fn namespaces_identity_and_capabilities() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        let bed = Bed::new(env, &img);
        assert_eq!(bed.ok(&["hostname"]), "box\n");
        assert_eq!(bed.ok(&["id", "-u"]), "0\n");
        let mut spec = bed.spec(&["sh", "-c", "id -u; id -g; id -G"]);
        spec["process"]["user"] = json!({ "uid": 1000, "gid": 1000, "additionalGids": [65534] });
        let out = bed.run_spec(spec);
        assert_eq!(
            text(&out.stdout),
            "1000\n1000\n1000 65534\n",
            "{}",
            text(&out.stderr)
        );
        let status = bed.ok(&["cat", "/proc/self/status"]);
        assert!(
            status.contains(&format!("CapEff:\t{DOCKER_CAPEFF}")),
            "{status}"
        );
        assert!(
            status.contains(&format!("CapBnd:\t{DOCKER_CAPEFF}")),
            "{status}"
        );
        // A non-root user has no effective capabilities, as in docker.
        let mut spec = bed.spec(&["cat", "/proc/self/status"]);
        spec["process"]["user"] = json!({ "uid": 1000, "gid": 1000 });
        let out = bed.run_spec(spec);
        assert!(
            text(&out.stdout).contains("CapEff:\t0000000000000000"),
            "{} {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        // PID 1 is the container's command.
        assert_eq!(
            bed.ok(&["cat", "/proc/1/cmdline"]),
            "cat\0/proc/1/cmdline\0"
        );
        assert_eq!(bed.ok(&["sh", "-c", "echo $$"]), "1\n");
        let devs = bed.ok(&["ls", "/dev"]);
        for d in [
            "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "ptmx", "fd",
            "stdin", "stdout", "stderr",
        ] {
            assert!(devs.lines().any(|l| l == d), "/dev lacks {d}: {devs}");
        }
        assert_eq!(
            bed.ok(&[
                "sh",
                "-c",
                "echo hi > /dev/null && head -c 3 /dev/zero | wc -c"
            ]),
            "3\n"
        );
        // network none: only lo, and it is up.
        assert_eq!(bed.ok(&["ls", "/sys/class/net"]), "lo\n");
        assert!(bed.ok(&["ip", "link"]).contains("lo: <LOOPBACK,UP"));
        // Host network (no netns): the host's interfaces.
        let mut spec = bed.spec(&["ls", "/sys/class/net"]);
        spec["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "network");
        let out = bed.run_spec(spec);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).lines().count() > 1,
            "{}",
            text(&out.stdout)
        );
        // Masked and read-only paths, rlimit clamped to the hard limit we have.
        // (/proc/keys is a file with content on the host, /sys/firmware a dir.)
        assert_eq!(
            bed.ok(&[
                "sh",
                "-c",
                "wc -c < /proc/keys; ls -A /sys/firmware | wc -l"
            ]),
            "0\n0\n"
        );
        let out = bed.run(&["sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid"]);
        assert_ne!(out.status.code(), Some(0));
        let nofile = bed.ok(&["sh", "-c", "ulimit -n"]);
        assert!(nofile.trim().parse::<u64>().unwrap() > 1024, "{nofile}");
    });
}

#[test]
fn rootfs_writes_and_bind_mounts() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        let bed = Bed::new(env, &img);
        // A write lands in the upper dir, never in a layer.
        let (plan, upper) = bed.plan(bed.spec(&["sh", "-c", "echo data > /etc/new-file"]));
        let out = bed.run_plan(&plan);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(
            std::fs::read_to_string(upper.join("etc/new-file")).unwrap(),
            "data\n"
        );
        for l in &bed.lower {
            assert!(!l.join("etc/new-file").exists());
        }
        // -v style binds: rw and ro, destinations created as needed.
        let host_rw = env.scratch_dir("vol-rw");
        let host_ro = env.scratch_dir("vol-ro");
        env.write_file_owned(&host_ro.join("f"), b"ro-data\n", 0o644);
        let bind = |src: &Path, dst: &str, ro: bool| {
            let mut opts = vec!["rbind", "rprivate"];
            if ro {
                opts.push("ro");
            }
            json!({ "destination": dst, "type": "bind", "source": src, "options": opts })
        };
        let mut spec = bed.spec(&[
            "sh",
            "-c",
            "echo w > /mnt/rw/file && cat /deep/ro/f && ! touch /deep/ro/g 2>/dev/null && cat /ro-file",
        ]);
        let mounts = spec["mounts"].as_array_mut().unwrap();
        mounts.push(bind(&host_rw, "/mnt/rw", false));
        mounts.push(bind(&host_ro, "/deep/ro", true));
        mounts.push(bind(&host_ro.join("f"), "/ro-file", true));
        let out = bed.run_spec(spec);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "ro-data\nro-data\n");
        assert_eq!(
            std::fs::read_to_string(host_rw.join("file")).unwrap(),
            "w\n"
        );
        assert!(!host_ro.join("g").exists());
        // Read-only root; tmpfs mounts; a missing working directory is created.
        let mut spec = bed.spec(&[
            "sh",
            "-c",
            "pwd; ! touch /x 2>/dev/null && touch /tmp/ok && touch /dev/shm/ok",
        ]);
        spec["root"]["readonly"] = json!(true);
        spec["process"]["cwd"] = json!("/work/dir");
        spec["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777"],
        }));
        let out = bed.run_spec(spec);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "/work/dir\n");
    });
}

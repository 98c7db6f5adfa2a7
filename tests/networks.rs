//! User-defined networks, root and rootless: `network create/ls/inspect/rm/
//! prune/connect/disconnect` in docker's shapes, containers reaching each
//! other by name and alias through berth's DNS, `network connect` of a
//! running container, `--internal`, the address rules, and the holder going
//! away with the last container. Traffic stays inside the test's own
//! network namespaces (rootless: the holder's; root: bridges on a subnet the
//! test picks) and the host's loopback.

mod support;

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

/// A subnet no other test run on this machine uses at the same time: root
/// bridges live in the host's namespace.
fn subnet(n: u8) -> String {
    let pid = std::process::id();
    format!(
        "10.{}.{}.0/24",
        100 + (pid % 50) as u8,
        n.wrapping_add((pid / 50 % 200) as u8)
    )
}

/// A server container answering every TCP connection on 7000 with `reply`.
fn server(env: &TestEnv, img: &str, name: &str, network: &str, extra: &[&str], reply: &str) {
    let script = format!("while true; do echo {reply} | nc -l -p 7000; done");
    let mut args = vec!["run", "-d", "--name", name, "--network", network];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[img, "sh", "-c", &script]);
    stdout(env, &args);
}

/// Runs a client container on `network` that connects to `target:7000`,
/// retrying until the server listens; its output.
fn client(env: &TestEnv, img: &str, network: &str, target: &str) -> String {
    let script = format!(
        "for i in $(seq 50); do out=$(nc -w 2 {target} 7000 </dev/null) && [ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.2; done; exit 1"
    );
    stdout(
        env,
        &[
            "run",
            "--rm",
            "--network",
            network,
            img,
            "sh",
            "-c",
            &script,
        ],
    )
}

#[test]
fn containers_reach_each_other_by_name_and_alias() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        let id = stdout(
            env,
            &["network", "create", "--subnet", &subnet(1), "appnet"],
        );
        assert_eq!(id.trim().len(), 64, "network create prints the id: {id}");
        server(
            env,
            &img,
            "db",
            "appnet",
            &["--network-alias", "database"],
            "hello-db",
        );
        assert_eq!(client(env, &img, "appnet", "db").trim(), "hello-db");
        assert_eq!(client(env, &img, "appnet", "database").trim(), "hello-db");
        // nslookup through the network's resolver, as a script would.
        let lookup = stdout(
            env,
            &["run", "--rm", "--network", "appnet", &img, "nslookup", "db"],
        );
        let ip = stdout(
            env,
            &[
                "inspect",
                "-f",
                "{{.NetworkSettings.Networks.appnet.IPAddress}}",
                "db",
            ],
        );
        assert!(
            lookup.contains(ip.trim()),
            "nslookup db: {lookup}, inspect says {ip}"
        );
        // The default network has no name resolution (docker's rule).
        env.berth_cmd(["run", "--rm", &img, "nslookup", "db"])
            .assert()
            .failure();
        // docker's shapes.
        let inspect = stdout(
            env,
            &[
                "network",
                "inspect",
                "appnet",
                "-f",
                "{{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{range .Containers}}{{.Name}}{{end}}",
            ],
        );
        assert_eq!(inspect.trim(), format!("bridge {} db", subnet(1)));
        let ls = stdout(env, &["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
        assert!(
            ls.contains("appnet bridge")
                && ls.contains("bridge bridge")
                && ls.contains("none null"),
            "{ls}"
        );
        assert_eq!(
            stdout(env, &["ps", "--format", "{{.Names}} {{.Networks}}"]).trim(),
            "db appnet"
        );
        // In use by a running container: refused, exit 1, docker's words.
        env.berth_cmd(["network", "rm", "appnet"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("has active endpoints"));
        stdout(env, &["rm", "-f", "db"]);
        assert_eq!(stdout(env, &["network", "rm", "appnet"]).trim(), "appnet");
        env.berth_cmd(["network", "inspect", "appnet"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No such network: appnet"));
    });
}

#[test]
fn connect_and_disconnect_a_running_container() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        stdout(env, &["network", "create", "--subnet", &subnet(2), "front"]);
        stdout(env, &["network", "create", "--subnet", &subnet(3), "back"]);
        server(env, &img, "api", "front", &[], "hello-api");
        // Not on `back` yet: a client there cannot resolve it.
        env.berth_cmd(["run", "--rm", "--network", "back", &img, "nslookup", "api"])
            .assert()
            .failure();
        stdout(
            env,
            &["network", "connect", "--alias", "svc", "back", "api"],
        );
        assert_eq!(client(env, &img, "back", "svc").trim(), "hello-api");
        let nets = stdout(
            env,
            &[
                "inspect",
                "-f",
                "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                "api",
            ],
        );
        assert_eq!(nets.trim(), "back front");
        env.berth_cmd(["network", "connect", "back", "api"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("already exists"));
        stdout(env, &["network", "disconnect", "back", "api"]);
        env.berth_cmd(["run", "--rm", "--network", "back", &img, "nslookup", "svc"])
            .assert()
            .failure();
        assert_eq!(client(env, &img, "front", "api").trim(), "hello-api");
        stdout(env, &["rm", "-f", "api"]);
        // prune removes both unused networks, docker's output.
        env.berth_cmd(["network", "prune", "-f"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Deleted Networks:\nback\nfront\n"));
    });
}

/// The kind local-registry pattern: a container started on the default
/// network (rootless: pasta's) joins a user-defined network at runtime,
/// keeps its way out, and both sides find each other by name.
#[test]
fn a_container_started_on_the_default_network_joins_a_user_network() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        stdout(env, &["network", "create", "--subnet", &subnet(6), "kind"]);
        // The "registry", on the default network.
        let script = "while true; do echo from-registry | nc -l -p 7000; done";
        stdout(
            env,
            &["run", "-d", "--name", "registry", &img, "sh", "-c", script],
        );
        let route_before = stdout(env, &["exec", "registry", "ip", "route"]);
        stdout(
            env,
            &[
                "network",
                "connect",
                "--alias",
                "reg-alias",
                "kind",
                "registry",
            ],
        );
        // A node on the network reaches it by name and by alias.
        assert_eq!(
            client(env, &img, "kind", "registry").trim(),
            "from-registry"
        );
        assert_eq!(
            client(env, &img, "kind", "reg-alias").trim(),
            "from-registry"
        );
        // It keeps its default route (the default network's) and gains eth1.
        let route_after = stdout(env, &["exec", "registry", "ip", "route"]);
        let default = |r: &str| {
            r.lines()
                .find(|l| l.starts_with("default"))
                .map(String::from)
        };
        assert_eq!(
            default(&route_after),
            default(&route_before),
            "{route_after}"
        );
        let links = stdout(env, &["exec", "registry", "ip", "-o", "link"]);
        assert!(
            links.contains(" eth1:") || links.contains(" eth1@"),
            "{links}"
        );
        // It resolves the network's names now (docker's embedded DNS).
        server(env, &img, "node", "kind", &[], "from-node");
        let fetched = stdout(
            env,
            &[
                "exec",
                "registry",
                "sh",
                "-c",
                "for i in $(seq 50); do out=$(nc -w 2 node 7000 </dev/null) && [ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.2; done; exit 1",
            ],
        );
        assert_eq!(fetched.trim(), "from-node");
        let nets = stdout(
            env,
            &[
                "inspect",
                "-f",
                "{{.HostConfig.NetworkMode}}:{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                "registry",
            ],
        );
        assert_eq!(nets.trim(), "bridge:bridge kind");
        // Disconnected: its name is gone from the network, and it asks the
        // host's resolvers again.
        stdout(env, &["network", "disconnect", "kind", "registry"]);
        env.berth_cmd([
            "run",
            "--rm",
            "--network",
            "kind",
            &img,
            "nslookup",
            "registry",
        ])
        .assert()
        .failure();
        let resolv = stdout(env, &["exec", "registry", "cat", "/etc/resolv.conf"]);
        let gateway = subnet(6).replace("0/24", "1");
        assert!(!resolv.contains(&gateway), "{resolv}");
        // Connected again, after a restart too.
        stdout(env, &["network", "connect", "kind", "registry"]);
        stdout(env, &["restart", "-t", "1", "registry"]);
        assert_eq!(
            client(env, &img, "kind", "registry").trim(),
            "from-registry"
        );
        // A namespace shared with the host takes no network: docker's words.
        stdout(
            env,
            &[
                "create",
                "--name",
                "on-host",
                "--network",
                "host",
                &img,
                "true",
            ],
        );
        env.berth_cmd(["network", "connect", "kind", "on-host"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "cannot be connected to any other network",
            ));
        stdout(env, &["rm", "-f", "registry", "node", "on-host"]);
        stdout(env, &["network", "rm", "kind"]);
    });
}

/// Rootless, a container that keeps the caller's uid (`-u $(id -u)`, its
/// own id map) is connected too, and files it writes stay the caller's.
#[test]
fn a_container_with_its_own_id_map_joins_a_user_network() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        if env.uid() == 0 {
            return;
        }
        stdout(env, &["pull", "-q", &img]);
        stdout(env, &["network", "create", "--subnet", &subnet(7), "ids"]);
        server(env, &img, "peer", "ids", &[], "from-peer");
        let dir = tempfile::tempdir_in(env.home()).unwrap();
        let src = dir.path().to_str().unwrap().to_string();
        let owner = format!("{}:{}", env.uid(), env.uid());
        std::process::Command::new("chown")
            .args([&owner, &src])
            .status()
            .unwrap();
        let user = env.uid().to_string();
        let mount = format!("{src}:/src");
        stdout(
            env,
            &[
                "run", "-d", "--name", "mine", "-u", &user, "-v", &mount, &img, "sleep", "1000",
            ],
        );
        stdout(env, &["network", "connect", "ids", "mine"]);
        let out = stdout(
            env,
            &[
                "exec",
                "mine",
                "sh",
                "-c",
                "id -u; touch /src/made; for i in $(seq 50); do out=$(nc -w 2 peer 7000 </dev/null) && [ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.2; done; exit 1",
            ],
        );
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [user.as_str(), "from-peer"]
        );
        let meta = std::fs::metadata(dir.path().join("made")).unwrap();
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), env.uid());
        stdout(env, &["rm", "-f", "mine", "peer"]);
        stdout(env, &["network", "rm", "ids"]);
    });
}

#[test]
fn addresses_internal_networks_and_errors() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        let sub = subnet(4);
        stdout(
            env,
            &[
                "network",
                "create",
                "--internal",
                "--subnet",
                &sub,
                "--label",
                "team=a",
                "inner",
            ],
        );
        let prefix = sub.trim_end_matches("0/24");
        // --ip is honoured; the next container gets the lowest free address.
        let fixed = format!("{prefix}50");
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "--network",
                "inner",
                "--ip",
                &fixed,
                &img,
                "sh",
                "-c",
                "ip -4 -o addr show eth0; ip route",
            ],
        );
        assert!(out.contains(&format!("inet {fixed}/24")), "{out}");
        // Internal: no default route out.
        assert!(!out.contains("default"), "{out}");
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "--network",
                "inner",
                &img,
                "ip",
                "-4",
                "-o",
                "addr",
                "show",
                "eth0",
            ],
        );
        assert!(out.contains(&format!("inet {prefix}2/24")), "{out}");
        // Filters and formats.
        assert_eq!(
            stdout(
                env,
                &["network", "ls", "-q", "-f", "label=team=a", "--no-trunc"]
            )
            .trim()
            .len(),
            64
        );
        assert_eq!(
            stdout(
                env,
                &[
                    "network",
                    "ls",
                    "-f",
                    "type=custom",
                    "--format",
                    "{{.Name}} {{.Internal}}"
                ]
            )
            .trim(),
            "inner true"
        );
        // Errors as docker's.
        env.berth_cmd(["network", "create", "inner"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "network with name inner already exists",
            ));
        env.berth_cmd(["network", "create", "--subnet", &sub, "clash"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("overlaps"));
        env.berth_cmd(["network", "rm", "bridge"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("pre-defined network"));
        env.berth_cmd(["run", "--rm", "--network", "nosuchnet", &img, "true"])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("network nosuchnet not found"));
        stdout(env, &["network", "rm", "inner"]);
    });
}

#[test]
fn the_holder_goes_away_with_the_last_container() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        stdout(
            env,
            &["network", "create", "--subnet", &subnet(5), "tmpnet"],
        );
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "sleeper",
                "--network",
                "tmpnet",
                &img,
                "sleep",
                "1000",
            ],
        );
        // `<runtime>/netns/holder.json`: the runtime dir is XDG_RUNTIME_DIR/berth
        // rootless, BERTH_RUNROOT as root.
        let record = [
            env.run_dir().join("berth/netns/holder.json"),
            env.run_dir().join("netns/holder.json"),
        ]
        .into_iter()
        .find(|p| p.exists())
        .expect("a holder record while a container is on a user-defined network");
        stdout(env, &["rm", "-f", "sleeper"]);
        let started = Instant::now();
        while record.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the holder did not exit after the last container"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        stdout(env, &["network", "rm", "tmpnet"]);
    });
}

#[test]
fn network_container_shares_the_other_containers_namespace() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(env, &["pull", "-q", &img]);
        // A server on loopback only, in a network namespace of its own.
        stdout(
            env,
            &[
                "run",
                "-d",
                "--name",
                "lo-srv",
                "--network",
                "none",
                &img,
                "sh",
                "-c",
                "while true; do echo on-its-loopback | nc -l -p 7000; done",
            ],
        );
        let script = "for i in $(seq 50); do out=$(nc -w 2 127.0.0.1 7000 </dev/null) && [ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.2; done; exit 1";
        let out = stdout(
            env,
            &[
                "run",
                "--rm",
                "--network",
                "container:lo-srv",
                &img,
                "sh",
                "-c",
                script,
            ],
        );
        assert_eq!(out.trim(), "on-its-loopback");
        let id = stdout(env, &["inspect", "-f", "{{.Id}}", "lo-srv"]);
        let mode = stdout(
            env,
            &["create", "--network", "container:lo-srv", &img, "true"],
        );
        assert_eq!(
            stdout(
                env,
                &["inspect", "-f", "{{.HostConfig.NetworkMode}}", mode.trim()]
            )
            .trim(),
            format!("container:{}", id.trim())
        );
        env.berth_cmd([
            "run",
            "--rm",
            "--network",
            "container:lo-srv",
            "--hostname",
            "x",
            &img,
            "true",
        ])
        .assert()
        .code(125)
        .stderr(predicate::str::contains(
            "conflicting options: hostname and the network mode",
        ));
        stdout(env, &["stop", "-t", "0", "lo-srv"]);
        // docker: a daemon error, exit 1.
        env.berth_cmd(["start", mode.trim()])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("non running container"));
        stdout(env, &["rm", "-f", "lo-srv", mode.trim()]);
    });
}

#[test]
fn published_ports_on_a_user_defined_network() {
    let reg = Registry::start(RegistryAuth::None);
    let img = busybox(&reg);
    for_each_mode(|env| {
        stdout(
            env,
            &["network", "create", "--subnet", &subnet(40), "pubnet"],
        );
        server(
            env,
            &img,
            "web",
            "pubnet",
            &["-p", "127.0.0.1::7000"],
            "hello-published",
        );
        let hostport = stdout(env, &["port", "web", "7000"]);
        let port: u16 = hostport
            .trim()
            .strip_prefix("127.0.0.1:")
            .unwrap_or_else(|| panic!("{hostport}"))
            .parse()
            .unwrap();
        // A real client on the host's loopback, through the NAT rules (root)
        // or the port proxy (rootless); retried while the server's `nc`
        // is between two connections.
        let fetch = || {
            let started = Instant::now();
            loop {
                use std::io::Read;
                let mut text = String::new();
                if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let _ = s.read_to_string(&mut text);
                }
                if text.contains("hello-published") || started.elapsed() > Duration::from_secs(15) {
                    break text;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        assert_eq!(fetch(), "hello-published\n");
        // The proxy serves more than one connection.
        assert_eq!(fetch(), "hello-published\n");
        let ps = stdout(env, &["ps", "--format", "{{.Ports}}", "-f", "name=web"]);
        assert_eq!(ps, format!("127.0.0.1:{port}->7000/tcp\n"));
        stdout(env, &["rm", "-f", "web"]);
        // The port is free again, and nothing forwards it any more.
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("the host port is released");
        stdout(env, &["network", "rm", "pubnet"]);
    });
}

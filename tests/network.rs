//! Networking, root and rootless: the default network (pasta rootless,
//! the `berth0` bridge as root), reaching the host through
//! `host.containers.internal`, published ports reached with a real client,
//! `--add-host`/`--dns`, and the helper's lifetime. Only loopback traffic,
//! and traffic to the test's own containers.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::berth::{Mode, TestEnv, for_each_mode};
use support::fixtures::{self, ImageConfig};
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

/// A one-shot HTTP server on the host's address `ip`: answers one request
/// with `body`. Returns its port.
fn http_once(ip: &str, body: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, t)
}

/// GET / on 127.0.0.1:port, retried while the server comes up.
fn http_get(port: u16) -> String {
    let started = Instant::now();
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        })();
        match attempt {
            Ok(t) if t.contains("200") => return t,
            other if started.elapsed() > Duration::from_secs(15) => {
                panic!("no answer on 127.0.0.1:{port}: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Pids of processes whose command line is `pasta … PID` (the container's helper).
fn pasta_for(container_pid: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        if args.first().is_some_and(|a| a.ends_with(b"pasta"))
            && args.last() == Some(&container_pid.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

#[test]
fn the_hosts_loopback_is_reachable_through_host_containers_internal() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // Rootless: pasta maps its gateway to the host's loopback. Root: the
        // host is the bridge's gateway, and (as with docker) a server must
        // listen there, not on 127.0.0.1; the first run made the bridge.
        env.berth_cmd(["run", "--rm", &image, "true"])
            .assert()
            .success();
        let server_ip = match env.mode() {
            Mode::Rootless => "127.0.0.1",
            Mode::Root => "172.17.0.1",
        };
        let (port, server) = http_once(server_ip, "hello from the host");
        let target = format!("http://host.containers.internal:{port}/");
        let out = stdout(
            env,
            &["run", "--rm", &image, "wget", "-q", "-O", "-", &target],
        );
        assert_eq!(out, "hello from the host");
        server.join().unwrap();
        {
            // Its own namespace: lo, its interface and a default route.
            let out = stdout(env, &["run", "--rm", &image, "ip", "route"]);
            assert!(out.contains("default via"), "{out}");
            let hosts = stdout(env, &["run", "--rm", &image, "cat", "/etc/hosts"]);
            assert!(hosts.contains("\thost.containers.internal\n"), "{hosts}");
            assert!(hosts.contains("\thost.docker.internal\n"), "{hosts}");
            // Same network as `--network bridge`; none and host still work.
            env.berth_cmd(["run", "--rm", "--network", "bridge", &image, "true"])
                .assert()
                .success();
            let out = stdout(
                env,
                &[
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    &image,
                    "ls",
                    "/sys/class/net",
                ],
            );
            assert_eq!(out, "lo\n");
            let inspect = stdout(env, &["create", "--network", "bridge", &image]);
            let id = inspect.trim();
            let mode = stdout(env, &["inspect", "-f", "{{.HostConfig.NetworkMode}}", id]);
            assert_eq!(mode, "bridge\n");
            env.berth_cmd(["rm", id]).assert().success();
        }
        if env.mode() == Mode::Root {
            // docker's default bridge: 172.17.0.0/16 on its own bridge, the
            // address where scripts read it, unique among running containers.
            let a = stdout(env, &["run", "-d", &image, "sleep", "60"]);
            let b = stdout(env, &["run", "-d", &image, "sleep", "60"]);
            let ip_of = |id: &str| {
                stdout(
                    env,
                    &["inspect", "-f", "{{.NetworkSettings.IPAddress}}", id.trim()],
                )
                .trim()
                .to_string()
            };
            let (ip_a, ip_b) = (ip_of(&a), ip_of(&b));
            assert!(
                ip_a.starts_with("172.17.") && ip_b.starts_with("172.17."),
                "{ip_a} {ip_b}"
            );
            assert_ne!(ip_a, ip_b);
            let inside = stdout(
                env,
                &["exec", a.trim(), "ip", "-4", "-o", "addr", "show", "eth0"],
            );
            assert!(inside.contains(&format!("{ip_a}/16")), "{inside}");
            let gw = stdout(
                env,
                &[
                    "inspect",
                    "-f",
                    "{{.NetworkSettings.Networks.bridge.Gateway}}",
                    a.trim(),
                ],
            );
            assert_eq!(gw, "172.17.0.1\n");
            // The two reach each other by address (no names on the default network).
            let ping = stdout(
                env,
                &["exec", a.trim(), "ping", "-c", "1", "-W", "5", &ip_b],
            );
            assert!(ping.contains("1 packets received"), "{ping}");
            let net = stdout(
                env,
                &[
                    "network",
                    "inspect",
                    "-f",
                    "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{json .Containers}}",
                    "bridge",
                ],
            );
            assert!(net.starts_with("172.17.0.0/16 172.17.0.1 {"), "{net}");
            assert!(
                net.contains(a.trim()) && net.contains(&format!("{ip_b}/16")),
                "{net}"
            );
            env.berth_cmd(["rm", "-f", a.trim(), b.trim()])
                .assert()
                .success();
        }
    });
}

#[test]
fn published_ports_reach_the_container_and_show_as_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        // -p with the host's network is discarded, as docker does.
        env.berth_cmd([
            "run",
            "--rm",
            "-p",
            "8080:80",
            "--network",
            "host",
            &image,
            "true",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("discarded"));
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let id = stdout(
            env,
            &[
                "run",
                "-d",
                "-p",
                "127.0.0.1::8080",
                &image,
                "sh",
                "-c",
                "mkdir -p /www && echo hello from the container > /www/index.html && exec httpd -f -p 8080 -h /www",
            ],
        );
        let id = id.trim();
        let hostport = stdout(env, &["port", id, "8080"]);
        let port: u16 = hostport
            .trim()
            .strip_prefix("127.0.0.1:")
            .unwrap_or_else(|| panic!("{hostport}"))
            .parse()
            .unwrap();
        assert_ne!(port, 8080);
        let page = http_get(port);
        assert!(page.ends_with("hello from the container\n"), "{page}");

        assert_eq!(
            stdout(env, &["port", id]),
            format!("8080/tcp -> 127.0.0.1:{port}\n")
        );
        env.berth_cmd(["port", id, "9/udp"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("No public port '9/udp'"));
        let ps = stdout(env, &["ps", "--format", "{{.Ports}}"]);
        assert_eq!(ps, format!("127.0.0.1:{port}->8080/tcp\n"));
        let ports = stdout(
            env,
            &["inspect", "-f", "{{json .NetworkSettings.Ports}}", id],
        );
        assert_eq!(
            ports,
            format!("{{\"8080/tcp\":[{{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"{port}\"}}]}}\n")
        );
        let bindings = stdout(
            env,
            &["inspect", "-f", "{{json .HostConfig.PortBindings}}", id],
        );
        assert_eq!(
            bindings,
            "{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}\n"
        );

        // A second container cannot have the same host port.
        env.berth_cmd([
            "run",
            "--rm",
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            &image,
            "true",
        ])
        .assert()
        .code(125)
        .stderr(predicate::str::contains(format!("127.0.0.1:{port}")));

        // The helper (rootless) lives as long as the container, no longer;
        // so do the NAT rules (root).
        let pid = stdout(env, &["inspect", "-f", "{{.State.Pid}}", id]);
        let pid = pid.trim();
        if env.mode() == Mode::Rootless {
            assert_eq!(pasta_for(pid).len(), 1, "one pasta for container pid {pid}");
        }
        env.berth_cmd(["rm", "-f", id]).assert().success();
        let started = Instant::now();
        while !pasta_for(pid).is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "pasta still runs after the container was removed"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    });
}

#[test]
fn fixed_udp_and_publish_all_ports() {
    let reg = Registry::start(RegistryAuth::None);
    let cfg = ImageConfig::busybox().expose("8081/tcp");
    fixtures::push_busybox_with(&reg, "exposed", "1", None, &cfg);
    let image = format!("{}/exposed:1", reg.addr());
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // A fixed host port (a free one, found here) and a UDP one, in one run.
        let fixed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let id = stdout(
            env,
            &[
                "run",
                "-d",
                "-P",
                "-p",
                &format!("127.0.0.1:{fixed}:8080"),
                "-p",
                &format!("127.0.0.1:{udp}:5353/udp"),
                &image,
                "sh",
                "-c",
                "mkdir -p /www && echo fixed > /www/index.html && httpd -p 8081 -h /www && exec httpd -f -p 8080 -h /www",
            ],
        );
        let id = id.trim();
        assert!(http_get(fixed).ends_with("fixed\n"));
        let all = stdout(env, &["port", id]);
        assert!(
            all.contains(&format!("8080/tcp -> 127.0.0.1:{fixed}\n"))
                && all.contains(&format!("5353/udp -> 127.0.0.1:{udp}\n"))
                && all.contains("8081/tcp -> 0.0.0.0:"),
            "{all}"
        );
        // -P put the exposed 8081 on a free port of every address.
        let p: u16 = stdout(env, &["port", id, "8081/tcp"])
            .trim()
            .strip_prefix("0.0.0.0:")
            .unwrap()
            .parse()
            .unwrap();
        assert!(http_get(p).ends_with("fixed\n"));
        let published_all = stdout(
            env,
            &["inspect", "-f", "{{.HostConfig.PublishAllPorts}}", id],
        );
        assert_eq!(published_all, "true\n");
        env.berth_cmd(["rm", "-f", id]).assert().success();

        // Publishing needs a network: none refuses it, as docker.
        env.berth_cmd([
            "run",
            "--rm",
            "--network",
            "none",
            "-p",
            "80",
            &image,
            "true",
        ])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("conflicting options"));
    });
}

/// Sends `msg` to 127.0.0.1:`port` until the echo comes back (UDP may drop
/// the first datagrams while the forwarding starts). Returns the reply.
fn udp_echo(port: u16, msg: &str) -> String {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 1600];
    loop {
        sock.send_to(msg.as_bytes(), ("127.0.0.1", port)).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no UDP reply from 127.0.0.1:{port}"
        );
    }
}

/// Starts the UDP echo server in a container with `args` (network, -p),
/// waiting until it listens. Returns the container ID.
fn run_udp_echo(env: &TestEnv, image: &str, args: &[&str]) -> String {
    let bin = fixtures::udp_echo_binary();
    let mount = format!("{}:/udp-echo:ro", bin.display());
    let mut cmd = vec!["run", "-d", "-v", &mount];
    cmd.extend_from_slice(args);
    cmd.extend_from_slice(&[image, "/udp-echo", "5353"]);
    let id = stdout(env, &cmd).trim().to_string();
    let started = Instant::now();
    while !stdout(env, &["logs", &id]).contains("ready") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the UDP server did not start: {}",
            stdout(env, &["logs", &id])
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    id
}

#[test]
fn published_udp_ports_carry_datagrams_both_ways() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        // The default network: a fixed host port on loopback.
        let fixed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spec = format!("127.0.0.1:{fixed}:5353/udp");
        let id = run_udp_echo(env, &image, &["-p", &spec]);
        assert_eq!(udp_echo(fixed, "one"), "echo:one");
        assert_eq!(udp_echo(fixed, "two"), "echo:two");
        assert_eq!(
            stdout(env, &["port", &id, "5353/udp"]),
            format!("127.0.0.1:{fixed}\n")
        );
        env.berth_cmd(["rm", "-f", &id]).assert().success();

        // A user-defined network, and a random host port.
        let net = format!("udp-{}", std::process::id());
        env.berth_cmd(["network", "create", &net])
            .assert()
            .success();
        let id = run_udp_echo(
            env,
            &image,
            &["--network", &net, "-p", "127.0.0.1::5353/udp"],
        );
        let port: u16 = stdout(env, &["port", &id, "5353/udp"])
            .trim()
            .strip_prefix("127.0.0.1:")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(udp_echo(port, "three"), "echo:three");
        env.berth_cmd(["rm", "-f", &id]).assert().success();
        env.berth_cmd(["network", "rm", &net]).assert().success();
    });
}

#[test]
fn add_host_and_dns_flags_shape_the_generated_etc_files() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let hosts = stdout(
            env,
            &[
                "run",
                "--rm",
                "--add-host",
                "db:10.1.2.3",
                "--add-host",
                "gw:host-gateway",
                &image,
                "cat",
                "/etc/hosts",
            ],
        );
        assert!(hosts.contains("10.1.2.3\tdb\n"), "{hosts}");
        let gw = hosts
            .lines()
            .find(|l| l.ends_with("\tgw"))
            .unwrap_or_else(|| panic!("{hosts}"));
        // The same address as host.containers.internal (root: the bridge's gateway).
        let hci = hosts
            .lines()
            .find(|l| l.ends_with("\thost.containers.internal"))
            .unwrap();
        assert_eq!(gw.split('\t').next(), hci.split('\t').next());
        if env.mode() == Mode::Root {
            assert_eq!(gw, "172.17.0.1\tgw");
        }
        let resolv = stdout(
            env,
            &[
                "run",
                "--rm",
                "--dns",
                "192.0.2.53",
                "--dns-search",
                "example.com",
                &image,
                "cat",
                "/etc/resolv.conf",
            ],
        );
        assert!(resolv.contains("nameserver 192.0.2.53\n"), "{resolv}");
        assert!(resolv.contains("search example.com\n"), "{resolv}");
        assert_eq!(resolv.matches("nameserver").count(), 1, "{resolv}");
        env.berth_cmd(["run", "--rm", "--add-host", "bad", &image, "true"])
            .assert()
            .code(125);
    });
}

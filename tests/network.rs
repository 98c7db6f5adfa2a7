//! Networking, root and rootless: the rootless default network (pasta),
//! reaching the host's loopback through `host.containers.internal`,
//! published ports reached with a real client, `--add-host`/`--dns`, and the
//! helper's lifetime. As root the default network stays the host's and
//! `--network bridge` is refused (not implemented yet). Only loopback
//! traffic.

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

/// A one-shot HTTP server on the host's 127.0.0.1: answers one request
/// with `body`. Returns its port.
fn http_once(body: &'static str) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
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
        let (port, server) = http_once("hello from the host");
        let target = match env.mode() {
            // Rootless: the default network, pasta's gateway mapping.
            Mode::Rootless => format!("http://host.containers.internal:{port}/"),
            // Root: the host's network, as berth's default there.
            Mode::Root => format!("http://127.0.0.1:{port}/"),
        };
        let out = stdout(
            env,
            &["run", "--rm", &image, "wget", "-q", "-O", "-", &target],
        );
        assert_eq!(out, "hello from the host");
        server.join().unwrap();
        if env.mode() == Mode::Rootless {
            // Its own namespace: lo, the tap interface and a default route.
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
        } else {
            env.berth_cmd(["run", "--rm", "--network", "bridge", &image, "true"])
                .assert()
                .code(125)
                .stderr(predicate::str::contains("not implemented"));
        }
    });
}

#[test]
fn published_ports_reach_the_container_and_show_as_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        if env.mode() == Mode::Root {
            // No bridge as root yet: -p with the host's network is discarded, as docker does.
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
            return;
        }
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

        // The helper lives as long as the container, no longer.
        let pid = stdout(env, &["inspect", "-f", "{{.State.Pid}}", id]);
        let pid = pid.trim();
        assert_eq!(pasta_for(pid).len(), 1, "one pasta for container pid {pid}");
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
        if env.mode() == Mode::Root {
            return;
        }
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
        if env.mode() == Mode::Rootless {
            // The same address as host.containers.internal.
            let hci = hosts
                .lines()
                .find(|l| l.ends_with("\thost.containers.internal"))
                .unwrap();
            assert_eq!(gw.split('\t').next(), hci.split('\t').next());
        } else {
            assert_eq!(gw, "127.0.0.1\tgw");
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

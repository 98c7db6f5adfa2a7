//! Container networking: the default ("bridge") network of a container,
//! published ports ([`ports`]), user-defined networks.
//!
//! # The default network, rootless
//!
//! The container gets a network namespace of its own (the runtime's clone
//! creates it, owned by the container's user namespace). Its monitor then
//! connects it to the host with a user-mode network helper, before the
//! container's command starts, and stops the helper when the container
//! exits ([`Helper::connect`] → [`Connection`], dropped by the monitor):
//!
//! - **pasta** (Debian `passt`), preferred: `pasta --config-net … PID` joins
//!   the container's user and network namespaces, creates a tap interface
//!   with the host's address and default route, brings `lo` up, and forks
//!   into the background once it is done (so the monitor waits for it, then
//!   reads its pid file). It does not exit when the container dies (the
//!   2023 version only watches namespaces bound to a path): the monitor
//!   kills it. The host's gateway address, seen from the container, is
//!   mapped to the host's loopback for TCP and UDP (pasta's default, no
//!   `--no-map-gw`): `host.containers.internal` points there. Published
//!   ports are pasta's `-t`/`-u` forwards; berth turns off pasta's automatic
//!   forwards (`-t none -u none -T none -U none`), so a container never
//!   reaches a host's loopback port unless through the gateway address.
//! - **slirp4netns**, the fallback when pasta is missing: `slirp4netns
//!   --configure --exit-fd --ready-fd PID tap0`, the monitor's own child;
//!   10.0.2.100 in 10.0.2.0/24, 10.0.2.2 mapped to the host's loopback.
//!   It exits when the monitor closes the exit fd (or dies). Port publishing
//!   needs pasta (slirp4netns's API socket is not used yet).
//!
//! # The default network, as root
//!
//! docker's `bridge`: the `berth0` Linux bridge with 172.17.0.1/16 and NAT
//! out of it ([`store::default_bridge`]), one veth pair per container, set
//! up by the same code as a user-defined network's ([`bridge`]) but with no
//! holder and no name resolution. Its addresses are leased host-wide
//! ([`store::BridgeLeases`]), since the bridge is one per host whatever data
//! dir a berth uses. (pasta is no option as root: it drops its privileges
//! and then cannot join a namespace owned by the initial user namespace.)
//!
//! Published ports on a bridge (root) are DNAT rules in nftables maps,
//! from every host address (or the given one) to the container's address,
//! with the host's own connections to 127.0.0.1 included (route_localnet
//! on the bridge, masquerade of loopback sources); the monitor also keeps
//! each host port bound while the container runs, as docker's proxy does
//! ([`bridge::publish`]). Rootless, ports published on a user-defined
//! network go through a userspace proxy into the holder's namespace
//! ([`proxy`]).

pub mod bridge;
pub mod dns;
pub mod holder;
pub mod manage;
pub mod ports;
pub mod proxy;
pub mod store;

use std::io::Read;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use ports::PortBinding;

/// The name docker gives the default network (`NetworkMode`, `Networks`).
pub const DEFAULT_NETWORK: &str = "bridge";

/// Names that resolve to the host from inside a container on the default
/// network (docker Desktop's and podman's).
pub const HOST_NAMES: [&str; 2] = ["host.docker.internal", "host.containers.internal"];

/// slirp4netns's fixed addresses (its default 10.0.2.0/24).
const SLIRP_GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const SLIRP_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 100);

const INSTALL_HINT: &str = "install pasta (`apt-get install passt`) or slirp4netns (`apt-get install slirp4netns`), or use --network host or --network none";

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(
        "rootless networking needs pasta or slirp4netns and neither is installed: {INSTALL_HINT}"
    )]
    NoHelper,
    #[error(
        "{helper} cannot open /dev/net/tun ({errno}); as root: `chmod 0666 /dev/net/tun` (no udev rule gave users access to it), or use --network host or --network none"
    )]
    Tun {
        helper: &'static str,
        errno: nix::errno::Errno,
    },
    #[error("starting {helper}: {message}")]
    Start {
        helper: &'static str,
        message: String,
    },
    #[error(
        "publishing ports needs pasta (`apt-get install passt`); slirp4netns is used because pasta is missing"
    )]
    PublishNeedsPasta,
    #[error(transparent)]
    Ports(#[from] ports::PortError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Record(#[from] crate::container::record::RecordError),
    #[error("{0}")]
    Setup(String),
    #[error(
        "container {0} runs in a user namespace of its own (it was started without subordinate ids, or before the shared one it would join): berth can connect it once it is stopped, or after `berth restart {0}`"
    )]
    NotOnUserNetwork(String),
}

/// Held from [`plan_endpoints`] until the container's record (which holds
/// the addresses) is written: the next allocation reads it.
pub struct PlanLock {
    _store: store::StoreLock,
    _leases: Option<store::BridgeLeases>,
}

/// Addresses for a container's new endpoints on the networks it asks for;
/// `owner` is the container's record dir (what a lease on root's default
/// bridge names).
pub fn plan_endpoints(
    networks: &store::NetworkStore,
    containers: &crate::container::record::ContainerStore,
    requests: &[crate::container::spec::NetworkRequest],
    existing: &[crate::container::record::Endpoint],
    owner: &Path,
) -> Result<(PlanLock, Vec<crate::container::record::Endpoint>), NetworkError> {
    let store_lock = networks.lock()?;
    let mut leases = None;
    let mut endpoints = Vec::new();
    for req in requests {
        let net = networks.get_attachable(&req.network)?;
        if existing
            .iter()
            .chain(&endpoints)
            .any(|e: &crate::container::record::Endpoint| e.network_id == net.id)
        {
            continue;
        }
        let mut taken = std::collections::BTreeSet::new();
        let on_default_bridge = net.id == store::default_bridge().id;
        if on_default_bridge {
            let l = store::BridgeLeases::lock()?;
            taken.extend(l.taken()?);
            leases = Some(l);
        }
        for (config, _) in containers.list()? {
            taken.extend(
                config
                    .networks
                    .iter()
                    .filter(|e| e.network_id == net.id)
                    .map(|e| e.ip),
            );
        }
        let ip = store::allocate_address(&net, &taken, req.ip)?;
        if on_default_bridge && let Some(l) = &leases {
            l.claim(ip, owner)?;
        }
        endpoints.push(crate::container::record::Endpoint {
            network: net.name.clone(),
            network_id: net.id.clone(),
            endpoint_id: crate::container::record::generate_id(),
            aliases: req.aliases.clone(),
            ip,
            prefix_len: net.subnet().len,
            gateway: net.gateway,
            mac: store::mac_for(ip),
        });
    }
    Ok((
        PlanLock {
            _store: store_lock,
            _leases: leases,
        },
        endpoints,
    ))
}

/// What keeps a container's ports published on a bridge network while it
/// lives: NAT rules (root) or the userspace proxy (rootless; also the UDP
/// ports of the pasta network, see [`publish_udp_in_container`]).
pub enum BridgePorts {
    Nat(bridge::Published),
    Proxy(proxy::Proxy),
}

/// Publishes `wanted` to a container at `ip` on `network`: NAT as root,
/// the proxy in the holder's namespaces (`place`) rootless.
pub fn publish_on_bridge(
    place: &bridge::Place,
    network: &store::Network,
    ip: Ipv4Addr,
    wanted: &[PortBinding],
) -> Result<(BridgePorts, Vec<PortBinding>), NetworkError> {
    if place.user.is_some() || place.net.is_some() {
        let (p, ports) = proxy::spawn(place, ip, wanted)?;
        Ok((BridgePorts::Proxy(p), ports))
    } else {
        let (p, ports) = bridge::publish(network, ip, wanted)?;
        Ok((BridgePorts::Nat(p), ports))
    }
}

/// Publishes `udp` (host ports already chosen) to the container `pid` on
/// the pasta network through the userspace proxy in the container's own
/// namespaces, which sends to its loopback. Debian 12's pasta (2023-03)
/// forwards UDP from non-loopback clients but drops the replies to
/// clients on the host's loopback, the common case (`-p 5353:53/udp` and
/// a client on localhost); the proxy serves both. The container sees UDP
/// clients as 127.0.0.1 (TCP keeps pasta and the client's address).
pub fn publish_udp_in_container(
    pid: i32,
    udp: &[PortBinding],
) -> Result<BridgePorts, NetworkError> {
    let ns = |kind: &str| {
        std::fs::File::open(format!("/proc/{pid}/ns/{kind}")).map_err(|e| {
            NetworkError::Setup(format!("opening the container's {kind} namespace: {e}"))
        })
    };
    let same_user_ns = std::fs::read_link("/proc/self/ns/user").ok()
        == std::fs::read_link(format!("/proc/{pid}/ns/user")).ok();
    let place = bridge::Place {
        // Joining one's own user namespace fails (EINVAL): only a child's.
        user: if same_user_ns {
            None
        } else {
            Some(ns("user")?)
        },
        net: Some(ns("net")?),
    };
    let (proxy, _) = proxy::spawn(&place, Ipv4Addr::LOCALHOST, udp)?;
    Ok(BridgePorts::Proxy(proxy))
}

/// The user-mode network helpers berth can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helper {
    Pasta,
    Slirp4netns,
}

/// `name` in `$PATH` (or the usual system dirs when PATH is unset).
pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| nix::unistd::access(p.as_path(), nix::unistd::AccessFlags::X_OK).is_ok())
}

impl Helper {
    /// pasta if installed, else slirp4netns, else the install hint.
    pub fn find() -> Result<Helper, NetworkError> {
        if find_in_path("pasta").is_some() {
            Ok(Helper::Pasta)
        } else if find_in_path("slirp4netns").is_some() {
            Ok(Helper::Slirp4netns)
        } else {
            Err(NetworkError::NoHelper)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Helper::Pasta => "pasta",
            Helper::Slirp4netns => "slirp4netns",
        }
    }

    pub fn parse(s: &str) -> Option<Helper> {
        match s {
            "pasta" => Some(Helper::Pasta),
            "slirp4netns" => Some(Helper::Slirp4netns),
            _ => None,
        }
    }

    /// The address that reaches the host from inside the container (the
    /// host's loopback services through the helper's gateway mapping), and
    /// the container's own address on its interface; None when the host
    /// has no IPv4 default route (pasta then has nothing to copy).
    pub fn addresses(self) -> Option<Addresses> {
        match self {
            Helper::Slirp4netns => Some(Addresses {
                gateway: SLIRP_GATEWAY,
                container: SLIRP_ADDRESS,
            }),
            Helper::Pasta => {
                let route = std::fs::read_to_string("/proc/net/route").ok()?;
                let gateway = default_gateway(&route)?;
                // The source address the host would use towards its gateway:
                // the one pasta copies into the container. No packet is sent.
                let sock = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
                sock.connect((gateway, 9)).ok()?;
                let container = match sock.local_addr().ok()?.ip() {
                    std::net::IpAddr::V4(a) => a,
                    _ => return None,
                };
                Some(Addresses { gateway, container })
            }
        }
    }

    /// Connects the network namespace of `pid` (the created, not yet
    /// started container) to the host, publishing `bindings` (host ports
    /// already chosen). `dir` holds the helper's pid file.
    pub fn connect(
        self,
        pid: i32,
        bindings: &[PortBinding],
        dir: &Path,
    ) -> Result<Connection, NetworkError> {
        if let Err(errno) = nix::unistd::access("/dev/net/tun", nix::unistd::AccessFlags::W_OK) {
            return Err(NetworkError::Tun {
                helper: self.name(),
                errno,
            });
        }
        match self {
            Helper::Pasta => connect_pasta(pid, bindings, dir),
            Helper::Slirp4netns => {
                if !bindings.is_empty() {
                    return Err(NetworkError::PublishNeedsPasta);
                }
                connect_slirp(pid, dir)
            }
        }
    }
}

/// Addresses as seen from inside the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addresses {
    /// Reaches the host's loopback (`host.containers.internal`, `host-gateway`).
    pub gateway: Ipv4Addr,
    /// The container's address (`/etc/hosts` line for its hostname).
    pub container: Ipv4Addr,
}

/// The IPv4 default gateway in `/proc/net/route` text (little-endian hex).
fn default_gateway(route: &str) -> Option<Ipv4Addr> {
    route.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || f[1] != "00000000" {
            return None;
        }
        let g = u32::from_str_radix(f[2], 16).ok()?;
        (g != 0).then(|| Ipv4Addr::from(g.to_le_bytes()))
    })
}

/// pasta's `-t`/`-u` spec for one binding: `[ADDR/]HOST:CONTAINER`.
fn pasta_spec(b: &PortBinding) -> String {
    let ip = if b.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        &b.host_ip
    };
    format!("{ip}/{}:{}", b.host_port, b.container_port)
}

/// pasta's arguments for the container `pid`.
fn pasta_args(pid: i32, bindings: &[PortBinding], pid_file: &Path) -> Vec<String> {
    // `eth0` inside, as docker's default network (pasta would copy the
    // host's interface name); `network connect` adds eth1 and up.
    let mut args: Vec<String> = vec![
        "--config-net".into(),
        "--quiet".into(),
        "--ns-ifname".into(),
        "eth0".into(),
    ];
    for proto in ["tcp", "udp"] {
        let flag = if proto == "tcp" { "-t" } else { "-u" };
        let mine: Vec<&PortBinding> = bindings.iter().filter(|b| b.proto == proto).collect();
        if mine.is_empty() {
            args.extend([flag.to_string(), "none".into()]);
        }
        for b in mine {
            args.extend([flag.to_string(), pasta_spec(b)]);
        }
    }
    // No automatic forwarding of the host's loopback ports into the container.
    args.extend(["-T", "none", "-U", "none"].map(String::from));
    args.extend(["--pid".into(), pid_file.display().to_string()]);
    args.push(pid.to_string());
    args
}

fn connect_pasta(
    pid: i32,
    bindings: &[PortBinding],
    dir: &Path,
) -> Result<Connection, NetworkError> {
    let pid_file = dir.join("pasta.pid");
    let _ = std::fs::remove_file(&pid_file);
    let err = |message: String| NetworkError::Start {
        helper: "pasta",
        message,
    };
    // pasta forks into the background when the namespace is configured and
    // its ports are bound: its first process's exit means "ready".
    let out = Command::new("pasta")
        .args(pasta_args(pid, bindings, &pid_file))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(e.to_string()))
        .and_then(|mut child| {
            let status = child.wait().map_err(|e| err(e.to_string()))?;
            // The daemon's stdio is /dev/null: only the first process can
            // have written here, and it is gone.
            let mut text = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = crate::runtime::io::set_nonblocking(e.as_raw_fd());
                let _ = e.read_to_string(&mut text);
            }
            Ok((status, text))
        });
    let (status, stderr) = out?;
    let stderr: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("Failed to send") && !l.trim().is_empty())
        .collect();
    if !status.success() {
        return Err(err(if stderr.is_empty() {
            format!("pasta exited with {status}")
        } else {
            stderr.join("; ")
        }));
    }
    let helper_pid = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .ok_or_else(|| err(format!("no pid in {}", pid_file.display())))?;
    let _ = std::fs::remove_file(&pid_file);
    Ok(Connection {
        helper: Helper::Pasta,
        pid: helper_pid,
        start: crate::container::record::process_start_time(helper_pid).unwrap_or(0),
        child: None,
        exit_fd: None,
        published: !bindings.is_empty(),
    })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), NetworkError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| NetworkError::Start {
        helper: "slirp4netns",
        message: format!("pipe: {e}"),
    })
}

fn connect_slirp(pid: i32, dir: &Path) -> Result<Connection, NetworkError> {
    let err = |message: String| NetworkError::Start {
        helper: "slirp4netns",
        message,
    };
    let (ready_r, ready_w) = pipe()?;
    let (exit_r, exit_w) = pipe()?;
    let (ready_fd, exit_fd) = (ready_w.as_raw_fd(), exit_r.as_raw_fd());
    let mut cmd = Command::new("slirp4netns");
    cmd.args([
        "--configure",
        "--mtu=65520",
        "--ready-fd=3",
        "--exit-fd=4",
        &pid.to_string(),
        "tap0",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    // Its messages go to a log file in the container's directory: a pipe
    // nobody reads could fill and block it.
    let log = dir.join("slirp4netns.log");
    if let Ok(f) = std::fs::File::create(&log) {
        cmd.stderr(f);
    }
    // SAFETY: between fork and exec only dup2 (async-signal-safe); the
    // monitor is single-threaded anyway.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 clears CLOEXEC on the new descriptors.
            if libc::dup2(ready_fd, 3) < 0 || libc::dup2(exit_fd, 4) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    drop(ready_w);
    drop(exit_r);
    // "1" once configured; EOF if it died first.
    let mut buf = [0u8; 1];
    let mut ready = std::fs::File::from(ready_r);
    let ok = matches!(ready.read(&mut buf), Ok(1));
    if !ok {
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(err(text.trim().replace('\n', "; ")));
    }
    Ok(Connection {
        helper: Helper::Slirp4netns,
        pid: child.id() as i32,
        start: 0,
        child: Some(child),
        exit_fd: Some(exit_w),
        published: false,
    })
}

/// A running helper; stopping it (or dropping it) disconnects the container.
#[derive(Debug)]
pub struct Connection {
    helper: Helper,
    pid: i32,
    start: u64,
    /// slirp4netns: the monitor's child.
    child: Option<Child>,
    /// slirp4netns exits when this closes.
    exit_fd: Option<OwnedFd>,
    /// Whether the helper listens on published host ports.
    published: bool,
}

impl Connection {
    pub fn helper(&self) -> Helper {
        self.helper
    }

    /// The helper's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Lets the helper run on after this is dropped (its owner stops it
    /// later by pid): pid and start time. Only for pasta, which is not our child.
    pub fn detach(mut self) -> (i32, u64) {
        let out = (self.pid, self.start);
        self.pid = 0;
        self.child = None;
        out
    }

    /// Stops the helper and waits (a second at most, then SIGKILL) until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            self.exit_fd = None;
            for _ in 0..100 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        if self.pid <= 0 {
            return;
        }
        let (pid, start) = (self.pid, self.start);
        self.pid = 0;
        if !crate::container::record::process_alive(pid, start) {
            return;
        }
        // pasta runs as PID 1 of a PID namespace of its own, which ignores
        // SIGTERM (no handler); it has nothing to flush: SIGKILL.
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        // Its teardown (hundreds of pre-opened sockets and pipes) takes ~30 ms
        // that nobody needs to wait for, unless it held published ports:
        // those must be free again when `run` or `stop` returns, as docker's.
        if self.published {
            crate::monitor::wait_for_exit(pid, start, Duration::from_secs(2));
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_from_proc_net_route() {
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(default_gateway(route), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(default_gateway("Iface\n"), None);
    }

    #[test]
    fn pasta_command_line() {
        let bindings = vec![
            PortBinding {
                container_port: 80,
                proto: "tcp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: 8080,
            },
            PortBinding {
                container_port: 53,
                proto: "udp".into(),
                host_ip: String::new(),
                host_port: 5353,
            },
        ];
        assert_eq!(
            pasta_args(42, &bindings, Path::new("/x/pasta.pid")).join(" "),
            "--config-net --quiet --ns-ifname eth0 -t 127.0.0.1/8080:80 -u 0.0.0.0/5353:53 -T none -U none --pid /x/pasta.pid 42"
        );
        assert_eq!(
            pasta_args(42, &[], Path::new("/p")).join(" "),
            "--config-net --quiet --ns-ifname eth0 -t none -u none -T none -U none --pid /p 42"
        );
    }
}

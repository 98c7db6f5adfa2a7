//! The data path of user-defined networks: a Linux bridge per network with
//! the gateway address, NAT out of it (unless `--internal`), and one veth
//! pair per container endpoint.
//!
//! Where the bridges live: as root, in the host's network namespace (like
//! docker's `br-<id>`); rootless, in the network namespace of berth's
//! holder process ([`super::holder`]), which pasta connects to the host
//! (podman's "rootless netns"). Either way the work is done by iproute2's
//! `ip` and nftables' `nft`, run in the right namespaces: the child joins
//! them (setns) between fork and exec; rootless it joins the holder's user
//! namespace first, which gives it the capabilities there (the caller is
//! its owner) that the network namespaces owned by it require.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::NetworkError;
use super::store::Network;
use crate::container::record::Endpoint;

/// The nftables table berth keeps its NAT rules in.
const NFT_TABLE: &str = "berth";

/// Where the bridges are: the holder's user and network namespaces
/// (rootless), or this process's own (root: both None).
pub struct Place {
    pub user: Option<File>,
    pub net: Option<File>,
}

impl Place {
    fn fds(&self) -> Ns {
        Ns {
            user: self.user.as_ref().map(|f| f.as_raw_fd()),
            net: self.net.as_ref().map(|f| f.as_raw_fd()),
        }
    }
}

/// Namespaces a command joins before it runs.
#[derive(Clone, Copy)]
struct Ns {
    user: Option<RawFd>,
    net: Option<RawFd>,
}

/// Runs `program args` with `stdin` as its input, inside the namespaces
/// `ns` (None: this process's own). Joining the user namespace first gives
/// the command the capabilities there that the network namespace needs.
fn run_in(
    ns: Ns,
    program: &str,
    args: &[&str],
    stdin: &str,
    forwarding: bool,
) -> Result<String, NetworkError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only setns, open, write and close, all
    // async-signal-safe; the caller (a monitor) is single-threaded.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = ns.user
                && libc::setns(fd, libc::CLONE_NEWUSER) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(fd) = ns.net
                && libc::setns(fd, libc::CLONE_NEWNET) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if forwarding {
                // /proc/sys/net is the opener's namespace's: this one's.
                let path = c"/proc/sys/net/ipv4/ip_forward";
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd >= 0 {
                    libc::write(fd, b"1\n".as_ptr().cast(), 2);
                    libc::close(fd);
                }
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        NetworkError::Setup(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "bridge networks (root's default network, user-defined ones) need `{program}` ({}): not found; or use --network host or none",
                if program == "ip" {
                    "apt-get install iproute2"
                } else {
                    "apt-get install nftables"
                }
            )
        } else {
            format!("running {program}: {e}")
        })
    })?;
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| NetworkError::Setup(format!("running {program}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(NetworkError::Setup(format!(
            "{program} {}: {}",
            args.join(" "),
            err.trim().replace('\n', "; ")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip -batch -` with `-force`: every command runs even after a failure,
/// and the exit status says whether one failed.
fn ip_batch(ns: Ns, commands: &str, forwarding: bool) -> Result<(), NetworkError> {
    run_in(ns, "ip", &["-force", "-batch", "-"], commands, forwarding).map(|_| ())
}

/// Whether a link exists in the namespace: asked of the kernel directly
/// in this process's own, else `ip link show NAME` there.
fn link_exists(ns: Ns, name: &str) -> bool {
    if ns.user.is_none() && ns.net.is_none() {
        let Ok(c_name) = std::ffi::CString::new(name) else {
            return false;
        };
        // SAFETY: a NUL-terminated name; the call only reads it.
        return unsafe { libc::if_nametoindex(c_name.as_ptr()) } != 0;
    }
    run_in(ns, "ip", &["link", "show", name], "", false).is_ok()
}

/// The network's bridge with its gateway address, up, and (unless
/// internal) NAT for its subnet; nothing changes when it exists already.
pub fn ensure_bridge(place: &Place, network: &Network) -> Result<(), NetworkError> {
    let fd = place.fds();
    let bridge = network.bridge_name();
    if link_exists(fd, &bridge) {
        // Its NAT came with it: a container start costs no `nft` run.
        return Ok(());
    }
    let subnet = network.subnet();
    ip_batch(
        fd,
        &format!(
            "link add {bridge} type bridge\n\
             addr add {}/{} dev {bridge}\n\
             link set {bridge} up\n",
            network.gateway, subnet.len
        ),
        !network.internal,
    )?;
    if !network.internal {
        ensure_nat(fd, network)?;
    }
    Ok(())
}

/// The nftables chain of one bridge's NAT: a base chain of its own on the
/// postrouting hook, so setting it up is one idempotent transaction
/// (create, flush, fill) that concurrent monitors can all run.
fn nat_chain(network: &Network) -> String {
    format!("nat_{}", network.bridge_name().replace('-', "_"))
}

fn ensure_nat(ns: Ns, network: &Network) -> Result<(), NetworkError> {
    let bridge = network.bridge_name();
    let chain = nat_chain(network);
    let script = format!(
        "add table ip {NFT_TABLE}\n\
         add chain ip {NFT_TABLE} {chain} {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         flush chain ip {NFT_TABLE} {chain}\n\
         add rule ip {NFT_TABLE} {chain} ip saddr {} oifname != \"{bridge}\" masquerade\n",
        network.subnet()
    );
    run_in(ns, "nft", &["-f", "-"], &script, true).map(|_| ())
}

/// Removes a network's bridge and NAT chain (root: they outlive containers
/// in the host's namespace; rootless they go with the holder).
pub fn remove_bridge(place: &Place, network: &Network) -> Result<(), NetworkError> {
    let fd = place.fds();
    let bridge = network.bridge_name();
    if link_exists(fd, &bridge) {
        ip_batch(fd, &format!("link del {bridge}\n"), false)?;
    }
    // Gone already for an internal network (it never had one).
    let chain = nat_chain(network);
    let _ = run_in(
        fd,
        "nft",
        &["-f", "-"],
        &format!("flush chain ip {NFT_TABLE} {chain}\ndelete chain ip {NFT_TABLE} {chain}\n"),
        false,
    );
    Ok(())
}

/// The host side of an endpoint's veth pair: docker's `veth` + 7 hex digits.
pub fn host_veth(endpoint: &Endpoint) -> String {
    format!("veth{}", &endpoint.endpoint_id[..7])
}

/// The lowest `N` such that the network namespace of `pid` has no `ethN`
/// (`network connect` of a running container: after a disconnect, or next
/// to the default network's pasta interface, `eth{count}` may be taken).
/// `/proc/PID/net/dev` lists that namespace's interfaces; unreadable,
/// `fallback`.
pub fn free_inside_index(pid: i32, fallback: usize) -> usize {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/dev")) else {
        return fallback;
    };
    let taken: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .collect();
    (0..)
        .find(|n| !taken.contains(&format!("eth{n}").as_str()))
        .unwrap_or(fallback)
}

/// Connects the network namespace of `pid` to the network's bridge: a veth
/// pair, `eth{index}` inside with the endpoint's address and MAC, and the
/// default route through the gateway when `default_route`.
pub fn attach(
    place: &Place,
    network: &Network,
    endpoint: &Endpoint,
    pid: i32,
    index: usize,
    default_route: bool,
) -> Result<(), NetworkError> {
    let fd = place.fds();
    let veth = host_veth(endpoint);
    let inside = format!("eth{index}");
    let bridge = network.bridge_name();
    // The endpoint's veth from the container's previous run (restart) is
    // deleted by the kernel when that run's namespace goes, which it does
    // asynchronously: it may still be there. Delete it, as then it only
    // holds a dead namespace.
    if link_exists(fd, &veth) {
        let _ = ip_batch(fd, &format!("link del {veth}\n"), false);
    }
    // `netns PID` is resolved by `ip` in its own PID namespace: this one's.
    ip_batch(
        fd,
        &format!(
            "link add {veth} type veth peer name {inside} netns {pid}\n\
             link set {veth} master {bridge}\n\
             link set {veth} up\n"
        ),
        false,
    )?;
    let container_ns = File::open(format!("/proc/{pid}/ns/net")).map_err(|e| {
        NetworkError::Setup(format!("opening the container's network namespace: {e}"))
    })?;
    let route = (default_route && !network.internal).then_some(endpoint.gateway);
    if fd.user.is_none() && fd.net.is_none() {
        return inside::configure(&container_ns, &inside, endpoint, route);
    }
    let mut commands = format!(
        "link set {inside} address {}\n\
         addr add {}/{} dev {inside}\n\
         link set {inside} up\n",
        endpoint.mac, endpoint.ip, endpoint.prefix_len
    );
    if let Some(gateway) = route {
        commands.push_str(&format!("route add default via {gateway}\n"));
    }
    let inside_ns = Ns {
        user: fd.user,
        net: Some(container_ns.as_raw_fd()),
    };
    ip_batch(inside_ns, &commands, false)
}

/// Removes an endpoint's veth pair (deleting one end deletes both); gone
/// already when the container's namespace went away.
pub fn detach(place: &Place, endpoint: &Endpoint) -> Result<(), NetworkError> {
    let fd = place.fds();
    let veth = host_veth(endpoint);
    if link_exists(fd, &veth) {
        ip_batch(fd, &format!("link del {veth}\n"), false)?;
    }
    Ok(())
}

/// The nftables maps published ports live in: `(proto, port)` for ports
/// published on every host address, `(address, proto, port)` for the rest;
/// each maps to the container's `(address, port)`.
const MAP_ANY: &str = "published_any";
const MAP_ON: &str = "published_on";

/// The chains and maps of published ports. Rebuilt whole (flush, then the
/// rules) in one transaction, so running it again changes nothing and two
/// monitors running it at once leave the same thing.
fn publish_ruleset() -> String {
    format!(
        "add table ip {NFT_TABLE}\n\
         add map ip {NFT_TABLE} {MAP_ANY} {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         add map ip {NFT_TABLE} {MAP_ON} {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}\n\
         add chain ip {NFT_TABLE} published_prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}\n\
         flush chain ip {NFT_TABLE} published_prerouting\n\
         add rule ip {NFT_TABLE} published_prerouting dnat ip to ip daddr . meta l4proto . th dport map @{MAP_ON}\n\
         add rule ip {NFT_TABLE} published_prerouting fib daddr type local dnat ip to meta l4proto . th dport map @{MAP_ANY}\n\
         add chain ip {NFT_TABLE} published_output {{ type nat hook output priority -100; policy accept; }}\n\
         flush chain ip {NFT_TABLE} published_output\n\
         add rule ip {NFT_TABLE} published_output dnat ip to ip daddr . meta l4proto . th dport map @{MAP_ON}\n\
         add rule ip {NFT_TABLE} published_output fib daddr type local dnat ip to meta l4proto . th dport map @{MAP_ANY}\n\
         add chain ip {NFT_TABLE} published_postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
         flush chain ip {NFT_TABLE} published_postrouting\n\
         add rule ip {NFT_TABLE} published_postrouting ip saddr 127.0.0.0/8 oifname != \"lo\" masquerade\n"
    )
}

/// One published port's map element: its key, and the whole element.
fn port_element(b: &super::ports::PortBinding, container: std::net::Ipv4Addr) -> (String, String) {
    let key = if b.host_ip.is_empty() || b.host_ip == "0.0.0.0" {
        format!("{MAP_ANY} {{ {} . {}", b.proto, b.host_port)
    } else {
        format!("{MAP_ON} {{ {} . {} . {}", b.host_ip, b.proto, b.host_port)
    };
    let element = format!("{key} : {container} . {} }}", b.container_port);
    (format!("{key} }}"), element)
}

/// A container's published ports on a bridge network (root): DNAT from
/// the host's addresses to the container's address while this lives.
/// It also keeps each host port bound, as docker's proxy does, so nothing
/// else on the host takes it and a second container asking for it gets
/// docker's "port is already allocated". Dropping it removes the rules.
pub struct Published {
    keys: Vec<String>,
    _sockets: Vec<std::os::fd::OwnedFd>,
}

/// Publishes `bindings` (host port 0: one is picked) to `container`'s
/// address on `network`'s bridge, in this process's network namespace
/// (root only: rootless bridges are in the holder's, which pasta connects).
pub fn publish(
    network: &Network,
    container: std::net::Ipv4Addr,
    bindings: &[super::ports::PortBinding],
) -> Result<(Published, Vec<super::ports::PortBinding>), NetworkError> {
    let mut bound = bindings.to_vec();
    let mut sockets = Vec::new();
    for b in bound.iter_mut() {
        let (socket, port) = super::ports::reserve(b)?;
        b.host_port = port;
        sockets.push(socket);
    }
    // A host's 127.0.0.1 reaches the bridge only with route_localnet.
    let sysctl = format!(
        "/proc/sys/net/ipv4/conf/{}/route_localnet",
        network.bridge_name()
    );
    std::fs::write(&sysctl, "1\n")
        .map_err(|e| NetworkError::Setup(format!("writing {sysctl}: {e}")))?;
    let elements: Vec<(String, String)> =
        bound.iter().map(|b| port_element(b, container)).collect();
    let mut script = publish_ruleset();
    for (_, element) in &elements {
        script.push_str(&format!("add element ip {NFT_TABLE} {element}\n"));
    }
    let no_ns = Ns {
        user: None,
        net: None,
    };
    if run_in(no_ns, "nft", &["-f", "-"], &script, true).is_err() {
        // The host ports are ours (bound above): an element left by a
        // monitor that was killed is stale. Replace it.
        for (key, _) in &elements {
            let _ = run_in(
                no_ns,
                "nft",
                &["-f", "-"],
                &format!("delete element ip {NFT_TABLE} {key}\n"),
                false,
            );
        }
        run_in(no_ns, "nft", &["-f", "-"], &script, true)?;
    }
    Ok((
        Published {
            keys: elements.into_iter().map(|(k, _)| k).collect(),
            _sockets: sockets,
        },
        bound,
    ))
}

impl Drop for Published {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let script: String = self
            .keys
            .iter()
            .map(|k| format!("delete element ip {NFT_TABLE} {k}\n"))
            .collect();
        let no_ns = Ns {
            user: None,
            net: None,
        };
        let _ = run_in(no_ns, "nft", &["-f", "-"], &script, false);
    }
}

/// The container's side of a veth pair, configured from this process (as
/// root): it joins the container's network namespace, sets the interface
/// up with ioctls, and returns to its own. Two `ip` runs fewer per start.
/// Joining a network namespace affects only the calling thread, and the
/// monitor that calls this has no other.
mod inside {
    use std::fs::File;
    use std::net::Ipv4Addr;
    use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

    use nix::errno::Errno;
    use nix::sched::{CloneFlags, setns};

    use super::NetworkError;
    use crate::container::record::Endpoint;

    /// The kernel's `struct rtentry` (SIOCADDRT), absent from the libc crate for glibc.
    #[repr(C)]
    struct RtEntry {
        rt_pad1: libc::c_ulong,
        rt_dst: libc::sockaddr,
        rt_gateway: libc::sockaddr,
        rt_genmask: libc::sockaddr,
        rt_flags: libc::c_ushort,
        rt_pad2: libc::c_short,
        rt_pad3: libc::c_ulong,
        rt_pad4: *mut libc::c_void,
        rt_metric: libc::c_short,
        rt_dev: *mut libc::c_char,
        rt_mtu: libc::c_ulong,
        rt_window: libc::c_ulong,
        rt_irtt: libc::c_ushort,
    }

    fn sockaddr_v4(ip: Ipv4Addr) -> libc::sockaddr {
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: sockaddr_in and sockaddr have the same size; any bytes are valid.
        unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
    }

    fn ifreq(name: &str) -> libc::ifreq {
        // SAFETY: all-zero is a valid ifreq.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in ifr
            .ifr_name
            .iter_mut()
            .zip(name.bytes().take(libc::IFNAMSIZ - 1))
        {
            *dst = src as libc::c_char;
        }
        ifr
    }

    fn ioctl<T>(
        fd: &OwnedFd,
        request: libc::Ioctl,
        arg: &mut T,
        what: &str,
    ) -> Result<(), NetworkError> {
        // SAFETY: `arg` is the structure `request` reads or writes.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg as *mut T) };
        if r < 0 {
            return Err(NetworkError::Setup(format!(
                "configuring the container's interface ({what}): {}",
                Errno::last()
            )));
        }
        Ok(())
    }

    fn mac_bytes(mac: &str) -> Option<[u8; 6]> {
        let mut out = [0u8; 6];
        let mut parts = mac.split(':');
        for b in out.iter_mut() {
            *b = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        parts.next().is_none().then_some(out)
    }

    pub(super) fn configure(
        container_ns: &File,
        name: &str,
        endpoint: &Endpoint,
        route: Option<Ipv4Addr>,
    ) -> Result<(), NetworkError> {
        let setup = |what: &str, e: Errno| NetworkError::Setup(format!("{what}: {e}"));
        let own = File::open("/proc/thread-self/ns/net").map_err(|e| {
            NetworkError::Setup(format!("opening this thread's network namespace: {e}"))
        })?;
        setns(container_ns.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| setup("joining the container's network namespace", e))?;
        let result = configure_here(name, endpoint, route);
        // Back home whatever happened: the monitor's own sockets live there.
        setns(own.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| setup("returning to the monitor's network namespace", e))?;
        result
    }

    fn configure_here(
        name: &str,
        endpoint: &Endpoint,
        route: Option<Ipv4Addr>,
    ) -> Result<(), NetworkError> {
        // SAFETY: a plain socket; owned at once.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(NetworkError::Setup(format!("socket: {}", Errno::last())));
        }
        // SAFETY: `raw` is a new descriptor nobody else owns.
        let sock = unsafe { OwnedFd::from_raw_fd(raw) };
        if let Some(mac) = mac_bytes(&endpoint.mac) {
            let mut ifr = ifreq(name);
            // SAFETY: writing the hwaddr member of the zeroed union.
            let hwaddr = unsafe { &mut ifr.ifr_ifru.ifru_hwaddr };
            hwaddr.sa_family = libc::ARPHRD_ETHER;
            for (dst, src) in hwaddr.sa_data.iter_mut().zip(mac) {
                *dst = src as libc::c_char;
            }
            ioctl(&sock, libc::SIOCSIFHWADDR, &mut ifr, "MAC address")?;
        }
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_addr = sockaddr_v4(endpoint.ip);
        ioctl(&sock, libc::SIOCSIFADDR, &mut ifr, "address")?;
        let mask = if endpoint.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(endpoint.prefix_len))
        };
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_netmask = sockaddr_v4(Ipv4Addr::from(mask));
        ioctl(&sock, libc::SIOCSIFNETMASK, &mut ifr, "netmask")?;
        let mut ifr = ifreq(name);
        ioctl(&sock, libc::SIOCGIFFLAGS, &mut ifr, "flags")?;
        // SAFETY: SIOCGIFFLAGS filled the flags member.
        unsafe { ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        ioctl(&sock, libc::SIOCSIFFLAGS, &mut ifr, "up")?;
        if let Some(gateway) = route {
            let mut rt = RtEntry {
                rt_pad1: 0,
                rt_dst: sockaddr_v4(Ipv4Addr::UNSPECIFIED),
                rt_gateway: sockaddr_v4(gateway),
                rt_genmask: sockaddr_v4(Ipv4Addr::UNSPECIFIED),
                rt_flags: libc::RTF_UP | libc::RTF_GATEWAY,
                rt_pad2: 0,
                rt_pad3: 0,
                rt_pad4: std::ptr::null_mut(),
                rt_metric: 0,
                rt_dev: std::ptr::null_mut(),
                rt_mtu: 0,
                rt_window: 0,
                rt_irtt: 0,
            };
            ioctl(&sock, libc::SIOCADDRT, &mut rt, "default route")?;
        }
        Ok(())
    }
}

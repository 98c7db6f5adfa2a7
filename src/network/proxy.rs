//! Published ports of a rootless container on a user-defined network: a
//! userspace proxy, as docker's `docker-proxy` and podman's `rootlessport`.
//!
//! The bridges of rootless user-defined networks live in the network
//! holder's namespace, which pasta connects to the host for outbound
//! traffic only (its forwards are fixed when it starts). So the monitor
//! binds the host ports itself, in the host's namespace, and hands the
//! sockets to `berth internal port-proxy`, which it starts inside the
//! holder's user and network namespaces ([`spawn`]): sockets the proxy
//! opens there reach the container's address on the bridge, while the
//! listening sockets it inherited stay in the host's namespace. The proxy
//! relays TCP connections and UDP datagrams, single-threaded, and dies with
//! the monitor (parent-death signal) or when the monitor drops its
//! [`Proxy`]. The container sees connections coming from the bridge's
//! gateway, not from the client's own address (as with docker's proxy).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::NetworkError;
use super::bridge::Place;
use super::ports::PortBinding;

/// The first descriptor number the proxy gets its listening sockets at.
const FIRST_FD: RawFd = 3;
/// A UDP client's relay socket is closed after this long without traffic.
const UDP_IDLE: Duration = Duration::from_secs(60);
const BUFFER: usize = 64 * 1024;

/// One forwarded port as the proxy's command line gives it:
/// `FD/PROTO/TARGET_IP:TARGET_PORT` (`5/tcp/10.89.0.2:80`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub fd: RawFd,
    pub udp: bool,
    pub target: SocketAddrV4,
}

impl std::fmt::Display for Forward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = if self.udp { "udp" } else { "tcp" };
        write!(f, "{}/{proto}/{}", self.fd, self.target)
    }
}

impl std::str::FromStr for Forward {
    type Err = String;
    fn from_str(s: &str) -> Result<Forward, String> {
        let bad = || format!("bad forward {s:?}: want FD/tcp|udp/IP:PORT");
        let mut parts = s.splitn(3, '/');
        let fd = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let udp = match parts.next() {
            Some("tcp") => false,
            Some("udp") => true,
            _ => return Err(bad()),
        };
        let target = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        Ok(Forward { fd, udp, target })
    }
}

/// The running proxy of one container; dropping it stops the proxy, which
/// frees the host ports.
pub struct Proxy {
    child: Child,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Binds `bindings`' host ports here (host port 0: one is picked) and
/// starts the proxy in the namespaces of `place`, forwarding them to
/// `container`. Returns the proxy and the bindings with their host ports.
pub fn spawn(
    place: &Place,
    container: Ipv4Addr,
    bindings: &[PortBinding],
) -> Result<(Proxy, Vec<PortBinding>), NetworkError> {
    if bindings.len() > 64 {
        return Err(NetworkError::Setup(
            "more than 64 ports published on a user-defined network".into(),
        ));
    }
    let mut bound = bindings.to_vec();
    let mut sockets = Vec::new();
    for b in bound.iter_mut() {
        let (socket, port) = super::ports::reserve(b)?;
        b.host_port = port;
        sockets.push(socket);
    }
    let forwards: Vec<Forward> = bound
        .iter()
        .enumerate()
        .map(|(i, b)| Forward {
            fd: FIRST_FD + i as RawFd,
            udp: b.proto == "udp",
            target: SocketAddrV4::new(container, b.container_port),
        })
        .collect();
    let exe = std::env::current_exe()
        .map_err(|e| NetworkError::Setup(format!("finding berth's own binary: {e}")))?;
    let mut cmd = Command::new(exe);
    cmd.args(["internal", "port-proxy"])
        .args(forwards.iter().map(|f| f.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let user = place.user.as_ref().map(|f| f.as_raw_fd());
    let net = place.net.as_ref().map(|f| f.as_raw_fd());
    let sources: Vec<RawFd> = sockets.iter().map(|s| s.as_raw_fd()).collect();
    // SAFETY: between fork and exec only fcntl, dup2, prctl and setns, all
    // async-signal-safe; the monitor that calls this is single-threaded.
    unsafe {
        cmd.pre_exec(move || {
            // First out of the way of the numbers they go to, then in place
            // (dup2 clears close-on-exec).
            let mut high = [0 as RawFd; 64];
            for (i, &fd) in sources.iter().enumerate().take(high.len()) {
                high[i] = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100);
                if high[i] < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            for (i, &fd) in high.iter().enumerate().take(sources.len()) {
                if libc::dup2(fd, FIRST_FD + i as RawFd) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(fd) = user
                && libc::setns(fd, libc::CLONE_NEWUSER) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if let Some(fd) = net
                && libc::setns(fd, libc::CLONE_NEWNET) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| NetworkError::Setup(format!("starting the port proxy: {e}")))?;
    // The proxy has its copies; ours close here.
    drop(sockets);
    Ok((Proxy { child }, bound))
}

/// A TCP connection being relayed: the client's side and the container's.
struct Relay {
    client: TcpStream,
    server: TcpStream,
    /// Bytes read from one side and not yet written to the other.
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    client_eof: bool,
    server_eof: bool,
}

/// A UDP client: the relay socket connected to the container's port.
struct UdpPeer {
    listener: usize,
    client: SocketAddr,
    socket: UdpSocket,
    last: Instant,
}

/// `berth internal port-proxy FORWARD...`: relays until killed.
pub fn run(forwards: &[Forward]) -> Result<(), String> {
    let mut tcp: Vec<(TcpListener, SocketAddrV4)> = Vec::new();
    let mut udp: Vec<(UdpSocket, SocketAddrV4)> = Vec::new();
    for f in forwards {
        // SAFETY: the monitor put an open socket at this number for us.
        let fd = unsafe { OwnedFd::from_raw_fd(f.fd) };
        if f.udp {
            let s = UdpSocket::from(fd);
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            udp.push((s, f.target));
        } else {
            let s = TcpListener::from(fd);
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            tcp.push((s, f.target));
        }
    }
    let mut relays: Vec<Relay> = Vec::new();
    let mut peers: Vec<UdpPeer> = Vec::new();
    let mut buf = vec![0u8; BUFFER];
    loop {
        // What to wait for: listeners, then each relay's two sides, then UDP.
        let mut fds: Vec<PollFd> = Vec::new();
        for (l, _) in &tcp {
            fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
        }
        for (s, _) in &udp {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        for r in &relays {
            fds.push(PollFd::new(r.client.as_fd(), relay_interest(r, true)));
            fds.push(PollFd::new(r.server.as_fd(), relay_interest(r, false)));
        }
        for p in &peers {
            fds.push(PollFd::new(p.socket.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::from(1000u16)) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        let ready: Vec<PollFlags> = fds
            .iter()
            .map(|f| f.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(fds);
        // Relays and peers made below wait for the next round.
        let (polled_relays, polled_peers) = (relays.len(), peers.len());
        let mut at = 0;
        for (l, target) in &tcp {
            if !ready[at].is_empty() {
                while let Ok((client, _)) = l.accept() {
                    if let Some(r) = open_relay(client, *target) {
                        relays.push(r);
                    }
                }
            }
            at += 1;
        }
        for (i, (s, target)) in udp.iter().enumerate() {
            if !ready[at].is_empty() {
                while let Ok((n, from)) = s.recv_from(&mut buf) {
                    udp_from_client(&mut peers, i, from, *target, &buf[..n]);
                }
            }
            at += 1;
        }
        let mut keep = Vec::with_capacity(relays.len());
        for (i, mut r) in relays.drain(..).enumerate() {
            if i >= polled_relays {
                keep.push(r);
                continue;
            }
            let (c, s) = (ready[at], ready[at + 1]);
            at += 2;
            if step(&mut r, c, s, &mut buf) {
                keep.push(r);
            }
        }
        relays = keep;
        let now = Instant::now();
        let mut keep = Vec::with_capacity(peers.len());
        for (i, p) in peers.drain(..).enumerate() {
            if i < polled_peers && !ready[at].is_empty() {
                while let Ok(n) = p.socket.recv(&mut buf) {
                    let _ = udp[p.listener].0.send_to(&buf[..n], p.client);
                }
            }
            if i < polled_peers {
                at += 1;
            }
            if now.duration_since(p.last) < UDP_IDLE {
                keep.push(p);
            }
        }
        peers = keep;
    }
}

fn relay_interest(r: &Relay, client_side: bool) -> PollFlags {
    let (eof, pending_out, pending_in) = if client_side {
        (r.client_eof, &r.to_client, &r.to_server)
    } else {
        (r.server_eof, &r.to_server, &r.to_client)
    };
    let mut flags = PollFlags::empty();
    // Read only when what was read last went out (bounded buffers).
    if !eof && pending_in.is_empty() {
        flags |= PollFlags::POLLIN;
    }
    if !pending_out.is_empty() {
        flags |= PollFlags::POLLOUT;
    }
    flags
}

fn open_relay(client: TcpStream, target: SocketAddrV4) -> Option<Relay> {
    // A blocking connect on the bridge: the container answers or refuses at once.
    let server =
        TcpStream::connect_timeout(&SocketAddr::V4(target), Duration::from_secs(5)).ok()?;
    client.set_nonblocking(true).ok()?;
    server.set_nonblocking(true).ok()?;
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    Some(Relay {
        client,
        server,
        to_server: Vec::new(),
        to_client: Vec::new(),
        client_eof: false,
        server_eof: false,
    })
}

/// Moves what is ready; false once the connection is over.
fn step(r: &mut Relay, client: PollFlags, server: PollFlags, buf: &mut [u8]) -> bool {
    let hup = PollFlags::POLLHUP | PollFlags::POLLERR;
    if client.intersects(PollFlags::POLLIN | hup) && !r.client_eof && r.to_server.is_empty() {
        match r.client.read(buf) {
            Ok(0) => {
                r.client_eof = true;
                let _ = r.server.shutdown(std::net::Shutdown::Write);
            }
            Ok(n) => r.to_server.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return false,
        }
    }
    if server.intersects(PollFlags::POLLIN | hup) && !r.server_eof && r.to_client.is_empty() {
        match r.server.read(buf) {
            Ok(0) => {
                r.server_eof = true;
                let _ = r.client.shutdown(std::net::Shutdown::Write);
            }
            Ok(n) => r.to_client.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return false,
        }
    }
    if !flush(&mut r.server, &mut r.to_server) || !flush(&mut r.client, &mut r.to_client) {
        return false;
    }
    !(r.client_eof && r.server_eof && r.to_client.is_empty() && r.to_server.is_empty())
}

/// Writes what it can of `pending`; false when the peer is gone.
fn flush(to: &mut TcpStream, pending: &mut Vec<u8>) -> bool {
    while !pending.is_empty() {
        match to.write(pending) {
            Ok(0) => return false,
            Ok(n) => {
                pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    true
}

fn udp_from_client(
    peers: &mut Vec<UdpPeer>,
    listener: usize,
    client: SocketAddr,
    target: SocketAddrV4,
    data: &[u8],
) {
    let existing = peers
        .iter_mut()
        .find(|p| p.listener == listener && p.client == client);
    let peer = match existing {
        Some(p) => p,
        None => {
            let Ok(socket) = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)) else {
                return;
            };
            if socket.connect(target).is_err() || socket.set_nonblocking(true).is_err() {
                return;
            }
            peers.push(UdpPeer {
                listener,
                client,
                socket,
                last: Instant::now(),
            });
            peers.last_mut().expect("just pushed")
        }
    };
    peer.last = Instant::now();
    let _ = peer.socket.send(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_round_trip_through_their_text() {
        let f: Forward = "5/udp/10.89.0.2:53".parse().unwrap();
        assert_eq!(
            f,
            Forward {
                fd: 5,
                udp: true,
                target: "10.89.0.2:53".parse().unwrap()
            }
        );
        assert_eq!(f.to_string(), "5/udp/10.89.0.2:53");
        assert!("5/sctp/10.0.0.1:1".parse::<Forward>().is_err());
        assert!("x/tcp/10.0.0.1:1".parse::<Forward>().is_err());
        assert!("5/tcp/10.0.0.1".parse::<Forward>().is_err());
    }
}

//! The network holder: one small process per user that user-defined
//! networks need while any container is on one (podman's rootless netns
//! plus aardvark-dns, in one single-threaded process).
//!
//! - **Rootless** it owns a user namespace with the caller's full subuid
//!   map and a network namespace in it, which holds the bridges
//!   ([`super::bridge`]); pasta connects that namespace to the host like a
//!   default-network container's. A container on a user-defined network is
//!   created *inside* the holder's user namespace (its monitor joins it
//!   before the clone: [`enter_user_namespace`]), so its network namespace
//!   is owned by the same user namespace as the bridges and a veth pair can
//!   join the two. Files get the same owners as in any rootless container:
//!   the map is the same.
//! - **As root** the bridges live in the host's namespace and the holder is
//!   only the DNS server.
//!
//! Either way it answers DNS on each network's gateway address, port 53:
//! the names (container name, short id, `--network-alias`) of the running
//! containers on that network, read from their records; other questions
//! are forwarded to the host's resolvers (not on `--internal` networks).
//!
//! Rootless, every container with berth's standard id map is created in
//! the holder's user namespace, whatever its network (one with another map,
//! `--userns=keep-id`, in a user namespace nested in it, whose map the
//! runtime writes from inside: [`crate::runtime`]). That is what lets
//! `network connect` give a container started on the default network a veth
//! pair later: no process can join namespaces owned by two sibling user
//! namespaces. It also makes a start cheaper than its own map would: joining
//! runs no newuidmap. pasta for the holder's namespace starts only when a
//! bridge first needs the way out ([`Holder::ensure_bridge`]).
//!
//! Lifetime: started by the first monitor that needs it. Monitors hold
//! `<runtime>/netns/lock` shared from [`ensure`] until their container is
//! running (starts never wait for each other); spawning takes it
//! exclusively. The holder checks every second; when no running container
//! needs it (rootless: none at all; as root: none on a user-defined
//! network) twice in a row and it can take the lock exclusively, it stops
//! pasta and exits, and the namespaces (rootless: the bridges too) go with
//! it.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::NetworkError;
use super::dns;
use super::store::{Network, NetworkStore};
use crate::container::record::{self, ContainerStore};
use crate::paths::Paths;

/// `<runtime>/netns/holder.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HolderRecord {
    pid: i32,
    start: u64,
}

fn setup_err(what: &str) -> impl FnOnce(std::io::Error) -> NetworkError + '_ {
    move |e| NetworkError::Setup(format!("{what}: {e}"))
}

fn dir(paths: &Paths) -> Result<PathBuf, NetworkError> {
    let dir = paths
        .runtime()
        .map_err(|e| NetworkError::Setup(e.to_string()))?
        .join("netns");
    fs::create_dir_all(&dir).map_err(setup_err("creating the network runtime dir"))?;
    Ok(dir)
}

/// `dir/name`, a file only ever flocked: `lock` (the holder's life),
/// `bridge.lock` (adding bridges).
fn open_lock(dir: &Path, name: &str) -> Result<File, NetworkError> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(name))
        .map_err(setup_err("opening the network lock"))
}

/// A running holder, with the lock that keeps it from exiting.
pub struct Holder {
    pub pid: i32,
    rootless: bool,
    dir: PathBuf,
    _lock: File,
}

impl Holder {
    /// Where the bridges live: the holder's namespaces (rootless), or this
    /// process's own (root).
    pub fn place(&self) -> Result<super::bridge::Place, NetworkError> {
        if !self.rootless {
            return Ok(super::bridge::Place {
                user: None,
                net: None,
            });
        }
        let open = |ns: &str| {
            File::open(format!("/proc/{}/ns/{ns}", self.pid))
                .map_err(setup_err("opening the network holder's namespaces"))
        };
        Ok(super::bridge::Place {
            user: Some(open("user")?),
            net: Some(open("net")?),
        })
    }

    /// Rootless: the user namespace containers are created in (or nested in).
    pub fn user_namespace(&self) -> Option<PathBuf> {
        self.rootless
            .then(|| PathBuf::from(format!("/proc/{}/ns/user", self.pid)))
    }

    /// `network`'s bridge where the holder keeps bridges, with NAT. Rootless,
    /// pasta first connects the holder's namespace to the host if it is not
    /// yet. One monitor at a time (`<runtime>/netns/bridge.lock`): two that
    /// both find no bridge would both add it.
    pub fn ensure_bridge(&self, network: &Network) -> Result<(), NetworkError> {
        let lock = open_lock(&self.dir, "bridge.lock")?;
        lock.lock().map_err(setup_err("locking the bridges"))?;
        if self.rootless {
            self.ensure_outbound()?;
        }
        super::bridge::ensure_bridge(&self.place()?, network)
    }

    /// pasta for the holder's namespace (rootless), recorded in `pasta.pid`
    /// for the holder to stop when it exits (Debian's pasta would stay).
    /// Called under the bridge lock.
    fn ensure_outbound(&self) -> Result<(), NetworkError> {
        if read_pasta(&self.dir).is_some_and(|(_, holder)| holder == self.pid) {
            return Ok(());
        }
        if super::find_in_path("pasta").is_none() {
            return Err(NetworkError::Setup(
                "rootless user-defined networks need pasta: apt-get install passt".into(),
            ));
        }
        let (pasta_pid, pasta_start) = super::Helper::Pasta
            .connect(self.pid, &[], &self.dir)?
            .detach();
        let tmp = self.dir.join("pasta.pid.tmp");
        fs::write(&tmp, format!("{pasta_pid} {pasta_start} {}\n", self.pid))
            .and_then(|()| fs::rename(&tmp, self.dir.join("pasta.pid")))
            .map_err(setup_err("recording pasta's pid"))
    }

    /// Whether the running process `pid` was created in the holder's user
    /// namespace or in one nested in it (what a veth pair between the
    /// holder's bridges and its network namespace needs).
    pub fn owns_user_namespace_of(&self, pid: i32) -> bool {
        if !self.rootless {
            return true;
        }
        let ours = match fs::metadata(format!("/proc/{}/ns/user", self.pid)) {
            Ok(m) => std::os::unix::fs::MetadataExt::ino(&m),
            Err(_) => return false,
        };
        let Ok(theirs) = File::open(format!("/proc/{pid}/ns/user")) else {
            return false;
        };
        let ino = |f: &File| {
            f.metadata()
                .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        };
        if ino(&theirs).is_ok_and(|i| i == ours) {
            return true;
        }
        // NS_GET_PARENT: the user namespace one level up.
        const NS_GET_PARENT: libc::c_ulong = 0xb702;
        // SAFETY: an ioctl on an fd we own; it returns a new fd or -1.
        let parent = unsafe { libc::ioctl(theirs.as_raw_fd(), NS_GET_PARENT as _) };
        if parent < 0 {
            return false;
        }
        // SAFETY: the kernel just gave us this fd.
        let parent = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(parent) };
        ino(&parent).is_ok_and(|i| i == ours)
    }
}

fn read_record(dir: &Path) -> Option<HolderRecord> {
    let rec: HolderRecord =
        serde_json::from_slice(&fs::read(dir.join("holder.json")).ok()?).ok()?;
    record::process_alive(rec.pid, rec.start).then_some(rec)
}

/// Makes sure the holder runs, starting it if needed. The returned holder
/// keeps the lock (shared) that stops it from exiting: keep it until the
/// container is recorded as running.
pub fn ensure(paths: &Paths) -> Result<Holder, NetworkError> {
    let dir = dir(paths)?;
    let lock = open_lock(&dir, "lock")?;
    lock.lock_shared()
        .map_err(setup_err("locking the network holder"))?;
    if let Some(rec) = read_record(&dir) {
        return Ok(Holder {
            pid: rec.pid,
            rootless: paths.rootless,
            dir,
            _lock: lock,
        });
    }
    // None runs: one starter spawns it, the others then find it.
    lock.unlock()
        .map_err(setup_err("unlocking the network holder"))?;
    lock.lock()
        .map_err(setup_err("locking the network holder"))?;
    let rec = match read_record(&dir) {
        Some(rec) => rec,
        None => {
            let rec = spawn(paths, &dir)?;
            let tmp = dir.join("holder.json.tmp");
            fs::write(&tmp, serde_json::to_vec(&rec).expect("serialisable"))
                .and_then(|()| fs::rename(&tmp, dir.join("holder.json")))
                .map_err(setup_err("recording the network holder"))?;
            rec
        }
    };
    // Exclusive to shared is not atomic, but a holder exits only after two
    // idle checks a second apart, and this one was alive a moment ago.
    lock.lock_shared()
        .map_err(setup_err("locking the network holder"))?;
    Ok(Holder {
        pid: rec.pid,
        rootless: paths.rootless,
        dir,
        _lock: lock,
    })
}

/// The holder if it runs (nothing is started), with its lock (shared).
pub fn running(paths: &Paths) -> Option<Holder> {
    let dir = dir(paths).ok()?;
    let lock = open_lock(&dir, "lock").ok()?;
    lock.lock_shared().ok()?;
    let rec = read_record(&dir)?;
    Some(Holder {
        pid: rec.pid,
        rootless: paths.rootless,
        dir,
        _lock: lock,
    })
}

/// The resolvers the holder forwards to: the host's, with loopback ones
/// (rootless) reached through pasta's gateway mapping.
fn upstreams(rootless: bool) -> Vec<Ipv4Addr> {
    let text = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let gateway = if rootless {
        super::Helper::Pasta.addresses().map(|a| a.gateway)
    } else {
        None
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("nameserver") {
            continue;
        }
        let Some(Ok(ip)) = w.next().map(str::parse::<Ipv4Addr>) else {
            continue;
        };
        let ip = match (ip.is_loopback(), gateway) {
            (true, Some(g)) if rootless => g,
            (true, None) if rootless => continue,
            _ => ip,
        };
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

fn spawn(paths: &Paths, dir: &Path) -> Result<HolderRecord, NetworkError> {
    // A holder that was killed left its pasta behind.
    stop_pasta(dir);
    let mapping = if paths.rootless {
        Some(
            crate::userns::IdMapping::for_caller(paths)
                .map_err(|e| NetworkError::Setup(e.to_string()))?,
        )
    } else {
        None
    };
    let mut args: Vec<String> = vec![
        "netns-holder".into(),
        "--data".into(),
        paths.data.display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    if paths.rootless {
        args.push("--own-netns".into());
    }
    for u in upstreams(paths.rootless) {
        args.extend(["--upstream".into(), u.to_string()]);
    }
    let mut child = crate::userns::spawn_helper(paths, mapping.as_ref(), &args)
        .map_err(|e| NetworkError::Setup(format!("starting the network holder: {e}")))?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    let _ = BufReader::new(stdout).read_line(&mut line);
    let status = child.wait();
    let pid = line
        .strip_prefix("ready ")
        .and_then(|p| p.trim().parse::<i32>().ok());
    let Some(pid) = pid else {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(NetworkError::Setup(format!(
            "the network holder did not start ({status:?}): {}",
            err.trim()
        )));
    };
    Ok(HolderRecord {
        pid,
        start: record::process_start_time(pid).unwrap_or(0),
    })
}

/// What `berth internal netns-holder` is given.
pub struct HolderArgs {
    pub data: PathBuf,
    pub dir: PathBuf,
    pub own_netns: bool,
    pub upstreams: Vec<Ipv4Addr>,
}

/// `berth internal netns-holder`: sets up, forks the daemon, prints its pid
/// (`ready PID`), and the first process returns (exit 0).
pub fn run(args: HolderArgs) -> Result<(), NetworkError> {
    if args.own_netns {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| NetworkError::Setup(format!("creating the network namespace: {e}")))?;
        crate::runtime::loopback_up()
            .map_err(|e| NetworkError::Setup(format!("bringing lo up: {e}")))?;
    }
    // SAFETY: a single-threaded process (internal helpers never start
    // threads); the child only runs the loop below.
    match unsafe { nix::unistd::fork() }.map_err(|e| NetworkError::Setup(format!("fork: {e}")))? {
        nix::unistd::ForkResult::Parent { child } => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ready {child}");
            let _ = out.flush();
            Ok(())
        }
        nix::unistd::ForkResult::Child => {
            let _ = nix::unistd::setsid();
            if let Ok(null) = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                for fd in 0..3 {
                    // SAFETY: dup2 onto the standard fds of this process.
                    unsafe { libc::dup2(null.as_raw_fd(), fd) };
                }
            }
            // The lock stays held (exclusive) until the record is gone and
            // the process exits: a starter waiting for it then finds no
            // holder and starts one, rather than joining a dying one.
            let _lock = serve(&args);
            stop_pasta(&args.dir);
            let _ = fs::remove_file(args.dir.join("holder.json"));
            // SAFETY: plain exit of the daemon.
            unsafe { libc::_exit(0) }
        }
    }
}

/// The pasta of `dir`'s holder namespace if it runs: its pid, and the pid
/// of the holder it was started for (`pasta.pid`: `PID START HOLDER`).
fn read_pasta(dir: &Path) -> Option<(i32, i32)> {
    let text = fs::read_to_string(dir.join("pasta.pid")).ok()?;
    let mut w = text
        .split_whitespace()
        .map(|s| s.parse::<u64>().unwrap_or(0));
    let (pid, start) = (w.next()? as i32, w.next()?);
    let holder = w.next().unwrap_or(0) as i32;
    (pid > 0 && record::process_alive(pid, start)).then_some((pid, holder))
}

fn stop_pasta(dir: &Path) {
    if let Some((pid, _)) = read_pasta(dir) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = fs::remove_file(dir.join("pasta.pid"));
}

/// A DNS question forwarded upstream, waiting for its answer.
struct Pending {
    socket: UdpSocket,
    network: String,
    client: SocketAddr,
    deadline: Instant,
}

/// Names → addresses per network id, from the records of running containers.
fn name_table(data: &Path) -> HashMap<String, HashMap<String, Vec<Ipv4Addr>>> {
    let mut table: HashMap<String, HashMap<String, Vec<Ipv4Addr>>> = HashMap::new();
    if !data.join("containers").is_dir() {
        return table;
    }
    let Ok(store) = ContainerStore::open(data) else {
        return table;
    };
    for (config, state) in store.list().unwrap_or_default() {
        if config.networks.is_empty() || !state.observed().status.is_running() {
            continue;
        }
        for e in &config.networks {
            let names = table.entry(e.network_id.clone()).or_default();
            let mut add = |n: &str| {
                let list = names.entry(n.to_ascii_lowercase()).or_default();
                if !list.contains(&e.ip) {
                    list.push(e.ip);
                }
            };
            add(&config.name);
            add(&config.id[..12]);
            for a in &e.aliases {
                add(a);
            }
        }
    }
    table
}

/// The running containers that keep the holder: rootless every one (any
/// may be created in its user namespace, and `network connect` needs that
/// namespace to stay the same), as root those on user-defined networks.
/// None once the store is gone (a deleted test or data dir).
fn needed_by(data: &Path, rootless: bool) -> usize {
    if !data.join("containers").is_dir() {
        return 0;
    }
    ContainerStore::open(data)
        .and_then(|s| s.list())
        .map(|list| {
            list.iter()
                .filter(|(c, s)| {
                    (rootless || !c.networks.is_empty()) && s.observed().status.is_running()
                })
                .count()
        })
        .unwrap_or(1)
}

/// Set by SIGUSR1: a monitor made a bridge, bind its DNS socket now.
static RESCAN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    RESCAN.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Asks the holder to bind the DNS sockets of new bridges and to reread
/// the names at once.
pub fn kick(holder: &Holder) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.pid),
        nix::sys::signal::Signal::SIGUSR1,
    );
}

/// Answers DNS until no container needs the holder; returns the lock,
/// held exclusively.
fn serve(args: &HolderArgs) -> File {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, sigprocmask};
    // SIGUSR1 stays blocked but while ppoll waits: none is lost between
    // the check of RESCAN and the wait.
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None);
    // SAFETY: the handler only stores to an atomic.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGUSR1, SigHandler::Handler(on_usr1)) };
    let wait_mask = SigSet::empty();
    let mut listeners: HashMap<String, (UdpSocket, Network)> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut table = name_table(&args.data);
    let mut table_time = Instant::now();
    let mut last_scan = Instant::now() - Duration::from_secs(10);
    let mut idle = 0;
    let mut buf = vec![0u8; 4096];
    loop {
        if RESCAN.swap(false, std::sync::atomic::Ordering::SeqCst) {
            rescan_listeners(&args.data, &mut listeners);
            // An endpoint came or went: names change.
            table = name_table(&args.data);
            table_time = Instant::now();
        }
        if last_scan.elapsed() >= Duration::from_secs(1) {
            last_scan = Instant::now();
            if needed_by(&args.data, args.own_netns) == 0 {
                idle += 1;
            } else {
                idle = 0;
            }
            if idle >= 2
                && let Ok(lock) = open_lock(&args.dir, "lock")
                && lock.try_lock().is_ok()
                && needed_by(&args.data, args.own_netns) == 0
            {
                return lock;
            }
            rescan_listeners(&args.data, &mut listeners);
        }
        let mut fds: Vec<libc::pollfd> = listeners
            .values()
            .map(|(s, _)| s.as_raw_fd())
            .chain(pending.iter().map(|p| p.socket.as_raw_fd()))
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let timeout = libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        };
        // SAFETY: a valid array of pollfds, a timespec and a sigset that live across the call.
        let n = unsafe {
            libc::ppoll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                &timeout,
                wait_mask.as_ref(),
            )
        };
        if n <= 0 {
            pending.retain(|p| p.deadline > Instant::now());
            continue;
        }
        let ready: Vec<i32> = fds
            .iter()
            .filter(|p| p.revents != 0)
            .map(|p| p.fd)
            .collect();
        for (net_id, (socket, network)) in &listeners {
            if !ready.contains(&socket.as_raw_fd()) {
                continue;
            }
            while let Ok((len, client)) = socket.recv_from(&mut buf) {
                let query = &buf[..len];
                let Some(q) = dns::parse_query(query) else {
                    continue;
                };
                let mut found = table.get(net_id).and_then(|t| t.get(&q.name)).cloned();
                // A miss may be a container that just started; a hit may be
                // one that stopped (stale for a second at most).
                let stale = if found.is_none() { 50 } else { 1000 };
                if table_time.elapsed() > Duration::from_millis(stale) {
                    table = name_table(&args.data);
                    table_time = Instant::now();
                    found = table.get(net_id).and_then(|t| t.get(&q.name)).cloned();
                }
                if let Some(ips) = found {
                    let _ =
                        socket.send_to(&dns::response(query, &q, &ips, dns::RCODE_NOERROR), client);
                    continue;
                }
                let upstream = (!network.internal)
                    .then(|| args.upstreams.first())
                    .flatten();
                let forwarded = upstream.and_then(|u| {
                    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
                    s.set_nonblocking(true).ok()?;
                    s.send_to(query, SocketAddrV4::new(*u, 53)).ok()?;
                    Some(s)
                });
                match forwarded {
                    Some(s) => pending.push(Pending {
                        socket: s,
                        network: net_id.clone(),
                        client,
                        deadline: Instant::now() + Duration::from_secs(5),
                    }),
                    None => {
                        let rcode = if network.internal {
                            dns::RCODE_NXDOMAIN
                        } else {
                            dns::RCODE_SERVFAIL
                        };
                        let _ = socket.send_to(&dns::response(query, &q, &[], rcode), client);
                    }
                }
            }
        }
        pending.retain(|p| {
            if !ready.contains(&p.socket.as_raw_fd()) {
                return p.deadline > Instant::now();
            }
            if let Ok(len) = p.socket.recv(&mut buf)
                && let Some((socket, _)) = listeners.get(&p.network)
            {
                let _ = socket.send_to(&buf[..len], p.client);
            }
            false
        });
    }
}

/// Binds the DNS socket of every network whose bridge exists (its gateway
/// address is assigned), and drops those of removed networks.
fn rescan_listeners(data: &Path, listeners: &mut HashMap<String, (UdpSocket, Network)>) {
    let Ok(networks) = NetworkStore::open(data).and_then(|s| s.user_networks()) else {
        return;
    };
    listeners.retain(|id, _| networks.iter().any(|n| &n.id == id));
    for n in networks {
        if listeners.contains_key(&n.id) {
            continue;
        }
        if let Ok(s) = UdpSocket::bind((n.gateway, 53))
            && s.set_nonblocking(true).is_ok()
        {
            listeners.insert(n.id.clone(), (s, n));
        }
    }
}

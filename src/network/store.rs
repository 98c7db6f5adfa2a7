//! User-defined networks as data: what `network create` makes and every
//! later command reads, and the addresses (IPAM) containers get on them.
//!
//! ```text
//! networks/.lock          flock: exclusive while a network is created or
//!                         removed, or an address is handed out
//! networks/<name>.json    one network (docker's fields), written whole with
//!                         temp + rename
//! ```
//!
//! docker's three predefined networks (`bridge`, `host`, `none`) are not
//! stored: [`NetworkStore::list`] shows them first, with fixed ids derived
//! from the names, and they cannot be removed.
//!
//! Subnets come from docker's default pools (172.18.0.0/16 … 172.31.0.0/16,
//! then 192.168.0.0/20 … 192.168.240.0/20), skipping any that overlaps
//! another network's or a route of the host. A container's address is the
//! lowest free one after the gateway; which are taken is read from the
//! container records ([`crate::container::record::ContainerConfig::networks`]),
//! under the store lock, so two containers never get the same address.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// docker's predefined networks, in `network ls` order after sorting by name.
pub const PREDEFINED: [(&str, &str); 3] =
    [("bridge", "bridge"), ("host", "host"), ("none", "null")];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("network {0} not found")]
    NotFound(String),
    #[error("network with name {0} already exists")]
    Exists(String),
    #[error("invalid network name {0:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    #[error("{0} is a pre-defined network and cannot be removed")]
    Predefined(String),
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    InUse { name: String, id: String },
    #[error("invalid subnet {0}: {1}")]
    InvalidSubnet(String, String),
    #[error("Pool overlaps with other one on this address space")]
    Overlap,
    #[error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )]
    NoPool,
    #[error("no available IPv4 addresses on this network's address pools: {0}")]
    Exhausted(String),
    #[error("Address already in use: {0}")]
    AddressInUse(Ipv4Addr),
    #[error("invalid address {0}: not in the network's subnet {1}")]
    AddressOutside(Ipv4Addr, String),
    #[error("plugin \"{0}\" not found")]
    Driver(String),
    #[error("network store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("network {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An IPv4 subnet, `a.b.c.d/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub len: u8,
}

impl Subnet {
    pub fn parse(s: &str) -> Result<Subnet, StoreError> {
        let bad = |m: &str| StoreError::InvalidSubnet(s.to_string(), m.to_string());
        let (addr, len) = s.split_once('/').ok_or_else(|| bad("no prefix length"))?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad("not an IPv4 address"))?;
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= 30)
            .ok_or_else(|| bad("prefix length must be 0..30"))?;
        let sub = Subnet {
            base: Ipv4Addr::from(u32::from(addr) & mask(len)),
            len,
        };
        Ok(sub)
    }

    fn size(&self) -> u64 {
        1u64 << (32 - self.len)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.len) == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let len = self.len.min(other.len);
        u32::from(self.base) & mask(len) == u32::from(other.base) & mask(len)
    }

    /// The `n`th address of the subnet.
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + n)
    }

    /// The first usable address: docker's default gateway.
    pub fn first_host(&self) -> Ipv4Addr {
        self.nth(1)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.len)
    }
}

fn mask(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

/// A user-defined network, as `networks/<name>.json` holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Network {
    pub id: String,
    pub name: String,
    /// Always `bridge` for stored networks.
    pub driver: String,
    pub created: DateTime<Utc>,
    pub subnet: String,
    pub gateway: Ipv4Addr,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl Network {
    pub fn subnet(&self) -> Subnet {
        Subnet::parse(&self.subnet).expect("validated at create")
    }

    /// The Linux bridge that carries it: docker's `br-<id12>`, or the
    /// `com.docker.network.bridge.name` option.
    pub fn bridge_name(&self) -> String {
        self.options
            .get("com.docker.network.bridge.name")
            .cloned()
            .unwrap_or_else(|| format!("br-{}", &self.id[..12]))
    }
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub driver: String,
    pub subnet: Option<String>,
    pub gateway: Option<Ipv4Addr>,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// One row of `network ls`: a stored network or a predefined one.
#[derive(Debug, Clone)]
pub enum Listed {
    Predefined { name: String, driver: String },
    User(Network),
}

impl Listed {
    pub fn name(&self) -> &str {
        match self {
            Listed::Predefined { name, .. } => name,
            Listed::User(n) => &n.name,
        }
    }
    pub fn id(&self) -> String {
        match self {
            Listed::Predefined { name, .. } => predefined_id(name),
            Listed::User(n) => n.id.clone(),
        }
    }
    pub fn driver(&self) -> &str {
        match self {
            Listed::Predefined { driver, .. } => driver,
            Listed::User(n) => &n.driver,
        }
    }
}

/// The Linux bridge of root's default network (docker's `docker0`).
pub const DEFAULT_BRIDGE: &str = "berth0";

/// root's default network, `bridge`, as a network containers get endpoints
/// on: docker's 172.17.0.0/16 on [`DEFAULT_BRIDGE`]. It is not stored and
/// has no name resolution, as docker's. (Rootless, `bridge` is pasta's.)
pub fn default_bridge() -> Network {
    Network {
        id: predefined_id("bridge"),
        name: "bridge".into(),
        driver: "bridge".into(),
        created: DateTime::<Utc>::UNIX_EPOCH,
        subnet: "172.17.0.0/16".into(),
        gateway: Ipv4Addr::new(172, 17, 0, 1),
        internal: false,
        attachable: false,
        labels: BTreeMap::new(),
        options: BTreeMap::from([(
            "com.docker.network.bridge.name".to_string(),
            DEFAULT_BRIDGE.to_string(),
        )]),
    }
}

/// A stable id for a predefined network (docker's are random per daemon;
/// berth has none, so it derives one from the user's store and the name).
pub fn predefined_id(name: &str) -> String {
    hex::encode(Sha256::digest(format!("berth-predefined-network:{name}")))
}

pub struct NetworkStore {
    dir: PathBuf,
}

/// Held while networks are created, removed, or addresses handed out.
pub struct StoreLock(#[allow(dead_code)] fs::File);

pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidName(name.to_string()))
    }
}

impl NetworkStore {
    pub fn open(data: &Path) -> Result<NetworkStore, StoreError> {
        let dir = data.join("networks");
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(NetworkStore { dir })
    }

    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let path = self.dir.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        f.lock().map_err(io_err(&path))?;
        Ok(StoreLock(f))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn read(&self, path: &Path) -> Result<Network, StoreError> {
        let bytes = fs::read(path).map_err(io_err(path))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The stored networks, by name.
    pub fn user_networks(&self) -> Result<Vec<Network>, StoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            match self.read(&entry.path()) {
                Ok(n) => out.push(n),
                // Removed between read_dir and read.
                Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Predefined networks then the stored ones.
    pub fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut out: Vec<Listed> = PREDEFINED
            .iter()
            .map(|(n, d)| Listed::Predefined {
                name: n.to_string(),
                driver: d.to_string(),
            })
            .collect();
        out.extend(self.user_networks()?.into_iter().map(Listed::User));
        Ok(out)
    }

    /// docker's lookup: exact name, then full id, then a unique id prefix.
    pub fn find(&self, name_or_id: &str) -> Result<Listed, StoreError> {
        let all = self.list()?;
        if let Some(n) = all.iter().find(|n| n.name() == name_or_id) {
            return Ok(n.clone());
        }
        if let Some(n) = all.iter().find(|n| n.id() == name_or_id) {
            return Ok(n.clone());
        }
        let by_prefix: Vec<&Listed> = all
            .iter()
            .filter(|n| !name_or_id.is_empty() && n.id().starts_with(name_or_id))
            .collect();
        match by_prefix.as_slice() {
            [one] => Ok((*one).clone()),
            _ => Err(StoreError::NotFound(name_or_id.to_string())),
        }
    }

    /// A stored network by name or id.
    pub fn get(&self, name_or_id: &str) -> Result<Network, StoreError> {
        match self.find(name_or_id)? {
            Listed::User(n) => Ok(n),
            Listed::Predefined { name, .. } => Err(StoreError::NotFound(name)),
        }
    }

    /// A network a container can have an endpoint on: a stored one, or
    /// root's default [`default_bridge`] (by name or id).
    pub fn get_attachable(&self, name_or_id: &str) -> Result<Network, StoreError> {
        match self.find(name_or_id)? {
            Listed::User(n) => Ok(n),
            Listed::Predefined { name, .. } if name == "bridge" => Ok(default_bridge()),
            Listed::Predefined { name, .. } => Err(StoreError::NotFound(name)),
        }
    }

    /// Creates a network; `host_routes` are the subnets the host already
    /// routes (a new network must not shadow them).
    pub fn create(
        &self,
        name: &str,
        opts: &CreateOptions,
        host_routes: &[Subnet],
    ) -> Result<Network, StoreError> {
        validate_name(name)?;
        if !matches!(opts.driver.as_str(), "" | "bridge") {
            return Err(StoreError::Driver(opts.driver.clone()));
        }
        let _lock = self.lock()?;
        if PREDEFINED.iter().any(|(n, _)| *n == name) || self.path(name).exists() {
            return Err(StoreError::Exists(name.to_string()));
        }
        let taken: Vec<Subnet> = self.user_networks()?.iter().map(|n| n.subnet()).collect();
        let subnet = match &opts.subnet {
            Some(s) => {
                let sub = Subnet::parse(s)?;
                if taken.iter().any(|t| t.overlaps(&sub)) {
                    return Err(StoreError::Overlap);
                }
                sub
            }
            None => default_pools()
                .find(|p| !taken.iter().chain(host_routes).any(|t| t.overlaps(p)))
                .ok_or(StoreError::NoPool)?,
        };
        let gateway = match opts.gateway {
            Some(g) if !subnet.contains(g) => {
                return Err(StoreError::AddressOutside(g, subnet.to_string()));
            }
            Some(g) => g,
            None => subnet.first_host(),
        };
        let network = Network {
            id: crate::container::record::generate_id(),
            name: name.to_string(),
            driver: "bridge".into(),
            created: Utc::now(),
            subnet: subnet.to_string(),
            gateway,
            internal: opts.internal,
            attachable: opts.attachable,
            labels: opts.labels.clone(),
            options: opts.options.clone(),
        };
        let path = self.path(name);
        let tmp = self.dir.join(format!(".new-{name}"));
        let bytes = serde_json::to_vec_pretty(&network).expect("serializable");
        let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        crate::events::network(self.data_dir(), "create", &network.id, name, None);
        Ok(network)
    }

    /// The data dir the networks live in (where [`crate::events`] are logged).
    fn data_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// Removes a network no container is attached to (`users`: the ids of
    /// the containers attached to it, from their records).
    pub fn remove(&self, network: &Network, users: &[String]) -> Result<(), StoreError> {
        if !users.is_empty() {
            return Err(StoreError::InUse {
                name: network.name.clone(),
                id: network.id.clone(),
            });
        }
        let path = self.path(&network.name);
        match fs::remove_file(&path) {
            Ok(()) => {
                let (id, name) = (&network.id, &network.name);
                crate::events::network(self.data_dir(), "destroy", id, name, None);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(network.name.clone()))
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

/// docker's default address pools for user-defined bridge networks.
fn default_pools() -> impl Iterator<Item = Subnet> {
    let sixteens = (18u8..=31).map(|b| Subnet {
        base: Ipv4Addr::new(172, b, 0, 0),
        len: 16,
    });
    let twenties = (0u8..16).map(|i| Subnet {
        base: Ipv4Addr::new(192, 168, i * 16, 0),
        len: 20,
    });
    sixteens.chain(twenties)
}

/// The IPv4 subnets in the routing table text of `/proc/net/route`
/// (default routes left out).
pub fn host_routes(route: &str) -> Vec<Subnet> {
    route
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 || f[1] == "00000000" {
                return None;
            }
            let dest = u32::from_str_radix(f[1], 16).ok()?;
            let m = u32::from_str_radix(f[7], 16).ok()?;
            let base = Ipv4Addr::from(dest.to_le_bytes());
            let len = u32::from_be_bytes(m.to_le_bytes()).count_ones() as u8;
            Some(Subnet { base, len })
        })
        .collect()
}

/// The lowest free address of `network` (neither the gateway, the subnet's
/// network or broadcast address, nor one in `taken`), or `wanted` when it is
/// free and inside the subnet.
pub fn allocate_address(
    network: &Network,
    taken: &BTreeSet<Ipv4Addr>,
    wanted: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, StoreError> {
    let subnet = network.subnet();
    if let Some(w) = wanted {
        if !subnet.contains(w) {
            return Err(StoreError::AddressOutside(w, subnet.to_string()));
        }
        if taken.contains(&w) || w == network.gateway {
            return Err(StoreError::AddressInUse(w));
        }
        return Ok(w);
    }
    (1..subnet.size().saturating_sub(1) as u32)
        .map(|n| subnet.nth(n))
        .find(|a| *a != network.gateway && !taken.contains(a))
        .ok_or_else(|| StoreError::Exhausted(network.name.clone()))
}

/// Where the addresses on root's default bridge are leased. The bridge is
/// one for the whole host, whatever data dir (`--root`) a berth uses, so
/// its addresses cannot be handed out from one store's records alone.
const BRIDGE_LEASES: &str = "/run/berth-bridge";

/// The leases on root's default bridge, locked: one file per address,
/// naming the record dir of the container that holds it. A lease whose
/// container dir is gone is free (no removal path has to remember it).
pub struct BridgeLeases {
    dir: PathBuf,
    _lock: fs::File,
}

impl BridgeLeases {
    pub fn lock() -> Result<BridgeLeases, StoreError> {
        let dir = PathBuf::from(BRIDGE_LEASES);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        f.lock().map_err(io_err(&path))?;
        Ok(BridgeLeases { dir, _lock: f })
    }

    /// The addresses a live container holds; stale leases are removed.
    pub fn taken(&self) -> Result<BTreeSet<Ipv4Addr>, StoreError> {
        let mut taken = BTreeSet::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let Ok(ip) = entry.file_name().to_string_lossy().parse::<Ipv4Addr>() else {
                continue;
            };
            let owner = fs::read_to_string(entry.path()).unwrap_or_default();
            if !owner.is_empty() && Path::new(&owner).exists() {
                taken.insert(ip);
            } else {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(taken)
    }

    /// Leases `ip` to the container whose record dir is `owner` (written
    /// while the lock is held, before the record exists: the caller keeps
    /// the lock until it does).
    pub fn claim(&self, ip: Ipv4Addr, owner: &Path) -> Result<(), StoreError> {
        let path = self.dir.join(ip.to_string());
        fs::write(&path, owner.as_os_str().as_encoded_bytes()).map_err(io_err(&path))
    }
}

/// A locally administered MAC derived from the address, as docker does
/// (`02:42:` + the four address bytes).
pub fn mac_for(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, NetworkStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = NetworkStore::open(dir.path()).unwrap();
        (dir, s)
    }

    #[test]
    fn subnets_parse_and_overlap() {
        let a = Subnet::parse("172.18.5.7/16").unwrap();
        assert_eq!(a.to_string(), "172.18.0.0/16");
        assert!(a.contains("172.18.255.1".parse().unwrap()));
        assert!(!a.contains("172.19.0.1".parse().unwrap()));
        assert!(a.overlaps(&Subnet::parse("172.18.3.0/24").unwrap()));
        assert!(!a.overlaps(&Subnet::parse("172.19.0.0/24").unwrap()));
        assert!(Subnet::parse("172.18.0.0").is_err());
        assert!(Subnet::parse("300.1.1.1/8").is_err());
        assert!(Subnet::parse("10.0.0.0/31").is_err());
    }

    #[test]
    fn create_picks_docker_pools_skipping_taken_and_routed_ones() {
        let (_d, s) = store();
        let o = CreateOptions::default();
        let a = s.create("a", &o, &[]).unwrap();
        assert_eq!(a.subnet, "172.18.0.0/16");
        assert_eq!(a.gateway, Ipv4Addr::new(172, 18, 0, 1));
        let routed = [Subnet::parse("172.19.0.0/24").unwrap()];
        let b = s.create("b", &o, &routed).unwrap();
        assert_eq!(b.subnet, "172.20.0.0/16");
        assert!(matches!(s.create("a", &o, &[]), Err(StoreError::Exists(_))));
        assert!(matches!(
            s.create("bridge", &o, &[]),
            Err(StoreError::Exists(_))
        ));
        let explicit = CreateOptions {
            subnet: Some("172.20.1.0/24".into()),
            ..Default::default()
        };
        assert!(matches!(
            s.create("c", &explicit, &[]),
            Err(StoreError::Overlap)
        ));
        let names: Vec<String> = s.list().unwrap().iter().map(|n| n.name().into()).collect();
        assert_eq!(names, ["bridge", "host", "none", "a", "b"]);
        assert_eq!(s.find(&a.id[..6]).unwrap().name(), "a");
        assert!(matches!(s.find("zzz"), Err(StoreError::NotFound(_))));
        assert!(matches!(
            s.create("bad name", &o, &[]),
            Err(StoreError::InvalidName(_))
        ));
        assert!(matches!(
            s.create(
                "x",
                &CreateOptions {
                    driver: "overlay".into(),
                    ..o.clone()
                },
                &[]
            ),
            Err(StoreError::Driver(_))
        ));
    }

    #[test]
    fn removal_refuses_networks_in_use() {
        let (_d, s) = store();
        let n = s.create("n", &CreateOptions::default(), &[]).unwrap();
        assert!(matches!(
            s.remove(&n, &["abc".into()]),
            Err(StoreError::InUse { .. })
        ));
        s.remove(&n, &[]).unwrap();
        assert!(matches!(s.get("n"), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn addresses_skip_gateway_and_taken_ones() {
        let (_d, s) = store();
        let n = s
            .create(
                "n",
                &CreateOptions {
                    subnet: Some("10.7.0.0/29".into()),
                    gateway: Some("10.7.0.1".parse().unwrap()),
                    ..Default::default()
                },
                &[],
            )
            .unwrap();
        let mut taken = BTreeSet::new();
        for want in 2..=6 {
            let a = allocate_address(&n, &taken, None).unwrap();
            assert_eq!(a, Ipv4Addr::new(10, 7, 0, want));
            taken.insert(a);
        }
        assert!(matches!(
            allocate_address(&n, &taken, None),
            Err(StoreError::Exhausted(_))
        ));
        assert!(matches!(
            allocate_address(&n, &BTreeSet::new(), Some("10.8.0.2".parse().unwrap())),
            Err(StoreError::AddressOutside(..))
        ));
        assert_eq!(mac_for("172.18.0.2".parse().unwrap()), "02:42:ac:12:00:02");
    }

    #[test]
    fn routes_from_proc_net_route() {
        let route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            host_routes(route),
            vec![Subnet::parse("192.0.2.0/24").unwrap()]
        );
    }
}

//! What the `network` commands do beyond the store: who uses a network,
//! docker's inspect JSON, removal and prune rules, and `connect` /
//! `disconnect` of created and running containers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::NetworkError;
use super::store::{Listed, Network, NetworkStore, StoreError};
use crate::container::record::{ContainerConfig, ContainerState, ContainerStore, Endpoint};
use crate::container::spec::NetworkRequest;
use crate::paths::Paths;

/// The containers attached to a network, with their states.
pub fn users(
    containers: &ContainerStore,
    network_id: &str,
) -> Result<Vec<(ContainerConfig, ContainerState)>, NetworkError> {
    Ok(containers
        .list()?
        .into_iter()
        .filter(|(c, _)| c.networks.iter().any(|e| e.network_id == network_id))
        .map(|(c, s)| {
            let s = s.observed();
            (c, s)
        })
        .collect())
}

/// docker's `network inspect` JSON for any listed network.
pub fn inspect_json(
    listed: &Listed,
    containers: &ContainerStore,
    rootless: bool,
) -> Result<Value, NetworkError> {
    // As root, `bridge` is a real network with addresses and endpoints.
    let root_bridge;
    let listed = match listed {
        Listed::Predefined { name, .. } if name == super::DEFAULT_NETWORK && !rootless => {
            root_bridge = Listed::User(super::store::default_bridge());
            &root_bridge
        }
        _ => listed,
    };
    let id = listed.id();
    let (created, ipam, internal, attachable, options, labels) = match listed {
        Listed::User(n) => (
            n.created
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            json!([{"Subnet": n.subnet, "Gateway": n.gateway.to_string()}]),
            n.internal,
            n.attachable,
            json!(n.options),
            json!(n.labels),
        ),
        Listed::Predefined { .. } => (
            "0001-01-01T00:00:00Z".to_string(),
            json!([]),
            false,
            false,
            json!({}),
            json!({}),
        ),
    };
    let mut attached = serde_json::Map::new();
    if let Listed::User(n) = listed {
        for (c, s) in users(containers, &n.id)? {
            if !s.status.is_running() {
                continue;
            }
            let Some(e) = c.networks.iter().find(|e| e.network_id == n.id) else {
                continue;
            };
            attached.insert(
                c.id.clone(),
                json!({
                    "Name": c.name,
                    "EndpointID": e.endpoint_id,
                    "MacAddress": e.mac,
                    "IPv4Address": format!("{}/{}", e.ip, e.prefix_len),
                    "IPv6Address": "",
                }),
            );
        }
    }
    Ok(json!({
        "Name": listed.name(),
        "Id": id,
        "Created": created,
        "Scope": "local",
        "Driver": listed.driver(),
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": ipam},
        "Internal": internal,
        "Attachable": attachable,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": attached,
        "Options": options,
        "Labels": labels,
    }))
}

/// docker's rule: a network with a running container on it stays.
fn running_users(
    containers: &ContainerStore,
    network: &Network,
) -> Result<Vec<String>, NetworkError> {
    Ok(users(containers, &network.id)?
        .into_iter()
        .filter(|(_, s)| s.status.is_running())
        .map(|(c, _)| c.id)
        .collect())
}

/// Removes the network `name_or_id` (not a predefined one, not one a
/// running container is on), and its bridge where that outlives containers.
pub fn remove(paths: &Paths, name_or_id: &str) -> Result<String, NetworkError> {
    let store = NetworkStore::open(&paths.data)?;
    let containers = ContainerStore::open(&paths.data)?;
    let network = match store.find(name_or_id)? {
        Listed::User(n) => n,
        Listed::Predefined { name, .. } => return Err(StoreError::Predefined(name).into()),
    };
    let _lock = store.lock()?;
    store.remove(&network, &running_users(&containers, &network)?)?;
    remove_bridge(paths, &network);
    Ok(network.name)
}

/// The bridge goes with the network: as root it lives in the host's
/// namespace; rootless in the holder's, if it runs.
fn remove_bridge(paths: &Paths, network: &Network) {
    if !paths.rootless {
        let host = super::bridge::Place {
            user: None,
            net: None,
        };
        let _ = super::bridge::remove_bridge(&host, network);
    } else if let Some(holder) = super::holder::running(paths)
        && let Ok(place) = holder.place()
    {
        let _ = super::bridge::remove_bridge(&place, network);
    }
}

/// `network prune`: every user-defined network no container (running or
/// not) is attached to (and, with `until`, created before it); their names.
pub fn prune(
    paths: &Paths,
    labels: &[(bool, String, Option<String>)],
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<String>, NetworkError> {
    let store = NetworkStore::open(&paths.data)?;
    let containers = ContainerStore::open(&paths.data)?;
    let _lock = store.lock()?;
    let mut removed = Vec::new();
    for n in store.user_networks()? {
        let label_ok = labels.iter().all(|(want, k, v)| {
            let has = match v {
                Some(v) => n.labels.get(k) == Some(v),
                None => n.labels.contains_key(k),
            };
            has == *want
        });
        let too_new = until.is_some_and(|t| n.created >= t);
        if !label_ok || too_new || !users(&containers, &n.id)?.is_empty() {
            continue;
        }
        store.remove(&n, &[])?;
        remove_bridge(paths, &n);
        removed.push(n.name);
    }
    Ok(removed)
}

/// `network connect`: a new endpoint in the container's record, and, when
/// it runs, its veth pair at once.
pub fn connect(
    paths: &Paths,
    network: &str,
    container: &str,
    aliases: &[String],
    ip: Option<std::net::Ipv4Addr>,
) -> Result<(), NetworkError> {
    let store = NetworkStore::open(&paths.data)?;
    let containers = ContainerStore::open(&paths.data)?;
    let id = containers.resolve(container)?;
    let (config, state) = containers.load(&id)?;
    let state = state.observed();
    let net = match store.find(network)? {
        Listed::User(n) => n,
        Listed::Predefined { name, .. } => {
            return Err(NetworkError::Setup(format!(
                "connecting a container to the predefined network {name} is not supported by berth"
            )));
        }
    };
    if config.networks.iter().any(|e| e.network_id == net.id) {
        return Err(NetworkError::Setup(format!(
            "endpoint with name {} already exists in network {}",
            config.name, net.name
        )));
    }
    // docker's refusals: a namespace shared with the host or another
    // container, or none at all, takes no more networks. The rootless
    // default network (a helper, no endpoint) takes them.
    if config.networks.is_empty() && config.network_helper.is_empty() {
        return Err(NetworkError::Setup(
            if config.network_mode == "none" {
                "container cannot be connected to multiple networks with one of the networks in private (none) mode"
            } else {
                "container sharing network namespace with another container or host cannot be connected to any other network"
            }
            .into(),
        ));
    }
    let request = NetworkRequest {
        network: net.id.clone(),
        aliases: aliases.to_vec(),
        ip,
    };
    let _container_lock = containers.lock(&id)?;
    let (lock, endpoints) = super::plan_endpoints(
        &store,
        &containers,
        &[request],
        &config.networks,
        &containers.dir(&id),
    )?;
    let Some(endpoint) = endpoints.into_iter().next() else {
        return Ok(());
    };
    let mut config = containers.read_config(&id)?;
    config.networks.push(endpoint.clone());
    containers.write_config(&config)?;
    drop(lock);
    if state.status.is_running() {
        let holder = super::holder::ensure(paths)?;
        if !holder.owns_user_namespace_of(state.pid) {
            config.networks.pop();
            containers.write_config(&config)?;
            return Err(NetworkError::NotOnUserNetwork(config.name.clone()));
        }
        let place = holder.place()?;
        let inside = super::bridge::free_inside_index(state.pid, config.networks.len());
        let result = holder.ensure_bridge(&net).and_then(|()| {
            super::bridge::attach(&place, &net, &endpoint, state.pid, inside, false)
        });
        if let Err(e) = result {
            config.networks.pop();
            containers.write_config(&config)?;
            return Err(e);
        }
        super::holder::kick(&holder);
    }
    point_resolver(&containers, &config, None);
    crate::events::network(&paths.data, "connect", &net.id, &net.name, Some(&id));
    Ok(())
}

/// `network disconnect`: the endpoint leaves the record, and a running
/// container loses its veth pair.
pub fn disconnect(paths: &Paths, network: &str, container: &str) -> Result<(), NetworkError> {
    let store = NetworkStore::open(&paths.data)?;
    let containers = ContainerStore::open(&paths.data)?;
    let id = containers.resolve(container)?;
    let net = store.find(network)?;
    let net_id = net.id();
    let _container_lock = containers.lock(&id)?;
    let mut config = containers.read_config(&id)?;
    let state = containers.read_state(&id)?.observed();
    let Some(pos) = config.networks.iter().position(|e| e.network_id == net_id) else {
        return Err(NetworkError::Setup(format!(
            "container {} is not connected to network {}",
            config.name,
            net.name()
        )));
    };
    let endpoint = config.networks.remove(pos);
    containers.write_config(&config)?;
    if state.status.is_running()
        && let Some(holder) = super::holder::running(paths)
    {
        let place = holder.place()?;
        super::bridge::detach(&place, &endpoint)?;
        super::holder::kick(&holder);
    }
    point_resolver(&containers, &config, Some(&endpoint));
    crate::events::network(&paths.data, "disconnect", &net_id, net.name(), Some(&id));
    Ok(())
}

/// docker's embedded DNS follows the endpoints: a container that joins its
/// first user-defined network asks berth's DNS server (on that network's
/// gateway) from then on; one that leaves the network it asked, another
/// one's, or the host's resolvers when none is left. `resolv.conf` is
/// rewritten in place: the container sees it through its bind mount.
fn point_resolver(containers: &ContainerStore, config: &ContainerConfig, left: Option<&Endpoint>) {
    let path = containers.dir(&config.id).join("resolv.conf");
    let Ok(current) = std::fs::read_to_string(&path) else {
        return;
    };
    let nameservers: Vec<&str> = current
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver"))
        .map(str::trim)
        .collect();
    let user_gateways: Vec<String> = config
        .networks
        .iter()
        .filter(|e| e.network != super::DEFAULT_NETWORK)
        .map(|e| e.gateway.to_string())
        .collect();
    if nameservers
        .iter()
        .any(|n| user_gateways.iter().any(|g| g == n))
    {
        return;
    }
    let asked_the_one_left = left.is_some_and(|e| nameservers == [e.gateway.to_string().as_str()]);
    let text = match user_gateways.first() {
        Some(gateway) => crate::container::etc::resolv_conf_with_nameserver(&current, gateway),
        None if asked_the_one_left => {
            let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            crate::container::etc::generate_resolv_conf(
                &host,
                &crate::container::spec::NetworkMode::Bridge,
            )
        }
        None => return,
    };
    let _ = std::fs::write(&path, text);
}

/// `network ls` labels as docker prints them: `k=v,k2=v2`.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

//! Published ports: docker's `-p` syntax, the bindings berth records, and
//! docker's ways of showing them (`port`, the `ps` PORTS column, inspect's
//! `PortBindings`/`Ports` maps).
//!
//! A binding's `host_port` 0 means "a free port picked when the container
//! starts" (docker's empty `HostPort`); the monitor picks it
//! ([`allocate`]) and records the result in the container's state.
//! An empty `host_ip` means every IPv4 address (`0.0.0.0`): berth binds
//! IPv4 only, so `port` prints no `[::]` lines.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One published port: host address and port → container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PortBinding {
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// `""`: all IPv4 addresses.
    #[serde(default)]
    pub host_ip: String,
    /// 0: picked when the container starts.
    #[serde(default)]
    pub host_port: u16,
}

impl PortBinding {
    /// docker's key, `80/tcp`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
    }

    /// The address shown for the host side (`0.0.0.0` for all).
    pub fn shown_ip(&self) -> &str {
        if self.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &self.host_ip
        }
    }

    /// `0.0.0.0:8080` (`[::1]:8080` for IPv6).
    pub fn host_addr(&self) -> String {
        let ip = self.shown_ip();
        if ip.contains(':') {
            format!("[{ip}]:{}", self.host_port)
        } else {
            format!("{ip}:{}", self.host_port)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("invalid publish spec {spec:?}: {why}")]
    Invalid { spec: String, why: String },
    #[error("no free {proto} port on {ip}: {source}")]
    Allocate {
        proto: String,
        ip: String,
        source: std::io::Error,
    },
    /// docker's words for a host port something else holds.
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    InUse { ip: String, port: u16 },
}

fn invalid(spec: &str, why: impl Into<String>) -> PortError {
    PortError::Invalid {
        spec: spec.to_string(),
        why: why.into(),
    }
}

/// `80` or `8000-8010` → (first, last).
fn parse_range(spec: &str, s: &str, what: &str) -> Result<(u16, u16), PortError> {
    let port = |p: &str| -> Result<u16, PortError> {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(spec, format!("invalid {what} port {p:?}"))),
        }
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if b < a {
                return Err(invalid(spec, format!("invalid {what} port range {s:?}")));
            }
            Ok((a, b))
        }
        None => {
            let p = port(s)?;
            Ok((p, p))
        }
    }
}

/// docker's `-p` forms (`nat.ParsePortSpec`): `CPORT`, `HPORT:CPORT`,
/// `IP:HPORT:CPORT`, `IP::CPORT`, `::CPORT`, `[IPv6]:HPORT:CPORT`, each
/// port a number or a range, `/tcp` or `/udp` after the container port. A
/// range becomes one binding per port.
pub fn parse_publish(spec: &str) -> Result<Vec<PortBinding>, PortError> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    match proto.as_str() {
        "tcp" | "udp" => {}
        "sctp" => return Err(invalid(spec, "sctp is not supported by berth")),
        other => return Err(invalid(spec, format!("invalid protocol {other:?}"))),
    }
    // docker's splitParts: the last field is the container port, the one
    // before it the host port, everything before that the address.
    let parts: Vec<&str> = rest.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    let (ip, host) = match n {
        1 => (String::new(), ""),
        2 => (String::new(), parts[0]),
        _ => (parts[..n - 2].join(":"), parts[n - 2]),
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(invalid(spec, format!("invalid IP address {ip:?}")));
    }
    if container.is_empty() {
        return Err(invalid(spec, "no container port"));
    }
    let (c0, c1) = parse_range(spec, container, "container")?;
    let hosts: Option<(u16, u16)> = if host.is_empty() {
        None
    } else {
        Some(parse_range(spec, host, "host")?)
    };
    if let Some((h0, h1)) = hosts
        && h1 - h0 != c1 - c0
    {
        return Err(invalid(
            spec,
            "host and container port ranges must have the same length (berth does not pick a port from a host range yet)",
        ));
    }
    Ok((c0..=c1)
        .enumerate()
        .map(|(i, cp)| PortBinding {
            container_port: cp,
            proto: proto.clone(),
            host_ip: ip.clone(),
            host_port: hosts.map_or(0, |(h0, _)| h0 + i as u16),
        })
        .collect())
}

/// An image's `ExposedPorts` keys (`80/tcp`, `53/udp`, `8080`) as
/// (port, proto).
pub fn parse_exposed(key: &str) -> Option<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
    let proto = proto.to_ascii_lowercase();
    matches!(proto.as_str(), "tcp" | "udp").then_some((port, proto))
}

/// What a container publishes when it starts: its `-p` bindings, and with
/// `-P` every exposed port not already bound, on a free port.
pub fn requested(
    bindings: &[PortBinding],
    publish_all: bool,
    exposed: &[String],
) -> Vec<PortBinding> {
    let mut out = bindings.to_vec();
    if publish_all {
        for key in exposed {
            if let Some((port, proto)) = parse_exposed(key)
                && !out
                    .iter()
                    .any(|b| b.container_port == port && b.proto == proto)
            {
                out.push(PortBinding {
                    container_port: port,
                    proto,
                    host_ip: String::new(),
                    host_port: 0,
                });
            }
        }
    }
    out
}

/// Gives every binding without a host port a free one, and checks that
/// the fixed ones are free (docker's "port is already allocated" rather
/// than the helper's own words): binds each on its address, and lets go
/// when this returns, for the network helper to bind.
pub fn allocate(bindings: &[PortBinding]) -> Result<Vec<PortBinding>, PortError> {
    let mut out = bindings.to_vec();
    // Held until all are picked, so two picks never get the same port.
    let mut held = Vec::new();
    for b in out.iter_mut() {
        let (socket, port) = reserve(b)?;
        b.host_port = port;
        held.push(socket);
    }
    Ok(out)
}

/// Binds a binding's host port (0: the kernel picks one) and keeps it
/// bound: what holds a port published through NAT (see
/// [`super::bridge::publish`]). Returns the socket and the port.
pub fn reserve(b: &PortBinding) -> Result<(std::os::fd::OwnedFd, u16), PortError> {
    let ip: IpAddr = if b.host_ip.is_empty() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        b.host_ip.parse().map_err(|_| PortError::Allocate {
            proto: b.proto.clone(),
            ip: b.host_ip.clone(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?
    };
    let err = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            PortError::InUse {
                ip: ip.to_string(),
                port: b.host_port,
            }
        } else {
            PortError::Allocate {
                proto: b.proto.clone(),
                ip: ip.to_string(),
                source,
            }
        }
    };
    let (fd, addr) = if b.proto == "udp" {
        let s = UdpSocket::bind((ip, b.host_port)).map_err(err)?;
        let addr = s.local_addr().map_err(err)?;
        (std::os::fd::OwnedFd::from(s), addr)
    } else {
        let s = TcpListener::bind((ip, b.host_port)).map_err(err)?;
        let addr = s.local_addr().map_err(err)?;
        (std::os::fd::OwnedFd::from(s), addr)
    };
    Ok((fd, addr.port()))
}

/// `port CTR` lines: `80/tcp -> 0.0.0.0:8080`, sorted by port, then protocol.
pub fn port_lines(bindings: &[PortBinding]) -> Vec<String> {
    let mut sorted = bindings.to_vec();
    sorted.sort();
    sorted
        .iter()
        .map(|b| format!("{} -> {}", b.key(), b.host_addr()))
        .collect()
}

/// docker's `HostConfig.PortBindings`: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`
/// (`HostPort` `""` for a port picked at start).
pub fn port_bindings_json(bindings: &[PortBinding]) -> Value {
    let mut map: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for b in bindings {
        map.entry(b.key()).or_default().push(json!({
            "HostIp": b.host_ip,
            "HostPort": if b.host_port == 0 { String::new() } else { b.host_port.to_string() },
        }));
    }
    json!(map)
}

/// docker's `NetworkSettings.Ports` of a running container: every exposed
/// or published port, `null` when not published.
pub fn ports_json(bindings: &[PortBinding], exposed: &[String]) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for key in exposed {
        if let Some((port, proto)) = parse_exposed(key) {
            map.insert(format!("{port}/{proto}"), Value::Null);
        }
    }
    for b in bindings {
        let entry = map.entry(b.key()).or_insert(Value::Null);
        if !entry.is_array() {
            *entry = json!([]);
        }
        entry.as_array_mut().expect("array").push(json!({
            "HostIp": b.shown_ip(),
            "HostPort": b.host_port.to_string(),
        }));
    }
    json!(map)
}

/// docker's `ps` PORTS column (`DisplayablePorts`): `0.0.0.0:8080->80/tcp`,
/// consecutive ports of one address and protocol folded into ranges
/// (`0.0.0.0:8000-8002->8000-8002/tcp`), exposed ports without a binding as
/// `80/tcp`; joined by `, `.
pub fn display(bindings: &[PortBinding], exposed: &[String]) -> String {
    // (ip, proto, host_port - container_port offset) groups, as docker.
    let mut sorted = bindings.to_vec();
    sorted.sort_by(|a, b| {
        (a.shown_ip(), &a.proto, a.container_port).cmp(&(b.shown_ip(), &b.proto, b.container_port))
    });
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let first = &sorted[i];
        let mut j = i;
        while j + 1 < sorted.len() {
            let (a, b) = (&sorted[j], &sorted[j + 1]);
            if b.shown_ip() == a.shown_ip()
                && b.proto == a.proto
                && b.container_port == a.container_port + 1
                && b.host_port == a.host_port.wrapping_add(1)
            {
                j += 1;
            } else {
                break;
            }
        }
        let last = &sorted[j];
        let ip = first.host_addr();
        let ip = &ip[..ip.len() - first.host_port.to_string().len() - 1];
        if i == j {
            parts.push(format!(
                "{ip}:{}->{}/{}",
                first.host_port, first.container_port, first.proto
            ));
        } else {
            parts.push(format!(
                "{ip}:{}-{}->{}-{}/{}",
                first.host_port,
                last.host_port,
                first.container_port,
                last.container_port,
                first.proto
            ));
        }
        i = j + 1;
    }
    let mut bare: Vec<(u16, String)> = exposed
        .iter()
        .filter_map(|k| parse_exposed(k))
        .filter(|(p, proto)| {
            !bindings
                .iter()
                .any(|b| b.container_port == *p && &b.proto == proto)
        })
        .collect();
    bare.sort();
    bare.dedup();
    parts.extend(bare.iter().map(|(p, proto)| format!("{p}/{proto}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ip: &str, hp: u16, cp: u16, proto: &str) -> PortBinding {
        PortBinding {
            container_port: cp,
            proto: proto.into(),
            host_ip: ip.into(),
            host_port: hp,
        }
    }

    #[test]
    fn docker_publish_forms() {
        assert_eq!(
            parse_publish("8080:80").unwrap(),
            vec![b("", 8080, 80, "tcp")]
        );
        assert_eq!(
            parse_publish("127.0.0.1:8080:80").unwrap(),
            vec![b("127.0.0.1", 8080, 80, "tcp")]
        );
        assert_eq!(
            parse_publish("127.0.0.1::80").unwrap(),
            vec![b("127.0.0.1", 0, 80, "tcp")]
        );
        assert_eq!(parse_publish("::80").unwrap(), vec![b("", 0, 80, "tcp")]);
        assert_eq!(parse_publish("80").unwrap(), vec![b("", 0, 80, "tcp")]);
        assert_eq!(
            parse_publish("8080:80/udp").unwrap(),
            vec![b("", 8080, 80, "udp")]
        );
        assert_eq!(
            parse_publish("[::1]:8080:80").unwrap(),
            vec![b("::1", 8080, 80, "tcp")]
        );
        assert_eq!(
            parse_publish("8000-8002:9000-9002").unwrap(),
            vec![
                b("", 8000, 9000, "tcp"),
                b("", 8001, 9001, "tcp"),
                b("", 8002, 9002, "tcp")
            ]
        );
        assert_eq!(parse_publish("90-91").unwrap().len(), 2);
        for bad in [
            "",
            "a:80",
            "1.2.3:80:80",
            "8000-8010:80",
            "80/sctp",
            "0",
            "70000",
            "9-8",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docker_shapes() {
        let bs = vec![
            b("", 8000, 8000, "tcp"),
            b("", 8001, 8001, "tcp"),
            b("127.0.0.1", 5353, 53, "udp"),
        ];
        let exposed = vec!["443/tcp".to_string(), "8000/tcp".to_string()];
        assert_eq!(
            display(&bs, &exposed),
            "0.0.0.0:8000-8001->8000-8001/tcp, 127.0.0.1:5353->53/udp, 443/tcp"
        );
        assert_eq!(
            port_lines(&bs),
            vec![
                "53/udp -> 127.0.0.1:5353",
                "8000/tcp -> 0.0.0.0:8000",
                "8001/tcp -> 0.0.0.0:8001"
            ]
        );
        assert_eq!(
            ports_json(&bs[2..], &exposed),
            json!({"443/tcp": null, "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}], "8000/tcp": null})
        );
        assert_eq!(
            port_bindings_json(&[b("", 0, 80, "tcp")]),
            json!({"80/tcp": [{"HostIp": "", "HostPort": ""}]})
        );
        assert_eq!(
            requested(&bs[2..], true, &exposed).len(),
            3,
            "-P adds the exposed ports"
        );
    }

    #[test]
    fn allocation_picks_free_ports() {
        let got = allocate(&[b("127.0.0.1", 0, 80, "tcp"), b("127.0.0.1", 0, 53, "udp")]).unwrap();
        assert!(got.iter().all(|b| b.host_port != 0));
    }
}

//! The per-container `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`,
//! as docker writes them (libnetwork's etchosts and resolvconf):
//!
//! - `--network host`: hosts and resolv.conf are copies of the host's, extra
//!   hosts (`--add-host`) appended;
//! - `--network none`: hosts holds docker's default localhost lines (no entry
//!   for the container's own name: it has no address), resolv.conf is the
//!   host's with loopback nameservers removed (they would point into the
//!   container's own empty namespace) and docker's fallback nameservers when
//!   none is left.
//! - the default network (`bridge`, [`crate::network`]): docker's default
//!   localhost lines, `IP\thostname`, `host.docker.internal` and
//!   `host.containers.internal` at the address that reaches the host (added
//!   by the caller as extra hosts), and the same resolv.conf filtering as
//!   `none` (the host's loopback resolvers are not reachable as such).
//! - `--dns`/`--dns-search` replace the nameservers/search domains
//!   ([`apply_dns_flags`]), `--add-host` lines come last, as docker's.

use super::spec::NetworkMode;

/// docker's default hosts content (etchosts.Build without records).
pub const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n\
    ::1\tlocalhost ip6-localhost ip6-loopback\n\
    fe00::0\tip6-localnet\n\
    ff00::0\tip6-mcastprefix\n\
    ff02::1\tip6-allnodes\n\
    ff02::2\tip6-allrouters\n";

/// docker's fallback nameservers when filtering leaves none.
pub const DEFAULT_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// `/etc/hosts`. `host_hosts`: the host's `/etc/hosts` text (used for
/// `--network host`). `extra`: `--add-host` pairs (name, ip).
pub fn generate_hosts(
    network: &NetworkMode,
    host_hosts: &str,
    extra: &[(String, String)],
) -> String {
    let mut out = match network {
        NetworkMode::Host => {
            let mut s = host_hosts.to_string();
            if !s.is_empty() && !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        NetworkMode::None | NetworkMode::Bridge | NetworkMode::User | NetworkMode::Container => {
            DEFAULT_HOSTS.to_string()
        }
    };
    for (name, ip) in extra {
        out.push_str(&format!("{ip}\t{name}\n"));
    }
    out
}

/// docker's `--dns`/`--dns-search` over a generated resolv.conf: given
/// nameservers replace all `nameserver` lines, given search domains replace
/// `search`/`domain` lines (`--dns-search .` means none); other lines stay.
pub fn apply_dns_flags(resolv: &str, dns: &[String], search: &[String]) -> String {
    if dns.is_empty() && search.is_empty() {
        return resolv.to_string();
    }
    let mut out = String::new();
    for line in resolv.lines() {
        let first = line.split_whitespace().next();
        if (!dns.is_empty() && first == Some("nameserver"))
            || (!search.is_empty() && matches!(first, Some("search") | Some("domain")))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let domains: Vec<&str> = search
        .iter()
        .map(String::as_str)
        .filter(|d| *d != ".")
        .collect();
    if !domains.is_empty() {
        out.push_str(&format!("search {}\n", domains.join(" ")));
    }
    for ns in dns {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    out
}

/// `/etc/hostname`: the name and a newline.
pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

fn is_loopback_nameserver(addr: &str) -> bool {
    // Zone suffixes (`fe80::1%eth0`) don't change loopback-ness.
    let addr = addr.split('%').next().unwrap_or(addr);
    match addr.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// `/etc/resolv.conf` pointing at one resolver (berth's DNS server of a
/// user-defined network), the host's search and options lines kept.
pub fn resolv_conf_with_nameserver(host_resolv: &str, nameserver: &str) -> String {
    let mut out = String::new();
    for line in host_resolv.lines() {
        if line.split_whitespace().next() == Some("nameserver") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("nameserver {nameserver}\n"));
    out
}

/// `/etc/resolv.conf` from the host's text.
pub fn generate_resolv_conf(host_resolv: &str, network: &NetworkMode) -> String {
    if matches!(network, NetworkMode::Host) {
        let mut s = host_resolv.to_string();
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        return s;
    }
    let mut out = String::new();
    let mut nameservers = 0;
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            match words.next() {
                Some(addr) if !is_loopback_nameserver(addr) => nameservers += 1,
                _ => continue,
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if nameservers == 0 {
        for ns in DEFAULT_NAMESERVERS {
            out.push_str(&format!("nameserver {ns}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_none_and_host() {
        assert_eq!(
            generate_hosts(&NetworkMode::None, "ignored", &[]),
            DEFAULT_HOSTS
        );
        let extra = vec![("db".to_string(), "10.0.0.5".to_string())];
        assert_eq!(
            generate_hosts(&NetworkMode::None, "", &extra),
            format!("{DEFAULT_HOSTS}10.0.0.5\tdb\n")
        );
        assert_eq!(
            generate_hosts(
                &NetworkMode::Host,
                "127.0.0.1 localhost\n10.1.1.1 box",
                &extra
            ),
            "127.0.0.1 localhost\n10.1.1.1 box\n10.0.0.5\tdb\n"
        );
    }

    #[test]
    fn resolv_conf() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.1\nsearch example.com\noptions edns0\n";
        assert_eq!(generate_resolv_conf(host, &NetworkMode::Host), host);
        assert_eq!(
            generate_resolv_conf(host, &NetworkMode::None),
            "# generated\nnameserver 10.0.0.1\nsearch example.com\noptions edns0\n"
        );
        assert_eq!(
            generate_resolv_conf("nameserver 127.0.0.53\nsearch lan\n", &NetworkMode::None),
            "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        assert_eq!(hostname_file("abc"), "abc\n");
        assert_eq!(
            apply_dns_flags(
                "nameserver 10.0.0.1\nsearch lan\noptions ndots:2\n",
                &["1.1.1.1".into()],
                &["example.com".into(), "corp".into()]
            ),
            "options ndots:2\nsearch example.com corp\nnameserver 1.1.1.1\n"
        );
        assert_eq!(
            apply_dns_flags("nameserver 10.0.0.1\nsearch lan\n", &[], &[".".into()]),
            "nameserver 10.0.0.1\n"
        );
        assert_eq!(
            generate_hosts(&NetworkMode::Bridge, "ignored", &[]),
            DEFAULT_HOSTS
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = generate_resolv_conf(&s, &NetworkMode::None);
            let _ = generate_hosts(&NetworkMode::Host, &s, &[(s.clone(), s.clone())]);
        }
    }
}

//! `network create|ls|inspect|rm|prune|connect|disconnect`: docker's
//! network management group (bridge driver; see [`crate::network`]).

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::json;

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::error::{ExitStatus, NotImplemented};
use crate::format::template::TemplateData;
use crate::network::store::{CreateOptions, Listed, NetworkStore};
use crate::network::{NetworkError, manage};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long)]
    gateway: Vec<std::net::Ipv4Addr>,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Enable manual container attachment
    #[arg(long)]
    attachable: bool,
    /// Set metadata on a network
    #[arg(long)]
    label: Vec<String>,
    /// Set driver specific options
    #[arg(short, long = "opt")]
    opt: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    ipam_driver: String,
    /// Enable or disable IPv6 networking
    #[arg(long)]
    ipv6: bool,
    name: String,
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. 'driver=bridge')
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Only display network IDs
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short, long)]
    verbose: bool,
    #[arg(required = true, value_name = "NETWORK")]
    networks: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short, long)]
    force: bool,
    #[arg(required = true, value_name = "NETWORK")]
    networks: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>')
    #[arg(long)]
    filter: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long)]
    alias: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long)]
    ip: Option<std::net::Ipv4Addr>,
    network: String,
    container: String,
}

#[derive(clap::Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    force: bool,
    network: String,
    container: String,
}

pub fn exec(ctx: &Context, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create(args) => create(ctx, args),
        Command::Ls(args) => ls(ctx, args),
        Command::Inspect(args) => inspect(ctx, args),
        Command::Rm(args) => {
            let mut failed = false;
            for n in &args.networks {
                match manage::remove(&ctx.paths, n) {
                    Ok(name) => println!("{name}"),
                    Err(NetworkError::Store(crate::network::store::StoreError::NotFound(_)))
                        if args.force => {}
                    Err(e) => {
                        eprintln!("Error response from daemon: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                return Err(ExitStatus::new(1).into());
            }
            Ok(())
        }
        Command::Prune(args) => prune(ctx, args),
        Command::Connect(args) => match manage::connect(
            &ctx.paths,
            &args.network,
            &args.container,
            &args.alias,
            args.ip,
        ) {
            Err(e @ NetworkError::NotOnUserNetwork(_)) => Err(NotImplemented(e.to_string()).into()),
            Err(e) => Err(daemon_error(e)),
            Ok(()) => Ok(()),
        },
        Command::Disconnect(args) => {
            manage::disconnect(&ctx.paths, &args.network, &args.container).map_err(daemon_error)
        }
    }
}

/// docker prints daemon-side failures this way, exit 1.
fn daemon_error(e: NetworkError) -> anyhow::Error {
    ExitStatus::with_message(1, format!("Error response from daemon: {e}")).into()
}

fn pairs(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        })
        .collect()
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    if args.ipv6 {
        bail!(NotImplemented("IPv6 networks".into()));
    }
    if args.subnet.len() > 1 || args.gateway.len() > 1 {
        bail!(NotImplemented("more than one --subnet or --gateway".into()));
    }
    if !args.gateway.is_empty() && args.subnet.is_empty() {
        bail!("every ip-range or gateway must have a corresponding subnet");
    }
    let store = NetworkStore::open(&ctx.paths.data)?;
    let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    let host_routes = crate::network::store::host_routes(&route);
    let opts = CreateOptions {
        driver: args.driver,
        subnet: args.subnet.first().cloned(),
        gateway: args.gateway.first().copied(),
        internal: args.internal,
        attachable: args.attachable,
        labels: pairs(&args.label),
        options: pairs(&args.opt),
    };
    match store.create(&args.name, &opts, &host_routes) {
        Ok(n) => {
            println!("{}", n.id);
            Ok(())
        }
        Err(e) => Err(daemon_error(e.into())),
    }
}

const HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// `network ls -f`: values of one key ORed, keys ANDed (docker's).
struct Filters {
    by_key: BTreeMap<String, Vec<String>>,
}

impl Filters {
    fn parse(args: &[String]) -> anyhow::Result<Filters> {
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in args {
            let Some((k, v)) = f.split_once('=') else {
                bail!("bad format of filter (expected name=value)");
            };
            if !["driver", "id", "label", "name", "scope", "type", "dangling"].contains(&k) {
                bail!("invalid filter '{k}'");
            }
            by_key.entry(k.to_string()).or_default().push(v.to_string());
        }
        Ok(Filters { by_key })
    }

    fn matches(&self, n: &Listed, used: bool) -> bool {
        self.by_key.iter().all(|(k, values)| {
            values.iter().any(|v| match k.as_str() {
                "driver" => n.driver() == v,
                "id" => n.id().starts_with(v.as_str()),
                "name" => n.name().contains(v.as_str()),
                "scope" => v == "local",
                "type" => match n {
                    Listed::User(_) => v == "custom",
                    Listed::Predefined { .. } => v == "builtin",
                },
                "dangling" => {
                    let want = matches!(v.as_str(), "true" | "1");
                    let dangling = matches!(n, Listed::User(_)) && !used;
                    want == dangling
                }
                "label" => {
                    let Listed::User(u) = n else { return false };
                    match v.split_once('=') {
                        Some((k, val)) => u.labels.get(k).map(String::as_str) == Some(val),
                        None => u.labels.contains_key(v.as_str()),
                    }
                }
                _ => false,
            })
        })
    }
}

fn ls(ctx: &Context, args: LsArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(&args.filter)?;
    let store = NetworkStore::open(&ctx.paths.data)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let mut shown = Vec::new();
    for n in store.list()? {
        let used = match &n {
            Listed::User(u) => !manage::users(&containers, &u.id)?.is_empty(),
            Listed::Predefined { .. } => true,
        };
        if filters.matches(&n, used) {
            shown.push(n);
        }
    }
    let id = |n: &Listed| {
        let id = n.id();
        if args.no_trunc {
            id
        } else {
            id[..12].to_string()
        }
    };
    if args.quiet {
        for n in &shown {
            println!("{}", id(n));
        }
        return Ok(());
    }
    let rows = shown
        .iter()
        .map(|n| {
            let (labels, created, internal) = match n {
                Listed::User(u) => (
                    u.labels.clone(),
                    u.created.format("%Y-%m-%d %H:%M:%S%.f %z UTC").to_string(),
                    u.internal,
                ),
                Listed::Predefined { .. } => (BTreeMap::new(), String::new(), false),
            };
            let value = json!({
                "ID": id(n),
                "Name": n.name(),
                "Driver": n.driver(),
                "Scope": "local",
                "IPv6": "false",
                "Internal": internal.to_string(),
                "Labels": manage::labels_text(&labels),
                "CreatedAt": created,
            });
            TemplateData::from_json(&value).with_method("Label", 1, move |a: &[&str]| {
                labels.get(a[0]).cloned().unwrap_or_default()
            })
        })
        .collect();
    super::output::print_list(
        args.format.as_deref(),
        "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        HEADERS,
        rows,
    )
}

fn inspect(ctx: &Context, args: InspectArgs) -> anyhow::Result<()> {
    let _ = args.verbose;
    let store = NetworkStore::open(&ctx.paths.data)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for n in &args.networks {
        match store.find(n) {
            Ok(listed) => values.push(manage::inspect_json(
                &listed,
                &containers,
                ctx.paths.rootless,
            )?),
            Err(_) => missing.push(n.clone()),
        }
    }
    if !(values.is_empty() && args.format.is_some()) {
        super::output::print_inspect(&values, args.format.as_deref())?;
    }
    if missing.is_empty() {
        return Ok(());
    }
    let message = missing
        .iter()
        .map(|m| format!("Error: No such network: {m}"))
        .collect::<Vec<_>>()
        .join("\n");
    Err(ExitStatus::with_message(1, message).into())
}

/// Inspect JSON of a network by name or id, for the top-level `inspect`
/// (None: no such network).
pub fn inspect_value(ctx: &Context, name: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let store = NetworkStore::open(&ctx.paths.data)?;
    let Ok(listed) = store.find(name) else {
        return Ok(None);
    };
    let containers = ContainerStore::open(&ctx.paths.data)?;
    Ok(Some(manage::inspect_json(
        &listed,
        &containers,
        ctx.paths.rootless,
    )?))
}

fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    let mut labels = Vec::new();
    let mut until = None;
    for f in &args.filter {
        let Some((key, value)) = f.split_once('=') else {
            bail!("bad format of filter (expected name=value)");
        };
        match key {
            "label" | "label!" => {
                let (k, v) = match value.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (value.to_string(), None),
                };
                labels.push((key == "label", k, v));
            }
            "until" => {
                until = Some(crate::container::logread::parse_time_arg(
                    value,
                    chrono::Utc::now(),
                )?)
            }
            _ => bail!("invalid filter '{key}'"),
        }
    }
    if !super::output::confirm_removal(
        "all custom networks not used by at least one container",
        args.force,
    )? {
        return Ok(());
    }
    let removed = manage::prune(&ctx.paths, &labels, until)?;
    if !removed.is_empty() {
        println!("Deleted Networks:");
        for name in &removed {
            println!("{name}");
        }
    }
    Ok(())
}

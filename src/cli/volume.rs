//! `volume create|ls|inspect|rm|prune`: docker's volume management group
//! (the `local` driver; see [`crate::volume`]).

use anyhow::bail;
use serde_json::json;

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::error::ExitStatus;
use crate::format::template::TemplateData;
use crate::volume::{self, Volume, VolumeError, VolumeStore};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short, long, default_value = "local")]
    driver: String,
    /// Set metadata for a volume
    #[arg(long)]
    label: Vec<String>,
    /// Set driver specific options
    #[arg(short, long = "opt")]
    opt: Vec<String>,
    /// Specify volume name
    #[arg(long = "name", hide = true)]
    name_flag: Option<String>,
    name: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. 'dangling=true')
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Only display volume names
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true, value_name = "VOLUME")]
    volumes: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Force the removal of one or more volumes (a volume in use is still kept)
    #[arg(short, long)]
    force: bool,
    #[arg(required = true, value_name = "VOLUME")]
    volumes: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Provide filter values (e.g. 'label=<label>')
    #[arg(long)]
    filter: Vec<String>,
}

pub fn exec(ctx: &Context, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Create(args) => create(ctx, args),
        Command::Ls(args) => ls(ctx, args),
        Command::Inspect(args) => {
            let found = inspect_values(ctx, &args.volumes)?;
            let (values, missing): (Vec<_>, Vec<_>) = found.into_iter().partition(|r| r.is_ok());
            let values: Vec<_> = values.into_iter().map(|v| v.unwrap()).collect();
            if !(values.is_empty() && args.format.is_some()) {
                super::output::print_inspect(&values, args.format.as_deref())?;
            }
            if missing.is_empty() {
                return Ok(());
            }
            let message = missing
                .into_iter()
                .map(|m| format!("Error: No such volume: {}", m.unwrap_err()))
                .collect::<Vec<_>>()
                .join("\n");
            Err(ExitStatus::with_message(1, message).into())
        }
        Command::Rm(args) => {
            let results = volume::remove(ctx, &args.volumes, args.force)?;
            let mut failed = false;
            for (name, r) in args.volumes.iter().zip(results) {
                match r {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("Error: {e}");
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
    }
}

/// Each name's inspect JSON, or the name when there is no such volume.
pub fn inspect_values(
    ctx: &Context,
    names: &[String],
) -> anyhow::Result<Vec<Result<serde_json::Value, String>>> {
    let store = VolumeStore::open(&ctx.paths.data)?;
    names
        .iter()
        .map(|n| match store.get(n) {
            Ok(v) => Ok(Ok(v.inspect_json())),
            Err(VolumeError::NotFound(_)) => Ok(Err(n.clone())),
            Err(e) => Err(e.into()),
        })
        .collect()
}

fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let name = match (args.name, args.name_flag) {
        (Some(a), Some(b)) if a != b => {
            bail!("conflicting options: either specify --name or provide positional arg, not both")
        }
        (a, b) => a.or(b),
    };
    let store = VolumeStore::open(&ctx.paths.data)?;
    let (v, _) = store.create(
        name.as_deref(),
        Some(&args.driver),
        volume::parse_pairs(&args.label),
        volume::parse_pairs(&args.opt),
    )?;
    println!("{}", v.meta.name);
    Ok(())
}

const HEADERS: &[(&str, &str)] = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];

/// `volume ls -f`: keys ANDed, values of one key ORed (labels ANDed, as docker).
#[derive(Default)]
struct Filters {
    dangling: Option<bool>,
    labels: Vec<(String, Option<String>)>,
    names: Vec<String>,
    drivers: Vec<String>,
}

impl Filters {
    fn parse(list: &[String]) -> anyhow::Result<Filters> {
        let mut f = Filters::default();
        for raw in list {
            let Some((k, v)) = raw.split_once('=') else {
                bail!("bad format of filter (expected name=value)");
            };
            match k {
                "dangling" => {
                    f.dangling = Some(match v {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => bail!("invalid filter 'dangling={v}'"),
                    })
                }
                "label" => f.labels.push(match v.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (v.to_string(), None),
                }),
                "name" => f.names.push(v.to_string()),
                "driver" => f.drivers.push(v.to_string()),
                _ => bail!("invalid filter '{k}'"),
            }
        }
        Ok(f)
    }

    fn matches(&self, v: &Volume, used: bool) -> bool {
        if self.dangling.is_some_and(|d| d == used) {
            return false;
        }
        if !self
            .labels
            .iter()
            .all(|(k, val)| volume::label_matches(&v.meta.labels, k, val.as_deref()))
        {
            return false;
        }
        if !self.names.is_empty() && !self.names.iter().any(|n| v.meta.name.contains(n.as_str())) {
            return false;
        }
        self.drivers.is_empty() || self.drivers.contains(&v.meta.driver)
    }
}

fn ls(ctx: &Context, args: LsArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(&args.filter)?;
    let store = VolumeStore::open(&ctx.paths.data)?;
    let all = store.list()?;
    let users = if filters.dangling.is_some() {
        volume::users(&ContainerStore::open(&ctx.paths.data)?)?
    } else {
        Default::default()
    };
    let shown: Vec<&Volume> = all
        .iter()
        .filter(|v| filters.matches(v, users.contains_key(&v.meta.name)))
        .collect();
    if args.quiet {
        for v in shown {
            println!("{}", v.meta.name);
        }
        return Ok(());
    }
    let rows = shown.into_iter().map(row_data).collect();
    super::output::print_list(
        args.format.as_deref(),
        "table {{.Driver}}\t{{.Name}}",
        HEADERS,
        rows,
    )
}

fn row_data(v: &Volume) -> TemplateData {
    let labels = v
        .meta
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let value = json!({
        "Availability": "N/A",
        "Driver": v.meta.driver,
        "Group": "N/A",
        "Labels": labels,
        "Links": "N/A",
        "Mountpoint": v.mountpoint.to_string_lossy(),
        "Name": v.meta.name,
        "Scope": "local",
        "Size": "N/A",
        "Status": "N/A",
    });
    let map = v.meta.labels.clone();
    TemplateData::from_json(&value).with_method("Label", 1, move |args: &[&str]| {
        map.get(args[0]).cloned().unwrap_or_default()
    })
}

fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    let mut all = args.all;
    let mut labels = Vec::new();
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
            "all" => all = matches!(value, "true" | "1"),
            _ => bail!("invalid filter '{key}'"),
        }
    }
    let what = if all {
        "all local volumes not used by at least one container"
    } else {
        "anonymous local volumes not used by at least one container"
    };
    if !super::output::confirm_removal(what, args.force)? {
        return Ok(());
    }
    let (removed, reclaimed) = volume::prune(ctx, all, &labels)?;
    if !removed.is_empty() {
        println!("Deleted Volumes:");
        for name in &removed {
            println!("{name}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        crate::format::units::human_size(reclaimed as f64)
    );
    Ok(())
}

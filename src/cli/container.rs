//! `container SUBCOMMAND`: docker's container management group.

use crate::context::Context;
use crate::error::ExitStatus;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(super::ps::Args),
    /// Create and run a new container from an image
    Run(Box<super::run::Args>),
    /// Create a new container
    Create(Box<super::run::Args>),
    /// Start one or more stopped containers
    Start(super::start::Args),
    /// Stop one or more running containers
    Stop(super::stop::Args),
    /// Restart one or more containers
    Restart(super::restart::Args),
    /// Kill one or more running containers
    Kill(super::kill::Args),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(super::rm::Args),
    /// Block until one or more containers stop, then print their exit codes
    Wait(super::wait::Args),
    /// Fetch the logs of a container
    Logs(super::logs::Args),
    /// Display detailed information on one or more containers
    Inspect(InspectArgs),
    /// Execute a command in a running container
    Exec(super::exec::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(super::attach::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(super::cp::Args),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(super::diff::Args),
    /// Create a new image from a container's changes
    Commit(super::commit::Args),
    /// Export a container's filesystem as a tar archive
    Export(super::export::Args),
    /// Rename a container
    Rename(super::rename::Args),
    /// Display the running processes of a container
    Top(super::top::Args),
    /// Pause all processes within one or more containers
    Pause(super::pause::Args),
    /// Unpause all processes within one or more containers
    Unpause(super::unpause::Args),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    /// Display total file sizes
    #[arg(short, long)]
    size: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PortArgs {
    container: String,
    /// PRIVATE_PORT[/PROTO]
    port: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Provide filter values (e.g. 'until=<timestamp>', 'label=k=v')
    #[arg(long)]
    filter: Vec<String>,
}

/// Whether a command of the group maps its errors like `run` (125).
pub fn is_container_kind(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::Run(_) | Command::Create(_) | Command::Start(_) | Command::Exec(_)
    )
}

pub fn exec(ctx: &Context, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Ls(args) => super::ps::exec(ctx, args),
        Command::Run(args) => super::run::exec(ctx, *args),
        Command::Create(args) => super::create::exec(ctx, *args),
        Command::Start(args) => super::start::exec(ctx, args),
        Command::Stop(args) => super::stop::exec(ctx, args),
        Command::Restart(args) => super::restart::exec(ctx, args),
        Command::Kill(args) => super::kill::exec(ctx, args),
        Command::Rm(args) => super::rm::exec(ctx, args),
        Command::Wait(args) => super::wait::exec(ctx, args),
        Command::Logs(args) => super::logs::exec(ctx, args),
        Command::Inspect(args) => super::inspect::inspect_containers(
            ctx,
            &args.containers,
            args.format.as_deref(),
            args.size,
        ),
        Command::Exec(args) => super::exec::exec(ctx, args),
        Command::Attach(args) => super::attach::exec(ctx, args),
        Command::Cp(args) => super::cp::exec(ctx, args),
        Command::Diff(args) => super::diff::exec(ctx, args),
        Command::Commit(args) => super::commit::exec(ctx, args),
        Command::Export(args) => super::export::exec(ctx, args),
        Command::Rename(args) => super::rename::exec(ctx, args),
        Command::Top(args) => super::top::exec(ctx, args),
        Command::Pause(args) => super::pause::exec(ctx, args),
        Command::Unpause(args) => super::unpause::exec(ctx, args),
        Command::Port(args) => port(ctx, args),
        Command::Prune(args) => prune(ctx, args),
    }
}

/// `port CTR [PORT[/PROTO]]`: the running container's published ports as
/// docker prints them (`80/tcp -> 0.0.0.0:8080`, or `0.0.0.0:8080` for a
/// given port); a port not published is docker's "no public port" error.
pub fn port(ctx: &Context, args: PortArgs) -> anyhow::Result<()> {
    let store = crate::container::record::ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (_config, state) = store.load(&id)?;
    let published = if state.status.is_running() {
        state.ports
    } else {
        Vec::new()
    };
    let mut out = String::new();
    match args.port {
        Some(port) => {
            let key = if port.contains('/') {
                port.to_ascii_lowercase()
            } else {
                format!("{port}/tcp")
            };
            let found: Vec<_> = published.iter().filter(|b| b.key() == key).collect();
            if found.is_empty() {
                return Err(ExitStatus::with_message(
                    1,
                    format!(
                        "Error: No public port '{key}' published for {}",
                        args.container
                    ),
                )
                .into());
            }
            for b in found {
                out.push_str(&b.host_addr());
                out.push('\n');
            }
        }
        None => {
            for line in crate::network::ports::port_lines(&published) {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    print!("{out}");
    Ok(())
}

fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    let mut until = None;
    let mut labels = Vec::new();
    for f in &args.filter {
        let (key, value) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
        match key {
            "until" => {
                until = Some(crate::container::logread::parse_time_arg(
                    value,
                    chrono::Utc::now(),
                )?)
            }
            "label" | "label!" => {
                let (k, v) = match value.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (value.to_string(), None),
                };
                labels.push((key == "label", k, v));
            }
            _ => anyhow::bail!("invalid filter '{key}'"),
        }
    }
    if !super::output::confirm_removal("all stopped containers", args.force)? {
        return Ok(());
    }
    let (removed, reclaimed) = crate::monitor::control::prune(ctx, until, &labels)?;
    if !removed.is_empty() {
        println!("Deleted Containers:");
        for id in &removed {
            println!("{id}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        crate::format::units::human_size(reclaimed as f64)
    );
    Ok(())
}

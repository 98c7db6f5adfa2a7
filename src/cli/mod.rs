//! The command line: docker's commands and flags, one file per command.
//!
//! Each command module has an `Args` struct (clap derive) and an `exec`
//! function that calls into the library and prints. [`main`] parses, runs,
//! prints errors, and maps them to exit codes in one place ([`exit_code`]).

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{ExitStatus, NotImplemented};

mod attach;
mod build;
mod commit;
mod completion;
mod container;
mod cp;
mod create;
mod diff;
pub mod docs;
mod exec;
mod export;
mod history;
mod image;
mod images;
mod import;
mod inspect;
mod internal;
mod kill;
mod load;
mod login;
mod logout;
mod logs;
mod network;
mod output;
mod pause;
mod progress;
mod ps;
mod pull;
mod push;
mod rename;
mod restart;
mod rm;
mod rmi;
mod run;
mod save;
mod start;
mod stop;
mod system;
mod tag;
mod top;
mod unpause;
mod version;
mod volume;
mod wait;

/// The docker release whose command line berth follows.
pub const DOCKER_COMPAT_VERSION: &str = "28.2.2";

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    about = "A daemonless, rootless, docker-compatible container tool",
    disable_version_flag = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Print version information and quit
    #[arg(short = 'v', long = "version", global = false)]
    version: bool,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug", global = true, hide = true)]
    debug: bool,
    /// Set the logging level (accepted for docker compatibility)
    #[arg(short = 'l', long = "log-level", hide = true)]
    log_level: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create and run a new container from an image
    Run(Box<run::Args>),
    /// Create a new container
    Create(Box<run::Args>),
    /// Start one or more stopped containers
    Start(start::Args),
    /// Stop one or more running containers
    Stop(stop::Args),
    /// Restart one or more containers
    Restart(restart::Args),
    /// Kill one or more running containers
    Kill(kill::Args),
    /// Remove one or more containers
    Rm(rm::Args),
    /// Block until one or more containers stop, then print their exit codes
    Wait(wait::Args),
    /// Execute a command in a running container
    Exec(exec::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::Args),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::Args),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(diff::Args),
    /// Rename a container
    Rename(rename::Args),
    /// Display the running processes of a container
    Top(top::Args),
    /// Pause all processes within one or more containers
    Pause(pause::Args),
    /// Unpause all processes within one or more containers
    Unpause(unpause::Args),
    /// List port mappings or a specific mapping for the container
    Port(container::PortArgs),
    /// List containers
    Ps(ps::Args),
    /// Fetch the logs of a container
    Logs(logs::Args),
    /// Download an image from a registry
    Pull(pull::Args),
    /// Upload an image to a registry
    Push(push::Args),
    /// List images
    Images(images::Args),
    /// Build an image from a Dockerfile
    Build(build::Args),
    /// Remove one or more images
    Rmi(rmi::Args),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::Args),
    /// Load an image from a tar archive or STDIN
    Load(load::Args),
    /// Import the contents from a tarball to create a filesystem image
    Import(import::Args),
    /// Create a new image from a container's changes
    Commit(commit::Args),
    /// Export a container's filesystem as a tar archive
    Export(export::Args),
    /// Show the history of an image
    History(history::Args),
    /// Return low-level information on objects
    Inspect(inspect::Args),
    /// Manage images
    #[command(subcommand)]
    Image(image::Command),
    /// Manage containers
    #[command(subcommand)]
    Container(container::Command),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::Command),
    /// Manage networks
    #[command(subcommand)]
    Network(network::Command),
    /// Manage berth (`system boot`: start containers with a restart policy after a reboot)
    #[command(subcommand)]
    System(system::Command),
    /// Log in to a registry
    Login(login::Args),
    /// Log out from a registry
    Logout(logout::Args),
    /// Show the berth version information
    Version(version::Args),
    /// Generate shell completion scripts
    Completion(completion::Args),
    /// Helpers berth runs itself (single-threaded re-execs)
    #[command(hide = true)]
    Internal(internal::Args),
}

/// How a command's errors map to exit codes: container commands use docker's
/// 125 for berth's own errors, everything else 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    Container,
    Other,
}

/// The one place errors become exit codes.
pub fn exit_code(err: &anyhow::Error, kind: CommandKind) -> i32 {
    if let Some(status) = err.downcast_ref::<ExitStatus>() {
        return status.code;
    }
    if err.downcast_ref::<NotImplemented>().is_some() {
        return 125;
    }
    match kind {
        CommandKind::Container => 125,
        CommandKind::Other => 1,
    }
}

fn invoked_as_docker(argv0: &OsString) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == "docker")
}

pub fn main() -> i32 {
    // `berth … | head` must end quietly, as a C program would.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    let as_docker = args.first().is_some_and(invoked_as_docker);
    let mut command = Cli::command();
    if as_docker {
        command = command.name("docker").bin_name("docker");
    }
    let cli = match command
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 125,
            };
            let _ = e.print();
            return code;
        }
    };
    if cli.version {
        println!("{}", version::short_line(as_docker));
        return 0;
    }
    let Some(command) = cli.command else {
        let _ = Cli::command().print_help();
        return 0;
    };
    // Helpers never start a runtime or threads: they may unshare namespaces.
    if let Command::Internal(args) = command {
        return internal::exec(args);
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kind = match &command {
        Command::Run(_) | Command::Create(_) | Command::Start(_) | Command::Exec(_) => {
            CommandKind::Container
        }
        Command::Container(c) if container::is_container_kind(c) => CommandKind::Container,
        _ => CommandKind::Other,
    };
    match run(command, as_docker) {
        Ok(()) => 0,
        Err(err) => {
            report(&err);
            exit_code(&err, kind)
        }
    }
}

fn report(err: &anyhow::Error) {
    if let Some(status) = err.downcast_ref::<ExitStatus>() {
        if let Some(msg) = &status.message {
            eprintln!("{msg}");
        }
        return;
    }
    eprintln!("Error: {err:#}");
}

fn run(command: Command, as_docker: bool) -> anyhow::Result<()> {
    match command {
        Command::Version(args) => version::exec(args, as_docker),
        Command::Completion(args) => completion::exec(args),
        Command::Internal(_) => unreachable!("dispatched before"),
        other => {
            let ctx = crate::context::Context::new()?;
            match other {
                Command::Run(args) => run::exec(&ctx, *args),
                Command::Pull(args) => pull::exec(&ctx, args),
                Command::Push(args) => push::exec(&ctx, args),
                Command::Create(args) => create::exec(&ctx, *args),
                Command::Start(args) => start::exec(&ctx, args),
                Command::Stop(args) => stop::exec(&ctx, args),
                Command::Restart(args) => restart::exec(&ctx, args),
                Command::Kill(args) => kill::exec(&ctx, args),
                Command::Rm(args) => rm::exec(&ctx, args),
                Command::Wait(args) => wait::exec(&ctx, args),
                Command::Exec(args) => exec::exec(&ctx, args),
                Command::Attach(args) => attach::exec(&ctx, args),
                Command::Cp(args) => cp::exec(&ctx, args),
                Command::Diff(args) => diff::exec(&ctx, args),
                Command::Rename(args) => rename::exec(&ctx, args),
                Command::Top(args) => top::exec(&ctx, args),
                Command::Pause(args) => pause::exec(&ctx, args),
                Command::Unpause(args) => unpause::exec(&ctx, args),
                Command::Port(args) => container::port(&ctx, args),
                Command::Ps(args) => ps::exec(&ctx, args),
                Command::Logs(args) => logs::exec(&ctx, args),
                Command::Images(args) => images::exec(&ctx, args),
                Command::Build(args) => build::exec(&ctx, args),
                Command::Rmi(args) => rmi::exec(&ctx, args),
                Command::Tag(args) => tag::exec(&ctx, args),
                Command::Save(args) => save::exec(&ctx, args),
                Command::Load(args) => load::exec(&ctx, args),
                Command::Import(args) => import::exec(&ctx, args),
                Command::Commit(args) => commit::exec(&ctx, args),
                Command::Export(args) => export::exec(&ctx, args),
                Command::History(args) => history::exec(&ctx, args),
                Command::Inspect(args) => inspect::exec(&ctx, args),
                Command::Image(cmd) => image::exec(&ctx, cmd),
                Command::Container(cmd) => container::exec(&ctx, cmd),
                Command::System(cmd) => system::exec(&ctx, cmd),
                Command::Volume(cmd) => volume::exec(&ctx, cmd),
                Command::Network(cmd) => network::exec(&ctx, cmd),
                Command::Login(args) => login::exec(&ctx, args),
                Command::Logout(args) => logout::exec(&ctx, args),
                _ => unreachable!(),
            }
        }
    }
}

/// Runs `action` for each named container as docker does: every one is
/// tried, failures are reported as they happen, and the command fails (exit 1) if any did.
pub(crate) fn each(
    names: &[String],
    mut action: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut failed = false;
    for name in names {
        if let Err(e) = action(name) {
            report(&e);
            failed = true;
        }
    }
    if failed {
        return Err(ExitStatus::new(1).into());
    }
    Ok(())
}

/// A tokio runtime for the commands that talk to registries.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The clap command, for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn container_commands_map_errors_to_125_and_others_to_1() {
        let e = anyhow::anyhow!("boom");
        assert_eq!(exit_code(&e, CommandKind::Container), 125);
        assert_eq!(exit_code(&e, CommandKind::Other), 1);
        let e: anyhow::Error = ExitStatus::new(3).into();
        assert_eq!(exit_code(&e, CommandKind::Container), 3);
        let e: anyhow::Error = NotImplemented("x".into()).into();
        assert_eq!(exit_code(&e, CommandKind::Other), 125);
    }
}

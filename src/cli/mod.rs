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
mod complete;
mod completion;
mod container;
mod cp;
mod create;
mod diff;
pub mod docs;
mod events;
mod exec;
mod export;
mod history;
mod image;
mod images;
mod import;
mod info;
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
    /// Location of client config files: login writes DIR/config.json, and credentials are read from it
    #[arg(long = "config", value_name = "DIR")]
    config: Option<std::path::PathBuf>,
    /// Name of the context to use (berth has only "default"; overrides DOCKER_CONTEXT)
    #[arg(short = 'c', long = "context", value_name = "NAME")]
    context: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug")]
    debug: bool,
    /// Daemon socket to connect to: berth is daemonless, only the local engine's default sockets are accepted
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    host: Vec<String>,
    /// Set the logging level
    #[arg(
        short = 'l',
        long = "log-level",
        value_name = "LEVEL",
        value_parser = ["debug", "info", "warn", "error", "fatal"]
    )]
    log_level: Option<String>,
    /// Use TLS (refused: berth has no daemon to connect to)
    #[arg(long = "tls")]
    tls: bool,
    /// Trust certs signed only by this CA (refused: berth has no daemon to connect to)
    #[arg(long = "tlscacert", value_name = "FILE")]
    tlscacert: Option<String>,
    /// Path to TLS certificate file (refused: berth has no daemon to connect to)
    #[arg(long = "tlscert", value_name = "FILE")]
    tlscert: Option<String>,
    /// Path to TLS key file (refused: berth has no daemon to connect to)
    #[arg(long = "tlskey", value_name = "FILE")]
    tlskey: Option<String>,
    /// Use TLS and verify the remote (refused: berth has no daemon to connect to)
    #[arg(long = "tlsverify")]
    tlsverify: bool,
    /// Where berth keeps images, containers, volumes and networks (BERTH_ROOT)
    #[arg(long = "root", value_name = "DIR")]
    root: Option<std::path::PathBuf>,
    /// Where berth keeps its runtime state (BERTH_RUNROOT)
    #[arg(long = "runroot", value_name = "DIR")]
    runroot: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The global options that outlive parsing (read with [`globals`]).
#[derive(Debug, Clone, Default)]
pub struct Globals {
    /// `-D`/`--debug`, or `--log-level debug`.
    pub debug: bool,
    /// `--config DIR`.
    pub config: Option<std::path::PathBuf>,
}

static GLOBALS: std::sync::OnceLock<Globals> = std::sync::OnceLock::new();

/// The global options of this invocation.
pub(crate) fn globals() -> Globals {
    GLOBALS.get().cloned().unwrap_or_default()
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
    /// Display system-wide information
    Info(info::Args),
    /// Get real time events from the server
    Events(events::Args),
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
    /// The names the shell completions offer (see completions/)
    #[command(name = "__complete", hide = true)]
    Complete(complete::Args),
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
    // A TAB press: read the store, nothing else.
    if let Command::Complete(args) = command {
        return complete::exec(args);
    }
    if !matches!(command, Command::Completion(_)) {
        let env = |name: &str| std::env::var(name).ok();
        if let Err(e) = check_endpoint(
            &cli.host,
            env("DOCKER_HOST").as_deref(),
            cli.context.as_deref(),
            env("DOCKER_CONTEXT").as_deref(),
        ) {
            eprintln!("Error: {e}");
            return 125;
        }
        for (set, flag) in [
            (cli.tls, "--tls"),
            (cli.tlsverify, "--tlsverify"),
            (cli.tlscacert.is_some(), "--tlscacert"),
            (cli.tlscert.is_some(), "--tlscert"),
            (cli.tlskey.is_some(), "--tlskey"),
        ] {
            if set {
                eprintln!(
                    "Error: {flag}: berth is daemonless: there is no daemon to connect to over TLS"
                );
                return 125;
            }
        }
    }
    // Still one thread: re-executed helpers (monitors, unpack) inherit these.
    for (dir, var) in [(&cli.root, "BERTH_ROOT"), (&cli.runroot, "BERTH_RUNROOT")] {
        if let Some(dir) = dir {
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            unsafe { std::env::set_var(var, dir) };
        }
    }
    let _ = GLOBALS.set(Globals {
        debug: cli.debug || cli.log_level.as_deref() == Some("debug"),
        config: cli
            .config
            .as_ref()
            .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone())),
    });
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

pub(crate) fn report(err: &anyhow::Error) {
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
        Command::Internal(_) | Command::Complete(_) => unreachable!("dispatched before"),
        other => {
            let mut ctx = crate::context::Context::new()?;
            if let Some(dir) = globals().config {
                ctx.use_client_config_dir(&dir);
            }
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
                Command::System(cmd) => system::exec(&ctx, cmd, as_docker),
                Command::Info(args) => info::exec(&ctx, args, as_docker),
                Command::Events(args) => events::exec(&ctx, args),
                Command::Volume(cmd) => volume::exec(&ctx, cmd),
                Command::Network(cmd) => network::exec(&ctx, cmd),
                Command::Login(args) => login::exec(&ctx, args),
                Command::Logout(args) => logout::exec(&ctx, args),
                _ => unreachable!(),
            }
        }
    }
}

/// The docker daemon addresses berth stands in for: the local engine's
/// default sockets (rootful and rootless docker). Anything else names
/// another daemon, which berth cannot talk to.
fn is_local_engine(host: &str) -> bool {
    let Some(path) = host.strip_prefix("unix://") else {
        return false;
    };
    if matches!(path, "/var/run/docker.sock" | "/run/docker.sock") {
        return true;
    }
    let uid = nix::unistd::getuid().as_raw();
    if path == format!("/run/user/{uid}/docker.sock") {
        return true;
    }
    std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| {
        !d.is_empty() && std::path::Path::new(path) == std::path::Path::new(&d).join("docker.sock")
    })
}

/// `-H`/`DOCKER_HOST` and `--context`/`DOCKER_CONTEXT`: berth runs
/// containers itself, so it accepts only what means "the local engine"
/// (no host, the default sockets, the `default` context) and refuses the
/// rest clearly rather than silently acting on local containers.
fn check_endpoint(
    hosts: &[String],
    docker_host: Option<&str>,
    context: Option<&str>,
    docker_context: Option<&str>,
) -> Result<(), String> {
    for h in hosts {
        if !is_local_engine(h) {
            return Err(format!(
                "-H {h}: berth is daemonless and cannot connect to a docker daemon; it runs containers itself (drop -H, or use unix:///var/run/docker.sock)"
            ));
        }
    }
    if hosts.is_empty()
        && let Some(h) = docker_host.filter(|h| !h.is_empty())
        && !is_local_engine(h)
    {
        return Err(format!(
            "DOCKER_HOST={h}: berth is daemonless and cannot connect to a docker daemon; it runs containers itself (unset DOCKER_HOST)"
        ));
    }
    let (source, name) = match (context, docker_context) {
        (Some(c), _) => ("--context", c),
        (None, Some(c)) => ("DOCKER_CONTEXT", c),
        (None, None) => return Ok(()),
    };
    if !name.is_empty() && name != "default" {
        return Err(format!(
            "{source} {name}: berth is daemonless and has only the \"default\" context (its own local containers)"
        ));
    }
    Ok(())
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
    fn endpoints_other_than_the_local_engine_are_refused() {
        assert!(check_endpoint(&[], None, None, None).is_ok());
        assert!(check_endpoint(&[], Some(""), None, Some("")).is_ok());
        assert!(check_endpoint(&[], Some("unix:///var/run/docker.sock"), None, None).is_ok());
        assert!(check_endpoint(&["unix:///run/docker.sock".into()], None, None, None).is_ok());
        let e = check_endpoint(&[], Some("tcp://10.0.0.1:2376"), None, None).unwrap_err();
        assert!(
            e.contains("DOCKER_HOST=tcp://10.0.0.1:2376") && e.contains("daemonless"),
            "{e}"
        );
        assert!(check_endpoint(&["ssh://me@host".into()], None, None, None).is_err());
        assert!(check_endpoint(&[], None, Some("default"), None).is_ok());
        assert!(check_endpoint(&[], None, None, Some("default")).is_ok());
        let e = check_endpoint(&[], None, None, Some("remote")).unwrap_err();
        assert!(e.contains("DOCKER_CONTEXT remote"), "{e}");
        // --context wins over DOCKER_CONTEXT, as in docker.
        assert!(check_endpoint(&[], None, Some("default"), Some("remote")).is_ok());
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

//! `exec [OPTIONS] CONTAINER COMMAND [ARG...]`: a command in a running container.
//!
//! This process joins the container's namespaces itself
//! ([`crate::runtime::exec`]): no helper, no daemon, no copies of stdio.
//! Joining a user namespace needs a single-threaded process. `berth exec`
//! never starts tokio, so it is one; should anything ever have made a
//! thread by the time we get there, berth re-executes itself as
//! `berth internal exec …` (dispatched before anything else runs) instead.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use anyhow::Context as _;

use crate::container::parse;
use crate::container::record::{self, ContainerStore, Status};
use crate::context::Context;
use crate::error::ExitStatus;
use crate::runtime::exec::{self as rexec, ExecError, ExecOptions};

#[derive(clap::Args, Debug, Clone)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    workdir: Option<String>,
    /// The container, then the command and its arguments
    #[arg(
        required = true,
        num_args = 2..,
        value_name = "CONTAINER COMMAND [ARG...]",
        allow_hyphen_values = true
    )]
    container_and_command: Vec<String>,
}

impl Args {
    /// The same request as command-line arguments (for the re-exec).
    fn to_argv(&self) -> Vec<OsString> {
        let mut v: Vec<OsString> = Vec::new();
        let mut flag = |on: bool, f: &str| {
            if on {
                v.push(f.into());
            }
        };
        flag(self.detach, "--detach");
        flag(self.interactive, "--interactive");
        flag(self.privileged, "--privileged");
        flag(self.tty, "--tty");
        for e in &self.env {
            v.push(format!("--env={e}").into());
        }
        for f in &self.env_file {
            v.push(format!("--env-file={f}").into());
        }
        if let Some(u) = &self.user {
            v.push(format!("--user={u}").into());
        }
        if let Some(w) = &self.workdir {
            v.push(format!("--workdir={w}").into());
        }
        v.extend(self.container_and_command.iter().map(OsString::from));
        v
    }
}

/// `-e` and `--env-file` as docker's CLI resolves them: files first, then
/// the flags; `-e NAME` takes NAME from our environment, or stays bare
/// (which unsets it in the container) when we have none.
fn flag_env(args: &Args) -> anyhow::Result<Vec<String>> {
    let lookup = |k: &str| std::env::var(k).ok();
    let mut env = Vec::new();
    for f in &args.env_file {
        let text = std::fs::read_to_string(f).with_context(|| format!("open {f}"))?;
        env.extend(parse::parse_env_file(&text, &lookup)?);
    }
    for e in &args.env {
        match (e.contains('='), lookup(e)) {
            (false, Some(v)) => env.push(format!("{e}={v}")),
            _ => env.push(e.clone()),
        }
    }
    Ok(env)
}

fn fail(code: i32, message: impl Into<String>) -> anyhow::Error {
    ExitStatus::with_message(code, message).into()
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    // docker's CheckTty: `-it` needs a terminal on stdin.
    if !args.detach && args.tty && args.interactive && !crate::runtime::pty::is_tty(0) {
        return Err(fail(1, "the input device is not a TTY"));
    }
    let (name, command) = args
        .container_and_command
        .split_first()
        .expect("clap requires CONTAINER COMMAND");
    // Lookup errors exit 1, as docker's (they come from its daemon).
    let store =
        ContainerStore::open(&ctx.paths.data).map_err(|e| fail(1, format!("Error: {e}")))?;
    let id = store
        .resolve(name)
        .map_err(|e| fail(1, format!("Error: {e}")))?;
    let (config, state) = store
        .load(&id)
        .map_err(|e| fail(1, format!("Error: {e}")))?;
    if state.status == Status::Restarting {
        return Err(fail(
            1,
            format!("Error: container {id} is restarting, wait until the container is running"),
        ));
    }
    if !state.status.is_running() || !record::process_alive(state.pid, state.pid_start) {
        return Err(fail(1, format!("Error: container {id} is not running")));
    }
    let env = flag_env(&args).map_err(|e| fail(1, format!("Error: {e:#}")))?;
    if !rexec::single_threaded() {
        return Err(reexec(&args).into());
    }
    let spec: oci_spec::runtime::Spec =
        serde_json::from_value(config.spec.clone()).map_err(|e| {
            fail(
                126,
                format!("Error: container {id}: its runtime spec is unreadable: {e}"),
            )
        })?;
    let opts = ExecOptions {
        pid: state.pid,
        pid_start: state.pid_start,
        args: command.to_vec(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        tty: args.tty,
        interactive: args.interactive,
        detach: args.detach,
        privileged: args.privileged,
    };
    let exec_id = record::generate_id();
    let cmdline = command.join(" ");
    // Opened now: once in the container's mount namespace the data dir is out of sight.
    let mut events = crate::events::Log::open(&ctx.paths.data);
    for action in ["exec_create", "exec_start"] {
        let action = format!("{action}: {cmdline}");
        events.append(&crate::events::container_event(
            &config,
            &action,
            &[("execID", &exec_id)],
        ));
    }
    let outcome = match rexec::exec(&spec, &opts) {
        Ok(o) => o,
        Err(ExecError::NotRunning) => {
            return Err(fail(1, format!("Error: container {id} is not running")));
        }
        Err(ExecError::Threaded) => return Err(reexec(&args).into()),
        Err(e) => return Err(fail(126, rexec::oci_message(&e.to_string()))),
    };
    if let Some(message) = &outcome.exec_error {
        eprintln!("{message}");
    }
    if !args.detach {
        let code = outcome.code.to_string();
        let attrs = [("execID", exec_id.as_str()), ("exitCode", code.as_str())];
        events.append(&crate::events::container_event(&config, "exec_die", &attrs));
    }
    if outcome.code == 0 {
        Ok(())
    } else {
        Err(ExitStatus::new(outcome.code).into())
    }
}

/// Replaces this (multi-threaded) process with `berth internal exec …`.
fn reexec(args: &Args) -> std::io::Error {
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    std::process::Command::new(exe)
        .args(["internal", "exec"])
        .args(args.to_argv())
        .exec()
}

/// `berth internal exec …`: [`exec`] in a fresh process, which has no
/// threads yet. Returns the exit status.
pub fn run_internal(args: Args) -> i32 {
    let result = crate::context::Context::new()
        .map_err(anyhow::Error::from)
        .and_then(|ctx| {
            if !rexec::single_threaded() {
                anyhow::bail!("berth exec: this process has threads, it cannot join a container");
            }
            exec(&ctx, args)
        });
    match result {
        Ok(()) => 0,
        Err(e) => {
            super::report(&e);
            super::exit_code(&e, super::CommandKind::Container)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Args {
        Cli::try_parse_from(std::iter::once("exec").chain(argv.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn everything_after_the_container_is_the_command() {
        let a = parse(&["-it", "-u", "nobody", "c", "ls", "-la", "--tty", "-e", "X"]);
        assert!(a.interactive && a.tty);
        assert_eq!(a.user.as_deref(), Some("nobody"));
        assert_eq!(
            a.container_and_command,
            ["c", "ls", "-la", "--tty", "-e", "X"]
        );
        assert!(a.env.is_empty());
    }

    #[test]
    fn a_command_is_required() {
        assert!(Cli::try_parse_from(["exec", "c"]).is_err());
    }

    #[test]
    fn the_reexec_argv_parses_back_to_the_same_request() {
        let a = parse(&[
            "-d",
            "--privileged",
            "-e",
            "A=1",
            "-e",
            "B",
            "--env-file",
            "f",
            "-w",
            "/tmp",
            "-u",
            "1:2",
            "c",
            "sh",
            "-c",
            "x",
        ]);
        let argv: Vec<String> = a
            .to_argv()
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let b = parse(&argv);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn bare_env_names_come_from_our_environment_or_stay_bare() {
        let a = parse(&[
            "-e",
            "PATH",
            "-e",
            "BERTH_SURELY_UNSET_VAR",
            "-e",
            "K=V",
            "c",
            "x",
        ]);
        let env = flag_env(&a).unwrap();
        assert!(env[0].starts_with("PATH="));
        assert_eq!(env[1..], ["BERTH_SURELY_UNSET_VAR", "K=V"]);
    }
}

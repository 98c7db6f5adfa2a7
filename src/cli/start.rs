//! `start [-a] [-i] CONTAINER...`: starts created or stopped containers,
//! detached under a monitor, or attached in this process with `-a`.

use anyhow::bail;

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::error::ExitStatus;
use crate::monitor::{self, MonitorError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    if args.attach || args.interactive {
        if args.containers.len() > 1 {
            bail!("you cannot start and attach multiple containers at once");
        }
        let id = store.resolve(&args.containers[0])?;
        let outcome = monitor::run_foreground(ctx, &id, args.interactive, true, &mut |w| {
            super::run::report_warnings(w)
        })
        .map_err(|e| ExitStatus::with_message(e.exit_code(), format!("Error: {e}")))?;
        let code = super::run::report_outcome(outcome);
        return if code == 0 {
            Ok(())
        } else {
            Err(ExitStatus::new(code).into())
        };
    }
    super::each(&args.containers, |name| {
        let id = store.resolve(name)?;
        match monitor::spawn_detached(&id) {
            Ok(warnings) => super::run::report_warnings(&warnings),
            // docker: starting a running container is not an error.
            Err(MonitorError::AlreadyRunning(_)) => {}
            Err(e) => return Err(e.into()),
        }
        println!("{name}");
        Ok(())
    })
}

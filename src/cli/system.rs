//! `system SUBCOMMAND`. `boot` does what docker's daemon does when it
//! starts: berth has no daemon, so a login or boot hook calls it (README:
//! a systemd user unit, or a cron `@reboot` line).

use crate::context::Context;
use crate::error::ExitStatus;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Start the containers whose restart policy says so (always, unless-stopped)
    Boot,
}

pub fn exec(ctx: &Context, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Boot => {
            let mut failed = false;
            for (name, result) in crate::monitor::control::boot(ctx)? {
                match result {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("Error: starting {name}: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                return Err(ExitStatus::new(1).into());
            }
            Ok(())
        }
    }
}

//! `rm [-f] [-v] CONTAINER...`: removes containers; `-f` kills running ones
//! at once; `-v` removes their anonymous volumes (named ones always stay).

use crate::container::record::{ContainerStore, RecordError};
use crate::context::Context;
use crate::error::NotImplemented;
use crate::monitor::control;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    volumes: bool,
    /// Remove the specified link
    #[arg(short, long)]
    link: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.link {
        return Err(NotImplemented("rm --link (legacy links)".into()).into());
    }
    let store = ContainerStore::open(&ctx.paths.data)?;
    super::each(&args.containers, |name| {
        let removed = store
            .resolve(name)
            .map_err(control::ControlError::from)
            .and_then(|id| control::remove(ctx, &id, args.force, args.volumes));
        match removed {
            Ok(()) => println!("{name}"),
            Err(control::ControlError::Record(e @ RecordError::NotFound(_))) if args.force => {
                super::report(&e.into());
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    })
}

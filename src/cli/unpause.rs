//! `unpause CONTAINER...`: SIGCONT to every process of a paused container
//! ([`crate::container::procs::thaw`]); the state is `running` again.

use anyhow::bail;

use crate::container::procs;
use crate::container::record::{ContainerStore, Status};
use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    super::each(&args.containers, |name| {
        let id = store.resolve(name)?;
        let (config, state) = store.load(&id)?;
        if state.status != Status::Paused || state.pid <= 0 {
            bail!("container {id} is not paused");
        }
        procs::thaw(state.pid)?;
        store.update_state(&id, |s| {
            if s.status == Status::Paused {
                s.status = Status::Running;
            }
        })?;
        crate::events::container(&ctx.paths.data, &config, "unpause", &[]);
        println!("{name}");
        Ok(())
    })
}

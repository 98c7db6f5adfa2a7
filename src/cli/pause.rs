//! `pause CONTAINER...`: every process of the container stopped. Without a
//! delegated freezer cgroup (cgroup v1, rootless) that is SIGSTOP to each
//! one ([`crate::container::procs::freeze`]); the state records `paused`.

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
        let (_, state) = store.load(&id)?;
        match state.status {
            Status::Paused => bail!("container {id} is already paused"),
            Status::Restarting => {
                bail!("container {id} is restarting, wait until the container is running")
            }
            Status::Running if state.pid > 0 => {}
            _ => bail!("container {id} is not running"),
        }
        procs::freeze(state.pid)?;
        let mut lost = false;
        store.update_state(&id, |s| {
            if s.status == Status::Running && s.pid == state.pid {
                s.status = Status::Paused;
            } else {
                lost = true;
            }
        })?;
        if lost {
            bail!("container {id} is not running");
        }
        if let Ok(config) = store.read_config(&id) {
            crate::events::container(&ctx.paths.data, &config, "pause", &[]);
        }
        println!("{name}");
        Ok(())
    })
}

//! `kill [-s SIG] CONTAINER...`: a signal to each container's main process.

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::monitor::control;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let sig = control::parse_signal(&args.signal)?;
    super::each(&args.containers, |name| {
        let id = store.resolve(name)?;
        control::kill(ctx, &id, sig)?;
        println!("{name}");
        Ok(())
    })
}

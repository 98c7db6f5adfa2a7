//! `wait CONTAINER...`: blocks until each stops; prints its exit code.

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::monitor::control;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    super::each(&args.containers, |name| {
        let id = store.resolve(name)?;
        println!("{}", control::wait(ctx, &id)?);
        Ok(())
    })
}

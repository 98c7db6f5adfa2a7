//! `rename CONTAINER NEW_NAME`: the new name is reserved atomically
//! ([`ContainerStore::rename`]); docker's errors for an empty or unchanged
//! name and a name in use.

use anyhow::bail;

use crate::container::record::ContainerStore;
use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    container: String,
    #[arg(value_name = "NEW_NAME")]
    new_name: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let new = args.new_name.strip_prefix('/').unwrap_or(&args.new_name);
    if args.container.trim().is_empty() || new.trim().is_empty() {
        bail!("Neither old nor new names may be empty");
    }
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (config, _) = store.load(&id)?;
    if config.name == new {
        bail!("Renaming a container with the same name as its current name");
    }
    // A name in use: `Conflict. The container name "/x" is already in use by container …`.
    store.rename(&id, new)?;
    Ok(())
}

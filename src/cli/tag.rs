//! `tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]` (also `image tag`)

use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// SOURCE_IMAGE[:TAG]
    source: String,
    /// TARGET_IMAGE[:TAG]
    target: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    crate::image::local::tag(ctx.store()?, &args.source, &args.target)?;
    Ok(())
}

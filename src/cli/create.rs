//! `create [OPTIONS] IMAGE [COMMAND] [ARG...]`: `run` without starting; prints the ID.

use crate::context::Context;

pub fn exec(ctx: &Context, args: super::run::Args) -> anyhow::Result<()> {
    let prepared = super::run::create_container(ctx, &args)?;
    println!("{}", prepared.config.id);
    Ok(())
}

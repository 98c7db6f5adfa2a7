//! `attach`: being written (issue 4).

use crate::context::Context;
use crate::error::NotImplemented;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn exec(_ctx: &Context, _args: Args) -> anyhow::Result<()> {
    Err(NotImplemented("attach".into()).into())
}

//! `events`, `system events`.

use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all events created since timestamp
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    until: Option<String>,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
}

pub fn exec(_ctx: &Context, _args: Args) -> anyhow::Result<()> {
    Err(crate::error::NotImplemented("events".into()).into())
}

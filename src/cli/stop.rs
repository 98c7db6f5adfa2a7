//! `stop [-t N] [-s SIG] CONTAINER...`: the stop signal, a grace period, then SIGKILL.

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::monitor::control;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds to wait before killing the container (-1: forever)
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        allow_negative_numbers = true
    )]
    time: Option<i64>,
    /// Signal to send to the container
    #[arg(short, long)]
    signal: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let sig = args
        .signal
        .as_deref()
        .map(control::parse_signal)
        .transpose()?;
    super::each(&args.containers, |name| {
        let id = store.resolve(name)?;
        let timeout = control::stop_timeout(args.time, store.read_summary(&id)?.stop_timeout);
        control::stop(ctx, &id, timeout, sig)?;
        println!("{name}");
        Ok(())
    })
}

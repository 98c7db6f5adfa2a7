//! `export [-o FILE] CONTAINER`: the container's whole file system as a tar,
//! as the container sees it (owners included), without what is mounted in
//! it (`/proc`, `/sys`, `/dev`, volumes). Written by a `berth internal
//! export` helper inside the container's file system
//! ([`crate::container::fs::write_export`]).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::bail;

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::error::ExitStatus;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(value_name = "CONTAINER")]
    container: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    if store
        .dir(&id)
        .join(crate::runtime::rootfs::COPY_DIR)
        .exists()
    {
        return Err(ExitStatus::with_message(
            125,
            format!(
                "Error: container {} uses the vfs storage driver: export is not supported for it",
                args.container
            ),
        )
        .into());
    }
    match &args.output {
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let mut out = stdout.lock();
            copy(ctx, &args.container, &mut out)?;
            out.flush()?;
            Ok(())
        }
        Some(path) => super::save::write_file(path, |f| copy(ctx, &args.container, f)),
    }
}

fn copy(ctx: &Context, name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut child = super::cp::spawn(ctx, name, "export", vec![])?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let copied = std::io::copy(&mut stdout, out);
    super::cp::finish(child)?;
    copied?;
    Ok(())
}

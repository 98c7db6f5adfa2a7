//! `load [-i FILE] [-q]`: images from a docker or OCI archive (plain, gzip
//! or zstd) on stdin or in FILE ([`crate::image::archive::load`]); prints
//! docker's `Loaded image: NAME:TAG` / `Loaded image ID: sha256:…` lines.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::context::Context;
use crate::image::archive;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    quiet: bool,
    /// Load only the given platform (accepted; archives hold one platform per image here)
    #[arg(long)]
    platform: Option<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let _ = (args.quiet, args.platform);
    let lines = match &args.input {
        Some(path) => {
            let f =
                std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
            archive::load(ctx, f)?
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            archive::load(ctx, stdin.lock())?
        }
    };
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

//! `import [-c INSTR]… [-m MSG] [--platform P] FILE|- [REPO[:TAG]]`: a new
//! one-layer image from a file system tar (plain, gzip or zstd);
//! prints `sha256:<id>` ([`crate::container::commit::import`]).

use std::path::Path;

use anyhow::Context as _;

use crate::container::commit;
use crate::context::Context;
use crate::image::registry::Platform;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    platform: Option<String>,
    /// A file, or - for STDIN
    #[arg(value_name = "file|URL|-")]
    source: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let id = if args.source == "-" {
        let stdin = std::io::stdin();
        commit::import(
            ctx,
            stdin.lock(),
            "-",
            args.message.as_deref(),
            &args.change,
            platform.as_ref(),
            args.reference.as_deref(),
        )?
    } else {
        if args.source.starts_with("http://") || args.source.starts_with("https://") {
            return Err(crate::error::NotImplemented(
                "import from a URL (download the file first)".into(),
            )
            .into());
        }
        let f = std::fs::File::open(Path::new(&args.source))
            .with_context(|| format!("open {}", args.source))?;
        commit::import(
            ctx,
            f,
            // docker's CLI sends a file as a stream: the image says "Imported from -".
            "-",
            args.message.as_deref(),
            &args.change,
            platform.as_ref(),
            args.reference.as_deref(),
        )?
    };
    println!("{id}");
    Ok(())
}

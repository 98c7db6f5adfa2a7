//! `inspect [-f FORMAT] [--type image] NAME…` and `image inspect`.
//! Containers, volumes and networks join as they arrive.

use crate::context::Context;
use crate::error::ExitStatus;
use crate::image::local;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    /// Display total file sizes (containers only)
    #[arg(short, long)]
    size: bool,
    /// Return JSON for specified type
    #[arg(long = "type")]
    kind: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if let Some(kind) = args.kind.as_deref()
        && kind != "image"
    {
        return Err(crate::error::NotImplemented(format!("inspect --type {kind}")).into());
    }
    inspect_images(ctx, &args.names, args.format.as_deref())
}

/// Prints what is found; names that are missing are reported on stderr, exit 1 (docker's contract).
pub fn inspect_images(ctx: &Context, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let index = store.images()?;
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match local::find(&index, name) {
            Ok((image, _)) => values.push(local::inspect(store, image)?),
            Err(local::ImageError::NotFound(_)) => missing.push(name.clone()),
            Err(e) => return Err(e.into()),
        }
    }
    if !(values.is_empty() && format.is_some()) {
        super::output::print_inspect(&values, format)?;
    }
    if missing.is_empty() {
        return Ok(());
    }
    let message = missing
        .iter()
        .map(|m| format!("Error: No such object: {m}"))
        .collect::<Vec<_>>()
        .join("\n");
    Err(ExitStatus::with_message(1, message).into())
}

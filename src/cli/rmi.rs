//! `rmi [-f] IMAGE…` (also `image rm`)

use crate::context::Context;
use crate::error::ExitStatus;
use crate::image::local::{self, Removal};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force removal of the image
    #[arg(short, long)]
    force: bool,
    /// Do not delete untagged parents (accepted; berth keeps no parents)
    #[arg(long = "no-prune")]
    no_prune: bool,
    /// Images to remove
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let users = crate::container::record::ContainerStore::open(&ctx.paths.data)?.image_users()?;
    let used_by = |id: &str| users.get(id).cloned();
    let mut failed = false;
    for name in &args.images {
        match local::remove(store, name, args.force, &used_by) {
            Ok(lines) => {
                for line in lines {
                    match line {
                        Removal::Untagged(n) => println!("Untagged: {n}"),
                        Removal::Deleted(id) => println!("Deleted: {id}"),
                    }
                }
            }
            Err(local::ImageError::NotFound(n)) if args.force => {
                // docker rmi -f of a missing image is quiet and succeeds.
                let _ = n;
            }
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    for layer in super::image::free_layers(ctx)? {
        println!("Deleted: {}", layer.diff_id);
    }
    if failed {
        return Err(ExitStatus::new(1).into());
    }
    Ok(())
}

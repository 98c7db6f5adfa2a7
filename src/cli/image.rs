//! `image SUBCOMMAND`: docker's image management group.

use crate::context::Context;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Build an image from a Dockerfile
    Build(super::build::Args),
    /// List images
    #[command(visible_alias = "list")]
    Ls(super::images::Args),
    /// Download an image from a registry
    Pull(super::pull::Args),
    /// Upload an image to a registry
    Push(super::push::Args),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(super::rmi::Args),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(super::tag::Args),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Show the history of an image
    History(super::history::Args),
    /// Remove unused images
    Prune(PruneArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(super::save::Args),
    /// Load an image from a tar archive or STDIN
    Load(super::load::Args),
    /// Import the contents from a tarball to create a filesystem image
    Import(super::import::Args),
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    /// Inspect a specific platform (accepted; one platform is stored per image)
    #[arg(long)]
    platform: Option<String>,
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Provide filter values (e.g. 'until=<timestamp>')
    #[arg(long)]
    filter: Vec<String>,
}

pub fn exec(ctx: &Context, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Build(args) => super::build::exec(ctx, args),
        Command::Ls(args) => super::images::exec(ctx, args),
        Command::Pull(args) => super::pull::exec(ctx, args),
        Command::Push(args) => super::push::exec(ctx, args),
        Command::Rm(args) => super::rmi::exec(ctx, args),
        Command::Tag(args) => super::tag::exec(ctx, args),
        Command::History(args) => super::history::exec(ctx, args),
        Command::Inspect(args) => {
            super::inspect::inspect_images(ctx, &args.images, args.format.as_deref())
        }
        Command::Prune(args) => prune(ctx, args),
        Command::Save(args) => super::save::exec(ctx, args),
        Command::Load(args) => super::load::exec(ctx, args),
        Command::Import(args) => super::import::exec(ctx, args),
    }
}

fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    if !args.filter.is_empty() {
        return Err(crate::error::NotImplemented("image prune --filter".into()).into());
    }
    let what = if args.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    if !super::output::confirm_removal(what, args.force)? {
        return Ok(());
    }
    let store = ctx.store()?;
    let users = crate::container::record::ContainerStore::open(&ctx.paths.data)?.image_users()?;
    let removed = crate::image::local::prune(store, args.all, &|id| users.get(id).cloned())?;
    let freed = free_layers(ctx)?;
    if !removed.is_empty() {
        println!("Deleted Images:");
        for id in &removed {
            println!("deleted: {id}");
        }
        for l in &freed {
            println!("deleted: {}", l.diff_id);
        }
        println!();
    }
    let reclaimed: u64 = freed.iter().map(|l| l.size).sum();
    println!(
        "Total reclaimed space: {}",
        crate::format::units::human_size(reclaimed as f64)
    );
    Ok(())
}

/// Deletes layers no image uses any more ([`crate::system::free_layers`]).
pub fn free_layers(ctx: &Context) -> anyhow::Result<Vec<crate::image::store::LayerInfo>> {
    Ok(crate::system::free_layers(ctx)?)
}

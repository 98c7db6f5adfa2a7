//! `push [-a] [-q] [--platform P] NAME[:TAG]`

use super::progress::{Progress, Stream};
use crate::context::Context;
use crate::image::push::{PushOptions, push, resolve_tags};
use crate::image::reference::Reference;
use crate::image::registry::Platform;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Push the image only if it is for this platform (os/arch[/variant]); berth keeps one platform per image
    #[arg(long)]
    platform: Option<String>,
    /// Skip image signing (accepted for docker compatibility)
    #[arg(long = "disable-content-trust", hide = true)]
    disable_content_trust: bool,
    /// NAME[:TAG]
    name: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let named = Reference::parse_named(&args.name)?;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let targets = resolve_tags(ctx.store()?, &named, args.all_tags)?;
    let progress = Progress::new(args.quiet, Stream::Stdout);
    if !args.all_tags && named.tag.is_none() {
        progress.line("Using default tag: latest");
    }
    progress.line(&format!("The push refers to repository [{}]", named.name()));
    let opts = PushOptions { platform };
    let rt = super::runtime()?;
    for (reference, image) in &targets {
        let outcome = rt.block_on(push(ctx, reference, image, &opts, &|e| {
            progress.handle_push(e)
        }))?;
        progress.line(&format!(
            "{}: digest: {} size: {}",
            outcome.tag, outcome.digest, outcome.size
        ));
    }
    if args.quiet {
        // As docker: the name pushed (with its tag unless every tag was).
        let mut shown = named.clone();
        if !args.all_tags && shown.tag.is_none() {
            shown.tag = Some("latest".into());
        }
        println!("{shown}");
    }
    Ok(())
}

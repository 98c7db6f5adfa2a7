//! `pull [--platform P] [-q] NAME[:TAG|@DIGEST]`

use anyhow::Context as _;

use super::progress::Stream;
use crate::context::Context;
use crate::image::pull::{PullOptions, pull};
use crate::image::reference::Reference;
use crate::image::registry::Platform;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Set platform if server is multi-platform capable (os/arch[/variant])
    #[arg(long)]
    platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Skip image verification (accepted for docker compatibility)
    #[arg(long = "disable-content-trust", hide = true)]
    disable_content_trust: bool,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.all_tags {
        return Err(crate::error::NotImplemented("pull --all-tags".into()).into());
    }
    let reference = Reference::parse(&args.name)?;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    run_pull(ctx, &args.name, &reference, platform, args.quiet)
}

/// Pulls and prints as docker does.
pub(crate) fn run_pull(
    ctx: &Context,
    given: &str,
    reference: &Reference,
    platform: Option<Platform>,
    quiet: bool,
) -> anyhow::Result<()> {
    pull_with(ctx, given, reference, platform, quiet, Stream::Stdout)
}

/// `run` pulls a missing image with the same output, on stderr: stdout is the container's.
pub(crate) fn run_pull_to_stderr(
    ctx: &Context,
    given: &str,
    reference: &Reference,
    platform: Option<Platform>,
    quiet: bool,
) -> anyhow::Result<()> {
    pull_with(ctx, given, reference, platform, quiet, Stream::Stderr)
}

fn pull_with(
    ctx: &Context,
    given: &str,
    reference: &Reference,
    platform: Option<Platform>,
    quiet: bool,
    stream: Stream,
) -> anyhow::Result<()> {
    let progress = super::progress::Progress::new(quiet, stream);
    let line = |text: String| stream.line(&text);
    let explicit_tag =
        Reference::parse_named(given).is_ok_and(|r| r.tag.is_some() || r.digest.is_some());
    if !quiet && !explicit_tag {
        line("Using default tag: latest".into());
    }
    let opts = PullOptions { platform };
    let outcome = super::runtime()?
        .block_on(pull(ctx, reference, &opts, &|e| progress.handle(e)))
        .with_context(|| format!("pulling {}", reference.familiar_string()))
        .map_err(strip_context)?;
    if !quiet {
        line(format!("Digest: {}", outcome.digest));
        let status = if outcome.downloaded_newer {
            "Downloaded newer image for"
        } else {
            "Image is up to date for"
        };
        line(format!("Status: {status} {}", reference.familiar_string()));
    }
    line(reference.to_string());
    Ok(())
}

/// Registry errors already name the image; the context is only for other failures.
fn strip_context(err: anyhow::Error) -> anyhow::Error {
    use crate::image::pull::PullError;
    match err.downcast_ref::<PullError>() {
        Some(PullError::Registry(_))
        | Some(PullError::NoMatchingPlatform { .. })
        | Some(PullError::PlatformMismatch { .. }) => err
            .downcast::<PullError>()
            .map(anyhow::Error::from)
            .unwrap_or_else(|e| e),
        _ => err,
    }
}

//! `inspect [-f FORMAT] [-s] [--type container|image|volume] NAME…` and `image inspect`.
//! Without `--type`, a name is looked up as a container first, then as an
//! image, then as a volume, as docker does. Networks join as they arrive.

use serde_json::Value;

use crate::container::record::{ContainerStore, RecordError};
use crate::container::view::{self, InspectInputs, Sizes};
use crate::context::Context;
use crate::error::ExitStatus;
use crate::image::local;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(short, long)]
    format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short, long)]
    size: bool,
    /// Return JSON for specified type
    #[arg(long = "type")]
    kind: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Any,
    Container,
    Image,
    Volume,
    Network,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let kind = match args.kind.as_deref() {
        Some("container") => Kind::Container,
        Some("image") => Kind::Image,
        Some("volume") => Kind::Volume,
        Some("network") => Kind::Network,
        None => Kind::Any,
        Some(k @ ("config" | "node" | "plugin" | "secret" | "service" | "task")) => {
            return Err(crate::error::NotImplemented(format!("inspect --type {k}")).into());
        }
        Some(k) => anyhow::bail!("\"{k}\" is not a valid value for --type"),
    };
    inspect(ctx, &args.names, args.format.as_deref(), kind, args.size)
}

/// `image inspect`: images only.
pub fn inspect_images(ctx: &Context, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    inspect(ctx, names, format, Kind::Image, false)
}

/// `container inspect`: containers only.
pub fn inspect_containers(
    ctx: &Context,
    names: &[String],
    format: Option<&str>,
    size: bool,
) -> anyhow::Result<()> {
    inspect(ctx, names, format, Kind::Container, size)
}

/// Prints what is found; names that are missing are reported on stderr, exit 1 (docker's contract).
fn inspect(
    ctx: &Context,
    names: &[String],
    format: Option<&str>,
    kind: Kind,
    size: bool,
) -> anyhow::Result<()> {
    let containers = if matches!(kind, Kind::Image | Kind::Volume | Kind::Network) {
        None
    } else {
        Some(ContainerStore::open(&ctx.paths.data)?)
    };
    // The image store is opened only when an image is needed.
    let index = std::cell::OnceCell::new();
    let images = || -> anyhow::Result<&crate::image::store::ImageIndexFile> {
        if let Some(i) = index.get() {
            return Ok(i);
        }
        let i = ctx.store()?.images()?;
        Ok(index.get_or_init(|| i))
    };
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        if let Some(containers) = &containers {
            match containers.resolve(name) {
                Ok(id) => {
                    values.push(container_json(ctx, containers, &id, size, &images)?);
                    continue;
                }
                Err(RecordError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if matches!(kind, Kind::Any | Kind::Image) {
            match local::find(images()?, name) {
                Ok((image, _)) => {
                    values.push(local::inspect(ctx.store()?, image)?);
                    continue;
                }
                Err(local::ImageError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if matches!(kind, Kind::Any | Kind::Volume)
            && let [Ok(v)] = &super::volume::inspect_values(ctx, std::slice::from_ref(name))?[..]
        {
            values.push(v.clone());
            continue;
        }
        if matches!(kind, Kind::Any | Kind::Network)
            && let Some(v) = super::network::inspect_value(ctx, name)?
        {
            values.push(v);
            continue;
        }
        missing.push(name.clone());
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

fn container_json<'a>(
    ctx: &Context,
    containers: &ContainerStore,
    id: &str,
    size: bool,
    images: &impl Fn() -> anyhow::Result<&'a crate::image::store::ImageIndexFile>,
) -> anyhow::Result<Value> {
    let (config, state) = containers.load(id)?;
    // The image may be gone (`rmi -f`): inspect still works, with less detail.
    let image = images()
        .ok()
        .and_then(|i| i.find_by_id(&config.image_id).cloned());
    let image_config = image
        .as_ref()
        .and_then(|img| local::config_json(ctx.store().ok()?, img).ok());
    let dir = containers.dir(id);
    let sizes = size.then(|| {
        let rw = view::dir_size(&dir.join("upper"));
        Sizes {
            rw,
            root_fs: rw + image.as_ref().map_or(0, |i| i.size),
        }
    });
    let log_path = containers.log_path(id);
    Ok(view::inspect(
        &config,
        &state,
        &InspectInputs {
            dir: &dir,
            log_path: &log_path,
            image_config: image_config.as_ref(),
            sizes,
        },
    ))
}

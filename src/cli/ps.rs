//! `ps [OPTIONS]` (also `container ls`): docker's container list.

use chrono::Utc;

use crate::container::record::ContainerStore;
use crate::container::view::{self, PsFilters, PsRow, Resolved, Sizes};
use crate::context::Context;
use crate::format::template::TemplateData;
use crate::image::local;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Filter output based on conditions provided
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_negative_numbers = true)]
    last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Only display container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display total file sizes
    #[arg(short, long)]
    size: bool,
}

const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let filters = PsFilters::parse(&args.filter)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let all_records = containers.list()?;

    // Images: for `ancestor`, the IMAGE column and virtual sizes. The store
    // may not exist yet (no image ever pulled): then nothing resolves.
    let index = ctx.store().ok().and_then(|s| s.images().ok());
    let find_image = |name: &str| {
        index
            .as_ref()
            .and_then(|i| local::find(i, name).ok())
            .map(|(img, _)| img.clone())
    };

    let mut resolved = Resolved::default();
    for a in &filters.ancestor {
        if let Some(img) = find_image(a) {
            resolved.ancestor_ids.insert(img.id);
        }
    }
    let created_of = |name: &str| -> anyhow::Result<_> {
        let id = containers.resolve(name)?;
        Ok(containers.read_config(&id)?.created)
    };
    if let Some(b) = &filters.before {
        resolved.before = Some(created_of(b)?);
    }
    if let Some(s) = &filters.since {
        resolved.since = Some(created_of(s)?);
    }

    let limit = if args.last > 0 {
        Some(args.last as usize)
    } else if args.latest {
        Some(1)
    } else {
        None
    };
    let show_all = args.all
        || limit.is_some()
        || filters.implies_all()
        || filters.before.is_some()
        || filters.since.is_some();
    let mut selected: Vec<_> = all_records
        .iter()
        .filter(|(c, s)| (show_all || s.status.is_running()) && filters.matches(c, s, &resolved))
        .collect();
    if let Some(n) = limit {
        selected.truncate(n);
    }

    // docker's quiet only replaces the default table.
    let plain_table = matches!(args.format.as_deref(), None | Some("") | Some("table"));
    if args.quiet && plain_table {
        for (c, _) in &selected {
            println!(
                "{}",
                if args.no_trunc {
                    &c.id
                } else {
                    c.id.get(..12).unwrap_or(&c.id)
                }
            );
        }
        return Ok(());
    }
    let format = args.format.as_deref().unwrap_or("");
    let want_size = args.size
        || format.contains(".Size")
        || format.trim() == "json"
        || format.contains("json .}}");
    let default_table = if args.size {
        format!("{DEFAULT_TABLE}\t{{{{.Size}}}}")
    } else {
        DEFAULT_TABLE.to_string()
    };

    let now = Utc::now();
    let rows: Vec<TemplateData> = selected
        .iter()
        .map(|(c, s)| {
            let image = index.as_ref().and_then(|i| i.find_by_id(&c.image_id));
            let image_current = find_image(&c.image).is_some_and(|i| i.id == c.image_id);
            let sizes = want_size.then(|| {
                let rw = view::dir_size(&containers.dir(&c.id).join("upper"));
                Sizes {
                    rw,
                    root_fs: rw + image.map_or(0, |i| i.size),
                }
            });
            let row = PsRow {
                config: c,
                state: s,
                image_current,
                sizes,
            };
            let value = view::ps_row_json(&row, !args.no_trunc, now);
            let labels = c.labels.clone();
            TemplateData::from_json(&value).with_method("Label", 1, move |a: &[&str]| {
                labels.get(a[0]).cloned().unwrap_or_default()
            })
        })
        .collect();
    super::output::print_list(args.format.as_deref(), &default_table, HEADERS, rows)
}

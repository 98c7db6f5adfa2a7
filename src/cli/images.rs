//! `images [OPTIONS] [REPOSITORY[:TAG]]` (also `image ls`)

use chrono::Utc;
use serde_json::json;

use crate::context::Context;
use crate::format::template::TemplateData;
use crate::format::units::{human_size, time_ago};
use crate::image::local::{self, ImageFilters, ImageRow};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    all: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Filter output based on conditions provided
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show the tree view (not supported)
    #[arg(long, hide = true)]
    tree: bool,
    /// REPOSITORY[:TAG]
    repository: Option<String>,
}

const HEADERS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("ID", "IMAGE ID"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
];

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.tree {
        return Err(crate::error::NotImplemented("images --tree".into()).into());
    }
    let _ = args.all; // berth stores no intermediate images: -a shows the same list.
    let filters = ImageFilters::parse(&args.filter)?;
    let store = ctx.store()?;
    let index = store.images()?;
    let rows = local::list(
        store,
        &index,
        args.repository.as_deref(),
        &filters,
        args.digests,
    )?;
    if args.quiet {
        for row in &rows {
            println!("{}", display_id(&row.id, args.no_trunc));
        }
        return Ok(());
    }
    let default_table = if args.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    };
    let now = Utc::now();
    let data = rows
        .iter()
        .map(|r| row_data(r, args.no_trunc, now))
        .collect();
    super::output::print_list(args.format.as_deref(), default_table, HEADERS, data)
}

fn display_id(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        local::short_id(id)
    }
}

fn row_data(row: &ImageRow, no_trunc: bool, now: chrono::DateTime<Utc>) -> TemplateData {
    let size = human_size(row.size as f64);
    let value = json!({
        "Containers": "N/A",
        "CreatedAt": row.created.map(|c| c.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()).unwrap_or_default(),
        "CreatedSince": row.created.map(|c| time_ago(c, now)).unwrap_or_else(|| "N/A".into()),
        "Digest": row.digest,
        "ID": display_id(&row.id, no_trunc),
        "Repository": row.repository,
        "SharedSize": "N/A",
        "Size": size,
        "Tag": row.tag,
        "UniqueSize": "N/A",
        "VirtualSize": size,
    });
    let labels = row.labels.clone();
    TemplateData::from_json(&value).with_method("Label", 1, move |args: &[&str]| {
        labels.get(args[0]).cloned().unwrap_or_default()
    })
}

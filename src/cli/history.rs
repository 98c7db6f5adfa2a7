//! `history [OPTIONS] IMAGE` (also `image history`)

use chrono::Utc;
use serde_json::json;

use crate::context::Context;
use crate::format::template::TemplateData;
use crate::format::units::{human_size, time_ago};
use crate::image::local;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format output using a custom template
    #[arg(long)]
    format: Option<String>,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    human: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show history for the given platform (accepted; one platform is stored per image)
    #[arg(long)]
    platform: Option<String>,
    image: String,
}

const HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let index = store.images()?;
    let (image, _) = local::find(&index, &args.image)?;
    let entries = local::history(store, image)?;
    let id = |s: &str| {
        if s == "<missing>" || args.no_trunc {
            s.to_string()
        } else {
            local::short_id(s)
        }
    };
    if args.quiet {
        for e in &entries {
            println!("{}", id(&e.id));
        }
        return Ok(());
    }
    let now = Utc::now();
    let rows = entries
        .iter()
        .map(|e| {
            let created_by = e.created_by.replace('\t', " ");
            let created_by = if args.no_trunc {
                created_by
            } else {
                truncate_ellipsis(&created_by, 45)
            };
            TemplateData::from_json(&json!({
                "Comment": e.comment,
                "CreatedAt": e.created.map(|c| local::rfc3339_nano(&c)).unwrap_or_default(),
                "CreatedBy": created_by,
                "CreatedSince": match (e.created, args.human) {
                    (Some(c), true) => time_ago(c, now),
                    (Some(c), false) => local::rfc3339_nano(&c),
                    (None, _) => "N/A".into(),
                },
                "ID": id(&e.id),
                "Size": if args.human { human_size(e.size as f64) } else { e.size.to_string() },
            }))
        })
        .collect();
    super::output::print_list(
        args.format.as_deref(),
        "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
        HEADERS,
        rows,
    )
}

/// Docker's `stringutils.Ellipsis`: at most `max` characters, the last one `…`.
fn truncate_ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

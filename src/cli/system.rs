//! `system SUBCOMMAND`. `df` reports disk usage
//! ([`crate::container::usage`]). `boot` does what docker's daemon does when it
//! starts: berth has no daemon, so a login or boot hook calls it (README:
//! a systemd user unit, or a cron `@reboot` line).

use crate::context::Context;
use crate::error::ExitStatus;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Start the containers whose restart policy says so (always, unless-stopped)
    Boot,
    /// Show docker disk usage
    Df(DfArgs),
    /// Display system-wide information
    Info(super::info::Args),
    /// Get real time events from the server
    Events(super::events::Args),
    /// Remove unused data
    Prune(PruneArgs),
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    volumes: bool,
    /// Provide filter values (e.g. 'label=<key>=<value>', 'until=24h')
    #[arg(long)]
    filter: Vec<String>,
}

pub fn exec(ctx: &Context, cmd: Command, as_docker: bool) -> anyhow::Result<()> {
    match cmd {
        Command::Df(args) => df(ctx, args),
        Command::Info(args) => super::info::exec(ctx, args, as_docker),
        Command::Events(args) => super::events::exec(ctx, args),
        Command::Prune(args) => prune(ctx, args),
        Command::Boot => {
            let mut failed = false;
            for (name, result) in crate::monitor::control::boot(ctx)? {
                match result {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("Error: starting {name}: {e}");
                        failed = true;
                    }
                }
            }
            if failed {
                return Err(ExitStatus::new(1).into());
            }
            Ok(())
        }
    }
}

/// docker's `system prune` confirmation (docker/cli's template, same words).
fn prune_prompt(opts: &crate::system::PruneOptions, filters: &[String]) -> String {
    let mut warnings = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if opts.volumes {
        warnings.push("all anonymous volumes not used by at least one container");
    }
    warnings.push(if opts.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    warnings.push(if opts.all {
        "all build cache"
    } else {
        "unused build cache"
    });
    let mut out = String::from("WARNING! This will remove:");
    for w in warnings {
        out.push_str(&format!("\n  - {w}"));
    }
    let mut shown: Vec<&String> = filters
        .iter()
        .filter(|f| {
            ["label=", "label!=", "until="]
                .iter()
                .any(|p| f.starts_with(p))
        })
        .collect();
    shown.sort();
    out.push('\n');
    if !shown.is_empty() {
        out.push_str("\n  Items to be pruned will be filtered with:");
        for f in shown {
            out.push_str(&format!("\n  - {f}"));
        }
        out.push('\n');
    }
    out.push_str("\nAre you sure you want to continue?");
    out
}

/// The sections docker prints after `system prune`.
fn prune_output(report: &crate::system::PruneReport) -> String {
    use crate::system::ImageDeletion;
    let mut out = String::new();
    let mut section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(title);
            out.push('\n');
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
            out.push('\n');
        }
    };
    section("Deleted Containers:", report.containers.clone());
    section("Deleted Networks:", report.networks.clone());
    section("Deleted Volumes:", report.volumes.clone());
    section(
        "Deleted Images:",
        report
            .images
            .iter()
            .map(|d| match d {
                ImageDeletion::Untagged(n) => format!("untagged: {n}"),
                ImageDeletion::Deleted(id) => format!("deleted: {id}"),
            })
            .collect(),
    );
    section("Deleted build cache objects:", report.build_cache.clone());
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        crate::format::units::human_size(report.reclaimed as f64)
    ));
    out
}

fn prune(ctx: &Context, args: PruneArgs) -> anyhow::Result<()> {
    let opts = crate::system::PruneOptions {
        all: args.all,
        volumes: args.volumes,
        filters: crate::system::PruneFilters::parse(&args.filter, chrono::Utc::now())?,
    };
    if !super::output::confirm(&prune_prompt(&opts, &args.filter), args.force)? {
        return Ok(());
    }
    let report = crate::system::prune(ctx, &opts)?;
    print!("{}", prune_output(&report));
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    verbose: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
}

const DF_TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const DF_HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

/// `system df`: docker's summary table, or (`-v`) its per-object tables.
fn df(ctx: &Context, args: DfArgs) -> anyhow::Result<()> {
    use crate::format::table::ListFormat;
    use crate::format::template::TemplateData;
    use crate::format::units::{human_size, human_size_with_precision};
    let usage = crate::container::usage::disk_usage(ctx)?;
    let size4 = |b: u64| human_size_with_precision(b as f64, 4);
    if args.verbose && args.format.is_none() {
        return df_verbose(&usage);
    }
    let rows: Vec<TemplateData> = usage
        .summary()
        .iter()
        .map(|r| {
            let reclaimable = match r.percent {
                Some(p) => format!("{} ({p}%)", size4(r.reclaimable)),
                None => size4(r.reclaimable),
            };
            TemplateData::from_json(&serde_json::json!({
                "Type": r.kind,
                "TotalCount": r.total.to_string(),
                "Active": r.active.to_string(),
                "Size": size4(r.size),
                "Reclaimable": reclaimable,
            }))
        })
        .collect();
    let _ = human_size;
    let format = ListFormat::parse(args.format.as_deref(), DF_TABLE)?;
    print!("{}", format.render(DF_HEADERS, &rows)?);
    Ok(())
}

fn df_verbose(usage: &crate::container::usage::DiskUsage) -> anyhow::Result<()> {
    use crate::container::view;
    use crate::format::table::TabWriter;
    use crate::format::units::{human_size, human_size_with_precision, time_ago};
    let size4 = |b: u64| human_size_with_precision(b as f64, 4);
    let now = chrono::Utc::now();
    let mut out = String::from("Images space usage:\n\n");
    let mut t = String::from(
        "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS\n",
    );
    for i in &usage.images {
        for (repo, tag) in crate::container::usage::repo_tags(&i.record) {
            t.push_str(&format!(
                "{repo}\t{tag}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                crate::image::local::short_id(&i.record.id),
                i.created.map(|c| time_ago(c, now)).unwrap_or_default(),
                human_size(i.size as f64),
                size4(i.shared_size),
                size4(i.size - i.shared_size),
                i.containers
            ));
        }
    }
    out.push_str(&TabWriter::DOCKER.format(&t));
    out.push_str("\nContainers space usage:\n\n");
    let mut t =
        String::from("CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES\n");
    for c in &usage.containers {
        t.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            &c.config.id[..12],
            c.config.image,
            view::command_column(&view::process_args(&c.config), true),
            c.volumes,
            size4(c.size_rw),
            time_ago(c.config.created, now),
            view::status_text(&c.state, now),
            c.config.name
        ));
    }
    out.push_str(&TabWriter::DOCKER.format(&t));
    out.push_str("\nLocal Volumes space usage:\n\n");
    let mut t = String::from("VOLUME NAME\tLINKS\tSIZE\n");
    for v in &usage.volumes {
        t.push_str(&format!("{}\t{}\t{}\n", v.name, v.links, size4(v.size)));
    }
    out.push_str(&TabWriter::DOCKER.format(&t));
    out.push_str("\nBuild cache usage: 0B\n\n");
    out.push_str(
        &TabWriter::DOCKER
            .format("CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n"),
    );
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::{ImageDeletion, PruneOptions, PruneReport};

    #[test]
    fn prune_prompt_matches_dockers() {
        let opts = PruneOptions::default();
        insta::assert_snapshot!("system_prune_prompt", prune_prompt(&opts, &[]));
        let opts = PruneOptions {
            all: true,
            volumes: true,
            ..PruneOptions::default()
        };
        let filters = ["until=24h".to_string(), "label=keep".to_string()];
        insta::assert_snapshot!(
            "system_prune_prompt_all_volumes_filters",
            prune_prompt(&opts, &filters)
        );
    }

    #[test]
    fn prune_output_has_dockers_sections() {
        insta::assert_snapshot!(
            "system_prune_nothing",
            prune_output(&PruneReport::default())
        );
        let report = PruneReport {
            containers: vec!["c0ffee".into()],
            networks: vec!["backend".into()],
            volumes: vec!["4f3a".into()],
            images: vec![
                ImageDeletion::Untagged("busybox:latest".into()),
                ImageDeletion::Deleted("sha256:1234".into()),
            ],
            build_cache: vec![],
            reclaimed: 2_500_000,
        };
        insta::assert_snapshot!("system_prune_everything", prune_output(&report));
    }
}

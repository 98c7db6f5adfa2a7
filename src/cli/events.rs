//! `events`, `system events`: the event log ([`crate::events`]) in docker's
//! text lines or `--format`, followed until interrupted (or `--until`).

use std::time::Duration;

use crate::context::Context;
use crate::events::{Filters, Reader};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all events created since timestamp
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    until: Option<String>,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'json', or a Go template
    #[arg(long)]
    format: Option<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    use crate::container::logread::parse_time_arg;
    let now = chrono::Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_time_arg(s, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_time_arg(s, now))
        .transpose()?;
    let filters = Filters::parse(&args.filter)?;
    let template = match args.format.as_deref() {
        None => None,
        Some("json") | Some("{{json .}}") => Some(None),
        Some(t) => Some(Some(
            crate::format::template::Template::parse(t)
                .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?,
        )),
    };
    let mut reader = if since.is_some() || until.is_some() {
        Reader::from_start(&ctx.paths.data)
    } else {
        Reader::from_end(&ctx.paths.data)
    };
    loop {
        let polled_at = chrono::Utc::now();
        for e in reader.poll() {
            let t = e.timestamp();
            if since.is_some_and(|s| t < s) {
                continue;
            }
            if until.is_some_and(|u| t > u) {
                return Ok(());
            }
            if !filters.matches(&e) {
                continue;
            }
            match &template {
                None => println!("{}", crate::events::text_line(&e)),
                Some(None) => println!("{}", serde_json::to_string(&e)?),
                Some(Some(t)) => println!("{}", t.render_json(&e.template_value())?),
            }
        }
        if until.is_some_and(|u| polled_at >= u) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

//! `top CONTAINER [ps OPTIONS]`: as docker does it, the host's `ps` with the
//! options (default `-ef`), keeping the rows whose PID is one of the
//! container's processes ([`crate::container::procs::container_pids`]).

use anyhow::{anyhow, bail};

use crate::container::procs::container_pids;
use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::format::table::TabWriter;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// Options for ps (default -ef)
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    ps_args: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (_, state) = store.load(&id)?;
    if !state.status.is_running() || state.pid <= 0 {
        bail!("container {id} is not running");
    }
    let ps_args = if args.ps_args.is_empty() {
        "-ef".to_string()
    } else {
        args.ps_args.join(" ")
    };
    validate(&ps_args)?;
    let pids = container_pids(state.pid)?;
    let out = std::process::Command::new("ps")
        .args(ps_args.split(' '))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| anyhow!("Error running ps: {e}"))?;
    if !out.status.success() {
        bail!("ps: {}", String::from_utf8_lossy(&out.stderr).trim_end());
    }
    let (titles, rows) = parse_ps(&String::from_utf8_lossy(&out.stdout), &pids)?;
    let mut text = titles.join("\t");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    let tw = TabWriter {
        minwidth: 20,
        tabwidth: 1,
        padding: 3,
        padchar: ' ',
    };
    print!("{}", tw.format(&text));
    Ok(())
}

/// docker refuses `-o x=PID…`: renaming the PID column hides it from the filter.
fn validate(ps_args: &str) -> anyhow::Result<()> {
    let words: Vec<&str> = ps_args.split_ascii_whitespace().collect();
    for w in &words {
        for part in w.split(',') {
            if let Some((k, v)) = part.split_once('=')
                && v.starts_with("PID")
            {
                bail!("specifying \"{k}={v}\" is not allowed");
            }
        }
    }
    Ok(())
}

type Rows = Vec<Vec<String>>;

/// docker's `parsePSOutput`: the PID column from the header; rows of the
/// container's pids (and thread rows, `-`, that follow one); the last
/// column keeps its spaces.
fn parse_ps(output: &str, pids: &[i32]) -> anyhow::Result<(Vec<String>, Rows)> {
    let mut lines = output.split('\n');
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_string)
        .collect();
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| anyhow!("Couldn't find PID field in ps output"))?;
    let mut rows = Vec::new();
    let mut in_container = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(pid) = fields.get(pid_index) else {
            continue;
        };
        let keep = if *pid == "-" {
            in_container
        } else {
            let p: i32 = pid
                .parse()
                .map_err(|e| anyhow!("Unexpected pid '{pid}': {e}"))?;
            in_container = pids.contains(&p);
            in_container
        };
        if keep {
            let n = titles.len().max(1);
            let mut row: Vec<String> = fields.iter().take(n - 1).map(|s| s.to_string()).collect();
            row.push(fields.get(n - 1..).map(|r| r.join(" ")).unwrap_or_default());
            rows.push(row);
        }
    }
    Ok((titles, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_rows_are_filtered_by_pid_and_keep_the_command_whole() {
        let out = "UID PID PPID C STIME TTY TIME CMD\n\
                   root 1 0 0 10:00 ? 00:00:01 /sbin/init\n\
                   100 42 1 0 10:01 ? 00:00:00 sleep 1000\n\
                   - - - 0 10:01 - 00:00:00 -\n\
                   root 43 1 0 10:01 ? 00:00:00 other\n";
        let (titles, rows) = parse_ps(out, &[42]).unwrap();
        assert_eq!(titles.len(), 8);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][7], "sleep 1000");
        assert!(validate("-o pid,comm").is_ok());
        assert!(validate("-o x=PID").is_err());
    }
}

//! `logs [OPTIONS] CONTAINER`: the container's json-file log, stdout entries
//! to stdout and stderr entries to stderr; `-f` follows it until the
//! container stops. Reading is [`crate::container::logread`]'s.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::container::logfile::Stream;
use crate::container::logread::{self, Entry, LogCursor, Tail, Watcher};
use crate::container::record::ContainerStore;
use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show extra details provided to logs
    #[arg(long)]
    details: bool,
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "STRING", allow_hyphen_values = true)]
    since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(
        short = 'n',
        long,
        default_value = "all",
        value_name = "STRING",
        allow_hyphen_values = true
    )]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long, value_name = "STRING", allow_hyphen_values = true)]
    until: Option<String>,
    /// CONTAINER
    container: String,
}

/// How often `-f` looks at the container's state when nothing is written.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let now = Utc::now();
    let time_arg = |value: &Option<String>, name: &str| -> anyhow::Result<Option<DateTime<Utc>>> {
        value
            .as_deref()
            .map(|v| logread::parse_time_arg(v, now))
            .transpose()
            .with_context(|| format!("invalid value for \"{name}\""))
    };
    let since = time_arg(&args.since, "since")?;
    let until = time_arg(&args.until, "until")?;
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (_, state) = store.load(&id)?;
    let mut running = args.follow && state.status.is_running();
    // Watch before reading, so nothing written in between goes unnoticed.
    let watcher = running.then(|| Watcher::new(&store.dir(&id)));
    let mut cursor = LogCursor::open(&store.log_path(&id), Tail::parse(&args.tail))?;
    let mut out = Printer::new(args.timestamps, args.details);
    let mut checked = Instant::now();
    loop {
        while let Some(entry) = cursor.next_entry()? {
            if since.is_some_and(|s| entry.time < s) {
                continue;
            }
            if until.is_some_and(|u| entry.time > u) {
                running = false;
                break;
            }
            out.print(&entry)?;
        }
        out.flush()?;
        if !running || until.is_some_and(|u| Utc::now() > u) {
            return Ok(());
        }
        if let Some(w) = &watcher {
            w.wait(FOLLOW_POLL);
        }
        // State first, then the log: after the last look at a stopped
        // container, everything it wrote is drained. A chatty container
        // wakes us often: its state is looked at only now and then.
        if checked.elapsed() >= FOLLOW_POLL {
            checked = Instant::now();
            running = store
                .load(&id)
                .is_ok_and(|(_, state)| state.status.is_running());
        }
        cursor.refresh()?;
    }
}

/// Writes entries to stdout or stderr, with `-t`'s time and `--details`'
/// (empty) attributes at the start of each line.
struct Printer {
    stdout: io::BufWriter<io::StdoutLock<'static>>,
    stderr: io::BufWriter<io::StderrLock<'static>>,
    timestamps: bool,
    details: bool,
    /// Per stream: the next entry starts a line.
    at_line_start: [bool; 2],
    /// The stream written last: switching flushes it, so the order holds
    /// when both go to one file (`2>&1`).
    last: Option<Stream>,
}

impl Printer {
    fn new(timestamps: bool, details: bool) -> Printer {
        Printer {
            stdout: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            stderr: io::BufWriter::with_capacity(64 * 1024, io::stderr().lock()),
            timestamps,
            details,
            at_line_start: [true; 2],
            last: None,
        }
    }

    fn print(&mut self, e: &Entry) -> io::Result<()> {
        if self.last.is_some_and(|s| s != e.stream) {
            self.flush()?;
        }
        self.last = Some(e.stream);
        let w: &mut dyn Write = match e.stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        let slot = e.stream as usize;
        if self.at_line_start[slot] {
            if self.timestamps {
                write!(w, "{} ", logread::format_time(&e.time))?;
            }
            if self.details {
                // docker prints the log's attributes (none here) and a space.
                w.write_all(b" ")?;
            }
        }
        self.at_line_start[slot] = e.ends_line();
        w.write_all(e.log.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()?;
        self.stderr.flush()
    }
}

//! Containers as docker shows them: the rows of `ps` (docker's
//! `ContainerContext`: every field a string) with its filters, and the JSON of
//! `inspect` (docker 28's `ContainerJSON`, fields in docker's order).
//!
//! Everything here is pure: records, the image's config and sizes come in, the
//! caller (the CLI) reads them from disk.
//!
//! ```
//! use berth::container::view::{command_column, go_quote};
//! assert_eq!(command_column(&["sh".into(), "-c".into(), "echo hello world".into()], true),
//!            "\"sh -c 'echo hello w…\"");
//! assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::record::{ContainerConfig, ContainerState, Health, Status};
use crate::format::table::display_width;
use crate::format::units::{
    GO_ZERO_TIME, go_rfc3339_nano, human_duration, human_size_with_precision, time_ago,
};

// ---------------------------------------------------------------------------
// Small text helpers with docker's exact rules.

/// docker's `formatter.Ellipsis`: at most `max` terminal columns, the last
/// one a `…` when the text had to be cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    if max == 1 {
        return chars.first().map(|c| c.to_string()).unwrap_or_default();
    }
    if display_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in chars {
        let w = display_width(c.encode_utf8(&mut [0; 4]));
        if width + w > max - 1 {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Go's `strconv.Quote`: double quotes, `\"` and `\\`, C escapes for control
/// characters, printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The daemon's one-line command: `Path` and the `Args`, an argument with a
/// space in single quotes (`sh -c 'exit 3'`).
pub fn command_line(args: &[String]) -> String {
    let mut parts = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        if i > 0 && a.contains(' ') {
            parts.push(format!("'{a}'"));
        } else {
            parts.push(a.clone());
        }
    }
    parts.join(" ")
}

/// `ps`'s COMMAND: quoted, cut to 20 columns unless `--no-trunc`.
pub fn command_column(args: &[String], trunc: bool) -> String {
    let c = command_line(args);
    go_quote(&if trunc { ellipsis(&c, 20) } else { c })
}

/// docker's `State.StateString()`: the `State` column and `State.Status`.
pub fn state_string(state: &ContainerState) -> &'static str {
    match state.status {
        Status::Created if state.started_at.is_some() => "exited",
        s => s.as_str(),
    }
}

fn since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let d = t
        .and_then(|t| (now - t).to_std().ok())
        .unwrap_or(std::time::Duration::ZERO);
    human_duration(d)
}

/// docker's health text in a status: `healthy`, `unhealthy`, `health: starting`.
fn health_text(h: &Health) -> String {
    match h.status.as_str() {
        "starting" => "health: starting".into(),
        s => s.to_string(),
    }
}

/// The STATUS column: `Up 5 seconds`, `Up 2 minutes (healthy)`,
/// `Up 3 seconds (Paused)`, `Restarting (1) 2 seconds ago`,
/// `Exited (0) 2 minutes ago`, `Created`, `Dead`.
pub fn status_text(state: &ContainerState, now: DateTime<Utc>) -> String {
    match state.status {
        Status::Paused => format!("Up {} (Paused)", since(state.started_at, now)),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            since(state.finished_at, now)
        ),
        Status::Running => match &state.health {
            Some(h) => format!("Up {} ({})", since(state.started_at, now), health_text(h)),
            None => format!("Up {}", since(state.started_at, now)),
        },
        Status::Dead => "Dead".into(),
        Status::Created | Status::Exited => {
            if state.started_at.is_none() {
                "Created".into()
            } else if state.finished_at.is_none() {
                String::new()
            } else {
                format!(
                    "Exited ({}) {} ago",
                    state.exit_code,
                    since(state.finished_at, now)
                )
            }
        }
    }
}

/// The container's process as docker's `Path` and `Args`: the spec's
/// `process.args` without the `--init` wrapper.
pub fn process_args(config: &ContainerConfig) -> Vec<String> {
    let args: Vec<String> = if config.command.is_empty() {
        config
            .spec
            .pointer("/process/args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        config.command.clone()
    };
    if args.len() >= 2 && args[0] == super::spec::INIT_PATH && args[1] == "--" {
        return args[2..].to_vec();
    }
    args
}

fn short(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

// ---------------------------------------------------------------------------
// A small regular-expression matcher for the `name` and `id` filters (docker
// matches them as Go regexps, unanchored). Supported: literals, `.`, `^`, `$`,
// `[…]` classes with ranges and `^` negation, `\` escapes (`\d \w \s`), the
// quantifiers `* + ?`, and `|` at the top level. A pattern using anything else
// (groups, braces) is matched as a plain substring.

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => c != '\n',
            Atom::Class(ranges, negate) => {
                ranges.iter().any(|(a, b)| *a <= c && c <= *b) != *negate
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rep {
    One,
    Star,
    Plus,
    Opt,
}

#[derive(Debug, Clone)]
struct Branch {
    start: bool,
    end: bool,
    items: Vec<(Atom, Rep)>,
}

fn escape_class(c: char) -> Option<(Vec<(char, char)>, bool)> {
    let digits = vec![('0', '9')];
    let word = vec![('0', '9'), ('a', 'z'), ('A', 'Z'), ('_', '_')];
    let space = vec![(' ', ' '), ('\t', '\r')];
    Some(match c {
        'd' => (digits, false),
        'D' => (digits, true),
        'w' => (word, false),
        'W' => (word, true),
        's' => (space, false),
        'S' => (space, true),
        _ => return None,
    })
}

fn parse_branch(p: &[char]) -> Option<Branch> {
    let mut b = Branch {
        start: false,
        end: false,
        items: Vec::new(),
    };
    let mut i = 0;
    if p.first() == Some(&'^') {
        b.start = true;
        i = 1;
    }
    while i < p.len() {
        let c = p[i];
        let atom = match c {
            '$' if i + 1 == p.len() => {
                b.end = true;
                i += 1;
                continue;
            }
            '.' => Atom::Any,
            '\\' => {
                i += 1;
                let e = *p.get(i)?;
                match escape_class(e) {
                    Some((r, n)) => Atom::Class(r, n),
                    None if e.is_ascii_alphanumeric() => return None,
                    None => Atom::Char(e),
                }
            }
            '[' => {
                let mut j = i + 1;
                let negate = p.get(j) == Some(&'^');
                if negate {
                    j += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let c = *p.get(j)?;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    let lo = if c == '\\' {
                        j += 1;
                        *p.get(j)?
                    } else {
                        c
                    };
                    if p.get(j + 1) == Some(&'-') && p.get(j + 2).is_some_and(|&c| c != ']') {
                        ranges.push((lo, p[j + 2]));
                        j += 3;
                    } else {
                        ranges.push((lo, lo));
                        j += 1;
                    }
                }
                i = j;
                Atom::Class(ranges, negate)
            }
            '(' | ')' | '{' | '}' | '*' | '+' | '?' | '^' | '$' => return None,
            c => Atom::Char(c),
        };
        i += 1;
        let rep = match p.get(i) {
            Some('*') => Rep::Star,
            Some('+') => Rep::Plus,
            Some('?') => Rep::Opt,
            _ => Rep::One,
        };
        if rep != Rep::One {
            i += 1;
            if matches!(p.get(i), Some('*' | '+' | '?')) {
                return None;
            }
        }
        b.items.push((atom, rep));
    }
    Some(b)
}

fn match_here(items: &[(Atom, Rep)], end: bool, t: &[char]) -> bool {
    let Some(((atom, rep), rest)) = items.split_first() else {
        return !end || t.is_empty();
    };
    match rep {
        Rep::One => !t.is_empty() && atom.matches(t[0]) && match_here(rest, end, &t[1..]),
        Rep::Opt => {
            (!t.is_empty() && atom.matches(t[0]) && match_here(rest, end, &t[1..]))
                || match_here(rest, end, t)
        }
        Rep::Star | Rep::Plus => {
            let min = usize::from(*rep == Rep::Plus);
            let mut n = 0;
            while n < t.len() && atom.matches(t[n]) {
                n += 1;
            }
            (min..=n).rev().any(|k| match_here(rest, end, &t[k..]))
        }
    }
}

/// Whether the Go regexp `pattern` matches somewhere in `text` (see above
/// for the subset understood).
pub fn regex_match(pattern: &str, text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let branches: Option<Vec<Branch>> = split_alternatives(pattern)
        .iter()
        .map(|b| parse_branch(&b.chars().collect::<Vec<_>>()))
        .collect();
    let Some(branches) = branches else {
        return text.contains(pattern);
    };
    branches.iter().any(|b| {
        if b.start {
            match_here(&b.items, b.end, &t)
        } else {
            (0..=t.len()).any(|i| match_here(&b.items, b.end, &t[i..]))
        }
    })
}

fn split_alternatives(p: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut in_class = false;
    let mut escaped = false;
    for c in p.chars() {
        let cur = out.last_mut().expect("never empty");
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                cur.push(c);
            }
            '[' => {
                in_class = true;
                cur.push(c);
            }
            ']' => {
                in_class = false;
                cur.push(c);
            }
            '|' if !in_class => out.push(String::new()),
            c => cur.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// `ps` filters.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("invalid filter '{0}'")]
    Invalid(String),
    #[error("Unrecognised filter value for health: {0}")]
    Health(String),
}

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];
const HEALTHS: &[&str] = &["starting", "healthy", "unhealthy", "none"];

/// `ps -f key=value`: values of one key are ORed, keys ANDed (except
/// `label`, which docker ANDs: every label given must match).
#[derive(Debug, Default, Clone)]
pub struct PsFilters {
    pub id: Vec<String>,
    pub name: Vec<String>,
    pub label: Vec<String>,
    pub status: Vec<String>,
    pub exited: Vec<i32>,
    pub ancestor: Vec<String>,
    pub before: Option<String>,
    pub since: Option<String>,
    pub health: Vec<String>,
    pub network: Vec<String>,
    /// A volume name or mount destination (docker's `volume` filter).
    pub volume: Vec<String>,
}

impl PsFilters {
    pub fn parse(args: &[String]) -> Result<PsFilters, FilterError> {
        let mut f = PsFilters::default();
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| FilterError::Invalid(arg.clone()))?;
            let v = value.to_string();
            match key {
                "id" => f.id.push(v),
                "name" => f.name.push(v),
                "label" => f.label.push(v),
                "status" => {
                    if !STATUSES.contains(&value) {
                        return Err(FilterError::Invalid(format!("status={value}")));
                    }
                    f.status.push(v)
                }
                "exited" => f.exited.push(
                    value
                        .parse()
                        .map_err(|_| FilterError::Invalid(format!("exited={value}")))?,
                ),
                "ancestor" => f.ancestor.push(v),
                "before" => f.before = Some(v),
                "since" => f.since = Some(v),
                "health" => {
                    if !HEALTHS.contains(&value) {
                        return Err(FilterError::Health(v));
                    }
                    f.health.push(v)
                }
                "network" => f.network.push(v),
                "volume" => f.volume.push(v),
                _ => return Err(FilterError::Invalid(key.to_string())),
            }
        }
        Ok(f)
    }

    /// docker lists stopped containers too when a `status` filter is given.
    pub fn implies_all(&self) -> bool {
        !self.status.is_empty()
    }
}

/// What the filters need resolved against the stores first.
#[derive(Debug, Default, Clone)]
pub struct Resolved {
    /// Image ids the `ancestor` values name (unknown images match nothing).
    pub ancestor_ids: BTreeSet<String>,
    /// `before`/`since`: the named container's creation time.
    pub before: Option<DateTime<Utc>>,
    pub since: Option<DateTime<Utc>>,
}

fn network_name(config: &ContainerConfig) -> String {
    if !config.networks.is_empty() {
        // A rootless default-network container connected to more networks
        // is still on the default one (its helper's).
        let helper = (!config.network_helper.is_empty()).then_some(crate::network::DEFAULT_NETWORK);
        let names: Vec<&str> = helper
            .into_iter()
            .chain(config.networks.iter().map(|e| e.network.as_str()))
            .collect();
        return names.join(",");
    }
    if config.network_mode.is_empty() {
        "none".into()
    } else {
        config.network_mode.clone()
    }
}

impl PsFilters {
    pub fn matches(
        &self,
        config: &ContainerConfig,
        state: &ContainerState,
        resolved: &Resolved,
    ) -> bool {
        if !self.id.is_empty() && !self.id.iter().any(|p| regex_match(p, &config.id)) {
            return false;
        }
        let slash_name = format!("/{}", config.name);
        if !self.name.is_empty() && !self.name.iter().any(|p| regex_match(p, &slash_name)) {
            return false;
        }
        let labels_ok = self.label.iter().all(|w| match w.split_once('=') {
            Some((k, v)) => config.labels.get(k).is_some_and(|have| have == v),
            None => config.labels.contains_key(w),
        });
        if !labels_ok {
            return false;
        }
        if !self.status.is_empty() && !self.status.iter().any(|s| s == state_string(state)) {
            return false;
        }
        if !self.exited.is_empty() {
            let stopped = !state.status.is_running() && state.started_at.is_some();
            if !stopped || !self.exited.contains(&state.exit_code) {
                return false;
            }
        }
        if !self.ancestor.is_empty() && !resolved.ancestor_ids.contains(&config.image_id) {
            return false;
        }
        if let Some(b) = resolved.before
            && config.created >= b
        {
            return false;
        }
        if let Some(s) = resolved.since
            && config.created <= s
        {
            return false;
        }
        if !self.health.is_empty() {
            let h = state.health.as_ref().map_or("none", |h| h.status.as_str());
            if !self.health.iter().any(|w| w == h) {
                return false;
            }
        }
        if !self.network.is_empty()
            && !self.network.iter().any(|n| {
                *n == config.network_mode
                    || config
                        .networks
                        .iter()
                        .any(|e| e.network == *n || e.network_id == *n)
            })
        {
            return false;
        }
        if !self.volume.is_empty() {
            let mounts = mounts(config);
            let uses = |w: &String| {
                config
                    .volumes
                    .iter()
                    .any(|v| &v.name == w || &v.destination == w)
                    || mounts.iter().any(|m| &m.source == w || &m.destination == w)
            };
            if !self.volume.iter().any(uses) {
                return false;
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------
// `ps` rows.

/// `SizeRw` (the container's own files) and `SizeRootFs` (with the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    pub rw: u64,
    pub root_fs: u64,
}

/// One `ps` row's inputs.
pub struct PsRow<'a> {
    pub config: &'a ContainerConfig,
    pub state: &'a ContainerState,
    /// Whether `config.image` still names the image the container was made
    /// from; if not docker shows the image ID instead.
    pub image_current: bool,
    pub sizes: Option<Sizes>,
}

/// The IMAGE column: the image as the user named it (without a digest and
/// in its familiar form when truncating), or its short ID when that name now
/// means another image.
pub fn image_column(config: &ContainerConfig, image_current: bool, trunc: bool) -> String {
    let image = if image_current {
        config.image.clone()
    } else {
        config.image_id.clone()
    };
    if image.is_empty() {
        return "<no image>".into();
    }
    if !trunc {
        return image;
    }
    if short(&config.image_id) == short(&image) {
        return short(&image);
    }
    match crate::image::reference::Reference::parse(&image) {
        Ok(r) => {
            let name = r.familiar_name();
            match r.tag {
                Some(t) if image_has_tag(&image) => format!("{name}:{t}"),
                _ => name,
            }
        }
        Err(_) => image,
    }
}

/// Whether the reference as typed carries a tag (`busybox:1`, not
/// `busybox`, not `localhost:5000/busybox`).
fn image_has_tag(image: &str) -> bool {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.contains(':')
}

/// Whether the container's network is one ports are published on: the
/// rootless default network's helper, or a bridge (not host, none, or
/// another container's).
fn has_ports(c: &ContainerConfig) -> bool {
    !c.network_helper.is_empty() || !c.networks.is_empty()
}

/// docker's PORTS column: what the running container publishes (and
/// exposes without publishing); empty once it stopped.
fn ports_column(c: &ContainerConfig, s: &ContainerState) -> String {
    if !s.status.is_running() || !has_ports(c) {
        return String::new();
    }
    crate::network::ports::display(&s.ports, &c.exposed_ports)
}

/// The row as docker's `ContainerContext` presents it: every field a string,
/// keys sorted (as its `MarshalJSON` does).
pub fn ps_row_json(row: &PsRow, trunc: bool, now: DateTime<Utc>) -> Value {
    let c = row.config;
    let s = row.state;
    let labels = c
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let mounts = mounts(c)
        .iter()
        .map(|m| {
            let name = m.name.clone().unwrap_or_else(|| m.source.clone());
            if trunc { ellipsis(&name, 15) } else { name }
        })
        .collect::<Vec<_>>()
        .join(",");
    let local_volumes = mounts_count_volumes(c);
    let size = match row.sizes {
        None => "0B".to_string(),
        Some(sz) => {
            let rw = human_size_with_precision(sz.rw as f64, 3);
            if sz.root_fs > 0 {
                format!(
                    "{rw} (virtual {})",
                    human_size_with_precision(sz.root_fs as f64, 3)
                )
            } else {
                rw
            }
        }
    };
    json!({
        "Command": command_column(&process_args(c), trunc),
        "CreatedAt": c.created.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        "ID": if trunc { short(&c.id) } else { c.id.clone() },
        "Image": image_column(c, row.image_current, trunc),
        "Labels": labels,
        "LocalVolumes": local_volumes.to_string(),
        "Mounts": mounts,
        "Names": c.name,
        "Networks": network_name(c),
        "Ports": ports_column(c, s),
        "RunningFor": time_ago(c.created, now),
        "Size": size,
        "State": state_string(s),
        "Status": status_text(s, now),
    })
}

// ---------------------------------------------------------------------------
// Mounts, from the spec.

/// A user mount as docker's `MountPoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    pub kind: &'static str,
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    pub read_only: bool,
    pub propagation: String,
}

/// The container's binds and volumes (not the generated /etc files, not
/// `--init`, not the kernel file systems).
pub fn mounts(config: &ContainerConfig) -> Vec<MountPoint> {
    let list = match config.spec.get("mounts").and_then(Value::as_array) {
        Some(list) => list,
        None => &config.mounts,
    };
    let mut out = Vec::new();
    for m in list {
        if m.get("type").and_then(Value::as_str) != Some("bind") {
            continue;
        }
        let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default();
        let (src, dst) = (text("source"), text("destination"));
        let generated = matches!(dst, "/etc/hosts" | "/etc/hostname" | "/etc/resolv.conf")
            && Path::new(src).parent().and_then(Path::file_name)
                == Some(std::ffi::OsStr::new(&config.id));
        // Rootless, the runtime binds /sys and the standard device nodes
        // from the host: its own mounts, not the user's.
        let runtime_bind = src == dst
            && matches!(
                dst,
                "/sys"
                    | "/dev/null"
                    | "/dev/zero"
                    | "/dev/full"
                    | "/dev/random"
                    | "/dev/urandom"
                    | "/dev/tty"
            );
        if generated || runtime_bind || dst == super::spec::INIT_PATH {
            continue;
        }
        let options: Vec<&str> = m
            .get("options")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let propagation = options
            .iter()
            .find(|o| {
                matches!(
                    **o,
                    "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave"
                )
            })
            .unwrap_or(&"rprivate")
            .to_string();
        // A named volume lives at `…/volumes/<name>/_data`.
        let p = Path::new(src);
        let volume = (p.file_name() == Some(std::ffi::OsStr::new("_data"))
            && p.parent().and_then(Path::parent).and_then(Path::file_name)
                == Some(std::ffi::OsStr::new("volumes")))
        .then(|| {
            p.parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().to_string())
        })
        .flatten();
        out.push(MountPoint {
            kind: if volume.is_some() { "volume" } else { "bind" },
            name: volume,
            source: src.to_string(),
            destination: dst.to_string(),
            read_only: options.contains(&"ro"),
            propagation,
        });
    }
    out
}

fn mounts_count_volumes(config: &ContainerConfig) -> usize {
    mounts(config).iter().filter(|m| m.kind == "volume").count()
}

// ---------------------------------------------------------------------------
// `inspect`.

/// What `inspect` needs besides the records.
pub struct InspectInputs<'a> {
    /// The container's directory (`containers/<id>`).
    pub dir: &'a Path,
    pub log_path: &'a Path,
    /// The image's config blob, if the image is still stored.
    pub image_config: Option<&'a Value>,
    /// With `--size`.
    pub sizes: Option<Sizes>,
}

fn time_or_zero(t: Option<DateTime<Utc>>) -> String {
    t.map(go_rfc3339_nano)
        .unwrap_or_else(|| GO_ZERO_TIME.to_string())
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn null_if_empty(v: Vec<String>) -> Value {
    if v.is_empty() { Value::Null } else { json!(v) }
}

/// docker's `Config.Entrypoint` and `Config.Cmd`, split from the process
/// args by the image's entrypoint (what run did not override).
fn entrypoint_and_cmd(args: &[String], image: Option<&Value>) -> (Value, Value) {
    let entry = str_list(image.and_then(|c| c.pointer("/config/Entrypoint")));
    if !entry.is_empty() && args.len() >= entry.len() && args[..entry.len()] == entry[..] {
        let cmd = args[entry.len()..].to_vec();
        return (json!(entry), null_if_empty(cmd));
    }
    (Value::Null, null_if_empty(args.to_vec()))
}

fn health_json(h: &Health) -> Value {
    json!({
        "Status": h.status,
        "FailingStreak": h.failing_streak,
        "Log": h.log.iter().map(|l| json!({
            "Start": go_rfc3339_nano(l.start),
            "End": go_rfc3339_nano(l.end),
            "ExitCode": l.exit_code,
            "Output": l.output,
        })).collect::<Vec<_>>(),
    })
}

fn state_json(state: &ContainerState) -> Value {
    let mut s = Map::new();
    s.insert("Status".into(), json!(state_string(state)));
    s.insert("Running".into(), json!(state.status.is_running()));
    s.insert("Paused".into(), json!(state.status == Status::Paused));
    s.insert(
        "Restarting".into(),
        json!(state.status == Status::Restarting),
    );
    s.insert("OOMKilled".into(), json!(state.oom_killed));
    s.insert("Dead".into(), json!(state.status == Status::Dead));
    s.insert(
        "Pid".into(),
        json!(if state.status.is_running() {
            state.pid
        } else {
            0
        }),
    );
    s.insert("ExitCode".into(), json!(state.exit_code));
    s.insert("Error".into(), json!(state.error));
    s.insert("StartedAt".into(), json!(time_or_zero(state.started_at)));
    s.insert("FinishedAt".into(), json!(time_or_zero(state.finished_at)));
    if let Some(h) = &state.health {
        s.insert("Health".into(), health_json(h));
    }
    Value::Object(s)
}

fn capabilities(spec: &Value) -> BTreeSet<String> {
    str_list(spec.pointer("/process/capabilities/bounding"))
        .into_iter()
        .collect()
}

fn host_config(config: &ContainerConfig, mounts: &[MountPoint]) -> Value {
    let spec = &config.spec;
    let privileged =
        spec.pointer("/linux/maskedPaths").is_none() && spec.pointer("/linux").is_some();
    let (cap_add, cap_drop) = if privileged {
        (Value::Null, Value::Null)
    } else {
        let have = capabilities(spec);
        let default: BTreeSet<String> = super::spec::DEFAULT_CAPABILITIES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let strip = |s: &String| s.strip_prefix("CAP_").unwrap_or(s).to_string();
        (
            null_if_empty(have.difference(&default).map(strip).collect()),
            null_if_empty(default.difference(&have).map(strip).collect()),
        )
    };
    let binds: Vec<String> = mounts
        .iter()
        .map(|m| {
            let src = m.name.clone().unwrap_or_else(|| m.source.clone());
            if m.read_only {
                format!("{src}:{}:ro", m.destination)
            } else {
                format!("{src}:{}", m.destination)
            }
        })
        .collect();
    let spec_mounts = spec
        .get("mounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut tmpfs = Map::new();
    let mut shm_size: u64 = super::spec::DEFAULT_SHM_SIZE;
    let mut init = false;
    for m in &spec_mounts {
        let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default();
        let options = str_list(m.get("options"));
        match (text("type"), text("destination")) {
            ("tmpfs", "/dev/shm") => {
                if let Some(sz) = options
                    .iter()
                    .find_map(|o| o.strip_prefix("size="))
                    .and_then(|s| s.parse().ok())
                {
                    shm_size = sz;
                }
            }
            ("tmpfs", "/dev") => {}
            ("tmpfs", dst) => {
                tmpfs.insert(dst.to_string(), json!(options.join(",")));
            }
            (_, dst) if dst == super::spec::INIT_PATH => init = true,
            _ => {}
        }
    }
    let log_config = {
        let mut c = Map::new();
        if config.log_max_file > 0 {
            c.insert("max-file".into(), json!(config.log_max_file.to_string()));
        }
        if config.log_max_size > 0 {
            c.insert("max-size".into(), json!(config.log_max_size.to_string()));
        }
        json!({"Type": "json-file", "Config": c})
    };
    let restart = if config.restart_policy.name.is_empty() {
        json!({"Name": "no", "MaximumRetryCount": 0})
    } else {
        json!(config.restart_policy)
    };
    let mut h = Map::new();
    h.insert("Binds".into(), null_if_empty(binds));
    h.insert("ContainerIDFile".into(), json!(""));
    h.insert("LogConfig".into(), log_config);
    // The mode it was created with: `network connect` does not change it.
    let mode = if config.network_mode.is_empty() {
        network_name(config)
    } else {
        config.network_mode.clone()
    };
    h.insert("NetworkMode".into(), json!(mode));
    h.insert(
        "PortBindings".into(),
        crate::network::ports::port_bindings_json(&config.port_bindings),
    );
    h.insert("RestartPolicy".into(), restart);
    h.insert("AutoRemove".into(), json!(config.auto_remove));
    h.insert("VolumeDriver".into(), json!(""));
    h.insert("VolumesFrom".into(), Value::Null);
    h.insert("ConsoleSize".into(), json!([0, 0]));
    h.insert("CapAdd".into(), cap_add);
    h.insert("CapDrop".into(), cap_drop);
    h.insert("CgroupnsMode".into(), json!("private"));
    h.insert("Dns".into(), json!([]));
    h.insert("DnsOptions".into(), json!([]));
    h.insert("DnsSearch".into(), json!([]));
    h.insert("ExtraHosts".into(), Value::Null);
    h.insert("GroupAdd".into(), Value::Null);
    h.insert("IpcMode".into(), json!("private"));
    h.insert("Cgroup".into(), json!(""));
    h.insert("Links".into(), Value::Null);
    h.insert("OomScoreAdj".into(), json!(0));
    h.insert("PidMode".into(), json!(""));
    h.insert("Privileged".into(), json!(privileged));
    h.insert("PublishAllPorts".into(), json!(config.publish_all));
    h.insert(
        "ReadonlyRootfs".into(),
        json!(
            spec.pointer("/root/readonly")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        ),
    );
    h.insert("SecurityOpt".into(), Value::Null);
    if !tmpfs.is_empty() {
        h.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    h.insert("UTSMode".into(), json!(""));
    h.insert("UsernsMode".into(), json!(""));
    h.insert("ShmSize".into(), json!(shm_size));
    h.insert("Runtime".into(), json!("berth"));
    h.insert("Isolation".into(), json!(""));
    h.insert("CpuShares".into(), json!(0));
    h.insert("Memory".into(), json!(0));
    h.insert("NanoCpus".into(), json!(0));
    h.insert("CgroupParent".into(), json!(""));
    h.insert("PidsLimit".into(), Value::Null);
    h.insert("Ulimits".into(), Value::Null);
    h.insert(
        "MaskedPaths".into(),
        null_if_empty(str_list(spec.pointer("/linux/maskedPaths"))),
    );
    h.insert(
        "ReadonlyPaths".into(),
        null_if_empty(str_list(spec.pointer("/linux/readonlyPaths"))),
    );
    if init {
        h.insert("Init".into(), json!(true));
    }
    Value::Object(h)
}

fn mount_json(m: &MountPoint) -> Value {
    let mut o = Map::new();
    o.insert("Type".into(), json!(m.kind));
    if let Some(n) = &m.name {
        o.insert("Name".into(), json!(n));
    }
    o.insert("Source".into(), json!(m.source));
    o.insert("Destination".into(), json!(m.destination));
    if m.name.is_some() {
        o.insert("Driver".into(), json!("local"));
    }
    o.insert("Mode".into(), json!(if m.read_only { "ro" } else { "" }));
    o.insert("RW".into(), json!(!m.read_only));
    o.insert("Propagation".into(), json!(m.propagation));
    Value::Object(o)
}

/// docker's `Config` of a container (inspect's `Config`; what `commit` starts from).
pub fn config_json(config: &ContainerConfig, image: Option<&Value>) -> Value {
    let spec = &config.spec;
    let image_cfg = |k: &str| image.and_then(|c| c.pointer(&format!("/config/{k}")));
    let args = process_args(config);
    let (entrypoint, cmd) = entrypoint_and_cmd(&args, image);
    let uid = spec.pointer("/process/user/uid").and_then(Value::as_u64);
    let gid = spec.pointer("/process/user/gid").and_then(Value::as_u64);
    let image_user = image_cfg("User")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let user = match (uid, gid) {
        _ if !image_user.is_empty() => image_user.to_string(),
        (Some(0) | None, Some(0) | None) => String::new(),
        (Some(u), Some(g)) => format!("{u}:{g}"),
        (Some(u), None) => u.to_string(),
        (None, Some(g)) => format!("0:{g}"),
    };
    let cwd = spec
        .pointer("/process/cwd")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let image_wd = image_cfg("WorkingDir")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let working_dir = if cwd == "/" && image_wd.is_empty() {
        ""
    } else {
        cwd
    };
    let mut labels: BTreeMap<String, String> = image_cfg("Labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    labels.extend(config.labels.clone());
    let mut c = Map::new();
    c.insert(
        "Hostname".into(),
        json!(
            spec.get("hostname")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
    );
    c.insert("Domainname".into(), json!(""));
    c.insert("User".into(), json!(user));
    c.insert("AttachStdin".into(), json!(config.open_stdin));
    c.insert("AttachStdout".into(), json!(true));
    c.insert("AttachStderr".into(), json!(!config.tty));
    if let Some(p) =
        image_cfg("ExposedPorts").filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
    {
        c.insert("ExposedPorts".into(), p.clone());
    }
    c.insert("Tty".into(), json!(config.tty));
    c.insert("OpenStdin".into(), json!(config.open_stdin));
    c.insert("StdinOnce".into(), json!(config.open_stdin));
    c.insert(
        "Env".into(),
        null_if_empty(str_list(spec.pointer("/process/env"))),
    );
    c.insert("Cmd".into(), cmd);
    // The check the monitor runs (flags over the image's), as docker shows it.
    if let Some(h) = &config.healthcheck {
        c.insert("Healthcheck".into(), json!(h));
    } else if let Some(h) = image_cfg("Healthcheck").filter(|v| !v.is_null()) {
        c.insert("Healthcheck".into(), h.clone());
    }
    c.insert("Image".into(), json!(config.image));
    c.insert(
        "Volumes".into(),
        image_cfg("Volumes")
            .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            .cloned()
            .unwrap_or(Value::Null),
    );
    c.insert("WorkingDir".into(), json!(working_dir));
    c.insert("Entrypoint".into(), entrypoint);
    c.insert(
        "OnBuild".into(),
        null_if_empty(str_list(image_cfg("OnBuild"))),
    );
    c.insert("Labels".into(), json!(labels));
    if let Some(s) = config.stop_signal.as_deref().filter(|s| !s.is_empty()) {
        c.insert("StopSignal".into(), json!(s));
    }
    if let Some(t) = config.stop_timeout {
        c.insert("StopTimeout".into(), json!(t));
    }
    Value::Object(c)
}

fn network_settings(config: &ContainerConfig, state: &ContainerState) -> Value {
    // docker: the running container's exposed and published ports; `{}` when stopped.
    let ports = if state.status.is_running() && has_ports(config) {
        crate::network::ports::ports_json(&state.ports, &config.exposed_ports)
    } else {
        json!({})
    };
    let empty_endpoint = json!({
        "IPAMConfig": null,
        "Links": null,
        "Aliases": null,
        "MacAddress": "",
        "DriverOpts": null,
        "GwPriority": 0,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": null,
    });
    let running = state.status.is_running();
    let mut networks = Map::new();
    if config.networks.is_empty() {
        networks.insert(network_name(config), empty_endpoint);
    } else if !config.network_helper.is_empty() {
        networks.insert(crate::network::DEFAULT_NETWORK.into(), empty_endpoint);
    }
    for e in &config.networks {
        // docker shows the addresses of a stopped container's endpoints empty.
        let (ip, gateway, mac, len, endpoint_id) = if running {
            (
                e.ip.to_string(),
                e.gateway.to_string(),
                e.mac.clone(),
                e.prefix_len,
                e.endpoint_id.clone(),
            )
        } else {
            Default::default()
        };
        let mut dns_names = vec![config.name.clone(), config.id[..12].to_string()];
        dns_names.extend(e.aliases.iter().cloned());
        networks.insert(
            e.network.clone(),
            json!({
                "IPAMConfig": null,
                "Links": null,
                "Aliases": if e.aliases.is_empty() { Value::Null } else { json!(e.aliases) },
                "MacAddress": mac,
                "DriverOpts": null,
                "GwPriority": 0,
                "NetworkID": e.network_id,
                "EndpointID": endpoint_id,
                "Gateway": gateway,
                "IPAddress": ip,
                "IPPrefixLen": len,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DNSNames": if running { json!(dns_names) } else { Value::Null },
            }),
        );
    }
    // docker repeats the default network's endpoint at the top (the
    // fields scripts read as `{{.NetworkSettings.IPAddress}}`).
    let default = |field: &str| {
        networks
            .get(crate::network::DEFAULT_NETWORK)
            .and_then(|e| e.get(field))
            .cloned()
            .unwrap_or_else(|| json!(""))
    };
    json!({
        "Bridge": "",
        "SandboxID": "",
        "SandboxKey": "",
        "Ports": ports,
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": null,
        "SecondaryIPv6Addresses": null,
        "EndpointID": default("EndpointID"),
        "Gateway": default("Gateway"),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": default("IPAddress"),
        "IPPrefixLen": networks
            .get(crate::network::DEFAULT_NETWORK)
            .and_then(|e| e.get("IPPrefixLen"))
            .cloned()
            .unwrap_or_else(|| json!(0)),
        "IPv6Gateway": "",
        "MacAddress": default("MacAddress"),
        "Networks": networks,
    })
}

/// docker 28's `ContainerJSON` for one container.
pub fn inspect(config: &ContainerConfig, state: &ContainerState, inputs: &InspectInputs) -> Value {
    let args = process_args(config);
    let mounts = mounts(config);
    let dir = inputs.dir;
    let path_of = |name: &str| dir.join(name).display().to_string();
    let mut o = Map::new();
    o.insert("Id".into(), json!(config.id));
    o.insert("Created".into(), json!(go_rfc3339_nano(config.created)));
    o.insert(
        "Path".into(),
        json!(args.first().cloned().unwrap_or_default()),
    );
    o.insert("Args".into(), json!(args.get(1..).unwrap_or_default()));
    o.insert("State".into(), state_json(state));
    o.insert("Image".into(), json!(config.image_id));
    o.insert("ResolvConfPath".into(), json!(path_of("resolv.conf")));
    o.insert("HostnamePath".into(), json!(path_of("hostname")));
    o.insert("HostsPath".into(), json!(path_of("hosts")));
    o.insert(
        "LogPath".into(),
        json!(inputs.log_path.display().to_string()),
    );
    o.insert("Name".into(), json!(format!("/{}", config.name)));
    o.insert("RestartCount".into(), json!(state.restart_count));
    o.insert("Driver".into(), json!("overlay2"));
    o.insert("Platform".into(), json!("linux"));
    o.insert("MountLabel".into(), json!(""));
    o.insert("ProcessLabel".into(), json!(""));
    o.insert("AppArmorProfile".into(), json!(""));
    o.insert("ExecIDs".into(), Value::Null);
    o.insert("HostConfig".into(), host_config(config, &mounts));
    let lower: Vec<String> = config
        .layers
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    o.insert(
        "GraphDriver".into(),
        json!({
            "Data": {
                "LowerDir": lower.join(":"),
                "MergedDir": path_of("merged"),
                "UpperDir": path_of("upper"),
                "WorkDir": path_of("work"),
            },
            "Name": "overlay2",
        }),
    );
    if let Some(sz) = inputs.sizes {
        o.insert("SizeRw".into(), json!(sz.rw));
        o.insert("SizeRootFs".into(), json!(sz.root_fs));
    }
    o.insert(
        "Mounts".into(),
        json!(mounts.iter().map(mount_json).collect::<Vec<_>>()),
    );
    o.insert("Config".into(), config_json(config, inputs.image_config));
    o.insert("NetworkSettings".into(), network_settings(config, state));
    Value::Object(o)
}

/// Bytes of the files under `dir` (docker's `directory.Size`: directories
/// and empty files do not count, a hard-linked inode once). Unreadable parts
/// are skipped.
pub fn dir_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = BTreeSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
                continue;
            }
            if m.len() == 0 || !seen.insert((m.dev(), m.ino())) {
                continue;
            }
            total += m.len();
        }
    }
    total
}

#[cfg(test)]
mod tests;

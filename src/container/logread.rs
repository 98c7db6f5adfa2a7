//! Reading a container's json-file log, as written by
//! [`super::logfile::LogWriter`]: `berth logs` and `logs -f`.
//!
//! - [`LogCursor`] reads entries forward through `ctr.log.N … ctr.log.1,
//!   ctr.log` (oldest first), streaming, from the start or from where
//!   `--tail N` begins. `--tail` reads the files backwards from their ends, so
//!   the last lines of a 1 GB log cost a few blocks. Kept open after the last
//!   entry, the cursor picks up what is appended later and follows rotation
//!   ([`LogCursor::refresh`]).
//! - [`Watcher`]: sleeps until the container's directory changes (inotify),
//!   or a timeout, for `-f`.
//! - [`parse_time_arg`]: docker's `--since`/`--until` values.
//!
//! A line here is what the container printed up to a newline: one entry, or
//! several partial entries (docker's 16 KiB pieces, or output still waiting
//! for its newline) of the same stream. `--tail N` counts such lines. Lines
//! that are not valid entries (a crash in the middle of a write) are skipped.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, Offset, SecondsFormat, TimeZone, Utc};
use serde::Deserialize;

use super::logfile::{Stream, rotated};

#[derive(Debug, thiserror::Error)]
pub enum LogReadError {
    #[error("reading container log {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("failed to parse value as time or duration: {0:?}")]
    BadTime(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogReadError + '_ {
    move |source| LogReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One json-file entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub stream: Stream,
    /// The text as the container wrote it; ends with `\n` unless partial.
    pub log: String,
    pub time: DateTime<Utc>,
}

impl Entry {
    /// Whether this entry ends its line (a partial piece does not).
    pub fn ends_line(&self) -> bool {
        self.log.ends_with('\n')
    }
}

#[derive(Deserialize)]
struct RawEntry<'a> {
    log: String,
    #[serde(borrow)]
    stream: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    time: std::borrow::Cow<'a, str>,
}

/// Parses one line of the log (without its newline); None if it is not an entry.
pub fn parse_entry(line: &[u8]) -> Option<Entry> {
    parse_writer_shape(line).or_else(|| parse_entry_json(line))
}

/// The exact shape [`super::logfile::LogWriter`] writes,
/// `{"log":"…","stream":"stdout","time":"…"}`, without serde: twice as
/// fast on long logs. Anything else (other field order, docker's `attrs`,
/// odd escapes) is None and goes to serde.
fn parse_writer_shape(line: &[u8]) -> Option<Entry> {
    let rest = line.strip_prefix(br#"{"log":""#)?;
    let mut log = Vec::with_capacity(rest.len());
    let mut i = 0;
    loop {
        let run = rest[i..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        log.extend_from_slice(&rest[i..i + run]);
        i += run;
        match rest[i] {
            b'"' => break,
            b'\\' => {
                let c = match *rest.get(i + 1)? {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'u' => {
                        let hex = std::str::from_utf8(rest.get(i + 2..i + 6)?).ok()?;
                        let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                        let mut buf = [0u8; 4];
                        log.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        i += 6;
                        continue;
                    }
                    _ => return None,
                };
                log.push(c);
                i += 2;
            }
            _ => return None,
        }
    }
    let rest = rest[i..].strip_prefix(br#"","stream":""#)?;
    let (stream, rest) = if let Some(r) = rest.strip_prefix(b"stdout") {
        (Stream::Stdout, r)
    } else {
        (Stream::Stderr, rest.strip_prefix(b"stderr")?)
    };
    let rest = rest.strip_prefix(br#"","time":""#)?;
    let time = rest.strip_suffix(br#""}"#)?;
    let time = parse_log_time(std::str::from_utf8(time).ok()?)?;
    Some(Entry {
        stream,
        log: String::from_utf8(log).ok()?,
        time,
    })
}

fn parse_entry_json(line: &[u8]) -> Option<Entry> {
    let raw: RawEntry = serde_json::from_slice(line).ok()?;
    let stream = match &*raw.stream {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        _ => return None,
    };
    Some(Entry {
        stream,
        log: raw.log,
        time: parse_log_time(&raw.time)?,
    })
}

/// An entry's `time`: RFC 3339, with a fast path for the fixed-width UTC
/// form the writer uses (`2024-01-02T03:04:05.123456789Z`).
pub fn parse_log_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() == 30
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[29] == b'Z'
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        let t = date.and_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, num(20..29)?)?;
        return Some(t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// docker's fixed-width RFC3339Nano in UTC, as `logs -t` prints it.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// `--tail`: docker's rule is a number of lines, anything else (`all`,
/// negative, unparsable) meaning everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    All,
    Last(usize),
}

impl Tail {
    pub fn parse(s: &str) -> Tail {
        match s.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Tail::Last(n as usize),
            _ => Tail::All,
        }
    }
}

/// A line longer than this many pieces (16 MiB of 16 KiB pieces: a
/// progress bar that never prints a newline) counts as several for `--tail`,
/// so the backwards scan stays bounded.
const MAX_PIECES: usize = 1024;

/// Where an entry starts: which file (index in the cursor's list, oldest
/// first) and the byte offset of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Pos {
    file: usize,
    offset: u64,
}

struct Source {
    reader: BufReader<File>,
    id: (u64, u64),
}

fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

fn open_source(path: &Path) -> Result<Option<Source>, LogReadError> {
    match File::open(path) {
        Ok(f) => {
            let m = f.metadata().map_err(io_err(path))?;
            Ok(Some(Source {
                id: file_id(&m),
                reader: BufReader::with_capacity(128 * 1024, f),
            }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// The current log and the rotated ones newer than `known` (a file id),
/// newest first; all of them if `known` is not among them. Files are opened
/// newest first and duplicates (a rotation while listing) dropped.
fn open_newer(path: &Path, known: Option<(u64, u64)>) -> Result<Vec<Source>, LogReadError> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut n = 0;
    loop {
        let p = if n == 0 {
            path.to_path_buf()
        } else {
            rotated(path, n)
        };
        match open_source(&p)? {
            Some(s) if Some(s.id) == known => break,
            Some(s) => {
                if seen.insert(s.id) {
                    found.push(s);
                }
            }
            // ctr.log itself may be missing for a moment (being rotated).
            None if n == 0 => {}
            None => break,
        }
        n += 1;
        if n > 10_000 {
            break;
        }
    }
    Ok(found)
}

/// Reads `file[..end]` backwards line by line, calling `f(offset, line)`
/// (line without its newline) newest first until it returns false.
/// Returns false if `f` stopped it.
fn scan_back(file: &File, end: u64, f: &mut impl FnMut(u64, &[u8]) -> bool) -> io::Result<bool> {
    const CHUNK: u64 = 64 * 1024;
    // buf holds file bytes [pos, pos + buf.len()): lines not yet handed out.
    let mut pos = end;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let content_end = if buf.last() == Some(&b'\n') {
            buf.len() - 1
        } else {
            buf.len()
        };
        match buf[..content_end].iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                if !f(pos + i as u64 + 1, &buf[i + 1..content_end]) {
                    return Ok(false);
                }
                buf.truncate(i + 1);
            }
            None if pos == 0 => {
                if !buf.is_empty() && !f(0, &buf[..content_end]) {
                    return Ok(false);
                }
                return Ok(true);
            }
            None => {
                let start = pos.saturating_sub(CHUNK);
                let mut chunk = vec![0u8; (pos - start) as usize];
                file.read_exact_at(&mut chunk, start)?;
                chunk.extend_from_slice(&buf);
                buf = chunk;
                pos = start;
            }
        }
    }
}

/// Where the last `n` lines begin, and the entries after that point that
/// belong to older lines (kept out). See the module doc for what a line is.
fn plan_tail(
    sources: &[Source],
    ends: &[u64],
    path: &Path,
    n: usize,
) -> Result<(Pos, HashSet<Pos>), LogReadError> {
    let last = sources.len().saturating_sub(1);
    let mut start = Pos {
        file: last,
        offset: ends.get(last).copied().unwrap_or(0),
    };
    let mut skip = HashSet::new();
    if n == 0 || sources.is_empty() {
        return Ok((start, skip));
    }
    let mut seen = [false; 2];
    // Pieces of the oldest kept line per stream so far.
    let mut pieces = [0usize; 2];
    let mut count = 0usize;
    // Once n lines are in: the streams whose oldest kept line may have older pieces.
    let mut stopped = false;
    let mut open = [false; 2];
    let mut excluded = Vec::new();
    let mut budget = MAX_PIECES;
    for file in (0..sources.len()).rev() {
        let mut visit = |offset: u64, line: &[u8]| -> bool {
            let Some(e) = parse_entry(line) else {
                return true;
            };
            let s = e.stream as usize;
            let pos = Pos { file, offset };
            if stopped {
                // Older pieces of a kept line come soon before it, if at all:
                // don't look further back than a long line's worth of entries.
                budget = budget.saturating_sub(1);
                if budget == 0 {
                    return false;
                }
                if open[s] && !e.ends_line() && pieces[s] < MAX_PIECES {
                    pieces[s] += 1;
                    start = pos;
                } else {
                    open[s] = false;
                    excluded.push(pos);
                }
                return open.iter().any(|&o| o);
            }
            let new_line = e.ends_line() || !seen[s] || pieces[s] >= MAX_PIECES;
            seen[s] = true;
            if new_line {
                count += 1;
                pieces[s] = 0;
                if count > n {
                    stopped = true;
                    open = seen;
                    open[s] = false;
                    excluded.push(pos);
                    return open.iter().any(|&o| o);
                }
            }
            pieces[s] += 1;
            start = pos;
            true
        };
        let done = scan_back(sources[file].reader.get_ref(), ends[file], &mut visit)
            .map_err(io_err(path))?;
        if !done {
            break;
        }
    }
    skip.extend(excluded.into_iter().filter(|p| *p > start));
    Ok((start, skip))
}

/// Reads a container's log forward, entry by entry; see the module doc.
pub struct LogCursor {
    path: PathBuf,
    /// Files still to read, oldest first; `sources[0]` is being read.
    sources: Vec<Source>,
    /// How many files were dropped from the front (for [`Pos`]).
    base: usize,
    /// Offset in `sources[0]` of the line in `partial`.
    offset: u64,
    partial: Vec<u8>,
    skip: HashSet<Pos>,
    /// Lines that were not entries.
    pub skipped: u64,
}

impl LogCursor {
    /// Opens the log at `path` (`ctr.log`) and its rotated files, positioned
    /// at the start of the last `tail` lines. A missing log is an empty one.
    pub fn open(path: &Path, tail: Tail) -> Result<LogCursor, LogReadError> {
        let mut sources = open_newer(path, None)?;
        sources.reverse();
        let mut cursor = LogCursor {
            path: path.to_path_buf(),
            sources,
            base: 0,
            offset: 0,
            partial: Vec::new(),
            skip: HashSet::new(),
            skipped: 0,
        };
        if let Tail::Last(n) = tail {
            let ends = cursor
                .sources
                .iter()
                .map(|s| s.reader.get_ref().metadata().map(|m| m.len()))
                .collect::<io::Result<Vec<u64>>>()
                .map_err(io_err(path))?;
            let (start, skip) = plan_tail(&cursor.sources, &ends, path, n)?;
            cursor.sources.drain(..start.file);
            cursor.base = start.file;
            if let Some(s) = cursor.sources.first_mut() {
                s.reader
                    .seek(SeekFrom::Start(start.offset))
                    .map_err(io_err(path))?;
            }
            cursor.offset = start.offset;
            cursor.skip = skip;
        }
        Ok(cursor)
    }

    /// The next entry, or None when everything written so far has been read
    /// (call again later for more: an unfinished last line is kept).
    pub fn next_entry(&mut self) -> Result<Option<Entry>, LogReadError> {
        loop {
            let Some(src) = self.sources.first_mut() else {
                return Ok(None);
            };
            src.reader
                .read_until(b'\n', &mut self.partial)
                .map_err(io_err(&self.path))?;
            if self.partial.last() != Some(&b'\n') {
                if self.sources.len() == 1 {
                    return Ok(None);
                }
                // A rotated file is complete: an unterminated end is a torn write.
                if !self.partial.is_empty() {
                    self.skipped += 1;
                }
                self.partial.clear();
                self.sources.remove(0);
                self.base += 1;
                self.offset = 0;
                continue;
            }
            let pos = Pos {
                file: self.base,
                offset: self.offset,
            };
            self.offset += self.partial.len() as u64;
            let line = &self.partial[..self.partial.len() - 1];
            let entry = if !self.skip.is_empty() && self.skip.remove(&pos) {
                None
            } else {
                let e = parse_entry(line);
                if e.is_none() && !line.is_empty() {
                    self.skipped += 1;
                }
                e
            };
            self.partial.clear();
            if let Some(e) = entry {
                return Ok(Some(e));
            }
        }
    }

    /// For following: notices a rotation (the log path names another file
    /// now: the newer files are queued after the one being read, which is
    /// drained first) or a truncation (`max-file` 1: read from the start).
    pub fn refresh(&mut self) -> Result<(), LogReadError> {
        let newest = self.sources.last().map(|s| s.id);
        let mut newer = open_newer(&self.path, newest)?;
        if newer.is_empty() {
            if self.sources.len() == 1 {
                let src = &mut self.sources[0];
                let len = src
                    .reader
                    .get_ref()
                    .metadata()
                    .map_err(io_err(&self.path))?
                    .len();
                if len < self.offset + self.partial.len() as u64 {
                    src.reader
                        .seek(SeekFrom::Start(0))
                        .map_err(io_err(&self.path))?;
                    self.offset = 0;
                    self.partial.clear();
                }
            }
            return Ok(());
        }
        newer.reverse();
        if self.sources.is_empty() {
            self.offset = 0;
            self.partial.clear();
        }
        self.sources.extend(newer);
        Ok(())
    }
}

/// Local-zone variant of [`parse_time_arg_in`]: the zone is the client's
/// current offset, as docker does.
pub fn parse_time_arg(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, LogReadError> {
    let local = Local.from_utc_datetime(&now.naive_utc()).offset().fix();
    parse_time_arg_in(value, now, local)
}

/// docker's `--since`/`--until`: a Go duration (`10m`, `1h30m`, `-5s`;
/// `now` minus it, whole seconds), an RFC 3339-like date (`2024-01-02`,
/// `2024-01-02T15`, `…T15:04`, `…T15:04:05`, with `.nanos`, with `Z` or
/// `±07:00`, else in `local`), or Unix seconds (`1700000000`,
/// `1700000000.5`).
pub fn parse_time_arg_in(
    value: &str,
    now: DateTime<Utc>,
    local: FixedOffset,
) -> Result<DateTime<Utc>, LogReadError> {
    let bad = || LogReadError::BadTime(value.to_string());
    if value != "0"
        && let Some(nanos) = parse_go_duration(value)
    {
        let t = now.timestamp_nanos_opt().ok_or_else(bad)? as i128 - nanos;
        let secs = t.div_euclid(1_000_000_000);
        return i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(bad);
    }
    if let Some(t) = parse_date(value, local) {
        return Ok(t);
    }
    if value.contains('-') {
        return Err(bad());
    }
    parse_unix(value).ok_or_else(bad)
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_go_duration(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac = &r[..n];
            rest = &r[n..];
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let unit: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut part = whole.checked_mul(unit)?;
        if !frac.is_empty() {
            let digits = &frac[..frac.len().min(20)];
            let f: i128 = digits.parse().ok()?;
            part += f * unit / 10i128.pow(digits.len() as u32);
        }
        total = total.checked_add(part)?;
        if total > i64::MAX as i128 {
            return None;
        }
    }
    Some(if neg { -total } else { total })
}

/// `YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|±HH:MM]`.
fn parse_date(s: &str, local: FixedOffset) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*i..*i + n)?;
        let v = part.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })?;
        *i += n;
        Some(v)
    };
    let expect = |i: &mut usize, c: u8| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    let year = digits(&mut i, 4)?;
    expect(&mut i, b'-')?;
    let month = digits(&mut i, 2)?;
    expect(&mut i, b'-')?;
    let day = digits(&mut i, 2)?;
    let (mut hour, mut min, mut sec, mut nano) = (0, 0, 0, 0);
    if expect(&mut i, b'T').is_some() {
        hour = digits(&mut i, 2)?;
        if expect(&mut i, b':').is_some() {
            min = digits(&mut i, 2)?;
            if expect(&mut i, b':').is_some() {
                sec = digits(&mut i, 2)?;
                if expect(&mut i, b'.').is_some() {
                    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if n == 0 || n > 9 {
                        return None;
                    }
                    nano = digits(&mut i, n)? * 10u32.pow(9 - n as u32);
                }
            }
        }
    }
    let zone = match b.get(i) {
        None => local,
        Some(b'Z' | b'z') => {
            i += 1;
            FixedOffset::east_opt(0)?
        }
        Some(&sign @ (b'+' | b'-')) => {
            i += 1;
            let h = digits(&mut i, 2)?;
            expect(&mut i, b':')?;
            let m = digits(&mut i, 2)?;
            let secs = (h * 3600 + m * 60) as i32;
            FixedOffset::east_opt(if sign == b'-' { -secs } else { secs })?
        }
        Some(_) => return None,
    };
    if i != b.len() {
        return None;
    }
    let naive =
        NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_nano_opt(hour, min, sec, nano)?;
    zone.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `seconds[.fraction]`, as docker's `ParseTimestamps`.
fn parse_unix(s: &str) -> Option<DateTime<Utc>> {
    let (secs, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let secs: i64 = secs.parse().ok()?;
    let nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    DateTime::from_timestamp(secs, nanos)
}

/// Wakes `logs -f` when something in the container's directory changes
/// (the log is written or rotated, `state.json` replaced), or after a
/// timeout; without inotify it just sleeps.
pub struct Watcher {
    fd: Option<OwnedFd>,
}

impl Watcher {
    pub fn new(dir: &Path) -> Watcher {
        // SAFETY: plain syscalls on a descriptor this function owns.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Watcher { fd: None };
        }
        // SAFETY: fd was just returned by inotify_init1 and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let Ok(cpath) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return Watcher { fd: None };
        };
        let mask = libc::IN_MODIFY
            | libc::IN_CREATE
            | libc::IN_MOVED_TO
            | libc::IN_MOVED_FROM
            | libc::IN_DELETE
            | libc::IN_DELETE_SELF
            | libc::IN_CLOSE_WRITE;
        // SAFETY: valid fd and NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), cpath.as_ptr(), mask) };
        if wd < 0 {
            return Watcher { fd: None };
        }
        Watcher { fd: Some(fd) }
    }

    /// Waits for a change or `timeout`, whichever comes first.
    pub fn wait(&self, timeout: Duration) {
        let Some(fd) = &self.fd else {
            std::thread::sleep(timeout.min(Duration::from_millis(100)));
            return;
        };
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [nix::poll::PollFd::new(
            fd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
        let mut buf = [0u8; 4096];
        // Drain the events: which file changed does not matter.
        loop {
            // SAFETY: reading into a buffer of the given length.
            let n = unsafe {
                libc::read(
                    fd.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len(),
                )
            };
            if n <= 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::logfile::LogWriter;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn read_all(path: &Path, tail: Tail) -> Vec<(Stream, String)> {
        let mut c = LogCursor::open(path, tail).unwrap();
        let mut out = Vec::new();
        while let Some(e) = c.next_entry().unwrap() {
            out.push((e.stream, e.log));
        }
        out
    }

    fn logs(entries: &[(Stream, String)]) -> Vec<&str> {
        entries.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn reads_both_streams_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        w.write(Stream::Stdout, b"out\n").unwrap();
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"no newline").unwrap();
        w.finish().unwrap();
        let got = read_all(&path, Tail::All);
        assert_eq!(
            got,
            [
                (Stream::Stdout, "out\n".to_string()),
                (Stream::Stderr, "err\n".to_string()),
                (Stream::Stdout, "no newline".to_string()),
            ]
        );
    }

    #[test]
    fn missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_all(&dir.path().join("ctr.log"), Tail::All).is_empty());
        assert!(read_all(&dir.path().join("ctr.log"), Tail::Last(3)).is_empty());
    }

    #[test]
    fn tail_counts_lines_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 300, 5).unwrap();
        for i in 0..40 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
        }
        assert!(rotated(&path, 2).exists());
        let all = read_all(&path, Tail::All);
        let first: usize = all[0].1["line ".len()..].trim().parse().unwrap();
        assert_eq!(all.len(), 40 - first);
        for (i, (_, l)) in all.iter().enumerate() {
            assert_eq!(l, &format!("line {}\n", first + i));
        }
        // More than the current file holds: reaches into the rotated ones.
        for n in [0, 1, 3, 7, 12, all.len(), all.len() + 5] {
            let got = read_all(&path, Tail::Last(n));
            assert_eq!(got, all[all.len() - n.min(all.len())..], "tail {n}");
        }
    }

    #[test]
    fn tail_from_the_end_of_a_big_log_reads_little() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        let mut chunk = Vec::new();
        for i in 0..100_000 {
            chunk.extend_from_slice(format!("{i}\n").as_bytes());
        }
        w.write(Stream::Stdout, &chunk).unwrap();
        w.write(Stream::Stderr, b"last\n").unwrap();
        let got = read_all(&path, Tail::Last(3));
        assert_eq!(logs(&got), ["99998\n", "99999\n", "last\n"]);
        assert_eq!(read_all(&path, Tail::All).len(), 100_001);
    }

    #[test]
    fn tail_keeps_whole_partial_lines_and_skips_interleaved_older_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        let now = t("2024-01-02T03:04:05Z");
        w.write_at(Stream::Stdout, b"old\n", now).unwrap();
        w.write_at(Stream::Stderr, b"e1\n", now).unwrap();
        // A long stdout line in pieces with stderr lines between them.
        let mut long = vec![b'x'; crate::container::logfile::MAX_LINE];
        w.write_at(Stream::Stdout, &long, now).unwrap();
        w.write_at(Stream::Stderr, b"e2\n", now).unwrap();
        w.write_at(Stream::Stdout, b"y\n", now).unwrap();
        w.write_at(Stream::Stderr, b"e3\n", now).unwrap();
        let got = read_all(&path, Tail::Last(2));
        long.push(b'y');
        long.push(b'\n');
        let long = String::from_utf8(long).unwrap();
        // Lines: the stdout x…y line and e3; e2 is older than both.
        let (xs, _) = long.split_at(crate::container::logfile::MAX_LINE);
        assert_eq!(logs(&got), [xs, "y\n", "e3\n"]);
        let got = read_all(&path, Tail::Last(3));
        assert_eq!(logs(&got), [xs, "e2\n", "y\n", "e3\n"]);
        let got = read_all(&path, Tail::Last(1));
        assert_eq!(logs(&got), ["e3\n"]);
        // The unfinished last line counts as one.
        w.write_at(Stream::Stdout, b"tail", now).unwrap();
        w.finish().unwrap();
        assert_eq!(logs(&read_all(&path, Tail::Last(1))), ["tail"]);
    }

    #[test]
    fn corrupt_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        w.write(Stream::Stdout, b"a\n").unwrap();
        drop(w);
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(b"{\"log\":\"torn\\n\",\"str\n\n{}\nnot json\n")
                .unwrap();
        }
        let mut w = LogWriter::open(&path, 0, 1).unwrap();
        w.write(Stream::Stderr, b"b\n").unwrap();
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(b"{\"log\":\"torn at the end").unwrap();
        }
        assert_eq!(logs(&read_all(&path, Tail::All)), ["a\n", "b\n"]);
        assert_eq!(logs(&read_all(&path, Tail::Last(1))), ["b\n"]);
        assert_eq!(logs(&read_all(&path, Tail::Last(2))), ["a\n", "b\n"]);
        let mut c = LogCursor::open(&path, Tail::All).unwrap();
        while c.next_entry().unwrap().is_some() {}
        assert_eq!(c.skipped, 3);
    }

    #[test]
    fn follows_appends_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut c = LogCursor::open(&path, Tail::All).unwrap();
        assert_eq!(c.next_entry().unwrap(), None);
        let mut w = LogWriter::open(&path, 120, 3).unwrap();
        let mut got = Vec::new();
        let drain = |c: &mut LogCursor, got: &mut Vec<String>| {
            c.refresh().unwrap();
            while let Some(e) = c.next_entry().unwrap() {
                got.push(e.log);
            }
        };
        drain(&mut c, &mut got);
        for i in 0..30 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
            // Sometimes twice between reads: a file passed by entirely.
            if i % 3 != 0 {
                drain(&mut c, &mut got);
            }
        }
        drain(&mut c, &mut got);
        let want: Vec<String> = (0..30).map(|i| format!("line {i}\n")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn follow_sees_a_torn_write_completed_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        std::fs::write(&path, b"{\"log\":\"a\\n\",\"stream\":\"stdout\",").unwrap();
        let mut c = LogCursor::open(&path, Tail::All).unwrap();
        assert_eq!(c.next_entry().unwrap(), None);
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(b"\"time\":\"2024-01-02T03:04:05.000000001Z\"}\n")
                .unwrap();
        }
        let e = c.next_entry().unwrap().unwrap();
        assert_eq!(e.log, "a\n");
        assert_eq!(format_time(&e.time), "2024-01-02T03:04:05.000000001Z");
        assert_eq!(c.skipped, 0);
    }

    #[test]
    fn truncation_restarts_from_the_top() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        let mut w = LogWriter::open(&path, 100, 1).unwrap();
        w.write(Stream::Stdout, b"first line here\n").unwrap();
        let mut c = LogCursor::open(&path, Tail::All).unwrap();
        assert_eq!(c.next_entry().unwrap().unwrap().log, "first line here\n");
        w.write(Stream::Stdout, b"second\n").unwrap();
        c.refresh().unwrap();
        assert_eq!(c.next_entry().unwrap().unwrap().log, "second\n");
    }

    #[test]
    fn entry_times() {
        let line = br#"{"log":"x\n","stream":"stderr","time":"2024-01-02T03:04:05.123456789Z"}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(e.stream, Stream::Stderr);
        assert_eq!(format_time(&e.time), "2024-01-02T03:04:05.123456789Z");
        // docker's own files may carry other precisions and attrs.
        let line = br#"{"log":"x\n","stream":"stdout","attrs":{"a":"b"},"time":"2024-01-02T03:04:05.5+01:00"}"#;
        let e = parse_entry(line).unwrap();
        assert_eq!(format_time(&e.time), "2024-01-02T02:04:05.500000000Z");
        assert!(
            parse_entry(br#"{"log":"x","stream":"stdin","time":"2024-01-02T03:04:05Z"}"#).is_none()
        );
        assert!(parse_entry(br#"{"log":"x","stream":"stdout","time":"yesterday"}"#).is_none());
    }

    #[test]
    fn escapes_other_writers_use() {
        let line = br#"{"log":"\u00e9\ud83d\ude00\/\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}"#;
        assert_eq!(parse_entry(line).unwrap().log, "\u{e9}\u{1f600}/\n");
        let lone =
            br#"{"log":"\ud800\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}"#;
        assert_eq!(parse_entry(lone), None);
        let raw_newline =
            b"{\"log\":\"a\nb\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.123456789Z\"}";
        assert_eq!(parse_entry(raw_newline), None);
    }

    #[test]
    fn tail_parsing_follows_docker() {
        assert_eq!(Tail::parse("all"), Tail::All);
        assert_eq!(Tail::parse("10"), Tail::Last(10));
        assert_eq!(Tail::parse("0"), Tail::Last(0));
        assert_eq!(Tail::parse("-1"), Tail::All);
        assert_eq!(Tail::parse("x"), Tail::All);
    }

    #[test]
    fn time_args() {
        let now = t("2024-06-01T12:00:00.750Z");
        let utc = FixedOffset::east_opt(0).unwrap();
        let p = |v: &str| parse_time_arg_in(v, now, utc).unwrap();
        assert_eq!(p("10m"), t("2024-06-01T11:50:00Z"));
        assert_eq!(p("1h30m"), t("2024-06-01T10:30:00Z"));
        assert_eq!(p("42s"), t("2024-06-01T11:59:18Z"));
        assert_eq!(p("1.5h"), t("2024-06-01T10:30:00Z"));
        assert_eq!(p("-10m"), t("2024-06-01T12:10:00Z"));
        assert_eq!(p("500ms"), t("2024-06-01T12:00:00Z"));
        assert_eq!(p("1700000000"), t("2023-11-14T22:13:20Z"));
        assert_eq!(p("1700000000.123"), t("2023-11-14T22:13:20.123Z"));
        assert_eq!(p("0"), t("1970-01-01T00:00:00Z"));
        assert_eq!(p("2024-01-02T03:04:05Z"), t("2024-01-02T03:04:05Z"));
        assert_eq!(
            p("2024-01-02T03:04:05.123456789Z"),
            t("2024-01-02T03:04:05.123456789Z")
        );
        assert_eq!(p("2024-01-02T03:04:05+02:00"), t("2024-01-02T01:04:05Z"));
        assert_eq!(p("2024-01-02T03:04:05-02:00"), t("2024-01-02T05:04:05Z"));
        assert_eq!(p("2024-01-02"), t("2024-01-02T00:00:00Z"));
        assert_eq!(p("2024-01-02T03"), t("2024-01-02T03:00:00Z"));
        assert_eq!(p("2024-01-02T03:04"), t("2024-01-02T03:04:00Z"));
        // Without a zone: the local one.
        let cest = FixedOffset::east_opt(2 * 3600).unwrap();
        assert_eq!(
            parse_time_arg_in("2024-01-02T03:04:05", now, cest).unwrap(),
            t("2024-01-02T01:04:05Z")
        );
        assert_eq!(
            parse_time_arg_in("2024-01-02T03:04:05Z", now, cest).unwrap(),
            t("2024-01-02T03:04:05Z")
        );
        for bad in [
            "",
            "yesterday",
            "10x",
            "2024-13-01",
            "2024-01-02T25:00",
            "1.2.3",
            "-5",
            "1h-",
            "2024-01-02T03:04:05.",
            "12abc",
        ] {
            assert!(parse_time_arg_in(bad, now, utc).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn unix_seconds_and_rfc3339_agree(secs in 0i64..4_000_000_000, nanos in 0u32..1_000_000_000) {
            let now = Utc::now();
            let utc = FixedOffset::east_opt(0).unwrap();
            let want = DateTime::from_timestamp(secs, nanos).unwrap();
            let unix = parse_time_arg_in(&format!("{secs}.{nanos:09}"), now, utc).unwrap();
            proptest::prop_assert_eq!(unix, want);
            let text = format_time(&want);
            proptest::prop_assert_eq!(parse_time_arg_in(&text, now, utc).unwrap(), want);
            proptest::prop_assert_eq!(parse_log_time(&text).unwrap(), want);
        }

        #[test]
        fn durations_go_back_from_now(h in 0u32..1000, m in 0u32..60, s in 0u32..60) {
            let now = t("2024-06-01T12:00:00.9Z");
            let utc = FixedOffset::east_opt(0).unwrap();
            let got = parse_time_arg_in(&format!("{h}h{m}m{s}s"), now, utc).unwrap();
            let back = chrono::Duration::seconds(i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s));
            proptest::prop_assert_eq!(got, t("2024-06-01T12:00:00Z") - back);
        }

        #[test]
        fn fast_parser_agrees_with_serde(log in "\\PC*|[\\x00-\\x20\"\\\\/\u{7f}-\u{10ffff}]*", err in proptest::bool::ANY) {
            let stream = if err { "stderr" } else { "stdout" };
            let line = serde_json::json!({"log": log, "stream": stream, "time": "2024-01-02T03:04:05.123456789Z"}).to_string();
            let fast = parse_writer_shape(line.as_bytes());
            proptest::prop_assert!(fast.is_some(), "{}", line);
            proptest::prop_assert_eq!(fast, parse_entry_json(line.as_bytes()));
        }

        #[test]
        fn time_args_never_panic(v in ".{0,40}") {
            let _ = parse_time_arg_in(&v, Utc::now(), FixedOffset::east_opt(0).unwrap());
        }
    }
}

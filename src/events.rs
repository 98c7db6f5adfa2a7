//! `events`: what docker's daemon broadcasts, recorded by the commands and
//! monitors that act, since berth has no daemon to broadcast from.
//!
//! Each event is one line of JSON in docker's event message shape
//! (`status`/`id`/`from` for containers and images, `Type`, `Action`,
//! `Actor{ID, Attributes}`, `scope`, `time`, `timeNano`) appended to
//! `<data>/events.log`. The file is rotated to `events.log.1` past
//! [`ROTATE_AT`] bytes (one old generation is kept). [`record`] is one
//! `O_APPEND` write and never fails a command: an event that cannot be
//! written is lost, silently. [`Reader`] reads the log from its start or
//! its end and follows it across rotations; [`Filters`] are docker's
//! `--filter` rules (the daemon's `events.Filter`).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Offset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The log file, under the data dir.
pub const LOG_FILE: &str = "events.log";
/// Size past which the log is rotated.
pub const ROTATE_AT: u64 = 4 << 20;

/// docker's `events.Actor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// docker's `events.Message`, with its JSON names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// An event of `kind` (`container`, `image`, `volume`, `network`) now,
    /// with docker's legacy fields filled for containers and images.
    pub fn new(kind: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> Event {
        Event::at(Utc::now(), kind, action, id, attributes)
    }

    pub fn at(
        t: DateTime<Utc>,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) -> Event {
        let legacy = matches!(kind, "container" | "image");
        let from = if kind == "container" {
            attributes.get("image").cloned().unwrap_or_default()
        } else {
            String::new()
        };
        Event {
            status: if legacy { action.into() } else { String::new() },
            id: if legacy { id.into() } else { String::new() },
            from,
            kind: kind.into(),
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes,
            },
            scope: "local".into(),
            time: t.timestamp(),
            time_nano: t
                .timestamp_nanos_opt()
                .unwrap_or(t.timestamp() * 1_000_000_000),
        }
    }

    pub fn timestamp(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.time_nano)
    }

    /// The object templates see: docker's Go field names (`{{.Type}}`,
    /// `{{.Actor.ID}}`, `{{.Status}}`, `{{.TimeNano}}`).
    pub fn template_value(&self) -> Value {
        json!({
            "Status": self.status,
            "ID": self.id,
            "From": self.from,
            "Type": self.kind,
            "Action": self.action,
            "Actor": {"ID": self.actor.id, "Attributes": self.actor.attributes},
            "Scope": self.scope,
            "Time": self.time,
            "TimeNano": self.time_nano,
        })
    }
}

/// The log, opened for appending: for a process about to lose sight of the
/// data dir (`exec` joins the container's mount namespace) but with events
/// to record afterwards.
pub struct Log {
    data: PathBuf,
    file: Option<File>,
}

impl Log {
    /// Opens (creates) the log under `data`; a log that cannot be opened
    /// records nothing.
    pub fn open(data: &Path) -> Log {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(data.join(LOG_FILE))
            .ok();
        Log {
            data: data.to_path_buf(),
            file,
        }
    }

    /// Appends one event (one write). Never fails: errors are ignored.
    pub fn append(&mut self, event: &Event) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let Ok(mut line) = serde_json::to_vec(event) else {
            return;
        };
        line.push(b'\n');
        if f.write_all(&line).is_err() {
            return;
        }
        if f.metadata().is_ok_and(|m| m.len() > ROTATE_AT) {
            let path = self.data.join(LOG_FILE);
            let _ = std::fs::rename(&path, self.data.join(format!("{LOG_FILE}.1")));
        }
    }
}

/// Appends `event` to the log under `data`. Never fails: errors are ignored.
pub fn append(data: &Path, event: &Event) {
    Log::open(data).append(event);
}

/// Records an event: `attrs` become the actor's attributes.
pub fn record(data: &Path, kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) {
    let attributes = attrs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    append(data, &Event::new(kind, action, id, attributes));
}

/// Records a container event as docker's daemon does: the container's
/// labels, `image` and `name`, plus `extra` (`exitCode`, `signal`, …).
pub fn container(
    data: &Path,
    config: &crate::container::record::ContainerConfig,
    action: &str,
    extra: &[(&str, &str)],
) {
    append(data, &container_event(config, action, extra));
}

/// The event [`container`] records.
pub fn container_event(
    config: &crate::container::record::ContainerConfig,
    action: &str,
    extra: &[(&str, &str)],
) -> Event {
    let mut attributes: BTreeMap<String, String> = config.labels.clone().into_iter().collect();
    attributes.insert("image".into(), config.image.clone());
    attributes.insert("name".into(), config.name.clone());
    for (k, v) in extra {
        attributes.insert(k.to_string(), v.to_string());
    }
    Event::new("container", action, &config.id, attributes)
}

/// Records an image event: `id` is the image (an id or a reference), `name`
/// its `name` attribute.
pub fn image(data: &Path, action: &str, id: &str, name: &str) {
    record(data, "image", action, id, &[("name", name)]);
}

/// Records a network event (`create`, `destroy`, `connect`, `disconnect`):
/// docker's `name` and `type` attributes, plus `container` for the last two.
pub fn network(data: &Path, action: &str, id: &str, name: &str, container: Option<&str>) {
    let mut attrs = vec![("name", name), ("type", "bridge")];
    if let Some(c) = container {
        attrs.insert(0, ("container", c));
    }
    record(data, "network", action, id, &attrs);
}

/// The data dir of an image store (`<data>/storage`).
pub fn store_data(store: &crate::image::store::Store) -> &Path {
    store.root().parent().unwrap_or(store.root())
}

/// A container's start as docker reports it: a volume `mount` per volume,
/// then the container's `start`.
pub fn container_started(data: &Path, config: &crate::container::record::ContainerConfig) {
    for v in &config.volumes {
        record(
            data,
            "volume",
            "mount",
            &v.name,
            &[
                ("container", &config.id),
                ("destination", &v.destination),
                ("driver", "local"),
                ("propagation", ""),
            ],
        );
    }
    for e in &config.networks {
        network(data, "connect", &e.network_id, &e.network, Some(&config.id));
    }
    container(data, config, "start", &[]);
}

/// A container's exit as docker reports it: `die` with its exit code,
/// then a network `disconnect` per user-defined network.
pub fn container_died(data: &Path, config: &crate::container::record::ContainerConfig, code: i32) {
    container(data, config, "die", &[("exitCode", &code.to_string())]);
    for e in &config.networks {
        network(
            data,
            "disconnect",
            &e.network_id,
            &e.network,
            Some(&config.id),
        );
    }
}

/// Reads the log and follows it: [`Reader::poll`] returns the complete
/// lines written since the last call, across rotations.
pub struct Reader {
    path: PathBuf,
    file: Option<File>,
    ino: u64,
    pos: u64,
    partial: Vec<u8>,
    pending: Vec<Event>,
}

impl Reader {
    /// From the oldest event kept (the rotated generation first).
    pub fn from_start(data: &Path) -> Reader {
        let mut r = Reader::new(data);
        if let Ok(mut old) = File::open(data.join(format!("{LOG_FILE}.1"))) {
            let mut bytes = Vec::new();
            if old.read_to_end(&mut bytes).is_ok() {
                let mut partial = Vec::new();
                r.pending = parse_lines(&mut partial, &bytes);
            }
        }
        r.open_current(false);
        r
    }

    /// Only events written from now on.
    pub fn from_end(data: &Path) -> Reader {
        let mut r = Reader::new(data);
        r.open_current(true);
        r
    }

    fn new(data: &Path) -> Reader {
        Reader {
            path: data.join(LOG_FILE),
            file: None,
            ino: 0,
            pos: 0,
            partial: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn open_current(&mut self, at_end: bool) {
        let Ok(f) = File::open(&self.path) else {
            return;
        };
        let Ok(m) = f.metadata() else {
            return;
        };
        self.ino = m.ino();
        self.pos = if at_end { m.len() } else { 0 };
        self.partial.clear();
        self.file = Some(f);
    }

    fn drain_file(&mut self, out: &mut Vec<Event>) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return;
        }
        let mut bytes = Vec::new();
        if let Ok(n) = f.read_to_end(&mut bytes) {
            self.pos += n as u64;
            out.extend(parse_lines(&mut self.partial, &bytes));
        }
    }

    /// The events written since the last call (none: nothing new).
    pub fn poll(&mut self) -> Vec<Event> {
        let mut out = std::mem::take(&mut self.pending);
        self.drain_file(&mut out);
        // Rotated (or created) since we opened it: finish the old one, go on with the new.
        let current = std::fs::metadata(&self.path).map(|m| m.ino()).ok();
        if current.is_some() && current != Some(self.ino).filter(|_| self.file.is_some()) {
            self.open_current(false);
            self.drain_file(&mut out);
        }
        out
    }
}

/// Complete lines of `bytes` (after what `partial` holds) as events; an
/// unfinished last line stays in `partial`; lines that do not parse are skipped.
fn parse_lines(partial: &mut Vec<u8>, bytes: &[u8]) -> Vec<Event> {
    partial.extend_from_slice(bytes);
    let Some(last_nl) = partial.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    let rest = partial.split_off(last_nl + 1);
    let complete = std::mem::replace(partial, rest);
    complete
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("bad format of filter (expected name=value)")]
    BadFilter,
    #[error("invalid filter '{0}'")]
    InvalidFilter(String),
}

/// docker's event filters: values of one key are ORed, keys are ANDed.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    fields: BTreeMap<String, Vec<String>>,
}

const FILTER_KEYS: &[&str] = &[
    "container",
    "event",
    "image",
    "label",
    "type",
    "volume",
    "network",
    "daemon",
    "scope",
];

impl Filters {
    pub fn parse(values: &[String]) -> Result<Filters, EventsError> {
        let mut f = Filters::default();
        for v in values {
            let (k, val) = v.split_once('=').ok_or(EventsError::BadFilter)?;
            if !FILTER_KEYS.contains(&k) {
                return Err(EventsError::InvalidFilter(k.to_string()));
            }
            f.fields
                .entry(k.to_string())
                .or_default()
                .push(val.to_string());
        }
        Ok(f)
    }

    fn exact(&self, key: &str, source: &str) -> bool {
        self.fields
            .get(key)
            .is_none_or(|vs| vs.iter().any(|v| v == source))
    }

    fn fuzzy(&self, key: &str, source: &str) -> bool {
        self.fields
            .get(key)
            .is_none_or(|vs| vs.iter().any(|v| source.starts_with(v.as_str())))
    }

    fn fuzzy_name(&self, e: &Event, key: &str) -> bool {
        let name = e.actor.attributes.get("name").map(String::as_str);
        self.fuzzy(key, &e.actor.id) || name.is_some_and(|n| self.fuzzy(key, n))
    }

    fn image(&self, e: &Event) -> bool {
        let Some(values) = self.fields.get("image") else {
            return true;
        };
        let attr = if e.kind == "image" { "name" } else { "image" };
        let name = e.actor.attributes.get(attr).cloned().unwrap_or_default();
        let candidates = [
            e.actor.id.clone(),
            strip_tag(&e.actor.id),
            name.clone(),
            strip_tag(&name),
        ];
        values
            .iter()
            .any(|v| candidates.iter().any(|c| !c.is_empty() && c == v))
    }

    fn labels(&self, e: &Event) -> bool {
        self.fields.get("label").is_none_or(|vs| {
            vs.iter().all(|l| match l.split_once('=') {
                Some((k, v)) => e.actor.attributes.get(k).is_some_and(|x| x == v),
                None => e.actor.attributes.contains_key(l),
            })
        })
    }

    fn event(&self, e: &Event) -> bool {
        self.fields.get("event").is_none_or(|vs| {
            vs.iter().any(|v| {
                e.action == *v
                    || e.action
                        .split_once(':')
                        .is_some_and(|(head, _)| head == v.as_str())
            })
        })
    }

    /// docker's `events.Filter.Include`.
    pub fn matches(&self, e: &Event) -> bool {
        self.event(e)
            && self.exact("type", &e.kind)
            && self.exact("scope", &e.scope)
            && !self.fields.contains_key("daemon")
            && self.fuzzy_name(e, "container")
            && self.fuzzy_name(e, "volume")
            && self.fuzzy_name(e, "network")
            && self.image(e)
            && self.labels(e)
    }
}

/// `busybox:latest` → `busybox`; `localhost:5000/x:1` → `localhost:5000/x`.
fn strip_tag(name: &str) -> String {
    let name = name.split('@').next().unwrap_or(name);
    match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => name[..i].to_string(),
        _ => name.to_string(),
    }
}

/// docker's text line: local time with nanoseconds, type, action, actor id,
/// and the attributes sorted by key in parentheses.
pub fn text_line(e: &Event) -> String {
    let t = e.timestamp().with_timezone(&chrono::Local);
    let mut s = format!(
        "{} {} {} {}",
        go_rfc3339_nano_fixed(&t),
        e.kind,
        e.action,
        e.actor.id
    );
    if !e.actor.attributes.is_empty() {
        let attrs: Vec<String> = e
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        s.push_str(&format!(" ({})", attrs.join(", ")));
    }
    s
}

/// Go's `2006-01-02T15:04:05.000000000Z07:00`.
fn go_rfc3339_nano_fixed<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let base = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let offset = t.offset().fix().local_minus_utc();
    if offset == 0 {
        format!("{base}Z")
    } else {
        format!("{base}{}", t.format("%:z"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn messages_have_dockers_json_shape() {
        let e = Event::at(
            at("2024-05-01T10:00:00.123456789Z"),
            "container",
            "start",
            "c0ffee",
            attrs(&[("name", "web"), ("image", "busybox")]),
        );
        insta::assert_snapshot!(serde_json::to_string(&e).unwrap(), @r#"{"status":"start","id":"c0ffee","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"c0ffee","Attributes":{"image":"busybox","name":"web"}},"scope":"local","time":1714557600,"timeNano":1714557600123456789}"#);
        let v = Event::at(
            at("2024-05-01T10:00:00Z"),
            "volume",
            "create",
            "data",
            attrs(&[("driver", "local")]),
        );
        insta::assert_snapshot!(serde_json::to_string(&v).unwrap(), @r#"{"Type":"volume","Action":"create","Actor":{"ID":"data","Attributes":{"driver":"local"}},"scope":"local","time":1714557600,"timeNano":1714557600000000000}"#);
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn text_lines_sort_attributes() {
        let e = Event::at(
            at("2024-05-01T10:00:00.5Z"),
            "container",
            "die",
            "c0ffee",
            attrs(&[("name", "web"), ("exitCode", "0"), ("image", "busybox")]),
        );
        let line = text_line(&e);
        assert!(
            line.ends_with(" container die c0ffee (exitCode=0, image=busybox, name=web)"),
            "{line}"
        );
        assert_eq!(
            go_rfc3339_nano_fixed(&at("2024-05-01T10:00:00.5Z")),
            "2024-05-01T10:00:00.500000000Z"
        );
        let plus2 = chrono::FixedOffset::east_opt(7200).unwrap();
        assert_eq!(
            go_rfc3339_nano_fixed(&at("2024-05-01T10:00:00Z").with_timezone(&plus2)),
            "2024-05-01T12:00:00.000000000+02:00"
        );
    }

    #[test]
    fn filters_follow_dockers_rules() {
        let c = Event::new(
            "container",
            "start",
            "c0ffee1234",
            attrs(&[
                ("name", "web"),
                ("image", "busybox:latest"),
                ("tier", "front"),
            ]),
        );
        let i = Event::new(
            "image",
            "pull",
            "busybox:latest",
            attrs(&[("name", "busybox")]),
        );
        let v = Event::new("volume", "create", "data", attrs(&[("driver", "local")]));
        let f = |vals: &[&str]| {
            Filters::parse(&vals.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert!(f(&[]).matches(&c) && f(&[]).matches(&v));
        assert!(f(&["type=container"]).matches(&c));
        assert!(!f(&["type=container"]).matches(&v));
        assert!(f(&["type=container", "type=volume"]).matches(&v));
        assert!(f(&["container=web"]).matches(&c));
        assert!(f(&["container=c0ffee"]).matches(&c), "id prefix");
        assert!(!f(&["container=db"]).matches(&c));
        assert!(!f(&["container=web"]).matches(&v));
        assert!(f(&["event=start"]).matches(&c) && !f(&["event=die"]).matches(&c));
        assert!(
            f(&["image=busybox"]).matches(&c),
            "container from the image"
        );
        assert!(f(&["image=busybox:latest"]).matches(&i));
        assert!(f(&["image=busybox"]).matches(&i));
        assert!(!f(&["image=alpine"]).matches(&i));
        assert!(f(&["label=tier"]).matches(&c) && f(&["label=tier=front"]).matches(&c));
        assert!(!f(&["label=tier=back"]).matches(&c));
        assert!(f(&["volume=data"]).matches(&v) && !f(&["volume=data"]).matches(&c));
        assert!(f(&["type=container", "event=start", "container=web"]).matches(&c));
        assert!(matches!(
            Filters::parse(&["colour=red".into()]),
            Err(EventsError::InvalidFilter(_))
        ));
        assert!(Filters::parse(&["type".into()]).is_err());
        assert_eq!(strip_tag("localhost:5000/x:1"), "localhost:5000/x");
        assert_eq!(strip_tag("localhost:5000/x"), "localhost:5000/x");
    }

    #[test]
    fn the_log_is_appended_followed_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut live = Reader::from_end(d);
        assert!(live.poll().is_empty());
        record(d, "volume", "create", "a", &[("driver", "local")]);
        record(d, "volume", "destroy", "a", &[("driver", "local")]);
        let got: Vec<String> = live.poll().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["create", "destroy"]);
        assert!(live.poll().is_empty());
        // A half-written line waits for its end.
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.join(LOG_FILE))
            .unwrap();
        let line =
            serde_json::to_string(&Event::new("network", "create", "n", BTreeMap::new())).unwrap();
        f.write_all(&line.as_bytes()[..10]).unwrap();
        assert!(live.poll().is_empty());
        f.write_all(&line.as_bytes()[10..]).unwrap();
        f.write_all(b"\n").unwrap();
        assert_eq!(live.poll().len(), 1);
        // Rotation: the reader finishes the old file and goes on with the new one.
        std::fs::rename(d.join(LOG_FILE), d.join(format!("{LOG_FILE}.1"))).unwrap();
        record(d, "volume", "create", "b", &[]);
        let got: Vec<String> = live.poll().into_iter().map(|e| e.actor.id).collect();
        assert_eq!(got, ["b"]);
        let all: Vec<String> = Reader::from_start(d)
            .poll()
            .into_iter()
            .map(|e| format!("{}:{}", e.action, e.actor.id))
            .collect();
        assert_eq!(all, ["create:a", "destroy:a", "create:n", "create:b"]);
        // Past ROTATE_AT the writer rotates by itself.
        let big = "x".repeat(1 << 20);
        for _ in 0..5 {
            record(d, "volume", "create", &big, &[]);
        }
        assert!(std::fs::metadata(d.join(LOG_FILE)).map_or(0, |m| m.len()) < ROTATE_AT);
        // Recording never fails, even where it cannot write.
        record(Path::new("/nonexistent/dir"), "volume", "create", "x", &[]);
    }
}

//! Operations on the images in the store: finding one by name, ID or digest,
//! listing, inspecting, tagging, removing, pruning. The rules are docker's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::image::reference::Reference;
use crate::image::store::{ImageIndexFile, ImageRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
    #[error(
        "conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories"
    )]
    MultipleRepositories { id: String },
    #[error(
        "conflict: unable to remove repository reference \"{reference}\" (must force) - container {container} is using its referenced image {id}"
    )]
    ReferenceInUse {
        reference: String,
        container: String,
        id: String,
    },
    #[error(
        "conflict: unable to delete {id} ({force}) - image is being used by {state} container {container}"
    )]
    InUse {
        id: String,
        container: String,
        /// "must be forced" or "cannot be forced"
        force: &'static str,
        /// "stopped" or "running"
        state: &'static str,
    },
    #[error("refusing to create a tag with a digest reference")]
    TagWithDigest,
    #[error("invalid filter '{0}'")]
    InvalidFilter(String),
    #[error(transparent)]
    Reference(#[from] crate::image::reference::ReferenceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The 12-hex short form docker shows for an image ID.
pub fn short_id(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How a name given on the command line matched an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// By a fully qualified tag (`docker.io/library/busybox:latest`).
    Tag(String),
    /// By a fully qualified digest reference.
    Digest(String),
    /// By image ID (full or prefix).
    Id,
}

/// Finds the image `name` refers to, as docker does: a tag or digest reference
/// first, then an ID or unique ID prefix (with or without `sha256:`).
pub fn find<'a>(
    index: &'a ImageIndexFile,
    name: &str,
) -> Result<(&'a ImageRecord, Matched), ImageError> {
    if let Ok(reference) = Reference::parse(name) {
        if let Some(digest) = &reference.digest {
            let wanted = format!("{}@{}", reference.name(), digest);
            if let Some(image) = index
                .images
                .iter()
                .find(|i| i.repo_digests.contains(&wanted))
            {
                return Ok((image, Matched::Digest(wanted)));
            }
        } else if let Some(tag) = &reference.tag {
            let wanted = format!("{}:{}", reference.name(), tag);
            if let Some(image) = index.images.iter().find(|i| i.repo_tags.contains(&wanted)) {
                return Ok((image, Matched::Tag(wanted)));
            }
        }
    }
    let prefix = name.strip_prefix("sha256:").unwrap_or(name);
    if is_hex(prefix) && prefix.len() <= 64 {
        let mut hits = index.images.iter().filter(|i| {
            i.id.strip_prefix("sha256:")
                .is_some_and(|h| h.starts_with(prefix))
        });
        if let Some(first) = hits.next() {
            if hits.next().is_some() {
                return Err(ImageError::Ambiguous(format!(
                    "multiple IDs found with provided prefix: {prefix}"
                )));
            }
            return Ok((first, Matched::Id));
        }
    }
    Err(ImageError::NotFound(display_not_found(name)))
}

/// Docker names a missing image with the default tag added (`No such image: busybox:latest`).
fn display_not_found(name: &str) -> String {
    match Reference::parse(name) {
        Ok(r) if !is_hex(name) => r.familiar_string(),
        _ => name.to_string(),
    }
}

/// `docker.io/library/busybox:latest` → (`busybox`, `latest`).
fn split_tag(full: &str) -> (String, String) {
    match Reference::parse(full) {
        Ok(r) => (r.familiar_name(), r.tag.unwrap_or_default()),
        Err(_) => (full.to_string(), String::new()),
    }
}

fn split_digest(full: &str) -> (String, String) {
    match Reference::parse(full) {
        Ok(r) => (r.familiar_name(), r.digest.unwrap_or_default()),
        Err(_) => (full.to_string(), String::new()),
    }
}

/// The image config blob of a record, as JSON.
pub fn config_json(store: &Store, image: &ImageRecord) -> Result<Value, StoreError> {
    let bytes = store.read_blob(&image.id)?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: store.blob_path(&image.id).unwrap_or_default(),
        message: e.to_string(),
    })
}

pub fn created_of(config: &Value) -> Option<DateTime<Utc>> {
    config
        .get("created")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn labels_of(config: &Value) -> BTreeMap<String, String> {
    config
        .pointer("/config/Labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// One row of `images` output.
#[derive(Debug, Clone)]
pub struct ImageRow {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub id: String,
    pub created: Option<DateTime<Utc>>,
    pub size: u64,
    pub labels: BTreeMap<String, String>,
}

/// `images` filters (`-f key=value`): same key ORed, different keys ANDed.
#[derive(Debug, Default, Clone)]
pub struct ImageFilters {
    pub dangling: Option<bool>,
    pub reference: Vec<String>,
    pub label: Vec<String>,
    pub before: Option<String>,
    pub since: Option<String>,
}

impl ImageFilters {
    pub fn parse(args: &[String]) -> Result<ImageFilters, ImageError> {
        let mut f = ImageFilters::default();
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| ImageError::InvalidFilter(arg.clone()))?;
            match key {
                "dangling" => match value {
                    "true" | "1" => f.dangling = Some(true),
                    "false" | "0" => f.dangling = Some(false),
                    _ => {
                        return Err(ImageError::InvalidFilter(format!(
                            "invalid filter 'dangling={value}'"
                        )));
                    }
                },
                "reference" => f.reference.push(value.to_string()),
                "label" => f.label.push(value.to_string()),
                "before" => f.before = Some(value.to_string()),
                "since" => f.since = Some(value.to_string()),
                _ => return Err(ImageError::InvalidFilter(key.to_string())),
            }
        }
        Ok(f)
    }
}

/// Docker's path.Match-style glob: `*`, `?`, `[…]`; `*` does not cross `/`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| go(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && t[0] != '/' && go(&p[1..], &t[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else {
                    return false;
                };
                if t.is_empty() {
                    return false;
                }
                let class = &p[1..end];
                let (negate, class) = match class.first() {
                    Some('^') | Some('!') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= t[0] && t[0] <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == t[0];
                        i += 1;
                    }
                }
                hit != negate && go(&p[end + 1..], &t[1..])
            }
            Some('\\') if p.len() > 1 => !t.is_empty() && t[0] == p[1] && go(&p[2..], &t[1..]),
            Some(&c) => !t.is_empty() && t[0] == c && go(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

fn reference_matches(patterns: &[String], full_tag: &str) -> bool {
    let Ok(r) = Reference::parse(full_tag) else {
        return false;
    };
    let familiar = r.familiar_string();
    let name = r.familiar_name();
    patterns
        .iter()
        .any(|p| glob_match(p, &familiar) || glob_match(p, &name))
}

fn label_matches(wanted: &[String], labels: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|w| match w.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(w),
    })
}

/// The rows of `images [REPOSITORY[:TAG]]`, newest first, built as docker does.
pub fn list(
    store: &Store,
    index: &ImageIndexFile,
    repository: Option<&str>,
    filters: &ImageFilters,
    show_digests: bool,
) -> Result<Vec<ImageRow>, ImageError> {
    let mut filters = filters.clone();
    if let Some(repo) = repository {
        filters.reference.push(repo.to_string());
    }
    let created_bound =
        |name: &Option<String>| -> Result<Option<Option<DateTime<Utc>>>, ImageError> {
            match name {
                None => Ok(None),
                Some(n) => {
                    let (img, _) = find(index, n)?;
                    Ok(Some(created_of(&config_json(store, img)?)))
                }
            }
        };
    let before = created_bound(&filters.before)?;
    let since = created_bound(&filters.since)?;

    let mut images: Vec<(&ImageRecord, Value)> = Vec::new();
    for image in &index.images {
        images.push((image, config_json(store, image)?));
    }
    images.sort_by(|a, b| {
        created_of(&b.1)
            .cmp(&created_of(&a.1))
            .then(a.0.id.cmp(&b.0.id))
    });

    let mut rows = Vec::new();
    for (image, config) in images {
        let dangling = image.repo_tags.is_empty();
        if filters.dangling.is_some_and(|d| d != dangling) {
            continue;
        }
        let labels = labels_of(&config);
        if !filters.label.is_empty() && !label_matches(&filters.label, &labels) {
            continue;
        }
        let created = created_of(&config);
        if let Some(b) = before
            && created >= b
        {
            continue;
        }
        if let Some(s) = since
            && created <= s
        {
            continue;
        }
        let tags: Vec<&String> = if filters.reference.is_empty() {
            image.repo_tags.iter().collect()
        } else {
            let t: Vec<&String> = image
                .repo_tags
                .iter()
                .filter(|t| reference_matches(&filters.reference, t))
                .collect();
            if t.is_empty() {
                continue;
            }
            t
        };
        let row = |repository: String, tag: String, digest: String| ImageRow {
            repository,
            tag,
            digest,
            id: image.id.clone(),
            created,
            size: image.size,
            labels: labels.clone(),
        };
        let mut repo_tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in tags {
            let (repo, tag) = split_tag(t);
            repo_tags.entry(repo).or_default().push(tag);
        }
        let mut repo_digests: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in &image.repo_digests {
            let (repo, digest) = split_digest(d);
            repo_digests.entry(repo).or_default().push(digest);
        }
        let had_names = !repo_tags.is_empty() || !repo_digests.is_empty();
        for (repo, tags) in &repo_tags {
            let digests = repo_digests
                .remove(repo)
                .filter(|_| show_digests)
                .unwrap_or_default();
            for tag in tags {
                if digests.is_empty() {
                    rows.push(row(repo.clone(), tag.clone(), "<none>".into()));
                }
                for d in &digests {
                    rows.push(row(repo.clone(), tag.clone(), d.clone()));
                }
            }
        }
        if filters.reference.is_empty() {
            for (repo, digests) in repo_digests {
                if show_digests {
                    for d in digests {
                        rows.push(row(repo.clone(), "<none>".into(), d));
                    }
                } else {
                    rows.push(row(repo, "<none>".into(), String::new()));
                }
            }
        }
        if !had_names {
            rows.push(row("<none>".into(), "<none>".into(), "<none>".into()));
        }
    }
    Ok(rows)
}

/// Go's RFC 3339 with nanoseconds, trailing zeros trimmed (`time.RFC3339Nano`).
pub fn rfc3339_nano(t: &DateTime<Utc>) -> String {
    crate::format::units::go_rfc3339_nano(*t)
}

/// Docker's `ImageInspect` for one image, fields in docker's order.
pub fn inspect(store: &Store, image: &ImageRecord) -> Result<Value, ImageError> {
    let config = config_json(store, image)?;
    let familiar = |v: &Vec<String>| -> Vec<String> {
        v.iter()
            .map(|s| {
                Reference::parse(s)
                    .map(|r| r.familiar_string())
                    .unwrap_or_else(|_| s.clone())
            })
            .collect()
    };
    let mut out = Map::new();
    out.insert("Id".into(), json!(image.id));
    out.insert("RepoTags".into(), json!(familiar(&image.repo_tags)));
    out.insert("RepoDigests".into(), json!(familiar(&image.repo_digests)));
    if let Some(comment) = config
        .get("comment")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("Comment".into(), json!(comment));
    }
    if let Some(created) = created_of(&config) {
        out.insert("Created".into(), json!(rfc3339_nano(&created)));
    }
    if let Some(v) = config
        .get("docker_version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("DockerVersion".into(), json!(v));
    }
    if let Some(a) = config
        .get("author")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("Author".into(), json!(a));
    }
    out.insert("Config".into(), inspect_config(config.get("config")));
    let text = |k: &str| {
        config
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    out.insert("Architecture".into(), json!(text("architecture")));
    if let Some(v) = config
        .get("variant")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("Variant".into(), json!(v));
    }
    out.insert("Os".into(), json!(text("os")));
    if let Some(v) = config
        .get("os.version")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("OsVersion".into(), json!(v));
    }
    out.insert("Size".into(), json!(image.size));
    let lower: Vec<String> = image
        .layers
        .iter()
        .rev()
        .filter_map(|l| store.layer_diff(&l.diff_id).ok())
        .map(|p| p.display().to_string())
        .collect();
    out.insert(
        "GraphDriver".into(),
        json!({"Data": {"LowerDir": lower.join(":")}, "Name": "overlay"}),
    );
    out.insert(
        "RootFS".into(),
        json!({"Type": "layers", "Layers": image.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()}),
    );
    let last_tag = image
        .last_tag_time
        .map(|t| rfc3339_nano(&t))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
    out.insert("Metadata".into(), json!({"LastTagTime": last_tag}));
    Ok(Value::Object(out))
}

/// The image config's `config` in docker's field order, empty fields left out
/// (docker's `DockerOCIImageConfig` is all `omitempty`).
fn inspect_config(config: Option<&Value>) -> Value {
    const ORDER: &[&str] = &[
        "User",
        "ExposedPorts",
        "Env",
        "Entrypoint",
        "Cmd",
        "Volumes",
        "WorkingDir",
        "Labels",
        "StopSignal",
        "ArgsEscaped",
        "Healthcheck",
        "OnBuild",
        "Shell",
    ];
    let Some(Value::Object(src)) = config else {
        return json!({});
    };
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) => false,
    };
    let mut out = Map::new();
    for key in ORDER {
        if let Some(v) = src.get(*key).filter(|v| !empty(v)) {
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// One line of `history`, newest first.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The image ID on the newest entry, `<missing>` below it (as for any pulled image).
    pub id: String,
    pub created: Option<DateTime<Utc>>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

pub fn history(store: &Store, image: &ImageRecord) -> Result<Vec<HistoryEntry>, ImageError> {
    let config = config_json(store, image)?;
    let entries = config
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut layers = image.layers.iter();
    let mut out = Vec::new();
    for h in &entries {
        let empty_layer = h
            .get("empty_layer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let size = if empty_layer {
            0
        } else {
            layers
                .next()
                .and_then(|l| store.layer_info(&l.diff_id).ok().flatten())
                .map(|i| i.size)
                .unwrap_or(0)
        };
        let text = |k: &str| {
            h.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        out.push(HistoryEntry {
            id: "<missing>".into(),
            created: h
                .get("created")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc)),
            created_by: text("created_by"),
            size,
            comment: text("comment"),
        });
    }
    // Layers the history does not mention still take space: show them as docker does.
    for l in layers {
        out.push(HistoryEntry {
            id: "<missing>".into(),
            created: None,
            created_by: String::new(),
            size: store.layer_info(&l.diff_id)?.map(|i| i.size).unwrap_or(0),
            comment: String::new(),
        });
    }
    out.reverse();
    if let Some(first) = out.first_mut() {
        first.id = image.id.clone();
    }
    Ok(out)
}

/// `tag SOURCE TARGET`.
pub fn tag(store: &Store, source: &str, target: &str) -> Result<(), ImageError> {
    let target = Reference::parse(target)?;
    if target.digest.is_some() {
        return Err(ImageError::TagWithDigest);
    }
    let full = format!(
        "{}:{}",
        target.name(),
        target.tag.as_deref().unwrap_or("latest")
    );
    let id = store.update_images(|idx| {
        let (image, _) = find(idx, source)?;
        let image = image.clone();
        let id = image.id.clone();
        idx.add(image, Some(&full), Utc::now());
        Ok::<_, ImageError>(id)
    })?;
    let data = crate::events::store_data(store);
    crate::events::image(
        data,
        "tag",
        &id,
        &Reference::parse(&full)?.familiar_string(),
    );
    Ok(())
}

/// What `rmi` did, line by line as docker prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Untagged(String),
    Deleted(String),
}

/// `rmi [-f] NAME`: untags, and deletes the image once nothing names it.
/// Layers are not touched here: see [`Store::trash_unused_layers`].
/// Which container (short id) uses an image id, and whether it runs.
pub type ImageUser<'a> = &'a dyn Fn(&str) -> Option<(String, bool)>;

pub fn remove(
    store: &Store,
    name: &str,
    force: bool,
    used_by: ImageUser,
) -> Result<Vec<Removal>, ImageError> {
    let familiar = |s: &str| {
        Reference::parse(s)
            .map(|r| r.familiar_string())
            .unwrap_or_else(|_| s.to_string())
    };
    let mut image_id = String::new();
    let out = store.update_images(|idx| {
        let (image, matched) = find(idx, name)?;
        let id = image.id.clone();
        image_id = id.clone();
        let mut out = Vec::new();
        let pos = idx
            .images
            .iter()
            .position(|i| i.id == id)
            .expect("found above");
        let image = &mut idx.images[pos];
        let by_id = matches!(matched, Matched::Id);
        match matched {
            Matched::Tag(tag) => {
                image.repo_tags.retain(|t| *t != tag);
                out.push(Removal::Untagged(familiar(&tag)));
            }
            Matched::Digest(d) => {
                image.repo_digests.retain(|x| *x != d);
                out.push(Removal::Untagged(familiar(&d)));
            }
            Matched::Id => {
                let repos: std::collections::BTreeSet<String> =
                    image.repo_tags.iter().map(|t| split_tag(t).0).collect();
                if repos.len() > 1 && !force {
                    return Err(ImageError::MultipleRepositories { id: short_id(&id) });
                }
                for t in image.repo_tags.drain(..) {
                    out.push(Removal::Untagged(familiar(&t)));
                }
            }
        }
        if image.repo_tags.is_empty() {
            // docker: an image a container uses stays unless forced, and a
            // running container's image cannot go at all. (Its layers stay
            // while any container uses them: see `Store::trash_unused_layers`.)
            if let Some((container, running)) = used_by(&id) {
                if running {
                    return Err(ImageError::InUse {
                        id: short_id(&id),
                        container,
                        force: "cannot be forced",
                        state: "running",
                    });
                }
                if !force {
                    return Err(if by_id {
                        ImageError::InUse {
                            id: short_id(&id),
                            container,
                            force: "must be forced",
                            state: "stopped",
                        }
                    } else {
                        ImageError::ReferenceInUse {
                            reference: familiar(name),
                            container,
                            id: short_id(&id),
                        }
                    });
                }
            }
            // Nothing names it any more: it goes, with its digests (docker does the same).
            let image = idx.images.remove(pos);
            for d in image.repo_digests {
                out.push(Removal::Untagged(familiar(&d)));
            }
            out.push(Removal::Deleted(id));
        }
        Ok(out)
    })?;
    let data = crate::events::store_data(store);
    for r in &out {
        match r {
            Removal::Untagged(n) => crate::events::image(data, "untag", &image_id, n),
            Removal::Deleted(id) => crate::events::image(data, "delete", id, id),
        }
    }
    Ok(out)
}

/// `image prune` (dangling images only, or all unused with `-a`): the IDs removed.
pub fn prune(store: &Store, all: bool, used_by: ImageUser) -> Result<Vec<String>, ImageError> {
    Ok(prune_where(store, all, used_by, &|_| true)?
        .into_iter()
        .map(|i| i.id)
        .collect())
}

/// [`prune`] of the images `wanted` accepts too (the `until`/`label`
/// filters): the records removed.
pub fn prune_where(
    store: &Store,
    all: bool,
    used_by: ImageUser,
    wanted: &dyn Fn(&ImageRecord) -> bool,
) -> Result<Vec<ImageRecord>, ImageError> {
    let removed = store.update_images(|idx| {
        let mut removed = Vec::new();
        idx.images.retain(|i| {
            let goes = (all || i.repo_tags.is_empty()) && used_by(&i.id).is_none() && wanted(i);
            if goes {
                removed.push(i.clone());
            }
            !goes
        });
        Ok::<_, ImageError>(removed)
    })?;
    let data = crate::events::store_data(store);
    for i in &removed {
        for t in &i.repo_tags {
            crate::events::image(data, "untag", &i.id, &familiar(t));
        }
        crate::events::image(data, "delete", &i.id, &i.id);
    }
    Ok(removed)
}

/// `docker.io/library/busybox:latest` → `busybox:latest`, as docker prints names.
pub fn familiar(name: &str) -> String {
    Reference::parse(name)
        .map(|r| r.familiar_string())
        .unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_go_path_match() {
        assert!(glob_match("busy*", "busybox"));
        assert!(glob_match("*", "busybox"));
        assert!(!glob_match("*", "user/app"));
        assert!(glob_match("*/*", "user/app"));
        assert!(glob_match("busybox:*", "busybox:latest"));
        assert!(glob_match("b?sybox", "busybox"));
        assert!(glob_match("[a-c]usybox", "busybox"));
        assert!(!glob_match("[^b]usybox", "busybox"));
        assert!(!glob_match("busy", "busybox"));
    }

    #[test]
    fn filters_parse_and_reject_unknown_keys() {
        let f = ImageFilters::parse(&[
            "dangling=true".into(),
            "reference=busy*".into(),
            "label=a=b".into(),
        ])
        .unwrap();
        assert_eq!(f.dangling, Some(true));
        assert_eq!(f.reference, ["busy*"]);
        assert_eq!(f.label, ["a=b"]);
        assert!(
            matches!(ImageFilters::parse(&["colour=red".into()]), Err(ImageError::InvalidFilter(k)) if k == "colour")
        );
        assert!(ImageFilters::parse(&["dangling".into()]).is_err());
    }

    #[test]
    fn inspect_config_keeps_docker_order_and_drops_empty_fields() {
        let c =
            json!({"Cmd": ["sh"], "Env": ["A=1"], "User": "", "Labels": null, "WorkingDir": "/w"});
        let v = inspect_config(Some(&c));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"Env":["A=1"],"Cmd":["sh"],"WorkingDir":"/w"}"#
        );
    }

    #[test]
    fn rfc3339_nano_trims_like_go() {
        let t = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.120Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(&t), "2024-01-02T03:04:05.12Z");
        let t = DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339_nano(&t), "2024-01-02T03:04:05Z");
    }
}

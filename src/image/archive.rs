//! `save` and `load`: images in and out of the store as tar archives.
//!
//! [`save`] writes what docker ≥ 25 writes: an OCI image layout
//! (`blobs/sha256/…`, `index.json`, `oci-layout`) plus docker's own
//! `manifest.json` and `repositories`, entries in lexical order as docker's
//! directory walk gives them. Layers are the uncompressed tar streams,
//! rebuilt byte for byte from their tar-split ([`super::layers::open_tar`]),
//! so their digests are the config's diff_ids; each image gets a generated
//! OCI manifest. [`ArchiveFormat::Oci`] (podman's `--format oci-archive`)
//! leaves out `manifest.json` and `repositories`.
//!
//! [`load`] reads docker archives of every era since 1.10 (`<id>/layer.tar`,
//! `<hex>.json` and `manifest.json`; docker ≥ 25's OCI layout with
//! `manifest.json`) and OCI archives (`index.json` only), plain, gzip or
//! zstd. Like docker it first copies the archive's files to a private temp
//! dir (the order of entries is arbitrary; `manifest.json` usually comes
//! last), names never becoming paths: a hostile name can place nothing
//! anywhere. Every manifest, config and path is checked before the first
//! layer is stored; configs and blobs must match their digests; layers are
//! stored with [`super::layers::store_layer`] and must hash to the config's
//! diff_ids; an image record is written only when all its layers are in.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::context::Context;
use crate::image::layers::{self, LayerError};
use crate::image::local::{self, ImageError, Matched};
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, StoreError, digest_hex, sha256_digest};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The archive is not one berth can load; says what is wrong with it.
    #[error("invalid archive: {0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

fn invalid(msg: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid(msg.into())
}

/// What [`save`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchiveFormat {
    /// docker ≥ 25: OCI layout + `manifest.json` + `repositories`.
    #[default]
    Docker,
    /// An OCI image layout only (podman's `oci-archive`).
    Oci,
}

struct SavedImage {
    record: ImageRecord,
    config: Vec<u8>,
    manifest: Vec<u8>,
    /// Familiar `name:tag`s, and the full references for OCI annotations.
    tags: Vec<Reference>,
}

/// Resolves the names given to `save` as docker does: `name:tag` saves that
/// tag, a bare repository name saves all its tags (or `:latest` when it has
/// none by that name), an ID or a digest reference saves the image untagged.
fn resolve(ctx: &Context, names: &[String]) -> Result<Vec<SavedImage>, ArchiveError> {
    let store = ctx.store()?;
    let index = store.images()?;
    let mut by_id: BTreeMap<String, SavedImage> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for name in names {
        let mut found: Vec<(&ImageRecord, Option<Reference>)> = Vec::new();
        if let Ok(named) = Reference::parse_named(name)
            && named.tag.is_none()
            && named.digest.is_none()
        {
            let repo = named.name();
            for image in &index.images {
                for t in &image.repo_tags {
                    if let Ok(r) = Reference::parse(t)
                        && r.name() == repo
                    {
                        found.push((image, Some(r)));
                    }
                }
            }
        }
        if found.is_empty() {
            let (image, matched) = local::find(&index, name)?;
            let tag = match matched {
                Matched::Tag(t) => Reference::parse(&t).ok(),
                Matched::Digest(_) | Matched::Id => None,
            };
            found.push((image, tag));
        }
        for (image, tag) in found {
            if !by_id.contains_key(&image.id) {
                let config = store.read_blob(&image.id)?;
                let manifest = manifest_for(ctx, image, config.len())?;
                order.push(image.id.clone());
                by_id.insert(
                    image.id.clone(),
                    SavedImage {
                        record: image.clone(),
                        config,
                        manifest,
                        tags: vec![],
                    },
                );
            }
            let entry = by_id.get_mut(&image.id).expect("inserted");
            if let Some(t) = tag
                && !entry.tags.contains(&t)
            {
                entry.tags.push(t);
            }
        }
    }
    Ok(order
        .into_iter()
        .map(|id| by_id.remove(&id).expect("present"))
        .collect())
}

/// The OCI manifest of an image as saved: uncompressed layers.
fn manifest_for(
    ctx: &Context,
    image: &ImageRecord,
    config_size: usize,
) -> Result<Vec<u8>, ArchiveError> {
    let store = ctx.store()?;
    let mut descs = Vec::new();
    for l in &image.layers {
        let size = layers::tar_size(store, &l.diff_id)?;
        descs.push(
            json!({"mediaType": layers::LAYER_MEDIA_TYPE, "digest": l.diff_id, "size": size}),
        );
    }
    let m = json!({
        "schemaVersion": 2,
        "mediaType": layers::MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": layers::CONFIG_MEDIA_TYPE, "digest": image.id, "size": config_size},
        "layers": descs,
    });
    Ok(serde_json::to_vec(&m).expect("manifest serialises"))
}

/// Writes the images `names` to `out` as an archive. Blocking; starts a helper per layer.
pub fn save<W: Write>(
    ctx: &Context,
    names: &[String],
    format: ArchiveFormat,
    out: W,
) -> Result<W, ArchiveError> {
    let images = resolve(ctx, names)?;
    let store = ctx.store()?;
    let ioerr = |e: io::Error| ArchiveError::Io(format!("writing the archive: {e}"));
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Deterministic);
    append_dir(&mut b, "blobs/").map_err(ioerr)?;
    append_dir(&mut b, "blobs/sha256/").map_err(ioerr)?;
    // Every blob once, in lexical order of digests.
    enum Blob<'a> {
        Bytes(&'a [u8]),
        Layer(&'a str),
    }
    let mut blobs: BTreeMap<String, Blob> = BTreeMap::new();
    for img in &images {
        blobs.insert(img.record.id.clone(), Blob::Bytes(&img.config));
        blobs.insert(sha256_digest(&img.manifest), Blob::Bytes(&img.manifest));
        for l in &img.record.layers {
            blobs.insert(l.diff_id.clone(), Blob::Layer(&l.diff_id));
        }
    }
    for (digest, blob) in &blobs {
        let name = format!("blobs/sha256/{}", digest_hex(digest)?);
        match blob {
            Blob::Bytes(bytes) => append_file(&mut b, &name, bytes).map_err(ioerr)?,
            Blob::Layer(diff_id) => {
                let mut tar = layers::open_tar(ctx, diff_id)?;
                let mut h = file_header(tar.size);
                b.append_data(&mut h, &name, &mut tar).map_err(|e| {
                    ArchiveError::Io(format!("writing layer {diff_id} to the archive: {e}"))
                })?;
                // The helper's verdict comes at EOF: make sure it was read.
                let mut rest = [0u8; 1];
                if tar
                    .read(&mut rest)
                    .map_err(|e| ArchiveError::Io(e.to_string()))?
                    != 0
                {
                    return Err(ArchiveError::Io(format!(
                        "layer {diff_id} is longer than its tar-split says"
                    )));
                }
            }
        }
    }
    // index.json: one entry per name (docker), or per image when untagged.
    let mut entries = Vec::new();
    for img in &images {
        let digest = sha256_digest(&img.manifest);
        let desc = |annotations: Option<Value>| {
            let mut d = json!({
                "mediaType": layers::MANIFEST_MEDIA_TYPE,
                "digest": digest,
                "size": img.manifest.len(),
            });
            if let Some(a) = annotations {
                d["annotations"] = a;
            }
            d
        };
        if img.tags.is_empty() {
            entries.push(desc(None));
        }
        for t in &img.tags {
            entries.push(desc(Some(json!({
                "io.containerd.image.name": format!("{}:{}", t.name(), t.tag.as_deref().unwrap_or("latest")),
                "org.opencontainers.image.ref.name": t.tag.as_deref().unwrap_or("latest"),
            }))));
        }
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    append_file(&mut b, "index.json", &to_json_line(&index)).map_err(ioerr)?;
    if format == ArchiveFormat::Docker {
        let manifest: Vec<Value> = images
            .iter()
            .map(|img| {
                let tags: Vec<String> = img.tags.iter().map(|t| t.familiar_string()).collect();
                json!({
                    "Config": format!("blobs/sha256/{}", img.record.id.trim_start_matches("sha256:")),
                    "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
                    "Layers": img.record.layers.iter()
                        .map(|l| format!("blobs/sha256/{}", l.diff_id.trim_start_matches("sha256:")))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        append_file(&mut b, "manifest.json", &to_json_line(&json!(manifest))).map_err(ioerr)?;
    }
    append_file(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(ioerr)?;
    if format == ArchiveFormat::Docker {
        let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for img in &images {
            let Some(top) = img.record.layers.last() else {
                continue;
            };
            for t in &img.tags {
                repos.entry(t.familiar_name()).or_default().insert(
                    t.tag.clone().unwrap_or_else(|| "latest".into()),
                    top.diff_id.trim_start_matches("sha256:").to_string(),
                );
            }
        }
        if !repos.is_empty() {
            append_file(&mut b, "repositories", &to_json_line(&json!(repos))).map_err(ioerr)?;
        }
    }
    let _ = store;
    let out = b.into_inner().map_err(ioerr)?;
    for img in &images {
        crate::events::image(&ctx.paths.data, "save", &img.record.id, &img.record.id);
    }
    Ok(out)
}

fn to_json_line(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(v).expect("json serialises");
    out.push(b'\n');
    out
}

fn file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_mtime(0);
    h
}

fn append_file<W: Write>(b: &mut tar::Builder<W>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut h = file_header(data.len() as u64);
    b.append_data(&mut h, name, data)
}

fn append_dir<W: Write>(b: &mut tar::Builder<W>, name: &str) -> io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_mtime(0);
    h.set_path(name)?;
    h.set_cksum();
    b.append(&h, io::empty())
}

// ---------------------------------------------------------------------------
// load

/// One line of `load`'s report, as docker prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// `Loaded image: NAME:TAG`
    Tag(String),
    /// `Loaded image ID: sha256:…`
    Id(String),
    /// docker's notice when a loaded tag moves off another image.
    Renamed { tag: String, old_id: String },
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loaded::Tag(t) => write!(f, "Loaded image: {t}"),
            Loaded::Id(id) => write!(f, "Loaded image ID: {id}"),
            Loaded::Renamed { tag, old_id } => write!(
                f,
                "The image {tag} already exists, renaming the old one with ID {old_id} to empty string"
            ),
        }
    }
}

/// The archive's files, copied out: archive name → temp file.
struct Extracted {
    dir: PathBuf,
    files: HashMap<String, PathBuf>,
    links: HashMap<String, String>,
}

impl Drop for Extracted {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// An archive member name, cleaned (`./a//b` → `a/b`); names that are
/// absolute or climb out with `..` are refused.
fn clean_name(raw: &[u8]) -> Result<String, ArchiveError> {
    let s = std::str::from_utf8(raw).map_err(|_| {
        invalid(format!(
            "entry name {:?} is not UTF-8",
            String::from_utf8_lossy(raw)
        ))
    })?;
    let p = Path::new(s);
    let mut parts: Vec<&str> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => parts.push(n.to_str().unwrap_or_default()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(invalid(format!("entry {s:?} has an absolute path")));
            }
            Component::ParentDir => {
                return Err(invalid(format!(
                    "entry {s:?} points outside the archive (path traversal)"
                )));
            }
        }
    }
    Ok(parts.join("/"))
}

/// A symlink target inside the archive, resolved lexically from the link's dir.
fn resolve_link(link: &str, target: &str) -> Result<String, ArchiveError> {
    if target.starts_with('/') {
        return Err(invalid(format!(
            "link {link:?} points to an absolute path {target:?}"
        )));
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(invalid(format!(
                        "link {link:?} points outside the archive (path traversal)"
                    )));
                }
            }
            n => parts.push(n),
        }
    }
    Ok(parts.join("/"))
}

fn extract(input: impl Read, dir: &Path) -> Result<Extracted, ArchiveError> {
    let mut ex = Extracted {
        dir: dir.to_path_buf(),
        files: HashMap::new(),
        links: HashMap::new(),
    };
    fs::create_dir(dir).map_err(|e| ArchiveError::Io(format!("{}: {e}", dir.display())))?;
    let mut ar = tar::Archive::new(input);
    let entries = ar
        .entries()
        .map_err(|e| invalid(format!("not a tar archive: {e}")))?;
    let mut n = 0u64;
    let mut any = false;
    for entry in entries {
        let mut entry = entry.map_err(|e| invalid(format!("reading the archive: {e}")))?;
        any = true;
        let name = clean_name(&entry.path_bytes())?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                n += 1;
                let tmp = dir.join(format!("f{n}"));
                let mut f = File::create(&tmp)
                    .map_err(|e| ArchiveError::Io(format!("{}: {e}", tmp.display())))?;
                io::copy(&mut entry, &mut f).map_err(|e| {
                    invalid(format!("reading {name:?}: {e} (is the archive truncated?)"))
                })?;
                ex.links.remove(&name);
                ex.files.insert(name, tmp);
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| invalid(format!("link {name:?} has no target")))?;
                let target = String::from_utf8_lossy(&target).into_owned();
                let resolved = if kind == tar::EntryType::Link {
                    clean_name(target.as_bytes())?
                } else {
                    resolve_link(&name, &target)?
                };
                ex.files.remove(&name);
                ex.links.insert(name, resolved);
            }
            _ => {}
        }
    }
    if !any {
        return Err(invalid("the archive is empty"));
    }
    Ok(ex)
}

impl Extracted {
    fn path(&self, name: &str) -> Result<&Path, ArchiveError> {
        let mut name = clean_name(name.as_bytes())?;
        for _ in 0..32 {
            if let Some(p) = self.files.get(&name) {
                return Ok(p);
            }
            match self.links.get(&name) {
                Some(t) => name = t.clone(),
                None => break,
            }
        }
        Err(invalid(format!("{name} is missing from the archive")))
    }

    fn has(&self, name: &str) -> bool {
        self.files.contains_key(name) || self.links.contains_key(name)
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let p = self.path(name)?;
        let len = fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        if len > 64 << 20 {
            return Err(invalid(format!("{name} is too large for a JSON document")));
        }
        fs::read(p).map_err(|e| ArchiveError::Io(format!("{name}: {e}")))
    }

    fn json(&self, name: &str) -> Result<Value, ArchiveError> {
        serde_json::from_slice(&self.read(name)?)
            .map_err(|e| invalid(format!("{name} is not valid JSON: {e}")))
    }

    fn blob_name(digest: &str) -> Result<String, ArchiveError> {
        let hex =
            digest_hex(digest).map_err(|_| invalid(format!("unsupported digest {digest:?}")))?;
        Ok(format!("blobs/sha256/{hex}"))
    }

    /// A blob by digest, checked against it.
    fn blob(&self, digest: &str) -> Result<Vec<u8>, ArchiveError> {
        let bytes = self.read(&Self::blob_name(digest)?)?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(invalid(format!(
                "blob {digest} does not match its content ({actual})"
            )));
        }
        Ok(bytes)
    }
}

/// An image to load, checked.
struct Plan {
    config: Vec<u8>,
    id: String,
    diff_ids: Vec<String>,
    /// Archive names of the layers, with their blob digest when the archive states one.
    layers: Vec<(String, Option<String>)>,
    /// Fully qualified `name:tag`.
    tags: Vec<String>,
}

fn plan_docker(ex: &Extracted) -> Result<Vec<Plan>, ArchiveError> {
    let manifest = ex.json("manifest.json")?;
    let list = manifest
        .as_array()
        .ok_or_else(|| invalid("manifest.json is not a list"))?;
    let mut plans = Vec::new();
    for item in list {
        let config_name = item
            .get("Config")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("manifest.json: an entry has no Config"))?;
        let config = ex.read(config_name)?;
        let id = sha256_digest(&config);
        // The config's name states its digest (`<hex>.json` or `blobs/sha256/<hex>`).
        let stem = Path::new(config_name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .trim_end_matches(".json");
        if stem.len() == 64
            && stem.bytes().all(|b| b.is_ascii_hexdigit())
            && id != format!("sha256:{stem}")
        {
            return Err(invalid(format!(
                "config {config_name} does not match its digest ({id})"
            )));
        }
        let parsed: Value = serde_json::from_slice(&config)
            .map_err(|e| invalid(format!("config {config_name} is not valid JSON: {e}")))?;
        let diff_ids = layers::config_diff_ids(&parsed)
            .map_err(|e| invalid(format!("config {config_name}: {e}")))?;
        let layer_names: Vec<String> = item
            .get("Layers")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("manifest.json: an entry has no Layers"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid("manifest.json: a layer is not a string"))
            })
            .collect::<Result<_, _>>()?;
        if layer_names.len() != diff_ids.len() {
            return Err(invalid(format!(
                "manifest.json lists {} layers but config {config_name} has {} diff_ids",
                layer_names.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for name in layer_names {
            ex.path(&name)?;
            let digest = name
                .strip_prefix("blobs/sha256/")
                .filter(|h| h.len() == 64)
                .map(|h| format!("sha256:{h}"));
            layers.push((name, digest));
        }
        let mut tags = Vec::new();
        for t in item
            .get("RepoTags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let t = t
                .as_str()
                .ok_or_else(|| invalid("manifest.json: a tag is not a string"))?;
            tags.push(full_tag(t)?);
        }
        plans.push(Plan {
            config,
            id,
            diff_ids,
            layers,
            tags,
        });
    }
    Ok(plans)
}

fn full_tag(t: &str) -> Result<String, ArchiveError> {
    let r = Reference::parse(t).map_err(|e| invalid(format!("invalid tag {t:?}: {e}")))?;
    if r.digest.is_some() {
        return Err(invalid(format!("invalid tag {t:?}: a digest is not a tag")));
    }
    Ok(format!(
        "{}:{}",
        r.name(),
        r.tag.as_deref().unwrap_or("latest")
    ))
}

fn plan_oci(ex: &Extracted) -> Result<Vec<Plan>, ArchiveError> {
    let index = ex.json("index.json")?;
    let manifests = index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("index.json has no manifests"))?;
    let mut plans: Vec<Plan> = Vec::new();
    let mut queue: Vec<(Value, Option<String>)> =
        manifests.iter().map(|m| (m.clone(), None)).collect();
    let host = crate::image::registry::Platform::host();
    let mut depth = 0;
    while let Some((desc, inherited)) = queue.pop() {
        depth += 1;
        if depth > 1000 {
            return Err(invalid("index.json nests too deeply"));
        }
        let digest = desc
            .get("digest")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("index.json: a descriptor has no digest"))?;
        let ann = desc.get("annotations");
        let name = ann
            .and_then(|a| a.get("io.containerd.image.name"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                ann.and_then(|a| a.get("org.opencontainers.image.ref.name"))
                    .and_then(Value::as_str)
                    // A bare tag names nothing without a repository.
                    .filter(|r| r.contains('/') || r.contains(':'))
                    .map(str::to_string)
            })
            .or(inherited);
        let bytes = ex.blob(digest)?;
        let m: Value = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("manifest {digest} is not valid JSON: {e}")))?;
        if m.get("manifests").is_some() {
            // A nested index: the host's platform.
            for sub in m["manifests"].as_array().into_iter().flatten() {
                let p = sub.get("platform");
                let os = p
                    .and_then(|p| p.get("os"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let arch = p
                    .and_then(|p| p.get("architecture"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if os == host.os && arch == host.architecture {
                    queue.push((sub.clone(), name.clone()));
                    break;
                }
            }
            continue;
        }
        let config_digest = m
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("manifest {digest} has no config")))?;
        let config = ex.blob(config_digest)?;
        let parsed: Value = serde_json::from_slice(&config)
            .map_err(|e| invalid(format!("config {config_digest} is not valid JSON: {e}")))?;
        let diff_ids = layers::config_diff_ids(&parsed)
            .map_err(|e| invalid(format!("config {config_digest}: {e}")))?;
        let descs = m
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("manifest {digest} has no layers")))?;
        if descs.len() != diff_ids.len() {
            return Err(invalid(format!(
                "manifest {digest} lists {} layers but its config has {} diff_ids",
                descs.len(),
                diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        for d in descs {
            let ld = d
                .get("digest")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("manifest {digest}: a layer has no digest")))?;
            let lname = Extracted::blob_name(ld)?;
            ex.path(&lname)?;
            layers.push((lname, Some(ld.to_string())));
        }
        let tags = match &name {
            Some(n) => vec![full_tag(n)?],
            None => vec![],
        };
        let id = sha256_digest(&config);
        if let Some(p) = plans.iter_mut().find(|p| p.id == id) {
            for t in tags {
                if !p.tags.contains(&t) {
                    p.tags.push(t);
                }
            }
            continue;
        }
        plans.push(Plan {
            config,
            id,
            diff_ids,
            layers,
            tags,
        });
    }
    plans.reverse();
    Ok(plans)
}

/// Reads bytes while hashing them.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Loads the images of the archive read from `input` (plain, gzip or zstd).
/// Blocking; starts a helper per new layer.
pub fn load<R: Read>(ctx: &Context, input: R) -> Result<Vec<Loaded>, ArchiveError> {
    let store = ctx.store()?;
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let head = input
        .fill_buf()
        .map_err(|e| ArchiveError::Io(format!("reading the archive: {e}")))?;
    if head.is_empty() {
        return Err(invalid("the archive is empty"));
    }
    let reader: Box<dyn Read> = match crate::image::unpack::Compression::sniff(head) {
        crate::image::unpack::Compression::Gzip => {
            Box::new(flate2::read::MultiGzDecoder::new(input))
        }
        crate::image::unpack::Compression::Zstd => Box::new(
            zstd::Decoder::with_buffer(input).map_err(|e| ArchiveError::Io(e.to_string()))?,
        ),
        crate::image::unpack::Compression::None => {
            if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
                return Err(invalid(
                    "xz-compressed input is not supported: decompress it first (xz -d)",
                ));
            }
            Box::new(input)
        }
    };
    let dir = store.root().join(format!(
        ".load-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let ex = extract(reader, &dir)?;
    let plans = if ex.has("manifest.json") {
        plan_docker(&ex)?
    } else if ex.has("index.json") {
        plan_oci(&ex)?
    } else {
        return Err(invalid(
            "neither manifest.json nor index.json found (not a docker or OCI image archive)",
        ));
    };
    if plans.is_empty() {
        return Err(invalid("no images found in the archive"));
    }
    let _gc = store.gc_shared()?;
    let mut out = Vec::new();
    for plan in &plans {
        for ((name, blob_digest), diff_id) in plan.layers.iter().zip(&plan.diff_ids) {
            if store.has_layer(diff_id) {
                continue;
            }
            let path = ex.path(name)?;
            let f = File::open(path).map_err(|e| ArchiveError::Io(format!("{name}: {e}")))?;
            let mut hashing = Hashing {
                inner: f,
                hasher: Sha256::new(),
            };
            let stored =
                layers::store_layer(ctx, &mut hashing, Some(diff_id)).map_err(|e| match e {
                    LayerError::DiffIdMismatch { expected, actual } => invalid(format!(
                        "layer {name} has content {actual}, but the image config says {expected}"
                    )),
                    LayerError::Unpack(msg) => invalid(format!("layer {name}: {msg}")),
                    other => other.into(),
                })?;
            if !stored.existed
                && let Some(d) = blob_digest
            {
                let actual = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
                if &actual != d {
                    return Err(invalid(format!(
                        "blob {d} does not match its content ({actual})"
                    )));
                }
            }
        }
        let before = store.images()?;
        let mut lines = Vec::new();
        for t in &plan.tags {
            if let Some(old) = before
                .images
                .iter()
                .find(|i| i.repo_tags.contains(t) && i.id != plan.id)
            {
                lines.push(Loaded::Renamed {
                    tag: familiar(t),
                    old_id: old.id.clone(),
                });
            }
        }
        layers::write_image(store, &plan.config, &plan.tags)?;
        let name = plan.tags.first().map_or(plan.id.clone(), |t| familiar(t));
        crate::events::image(&ctx.paths.data, "load", &plan.id, &name);
        out.extend(lines);
        if plan.tags.is_empty() {
            out.push(Loaded::Id(plan.id.clone()));
        }
        out.extend(plan.tags.iter().map(|t| Loaded::Tag(familiar(t))));
    }
    drop(ex);
    Ok(out)
}

fn familiar(full: &str) -> String {
    Reference::parse(full)
        .map(|r| r.familiar_string())
        .unwrap_or_else(|_| full.to_string())
}

/// Names of an image's layers, for tests and `system df`.
pub fn layer_set(images: &[ImageRecord]) -> BTreeSet<String> {
    images
        .iter()
        .flat_map(|i| i.layers.iter().map(|l| l.diff_id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_traversal_refused() {
        assert_eq!(clean_name(b"./a//b/./c").unwrap(), "a/b/c");
        assert!(clean_name(b"../x").is_err());
        assert!(clean_name(b"a/../../x").is_err());
        assert!(clean_name(b"/etc/passwd").is_err());
        assert_eq!(
            resolve_link("a/b/layer.tar", "../c/layer.tar").unwrap(),
            "a/c/layer.tar"
        );
        assert!(resolve_link("a/layer.tar", "../../x").is_err());
        assert!(resolve_link("a/layer.tar", "/etc/passwd").is_err());
    }

    #[test]
    fn extraction_keeps_names_out_of_paths() {
        let dir = std::env::temp_dir().join(format!("berth-archive-test-{}", std::process::id()));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        b.append_data(&mut h, "x/manifest.json", &b"[]"[..])
            .unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        b.append_link(&mut l, "manifest.json", "x/manifest.json")
            .unwrap();
        let data = b.into_inner().unwrap();
        let ex = extract(&data[..], &dir).unwrap();
        assert_eq!(ex.read("manifest.json").unwrap(), b"[]");
        assert!(ex.read("nope").is_err());
        let files: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, vec![std::ffi::OsString::from("f1")]);
        drop(ex);
        assert!(!dir.exists());
    }

    proptest::proptest! {
        #[test]
        fn cleaned_names_never_climb(raw in "[a-z./]{0,30}") {
            if let Ok(n) = clean_name(raw.as_bytes()) {
                proptest::prop_assert!(!n.starts_with('/'));
                proptest::prop_assert!(!n.split('/').any(|c| c == ".."));
            }
        }

        #[test]
        fn links_stay_inside(link in "[a-z]{1,3}(/[a-z]{1,3}){0,3}", target in "[a-z./]{0,20}") {
            if let Ok(n) = resolve_link(&link, &target) {
                proptest::prop_assert!(!n.starts_with('/'));
                proptest::prop_assert!(!n.split('/').any(|c| c == ".."));
            }
        }
    }
}

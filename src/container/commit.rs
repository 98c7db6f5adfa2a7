//! Containers out of the store as images (`commit`) or tars (`export`'s
//! helper side lives in [`super::fs::write_export`]).
//!
//! [`commit`]: the container's changes (its overlay `upper/` dir, written
//! as a layer tar by `berth internal layer-diff` in a user namespace with
//! the container's own id map, so owners are what the container sees) are
//! stored with [`crate::image::layers::store_layer`] on top of the image's
//! layers; the new config is the container's docker `Config` (what `inspect`
//! shows) with the `--change` instructions applied, and a history entry
//! like docker's. A running container is paused meanwhile (`-p`, default).

use std::ffi::OsString;
use std::io::Read;
use std::process::{Child, ChildStdout};

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::record::{ContainerConfig, ContainerStore, RecordError, Status};
use crate::context::Context;
use crate::image::changes::{self, ChangeError};
use crate::image::layers::{self, LayerError};
use crate::image::reference::Reference;
use crate::image::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    Userns(#[from] crate::userns::UsernsError),
    #[error(transparent)]
    Reference(#[from] crate::image::reference::ReferenceError),
    #[error("refusing to create a tag with a digest reference")]
    TagWithDigest,
    /// The container's files are a `vfs` copy: there is no upper dir to diff.
    #[error(
        "container {0} uses the vfs storage driver (a full copy of its image): berth cannot compute its changes, so commit is not supported for it"
    )]
    Vfs(String),
    #[error("the image of container {container} ({image}) is no longer in the store")]
    ImageGone { container: String, image: String },
    #[error("reading the container's changes: {0}")]
    Diff(String),
    #[error("pausing the container: {0}")]
    Pause(String),
}

#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-a`
    pub author: Option<String>,
    /// `-m`
    pub message: Option<String>,
    /// `-c`, in order.
    pub changes: Vec<String>,
    /// `-p` (docker's default: true).
    pub pause: bool,
    /// `REPO[:TAG]`
    pub reference: Option<String>,
}

/// A fully qualified `name:tag` for `REPO[:TAG]` (tag `latest` by default).
pub fn parse_tag(r: &str) -> Result<String, CommitError> {
    let r = Reference::parse(r)?;
    if r.digest.is_some() {
        return Err(CommitError::TagWithDigest);
    }
    Ok(format!(
        "{}:{}",
        r.name(),
        r.tag.as_deref().unwrap_or("latest")
    ))
}

/// Applies `-c` instructions to the `config` object of an image config.
pub fn apply_changes(image_config: &mut Value, lines: &[String]) -> Result<(), ChangeError> {
    if !image_config.get("config").is_some_and(Value::is_object) {
        image_config["config"] = json!({});
    }
    let obj = image_config["config"].as_object_mut().expect("object");
    for l in lines {
        changes::apply(obj, l)?;
    }
    Ok(())
}

/// docker's `Created`-style timestamp (RFC 3339, nanoseconds).
fn now() -> String {
    crate::image::local::rfc3339_nano(&Utc::now())
}

/// Commits the container `name` as a new image. Returns the image ID.
pub fn commit(ctx: &Context, name: &str, opts: &CommitOptions) -> Result<String, CommitError> {
    let tag = opts.reference.as_deref().map(parse_tag).transpose()?;
    // Check the changes before any work.
    apply_changes(&mut json!({}), &opts.changes)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let id = containers.resolve(name)?;
    let (config, state) = containers.load(&id)?;
    let dir = containers.dir(&id);
    if dir.join(crate::runtime::rootfs::COPY_DIR).exists() {
        return Err(CommitError::Vfs(name.to_string()));
    }
    let store = ctx.store()?;
    let base = store
        .read_blob(&config.image_id)
        .map_err(|_| CommitError::ImageGone {
            container: name.to_string(),
            image: config.image.clone(),
        })?;
    let mut image: Value = serde_json::from_slice(&base).map_err(|e| StoreError::Corrupt {
        path: store.blob_path(&config.image_id).unwrap_or_default(),
        message: e.to_string(),
    })?;

    let pause = opts.pause && state.status == Status::Running && state.pid > 0;
    if pause {
        super::procs::freeze(state.pid).map_err(|e| CommitError::Pause(e.to_string()))?;
    }
    let gc = store.gc_shared()?;
    let stored = (|| {
        let child = spawn_diff(ctx, &config, &dir)?;
        let reader = DiffReader::new(child);
        Ok::<_, CommitError>(layers::store_layer(ctx, reader, None)?)
    })();
    if pause {
        let _ = super::procs::thaw(state.pid);
    }
    let stored = stored?;

    // The new config: the container's docker Config over the image's.
    let mut cfg = super::view::config_json(&config, Some(&image));
    clean_runtime_fields(&mut cfg, &image);
    image["config"] = cfg;
    apply_changes(&mut image, &opts.changes)?;
    let obj = image.as_object_mut().expect("image config is an object");
    let created = now();
    obj.insert("created".into(), json!(created));
    match &opts.author {
        Some(a) => {
            obj.insert("author".into(), json!(a));
        }
        None => {
            obj.remove("author");
        }
    }
    obj.insert("container".into(), json!(id));
    let rootfs = obj
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    match rootfs.get_mut("diff_ids").and_then(Value::as_array_mut) {
        Some(list) => list.push(json!(stored.diff_id)),
        None => rootfs["diff_ids"] = json!([stored.diff_id]),
    }
    let mut entry = Map::new();
    entry.insert("created".into(), json!(created));
    if let Some(a) = &opts.author {
        entry.insert("author".into(), json!(a));
    }
    entry.insert("created_by".into(), json!(config.command.join(" ")));
    if let Some(m) = &opts.message {
        entry.insert("comment".into(), json!(m));
    }
    let history = obj.entry("history").or_insert_with(|| json!([]));
    if !history.is_array() {
        *history = json!([]);
    }
    history
        .as_array_mut()
        .expect("array")
        .push(Value::Object(entry));
    let bytes = serde_json::to_vec(&image).expect("config serialises");
    let tags: Vec<String> = tag.into_iter().collect();
    let image_id = layers::write_image(store, &bytes, &tags)?;
    drop(gc);
    let image_ref = tags.first().map(|t| crate::image::local::familiar(t));
    crate::events::container(
        &ctx.paths.data,
        &config,
        "commit",
        &[
            ("imageID", &image_id),
            ("imageRef", image_ref.as_deref().unwrap_or("")),
        ],
    );
    Ok(image_id)
}

/// Leaves out what the runtime put in the container's Config that docker
/// keeps out of it: `HOSTNAME` and `HOME` in Env (added at start) unless
/// the image had them; docker's attach flags.
fn clean_runtime_fields(cfg: &mut Value, image: &Value) {
    let image_env: Vec<&str> = image
        .pointer("/config/Env")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has = |k: &str| image_env.iter().any(|e| e.split('=').next() == Some(k));
    if let Some(env) = cfg.get_mut("Env").and_then(Value::as_array_mut) {
        env.retain(|e| {
            let key = e.as_str().and_then(|s| s.split('=').next()).unwrap_or("");
            !((key == "HOSTNAME" || key == "HOME") && !has(key))
        });
    }
    if let Some(o) = cfg.as_object_mut() {
        o.remove("StopTimeout");
        for k in [
            "AttachStdin",
            "AttachStdout",
            "AttachStderr",
            "Tty",
            "OpenStdin",
            "StdinOnce",
        ] {
            o.insert(k.into(), json!(false));
        }
    }
}

/// Stores the changes in `upper` (an overlay upper dir over `lower`, top
/// first) as a layer, read in a user namespace with `mapping` (the
/// container's; None as root). `skip`: mount points left out when empty.
/// (`build` uses it for its steps.) Hold [`crate::image::store::Store::gc_shared`].
pub fn store_upper(
    ctx: &Context,
    mapping: Option<&crate::userns::IdMapping>,
    upper: &std::path::Path,
    lower: &[std::path::PathBuf],
    skip: &[String],
) -> Result<layers::StoredLayer, CommitError> {
    let mut args: Vec<OsString> = vec!["layer-diff".into(), "--upper".into(), upper.into()];
    for l in lower {
        args.push("--lower".into());
        args.push(l.clone().into_os_string());
    }
    for s in skip {
        args.push("--skip".into());
        args.push(s.into());
    }
    let mut child = crate::userns::spawn_helper(&ctx.paths, mapping, args)?;
    drop(child.stdin.take());
    let reader = DiffReader::new(child);
    Ok(layers::store_layer(ctx, reader, None)?)
}

/// The mount points of a container that a diff of its upper dir leaves out
/// when empty (volumes and binds).
pub fn mount_points(config: &ContainerConfig) -> Vec<String> {
    let mut skip: Vec<String> = config
        .volumes
        .iter()
        .map(|v| v.destination.clone())
        .collect();
    for m in &config.mounts {
        if let Some(d) = m.get("destination").and_then(Value::as_str) {
            skip.push(d.to_string());
        }
    }
    skip
}

fn spawn_diff(
    ctx: &Context,
    config: &ContainerConfig,
    dir: &std::path::Path,
) -> Result<Child, CommitError> {
    let mut args: Vec<OsString> = vec![
        "layer-diff".into(),
        "--upper".into(),
        dir.join("upper").into_os_string(),
    ];
    for l in &config.layers {
        args.push("--lower".into());
        args.push(l.clone().into_os_string());
    }
    let mut skip: Vec<String> = config
        .volumes
        .iter()
        .map(|v| v.destination.clone())
        .collect();
    for m in &config.mounts {
        if let Some(d) = m.get("destination").and_then(Value::as_str) {
            skip.push(d.to_string());
        }
    }
    for s in skip {
        args.push("--skip".into());
        args.push(s.into());
    }
    let mapping = super::fs::container_mapping(ctx, config)?;
    let mut child = crate::userns::spawn_helper(&ctx.paths, mapping.as_ref(), args)?;
    drop(child.stdin.take());
    Ok(child)
}

/// The layer-diff helper's stdout; its failure is an error at EOF.
struct DiffReader {
    child: Option<Child>,
    out: ChildStdout,
}

impl DiffReader {
    fn new(mut child: Child) -> DiffReader {
        let out = child.stdout.take().expect("piped stdout");
        DiffReader {
            child: Some(child),
            out,
        }
    }
}

impl Read for DiffReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.out.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        let Some(mut child) = self.child.take() else {
            return Ok(0);
        };
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        if child.wait()?.success() {
            return Ok(0);
        }
        let msg = err.trim();
        Err(std::io::Error::other(format!(
            "reading the container's changes: {}",
            msg.strip_prefix("Error: ").unwrap_or(msg)
        )))
    }
}

impl Drop for DiffReader {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `import`: a new image of one layer from `tar` (a whole file system as a
/// tar, plain/gzip/zstd), with `changes` applied and docker's history
/// comment (`message`, or `Imported from SOURCE`). Returns the image ID.
pub fn import<R: Read>(
    ctx: &Context,
    tar: R,
    source: &str,
    message: Option<&str>,
    changes_lines: &[String],
    platform: Option<&crate::image::registry::Platform>,
    reference: Option<&str>,
) -> Result<String, CommitError> {
    let tag = reference.map(parse_tag).transpose()?;
    let mut image = json!({});
    apply_changes(&mut image, changes_lines)?;
    let store = ctx.store()?;
    let gc = store.gc_shared()?;
    let stored = layers::store_layer(ctx, tar, None)?;
    let host = crate::image::registry::Platform::host();
    let p = platform.unwrap_or(&host);
    let created = now();
    let obj = image.as_object_mut().expect("object");
    obj.insert("architecture".into(), json!(p.architecture));
    if let Some(v) = &p.variant {
        obj.insert("variant".into(), json!(v));
    }
    obj.insert("os".into(), json!(p.os));
    obj.insert("created".into(), json!(created));
    obj.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": [stored.diff_id]}),
    );
    let comment = message
        .map(str::to_string)
        .unwrap_or_else(|| format!("Imported from {source}"));
    obj.insert(
        "history".into(),
        json!([{"created": created, "created_by": "", "comment": comment}]),
    );
    let bytes = serde_json::to_vec(&image).expect("config serialises");
    let tags: Vec<String> = tag.into_iter().collect();
    let id = layers::write_image(store, &bytes, &tags)?;
    drop(gc);
    crate::events::image(&ctx.paths.data, "import", &id, &id);
    Ok(id)
}

//! The pull pipeline: manifest → platform → config → layers (in parallel,
//! streamed from the registry straight into a single-threaded unpack helper) →
//! image record.
//!
//! Nothing is held in memory but a chunk at a time, and nothing is written
//! twice: the compressed bytes are hashed as they pass (by oci-client) and
//! piped to `berth internal unpack`, which decompresses, extracts and hashes
//! the uncompressed stream. A layer is committed (renamed into place) only
//! when both digests match.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Child;

use bytes::Bytes;
use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use oci_spec::image::{Descriptor, ImageConfiguration, ImageManifest};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::image::reference::Reference;
use crate::image::registry::{
    self, ParsedManifest, Platform, RegistryClient, RegistryError, TagOrDigest,
};
use crate::image::store::{ImageRecord, LayerInfo, LayerRef, Store, StoreError};
use crate::userns::{self, UsernsError};

/// Layers fetched at once.
const PARALLEL_LAYERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Userns(#[from] UsernsError),
    #[error("no matching manifest for {platform} in the manifest list entries")]
    NoMatchingPlatform { platform: Platform },
    #[error(
        "image with reference {reference} was found but does not match the specified platform: wanted {wanted}, actual: {actual}"
    )]
    PlatformMismatch {
        reference: String,
        wanted: Platform,
        actual: String,
    },
    #[error("invalid image config {digest}: {reason}")]
    BadConfig { digest: String, reason: String },
    #[error("layer {digest}: {reason}")]
    Layer { digest: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the CLI hears about while a pull runs.
#[derive(Debug, Clone)]
pub enum PullEvent {
    /// Something the user should know that does not stop the pull.
    Warning(String),
    /// The manifest was found: docker prints `TAG: Pulling from PATH` (the repository path, no registry).
    Resolved {
        tag_or_digest: String,
        repository: String,
    },
    Layer {
        id: String,
        state: LayerState,
    },
    Progress {
        id: String,
        current: u64,
        total: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerState {
    Waiting,
    AlreadyExists,
    Downloading,
    DownloadComplete,
    PullComplete,
}

impl LayerState {
    /// Docker's words for the state.
    pub fn docker_text(self) -> &'static str {
        match self {
            LayerState::Waiting => "Pulling fs layer",
            LayerState::AlreadyExists => "Already exists",
            LayerState::Downloading => "Downloading",
            LayerState::DownloadComplete => "Download complete",
            LayerState::PullComplete => "Pull complete",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Explicit platform (`--platform`); the host's otherwise.
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone)]
pub struct PullOutcome {
    pub image_id: String,
    /// The digest of what the reference named (an index digest for multi-platform images).
    pub digest: String,
    /// False when the tag already pointed at this image ("Image is up to date").
    pub downloaded_newer: bool,
}

/// What `berth internal unpack` prints on stdout when it is done.
#[derive(Debug, Serialize, Deserialize)]
pub struct UnpackReport {
    pub diff_id: String,
    pub size: u64,
    /// False when the tar-split cannot rebuild the exact tar (duplicate names in the layer).
    #[serde(default = "yes")]
    pub tar_split_exact: bool,
}

fn yes() -> bool {
    true
}

fn short_id(digest: &str) -> String {
    digest
        .split_once(':')
        .map(|(_, h)| h)
        .unwrap_or(digest)
        .chars()
        .take(12)
        .collect()
}

/// Pulls `reference` into the store.
pub async fn pull(
    ctx: &Context,
    reference: &Reference,
    opts: &PullOptions,
    events: &(dyn Fn(PullEvent) + Sync),
) -> Result<PullOutcome, PullError> {
    let store = ctx.store()?;
    let client = RegistryClient::new(&ctx.config, &ctx.auth, reference);
    for w in &client.warnings {
        events(PullEvent::Warning(w.clone()));
    }
    let what = match (&reference.digest, &reference.tag) {
        (Some(d), _) => TagOrDigest::Digest(d.clone()),
        (None, Some(t)) => TagOrDigest::Tag(t.clone()),
        (None, None) => TagOrDigest::Tag("latest".into()),
    };
    let top = client.fetch_manifest(&what).await?;
    let shown = match &what {
        TagOrDigest::Tag(t) => t.clone(),
        TagOrDigest::Digest(d) => d.clone(),
    };
    let display = reference.familiar_string();
    let mut manifests_to_keep = vec![top.clone()];
    let platform = opts.platform.clone().unwrap_or_else(Platform::host);
    let (manifest_raw, manifest) = match top.parse(&reference.registry, &display)? {
        ParsedManifest::Image(m) => (top.clone(), *m),
        ParsedManifest::Index(index) => {
            let entry = registry::select_platform(&index, &platform).ok_or_else(|| {
                PullError::NoMatchingPlatform {
                    platform: platform.clone(),
                }
            })?;
            let raw = client
                .fetch_manifest_by_digest(entry.digest().as_ref())
                .await?;
            let ParsedManifest::Image(m) = raw.parse(&reference.registry, &display)? else {
                return Err(RegistryError::BadManifest {
                    registry: reference.registry.clone(),
                    reference: display.clone(),
                    reason: "an index entry points to another index".into(),
                }
                .into());
            };
            manifests_to_keep.push(raw.clone());
            (raw, *m)
        }
    };
    events(PullEvent::Resolved {
        tag_or_digest: shown,
        repository: reference.repository.clone(),
    });

    let config_desc = manifest.config();
    let config_digest = config_desc.digest().to_string();
    let config_bytes = if store.has_blob(&config_digest) {
        store.read_blob(&config_digest)?
    } else {
        let bytes = client.fetch_blob(config_desc).await?;
        store.write_blob(&config_digest, &bytes)?;
        bytes
    };
    let config =
        ImageConfiguration::from_reader(&config_bytes[..]).map_err(|e| PullError::BadConfig {
            digest: config_digest.clone(),
            reason: e.to_string(),
        })?;
    if let Some(wanted) = &opts.platform
        && !wanted.matches(
            &config.os().to_string(),
            &config.architecture().to_string(),
            config.variant().as_deref(),
        )
    {
        return Err(PullError::PlatformMismatch {
            reference: display,
            wanted: wanted.clone(),
            actual: format!("{}/{}", config.os(), config.architecture()),
        });
    }
    let layers = layer_refs(&manifest, &config, &config_digest)?;

    // Held until the record is written, so no rmi deletes a layer we just made or found.
    let gc = store.gc_shared()?;
    for l in &layers {
        events(PullEvent::Layer {
            id: short_id(&l.digest),
            state: if store.has_layer(&l.diff_id) {
                LayerState::AlreadyExists
            } else {
                LayerState::Waiting
            },
        });
    }
    let descriptors: Vec<&Descriptor> = manifest.layers().iter().collect();
    let results: Vec<Result<u64, PullError>> =
        futures::stream::iter(descriptors.iter().zip(&layers))
            .map(|(desc, layer)| ensure_layer(ctx, store, &client, desc, layer, events))
            .buffered(PARALLEL_LAYERS)
            .collect()
            .await;
    let mut size = 0u64;
    for r in results {
        size += r?;
    }

    for raw in &manifests_to_keep {
        store.write_blob(&raw.digest, &raw.bytes)?;
    }
    let image_id = config_digest.clone();
    let tag = reference
        .tag
        .as_ref()
        .filter(|_| reference.digest.is_none())
        .map(|t| format!("{}:{}", reference.name(), t));
    let repo_digest = format!("{}@{}", reference.name(), top.digest);
    let record = ImageRecord {
        id: image_id.clone(),
        repo_tags: vec![],
        repo_digests: vec![repo_digest],
        manifest_digest: manifest_raw.digest.clone(),
        manifest_media_type: manifest_raw.media_type.clone(),
        layers,
        size,
        added: Utc::now(),
        last_tag_time: None,
    };
    let downloaded_newer = store.update_images(|idx| {
        let before = tag
            .as_ref()
            .and_then(|t| idx.images.iter().find(|i| i.repo_tags.contains(t)))
            .map(|i| i.id.clone());
        let had_image = idx.find_by_id(&image_id).is_some();
        idx.add(record, tag.as_deref(), Utc::now());
        Ok::<_, StoreError>(match &tag {
            Some(_) => before.as_deref() != Some(image_id.as_str()),
            None => !had_image,
        })
    })?;
    drop(gc);
    // A hint for later pushes (mounts, blobs the registry has): losing it costs nothing else.
    let location = format!("{}/{}", reference.registry, reference.repository);
    let seen: Vec<crate::image::blobinfo::Seen> = manifest
        .layers()
        .iter()
        .zip(config.rootfs().diff_ids())
        .map(|(d, diff_id)| crate::image::blobinfo::Seen {
            diff_id: diff_id.clone(),
            digest: d.digest().to_string(),
            media_type: d.media_type().to_string(),
            size: d.size(),
            location: location.clone(),
        })
        .collect();
    if let Err(e) = crate::image::blobinfo::record(store, &seen) {
        events(PullEvent::Warning(format!("recording blob locations: {e}")));
    }
    crate::events::image(&ctx.paths.data, "pull", &display, &display);
    Ok(PullOutcome {
        image_id,
        digest: top.digest,
        downloaded_newer,
    })
}

fn layer_refs(
    manifest: &ImageManifest,
    config: &ImageConfiguration,
    config_digest: &str,
) -> Result<Vec<LayerRef>, PullError> {
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(PullError::BadConfig {
            digest: config_digest.to_string(),
            reason: format!(
                "{} diff_ids for {} layers in the manifest",
                diff_ids.len(),
                manifest.layers().len()
            ),
        });
    }
    manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .map(|(desc, diff_id)| {
            crate::image::store::digest_hex(diff_id)?;
            crate::image::store::digest_hex(desc.digest().as_ref()).map_err(|_| {
                PullError::Layer {
                    digest: desc.digest().to_string(),
                    reason: "only sha256 layer digests are supported".into(),
                }
            })?;
            let media_type = desc.media_type().to_string();
            if !is_layer_media_type(&media_type) {
                return Err(PullError::Layer {
                    digest: desc.digest().to_string(),
                    reason: format!("unsupported layer media type {media_type}"),
                });
            }
            Ok(LayerRef {
                diff_id: diff_id.clone(),
                digest: desc.digest().to_string(),
                media_type,
                compressed_size: desc.size(),
            })
        })
        .collect()
}

fn is_layer_media_type(mt: &str) -> bool {
    matches!(
        mt,
        "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    )
}

/// Makes sure the layer is in the store; returns its unpacked size.
async fn ensure_layer(
    ctx: &Context,
    store: &Store,
    client: &RegistryClient,
    desc: &Descriptor,
    layer: &LayerRef,
    events: &(dyn Fn(PullEvent) + Sync),
) -> Result<u64, PullError> {
    if let Some(info) = store.layer_info(&layer.diff_id)? {
        return Ok(info.size);
    }
    let id = short_id(&layer.digest);
    let lock = {
        let root = store.root().to_path_buf();
        let diff_id = layer.diff_id.clone();
        tokio::task::spawn_blocking(move || {
            crate::image::store::Store::open(&root)?.lock_layer(&diff_id)
        })
        .await
        .map_err(|e| PullError::Internal(e.to_string()))??
    };
    if lock.done() {
        // Another pull made it while we waited.
        events(PullEvent::Layer {
            id,
            state: LayerState::AlreadyExists,
        });
        return Ok(store
            .layer_info(&layer.diff_id)?
            .map(|i| i.size)
            .unwrap_or(0));
    }
    if lock.leftover() {
        remove_tree(ctx, lock.partial_dir()).await?;
    }
    let partial = lock.partial_dir().to_path_buf();
    let result = fetch_and_unpack(ctx, client, desc, layer, &partial, &id, events).await;
    match result {
        Ok(report) => {
            let size = report.size;
            lock.commit(&LayerInfo {
                diff_id: layer.diff_id.clone(),
                size,
                tar_split_exact: report.tar_split_exact,
            })?;
            events(PullEvent::Layer {
                id: id.clone(),
                state: LayerState::DownloadComplete,
            });
            events(PullEvent::Layer {
                id,
                state: LayerState::PullComplete,
            });
            Ok(size)
        }
        Err(e) => {
            // Best effort: a leftover is redone by the next pull anyway.
            let _ = remove_tree(ctx, &partial).await;
            drop(lock);
            Err(e)
        }
    }
}

async fn fetch_and_unpack(
    ctx: &Context,
    client: &RegistryClient,
    desc: &Descriptor,
    layer: &LayerRef,
    partial: &Path,
    id: &str,
    events: &(dyn Fn(PullEvent) + Sync),
) -> Result<UnpackReport, PullError> {
    let layer_err = |reason: String| PullError::Layer {
        digest: layer.digest.clone(),
        reason,
    };
    let diff = partial.join("diff");
    std::fs::create_dir_all(&diff)
        .map_err(|e| layer_err(format!("creating {}: {e}", diff.display())))?;
    let mut stream = client.blob_stream(desc).await?;

    let mut args: Vec<std::ffi::OsString> = vec![
        "unpack".into(),
        "--dest".into(),
        diff.into_os_string(),
        "--tar-split".into(),
        partial.join("tar-split.zst").into_os_string(),
    ];
    if ctx.paths.rootless {
        args.push("--rootless".into());
    }
    let paths = ctx.paths.clone();
    let mapping = ctx.id_mapping()?.cloned();
    let child =
        tokio::task::spawn_blocking(move || userns::spawn_helper(&paths, mapping.as_ref(), args))
            .await
            .map_err(|e| PullError::Internal(e.to_string()))??;

    // The helper's stdin is fed from a blocking thread; the async side only hashes (in
    // oci-client) and forwards chunks, so the network and the disk work overlap.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let writer = tokio::task::spawn_blocking(move || feed_helper(child, rx));
    events(PullEvent::Layer {
        id: id.to_string(),
        state: LayerState::Downloading,
    });
    let total = layer.compressed_size;
    let mut current = 0u64;
    let mut stream_error = None;
    loop {
        match stream.try_next().await {
            Ok(Some(chunk)) => {
                current += chunk.len() as u64;
                if tx.send(chunk).await.is_err() {
                    // The helper stopped reading: its error explains why.
                    break;
                }
                events(PullEvent::Progress {
                    id: id.to_string(),
                    current,
                    total,
                });
            }
            Ok(None) => break,
            Err(e) => {
                stream_error = Some(e.to_string());
                break;
            }
        }
    }
    let aborted = stream_error.is_some();
    drop(tx);
    let helper = writer
        .await
        .map_err(|e| PullError::Internal(e.to_string()))?;
    if let Some(e) = stream_error {
        return Err(layer_err(format!("download failed: {e}")));
    }
    let report = helper.map_err(layer_err)?;
    debug_assert!(!aborted);
    if report.diff_id != layer.diff_id {
        return Err(layer_err(format!(
            "uncompressed content has digest {} but the image config says {}",
            report.diff_id, layer.diff_id
        )));
    }
    Ok(report)
}

/// Writes the chunks to the helper, then collects its report. A closed channel
/// before the end of the blob (download error) kills the helper.
fn feed_helper(
    mut child: Child,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> Result<UnpackReport, String> {
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut write_failed = false;
    while let Some(chunk) = rx.blocking_recv() {
        if stdin.write_all(&chunk).is_err() {
            write_failed = true;
            break;
        }
    }
    drop(stdin);
    drop(rx);
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        let msg = stderr.trim();
        return Err(if msg.is_empty() {
            format!("unpack helper failed ({status})")
        } else {
            msg.strip_prefix("Error: ").unwrap_or(msg).to_string()
        });
    }
    if write_failed {
        return Err("unpack helper stopped reading the layer".into());
    }
    serde_json::from_str(stdout.trim())
        .map_err(|e| format!("unpack helper report: {e}: {stdout:?}"))
}

/// Deletes a directory tree of the store. Rootless, files owned by subuids may
/// need the user namespace: try in-process first, then a helper.
pub async fn remove_tree(ctx: &Context, path: &Path) -> Result<(), PullError> {
    let path = path.to_path_buf();
    let paths = ctx.paths.clone();
    let mapping = ctx.id_mapping()?.cloned();
    tokio::task::spawn_blocking(move || remove_trees_blocking(&paths, mapping.as_ref(), &[path]))
        .await
        .map_err(|e| PullError::Internal(e.to_string()))?
}

/// Deletes directory trees (blocking). See [`remove_tree`].
pub fn remove_trees_blocking(
    paths: &crate::paths::Paths,
    mapping: Option<&userns::IdMapping>,
    trees: &[PathBuf],
) -> Result<(), PullError> {
    let mut left = Vec::new();
    for t in trees {
        match std::fs::remove_dir_all(t) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if paths.rootless => {
                let _ = e;
                left.push(t.clone());
            }
            Err(e) => {
                return Err(PullError::Internal(format!(
                    "removing {}: {e}",
                    t.display()
                )));
            }
        }
    }
    if left.is_empty() {
        return Ok(());
    }
    let mut args: Vec<std::ffi::OsString> = vec!["rm".into()];
    args.extend(left.iter().map(|p| p.clone().into_os_string()));
    let child = userns::spawn_helper(paths, mapping, args)?;
    let out = child
        .wait_with_output()
        .map_err(|e| PullError::Internal(e.to_string()))?;
    if !out.status.success() {
        return Err(PullError::Internal(format!(
            "removing {}: {}",
            left[0].display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

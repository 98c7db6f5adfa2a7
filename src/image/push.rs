//! The push pipeline: local tag → layers (reused, mounted or compressed and
//! uploaded, in parallel) → config → manifest → the image's RepoDigests.
//!
//! The store keeps no compressed blobs. A layer is pushed by reusing a blob
//! that holds it whenever the target can have it without an upload: the
//! blob the image was pulled as (its manifest descriptor), or any other the
//! [`blobinfo`] cache knows, if the target repository has it already (HEAD)
//! or can mount it from another repository of the same registry. When every
//! layer is reused, the stored manifest is pushed byte for byte, so a pulled
//! image pushed elsewhere keeps its manifest digest, as with docker.
//!
//! Otherwise the layer's exact tar is rebuilt from its directory and
//! tar-split ([`tarsplit::reassemble`]; rootless, inside the store's user
//! namespace by `berth internal layer-tar`), gzip-compressed and streamed to
//! the registry in one pass: the compressed bytes are hashed as they leave,
//! sent as one streamed PATCH, and the upload is closed with a PUT naming the
//! digest, which the registry checks. No temporary file, no second read, and
//! never more than a few chunks in memory (a temporary file would cost a
//! write and a read of every blob; two passes, one to hash and one to send,
//! would compress twice; the streamed PATCH is the one way that is both
//! single-pass and needs the digest only at the end). Incompressible stretches
//! are stored rather than deflated (`AdaptiveGz`). A blob that ends up smaller than
//! [`MONOLITHIC_LIMIT`] goes in a single PUT instead. The new manifest keeps
//! the image's manifest media type family and its config blob.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::context::Context;
use crate::image::blobinfo::{self, Seen};
use crate::image::reference::Reference;
use crate::image::registry::{DOCKER_MANIFEST, OCI_MANIFEST, Platform};
use crate::image::store::{ImageRecord, LayerRef, Store, StoreError, sha256_digest};
use crate::image::tarsplit;
use crate::image::upload::{Mount, UploadError, Uploader};
use crate::userns::{self, UsernsError};

/// Layers compressed and uploaded at once.
const PARALLEL_LAYERS: usize = 3;
/// Cross-repository mounts tried per layer (as docker).
const MAX_MOUNT_ATTEMPTS: usize = 3;
/// Blobs that compress to less than this are sent in one PUT.
pub const MONOLITHIC_LIMIT: usize = 1 << 20;
/// Size of the chunks handed from the compressor to the upload.
const CHUNK: usize = 256 * 1024;
/// gzip level of recompressed layers. Docker uses 6; level 1 is several times
/// faster and its blobs ~12% larger on typical file trees (measured on the
/// benchmark image's /usr layers), and incompressible data is stored, not
/// deflated ([`AdaptiveGz`]), whatever the level.
const GZIP_LEVEL: u32 = 1;

const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("An image does not exist locally with the tag: {0}")]
    NoSuchImage(String),
    #[error("tag does not exist: {0}")]
    NoSuchTag(String),
    #[error("cannot push a digest reference")]
    DigestReference,
    #[error("tag can't be used with --all-tags/-a")]
    TagWithAllTags,
    #[error(
        "image with reference {reference} was found but does not match the specified platform: wanted {wanted}, actual: {actual}"
    )]
    PlatformMismatch {
        reference: String,
        wanted: Platform,
        actual: String,
    },
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Userns(#[from] UsernsError),
    #[error("layer {diff_id}: {reason}")]
    Layer { diff_id: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

/// What the CLI hears about while a push runs.
#[derive(Debug, Clone)]
pub enum PushEvent {
    Layer {
        id: String,
        state: PushState,
    },
    /// Uncompressed bytes of the layer sent so far, of its tar's size.
    Progress {
        id: String,
        current: u64,
        total: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushState {
    Preparing,
    Pushing,
    Pushed,
    AlreadyExists,
    /// Mounted from this repository (path, no registry).
    MountedFrom(String),
}

impl PushState {
    /// Docker's words for the state.
    pub fn docker_text(&self) -> String {
        match self {
            PushState::Preparing => "Preparing".into(),
            PushState::Pushing => "Pushing".into(),
            PushState::Pushed => "Pushed".into(),
            PushState::AlreadyExists => "Layer already exists".into(),
            PushState::MountedFrom(r) => format!("Mounted from {r}"),
        }
    }

    /// Whether the layer is done.
    pub fn is_final(&self) -> bool {
        !matches!(self, PushState::Preparing | PushState::Pushing)
    }
}

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// `--platform`: the image must be for it (berth stores one platform per image).
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub reference: Reference,
    pub tag: String,
    /// Digest of the manifest pushed.
    pub digest: String,
    /// Its length in bytes.
    pub size: usize,
}

/// The local tags a push names: `NAME[:TAG]` (tag `latest` if none), or with
/// `all_tags` every local tag of NAME's repository, sorted.
pub fn resolve_tags(
    store: &Store,
    named: &Reference,
    all_tags: bool,
) -> Result<Vec<(Reference, ImageRecord)>, PushError> {
    if named.digest.is_some() {
        return Err(PushError::DigestReference);
    }
    if all_tags && named.tag.is_some() {
        return Err(PushError::TagWithAllTags);
    }
    let index = store.images()?;
    let prefix = format!("{}:", named.name());
    let mut found: Vec<(String, &ImageRecord)> = index
        .images
        .iter()
        .flat_map(|i| {
            i.repo_tags
                .iter()
                .filter_map(|t| t.strip_prefix(&prefix))
                .map(move |tag| (tag.to_string(), i))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if found.is_empty() {
        return Err(PushError::NoSuchImage(named.familiar_name()));
    }
    let with_tag = |tag: &str| {
        let mut r = named.clone();
        r.tag = Some(tag.to_string());
        r
    };
    if all_tags {
        return Ok(found
            .into_iter()
            .map(|(t, i)| (with_tag(&t), i.clone()))
            .collect());
    }
    let tag = named.tag.clone().unwrap_or_else(|| "latest".into());
    match found.into_iter().find(|(t, _)| *t == tag) {
        Some((t, i)) => Ok(vec![(with_tag(&t), i.clone())]),
        None => Err(PushError::NoSuchTag(with_tag(&tag).familiar_string())),
    }
}

/// A blob known to hold a layer, and the repositories of the target registry it may be mounted from.
#[derive(Debug, Clone)]
struct Candidate {
    digest: String,
    media_type: String,
    size: u64,
    sources: Vec<String>,
}

/// The descriptor a layer ends up with in the pushed manifest.
#[derive(Debug, Clone)]
struct Pushed {
    digest: String,
    media_type: String,
    size: u64,
}

fn layer_id(diff_id: &str) -> String {
    crate::image::local::short_id(diff_id)
}

/// Pushes one local image under `reference` (which has a tag).
pub async fn push(
    ctx: &Context,
    reference: &Reference,
    image: &ImageRecord,
    opts: &PushOptions,
    events: &(dyn Fn(PushEvent) + Sync),
) -> Result<PushOutcome, PushError> {
    let store = ctx.store()?;
    let tag = reference.tag.clone().unwrap_or_else(|| "latest".into());
    // Held until the end, so no rmi deletes a layer while we read it.
    let _gc = store.gc_shared()?;
    let config = store.read_blob(&image.id)?;
    if let Some(wanted) = &opts.platform {
        let c: Value = serde_json::from_slice(&config).unwrap_or_default();
        let field = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let variant = field("variant");
        if !wanted.matches(
            &field("os"),
            &field("architecture"),
            Some(variant.as_str()).filter(|v| !v.is_empty()),
        ) {
            return Err(PushError::PlatformMismatch {
                reference: reference.familiar_string(),
                wanted: wanted.clone(),
                actual: format!("{}/{}", field("os"), field("architecture")),
            });
        }
    }
    let original_manifest = if image.manifest_digest.is_empty() {
        None
    } else {
        store.read_blob(&image.manifest_digest).ok()
    };

    // Blobs that may already be there, and where they could be mounted from.
    let same_registry = format!("{}/", reference.registry);
    let repos_of_image: Vec<String> = image
        .repo_digests
        .iter()
        .filter_map(|d| Reference::parse(d).ok())
        .filter(|r| r.registry == reference.registry)
        .map(|r| r.repository)
        .collect();
    let mut unique: Vec<&LayerRef> = Vec::new();
    for l in &image.layers {
        if !unique.iter().any(|u| u.diff_id == l.diff_id) {
            unique.push(l);
        }
    }
    let mut candidates: Vec<Vec<Candidate>> = Vec::new();
    for l in &unique {
        let mut c: Vec<Candidate> = Vec::new();
        let known_blobs = blobinfo::lookup(store, &l.diff_id);
        if !l.digest.is_empty() && !l.media_type.is_empty() {
            // Where the image's own blob is: the cache says; an image pulled before the
            // cache existed has only its RepoDigests to go by.
            let sources = if known_blobs.iter().any(|k| k.digest == l.digest) {
                Vec::new()
            } else {
                repos_of_image.clone()
            };
            c.push(Candidate {
                digest: l.digest.clone(),
                media_type: l.media_type.clone(),
                size: l.compressed_size,
                sources,
            });
        }
        for known in known_blobs {
            let sources: Vec<String> = known
                .locations
                .iter()
                .rev()
                .filter_map(|loc| loc.strip_prefix(&same_registry))
                .map(String::from)
                .collect();
            match c.iter_mut().find(|x| x.digest == known.digest) {
                Some(x) => {
                    for s in sources {
                        if !x.sources.contains(&s) {
                            x.sources.push(s);
                        }
                    }
                }
                None => c.push(Candidate {
                    digest: known.digest,
                    media_type: known.media_type,
                    size: known.size,
                    sources,
                }),
            }
        }
        for x in &mut c {
            x.sources.retain(|s| *s != reference.repository);
        }
        candidates.push(c);
    }
    let mut mount_sources: Vec<String> = Vec::new();
    for s in candidates.iter().flatten().flat_map(|c| &c.sources) {
        if !mount_sources.contains(s) && mount_sources.len() < 8 {
            mount_sources.push(s.clone());
        }
    }

    let up = Uploader::connect(
        &ctx.config,
        &ctx.auth,
        &reference.registry,
        &reference.repository,
        &mount_sources,
    )
    .await?;

    // Docker lists the layers top first.
    for l in unique.iter().rev() {
        events(PushEvent::Layer {
            id: layer_id(&l.diff_id),
            state: PushState::Preparing,
        });
    }
    let docker_family = image.manifest_media_type != OCI_MANIFEST;
    let jobs = unique
        .iter()
        .zip(&candidates)
        .rev()
        .map(|(l, c)| push_layer(ctx, store, &up, l, c, docker_family, events));
    let results: Vec<Result<(String, Pushed), PushError>> = futures::stream::iter(jobs)
        .buffered(PARALLEL_LAYERS)
        .collect()
        .await;
    let mut pushed: std::collections::HashMap<String, Pushed> = Default::default();
    for r in results {
        let (diff_id, p) = r?;
        pushed.insert(diff_id, p);
    }

    up.ensure_small_blob(&image.id, Bytes::from(config.clone()))
        .await?;

    let reused_all = image
        .layers
        .iter()
        .all(|l| pushed.get(&l.diff_id).is_some_and(|p| p.digest == l.digest));
    let (manifest, media_type) = match (&original_manifest, reused_all) {
        (Some(bytes), true) => (bytes.clone(), image.manifest_media_type.clone()),
        _ => build_manifest(
            original_manifest.as_deref(),
            image,
            config.len() as u64,
            &pushed,
        )?,
    };
    let digest = sha256_digest(&manifest);
    let size = manifest.len();
    up.put_manifest(&tag, &media_type, Bytes::from(manifest.clone()))
        .await?;

    // Record what the registry now holds.
    if !store.has_blob(&digest) {
        store.write_blob(&digest, &manifest)?;
    }
    let repo_digest = format!("{}@{digest}", reference.name());
    store.update_images(|idx| {
        if let Some(rec) = idx.images.iter_mut().find(|i| i.id == image.id)
            && !rec.repo_digests.contains(&repo_digest)
        {
            rec.repo_digests.push(repo_digest.clone());
        }
        Ok::<_, StoreError>(())
    })?;
    let location = format!("{}/{}", reference.registry, reference.repository);
    let seen: Vec<Seen> = pushed
        .iter()
        .map(|(diff_id, p)| Seen {
            diff_id: diff_id.clone(),
            digest: p.digest.clone(),
            media_type: p.media_type.clone(),
            size: p.size,
            location: location.clone(),
        })
        .collect();
    blobinfo::record(store, &seen)?;
    let shown = reference.familiar_string();
    crate::events::image(&ctx.paths.data, "push", &shown, &shown);
    Ok(PushOutcome {
        reference: reference.clone(),
        tag,
        digest,
        size,
    })
}

/// Gets one layer into the target repository; returns its diff_id and descriptor.
async fn push_layer(
    ctx: &Context,
    store: &Store,
    up: &Uploader,
    layer: &LayerRef,
    candidates: &[Candidate],
    docker_family: bool,
    events: &(dyn Fn(PushEvent) + Sync),
) -> Result<(String, Pushed), PushError> {
    let id = layer_id(&layer.diff_id);
    let done = |c: &Candidate, state: PushState| {
        events(PushEvent::Layer {
            id: id.clone(),
            state,
        });
        Ok((
            layer.diff_id.clone(),
            Pushed {
                digest: c.digest.clone(),
                media_type: c.media_type.clone(),
                size: c.size,
            },
        ))
    };
    for c in candidates {
        if up.blob_exists(&c.digest).await? {
            return done(c, PushState::AlreadyExists);
        }
    }
    let mut session: Option<String> = None;
    let attempts = candidates
        .iter()
        .flat_map(|c| c.sources.iter().map(move |from| (c, from)))
        .take(MAX_MOUNT_ATTEMPTS);
    for (c, from) in attempts {
        match up.mount(&c.digest, from).await? {
            Mount::Mounted => {
                if let Some(old) = session.take() {
                    up.cancel_upload(&old).await;
                }
                return done(c, PushState::MountedFrom(from.clone()));
            }
            Mount::Upload(location) => {
                // Not mounted: the registry opened a normal upload session instead.
                if let Some(old) = session.replace(location) {
                    up.cancel_upload(&old).await;
                }
            }
        }
    }
    let info = store
        .layer_info(&layer.diff_id)?
        .ok_or_else(|| PushError::Layer {
            diff_id: layer.diff_id.clone(),
            reason: "the layer is missing from the store".into(),
        })?;
    if !info.tar_split_exact {
        return Err(PushError::Layer {
            diff_id: layer.diff_id.clone(),
            reason: "its tar cannot be rebuilt byte for byte (the layer has duplicate entries), \
                     and the registry has none of its known blobs"
                .into(),
        });
    }
    let location = match session {
        Some(l) => l,
        None => up.start_upload().await?,
    };
    let (digest, size) = upload_layer(ctx, store, up, layer, location, &id, events).await?;
    events(PushEvent::Layer {
        id,
        state: PushState::Pushed,
    });
    Ok((
        layer.diff_id.clone(),
        Pushed {
            digest,
            media_type: if docker_family {
                DOCKER_LAYER_GZIP
            } else {
                OCI_LAYER_GZIP
            }
            .to_string(),
            size,
        },
    ))
}

/// Where the layer's exact tar comes from.
enum TarSource {
    /// Read in this process (root: every file is readable).
    InProcess {
        layer_dir: PathBuf,
        tar_split: PathBuf,
    },
    /// From `berth internal layer-tar` in the store's user namespace (rootless).
    Helper(std::process::Child),
}

/// Compresses the layer in a blocking thread while the upload streams it.
async fn upload_layer(
    ctx: &Context,
    store: &Store,
    up: &Uploader,
    layer: &LayerRef,
    location: String,
    id: &str,
    events: &(dyn Fn(PushEvent) + Sync),
) -> Result<(String, u64), PushError> {
    let layer_err = |reason: String| PushError::Layer {
        diff_id: layer.diff_id.clone(),
        reason,
    };
    let dir = store.layer_dir(&layer.diff_id)?;
    let tar_split = dir.join("tar-split.zst");
    let total = {
        let f = std::fs::File::open(&tar_split)
            .map_err(|e| layer_err(format!("{}: {e}", tar_split.display())))?;
        tarsplit::inspect(io::BufReader::new(f))
            .map_err(|e| layer_err(e.to_string()))?
            .tar_size
    };
    let source = if ctx.paths.rootless {
        // The archive helper's form: the store's layer dir (diff/ and tar-split.zst).
        let args: Vec<std::ffi::OsString> = vec!["layer-tar".into(), dir.clone().into_os_string()];
        let paths = ctx.paths.clone();
        let mapping = ctx.id_mapping()?.cloned();
        let child = tokio::task::spawn_blocking(move || {
            userns::spawn_helper(&paths, mapping.as_ref(), args)
        })
        .await
        .map_err(|e| PushError::Internal(e.to_string()))??;
        TarSource::Helper(child)
    } else {
        TarSource::InProcess {
            layer_dir: dir.join("diff"),
            tar_split,
        }
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(8);
    let counter = Arc::new(AtomicU64::new(0));
    let job = {
        let counter = counter.clone();
        tokio::task::spawn_blocking(move || compress(source, tx, counter))
    };
    events(PushEvent::Layer {
        id: id.to_string(),
        state: PushState::Pushing,
    });

    // Small blobs: one PUT. Otherwise one streamed PATCH, then the closing PUT.
    let mut head: Vec<Bytes> = Vec::new();
    let mut head_len = 0usize;
    let mut ended = false;
    loop {
        match rx.recv().await {
            Some(Ok(b)) => {
                head_len += b.len();
                head.push(b);
                if head_len >= MONOLITHIC_LIMIT {
                    break;
                }
            }
            Some(Err(_)) => break,
            None => {
                ended = true;
                break;
            }
        }
    }
    let result_of_job = |r: Result<Result<(String, u64), String>, tokio::task::JoinError>| {
        r.map_err(|e| PushError::Internal(e.to_string()))?
            .map_err(layer_err)
    };
    if ended {
        let (digest, size) = result_of_job(job.await)?;
        let mut all = Vec::with_capacity(head_len);
        for b in head {
            all.extend_from_slice(&b);
        }
        up.put_blob(&location, &digest, Bytes::from(all)).await?;
        events(PushEvent::Progress {
            id: id.to_string(),
            current: total,
            total,
        });
        return Ok((digest, size));
    }
    let rest = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let body = futures::stream::iter(head.into_iter().map(Ok)).chain(rest);
    let patch = up.patch_stream(&location, reqwest::Body::wrap_stream(body));
    let ticker = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            events(PushEvent::Progress {
                id: id.to_string(),
                current: counter.load(Ordering::Relaxed),
                total,
            });
        }
    };
    let patched = tokio::select! {
        r = patch => r,
        _ = ticker => unreachable!("the ticker never ends"),
    };
    // The compressor's error explains a failed upload better than the broken request.
    let (digest, size) = result_of_job(job.await)?;
    let location = patched?;
    up.finish_upload(&location, &digest).await?;
    events(PushEvent::Progress {
        id: id.to_string(),
        current: total,
        total,
    });
    Ok((digest, size))
}

/// Hands compressed bytes to the upload in chunks, hashing them on the way.
struct ChunkSink {
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    hasher: Sha256,
    size: u64,
}

impl ChunkSink {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.hasher.update(data);
        self.size += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts the uncompressed bytes for the progress bar.
struct Counting<W> {
    inner: W,
    counter: Arc<AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Feeds the compressor in blocks of one size, whatever sizes it is given:
/// the compressed bytes then depend on the tar alone, not on how it was read
/// (in-process or from the helper's pipe), so the same layer always becomes
/// the same blob.
struct Blocks<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Write for Blocks<W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK {
                self.inner.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Blocks<W> {
    fn finish(mut self) -> io::Result<W> {
        self.inner.write_all(&self.buf)?;
        Ok(self.inner)
    }
}

/// A gzip writer that does not spend time on what does not compress.
///
/// Deflate at level 1 still looks for matches in every byte; on random data
/// (already compressed files, encrypted blobs: common in images) that is all
/// its work and buys nothing. This writer watches what each block of input
/// came to: when a block shrinks by less than [`INCOMPRESSIBLE`], the next
/// ones are written as stored deflate blocks (a copy), and one block in every
/// [`PROBE_EVERY`] is compressed again to see whether the data changed
/// (deflate is reset first, so it never refers back into bytes it did not
/// see). The result is one ordinary gzip member (header, raw deflate, CRC-32
/// and size). Decisions depend only on the input blocks, which [`Blocks`]
/// makes a fixed size, so the same tar always gives the same blob.
struct AdaptiveGz<W: Write> {
    out: W,
    z: flate2::Compress,
    crc: flate2::Crc,
    buf: Vec<u8>,
    stored: bool,
    /// Blocks since the data last compressed.
    blocks_stored: u32,
}

/// A block that keeps more than this share of its size is not worth compressing.
const INCOMPRESSIBLE: f64 = 0.97;
/// While storing, one block in this many is compressed to see whether the data changed.
const PROBE_EVERY: u32 = 16;

impl<W: Write> AdaptiveGz<W> {
    fn new(mut out: W) -> io::Result<AdaptiveGz<W>> {
        // gzip header: deflate, no flags, mtime 0, no extra flags, OS unknown.
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(AdaptiveGz {
            out,
            z: flate2::Compress::new(flate2::Compression::new(GZIP_LEVEL), false),
            crc: flate2::Crc::new(),
            buf: vec![0u8; CHUNK + 4096],
            stored: false,
            blocks_stored: 0,
        })
    }

    /// Runs deflate over `input` with `flush`, writing what comes out.
    fn deflate(&mut self, mut input: &[u8], flush: flate2::FlushCompress) -> io::Result<()> {
        loop {
            let (in0, out0) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .compress(input, &mut self.buf, flush)
                .map_err(io::Error::other)?;
            let used = (self.z.total_in() - in0) as usize;
            let made = (self.z.total_out() - out0) as usize;
            input = &input[used..];
            self.out.write_all(&self.buf[..made])?;
            let done = match flush {
                flate2::FlushCompress::Finish => status == flate2::Status::StreamEnd,
                // More output may be pending while the buffer came back full.
                _ => input.is_empty() && made < self.buf.len(),
            };
            if done {
                return Ok(());
            }
        }
    }

    /// Writes `data` as stored deflate blocks. The stream is byte-aligned here:
    /// every deflate call ends with a sync flush.
    fn stored_blocks(&mut self, data: &[u8]) -> io::Result<()> {
        for part in data.chunks(0xffff) {
            let [lo, hi] = (part.len() as u16).to_le_bytes();
            // BFINAL 0, BTYPE 00, padded to the byte; LEN and its complement.
            self.out.write_all(&[0, lo, hi, !lo, !hi])?;
            self.out.write_all(part)?;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        // The final (empty) block refers to nothing, whatever deflate last saw.
        self.deflate(&[], flate2::FlushCompress::Finish)?;
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.out)
    }
}

impl<W: Write> Write for AdaptiveGz<W> {
    /// Each call is one block (see [`Blocks`]).
    fn write(&mut self, block: &[u8]) -> io::Result<usize> {
        if block.is_empty() {
            return Ok(0);
        }
        self.crc.update(block);
        let probing = self.stored && self.blocks_stored.is_multiple_of(PROBE_EVERY);
        if self.stored && !probing {
            self.stored_blocks(block)?;
            self.blocks_stored += 1;
            return Ok(block.len());
        }
        if probing {
            // Deflate did not see the stored bytes: it must not refer back into them.
            self.z.reset();
        }
        let out0 = self.z.total_out();
        // A sync flush per block (5 bytes per 256 KiB) makes the measure exact and
        // leaves the stream byte-aligned for stored blocks.
        self.deflate(block, flate2::FlushCompress::Sync)?;
        let ratio = (self.z.total_out() - out0) as f64 / block.len() as f64;
        if ratio > INCOMPRESSIBLE {
            self.stored = true;
            self.blocks_stored += 1;
        } else {
            self.stored = false;
            self.blocks_stored = 0;
        }
        Ok(block.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Rebuilds and gzips the layer into `tx`; returns the blob's digest and size.
fn compress(
    source: TarSource,
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    counter: Arc<AtomicU64>,
) -> Result<(String, u64), String> {
    let sink = ChunkSink {
        tx: tx.clone(),
        buf: Vec::with_capacity(CHUNK),
        hasher: Sha256::new(),
        size: 0,
    };
    let gz = match AdaptiveGz::new(sink) {
        Ok(gz) => gz,
        Err(e) => return Err(e.to_string()),
    };
    let blocks = Blocks {
        inner: gz,
        buf: Vec::with_capacity(CHUNK),
    };
    let mut w = Counting {
        inner: blocks,
        counter,
    };
    let fail = |tx: &tokio::sync::mpsc::Sender<io::Result<Bytes>>, e: String| {
        // End the request body with an error so the registry never sees a complete blob.
        let _ = tx.blocking_send(Err(io::Error::other(e.clone())));
        e
    };
    let produced: Result<(), String> = match source {
        TarSource::InProcess {
            layer_dir,
            tar_split,
        } => std::fs::File::open(&tar_split)
            .map_err(|e| format!("{}: {e}", tar_split.display()))
            .and_then(|f| {
                tarsplit::reassemble(io::BufReader::new(f), &layer_dir, &mut w)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }),
        TarSource::Helper(mut child) => {
            drop(child.stdin.take());
            let mut out = child.stdout.take().expect("piped stdout");
            let copied = copy(&mut out, &mut w);
            drop(out);
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            let status = child.wait().map_err(|e| e.to_string())?;
            if !status.success() {
                let msg = stderr.trim();
                Err(if msg.is_empty() {
                    format!("layer-tar helper failed ({status})")
                } else {
                    msg.strip_prefix("Error: ").unwrap_or(msg).to_string()
                })
            } else {
                copied
            }
        }
    };
    if let Err(e) = produced {
        return Err(fail(&tx, e));
    }
    let mut sink = match w.inner.finish().and_then(|gz| gz.finish()) {
        Ok(s) => s,
        Err(e) => return Err(fail(&tx, e.to_string())),
    };
    if let Err(e) = sink.send() {
        return Err(e.to_string());
    }
    let digest = format!("sha256:{}", hex::encode(sink.hasher.finalize_reset()));
    Ok((digest, sink.size))
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> Result<(), String> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(&buf[..n]).map_err(|e| e.to_string())?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A manifest for layers some of which were recompressed: the stored one with
/// those descriptors replaced (same media type), or a new one of docker's
/// schema 2 when the image has none.
fn build_manifest(
    original: Option<&[u8]>,
    image: &ImageRecord,
    config_size: u64,
    pushed: &std::collections::HashMap<String, Pushed>,
) -> Result<(Vec<u8>, String), PushError> {
    let descriptor = |p: &Pushed| {
        let mut m = serde_json::Map::new();
        m.insert("mediaType".into(), Value::from(p.media_type.clone()));
        m.insert("size".into(), Value::from(p.size));
        m.insert("digest".into(), Value::from(p.digest.clone()));
        Value::Object(m)
    };
    let layers_of = |old: Option<&Vec<Value>>| -> Vec<Value> {
        image
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let p = &pushed[&l.diff_id];
                match old.and_then(|o| o.get(i)) {
                    // Unchanged descriptors keep every field they had (annotations, …).
                    Some(v) if v.get("digest").and_then(|d| d.as_str()) == Some(&p.digest) => {
                        v.clone()
                    }
                    _ => descriptor(p),
                }
            })
            .collect()
    };
    let parsed: Option<Value> = original.and_then(|b| serde_json::from_slice(b).ok());
    let (value, media_type) = match parsed {
        Some(mut v) if v.get("layers").is_some_and(|l| l.is_array()) => {
            let old = v.get("layers").and_then(|l| l.as_array()).cloned();
            v["layers"] = Value::Array(layers_of(old.as_ref()));
            (v, image.manifest_media_type.clone())
        }
        _ => {
            let mut m = serde_json::Map::new();
            m.insert("schemaVersion".into(), Value::from(2));
            m.insert("mediaType".into(), Value::from(DOCKER_MANIFEST));
            let mut c = serde_json::Map::new();
            c.insert(
                "mediaType".into(),
                Value::from("application/vnd.docker.container.image.v1+json"),
            );
            c.insert("size".into(), Value::from(config_size));
            c.insert("digest".into(), Value::from(image.id.clone()));
            m.insert("config".into(), Value::Object(c));
            m.insert("layers".into(), Value::Array(layers_of(None)));
            (Value::Object(m), DOCKER_MANIFEST.to_string())
        }
    };
    let mut out = Vec::new();
    if media_type == DOCKER_MANIFEST {
        // As docker writes schema 2 manifests: three-space indentation.
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        serde::Serialize::serialize(&value, &mut ser)
            .map_err(|e| PushError::Internal(e.to_string()))?;
    } else {
        out = serde_json::to_vec(&value).map_err(|e| PushError::Internal(e.to_string()))?;
    }
    Ok((out, media_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn record(layers: &[(&str, &str)]) -> ImageRecord {
        ImageRecord {
            id: format!("sha256:{}", "c".repeat(64)),
            repo_tags: vec![],
            repo_digests: vec![],
            manifest_digest: String::new(),
            manifest_media_type: OCI_MANIFEST.into(),
            layers: layers
                .iter()
                .map(|(d, b)| LayerRef {
                    diff_id: d.to_string(),
                    digest: b.to_string(),
                    media_type: "application/vnd.oci.image.layer.v1.tar+zstd".into(),
                    compressed_size: 5,
                })
                .collect(),
            size: 0,
            added: Utc::now(),
            last_tag_time: None,
        }
    }

    #[test]
    fn rebuilt_manifests_replace_only_changed_layers() {
        let image = record(&[("d1", "b1"), ("d2", "b2")]);
        let original = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:cc","size":3},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"b1","size":5,"annotations":{"a":"b"}},{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"b2","size":5}]}"#;
        let mut pushed = std::collections::HashMap::new();
        pushed.insert(
            "d1".to_string(),
            Pushed {
                digest: "b1".into(),
                media_type: "application/vnd.oci.image.layer.v1.tar+zstd".into(),
                size: 5,
            },
        );
        pushed.insert(
            "d2".to_string(),
            Pushed {
                digest: "n2".into(),
                media_type: OCI_LAYER_GZIP.into(),
                size: 9,
            },
        );
        let (bytes, mt) = build_manifest(Some(original), &image, 3, &pushed).unwrap();
        assert_eq!(mt, OCI_MANIFEST);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["config"]["digest"], "sha256:cc");
        assert_eq!(v["layers"][0]["annotations"]["a"], "b");
        assert_eq!(v["layers"][1]["digest"], "n2");
        assert_eq!(v["layers"][1]["mediaType"], OCI_LAYER_GZIP);
        assert_eq!(v["layers"][1]["size"], 9);
        // Key order as written (mediaType first), as registries and docker show it.
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with(r#"{"schemaVersion":2,"mediaType""#),
            "{text}"
        );

        let (bytes, mt) = build_manifest(None, &image, 3, &pushed).unwrap();
        assert_eq!(mt, DOCKER_MANIFEST);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["config"]["size"], 3);
        assert_eq!(v["layers"].as_array().unwrap().len(), 2);
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains("\n   \"schemaVersion\"")
        );
    }

    #[test]
    fn the_same_tar_compresses_to_the_same_blob_however_it_is_read() {
        let mut data: Vec<u8> = (0..2_000_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 & 0x3f)
            .collect();
        data.extend(noise(3_000_000, 7));
        data.extend_from_slice(&data.clone()[..1_000_000]);
        let gz = |pieces: &[usize]| {
            let mut w = Blocks {
                inner: AdaptiveGz::new(Vec::new()).unwrap(),
                buf: Vec::new(),
            };
            let mut rest = &data[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = pieces[i % pieces.len()].min(rest.len());
                w.write_all(&rest[..n]).unwrap();
                rest = &rest[n..];
                i += 1;
            }
            w.finish().unwrap().finish().unwrap()
        };
        let a = gz(&[4096]);
        // (zlib-rs alone gives different bytes for these two feedings.)
        assert_eq!(a, gz(&[1, 65536, 333, 1 << 20]));
        assert_eq!(a, gz(&[data.len()]));
    }

    /// Bytes no compressor can shrink (xorshift).
    fn noise(len: usize, mut x: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn incompressible_stretches_are_stored_and_the_rest_compressed() {
        use std::io::Read as _;
        let text: Vec<u8> = b"berth pushes layers; "
            .iter()
            .cycle()
            .take(6 << 20)
            .copied()
            .collect();
        let random = noise(12 << 20, 0x9e3779b97f4a7c15);
        let mut data = text.clone();
        data.extend_from_slice(&random);
        data.extend_from_slice(&text);
        let mut w = Blocks {
            inner: AdaptiveGz::new(Vec::new()).unwrap(),
            buf: Vec::new(),
        };
        w.write_all(&data).unwrap();
        let gz = w.finish().unwrap().finish().unwrap();
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == data, "round trip");
        // The noise costs about its size (stored), the text next to nothing: the
        // second text part was compressed again after the noise (a probe found it).
        assert!(gz.len() < random.len() + (1 << 20), "{}", gz.len());
        assert!(gz.len() > random.len(), "{}", gz.len());
        let noise_only = {
            let mut w = Blocks {
                inner: AdaptiveGz::new(Vec::new()).unwrap(),
                buf: Vec::new(),
            };
            w.write_all(&random).unwrap();
            w.finish().unwrap().finish().unwrap().len()
        };
        assert!(
            gz.len() < noise_only + 300 * 1024,
            "text after noise compressed again: {} vs {}",
            gz.len(),
            noise_only
        );
        // gzip(1) reads it too.
        let mut child = std::process::Command::new("gzip")
            .args(["-d", "-c"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || stdin.write_all(&gz).unwrap());
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        assert!(out.status.success());
        assert!(out.stdout == data, "gzip -d round trip");
    }

    #[test]
    fn compressed_stream_is_valid_gzip_with_its_digest() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        // A tar-split needs an unpacked layer; the gzip side is tested through a helper-less
        // pipe instead: feed bytes through the same writer chain.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let sink = ChunkSink {
            tx,
            buf: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
        };
        let counter = Arc::new(AtomicU64::new(0));
        let mut w = Counting {
            inner: Blocks {
                inner: AdaptiveGz::new(sink).unwrap(),
                buf: Vec::new(),
            },
            counter: counter.clone(),
        };
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        w.write_all(&data).unwrap();
        let mut sink = w.inner.finish().unwrap().finish().unwrap();
        sink.send().unwrap();
        let digest = format!("sha256:{}", hex::encode(sink.hasher.finalize_reset()));
        drop(sink);
        let mut blob = Vec::new();
        while let Ok(Ok(b)) = rx.try_recv() {
            blob.extend_from_slice(&b);
        }
        assert_eq!(sha256_digest(&blob), digest);
        assert_eq!(counter.load(Ordering::Relaxed), data.len() as u64);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&blob[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        drop(dir);
    }
}

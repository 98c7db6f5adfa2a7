//! Layers and images made locally (commit, import, load, build): storing a
//! layer from a tar stream, writing an image record, and reading a stored
//! layer back as its exact tar stream.
//!
//! - [`store_layer`]: a tar stream (uncompressed, gzip or zstd) → a layer in
//!   the store, through the same `berth internal unpack` helper as a pull
//!   (rootless: in a user namespace with the caller's full map; hostile
//!   archives refused by [`super::unpack`]). The stream is unpacked into a
//!   private temp dir under `layers/`, and renamed into place under the
//!   layer's lock only once its diff_id is known; a layer already present is
//!   kept and the copy discarded; on any error nothing is left behind.
//! - [`write_image`]: an image config (whose `rootfs.diff_ids` name stored
//!   layers) → config blob + a generated OCI manifest (uncompressed layers,
//!   digest = diff_id) + an `images.json` record with its tags.
//! - [`open_tar`]: a stored layer → its original tar stream, rebuilt byte for
//!   byte from the tar-split by `berth internal layer-tar` (rootless in the
//!   user namespace, which can read every file of the layer).
//!
//! Hold [`Store::gc_shared`] from before the first [`store_layer`] until
//! [`write_image`] has returned, so an `rmi`/prune running meanwhile cannot
//! delete a fresh layer that no image uses yet.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdout};

use chrono::Utc;
use serde_json::{Value, json};

use crate::context::Context;
use crate::image::pull::{UnpackReport, remove_trees_blocking};
use crate::image::store::{ImageRecord, LayerInfo, LayerRef, Store, StoreError, sha256_digest};
use crate::image::tarsplit;
use crate::userns::{self, UsernsError};

/// Media type of the uncompressed layers of a locally made image.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Userns(#[from] UsernsError),
    /// The tar stream was refused or could not be unpacked.
    #[error("invalid layer: {0}")]
    Unpack(String),
    #[error("layer content has digest {actual} but {expected} was expected")]
    DiffIdMismatch { expected: String, actual: String },
    #[error("layer {0} is not in the store")]
    Missing(String),
    #[error(
        "layer {0} cannot be reproduced byte for byte (its tar has duplicate entries); pull the image again"
    )]
    NotExact(String),
    #[error("layer {diff_id}: {message}")]
    Read { diff_id: String, message: String },
    #[error("invalid image config: {0}")]
    BadConfig(String),
    #[error("{0}")]
    Io(String),
}

/// A layer [`store_layer`] stored (or found already stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayer {
    /// `sha256:` of the uncompressed tar stream.
    pub diff_id: String,
    /// Bytes of file content (docker's layer size).
    pub size: u64,
    /// Length of the uncompressed tar stream.
    pub tar_size: u64,
    /// The store had it already; the input was only used to compute its digest.
    pub existed: bool,
}

/// Stores the layer read from `tar` (uncompressed, gzip or zstd; read to its
/// end). With `expected` (a diff_id): a layer already stored is returned
/// without reading `tar`, and content with another digest is an error.
/// Blocking; runs a helper process. See the module doc about the gc lock.
pub fn store_layer<R: Read>(
    ctx: &Context,
    mut tar: R,
    expected: Option<&str>,
) -> Result<StoredLayer, LayerError> {
    let store = ctx.store()?;
    if let Some(diff_id) = expected {
        crate::image::store::digest_hex(diff_id)?;
        if let Some(info) = store.layer_info(diff_id)? {
            return Ok(StoredLayer {
                diff_id: diff_id.to_string(),
                size: info.size,
                tar_size: tar_size(store, diff_id)?,
                existed: true,
            });
        }
    }
    let tmp = store.root().join("layers").join(format!(
        ".new-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let mapping = ctx.id_mapping()?.cloned();
    let cleanup = |tmp: &Path| {
        let _ = remove_trees_blocking(&ctx.paths, mapping.as_ref(), &[tmp.to_path_buf()]);
    };
    let diff = tmp.join("diff");
    std::fs::create_dir_all(&diff)
        .map_err(|e| LayerError::Io(format!("{}: {e}", diff.display())))?;
    let report = match unpack_into(ctx, mapping.as_ref(), &mut tar, &tmp) {
        Ok(r) => r,
        Err(e) => {
            cleanup(&tmp);
            return Err(e);
        }
    };
    if let Some(expected) = expected
        && report.diff_id != expected
    {
        cleanup(&tmp);
        return Err(LayerError::DiffIdMismatch {
            expected: expected.to_string(),
            actual: report.diff_id,
        });
    }
    let result = (|| {
        let info = tarsplit::inspect(
            std::fs::File::open(tmp.join("tar-split.zst"))
                .map_err(|e| LayerError::Io(format!("tar-split: {e}")))?,
        )
        .map_err(|e| LayerError::Io(e.to_string()))?;
        let lock = store.lock_layer(&report.diff_id)?;
        if lock.done() {
            return Ok((info.tar_size, true));
        }
        if lock.leftover() {
            remove_trees_blocking(
                &ctx.paths,
                mapping.as_ref(),
                &[lock.partial_dir().to_path_buf()],
            )
            .map_err(|e| LayerError::Io(e.to_string()))?;
        }
        std::fs::rename(&tmp, lock.partial_dir())
            .map_err(|e| LayerError::Io(format!("{}: {e}", lock.partial_dir().display())))?;
        lock.commit(&LayerInfo {
            diff_id: report.diff_id.clone(),
            size: report.size,
            tar_split_exact: report.tar_split_exact,
        })?;
        Ok((info.tar_size, false))
    })();
    match result {
        Ok((tar_size, existed)) => {
            if existed {
                cleanup(&tmp);
            }
            Ok(StoredLayer {
                diff_id: report.diff_id,
                size: report.size,
                tar_size,
                existed,
            })
        }
        Err(e) => {
            cleanup(&tmp);
            Err(e)
        }
    }
}

fn unpack_into(
    ctx: &Context,
    mapping: Option<&userns::IdMapping>,
    tar: &mut dyn Read,
    tmp: &Path,
) -> Result<UnpackReport, LayerError> {
    let mut args: Vec<OsString> = vec![
        "unpack".into(),
        "--dest".into(),
        tmp.join("diff").into_os_string(),
        "--tar-split".into(),
        tmp.join("tar-split.zst").into_os_string(),
    ];
    if ctx.paths.rootless {
        args.push("--rootless".into());
    }
    let mut child = userns::spawn_helper(&ctx.paths, mapping, args)?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // The report and the errors are read on threads so that a helper that
    // stops reading (a refused archive) never blocks us on a full pipe.
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let copied = io::copy(tar, &mut stdin);
    drop(stdin);
    let status = child.wait().map_err(|e| LayerError::Io(e.to_string()))?;
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    if !status.success() {
        let msg = err.trim();
        let msg = msg.strip_prefix("Error: ").unwrap_or(msg);
        return Err(LayerError::Unpack(if msg.is_empty() {
            format!("unpack helper failed ({status})")
        } else {
            msg.to_string()
        }));
    }
    if let Err(e) = copied {
        // The helper took all it wanted; the input itself failed.
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(LayerError::Io(format!("reading the layer: {e}")));
        }
        return Err(LayerError::Unpack("unpack helper stopped reading".into()));
    }
    serde_json::from_str(out.trim())
        .map_err(|e| LayerError::Io(format!("unpack helper report: {e}: {out:?}")))
}

/// Length of a stored layer's tar stream (read from its tar-split).
pub fn tar_size(store: &Store, diff_id: &str) -> Result<u64, LayerError> {
    let path = store.layer_dir(diff_id)?.join("tar-split.zst");
    let f = std::fs::File::open(&path).map_err(|_| LayerError::Missing(diff_id.to_string()))?;
    tarsplit::inspect(io::BufReader::new(f))
        .map(|i| i.tar_size)
        .map_err(|e| LayerError::Read {
            diff_id: diff_id.to_string(),
            message: e.to_string(),
        })
}

/// The diff_ids a config names (`rootfs.diff_ids`), validated.
pub fn config_diff_ids(config: &Value) -> Result<Vec<String>, LayerError> {
    let ids = config
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::as_array)
        .ok_or_else(|| LayerError::BadConfig("no rootfs.diff_ids".into()))?;
    ids.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| LayerError::BadConfig("a diff_id is not a string".into()))?;
            crate::image::store::digest_hex(s)?;
            Ok(s.to_string())
        })
        .collect()
}

/// Writes an image to the store: `config` (the exact bytes of its config
/// JSON, whose `rootfs.diff_ids` must all be stored layers) as a blob, a
/// generated OCI manifest, and the record, tagged with `tags` (fully
/// qualified `registry/repo:tag`, each moved from whichever image had it).
/// Returns the image ID (`sha256:` of `config`).
pub fn write_image(store: &Store, config: &[u8], tags: &[String]) -> Result<String, LayerError> {
    let parsed: Value =
        serde_json::from_slice(config).map_err(|e| LayerError::BadConfig(e.to_string()))?;
    if !parsed.is_object() {
        return Err(LayerError::BadConfig("not a JSON object".into()));
    }
    let diff_ids = config_diff_ids(&parsed)?;
    let id = sha256_digest(config);
    let mut layers = Vec::new();
    let mut size = 0u64;
    let mut descs = Vec::new();
    for d in &diff_ids {
        let info = store
            .layer_info(d)?
            .ok_or_else(|| LayerError::Missing(d.clone()))?;
        let tsize = tar_size(store, d)?;
        size += info.size;
        layers.push(LayerRef {
            diff_id: d.clone(),
            digest: d.clone(),
            media_type: LAYER_MEDIA_TYPE.into(),
            compressed_size: tsize,
        });
        descs.push(json!({"mediaType": LAYER_MEDIA_TYPE, "digest": d, "size": tsize}));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": id, "size": config.len()},
        "layers": descs,
    });
    let manifest = serde_json::to_vec(&manifest).expect("manifest serialises");
    let manifest_digest = sha256_digest(&manifest);
    store.write_blob(&id, config)?;
    store.write_blob(&manifest_digest, &manifest)?;
    let record = ImageRecord {
        id: id.clone(),
        repo_tags: vec![],
        repo_digests: vec![],
        manifest_digest,
        manifest_media_type: MANIFEST_MEDIA_TYPE.into(),
        layers,
        size,
        added: Utc::now(),
        last_tag_time: None,
    };
    store.update_images(|idx| {
        let now = Utc::now();
        if tags.is_empty() {
            idx.add(record.clone(), None, now);
        }
        for t in tags {
            idx.add(record.clone(), Some(t), now);
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(id)
}

/// A stored layer's tar stream, rebuilt by a helper. Reading it to the end
/// checks the helper's outcome: a failed reassembly is an error at EOF, so a
/// reader that got `Ok(0)` got the exact stream.
pub struct LayerTar {
    diff_id: String,
    child: Option<Child>,
    stdout: ChildStdout,
    /// Length of the stream.
    pub size: u64,
}

/// Opens the tar stream of the stored layer `diff_id`.
pub fn open_tar(ctx: &Context, diff_id: &str) -> Result<LayerTar, LayerError> {
    let store = ctx.store()?;
    let info = store
        .layer_info(diff_id)?
        .ok_or_else(|| LayerError::Missing(diff_id.to_string()))?;
    if !info.tar_split_exact {
        return Err(LayerError::NotExact(diff_id.to_string()));
    }
    let size = tar_size(store, diff_id)?;
    let dir = store.layer_dir(diff_id)?;
    let args: Vec<OsString> = vec!["layer-tar".into(), dir.into_os_string()];
    let mut child = userns::spawn_helper(&ctx.paths, ctx.id_mapping()?, args)?;
    drop(child.stdin.take());
    let stdout = child.stdout.take().expect("piped stdout");
    Ok(LayerTar {
        diff_id: diff_id.to_string(),
        child: Some(child),
        stdout,
        size,
    })
}

impl Read for LayerTar {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stdout.read(buf)?;
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
        let status = child.wait()?;
        if status.success() {
            return Ok(0);
        }
        let msg = err.trim();
        Err(io::Error::other(format!(
            "layer {}: {}",
            self.diff_id,
            msg.strip_prefix("Error: ").unwrap_or(msg)
        )))
    }
}

impl Drop for LayerTar {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The helper side of [`open_tar`]: writes the layer in `layer_dir` (a
/// store layer dir: `diff/` + `tar-split.zst`) to `out`.
pub fn write_layer_tar(layer_dir: &Path, out: impl Write) -> Result<u64, LayerError> {
    let split = layer_dir.join("tar-split.zst");
    let f = std::fs::File::open(&split)
        .map_err(|e| LayerError::Io(format!("{}: {e}", split.display())))?;
    tarsplit::reassemble(io::BufReader::new(f), &layer_dir.join("diff"), out).map_err(|e| {
        LayerError::Read {
            diff_id: layer_dir
                .file_name()
                .map(|n| format!("sha256:{}", n.to_string_lossy()))
                .unwrap_or_default(),
            message: e.to_string(),
        }
    })
}

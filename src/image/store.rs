//! The per-user image store.
//!
//! ```text
//! storage/
//!   blobs/sha256/<hex>          manifests, indexes and configs, byte for byte as pulled
//!   layers/<hex>/               one unpacked layer (hex of its diff_id), shared by every image
//!     diff/                     the layer's files, overlay-ready (whiteouts as 0/0 devices)
//!     tar-split.zst             what it takes to rebuild the exact layer tar
//!     layer.json                diff_id and size
//!   layers/<hex>.lock           held while the layer is being created
//!   layers/<hex>.partial/       a layer being created (a leftover is redone)
//!   trash/                      removed layers waiting to be deleted
//!   images.json                 image records; rewritten whole (temp + rename) under images.lock
//!   gc.lock                     shared by pulls, exclusive for deleting layers
//! ```
//!
//! Consistency rules: a layer exists once `layers/<hex>/layer.json` exists,
//! and it gets there by one `rename`. A record in `images.json` is written
//! only after all its layers and blobs exist. Layers are deleted only under
//! the exclusive gc lock, which pulls hold shared, so a pull never sees its
//! fresh layer vanish before its record is written.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("image store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("image store file {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("invalid digest {0:?}")]
    BadDigest(String),
    #[error("blob {expected} does not match its content (sha256:{actual})")]
    DigestMismatch { expected: String, actual: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The hex part of a `sha256:<hex>` digest, validated (it becomes a file name).
pub fn digest_hex(digest: &str) -> Result<&str, StoreError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| StoreError::BadDigest(digest.to_string()))?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(StoreError::BadDigest(digest.to_string()));
    }
    Ok(hex)
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// One layer of an image, as its manifest and config describe it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerRef {
    /// sha256 of the uncompressed tar: the store's key.
    pub diff_id: String,
    /// Digest of the blob as the registry serves it (compressed).
    pub digest: String,
    pub media_type: String,
    /// Size of the blob as served.
    pub compressed_size: u64,
}

/// An image the store holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageRecord {
    /// `sha256:` + hex of the config blob.
    pub id: String,
    /// Fully qualified: `docker.io/library/busybox:latest`.
    #[serde(default)]
    pub repo_tags: Vec<String>,
    /// Fully qualified: `docker.io/library/busybox@sha256:…` (the digest pulled by).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The platform manifest, kept in blobs/ for push and save.
    pub manifest_digest: String,
    pub manifest_media_type: String,
    pub layers: Vec<LayerRef>,
    /// Sum of the unpacked layers' sizes.
    pub size: u64,
    pub added: DateTime<Utc>,
    #[serde(default)]
    pub last_tag_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ImageIndexFile {
    #[serde(default)]
    pub images: Vec<ImageRecord>,
}

impl ImageIndexFile {
    pub fn find_by_id(&self, id: &str) -> Option<&ImageRecord> {
        self.images.iter().find(|i| i.id == id)
    }

    /// Removes `tag` (fully qualified) from whichever image has it.
    pub fn untag(&mut self, tag: &str) -> Option<String> {
        for image in &mut self.images {
            if let Some(pos) = image.repo_tags.iter().position(|t| t == tag) {
                image.repo_tags.remove(pos);
                return Some(image.id.clone());
            }
        }
        None
    }

    /// Records `image` (merging names into an existing record with the same id) and
    /// moves `tag` to it.
    pub fn add(&mut self, mut image: ImageRecord, tag: Option<&str>, now: DateTime<Utc>) {
        if let Some(tag) = tag {
            self.untag(tag);
        }
        match self.images.iter_mut().find(|i| i.id == image.id) {
            Some(existing) => {
                for d in image.repo_digests.drain(..) {
                    if !existing.repo_digests.contains(&d) {
                        existing.repo_digests.push(d);
                    }
                }
                if let Some(tag) = tag {
                    existing.repo_tags.push(tag.to_string());
                    existing.last_tag_time = Some(now);
                }
            }
            None => {
                if let Some(tag) = tag {
                    image.repo_tags = vec![tag.to_string()];
                    image.last_tag_time = Some(now);
                }
                self.images.push(image);
            }
        }
    }

    /// Layers (diff_ids) that some image still uses.
    pub fn layers_in_use(&self) -> BTreeSet<String> {
        self.images
            .iter()
            .flat_map(|i| i.layers.iter().map(|l| l.diff_id.clone()))
            .collect()
    }
}

/// What `layer.json` says about an unpacked layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerInfo {
    pub diff_id: String,
    /// Bytes of file content in the layer.
    pub size: u64,
    /// Whether `tar-split.zst` rebuilds the exact layer tar (push and save rely on it).
    #[serde(default = "exact_by_default")]
    pub tar_split_exact: bool,
}

fn exact_by_default() -> bool {
    true
}

pub struct Store {
    root: PathBuf,
}

/// An exclusive claim on creating one layer; released on drop.
pub struct LayerLock {
    _file: File,
    partial: PathBuf,
    final_dir: PathBuf,
}

/// A held lock file; released on drop.
pub struct LockGuard(#[allow(dead_code)] File);

impl Store {
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        for sub in ["blobs/sha256", "layers", "trash"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    // ---- blobs

    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join("blobs/sha256").join(digest_hex(digest)?))
    }

    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_ok_and(|p| p.exists())
    }

    /// Stores `bytes` under `digest`, after checking that they hash to it.
    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.blob_path(digest)?;
        let actual = sha256_digest(bytes);
        if actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest.to_string(),
                actual,
            });
        }
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, bytes)
    }

    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(digest)?;
        fs::read(&path).map_err(io_err(&path))
    }

    // ---- layers

    pub fn layer_dir(&self, diff_id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join("layers").join(digest_hex(diff_id)?))
    }

    /// The unpacked files of a layer (an overlay lower dir).
    pub fn layer_diff(&self, diff_id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.layer_dir(diff_id)?.join("diff"))
    }

    pub fn layer_info(&self, diff_id: &str) -> Result<Option<LayerInfo>, StoreError> {
        let path = self.layer_dir(diff_id)?.join("layer.json");
        match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        path,
                        message: e.to_string(),
                    })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    pub fn has_layer(&self, diff_id: &str) -> bool {
        self.layer_dir(diff_id)
            .is_ok_and(|d| d.join("layer.json").exists())
    }

    /// Takes the creation lock of a layer, waiting for another process that holds it.
    /// Blocks: call from a blocking context.
    pub fn lock_layer(&self, diff_id: &str) -> Result<LayerLock, StoreError> {
        let final_dir = self.layer_dir(diff_id)?;
        let lock_path = final_dir.with_extension("lock");
        let file = open_lock(&lock_path)?;
        file.lock().map_err(io_err(&lock_path))?;
        Ok(LayerLock {
            _file: file,
            partial: final_dir.with_extension("partial"),
            final_dir,
        })
    }

    // ---- images

    fn images_path(&self) -> PathBuf {
        self.root.join("images.json")
    }

    /// The current image records (a consistent snapshot: the file is replaced atomically).
    pub fn images(&self) -> Result<ImageIndexFile, StoreError> {
        let path = self.images_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ImageIndexFile::default()),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    /// Read-modify-write of `images.json` under its lock. `f`'s error leaves the file untouched.
    pub fn update_images<T, E>(
        &self,
        f: impl FnOnce(&mut ImageIndexFile) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let lock_path = self.root.join("images.lock");
        let lock = open_lock(&lock_path)?;
        lock.lock().map_err(io_err(&lock_path))?;
        let mut index = self.images()?;
        let out = f(&mut index)?;
        let bytes = serde_json::to_vec_pretty(&index).expect("image index serialises");
        write_atomic(&self.images_path(), &bytes)?;
        Ok(out)
    }

    /// Held (shared) by a pull from before it checks for layers until its record is written.
    pub fn gc_shared(&self) -> Result<LockGuard, StoreError> {
        let path = self.root.join("gc.lock");
        let file = open_lock(&path)?;
        file.lock_shared().map_err(io_err(&path))?;
        Ok(LockGuard(file))
    }

    /// The right to delete layers, if no pull is running.
    pub fn try_gc_exclusive(&self) -> Result<Option<LockGuard>, StoreError> {
        let path = self.root.join("gc.lock");
        let file = open_lock(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockGuard(file))),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(StoreError::Io { path, source: e }),
        }
    }

    /// Moves layers no image uses into trash/ (cheap, atomic per layer). Needs the gc lock.
    /// Returns the layers moved.
    /// `also_in_use`: diff_ids used by something other than an image (containers).
    pub fn trash_unused_layers(
        &self,
        _gc: &LockGuard,
        also_in_use: &BTreeSet<String>,
    ) -> Result<Vec<LayerInfo>, StoreError> {
        let mut in_use = self.images()?.layers_in_use();
        in_use.extend(also_in_use.iter().cloned());
        let layers = self.root.join("layers");
        let mut moved = Vec::new();
        for entry in fs::read_dir(&layers).map_err(io_err(&layers))? {
            let entry = entry.map_err(io_err(&layers))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // Locks, partial dirs and anything not named by a digest are left alone.
            if name.len() != 64 || name.contains('.') {
                continue;
            }
            let diff_id = format!("sha256:{name}");
            if in_use.contains(&diff_id) {
                continue;
            }
            let info = self.layer_info(&diff_id)?.unwrap_or(LayerInfo {
                diff_id: diff_id.clone(),
                size: 0,
                tar_split_exact: true,
            });
            let target = self
                .root
                .join("trash")
                .join(format!("{name}-{}", rand::random::<u32>()));
            fs::rename(entry.path(), &target).map_err(io_err(&target))?;
            let _ = fs::remove_file(layers.join(format!("{name}.lock")));
            moved.push(info);
        }
        Ok(moved)
    }

    /// Paths in trash/ waiting to be deleted (rootless, some need the user namespace to delete).
    pub fn trash_entries(&self) -> Result<Vec<PathBuf>, StoreError> {
        let trash = self.root.join("trash");
        let mut out = Vec::new();
        for entry in fs::read_dir(&trash).map_err(io_err(&trash))? {
            out.push(entry.map_err(io_err(&trash))?.path());
        }
        Ok(out)
    }
}

impl LayerLock {
    /// Where the layer is built: `<hex>.partial/`, emptied of any leftover from an
    /// interrupted pull (the caller removes it if it exists; see [`LayerLock::leftover`]).
    pub fn partial_dir(&self) -> &Path {
        &self.partial
    }

    /// A half-built layer left by a pull that died; the caller must delete it first.
    pub fn leftover(&self) -> bool {
        self.partial.exists()
    }

    /// Whether the layer was completed by someone else while we waited for the lock.
    pub fn done(&self) -> bool {
        self.final_dir.join("layer.json").exists()
    }

    /// Writes `layer.json` into the partial dir and renames it into place.
    pub fn commit(self, info: &LayerInfo) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(info).expect("layer info serialises");
        let meta = self.partial.join("layer.json");
        fs::write(&meta, bytes).map_err(io_err(&meta))?;
        fs::rename(&self.partial, &self.final_dir).map_err(io_err(&self.final_dir))
    }
}

fn open_lock(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path))
}

/// Replaces `path` with `bytes` atomically (temp file in the same dir + rename).
/// No fsync: a crash may lose the new content but never leaves a torn file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().expect("path has a parent");
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("f"),
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// Whether a directory of an unpacked layer is marked opaque for overlay
/// (it hides the same directory in the layers below).
pub fn has_opaque_marker(dir: &Path) -> bool {
    let mut buf = [0u8; 4];
    matches!(rustix::fs::getxattr(dir, "user.overlay.opaque", &mut buf), Ok(n) if n >= 1 && buf[0] == b'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, layers: &[&str]) -> ImageRecord {
        ImageRecord {
            id: id.into(),
            repo_tags: vec![],
            repo_digests: vec![],
            manifest_digest: String::new(),
            manifest_media_type: String::new(),
            layers: layers
                .iter()
                .map(|l| LayerRef {
                    diff_id: l.to_string(),
                    digest: String::new(),
                    media_type: String::new(),
                    compressed_size: 0,
                })
                .collect(),
            size: 0,
            added: Utc::now(),
            last_tag_time: None,
        }
    }

    #[test]
    fn digests_are_validated_before_becoming_paths() {
        assert!(digest_hex("sha256:../../etc/passwd").is_err());
        assert!(digest_hex("md5:abc").is_err());
        assert!(digest_hex(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(digest_hex(&format!("sha256:{}", "a".repeat(64))).is_ok());
    }

    #[test]
    fn tags_move_between_images() {
        let mut idx = ImageIndexFile::default();
        let now = Utc::now();
        idx.add(
            record("sha256:a", &["l1"]),
            Some("docker.io/library/x:1"),
            now,
        );
        idx.add(
            record("sha256:b", &["l2"]),
            Some("docker.io/library/x:1"),
            now,
        );
        assert!(idx.find_by_id("sha256:a").unwrap().repo_tags.is_empty());
        assert_eq!(
            idx.find_by_id("sha256:b").unwrap().repo_tags,
            ["docker.io/library/x:1"]
        );
        idx.add(
            record("sha256:b", &["l2"]),
            Some("docker.io/library/x:2"),
            now,
        );
        assert_eq!(idx.images.len(), 2);
        assert_eq!(idx.find_by_id("sha256:b").unwrap().repo_tags.len(), 2);
        assert_eq!(
            idx.layers_in_use().into_iter().collect::<Vec<_>>(),
            ["l1", "l2"]
        );
    }

    #[test]
    fn blobs_are_checked_against_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let d = sha256_digest(b"hello");
        store.write_blob(&d, b"hello").unwrap();
        assert_eq!(store.read_blob(&d).unwrap(), b"hello");
        assert!(matches!(
            store.write_blob(&d, b"evil"),
            Err(StoreError::DigestMismatch { .. })
        ));
    }

    #[test]
    fn unused_layers_go_to_trash_and_used_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let used = format!("sha256:{}", "1".repeat(64));
        let unused = format!("sha256:{}", "2".repeat(64));
        for l in [&used, &unused] {
            let lock = store.lock_layer(l).unwrap();
            fs::create_dir_all(lock.partial_dir().join("diff")).unwrap();
            lock.commit(&LayerInfo {
                diff_id: l.clone(),
                size: 1,
                tar_split_exact: true,
            })
            .unwrap();
        }
        store
            .update_images(|idx| {
                idx.add(record("sha256:x", &[&used]), None, Utc::now());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let gc = store.try_gc_exclusive().unwrap().unwrap();
        let moved: Vec<String> = store
            .trash_unused_layers(&gc, &BTreeSet::new())
            .unwrap()
            .into_iter()
            .map(|l| l.diff_id)
            .collect();
        assert_eq!(moved, vec![unused.clone()]);
        assert!(store.has_layer(&used));
        assert!(!store.has_layer(&unused));
        assert_eq!(store.trash_entries().unwrap().len(), 1);
    }

    #[test]
    fn gc_waits_for_pulls() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let pull = store.gc_shared().unwrap();
        assert!(store.try_gc_exclusive().unwrap().is_none());
        drop(pull);
        assert!(store.try_gc_exclusive().unwrap().is_some());
    }
}

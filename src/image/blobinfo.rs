//! The blob info cache: for each layer (by diff_id), the compressed blobs
//! known to hold it and where they were seen (`registry/repository`), as
//! containers/image's BlobInfoCache. Pull and push record; push reads it to
//! find a blob the target registry already has, or can mount from another of
//! its repositories, instead of compressing and uploading the layer again.
//!
//! `storage/blob-info.json`, rewritten whole (temp + rename) under
//! `blob-info.lock`. It is only a hint: every use is checked with the
//! registry, so a stale or lost entry costs time, never correctness.

use std::collections::BTreeMap;
use std::fs;

use serde::{Deserialize, Serialize};

use crate::image::store::{Store, StoreError, write_atomic};

/// Entries kept per layer and locations kept per blob (the newest win).
const MAX_BLOBS: usize = 8;
const MAX_LOCATIONS: usize = 16;

/// A compressed form of a layer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KnownBlob {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// `registry/repository` where the blob was seen, newest last.
    #[serde(default)]
    pub locations: Vec<String>,
}

type Cache = BTreeMap<String, Vec<KnownBlob>>;

fn path(store: &Store) -> std::path::PathBuf {
    store.root().join("blob-info.json")
}

fn read(store: &Store) -> Cache {
    // A damaged cache is as good as an empty one: it is only a hint.
    fs::read(path(store))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// What is known about `diff_id`'s compressed blobs.
pub fn lookup(store: &Store, diff_id: &str) -> Vec<KnownBlob> {
    read(store).remove(diff_id).unwrap_or_default()
}

/// One observation: `diff_id` is stored as blob `digest` at `location`.
#[derive(Debug, Clone)]
pub struct Seen {
    pub diff_id: String,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// `registry/repository`
    pub location: String,
}

/// Records observations (one read-modify-write for all of them).
pub fn record(store: &Store, seen: &[Seen]) -> Result<(), StoreError> {
    if seen.is_empty() {
        return Ok(());
    }
    let lock_path = store.root().join("blob-info.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StoreError::Io {
            path: lock_path.clone(),
            source,
        })?;
    lock.lock().map_err(|source| StoreError::Io {
        path: lock_path,
        source,
    })?;
    let mut cache = read(store);
    for s in seen {
        add(&mut cache, s);
    }
    let bytes = serde_json::to_vec(&cache).expect("blob info serialises");
    write_atomic(&path(store), &bytes)
}

fn add(cache: &mut Cache, s: &Seen) {
    let blobs = cache.entry(s.diff_id.clone()).or_default();
    let mut entry = match blobs.iter().position(|b| b.digest == s.digest) {
        Some(i) => blobs.remove(i),
        None => KnownBlob {
            digest: s.digest.clone(),
            media_type: s.media_type.clone(),
            size: s.size,
            locations: Vec::new(),
        },
    };
    entry.locations.retain(|l| l != &s.location);
    entry.locations.push(s.location.clone());
    if entry.locations.len() > MAX_LOCATIONS {
        entry.locations.remove(0);
    }
    blobs.push(entry);
    if blobs.len() > MAX_BLOBS {
        blobs.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(diff: &str, digest: &str, loc: &str) -> Seen {
        Seen {
            diff_id: diff.into(),
            digest: digest.into(),
            media_type: "m".into(),
            size: 1,
            location: loc.into(),
        }
    }

    #[test]
    fn records_merge_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        record(&store, &[seen("d", "b1", "r/a"), seen("d", "b1", "r/b")]).unwrap();
        record(&store, &[seen("d", "b1", "r/a"), seen("d", "b2", "s/c")]).unwrap();
        let got = lookup(&store, "d");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].digest, "b1");
        assert_eq!(got[0].locations, ["r/b", "r/a"]);
        assert_eq!(got[1].locations, ["s/c"]);
        let many: Vec<Seen> = (0..40)
            .map(|i| seen("e", &format!("b{}", i % 10), &format!("r/{i}")))
            .collect();
        record(&store, &many).unwrap();
        let got = lookup(&store, "e");
        assert_eq!(got.len(), MAX_BLOBS);
        assert!(got.iter().all(|b| b.locations.len() <= MAX_LOCATIONS));
        assert!(lookup(&store, "none").is_empty());
        fs::write(dir.path().join("blob-info.json"), b"garbage").unwrap();
        assert!(lookup(&store, "d").is_empty());
        record(&store, &[seen("d", "b1", "r/a")]).unwrap();
        assert_eq!(lookup(&store, "d").len(), 1);
    }
}

//! What shell completion offers for names: the containers, images, volumes
//! and networks of a data dir, read straight from the records. Nothing is
//! created, locked or started (a missing store has no names), so a TAB costs
//! a few file reads.

use std::path::Path;

use crate::container::record::ContainerStore;
use crate::image::store::ImageIndexFile;
use crate::network::store::{NetworkStore, PREDEFINED};
use crate::volume::VolumeStore;

/// Which names a completion wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Every container.
    Containers,
    /// Containers with a live process (running, paused, restarting).
    Running,
    /// Tagged images, as docker prints them (`busybox:latest`).
    Images,
    Volumes,
    /// Predefined and user-defined networks.
    Networks,
}

/// The names of `kind` in the data dir `data`, sorted. Unreadable records
/// are skipped: completion never fails.
pub fn names(data: &Path, kind: NameKind) -> Vec<String> {
    let mut out = match kind {
        NameKind::Containers | NameKind::Running => containers(data, kind == NameKind::Running),
        NameKind::Images => images(data),
        NameKind::Volumes => volumes(data),
        NameKind::Networks => networks(data),
    };
    out.sort();
    out.dedup();
    out
}

fn containers(data: &Path, running_only: bool) -> Vec<String> {
    if !data.join("containers").is_dir() || !data.join("names").is_dir() {
        return Vec::new();
    }
    let Ok(store) = ContainerStore::open(data) else {
        return Vec::new();
    };
    store
        .list()
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, state)| !running_only || state.status.is_running())
        .map(|(config, _)| config.name)
        .collect()
}

fn images(data: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(data.join("storage").join("images.json")) else {
        return Vec::new();
    };
    let Ok(index) = serde_json::from_slice::<ImageIndexFile>(&bytes) else {
        return Vec::new();
    };
    index
        .images
        .iter()
        .flat_map(|i| i.repo_tags.iter())
        .map(|t| crate::image::local::familiar(t))
        .collect()
}

fn volumes(data: &Path) -> Vec<String> {
    if !data.join("volumes").is_dir() {
        return Vec::new();
    }
    let Ok(store) = VolumeStore::open(data) else {
        return Vec::new();
    };
    store
        .list()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.meta.name)
        .collect()
}

fn networks(data: &Path) -> Vec<String> {
    // The predefined networks exist even before the store does.
    let mut out: Vec<String> = PREDEFINED.iter().map(|(n, _)| n.to_string()).collect();
    if data.join("networks").is_dir()
        && let Ok(store) = NetworkStore::open(data)
    {
        out.extend(
            store
                .user_networks()
                .unwrap_or_default()
                .into_iter()
                .map(|n| n.name),
        );
    }
    out
}

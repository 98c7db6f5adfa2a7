//! `system df`: disk usage of images, containers and volumes, computed as
//! docker's daemon and CLI compute it (docker's `DiskUsage`, and the CLI's
//! rules for ACTIVE and RECLAIMABLE).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::record::{ContainerConfig, ContainerState, ContainerStore, RecordError, Status};
use crate::context::Context;
use crate::image::store::{ImageRecord, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Volume(#[from] crate::volume::VolumeError),
}

/// One image's usage.
#[derive(Debug, Clone)]
pub struct ImageUsage {
    pub record: ImageRecord,
    pub created: Option<DateTime<Utc>>,
    /// Bytes of its layers.
    pub size: u64,
    /// Bytes of its layers that other images use too.
    pub shared_size: u64,
    /// Containers made from it.
    pub containers: usize,
}

#[derive(Debug, Clone)]
pub struct ContainerUsage {
    pub config: ContainerConfig,
    pub state: ContainerState,
    /// Bytes of its own files (the upper dir).
    pub size_rw: u64,
    /// Volumes it mounts.
    pub volumes: usize,
}

#[derive(Debug, Clone)]
pub struct VolumeUsage {
    pub name: String,
    pub size: u64,
    /// Containers that use it.
    pub links: usize,
}

#[derive(Debug, Clone, Default)]
pub struct DiskUsage {
    /// Bytes of all layers, each once.
    pub layers_size: u64,
    pub images: Vec<ImageUsage>,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<VolumeUsage>,
}

pub fn disk_usage(ctx: &Context) -> Result<DiskUsage, UsageError> {
    let store = ctx.store()?;
    let index = store.images()?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let list = containers.list()?;
    let mut users: HashMap<String, usize> = HashMap::new();
    for (c, _) in &list {
        *users.entry(c.image_id.clone()).or_default() += 1;
    }
    let mut layer_size: HashMap<String, u64> = HashMap::new();
    let mut layer_images: HashMap<String, usize> = HashMap::new();
    for image in &index.images {
        for l in &image.layers {
            if !layer_size.contains_key(&l.diff_id) {
                let size = store.layer_info(&l.diff_id)?.map(|i| i.size).unwrap_or(0);
                layer_size.insert(l.diff_id.clone(), size);
            }
        }
        let mut unique: Vec<&String> = image.layers.iter().map(|l| &l.diff_id).collect();
        unique.sort();
        unique.dedup();
        for d in unique {
            *layer_images.entry(d.clone()).or_default() += 1;
        }
    }
    let mut out = DiskUsage {
        layers_size: layer_size.values().sum(),
        ..DiskUsage::default()
    };
    for image in &index.images {
        let mut seen = std::collections::BTreeSet::new();
        let (mut size, mut shared) = (0, 0);
        for l in &image.layers {
            if !seen.insert(&l.diff_id) {
                continue;
            }
            let s = layer_size.get(&l.diff_id).copied().unwrap_or(0);
            size += s;
            if layer_images.get(&l.diff_id).copied().unwrap_or(0) > 1 {
                shared += s;
            }
        }
        let created = crate::image::local::config_json(store, image)
            .ok()
            .and_then(|c| crate::image::local::created_of(&c));
        out.images.push(ImageUsage {
            record: image.clone(),
            created,
            size,
            shared_size: shared,
            containers: users.get(&image.id).copied().unwrap_or(0),
        });
    }
    let volume_users = crate::volume::users(&containers)?;
    for (config, state) in list {
        let size_rw = super::view::dir_size(&containers.dir(&config.id).join("upper"));
        out.containers.push(ContainerUsage {
            volumes: config.volumes.len(),
            config,
            state,
            size_rw,
        });
    }
    let volumes = crate::volume::VolumeStore::open(&ctx.paths.data)?;
    for v in volumes.list()? {
        out.volumes.push(VolumeUsage {
            size: super::view::dir_size(&v.mountpoint),
            links: volume_users.get(&v.meta.name).map_or(0, Vec::len),
            name: v.meta.name,
        });
    }
    Ok(out)
}

/// One row of docker's summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub kind: &'static str,
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
    /// Whether docker shows a percentage after RECLAIMABLE (total size > 0).
    pub percent: Option<u64>,
}

fn is_active(s: &ContainerState) -> bool {
    matches!(
        s.status,
        Status::Running | Status::Paused | Status::Restarting
    )
}

impl DiskUsage {
    /// Images, Containers, Local Volumes, Build Cache, with docker's CLI rules.
    pub fn summary(&self) -> Vec<SummaryRow> {
        let pct = |part: u64, total: u64| (total > 0).then(|| part * 100 / total);
        // Images: what active images use alone is not reclaimable.
        let used: u64 = self
            .images
            .iter()
            .filter(|i| i.containers > 0)
            .map(|i| i.size - i.shared_size)
            .sum();
        let img_reclaim = self.layers_size.saturating_sub(used);
        let ctr_size: u64 = self.containers.iter().map(|c| c.size_rw).sum();
        let ctr_reclaim: u64 = self
            .containers
            .iter()
            .filter(|c| !is_active(&c.state))
            .map(|c| c.size_rw)
            .sum();
        let vol_size: u64 = self.volumes.iter().map(|v| v.size).sum();
        let vol_reclaim: u64 = self
            .volumes
            .iter()
            .filter(|v| v.links == 0)
            .map(|v| v.size)
            .sum();
        vec![
            SummaryRow {
                kind: "Images",
                total: self.images.len(),
                active: self.images.iter().filter(|i| i.containers > 0).count(),
                size: self.layers_size,
                reclaimable: img_reclaim,
                percent: pct(img_reclaim, self.layers_size),
            },
            SummaryRow {
                kind: "Containers",
                total: self.containers.len(),
                active: self
                    .containers
                    .iter()
                    .filter(|c| is_active(&c.state))
                    .count(),
                size: ctr_size,
                reclaimable: ctr_reclaim,
                percent: pct(ctr_reclaim, ctr_size),
            },
            SummaryRow {
                kind: "Local Volumes",
                total: self.volumes.len(),
                active: self.volumes.iter().filter(|v| v.links > 0).count(),
                size: vol_size,
                reclaimable: vol_reclaim,
                percent: pct(vol_reclaim, vol_size),
            },
            SummaryRow {
                kind: "Build Cache",
                total: 0,
                active: 0,
                size: 0,
                reclaimable: 0,
                percent: None,
            },
        ]
    }
}

/// Repository/tag pairs of an image as docker's `-v` table shows them
/// (`<none>` when untagged).
pub fn repo_tags(image: &ImageRecord) -> Vec<(String, String)> {
    let list: Vec<(String, String)> = image
        .repo_tags
        .iter()
        .filter_map(|t| crate::image::reference::Reference::parse(t).ok())
        .map(|r| (r.familiar_name(), r.tag.unwrap_or_default()))
        .collect();
    if list.is_empty() {
        return vec![("<none>".into(), "<none>".into())];
    }
    list
}

//! Integration-test support for berth: real registries, real images, berth
//! run as root and as an unprivileged user. No mocks.
//!
//! Use from an integration test with `mod support;` and e.g.:
//!
//! ```ignore
//! mod support;
//! use support::{berth::for_each_mode, fixtures, registry::{Registry, RegistryAuth}};
//!
//! #[test]
//! fn pull_busybox() {
//!     let reg = Registry::start(RegistryAuth::None);
//!     let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
//!     for_each_mode(|env| {
//!         env.berth_cmd(["pull", &img.reference()]).assert().success();
//!     });
//! }
//! ```
//!
//! Every test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod berth;
pub mod fixtures;
pub mod registry;
pub mod tarball;

use sha2::{Digest, Sha256};

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Hex sha256 of `data` (no algorithm prefix).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// How container (image) uids/gids appear on the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdMap {
    /// Root mode: ids are what the image says.
    Identity,
    /// Rootless mode with the conventional mapping: container 0 → the user
    /// (`uid`/`gid`), container n (1 ≤ n ≤ count) → `subuid + n - 1`.
    Rootless {
        uid: u32,
        gid: u32,
        subuid: u32,
        subgid: u32,
        count: u32,
    },
}

impl IdMap {
    /// Host uid of container uid `id`.
    pub fn host_uid(&self, id: u32) -> u32 {
        match *self {
            IdMap::Identity => id,
            IdMap::Rootless {
                uid, subuid, count, ..
            } => shift(id, uid, subuid, count),
        }
    }

    /// Host gid of container gid `id`.
    pub fn host_gid(&self, id: u32) -> u32 {
        match *self {
            IdMap::Identity => id,
            IdMap::Rootless {
                gid, subgid, count, ..
            } => shift(id, gid, subgid, count),
        }
    }

    pub fn is_rootless(&self) -> bool {
        matches!(self, IdMap::Rootless { .. })
    }
}

fn shift(id: u32, own: u32, sub: u32, count: u32) -> u32 {
    match id {
        0 => own,
        n if n <= count => sub + n - 1,
        n => panic!("container id {n} is outside the {count}-wide subordinate range"),
    }
}

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
//! What it offers:
//! - [`registry`]: `Registry::start(RegistryAuth::{None, basic(), token()})`
//!   (docker-registry on 127.0.0.1, killed and cleaned on drop, killed with
//!   the test process too), and `RegistryClient` (`reg.client()`,
//!   `anonymous_client()`, `client_with(user, pw)`) for manifests and blobs.
//! - [`fixtures`]: busybox, a multi-layer image with an [`fixtures::Expected`]
//!   merged tree, OCI index / Docker manifest list with amd64 + arm64/v8,
//!   hostile layers ([`fixtures::Malicious`]); OCI or Docker manifests,
//!   gzip / zstd / plain layers; custom configs via [`fixtures::ImageConfig`].
//! - [`berth`]: [`berth::TestEnv`] runs berth (or any program) as root or as
//!   the rootless test user with a cleared environment; [`berth::for_each_mode`].
//! - [`tarball`]: a raw tar writer (hostile names and sizes allowed).
//!
//! Needs these Debian packages: docker-registry, apache2-utils (htpasswd),
//! openssl, busybox-static, util-linux (setpriv, unshare), uidmap
//! (newuidmap/newgidmap for the non-root cleanup path), passwd (useradd, in
//! tests/setup-test-user.sh). As root, run `tests/setup-test-user.sh` once.
//!
//! Environment: `BERTH_TEST_USER` (rootless user, default `berthtest`),
//! `BERTH_TEST_KEEP=1` (leave env dirs behind for inspection).
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

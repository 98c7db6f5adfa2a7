//! Fixture images built from files on this machine and pushed over the
//! registry HTTP API: busybox, a multi-layer image that exercises an
//! unpacker (with an [`Expected`] description of the merged tree), a
//! two-platform index, and hostile layers. Layer tars are deterministic
//! (fixed mtimes, sorted entries) and cached per process.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use super::registry::Registry;
use super::tarball::{EntryType, Header, TarWriter};
use super::{IdMap, sha256_digest, sha256_hex};

/// The static busybox (Debian package busybox-static).
pub const BUSYBOX_BIN: &str = "/bin/busybox";
/// `created` of every fixture config and history entry.
pub const CREATED: &str = "2024-01-01T00:00:00Z";
/// The image default `PATH`.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Manifest flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `application/vnd.oci.image.manifest.v1+json`
    Oci,
    /// Docker schema2 `application/vnd.docker.distribution.manifest.v2+json`
    Docker,
}

/// Layer compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Index flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// OCI image index of OCI manifests.
    Oci,
    /// Docker manifest list of schema2 manifests.
    Docker,
}

pub const ALL_FORMATS: [Format; 2] = [Format::Oci, Format::Docker];
pub const ALL_COMPRESSIONS: [Compression; 3] =
    [Compression::None, Compression::Gzip, Compression::Zstd];

impl Format {
    pub fn manifest_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_MANIFEST,
            Format::Docker => DOCKER_MANIFEST,
        }
    }

    pub fn config_media_type(self) -> &'static str {
        match self {
            Format::Oci => OCI_CONFIG,
            Format::Docker => DOCKER_CONFIG,
        }
    }

    /// Layer media type. Docker + zstd is containerd's
    /// `application/vnd.docker.image.rootfs.diff.tar.zstd` (docker itself
    /// pushes zstd layers with OCI types); Docker + none is `…diff.tar`.
    pub fn layer_media_type(self, c: Compression) -> &'static str {
        match (self, c) {
            (Format::Oci, Compression::None) => "application/vnd.oci.image.layer.v1.tar",
            (Format::Oci, Compression::Gzip) => "application/vnd.oci.image.layer.v1.tar+gzip",
            (Format::Oci, Compression::Zstd) => "application/vnd.oci.image.layer.v1.tar+zstd",
            (Format::Docker, Compression::None) => "application/vnd.docker.image.rootfs.diff.tar",
            (Format::Docker, Compression::Gzip) => {
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
            }
            (Format::Docker, Compression::Zstd) => {
                "application/vnd.docker.image.rootfs.diff.tar.zstd"
            }
        }
    }
}

impl IndexKind {
    pub fn media_type(self) -> &'static str {
        match self {
            IndexKind::Oci => OCI_INDEX,
            IndexKind::Docker => DOCKER_MANIFEST_LIST,
        }
    }

    pub fn format(self) -> Format {
        match self {
            IndexKind::Oci => Format::Oci,
            IndexKind::Docker => Format::Docker,
        }
    }
}

impl Compression {
    /// Compresses deterministically (gzip level 6 with a zero mtime; zstd level 3).
    pub fn compress(self, tar: &[u8]) -> Vec<u8> {
        use std::io::Write;
        match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => {
                let mut e = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::new(6));
                e.write_all(tar).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(tar, 3).unwrap(),
        }
    }

    pub fn decompress(self, blob: &[u8]) -> Vec<u8> {
        use std::io::Read;
        match self {
            Compression::None => blob.to_vec(),
            Compression::Gzip => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(blob)
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            Compression::Zstd => zstd::decode_all(blob).unwrap(),
        }
    }

    /// Compression of a layer media type (any of the six above).
    pub fn from_media_type(mt: &str) -> Option<Compression> {
        if mt.ends_with("+gzip") || mt.ends_with(".gzip") {
            Some(Compression::Gzip)
        } else if mt.ends_with("+zstd") || mt.ends_with(".zstd") {
            Some(Compression::Zstd)
        } else if mt.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }
}

/// An image's platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn linux_amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    pub fn linux_arm64_v8() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: Some("v8".into()),
        }
    }

    /// `linux/amd64`, `linux/arm64/v8`.
    pub fn to_string_triple(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }

    fn json(&self) -> Value {
        let mut p = json!({ "architecture": self.architecture, "os": self.os });
        if let Some(v) = &self.variant {
            p["variant"] = json!(v);
        }
        p
    }
}

// ---------------------------------------------------------------------------
// Image configs

/// The image config apart from `rootfs` (filled in from the layers).
#[derive(Clone, Debug)]
pub struct ImageConfig {
    pub platform: Platform,
    /// The `config` object (`Env`, `Cmd`, `Entrypoint`, `User`, …).
    pub config: Value,
    /// One `created_by` per layer, for `history`.
    pub history: Vec<String>,
}

impl ImageConfig {
    /// linux/amd64, `Env [PATH=…]`, `Cmd ["sh"]`.
    pub fn busybox() -> ImageConfig {
        ImageConfig {
            platform: Platform::linux_amd64(),
            config: json!({ "Env": [DEFAULT_PATH], "Cmd": ["sh"] }),
            history: Vec::new(),
        }
    }

    pub fn platform(mut self, p: Platform) -> Self {
        self.platform = p;
        self
    }
    pub fn cmd(mut self, cmd: &[&str]) -> Self {
        self.config["Cmd"] = json!(cmd);
        self
    }
    pub fn entrypoint(mut self, ep: &[&str]) -> Self {
        self.config["Entrypoint"] = json!(ep);
        self
    }
    /// Appends `K=V` to `Env`.
    pub fn env(mut self, kv: &str) -> Self {
        let env = self.config["Env"].as_array_mut().expect("Env array");
        env.push(json!(kv));
        self
    }
    pub fn user(mut self, user: &str) -> Self {
        self.config["User"] = json!(user);
        self
    }
    pub fn workdir(mut self, dir: &str) -> Self {
        self.config["WorkingDir"] = json!(dir);
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        if !self.config["Labels"].is_object() {
            self.config["Labels"] = json!({});
        }
        self.config["Labels"][k] = json!(v);
        self
    }
    /// e.g. `expose("80/tcp")`.
    pub fn expose(mut self, port: &str) -> Self {
        if !self.config["ExposedPorts"].is_object() {
            self.config["ExposedPorts"] = json!({});
        }
        self.config["ExposedPorts"][port] = json!({});
        self
    }
    pub fn stop_signal(mut self, sig: &str) -> Self {
        self.config["StopSignal"] = json!(sig);
        self
    }
    /// `Healthcheck {Test, Interval, Timeout, Retries}` (durations in ns).
    pub fn healthcheck(
        mut self,
        test: &[&str],
        interval_ns: u64,
        timeout_ns: u64,
        retries: u32,
    ) -> Self {
        self.config["Healthcheck"] = json!({
            "Test": test, "Interval": interval_ns, "Timeout": timeout_ns, "Retries": retries
        });
        self
    }
    pub fn volume(mut self, path: &str) -> Self {
        if !self.config["Volumes"].is_object() {
            self.config["Volumes"] = json!({});
        }
        self.config["Volumes"][path] = json!({});
        self
    }
    /// Sets any other `config` field.
    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.config[key] = value;
        self
    }

    /// The config blob for these layers' diff_ids.
    pub fn to_json(&self, diff_ids: &[String]) -> Vec<u8> {
        let history: Vec<Value> = (0..diff_ids.len())
            .map(|i| {
                let by = self
                    .history
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("berth test fixture layer {}", i + 1));
                json!({ "created": CREATED, "created_by": by })
            })
            .collect();
        let mut c = json!({
            "architecture": self.platform.architecture,
            "os": self.platform.os,
        });
        if let Some(v) = &self.platform.variant {
            c["variant"] = json!(v);
        }
        c["created"] = json!(CREATED);
        c["config"] = self.config.clone();
        c["rootfs"] = json!({ "type": "layers", "diff_ids": diff_ids });
        c["history"] = json!(history);
        serde_json::to_vec(&c).unwrap()
    }
}

// ---------------------------------------------------------------------------
// Built and pushed images

/// One layer blob of a built image.
#[derive(Clone, Debug)]
pub struct BuiltLayer {
    /// The uncompressed tar.
    pub tar: Arc<Vec<u8>>,
    /// The blob as pushed (compressed or not).
    pub blob: Arc<Vec<u8>>,
    pub digest: String,
    pub diff_id: String,
    pub media_type: String,
}

/// An image ready to push (or to write to an archive).
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub format: Format,
    pub compression: Compression,
    pub platform: Platform,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layers: Vec<BuiltLayer>,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub manifest_media_type: String,
}

/// Builds manifest and config for `layers` (uncompressed tars).
pub fn build_image(
    layers: &[Arc<Vec<u8>>],
    config: &ImageConfig,
    format: Format,
    compression: Compression,
) -> BuiltImage {
    let layers: Vec<BuiltLayer> = layers
        .iter()
        .map(|tar| {
            let diff_id = sha256_digest(tar);
            let blob = compressed(tar, &diff_id, compression);
            BuiltLayer {
                digest: sha256_digest(&blob),
                tar: tar.clone(),
                blob,
                diff_id,
                media_type: format.layer_media_type(compression).to_string(),
            }
        })
        .collect();
    let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let config_bytes = config.to_json(&diff_ids);
    let config_digest = sha256_digest(&config_bytes);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": format.manifest_media_type(),
        "config": {
            "mediaType": format.config_media_type(),
            "digest": config_digest,
            "size": config_bytes.len(),
        },
        "layers": layers.iter().map(|l| json!({
            "mediaType": l.media_type,
            "digest": l.digest,
            "size": l.blob.len(),
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    BuiltImage {
        format,
        compression,
        platform: config.platform.clone(),
        manifest_digest: sha256_digest(&manifest),
        manifest,
        manifest_media_type: format.manifest_media_type().to_string(),
        config: config_bytes,
        config_digest,
        layers,
    }
}

/// What was pushed, with everything a test may want to compare against.
#[derive(Clone, Debug)]
pub struct PushedImage {
    /// `127.0.0.1:PORT`
    pub registry: String,
    pub repo: String,
    pub tag: String,
    pub manifest_digest: String,
    pub manifest_media_type: String,
    pub manifest: Vec<u8>,
    /// Also docker's image ID.
    pub config_digest: String,
    pub config: Vec<u8>,
    pub layer_digests: Vec<String>,
    pub layer_media_types: Vec<String>,
    pub layer_sizes: Vec<u64>,
    pub diff_ids: Vec<String>,
    /// Uncompressed layer tars.
    pub layer_tars: Vec<Arc<Vec<u8>>>,
    pub platform: Platform,
    pub format: Format,
    pub compression: Compression,
}

impl PushedImage {
    /// `127.0.0.1:PORT/REPO:TAG`
    pub fn reference(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repo, self.tag)
    }

    /// `127.0.0.1:PORT/REPO@sha256:…`
    pub fn digest_reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repo, self.manifest_digest)
    }

    /// docker's image ID (`sha256:` + config digest).
    pub fn image_id(&self) -> &str {
        &self.config_digest
    }

    pub fn config_json(&self) -> Value {
        serde_json::from_slice(&self.config).unwrap()
    }
}

/// A pushed index / manifest list and its images.
#[derive(Clone, Debug)]
pub struct PushedIndex {
    pub registry: String,
    pub repo: String,
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
    /// In index order: linux/amd64, then linux/arm64/v8.
    pub images: Vec<PushedImage>,
}

impl PushedIndex {
    pub fn reference(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repo, self.tag)
    }

    pub fn digest_reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repo, self.digest)
    }

    /// The image for `architecture` (`amd64`, `arm64`).
    pub fn image(&self, architecture: &str) -> &PushedImage {
        self.images
            .iter()
            .find(|i| i.platform.architecture == architecture)
            .unwrap_or_else(|| panic!("no {architecture} image in the index"))
    }
}

/// Pushes blobs, config and manifest; tags it `tag` (or pushes by digest when
/// `tag` starts with `sha256:`).
pub fn push_image(reg: &Registry, repo: &str, tag: &str, img: &BuiltImage) -> PushedImage {
    let c = reg.client();
    for l in &img.layers {
        assert_eq!(c.push_blob(repo, &l.blob), l.digest);
    }
    assert_eq!(c.push_blob(repo, &img.config), img.config_digest);
    let d = c.put_manifest(repo, tag, &img.manifest_media_type, &img.manifest);
    assert_eq!(d, img.manifest_digest);
    PushedImage {
        registry: reg.addr().to_string(),
        repo: repo.to_string(),
        tag: tag.to_string(),
        manifest_digest: img.manifest_digest.clone(),
        manifest_media_type: img.manifest_media_type.clone(),
        manifest: img.manifest.clone(),
        config_digest: img.config_digest.clone(),
        config: img.config.clone(),
        layer_digests: img.layers.iter().map(|l| l.digest.clone()).collect(),
        layer_media_types: img.layers.iter().map(|l| l.media_type.clone()).collect(),
        layer_sizes: img.layers.iter().map(|l| l.blob.len() as u64).collect(),
        diff_ids: img.layers.iter().map(|l| l.diff_id.clone()).collect(),
        layer_tars: img.layers.iter().map(|l| l.tar.clone()).collect(),
        platform: img.platform.clone(),
        format: img.format,
        compression: img.compression,
    }
}

// ---------------------------------------------------------------------------
// Caches

/// One lazily built byte buffer.
type Slot = Arc<OnceLock<Arc<Vec<u8>>>>;

/// Builds `key` once per process (tars and compressed blobs).
fn memo(key: &str, build: impl FnOnce() -> Vec<u8>) -> Arc<Vec<u8>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key.to_string())
        .or_default()
        .clone();
    // Built outside the map lock: other layers build in parallel.
    cell.get_or_init(|| Arc::new(build())).clone()
}

fn compressed(tar: &Arc<Vec<u8>>, diff_id: &str, c: Compression) -> Arc<Vec<u8>> {
    if c == Compression::None {
        return tar.clone();
    }
    memo(&format!("{diff_id}.{c:?}"), || c.compress(tar))
}

// ---------------------------------------------------------------------------
// busybox

/// Applet names of the static busybox (`busybox --list`), sorted.
pub fn busybox_applets() -> &'static [String] {
    static APPLETS: OnceLock<Vec<String>> = OnceLock::new();
    APPLETS.get_or_init(|| {
        let out = std::process::Command::new(BUSYBOX_BIN)
            .arg("--list")
            .output()
            .expect("run /bin/busybox --list (Debian package busybox-static)");
        assert!(out.status.success(), "busybox --list failed");
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "busybox" && !l.contains('/'))
            .map(String::from)
            .collect();
        v.sort();
        v.dedup();
        v
    })
}

/// `/etc/passwd` of the busybox image.
pub const BUSYBOX_PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
     nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n\
     app:x:1000:1000:app:/home/app:/bin/sh\n";
/// `/etc/group` of the busybox image.
pub const BUSYBOX_GROUP: &str = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\n";

/// The busybox layer tar: `bin/busybox` + applet symlinks, `etc/passwd`,
/// `etc/group`, `tmp` (1777), `root` (0700), `home/app` (1000:1000), `dev`,
/// `usr/bin`, `usr/sbin`, `var`.
pub fn busybox_layer() -> Arc<Vec<u8>> {
    memo("busybox", || {
        let bin =
            std::fs::read(BUSYBOX_BIN).expect("read /bin/busybox (Debian package busybox-static)");
        let mut t = TarWriter::new();
        t.dir("bin", 0o755, 0, 0);
        t.file("bin/busybox", 0o755, 0, 0, &bin);
        for a in busybox_applets() {
            t.symlink(&format!("bin/{a}"), "busybox");
        }
        t.dir("dev", 0o755, 0, 0);
        t.dir("etc", 0o755, 0, 0);
        t.file("etc/group", 0o644, 0, 0, BUSYBOX_GROUP.as_bytes());
        t.file("etc/passwd", 0o644, 0, 0, BUSYBOX_PASSWD.as_bytes());
        t.dir("home", 0o755, 0, 0);
        t.dir("home/app", 0o755, 1000, 1000);
        t.dir("root", 0o700, 0, 0);
        t.dir("tmp", 0o1777, 0, 0);
        t.dir("usr", 0o755, 0, 0);
        t.dir("usr/bin", 0o755, 0, 0);
        t.dir("usr/sbin", 0o755, 0, 0);
        t.dir("var", 0o755, 0, 0);
        t.finish()
    })
}

/// busybox as a [`BuiltImage`].
pub fn busybox_image(format: Format, compression: Compression) -> BuiltImage {
    let mut cfg = ImageConfig::busybox();
    cfg.history = vec!["ADD busybox-static /bin/busybox # berth test fixture".into()];
    build_image(&[busybox_layer()], &cfg, format, compression)
}

/// busybox as Docker Hub serves it: Docker schema2, gzip.
pub fn push_busybox(reg: &Registry, repo: &str, tag: &str) -> PushedImage {
    push_image(
        reg,
        repo,
        tag,
        &busybox_image(Format::Docker, Compression::Gzip),
    )
}

/// busybox in another format / compression.
pub fn push_busybox_as(
    reg: &Registry,
    repo: &str,
    tag: &str,
    format: Format,
    compression: Compression,
) -> PushedImage {
    push_image(reg, repo, tag, &busybox_image(format, compression))
}

/// busybox plus an optional extra layer, with a custom config (start from
/// [`ImageConfig::busybox`]). For images with an Entrypoint, User, labels,
/// a health check, extra files…
pub fn push_busybox_with(
    reg: &Registry,
    repo: &str,
    tag: &str,
    extra_layer: Option<TarWriter>,
    config: &ImageConfig,
) -> PushedImage {
    let mut layers = vec![busybox_layer()];
    if let Some(t) = extra_layer {
        layers.push(Arc::new(t.finish()));
    }
    push_image(
        reg,
        repo,
        tag,
        &build_image(&layers, config, Format::Oci, Compression::Gzip),
    )
}

// ---------------------------------------------------------------------------
// The multi-layer image

/// `security.capability` value: VFS_CAP_REVISION_2 | effective,
/// permitted = CAP_NET_BIND_SERVICE.
pub const CAP_NET_BIND_SERVICE_XATTR: [u8; 20] = [
    0x01, 0x00, 0x00, 0x02, // magic_etc (le): revision 2, effective
    0x00, 0x04, 0x00, 0x00, // permitted[0]: 1 << 10
    0x00, 0x00, 0x00, 0x00, // inheritable[0]
    0x00, 0x00, 0x00, 0x00, // permitted[1]
    0x00, 0x00, 0x00, 0x00, // inheritable[1]
];
/// The `user.` xattr on `xattr/user.txt`.
pub const USER_XATTR: (&str, &[u8]) = ("user.berth.test", b"fixture-value");

/// The three layer tars of the multi-layer image.
///
/// Layer 1: base files and dirs. Layer 2: whiteout `data/.wh.removed.txt`,
/// opaque `opaque/.wh..wh..opq` with new contents, `typechange` (a dir in
/// layer 1) as a file, hard links, relative/absolute/dangling symlinks,
/// setuid/setgid files, files owned by 1000 and 65534, `user.` and
/// `security.capability` xattrs (PAX), empty dirs, a sticky dir, a FIFO and a
/// char device (1:3). Layer 3: overwrites `etc/motd`, adds `layer3.txt`,
/// whites out the symlink `links/dangling`.
pub fn multilayer_layers() -> [Arc<Vec<u8>>; 3] {
    let l1 = memo("multi-1", || {
        let mut t = TarWriter::new();
        t.dir("data", 0o755, 0, 0)
            .file("data/kept.txt", 0o644, 0, 0, b"kept from layer 1\n")
            .file("data/removed.txt", 0o644, 0, 0, b"removed in layer 2\n")
            .dir("etc", 0o755, 0, 0)
            .file("etc/config.txt", 0o644, 0, 0, b"config from layer 1\n")
            .file("etc/motd", 0o644, 0, 0, b"layer 1 motd\n")
            .dir("links", 0o755, 0, 0)
            .dir("opaque", 0o755, 0, 0)
            .file(
                "opaque/old.txt",
                0o644,
                0,
                0,
                b"hidden by the opaque marker\n",
            )
            .dir("opaque/sub", 0o755, 0, 0)
            .file("opaque/sub/deep.txt", 0o644, 0, 0, b"also hidden\n")
            .dir("typechange", 0o755, 0, 0)
            .file("typechange/inner.txt", 0o644, 0, 0, b"gone with its dir\n");
        t.finish()
    });
    let l2 = memo("multi-2", || {
        let mut t = TarWriter::new();
        t.dir("bin", 0o755, 0, 0)
            .file("bin/sgid", 0o2755, 0, 0, b"#!/bin/sh\necho setgid\n")
            .file("bin/suid", 0o4755, 0, 0, b"#!/bin/sh\necho setuid\n")
            .dir("data", 0o755, 0, 0)
            .file("data/.wh.removed.txt", 0o644, 0, 0, b"")
            .dir("empty", 0o755, 0, 0)
            .dir("empty/nested", 0o700, 0, 0)
            .dir("links", 0o755, 0, 0)
            .symlink("links/abs", "/etc/motd")
            .symlink("links/dangling", "does-not-exist")
            .file("links/target.txt", 0o644, 0, 0, b"hard link target\n")
            .hardlink("links/hardlink.txt", "links/target.txt")
            .symlink("links/rel", "target.txt")
            .symlink("links/up", "../data/kept.txt")
            .dir("nodes", 0o755, 0, 0)
            .fifo("nodes/fifo", 0o644)
            .device("nodes/null", EntryType::Char, 0o666, 1, 3)
            .dir("opaque", 0o755, 0, 0)
            .file("opaque/.wh..wh..opq", 0o644, 0, 0, b"")
            .file("opaque/new.txt", 0o644, 0, 0, b"new in layer 2\n")
            .dir("owned", 0o755, 0, 0)
            .file("owned/app.txt", 0o640, 1000, 1000, b"owned by app\n")
            .dir("owned/appdir", 0o750, 1000, 1000)
            .file(
                "owned/appdir/inner.txt",
                0o644,
                1000,
                1000,
                b"inside app's dir\n",
            )
            .file(
                "owned/nobody.txt",
                0o600,
                65534,
                65534,
                b"owned by nobody\n",
            )
            .dir("sticky", 0o1777, 0, 0)
            .file("typechange", 0o644, 0, 0, b"now a file\n")
            .dir("xattr", 0o755, 0, 0)
            .file_xattrs(
                "xattr/cap.bin",
                0o755,
                0,
                0,
                b"has file capabilities\n",
                &[("security.capability", &CAP_NET_BIND_SERVICE_XATTR)],
            )
            .file_xattrs(
                "xattr/user.txt",
                0o644,
                0,
                0,
                b"has a user xattr\n",
                &[USER_XATTR],
            );
        t.finish()
    });
    let l3 = memo("multi-3", || {
        let mut t = TarWriter::new();
        t.dir("etc", 0o755, 0, 0)
            .file("etc/motd", 0o644, 0, 0, b"layer 3 motd\n")
            .file("layer3.txt", 0o644, 0, 0, b"third layer\n")
            .dir("links", 0o755, 0, 0)
            .file("links/.wh.dangling", 0o644, 0, 0, b"");
        t.finish()
    });
    [l1, l2, l3]
}

pub fn multilayer_image(format: Format, compression: Compression) -> BuiltImage {
    let mut cfg = ImageConfig::busybox().cmd(&["/bin/sh"]);
    cfg.history = vec![
        "layer 1: base".into(),
        "layer 2: whiteouts, links, owners, xattrs".into(),
        "layer 3: small".into(),
    ];
    build_image(&multilayer_layers(), &cfg, format, compression)
}

pub fn push_multilayer(
    reg: &Registry,
    repo: &str,
    tag: &str,
    format: Format,
    compression: Compression,
) -> PushedImage {
    push_image(reg, repo, tag, &multilayer_image(format, compression))
}

/// Kind of an expected path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectedKind {
    File { sha256: String, size: u64 },
    Dir,
    Symlink { target: String },
    Fifo,
    CharDevice { major: u32, minor: u32 },
}

/// One path of the merged tree.
#[derive(Clone, Debug)]
pub struct ExpectedEntry {
    /// Relative, no leading `/` or trailing `/`.
    pub path: String,
    pub kind: ExpectedKind,
    /// Permission bits incl. setuid/setgid/sticky (`& 0o7777`); not checked on symlinks.
    pub mode: u32,
    /// Container uid/gid.
    pub uid: u32,
    pub gid: u32,
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// Only required when unpacked as real root (device nodes); with a
    /// rootless [`IdMap`] it may be missing or be anything.
    pub root_only: bool,
}

/// The merged tree of the multi-layer image.
#[derive(Clone, Debug)]
pub struct Expected {
    pub entries: Vec<ExpectedEntry>,
    /// Paths that must not exist (whited out, hidden by an opaque dir, the
    /// whiteout markers themselves).
    pub absent: Vec<String>,
    /// Groups of paths that must be one inode.
    pub hardlinks: Vec<Vec<String>>,
}

fn file(path: &str, mode: u32, uid: u32, content: &[u8]) -> ExpectedEntry {
    ExpectedEntry {
        path: path.into(),
        kind: ExpectedKind::File {
            sha256: sha256_hex(content),
            size: content.len() as u64,
        },
        mode,
        uid,
        gid: uid,
        xattrs: Vec::new(),
        root_only: false,
    }
}

fn dir(path: &str, mode: u32, uid: u32) -> ExpectedEntry {
    ExpectedEntry {
        path: path.into(),
        kind: ExpectedKind::Dir,
        mode,
        uid,
        gid: uid,
        xattrs: Vec::new(),
        root_only: false,
    }
}

fn symlink(path: &str, target: &str) -> ExpectedEntry {
    ExpectedEntry {
        path: path.into(),
        kind: ExpectedKind::Symlink {
            target: target.into(),
        },
        mode: 0o777,
        uid: 0,
        gid: 0,
        xattrs: Vec::new(),
        root_only: false,
    }
}

/// What the three layers of [`multilayer_layers`] merge into.
pub fn multilayer_expected() -> Expected {
    let mut cap = file("xattr/cap.bin", 0o755, 0, b"has file capabilities\n");
    cap.xattrs = vec![(
        "security.capability".into(),
        CAP_NET_BIND_SERVICE_XATTR.to_vec(),
    )];
    let mut user = file("xattr/user.txt", 0o644, 0, b"has a user xattr\n");
    user.xattrs = vec![(USER_XATTR.0.into(), USER_XATTR.1.to_vec())];
    let mut fifo = dir("nodes/fifo", 0o644, 0);
    fifo.kind = ExpectedKind::Fifo;
    let mut null = dir("nodes/null", 0o666, 0);
    null.kind = ExpectedKind::CharDevice { major: 1, minor: 3 };
    null.root_only = true;
    let mut nobody = file("owned/nobody.txt", 0o600, 65534, b"owned by nobody\n");
    nobody.gid = 65534;
    Expected {
        entries: vec![
            dir("bin", 0o755, 0),
            file("bin/sgid", 0o2755, 0, b"#!/bin/sh\necho setgid\n"),
            file("bin/suid", 0o4755, 0, b"#!/bin/sh\necho setuid\n"),
            dir("data", 0o755, 0),
            file("data/kept.txt", 0o644, 0, b"kept from layer 1\n"),
            dir("empty", 0o755, 0),
            dir("empty/nested", 0o700, 0),
            dir("etc", 0o755, 0),
            file("etc/config.txt", 0o644, 0, b"config from layer 1\n"),
            file("etc/motd", 0o644, 0, b"layer 3 motd\n"),
            file("layer3.txt", 0o644, 0, b"third layer\n"),
            dir("links", 0o755, 0),
            symlink("links/abs", "/etc/motd"),
            file("links/hardlink.txt", 0o644, 0, b"hard link target\n"),
            symlink("links/rel", "target.txt"),
            file("links/target.txt", 0o644, 0, b"hard link target\n"),
            symlink("links/up", "../data/kept.txt"),
            dir("nodes", 0o755, 0),
            fifo,
            null,
            dir("opaque", 0o755, 0),
            file("opaque/new.txt", 0o644, 0, b"new in layer 2\n"),
            dir("owned", 0o755, 0),
            file("owned/app.txt", 0o640, 1000, b"owned by app\n"),
            dir("owned/appdir", 0o750, 1000),
            file("owned/appdir/inner.txt", 0o644, 1000, b"inside app's dir\n"),
            nobody,
            dir("sticky", 0o1777, 0),
            file("typechange", 0o644, 0, b"now a file\n"),
            dir("xattr", 0o755, 0),
            cap,
            user,
        ],
        absent: [
            "data/removed.txt",
            "data/.wh.removed.txt",
            "opaque/old.txt",
            "opaque/sub",
            "opaque/.wh..wh..opq",
            "typechange/inner.txt",
            "links/dangling",
            "links/.wh.dangling",
        ]
        .map(String::from)
        .to_vec(),
        hardlinks: vec![vec!["links/target.txt".into(), "links/hardlink.txt".into()]],
    }
}

impl Expected {
    pub fn get(&self, path: &str) -> Option<&ExpectedEntry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// Compares the tree at `root` (never following symlinks) with this
    /// description, host owners computed through `ids`. With `exact`, paths
    /// not described are problems too (use it on a bare merged layer tree,
    /// not on a container's rootfs). Root-only entries are skipped when `ids`
    /// is rootless. Returns the list of problems (empty when it matches).
    pub fn verify(&self, root: &Path, ids: &IdMap, exact: bool) -> Vec<String> {
        let mut problems = Vec::new();
        for e in &self.entries {
            if e.root_only && ids.is_rootless() {
                continue;
            }
            let p = root.join(&e.path);
            let m = match std::fs::symlink_metadata(&p) {
                Ok(m) => m,
                Err(err) => {
                    problems.push(format!("{}: missing ({err})", e.path));
                    continue;
                }
            };
            let ft = m.file_type();
            match &e.kind {
                ExpectedKind::File { sha256, size } => {
                    if !ft.is_file() {
                        problems.push(format!("{}: not a regular file ({ft:?})", e.path));
                        continue;
                    }
                    if m.len() != *size {
                        problems.push(format!("{}: size {} != {size}", e.path, m.len()));
                    } else {
                        match std::fs::read(&p) {
                            Ok(data) if sha256_hex(&data) == *sha256 => {}
                            Ok(_) => problems.push(format!("{}: content differs", e.path)),
                            Err(err) => problems.push(format!("{}: cannot read: {err}", e.path)),
                        }
                    }
                }
                ExpectedKind::Dir => {
                    if !ft.is_dir() {
                        problems.push(format!("{}: not a directory ({ft:?})", e.path));
                        continue;
                    }
                }
                ExpectedKind::Symlink { target } => {
                    if !ft.is_symlink() {
                        problems.push(format!("{}: not a symlink ({ft:?})", e.path));
                        continue;
                    }
                    let t = std::fs::read_link(&p).unwrap_or_default();
                    if t != Path::new(target) {
                        problems.push(format!(
                            "{}: symlink to {} != {target}",
                            e.path,
                            t.display()
                        ));
                    }
                }
                ExpectedKind::Fifo => {
                    if !ft.is_fifo() {
                        problems.push(format!("{}: not a FIFO ({ft:?})", e.path));
                        continue;
                    }
                }
                ExpectedKind::CharDevice { major, minor } => {
                    if !ft.is_char_device() {
                        problems.push(format!("{}: not a char device ({ft:?})", e.path));
                        continue;
                    }
                    let (ma, mi) = (libc::major(m.rdev()), libc::minor(m.rdev()));
                    if (ma, mi) != (*major, *minor) {
                        problems.push(format!("{}: device {ma}:{mi} != {major}:{minor}", e.path));
                    }
                }
            }
            if !ft.is_symlink() && m.mode() & 0o7777 != e.mode {
                problems.push(format!(
                    "{}: mode {:o} != {:o}",
                    e.path,
                    m.mode() & 0o7777,
                    e.mode
                ));
            }
            let (huid, hgid) = (ids.host_uid(e.uid), ids.host_gid(e.gid));
            if (m.uid(), m.gid()) != (huid, hgid) {
                problems.push(format!(
                    "{}: owner {}:{} != {huid}:{hgid} (container {}:{})",
                    e.path,
                    m.uid(),
                    m.gid(),
                    e.uid,
                    e.gid
                ));
            }
            for (name, want) in &e.xattrs {
                match get_xattr(&p, name) {
                    None => problems.push(format!("{}: xattr {name} missing", e.path)),
                    Some(got) => {
                        let same = if name == "security.capability" {
                            caps_equivalent(&got, want)
                        } else {
                            got == *want
                        };
                        if !same {
                            problems.push(format!(
                                "{}: xattr {name} = {got:02x?} != {want:02x?}",
                                e.path
                            ));
                        }
                    }
                }
            }
        }
        for a in &self.absent {
            if std::fs::symlink_metadata(root.join(a)).is_ok() {
                problems.push(format!("{a}: exists but must not"));
            }
        }
        for group in &self.hardlinks {
            let inodes: Vec<Option<(u64, u64)>> = group
                .iter()
                .map(|p| {
                    std::fs::symlink_metadata(root.join(p))
                        .ok()
                        .map(|m| (m.dev(), m.ino()))
                })
                .collect();
            if inodes.iter().any(|i| i.is_none() || *i != inodes[0]) {
                problems.push(format!("{group:?}: not one inode ({inodes:?})"));
            }
        }
        if exact {
            // Root-only entries may be present (unchecked) in rootless mode.
            let known: std::collections::HashSet<&str> =
                self.entries.iter().map(|e| e.path.as_str()).collect();
            let mut all = Vec::new();
            walk(root, root, &mut all);
            for p in all {
                let s = p.to_string_lossy();
                if !known.contains(s.as_ref()) && !self.absent.iter().any(|a| *a == s) {
                    problems.push(format!("{s}: unexpected path"));
                }
            }
        }
        problems
    }

    /// [`Self::verify`] with `exact`, panicking with every problem.
    pub fn assert_matches(&self, root: &Path, ids: &IdMap) {
        let problems = self.verify(root, ids, true);
        assert!(
            problems.is_empty(),
            "tree at {} does not match the fixture:\n  {}",
            root.display(),
            problems.join("\n  ")
        );
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        out.push(p.strip_prefix(root).unwrap().to_path_buf());
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(root, &p, out);
        }
    }
}

/// `lgetxattr(path, name)`.
pub fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).ok()?;
    let n = CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid C strings and a buffer of the given length.
    let r = unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return None;
    }
    buf.truncate(r as usize);
    Some(buf)
}

/// Same capability sets and effective flag, whatever the revision (a
/// rootless unpack stores v3 with a root uid).
fn caps_equivalent(a: &[u8], b: &[u8]) -> bool {
    let sets = |x: &[u8]| -> Option<(bool, Vec<u8>)> {
        if x.len() < 20 {
            return None;
        }
        Some((x[0] & 1 == 1, x[4..20].to_vec()))
    };
    sets(a).is_some() && sets(a) == sets(b)
}

// ---------------------------------------------------------------------------
// The two-platform index

/// A layer with a file `platform` holding `ARCH\n`.
pub fn platform_marker_layer(arch: &str) -> Arc<Vec<u8>> {
    memo(&format!("platform-{arch}"), || {
        let mut t = TarWriter::new();
        t.file("platform", 0o644, 0, 0, format!("{arch}\n").as_bytes());
        t.finish()
    })
}

/// The images of the index: linux/amd64 (busybox + `/platform` = `amd64`)
/// and linux/arm64/v8 (only `/platform` = `arm64`; config architecture
/// arm64, variant v8).
pub fn platform_images(format: Format) -> [BuiltImage; 2] {
    let amd = ImageConfig::busybox().platform(Platform::linux_amd64());
    let arm = ImageConfig::busybox().platform(Platform::linux_arm64_v8());
    [
        build_image(
            &[busybox_layer(), platform_marker_layer("amd64")],
            &amd,
            format,
            Compression::Gzip,
        ),
        build_image(
            &[platform_marker_layer("arm64")],
            &arm,
            format,
            Compression::Gzip,
        ),
    ]
}

/// Pushes both platform images by digest, then the index under `tag`.
pub fn push_index(reg: &Registry, repo: &str, tag: &str, kind: IndexKind) -> PushedIndex {
    let images: Vec<PushedImage> = platform_images(kind.format())
        .iter()
        .map(|img| {
            let mut p = push_image(reg, repo, &img.manifest_digest, img);
            p.tag = tag.to_string();
            p
        })
        .collect();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": kind.media_type(),
        "manifests": images.iter().map(|i| json!({
            "mediaType": i.manifest_media_type,
            "digest": i.manifest_digest,
            "size": i.manifest.len(),
            "platform": i.platform.json(),
        })).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec_pretty(&index).unwrap();
    let digest = reg
        .client()
        .put_manifest(repo, tag, kind.media_type(), &bytes);
    PushedIndex {
        registry: reg.addr().to_string(),
        repo: repo.to_string(),
        tag: tag.to_string(),
        digest,
        media_type: kind.media_type().to_string(),
        bytes,
        images,
    }
}

// ---------------------------------------------------------------------------
// Hostile layers

/// `../` repeated enough to reach `/` from any directory.
const UP: &str = "../../../../../../../../../../../../../../../../../../../../";

/// Hostile single-layer images (OCI, gzip). Each layer starts with a
/// harmless `ok.txt`; blob digests and diff_ids are correct, only the tar
/// content is hostile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malicious {
    /// `../berth-evil-dotdot`, `sub/../../berth-evil-dotdot-sub`,
    /// `../…/../tmp/berth-evil-dotdot-deep`.
    DotDot,
    /// `/tmp/berth-evil-absolute`.
    AbsolutePath,
    /// `a -> /`, then `a/tmp/berth-evil-symlink-root`.
    SymlinkRoot,
    /// `a -> ..`, then `a/berth-evil-symlink-parent`; `b -> ../…/../tmp`,
    /// then `b/berth-evil-symlink-parent-deep`.
    SymlinkParent,
    /// hard link `outside-link -> ../../outside` and
    /// `deep-link -> ../…/../tmp/berth-evil-hardlink-target`, each followed
    /// by a regular file of the same name (write-through attempt).
    HardlinkOutside,
    /// `huge.bin` whose header declares 1 TiB (GNU base-256 size) followed
    /// by 4 KiB of body and the end of the stream.
    HugeSize,
}

impl Malicious {
    pub const ALL: [Malicious; 6] = [
        Malicious::DotDot,
        Malicious::AbsolutePath,
        Malicious::SymlinkRoot,
        Malicious::SymlinkParent,
        Malicious::HardlinkOutside,
        Malicious::HugeSize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Malicious::DotDot => "dotdot",
            Malicious::AbsolutePath => "absolute-path",
            Malicious::SymlinkRoot => "symlink-root",
            Malicious::SymlinkParent => "symlink-parent",
            Malicious::HardlinkOutside => "hardlink-outside",
            Malicious::HugeSize => "huge-size",
        }
    }

    /// File names the layer tries to create outside its root; none may
    /// appear anywhere outside the layer (e.g. next to berth's layer dirs).
    pub fn marker_names(self) -> &'static [&'static str] {
        match self {
            Malicious::DotDot => &[
                "berth-evil-dotdot",
                "berth-evil-dotdot-sub",
                "berth-evil-dotdot-deep",
            ],
            Malicious::AbsolutePath => &["berth-evil-absolute"],
            Malicious::SymlinkRoot => &["berth-evil-symlink-root"],
            Malicious::SymlinkParent => &[
                "berth-evil-symlink-parent",
                "berth-evil-symlink-parent-deep",
            ],
            Malicious::HardlinkOutside => &["outside", "berth-evil-hardlink-target"],
            Malicious::HugeSize => &[],
        }
    }

    /// Host paths (under /tmp) a vulnerable unpacker would write, whatever
    /// its layer directory: none may exist after a pull (for
    /// `HardlinkOutside`, a pre-existing file there must be unchanged).
    pub fn host_targets(self) -> Vec<PathBuf> {
        let v: &[&str] = match self {
            Malicious::DotDot => &["/tmp/berth-evil-dotdot-deep"],
            Malicious::AbsolutePath => &["/tmp/berth-evil-absolute"],
            Malicious::SymlinkRoot => &["/tmp/berth-evil-symlink-root"],
            Malicious::SymlinkParent => &["/tmp/berth-evil-symlink-parent-deep"],
            Malicious::HardlinkOutside => &["/tmp/berth-evil-hardlink-target"],
            Malicious::HugeSize => &[],
        };
        v.iter().map(PathBuf::from).collect()
    }

    /// The hostile layer tar.
    pub fn layer_tar(self) -> Arc<Vec<u8>> {
        memo(&format!("malicious-{}", self.name()), || {
            let mut t = TarWriter::new();
            t.file("ok.txt", 0o644, 0, 0, b"harmless\n");
            let evil = b"pwned by a hostile layer\n";
            let file = |name: String| {
                let mut h = Header::new(name, EntryType::File, 0o644);
                h.size = evil.len() as u64;
                h
            };
            match self {
                Malicious::DotDot => {
                    t.raw(&file("../berth-evil-dotdot".into()), evil);
                    t.raw(&file("sub/../../berth-evil-dotdot-sub".into()), evil);
                    t.raw(&file(format!("{UP}tmp/berth-evil-dotdot-deep")), evil);
                }
                Malicious::AbsolutePath => {
                    t.raw(&file("/tmp/berth-evil-absolute".into()), evil);
                }
                Malicious::SymlinkRoot => {
                    t.symlink("a", "/");
                    t.raw(&file("a/tmp/berth-evil-symlink-root".into()), evil);
                }
                Malicious::SymlinkParent => {
                    t.symlink("a", "..");
                    t.raw(&file("a/berth-evil-symlink-parent".into()), evil);
                    t.symlink("b", &format!("{UP}tmp"));
                    t.raw(&file("b/berth-evil-symlink-parent-deep".into()), evil);
                }
                Malicious::HardlinkOutside => {
                    let mut h = Header::new("outside-link", EntryType::Hardlink, 0o644);
                    h.link = b"../../outside".to_vec();
                    t.raw(&h, &[]);
                    t.raw(&file("outside-link".into()), evil);
                    let mut h = Header::new("deep-link", EntryType::Hardlink, 0o644);
                    h.link = format!("{UP}tmp/berth-evil-hardlink-target").into_bytes();
                    t.raw(&h, &[]);
                    t.raw(&file("deep-link".into()), evil);
                }
                Malicious::HugeSize => {
                    let mut h = Header::new("huge.bin", EntryType::File, 0o644);
                    h.size = 1 << 40;
                    t.raw(&h, &[b'A'; 4096]);
                    return t.finish_truncated();
                }
            }
            t.finish()
        })
    }

    pub fn image(self) -> BuiltImage {
        let mut cfg = ImageConfig::busybox();
        cfg.history = vec![format!("hostile layer: {}", self.name())];
        build_image(&[self.layer_tar()], &cfg, Format::Oci, Compression::Gzip)
    }
}

pub fn push_malicious(reg: &Registry, repo: &str, tag: &str, kind: Malicious) -> PushedImage {
    push_image(reg, repo, tag, &kind.image())
}

/// A one-layer image holding `blob.bin` of `size` random bytes, uncompressed:
/// a pull slow enough to interrupt.
pub fn push_big(reg: &Registry, repo: &str, tag: &str, size: usize) -> PushedImage {
    let layer = memo(&format!("big-{size}"), || {
        use rand::RngCore;
        let mut data = vec![0u8; size];
        rand::rng().fill_bytes(&mut data);
        let mut t = TarWriter::new();
        t.file("blob.bin", 0o644, 0, 0, &data);
        t.finish()
    });
    push_image(
        reg,
        repo,
        tag,
        &build_image(
            &[layer],
            &ImageConfig::busybox(),
            Format::Oci,
            Compression::None,
        ),
    )
}

/// A static UDP echo server (`tests/support/udp_echo.c`, built once per test
/// process with the machine's `cc -static`) for containers to run through a
/// bind mount: busybox-static has no UDP server. Usage in the container:
/// `/udp-echo PORT` prints "ready", then answers each datagram with "echo:"
/// and the datagram. The binary sits in a world-readable directory, so the
/// rootless test user can mount it.
pub fn udp_echo_binary() -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static BIN: OnceLock<std::path::PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/udp_echo.c");
        // Named after the source, so test runs share one build: built
        // under a private name, then renamed into place (atomic).
        let hash = sha256_hex(&std::fs::read(src).unwrap());
        let dir = std::env::temp_dir().join(format!("berth-test-udp-echo-{}", &hash[..16]));
        let bin = dir.join("udp-echo");
        if bin.exists() {
            return bin;
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tmp = dir.join(format!("udp-echo.{}", std::process::id()));
        let out = std::process::Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(&tmp)
            .arg(src)
            .output()
            .expect("cc (gcc) is needed to build the test UDP server");
        assert!(
            out.status.success(),
            "cc -static udp_echo.c: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &bin).unwrap();
        bin
    })
    .clone()
}

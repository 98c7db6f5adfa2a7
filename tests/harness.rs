//! Self-test of the integration-test harness (tests/support): registries,
//! fixture images, hostile layers, the expected-tree checker, and running
//! commands as root and as the rootless test user. Needs no berth feature.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::ffi::CString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use support::berth::{self, Mode, TestEnv, for_each_mode};
use support::fixtures::{
    self, ALL_COMPRESSIONS, ALL_FORMATS, Compression, Format, IndexKind, Malicious, PushedImage,
};
use support::registry::{Registry, RegistryAuth, RegistryClient};
use support::{IdMap, sha256_digest, sha256_hex};

/// Fetches `img` back through `client` and checks manifest, config and layers.
fn check_pushed(client: &RegistryClient, img: &PushedImage) {
    let m = client.get_manifest(&img.repo, &img.tag);
    assert_eq!(
        m.digest,
        img.manifest_digest,
        "manifest digest of {}",
        img.reference()
    );
    assert_eq!(m.media_type, img.manifest_media_type);
    assert_eq!(m.bytes, img.manifest);
    let by_digest = client.get_manifest(&img.repo, &img.manifest_digest);
    assert_eq!(by_digest.bytes, img.manifest);

    let mj = m.json();
    assert_eq!(mj["schemaVersion"], 2);
    assert_eq!(mj["mediaType"], img.manifest_media_type.as_str());
    let want_config_type = match img.format {
        Format::Oci => fixtures::OCI_CONFIG,
        Format::Docker => fixtures::DOCKER_CONFIG,
    };
    assert_eq!(mj["config"]["mediaType"], want_config_type);
    let config_digest = mj["config"]["digest"].as_str().unwrap();
    assert_eq!(config_digest, img.config_digest);
    let config = client.get_blob(&img.repo, config_digest);
    assert_eq!(mj["config"]["size"].as_u64().unwrap(), config.len() as u64);
    let cj: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(cj["os"], "linux");
    assert_eq!(cj["architecture"], img.platform.architecture.as_str());
    assert_eq!(cj["rootfs"]["type"], "layers");
    let diff_ids: Vec<&str> = cj["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(cj["history"].as_array().unwrap().len(), diff_ids.len());
    assert!(cj["created"].is_string());

    let layers = mj["layers"].as_array().unwrap();
    assert_eq!(layers.len(), diff_ids.len());
    for (i, l) in layers.iter().enumerate() {
        let mt = l["mediaType"].as_str().unwrap();
        assert_eq!(mt, img.format.layer_media_type(img.compression));
        let digest = l["digest"].as_str().unwrap();
        assert_eq!(digest, img.layer_digests[i]);
        assert!(client.blob_exists(&img.repo, digest));
        let blob = client.get_blob(&img.repo, digest);
        assert_eq!(l["size"].as_u64().unwrap(), blob.len() as u64);
        // The blob really is compressed the way its media type says.
        match img.compression {
            Compression::Gzip => assert_eq!(&blob[..2], &[0x1f, 0x8b], "gzip magic"),
            Compression::Zstd => assert_eq!(&blob[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic"),
            Compression::None => assert_eq!(&blob[257..262], b"ustar", "plain tar"),
        }
        let c = Compression::from_media_type(mt).unwrap();
        let tar = c.decompress(&blob);
        assert_eq!(sha256_digest(&tar), diff_ids[i], "diff_id of layer {i}");
        assert_eq!(diff_ids[i], img.diff_ids[i]);
        assert_eq!(tar, **img.layer_tars[i]);
    }
}

#[test]
fn plain_registry_busybox_roundtrip() {
    let reg = Registry::start(RegistryAuth::None);
    assert!(reg.addr().starts_with("127.0.0.1:"));
    assert_eq!(reg.anonymous_client().ping(), 200);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    assert_eq!(
        img.reference(),
        format!("{}/library/busybox:latest", reg.addr())
    );
    assert_eq!(img.manifest_media_type, fixtures::DOCKER_MANIFEST);
    check_pushed(reg.client(), &img);
    check_pushed(&reg.anonymous_client(), &img);
    assert_eq!(reg.client().tags("library/busybox"), vec!["latest"]);
    assert_eq!(reg.client().catalog(), vec!["library/busybox"]);

    // Config as specified.
    let cfg = img.config_json();
    assert_eq!(cfg["config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(
        cfg["config"]["Env"],
        serde_json::json!([fixtures::DEFAULT_PATH])
    );
    assert_eq!(cfg["architecture"], "amd64");

    // Layer content: busybox binary, applets, passwd, dirs.
    let mut names = BTreeMap::new();
    let mut ar = tar::Archive::new(&img.layer_tars[0][..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_string_lossy().into_owned());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        assert_eq!(h.mtime().unwrap(), support::tarball::MTIME);
        names.insert(
            path,
            (
                h.entry_type(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                link,
                data,
            ),
        );
    }
    let bb = std::fs::read(fixtures::BUSYBOX_BIN).unwrap();
    assert_eq!(names["bin/busybox"].4, bb);
    assert_eq!(names["bin/busybox"].1, 0o755);
    for applet in [
        "sh",
        "ls",
        "cat",
        "echo",
        "true",
        "false",
        "sleep",
        "id",
        "env",
        "wc",
        "head",
        "sha256sum",
        "stat",
        "touch",
        "mkdir",
        "rm",
        "hostname",
        "ps",
        "kill",
        "grep",
        "test",
    ] {
        let e = &names[&format!("bin/{applet}")];
        assert_eq!(e.0, tar::EntryType::Symlink, "bin/{applet}");
        assert_eq!(e.3.as_deref(), Some("busybox"));
    }
    assert!(fixtures::busybox_applets().len() > 100);
    assert_eq!(names["tmp/"].1, 0o1777);
    assert_eq!(names["root/"].1, 0o700);
    assert_eq!(names["home/app/"].2, 1000);
    assert!(String::from_utf8_lossy(&names["etc/passwd"].4).contains("app:x:1000:1000:"));
    assert!(String::from_utf8_lossy(&names["etc/group"].4).contains("app:x:1000:"));

    // Deterministic: building again gives the same digests.
    let again = fixtures::busybox_image(Format::Docker, Compression::Gzip);
    assert_eq!(again.manifest_digest, img.manifest_digest);
}

#[test]
fn multilayer_every_format_and_compression() {
    let reg = Registry::start(RegistryAuth::None);
    let mut digests = HashSet::new();
    for format in ALL_FORMATS {
        for compression in ALL_COMPRESSIONS {
            let tag = format!("{format:?}-{compression:?}").to_lowercase();
            let img = fixtures::push_multilayer(&reg, "test/multilayer", &tag, format, compression);
            assert_eq!(img.manifest_media_type, format.manifest_media_type());
            assert_eq!(img.layer_digests.len(), 3);
            check_pushed(reg.client(), &img);
            assert!(
                digests.insert(img.manifest_digest.clone()),
                "variants must differ"
            );
            // Same content whatever the packaging.
            assert_eq!(
                img.diff_ids,
                fixtures::multilayer_image(Format::Oci, Compression::None)
                    .layers
                    .iter()
                    .map(|l| l.diff_id.clone())
                    .collect::<Vec<_>>()
            );
        }
    }
    assert_eq!(reg.client().tags("test/multilayer").len(), 6);
}

#[test]
fn index_and_manifest_list() {
    let reg = Registry::start(RegistryAuth::None);
    for kind in [IndexKind::Oci, IndexKind::Docker] {
        let repo = format!("test/index-{kind:?}").to_lowercase();
        let idx = fixtures::push_index(&reg, &repo, "multi", kind);
        let m = reg.client().get_manifest(&repo, "multi");
        assert_eq!(m.digest, idx.digest);
        assert_eq!(m.media_type, kind.media_type());
        let j = m.json();
        assert_eq!(j["mediaType"], kind.media_type());
        let entries = j["manifests"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["platform"],
            serde_json::json!({"architecture": "amd64", "os": "linux"})
        );
        assert_eq!(
            entries[1]["platform"],
            serde_json::json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
        );
        assert_ne!(entries[0]["digest"], entries[1]["digest"]);
        for (entry, img) in entries.iter().zip(&idx.images) {
            assert_eq!(entry["digest"].as_str().unwrap(), img.manifest_digest);
            assert_eq!(
                entry["mediaType"].as_str().unwrap(),
                kind.format().manifest_media_type()
            );
            let child = reg.client().get_manifest(&repo, &img.manifest_digest);
            assert_eq!(child.media_type, kind.format().manifest_media_type());
            assert_eq!(entry["size"].as_u64().unwrap(), child.bytes.len() as u64);
            let mut by_digest = img.clone();
            by_digest.tag = img.manifest_digest.clone();
            check_pushed(reg.client(), &by_digest);
            // The marker file says the architecture.
            let last = img.layer_tars.last().unwrap();
            let mut ar = tar::Archive::new(&last[..]);
            let mut e = ar.entries().unwrap().next().unwrap().unwrap();
            assert_eq!(e.path().unwrap().to_str(), Some("platform"));
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            assert_eq!(s, format!("{}\n", img.platform.architecture));
        }
        let arm = idx.image("arm64").config_json();
        assert_eq!(arm["architecture"], "arm64");
        assert_eq!(arm["variant"], "v8");
        assert_eq!(idx.image("amd64").config_json()["architecture"], "amd64");
    }
}

#[test]
fn malicious_layers_have_valid_digests_and_hostile_content() {
    let reg = Registry::start(RegistryAuth::None);
    for kind in Malicious::ALL {
        let img = fixtures::push_malicious(&reg, "test/evil", kind.name(), kind);
        check_pushed(reg.client(), &img);
        let tar = kind.layer_tar();
        // Raw names, as a parser sees them before any sanitising.
        let mut raw = Vec::new();
        let mut off = 0;
        while off + 512 <= tar.len() && tar[off..off + 512].iter().any(|&b| b != 0) {
            let h = &tar[off..off + 512];
            let name = String::from_utf8_lossy(&h[..100])
                .trim_end_matches('\0')
                .to_string();
            let link = String::from_utf8_lossy(&h[157..257])
                .trim_end_matches('\0')
                .to_string();
            let size = if h[124] & 0x80 != 0 {
                u64::from_be_bytes(h[128..136].try_into().unwrap())
            } else {
                u64::from_str_radix(
                    String::from_utf8_lossy(&h[124..135]).trim_end_matches('\0'),
                    8,
                )
                .unwrap()
            };
            // Checksum is valid.
            let mut sum: u32 = 0;
            for (i, &b) in h.iter().enumerate() {
                sum += if (148..156).contains(&i) {
                    32
                } else {
                    u32::from(b)
                };
            }
            let stored =
                u32::from_str_radix(String::from_utf8_lossy(&h[148..154]).trim(), 8).unwrap();
            assert_eq!(sum, stored, "checksum of {name}");
            raw.push((name, h[156], link, size));
            off += 512 + size.div_ceil(512) as usize * 512;
        }
        assert_eq!(raw[0].0, "ok.txt");
        let names: Vec<&str> = raw.iter().map(|r| r.0.as_str()).collect();
        match kind {
            Malicious::DotDot => {
                assert!(names.contains(&"../berth-evil-dotdot"));
                assert!(names.iter().any(
                    |n| n.starts_with("../../../") && n.ends_with("tmp/berth-evil-dotdot-deep")
                ));
            }
            Malicious::AbsolutePath => assert!(names.contains(&"/tmp/berth-evil-absolute")),
            Malicious::SymlinkRoot => {
                assert_eq!(
                    (raw[1].0.as_str(), raw[1].1, raw[1].2.as_str()),
                    ("a", b'2', "/")
                );
                assert_eq!(raw[2].0, "a/tmp/berth-evil-symlink-root");
            }
            Malicious::SymlinkParent => {
                assert_eq!(
                    (raw[1].0.as_str(), raw[1].1, raw[1].2.as_str()),
                    ("a", b'2', "..")
                );
                assert_eq!(raw[2].0, "a/berth-evil-symlink-parent");
            }
            Malicious::HardlinkOutside => {
                assert_eq!(
                    (raw[1].0.as_str(), raw[1].1, raw[1].2.as_str()),
                    ("outside-link", b'1', "../../outside")
                );
                assert_eq!((raw[2].0.as_str(), raw[2].1), ("outside-link", b'0'));
            }
            Malicious::HugeSize => {
                assert_eq!((raw[1].0.as_str(), raw[1].3), ("huge.bin", 1u64 << 40));
                assert!(tar.len() < 8192, "the body is short");
            }
        }
        for t in kind.host_targets() {
            assert!(t.starts_with("/tmp"));
        }
    }
    // The tar crate reads the 1 TiB header too (base-256 size).
    let huge = Malicious::HugeSize.layer_tar();
    let mut ar = tar::Archive::new(&huge[..]);
    let mut entries = ar.entries().unwrap();
    entries.next().unwrap().unwrap();
    let e = entries.next().unwrap().unwrap();
    assert_eq!(e.header().entry_size().unwrap(), 1 << 40);
}

#[test]
fn basic_auth_registry() {
    let reg = Registry::start(RegistryAuth::basic());
    assert_eq!(reg.user(), Some(support::registry::DEFAULT_USER));
    assert_eq!(reg.anonymous_client().ping(), 401);
    assert_eq!(reg.client().ping(), 200);
    let img = fixtures::push_busybox_as(
        &reg,
        "private/busybox",
        "v1",
        Format::Oci,
        Compression::Zstd,
    );
    check_pushed(reg.client(), &img);

    let anon = reg
        .anonymous_client()
        .try_get_manifest("private/busybox", "v1")
        .unwrap_err();
    assert_eq!(anon.status, 401);
    let bad = reg.client_with(reg.user().unwrap(), "wrong-password");
    assert_eq!(bad.ping(), 401);
    assert_eq!(
        bad.try_get_manifest("private/busybox", "v1")
            .unwrap_err()
            .status,
        401
    );
    let resp = bad.request(
        "HEAD",
        &format!("/v2/private/busybox/blobs/{}", img.config_digest),
        &[],
        None,
    );
    assert_eq!(resp.status, 401);

    let cfg: serde_json::Value = serde_json::from_str(&reg.docker_config_json()).unwrap();
    let auth = cfg["auths"][reg.addr()]["auth"].as_str().unwrap();
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    assert_eq!(
        decoded,
        format!("{}:{}", reg.user().unwrap(), reg.password().unwrap()).as_bytes()
    );
}

#[test]
fn token_auth_registry() {
    let reg = Registry::start(RegistryAuth::token());
    let realm = reg.token_realm().unwrap();
    assert!(realm.starts_with("http://127.0.0.1:"));

    // /v2/ challenges with Bearer and our realm.
    let resp = reg.anonymous_client().raw("GET", "/v2/", &[], None);
    assert_eq!(resp.status, 401);
    let challenge = resp.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains(&realm));

    // Push and pull with the right credentials.
    let img = fixtures::push_multilayer(
        &reg,
        "private/multi",
        "latest",
        Format::Docker,
        Compression::Gzip,
    );
    check_pushed(reg.client(), &img);
    let fresh = reg.client_with(reg.user().unwrap(), reg.password().unwrap());
    check_pushed(&fresh, &img);
    let log = reg.token_requests();
    assert!(
        log.iter().any(|r| r.authenticated
            && r.granted
                .iter()
                .any(|g| g == "repository:private/multi:pull,push"
                    || g == "repository:private/multi:push,pull")),
        "{log:#?}"
    );

    // Anonymous: a token that grants nothing, so the registry says 401.
    let anon = reg.anonymous_client();
    assert_eq!(
        anon.try_get_manifest("private/multi", "latest")
            .unwrap_err()
            .status,
        401
    );
    let t = reg.request_token(None, "repository:private/multi:pull");
    assert_eq!(t.status, 200);
    let token = t.json()["token"].as_str().unwrap().to_string();
    let claims = jwt_claims(&token);
    assert_eq!(claims["access"], serde_json::json!([]));
    let direct = anon.raw(
        "GET",
        "/v2/private/multi/manifests/latest",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(direct.status, 401);

    // Wrong password: the token server refuses, so does the registry.
    let t = reg.request_token(
        Some((reg.user().unwrap(), "nope")),
        "repository:private/multi:pull",
    );
    assert_eq!(t.status, 401);
    let bad = reg.client_with(reg.user().unwrap(), "nope");
    assert_eq!(
        bad.try_get_manifest("private/multi", "latest")
            .unwrap_err()
            .status,
        401
    );
    assert!(
        reg.token_requests()
            .iter()
            .any(|r| r.status == 401 && !r.authenticated)
    );

    // A valid token is a JWT with an x5c chain and the requested access.
    let t = reg.request_token(
        Some((reg.user().unwrap(), reg.password().unwrap())),
        "repository:private/multi:pull",
    );
    assert_eq!(t.status, 200);
    let token = t.json()["token"].as_str().unwrap().to_string();
    let header = jwt_part(&token, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
    let claims = jwt_claims(&token);
    assert_eq!(claims["access"][0]["name"], "private/multi");
    assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
    let ok = reg.anonymous_client().raw(
        "GET",
        "/v2/private/multi/manifests/latest",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Accept", support::registry::MANIFEST_ACCEPT),
        ],
        None,
    );
    assert_eq!(ok.status, 200);
    // …which does not allow push.
    let push = reg.anonymous_client().raw(
        "POST",
        "/v2/private/multi/blobs/uploads/",
        &[("Authorization", &format!("Bearer {token}"))],
        Some(&[]),
    );
    assert_eq!(push.status, 401);
}

fn jwt_part(token: &str, i: usize) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn jwt_claims(token: &str) -> serde_json::Value {
    jwt_part(token, 1)
}

#[test]
fn registries_start_in_parallel_and_clean_up() {
    let start = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let auth = match i % 3 {
                    0 => RegistryAuth::None,
                    1 => RegistryAuth::basic(),
                    _ => RegistryAuth::token(),
                };
                let reg = Registry::start(auth);
                assert_eq!(reg.client().ping(), 200);
                let addr = reg.addr().to_string();
                let storage = reg.storage_dir();
                let pid = reg.pid();
                fixtures::push_busybox(&reg, "x/y", "z");
                assert!(storage.exists());
                drop(reg);
                assert!(!storage.exists(), "storage removed on drop");
                // The process is gone (killed and reaped).
                assert!(
                    !Path::new(&format!("/proc/{pid}")).exists(),
                    "registry process {pid} still there"
                );
                addr
            })
        })
        .collect();
    let addrs: HashSet<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(addrs.len(), 8);
    eprintln!(
        "8 registries started, used and stopped in {:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------------------
// The multi-layer image's expected tree, checked against an independent
// reading of the tars (the `tar` crate) and a merge model.

#[derive(Clone, Debug, PartialEq)]
struct Node {
    kind: tar::EntryType,
    mode: u32,
    uid: u32,
    gid: u32,
    data: Vec<u8>,
    link: Option<String>,
    xattrs: Vec<(String, Vec<u8>)>,
    dev: (u32, u32),
}

/// Applies the layers the way overlayfs / docker do.
fn merge_model(layers: &[Arc<Vec<u8>>]) -> BTreeMap<String, Node> {
    let mut tree: BTreeMap<String, Node> = BTreeMap::new();
    let remove_under = |tree: &mut BTreeMap<String, Node>, dir: &str| {
        let prefix = format!("{dir}/");
        tree.retain(|k, _| !k.starts_with(&prefix));
    };
    for layer in layers {
        let mut entries = Vec::new();
        let mut ar = tar::Archive::new(&layer[..]);
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string();
            let h = e.header().clone();
            let xattrs = e
                .pax_extensions()
                .unwrap()
                .map(|exts| {
                    exts.map(|x| x.unwrap())
                        .filter_map(|x| {
                            x.key()
                                .unwrap()
                                .strip_prefix("SCHILY.xattr.")
                                .map(|k| (k.to_string(), x.value_bytes().to_vec()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            entries.push((
                path,
                Node {
                    kind: h.entry_type(),
                    mode: h.mode().unwrap(),
                    uid: h.uid().unwrap() as u32,
                    gid: h.gid().unwrap() as u32,
                    data,
                    link: e
                        .link_name()
                        .unwrap()
                        .map(|l| l.to_string_lossy().into_owned()),
                    xattrs,
                    dev: (
                        h.device_major().unwrap().unwrap_or(0),
                        h.device_minor().unwrap().unwrap_or(0),
                    ),
                },
            ));
        }
        // Whiteouts apply to the lower layers, before this layer's content.
        for (path, _) in &entries {
            let (dir, base) = path
                .rsplit_once('/')
                .map_or(("", path.as_str()), |(d, b)| (d, b));
            if base == ".wh..wh..opq" {
                remove_under(&mut tree, dir);
            } else if let Some(name) = base.strip_prefix(".wh.") {
                let victim = if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                };
                tree.remove(&victim);
                remove_under(&mut tree, &victim);
            }
        }
        for (path, node) in entries {
            let base = path.rsplit('/').next().unwrap();
            if base.starts_with(".wh.") {
                continue;
            }
            if node.kind != tar::EntryType::Directory {
                remove_under(&mut tree, &path);
            }
            tree.insert(path, node);
        }
    }
    tree
}

#[test]
fn multilayer_expected_matches_an_independent_merge() {
    let layers = fixtures::multilayer_layers();
    let model = merge_model(&layers);
    let expected = fixtures::multilayer_expected();
    let want: HashSet<&str> = expected.entries.iter().map(|e| e.path.as_str()).collect();
    let got: HashSet<&str> = model.keys().map(String::as_str).collect();
    assert_eq!(want, got, "paths of the merged tree");
    for a in &expected.absent {
        assert!(!model.contains_key(a), "{a} should be absent");
    }
    for e in &expected.entries {
        let n = &model[&e.path];
        let resolved = match (n.kind, &n.link) {
            (tar::EntryType::Link, Some(t)) => &model[t],
            _ => n,
        };
        match &e.kind {
            fixtures::ExpectedKind::File { sha256, size } => {
                assert!(
                    matches!(n.kind, tar::EntryType::Regular | tar::EntryType::Link),
                    "{}",
                    e.path
                );
                assert_eq!(sha256_hex(&resolved.data), *sha256, "{}", e.path);
                assert_eq!(resolved.data.len() as u64, *size);
            }
            fixtures::ExpectedKind::Dir => {
                assert_eq!(n.kind, tar::EntryType::Directory, "{}", e.path)
            }
            fixtures::ExpectedKind::Symlink { target } => {
                assert_eq!(n.kind, tar::EntryType::Symlink, "{}", e.path);
                assert_eq!(n.link.as_deref(), Some(target.as_str()));
            }
            fixtures::ExpectedKind::Fifo => assert_eq!(n.kind, tar::EntryType::Fifo),
            fixtures::ExpectedKind::CharDevice { major, minor } => {
                assert_eq!(n.kind, tar::EntryType::Char);
                assert_eq!(n.dev, (*major, *minor));
            }
        }
        if n.kind != tar::EntryType::Symlink {
            assert_eq!(resolved.mode, e.mode, "mode of {}", e.path);
        }
        assert_eq!(
            (resolved.uid, resolved.gid),
            (e.uid, e.gid),
            "owner of {}",
            e.path
        );
        assert_eq!(resolved.xattrs, e.xattrs, "xattrs of {}", e.path);
    }
    for group in &expected.hardlinks {
        let target = &group[0];
        assert_eq!(model[target].kind, tar::EntryType::Regular);
        for other in &group[1..] {
            assert_eq!(model[other].kind, tar::EntryType::Link);
            assert_eq!(model[other].link.as_ref(), Some(target));
        }
    }
}

/// Writes the model to disk (as root: owners, device, capabilities) so that
/// `Expected::verify` can be checked on a real tree.
fn materialize(model: &BTreeMap<String, Node>, root: &Path, ids: &IdMap) {
    // Hard links last: their targets may sort after them.
    let (links, others): (Vec<_>, Vec<_>) = model
        .iter()
        .partition(|(_, n)| n.kind == tar::EntryType::Link);
    for (path, n) in others.into_iter().chain(links) {
        let p = root.join(path);
        match n.kind {
            tar::EntryType::Directory => std::fs::create_dir_all(&p).unwrap(),
            tar::EntryType::Regular => std::fs::write(&p, &n.data).unwrap(),
            tar::EntryType::Symlink => {
                std::os::unix::fs::symlink(n.link.as_ref().unwrap(), &p).unwrap()
            }
            tar::EntryType::Link => {
                std::fs::hard_link(root.join(n.link.as_ref().unwrap()), &p).unwrap()
            }
            tar::EntryType::Fifo => {
                nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap()
            }
            tar::EntryType::Char => nix::sys::stat::mknod(
                &p,
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(u64::from(n.dev.0), u64::from(n.dev.1)),
            )
            .unwrap(),
            k => panic!("unexpected {k:?}"),
        }
        if n.kind == tar::EntryType::Link {
            continue;
        }
        std::os::unix::fs::lchown(&p, Some(ids.host_uid(n.uid)), Some(ids.host_gid(n.gid)))
            .unwrap();
        if n.kind != tar::EntryType::Symlink {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(n.mode)).unwrap();
        }
        for (k, v) in &n.xattrs {
            let cp = CString::new(p.as_os_str().as_bytes()).unwrap();
            let ck = CString::new(k.as_str()).unwrap();
            // SAFETY: valid C strings and buffer.
            let r =
                unsafe { libc::lsetxattr(cp.as_ptr(), ck.as_ptr(), v.as_ptr().cast(), v.len(), 0) };
            assert_eq!(
                r,
                0,
                "setxattr {k} on {path}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[test]
fn expected_verify_on_a_real_tree() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: writing owners and device nodes needs root");
        return;
    }
    let model = merge_model(&fixtures::multilayer_layers());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir(&root).unwrap();
    materialize(&model, &root, &IdMap::Identity);
    let expected = fixtures::multilayer_expected();
    expected.assert_matches(&root, &IdMap::Identity);

    // The checker notices breakage.
    std::fs::write(root.join("data/removed.txt"), "back").unwrap();
    std::fs::write(root.join("stray"), "x").unwrap();
    std::fs::set_permissions(
        root.join("bin/suid"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::lchown(root.join("owned/app.txt"), Some(0), Some(0)).unwrap();
    std::fs::remove_file(root.join("links/hardlink.txt")).unwrap();
    std::fs::write(root.join("links/hardlink.txt"), "hard link target\n").unwrap();
    std::fs::write(root.join("etc/motd"), "layer 1 motd\n").unwrap();
    let cap = CString::new(root.join("xattr/cap.bin").as_os_str().as_bytes()).unwrap();
    // SAFETY: valid C strings.
    unsafe { libc::lremovexattr(cap.as_ptr(), c"security.capability".as_ptr()) };
    let problems = expected.verify(&root, &IdMap::Identity, true);
    let joined = problems.join("\n");
    for needle in [
        "data/removed.txt: exists",
        "stray: unexpected",
        "bin/suid: mode 755 != 4755",
        "owned/app.txt: owner 0:0 != 1000:1000",
        "not one inode",
        "etc/motd: content differs",
        "xattr/cap.bin: xattr security.capability missing",
    ] {
        assert!(
            joined.contains(needle),
            "verify missed `{needle}`:\n{joined}"
        );
    }

    // Rootless owners: shifted ids, devices not required.
    let ids = IdMap::Rootless {
        uid: 1001,
        gid: 1001,
        subuid: 100000,
        subgid: 100000,
        count: 65536,
    };
    assert_eq!(ids.host_uid(0), 1001);
    assert_eq!(ids.host_uid(1000), 100999);
    assert_eq!(ids.host_gid(65534), 165533);
    let root2 = dir.path().join("rootless");
    std::fs::create_dir(&root2).unwrap();
    let mut no_devices = model.clone();
    no_devices.retain(|_, n| n.kind != tar::EntryType::Char);
    materialize(&no_devices, &root2, &ids);
    expected.assert_matches(&root2, &ids);
    assert!(!expected.verify(&root2, &IdMap::Identity, true).is_empty());
}

// ---------------------------------------------------------------------------
// TestEnv

#[test]
fn modes_and_test_env() {
    let modes = berth::modes();
    if nix::unistd::geteuid().is_root() {
        assert_eq!(modes, vec![Mode::Root, Mode::Rootless]);
    } else {
        assert_eq!(modes, vec![Mode::Rootless]);
    }
    let bin = berth::berth_bin();
    let seen = std::sync::Mutex::new(Vec::new());
    for_each_mode(|env| {
        seen.lock().unwrap().push(env.mode());
        // Runs as the right user with the right groups.
        let out = env.command("/usr/bin/id").arg("-u").output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            env.uid().to_string()
        );
        let out = env.command("/usr/bin/id").arg("-g").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            env.gid().to_string()
        );
        if env.mode() == Mode::Root {
            assert_eq!(env.uid(), 0);
        } else {
            assert_ne!(env.uid(), 0);
            assert_eq!(env.uid(), berth::test_user().uid);
        }

        // The environment: cleared, then ours.
        let out = env.command("/usr/bin/env").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let vars: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        assert_eq!(vars["PATH"], berth::TEST_PATH);
        assert_eq!(Path::new(vars["HOME"]), env.home());
        assert_eq!(Path::new(vars["XDG_RUNTIME_DIR"]), env.run_dir());
        assert_eq!(vars["USER"], env.user_name());
        assert_eq!(vars["LOGNAME"], env.user_name());
        assert_eq!(vars["LANG"], "C.UTF-8");
        assert!(
            !vars.contains_key("RUST_BACKTRACE"),
            "RUST_BACKTRACE must be unset"
        );
        assert!(!vars.contains_key("CARGO_MANIFEST_DIR"));
        match env.mode() {
            Mode::Root => {
                assert_eq!(Path::new(vars["BERTH_ROOT"]), env.data_dir());
                assert_eq!(Path::new(vars["BERTH_RUNROOT"]), env.run_dir());
                assert_eq!(
                    Path::new(vars["BERTH_CONFIG_DIR"]),
                    env.config_path().parent().unwrap()
                );
                assert_eq!(vars.len(), 9, "{vars:?}");
            }
            Mode::Rootless => {
                assert_eq!(env.data_dir(), env.home().join(".local/share/berth"));
                assert_eq!(
                    env.config_path(),
                    env.home().join(".config/berth/config.toml")
                );
                assert_eq!(vars.len(), 6, "{vars:?}");
                let m = std::fs::metadata(env.run_dir()).unwrap();
                assert_eq!((m.uid(), m.mode() & 0o777), (env.uid(), 0o700));
            }
        }

        // Files the harness writes are the user's and readable by it.
        env.write_config("[registries]\ninsecure = []\n");
        env.write_docker_config(r#"{"auths":{}}"#);
        for p in [env.config_path(), env.home().join(".docker/config.json")] {
            let m = std::fs::metadata(&p).unwrap();
            assert_eq!(m.uid(), env.uid(), "{}", p.display());
            env.command("/bin/cat").arg(&p).assert().success();
        }
        // The user can create berth's data dir and use scratch dirs.
        env.command("/bin/mkdir")
            .arg("-p")
            .arg(env.data_dir())
            .assert()
            .success();
        let scratch = env.scratch_dir("ctx");
        env.command("/usr/bin/touch")
            .arg(scratch.join("f"))
            .assert()
            .success();
        // …and execute the berth binary.
        env.command("/usr/bin/test")
            .arg("-x")
            .arg(bin)
            .assert()
            .success();
        // berth itself may not do much yet: only check it can be started.
        let out = env.berth_cmd(["--version"]).output().unwrap();
        eprintln!(
            "[{}] berth --version: {} {}",
            env.mode(),
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        );
    });
    assert_eq!(*seen.lock().unwrap(), modes);
}

#[test]
fn for_each_mode_labels_failures() {
    let r = std::panic::catch_unwind(|| {
        for_each_mode(|env| {
            assert!(env.mode() != Mode::Rootless, "deliberate failure");
        })
    });
    let msg = r.expect_err("must fail");
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("[mode rootless]"), "{msg}");
    assert!(msg.contains("deliberate failure"), "{msg}");
    assert!(!msg.contains("[mode root]"), "{msg}");
}

#[test]
fn test_env_removes_files_of_subordinate_ids() {
    let env = TestEnv::new(Mode::Rootless);
    let dir = env.dir().to_path_buf();
    let data = env.data_dir();
    env.mkdir_owned(&data);
    if nix::unistd::geteuid().is_root() {
        // What a rootless unpack leaves: files owned by subuids, a read-only dir.
        let ids = env.id_map();
        let sub = data.join("layers/x");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("f"), "x").unwrap();
        std::os::unix::fs::lchown(
            sub.join("f"),
            Some(ids.host_uid(1000)),
            Some(ids.host_gid(1000)),
        )
        .unwrap();
        std::os::unix::fs::lchown(&sub, Some(ids.host_uid(65534)), Some(ids.host_gid(65534)))
            .unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o500)).unwrap();
    } else if let (Some((su, n)), Some((sg, m))) =
        (berth::test_user().subuid, berth::test_user().subgid)
    {
        // Non-root: give a file to a subordinate id from a user namespace,
        // as a rootless unpack would.
        let f = data.join("sub-owned");
        std::fs::write(&f, "x").unwrap();
        let ok = std::process::Command::new("unshare")
            .arg("--map-root-user")
            .arg(format!("--map-users={su},1,{n}"))
            .arg(format!("--map-groups={sg},1,{m}"))
            .args(["chown", "1000:1000"])
            .arg(&f)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown to a subordinate id failed");
        assert_eq!(std::fs::metadata(&f).unwrap().uid(), su + 999);
    }
    drop(env);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn test_env_kills_leftover_processes() {
    for mode in berth::modes() {
        let env = TestEnv::new(mode);
        // A detached helper in its own session, as a monitor would be.
        let mut child = env
            .std_command("/usr/bin/setsid")
            .args(["/bin/sleep", "600"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let start = Instant::now();
        drop(env);
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "[{mode}] sleep was not killed: {status:?}"
        );
        assert!(start.elapsed().as_secs() < 10);
    }
}

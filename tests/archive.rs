//! Images and containers in and out of the store: `save`, `load`, `commit`,
//! `export`, `import`, root and rootless; archives made by the test (old and
//! new docker layouts, OCI), hostile archives, and podman when installed.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, Compression, Format, ImageConfig};
use support::registry::{Registry, RegistryAuth};
use support::sha256_digest;
use support::tarball::TarWriter;

fn run_ok(env: &TestEnv, args: &[&str]) -> String {
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "berth {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn with_stdin(env: &TestEnv, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut c = env.berth_std();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn inspect(env: &TestEnv, image: &str) -> Value {
    let v: Value = serde_json::from_str(&run_ok(env, &["image", "inspect", image])).unwrap();
    v[0].clone()
}

/// Entries of a tar stream: name → content (regular files) / "" (others).
fn tar_files(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        out.insert(name, data);
    }
    out
}

fn write_file(env: &TestEnv, name: &str, bytes: &[u8]) -> String {
    let p = env.dir().join("scratch").join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

/// The busybox layer plus the multi-layer fixture's three layers (whiteouts,
/// opaque dir, hard links, symlinks, owners, xattrs, setuid), with a shell.
fn push_rich(reg: &Registry) -> fixtures::PushedImage {
    let mut layers = vec![fixtures::busybox_layer()];
    layers.extend(fixtures::multilayer_layers());
    let img = fixtures::build_image(
        &layers,
        &ImageConfig::busybox(),
        Format::Docker,
        Compression::Gzip,
    );
    fixtures::push_image(reg, "test/rich", "v1", &img)
}

fn image_ids(env: &TestEnv) -> String {
    run_ok(env, &["images", "-q", "--no-trunc"])
}

/// No temp dir of a load or a layer import is left in the store.
fn assert_no_leftovers(env: &TestEnv) {
    let storage = env.data_dir().join("storage");
    for dir in [storage.clone(), storage.join("layers")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !n.starts_with(".load-") && !n.starts_with(".new-") && !n.ends_with(".partial"),
                "leftover {n} in {}",
                dir.display()
            );
        }
    }
}

#[test]
fn save_rmi_load_round_trip_keeps_ids_tags_and_diff_ids() {
    let reg = Registry::start(RegistryAuth::None);
    let rich = push_rich(&reg);
    let bb = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &rich.reference()]);
        run_ok(env, &["pull", "-q", &bb.reference()]);
        run_ok(env, &["tag", &bb.reference(), "mine:one"]);
        let before_rich = inspect(env, &rich.reference());
        let before_bb = inspect(env, "mine:one");
        let file = env.dir().join("scratch/all.tar");
        let file = file.to_str().unwrap();
        run_ok(
            env,
            &[
                "save",
                "-o",
                file,
                &rich.reference(),
                &bb.reference(),
                "mine:one",
            ],
        );
        // The archive: docker ≥ 25 layout, every layer byte-exact.
        let files = tar_files(&std::fs::read(file).unwrap());
        for f in ["index.json", "manifest.json", "oci-layout", "repositories"] {
            assert!(files.contains_key(f), "{f} missing: {:?}", files.keys());
        }
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        assert_eq!(manifest.as_array().unwrap().len(), 2);
        for entry in manifest.as_array().unwrap() {
            for l in entry["Layers"].as_array().unwrap() {
                let name = l.as_str().unwrap();
                let data = files.get(name).unwrap_or_else(|| panic!("{name} missing"));
                assert_eq!(
                    sha256_digest(data),
                    format!("sha256:{}", name.trim_start_matches("blobs/sha256/"))
                );
            }
        }
        let rich_entry = manifest
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["Config"]
                    .as_str()
                    .unwrap()
                    .ends_with(&rich.image_id()[7..])
            })
            .unwrap();
        let layer_names: Vec<String> = rich_entry["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("sha256:{}", &l.as_str().unwrap()[13..]))
            .collect();
        assert_eq!(layer_names, rich.diff_ids);
        // The fixture's layer tars come back exactly (tar-split).
        for (i, tar) in rich.layer_tars.iter().enumerate() {
            assert_eq!(
                files[&format!("blobs/sha256/{}", &rich.diff_ids[i][7..])],
                **tar
            );
        }
        let mut tags: Vec<String> = Vec::new();
        for e in manifest.as_array().unwrap() {
            for t in e["RepoTags"].as_array().unwrap() {
                tags.push(t.as_str().unwrap().to_string());
            }
        }
        tags.sort();
        let mut want = vec![rich.reference(), bb.reference(), "mine:one".to_string()];
        want.sort();
        assert_eq!(tags, want);

        run_ok(
            env,
            &["rmi", &rich.reference(), &bb.reference(), "mine:one"],
        );
        assert_eq!(image_ids(env), "");
        let out = run_ok(env, &["load", "-i", file]);
        let mut lines: Vec<&str> = out.lines().collect();
        lines.sort();
        let mut expect: Vec<String> = want.iter().map(|t| format!("Loaded image: {t}")).collect();
        expect.sort();
        assert_eq!(lines, expect);
        let after_rich = inspect(env, &rich.reference());
        let after_bb = inspect(env, "mine:one");
        assert_eq!(after_rich["Id"], before_rich["Id"]);
        assert_eq!(after_rich["RootFS"], before_rich["RootFS"]);
        assert_eq!(after_bb["Id"], before_bb["Id"]);
        let mut t = after_bb["RepoTags"].as_array().unwrap().clone();
        t.sort_by_key(|v| v.to_string());
        let mut t0 = before_bb["RepoTags"].as_array().unwrap().clone();
        t0.sort_by_key(|v| v.to_string());
        assert_eq!(t, t0);
        assert_eq!(after_rich["RepoTags"], before_rich["RepoTags"]);
        // The loaded image runs and has its files.
        let cat = run_ok(
            env,
            &[
                "run",
                "--rm",
                &rich.reference(),
                "cat",
                "/etc/motd",
                "/links/hardlink.txt",
            ],
        );
        assert_eq!(cat, "layer 3 motd\nhard link target\n");

        // save | tar -x: manifest.json's layers exist; a digest reference saves untagged.
        let out = env
            .berth_cmd(["save", &rich.image_id()[7..19]])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = env.scratch_dir("x");
        let mut tar = std::process::Command::new("tar")
            .args(["-x", "-C", dir.to_str().unwrap()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        tar.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        assert!(tar.wait().unwrap().success());
        let m: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m[0]["RepoTags"], Value::Null);
        for l in m[0]["Layers"].as_array().unwrap() {
            assert!(dir.join(l.as_str().unwrap()).is_file());
        }
        assert!(!dir.join("repositories").exists());

        // Loading again over existing images says so like docker and changes nothing.
        let out = run_ok(env, &["load", "-q", "-i", file]);
        assert_eq!(out.lines().count(), 3);
        assert_no_leftovers(env);
    });
}

/// A docker 1.10–24 style archive: `<hex>.json`, `<id>/layer.tar`, a
/// symlinked duplicate layer, `manifest.json`, `repositories`.
fn old_style_archive(img: &fixtures::BuiltImage, tag: &str) -> Vec<u8> {
    let mut t = TarWriter::new();
    let cfg_hex = &img.config_digest[7..];
    let mut layer_names = Vec::new();
    for (i, l) in img.layers.iter().enumerate() {
        let id = format!("{:064x}", i + 1);
        t.dir(&id, 0o755, 0, 0)
            .file(&format!("{id}/VERSION"), 0o644, 0, 0, b"1.0")
            .file(
                &format!("{id}/json"),
                0o644,
                0,
                0,
                format!("{{\"id\":\"{id}\"}}").as_bytes(),
            )
            .file(&format!("{id}/layer.tar"), 0o644, 0, 0, &l.tar);
        layer_names.push(format!("{id}/layer.tar"));
    }
    t.file(&format!("{cfg_hex}.json"), 0o644, 0, 0, &img.config);
    let manifest =
        json!([{"Config": format!("{cfg_hex}.json"), "RepoTags": [tag], "Layers": layer_names}]);
    t.file(
        "manifest.json",
        0o644,
        0,
        0,
        manifest.to_string().as_bytes(),
    );
    t.file("repositories", 0o644, 0, 0, b"{}");
    t.finish()
}

/// An OCI image layout archive (index.json only) with gzip layers.
fn oci_archive(img: &fixtures::BuiltImage, name: Option<&str>) -> Vec<u8> {
    let mut t = TarWriter::new();
    t.file(
        "oci-layout",
        0o644,
        0,
        0,
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    );
    let mut desc = json!({
        "mediaType": img.manifest_media_type,
        "digest": img.manifest_digest,
        "size": img.manifest.len(),
    });
    if let Some(n) = name {
        desc["annotations"] = json!({"org.opencontainers.image.ref.name": n});
    }
    t.file(
        "index.json",
        0o644,
        0,
        0,
        json!({"schemaVersion": 2, "manifests": [desc]})
            .to_string()
            .as_bytes(),
    );
    t.dir("blobs", 0o755, 0, 0).dir("blobs/sha256", 0o755, 0, 0);
    t.file(
        &format!("blobs/sha256/{}", &img.manifest_digest[7..]),
        0o644,
        0,
        0,
        &img.manifest,
    );
    t.file(
        &format!("blobs/sha256/{}", &img.config_digest[7..]),
        0o644,
        0,
        0,
        &img.config,
    );
    for l in &img.layers {
        t.file(
            &format!("blobs/sha256/{}", &l.digest[7..]),
            0o644,
            0,
            0,
            &l.blob,
        );
    }
    t.finish()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn busybox_hi() -> fixtures::BuiltImage {
    let cfg = ImageConfig::busybox().cmd(&["echo", "hi from the archive"]);
    fixtures::build_image(
        &[fixtures::busybox_layer()],
        &cfg,
        Format::Oci,
        Compression::Gzip,
    )
}

#[test]
fn load_old_style_oci_and_compressed_archives() {
    let img = busybox_hi();
    let old = old_style_archive(&img, "old:style");
    let oci = oci_archive(&img, Some("example.com/oci/img:v2"));
    let untagged = {
        let i = fixtures::build_image(
            &[fixtures::busybox_layer()],
            &ImageConfig::busybox().cmd(&["echo", "untagged"]),
            Format::Oci,
            Compression::Zstd,
        );
        (oci_archive(&i, None), i.config_digest.clone())
    };
    for_each_mode(|env| {
        let f = write_file(env, "old.tar", &old);
        assert_eq!(
            run_ok(env, &["load", "-i", &f]),
            "Loaded image: old:style\n"
        );
        assert_eq!(inspect(env, "old:style")["Id"], json!(img.config_digest));
        assert_eq!(
            run_ok(env, &["run", "--rm", "old:style"]),
            "hi from the archive\n"
        );
        // OCI layout, gzip layers, from stdin; the same image gets a second name.
        let out = with_stdin(env, &["load"], &oci);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Loaded image: example.com/oci/img:v2\n"
        );
        assert_eq!(
            inspect(env, "example.com/oci/img:v2")["Id"],
            json!(img.config_digest)
        );
        // gzip'd whole archive; an untagged image with zstd layers.
        run_ok(env, &["rmi", "old:style", "example.com/oci/img:v2"]);
        let out = with_stdin(env, &["load"], &gzip(&old));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Loaded image: old:style\n"
        );
        let out = with_stdin(env, &["load"], &untagged.0);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("Loaded image ID: {}\n", untagged.1)
        );
        assert_eq!(
            run_ok(env, &["run", "--rm", &untagged.1[7..19]]),
            "untagged\n"
        );
        assert_no_leftovers(env);
    });
}

#[test]
fn malformed_archives_fail_clearly_and_change_nothing() {
    let img = busybox_hi();
    let good = old_style_archive(&img, "good:one");
    let cfg_hex = img.config_digest[7..].to_string();
    let layer = img.layers[0].tar.clone();
    let manifest = |layers: &[&str]| {
        json!([{"Config": format!("{cfg_hex}.json"), "RepoTags": ["bad:one"], "Layers": layers}])
            .to_string()
    };
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // Path traversal in an entry name.
    let mut t = TarWriter::new();
    let mut h =
        support::tarball::Header::new("../escape.txt", support::tarball::EntryType::File, 0o644);
    h.size = 3;
    t.raw(&h, b"bad");
    t.file("manifest.json", 0o644, 0, 0, b"[]");
    cases.push(("traversal", t.finish(), "path traversal"));
    // A config whose name is not its digest.
    let mut t = TarWriter::new();
    t.file(&format!("{}.json", "0".repeat(64)), 0o644, 0, 0, &img.config)
        .file("l/layer.tar", 0o644, 0, 0, &layer)
        .file(
            "manifest.json",
            0o644,
            0,
            0,
            json!([{"Config": format!("{}.json", "0".repeat(64)), "RepoTags": ["bad:one"], "Layers": ["l/layer.tar"]}])
                .to_string()
                .as_bytes(),
        );
    cases.push(("config digest", t.finish(), "does not match its digest"));
    // A layer whose content is not the config's diff_id.
    let mut other = TarWriter::new();
    other.file("evil", 0o644, 0, 0, b"not the layer\n");
    // (the config names a layer the store does not have, so it must be read)
    let mut lying_cfg: Value = serde_json::from_slice(&img.config).unwrap();
    lying_cfg["rootfs"]["diff_ids"] = json!([format!("sha256:{}", "ab".repeat(32))]);
    let lying_cfg = serde_json::to_vec(&lying_cfg).unwrap();
    let lying_hex = sha256_digest(&lying_cfg)[7..].to_string();
    let mut t = TarWriter::new();
    t.file(&format!("{lying_hex}.json"), 0o644, 0, 0, &lying_cfg)
        .file("l/layer.tar", 0o644, 0, 0, &other.finish())
        .file(
            "manifest.json",
            0o644,
            0,
            0,
            json!([{"Config": format!("{lying_hex}.json"), "RepoTags": ["bad:one"], "Layers": ["l/layer.tar"]}])
                .to_string()
                .as_bytes(),
        );
    cases.push(("layer digest", t.finish(), "but the image config says"));
    // A missing layer file.
    let mut t = TarWriter::new();
    t.file(&format!("{cfg_hex}.json"), 0o644, 0, 0, &img.config)
        .file(
            "manifest.json",
            0o644,
            0,
            0,
            manifest(&["nope/layer.tar"]).as_bytes(),
        );
    cases.push(("missing layer", t.finish(), "missing from the archive"));
    // Bad JSON.
    let mut t = TarWriter::new();
    t.file("manifest.json", 0o644, 0, 0, b"[{\"Config\": ");
    cases.push(("bad json", t.finish(), "not valid JSON"));
    // Truncated in the middle of the layer.
    cases.push((
        "truncated",
        good[..good.len() / 2].to_vec(),
        "invalid archive",
    ));
    // A hostile layer (symlink escape) inside a well-formed archive.
    let mut evil = TarWriter::new();
    evil.symlink("link", "/etc")
        .file("link/passwd", 0o644, 0, 0, b"owned\n");
    let evil = evil.finish();
    let mut evil_cfg: Value = serde_json::from_slice(&img.config).unwrap();
    evil_cfg["rootfs"]["diff_ids"] = json!([sha256_digest(&evil)]);
    let evil_cfg = serde_json::to_vec(&evil_cfg).unwrap();
    let mut t = TarWriter::new();
    t.file(&format!("{}.json", &sha256_digest(&evil_cfg)[7..]), 0o644, 0, 0, &evil_cfg)
        .file("l/layer.tar", 0o644, 0, 0, &evil)
        .file(
            "manifest.json",
            0o644,
            0,
            0,
            json!([{"Config": format!("{}.json", &sha256_digest(&evil_cfg)[7..]), "RepoTags": ["bad:one"], "Layers": ["l/layer.tar"]}])
                .to_string()
                .as_bytes(),
        );
    cases.push(("hostile layer", t.finish(), "symlink"));
    cases.push((
        "not an archive",
        b"hello, this is not a tar file at all".repeat(20),
        "invalid archive",
    ));
    cases.push(("empty", Vec::new(), "empty"));
    for_each_mode(|env| {
        let f = write_file(env, "good.tar", &good);
        run_ok(env, &["load", "-i", &f]);
        let before = image_ids(env);
        for (what, data, message) in &cases {
            let out = with_stdin(env, &["load"], data);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what}: {err}");
            assert!(err.contains(message), "{what}: {err}");
            assert!(out.stdout.is_empty(), "{what}");
            assert_eq!(image_ids(env), before, "{what}");
            assert_no_leftovers(env);
        }
    });
}

#[test]
fn commit_captures_adds_changes_deletes_and_opaque_dirs() {
    let reg = Registry::start(RegistryAuth::None);
    let rich = push_rich(&reg);
    for_each_mode(|env| {
        let script = "set -e; echo new > /new.txt; chown 1000:1000 /new.txt; ln /new.txt /hl.txt; \
             echo changed >> /etc/motd; rm -r /data /opaque/new.txt; rm -r /typechange; \
             mkdir /typechange; echo again > /typechange/x; rm -rf /empty; mkdir /empty; \
             echo fresh > /empty/fresh; ln -s /new.txt /sym";
        run_ok(
            env,
            &["run", "--name", "c1", &rich.reference(), "sh", "-c", script],
        );
        let id = run_ok(
            env,
            &[
                "commit",
                "-a",
                "Ann <a@b>",
                "-m",
                "my change",
                "c1",
                "committed:v1",
            ],
        );
        let id = id.trim();
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        let check = "cat /new.txt /hl.txt /etc/motd /typechange/x /empty/fresh; \
             stat -c '%u:%g %h' /new.txt; readlink /sym; ls -A /empty; \
             ls /data 2>&1 || echo no-data; ls /opaque; cat /links/hardlink.txt";
        let out = run_ok(env, &["run", "--rm", "committed:v1", "sh", "-c", check]);
        assert_eq!(
            out,
            "new\nnew\nlayer 3 motd\nchanged\nagain\nfresh\n1000:1000 2\n/new.txt\nfresh\n\
             ls: /data: No such file or directory\nno-data\n\nhard link target\n"
                .replace("\n\nhard", "\nhard"),
            "{out}"
        );
        let info = inspect(env, "committed:v1");
        assert_eq!(info["Id"], json!(id));
        assert_eq!(info["Author"], json!("Ann <a@b>"));
        assert_eq!(info["RootFS"]["Layers"].as_array().unwrap().len(), 5);
        let history = run_ok(env, &["history", "--no-trunc", "committed:v1"]);
        assert!(
            history.lines().nth(1).unwrap().contains("my change"),
            "{history}"
        );
        // The new layer as docker writes it: whiteouts, an opaque marker, no runtime files.
        let saved = env.berth_cmd(["save", "committed:v1"]).output().unwrap();
        let files = tar_files(&saved.stdout);
        let top = info["RootFS"]["Layers"][4].as_str().unwrap();
        let layer = tar_files(&files[&format!("blobs/sha256/{}", &top[7..])]);
        let names: Vec<&str> = layer.keys().map(String::as_str).collect();
        for want in [
            ".wh.data",
            "empty/.wh..wh..opq",
            "opaque/.wh.new.txt",
            "new.txt",
            "hl.txt",
            "sym",
        ] {
            assert!(names.contains(&want), "{want} not in {names:?}");
        }
        for never in [
            "etc/hosts",
            "etc/resolv.conf",
            "etc/hostname",
            "proc/",
            "sys/",
            "dev/",
        ] {
            assert!(!names.contains(&never), "{never} in {names:?}");
        }
        // -c CMD, and the image runs with it.
        run_ok(
            env,
            &[
                "commit",
                "-c",
                r#"CMD ["echo","hi"]"#,
                "-c",
                "ENV FOO=bar",
                "c1",
                "withcmd",
            ],
        );
        assert_eq!(run_ok(env, &["run", "--rm", "withcmd"]), "hi\n");
        assert_eq!(
            run_ok(env, &["run", "--rm", "withcmd", "sh", "-c", "echo $FOO"]),
            "bar\n"
        );
        // Bad input: exit 1, a clear message, nothing made.
        let before = image_ids(env);
        let out = env
            .berth_cmd(["commit", "-c", "RUN echo", "c1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("RUN is not a valid change command"));
        let out = env.berth_cmd(["commit", "nosuch"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(image_ids(env), before);
        // A running container is committed paused, and keeps running.
        run_ok(
            env,
            &[
                "run",
                "-d",
                "--name",
                "live",
                &rich.reference(),
                "sh",
                "-c",
                "echo up > /up; sleep 100",
            ],
        );
        let mut ok = false;
        for _ in 0..50 {
            let out = env
                .berth_cmd(["exec", "live", "cat", "/up"])
                .output()
                .unwrap();
            if out.status.success() {
                ok = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(ok);
        run_ok(env, &["commit", "live", "live:snap"]);
        assert_eq!(
            run_ok(env, &["inspect", "-f", "{{.State.Status}}", "live"]),
            "running\n"
        );
        assert_eq!(
            run_ok(env, &["run", "--rm", "live:snap", "cat", "/up"]),
            "up\n"
        );
        run_ok(env, &["rm", "-f", "live"]);
        assert_no_leftovers(env);
    });
}

#[test]
fn export_then_import_runs() {
    let reg = Registry::start(RegistryAuth::None);
    let rich = push_rich(&reg);
    for_each_mode(|env| {
        run_ok(env, &["create", "--name", "exp", &rich.reference(), "true"]);
        let out = env.berth_cmd(["export", "exp"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tar = out.stdout;
        // tar -t lists it; owners are the container's view.
        let mut t = std::process::Command::new("tar")
            .args(["-tv", "--numeric-owner"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = t.stdin.take().unwrap();
        let data = tar.clone();
        let w = std::thread::spawn(move || stdin.write_all(&data).unwrap());
        let listing = String::from_utf8(t.wait_with_output().unwrap().stdout).unwrap();
        w.join().unwrap();
        assert!(listing.contains(" bin/busybox\n"), "{listing}");
        let app = listing
            .lines()
            .find(|l| l.ends_with(" owned/app.txt"))
            .unwrap();
        assert!(app.contains("1000/1000"), "{app}");
        let files = tar_files(&tar);
        assert!(
            files
                .keys()
                .all(|k| !k.starts_with("./") && !k.starts_with('/')),
            "no ./ prefix, like docker"
        );
        assert_eq!(files["etc/motd"], b"layer 3 motd\n");
        assert!(!files.contains_key("data/removed.txt"));
        // -o writes a file.
        let path = env.dir().join("scratch/c.tar");
        run_ok(env, &["export", "-o", path.to_str().unwrap(), "exp"]);
        assert_eq!(std::fs::read(&path).unwrap().len(), tar.len());
        // import, with changes and a message; then run.
        let out = with_stdin(
            env,
            &[
                "import",
                "-c",
                "CMD [\"cat\", \"/etc/motd\"]",
                "-m",
                "from export",
                "-",
                "imported:1",
            ],
            &gzip(&tar),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8(out.stdout).unwrap();
        assert!(id.starts_with("sha256:"), "{id}");
        assert_eq!(
            run_ok(env, &["run", "--rm", "imported:1"]),
            "layer 3 motd\n"
        );
        assert_eq!(
            run_ok(
                env,
                &[
                    "run",
                    "--rm",
                    "imported:1",
                    "stat",
                    "-c",
                    "%u",
                    "/owned/app.txt"
                ]
            ),
            "1000\n"
        );
        let h = run_ok(env, &["history", "--format", "{{.Comment}}", "imported:1"]);
        assert_eq!(h, "from export\n");
        run_ok(env, &["import", path.to_str().unwrap(), "imported:2"]);
        let h = run_ok(env, &["history", "--format", "{{.Comment}}", "imported:2"]);
        assert_eq!(h, "Imported from -\n");
        // Not a tar: refused, nothing stored.
        let before = image_ids(env);
        let out = with_stdin(env, &["import", "-"], &[0u8; 100]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(image_ids(env), before);
        assert_no_leftovers(env);
    });
}

#[test]
fn oci_archive_format_and_podman_interop() {
    let reg = Registry::start(RegistryAuth::None);
    let bb = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &bb.reference()]);
        let out = env
            .berth_cmd(["save", "--format", "oci-archive", &bb.reference()])
            .output()
            .unwrap();
        assert!(out.status.success());
        let files = tar_files(&out.stdout);
        assert!(files.contains_key("index.json") && !files.contains_key("manifest.json"));
        run_ok(env, &["rmi", &bb.reference()]);
        let out = with_stdin(env, &["load"], &out.stdout);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("Loaded image: {}\n", bb.reference())
        );
        assert_eq!(inspect(env, &bb.reference())["Id"], json!(bb.image_id()));
    });
    let Ok(podman) = which("podman") else {
        eprintln!("podman not installed: interop part skipped");
        return;
    };
    let env = TestEnv::new(support::berth::Mode::Root);
    run_ok(&env, &["pull", "-q", &bb.reference()]);
    let archive = env.dir().join("scratch/berth.tar");
    run_ok(
        &env,
        &["save", "-o", archive.to_str().unwrap(), &bb.reference()],
    );
    let podman_root = env.dir().join("podman");
    let podman_cmd = |args: &[&str]| {
        let out = std::process::Command::new(&podman)
            .arg("--root")
            .arg(podman_root.join("root"))
            .arg("--runroot")
            .arg(podman_root.join("run"))
            .arg("--storage-driver")
            .arg("vfs")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let out = podman_cmd(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains(&bb.reference()), "{out}");
    let id = podman_cmd(&["image", "inspect", "--format", "{{.Id}}", &bb.reference()]);
    assert_eq!(id.trim(), &bb.image_id()[7..]);
    let theirs = env.dir().join("scratch/podman.tar");
    podman_cmd(&["save", "-o", theirs.to_str().unwrap(), &bb.reference()]);
    run_ok(&env, &["rmi", &bb.reference()]);
    let out = run_ok(&env, &["load", "-i", theirs.to_str().unwrap()]);
    assert_eq!(out, format!("Loaded image: {}\n", bb.reference()));
    assert_eq!(inspect(&env, &bb.reference())["Id"], json!(bb.image_id()));
    let oci = env.dir().join("scratch/podman-oci.tar");
    podman_cmd(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        &bb.reference(),
    ]);
    run_ok(&env, &["rmi", &bb.reference()]);
    let out = run_ok(&env, &["load", "-i", oci.to_str().unwrap()]);
    assert!(out.starts_with("Loaded image"), "{out}");
    assert_eq!(
        run_ok(&env, &["run", "--rm", &bb.image_id()[7..19], "echo", "ok"]),
        "ok\n"
    );
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(())
}

#[test]
fn commit_with_fuse_overlayfs_and_vfs_refusal() {
    let reg = Registry::start(RegistryAuth::None);
    let rich = push_rich(&reg);
    for_each_mode(|env| {
        let mut env = TestEnv::new(env.mode());
        run_ok(&env, &["pull", "-q", &rich.reference()]);
        let script = "set -e; rm -r /data; rm /opaque/new.txt; rm -r /empty; mkdir /empty; \
             echo fresh > /empty/fresh; echo f > /fuse.txt";
        if Path::new("/usr/bin/fuse-overlayfs").is_file() {
            env.set_env("BERTH_STORAGE_DRIVER", "fuse-overlayfs");
            run_ok(
                &env,
                &[
                    "run",
                    "--name",
                    "fuse",
                    &rich.reference(),
                    "sh",
                    "-c",
                    script,
                ],
            );
            run_ok(&env, &["commit", "fuse", "fuse:c"]);
            env.set_env("BERTH_STORAGE_DRIVER", "overlay");
            let out = run_ok(
                &env,
                &[
                    "run",
                    "--rm",
                    "fuse:c",
                    "sh",
                    "-c",
                    "cat /fuse.txt; ls -A /empty /opaque; ls /data || true",
                ],
            );
            assert_eq!(out, "f\n/empty:\nfresh\n\n/opaque:\n", "{out}");
        } else {
            eprintln!("fuse-overlayfs not installed: that part skipped");
        }
        env.set_env("BERTH_STORAGE_DRIVER", "vfs");
        run_ok(
            &env,
            &[
                "run",
                "--name",
                "copy",
                &rich.reference(),
                "sh",
                "-c",
                script,
            ],
        );
        let out = env.berth_cmd(["commit", "copy", "vfs:c"]).output().unwrap();
        assert_eq!(out.status.code(), Some(125));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("vfs storage driver"), "{err}");
        assert!(inspect_missing(&env, "vfs:c"));
    });
}

fn inspect_missing(env: &TestEnv, image: &str) -> bool {
    !env.berth_cmd(["image", "inspect", image])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn save_and_export_refuse_a_terminal() {
    // `script` gives the command a terminal as stdout.
    let Ok(script) = which("script") else {
        eprintln!("script(1) not installed: skipped");
        return;
    };
    let env = TestEnv::new(support::berth::Mode::Root);
    let img = busybox_hi();
    run_ok(
        &env,
        &[
            "load",
            "-i",
            &write_file(&env, "a.tar", &old_style_archive(&img, "t:1")),
        ],
    );
    for cmd in ["save t:1", "export nosuch"] {
        let out = env
            .command(&script)
            .args([
                "-qec",
                &format!("{} {cmd}", support::berth::berth_bin().display()),
                "/dev/null",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if cmd.starts_with("save") {
            assert!(
                text.contains("cowardly refusing to save to a terminal"),
                "{text}"
            );
            assert_eq!(out.status.code(), Some(1), "{text}");
        } else {
            assert!(!out.status.success(), "{text}");
        }
    }
}

#[test]
fn system_df_counts_images_containers_and_volumes() {
    let img = busybox_hi();
    for_each_mode(|env| {
        let empty = run_ok(env, &["system", "df"]);
        assert_eq!(
            empty,
            "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n\
             Images          0         0         0B        0B\n\
             Containers      0         0         0B        0B\n\
             Local Volumes   0         0         0B        0B\n\
             Build Cache     0         0         0B        0B\n"
        );
        run_ok(
            env,
            &[
                "load",
                "-i",
                &write_file(env, "a.tar", &old_style_archive(&img, "df:1")),
            ],
        );
        run_ok(env, &["volume", "create", "vol1"]);
        run_ok(
            env,
            &[
                "run",
                "--name",
                "dfc",
                "-v",
                "vol1:/v",
                "df:1",
                "sh",
                "-c",
                "echo 12345 > /v/f; echo abc > /f",
            ],
        );
        let rows = run_ok(
            env,
            &[
                "system",
                "df",
                "--format",
                "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
            ],
        );
        let lines: Vec<&str> = rows.lines().collect();
        assert!(lines[0].starts_with("Images|1|1|"), "{rows}");
        assert_eq!(lines[1], "Containers|1|0|4B|4B (100%)", "{rows}");
        assert_eq!(lines[2], "Local Volumes|1|1|6B|0B (0%)", "{rows}");
        assert_eq!(lines[3], "Build Cache|0|0|0B|0B", "{rows}");
        let v = run_ok(env, &["system", "df", "-v"]);
        assert!(
            v.contains("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID"),
            "{v}"
        );
        assert!(v.lines().any(|l| l.starts_with("df           1 ")), "{v}");
        assert!(
            v.lines()
                .any(|l| l.starts_with("vol1          1         6B")),
            "{v}"
        );
    });
}

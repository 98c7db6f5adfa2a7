//! `berth pull` against a real registry, as root and rootless.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode, modes};
use support::fixtures::{self, Compression, Format, IndexKind, Malicious};
use support::registry::{Registry, RegistryAuth};

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Committed layer dirs of the store (`layers/<64 hex>`).
fn committed_layers(env: &TestEnv) -> Vec<PathBuf> {
    let dir = env.data_dir().join("storage/layers");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.len() == 64 && !n.contains('.') && p.join("layer.json").exists()
        })
        .collect();
    out.sort();
    out
}

fn layer_diff(env: &TestEnv, diff_id: &str) -> PathBuf {
    env.data_dir()
        .join("storage/layers")
        .join(diff_id.strip_prefix("sha256:").unwrap())
        .join("diff")
}

fn image_ids(env: &TestEnv) -> Vec<String> {
    let out = env
        .berth_cmd(["images", "-q", "--no-trunc"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "images -q failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out).lines().map(String::from).collect()
}

#[test]
fn pull_prints_docker_lines_and_stores_the_image() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let name = format!("{}/library/busybox", reg.addr());
        let out = env.berth_cmd(["pull", &name]).output().unwrap();
        assert!(
            out.status.success(),
            "pull failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout_of(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Using default tag: latest", "{text}");
        assert_eq!(lines[1], "latest: Pulling from library/busybox", "{text}");
        let short = &img.layer_digests[0]["sha256:".len()..][..12];
        assert!(
            lines.contains(&format!("{short}: Pulling fs layer").as_str()),
            "{text}"
        );
        assert!(
            lines.contains(&format!("{short}: Pull complete").as_str()),
            "{text}"
        );
        assert!(
            lines.contains(&format!("Digest: {}", img.manifest_digest).as_str()),
            "{text}"
        );
        assert!(
            lines.contains(&format!("Status: Downloaded newer image for {name}:latest").as_str()),
            "{text}"
        );
        assert_eq!(*lines.last().unwrap(), format!("{name}:latest"));

        assert_eq!(image_ids(env), vec![img.image_id().to_string()]);
        let diff = layer_diff(env, &img.diff_ids[0]);
        let busybox = std::fs::read(diff.join("bin/busybox")).unwrap();
        assert_eq!(busybox, std::fs::read(fixtures::BUSYBOX_BIN).unwrap());
        assert_eq!(
            std::fs::read_link(diff.join("bin/sh")).unwrap(),
            Path::new("busybox"),
            "applet symlinks kept"
        );

        // Again: nothing to download, docker's wording.
        let out = env
            .berth_cmd(["pull", &format!("{name}:latest")])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = stdout_of(&out);
        assert!(!text.contains("Using default tag"), "{text}");
        assert!(text.contains(&format!("{short}: Already exists")), "{text}");
        assert!(
            text.contains(&format!("Status: Image is up to date for {name}:latest")),
            "{text}"
        );
    });
}

#[test]
fn pull_quiet_prints_only_the_reference() {
    let reg = Registry::start(RegistryAuth::None);
    fixtures::push_busybox(&reg, "tools/bb", "1.36");
    for_each_mode(|env| {
        let name = format!("{}/tools/bb:1.36", reg.addr());
        env.berth_cmd(["pull", "-q", &name])
            .assert()
            .success()
            .stdout(format!("{name}\n"));
    });
}

#[test]
fn multilayer_images_unpack_exactly_in_every_format_and_compression() {
    let reg = Registry::start(RegistryAuth::None);
    let mut pushed = Vec::new();
    for format in fixtures::ALL_FORMATS {
        for compression in fixtures::ALL_COMPRESSIONS {
            let tag = format!("{format:?}-{compression:?}").to_lowercase();
            pushed.push(fixtures::push_multilayer(
                &reg,
                "multi",
                &tag,
                format,
                compression,
            ));
        }
    }
    for_each_mode(|env| {
        for img in &pushed {
            let name = img.reference();
            env.berth_cmd(["pull", "-q", &name]).assert().success();
            env.berth_cmd([
                "image",
                "inspect",
                "-f",
                "{{.Id}} {{join .RootFS.Layers \",\"}}",
                &name,
            ])
            .assert()
            .success()
            .stdout(format!("{} {}\n", img.image_id(), img.diff_ids.join(",")));
        }
        // Every variant has the same uncompressed layers: each is stored once.
        assert_eq!(committed_layers(env).len(), 3);
        let img = &pushed[0];
        let layers: Vec<PathBuf> = img.diff_ids.iter().map(|d| layer_diff(env, d)).collect();
        // Layer 2 on its own: overlay's whiteout and opaque markers.
        let wh = layers[1].join("data/removed.txt");
        let meta = std::fs::symlink_metadata(&wh).expect("whiteout exists");
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        assert!(
            meta.file_type().is_char_device() && meta.rdev() == 0,
            "whiteout is a 0/0 device"
        );
        assert!(!layers[1].join("data/.wh.removed.txt").exists());
        assert_eq!(
            fixtures::get_xattr(&layers[1].join("opaque"), "user.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_merged_tree(env, &layers);
    });
}

/// Mounts the layers as a read-only overlay (the test runs as root) and checks
/// the whole tree against the fixture's expectations, owners mapped as the mode maps them.
fn assert_merged_tree(env: &TestEnv, layers: &[PathBuf]) {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: skipping the overlay check of the merged tree");
        return;
    }
    let merged = env.scratch_dir("merged");
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let status = std::process::Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!("userxattr,ro,lowerdir={}", lower.join(":")))
        .arg(&merged)
        .status()
        .unwrap();
    assert!(status.success(), "mounting the layers as overlay failed");
    let result = std::panic::catch_unwind(|| {
        fixtures::multilayer_expected().assert_matches(&merged, &env.id_map())
    });
    let _ = std::process::Command::new("umount").arg(&merged).status();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn pull_by_digest_records_the_repo_digest() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let by_digest = img.digest_reference();
        let out = env.berth_cmd(["pull", &by_digest]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout_of(&out);
        assert!(
            text.starts_with(&format!(
                "{}: Pulling from library/busybox",
                img.manifest_digest
            )),
            "{text}"
        );
        assert_eq!(text.lines().last().unwrap(), by_digest);
        env.berth_cmd([
            "image",
            "inspect",
            "-f",
            "{{json .RepoTags}} {{json .RepoDigests}}",
            &by_digest,
        ])
        .assert()
        .success()
        .stdout(format!("[] [\"{by_digest}\"]\n"));
        // Untagged but named by digest: listed with <none> as tag.
        env.berth_cmd(["images", "--format", "{{.Repository}} {{.Tag}}"])
            .assert()
            .success()
            .stdout(format!("{}/library/busybox <none>\n", reg.addr()));
    });
}

#[test]
fn an_index_resolves_to_the_requested_platform() {
    let reg = Registry::start(RegistryAuth::None);
    let oci = fixtures::push_index(&reg, "multi/arch", "oci", IndexKind::Oci);
    let docker = fixtures::push_index(&reg, "multi/arch", "docker", IndexKind::Docker);
    for_each_mode(|env| {
        for index in [&oci, &docker] {
            let name = index.reference();
            env.berth_cmd(["pull", "-q", &name]).assert().success();
            let amd64 = index.image("amd64");
            env.berth_cmd([
                "image",
                "inspect",
                "-f",
                "{{.Id}} {{.Os}}/{{.Architecture}}",
                &name,
            ])
            .assert()
            .success()
            .stdout(format!("{} linux/amd64\n", amd64.image_id()));
            // The repo digest is the index's, as docker records it (both index kinds
            // point at the same image, so after the second it has two).
            env.berth_cmd(["image", "inspect", "-f", "{{json .RepoDigests}}", &name])
                .assert()
                .success()
                .stdout(predicate::str::contains(format!(
                    "\"{}\"",
                    index.digest_reference()
                )));

            for platform in ["linux/arm64", "linux/arm64/v8"] {
                env.berth_cmd(["pull", "-q", "--platform", platform, &name])
                    .assert()
                    .success();
                let arm64 = index.image("arm64");
                env.berth_cmd([
                    "image",
                    "inspect",
                    "-f",
                    "{{.Id}} {{.Architecture}} {{.Variant}}",
                    &name,
                ])
                .assert()
                .success()
                .stdout(format!("{} arm64 v8\n", arm64.image_id()));
            }
            env.berth_cmd(["pull", "--platform", "linux/s390x", &name])
                .assert()
                .code(1)
                .stderr(predicate::str::contains(
                    "no matching manifest for linux/s390x",
                ));
            env.berth_cmd(["pull", "--platform", "linux", &name])
                .assert()
                .code(1)
                .stderr(predicate::str::contains("invalid platform"));
        }
    });
}

#[test]
fn missing_images_and_dead_registries_fail_with_exit_1_and_a_clear_message() {
    let reg = Registry::start(RegistryAuth::None);
    fixtures::push_busybox(&reg, "library/busybox", "latest");
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    for_each_mode(|env| {
        env.berth_cmd(["pull", &format!("{}/library/busybox:nope", reg.addr())])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "manifest for {}/library/busybox:nope not found",
                reg.addr()
            )));
        env.berth_cmd(["pull", &format!("{}/no/such/repo", reg.addr())])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "{}/no/such/repo",
                reg.addr()
            )));
        env.berth_cmd(["pull", &format!("{dead}/library/busybox")])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "cannot reach registry {dead}"
            )));
        env.berth_cmd(["pull", "Not/A/Valid:Reference:x"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("invalid reference format"));
        assert!(image_ids(env).is_empty());
    });
}

#[test]
fn hostile_layers_are_refused_and_write_nothing_outside_the_store() {
    let reg = Registry::start(RegistryAuth::None);
    let pushed: Vec<_> = Malicious::ALL
        .iter()
        .map(|m| (*m, fixtures::push_malicious(&reg, "evil", m.name(), *m)))
        .collect();
    for_each_mode(|env| {
        for (kind, img) in &pushed {
            let out = env.berth_cmd(["pull", &img.reference()]).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{kind:?} pulled: {stderr}");
            assert!(
                stderr.contains("Error:") && stderr.contains(&img.layer_digests[0]),
                "{kind:?}: {stderr}"
            );
            for target in kind.host_targets() {
                assert!(!target.exists(), "{kind:?} wrote {}", target.display());
            }
            // Nothing named by the hostile layer appears anywhere in the test's directory tree.
            for marker in kind.marker_names() {
                let found = find_named(env.dir(), marker);
                assert!(found.is_empty(), "{kind:?} wrote {found:?}");
            }
            assert!(
                committed_layers(env).is_empty(),
                "{kind:?} left a layer behind"
            );
            assert!(image_ids(env).is_empty(), "{kind:?} left an image behind");
        }
    });
}

fn find_named(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_name() == name {
                out.push(path.clone());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    out
}

#[test]
fn concurrent_pulls_sharing_layers_both_succeed_and_store_each_layer_once() {
    let reg = Registry::start(RegistryAuth::None);
    let a = fixtures::push_multilayer(&reg, "shared/a", "latest", Format::Oci, Compression::Gzip);
    // Same layers, another manifest format and compression: same diff_ids, different blobs.
    let b = fixtures::push_multilayer(
        &reg,
        "shared/b",
        "latest",
        Format::Docker,
        Compression::Zstd,
    );
    assert_eq!(a.diff_ids, b.diff_ids);
    for_each_mode(|env| {
        for _round in 0..2 {
            let children: Vec<_> = [&a, &b, &a]
                .iter()
                .map(|img| {
                    env.berth_std()
                        .args(["pull", "-q", &img.reference()])
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for child in children {
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "concurrent pull failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert_eq!(committed_layers(env).len(), 3);
            let mut ids = image_ids(env);
            ids.sort();
            ids.dedup();
            let mut want = vec![a.image_id().to_string(), b.image_id().to_string()];
            want.sort();
            want.dedup();
            assert_eq!(ids, want);
            env.berth_cmd(["rmi", &a.reference(), &b.reference()])
                .assert()
                .success();
            assert!(committed_layers(env).is_empty());
        }
    });
}

#[test]
fn a_killed_pull_leaves_nothing_used_and_the_next_pull_finishes() {
    let reg = Registry::start(RegistryAuth::None);
    // A large, incompressible layer so the pull is still running when we kill it.
    let img = fixtures::push_big(&reg, "big/blob", "latest", 64 << 20);
    for_each_mode(|env| {
        let mut child = env
            .berth_std()
            .args(["pull", "-q", &img.reference()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let layers = env.data_dir().join("storage/layers");
        let started = Instant::now();
        // Wait until extraction has begun, then kill -9.
        loop {
            let partial = std::fs::read_dir(&layers)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                })
                .unwrap_or(false);
            if partial || started.elapsed() > Duration::from_secs(30) {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::SIGKILL,
        );
        let _ = child.wait();
        let finished_anyway = image_ids(env) == vec![img.image_id().to_string()];
        if !finished_anyway {
            assert!(image_ids(env).is_empty());
            assert!(
                committed_layers(env).is_empty(),
                "a half layer was committed"
            );
        }
        env.berth_cmd(["pull", "-q", &img.reference()])
            .assert()
            .success();
        assert_eq!(image_ids(env), vec![img.image_id().to_string()]);
        let diff = layer_diff(env, &img.diff_ids[0]);
        let data = std::fs::read(diff.join("blob.bin")).unwrap();
        assert_eq!(data.len(), 64 << 20);
    });
}

#[test]
fn rootless_extraction_gives_files_their_subuid_owners() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_multilayer(&reg, "owners", "latest", Format::Oci, Compression::Gzip);
    for mode in modes() {
        let env = TestEnv::new(mode);
        env.berth_cmd(["pull", "-q", &img.reference()])
            .assert()
            .success();
        let diff = layer_diff(&env, &img.diff_ids[1]);
        use std::os::unix::fs::MetadataExt;
        let ids = env.id_map();
        let meta = std::fs::metadata(diff.join("owned/app.txt")).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (ids.host_uid(1000), ids.host_gid(1000)),
            "{mode}"
        );
        let meta = std::fs::metadata(diff.join("owned/nobody.txt")).unwrap();
        assert_eq!(meta.uid(), ids.host_uid(65534), "{mode}");
        let meta = std::fs::metadata(diff.join("bin/suid")).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o4755, "{mode}: setuid bit kept");
        assert_eq!(meta.uid(), ids.host_uid(0), "{mode}");
        // rmi must be able to delete what it cannot own.
        env.berth_cmd(["rmi", &img.reference()]).assert().success();
        assert!(committed_layers(&env).is_empty(), "{mode}");
        assert!(
            std::fs::read_dir(env.data_dir().join("storage/trash"))
                .unwrap()
                .next()
                .is_none(),
            "{mode}"
        );
    }
}

#[test]
fn on_a_terminal_pull_draws_progress_and_still_ends_with_the_reference() {
    let reg = Registry::start(RegistryAuth::None);
    fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        let name = format!("{}/library/busybox:latest", reg.addr());
        // `script` gives berth a pseudo-terminal as stdout.
        let cmdline = format!("{} pull {name}", support::berth::berth_bin().display());
        let out = env
            .command("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .env("TERM", "xterm")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pull on a tty failed: {text}");
        assert!(text.contains("Pull complete"), "{text:?}");
        assert!(
            text.contains(&format!("Status: Downloaded newer image for {name}")),
            "{text}"
        );
        assert!(text.trim_end().ends_with(&name), "{text}");
        // A terminal indicatif cannot draw on gets docker's plain lines.
        env.berth_cmd(["rmi", &name]).assert().success();
        let out = env
            .command("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .env("TERM", "dumb")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("latest: Pulling from library/busybox"),
            "{text:?}"
        );
        assert!(text.contains("Pull complete"), "{text:?}");
    });
}

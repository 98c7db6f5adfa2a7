//! `berth push` against real registries, as root and rootless.

mod support;

use support::berth::{Mode, TestEnv, for_each_mode};
use support::fixtures::{self, Compression, Format};
use support::registry::{Registry, RegistryAuth};

fn run_ok(env: &TestEnv, args: &[&str]) -> String {
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "berth {args:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn short(digest: &str) -> &str {
    &digest["sha256:".len()..][..12]
}

/// `TAG: digest: sha256:… size: N` → (digest, size).
fn digest_line(text: &str, tag: &str) -> (String, usize) {
    let prefix = format!("{tag}: digest: ");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}…` line in:\n{text}"));
    let rest = &line[prefix.len()..];
    let (digest, size) = rest.split_once(" size: ").unwrap();
    (digest.to_string(), size.parse().unwrap())
}

fn repo_digests(env: &TestEnv, image: &str) -> Vec<String> {
    let out = run_ok(
        env,
        &["image", "inspect", "-f", "{{json .RepoDigests}}", image],
    );
    serde_json::from_str(out.trim()).unwrap()
}

fn mode_tag(env: &TestEnv) -> &'static str {
    match env.mode() {
        Mode::Root => "root",
        Mode::Rootless => "rootless",
    }
}

#[test]
fn pushing_a_pulled_image_mounts_its_layers_and_keeps_its_manifest_digest() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        let target = format!("{}/copies-{}/busybox", reg.addr(), mode_tag(env));
        run_ok(env, &["tag", &img.reference(), &format!("{target}:v1")]);

        let text = run_ok(env, &["push", &format!("{target}:v1")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("The push refers to repository [{target}]"),
            "{text}"
        );
        let id = short(&img.diff_ids[0]);
        assert!(
            lines.contains(&format!("{id}: Preparing").as_str()),
            "{text}"
        );
        assert!(
            lines.contains(&format!("{id}: Mounted from library/busybox").as_str()),
            "{text}"
        );
        let (digest, size) = digest_line(&text, "v1");
        assert_eq!(digest, img.manifest_digest, "{text}");
        assert_eq!(size, img.manifest.len());
        let got = reg
            .client()
            .get_manifest(&format!("copies-{}/busybox", mode_tag(env)), "v1");
        assert_eq!(got.digest, img.manifest_digest);
        assert_eq!(got.bytes, img.manifest);

        // Again: the registry has everything now.
        let text = run_ok(env, &["image", "push", &format!("{target}:v1")]);
        assert!(
            text.lines()
                .any(|l| l == format!("{id}: Layer already exists")),
            "{text}"
        );
        assert_eq!(digest_line(&text, "v1").0, img.manifest_digest);

        let digests = repo_digests(env, &format!("{target}:v1"));
        assert!(
            digests.contains(&format!("{target}@{}", img.manifest_digest)),
            "{digests:?}"
        );
        let listed = run_ok(
            env,
            &[
                "images",
                "--digests",
                "--format",
                "{{.Repository}} {{.Digest}}",
            ],
        );
        assert!(
            listed
                .lines()
                .any(|l| l == format!("{target} {}", img.manifest_digest)),
            "{listed}"
        );
    });
}

#[test]
fn push_to_another_registry_uploads_and_the_image_pulls_back_the_same() {
    let src = Registry::start(RegistryAuth::None);
    let dst = Registry::start(RegistryAuth::None);
    let img = fixtures::push_multilayer(&src, "multi", "1", Format::Oci, Compression::Zstd);
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        let repo = format!("copy-{}", mode_tag(env));
        let target = format!("{}/{repo}:1", dst.addr());
        run_ok(env, &["tag", &img.reference(), &target]);
        let text = run_ok(env, &["push", &target]);
        for diff_id in &img.diff_ids {
            let id = short(diff_id);
            assert!(text.lines().any(|l| l == format!("{id}: Pushed")), "{text}");
        }
        let (digest, size) = digest_line(&text, "1");
        let got = dst.client().get_manifest(&repo, "1");
        assert_eq!(got.digest, digest);
        assert_eq!(got.bytes.len(), size);
        let m = got.json();
        assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(m["config"]["digest"], img.config_digest.as_str());
        for l in m["layers"].as_array().unwrap() {
            assert_eq!(
                l["mediaType"],
                "application/vnd.oci.image.layer.v1.tar+gzip"
            );
        }
        assert!(
            repo_digests(env, &target).contains(&format!("{}/{repo}@{digest}", dst.addr())),
            "push records the digest"
        );

        // A fresh store pulls it back as the same image.
        let fresh = TestEnv::new(env.mode());
        let pulled = run_ok(&fresh, &["pull", &target]);
        assert!(
            pulled.lines().any(|l| l == format!("Digest: {digest}")),
            "{pulled}"
        );
        let id = run_ok(&fresh, &["images", "-q", "--no-trunc"]);
        assert_eq!(id.trim(), img.config_digest);

        // The pushed blobs are now known: pushing to a third repository of that
        // registry mounts them instead of compressing again.
        let again = format!("{}/{repo}-again:1", dst.addr());
        run_ok(env, &["tag", &target, &again]);
        let text = run_ok(env, &["push", &again]);
        assert!(
            text.lines()
                .filter(|l| l.ends_with(&format!(": Mounted from {repo}")))
                .count()
                == img.diff_ids.len(),
            "{text}"
        );
        assert_eq!(
            digest_line(&text, "1").0,
            digest,
            "same blobs, same manifest"
        );
    });
}

#[test]
fn push_all_tags_and_quiet() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        let repo = format!("all-{}", mode_tag(env));
        let name = format!("{}/{repo}", reg.addr());
        for t in ["a", "b"] {
            run_ok(env, &["tag", &img.reference(), &format!("{name}:{t}")]);
        }
        let text = run_ok(env, &["push", "--all-tags", &name]);
        assert!(!text.contains("Using default tag"), "{text}");
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("The push refers"))
                .count(),
            1,
            "{text}"
        );
        assert_eq!(digest_line(&text, "a").0, img.manifest_digest);
        assert_eq!(digest_line(&text, "b").0, img.manifest_digest);
        let mut tags = reg.client().tags(&repo);
        tags.sort();
        assert_eq!(tags, ["a", "b"]);
        // Tags of other repositories are not pushed.
        assert!(!text.contains("latest: digest"), "{text}");

        env.berth_cmd(["push", "-a", &format!("{name}:a")])
            .assert()
            .code(1)
            .stderr(predicates::str::contains(
                "tag can't be used with --all-tags/-a",
            ));

        // No tag: docker's default, said first.
        run_ok(env, &["tag", &img.reference(), &format!("{name}:latest")]);
        let text = run_ok(env, &["push", &name]);
        assert!(
            text.starts_with("Using default tag: latest\nThe push refers to repository ["),
            "{text}"
        );
        assert_eq!(digest_line(&text, "latest").0, img.manifest_digest);

        run_ok(env, &["tag", &img.reference(), &format!("{name}:c")]);
        env.berth_cmd(["push", "-q", &format!("{name}:c")])
            .assert()
            .success()
            .stdout(format!("{name}:c\n"));
    });
}

#[test]
fn push_of_a_missing_image_or_tag_fails_as_docker() {
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    let env = TestEnv::new(support::berth::modes()[0]);
    let missing = format!("{}/nothing-here", reg.addr());
    env.berth_cmd(["push", &missing])
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!(
            "Error: An image does not exist locally with the tag: {missing}\n"
        ));
    run_ok(&env, &["pull", "-q", &img.reference()]);
    let other_tag = format!("{}/library/busybox:nope", reg.addr());
    env.berth_cmd(["push", &other_tag])
        .assert()
        .code(1)
        .stderr(format!("Error: tag does not exist: {other_tag}\n"));
    env.berth_cmd(["push", &img.digest_reference()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cannot push a digest reference"));
    // One platform per stored image: --platform must name it.
    env.berth_cmd(["push", "--platform", "linux/arm64", &img.reference()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "does not match the specified platform: wanted linux/arm64, actual: linux/amd64",
        ));
    // Nothing listens there.
    let dead = "127.0.0.1:9/x/busybox:latest";
    run_ok(&env, &["tag", &img.reference(), dead]);
    env.berth_cmd(["push", dead])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "cannot reach registry 127.0.0.1:9",
        ));
}

#[test]
fn push_to_an_auth_registry_needs_login() {
    let open = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&open, "library/busybox", "latest");
    for auth in [RegistryAuth::token(), RegistryAuth::basic()] {
        let reg = Registry::start(auth);
        for_each_mode(|env| {
            run_ok(env, &["pull", "-q", &img.reference()]);
            let target = format!("{}/private-{}/busybox:1", reg.addr(), mode_tag(env));
            run_ok(env, &["tag", &img.reference(), &target]);
            let out = env.berth_cmd(["push", &target]).output().unwrap();
            assert_eq!(out.status.code(), Some(1));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                stderr,
                "Error: unauthorized: authentication required\n",
                "{:?}",
                reg.auth()
            );
            env.berth_cmd([
                "login",
                "-u",
                reg.user().unwrap(),
                "--password-stdin",
                reg.addr(),
            ])
            .write_stdin(reg.password().unwrap())
            .assert()
            .success();
            let text = run_ok(env, &["push", &target]);
            let got = reg
                .client()
                .get_manifest(&format!("private-{}/busybox", mode_tag(env)), "1");
            assert_eq!(digest_line(&text, "1").0, got.digest);

            // A second repository of that registry mounts the blob from the first: the
            // token must grant pull on the source repository too.
            let second = format!("{}/private-{}/second:1", reg.addr(), mode_tag(env));
            run_ok(env, &["tag", &target, &second]);
            let text = run_ok(env, &["push", &second]);
            let id = short(&img.diff_ids[0]);
            assert!(
                text.lines()
                    .any(|l| l == format!("{id}: Mounted from private-{}/busybox", mode_tag(env))),
                "{text}"
            );
            assert_eq!(digest_line(&text, "1").0, got.digest);
        });
    }
}

#[test]
fn concurrent_pushes_of_one_image_both_succeed() {
    let src = Registry::start(RegistryAuth::None);
    let dst = Registry::start(RegistryAuth::None);
    let img = fixtures::push_multilayer(&src, "multi", "1", Format::Docker, Compression::Gzip);
    let mut per_mode: Vec<String> = Vec::new();
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        let target = format!("{}/together-{}:1", dst.addr(), mode_tag(env));
        run_ok(env, &["tag", &img.reference(), &target]);
        let children: Vec<std::process::Child> = (0..3)
            .map(|_| {
                env.berth_std()
                    .args(["push", &target])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut digests = Vec::new();
        for c in children {
            let out = c.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{text}{}\nregistry log:\n{}",
                String::from_utf8_lossy(&out.stderr),
                dst.log()
            );
            digests.push(digest_line(&text, "1").0);
        }
        let got = dst
            .client()
            .get_manifest(&format!("together-{}", mode_tag(env)), "1");
        // The same tar always compresses to the same blob: one manifest for all three.
        assert!(
            digests.iter().all(|d| *d == got.digest),
            "{digests:?} vs {}",
            got.digest
        );
        per_mode.push(got.digest.clone());
        // The docker-family manifest stays docker's.
        assert_eq!(
            got.json()["mediaType"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        let recorded = repo_digests(env, &target);
        assert!(
            recorded.contains(&format!(
                "{}/together-{}@{}",
                dst.addr(),
                mode_tag(env),
                got.digest
            )),
            "{recorded:?}"
        );
    });
    // Root reads the layers in-process, rootless through the helper's pipe: same blobs.
    per_mode.dedup();
    assert_eq!(per_mode.len(), 1, "{per_mode:?}");
}

#[test]
fn on_a_terminal_push_draws_progress_and_ends_with_the_digest() {
    let src = Registry::start(RegistryAuth::None);
    let dst = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&src, "library/busybox", "latest");
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        let target = format!("{}/tty-{}:1", dst.addr(), mode_tag(env));
        run_ok(env, &["tag", &img.reference(), &target]);
        // `script` gives berth a pseudo-terminal as stdout.
        let cmdline = format!("{} push {target}", support::berth::berth_bin().display());
        let out = env
            .command("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .env("TERM", "xterm")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "push on a tty failed: {text}");
        assert!(
            text.contains(&format!("The push refers to repository [{}", dst.addr())),
            "{text:?}"
        );
        assert!(
            text.contains(&format!("{}: Pushed", short(&img.diff_ids[0]))),
            "{text:?}"
        );
        let got = dst
            .client()
            .get_manifest(&format!("tty-{}", mode_tag(env)), "1");
        assert!(
            text.contains(&format!("1: digest: {} size: ", got.digest)),
            "{text:?}"
        );
    });
}

#[test]
fn a_layer_whose_tar_cannot_be_rebuilt_is_pushed_only_by_reuse() {
    // The same file twice: the first content is lost on unpack, so the store
    // cannot rebuild this tar byte for byte.
    let mut t = support::tarball::TarWriter::new();
    t.file("twice.txt", 0o644, 0, 0, b"first\n")
        .file("twice.txt", 0o644, 0, 0, b"second\n");
    let layer = std::sync::Arc::new(t.finish());
    let built = fixtures::build_image(
        &[layer],
        &fixtures::ImageConfig::busybox(),
        Format::Docker,
        Compression::Gzip,
    );
    let src = Registry::start(RegistryAuth::None);
    let dst = Registry::start(RegistryAuth::None);
    let img = fixtures::push_image(&src, "dup", "1", &built);
    for_each_mode(|env| {
        run_ok(env, &["pull", "-q", &img.reference()]);
        // Same registry: mounted, manifest unchanged.
        let mounted = format!("{}/dup-{}:1", src.addr(), mode_tag(env));
        run_ok(env, &["tag", &img.reference(), &mounted]);
        let text = run_ok(env, &["push", &mounted]);
        assert!(text.contains(": Mounted from dup"), "{text}");
        assert_eq!(digest_line(&text, "1").0, img.manifest_digest);
        // Elsewhere: it would need the tar, which is gone. Say so.
        let elsewhere = format!("{}/dup-{}:1", dst.addr(), mode_tag(env));
        run_ok(env, &["tag", &img.reference(), &elsewhere]);
        env.berth_cmd(["push", &elsewhere])
            .assert()
            .code(1)
            .stderr(predicates::str::contains("cannot be rebuilt byte for byte"));
        assert!(
            dst.client()
                .tags(&format!("dup-{}", mode_tag(env)))
                .is_empty()
        );
    });
}

//! The rootfs storage drivers (`BERTH_STORAGE_DRIVER=overlay|fuse-overlayfs|vfs`),
//! root and rootless: each shows the multi-layer image exactly as native
//! overlay does, keeps writes in the container, leaves nothing behind with
//! `--rm`; the copy (vfs) warns loudly and is reused by later starts.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use support::berth::{TestEnv, for_each_mode};
use support::fixtures::{self, Compression, Format, ImageConfig};
use support::registry::{Registry, RegistryAuth};

const DRIVER_ENV: &str = "BERTH_STORAGE_DRIVER";

/// busybox under the three layers of the multi-layer fixture (whiteouts,
/// opaque dirs, hard links, setuid files, owners, xattrs, a FIFO, a device).
fn push_image(reg: &Registry) -> String {
    let mut layers: Vec<Arc<Vec<u8>>> = vec![fixtures::busybox_layer()];
    layers.extend(fixtures::multilayer_layers());
    let img = fixtures::build_image(
        &layers,
        &ImageConfig::busybox(),
        Format::Oci,
        Compression::Gzip,
    );
    fixtures::push_image(reg, "test/layered", "latest", &img);
    format!("{}/test/layered", reg.addr())
}

/// Lists the container's tree (its own file system only) with type, mode,
/// owner, and for files size, link count, mtime and content hash; symlink
/// targets; device numbers; and whether the fixture's hard links are one inode.
const LIST_TREE: &str = r#"
cd / || exit 1
find . -xdev | sort | while read -r f; do
  case "$f" in ./etc/hosts|./etc/hostname|./etc/resolv.conf) echo "$f (generated)"; continue;; esac
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f") $(stat -c '%u:%g' "$f")"
  elif [ -d "$f" ]; then stat -c '%n dir %a %u:%g' "$f"
  elif [ -f "$f" ]; then echo "$(stat -c '%n file %a %u:%g size=%s links=%h mtime=%Y' "$f") $(sha256sum < "$f" | cut -c1-16)"
  elif [ -c "$f" ]; then stat -c '%n char %a %u:%g %t:%T' "$f"
  else stat -c '%n %F %a %u:%g' "$f"
  fi
done
if [ "$(stat -c %i /links/target.txt)" = "$(stat -c %i /links/hardlink.txt)" ]; then echo "hard links: one inode"; else echo "hard links: BROKEN"; fi
"#;

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs berth with the storage driver forced.
fn berth_with(env: &TestEnv, driver: &str, args: &[&str]) -> std::process::Output {
    let mut c = env.berth_cmd(args);
    c.env(DRIVER_ENV, driver);
    c.output().unwrap()
}

/// Why fuse-overlayfs cannot run for this env's user, if it cannot: the
/// binary or a usable /dev/fuse is missing (tests/setup.sh installs the
/// package and opens /dev/fuse, DESIGN §6).
fn fuse_unavailable(env: &TestEnv) -> Option<String> {
    if !Path::new("/usr/bin/fuse-overlayfs").is_file() {
        return Some("/usr/bin/fuse-overlayfs is not installed (package fuse-overlayfs)".into());
    }
    let ok = env
        .command("/bin/sh")
        .args(["-c", "test -r /dev/fuse && test -w /dev/fuse"])
        .output()
        .unwrap()
        .status
        .success();
    (!ok).then(|| format!("/dev/fuse is not usable by {}", env.user_name()))
}

/// The drivers to compare with native overlay in this env (fuse-overlayfs
/// skipped, with the reason printed, only when it really cannot run).
fn other_drivers(env: &TestEnv) -> Vec<&'static str> {
    let mut drivers = vec!["vfs"];
    match fuse_unavailable(env) {
        None => drivers.insert(0, "fuse-overlayfs"),
        Some(why) => eprintln!("SKIPPED fuse-overlayfs in mode {}: {why}", env.mode()),
    }
    drivers
}

/// Container dirs left under the data dir.
fn container_dirs(env: &TestEnv) -> Vec<PathBuf> {
    std::fs::read_dir(env.data_dir().join("containers"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// Processes whose command line mentions `needle` (a leftover fuse daemon).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) && cmdline.contains("fuse-overlayfs") {
                found.push(format!("{}: {cmdline}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

fn assert_nothing_left(env: &TestEnv, driver: &str) {
    assert_eq!(
        container_dirs(env),
        Vec::<PathBuf>::new(),
        "{driver}: --rm left files"
    );
    let data = env.data_dir();
    let data = data.to_string_lossy();
    assert_eq!(
        processes_mentioning(&data),
        Vec::<String>::new(),
        "{driver}: fuse daemon left"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&*data),
        "{driver}: left mounted:\n{mounts}"
    );
}

#[test]
fn every_driver_shows_the_image_as_native_overlay_does() {
    let reg = Registry::start(RegistryAuth::None);
    let image = push_image(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let native = berth_with(
            env,
            "overlay",
            &["run", "--rm", &image, "sh", "-c", LIST_TREE],
        );
        assert!(native.status.success(), "overlay: {}", stderr_of(&native));
        let tree = stdout_of(&native);
        assert_eq!(stderr_of(&native), "", "native overlay warns nothing");
        // The fixture's interesting files are really there (the comparison
        // below is against this listing).
        for want in [
            "./bin/suid file 4755 0:0",
            "./bin/sgid file 2755 0:0",
            "./owned/app.txt file 640 1000:1000",
            "./owned/nobody.txt file 600 65534:65534",
            "./sticky dir 1777 0:0",
            "./links/rel -> target.txt",
            "./links/abs -> /etc/motd",
            "./nodes/fifo fifo 644 0:0",
            "./typechange file 644",
            "./opaque/new.txt file",
            "hard links: one inode",
        ] {
            assert!(
                tree.contains(want),
                "native overlay: no {want:?} in\n{tree}"
            );
        }
        for gone in [
            "./data/removed.txt",
            "./opaque/old.txt",
            "./opaque/sub",
            "./typechange/inner.txt",
            "./links/dangling",
            ".wh.",
        ] {
            assert!(
                !tree.contains(gone),
                "native overlay shows {gone:?}:\n{tree}"
            );
        }
        assert_nothing_left(env, "overlay");
        for driver in other_drivers(env) {
            let out = berth_with(env, driver, &["run", "--rm", &image, "sh", "-c", LIST_TREE]);
            assert!(out.status.success(), "{driver}: {}", stderr_of(&out));
            let other = stdout_of(&out);
            if other != tree {
                let diff: Vec<String> = diff_lines(&tree, &other);
                panic!("{driver} differs from native overlay:\n{}", diff.join("\n"));
            }
            let stderr = stderr_of(&out);
            if driver == "vfs" {
                assert!(
                    stderr.starts_with(
                        "WARNING: storage driver vfs forced (BERTH_STORAGE_DRIVER=vfs): "
                    ) && stderr.contains("full COPY")
                        && stderr.contains("4 layers"),
                    "{stderr}"
                );
            } else {
                assert_eq!(stderr, "", "{driver}");
            }
            assert_nothing_left(env, driver);
        }
    });
}

fn diff_lines(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out: Vec<String> = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| format!("- {l}"))
        .collect();
    out.extend(
        b.iter()
            .filter(|l| !a.contains(l))
            .map(|l| format!("+ {l}")),
    );
    out
}

/// What a container's command prints on each start: how many times it ran,
/// and /etc/motd, which it then changes (and it deletes a layer's file).
const COUNT_RUNS: &str = "echo run >> /runs; wc -l < /runs; cat /etc/motd; \
     echo changed > /etc/motd; rm /layer3.txt; ls /layer3.txt 2>&1 | grep -c 'No such'";

#[test]
fn writes_stay_in_the_container_and_survive_a_restart_with_every_driver() {
    let reg = Registry::start(RegistryAuth::None);
    let image = push_image(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let mut drivers = vec!["overlay"];
        drivers.extend(other_drivers(env));
        for driver in drivers {
            let name = format!("w-{driver}");
            let first = berth_with(
                env,
                driver,
                &["run", "--name", &name, &image, "sh", "-c", COUNT_RUNS],
            );
            assert!(
                first.status.success(),
                "{driver}: {:?} {} {}",
                first.status,
                stdout_of(&first),
                stderr_of(&first)
            );
            assert_eq!(stdout_of(&first), "1\nlayer 3 motd\n1\n", "{driver}");
            // A new container sees the image as it was.
            let fresh = berth_with(
                env,
                driver,
                &[
                    "run",
                    "--rm",
                    &image,
                    "sh",
                    "-c",
                    "cat /etc/motd /layer3.txt; ls /runs 2>&1; true",
                ],
            );
            assert!(fresh.status.success(), "{driver}: {}", stderr_of(&fresh));
            assert!(
                stdout_of(&fresh).starts_with("layer 3 motd\nthird layer\n")
                    && stdout_of(&fresh).contains("No such file"),
                "{driver}: {}",
                stdout_of(&fresh)
            );
            // The same container again: its own changes are there.
            let again = berth_with(env, driver, &["start", "-a", &name]);
            assert!(again.status.success(), "{driver}: {}", stderr_of(&again));
            // `rm` of a file already gone fails: the last count is 1 either way.
            assert_eq!(stdout_of(&again), "2\nchanged\n1\n", "{driver}");
            let dirs = container_dirs(env);
            assert_eq!(dirs.len(), 1, "{driver}: {dirs:?}");
            let copy = dirs[0].join("vfs");
            if driver == "vfs" {
                assert!(copy.is_dir(), "the copy is in {}", copy.display());
                assert!(
                    stderr_of(&again).contains("full copy of its image"),
                    "a restarted copy says so: {}",
                    stderr_of(&again)
                );
                // xattrs came along (read on the host side).
                assert_eq!(
                    fixtures::get_xattr(&copy.join("xattr/user.txt"), fixtures::USER_XATTR.0)
                        .as_deref(),
                    Some(fixtures::USER_XATTR.1)
                );
                // File capabilities as the store has them (rootless, the
                // kernel keeps them in its v3 form, tied to the namespace root).
                let layer_cap = std::fs::read_dir(env.data_dir().join("storage/layers"))
                    .unwrap()
                    .flatten()
                    .map(|e| e.path().join("diff/xattr/cap.bin"))
                    .find(|p| p.is_file())
                    .expect("the layer with xattr/cap.bin");
                let cap = fixtures::get_xattr(&copy.join("xattr/cap.bin"), "security.capability");
                assert!(cap.is_some(), "cap.bin lost its capabilities");
                assert_eq!(cap, fixtures::get_xattr(&layer_cap, "security.capability"));
                assert_eq!(
                    fixtures::get_xattr(&copy.join("opaque"), "user.overlay.opaque"),
                    None,
                    "overlay's markers are not copied"
                );
            } else {
                assert!(!copy.exists(), "{driver}: no copy");
            }
            env.berth_cmd(["rm", &name]).assert().success();
            assert_nothing_left(env, driver);
        }
    });
}

#[test]
fn an_unknown_driver_is_refused_by_name() {
    let reg = Registry::start(RegistryAuth::None);
    let image = push_image(&reg);
    for_each_mode(|env| {
        env.berth_cmd(["pull", "-q", &image]).assert().success();
        let out = berth_with(env, "zfs", &["run", "--rm", &image, "true"]);
        assert_eq!(out.status.code(), Some(125), "{}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("zfs") && stderr_of(&out).contains(DRIVER_ENV),
            "{}",
            stderr_of(&out)
        );
        assert_eq!(container_dirs(env), Vec::<PathBuf>::new());
    });
}

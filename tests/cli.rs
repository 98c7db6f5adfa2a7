//! The docker contract of the command line itself: version strings, exit
//! codes for bad flags and unimplemented features, quiet pipes.

mod support;

use std::process::{Command, Stdio};

use predicates::prelude::*;
use support::berth::berth_bin;

#[test]
fn version_strings() {
    let version = env!("CARGO_PKG_VERSION");
    assert_cmd::Command::new(berth_bin())
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("berth version {version}\n"));
    assert_cmd::Command::new(berth_bin())
        .args(["version", "--format", "{{.Client.Version}}"])
        .assert()
        .success()
        .stdout(format!("{version}\n"));
    // Installed as `docker`, the version line starts the way tools sniff for.
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker");
    std::os::unix::fs::symlink(berth_bin(), &docker).unwrap();
    assert_cmd::Command::new(&docker)
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^Docker version \d+\.\d+\.\d+, build berth-").unwrap());
    assert_cmd::Command::new(&docker)
        .args(["version", "--format", "{{.Client.Version}}"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^\d+\.\d+\.\d+\n$").unwrap());
}

#[test]
fn unknown_flags_exit_125_like_docker() {
    assert_cmd::Command::new(berth_bin())
        .args(["images", "--no-such-flag"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("--no-such-flag"));
    assert_cmd::Command::new(berth_bin())
        .args(["no-such-command"])
        .assert()
        .code(125);
}

#[test]
fn unimplemented_features_say_so_with_125() {
    let tmp = tempfile::tempdir().unwrap();
    assert_cmd::Command::new(berth_bin())
        .env("BERTH_ROOT", tmp.path().join("root"))
        .env("BERTH_CONFIG_DIR", tmp.path().join("config"))
        .env("HOME", tmp.path())
        .args(["pull", "--all-tags", "busybox"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("not implemented"));
}

#[test]
fn help_goes_to_stdout_and_exits_0() {
    assert_cmd::Command::new(berth_bin())
        .args(["pull", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--platform"));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = Command::new(berth_bin())
        .args(["completion", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

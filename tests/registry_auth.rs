//! Credentials and registry configuration: login/logout against basic and
//! token registries, docker's and podman's credential files, credential
//! helpers, mirrors.

mod support;

use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;
use support::berth::{TestEnv, for_each_mode};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

fn login_cases() -> Vec<Registry> {
    vec![
        Registry::start(RegistryAuth::basic()),
        Registry::start(RegistryAuth::token()),
    ]
}

#[test]
fn login_checks_the_password_and_pull_uses_the_saved_credentials() {
    for reg in login_cases() {
        let img = fixtures::push_busybox(&reg, "private/bb", "latest");
        let (user, pass) = (
            reg.user().unwrap().to_string(),
            reg.password().unwrap().to_string(),
        );
        let label = format!("{:?}", reg.auth());
        for_each_mode(|env| {
            let name = img.reference();
            env.berth_cmd(["pull", &name]).assert().code(1).stderr(
                predicate::str::contains("pull access denied")
                    .or(predicate::str::contains("unauthorized")),
            );
            env.berth_cmd(["login", "-u", &user, "--password-stdin", reg.addr()])
                .write_stdin("wrong-password\n")
                .assert()
                .code(1)
                .stderr(predicate::str::contains("incorrect username or password"));
            env.berth_cmd(["login", "-u", &user, "--password-stdin", reg.addr()])
                .write_stdin(format!("{pass}\n"))
                .assert()
                .success()
                .stdout("Login Succeeded\n");
            let auth_file = env.config_path().parent().unwrap().join("auth.json");
            let meta = std::fs::metadata(&auth_file).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{label}: auth.json is private"
            );
            env.berth_cmd(["pull", "-q", &name])
                .assert()
                .success()
                .stdout(format!("{name}\n"));
            env.berth_cmd(["logout", reg.addr()])
                .assert()
                .success()
                .stdout(format!("Removing login credentials for {}\n", reg.addr()));
            env.berth_cmd(["logout", reg.addr()])
                .assert()
                .success()
                .stdout(format!("Not logged in to {}\n", reg.addr()));
            env.berth_cmd(["rmi", &name]).assert().success();
            env.berth_cmd(["pull", &name]).assert().code(1);
            // -p works too, with docker's warning.
            env.berth_cmd(["login", "-u", &user, "-p", &pass, reg.addr()])
                .assert()
                .success()
                .stderr(predicate::str::contains(
                    "WARNING! Using --password via the CLI is insecure",
                ));
        });
    }
}

#[test]
fn a_wrong_saved_password_is_reported_as_such() {
    let reg = Registry::start(RegistryAuth::basic());
    let img = fixtures::push_busybox(&reg, "private/bb", "latest");
    for_each_mode(|env| {
        let auth = base64_encode(&format!("{}:not-the-password", reg.user().unwrap()));
        env.write_docker_config(&format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            reg.addr()
        ));
        env.berth_cmd(["pull", &img.reference()])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("incorrect username or password"));
    });
}

#[test]
fn docker_config_credentials_are_used() {
    for reg in login_cases() {
        let img = fixtures::push_busybox(&reg, "private/bb", "latest");
        for_each_mode(|env| {
            env.write_docker_config(&reg.docker_config_json());
            env.berth_cmd(["pull", "-q", &img.reference()])
                .assert()
                .success();
        });
    }
}

#[test]
fn credential_helpers_from_docker_config_are_run() {
    let reg = Registry::start(RegistryAuth::token());
    let img = fixtures::push_busybox(&reg, "private/bb", "latest");
    for_each_mode(|env| {
        // A helper on PATH answering docker's credential-helper protocol.
        let bin = env.scratch_dir("bin");
        let helper = format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{}\",\"Secret\":\"{}\"}}'\n",
            reg.user().unwrap(),
            reg.password().unwrap()
        );
        env.write_file_owned(
            &bin.join("docker-credential-berthtest"),
            helper.as_bytes(),
            0o755,
        );
        env.write_docker_config(&format!(
            r#"{{"credHelpers":{{"{}":"berthtest"}}}}"#,
            reg.addr()
        ));
        let path = format!("{}:{}", bin.display(), support::berth::TEST_PATH);
        env.berth_cmd(["pull", "-q", &img.reference()])
            .env("PATH", &path)
            .assert()
            .success();

        // A configured helper that does not exist is named in the error.
        env.write_docker_config(&format!(
            r#"{{"credHelpers":{{"{}":"missing-helper"}}}}"#,
            reg.addr()
        ));
        env.berth_cmd(["rmi", &img.reference()]).assert().success();
        env.berth_cmd(["pull", &img.reference()]).assert().code(1);
    });
}

#[test]
fn podman_auth_file_is_read() {
    let reg = Registry::start(RegistryAuth::basic());
    let img = fixtures::push_busybox(&reg, "private/bb", "latest");
    for_each_mode(|env| {
        let file = env.scratch_dir("containers").join("auth.json");
        env.write_file_owned(&file, reg.docker_config_json().as_bytes(), 0o600);
        env.berth_cmd(["pull", "-q", &img.reference()])
            .env("REGISTRY_AUTH_FILE", &file)
            .assert()
            .success();
    });
}

#[test]
fn mirrors_are_tried_before_the_registry() {
    let mirror = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&mirror, "library/busybox", "latest");
    // Nothing listens on the "real" registry: the pull can only succeed through the mirror.
    let upstream = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    for_each_mode(|env| {
        env.write_config(&format!(
            "[registries.mirrors]\n\"{upstream}\" = [\"{}\"]\n",
            mirror.addr()
        ));
        let name = format!("{upstream}/library/busybox:latest");
        env.berth_cmd(["pull", "-q", &name])
            .assert()
            .success()
            .stdout(format!("{name}\n"));
        env.berth_cmd(["image", "inspect", "-f", "{{.Id}}", &name])
            .assert()
            .success()
            .stdout(format!("{}\n", img.image_id()));
    });
}

#[test]
fn a_bad_config_file_is_an_error_naming_it() {
    for_each_mode(|env: &mut TestEnv| {
        env.write_config("[registries]\ninsecure = 5\n");
        env.berth_cmd(["images"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("config.toml"));
    });
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

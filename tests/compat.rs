//! Proof by real command patterns: the shell scripts in `tests/compat/`,
//! written the way real projects drive docker (CI jobs, Makefiles,
//! entrypoint helpers), run unchanged against berth.
//!
//! Each script runs rootless, as the test user, under `bash` with `docker`
//! defined as an exported shell function calling the berth binary under
//! test, in a fresh [`TestEnv`] with a fresh local registry holding a
//! busybox image. What a script gets in its environment:
//!
//! - `BERTH`: the berth binary; `docker` calls it.
//! - `IMG`: the busybox test image (`127.0.0.1:PORT/library/busybox:latest`).
//! - `REGISTRY`: `127.0.0.1:PORT` of that registry (no auth).
//! - `AUTH_REGISTRY`, `AUTH_USER`, `AUTH_PASS`: a registry with basic auth,
//!   holding `private/busybox:latest` (only for the scripts that ask, see
//!   [`Needs`]).
//!
//! A script passes when it exits 0; its stdout and stderr are printed when
//! it does not. Scripts check what the real script would check (values,
//! exit codes, files), with `set -eu`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::berth::{Mode, TestEnv, berth_bin};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

/// What a script needs besides the plain registry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    Plain,
    AuthRegistry,
}

/// Defines `docker` for the script (and the bash scripts it starts) and runs
/// it, tracing its commands (`set -x`) to `$TRACE` on their own fd so that
/// the script's own output and stderr stay untouched.
const PRELUDE: &str = r#"docker() { "$BERTH" "$@"; }; export -f docker;
exec 9>"$TRACE"; export BASH_XTRACEFD=9; exec bash -x "$0" "$@""#;

fn script_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(format!("{name}.sh"))
}

fn run_script(name: &str, needs: Needs) {
    let path = script_path(name);
    assert!(path.is_file(), "missing script {}", path.display());
    let reg = Registry::start(RegistryAuth::None);
    let img = fixtures::push_busybox(&reg, "library/busybox", "latest");
    let auth = (needs == Needs::AuthRegistry).then(|| {
        let reg = Registry::start(RegistryAuth::basic());
        fixtures::push_busybox(&reg, "private/busybox", "latest");
        reg
    });

    let mut env = TestEnv::new(Mode::Rootless);
    env.set_env("BERTH", berth_bin());
    env.set_env("IMG", img.reference());
    env.set_env("REGISTRY", reg.addr());
    if let Some(a) = &auth {
        env.set_env("AUTH_REGISTRY", a.addr());
        env.set_env("AUTH_USER", a.user().unwrap());
        env.set_env("AUTH_PASS", a.password().unwrap());
    }
    // The script's working directory: a project checkout of the test user.
    let work = env.scratch_dir("project");
    let trace = env.scratch_dir("trace").join("xtrace");
    env.set_env("TRACE", &trace);
    let mut cmd = env.std_command("/bin/bash");
    cmd.arg("-c").arg(PRELUDE).arg(&path).current_dir(&work);
    let out = run_with_timeout(cmd, Duration::from_secs(300));
    // Whatever the script left behind must not outlive the test.
    cleanup(&env);
    if !out.status.success() {
        let trace = std::fs::read_to_string(&trace).unwrap_or_default();
        let lines: Vec<&str> = trace.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        panic!(
            "tests/compat/{name}.sh failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}\n\
             --- last traced commands ---\n{tail}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn run_with_timeout(cmd: std::process::Command, timeout: Duration) -> std::process::Output {
    let mut c = assert_cmd::Command::from_std(cmd);
    c.timeout(timeout);
    c.output().expect("run bash")
}

/// Removes every container the script left (running ones would busy-loop).
fn cleanup(env: &TestEnv) {
    let Ok(out) = env.berth_cmd(["ps", "-aq", "--no-trunc"]).output() else {
        return;
    };
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if !ids.is_empty() {
        let _ = env.berth_cmd(["rm", "-fv"]).args(&ids).output();
    }
}

macro_rules! compat {
    ($($(#[$attr:meta])* $name:ident $(: $needs:ident)?;)*) => {$(
        $(#[$attr])*
        #[test]
        fn $name() {
            run_script(stringify!($name), compat!(@needs $($needs)?));
        }
    )*};
    (@needs) => { Needs::Plain };
    (@needs $needs:ident) => { Needs::$needs };
}

compat! {
    version;
    build_in_container;
    detached_with_trap_cleanup;
    wait_until_running_and_healthy;
    exec_stdin_checksum;
    ps_filters;
    logs_tail;
    save_and_load;
    create_cp_rm;
    anonymous_named_volume;
    port_random_host_port;
    build_quiet_then_run;
    inspect_env_range;
    images_quiet_count;
    login_tag_push_pull: AuthRegistry;
    exit_codes;
    stdin_and_stdout_streams;
    flags_env_labels;
    cp_streams;
    build_options;
    volume_forms;
    user_network_dns;
    restart_and_housekeeping;
}

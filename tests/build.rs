//! `berth build`, root and rootless: docker's classic builder's output, RUN
//! in real containers, COPY/ADD from the context and other stages, the
//! config instructions, the layer cache, contexts and Dockerfiles on stdin.

mod support;

use std::io::Write;
use std::path::Path;

use support::berth::{TestEnv, for_each_mode};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

fn busybox(reg: &Registry) -> String {
    fixtures::push_busybox(reg, "library/busybox", "latest");
    format!("{}/library/busybox", reg.addr())
}

/// A build context directory with these files.
fn context(env: &TestEnv, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = env.scratch_dir(name);
    for (p, content) in files {
        env.write_file_owned(&dir.join(p), content.as_bytes(), 0o644);
    }
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn build(env: &TestEnv, args: &[&str], dir: &Path) -> std::process::Output {
    let mut full = vec!["build"];
    full.extend_from_slice(args);
    let d = dir.to_string_lossy().to_string();
    full.push(&d);
    env.berth_cmd(full).output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn run_out(env: &TestEnv, args: &[&str]) -> String {
    let mut full = vec!["run", "--rm"];
    full.extend_from_slice(args);
    ok(&env.berth_cmd(full).output().unwrap())
}

#[test]
fn multi_stage_build_runs_copies_and_tags() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image} AS build\n\
             RUN mkdir /out && echo built-here > /out/result.txt && echo step-output\n\
             COPY hello.txt /out/\n\
             FROM {image}\n\
             COPY --from=build /out /app\n\
             CMD [\"cat\", \"/app/result.txt\", \"/app/hello.txt\"]\n"
        );
        let dir = context(
            env,
            "ctx",
            &[("Dockerfile", &df), ("hello.txt", "hello from context\n")],
        );
        let out = build(env, &["-t", "multi:1"], &dir);
        let stdout = ok(&out);
        assert!(stdout.contains("Step 1/6 : FROM"), "{stdout}");
        assert!(stdout.contains(" ---> Running in "), "{stdout}");
        assert!(stdout.contains("step-output\n"), "{stdout}");
        assert!(
            stdout.contains("Removing intermediate container "),
            "{stdout}"
        );
        assert!(stdout.contains("Successfully built "), "{stdout}");
        assert!(stdout.contains("Successfully tagged multi:1\n"), "{stdout}");
        assert_eq!(
            run_out(env, &["multi:1"]),
            "built-here\nhello from context\n"
        );
        // No container is left behind.
        let ps = ok(&env.berth_cmd(["ps", "-aq"]).output().unwrap());
        assert_eq!(ps, "", "intermediate containers left: {ps}");
    });
}

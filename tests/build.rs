//! `berth build`, root and rootless: docker's classic builder's output, RUN
//! in real containers, COPY/ADD from the context and other stages, the
//! config instructions, the layer cache, contexts and Dockerfiles on stdin.

mod support;

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
             COPY --from=build /out/*.txt /globbed/\n\
             CMD [\"cat\", \"/app/result.txt\", \"/app/hello.txt\"]\n"
        );
        let dir = context(
            env,
            "ctx",
            &[("Dockerfile", &df), ("hello.txt", "hello from context\n")],
        );
        let out = build(env, &["-t", "multi:1", "-t", "multi:2"], &dir);
        let stdout = ok(&out);
        // Two files of less than 512 bytes.
        assert!(
            stdout.starts_with("Sending build context to Docker daemon  3.072kB\nStep 1/7 : FROM"),
            "{stdout}"
        );
        assert!(stdout.contains(" ---> Running in "), "{stdout}");
        assert!(stdout.contains("step-output\n"), "{stdout}");
        assert!(
            stdout.contains(" ---> Removed intermediate container "),
            "{stdout}"
        );
        assert!(stdout.contains("Successfully built "), "{stdout}");
        assert!(
            stdout.contains("Successfully tagged multi:1\nSuccessfully tagged multi:2\n"),
            "{stdout}"
        );
        assert_eq!(
            inspect(env, "multi:1", "{{.Id}}"),
            inspect(env, "multi:2", "{{.Id}}")
        );
        assert_eq!(
            run_out(env, &["multi:1"]),
            "built-here\nhello from context\n"
        );
        assert_eq!(
            run_out(env, &["multi:1", "ls", "/globbed"]),
            "hello.txt\nresult.txt\n"
        );
        // No container is left behind.
        let ps = ok(&env.berth_cmd(["ps", "-aq"]).output().unwrap());
        assert_eq!(ps, "", "intermediate containers left: {ps}");
    });
}

/// A tiny HTTP server answering every request with `body` (and a
/// Last-Modified of 1994-11-06T08:49:37Z); returns its port.
fn serve_once_per_request(body: &'static [u8]) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body);
        }
    });
    port
}

/// No temporary directory of a build is left in the store.
fn assert_no_leftovers(env: &TestEnv) {
    let tmp = env.data_dir().join("storage/build-tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", tmp.display());
}

fn inspect(env: &TestEnv, name: &str, format: &str) -> String {
    ok(&env
        .berth_cmd(["inspect", "--format", format, name])
        .output()
        .unwrap())
    .trim_end()
    .to_string()
}

#[test]
fn config_instructions_reach_the_image_config() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image}\n\
             MAINTAINER someone@example.com\n\
             ARG GREETING=hi\n\
             ENV APP_HOME=/srv/app MODE=$GREETING\n\
             LABEL org.example.name=\"demo app\" version=1\n\
             WORKDIR $APP_HOME\n\
             WORKDIR sub\n\
             EXPOSE 80 53/udp\n\
             VOLUME /data\n\
             STOPSIGNAL SIGINT\n\
             HEALTHCHECK --interval=5s --retries=2 CMD true\n\
             SHELL [\"/bin/sh\", \"-ec\"]\n\
             ONBUILD RUN echo triggered > /tmp/onbuild.txt\n\
             USER app\n\
             RUN pwd > /tmp/pwd.txt && id -u > /tmp/uid.txt\n\
             ENTRYPOINT [\"/bin/sh\", \"-c\"]\n\
             CMD [\"cat /tmp/pwd.txt /tmp/uid.txt; echo $MODE\"]\n"
        );
        let dir = context(env, "cfg", &[("Dockerfile", &df)]);
        ok(&build(env, &["-t", "cfg"], &dir));
        let config = inspect(env, "cfg", "{{json .Config}}");
        let v: serde_json::Value = serde_json::from_str(&config).unwrap();
        let env_list: Vec<&str> = v["Env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(env_list.contains(&"APP_HOME=/srv/app"), "{config}");
        assert!(env_list.contains(&"MODE=hi"), "{config}");
        assert_eq!(v["Labels"]["org.example.name"], "demo app", "{config}");
        assert_eq!(v["Labels"]["version"], "1", "{config}");
        assert_eq!(v["WorkingDir"], "/srv/app/sub", "{config}");
        assert!(v["ExposedPorts"]["80/tcp"].is_object(), "{config}");
        assert!(v["ExposedPorts"]["53/udp"].is_object(), "{config}");
        assert!(v["Volumes"]["/data"].is_object(), "{config}");
        assert_eq!(v["StopSignal"], "SIGINT", "{config}");
        assert_eq!(
            v["Healthcheck"],
            serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000u64, "Retries": 2}),
            "{config}"
        );
        assert_eq!(
            v["Shell"],
            serde_json::json!(["/bin/sh", "-ec"]),
            "{config}"
        );
        assert_eq!(
            v["OnBuild"],
            serde_json::json!(["RUN echo triggered > /tmp/onbuild.txt"]),
            "{config}"
        );
        assert_eq!(v["User"], "app", "{config}");
        assert_eq!(
            v["Entrypoint"],
            serde_json::json!(["/bin/sh", "-c"]),
            "{config}"
        );
        assert_eq!(inspect(env, "cfg", "{{.Author}}"), "someone@example.com");
        // The RUN ran as the user, in the (created) working directory.
        assert_eq!(run_out(env, &["cfg"]), "/srv/app/sub\n1000\nhi\n");
        // History: one entry per step, the RUN's as docker writes it.
        let history = ok(&env
            .berth_cmd(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "cfg"])
            .output()
            .unwrap());
        assert!(
            history.contains("|1 GREETING=hi /bin/sh -ec pwd > /tmp/pwd.txt"),
            "{history}"
        );
        // ONBUILD triggers run in the child build, and are not inherited.
        let dir = context(
            env,
            "child",
            &[("Dockerfile", "FROM cfg\nRUN cat /tmp/onbuild.txt\n")],
        );
        let out = ok(&build(env, &["-t", "child"], &dir));
        assert!(out.contains("# Executing 1 build trigger\n"), "{out}");
        assert!(out.contains("triggered\n"), "{out}");
        assert_eq!(inspect(env, "child", "{{json .Config.OnBuild}}"), "null");
    });
}

#[test]
fn failing_run_fails_the_build_with_docker_message() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!("FROM {image}\nRUN echo before\nRUN false\nRUN echo never\n");
        let dir = context(env, "fail", &[("Dockerfile", &df)]);
        let out = build(env, &["-t", "failed"], &dir);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr)
                .contains("The command '/bin/sh -c false' returned a non-zero code: 1"),
            "{}",
            text(&out.stderr)
        );
        assert!(!text(&out.stdout).contains("never"));
        let out = env.berth_cmd(["inspect", "failed"]).output().unwrap();
        assert!(!out.status.success(), "a failed build left an image");
        assert_eq!(ok(&env.berth_cmd(["ps", "-aq"]).output().unwrap()), "");
        assert_no_leftovers(env);
        // Exec form; the build exits 1 whatever the command's code.
        let df = format!("FROM {image}\nRUN [\"sh\", \"-c\", \"exit 3\"]\n");
        let dir = context(env, "fail3", &[("Dockerfile", &df)]);
        let out = build(env, &[], &dir);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("The command 'sh -c exit 3' returned a non-zero code: 3"),
            "{}",
            text(&out.stderr)
        );
        // Not implemented yet: a clear error, 125.
        let df = format!("FROM {image}\nRUN --mount=type=ssh true\n");
        let dir = context(env, "mount", &[("Dockerfile", &df)]);
        let out = build(env, &[], &dir);
        assert_eq!(out.status.code(), Some(125));
        assert!(
            text(&out.stderr).contains("not implemented"),
            "{}",
            text(&out.stderr)
        );
        // ADD of a URL.
        let port = serve_once_per_request(b"remote body\n");
        let df =
            format!("FROM {image}\nADD http://127.0.0.1:{port}/files/remote.txt?x=1 /downloads/\n");
        let dir = context(env, "url", &[("Dockerfile", &df)]);
        ok(&build(env, &["-t", "url"], &dir));
        assert_eq!(
            run_out(
                env,
                &["url", "stat", "-c", "%a %Y", "/downloads/remote.txt"]
            ),
            "600 784111777\n"
        );
        assert_eq!(
            run_out(env, &["url", "cat", "/downloads/remote.txt"]),
            "remote body\n"
        );
    });
}

#[test]
fn run_mounts_cache_tmpfs_bind_and_secret() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image} AS src\n\
             RUN mkdir /out && echo staged > /out/f && echo single > /one\n\
             FROM {image}\n\
             RUN --mount=type=bind,from=src,source=/out,target=/mnt/out cat /mnt/out/f > /from-stage\n\
             RUN --mount=type=bind,from=src,source=one,target=/mnt/one cat /mnt/one >> /from-stage\n\
             RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /count\n\
             RUN --mount=type=tmpfs,target=/scratch echo hi > /scratch/x && cat /scratch/x > /tmpfs-out\n\
             RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/f.txt > /bound\n\
             RUN --mount=type=secret,id=tok cat /run/secrets/tok > /secret-copy\n\
             RUN --mount=type=secret,id=tok,env=TOK echo \"env $TOK\" > /secret-env\n"
        );
        let dir = context(
            env,
            "mounts",
            &[
                ("Dockerfile", &df),
                ("data/f.txt", "bound file\n"),
                ("tok.txt", "s3cret\n"),
            ],
        );
        let secret = format!("id=tok,src={}", dir.join("tok.txt").display());
        ok(&build(env, &["--secret", &secret, "-t", "mounts"], &dir));
        assert_eq!(run_out(env, &["mounts", "cat", "/count"]), "1\n");
        assert_eq!(
            run_out(env, &["mounts", "cat", "/from-stage"]),
            "staged\nsingle\n"
        );
        assert_eq!(run_out(env, &["mounts", "cat", "/tmpfs-out"]), "hi\n");
        assert_eq!(run_out(env, &["mounts", "cat", "/bound"]), "bound file\n");
        assert_eq!(run_out(env, &["mounts", "cat", "/secret-copy"]), "s3cret\n");
        assert_eq!(
            run_out(env, &["mounts", "cat", "/secret-env"]),
            "env s3cret\n\n"
        );
        // Mount points and what was mounted stay out of the image.
        let ls = run_out(
            env,
            &[
                "mounts",
                "sh",
                "-c",
                "ls -A /cache /scratch /run/secrets 2>&1; true",
            ],
        );
        assert!(
            !ls.contains("count") && !ls.contains("tok") && !ls.contains(" x"),
            "{ls}"
        );
        // The cache mount persists between builds.
        ok(&build(
            env,
            &["--no-cache", "--secret", &secret, "-t", "mounts"],
            &dir,
        ));
        assert_eq!(run_out(env, &["mounts", "cat", "/count"]), "2\n");
    });
}

#[test]
fn cache_reuses_steps_and_is_invalidated_by_changes() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image}\nENV A=1\nRUN echo first > /first\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy\n"
        );
        let dir = context(env, "cache", &[("Dockerfile", &df), ("data.txt", "one\n")]);
        let first = ok(&build(env, &["-t", "cached"], &dir));
        assert!(!first.contains("Using cache"), "{first}");
        let id1 = inspect(env, "cached", "{{.Id}}");
        let start = std::time::Instant::now();
        let second = ok(&build(env, &["-t", "cached"], &dir));
        let took = start.elapsed();
        assert_eq!(second.matches(" ---> Using cache").count(), 4, "{second}");
        assert!(!second.contains("Running in"), "{second}");
        assert_eq!(inspect(env, "cached", "{{.Id}}"), id1);
        assert!(
            took < std::time::Duration::from_millis(1500),
            "cached build took {took:?}"
        );
        // A changed file: the steps before it are cached, it and the rest run.
        env.write_file_owned(&dir.join("data.txt"), b"two\n", 0o644);
        let third = ok(&build(env, &["-t", "cached"], &dir));
        assert_eq!(third.matches(" ---> Using cache").count(), 2, "{third}");
        assert_ne!(inspect(env, "cached", "{{.Id}}"), id1);
        assert_eq!(run_out(env, &["cached", "cat", "/copy"]), "two\n");
        // --no-cache runs everything.
        let fourth = ok(&build(env, &["--no-cache", "-t", "cached"], &dir));
        assert!(!fourth.contains("Using cache"), "{fourth}");
        assert_eq!(fourth.matches(" ---> Running in").count(), 3, "{fourth}");
        // `system prune` empties the build cache.
        let pruned = ok(&env.berth_cmd(["system", "prune", "-f"]).output().unwrap());
        assert!(pruned.contains("Deleted build cache objects:"), "{pruned}");
        let fifth = ok(&build(env, &["-t", "cached"], &dir));
        assert!(!fifth.contains("Using cache"), "{fifth}");
    });
}

#[test]
fn dockerignore_heredocs_globs_chown_and_add() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image}\n\
             COPY . /ctx/\n\
             COPY *.txt /globbed/\n\
             COPY --chown=app:app --chmod=600 keep.txt /owned\n\
             COPY sub/link.txt /linked/\n\
             ADD archive.tar /unpacked/\n\
             COPY <<EOF /etc/greeting\nhello $HOSTNAME_UNSET-heredoc\nEOF\n\
             RUN <<EOF\necho from-heredoc > /heredoc-run\nEOF\n"
        );
        let dir = context(
            env,
            "ign",
            &[
                ("Dockerfile", &df),
                (".dockerignore", "secret.txt\n*.log\n"),
                ("keep.txt", "keep\n"),
                ("other.txt", "other\n"),
                ("secret.txt", "secret\n"),
                ("debug.log", "log\n"),
                ("sub/inner.txt", "inner\n"),
            ],
        );
        // A tar to ADD.
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "in-tar.txt", &b"intar\n"[..])
            .unwrap();
        let bytes = tar.into_inner().unwrap();
        env.write_file_owned(&dir.join("archive.tar"), &bytes, 0o644);
        std::os::unix::fs::symlink("../keep.txt", dir.join("sub/link.txt")).unwrap();
        ok(&build(env, &["-t", "ign"], &dir));
        let ls = run_out(env, &["ign", "ls", "/ctx"]);
        assert_eq!(
            ls, "Dockerfile\narchive.tar\nkeep.txt\nother.txt\nsub\n",
            "ignored files were copied"
        );
        assert_eq!(
            run_out(env, &["ign", "ls", "/globbed"]),
            "keep.txt\nother.txt\n"
        );
        assert_eq!(
            run_out(env, &["ign", "stat", "-c", "%u:%g %a", "/owned"]),
            "1000:1000 600\n"
        );
        assert_eq!(
            run_out(env, &["ign", "cat", "/unpacked/in-tar.txt"]),
            "intar\n"
        );
        assert_eq!(
            run_out(env, &["ign", "cat", "/etc/greeting"]),
            "hello -heredoc\n"
        );
        assert_eq!(
            run_out(env, &["ign", "cat", "/heredoc-run"]),
            "from-heredoc\n"
        );
        assert_eq!(
            run_out(env, &["ign", "stat", "-c", "%u:%g", "/ctx/keep.txt"]),
            "0:0\n"
        );
    });
}

#[test]
fn dockerfile_or_context_from_stdin_and_quiet_output() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        // A Dockerfile on stdin, no context.
        let df = format!("FROM {image}\nRUN echo piped > /piped\n");
        let out = env
            .berth_cmd(["build", "-q", "-t", "piped", "-"])
            .write_stdin(df.clone())
            .output()
            .unwrap();
        let id = ok(&out);
        assert!(id.starts_with("sha256:") && id.trim().len() == 71, "{id}");
        assert_eq!(run_out(env, &[id.trim(), "cat", "/piped"]), "piped\n");
        // A tar context on stdin, with its Dockerfile inside.
        let df = format!("FROM {image}\nCOPY file.txt /file.txt\n");
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in [("Dockerfile", df.as_bytes()), ("file.txt", b"in tar\n")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, data).unwrap();
        }
        let out = env
            .berth_cmd(["build", "-t", "tarctx", "-"])
            .write_stdin(tar.into_inner().unwrap())
            .output()
            .unwrap();
        ok(&out);
        assert_eq!(run_out(env, &["tarctx", "cat", "/file.txt"]), "in tar\n");
        // -f - with a directory context; --iidfile.
        let dir = context(env, "fdash", &[("x.txt", "x\n")]);
        let iid = env.dir().join("iid");
        let out = env
            .berth_cmd([
                "build",
                "-q",
                "--iidfile",
                &iid.to_string_lossy(),
                "-f",
                "-",
                &dir.to_string_lossy(),
            ])
            .write_stdin(format!("FROM {image}\nCOPY x.txt /\n"))
            .output()
            .unwrap();
        let id = ok(&out);
        assert_eq!(std::fs::read_to_string(&iid).unwrap(), id.trim());
        assert_eq!(run_out(env, &[id.trim(), "cat", "/x.txt"]), "x\n");
    });
}

#[test]
fn target_build_args_and_parse_errors() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "ARG BASE={image}\n\
             FROM $BASE AS first\n\
             ARG WHO=nobody\n\
             RUN echo \"first $WHO\" > /who\n\
             FROM $BASE AS second\n\
             RUN echo second > /who\n"
        );
        let dir = context(env, "tgt", &[("Dockerfile", &df)]);
        let out = ok(&build(
            env,
            &[
                "--target",
                "first",
                "--build-arg",
                "WHO=alice",
                "--build-arg",
                "UNUSED=1",
                "-t",
                "tgt",
            ],
            &dir,
        ));
        assert!(
            out.contains("[Warning] One or more build-args [UNUSED] were not consumed\n"),
            "{out}"
        );
        assert!(out.contains("Step 1/3 : FROM $BASE AS first"), "{out}");
        assert!(!out.contains("second"), "{out}");
        assert_eq!(run_out(env, &["tgt", "cat", "/who"]), "first alice\n");
        let out = build(env, &["--target", "nope"], &dir);
        assert_eq!(out.status.code(), Some(1));
        // A malformed Dockerfile: the line, exit 1, no image.
        let dir = context(
            env,
            "bad",
            &[("Dockerfile", &format!("FROM {image}\nRUNN echo hi\n"))],
        );
        let out = build(env, &["-t", "bad"], &dir);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("line 2") && err.contains("unknown instruction: RUNN"),
            "{err}"
        );
        assert!(
            !env.berth_cmd(["inspect", "bad"])
                .output()
                .unwrap()
                .status
                .success()
        );
        // COPY of a missing file.
        let dir = context(
            env,
            "missing",
            &[("Dockerfile", &format!("FROM {image}\nCOPY nope /\n"))],
        );
        let out = build(env, &[], &dir);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("\"/nope\": not found"),
            "{}",
            text(&out.stderr)
        );
    });
}

#[test]
fn concurrent_builds_scratch_and_external_from() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        // Two builds at once, sharing a base and a cacheable first step.
        let mut children = Vec::new();
        for n in 0..2 {
            let df = format!(
                "FROM {image}\nRUN echo shared > /shared\nRUN echo {n} > /mine\nCOPY f.txt /f.txt\n"
            );
            let dir = context(
                env,
                &format!("conc{n}"),
                &[("Dockerfile", &df), ("f.txt", &format!("file {n}\n"))],
            );
            children.push(
                env.berth_std()
                    .args(["build", "-q", "-t", &format!("conc:{n}")])
                    .arg(&dir)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
        for c in children {
            ok(&c.wait_with_output().unwrap());
        }
        for n in 0..2 {
            let tag = format!("conc:{n}");
            assert_eq!(
                run_out(env, &[&tag, "cat", "/shared", "/mine", "/f.txt"]),
                format!("shared\n{n}\nfile {n}\n")
            );
        }
        // Only the tagged results are images: the steps are not.
        let images = ok(&env
            .berth_cmd(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .output()
            .unwrap());
        assert!(!images.contains("<none>"), "{images}");
        // FROM scratch, COPY --from an image that is not a stage.
        let df = format!(
            "FROM scratch\nCOPY --from={image} /bin/busybox /bin/busybox\nCOPY --from=conc:1 /mine /mine\nENTRYPOINT [\"/bin/busybox\"]\nCMD [\"cat\", \"/mine\"]\n"
        );
        let dir = context(env, "scratch", &[("Dockerfile", &df)]);
        ok(&build(env, &["-t", "fromscratch"], &dir));
        assert_eq!(run_out(env, &["fromscratch"]), "1\n");
        assert_eq!(inspect(env, "fromscratch", "{{len .RootFS.Layers}}"), "2");
    });
}

#[test]
fn independent_stages_build_at_the_same_time() {
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        // Each of the two independent stages waits (ten seconds at most)
        // for a mark the other leaves in a shared cache mount: built one
        // after the other, the first would give up and fail the build.
        let meet = |me: &str, other: &str| {
            format!(
                "RUN --mount=type=cache,target=/meet,id=meet-{pid} \
                 touch /meet/{me} && i=0; \
                 while [ ! -e /meet/{other} ]; do i=$((i+1)); [ $i -lt 100 ] || exit 7; sleep 0.1; done; \
                 echo {me} > /{me}\n",
                pid = std::process::id()
            )
        };
        let df = format!(
            "FROM {image} AS left\n{}\
             FROM {image} AS right\n{}\
             FROM {image}\n\
             COPY --from=left /left /both/\n\
             COPY --from=right /right /both/\n",
            meet("left", "right"),
            meet("right", "left"),
        );
        let dir = context(env, "parallel", &[("Dockerfile", &df)]);
        let stdout = ok(&build(env, &["--no-cache", "-t", "parallel"], &dir));
        // The output reads as a sequential build's: steps in order.
        let steps: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Step "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            steps,
            ["1/7", "2/7", "3/7", "4/7", "5/7", "6/7", "7/7"],
            "{stdout}"
        );
        assert_eq!(
            run_out(env, &["parallel", "cat", "/both/left", "/both/right"]),
            "left\nright\n"
        );
        let ps = ok(&env.berth_cmd(["ps", "-aq"]).output().unwrap());
        assert_eq!(ps, "", "intermediate containers left: {ps}");
    });
}

#[test]
fn output_local_and_tar_write_the_built_files() {
    use std::os::unix::fs::MetadataExt;
    let reg = Registry::start(RegistryAuth::None);
    let image = busybox(&reg);
    for_each_mode(|env| {
        let df = format!(
            "FROM {image}\n\
             RUN mkdir -p /app && echo built > /app/out.txt && chown 123:45 /app/out.txt && chmod 555 /app\n"
        );
        let dir = context(env, "outctx", &[("Dockerfile", &df)]);
        // type=local: the files, owned by the caller (as BuildKit's local
        // exporter writes them), modes kept.
        let dest = env.scratch_dir("out-local");
        let spec = format!("type=local,dest={}", dest.display());
        ok(&build(env, &["-o", &spec], &dir));
        assert_eq!(
            std::fs::read_to_string(dest.join("app/out.txt")).unwrap(),
            "built\n"
        );
        let meta = std::fs::metadata(dest.join("app/out.txt")).unwrap();
        assert_eq!(meta.uid(), env.uid());
        assert_eq!(
            std::fs::metadata(dest.join("app")).unwrap().mode() & 0o777,
            0o555
        );
        assert!(dest.join("bin/busybox").is_file());
        // A bare path is type=local too.
        let bare = env.scratch_dir("out-bare");
        ok(&build(env, &["-q", "-o", &bare.to_string_lossy()], &dir));
        assert!(bare.join("app/out.txt").is_file());

        // `-o -`: a tar on stdout, with the image's owners; the progress on stderr.
        let out = build(env, &["-o", "-"], &dir);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("Successfully built "));
        let mut ar = tar::Archive::new(&out.stdout[..]);
        let entry = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().ends_with("app/out.txt"))
            .expect("app/out.txt in the tar");
        assert_eq!(
            (entry.header().uid().unwrap(), entry.header().gid().unwrap()),
            (123, 45)
        );

        // Outputs berth does not write are refused before building.
        let out = build(env, &["-o", "type=registry"], &dir);
        assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("type=registry"));
    });
}

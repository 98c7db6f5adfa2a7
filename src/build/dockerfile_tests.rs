use super::*;

fn df(text: &str) -> Dockerfile {
    match parse(text, "Dockerfile") {
        Ok(d) => d,
        Err(e) => panic!("{}", e.short()),
    }
}

/// The instructions of the only stage.
fn instrs(text: &str) -> Vec<Instruction> {
    let d = df(text);
    d.stages[0]
        .instructions
        .iter()
        .map(|l| l.value.clone())
        .collect()
}

fn one(line: &str) -> Instruction {
    let v = instrs(&format!("FROM x\n{line}\n"));
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

fn err(text: &str) -> String {
    parse(text, "Dockerfile").unwrap_err().short()
}

fn shell(s: &str) -> CommandLine {
    CommandLine::Shell(s.into())
}

fn exec(v: &[&str]) -> CommandLine {
    CommandLine::Exec(v.iter().map(|s| s.to_string()).collect())
}

#[test]
fn from_forms() {
    let d = df(
        "FROM alpine\nFROM --platform=linux/arm64 busybox:1 AS Build\nfrom scratch as x.y-z_1\n",
    );
    assert_eq!(d.stages.len(), 3);
    assert_eq!(
        d.stages[0].from.value,
        FromLine {
            image: "alpine".into(),
            platform: None,
            name: None
        }
    );
    assert_eq!(d.stages[1].name.as_deref(), Some("build"));
    assert_eq!(
        d.stages[1].from.value.platform.as_deref(),
        Some("linux/arm64")
    );
    assert_eq!(d.stages[1].from.value.image, "busybox:1");
    assert_eq!(d.stages[2].from.value.image, "scratch");
    assert_eq!(d.stages[2].name.as_deref(), Some("x.y-z_1"));
    assert_eq!(d.stages[2].index, 2);
    assert_eq!(d.stages[2].from.line, 3);
}

#[test]
fn from_errors() {
    assert_eq!(
        err("FROM\n"),
        "Dockerfile:1: FROM requires either one or three arguments"
    );
    assert_eq!(
        err("FROM a b\n"),
        "Dockerfile:1: FROM requires either one or three arguments"
    );
    assert_eq!(
        err("FROM a FOR b\n"),
        "Dockerfile:1: FROM requires either one or three arguments"
    );
    assert!(err("FROM a AS 1abc\n").contains("invalid name for build stage: \"1abc\""));
    assert!(err("FROM a AS a$b\n").contains("invalid name for build stage"));
    assert_eq!(
        err("FROM --plat=x a\n"),
        "Dockerfile:1: unknown flag: --plat"
    );
}

#[test]
fn whole_file_errors() {
    assert_eq!(err(""), "Dockerfile:0: file with no instructions");
    assert_eq!(
        err("# just a comment\n\n"),
        "Dockerfile:0: file with no instructions"
    );
    assert_eq!(
        err("ARG A=1\n"),
        "Dockerfile:0: dockerfile contains no stages to build"
    );
    assert_eq!(
        err("ARG A\nRUN true\nFROM x\n"),
        "Dockerfile:2: no build stage in current context"
    );
    assert_eq!(
        err("\n\nENV A=1\nFROM x\n"),
        "Dockerfile:3: no build stage in current context"
    );
}

#[test]
fn unknown_instruction_with_suggestion() {
    assert_eq!(
        err("FROM x\nRUNN echo\n"),
        "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"
    );
    assert_eq!(
        err("FROM x\n\nservices:\n"),
        "Dockerfile:3: unknown instruction: services:"
    );
    assert_eq!(
        err("FROM x\nADDD . .\n"),
        "Dockerfile:2: unknown instruction: ADDD (did you mean ADD?)"
    );
    let e = parse("FROM x\nRUN a\n&& b\n", "Dockerfile").unwrap_err();
    assert_eq!(
        e.to_string(),
        "dockerfile parse error on line 3: unknown instruction: &&"
    );
}

#[test]
fn error_excerpt_like_buildkit() {
    let text = "FROM node\nWORKDIR /app\nADDD . .\nRUN npm i\n";
    let e = parse(text, "Dockerfile").unwrap_err();
    assert_eq!(
        e.excerpt(text),
        "Dockerfile:3\n--------------------\n  1 |     FROM node\n  2 |     WORKDIR /app\n  3 | >>> ADDD . .\n  4 |     RUN npm i\n--------------------\n"
    );
}

#[test]
fn case_insensitive_keywords() {
    let v = instrs("from x\nrun echo\nCoPy a b\nEnV A=1\n");
    assert_eq!(v[0].keyword(), "RUN");
    assert_eq!(v[1].keyword(), "COPY");
    assert_eq!(v[2].keyword(), "ENV");
}

#[test]
fn run_shell_and_exec() {
    assert_eq!(
        one("RUN echo hello   world"),
        Instruction::Run(Run {
            command: shell("echo hello   world"),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None
        })
    );
    match one("RUN [\"/bin/sh\", \"-c\", \"echo $HOME\"]") {
        Instruction::Run(r) => assert_eq!(r.command, exec(&["/bin/sh", "-c", "echo $HOME"])),
        o => panic!("{o:?}"),
    }
    // Not valid JSON (single quotes, non-strings): shell form.
    match one("RUN ['a']") {
        Instruction::Run(r) => assert_eq!(r.command, shell("['a']")),
        o => panic!("{o:?}"),
    }
    match one("RUN [1, 2]") {
        Instruction::Run(r) => assert_eq!(r.command, shell("[1, 2]")),
        o => panic!("{o:?}"),
    }
    assert_eq!(
        err("FROM x\nRUN\n"),
        "Dockerfile:2: RUN requires at least one argument"
    );
}

#[test]
fn run_flags() {
    match one("RUN --network=none --security=insecure echo hi") {
        Instruction::Run(r) => {
            assert_eq!(r.network, Some(Network::None));
            assert_eq!(r.security, Some(Security::Insecure));
            assert_eq!(r.command, shell("echo hi"));
        }
        o => panic!("{o:?}"),
    }
    match one("RUN --network=host -- echo") {
        Instruction::Run(r) => {
            assert_eq!(r.network, Some(Network::Host));
            assert_eq!(r.command, shell("echo"));
        }
        o => panic!("{o:?}"),
    }
    assert!(err("FROM x\nRUN --network=bridge true\n").contains("unsupported network mode"));
    assert!(err("FROM x\nRUN --security=x true\n").contains("unsupported security mode"));
    assert_eq!(
        err("FROM x\nRUN --foo true\n"),
        "Dockerfile:2: unknown flag: --foo"
    );
    assert_eq!(
        err("FROM x\nRUN --network true\n"),
        "Dockerfile:2: missing a value on flag: --network"
    );
    assert_eq!(
        err("FROM x\nRUN --network=none --network=host true\n"),
        "Dockerfile:2: duplicate flag specified: --network"
    );
}

fn mounts(line: &str) -> Vec<Mount> {
    match one(line) {
        Instruction::Run(r) => r.mounts,
        o => panic!("{o:?}"),
    }
}

#[test]
fn run_mounts() {
    let m = mounts(
        "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1,gid=2 \
         --mount=type=bind,source=src,target=/src,from=build,rw \
         --mount=target=/ctx \
         --mount=type=secret,id=tok \
         --mount=type=secret,target=/run/x/key,required \
         --mount=type=secret,id=aws,env=AWS_KEY \
         --mount=type=tmpfs,target=/tmp,size=64m \
         --mount=type=ssh \
         --mount=type=ssh,id=gh \
         make",
    );
    assert_eq!(m.len(), 9);
    let c = &m[0];
    assert_eq!(c.kind, MountType::Cache);
    assert_eq!(c.target, "/root/.cache");
    assert_eq!(c.id.as_deref(), Some("pip"));
    assert_eq!(c.sharing, CacheSharing::Locked);
    assert_eq!((c.mode, c.uid, c.gid), (Some(0o700), Some(1), Some(2)));
    assert!(!c.readonly);
    let b = &m[1];
    assert_eq!(b.kind, MountType::Bind);
    assert_eq!(b.source.as_deref(), Some("src"));
    assert_eq!(b.from.as_deref(), Some("build"));
    assert!(!b.readonly);
    assert_eq!(m[2].kind, MountType::Bind);
    assert!(m[2].readonly, "bind mounts are read-only by default");
    assert_eq!(m[3].target, "/run/secrets/tok");
    assert_eq!(m[3].mode, Some(0o400));
    assert!(!m[3].required);
    assert_eq!(m[4].id.as_deref(), Some("key"));
    assert!(m[4].required);
    assert_eq!(m[5].env.as_deref(), Some("AWS_KEY"));
    assert_eq!(m[5].target, "");
    assert_eq!(m[6].kind, MountType::Tmpfs);
    assert_eq!(m[6].size, Some(64 << 20));
    assert_eq!(m[7].target, "/run/buildkit/ssh_agent.0");
    assert_eq!(m[7].id.as_deref(), Some("default"));
    assert_eq!(m[8].target, "/run/buildkit/ssh_agent.1");
    assert_eq!(m[8].mode, Some(0o600));
    // Cache default mode; quoted CSV fields.
    let m = mounts(r#"RUN --mount="type=cache,\"target=/a,b\"" true"#);
    assert_eq!(m[0].target, "/a,b");
    assert_eq!(m[0].mode, Some(0o755));
    assert_eq!(m[0].sharing, CacheSharing::Shared);
}

#[test]
fn run_mount_errors() {
    for (line, want) in [
        (
            "RUN --mount=type=nfs,target=/x true",
            "unsupported mount type",
        ),
        ("RUN --mount=type=cache true", "mount target is required"),
        ("RUN --mount=type=bind true", "mount target is required"),
        (
            "RUN --mount=type=cache,target=/x,bogus=1 true",
            "unexpected key 'bogus'",
        ),
        (
            "RUN --mount=type=tmpfs,target=/x,from=a true",
            "unexpected key 'from'",
        ),
        (
            "RUN --mount=type=cache,target=/x,sharing=maybe true",
            "unsupported sharing value",
        ),
        (
            "RUN --mount=type=cache,target=/x,mode=999 true",
            "invalid value 999 for mode",
        ),
        (
            "RUN --mount=type=cache,target=/x,uid=a true",
            "invalid value a for uid",
        ),
        (
            "RUN --mount=type=bind,target=/x,ro=maybe true",
            "invalid value for ro",
        ),
        ("RUN --mount=type=secret true", "secret mount requires"),
        (
            "RUN --mount=type=cache,target true",
            "must be a key=value pair",
        ),
    ] {
        let e = err(&format!("FROM x\n{line}\n"));
        assert!(e.starts_with("Dockerfile:2: "), "{e}");
        assert!(e.contains(want), "{line}: {e}");
    }
}

#[test]
fn cmd_entrypoint_shell() {
    assert_eq!(
        one("CMD [\"nginx\", \"-g\", \"daemon off;\"]"),
        Instruction::Cmd(exec(&["nginx", "-g", "daemon off;"]))
    );
    assert_eq!(one("CMD echo $HOME"), Instruction::Cmd(shell("echo $HOME")));
    assert_eq!(one("CMD []"), Instruction::Cmd(exec(&[])));
    assert_eq!(
        one("ENTRYPOINT [\"/e\"]"),
        Instruction::Entrypoint(exec(&["/e"]))
    );
    assert_eq!(
        one("ENTRYPOINT exec top -b"),
        Instruction::Entrypoint(shell("exec top -b"))
    );
    assert_eq!(
        one("SHELL [\"powershell\", \"-command\"]"),
        Instruction::Shell(vec!["powershell".into(), "-command".into()])
    );
    assert_eq!(
        err("FROM x\nSHELL /bin/bash -c\n"),
        "Dockerfile:2: SHELL requires the arguments to be in JSON form"
    );
    assert_eq!(
        err("FROM x\nSHELL\n"),
        "Dockerfile:2: SHELL requires at least one argument"
    );
}

fn copy(line: &str) -> CopyArgs {
    match one(line) {
        Instruction::Copy(c) | Instruction::Add(c) => c,
        o => panic!("{o:?}"),
    }
}

fn paths(c: &CopyArgs) -> Vec<String> {
    c.sources
        .iter()
        .map(|s| match s {
            CopySource::Path(p) => p.clone(),
            CopySource::Heredoc(h) => format!("<<{}", h.name),
        })
        .collect()
}

#[test]
fn copy_and_add() {
    let c = copy("COPY --from=build --chown=app:app --chmod=0755 --link a.txt \"b c\" /dst/");
    assert_eq!(paths(&c), vec!["a.txt", "\"b c\""]);
    assert_eq!(c.dest, "/dst/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("app:app"));
    assert_eq!(c.chmod.as_deref(), Some("0755"));
    assert!(c.link);
    assert!(!c.json);
    let c = copy("COPY [\"a b\", \"c\", \"/d e/\"]");
    assert_eq!(paths(&c), vec!["a b", "c"]);
    assert_eq!(c.dest, "/d e/");
    assert!(c.json);
    let c = copy("COPY --link=false --exclude=*.md --exclude=*.txt . /app");
    assert!(!c.link);
    assert_eq!(c.exclude, vec!["*.md", "*.txt"]);
    let c = copy("ADD --chown=1:1 https://example.com/x.tgz /x/");
    assert_eq!(paths(&c), vec!["https://example.com/x.tgz"]);
    assert!(matches!(one("ADD a b"), Instruction::Add(_)));
    assert_eq!(
        err("FROM x\nCOPY onlyone\n"),
        "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert!(err("FROM x\nCOPY\n").contains("COPY requires at least two arguments"));
    assert_eq!(
        err("FROM x\nADD --from=a b c\n"),
        "Dockerfile:2: unknown flag: --from"
    );
    assert!(err("FROM x\nCOPY --parents a b\n").contains("COPY --parents is not supported"));
    assert!(
        err("FROM x\nADD --checksum=sha256:00 a b\n").contains("ADD --checksum is not supported")
    );
    assert!(err("FROM x\nADD --keep-git-dir=true a b\n").contains("not supported"));
    assert_eq!(
        err("FROM x\nCOPY --link=maybe a b\n"),
        "Dockerfile:2: expecting boolean value for flag --link, not: maybe"
    );
}

#[test]
fn env_forms() {
    assert_eq!(
        one("ENV A=1 B=\"two words\" C=three\\ words D="),
        Instruction::Env(vec![
            KeyValue {
                key: "A".into(),
                value: "1".into()
            },
            KeyValue {
                key: "B".into(),
                value: "\"two words\"".into()
            },
            KeyValue {
                key: "C".into(),
                value: "three\\ words".into()
            },
            KeyValue {
                key: "D".into(),
                value: "".into()
            },
        ])
    );
    assert_eq!(
        one("ENV MY_NAME John Doe  "),
        Instruction::Env(vec![KeyValue {
            key: "MY_NAME".into(),
            value: "John Doe".into()
        }])
    );
    assert_eq!(
        err("FROM x\nENV A\n"),
        "Dockerfile:2: ENV must have two arguments"
    );
    assert_eq!(
        err("FROM x\nENV\n"),
        "Dockerfile:2: ENV requires at least one argument"
    );
    assert_eq!(
        err("FROM x\nENV A=1 B\n"),
        "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"
    );
    assert_eq!(
        err("FROM x\nENV =1\n"),
        "Dockerfile:2: ENV names can not be blank"
    );
}

#[test]
fn arg_label_expose_volume() {
    assert_eq!(
        one("ARG A B=2 C=\"x y\""),
        Instruction::Arg(vec![
            ArgDecl {
                name: "A".into(),
                default: None
            },
            ArgDecl {
                name: "B".into(),
                default: Some("2".into())
            },
            ArgDecl {
                name: "C".into(),
                default: Some("\"x y\"".into())
            },
        ])
    );
    assert_eq!(
        err("FROM x\nARG\n"),
        "Dockerfile:2: ARG requires at least one argument"
    );
    assert_eq!(
        one("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0"),
        Instruction::Label(vec![
            KeyValue {
                key: "\"com.example.vendor\"".into(),
                value: "\"ACME Inc\"".into()
            },
            KeyValue {
                key: "version".into(),
                value: "1.0".into()
            },
        ])
    );
    assert_eq!(
        one("LABEL description This text illustrates"),
        Instruction::Label(vec![KeyValue {
            key: "description".into(),
            value: "This text illustrates".into()
        }])
    );
    assert_eq!(
        one("EXPOSE 80 443/tcp 53/udp 8000-8010"),
        Instruction::Expose(vec![
            "443/tcp".into(),
            "53/udp".into(),
            "80".into(),
            "8000-8010".into()
        ]),
        "sorted as BuildKit does"
    );
    assert_eq!(
        one("VOLUME /a /b"),
        Instruction::Volume(vec!["/a".into(), "/b".into()])
    );
    assert_eq!(
        one("VOLUME [\"/data\"]"),
        Instruction::Volume(vec!["/data".into()])
    );
    assert_eq!(
        err("FROM x\nVOLUME [\"\"]\n"),
        "Dockerfile:2: VOLUME specified can not be an empty string"
    );
    assert_eq!(
        err("FROM x\nEXPOSE\n"),
        "Dockerfile:2: EXPOSE requires at least one argument"
    );
}

#[test]
fn single_argument_instructions() {
    assert_eq!(one("WORKDIR /a b"), Instruction::Workdir("/a b".into()));
    assert_eq!(one("USER app:staff"), Instruction::User("app:staff".into()));
    assert_eq!(
        one("STOPSIGNAL SIGKILL"),
        Instruction::StopSignal("SIGKILL".into())
    );
    assert_eq!(
        one("MAINTAINER Jane <jane@example.com>"),
        Instruction::Maintainer("Jane <jane@example.com>".into())
    );
    assert_eq!(
        err("FROM x\nWORKDIR\n"),
        "Dockerfile:2: WORKDIR requires exactly one argument"
    );
    assert_eq!(
        err("FROM x\nUSER\n"),
        "Dockerfile:2: USER requires exactly one argument"
    );
    assert_eq!(
        err("FROM x\nSTOPSIGNAL\n"),
        "Dockerfile:2: STOPSIGNAL requires exactly one argument"
    );
    assert_eq!(one("STOPSIGNAL A B"), Instruction::StopSignal("A B".into()));
}

#[test]
fn healthcheck() {
    assert_eq!(
        one("HEALTHCHECK NONE"),
        Instruction::Healthcheck(Healthcheck::None)
    );
    assert_eq!(
        one("healthcheck none"),
        Instruction::Healthcheck(Healthcheck::None)
    );
    match one(
        "HEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1",
    ) {
        Instruction::Healthcheck(Healthcheck::Check(h)) => {
            assert_eq!(
                h.test,
                vec!["CMD-SHELL", "curl -f http://localhost/ || exit 1"]
            );
            assert_eq!(h.interval, Duration::from_secs(300));
            assert_eq!(h.timeout, Duration::from_secs(3));
            assert_eq!(h.start_period, Duration::from_secs(90));
            assert_eq!(h.start_interval, Duration::from_millis(500));
            assert_eq!(h.retries, 3);
        }
        o => panic!("{o:?}"),
    }
    match one("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]") {
        Instruction::Healthcheck(Healthcheck::Check(h)) => {
            assert_eq!(h.test, vec!["CMD", "/bin/check", "-q"]);
            assert_eq!(h.interval, Duration::ZERO);
            assert_eq!(h.retries, 0);
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(
        err("FROM x\nHEALTHCHECK NONE x\n"),
        "Dockerfile:2: HEALTHCHECK NONE takes no arguments"
    );
    assert_eq!(
        err("FROM x\nhealthcheck run x\n"),
        "Dockerfile:2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)"
    );
    assert!(err("FROM x\nHEALTHCHECK --interval=5 CMD x\n").contains("invalid duration"));
    assert!(err("FROM x\nHEALTHCHECK --timeout=1us CMD x\n").contains("cannot be less than 1ms"));
    assert!(
        err("FROM x\nHEALTHCHECK --retries=-1 CMD x\n").contains("--retries cannot be negative")
    );
    assert!(err("FROM x\nHEALTHCHECK CMD\n").contains("Missing command after HEALTHCHECK CMD"));
    assert_eq!(
        err("FROM x\nHEALTHCHECK --bogus=1 CMD x\n"),
        "Dockerfile:2: unknown flag: --bogus"
    );
}

#[test]
fn go_durations() {
    assert_eq!(parse_go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
    assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
    assert_eq!(parse_go_duration("10us"), Some(Duration::from_micros(10)));
    for bad in ["", "5", "s", "1x", "-1s", "1..2s"] {
        assert_eq!(parse_go_duration(bad), None, "{bad}");
    }
}

#[test]
fn onbuild() {
    match one("ONBUILD RUN echo $HOME") {
        Instruction::Onbuild(o) => {
            assert_eq!(o.expression, "RUN echo $HOME");
            assert_eq!(
                *o.instruction,
                Instruction::Run(Run {
                    command: shell("echo $HOME"),
                    heredocs: vec![],
                    mounts: vec![],
                    network: None,
                    security: None
                })
            );
        }
        o => panic!("{o:?}"),
    }
    assert!(matches!(
        one("onbuild copy . /app"),
        Instruction::Onbuild(_)
    ));
    assert_eq!(
        err("FROM x\nONBUILD ONBUILD RUN x\n"),
        "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        err("FROM x\nONBUILD FROM y\n"),
        "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        err("FROM x\nONBUILD maintainer y\n"),
        "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert!(err("FROM x\nONBUILD RUNX y\n").contains("unknown instruction: RUNX"));
    assert!(err("FROM x\nONBUILD COPY a\n").contains("COPY requires at least two arguments"));
}

#[test]
fn comments_blank_lines_and_continuations() {
    let d = df(
        "# comment\n\nFROM x\n  # indented comment\nRUN echo a \\\n  && echo b\n\nRUN echo c \\\n# comment inside\n\n   \n  d\nRUN echo e\\   \n  f\n",
    );
    let s = &d.stages[0];
    assert_eq!(s.instructions.len(), 3);
    assert_eq!(
        s.instructions[0].value,
        Instruction::Run(Run {
            command: shell("echo a   && echo b"),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None
        })
    );
    assert_eq!(s.instructions[0].line, 5);
    assert_eq!(s.instructions[0].end_line, 6);
    assert_eq!(s.instructions[0].original, "RUN echo a   && echo b");
    match &s.instructions[1].value {
        Instruction::Run(r) => assert_eq!(r.command, shell("echo c   d")),
        o => panic!("{o:?}"),
    }
    assert_eq!(s.instructions[1].line, 8);
    assert_eq!(s.instructions[1].end_line, 12);
    match &s.instructions[2].value {
        Instruction::Run(r) => assert_eq!(r.command, shell("echo e  f")),
        o => panic!("{o:?}"),
    }
    assert_eq!(s.instructions[2].line, 13);
    // Continuation inside a keyword, and at the end of the file.
    let v = instrs("FROM x\nRU\\\nN true\nRUN a \\");
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].keyword(), "RUN");
    // CRLF line endings.
    let v = instrs("FROM x\r\nRUN a \\\r\n b\r\n");
    assert_eq!(
        v[0],
        Instruction::Run(Run {
            command: shell("a  b"),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None
        })
    );
    // A # not at the start of a line is not a comment.
    match one("RUN echo # not a comment") {
        Instruction::Run(r) => assert_eq!(r.command, shell("echo # not a comment")),
        o => panic!("{o:?}"),
    }
}

#[test]
fn escape_directive() {
    let d = df("# escape=`\nFROM windows\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n  /w\n");
    assert_eq!(d.escape, '`');
    let s = &d.stages[0];
    let Instruction::Copy(c) = &s.instructions[0].value else {
        panic!()
    };
    assert_eq!(c.dest, "c:\\");
    let Instruction::Run(r) = &s.instructions[1].value else {
        panic!()
    };
    assert_eq!(r.command, shell("dir c:\\   /w"));
    // With the default escape, c:\ at the end of a line continues it.
    let v = instrs("FROM x\nCOPY a c:\\\nRUN dir\n");
    assert_eq!(v.len(), 1);
    let d = df("#escape = \\\n# syntax=docker/dockerfile:1\n# check=skip=all\nFROM x\n");
    assert_eq!(d.escape, '\\');
    assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert_eq!(
        err("# escape=x\nFROM x\n"),
        "Dockerfile:1: invalid escape token 'x' does not match ` or \\"
    );
    assert_eq!(
        err("# escape=`\n# escape=`\nFROM x\n"),
        "Dockerfile:2: only one escape parser directive can be used"
    );
}

#[test]
fn directives_only_at_the_top() {
    // After a comment, a blank line, an instruction or an unknown directive,
    // `# escape=` is a comment.
    for text in [
        "# hello\n# escape=`\nFROM x\nRUN a \\\n b\n",
        "\n# escape=`\nFROM x\nRUN a \\\n b\n",
        "FROM x\n# escape=`\nRUN a \\\n b\n",
        "# unknown=1\n# escape=`\nFROM x\nRUN a \\\n b\n",
    ] {
        let d = df(text);
        assert_eq!(d.escape, '\\', "{text:?}");
        let Instruction::Run(r) = &d.stages[0].instructions[0].value else {
            panic!()
        };
        assert_eq!(r.command, shell("a  b"));
    }
}

fn heredocs_of(line_and_body: &str) -> (Run, usize) {
    let d = df(&format!("FROM x\n{line_and_body}RUN after\n"));
    let s = &d.stages[0];
    let Instruction::Run(r) = &s.instructions[0].value else {
        panic!("{:?}", s.instructions[0])
    };
    assert_eq!(
        s.instructions.len(),
        2,
        "the heredoc body is not parsed as instructions"
    );
    (r.clone(), s.instructions[0].end_line)
}

#[test]
fn run_heredocs() {
    let (r, end) = heredocs_of("RUN <<EOF\napt-get update\n  apt-get install -y vim\nEOF\n");
    assert_eq!(r.command, shell("<<EOF"));
    assert_eq!(
        r.heredocs,
        vec![Heredoc {
            name: "EOF".into(),
            content: "apt-get update\n  apt-get install -y vim\n".into(),
            expand: true,
            chomp: false
        }]
    );
    assert_eq!(end, 5);
    let (r, _) = heredocs_of("RUN python3 <<EOF > /hello\nprint('hi')\nEOF\n");
    assert_eq!(r.command, shell("python3 <<EOF > /hello"));
    assert_eq!(r.heredocs[0].content, "print('hi')\n");
    let (r, _) = heredocs_of("RUN <<-EOT\n\tindented\n\t\tmore\n\tEOT\n");
    assert_eq!(r.heredocs[0].content, "indented\nmore\n");
    assert!(r.heredocs[0].chomp);
    let (r, _) = heredocs_of("RUN <<\"EOF\" cat\n$HOME\nEOF\n");
    assert!(!r.heredocs[0].expand);
    assert_eq!(r.heredocs[0].name, "EOF");
    let (r, _) = heredocs_of("RUN <<'EOF'\nx\nEOF\n");
    assert!(!r.heredocs[0].expand);
    let (r, _) = heredocs_of("RUN cat <<FILE1 > f1 && cat <<FILE2 > f2\none\nFILE1\ntwo\nFILE2\n");
    assert_eq!(r.heredocs.len(), 2);
    assert_eq!(
        (r.heredocs[0].name.as_str(), r.heredocs[0].content.as_str()),
        ("FILE1", "one\n")
    );
    assert_eq!(
        (r.heredocs[1].name.as_str(), r.heredocs[1].content.as_str()),
        ("FILE2", "two\n")
    );
    // Empty body; a body with # and blank lines kept verbatim.
    let (r, _) = heredocs_of("RUN <<EMPTY\nEMPTY\n");
    assert_eq!(r.heredocs[0].content, "");
    let (r, _) = heredocs_of("RUN <<EOF\n#!/bin/sh\n\n  # c \\\nEOF\n");
    assert_eq!(r.heredocs[0].content, "#!/bin/sh\n\n  # c \\\n");
    // Not heredocs: quoted, exec form, in a word.
    let (r, _) = heredocs_of("RUN echo \"<<NOHEREDOC\"\n");
    assert!(r.heredocs.is_empty());
    let (r, _) = heredocs_of("RUN [\"<<EOF\"]\n");
    assert!(r.heredocs.is_empty());
    let (r, _) = heredocs_of("RUN cat<<EOF\n");
    assert!(r.heredocs.is_empty());
    // Continuation then heredoc.
    let (r, _) = heredocs_of("RUN --network=none \\\n  cat <<EOF\nbody\nEOF\n");
    assert_eq!(r.heredocs[0].content, "body\n");
    assert_eq!(r.network, Some(Network::None));
    assert_eq!(
        err("FROM x\nRUN <<EOF\nnever ends\n"),
        "Dockerfile:2: unterminated heredoc"
    );
}

#[test]
fn copy_heredocs() {
    let d = df(
        "FROM x\nCOPY <<EOF /usr/share/index.html\n<html>$X</html>\nEOF\nCOPY <<robots.txt <<humans.txt /dst/\nUser-agent: *\nrobots.txt\nme\nhumans.txt\nCOPY <<EOF foo.txt /bar\ninline\nEOF\n",
    );
    let s = &d.stages[0];
    assert_eq!(s.instructions.len(), 3);
    let Instruction::Copy(c) = &s.instructions[0].value else {
        panic!()
    };
    assert_eq!(c.dest, "/usr/share/index.html");
    assert_eq!(
        c.sources,
        vec![CopySource::Heredoc(Heredoc {
            name: "EOF".into(),
            content: "<html>$X</html>\n".into(),
            expand: true,
            chomp: false
        })]
    );
    let Instruction::Copy(c) = &s.instructions[1].value else {
        panic!()
    };
    assert_eq!(paths(c), vec!["<<robots.txt", "<<humans.txt"]);
    let Instruction::Copy(c) = &s.instructions[2].value else {
        panic!()
    };
    assert_eq!(paths(c), vec!["<<EOF", "foo.txt"]);
    let d = df("FROM x\nADD <<-EOF /x\n\tTESTING\n\tEOF\n");
    let Instruction::Add(c) = &d.stages[0].instructions[0].value else {
        panic!()
    };
    let CopySource::Heredoc(h) = &c.sources[0] else {
        panic!()
    };
    assert_eq!(h.content, "TESTING\n");
}

#[test]
fn meta_args_and_stage_lines() {
    let d = df("ARG A=1\n# c\nARG B\nFROM x AS one\nRUN a\nFROM one\nRUN b\n");
    assert_eq!(d.meta_args.len(), 2);
    assert_eq!(d.meta_args[0].line, 1);
    assert_eq!(
        d.meta_args[1].value,
        vec![ArgDecl {
            name: "B".into(),
            default: None
        }]
    );
    assert_eq!(d.stages[1].instructions[0].line, 7);
    assert_eq!(d.stages[1].from.original, "FROM one");
}

#[test]
fn bom_is_ignored() {
    let d = df("\u{feff}# escape=`\nFROM x\n");
    assert_eq!(d.escape, '`');
}

#[test]
fn split_words_keeps_quotes() {
    assert_eq!(
        split_words_raw("a \"b c\" 'd e' f\\ g  h", '\\'),
        vec!["a", "\"b c\"", "'d e'", "f\\ g", "h"]
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn instruction_line() -> impl Strategy<Value = String> {
        let kw = prop::sample::select(vec![
            "RUN",
            "CMD",
            "COPY",
            "ADD",
            "ENV",
            "ARG",
            "LABEL",
            "EXPOSE",
            "VOLUME",
            "WORKDIR",
            "USER",
            "STOPSIGNAL",
            "HEALTHCHECK",
            "ONBUILD",
            "SHELL",
            "ENTRYPOINT",
            "MAINTAINER",
            "FROM",
            "run",
            "XYZ",
        ]);
        (kw, "[ -~\t]{0,40}").prop_map(|(k, rest)| format!("{k} {rest}"))
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "(?s).{0,300}") {
            let _ = parse(&text, "Dockerfile");
        }

        #[test]
        fn never_panics_on_instruction_soup(lines in prop::collection::vec(instruction_line(), 0..12),
                                           esc in prop::sample::select(vec!["", "# escape=`\n"])) {
            let text = format!("{esc}FROM x\n{}\n", lines.join("\n"));
            if let Err(e) = parse(&text, "Dockerfile") {
                prop_assert!(e.line >= 1 || e.line == 0);
                prop_assert!(e.line <= text.lines().count());
                let _ = e.excerpt(&text);
            }
        }

        #[test]
        fn run_shell_form_round_trips(cmd in "[a-z0-9 =./'\"$_-]{1,40}") {
            let cmd = cmd.trim().to_string();
            prop_assume!(!cmd.is_empty() && !cmd.starts_with('-') && !cmd.starts_with('['));
            let text = format!("FROM x\nRUN {cmd}\n");
            let d = parse(&text, "Dockerfile").unwrap();
            match &d.stages[0].instructions[0].value {
                Instruction::Run(r) => prop_assert_eq!(&r.command, &CommandLine::Shell(cmd.clone())),
                o => prop_assert!(false, "{:?}", o),
            }
        }

        #[test]
        fn exec_form_round_trips(args in prop::collection::vec("[ -~]{0,12}", 1..5)) {
            let json = serde_json::to_string(&args).unwrap();
            let text = format!("FROM x\nCMD {json}\n");
            let d = parse(&text, "Dockerfile").unwrap();
            prop_assert_eq!(&d.stages[0].instructions[0].value, &Instruction::Cmd(CommandLine::Exec(args.clone())));
        }

        #[test]
        fn continuation_splits_do_not_change_the_command(
            words in prop::collection::vec("[a-z0-9]{1,8}", 1..6),
            split in 0usize..6,
        ) {
            let one_line = format!("FROM x\nRUN {}\n", words.join(" "));
            let at = split.min(words.len());
            let (a, b) = words.split_at(at);
            let two_lines = format!("FROM x\nRUN {} \\\n{}\n", a.join(" "), b.join(" "));
            let c1 = match &parse(&one_line, "D").unwrap().stages[0].instructions[0].value {
                Instruction::Run(r) => r.command.clone(), _ => unreachable!() };
            let c2 = match &parse(&two_lines, "D").unwrap().stages[0].instructions[0].value {
                Instruction::Run(r) => r.command.clone(), _ => unreachable!() };
            let norm = |c: &CommandLine| match c { CommandLine::Shell(s) => s.split_whitespace().collect::<Vec<_>>().join(" "), _ => String::new() };
            prop_assert_eq!(norm(&c1), norm(&c2));
        }
    }
}

#[test]
fn escaped_escape_does_not_continue() {
    let v = instrs("FROM x\nRUN echo \\\\\nRUN next\n");
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[0],
        Instruction::Run(Run {
            command: shell("echo \\\\"),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None
        })
    );
    // A lone escape on a line continues.
    let v = instrs("FROM x\nRUN a \\\n\\\n b\n");
    assert_eq!(v.len(), 1);
}

#[test]
fn flag_values_are_unquoted_like_buildkit() {
    let c = copy(r#"COPY --chown="app user" --from='st\'age' a b"#);
    assert_eq!(c.chown.as_deref(), Some("app user"));
    assert_eq!(c.from.as_deref(), Some("st'age"));
    let c = copy(r"COPY --chown=a\ b x y");
    assert_eq!(c.chown.as_deref(), Some("a b"));
}

#[test]
fn onbuild_heredoc() {
    let d = df("FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\nRUN after\n");
    let s = &d.stages[0];
    assert_eq!(s.instructions.len(), 2);
    let Instruction::Onbuild(o) = &s.instructions[0].value else {
        panic!()
    };
    let Instruction::Run(r) = &*o.instruction else {
        panic!()
    };
    assert_eq!(r.heredocs[0].content, "echo hi\n");
}

#[test]
fn buildkit_wordings() {
    assert_eq!(
        err("FROM x\nCOPY\n"),
        "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert_eq!(
        err("FROM x\nCOPY a <<EOF\nx\nEOF\n"),
        "Dockerfile:2: COPY cannot accept a heredoc as a destination"
    );
    assert_eq!(
        err("FROM x\nCOPY --link= a b\n"),
        "Dockerfile:2: missing a value on flag: --link"
    );
    assert!(matches!(
        one("HEALTHCHECK --interval=1s NONE"),
        Instruction::Healthcheck(Healthcheck::None)
    ));
    match one("ONBUILD COPY <<EOF /x\nbody\nEOF") {
        Instruction::Onbuild(o) => assert_eq!(o.expression, "COPY <<EOF /x\nbody\nEOF"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn lint_warnings() {
    let d = df("FROM x AS Build\nMAINTAINER me\nRUN a \\\n\n  b\nCMD run it\nENTRYPOINT [\"e\"]\n");
    let w: Vec<String> = d.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "StageNameCasing: Stage name 'Build' should be lowercase (line 1)",
            "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)",
            "NoEmptyContinuation: Empty continuation line (line 5)",
            "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals (line 6)",
        ]
    );
    assert!(df("FROM x AS ok\nCMD [\"a\"]\n").warnings.is_empty());
}

#[test]
fn crlf_heredoc_bodies_keep_their_line_ends() {
    let d = df("FROM x\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nRUN b\r\n");
    let s = &d.stages[0];
    assert_eq!(s.instructions.len(), 2);
    let Instruction::Run(r) = &s.instructions[0].value else {
        panic!()
    };
    assert_eq!(r.heredocs[0].content, "echo hi\r\n");
    assert_eq!(r.command, shell("<<EOF"));
}

/// The whole parsed structure of a realistic multi-stage file, reviewed by
/// eye once and pinned.
#[test]
fn snapshot_multi_stage() {
    let text = r#"# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download
COPY --link . .
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .

FROM alpine:3.20
LABEL org.opencontainers.image.title="app" version=1
ENV PATH=/app:$PATH APP_MODE="prod mode"
COPY --from=build --chown=1000:1000 --chmod=0755 /out/app /app/app
COPY <<EOF /etc/app.conf
mode=$APP_MODE
EOF
EXPOSE 8080/tcp
VOLUME ["/data"]
USER 1000
HEALTHCHECK --interval=30s --retries=3 CMD ["/app/app", "health"]
STOPSIGNAL SIGTERM
ONBUILD COPY . /src
ENTRYPOINT ["/app/app"]
CMD ["serve"]
"#;
    insta::assert_debug_snapshot!("multi_stage", df(text));
}

fn run_of(text: &str) -> Run {
    let d = df(&format!("FROM x\n{text}"));
    match &d.stages[0].instructions[0].value {
        Instruction::Run(r) => r.clone(),
        o => panic!("{o:?}"),
    }
}

#[test]
fn run_scripts_follow_buildkit() {
    assert_eq!(
        run_of("RUN [\"a\", \"b\"]\n").script(),
        RunScript::Exec(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        run_of("RUN echo hi\n").script(),
        RunScript::Shell("echo hi".into())
    );
    assert_eq!(
        run_of("RUN <<EOF\necho a\necho b\nEOF\n").script(),
        RunScript::Shell("echo a\necho b\n".into())
    );
    assert_eq!(
        run_of("RUN <<-EOF\n\techo a\nEOF\n").script(),
        RunScript::Shell("echo a\n".into())
    );
    assert_eq!(
        run_of("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n").script(),
        RunScript::Shebang {
            name: "EOF".into(),
            content: "#!/usr/bin/env python3\nprint(1)\n".into()
        }
    );
    assert_eq!(
        run_of("RUN python3 <<EOF > /out\nprint(1)\nEOF\n").script(),
        RunScript::Shell("python3 <<EOF > /out\nprint(1)\nEOF".into())
    );
    assert_eq!(
        run_of("RUN cat <<A <<B\n1\nA\n2\nB\n").script(),
        RunScript::Shell("cat <<A <<B\n1\nA\n2\nB".into())
    );
    assert_eq!(
        summarize_heredoc("\n  apt-get update\napt-get install\n"),
        "apt-get update..."
    );
    assert_eq!(summarize_heredoc("one\n"), "one");
}

//! Shell completion of names, root and rootless: the bash script that
//! `berth completion bash` prints (the one committed in completions/),
//! loaded in a real bash, completes container, image, volume and network
//! names from the store, and falls back to clap's static completion for the
//! rest. zsh and fish ask the same `berth __complete`, checked directly.

mod support;

use support::berth::{TestEnv, berth_bin, for_each_mode};
use support::fixtures;
use support::registry::{Registry, RegistryAuth};

fn run_ok(env: &TestEnv, args: &[&str]) -> String {
    let out = env.berth_cmd(args).output().unwrap();
    assert!(
        out.status.success(),
        "berth {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Completes each line in bash (as a TAB at its end would) with the
/// script loaded; one line of sorted candidates per input line.
fn bash_complete(env: &TestEnv, lines: &[&str]) -> Vec<String> {
    let bin_dir = berth_bin().parent().unwrap().to_str().unwrap();
    let mut script = format!(
        r#"
PATH={bin_dir}:$PATH
source <(berth completion bash) || exit 1
comp() {{
    COMP_LINE=$1 COMP_POINT=${{#1}}
    read -ra COMP_WORDS <<< "$1"
    [[ $1 == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
    COMPREPLY=()
    _berth "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
    printf '%s\n' "${{COMPREPLY[@]}}" | sort | tr '\n' ' '
    echo
}}
"#
    );
    for line in lines {
        script.push_str(&format!("comp '{line}'\n"));
    }
    let out = env.command("bash").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let got: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(got.len(), lines.len(), "{text}");
    got
}

fn names(env: &TestEnv, words: &[&str]) -> (bool, String) {
    let out = env
        .berth_cmd(["__complete", "--"])
        .args(words)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn bash_completes_names_from_the_store() {
    let reg = Registry::start(RegistryAuth::None);
    fixtures::push_busybox(&reg, "library/busybox", "latest");
    let image = format!("{}/library/busybox", reg.addr());
    for_each_mode(|env| {
        // An empty store: nothing offered, nothing created.
        assert_eq!(names(env, &["berth", "rm", ""]), (true, String::new()));
        assert!(!env.data_dir().join("containers").exists());

        run_ok(env, &["pull", "-q", &image]);
        run_ok(env, &["tag", &image, "comptest:1"]);
        run_ok(env, &["create", "--name", "idle", "comptest:1", "true"]);
        run_ok(
            env,
            &["run", "-d", "--name", "busy", "comptest:1", "sleep", "300"],
        );
        run_ok(env, &["volume", "create", "vol1"]);
        run_ok(env, &["network", "create", "net1"]);

        let berth = berth_bin().to_str().unwrap();
        let lines = [
            "berth start ",
            "berth rm -f ",
            "berth stop ",
            "berth exec -it ",
            "berth logs -n 5 i",
            "berth container inspect b",
            "berth rmi comp",
            "berth rmi comptest:",
            "berth run --rm -e A=1 comp",
            "berth run --network ",
            "berth image history comptest",
            "berth volume rm ",
            "berth volume inspect v",
            "berth network rm n",
            "berth network connect net1 ",
            "berth pu",
            "berth start --",
            "docker stop ",
            &format!("{berth} --root /nonexistent start "),
        ];
        let got = bash_complete(env, &lines);
        let want = [
            "busy idle",
            "busy idle",
            "busy",
            "busy",
            "idle",
            "busy",
            "comptest:1",
            "1",
            "comptest:1",
            "bridge host net1 none",
            "comptest:1",
            "vol1",
            "vol1",
            "net1 none",
            "busy idle",
            "pull push",
            "--attach --help --interactive",
            "busy",
            "",
        ];
        for ((line, got), want) in lines.iter().zip(&got).zip(want) {
            assert_eq!(got, want, "completing {line:?}");
        }

        // What zsh and fish hand over: the words, the current one last.
        assert_eq!(
            names(env, &["docker", "network", "disconnect", "net1", ""]),
            (true, "busy\nidle\n".to_string())
        );
        assert_eq!(
            names(env, &["berth", "inspect", ""]).1,
            format!("busy\nidle\n{}:latest\ncomptest:1\n", image)
        );
        assert!(!names(env, &["berth", "ps", ""]).0);
        assert!(!names(env, &["berth", "run", "comptest:1", ""]).0);

        run_ok(env, &["rm", "-f", "busy", "idle"]);
    });
}

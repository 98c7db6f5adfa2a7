//! Shell completions and man pages, generated from the clap definition.
//! `tests/docs.rs` keeps the committed copies in `completions/` and `man/` current.
//!
//! The bash, zsh and fish scripts are clap's static completion (subcommands,
//! flags) with a hook in front: the hook asks `berth __complete` (see
//! `cli::complete`) whether the word under the cursor is a container, image,
//! volume or network name and offers the names it prints; otherwise clap's
//! function (renamed `_berth_static`) completes.

use std::path::Path;

use clap_complete::Shell;

const BASH_HOOK: &str = r#"
# Container, image, volume and network names come from `berth __complete`,
# which reads the store (exit 1: not a name, clap's completion above does it).
# Words are split at blanks only, so `busybox:latest` stays one word.
# For `alias docker=berth`: complete -F _berth -o bashdefault -o default docker
_berth() {
    local line=${COMP_LINE:0:COMP_POINT} bin=berth out cur
    local -a words
    read -ra words <<< "$line"
    if [[ ${#words[@]} -eq 0 || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    [[ ${words[0]} == */* ]] && bin=${words[0]}
    if out=$("$bin" __complete -- "${words[@]}" 2>/dev/null); then
        cur=${words[${#words[@]}-1]}
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$out" -- "$cur"))
        # bash replaces only what follows the last ':' of the word.
        if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
            local prefix=${cur%"${cur##*:}"}
            COMPREPLY=("${COMPREPLY[@]#"$prefix"}")
        fi
        return 0
    fi
    _berth_static "$@"
}
"#;

const ZSH_HOOK: &str = r#"
# Container, image, volume and network names come from `berth __complete`,
# which reads the store (exit 1: not a name, clap's completion above does it).
# For `alias docker=berth`: compdef _berth docker
_berth() {
    local bin=berth out
    [[ $words[1] == */* ]] && bin=$words[1]
    if out=$("$bin" __complete -- "${(@)words[1,CURRENT]}" 2>/dev/null); then
        local -a names
        names=(${(f)out})
        compadd -a names
        return 0
    fi
    _berth_static "$@"
}
"#;

const FISH_HOOK: &str = r#"
# Container, image, volume and network names come from `berth __complete`,
# which reads the store (exit 1: not a name, the completions above do it).
# For `alias docker=berth`: complete -c docker -w berth
function __berth_complete_names
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin berth
    string match -q -- '*/*' $words[1]; and set bin $words[1]
    $bin __complete -- $words "$cur" 2>/dev/null
end
complete -c berth -f -n '__berth_complete_names >/dev/null' -a '(__berth_complete_names)'
"#;

/// The completion script for `shell`, as `berth completion SHELL` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = visible_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "berth", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let hooked = match shell {
        Shell::Bash => {
            let s = rename_static(&script, "_berth() {\n");
            s + BASH_HOOK
        }
        Shell::Zsh => {
            let s = rename_static(&script, "\n_berth() {\n");
            // The hook must be defined before the dispatch at the end runs it.
            let at = s
                .rfind("\nif [ \"$funcstack[1]\" = \"_berth\" ]")
                .expect("clap_complete's zsh script ends with its dispatch");
            format!("{}{}{}", &s[..at], ZSH_HOOK, &s[at..])
        }
        Shell::Fish => script + FISH_HOOK,
        _ => script,
    };
    hooked.into_bytes()
}

/// The CLI without its hidden subcommands (`internal`, `__complete`), which
/// clap_complete would offer otherwise.
fn visible_command() -> clap::Command {
    let full = super::command();
    clap::Command::new("berth")
        .disable_version_flag(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

/// clap's `_berth` becomes `_berth_static`, called by the hook.
fn rename_static(script: &str, definition: &str) -> String {
    assert!(
        script.contains(definition),
        "clap_complete's script defines _berth"
    );
    script.replacen(
        definition,
        &definition.replace("_berth", "_berth_static"),
        1,
    )
}

/// Writes `berth.bash`, `_berth` (zsh) and `berth.fish` into `dir`.
pub fn write_completions(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (shell, file) in [
        (Shell::Bash, "berth.bash"),
        (Shell::Zsh, "_berth"),
        (Shell::Fish, "berth.fish"),
    ] {
        std::fs::write(dir.join(file), completion_script(shell))?;
    }
    Ok(())
}

/// Writes `berth.1` and one page per visible subcommand (`berth-pull.1`, …) into `dir`.
pub fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cmd = super::command();
    clap_mangen::generate_to(cmd, dir)
}

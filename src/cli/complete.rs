//! `__complete -- WORDS…` (hidden): the dynamic half of the shell
//! completions. The scripts in `completions/` pass the command line up to
//! the cursor (the program name first, the word being completed last);
//! when that word is a container, image, volume or network name, this
//! prints the candidates, one per line, and exits 0. Otherwise it prints
//! nothing and exits 1, and the script falls back to clap's static
//! completion (subcommands, flags, files).
//!
//! It reads the store and nothing else ([`crate::complete`]): no network,
//! no monitor, no lock, nothing created.

use std::path::PathBuf;

use crate::complete::NameKind;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The words of the command line, the one being completed last
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    words: Vec<String>,
}

/// What the cursor is on, found by walking the words with the clap definition.
#[derive(Debug, PartialEq, Eq)]
struct Position {
    /// The subcommand path, e.g. `["container", "rm"]`.
    path: Vec<String>,
    /// The option whose value is being completed (`--network`), or None
    /// for a positional argument.
    option: Option<String>,
    /// Index of the positional argument being completed.
    index: usize,
    /// `--root DIR` given before the subcommand.
    root: Option<PathBuf>,
}

pub fn exec(args: Args) -> i32 {
    let Some(pos) = locate(&super::command(), &args.words) else {
        return 1;
    };
    let Some(kinds) = wanted(&pos) else {
        return 1;
    };
    let data = match pos.root {
        Some(root) => root,
        None => match crate::paths::Paths::detect() {
            Ok(p) => p.data,
            Err(_) => return 0,
        },
    };
    let mut out = String::new();
    for kind in kinds {
        for name in crate::complete::names(&data, *kind) {
            out.push_str(&name);
            out.push('\n');
        }
    }
    print!("{out}");
    0
}

/// The option `word` names in `cmd`, and whether it takes a value.
fn option_takes_value(cmd: &clap::Command, word: &str) -> bool {
    let found = if let Some(long) = word.strip_prefix("--") {
        cmd.get_arguments().find(|a| {
            a.get_long() == Some(long)
                || a.get_all_aliases()
                    .is_some_and(|aliases| aliases.contains(&long))
        })
    } else {
        let c = word.chars().nth(1);
        cmd.get_arguments()
            .find(|a| c.is_some() && a.get_short() == c)
    };
    found.is_some_and(|a| a.get_action().takes_values())
}

/// Walks `words` (program name first, the word being completed last).
/// None when the word being completed is an option or the words make no sense.
fn locate(root: &clap::Command, words: &[String]) -> Option<Position> {
    let (current, before) = words.split_last()?;
    if current.starts_with('-') {
        return None;
    }
    let mut cmd = root;
    let mut pos = Position {
        path: Vec::new(),
        option: None,
        index: 0,
        root: None,
    };
    let mut pending: Option<String> = None;
    let mut only_positionals = false;
    for word in before.iter().skip(1) {
        if let Some(opt) = pending.take() {
            if pos.path.is_empty() && opt == "--root" {
                pos.root = Some(PathBuf::from(word));
            }
            continue;
        }
        if only_positionals || word == "-" || !word.starts_with('-') {
            if !only_positionals
                && pos.index == 0
                && let Some(sub) = cmd.find_subcommand(word)
            {
                cmd = sub;
                pos.path.push(sub.get_name().to_string());
                continue;
            }
            pos.index += 1;
            // `run IMAGE -it …`, `exec C ls -l`, `top C -ef`: the rest is the command's.
            only_positionals = cmd.is_trailing_var_arg_set()
                || cmd
                    .get_positionals()
                    .any(|a| a.is_trailing_var_arg_set() || a.is_allow_hyphen_values_set());
            continue;
        }
        if word == "--" {
            only_positionals = true;
        } else if word.starts_with("--") {
            if let Some((name, value)) = word.split_once('=') {
                if pos.path.is_empty() && name == "--root" {
                    pos.root = Some(PathBuf::from(value));
                }
            } else if option_takes_value(cmd, word) {
                pending = Some(word.clone());
            }
        } else {
            // A cluster of short flags (`-it`): the first one taking a value
            // takes the rest of the word, or the next word.
            for (i, c) in word.char_indices().skip(1) {
                if option_takes_value(cmd, &format!("-{c}")) {
                    if i + c.len_utf8() == word.len() {
                        pending = Some(format!("-{c}"));
                    }
                    break;
                }
            }
        }
    }
    pos.option = pending;
    Some(pos)
}

/// The names wanted at `pos`, None for anything else.
fn wanted(pos: &Position) -> Option<&'static [NameKind]> {
    use NameKind::*;
    let path: Vec<&str> = pos.path.iter().map(String::as_str).collect();
    // The management forms complete as the short ones.
    let key = match path.as_slice() {
        ["container", "inspect"] => "container inspect",
        ["container", cmd] => cmd,
        ["image", "rm"] => "rmi",
        ["image", "inspect"] => "image inspect",
        ["image", cmd @ ("push" | "save" | "history" | "tag")] => cmd,
        ["volume", "rm"] => "volume rm",
        ["volume", "inspect"] => "volume inspect",
        ["network", "rm"] => "network rm",
        ["network", "inspect"] => "network inspect",
        ["network", "connect" | "disconnect"] => "network connect",
        [cmd] => cmd,
        _ => return None,
    };
    if let Some(opt) = &pos.option {
        return match (key, opt.as_str()) {
            ("run" | "create", "--network" | "--net") => Some(&[Networks]),
            ("run" | "create", "--volumes-from") => Some(&[Containers]),
            _ => None,
        };
    }
    let first = pos.index == 0;
    Some(match key {
        "start" | "restart" | "rm" | "wait" | "unpause" | "container inspect" => &[Containers],
        "stop" | "kill" | "pause" => &[Running],
        "exec" | "attach" | "top" if first => &[Running],
        "logs" | "port" | "rename" | "commit" | "export" | "diff" if first => &[Containers],
        "inspect" => &[Containers, Images],
        "rmi" | "save" | "tag" | "image inspect" => &[Images],
        "push" | "history" | "run" | "create" if first => &[Images],
        "volume rm" | "volume inspect" => &[Volumes],
        "network rm" | "network inspect" => &[Networks],
        "network connect" if first => &[Networks],
        "network connect" if pos.index == 1 => &[Containers],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &str) -> Option<Vec<NameKind>> {
        let mut words: Vec<String> = line.split(' ').map(String::from).collect();
        if line.ends_with(' ') {
            words.pop();
            words.push(String::new());
        }
        let pos = locate(&crate::cli::command(), &words)?;
        wanted(&pos).map(|k| k.to_vec())
    }

    #[test]
    fn finds_what_the_cursor_is_on() {
        use NameKind::*;
        assert_eq!(at("berth start "), Some(vec![Containers]));
        assert_eq!(at("berth rm -f a b"), Some(vec![Containers]));
        assert_eq!(at("berth stop -t 3 "), Some(vec![Running]));
        assert_eq!(at("berth --root /x container stop "), Some(vec![Running]));
        assert_eq!(at("docker logs -n 5 "), Some(vec![Containers]));
        assert_eq!(at("berth logs c "), None);
        assert_eq!(at("berth exec -it "), Some(vec![Running]));
        assert_eq!(at("berth exec -it c "), None);
        assert_eq!(at("berth exec -e A=1 c sh"), None);
        assert_eq!(at("berth run -it --rm "), Some(vec![Images]));
        assert_eq!(at("berth run -e X=1 -p8080:80 bu"), Some(vec![Images]));
        assert_eq!(at("berth run img "), None);
        assert_eq!(at("berth run img -v "), None);
        assert_eq!(at("berth run --network "), Some(vec![Networks]));
        assert_eq!(at("berth create --volumes-from "), Some(vec![Containers]));
        assert_eq!(at("berth run -v "), None);
        assert_eq!(at("berth image rm "), Some(vec![Images]));
        assert_eq!(at("berth tag a "), Some(vec![Images]));
        assert_eq!(at("berth inspect "), Some(vec![Containers, Images]));
        assert_eq!(at("berth volume rm "), Some(vec![Volumes]));
        assert_eq!(at("berth network inspect "), Some(vec![Networks]));
        assert_eq!(at("berth network connect "), Some(vec![Networks]));
        assert_eq!(at("berth network disconnect n "), Some(vec![Containers]));
        assert_eq!(at("berth network connect n c "), None);
        assert_eq!(at("berth ps "), None);
        assert_eq!(at("berth "), None);
        assert_eq!(at("berth rm -"), None);
    }

    #[test]
    fn reads_root_from_the_words() {
        let words: Vec<String> = ["berth", "--root", "/s", "rm", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pos = locate(&crate::cli::command(), &words).unwrap();
        assert_eq!(pos.root, Some(PathBuf::from("/s")));
        assert_eq!(pos.path, ["rm"]);
    }
}

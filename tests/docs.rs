//! The committed completions and man pages match the CLI definition.
//! Refresh them with `UPDATE_DOCS=1 cargo test --test docs`.

use std::path::Path;

fn compare_dirs(generated: &Path, committed: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(generated)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let new = std::fs::read(generated.join(&name)).unwrap();
        match std::fs::read(committed.join(&name)) {
            Ok(old) if old == new => {}
            Ok(_) => problems.push(format!(
                "{} is out of date",
                committed.join(&name).display()
            )),
            Err(_) => problems.push(format!("{} is missing", committed.join(&name).display())),
        }
    }
    problems
}

fn check(kind: &str, write: fn(&Path) -> std::io::Result<()>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = root.join(kind);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        if committed.exists() {
            std::fs::remove_dir_all(&committed).unwrap();
        }
        write(&committed).unwrap();
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path()).unwrap();
    let problems = compare_dirs(tmp.path(), &committed);
    assert!(
        problems.is_empty(),
        "{}\nrun `UPDATE_DOCS=1 cargo test --test docs` and commit the result",
        problems.join("\n")
    );
}

#[test]
fn completions_are_current() {
    check("completions", berth::cli::docs::write_completions);
}

#[test]
fn man_pages_are_current() {
    check("man", berth::cli::docs::write_man_pages);
}

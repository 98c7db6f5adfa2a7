//! Shell completions and man pages, generated from the clap definition.
//! `tests/docs.rs` keeps the committed copies in `completions/` and `man/` current.

use std::path::Path;

/// Writes `berth.bash`, `_berth` (zsh) and `berth.fish` into `dir`.
pub fn write_completions(dir: &Path) -> std::io::Result<()> {
    use clap_complete::Shell;
    std::fs::create_dir_all(dir)?;
    for (shell, file) in [
        (Shell::Bash, "berth.bash"),
        (Shell::Zsh, "_berth"),
        (Shell::Fish, "berth.fish"),
    ] {
        let mut cmd = super::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "berth", &mut out);
        std::fs::write(dir.join(file), out)?;
    }
    Ok(())
}

/// Writes `berth.1` and one page per visible subcommand (`berth-pull.1`, …) into `dir`.
pub fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cmd = super::command();
    clap_mangen::generate_to(cmd, dir)
}

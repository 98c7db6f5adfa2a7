//! `completion SHELL`: prints a completion script (bash, zsh and fish
//! complete names too: see [`super::docs::completion_script`]).

#[derive(clap::Args, Debug)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: clap_complete::Shell,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().write_all(&super::docs::completion_script(args.shell))?;
    Ok(())
}

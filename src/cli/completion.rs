//! `completion SHELL`: prints a completion script.

#[derive(clap::Args, Debug)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: clap_complete::Shell,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let mut cmd = super::command();
    clap_complete::generate(args.shell, &mut cmd, "berth", &mut std::io::stdout());
    Ok(())
}

//! `logout [SERVER]`

use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Registry server (default: Docker Hub)
    server: Option<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let registry = super::login::registry_of(args.server.as_deref());
    let shown = if registry == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.clone()
    };
    if ctx.auth.remove(&registry)? {
        println!("Removing login credentials for {shown}");
    } else {
        println!("Not logged in to {shown}");
    }
    Ok(())
}

//! `diff CONTAINER`: the files added (`A`), changed (`C`) and deleted (`D`)
//! in the container's layer, computed from its `upper/` dir against its
//! image layers ([`crate::container::fs::changes`]) by a `berth internal
//! changes` helper: rootless, in a user namespace with the container's id
//! map, which may read whatever the container made unreadable to the caller.

use std::ffi::OsString;
use std::io::Write;

use anyhow::anyhow;

use crate::container::record::ContainerStore;
use crate::context::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(value_name = "CONTAINER")]
    container: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (config, _) = store.load(&id)?;
    let mut helper: Vec<OsString> = vec![
        "changes".into(),
        "--upper".into(),
        store.dir(&id).join("upper").into_os_string(),
    ];
    for l in &config.layers {
        helper.push("--lower".into());
        helper.push(l.clone().into_os_string());
    }
    let mapping = super::cp::container_mapping(ctx, &config)?;
    let child = crate::userns::spawn_helper(&ctx.paths, mapping.as_ref(), helper)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        let msg = msg.trim();
        return Err(anyhow!("{}", msg.strip_prefix("Error: ").unwrap_or(msg)));
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out.stdout)?;
    stdout.flush()?;
    Ok(())
}

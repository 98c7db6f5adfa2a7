//! `attach [--no-stdin] [--sig-proxy] CONTAINER`: the caller's terminal to a
//! detached container's streams, through its monitor.

use anyhow::bail;

use crate::container::record::ContainerStore;
use crate::context::Context;
use crate::error::ExitStatus;
use crate::monitor::attach::{self, ClientOptions, Ended};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    container: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let detach_keys = match args.detach_keys.as_deref() {
        None | Some("") => attach::DetachKeys::default(),
        Some(keys) => attach::DetachKeys::parse(keys).map_err(anyhow::Error::msg)?,
    };
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(&args.container)?;
    let (config, state) = store.load(&id)?;
    if !state.status.is_running() {
        bail!("You cannot attach to a stopped container, start it first");
    }
    if state.status == crate::container::record::Status::Paused {
        bail!("You cannot attach to a paused container, unpause it first");
    }
    // SAFETY: isatty on fd 0 is harmless.
    let stdin_tty = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
    if config.tty && config.open_stdin && !args.no_stdin && !stdin_tty {
        bail!("the input device is not a TTY");
    }
    let stream = attach::connect(&store.dir(&id)).map_err(|e| {
        anyhow::anyhow!(
            "container {} has no monitor to attach to: {e}",
            args.container
        )
    })?;
    let opts = ClientOptions {
        stdin: config.open_stdin && !args.no_stdin,
        tty: config.tty,
        proxy_to: (args.sig_proxy && !config.tty).then_some(state.pid),
        detach_keys,
    };
    match attach::run_client(stream, &opts)? {
        Ended::Exited(0) | Ended::Detached => Ok(()),
        Ended::Exited(code) => Err(ExitStatus::new(code).into()),
        Ended::Lost => {
            let code = crate::monitor::control::wait(ctx, &id)?;
            if code == 0 {
                Ok(())
            } else {
                Err(ExitStatus::new(code).into())
            }
        }
    }
}

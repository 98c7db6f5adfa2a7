//! `commit [-a AUTHOR] [-c INSTR]… [-m MSG] [-p=false] CONTAINER [REPO[:TAG]]`:
//! a new image from a container's changes ([`crate::container::commit`]);
//! prints `sha256:<id>`.

use crate::container::commit::{self, CommitError, CommitOptions};
use crate::context::Context;
use crate::error::ExitStatus;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long)]
    author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    change: Vec<String>,
    /// Commit message
    #[arg(short, long)]
    message: Option<String>,
    /// Pause container during commit
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pause: bool,
    #[arg(value_name = "CONTAINER")]
    container: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let opts = CommitOptions {
        author: args.author,
        message: args.message,
        changes: args.change,
        pause: args.pause,
        reference: args.reference,
    };
    match commit::commit(ctx, &args.container, &opts) {
        Ok(id) => {
            println!("{id}");
            Ok(())
        }
        Err(e @ CommitError::Vfs(_)) => {
            Err(ExitStatus::with_message(125, format!("Error: {e}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

//! `berth internal …`: helpers berth starts itself. They run single-threaded
//! (no tokio), so they may unshare a user namespace first (`--userns`).

use std::io::{self, Write};
use std::path::PathBuf;

use crate::image::pull::UnpackReport;
use crate::image::unpack::{UnpackOptions, unpack_layer};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Enter a new user namespace and wait for the parent to map it.
    #[arg(long)]
    userns: bool,
    #[command(subcommand)]
    helper: Helper,
}

#[derive(clap::Subcommand, Debug)]
enum Helper {
    /// Extract the layer on stdin (compressed or not) into DEST; print a JSON report.
    Unpack {
        #[arg(long)]
        dest: PathBuf,
        #[arg(long)]
        tar_split: PathBuf,
        #[arg(long)]
        rootless: bool,
    },
    /// Delete directory trees.
    Rm { paths: Vec<PathBuf> },
    /// Run the container described by a serialised `runtime::ContainerPlan`
    /// in the foreground; exit with its status (125 if it cannot start).
    RunPlan { plan: PathBuf },
    /// Be the monitor of a recorded container (detached): start it, log its
    /// output, record its exit, restart it by its policy.
    Monitor {
        id: String,
        /// Where to report "started" or the start error (inherited fd).
        #[arg(long)]
        report_fd: Option<i32>,
    },
    /// `berth exec`, re-executed because the first process had threads.
    Exec(super::exec::Args),
}

pub fn exec(args: Args) -> i32 {
    if args.userns
        && let Err(e) = crate::userns::enter_as_child()
    {
        eprintln!("Error: {e}");
        return 1;
    }
    if let Helper::RunPlan { plan } = &args.helper {
        return run_plan(plan);
    }
    if let Helper::Monitor { id, report_fd } = &args.helper {
        // SAFETY: the fd was set up by `monitor::spawn_detached` for us alone.
        let report = report_fd
            .map(|fd| unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
        return crate::monitor::run_detached(id, report);
    }
    if let Helper::Exec(args) = args.helper {
        return super::exec::run_internal(args);
    }
    let result = match args.helper {
        Helper::Unpack {
            dest,
            tar_split,
            rootless,
        } => unpack(&dest, &tar_split, rootless),
        Helper::Rm { paths } => remove(&paths),
        Helper::RunPlan { .. } | Helper::Monitor { .. } | Helper::Exec(_) => {
            unreachable!("handled above")
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

fn unpack(
    dest: &std::path::Path,
    tar_split: &std::path::Path,
    rootless: bool,
) -> Result<(), String> {
    let split =
        std::fs::File::create(tar_split).map_err(|e| format!("{}: {e}", tar_split.display()))?;
    let split = io::BufWriter::new(split);
    // Modes come from the tar: with no umask to undo, the unpacker skips a chmod per file.
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let opts = UnpackOptions {
        rootless,
        only_root_mapped: rootless && crate::userns::only_root_mapped(),
    };
    let summary = unpack_layer(&mut input, dest, split, &opts).map_err(|e| e.to_string())?;
    // Whatever follows the archive (padding, a second gzip member's garbage) must
    // still be read so the writer never sees a broken pipe.
    io::copy(&mut input, &mut io::sink()).map_err(|e| e.to_string())?;
    let report = UnpackReport {
        diff_id: summary.diff_id,
        size: summary.size,
        tar_split_exact: summary.tar_split_exact,
    };
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, &report).map_err(|e| e.to_string())?;
    out.write_all(b"\n").map_err(|e| e.to_string())
}

fn remove(paths: &[PathBuf]) -> Result<(), String> {
    for p in paths {
        match std::fs::remove_dir_all(p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("removing {}: {e}", p.display())),
        }
    }
    Ok(())
}

fn run_plan(path: &std::path::Path) -> i32 {
    let plan: crate::runtime::ContainerPlan = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error: reading container plan {}: {e}", path.display());
            return 125;
        }
    };
    match crate::runtime::run_foreground(&plan, |_, warnings| super::run::report_warnings(warnings))
    {
        Ok(outcome) => super::run::report_outcome(outcome),
        Err(e) => {
            eprintln!("Error: {e}");
            125
        }
    }
}

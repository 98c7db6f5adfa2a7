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
    /// Write the exact tar stream of the store layer in LAYER_DIR on stdout.
    LayerTar { layer_dir: PathBuf },
    /// Write a container's changes (UPPER against the LOWER layers, top
    /// first) as a layer tar on stdout.
    LayerDiff {
        #[arg(long)]
        upper: PathBuf,
        #[arg(long = "lower")]
        lower: Vec<PathBuf>,
        /// Paths left out when they are empty mount points (volumes, binds).
        #[arg(long = "skip")]
        skip: Vec<String>,
    },
    /// `export`: the container's whole file system as a tar on stdout.
    Export {
        #[command(flatten)]
        target: CpTarget,
    },
    /// Delete directory trees.
    Rm { paths: Vec<PathBuf> },
    /// Relay published ports into a rootless user-defined network
    /// (`network::proxy`): FD/tcp|udp/IP:PORT for each inherited socket.
    PortProxy {
        forwards: Vec<crate::network::proxy::Forward>,
    },
    /// Be the network holder of user-defined networks (`network::holder`):
    /// print `ready PID` of the daemon it forks.
    NetnsHolder {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        /// Rootless: a network namespace of its own, for the bridges.
        #[arg(long)]
        own_netns: bool,
        #[arg(long = "upstream")]
        upstreams: Vec<std::net::Ipv4Addr>,
    },
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
    /// `cp` out of a container: print what PATH is (a JSON line), read the
    /// name its archive entry takes (a JSON line) on stdin, write it as a tar on stdout.
    CpOut {
        #[command(flatten)]
        target: CpTarget,
        #[arg(long)]
        path: String,
        /// Follow PATH if it is a symlink (`cp -L`).
        #[arg(long)]
        follow: bool,
    },
    /// `cp` into a container: print what DEST is (a JSON line), read the
    /// directory to extract into (a JSON line) and then a tar on stdin.
    CpIn {
        #[command(flatten)]
        target: CpTarget,
        #[arg(long)]
        dest: String,
        /// Keep the archive's owners (`cp -a`) instead of the container's root.
        #[arg(long)]
        keep_owner: bool,
    },
    /// Copy the image's PATH (from the LAYERs, top first) into the empty
    /// volume dir DEST; print `copied` if anything was.
    VolumeCopyUp {
        #[arg(long)]
        dest: PathBuf,
        #[arg(long)]
        path: String,
        #[arg(long = "lower")]
        lower: Vec<PathBuf>,
    },
    /// `build`'s RUN: run the recorded container ID in the foreground (its
    /// output on our stdout/stderr); exit with its status (125 if it cannot start).
    BuildRun { id: String },
    /// `build`'s COPY/ADD/WORKDIR: in the stopped container's file system,
    /// print what DEST is (a JSON line), read the directory to extract into
    /// (a JSON line: made with its missing parents, owned by UID:GID), then
    /// extract the tar on stdin there keeping the archive's owners.
    BuildCopy {
        #[command(flatten)]
        target: CpTarget,
        #[arg(long)]
        dest: String,
        #[arg(long, default_value_t = 0)]
        uid: u32,
        #[arg(long, default_value_t = 0)]
        gid: u32,
    },
    /// `build`'s `COPY --from` with wildcards: print the paths matching
    /// PATTERN in the stopped container's file system (a JSON list).
    BuildGlob {
        #[command(flatten)]
        target: CpTarget,
        #[arg(long)]
        pattern: String,
    },
    /// `diff`: the changes of UPPER against the image LAYERs (top first), one per line.
    Changes {
        #[arg(long)]
        upper: PathBuf,
        #[arg(long = "lower")]
        lower: Vec<PathBuf>,
    },
}

/// Where the `cp` helpers find a container's files: the namespaces of its
/// running PID 1, or (not running) its overlay to mount.
#[derive(clap::Args, Debug)]
struct CpTarget {
    /// The container's name, for messages.
    #[arg(long)]
    container: String,
    #[arg(long)]
    pid: Option<i32>,
    #[arg(long = "lower")]
    lower: Vec<PathBuf>,
    #[arg(long)]
    upper: Option<PathBuf>,
    #[arg(long)]
    work: Option<PathBuf>,
    #[arg(long)]
    merged: Option<PathBuf>,
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
    if let Helper::BuildRun { id } = &args.helper {
        return build_run(id);
    }
    let result = match args.helper {
        Helper::Unpack {
            dest,
            tar_split,
            rootless,
        } => unpack(&dest, &tar_split, rootless),
        Helper::Rm { paths } => remove(&paths),
        Helper::PortProxy { forwards } => crate::network::proxy::run(&forwards),
        Helper::NetnsHolder {
            data,
            dir,
            own_netns,
            upstreams,
        } => crate::network::holder::run(crate::network::holder::HolderArgs {
            data,
            dir,
            own_netns,
            upstreams,
        })
        .map_err(|e| e.to_string()),
        Helper::LayerTar { layer_dir } => raw_stdout().and_then(|f| {
            let out = io::BufWriter::with_capacity(256 * 1024, f);
            crate::image::layers::write_layer_tar(&layer_dir, out)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }),
        Helper::LayerDiff { upper, lower, skip } => raw_stdout().and_then(|f| {
            let out = io::BufWriter::with_capacity(256 * 1024, f);
            crate::container::fs::write_layer_diff(out, &upper, &lower, &skip)
                .and_then(|mut w| {
                    w.flush()
                        .map_err(|e| crate::container::fs::FsError(e.to_string()))
                })
                .map_err(|e| e.to_string())
        }),
        Helper::Export { target } => export(&target),
        Helper::CpOut {
            target,
            path,
            follow,
        } => cp_out(&target, &path, follow),
        Helper::CpIn {
            target,
            dest,
            keep_owner,
        } => cp_in(&target, &dest, keep_owner),
        Helper::Changes { upper, lower } => changes(&upper, &lower),
        Helper::BuildGlob { target, pattern } => build_glob(&target, &pattern),
        Helper::BuildCopy {
            target,
            dest,
            uid,
            gid,
        } => build_copy(&target, &dest, uid, gid),
        Helper::VolumeCopyUp { dest, path, lower } => {
            crate::volume::copyup::copy_up(&lower, &path, &dest)
                .map(|copied| println!("{}", if copied { "copied" } else { "empty" }))
                .map_err(|e| e.to_string())
        }
        Helper::RunPlan { .. }
        | Helper::Monitor { .. }
        | Helper::Exec(_)
        | Helper::BuildRun { .. } => {
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

fn enter(t: &CpTarget) -> Result<(), String> {
    use crate::container::fs;
    match (t.pid, &t.upper, &t.work, &t.merged) {
        (Some(pid), ..) => fs::enter_running(pid),
        (None, Some(upper), Some(work), Some(merged)) => {
            fs::enter_stopped(&t.lower, upper, work, merged)
        }
        _ => return Err("cp helper: --pid or --upper, --work and --merged are required".into()),
    }
    .map_err(|e| e.to_string())
}

/// Reads one JSON line from the parent; None when it closed the pipe (it gave up).
fn read_request<T: serde::de::DeserializeOwned>(
    input: &mut impl io::BufRead,
) -> Result<Option<T>, String> {
    let mut line = String::new();
    if input.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| format!("cp helper: bad request: {e}"))
}

fn reply(value: &impl serde::Serialize) -> Result<(), String> {
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, value).map_err(|e| e.to_string())?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// Our stdout as a plain (unbuffered by std) file, for binary output.
fn raw_stdout() -> Result<std::fs::File, String> {
    let fd = std::os::fd::AsFd::as_fd(&io::stdout())
        .try_clone_to_owned()
        .map_err(|e| e.to_string())?;
    Ok(std::fs::File::from(fd))
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct NameRequest {
    pub name: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct DirRequest {
    pub dir: PathBuf,
}

fn cp_out(t: &CpTarget, raw: &str, follow: bool) -> Result<(), String> {
    use crate::container::fs::{CopyPath, PathInfo, write_tree};
    enter(t)?;
    let p = CopyPath::parse(raw, true);
    let not_found = || format!("Could not find the file {raw} in container {}", t.container);
    let mut src = p.os_path();
    if follow && std::fs::symlink_metadata(&p.clean).is_ok_and(|m| m.file_type().is_symlink()) {
        src = std::fs::canonicalize(&p.clean).map_err(|_| not_found())?;
    }
    let meta = if p.asserts_dir || src != p.os_path() {
        std::fs::metadata(&src)
    } else {
        std::fs::symlink_metadata(&src)
    }
    .map_err(|_| not_found())?;
    reply(&PathInfo {
        exists: true,
        is_dir: meta.is_dir(),
        path: p.clean.clone(),
    })?;
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let Some(NameRequest { name }) = read_request(&mut input)? else {
        return Ok(());
    };
    let out = io::BufWriter::with_capacity(256 * 1024, raw_stdout()?);
    let mut out = write_tree(out, &src, &name, false).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

fn cp_in(t: &CpTarget, dest: &str, keep_owner: bool) -> Result<(), String> {
    use crate::container::fs::{CopyPath, ExtractOptions, Owner, extract, stat_destination};
    use std::io::BufRead;
    enter(t)?;
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let p = CopyPath::parse(dest, true);
    reply(&stat_destination(&p))?;
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let Some(DirRequest { dir }) = read_request(&mut input)? else {
        return Ok(());
    };
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err("extraction point is not a directory".into()),
        Err(_) => {
            return Err(format!(
                "Could not find the file {} in container {}",
                dir.display(),
                t.container
            ));
        }
    }
    let root = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| e.to_string())?;
    let opts = ExtractOptions {
        owner: if keep_owner {
            Owner::Archive
        } else {
            Owner::Fixed(0, 0)
        },
    };
    // docker accepts a compressed stream too.
    let gzip = input
        .fill_buf()
        .map_err(|e| e.to_string())?
        .starts_with(&[0x1f, 0x8b]);
    let result = if gzip {
        extract(
            flate2::read::MultiGzDecoder::new(&mut input),
            rustix::fd::AsFd::as_fd(&root),
            &dir,
            &opts,
        )
    } else {
        extract(&mut input, rustix::fd::AsFd::as_fd(&root), &dir, &opts)
    };
    result.map_err(|e| e.to_string())?;
    io::copy(&mut input, &mut io::sink()).map_err(|e| e.to_string())?;
    Ok(())
}

fn build_run(id: &str) -> i32 {
    let ctx = match crate::context::Context::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return 125;
        }
    };
    match crate::monitor::run_foreground(&ctx, id, false, true, &mut |w| {
        super::run::report_warnings(w)
    }) {
        Ok(outcome) => super::run::report_outcome(outcome),
        Err(e) => {
            eprintln!("Error: {e}");
            e.exit_code()
        }
    }
}

fn build_glob(t: &CpTarget, pattern: &str) -> Result<(), String> {
    use crate::build::ignore::{go_match, has_wildcards};
    enter(t)?;
    let mut cur: Vec<String> = vec![String::new()];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &cur {
            if has_wildcards(comp) {
                let dir = if base.is_empty() { "/" } else { base.as_str() };
                let Ok(rd) = std::fs::read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect();
                names.sort();
                for n in names {
                    if go_match(comp, &n).map_err(|e| e.to_string())? {
                        next.push(format!("{base}/{n}"));
                    }
                }
            } else {
                let p = format!("{base}/{comp}");
                if std::fs::symlink_metadata(&p).is_ok() {
                    next.push(p);
                }
            }
        }
        cur = next;
    }
    reply(&cur)
}

fn build_copy(t: &CpTarget, dest: &str, uid: u32, gid: u32) -> Result<(), String> {
    use crate::container::fs::{CopyPath, ExtractOptions, Owner, extract, stat_destination};
    enter(t)?;
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let p = CopyPath::parse(dest, true);
    reply(&stat_destination(&p))?;
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let Some(DirRequest { dir }) = read_request(&mut input)? else {
        return Ok(());
    };
    // Make the directory and its missing parents (symlinks on the way are
    // followed inside the container's root, which is our root now).
    let mut cur = PathBuf::from("/");
    for c in dir.components() {
        if let std::path::Component::Normal(n) = c {
            cur.push(n);
            match std::fs::metadata(&cur) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(format!("mkdir {}: not a directory", cur.display()));
                }
                Err(_) => {
                    std::fs::create_dir(&cur)
                        .map_err(|e| format!("mkdir {}: {e}", cur.display()))?;
                    std::os::unix::fs::lchown(&cur, Some(uid), Some(gid))
                        .map_err(|e| format!("chown {}: {e}", cur.display()))?;
                    std::fs::set_permissions(
                        &cur,
                        std::os::unix::fs::PermissionsExt::from_mode(0o755),
                    )
                    .map_err(|e| format!("chmod {}: {e}", cur.display()))?;
                }
            }
        }
    }
    let root = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| e.to_string())?;
    let opts = ExtractOptions {
        owner: Owner::Archive,
    };
    extract(&mut input, rustix::fd::AsFd::as_fd(&root), &dir, &opts).map_err(|e| e.to_string())?;
    io::copy(&mut input, &mut io::sink()).map_err(|e| e.to_string())?;
    Ok(())
}

fn changes(upper: &std::path::Path, lower: &[PathBuf]) -> Result<(), String> {
    let all = crate::container::fs::changes(upper, lower).map_err(|e| e.to_string())?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for c in all {
        writeln!(out, "{} {}", c.kind.letter(), c.path).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn export(t: &CpTarget) -> Result<(), String> {
    enter(t)?;
    let out = io::BufWriter::with_capacity(256 * 1024, raw_stdout()?);
    let mut out = crate::container::fs::write_export(out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

//! `cp [-a] [-L] [-q] SRC DEST`: files between a container and the host, or
//! a tar stream (`-`), with docker's path rules (see
//! [`crate::container::fs::prepare_copy`]).
//!
//! The container side is a `berth internal cp-out|cp-in` helper inside the
//! container's file system ([`crate::container::fs`]): it says what the
//! container path is (a JSON line), is told where to put or what to name
//! the copy, and streams a tar. The host side is this process, as the
//! caller: files copied out belong to the caller.

use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context as _, anyhow, bail};

use crate::container::fs::{
    CopyPath, ExtractOptions, Owner, PathInfo, extract, prepare_copy, stat_destination, write_tree,
};
use crate::container::record::{ContainerConfig, ContainerStore};
use crate::context::Context;
use crate::userns::IdMapping;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// CONTAINER:SRC_PATH, a local path, or - for a tar stream on stdin
    #[arg(value_name = "SRC")]
    src: String,
    /// CONTAINER:DEST_PATH, a local path, or - for a tar stream on stdout
    #[arg(value_name = "DEST")]
    dest: String,
}

/// docker's `splitCpArg`: `CONTAINER:PATH`, unless the argument is an
/// absolute path or starts with `.` (`./file:name` is local).
fn split(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let (src_ctr, src_path) = split(&args.src);
    let (dst_ctr, dst_path) = split(&args.dest);
    match (src_ctr, dst_ctr) {
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
        (Some(c), None) => {
            if src_path.is_empty() {
                bail!("source can not be empty");
            }
            copy_out(ctx, &args, c, src_path, dst_path)
        }
        (None, Some(c)) => {
            if dst_path.is_empty() {
                bail!("destination can not be empty");
            }
            copy_in(ctx, &args, src_path, c, dst_path)
        }
    }
}

/// The user namespace a helper reading a container's files needs: see
/// [`crate::container::fs::container_mapping`].
pub(super) fn container_mapping(
    ctx: &Context,
    config: &ContainerConfig,
) -> anyhow::Result<Option<IdMapping>> {
    Ok(crate::container::fs::container_mapping(ctx, config)?)
}

/// Starts a cp helper (`cp-out`/`cp-in` + its own args) inside the
/// container's file system.
pub(super) fn spawn(
    ctx: &Context,
    name: &str,
    helper: &str,
    extra: Vec<OsString>,
) -> anyhow::Result<Child> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let id = store.resolve(name)?;
    let (config, state) = store.load(&id)?;
    let mut args: Vec<OsString> = vec![helper.into(), "--container".into(), name.into()];
    let mapping = if state.status.is_running() && state.pid > 0 {
        args.push("--pid".into());
        args.push(state.pid.to_string().into());
        None
    } else {
        let dir = store.dir(&id);
        for (flag, sub) in [
            ("--upper", "upper"),
            ("--work", "work"),
            ("--merged", "merged"),
        ] {
            args.push(flag.into());
            args.push(dir.join(sub).into_os_string());
        }
        for l in &config.layers {
            args.push("--lower".into());
            args.push(l.clone().into_os_string());
        }
        container_mapping(ctx, &config)?
    };
    args.extend(extra);
    Ok(crate::userns::spawn_helper(
        &ctx.paths,
        mapping.as_ref(),
        args,
    )?)
}

/// Waits for the helper; its error message (without the `Error: ` prefix) if it failed.
pub(super) fn finish(mut child: Child) -> anyhow::Result<()> {
    drop(child.stdin.take());
    drop(child.stdout.take());
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait()?;
    if status.success() {
        return Ok(());
    }
    let msg = stderr.trim();
    let msg = msg.strip_prefix("Error: ").unwrap_or(msg);
    if msg.is_empty() {
        bail!("copy helper failed ({status})");
    }
    Err(anyhow!("{msg}"))
}

/// The helper's first line (what the container path is), or its error.
fn read_info(child: Child, out: &mut impl BufRead) -> anyhow::Result<(Child, PathInfo)> {
    let mut line = String::new();
    out.read_line(&mut line)?;
    if line.is_empty() {
        finish(child)?;
        bail!("copy helper ended early");
    }
    Ok((child, serde_json::from_str(&line)?))
}

fn send(child: &mut Child, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let stdin = child.stdin.as_mut().expect("piped stdin");
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    stdin.write_all(&line)?;
    Ok(())
}

fn show_progress(args: &Args) -> bool {
    !args.quiet && nix::unistd::isatty(io::stderr()).unwrap_or(false)
}

/// `message` for a failed stat, as Go prints it: `lstat PATH: no such file or directory`.
fn os_error(op: &str, path: &str, e: &io::Error) -> anyhow::Error {
    let text = match e.raw_os_error() {
        Some(n) => {
            let d = nix::errno::Errno::from_raw(n).desc();
            let mut c = d.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => String::new(),
            }
        }
        None => e.to_string(),
    };
    anyhow!("{op} {path}: {text}")
}

struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

fn copy_out(ctx: &Context, args: &Args, ctr: &str, src: &str, dest: &str) -> anyhow::Result<()> {
    let mut extra: Vec<OsString> = vec!["--path".into(), src.into()];
    if args.follow_link {
        extra.push("--follow".into());
    }
    let mut child = spawn(ctx, ctr, "cp-out", extra)?;
    let mut out = BufReader::with_capacity(256 * 1024, child.stdout.take().expect("piped"));
    let (mut child, info) = read_info(child, &mut out)?;
    let src_path = CopyPath::parse(src, true);
    let base = src_path.base();

    if dest == "-" {
        send(
            &mut child,
            &serde_json::json!({ "name": PathBuf::from(&base) }),
        )?;
        let mut stdout = io::stdout().lock();
        io::copy(&mut out, &mut stdout)?;
        stdout.flush()?;
        return finish(child);
    }

    let dst = CopyPath::parse(dest, false);
    let mut dst_info = stat_destination(&dst);
    if !dst_info.exists {
        // docker: the destination need not exist, but its parent must.
        let parent = dst.parent();
        match std::fs::metadata(&parent) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => bail!("not a directory"),
            Err(e) => return Err(os_error("stat", &parent.to_string_lossy(), &e)),
        }
        dst_info.path = dst.clean.clone();
    }
    let (dir, name) = prepare_copy(info.is_dir, &base, &dst, &dst_info)?;
    send(
        &mut child,
        &serde_json::json!({ "name": PathBuf::from(&name) }),
    )?;
    drop(child.stdin.take());
    let root = rustix::fs::open(
        &dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .with_context(|| format!("{}", dir.display()))?;
    let mut counted = CountingReader { inner: out, n: 0 };
    let extracted = extract(
        &mut counted,
        rustix::fd::AsFd::as_fd(&root),
        Path::new(""),
        &ExtractOptions {
            owner: Owner::Caller,
        },
    );
    // The helper's error explains a broken stream better than the tar reader.
    let helper = finish(child);
    helper?;
    extracted?;
    if show_progress(args) {
        eprintln!(
            "Successfully copied {} to {dest}",
            crate::format::units::human_size(counted.n as f64)
        );
    }
    Ok(())
}

fn copy_in(ctx: &Context, args: &Args, src: &str, ctr: &str, dest: &str) -> anyhow::Result<()> {
    // Local source first: docker fails on a missing source before it looks at the container.
    let local = if src == "-" {
        None
    } else {
        let sp = CopyPath::parse(src, false);
        let path = if args.follow_link {
            std::fs::canonicalize(sp.os_path()).unwrap_or_else(|_| sp.os_path())
        } else {
            sp.os_path()
        };
        let meta = std::fs::symlink_metadata(&path).map_err(|e| os_error("lstat", src, &e))?;
        Some((sp, path, meta.is_dir()))
    };
    let mut extra: Vec<OsString> = vec!["--dest".into(), dest.into()];
    if args.archive {
        extra.push("--keep-owner".into());
    }
    let mut child = spawn(ctx, ctr, "cp-in", extra)?;
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let (mut child, info) = read_info(child, &mut out)?;
    let dst = CopyPath::parse(dest, true);

    // A helper that fails while we write ends the pipe: report its error, not EPIPE.
    // SAFETY: changing a signal disposition to SIG_IGN is always sound.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    let stdin = child.stdin.take().expect("piped stdin");
    let mut pipe = Counting {
        inner: io::BufWriter::with_capacity(256 * 1024, stdin),
        n: 0,
    };
    let written: anyhow::Result<()> = (|| {
        match &local {
            None => {
                if !(info.exists && info.is_dir) {
                    bail!("destination \"{ctr}:{dest}\" must be a directory");
                }
                let line = serde_json::to_vec(&serde_json::json!({ "dir": info.path }))?;
                pipe.inner.write_all(&line)?;
                pipe.inner.write_all(b"\n")?;
                io::copy(&mut io::stdin().lock(), &mut pipe)?;
            }
            Some((sp, path, is_dir)) => {
                let base: OsString = sp.base();
                let (dir, name) = prepare_copy(*is_dir, OsStr::new(&base), &dst, &info)?;
                let line = serde_json::to_vec(&serde_json::json!({ "dir": dir }))?;
                pipe.inner.write_all(&line)?;
                pipe.inner.write_all(b"\n")?;
                let name = PathBuf::from(name);
                write_tree(&mut pipe, path, &name, false)?;
            }
        }
        pipe.flush()?;
        Ok(())
    })();
    let n = pipe.n;
    drop(pipe);
    let helper = finish(child);
    match (written, helper) {
        (Err(e), Ok(())) => return Err(e),
        (Ok(()), Err(e)) | (Err(_), Err(e)) => return Err(e),
        (Ok(()), Ok(())) => {}
    }
    if show_progress(args) {
        eprintln!(
            "Successfully copied {} to {ctr}:{dest}",
            crate::format::units::human_size(n as f64)
        );
    }
    Ok(())
}

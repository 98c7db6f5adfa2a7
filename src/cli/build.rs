//! `build [OPTIONS] PATH | -`: docker's classic builder's command line and
//! output (`Step 1/5 : …`, ` ---> …`, `Successfully built …`). The work is
//! in [`crate::build::exec`].

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::build::context::{BuildContext, TempDir, extract_tar};
use crate::build::exec::{self, BuildError, BuildEvent, BuildOptions};
use crate::build::expand::{BuildArgs, Platform};
use crate::build::ignore::{IgnoreMatcher, default_dockerfile, find_ignore_file};
use crate::context::Context;
use crate::error::{ExitStatus, NotImplemented};
use crate::image::local::short_id;
use crate::image::reference::Reference;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Name and optionally a tag in the "name:tag" format
    #[arg(short = 't', long = "tag")]
    tag: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads it from STDIN)
    #[arg(short = 'f', long = "file")]
    file: Option<String>,
    /// Set build-time variables
    #[arg(long = "build-arg")]
    build_arg: Vec<String>,
    /// Set the target build stage to build
    #[arg(long)]
    target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long = "no-cache")]
    no_cache: bool,
    /// Always attempt to pull a newer version of the image
    #[arg(long)]
    pull: bool,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Set metadata for an image
    #[arg(long)]
    label: Vec<String>,
    /// Write the image ID to the file
    #[arg(long)]
    iidfile: Option<PathBuf>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    platform: Option<String>,
    /// Set the networking mode for the RUN instructions during build ("default", "host", "none")
    #[arg(long)]
    network: Option<String>,
    /// Images to consider as cache sources (accepted; berth's cache is its local steps)
    #[arg(long = "cache-from")]
    cache_from: Vec<String>,
    /// Set type of progress output ("auto", "plain", "tty", "quiet"); berth prints the classic builder's steps
    #[arg(long)]
    progress: Option<String>,
    /// Output destination (format: "type=local,dest=path" or "type=tar,dest=path|-"; "PATH" or "-")
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Secret to expose to the build (format: "id=mysecret[,src=/local/secret|,env=VAR]")
    #[arg(long)]
    secret: Vec<String>,
    /// Remove intermediate containers after a successful build (always)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", hide = true)]
    rm: bool,
    /// Always remove intermediate containers (always)
    #[arg(long = "force-rm", hide = true)]
    force_rm: bool,
    /// PATH | URL | -
    #[arg(value_name = "PATH | URL | -")]
    context: String,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let mut dockerfile = String::new();
    match run(ctx, &args, &mut dockerfile) {
        Ok(()) => Ok(()),
        Err(e) => match e.downcast::<BuildError>() {
            Ok(be) => {
                let msg = match &be {
                    // docker's own words, alone on the line.
                    BuildError::RunFailed { .. } => be.to_string(),
                    // BuildKit's excerpt of the Dockerfile, then the error.
                    BuildError::Parse(p) => format!("{}Error: {p}", p.excerpt(&dockerfile)),
                    _ => format!("Error: {be}"),
                };
                Err(ExitStatus::with_message(be.exit_code(), msg).into())
            }
            Err(e) => Err(e),
        },
    }
}

fn run(ctx: &Context, args: &Args, dockerfile_text: &mut String) -> anyhow::Result<()> {
    if args.context.starts_with("http://")
        || args.context.starts_with("https://")
        || args.context.starts_with("git@")
        || args.context.starts_with("git://")
    {
        bail!(NotImplemented("build from a URL context".into()));
    }
    let mut build_args = BuildArgs::host();
    if let Some(p) = &args.platform {
        let p = Platform::parse(p).with_context(|| format!("invalid platform: {p}"))?;
        if p.os != build_args.build.os || p.architecture != build_args.build.architecture {
            bail!(NotImplemented(format!(
                "build --platform {p} (only the host's platform, {})",
                build_args.build
            )));
        }
        build_args.target = p;
    }
    let mut values = BTreeMap::new();
    for a in &args.build_arg {
        match a.split_once('=') {
            Some((k, v)) => {
                values.insert(k.to_string(), v.to_string());
            }
            None => {
                if let Ok(v) = std::env::var(a) {
                    values.insert(a.clone(), v);
                }
            }
        }
    }
    build_args.values = values;
    let mut labels = Vec::new();
    for l in &args.label {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.push((k.to_string(), v.to_string()));
    }
    let mut tags = Vec::new();
    for t in &args.tag {
        let r = Reference::parse(t)
            .with_context(|| format!("invalid argument \"{t}\" for \"-t, --tag\" flag"))?;
        if r.digest.is_some() {
            bail!("invalid argument \"{t}\" for \"-t, --tag\" flag: a tag cannot have a digest");
        }
        tags.push(format!(
            "{}:{}",
            r.name(),
            r.tag.as_deref().unwrap_or("latest")
        ));
    }

    // The context and the Dockerfile.
    let tmp_parent = std::env::temp_dir();
    let stdin_df = args.file.as_deref() == Some("-");
    let (context, dockerfile, name) = if args.context == "-" {
        if stdin_df {
            bail!("invalid argument: can't use stdin for both build context and dockerfile");
        }
        let stdin = std::io::stdin();
        let mut input = std::io::BufReader::with_capacity(64 * 1024, stdin.lock());
        let head = input.fill_buf()?.to_vec();
        if looks_like_archive(&head) {
            let dir = extract_tar(&mut input, &tmp_parent)?;
            let root = dir.path().to_path_buf();
            let df_path = match &args.file {
                Some(f) => root.join(f),
                None => default_dockerfile(&root).unwrap_or_else(|| root.join("Dockerfile")),
            };
            let text = std::fs::read_to_string(&df_path).map_err(|_| {
                anyhow::anyhow!(
                    "Cannot locate specified Dockerfile: {}",
                    args.file.as_deref().unwrap_or("Dockerfile")
                )
            })?;
            let ignore = ignore_for(&root, Some(&df_path))?;
            let name = file_name(&df_path);
            (BuildContext::from_temp(dir, ignore), text, name)
        } else {
            let mut text = String::new();
            input.read_to_string(&mut text)?;
            let dir = TempDir::new(&tmp_parent, "berth-build-context-")?;
            (
                BuildContext::from_temp(dir, IgnoreMatcher::default()),
                text,
                "Dockerfile".to_string(),
            )
        }
    } else {
        let root = PathBuf::from(&args.context);
        if !root.is_dir() {
            bail!(
                "unable to prepare context: path {:?} not found",
                args.context
            );
        }
        let (text, df_path, name) = if stdin_df {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (text, None, "Dockerfile".to_string())
        } else {
            let path = match &args.file {
                Some(f) => {
                    let p = PathBuf::from(f);
                    if p.exists() { p } else { root.join(f) }
                }
                None => default_dockerfile(&root).unwrap_or_else(|| root.join("Dockerfile")),
            };
            let text = std::fs::read_to_string(&path).map_err(|_| {
                anyhow::anyhow!(
                    "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: no such file or directory",
                    std::fs::canonicalize(&root)
                        .unwrap_or(root.clone())
                        .join(file_name(&path))
                        .display()
                )
            })?;
            let name = file_name(&path);
            (text, Some(path), name)
        };
        let ignore = ignore_for(&root, df_path.as_deref())?;
        (BuildContext::from_dir(&root, ignore)?, text, name)
    };

    let network = match args.network.as_deref() {
        None | Some("default") | Some("bridge") => None,
        Some("host") => Some(crate::build::dockerfile::Network::Host),
        Some("none") => Some(crate::build::dockerfile::Network::None),
        Some(n) => bail!(NotImplemented(format!(
            "build --network {n} (default, host and none are supported)"
        ))),
    };
    let quiet = args.quiet || args.progress.as_deref() == Some("quiet");
    let output = args
        .output
        .as_deref()
        .map(exec::Output::parse)
        .transpose()?;
    // A tar on standard output: the progress goes to stderr, as BuildKit's.
    let tar_to_stdout = output == Some(exec::Output::Tar(None));
    if tar_to_stdout && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        bail!(
            "the tar of the build's files would go to a terminal: redirect the output (-o - > file.tar) or give dest=FILE"
        );
    }
    let mut progress: Box<dyn Write> = if tar_to_stdout {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut secrets = BTreeMap::new();
    for spec in &args.secret {
        let (id, value) = parse_secret(spec)?;
        secrets.insert(id, value);
    }
    dockerfile_text.clone_from(&dockerfile);
    if !quiet {
        let mut size = context_tar_size(&context)?;
        if stdin_df || args.context == "-" && context.walk("")?.is_empty() {
            size += 512 + (dockerfile.len() as u64).div_ceil(512) * 512;
        }
        writeln!(
            progress,
            "Sending build context to Docker daemon  {}",
            crate::format::units::human_size_with_precision(size as f64, 4)
        )?;
    }
    let opts = BuildOptions {
        network,
        secrets,
        dockerfile,
        dockerfile_name: name,
        context,
        tags: tags.clone(),
        args: build_args,
        target: args.target.clone(),
        no_cache: args.no_cache,
        pull: args.pull,
        labels,
    };
    let out = &mut progress;
    let mut at_line_start = true;
    let mut events = |e: BuildEvent| {
        if quiet {
            return;
        }
        let mut line = |s: String| {
            if !at_line_start {
                let _ = out.write_all(b"\n");
            }
            let _ = writeln!(out, "{s}");
            at_line_start = true;
        };
        match e {
            BuildEvent::Step {
                number,
                total,
                text,
            } => line(format!("Step {number}/{total} : {text}")),
            BuildEvent::Image(id) => line(format!(" ---> {}", short_id(id))),
            BuildEvent::UsingCache => line(" ---> Using cache".into()),
            BuildEvent::RunningIn(id) => line(format!(" ---> Running in {}", short_id(id))),
            BuildEvent::Removing(id) => line(format!(
                " ---> Removed intermediate container {}",
                short_id(id)
            )),
            BuildEvent::Triggers(n) => line(format!(
                "# Executing {n} build trigger{}",
                if n == 1 { "" } else { "s" }
            )),
            BuildEvent::Warning(w) => line(w.to_string()),
            BuildEvent::Output(bytes) => {
                let _ = out.write_all(bytes);
                at_line_start = bytes.last() == Some(&b'\n');
            }
        }
        let _ = out.flush();
    };
    let mut pull = |name: &str| -> Result<(), String> {
        let reference = Reference::parse(name).map_err(|e| e.to_string())?;
        if quiet || tar_to_stdout {
            let opts = crate::image::pull::PullOptions { platform: None };
            let rt = super::runtime().map_err(|e| e.to_string())?;
            return rt
                .block_on(crate::image::pull::pull(ctx, &reference, &opts, &|_| {}))
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        super::pull::run_pull(ctx, name, &reference, None, false).map_err(|e| format!("{e:#}"))
    };
    // Ctrl-C: the RUN container gets the signal itself (same process
    // group); the build stops before its next step and cleans up.
    extern "C" fn on_signal(_: libc::c_int) {
        exec::CANCELLED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    for sig in [
        nix::sys::signal::Signal::SIGINT,
        nix::sys::signal::Signal::SIGTERM,
    ] {
        let action = nix::sys::signal::SigAction::new(
            nix::sys::signal::SigHandler::Handler(on_signal),
            nix::sys::signal::SaFlags::SA_RESTART,
            nix::sys::signal::SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic.
        unsafe { nix::sys::signal::sigaction(sig, &action) }?;
    }
    let id = exec::build(ctx, &opts, &mut pull, &mut events)?;
    if let Some(f) = &args.iidfile {
        std::fs::write(f, &id).with_context(|| format!("writing {}", f.display()))?;
    }
    match &output {
        Some(exec::Output::Tar(None)) => {
            exec::with_image_tar(ctx, &id, |tar| {
                let mut stdout = std::io::stdout().lock();
                std::io::copy(tar, &mut stdout)?;
                stdout.flush()
            })?;
        }
        Some(exec::Output::Tar(Some(path))) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            exec::with_image_tar(ctx, &id, |tar| {
                std::io::copy(tar, &mut file)?;
                file.sync_all()
            })?;
        }
        Some(exec::Output::Local(dir)) => {
            exec::with_image_tar(ctx, &id, |tar| exec::unpack_into(tar, dir))
                .with_context(|| format!("writing the build's files to {}", dir.display()))?;
        }
        None => {}
    }
    if quiet {
        if !tar_to_stdout {
            println!("{id}");
        }
    } else {
        writeln!(progress, "Successfully built {}", short_id(&id))?;
        for t in &args.tag {
            let r = Reference::parse(t)?;
            let mut s = r.familiar_string();
            if r.tag.is_none() {
                s.push_str(":latest");
            }
            writeln!(progress, "Successfully tagged {s}")?;
        }
    }
    Ok(())
}

/// `--secret id=ID[,src=PATH|,source=PATH|,env=VAR][,type=file|env]`; a
/// bare `id=ID` reads the variable ID, else the file ID.
fn parse_secret(spec: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let (mut id, mut src, mut env, mut kind) = (None, None, None, None);
    for field in spec.split(',') {
        let (k, v) = field
            .split_once('=')
            .with_context(|| format!("invalid secret: {spec}: expected key=value fields"))?;
        match k.trim().to_ascii_lowercase().as_str() {
            "id" => id = Some(v.to_string()),
            "src" | "source" => src = Some(v.to_string()),
            "env" => env = Some(v.to_string()),
            "type" => kind = Some(v.to_string()),
            other => bail!("unexpected key '{other}' in '{field}'"),
        }
    }
    if kind.as_deref() == Some("env") && env.is_none() {
        env = src.take();
    }
    let id = match id {
        Some(i) => i,
        None => src
            .as_deref()
            .or(env.as_deref())
            .map(|s| file_name(Path::new(s)))
            .context("secret id is required")?,
    };
    if let Some(var) = env {
        let v = std::env::var_os(&var)
            .with_context(|| format!("secret {id}: environment variable {var} is not set"))?;
        return Ok((
            id,
            std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec(),
        ));
    }
    let path = src.unwrap_or_else(|| id.clone());
    if src_is_env_default(&path, &id) && std::env::var_os(&id).is_some() {
        let v = std::env::var_os(&id).unwrap_or_default();
        return Ok((
            id,
            std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec(),
        ));
    }
    let data = std::fs::read(&path).with_context(|| format!("secret {id}: reading {path}"))?;
    Ok((id, data))
}

/// A bare `id=ID` (no src): docker looks for the variable ID first.
fn src_is_env_default(path: &str, id: &str) -> bool {
    path == id && !Path::new(path).exists()
}

/// The length of the context as the tar docker sends (what its first line
/// of output reports): a header per entry, contents in 512-byte blocks, the
/// two closing blocks.
fn context_tar_size(context: &BuildContext) -> anyhow::Result<u64> {
    let mut size = 1024;
    for e in context.walk("")? {
        size += 512 + e.size.div_ceil(512) * 512;
    }
    Ok(size)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "Dockerfile".into())
}

fn ignore_for(root: &Path, dockerfile: Option<&Path>) -> anyhow::Result<IgnoreMatcher> {
    Ok(match find_ignore_file(root, dockerfile) {
        Some(p) => IgnoreMatcher::from_file(&p)?,
        None => IgnoreMatcher::default(),
    })
}

/// Whether stdin holds an archive (a context) rather than a Dockerfile.
fn looks_like_archive(head: &[u8]) -> bool {
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return true;
    }
    head.len() >= 262 && &head[257..262] == b"ustar"
}

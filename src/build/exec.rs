//! The executor half of `build`: docker's classic builder on top of the
//! parsing half ([`super::dockerfile`], [`super::expand`], [`super::stages`],
//! [`super::context`]).
//!
//! Every step makes an image config (a blob in the store, not an image
//! record): metadata instructions change the config only; `RUN` runs a
//! real container ([`crate::container::create::prepare`] on an image made
//! of the step's parent, then `berth internal build-run ID`, single-threaded
//! as any container's parent must be), whose upper dir becomes the step's
//! layer ([`crate::container::commit::store_upper`]); `COPY`/`ADD`/`WORKDIR`
//! write into an overlay of the parent's layers with `berth internal
//! build-copy` (in the store's user namespace, so owners are right) and keep
//! the upper dir as the layer. Only the final image is recorded (with its
//! tags) by [`crate::image::layers::write_image`].
//!
//! Sources: the context (globs, `.dockerignore`, heredocs, `ADD` of a local
//! tar extracted, of a URL downloaded), or `--from` another stage or an
//! image, read by `berth internal cp-out` over an overlay of its layers
//! (`build-glob` expands wildcards there).
//!
//! Stages that do not depend on each other build at the same time, each on
//! a thread of its own (the RUN containers are still created by re-execs
//! of berth, never forked from this threaded process): the stages run in
//! waves of those whose dependencies are built. Base images are pulled
//! first, on the caller's thread, and only the first stage of a wave
//! reports live; the others' output is held and replayed after it, with
//! step numbers in that order, so the output reads as a sequential
//! build's. `type=cache` mounts are shared between the stages (no
//! `sharing=locked`).
//!
//! `RUN --mount`: `type=cache` is a directory under
//! `<data>/buildcache/mount-<hash of its id>` kept between builds, `tmpfs` a tmpfs,
//! `bind` a read-only bind of a context path (or, with `from=`, of a private
//! copy of another stage's path), `secret` a 0400 file (or `env=`) from
//! `--secret`. Their mount points stay out of the layer. `ssh` and
//! read-write binds are refused (125).
//!
//! # The cache
//!
//! `<data>/buildcache/<sha256 of the key>` holds the image ID a step made
//! (`system prune` empties the directory).
//! The key, like docker's: the parent image ID, the history line of the
//! step (`/bin/sh -c #(nop)  ENV A=1`, `|1 V=x /bin/sh -c make`), the
//! expanded instruction, and for COPY/ADD the content hash of the sources
//! ([`super::context::BuildContext::hash_sources`]; for `--from`, the
//! source image or stage ID). A hit is used only if the image's config
//! blob and all its layers are still in the store (an `rmi` may have
//! removed the layers of steps no image uses). The whole build holds the
//! store's gc lock shared (as a pull does), so no layer it makes can vanish
//! before its image is written; cache entries and blobs are written
//! atomically, so concurrent builds never see a torn one.
//!
//! Progress goes to the caller as [`BuildEvent`]s (the CLI prints docker's
//! `Step 1/5 : …` lines); missing base images are pulled through the
//! caller's [`PullFn`] (the CLI runs the pull pipeline with its output).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::context::{BuildContext, ContextError, EntryKind, HashOptions, SourceMatch};
use super::dockerfile::{
    self, CommandLine, CopyArgs, CopySource, Dockerfile, Healthcheck, Instruction, Located,
    ParseError, RunScript,
};
use super::expand::{BuildArgs, StageVars, Vars, expand_heredoc};
use super::stages::{Base, FromRef, GraphError};
use crate::container::fs::{CopyPath, PathInfo};
use crate::context::Context;
use crate::image::layers::{self, StoredLayer};
use crate::image::local;
use crate::image::store::{ImageRecord, LayerRef, Store, StoreError, sha256_digest, write_atomic};

/// What to build.
pub struct BuildOptions {
    /// The Dockerfile's text and the name errors give it (`Dockerfile`).
    pub dockerfile: String,
    pub dockerfile_name: String,
    /// The context (an empty one when the Dockerfile came alone on stdin).
    pub context: BuildContext,
    /// Fully qualified `name:tag`s to give the result.
    pub tags: Vec<String>,
    pub args: BuildArgs,
    /// `--target`.
    pub target: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--pull`: pull every base image again.
    pub pull: bool,
    /// `--label K=V`: a LABEL step added to the target stage, as docker does.
    pub labels: Vec<(String, String)>,
    /// `--network`: the RUN steps' network unless `RUN --network` says
    /// otherwise (None: the default network).
    pub network: Option<dockerfile::Network>,
    /// `--secret id=ID,src=PATH|env=VAR`: what `RUN --mount=type=secret` gets.
    pub secrets: BTreeMap<String, Vec<u8>>,
}

/// Progress of a build, in docker's classic builder's terms.
#[derive(Debug)]
pub enum BuildEvent<'a> {
    /// `Step N/TOTAL : INSTRUCTION`.
    Step {
        number: usize,
        total: usize,
        text: &'a str,
    },
    /// ` ---> <id>`: the image the step ended with (full ID).
    Image(&'a str),
    /// ` ---> Using cache`.
    UsingCache,
    /// ` ---> Running in <container>` (full container ID).
    RunningIn(&'a str),
    /// Output of a RUN (its stdout and stderr, as it comes).
    Output(&'a [u8]),
    /// ` ---> Removed intermediate container <container>` (docker ≥ 25's words).
    Removing(&'a str),
    /// `# Executing N build triggers` (ONBUILD of the base image).
    Triggers(usize),
    /// A warning in the build's output (docker's classic builder's
    /// `[Warning] One or more build-args [X] were not consumed`).
    Warning(&'a str),
}

/// Set (by the CLI's SIGINT/SIGTERM handler) to stop a build before its
/// next step; what the current step made is cleaned up as after a failure.
pub static CANCELLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Pulls the named image into the store (with whatever output the caller
/// wants); the error's text is reported as is.
pub type PullFn<'a> = dyn FnMut(&str) -> Result<(), String> + 'a;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Graph(#[from] GraphError),
    #[error("Dockerfile:{line}: {message}")]
    Expand { line: usize, message: String },
    /// A RUN whose command failed (docker's words). The build exits 1, as
    /// `docker build` does (BuildKit, its default; the classic builder
    /// exited with the command's code).
    #[error("The command '{command}' returned a non-zero code: {code}")]
    RunFailed { command: String, code: i32 },
    /// Something berth does not do yet (exit 125).
    #[error("{0} is not implemented in berth yet")]
    NotImplemented(String),
    #[error("{0}")]
    Pull(String),
    #[error("{0}")]
    Context(#[from] ContextError),
    #[error("{0}")]
    Copy(String),
    #[error("No image was generated. Is your Dockerfile empty?")]
    NoImage,
    /// [`CANCELLED`] was set (SIGINT): the build stopped before a step.
    #[error("the build was interrupted")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Layer(#[from] layers::LayerError),
    #[error(transparent)]
    Commit(#[from] crate::container::commit::CommitError),
    #[error(transparent)]
    Create(#[from] crate::container::create::CreateError),
    #[error(transparent)]
    Userns(#[from] crate::userns::UsernsError),
    #[error("{0}")]
    Other(String),
}

impl BuildError {
    /// The exit code docker's CLI ends a failed build with.
    pub fn exit_code(&self) -> i32 {
        match self {
            BuildError::NotImplemented(_) => 125,
            BuildError::Cancelled => 130,
            _ => 1,
        }
    }
}

fn other(e: impl std::fmt::Display) -> BuildError {
    BuildError::Other(e.to_string())
}

/// The default `SHELL`.
fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

/// One stage's state as its steps run.
#[derive(Clone)]
struct StageState {
    /// The current image (None: scratch before any step made one).
    id: Option<String>,
    /// The current image config (the whole config JSON).
    config: Value,
    vars: StageVars,
    /// A CMD was set in this stage (ENTRYPOINT then keeps it).
    cmd_set: bool,
}

impl StageState {
    fn cfg(&mut self) -> &mut Map<String, Value> {
        if !self.config.get("config").is_some_and(Value::is_object) {
            self.config["config"] = json!({});
        }
        self.config["config"].as_object_mut().expect("object")
    }

    fn shell(&self) -> Vec<String> {
        self.config
            .pointer("/config/Shell")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(default_shell)
    }

    fn workdir(&self) -> String {
        self.config
            .pointer("/config/WorkingDir")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("/")
            .to_string()
    }

    fn diff_ids(&self) -> Vec<String> {
        layers::config_diff_ids(&self.config).unwrap_or_default()
    }

    fn parent_key(&self) -> String {
        self.id.clone().unwrap_or_else(|| "scratch".into())
    }
}

struct Builder<'a, 'b> {
    ctx: &'a Context,
    store: &'a Store,
    opts: &'a BuildOptions,
    df: &'a Dockerfile,
    meta: Vars,
    events: &'b mut dyn FnMut(BuildEvent),
    pull: &'b mut PullFn<'b>,
    step: usize,
    total: usize,
    /// Results of the stages built so far.
    results: BTreeMap<usize, StageState>,
}

/// Runs the build. Returns the image ID (`sha256:…`).
pub fn build(
    ctx: &Context,
    opts: &BuildOptions,
    pull: &mut PullFn,
    events: &mut dyn FnMut(BuildEvent),
) -> Result<String, BuildError> {
    let mut df = dockerfile::parse(&opts.dockerfile, &opts.dockerfile_name)?;
    let target = df.target(opts.target.as_deref())?;
    if !opts.labels.is_empty() {
        let text = opts
            .labels
            .iter()
            .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
            .collect::<Vec<_>>()
            .join(" ");
        let line = format!("LABEL {text}");
        let parsed = dockerfile::parse(&format!("FROM scratch\n{line}\n"), "label")?;
        let mut instr = parsed.stages[0].instructions[0].clone();
        instr.line = 0;
        df.stages[target].instructions.push(instr);
    }
    let graph = df.graph(&opts.args)?;
    let order = graph.required(target)?;
    let total = order
        .iter()
        .map(|&i| 1 + df.stages[i].instructions.len())
        .sum();
    let store = ctx.store()?;
    let _gc = store.gc_shared()?;
    let mut b = Builder {
        ctx,
        store,
        opts,
        df: &df,
        meta: graph.meta.clone(),
        events,
        pull,
        step: 0,
        total,
        results: BTreeMap::new(),
    };
    // Stages run in waves: every stage whose dependencies are built runs
    // at once, each on its own thread. The first of a wave (in the
    // Dockerfile's order) reports as it goes; the others' output is held
    // and replayed after it, and steps are numbered in that order, so the
    // output reads as a sequential build's.
    let mut waves: Vec<Vec<usize>> = Vec::new();
    let mut pending = order.clone();
    let mut built = std::collections::BTreeSet::new();
    while !pending.is_empty() {
        let (wave, rest): (Vec<usize>, Vec<usize>) = pending
            .iter()
            .partition(|&&i| graph.stages[i].deps.iter().all(|d| built.contains(d)));
        if wave.is_empty() {
            return Err(other("the stages' dependencies form a cycle"));
        }
        built.extend(wave.iter().copied());
        waves.push(wave);
        pending = rest;
    }
    let mut first_step = BTreeMap::new();
    let mut n = 0;
    for &i in waves.iter().flatten() {
        first_step.insert(i, n);
        n += 1 + df.stages[i].instructions.len();
    }
    for wave in &waves {
        let (&lead, others) = wave.split_first().expect("waves are not empty");
        // Base images and `--from` images come in first, here: pulling
        // reports through the caller, which only this thread may call.
        for &i in others {
            let node = &graph.stages[i];
            if let Base::Image(name) = &node.base {
                b.image(name, opts.pull)?;
            }
            for name in &node.images {
                b.image(name, false)?;
            }
        }
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = others
                .iter()
                .map(|&i| {
                    let job = b.job(first_step[&i]);
                    let base = graph.stages[i].base.clone();
                    scope.spawn(move || {
                        let mut held = Vec::new();
                        let mut record = |e: BuildEvent| held.push(HeldEvent::from(&e));
                        // Its images are in the store already (`--pull`
                        // included); one only an ONBUILD trigger names is not.
                        let mut pulled = |name: &str| match store.images() {
                            Ok(index) if local::find(&index, name).is_ok() => Ok(()),
                            _ => Err(format!(
                                "{name}: not in the store, and a stage built alongside another cannot pull (pull it first)"
                            )),
                        };
                        let result = job.run(&mut record, &mut pulled, i, &base);
                        (result, held)
                    })
                })
                .collect();
            b.step = first_step[&lead];
            let lead_result = b.run_stage(lead, &graph.stages[lead].base.clone());
            let others: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().expect("a build stage's thread panicked"))
                .collect();
            (lead_result, others)
        });
        let (lead_result, others_results) = results;
        b.results.insert(lead, lead_result?);
        for (&i, (result, held)) in others.iter().zip(others_results) {
            for e in &held {
                e.replay(&mut *b.events);
            }
            b.results.insert(i, result?);
        }
    }
    // docker's classic builder names the build args no stage declared.
    let mut declared: Vec<&str> = df
        .meta_args
        .iter()
        .flat_map(|l| l.value.iter().map(|d| d.name.as_str()))
        .collect();
    for &i in &order {
        for l in &df.stages[i].instructions {
            if let Instruction::Arg(decls) = &l.value {
                declared.extend(decls.iter().map(|d| d.name.as_str()));
            }
        }
    }
    let unused: Vec<&str> = opts
        .args
        .values
        .keys()
        .map(String::as_str)
        .filter(|k| {
            !declared.contains(k)
                && !super::expand::PROXY_ARGS.contains(k)
                && !super::expand::PLATFORM_ARGS.contains(k)
        })
        .collect();
    if !unused.is_empty() {
        let w = format!(
            "[Warning] One or more build-args [{}] were not consumed",
            unused.join(" ")
        );
        (b.events)(BuildEvent::Warning(&w));
    }
    let last = b.results.remove(&target).expect("target built");
    let id = last.id.ok_or(BuildError::NoImage)?;
    let index = store.images()?;
    if index.find_by_id(&id).is_some() {
        // The result is an image the store has (`FROM busybox` alone): tag it.
        for t in &opts.tags {
            local::tag(store, &id, t).map_err(other)?;
        }
    } else {
        let bytes = store.read_blob(&id)?;
        layers::write_image(store, &bytes, &opts.tags)?;
    }
    Ok(id)
}

/// `build -o`: where the files of the built image go, as BuildKit's
/// local and tar exporters put them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `type=local,dest=DIR`, or a bare `DIR`: the files, in a directory.
    Local(PathBuf),
    /// `type=tar,dest=FILE`, or `-`: a tar of them (None: standard output).
    Tar(Option<PathBuf>),
}

impl Output {
    /// Parses docker's `-o`/`--output` value.
    pub fn parse(spec: &str) -> Result<Output, BuildError> {
        if spec == "-" {
            return Ok(Output::Tar(None));
        }
        if !spec.contains('=') {
            if spec.is_empty() {
                return Err(other("invalid output: an empty destination"));
            }
            return Ok(Output::Local(PathBuf::from(spec)));
        }
        let (mut kind, mut dest) = (None, None);
        for field in spec.split(',') {
            let (k, v) = field.split_once('=').ok_or_else(|| {
                other(format!(
                    "invalid value {field:?} in --output {spec:?}: want key=value"
                ))
            })?;
            match k.trim().to_ascii_lowercase().as_str() {
                "type" => kind = Some(v.trim().to_string()),
                "dest" => dest = Some(v.trim().to_string()),
                _ => {
                    return Err(BuildError::NotImplemented(format!(
                        "build --output option {k:?}"
                    )));
                }
            }
        }
        let kind = kind.unwrap_or_else(|| "local".into());
        let dest = dest.filter(|d| !d.is_empty());
        match (kind.as_str(), dest) {
            ("local", Some(d)) if d != "-" && !d.is_empty() => Ok(Output::Local(d.into())),
            ("local", _) => Err(other(
                "invalid output: type=local needs dest=DIR (a directory, not -)",
            )),
            ("tar", None) => Err(other(
                "invalid output: type=tar needs dest=FILE (or dest=-)",
            )),
            ("tar", Some(d)) if d == "-" => Ok(Output::Tar(None)),
            ("tar", Some(d)) => Ok(Output::Tar(Some(d.into()))),
            (other_kind, _) => Err(BuildError::NotImplemented(format!(
                "build --output type={other_kind} (local and tar are)"
            ))),
        }
    }
}

/// Reads the files of the image `id` (`sha256:…` of its config) as one tar
/// stream, given to `consume`; owners are the image's.
pub fn with_image_tar(
    ctx: &Context,
    id: &str,
    consume: impl FnOnce(&mut dyn Read) -> io::Result<()>,
) -> Result<(), BuildError> {
    let store = ctx.store()?;
    let _gc = store.gc_shared()?;
    let config: Value = serde_json::from_slice(&store.read_blob(id)?).map_err(other)?;
    let diff_ids = layers::config_diff_ids(&config).unwrap_or_default();
    if diff_ids.is_empty() {
        // FROM scratch with no files: an empty tar.
        let empty = [0u8; 1024];
        return consume(&mut &empty[..]).map_err(other);
    }
    let tree = SourceTree::new(ctx, store, &diff_ids)?;
    let mut source = tree.open("/")?;
    {
        let mut tar = source.start(".").map_err(other)?;
        consume(&mut tar).map_err(other)?;
    }
    source.finish().map_err(other)
}

/// Unpacks an image's tar into `dest` (made if missing) as the calling
/// user: files owned by the caller, modes and times kept; device nodes and
/// FIFOs are left out (only root could make them). The tar crate refuses
/// entries that would land outside `dest` (`..`, through symlinks).
pub fn unpack_into(input: &mut dyn Read, dest: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dest)?;
    let mut ar = tar::Archive::new(input);
    ar.set_overwrite(true);
    ar.set_preserve_mtime(true);
    // Directories stay writable until the end (a 0555 one may have files).
    let mut dirs = Vec::new();
    for entry in ar.entries()? {
        let mut e = entry?;
        let t = e.header().entry_type();
        if t.is_block_special() || t.is_character_special() || t.is_fifo() {
            continue;
        }
        if t.is_dir() {
            let mode = e.header().mode()? & 0o7777;
            let path = dest.join(e.path()?);
            if e.unpack_in(dest)? {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700 | mode))?;
                dirs.push((path, mode));
            }
        } else {
            e.unpack_in(dest)?;
        }
    }
    for (path, mode) in dirs.iter().rev() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))?;
    }
    Ok(())
}

/// Quotes a `--label` word for a LABEL line when it needs it.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The build cache (`<data>/buildcache`, which `system prune` empties):
/// one file per step, one `mount-…` directory per cache mount.
fn cache_dir(ctx: &Context) -> PathBuf {
    ctx.paths.data.join(crate::system::BUILD_CACHE_DIR)
}

fn now() -> String {
    local::rfc3339_nano(&chrono::Utc::now())
}

/// What a stage built on another thread needs of the [`Builder`]: all
/// but the caller's callbacks, which stay with the builder's thread.
struct StageJob<'a> {
    ctx: &'a Context,
    store: &'a Store,
    opts: &'a BuildOptions,
    df: &'a Dockerfile,
    meta: Vars,
    step: usize,
    total: usize,
    results: BTreeMap<usize, StageState>,
}

impl<'a> StageJob<'a> {
    fn run(
        self,
        events: &mut dyn FnMut(BuildEvent),
        pull: &mut PullFn,
        index: usize,
        base: &Base,
    ) -> Result<StageState, BuildError> {
        let mut b = Builder {
            ctx: self.ctx,
            store: self.store,
            opts: self.opts,
            df: self.df,
            meta: self.meta,
            events,
            pull,
            step: self.step,
            total: self.total,
            results: self.results,
        };
        b.run_stage(index, base)
    }
}

/// A [`BuildEvent`] held until its stage's turn to report.
enum HeldEvent {
    Step {
        number: usize,
        total: usize,
        text: String,
    },
    Image(String),
    UsingCache,
    RunningIn(String),
    Output(Vec<u8>),
    Removing(String),
    Triggers(usize),
    Warning(String),
}

impl HeldEvent {
    fn from(e: &BuildEvent) -> HeldEvent {
        match *e {
            BuildEvent::Step {
                number,
                total,
                text,
            } => HeldEvent::Step {
                number,
                total,
                text: text.to_string(),
            },
            BuildEvent::Image(id) => HeldEvent::Image(id.to_string()),
            BuildEvent::UsingCache => HeldEvent::UsingCache,
            BuildEvent::RunningIn(id) => HeldEvent::RunningIn(id.to_string()),
            BuildEvent::Output(bytes) => HeldEvent::Output(bytes.to_vec()),
            BuildEvent::Removing(id) => HeldEvent::Removing(id.to_string()),
            BuildEvent::Triggers(n) => HeldEvent::Triggers(n),
            BuildEvent::Warning(w) => HeldEvent::Warning(w.to_string()),
        }
    }

    fn replay(&self, events: &mut dyn FnMut(BuildEvent)) {
        events(match self {
            HeldEvent::Step {
                number,
                total,
                text,
            } => BuildEvent::Step {
                number: *number,
                total: *total,
                text,
            },
            HeldEvent::Image(id) => BuildEvent::Image(id),
            HeldEvent::UsingCache => BuildEvent::UsingCache,
            HeldEvent::RunningIn(id) => BuildEvent::RunningIn(id),
            HeldEvent::Output(bytes) => BuildEvent::Output(bytes),
            HeldEvent::Removing(id) => BuildEvent::Removing(id),
            HeldEvent::Triggers(n) => BuildEvent::Triggers(*n),
            HeldEvent::Warning(w) => BuildEvent::Warning(w),
        })
    }
}

impl<'a> Builder<'a, '_> {
    /// A job for stage work on another thread, starting after step `step`.
    fn job(&self, step: usize) -> StageJob<'a> {
        StageJob {
            ctx: self.ctx,
            store: self.store,
            opts: self.opts,
            df: self.df,
            meta: self.meta.clone(),
            step,
            total: self.total,
            results: self.results.clone(),
        }
    }

    fn emit(&mut self, e: BuildEvent) {
        (self.events)(e)
    }

    fn next_step(&mut self, text: &str) -> Result<(), BuildError> {
        if CANCELLED.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(BuildError::Cancelled);
        }
        self.step += 1;
        let (number, total) = (self.step, self.total);
        self.emit(BuildEvent::Step {
            number,
            total,
            text,
        });
        Ok(())
    }

    fn run_stage(&mut self, index: usize, base: &Base) -> Result<StageState, BuildError> {
        let stage = &self.df.stages[index];
        let from_text = stage.from.original.clone();
        self.next_step(&from_text)?;
        let mut state = match base {
            Base::Scratch => StageState {
                id: None,
                config: scratch_config(&self.opts.args),
                vars: StageVars::new(&[]),
                cmd_set: false,
            },
            Base::Stage(i) => {
                let mut s = self.results.get(i).cloned().ok_or_else(|| {
                    other(format!("stage {i} was not built before stage {index}"))
                })?;
                s.cmd_set = false;
                s.vars = StageVars::new(&env_of(&s.config));
                s
            }
            Base::Image(name) => {
                let (id, config) = self.image(name, self.opts.pull)?;
                StageState {
                    id: Some(id),
                    vars: StageVars::new(&env_of(&config)),
                    config,
                    cmd_set: false,
                }
            }
        };
        if let Some(id) = state.id.clone() {
            self.emit(BuildEvent::Image(&id));
        }
        // ONBUILD triggers of the base run first, and are not inherited.
        let triggers: Vec<String> = state
            .config
            .pointer("/config/OnBuild")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !triggers.is_empty() {
            state.cfg().insert("OnBuild".into(), Value::Null);
            self.emit(BuildEvent::Triggers(triggers.len()));
            for t in &triggers {
                let parsed = dockerfile::parse(&format!("FROM scratch\n{t}\n"), "ONBUILD")?;
                for l in &parsed.stages[0].instructions {
                    self.instruction(index, &mut state, l)?;
                }
            }
        }
        let instructions = stage.instructions.clone();
        for l in &instructions {
            self.next_step(&l.original)?;
            self.instruction(index, &mut state, l)?;
        }
        Ok(state)
    }

    /// Finds (or pulls) an image; returns its ID and config.
    fn image(&mut self, name: &str, force_pull: bool) -> Result<(String, Value), BuildError> {
        let found = |store: &Store| -> Result<Option<ImageRecord>, BuildError> {
            let index = store.images()?;
            match local::find(&index, name) {
                Ok((r, _)) => Ok(Some(r.clone())),
                Err(local::ImageError::NotFound(_)) => Ok(None),
                Err(e) => Err(other(e)),
            }
        };
        let mut record = if force_pull { None } else { found(self.store)? };
        if record.is_none() {
            (self.pull)(name).map_err(BuildError::Pull)?;
            record = found(self.store)?;
        }
        let record = record.ok_or_else(|| BuildError::Pull(format!("No such image: {name}")))?;
        let config = local::config_json(self.store, &record)?;
        Ok((record.id.clone(), config))
    }

    fn expand_err(line: usize) -> impl FnOnce(super::expand::ExpandError) -> BuildError {
        move |e| BuildError::Expand {
            line,
            message: e.to_string(),
        }
    }

    fn instruction(
        &mut self,
        stage: usize,
        state: &mut StageState,
        l: &Located<Instruction>,
    ) -> Result<(), BuildError> {
        let escape = self.df.escape;
        let i = l
            .value
            .expand(&state.vars, escape)
            .map_err(Self::expand_err(l.line))?;
        let nop = |text: &str| format!("/bin/sh -c #(nop)  {text}");
        match &i {
            Instruction::Run(run) => self.run(stage, state, l, run),
            Instruction::Copy(c) | Instruction::Add(c) => {
                let is_add = matches!(i, Instruction::Add(_));
                self.copy(stage, state, l, c, is_add)
            }
            Instruction::Workdir(w) => self.workdir(state, w),
            Instruction::Arg(decls) => {
                for d in decls {
                    state.vars.declare_arg(d, &self.meta, &self.opts.args);
                }
                let created_by = nop(&l.original);
                self.meta_step(state, &created_by, &format!("{i:?}"), |_| Ok(()))
            }
            Instruction::Env(kvs) => {
                for kv in kvs {
                    state.vars.set_env(&kv.key, &kv.value);
                }
                let env = state.vars.env().to_env();
                let created_by = nop(&l.original);
                self.meta_step(state, &created_by, &format!("{i:?}"), |s| {
                    s.cfg().insert("Env".into(), json!(env));
                    Ok(())
                })
            }
            _ => {
                let created_by = nop(&l.original);
                let i2 = i.clone();
                self.meta_step(state, &created_by, &format!("{i:?}"), move |s| {
                    apply_metadata(s, &i2)
                })
            }
        }
    }

    /// Looks a step up in the cache.
    fn cached(&self, key: &str) -> Option<(String, Value)> {
        if self.opts.no_cache {
            return None;
        }
        let path = cache_dir(self.ctx).join(key.trim_start_matches("sha256:"));
        let id = std::fs::read_to_string(path).ok()?;
        let id = id.trim().to_string();
        let bytes = self.store.read_blob(&id).ok()?;
        let config: Value = serde_json::from_slice(&bytes).ok()?;
        let diff_ids = layers::config_diff_ids(&config).ok()?;
        if !diff_ids.iter().all(|d| self.store.has_layer(d)) {
            return None;
        }
        Some((id, config))
    }

    fn remember(&self, key: &str, id: &str) -> Result<(), BuildError> {
        let dir = cache_dir(self.ctx);
        std::fs::create_dir_all(&dir).map_err(|e| other(format!("{}: {e}", dir.display())))?;
        write_atomic(&dir.join(key.trim_start_matches("sha256:")), id.as_bytes())?;
        Ok(())
    }

    fn key(state: &StageState, created_by: &str, extra: &str) -> String {
        let mut h = Sha256::new();
        h.update(state.parent_key().as_bytes());
        h.update(b"\n");
        h.update(created_by.as_bytes());
        h.update(b"\n");
        h.update(extra.as_bytes());
        format!("sha256:{}", hex::encode(h.finalize()))
    }

    /// Uses the cached result of a step if there is one.
    fn try_cache(&mut self, state: &mut StageState, key: &str) -> bool {
        match self.cached(key) {
            Some((id, config)) => {
                state.id = Some(id.clone());
                state.config = config;
                self.emit(BuildEvent::UsingCache);
                self.emit(BuildEvent::Image(&id));
                true
            }
            None => false,
        }
    }

    /// Writes the step's new config (with its history line and layer) and
    /// records it in the cache.
    fn commit(
        &mut self,
        state: &mut StageState,
        key: &str,
        created_by: &str,
        layer: Option<&StoredLayer>,
    ) -> Result<(), BuildError> {
        let created = now();
        let obj = state.config.as_object_mut().expect("config is an object");
        obj.insert("created".into(), json!(created));
        let mut entry = Map::new();
        entry.insert("created".into(), json!(created));
        entry.insert("created_by".into(), json!(created_by));
        if layer.is_none() {
            entry.insert("empty_layer".into(), json!(true));
        }
        let history = obj.entry("history").or_insert_with(|| json!([]));
        if !history.is_array() {
            *history = json!([]);
        }
        history
            .as_array_mut()
            .expect("array")
            .push(Value::Object(entry));
        if let Some(l) = layer {
            let rootfs = obj
                .entry("rootfs")
                .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
            match rootfs.get_mut("diff_ids").and_then(Value::as_array_mut) {
                Some(list) => list.push(json!(l.diff_id)),
                None => rootfs["diff_ids"] = json!([l.diff_id]),
            }
        }
        if let Some(parent) = state.id.clone() {
            state.cfg().insert("Image".into(), json!(parent));
        }
        let bytes = serde_json::to_vec(&state.config).expect("config serialises");
        let id = sha256_digest(&bytes);
        self.store.write_blob(&id, &bytes)?;
        self.remember(key, &id)?;
        state.id = Some(id.clone());
        self.emit(BuildEvent::Image(&id));
        Ok(())
    }

    /// A step that changes the config only.
    fn meta_step(
        &mut self,
        state: &mut StageState,
        created_by: &str,
        extra: &str,
        apply: impl FnOnce(&mut StageState) -> Result<(), BuildError>,
    ) -> Result<(), BuildError> {
        let key = Self::key(state, created_by, extra);
        // The stage's variables were updated by the caller; the config comes
        // from the cache or from `apply`.
        if self.try_cache(state, &key) {
            return Ok(());
        }
        apply(state)?;
        // docker's classic builder commits a container for these steps too.
        let fake = crate::container::record::generate_id();
        self.emit(BuildEvent::RunningIn(&fake));
        self.emit(BuildEvent::Removing(&fake));
        self.commit(state, &key, created_by, None)
    }

    // ---- RUN

    fn run(
        &mut self,
        stage: usize,
        state: &mut StageState,
        l: &Located<Instruction>,
        run: &dockerfile::Run,
    ) -> Result<(), BuildError> {
        if run.security == Some(dockerfile::Security::Insecure) {
            return Err(BuildError::NotImplemented("RUN --security=insecure".into()));
        }
        let argv: Vec<String> = match run.script() {
            RunScript::Exec(v) => v,
            RunScript::Shell(s) => {
                let s = self.expand_heredocs_in(state, run, s, l.line)?;
                let mut v = state.shell();
                v.push(s);
                v
            }
            RunScript::Shebang { content, .. } => {
                let mut v = state.shell();
                v.push(content);
                v
            }
        };
        let args: Vec<String> = state.vars.args().to_env();
        let command = argv.join(" ");
        let created_by = if args.is_empty() {
            command.clone()
        } else {
            format!("|{} {} {command}", args.len(), args.join(" "))
        };
        let network = match run.network.or(self.opts.network) {
            Some(dockerfile::Network::None) => crate::container::spec::NetworkMode::None,
            Some(dockerfile::Network::Host) => crate::container::spec::NetworkMode::Host,
            // The default network, as `run`'s (docker's `bridge`).
            _ => crate::container::spec::NetworkMode::Bridge,
        };
        let mut extra = format!("{run:?}|{network:?}|{argv:?}");
        let mounts = self.plan_mounts(stage, run, &mut extra)?;
        let key = Self::key(state, &created_by, &extra);
        if self.try_cache(state, &key) {
            return Ok(());
        }
        let mut env = state.vars.run_env(&self.opts.args);
        env.extend(mounts.env.iter().cloned());
        let layer = self.run_container(state, argv, env, network, &command, &mounts)?;
        self.commit(state, &key, &created_by, Some(&layer))
    }

    /// `RUN --mount`s as the container's binds and tmpfs mounts; adds what
    /// the cache key needs (the content of bound context paths) to `extra`.
    fn plan_mounts(
        &mut self,
        stage: usize,
        run: &dockerfile::Run,
        extra: &mut String,
    ) -> Result<RunMounts<'a>, BuildError> {
        use crate::container::spec::{BindMount, TmpfsMount};
        use dockerfile::MountType;
        let mut out = RunMounts::default();
        for m in &run.mounts {
            let target = if m.target.starts_with('/') || m.target.is_empty() {
                m.target.clone()
            } else {
                format!("/{}", m.target)
            };
            match m.kind {
                MountType::Tmpfs => {
                    let mut options = Vec::new();
                    if let Some(size) = m.size {
                        options.push(format!("size={size}"));
                    }
                    out.tmpfs.push(TmpfsMount {
                        destination: target,
                        options,
                    });
                }
                MountType::Cache => {
                    if m.from.is_some() {
                        return Err(BuildError::NotImplemented(
                            "RUN --mount=type=cache,from=".into(),
                        ));
                    }
                    let id = m.id.clone().unwrap_or_else(|| target.clone());
                    let dir = cache_dir(self.ctx).join(format!(
                        "mount-{}",
                        sha256_digest(id.as_bytes()).trim_start_matches("sha256:")
                    ));
                    if !dir.exists() {
                        std::fs::create_dir_all(&dir)
                            .map_err(|e| other(format!("{}: {e}", dir.display())))?;
                        std::fs::set_permissions(
                            &dir,
                            std::os::unix::fs::PermissionsExt::from_mode(m.mode.unwrap_or(0o755)),
                        )
                        .map_err(|e| other(format!("{}: {e}", dir.display())))?;
                        if !self.ctx.paths.rootless && (m.uid.is_some() || m.gid.is_some()) {
                            std::os::unix::fs::chown(&dir, m.uid, m.gid)
                                .map_err(|e| other(format!("{}: {e}", dir.display())))?;
                        }
                    }
                    out.binds.push(BindMount {
                        source: dir,
                        destination: target,
                        read_only: m.readonly,
                        propagation: None,
                    });
                }
                MountType::Bind if m.from.is_some() => {
                    if !m.readonly {
                        return Err(BuildError::NotImplemented(
                            "RUN --mount=type=bind,rw".into(),
                        ));
                    }
                    let f = m.from.clone().unwrap_or_default();
                    let from = self.df.resolve_from(&f, stage).map_err(|p| {
                        BuildError::Copy(format!("invalid from flag value {f}: {p}"))
                    })?;
                    let src = m.source.clone().unwrap_or_else(|| "/".into());
                    let (src_id, diff_ids) = self.tree_of(&from)?;
                    extra.push_str(&format!("|bind-from {src_id} {src}"));
                    let (sandbox, path) = self.materialize(&diff_ids, &src)?;
                    out.sources.push(sandbox);
                    out.binds.push(BindMount {
                        source: path,
                        destination: target,
                        read_only: true,
                        propagation: None,
                    });
                }
                MountType::Bind => {
                    if !m.readonly {
                        return Err(BuildError::NotImplemented(
                            "RUN --mount=type=bind,rw".into(),
                        ));
                    }
                    let src = m.source.clone().unwrap_or_else(|| ".".into());
                    let found = self.opts.context.resolve_sources(&src)?;
                    let first = found
                        .first()
                        .ok_or_else(|| ContextError::NotFound(src.clone()))?;
                    extra.push_str(
                        &self
                            .opts
                            .context
                            .hash_sources(std::slice::from_ref(first), &HashOptions::default())?,
                    );
                    out.binds.push(BindMount {
                        source: first.path.clone(),
                        destination: target,
                        read_only: true,
                        propagation: None,
                    });
                }
                MountType::Secret => {
                    let id = m.id.clone().unwrap_or_default();
                    let Some(value) = self.opts.secrets.get(&id) else {
                        if m.required {
                            return Err(BuildError::Copy(format!("secret {id}: not found")));
                        }
                        continue;
                    };
                    if let Some(var) = &m.env {
                        out.env
                            .push(format!("{var}={}", String::from_utf8_lossy(value)));
                        if m.target.is_empty() {
                            continue;
                        }
                    }
                    let dir = self
                        .store
                        .root()
                        .join("build-tmp")
                        .join(format!("secret-{:016x}", rand::random::<u64>()));
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| other(format!("{}: {e}", dir.display())))?;
                    std::fs::set_permissions(
                        &dir,
                        std::os::unix::fs::PermissionsExt::from_mode(0o700),
                    )
                    .map_err(|e| other(format!("{}: {e}", dir.display())))?;
                    let file = dir.join("secret");
                    std::fs::write(&file, value)
                        .map_err(|e| other(format!("{}: {e}", file.display())))?;
                    std::fs::set_permissions(
                        &file,
                        std::os::unix::fs::PermissionsExt::from_mode(m.mode.unwrap_or(0o400)),
                    )
                    .map_err(|e| other(format!("{}: {e}", file.display())))?;
                    out.temp.push(TempPath(dir));
                    out.binds.push(BindMount {
                        source: file,
                        destination: target,
                        read_only: true,
                        propagation: None,
                    });
                }
                MountType::Ssh => {
                    return Err(BuildError::NotImplemented("RUN --mount=type=ssh".into()));
                }
            }
        }
        Ok(out)
    }

    /// The image ID (or stage key) and layers a `--from` names.
    fn tree_of(&mut self, from: &FromRef) -> Result<(String, Vec<String>), BuildError> {
        let (id, config) = match from {
            FromRef::Stage(i) => {
                let s = self
                    .results
                    .get(i)
                    .ok_or_else(|| other(format!("stage {i} is not built")))?;
                (s.parent_key(), s.config.clone())
            }
            FromRef::Image(name) => self.image(name, false)?,
        };
        Ok((id, layers::config_diff_ids(&config).unwrap_or_default()))
    }

    /// A copy of `path` from the files of `diff_ids`, in a private
    /// directory (kept as long as the returned sandbox): for `RUN
    /// --mount=type=bind,from=`. Returns the copy's path.
    fn materialize(
        &self,
        diff_ids: &[String],
        path: &str,
    ) -> Result<(Sandbox<'a>, PathBuf), BuildError> {
        let tree = SourceTree::new(self.ctx, self.store, diff_ids)?;
        let mut sandbox = Sandbox::new_with(self.ctx, self.store, &[])?;
        let abs = format!("/{}", path.trim_start_matches('/'));
        let mut out = tree.open(&abs)?;
        let is_dir = out.info.is_dir;
        let name = if is_dir {
            ".".to_string()
        } else {
            CopyPath::parse(&abs, true)
                .base()
                .to_string_lossy()
                .to_string()
        };
        let n = name.clone();
        sandbox.copy("/", 0, 0, |_, _| {
            let out = &mut out;
            Ok((
                PathBuf::from("/"),
                Some(move |w: &mut dyn Write| -> io::Result<()> {
                    {
                        let mut tar = out.start(&n)?;
                        retar(&mut tar, w, None, None)?;
                    }
                    out.finish()
                }),
            ))
        })?;
        let upper = sandbox.dir.join("upper");
        let path = if is_dir { upper } else { upper.join(name) };
        Ok((sandbox, path))
    }

    /// BuildKit expands heredoc bodies (unquoted delimiters) of a RUN.
    fn expand_heredocs_in(
        &self,
        state: &StageState,
        run: &dockerfile::Run,
        script: String,
        line: usize,
    ) -> Result<String, BuildError> {
        let mut s = script;
        for h in &run.heredocs {
            if h.expand {
                let expanded = expand_heredoc(&h.content, self.df.escape, &state.vars)
                    .map_err(Self::expand_err(line))?;
                if expanded != h.content {
                    s = s.replace(&h.content, &expanded);
                }
            }
        }
        Ok(s)
    }

    fn run_container(
        &mut self,
        state: &StageState,
        argv: Vec<String>,
        env: Vec<String>,
        network: crate::container::spec::NetworkMode,
        command: &str,
        mounts: &RunMounts<'_>,
    ) -> Result<StoredLayer, BuildError> {
        use crate::container::create;
        // The container's image: the step's parent, without what would make
        // `run` do more than run the command (volumes, health checks).
        let mut run_config = state.config.clone();
        if let Some(c) = run_config.get_mut("config").and_then(Value::as_object_mut) {
            for k in ["Volumes", "Healthcheck", "Entrypoint", "Cmd", "OnBuild"] {
                c.remove(k);
            }
        }
        if !run_config.get("rootfs").is_some_and(Value::is_object) {
            run_config["rootfs"] = json!({"type": "layers", "diff_ids": []});
        }
        let bytes = serde_json::to_vec(&run_config).expect("config serialises");
        let run_id = sha256_digest(&bytes);
        self.store.write_blob(&run_id, &bytes)?;
        let record = ImageRecord {
            id: run_id.clone(),
            repo_tags: vec![],
            repo_digests: vec![],
            manifest_digest: String::new(),
            manifest_media_type: String::new(),
            layers: state
                .diff_ids()
                .into_iter()
                .map(|d| LayerRef {
                    digest: d.clone(),
                    diff_id: d,
                    media_type: layers::LAYER_MEDIA_TYPE.into(),
                    compressed_size: 0,
                })
                .collect(),
            size: 0,
            added: chrono::Utc::now(),
            last_tag_time: None,
        };
        let opts = crate::container::spec::RunOptions {
            command: argv,
            entrypoint: Some(String::new()),
            env,
            network,
            binds: mounts.binds.clone(),
            tmpfs: mounts.tmpfs.clone(),
            ..Default::default()
        };
        let image_name = state
            .id
            .as_deref()
            .map(local::short_id)
            .unwrap_or_else(|| "scratch".into());
        let prepared = create::prepare(
            self.ctx,
            &record,
            &image_name,
            &opts,
            &create::Settings::default(),
        )?;
        let config = prepared.config;
        let id = config.id.clone();
        self.emit(BuildEvent::RunningIn(&id));
        let result = (|| {
            let code = self.run_helper(&id)?;
            if code != 0 {
                return Err(BuildError::RunFailed {
                    command: command.to_string(),
                    code,
                });
            }
            let containers = crate::container::record::ContainerStore::open(&self.ctx.paths.data)
                .map_err(other)?;
            let mapping = crate::container::fs::container_mapping(self.ctx, &config)?;
            let dir = containers.dir(&id);
            if dir.join(crate::runtime::rootfs::COPY_DIR).exists() {
                return Err(BuildError::NotImplemented(
                    "RUN with the vfs storage driver (a full copy of the image)".into(),
                ));
            }
            let mut skip = crate::container::commit::mount_points(&config);
            skip.extend(mounts.tmpfs.iter().map(|t| t.destination.clone()));
            Ok(crate::container::commit::store_upper(
                self.ctx,
                mapping.as_ref(),
                &dir.join("upper"),
                &config.layers,
                &skip,
            )?)
        })();
        let removed = create::remove_with(self.ctx, &config, true);
        let layer = result?;
        removed?;
        self.emit(BuildEvent::Removing(&id));
        Ok(layer)
    }

    /// Runs the container in `berth internal build-run`, its output (both
    /// streams, in order) reported as events. Returns its exit code.
    fn run_helper(&mut self, id: &str) -> Result<i32, BuildError> {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(other)?;
        let w2 = w.try_clone().map_err(other)?;
        let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
        let mut child = std::process::Command::new(exe)
            .args(["internal", "build-run", id])
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(Stdio::from(w2))
            .spawn()
            .map_err(|e| other(format!("starting the RUN container: {e}")))?;
        let mut r = std::fs::File::from(r);
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.emit(BuildEvent::Output(&buf[..n])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(other(e)),
            }
        }
        let status = child.wait().map_err(other)?;
        Ok(status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        }))
    }

    // ---- COPY / ADD / WORKDIR

    fn workdir(&mut self, state: &mut StageState, w: &str) -> Result<(), BuildError> {
        let path = if w.starts_with('/') {
            w.to_string()
        } else {
            format!("{}/{w}", state.workdir().trim_end_matches('/'))
        };
        let path = CopyPath::parse(&path, true)
            .clean
            .to_string_lossy()
            .to_string();
        let created_by = format!("/bin/sh -c #(nop) WORKDIR {path}");
        let key = Self::key(state, &created_by, "");
        if self.try_cache(state, &key) {
            return Ok(());
        }
        state.cfg().insert("WorkingDir".into(), json!(path));
        let mut sandbox = Sandbox::new(self.ctx, self.store, state)?;
        sandbox.copy(&path, 0, 0, |info, _| {
            Ok((
                info.path.clone(),
                None::<fn(&mut dyn Write) -> io::Result<()>>,
            ))
        })?;
        let layer = sandbox.finish()?;
        // docker's classic builder runs a container for WORKDIR.
        let fake = crate::container::record::generate_id();
        self.emit(BuildEvent::RunningIn(&fake));
        self.emit(BuildEvent::Removing(&fake));
        self.commit(state, &key, &created_by, layer.as_ref())
    }

    fn copy(
        &mut self,
        stage: usize,
        state: &mut StageState,
        l: &Located<Instruction>,
        c: &CopyArgs,
        is_add: bool,
    ) -> Result<(), BuildError> {
        let keyword = if is_add { "ADD" } else { "COPY" };
        if c.link {
            // --link only changes how BuildKit stores the layer.
        }
        if !c.exclude.is_empty() {
            return Err(BuildError::NotImplemented(format!("{keyword} --exclude")));
        }
        // Owner and mode.
        let (uid, gid) = match &c.chown {
            Some(spec) => self.resolve_chown(state, spec)?,
            None => (0, 0),
        };
        let chmod = match &c.chmod {
            Some(m) => Some(
                u32::from_str_radix(m, 8)
                    .map_err(|_| BuildError::Copy(format!("invalid chmod parameter: {m}")))?,
            ),
            None => None,
        };
        // Destination, relative to WORKDIR.
        let dest = if c.dest.starts_with('/') {
            c.dest.clone()
        } else {
            let wd = state.workdir();
            let joined = format!("{}/{}", wd.trim_end_matches('/'), c.dest);
            if (c.dest == "." || c.dest.ends_with('/') || c.dest.ends_with("/."))
                && !joined.ends_with('/')
            {
                format!("{joined}/")
            } else {
                joined
            }
        };
        let dest_dir_syntax = dest.ends_with('/') || dest.ends_with("/.");
        let from = match &c.from {
            Some(f) => Some(
                self.df
                    .resolve_from(f, stage)
                    .map_err(|p| BuildError::Copy(format!("invalid from flag value {f}: {p}")))?,
            ),
            None => None,
        };
        if let Some(from) = from {
            return self.copy_from(state, c, from, &dest, (uid, gid), chmod, keyword);
        }
        // Context sources.
        let mut matches: Vec<SourceMatch> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut heredocs = Vec::new();
        for s in &c.sources {
            match s {
                CopySource::Path(p) => {
                    if is_add && (p.starts_with("http://") || p.starts_with("https://")) {
                        let (name, data, mtime) = download(p)?;
                        heredocs.push((name, data, 0o600, mtime));
                        continue;
                    }
                    if is_add && p.starts_with("git@") {
                        return Err(BuildError::NotImplemented("ADD from git".into()));
                    }
                    let found = self.opts.context.resolve_sources(p)?;
                    // A source named without wildcards keeps its own name
                    // (a symlink is copied as what it points to, under the
                    // link's name).
                    let own = (!super::ignore::has_wildcards(p)).then(|| {
                        super::ignore::clean_path(&format!("/{p}"))
                            .rsplit('/')
                            .next()
                            .unwrap_or("")
                            .to_string()
                    });
                    for m in found {
                        let name = own
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| m.rel.rsplit('/').next().unwrap_or("").to_string());
                        names.push(name);
                        matches.push(m);
                    }
                }
                CopySource::Heredoc(h) => {
                    let content = if h.expand {
                        expand_heredoc(&h.content, self.df.escape, &state.vars)
                            .map_err(Self::expand_err(l.line))?
                    } else {
                        h.content.clone()
                    };
                    heredocs.push((h.name.clone(), content.into_bytes(), 0o644, 0));
                }
            }
        }
        let count = matches.len() + heredocs.len();
        if count == 0 {
            return Err(ContextError::NoSources.into());
        }
        if count > 1 && !dest_dir_syntax {
            return Err(BuildError::Copy(format!(
                "When using {keyword} with more than one source file, the destination must be a directory and end with a /"
            )));
        }
        let hash_opts = HashOptions { uid, gid, chmod };
        let mut hash = self.opts.context.hash_sources(&matches, &hash_opts)?;
        for (name, content, mode, mtime) in &heredocs {
            hash.push_str(&format!(
                "|{name}:{mode:o}:{mtime}:{}",
                sha256_digest(content)
            ));
        }
        let sum = sha256_digest(hash.as_bytes());
        let kind = if count > 1 {
            "multi"
        } else if matches.first().is_some_and(|m| m.is_dir) {
            "dir"
        } else {
            "file"
        };
        let created_by = format!(
            "/bin/sh -c #(nop) {keyword} {kind}:{} in {dest} ",
            sum.trim_start_matches("sha256:")
        );
        let key = Self::key(state, &created_by, &format!("{c:?}|{uid}:{gid}|{chmod:?}"));
        if self.try_cache(state, &key) {
            return Ok(());
        }
        let mut sandbox = Sandbox::new(self.ctx, self.store, state)?;
        let ctx_root = self.opts.context.root().to_path_buf();
        for (m, own_name) in matches.iter().zip(&names) {
            let archive = if is_add && !m.is_dir {
                is_archive(&m.path)
            } else {
                false
            };
            if archive {
                let path = m.path.clone();
                sandbox.copy(&dest, uid, gid, |info, _| {
                    Ok((
                        info.path.clone(),
                        Some(move |out: &mut dyn Write| -> io::Result<()> {
                            let f = std::fs::File::open(&path)?;
                            let mut br = BufReader::new(f);
                            let head = br.fill_buf()?.to_vec();
                            let mut input: Box<dyn Read> =
                                match crate::image::unpack::Compression::sniff(&head) {
                                    crate::image::unpack::Compression::Gzip => {
                                        Box::new(flate2::read::MultiGzDecoder::new(br))
                                    }
                                    crate::image::unpack::Compression::Zstd => {
                                        Box::new(zstd::stream::read::Decoder::with_buffer(br)?)
                                    }
                                    crate::image::unpack::Compression::None => Box::new(br),
                                };
                            retar(
                                &mut input,
                                out,
                                Some((uid, gid)).filter(|_| c.chown.is_some()),
                                chmod,
                            )
                        }),
                    ))
                })?;
                continue;
            }
            let entries = if m.is_dir {
                self.opts.context.walk(&m.rel)?
            } else {
                Vec::new()
            };
            let src_name = if own_name.is_empty() {
                ".".to_string()
            } else {
                own_name.clone()
            };
            let is_dir = m.is_dir;
            let m_rel = m.rel.clone();
            let m_path = m.path.clone();
            let root = ctx_root.clone();
            sandbox.copy(&dest, uid, gid, |info, dest_path| {
                let into_dir = is_dir || dest_dir_syntax || (info.exists && info.is_dir);
                let (dir, name) = if into_dir {
                    (
                        info.path.clone(),
                        if is_dir {
                            String::new()
                        } else {
                            src_name.clone()
                        },
                    )
                } else {
                    let p = CopyPath::parse(&info.path.to_string_lossy(), true);
                    (p.parent(), p.base().to_string_lossy().to_string())
                };
                let _ = dest_path;
                Ok((
                    dir,
                    Some(move |out: &mut dyn Write| -> io::Result<()> {
                        let mut b = tar::Builder::new(out);
                        b.mode(tar::HeaderMode::Complete);
                        if is_dir {
                            for e in &entries {
                                let rel = e
                                    .rel
                                    .strip_prefix(&m_rel)
                                    .unwrap_or(&e.rel)
                                    .trim_start_matches('/')
                                    .to_string();
                                let p = root.join(&e.rel);
                                append_context_entry(&mut b, &p, &rel, &e.kind, uid, gid, chmod)?;
                            }
                        } else {
                            let md = std::fs::symlink_metadata(&m_path)?;
                            let kind = if md.is_file() {
                                EntryKind::File
                            } else {
                                EntryKind::Other
                            };
                            append_context_entry(&mut b, &m_path, &name, &kind, uid, gid, chmod)?;
                        }
                        b.finish()
                    }),
                ))
            })?;
        }
        for (name, content, mode, mtime) in heredocs {
            sandbox.copy(&dest, uid, gid, |info, _| {
                let into_dir = dest_dir_syntax || (info.exists && info.is_dir);
                let (dir, fname) = if into_dir {
                    (info.path.clone(), name.clone())
                } else {
                    let p = CopyPath::parse(&info.path.to_string_lossy(), true);
                    (p.parent(), p.base().to_string_lossy().to_string())
                };
                Ok((
                    dir,
                    Some(move |out: &mut dyn Write| -> io::Result<()> {
                        let mut b = tar::Builder::new(out);
                        let mut h = tar::Header::new_gnu();
                        h.set_entry_type(tar::EntryType::Regular);
                        h.set_size(content.len() as u64);
                        h.set_mode(chmod.unwrap_or(mode));
                        h.set_uid(uid as u64);
                        h.set_gid(gid as u64);
                        h.set_mtime(mtime);
                        b.append_data(&mut h, &fname, &content[..])?;
                        b.finish()
                    }),
                ))
            })?;
        }
        let layer = sandbox.finish()?;
        self.commit(state, &key, &created_by, layer.as_ref())
    }

    #[allow(clippy::too_many_arguments)]
    fn copy_from(
        &mut self,
        state: &mut StageState,
        c: &CopyArgs,
        from: FromRef,
        dest: &str,
        (uid, gid): (u32, u32),
        chmod: Option<u32>,
        keyword: &str,
    ) -> Result<(), BuildError> {
        let (src_id, src_config) = match &from {
            FromRef::Stage(i) => {
                let s = self
                    .results
                    .get(i)
                    .ok_or_else(|| other(format!("stage {i} is not built")))?;
                (s.parent_key(), s.config.clone())
            }
            FromRef::Image(name) => {
                let (id, config) = self.image(name, false)?;
                (id, config)
            }
        };
        let mut patterns = Vec::new();
        for s in &c.sources {
            match s {
                CopySource::Path(p) => patterns.push(p.clone()),
                CopySource::Heredoc(_) => {
                    return Err(BuildError::Copy(format!(
                        "{keyword} --from cannot copy a heredoc"
                    )));
                }
            }
        }
        let dest_dir_syntax = dest.ends_with('/') || dest.ends_with("/.");
        let created_by = format!(
            "/bin/sh -c #(nop) {keyword} --from={src_id} {} in {dest} ",
            patterns.join(" ")
        );
        let key = Self::key(
            state,
            &created_by,
            &format!("{c:?}|{uid}:{gid}|{chmod:?}|{src_id}"),
        );
        if self.try_cache(state, &key) {
            return Ok(());
        }
        let src_diff_ids = layers::config_diff_ids(&src_config).unwrap_or_default();
        let source = SourceTree::new(self.ctx, self.store, &src_diff_ids)?;
        let mut paths = Vec::new();
        for p in &patterns {
            let abs = CopyPath::parse(&format!("/{}", p.trim_start_matches('/')), true)
                .clean
                .to_string_lossy()
                .to_string();
            if super::ignore::has_wildcards(&abs) {
                let found = source.glob(&abs)?;
                if found.is_empty() {
                    return Err(ContextError::NotFound(abs.trim_start_matches('/').into()).into());
                }
                paths.extend(found);
            } else {
                paths.push(abs);
            }
        }
        if paths.len() > 1 && !dest_dir_syntax {
            return Err(BuildError::Copy(format!(
                "When using {keyword} with more than one source file, the destination must be a directory and end with a /"
            )));
        }
        let mut sandbox = Sandbox::new(self.ctx, self.store, state)?;
        let chown = c.chown.as_ref().map(|_| (uid, gid));
        for p in &paths {
            let abs = if p.starts_with('/') {
                p.clone()
            } else {
                format!("/{p}")
            };
            let mut out = source.open(&abs)?;
            let src_is_dir = out.info.is_dir;
            let src_base = CopyPath::parse(&abs, true)
                .base()
                .to_string_lossy()
                .to_string();
            sandbox.copy(dest, uid, gid, |info, _| {
                let into_dir = src_is_dir || dest_dir_syntax || (info.exists && info.is_dir);
                let (dir, name) = if into_dir {
                    (
                        info.path.clone(),
                        if src_is_dir {
                            ".".to_string()
                        } else {
                            src_base.clone()
                        },
                    )
                } else {
                    let p = CopyPath::parse(&info.path.to_string_lossy(), true);
                    (p.parent(), p.base().to_string_lossy().to_string())
                };
                let out = &mut out;
                Ok((
                    dir,
                    Some(move |w: &mut dyn Write| -> io::Result<()> {
                        {
                            let mut tar = out.start(&name)?;
                            retar(&mut tar, w, chown, chmod)?;
                        }
                        out.finish()
                    }),
                ))
            })?;
        }
        drop(source);
        let layer = sandbox.finish()?;
        self.commit(state, &key, &created_by, layer.as_ref())
    }

    /// `--chown=user[:group]`: names are looked up in the stage's
    /// /etc/passwd and /etc/group; a user alone gives its uid as the gid.
    fn resolve_chown(&self, state: &StageState, spec: &str) -> Result<(u32, u32), BuildError> {
        let layers: Vec<PathBuf> = state
            .diff_ids()
            .iter()
            .rev()
            .map(|d| self.store.layer_diff(d))
            .collect::<Result<_, _>>()?;
        let passwd = crate::container::create::read_from_layers(&layers, "/etc/passwd");
        let group = crate::container::create::read_from_layers(&layers, "/etc/group");
        let (user, grp) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let bad = |what: &str, name: &str| {
            BuildError::Copy(format!(
                "unable to convert uid/gid chown string to host mapping: can't find {what} for {what} name {name}"
            ))
        };
        let uid = match user.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                crate::container::user::resolve_user(user, passwd.as_deref(), group.as_deref())
                    .map_err(|_| bad("uid", user))?
                    .uid
            }
        };
        let gid = match grp {
            None => uid,
            Some(g) => match g.parse::<u32>() {
                Ok(n) => n,
                Err(_) => group
                    .as_deref()
                    .and_then(|t| {
                        t.lines().find_map(|l| {
                            let mut f = l.split(':');
                            let name = f.next()?;
                            let gid = f.nth(1)?;
                            (name == g).then(|| gid.parse().ok()).flatten()
                        })
                    })
                    .ok_or_else(|| bad("gid", g))?,
            },
        };
        Ok((uid, gid))
    }
}

/// What the `RUN --mount`s of one step add to its container.
#[derive(Default)]
struct RunMounts<'a> {
    /// Copies of other stages' files bound by `type=bind,from=`.
    sources: Vec<Sandbox<'a>>,
    binds: Vec<crate::container::spec::BindMount>,
    tmpfs: Vec<crate::container::spec::TmpfsMount>,
    /// `type=secret,env=VAR`.
    env: Vec<String>,
    /// Secret files, removed with the step.
    temp: Vec<TempPath>,
}

/// A directory removed on drop.
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The config of a `FROM scratch` stage.
fn scratch_config(args: &BuildArgs) -> Value {
    let mut v = json!({
        "architecture": args.target.architecture,
        "os": args.target.os,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    });
    if let Some(variant) = &args.target.variant {
        v["variant"] = json!(variant);
    }
    v
}

fn env_of(config: &Value) -> Vec<String> {
    config
        .pointer("/config/Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn command_json(state: &StageState, c: &CommandLine) -> Value {
    match c {
        CommandLine::Exec(v) => json!(v),
        CommandLine::Shell(s) => {
            let mut v = state.shell();
            v.push(s.clone());
            json!(v)
        }
    }
}

/// EXPOSE's ports as docker records them (`80/tcp`; ranges expanded).
fn exposed_ports(ports: &[String]) -> Result<Vec<String>, BuildError> {
    let mut out = Vec::new();
    for p in ports {
        let (range, proto) = match p.split_once('/') {
            Some((r, proto)) => (r, proto.to_ascii_lowercase()),
            None => (p.as_str(), "tcp".to_string()),
        };
        let bad = || BuildError::Copy(format!("invalid containerPort: {range}"));
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (
                a.parse::<u16>().map_err(|_| bad())?,
                b.parse::<u16>().map_err(|_| bad())?,
            ),
            None => {
                let n = range.parse::<u16>().map_err(|_| bad())?;
                (n, n)
            }
        };
        for n in lo..=hi {
            out.push(format!("{n}/{proto}"));
        }
    }
    Ok(out)
}

/// Applies a config-only instruction.
fn apply_metadata(state: &mut StageState, i: &Instruction) -> Result<(), BuildError> {
    match i {
        Instruction::Label(kvs) => {
            let cfg = state.cfg();
            if !cfg.get("Labels").is_some_and(Value::is_object) {
                cfg.insert("Labels".into(), json!({}));
            }
            let labels = cfg["Labels"].as_object_mut().expect("object");
            for kv in kvs {
                labels.insert(kv.key.clone(), json!(kv.value));
            }
        }
        Instruction::Expose(ports) => {
            let ports = exposed_ports(ports)?;
            let cfg = state.cfg();
            if !cfg.get("ExposedPorts").is_some_and(Value::is_object) {
                cfg.insert("ExposedPorts".into(), json!({}));
            }
            let map = cfg["ExposedPorts"].as_object_mut().expect("object");
            for p in ports {
                map.insert(p, json!({}));
            }
        }
        Instruction::Volume(vs) => {
            let cfg = state.cfg();
            if !cfg.get("Volumes").is_some_and(Value::is_object) {
                cfg.insert("Volumes".into(), json!({}));
            }
            let map = cfg["Volumes"].as_object_mut().expect("object");
            for v in vs {
                if v.trim().is_empty() {
                    return Err(BuildError::Copy(
                        "VOLUME specified can not be an empty string".into(),
                    ));
                }
                map.insert(v.clone(), json!({}));
            }
        }
        Instruction::User(u) => {
            state.cfg().insert("User".into(), json!(u));
        }
        Instruction::StopSignal(s) => {
            state.cfg().insert("StopSignal".into(), json!(s));
        }
        Instruction::Cmd(c) => {
            let v = command_json(state, c);
            state.cfg().insert("Cmd".into(), v);
            state.cmd_set = true;
        }
        Instruction::Entrypoint(c) => {
            let v = command_json(state, c);
            let cmd_set = state.cmd_set;
            let cfg = state.cfg();
            cfg.insert("Entrypoint".into(), v);
            if !cmd_set {
                cfg.insert("Cmd".into(), Value::Null);
            }
        }
        Instruction::Shell(v) => {
            state.cfg().insert("Shell".into(), json!(v));
        }
        Instruction::Healthcheck(h) => {
            let v = match h {
                Healthcheck::None => json!({"Test": ["NONE"]}),
                Healthcheck::Check(c) => {
                    let mut m = Map::new();
                    m.insert("Test".into(), json!(c.test));
                    for (k, d) in [
                        ("Interval", c.interval),
                        ("Timeout", c.timeout),
                        ("StartPeriod", c.start_period),
                        ("StartInterval", c.start_interval),
                    ] {
                        if !d.is_zero() {
                            m.insert(k.into(), json!(d.as_nanos() as u64));
                        }
                    }
                    if c.retries != 0 {
                        m.insert("Retries".into(), json!(c.retries));
                    }
                    Value::Object(m)
                }
            };
            state.cfg().insert("Healthcheck".into(), v);
        }
        Instruction::Onbuild(o) => {
            let cfg = state.cfg();
            if !cfg.get("OnBuild").is_some_and(Value::is_array) {
                cfg.insert("OnBuild".into(), json!([]));
            }
            cfg["OnBuild"]
                .as_array_mut()
                .expect("array")
                .push(json!(o.expression));
        }
        Instruction::Maintainer(m) => {
            state.config["author"] = json!(m);
        }
        _ => {}
    }
    Ok(())
}

/// `ADD <url>`: the body (in memory), the file name it gets in a
/// directory (the URL path's last segment), its mtime (`Last-Modified`, else 0).
fn download(url: &str) -> Result<(String, Vec<u8>, u64), BuildError> {
    let fail = |e: &dyn std::fmt::Display| BuildError::Copy(format!("failed to GET {url}: {e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&e))?;
    let (body, modified) = rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(url)
            .send()
            .await
            .map_err(|e| fail(&e))?;
        if !resp.status().is_success() {
            return Err(BuildError::Copy(format!(
                "failed to GET {url} with status {}",
                resp.status()
            )));
        }
        let modified = resp
            .headers()
            .get(reqwest::header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.timestamp().max(0) as u64)
            .unwrap_or(0);
        let body = resp.bytes().await.map_err(|e| fail(&e))?;
        Ok((body.to_vec(), modified))
    })?;
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .splitn(4, '/')
        .nth(3)
        .unwrap_or("");
    let name = path
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("__unnamed__")
        .to_string();
    Ok((name, body, modified))
}

/// Whether a file is a tar archive ADD extracts (plain, gzip or zstd).
fn is_archive(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut br = BufReader::new(f);
    let Ok(head) = br.fill_buf().map(|b| b.to_vec()) else {
        return false;
    };
    let mut input: Box<dyn Read> = match crate::image::unpack::Compression::sniff(&head) {
        crate::image::unpack::Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(br)),
        crate::image::unpack::Compression::Zstd => {
            match zstd::stream::read::Decoder::with_buffer(br) {
                Ok(d) => Box::new(d),
                Err(_) => return false,
            }
        }
        crate::image::unpack::Compression::None => Box::new(br),
    };
    let mut block = [0u8; 512];
    if input.read_exact(&mut block).is_err() {
        return false;
    }
    &block[257..262] == b"ustar"
}

/// Copies a tar stream, giving every entry `chown` ids and `chmod` bits.
fn retar(
    input: &mut dyn Read,
    out: &mut dyn Write,
    chown: Option<(u32, u32)>,
    chmod: Option<u32>,
) -> io::Result<()> {
    if chown.is_none() && chmod.is_none() {
        io::copy(input, out)?;
        return Ok(());
    }
    let mut ar = tar::Archive::new(input);
    let mut b = tar::Builder::new(out);
    for e in ar.entries()? {
        let mut e = e?;
        let mut h = e.header().clone();
        if let Some((u, g)) = chown {
            h.set_uid(u as u64);
            h.set_gid(g as u64);
        }
        let t = h.entry_type();
        if let Some(m) = chmod
            && (t.is_file() || t.is_dir())
        {
            h.set_mode(m);
        }
        let path = e.path()?.into_owned();
        if t.is_symlink() || t.is_hard_link() {
            let target = e.link_name()?.map(|p| p.into_owned()).unwrap_or_default();
            b.append_link(&mut h, &path, &target)?;
        } else {
            b.append_data(&mut h, &path, &mut e)?;
        }
    }
    b.finish()
}

/// One context entry as a tar entry named `name`.
fn append_context_entry(
    b: &mut tar::Builder<&mut dyn Write>,
    path: &Path,
    name: &str,
    kind: &EntryKind,
    uid: u32,
    gid: u32,
    chmod: Option<u32>,
) -> io::Result<()> {
    let md = std::fs::symlink_metadata(path)?;
    let mut h = tar::Header::new_gnu();
    h.set_uid(uid as u64);
    h.set_gid(gid as u64);
    h.set_mtime(md.mtime().max(0) as u64);
    let mode = md.mode() & 0o7777;
    match kind {
        EntryKind::File => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(chmod.unwrap_or(mode));
            h.set_size(md.len());
            let f = std::fs::File::open(path)?;
            b.append_data(&mut h, name, f)
        }
        EntryKind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(chmod.unwrap_or(mode));
            h.set_size(0);
            b.append_data(&mut h, format!("{name}/"), io::empty())
        }
        EntryKind::Symlink(target) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(mode);
            h.set_size(0);
            b.append_link(&mut h, name, target)
        }
        EntryKind::Other => Ok(()),
    }
}

/// A private overlay of a stage's layers (upper/work/merged under the
/// store), written to by `berth internal build-copy` helpers; its upper dir
/// becomes the step's layer.
struct Sandbox<'a> {
    ctx: &'a Context,
    dir: PathBuf,
    lower: Vec<PathBuf>,
    mapping: Option<crate::userns::IdMapping>,
    finished: bool,
}

fn new_temp_dir(store: &Store, prefix: &str) -> Result<PathBuf, BuildError> {
    let parent = store.root().join("build-tmp");
    std::fs::create_dir_all(&parent).map_err(|e| other(format!("{}: {e}", parent.display())))?;
    let dir = parent.join(format!("{prefix}{:016x}", rand::random::<u64>()));
    for sub in ["upper", "work", "merged", "empty"] {
        std::fs::create_dir_all(dir.join(sub))
            .map_err(|e| other(format!("{}: {e}", dir.display())))?;
    }
    Ok(dir)
}

fn lowers(store: &Store, diff_ids: &[String], dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut lower: Vec<PathBuf> = diff_ids
        .iter()
        .rev()
        .map(|d| store.layer_diff(d))
        .collect::<Result<_, _>>()?;
    if lower.is_empty() {
        // overlay needs a lower dir.
        lower.push(dir.join("empty"));
    }
    Ok(lower)
}

fn target_args(dir: &Path, lower: &[PathBuf], name: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--container".into(), name.into()];
    for (flag, sub) in [
        ("--upper", "upper"),
        ("--work", "work"),
        ("--merged", "merged"),
    ] {
        args.push(flag.into());
        args.push(dir.join(sub).into_os_string());
    }
    for l in lower {
        args.push("--lower".into());
        args.push(l.clone().into_os_string());
    }
    args
}

/// Reads a helper's one-line JSON reply; on EOF, its error.
fn read_reply<T: serde::de::DeserializeOwned>(child: &mut Child) -> Result<T, BuildError> {
    let stdout = child.stdout.as_mut().expect("piped stdout");
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        match stdout.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(other(e)),
        }
    }
    if line.is_empty() {
        return Err(BuildError::Copy(helper_error(child)));
    }
    serde_json::from_slice(&line).map_err(|e| other(format!("build helper: {e}")))
}

/// Waits for a helper; its error message if it failed.
fn helper_error(child: &mut Child) -> String {
    drop(child.stdin.take());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let _ = child.wait();
    let msg = err.trim();
    msg.strip_prefix("Error: ").unwrap_or(msg).to_string()
}

fn wait_helper(mut child: Child) -> Result<(), BuildError> {
    drop(child.stdin.take());
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map_err(other)?;
    if status.success() {
        return Ok(());
    }
    let msg = err.trim();
    Err(BuildError::Copy(
        msg.strip_prefix("Error: ").unwrap_or(msg).to_string(),
    ))
}

type TarWriter<'w> = Option<Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + 'w>>;

impl<'a> Sandbox<'a> {
    fn new(ctx: &'a Context, store: &Store, state: &StageState) -> Result<Sandbox<'a>, BuildError> {
        Sandbox::new_with(ctx, store, &state.diff_ids())
    }

    fn new_with(
        ctx: &'a Context,
        store: &Store,
        diff_ids: &[String],
    ) -> Result<Sandbox<'a>, BuildError> {
        let dir = new_temp_dir(store, "copy-")?;
        let lower = lowers(store, diff_ids, &dir)?;
        Ok(Sandbox {
            ctx,
            dir,
            lower,
            mapping: ctx.id_mapping()?.cloned(),
            finished: false,
        })
    }

    /// One extraction: `plan` gets what `dest` is in the stage (symlink
    /// followed) and returns the directory to extract into (made with
    /// missing parents owned by uid:gid) and what writes the tar.
    fn copy<'w, F, W>(&mut self, dest: &str, uid: u32, gid: u32, plan: F) -> Result<(), BuildError>
    where
        F: FnOnce(&PathInfo, &str) -> Result<(PathBuf, Option<W>), BuildError>,
        W: FnOnce(&mut dyn Write) -> io::Result<()> + 'w,
    {
        let mut args: Vec<OsString> = vec!["build-copy".into()];
        args.extend(target_args(&self.dir, &self.lower, "build"));
        args.extend([
            "--dest".into(),
            dest.into(),
            "--uid".into(),
            uid.to_string().into(),
            "--gid".into(),
            gid.to_string().into(),
        ]);
        let mut child = crate::userns::spawn_helper(&self.ctx.paths, self.mapping.as_ref(), args)?;
        let info: PathInfo = read_reply(&mut child)?;
        let (dir, writer) = match plan(&info, dest) {
            Ok(x) => x,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let writer: TarWriter<'w> = writer.map(|w| Box::new(w) as _);
        let mut stdin = child.stdin.take().expect("piped stdin");
        let req = serde_json::to_string(&json!({"dir": dir})).expect("serialises");
        let sent = (|| -> io::Result<()> {
            stdin.write_all(req.as_bytes())?;
            stdin.write_all(b"\n")?;
            match writer {
                Some(w) => {
                    let mut bw = io::BufWriter::with_capacity(256 * 1024, &mut stdin);
                    w(&mut bw)?;
                    bw.flush()
                }
                None => {
                    // An empty archive: two zero blocks.
                    stdin.write_all(&[0u8; 1024])
                }
            }
        })();
        drop(stdin);
        let waited = wait_helper(child);
        waited?;
        if let Err(e) = sent {
            return Err(BuildError::Copy(e.to_string()));
        }
        Ok(())
    }

    /// The layer of what was written (None when nothing was).
    fn finish(mut self) -> Result<Option<StoredLayer>, BuildError> {
        self.finished = true;
        let upper = self.dir.join("upper");
        let empty = std::fs::read_dir(&upper)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        let result = if empty {
            Ok(None)
        } else {
            crate::container::commit::store_upper(
                self.ctx,
                self.mapping.as_ref(),
                &upper,
                &self.lower,
                &[],
            )
            .map(Some)
            .map_err(BuildError::from)
        };
        self.remove();
        result
    }

    fn remove(&self) {
        let _ = std::fs::set_permissions(
            self.dir.join("work/work"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let _ = crate::image::pull::remove_trees_blocking(
            &self.ctx.paths,
            self.mapping.as_ref(),
            std::slice::from_ref(&self.dir),
        );
    }
}

impl Drop for Sandbox<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.remove();
        }
    }
}

/// The files of another stage or image, read by `berth internal cp-out`
/// helpers over an overlay of its layers.
struct SourceTree<'a> {
    ctx: &'a Context,
    dir: PathBuf,
    lower: Vec<PathBuf>,
    mapping: Option<crate::userns::IdMapping>,
}

/// One path being read out of a [`SourceTree`].
struct SourceOut {
    child: Option<Child>,
    info: PathInfo,
}

impl<'a> SourceTree<'a> {
    fn new(
        ctx: &'a Context,
        store: &Store,
        diff_ids: &[String],
    ) -> Result<SourceTree<'a>, BuildError> {
        let dir = new_temp_dir(store, "from-")?;
        let lower = lowers(store, diff_ids, &dir)?;
        Ok(SourceTree {
            ctx,
            dir,
            lower,
            mapping: ctx.id_mapping()?.cloned(),
        })
    }

    /// The paths matching `pattern` (absolute, `filepath.Match` per
    /// component), sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, BuildError> {
        let mut args: Vec<OsString> = vec!["build-glob".into()];
        args.extend(target_args(&self.dir, &self.lower, "build"));
        args.extend(["--pattern".into(), pattern.into()]);
        let mut child = crate::userns::spawn_helper(&self.ctx.paths, self.mapping.as_ref(), args)?;
        let found: Vec<String> = read_reply(&mut child)?;
        wait_helper(child)?;
        Ok(found)
    }

    fn open(&self, path: &str) -> Result<SourceOut, BuildError> {
        let mut args: Vec<OsString> = vec!["cp-out".into()];
        args.extend(target_args(&self.dir, &self.lower, "build"));
        args.extend(["--path".into(), path.into(), "--follow".into()]);
        let mut child = crate::userns::spawn_helper(&self.ctx.paths, self.mapping.as_ref(), args)?;
        let info: PathInfo = match read_reply(&mut child) {
            Ok(i) => i,
            Err(_) => {
                let _ = helper_error(&mut child);
                return Err(
                    ContextError::NotFound(path.trim_start_matches('/').to_string()).into(),
                );
            }
        };
        Ok(SourceOut {
            child: Some(child),
            info,
        })
    }
}

impl SourceOut {
    /// Asks for the tar of the path, its entry named `name`.
    fn start(&mut self, name: &str) -> io::Result<impl Read + '_> {
        let child = self.child.as_mut().expect("not finished");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let req = serde_json::to_string(&json!({"name": name})).expect("serialises");
        stdin.write_all(req.as_bytes())?;
        stdin.write_all(b"\n")?;
        drop(stdin);
        Ok(child.stdout.as_mut().expect("piped stdout"))
    }

    fn finish(&mut self) -> io::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(mut out) = child.stdout.take() {
            io::copy(&mut out, &mut io::sink())?;
        }
        let msg = helper_error(&mut child);
        if !msg.is_empty() {
            return Err(io::Error::other(msg));
        }
        Ok(())
    }
}

impl Drop for SourceOut {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for SourceTree<'_> {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(
            self.dir.join("work/work"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let _ = crate::image::pull::remove_trees_blocking(
            &self.ctx.paths,
            self.mapping.as_ref(),
            std::slice::from_ref(&self.dir),
        );
    }
}

#[cfg(test)]
mod output_tests {
    use super::Output;
    use std::path::PathBuf;

    #[test]
    fn output_specs_parse_as_docker_reads_them() {
        assert_eq!(Output::parse("-").unwrap(), Output::Tar(None));
        assert_eq!(
            Output::parse("out").unwrap(),
            Output::Local(PathBuf::from("out"))
        );
        assert_eq!(
            Output::parse("type=local,dest=/x").unwrap(),
            Output::Local(PathBuf::from("/x"))
        );
        assert_eq!(
            Output::parse("dest=/x").unwrap(),
            Output::Local(PathBuf::from("/x"))
        );
        assert_eq!(Output::parse("type=tar,dest=-").unwrap(), Output::Tar(None));
        assert_eq!(
            Output::parse("type=tar,dest=a.tar").unwrap(),
            Output::Tar(Some(PathBuf::from("a.tar")))
        );
        for bad in [
            "",
            "type=local",
            "type=local,dest=-",
            "type=tar",
            "type=tar,dest=",
        ] {
            assert!(Output::parse(bad).is_err(), "{bad:?}");
        }
        for unsupported in [
            "type=registry",
            "type=oci,dest=a",
            "type=local,dest=a,platform-split=true",
        ] {
            assert_eq!(
                Output::parse(unsupported).unwrap_err().exit_code(),
                125,
                "{unsupported}"
            );
        }
    }
}

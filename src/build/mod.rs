//! `berth build`: the parsing half (everything the executor needs before it
//! runs a step; no I/O beyond reading the context) and the executor
//! ([`exec`]: docker's classic builder). No printing.
//!
//! * [`dockerfile`]: our own Dockerfile parser (directives, continuations,
//!   heredocs, every instruction and flag, BuildKit's error texts and lint
//!   warnings) → [`dockerfile::Dockerfile`].
//! * [`expand`]: BuildKit's variable substitution and the build's scopes
//!   (`--build-arg`, global ARGs for `FROM`, a stage's ARG/ENV).
//! * [`stages`]: `--target` and the dependency graph between stages.
//! * [`ignore`]: `.dockerignore` (moby/patternmatcher semantics) and where
//!   the Dockerfile and the ignore file are found.
//! * [`context`]: the build context: walking a directory with the ignore
//!   rules, extracting a tar context, matching COPY sources and hashing them
//!   for the cache.
//! * [`exec`]: runs the build: steps, RUN containers, COPY/ADD, the cache.
//!
//! # How an executor uses it
//!
//! 1. Find the files: [`ignore::default_dockerfile`] (or `-f`),
//!    [`ignore::find_ignore_file`] → [`ignore::IgnoreMatcher::from_file`];
//!    a directory context with [`context::BuildContext::from_dir`], a tar on
//!    stdin with [`context::extract_tar`] then
//!    [`context::BuildContext::from_temp`].
//! 2. [`dockerfile::parse`]`(text, "Dockerfile")`; on error print
//!    [`dockerfile::ParseError::excerpt`] then `ERROR: failed to solve: {err}`
//!    (its `Display` is BuildKit's `dockerfile parse error on line N: …`).
//!    [`dockerfile::Dockerfile::warnings`] are printed at the end, as buildx
//!    does.
//! 3. [`expand::BuildArgs`] from `--build-arg` and `--platform`;
//!    [`dockerfile::Dockerfile::target`] for `--target`;
//!    [`dockerfile::Dockerfile::graph`] resolves each stage's base
//!    ([`stages::Base`]: scratch, an earlier stage, or an image to pull) and
//!    dependencies; [`stages::StageGraph::waves`] gives the stages the target
//!    needs, grouped so that each wave's stages can run concurrently.
//! 4. For a stage: `let mut vars = StageVars::new(&base_config_env)`; for
//!    each [`dockerfile::Located`] instruction: `let i =
//!    located.value.expand(&vars, df.escape)?` (BuildKit expands ADD, COPY,
//!    ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults
//!    and `RUN --mount` options; the others come back unchanged), then
//!    `ARG` → [`expand::StageVars::declare_arg`] with
//!    [`stages::StageGraph::meta`], `ENV` →
//!    [`expand::StageVars::set_env`]; a RUN runs
//!    [`dockerfile::Run::script`] with [`expand::StageVars::run_env`].
//! 5. COPY/ADD: each source through
//!    [`context::BuildContext::resolve_sources`], the files below a
//!    directory match from [`context::BuildContext::walk`], the cache key
//!    from [`context::BuildContext::hash_sources`] with the `--chown`/
//!    `--chmod` the copy will apply.

pub mod context;
pub mod dockerfile;
pub mod exec;
pub mod expand;
pub mod ignore;
pub mod stages;
